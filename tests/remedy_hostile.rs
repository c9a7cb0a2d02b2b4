//! Issue 10 part 1, "Fix scripts (every dialect)": values read from policy files (IPsec policy
//! names, stores, firewall rule names) reach generated commands only when the dialect's
//! quoting rule allows them. Each test loads a policy with hostile names through
//! `policy::parse_text`, adds findings that trigger each kind of fix, writes the fix script and
//! checks: the hostile command is absent, a refusal comment and note are present, the other
//! fixes are still written, the script reads back without parse errors, and every line passes
//! the cmd.exe / PowerShell models of `remedy_models`. Names that are fine (letters of any
//! script, spaces, parentheses, `&` inside quotes, ...) are still written, and the script then
//! does what it should when read back together with the policy.

mod support;

use rpcaudit::audit::capacity;
use rpcaudit::audit::remedy::{FixDialect, FixKind, Remediation, remediate};
use rpcaudit::finding::{Code, Finding, Severity};
use rpcaudit::policy::{self, Action, LoadOptions, LoadedPolicy, Proto};
use rpcaudit::ports::PortRanges;
use std::net::IpAddr;
use support::remedy_models::{Intended, check_script};

const DIALECTS: [FixDialect; 4] = FixDialect::ALL;
const OUTSIDER: &str = "203.0.113.9";
const ALLOWED: &str = "10.1.1.7";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn fixture_text(name: &str) -> String {
    support::policy_text(name)
}

fn range() -> PortRanges {
    PortRanges::parse("5001-5021").unwrap()
}

fn load(name: &str, text: &str) -> LoadedPolicy {
    policy::build(
        vec![policy::parse_text(name, text.as_bytes())],
        &LoadOptions::default(),
    )
}

/// The fix in `d` for the policy's own findings plus `range-exhausted` (30 ports in use), so
/// the script has a range fix and fences the new ports besides what the policy lacks.
fn fix(d: FixDialect, lp: &LoadedPolicy) -> Remediation {
    let rec = capacity::recommend(&range(), 30);
    let mut findings = lp.findings.clone();
    findings.push(Finding::new(
        Code::RangeExhausted,
        Severity::Error,
        "30 ports in use",
        "enlarge",
    ));
    remediate(d, lp, &[], &findings, &range(), Some(&rec))
}

fn is_comment(d: FixDialect, line: &str) -> bool {
    match d {
        FixDialect::Powershell => line.starts_with('#'),
        _ => line.starts_with("rem"),
    }
}

fn commands(d: FixDialect, r: &Remediation) -> Vec<String> {
    r.script
        .lines()
        .filter(|l| !l.trim().is_empty() && !is_comment(d, l))
        .map(str::to_string)
        .collect()
}

/// What every script must satisfy, hostile input or not.
fn reads_back(d: FixDialect, r: &Remediation, want: &Intended) {
    let back = policy::parse_text("fix", r.script.as_bytes());
    let errors: Vec<&Finding> = back
        .findings
        .iter()
        .filter(|f| f.code == Code::ParseError || f.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{d}: {errors:?}\n{}", r.script);
    if let Err(e) = check_script(d == FixDialect::Powershell, &r.script, want) {
        panic!("{d}: {e}\n{}", r.script);
    }
}

fn refused(d: FixDialect, r: &Remediation, what: &str) {
    let c = if d == FixDialect::Powershell {
        "#"
    } else {
        "rem"
    };
    assert!(
        r.script
            .lines()
            .any(|l| l.starts_with(&format!("{c} Refused: {what}"))),
        "{d}: no refusal comment for {what}\n{}",
        r.script
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with(&format!("refused: {what}"))),
        "{d}: no refusal note for {what}: {:?}",
        r.notes
    );
}

/// The range fix and the fence for its new ports are written whatever was refused.
fn other_fixes_written(d: FixDialect, r: &Remediation) {
    assert!(
        r.actions.iter().any(|a| a.kind == FixKind::Range),
        "{d}: {:?}",
        r.actions
    );
    let cmds = commands(d, r);
    match d.layer() {
        policy::Layer::Ipsec => assert!(cmds.iter().any(|l| l.starts_with("rpccfg.exe -pe"))),
        policy::Layer::Firewall => assert!(cmds.iter().any(|l| l.starts_with("reg add"))),
    }
}

