//! Issue 10 part 1: arbitrary Unicode names and store values through every fix-script writer
//! (ipseccmd, netsh ipsec, netsh advfirewall, PowerShell) and every kind of fix (block, pass,
//! host block, narrowed block, range). The names are put into policies that need each fix
//! (the IPsec policy's name and store, the name of the firewall block to narrow), and every
//! script must pass, line by line, the cmd.exe and PowerShell models of `remedy_models`: one
//! command per line, no separator, expansion, redirection or continuation outside quotes,
//! comments that stay comments, and every argument naming the policy, the store or the
//! narrowed rule decodes to exactly the intended value. The script also reads back without
//! parse errors in the policy reader, and a name any dialect can carry is actually written
//! (refusing everything would pass the rest).

mod support;

use proptest::prelude::*;
use rpcaudit::audit::capacity;
use rpcaudit::audit::remedy::{FixDialect, FixKind, remediate};
use rpcaudit::audit::verify::{self, MatrixRow};
use rpcaudit::finding::{Code, Finding, Severity};
use rpcaudit::policy::{self, Action, Layer, LoadOptions, LoadedPolicy};
use rpcaudit::ports::PortRanges;
use rpcaudit::probe::{Observation, ProbeState};
use std::sync::OnceLock;
use support::remedy_models::{Intended, check_fix_text, check_script, fix_commands};

const DIALECTS: [FixDialect; 4] = FixDialect::ALL;
/// The name of the firewall block the naive scenario narrows.
const NAIVE_BLOCK: &str = "Block RPC 135,5001-5021";
/// A host of the allowed subnet the policy keeps out of 5005, observed reaching it.
const EXCLUDED_HOST: &str = "10.1.1.66";

fn fixture_text(name: &str) -> String {
    support::policy_text(name)
}

fn range() -> PortRanges {
    PortRanges::parse("5001-5021").unwrap()
}

/// A policy, the matrix and findings that call for fixes of each kind.
struct Case {
    lp: LoadedPolicy,
    matrix: Vec<MatrixRow>,
    findings: Vec<Finding>,
}

fn case(name: &str, text: &str, observed: &[(&str, u16, ProbeState)]) -> Case {
    let lp = policy::build(
        vec![policy::parse_text(name, text.as_bytes())],
        &LoadOptions::default(),
    );
    let obs: Vec<Observation> = observed
        .iter()
        .map(|&(src, port, state)| {
            Observation::new(
                src.parse().unwrap(),
                "198.18.0.10".parse().unwrap(),
                port,
                state,
            )
        })
        .collect();
    let matrix = verify::build_matrix(&obs, Action::Pass, |s, p, proto| {
        let d = lp.policy.decide(s, p, proto);
        verify::Expected::new(d.action, d.rule.map(|r| format!("{}:{}", r.file, r.line)))
    });
    let mut findings = lp.findings.clone();
    findings.extend(verify::matrix_findings(&matrix, &range(), 135));
    findings.push(Finding::new(
        Code::RangeExhausted,
        Severity::Error,
        "30 ports in use",
        "enlarge",
    ));
    Case {
        lp,
        matrix,
        findings,
    }
}

/// Built once: parsing the fixtures for every case would only slow the test down.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let article = fixture_text("kb908472.cmd");
        let without = |pred: &dyn Fn(&str) -> bool| -> String {
            article
                .lines()
                .filter(|l| !pred(l))
                .collect::<Vec<_>>()
                .join("\r\n")
        };
        // Blocks and passes: the article without the block for 5003.
        let missing_block = without(&|l| l.contains("\"Block Inbound TCP 5003 Rule\""));
        // Passes alone: the subnet passed to 135 only (hang-hazard).
        let pass_135_only = without(&|l| l.contains("Allow Inbound TCP Port 50"));
        // A host block: the policy keeps a host of the subnet out of 5005, and it gets in.
        let host = article.replace(
            "\r\nrem Step 3",
            &format!(
                "\r\nipseccmd.exe -w REG -p \"Block RPC Ports\" -r \"Block host\" -f {EXCLUDED_HOST}=0:5005:TCP -n BLOCK\r\nrem Step 3"
            ),
        );
        let naive = fixture_text("firewall-naive.cmd") + "rpccfg.exe -pe 5001-5021 -d 0\r\n";
        vec![
            case("missing-block.cmd", &missing_block, &[]),
            case("pass-135.cmd", &pass_135_only, &[]),
            case(
                "host.cmd",
                &host,
                &[
                    (EXCLUDED_HOST, 5005, ProbeState::Open),
                    (EXCLUDED_HOST, 135, ProbeState::Open),
                ],
            ),
            case("naive.cmd", &naive, &[]),
        ]
    })
}