fn act(lp: &LoadedPolicy, src: &str, port: u16) -> Action {
    lp.policy.decide(ip(src), port, Proto::Tcp).action
}

/// The policy and the fix read back together, as run one after the other on the host.
fn after(name: &str, text: &str, r: &Remediation) -> LoadedPolicy {
    policy::build(
        vec![
            policy::parse_text(name, text.as_bytes()),
            policy::parse_text("fix", r.script.as_bytes()),
        ],
        &LoadOptions::default(),
    )
}

fn long_name() -> String {
    "Block RPC ".repeat(30)
}

/// Policy names cmd.exe cannot take inside double quotes (or that nobody can review).
fn cmd_hostile_names() -> Vec<String> {
    [
        "%COMSPEC%",
        "a %PATH% b",
        "!x!",
        "a^b",
        "^",
        "esc\u{1b}[31m",
        "nel\u{85}x",
        "ls\u{2028}x",
        "rlo\u{202e}cmd.exe",
        "   ",
        "end\\",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([long_name()])
    .collect()
}

/// Names that are fine in every dialect.
const FINE_NAMES: &[&str] = &[
    "Block RPC Ports",
    "Règle RPC (dynamique) – 5001-5021",
    "Блокировать RPC",
    "RPC-Sperre_2",
    "a & calc & b",
    "a | b > c < d",
    "\u{2018}quoted\u{2019} it's",
    "[abc] *?",
    "all",
];

#[test]
fn hostile_ipsec_policy_names_are_refused_in_ipsec_dialects() {
    let article = support::article_without_the_5003_block();
    let netsh_ipsec = support::netsh_ipsec_without_the_5003_filter();
    for name in cmd_hostile_names() {
        for (file, base, d) in [
            ("kb908472.cmd", &article, FixDialect::Ipseccmd),
            ("netsh-ipsec.cmd", &netsh_ipsec, FixDialect::NetshIpsec),
        ] {
            let text = base.replace("\"Block RPC Ports\"", &format!("\"{name}\""));
            let lp = load(file, &text);
            assert!(
                lp.ipsec_policies
                    .iter()
                    .any(|p| p.name == name && p.in_force),
                "{name:?}: {:?}",
                lp.ipsec_policies
            );
            let r = fix(d, &lp);
            let cmds = commands(d, &r);
            assert!(
                !cmds
                    .iter()
                    .any(|l| l.starts_with("ipseccmd") || l.starts_with("netsh ipsec")),
                "{d} {name:?}: an IPsec command was written\n{}",
                r.script
            );
            if name.trim().len() > 1 {
                assert!(
                    !cmds.iter().any(|l| l.contains(name.as_str())),
                    "{d} {name:?}"
                );
            }
            refused(
                d,
                &r,
                "every IPsec filter of this script: IPsec policy name",
            );
            other_fixes_written(d, &r);
            reads_back(d, &r, &Intended::default());
            assert!(!r.actions.iter().any(|a| a.kind == FixKind::Block));
            // The firewall dialects do not name the IPsec policy: their fixes are written.
            for fw in [FixDialect::Netsh, FixDialect::Powershell] {
                let r = fix(fw, &lp);
                assert!(
                    r.actions.iter().any(|a| a.kind == FixKind::Block),
                    "{fw} {name:?}: {:?}",
                    r.actions
                );
                assert!(!r.notes.iter().any(|n| n.starts_with("refused")));
                reads_back(fw, &r, &Intended::default());
            }
        }
    }
}

#[test]
fn fine_ipsec_policy_names_are_written_and_work() {
    let article = support::article_without_the_5003_block();
    for name in FINE_NAMES {
        let text = article.replace("\"Block RPC Ports\"", &format!("\"{name}\""));
        let lp = load("kb908472.cmd", &text);
        for d in [FixDialect::Ipseccmd, FixDialect::NetshIpsec] {
            let r = fix(d, &lp);
            if !name.is_ascii() {
                // cmd.exe reads a batch file in the console's code page and has no escape
                // form: read differently, the name would address another policy (ipseccmd
                // even creates and assigns it, dropping the one in force).
                refused(
                    d,
                    &r,
                    "every IPsec filter of this script: IPsec policy name",
                );
                assert!(
                    r.notes
                        .iter()
                        .any(|n| n.contains("--fix-dialect powershell")),
                    "{d} {name:?}: {:?}",
                    r.notes
                );
                reads_back(d, &r, &Intended::default());
                continue;
            }
            assert!(
                !r.notes.iter().any(|n| n.starts_with("refused")),
                "{d} {name:?}: {:?}",
                r.notes
            );
            let want = Intended {
                policy: Some(name),
                store: Some("REG"),
                fw_rule: None,
            };
            reads_back(d, &r, &want);
            let quoted = match d {
                FixDialect::Ipseccmd => format!("-p \"{name}\" -r"),
                _ => format!("policy=\"{name}\""),
            };
            assert!(r.script.contains(&quoted), "{d} {name:?}\n{}", r.script);
            let lp2 = after("kb908472.cmd", &text, &r);
            for p in [5003, 5022, 5060] {
                assert_eq!(act(&lp2, OUTSIDER, p), Action::Block, "{d} {name:?} {p}");
                assert_eq!(act(&lp2, ALLOWED, p), Action::Pass, "{d} {name:?} {p}");
            }
        }
    }
}

#[test]
fn scripts_read_the_same_in_every_code_page() {
    // Windows PowerShell 5.1 reads a .ps1 without a BOM in the ANSI code page: U+0451 is
    // D1 91 in UTF-8, and 91 is U+2018 in code page 1252, a PowerShell quote. Written as is,
    // the name would end its string early and `trap {continue}` would catch any guard.
    let name = "\u{451}; trap {continue}; Remove-Item C:\\ -Recurse; \u{451}";
    let (file, text) = naive(name, true);
    let r = fix(FixDialect::Powershell, &load(&file, &text));
    assert!(r.script.is_ascii(), "{}", r.script);
    assert!(!r.script.contains("throw"), "{}", r.script);
    assert!(
        !r.notes.iter().any(|n| n.contains("UTF-8")),
        "{:?}",
        r.notes
    );
    assert!(
        r.script.contains(
            "\nSet-NetFirewallRule -DisplayName ('' + [char]0x0451 + '; trap {continue}; Remove-Item C:\\ -Recurse; ' + [char]0x0451) -RemoteAddress "
        ),
        "{}",
        r.script
    );
    let narrow = |script: &str| -> Vec<String> {
        let line = script
            .lines()
            .find(|l| l.starts_with("Set-NetFirewallRule -DisplayName ("))
            .unwrap();
        support::remedy_models::ps_line(line).unwrap()
    };
    let ansi = support::remedy_models::as_cp1252(&r.script);
    assert_eq!(narrow(&r.script), narrow(&ansi));
    assert_eq!(narrow(&r.script)[2], name);
    let want = Intended {
        fw_rule: Some(name),
        ..Intended::default()
    };
    // check_script reads it both ways too.
    reads_back(FixDialect::Powershell, &r, &want);
    let lp2 = after(&file, &text, &r);
    for p in [135, 5001, 5021] {
        assert_eq!(act(&lp2, ALLOWED, p), Action::Pass, "{p}\n{}", r.script);
        assert_eq!(act(&lp2, OUTSIDER, p), Action::Block, "{p}");
    }
    // cmd.exe has no escape form: the netsh narrowing is refused, pointing to PowerShell.
    let (file, text) = naive("R\u{e8}gle \u{451}", false);
    let r = fix(FixDialect::Netsh, &load(&file, &text));
    assert!(r.script.is_ascii(), "{}", r.script);
    refused(FixDialect::Netsh, &r, "narrowing the block rule");
    assert!(
        r.script
            .lines()
            .any(|l| l.starts_with("rem Refused: narrowing the block rule: Windows Firewall rule name \"R\\u{e8}gle \\u{451}\" holds U+00E8 (not ASCII)")
                && l.contains("--fix-dialect powershell")),
        "{}",
        r.script
    );
    reads_back(FixDialect::Netsh, &r, &Intended::default());
}

#[test]
fn ipsec_stores_come_from_the_grammar() {
    let article = fixture_text("kb908472.cmd");
    for store in [
        "DS:evil&calc",
        "DS:evil|calc",
        "DS:%USERDNSDOMAIN%",
        "DS:a^b",
        "\"DS:evil & x\"",
        "DS:-bad-.example",
        "DS:exa_mple.com",
    ] {
        let text = article.replace("-w REG", &format!("-w {store}"));
        let lp = load("kb908472.cmd", &text);
        let p = lp.ipsec_policies.iter().find(|p| p.in_force).unwrap();
        assert!(p.store.starts_with("DS"), "{store}: {p:?}");
        let r = fix(FixDialect::Ipseccmd, &lp);
        let cmds = commands(FixDialect::Ipseccmd, &r);
        assert!(
            !cmds.iter().any(|l| l.starts_with("ipseccmd")),
            "{store}\n{}",
            r.script
        );
        refused(
            FixDialect::Ipseccmd,
            &r,
            "every IPsec filter of this script: IPsec policy store",
        );
        other_fixes_written(FixDialect::Ipseccmd, &r);
        reads_back(FixDialect::Ipseccmd, &r, &Intended::default());
        // netsh ipsec static does not name the store: written, with the note.
        let r = fix(FixDialect::NetshIpsec, &lp);
        assert!(r.actions.iter().any(|a| a.kind == FixKind::Block));
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("set store location=domain"))
        );
        let want = Intended {
            policy: Some("Block RPC Ports"),
            ..Intended::default()
        };
        reads_back(FixDialect::NetshIpsec, &r, &want);
    }
    for (store, written) in [
        ("DS:corp.example.com", "DS:corp.example.com"),
        ("DS", "DS"),
        ("reg", "REG"),
    ] {
        let text = article.replace("-w REG", &format!("-w {store}"));
        let lp = load("kb908472.cmd", &text);
        let r = fix(FixDialect::Ipseccmd, &lp);
        assert!(
            r.script.contains(&format!(
                "\r\nipseccmd.exe -w {written} -p \"Block RPC Ports\" -r \"Block Inbound TCP 5060 Rule\" -f *=0:5060:TCP -n BLOCK\r\n"
            )),
            "{store}\n{}",
            r.script
        );
        let want = Intended {
            policy: Some("Block RPC Ports"),
            store: Some(written),
            fw_rule: None,
        };
        reads_back(FixDialect::Ipseccmd, &r, &want);
    }
}