/// The case with the IPsec policy renamed to `pol` in store `store`, and the naive firewall
/// block renamed to `fw`, as if the files had said so.
fn renamed(c: &Case, pol: &str, store: &str, fw: &str) -> LoadedPolicy {
    let mut lp = c.lp.clone();
    for p in &mut lp.ipsec_policies {
        p.name = pol.to_string();
        p.store = store.to_string();
    }
    for r in &mut lp.policy.rules {
        if r.layer == Layer::Ipsec {
            r.origin.policy = Some(pol.to_string());
        } else if r.origin.name == NAIVE_BLOCK {
            r.origin.name = fw.to_string();
        }
    }
    lp
}

/// Names with what the shells care about, and anything else Unicode has.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ a-zA-Z0-9\"%!^&|<>'\u{2018}\u{2019}\u{201a}\u{201b}\u{201c}\u{201d}`*?\\[\\]$;#()@=,:\\\\\r\n\t\u{1b}\u{85}\u{2028}\u{202e}\u{feff}\u{e9}\u{4e2d}\u{2013}-]{0,24}",
        1 => any::<String>(),
        1 => "\\PC{1,40}",
        // Names every dialect can carry: these must be written.
        1 => "[A-Za-z\u{e9}\u{4e2d}][A-Za-z0-9 ()&|<>,.\u{e9}\u{4e2d}-]{0,30}[A-Za-z0-9)]",
    ]
}

fn store() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("REG".to_string()),
        Just("DS".to_string()),
        "DS:[a-z0-9][a-z0-9.-]{0,20}[a-z0-9]",
        name().prop_map(|n| format!("DS:{n}")),
        name(),
    ]
}

/// A name no dialect's rule refuses (so it must reach the script).
fn carriable(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(char::is_alphabetic)
        && s.chars().count() <= 100
        && s.chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == ')')
        && s.chars()
            .all(|c| c.is_alphanumeric() || " ()&|<>,.-".contains(c))
        && !s.eq_ignore_ascii_case("all")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_writer_keeps_every_name_inside_its_quotes(
        pol in name(),
        st in store(),
        fw in name(),
    ) {
        for (pick, c) in cases().iter().enumerate() {
        let lp = renamed(c, &pol, &st, &fw);
        let rec = capacity::recommend(&range(), 30);
        for d in DIALECTS {
            let r = remediate(d, &lp, &c.matrix, &c.findings, &range(), Some(&rec));
            // Without an IPsec policy in the files the fix writes the article's.
            let (ip, is) = if c.lp.ipsec_policies.is_empty() {
                ("Block RPC Ports", "REG")
            } else {
                (pol.as_str(), st.as_str())
            };
            let want = Intended {
                policy: Some(ip),
                store: Some(is),
                fw_rule: Some(&fw),
            };
            if let Err(e) = check_script(d == FixDialect::Powershell, &r.script, &want) {
                prop_assert!(false, "{d}: {e}\n{}", r.script);
            }
            let back = policy::parse_text("fix", r.script.as_bytes());
            prop_assert!(
                !back.findings.iter().any(|f| f.code == Code::ParseError),
                "{d}: {:?}\n{}", back.findings, r.script
            );
            // The range fix never depends on a name.
            prop_assert!(r.actions.iter().any(|a| a.kind == FixKind::Range), "{d}");
            let ipsec_cmds = r.script.lines().any(|l| l.starts_with("ipseccmd") || l.starts_with("netsh ipsec"));
            let store_ok = matches!(st.to_ascii_uppercase().as_str(), "REG" | "DS")
                || st.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("DS:"))
                    && st[3..].split('.').all(|l| !l.is_empty() && l.len() <= 63
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !l.starts_with('-') && !l.ends_with('-'));
            match d {
                FixDialect::Ipseccmd if carriable(&pol) && pol.is_ascii() && store_ok => {
                    prop_assert!(ipsec_cmds, "{d}: {pol:?} / {st:?} refused\n{:?}", r.notes)
                }
                FixDialect::NetshIpsec if carriable(&pol) && pol.is_ascii() => {
                    prop_assert!(ipsec_cmds, "{d}: {pol:?} refused\n{:?}", r.notes)
                }
                FixDialect::Ipseccmd | FixDialect::NetshIpsec if !ipsec_cmds && pick != 3 => {
                    prop_assert!(
                        r.notes.iter().any(|n| n.starts_with("refused")),
                        "{d}: no IPsec command and no refusal\n{:?}", r.notes
                    )
                }
                _ => {}
            }
            if pick == 3 && d.layer() == Layer::Firewall {
                let narrowed = r.actions.iter().any(|a| a.kind == FixKind::NarrowBlock);
                // cmd.exe has no escape form for characters outside ASCII; PowerShell has.
                if carriable(&fw) && (d == FixDialect::Powershell || fw.is_ascii()) {
                    prop_assert!(narrowed, "{d}: {fw:?} not narrowed\n{:?}", r.notes);
                }
                if !narrowed {
                    prop_assert!(
                        r.notes.iter().any(|n| n.starts_with("refused: narrowing the block rule")),
                        "{d}: {:?}", r.notes
                    );
                }
            }
        }
        }
    }
}