/// The naive translation (a block for any source hides the subnet's allow) with the block
/// named `name`, in netsh (`name` inside double quotes) or PowerShell (single quotes).
fn naive(name: &str, powershell: bool) -> (String, String) {
    if powershell {
        let q: String = name
            .chars()
            .flat_map(|c| {
                if support::remedy_models::PS_SINGLE.contains(&c) {
                    vec![c, c]
                } else {
                    vec![c]
                }
            })
            .collect();
        (
            "naive.ps1".into(),
            format!(
                "rpccfg.exe -pe 5001-5021 -d 0\n\
                 New-NetFirewallRule -DisplayName '{q}' -Direction Inbound -Action Block -Protocol TCP -LocalPort 135,5001-5021 -RemoteAddress Any\n\
                 New-NetFirewallRule -DisplayName 'Allow RPC 135,5001-5021 from 10.1.1.0' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135,5001-5021 -RemoteAddress 10.1.1.0/24\n"
            ),
        )
    } else {
        (
            "naive.cmd".into(),
            fixture_text("firewall-naive.cmd").replace(
                "name=\"Block RPC 135,5001-5021\"",
                &format!("name=\"{name}\""),
            ),
        )
    }
}

/// The fix in dialect `d` for the policy `text`, whose rule `name` must have loaded.
fn fix_named(d: FixDialect, name: &str, file: &str, text: &str) -> Remediation {
    let lp = load(file, text);
    assert!(
        lp.policy.rules.iter().any(|r| r.origin.name == name),
        "{name:?} did not load"
    );
    fix(d, &lp)
}

fn narrow_written(d: FixDialect, name: &str, file: &str, text: &str) {
    let r = fix_named(d, name, file, text);
    assert!(
        r.actions.iter().any(|a| a.kind == FixKind::NarrowBlock),
        "{d} {name:?}: {:?}\n{:?}\n{}",
        r.actions,
        r.notes,
        r.script
    );
    assert!(
        !r.notes.iter().any(|n| n.starts_with("refused")),
        "{d} {name:?}: {:?}",
        r.notes
    );
    let want = Intended {
        fw_rule: Some(name),
        ..Intended::default()
    };
    reads_back(d, &r, &want);
    let lp2 = after(file, text, &r);
    for p in [135, 5001, 5021] {
        assert_eq!(
            act(&lp2, ALLOWED, p),
            Action::Pass,
            "{d} {name:?} {p}\n{}",
            r.script
        );
        assert_eq!(act(&lp2, OUTSIDER, p), Action::Block, "{d} {name:?} {p}");
    }
}

fn narrow_refused(d: FixDialect, name: &str, file: &str, text: &str) {
    let r = fix_named(d, name, file, text);
    assert!(
        !r.actions.iter().any(|a| a.kind == FixKind::NarrowBlock),
        "{d} {name:?}\n{}",
        r.script
    );
    let cmds = commands(d, &r);
    assert!(
        !cmds.iter().any(|l| l.contains("set rule")
            || l.starts_with("Set-NetFirewallRule")
            || l.starts_with("Disable-NetFirewallRule")),
        "{d} {name:?}\n{}",
        r.script
    );
    refused(d, &r, "narrowing the block rule");
    other_fixes_written(d, &r);
    assert!(r.actions.iter().any(|a| a.kind == FixKind::Block));
    reads_back(d, &r, &Intended::default());
}