/// Whether `store` is one `ipseccmd -w` takes: `REG`, `DS` or `DS:` and a DNS domain.
fn store_ok(st: &str) -> bool {
    matches!(st.to_ascii_uppercase().as_str(), "REG" | "DS")
        || st.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("DS:"))
            && st[3..].split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Issue 24, hole 3: the fixes of the policy lints (`policy-unassigned`, the block of
    /// `range-port-unblocked`) and the SARIF results that carry them, for any policy name and
    /// store: every command they give is one command of the intended shape naming exactly the
    /// intended policy and store, the text is ASCII, and a name any command can carry is
    /// written.
    #[test]
    fn lint_and_sarif_fixes_name_exactly_the_policy(
        pol in name(),
        st in store(),
        assigned in any::<bool>(),
        netsh in any::<bool>(),
    ) {
        let text = if netsh {
            "netsh ipsec static add policy name=P\r\nnetsh ipsec static add filterlist name=L\r\nnetsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=TCP dstport=445\r\nnetsh ipsec static add filteraction name=B action=block\r\nnetsh ipsec static add rule name=R policy=P filterlist=L filteraction=B\r\n"
        } else {
            "ipseccmd -w REG -p P -r R -f *=0:445:TCP -n BLOCK\r\n"
        };
        let mut lp = policy::build(
            vec![policy::parse_text("p.cmd", text.as_bytes())],
            &LoadOptions::default(),
        );
        prop_assert_eq!(lp.ipsec_policies.len(), 1);
        for p in &mut lp.ipsec_policies {
            p.name = pol.clone();
            p.store = st.clone();
            if assigned {
                p.in_force = true;
                p.assigned = Some(1);
            }
        }
        let findings = policy::lint::lint(&lp);
        let named = Intended { policy: Some(&pol), store: Some(&st), fw_rule: None };
        // With no policy in force the block goes to the article's.
        let article = Intended { policy: Some("Block RPC Ports"), store: Some("REG"), fw_rule: None };
        let want_of = |c: &Code| if *c == Code::RangePortUnblocked && !assigned { &article } else { &named };
        let mut commands = 0;
        for f in &findings {
            if let Err(e) = check_fix_text(&f.fix, want_of(&f.code)) {
                prop_assert!(false, "{}: {e}", f.code);
            }
            commands += fix_commands(&f.fix).unwrap_or_default().len();
        }
        let sarif = rpcaudit::report::sarif::log(&findings, std::path::Path::new("/"));
        for (r, f) in sarif.runs[0].results.iter().zip(&findings) {
            let fix = r.message.text.rsplit_once("\nFix: ").map(|(_, f)| f).unwrap_or("");
            prop_assert_eq!(fix, f.fix.as_str());
            if let Err(e) = check_fix_text(fix, want_of(&f.code)) {
                prop_assert!(false, "sarif: {e}");
            }
        }
        for rule in &sarif.runs[0].tool.driver.rules {
            prop_assert!(rule.help.text.is_ascii() && fix_commands(&rule.help.text).is_ok());
        }
        // What a command can carry is written: `policy-unassigned` when not assigned, the
        // block of port 135 when it is.
        let carried = carriable(&pol) && pol.is_ascii() && (netsh || store_ok(&st));
        let carried = carried && (!assigned || store_ok(&st));
        if carried {
            prop_assert!(commands > 0, "{pol:?} {st:?}: {findings:?}");
        }
    }
}