/// Each of `names` as the name of the naive policy's block rule (in a PowerShell policy when
/// `ps`, else in a netsh one): narrowing it is refused in the `refused` dialects and written
/// in the `written` ones.
fn narrowing<S: AsRef<str>>(names: &[S], ps: bool, refused: &[FixDialect], written: &[FixDialect]) {
    for name in names {
        let name = name.as_ref();
        let (file, text) = naive(name, ps);
        for &d in refused {
            narrow_refused(d, name, &file, &text);
        }
        for &d in written {
            narrow_written(d, name, &file, &text);
        }
    }
}

const NETSH: FixDialect = FixDialect::Netsh;
const POWERSHELL: FixDialect = FixDialect::Powershell;

#[test]
fn hostile_firewall_rule_names_are_refused_where_the_dialect_cannot_name_them() {
    // Written in a netsh policy (inside double quotes).
    let netsh_only = [
        "all",
        "ALL",
        "%COMSPEC%",
        "!x!",
        "a^b",
        "@FirewallAPI.dll,-28502",
    ];
    narrowing(&netsh_only, false, &[NETSH], &[POWERSHELL]);
    let unwritable: Vec<String> = cmd_hostile_names()
        .into_iter()
        .filter(|n| {
            n.trim().is_empty()
                || n.chars().any(|c| c.is_control() || c > '\u{2000}')
                || n.len() > 256
        })
        .collect();
    narrowing(&unwritable, false, &[NETSH, POWERSHELL], &[]);
    // Written in a PowerShell policy (inside single quotes, quote characters doubled).
    let ps_only = ["a\" & calc & \"", "end\\\"", "x\u{201c}y"];
    narrowing(&ps_only, true, &[NETSH], &[POWERSHELL]);
    narrowing(&["  ", "esc\u{1b}", "tab\tx"], true, &[POWERSHELL], &[]);
}

#[test]
fn firewall_rule_names_that_are_fine_are_narrowed_in_both_dialects() {
    let fine = [
        "\u{2018}; Remove-Item C:\\ -Recurse; \u{2018}",
        "\u{2019}; calc; \u{201a}",
        "*",
        "[abc]",
        "Block [RPC] *?",
        "O'Brien`s",
        "x $(calc)",
        "a; b | c # d",
        "Règle (RPC) – dynamique",
        "Блок RPC",
    ];
    // cmd.exe cannot write a name outside ASCII; PowerShell writes it as [char] codes.
    let (ascii, other): (Vec<&str>, Vec<&str>) = fine.iter().partition(|n| n.is_ascii());
    narrowing(&ascii, true, &[], &[POWERSHELL, NETSH]);
    narrowing(&other, true, &[NETSH], &[POWERSHELL]);
    let fine: Vec<&str> = FINE_NAMES.iter().copied().filter(|n| *n != "all").collect();
    let (ascii, other): (Vec<&str>, Vec<&str>) = fine.iter().partition(|n| n.is_ascii());
    narrowing(&ascii, false, &[], &[NETSH, POWERSHELL]);
    narrowing(&other, false, &[NETSH], &[POWERSHELL]);
}

#[test]
fn powershell_wildcards_in_a_name_are_escaped() {
    for (name, line) in [
        (
            "Block *",
            "\nSet-NetFirewallRule -DisplayName 'Block `*' -RemoteAddress '0.0.0.0-10.1.0.255', '10.1.2.0-255.255.255.255', '::/0'\n",
        ),
        (
            "‘x’*",
            "\nSet-NetFirewallRule -DisplayName ('' + [char]0x2018 + 'x' + [char]0x2019 + '`*') -RemoteAddress ",
        ),
    ] {
        let (file, text) = naive(name, true);
        let r = fix(FixDialect::Powershell, &load(&file, &text));
        assert!(r.script.contains(line), "{}", r.script);
    }
}

#[test]
fn names_with_line_breaks_never_reach_a_line() {
    // A name no script can carry (a file's lines split at CR and LF) but a LoadedPolicy can.
    let text = fixture_text("kb908472.cmd");
    let evil = "x\r\nnetsh advfirewall reset\r\nrem";
    for d in DIALECTS {
        let mut lp = load("kb908472.cmd", &text);
        for p in &mut lp.ipsec_policies {
            p.name = evil.to_string();
        }
        for r in &mut lp.policy.rules {
            r.origin.name = evil.to_string();
            r.origin.policy = Some(evil.to_string());
        }
        let r = fix(d, &lp);
        let nl = if d == FixDialect::Powershell {
            "\n"
        } else {
            "\r\n"
        };
        assert!(
            !r.script
                .split(nl)
                .any(|l| l.contains("netsh advfirewall reset") && !is_comment(d, l)),
            "{d}\n{}",
            r.script
        );
        assert!(!r.script.split(nl).any(|l| l.contains(['\r', '\n'])), "{d}");
        reads_back(d, &r, &Intended::default());
    }
}

#[test]
fn a_rule_of_the_policy_with_our_name_is_not_replaced() {
    // A block for 445 that happens to carry the name of the rule the fix writes: deleting
    // and re-adding rules by that name would drop the 445 block.
    let (file, mut text) = naive("Block RPC", false);
    text.push_str("netsh advfirewall firewall add rule name=\"Block Inbound TCP 5022-5060 (rpcaudit)\" dir=in action=block protocol=TCP localport=445 remoteip=any\r\n");
    let lp = load(&file, &text);
    assert_eq!(act(&lp, OUTSIDER, 445), Action::Block);
    for d in [FixDialect::Netsh, FixDialect::Powershell] {
        let r = fix(d, &lp);
        refused(d, &r, "the block rule for TCP 5022-5060");
        assert!(
            !commands(d, &r)
                .iter()
                .any(|l| l.contains("Block Inbound TCP 5022-5060 (rpcaudit)")),
            "{d}\n{}",
            r.script
        );
        reads_back(
            d,
            &r,
            &Intended {
                fw_rule: Some("Block RPC"),
                ..Intended::default()
            },
        );
        let lp2 = after(&file, &text, &r);
        assert_eq!(act(&lp2, OUTSIDER, 445), Action::Block, "{d}");
        // The narrowing and the allow for the new ports are still written.
        assert!(r.actions.iter().any(|a| a.kind == FixKind::NarrowBlock));
    }
}

#[test]
fn values_the_reader_would_read_back_differently_are_refused() {
    // What no policy file can hold but a LoadedPolicy can: a store with a double quote, and a
    // policy name ending in ":digits", which ipseccmd reads as "name:polling interval".
    let text = fixture_text("kb908472.cmd");
    for (pol, store, what) in [
        (
            "Block RPC Ports",
            "DS:evil\" & x",
            "every IPsec filter of this script: IPsec policy store",
        ),
        (
            "Block RPC Ports",
            "DS:evil\r\ncalc",
            "every IPsec filter of this script: IPsec policy store",
        ),
        (
            "Block RPC Ports:5",
            "REG",
            "every IPsec filter of this script: IPsec policy name",
        ),
    ] {
        let mut lp = load("kb908472.cmd", &text);
        for p in &mut lp.ipsec_policies {
            p.name = pol.to_string();
            p.store = store.to_string();
        }
        let r = fix(FixDialect::Ipseccmd, &lp);
        refused(FixDialect::Ipseccmd, &r, what);
        assert!(
            !commands(FixDialect::Ipseccmd, &r)
                .iter()
                .any(|l| l.starts_with("ipseccmd")),
            "{pol:?} {store:?}\n{}",
            r.script
        );
        other_fixes_written(FixDialect::Ipseccmd, &r);
        reads_back(FixDialect::Ipseccmd, &r, &Intended::default());
    }
}

/// The cmd.exe and PowerShell models themselves (`tests/support/remedy_models.rs`).
#[test]
fn models_see_what_the_shells_do() {
    use support::remedy_models::{argv, cmd_comment, cmd_line, ps_line, ps_wildcard_literal};
    assert_eq!(
        cmd_line(r#"ipseccmd.exe -p "a & b" -x"#).unwrap(),
        vec![vec!["ipseccmd.exe", "-p", "a & b", "-x"]]
    );
    assert_eq!(
        cmd_line(r#"netsh x name="a" & calc & """#).unwrap().len(),
        3
    );
    assert!(cmd_line("x %COMSPEC%").is_err());
    assert!(cmd_line("x \"!x!\"").is_err());
    assert!(cmd_line("x ^").is_err());
    assert!(cmd_line("x > y").is_err());
    assert!(cmd_line("x \"a\r\nb\"").is_err());
    assert_eq!(argv(r#"-p "a\" -r "b""#), vec!["-p", "a\" -r b"]);
    assert_eq!(argv(r#"-p "a\\" -r"#), vec!["-p", "a\\", "-r"]);
    assert!(cmd_comment("rem a & b").is_ok());
    assert!(cmd_comment("rem %x%").is_err());
    assert_eq!(
        ps_line("X -A 'a''b' -B 'c\u{2019}\u{2019}d'").unwrap(),
        vec!["X", "-A", "a'b", "-B", "c\u{2019}d"]
    );
    assert_eq!(
        ps_line("X -A '\u{2018}\u{2018}; Remove-Item x; \u{2018}\u{2018}'").unwrap(),
        vec!["X", "-A", "\u{2018}; Remove-Item x; \u{2018}"]
    );
    // Not doubled, the typographic quote ends the string and Remove-Item runs.
    assert!(ps_line("X -A '\u{2018}; Remove-Item x; \u{2018}'").is_err());
    assert!(ps_line("X -A 'a'; calc").is_err());
    assert!(ps_line("X -A $(calc)").is_err());
    assert!(ps_line("X -A \"$env:x\"").is_err());
    assert!(ps_line("X -A b # c").is_err());
    assert!(ps_line("X `").is_err());
    assert_eq!(ps_wildcard_literal("`[a`] `*").as_deref(), Some("[a] *"));
    assert_eq!(ps_wildcard_literal("a*"), None);
}
