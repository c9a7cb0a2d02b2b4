//! Issue 5's acceptance for `--fix-dialect`: "each fix script, read back by the policy parser
//! and applied to the policy, makes `explain` give the intended action for every affected
//! source and port". Each scenario loads a policy as the audit would, builds the matrix from
//! observations and the findings (lints + matrix), writes the fix script in each dialect,
//! reads it back with `policy::parse_text`, combines it with the original files with
//! `policy::build` (scripts run one after the other on one host), and asks the model:
//! outsiders blocked and allowed subnets passed on every affected port, and nothing that was
//! blocked for a source outside the allowed ones is passed after.

mod support;

use rpcaudit::audit::capacity;
use rpcaudit::audit::remedy::{FixAction, FixDialect, FixKind, Remediation, remediate};
use rpcaudit::audit::verify::{self, MatrixRow};
use rpcaudit::finding::{Code, Finding};
use rpcaudit::policy::{self, Action, LoadOptions, LoadedPolicy, ParsedFile, Proto};
use rpcaudit::ports::PortRanges;
use rpcaudit::probe::{Observation, ProbeState};
use std::net::IpAddr;

const DIALECTS: [FixDialect; 4] = FixDialect::ALL;
const TARGET: &str = "198.18.0.10";
const OUTSIDER: &str = "203.0.113.9";
const OTHER: &str = "198.51.100.20";
/// A host next to the allowed subnet (10.1.2.0/24): outside it.
const NEIGHBOUR: &str = "10.1.2.5";
const ALLOWED: &str = "10.1.1.7";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(support::fixture(&format!("policy/{name}"))).unwrap()
}

/// A fixture as text (UTF-8 or UTF-16LE with BOM).
fn fixture_text(name: &str) -> String {
    support::policy_text(name)
}

fn article_range() -> PortRanges {
    PortRanges::parse("5001-5021").unwrap()
}

/// Ports the no-weakening check looks at: low ports, around the range, the Vista+ range start.
fn watched_ports() -> Vec<u16> {
    (1..=200)
        .chain(440..=450)
        .chain(4990..=5200)
        .chain(49152..=49170)
        .collect()
}

/// What a source observes on each port.
type Observer = Box<dyn Fn(u16) -> ProbeState>;

struct Scenario {
    name: &'static str,
    files: Vec<ParsedFile>,
    /// Sources to probe from, with what each observes per port.
    observe: Vec<(&'static str, Observer)>,
    /// `--default` for uncovered ports.
    default: Action,
    range: PortRanges,
    recommendation: Option<capacity::Recommendation>,
    extra_findings: Vec<Finding>,
}

impl Scenario {
    fn new(name: &'static str, files: &[(&str, &[u8])]) -> Self {
        Scenario {
            name,
            files: files
                .iter()
                .map(|(n, b)| policy::parse_text(n, b))
                .collect(),
            observe: Vec::new(),
            default: Action::Pass,
            range: article_range(),
            recommendation: None,
            extra_findings: Vec::new(),
        }
    }

    fn loaded(&self) -> LoadedPolicy {
        policy::build(self.files.clone(), &LoadOptions::default())
    }

    /// Whether the policy's own lints report `code`.
    fn lints(&self, code: Code) -> bool {
        self.loaded().findings.iter().any(|f| f.code == code)
    }

    /// The matrix and findings as the audit builds them.
    fn audit(&self, lp: &LoadedPolicy) -> (Vec<MatrixRow>, Vec<Finding>) {
        let mut obs = Vec::new();
        for (src, f) in &self.observe {
            for port in std::iter::once(135).chain(self.range.iter()) {
                obs.push(Observation::new(ip(src), ip(TARGET), port, f(port)));
            }
        }
        let rows = verify::build_matrix(&obs, self.default, |s, p, proto| {
            let d = lp.policy.decide(s, p, proto);
            verify::Expected::new(d.action, d.rule.map(|r| format!("{}:{}", r.file, r.line)))
        });
        let mut findings = lp.findings.clone();
        findings.extend(verify::matrix_findings(&rows, &self.range, 135));
        findings.extend(self.extra_findings.iter().cloned());
        (rows, findings)
    }

    fn fix(&self, dialect: FixDialect) -> (LoadedPolicy, Remediation, LoadedPolicy) {
        let before = self.loaded();
        let (rows, findings) = self.audit(&before);
        let rem = remediate(
            dialect,
            &before,
            &rows,
            &findings,
            &self.range,
            self.recommendation.as_ref(),
        );
        let fix = policy::parse_text("fix", rem.script.as_bytes());
        let bad: Vec<&Finding> = fix
            .findings
            .iter()
            .filter(|f| {
                f.severity == rpcaudit::finding::Severity::Error || f.code == Code::ParseError
            })
            .collect();
        assert!(
            bad.is_empty(),
            "{} / {dialect}: the fix script does not read back cleanly: {bad:?}\n{}",
            self.name,
            rem.script
        );
        let mut files = self.files.clone();
        files.push(fix);
        let after = policy::build(files, &LoadOptions::default());
        (before, rem, after)
    }
}

fn act(lp: &LoadedPolicy, src: &str, port: u16) -> Action {
    lp.policy.decide(ip(src), port, Proto::Tcp).action
}

/// The acceptance: outsiders blocked and the allowed source passed on every port of
/// `fence`; nothing blocked before for a source outside `allowed` passes after.
fn check(s: &Scenario, dialect: FixDialect, fence: &PortRanges, allowed: &[&str]) -> Remediation {
    let (before, rem, after) = s.fix(dialect);
    let ctx = |what: &str| format!("{} / {dialect}: {what}\n{}", s.name, rem.script);
    assert!(!rem.actions.is_empty(), "{}", ctx("no action"));
    for p in fence.iter() {
        for src in [OUTSIDER, OTHER, NEIGHBOUR] {
            assert_eq!(
                act(&after, src, p),
                Action::Block,
                "{}",
                ctx(&format!("{src} port {p}"))
            );
        }
        for src in allowed {
            assert_eq!(
                act(&after, src, p),
                Action::Pass,
                "{}",
                ctx(&format!("{src} port {p}"))
            );
        }
    }
    for src in [OUTSIDER, OTHER, NEIGHBOUR] {
        for p in watched_ports() {
            if act(&before, src, p) == Action::Block {
                assert_eq!(
                    act(&after, src, p),
                    Action::Block,
                    "{}",
                    ctx(&format!("weakened: {src} port {p}"))
                );
            }
        }
    }
    // The allowed source loses no access outside the fence and keeps its blocks outside it.
    for src in allowed {
        for p in watched_ports().into_iter().filter(|p| !fence.contains(*p)) {
            let b = act(&before, src, p);
            let a = act(&after, src, p);
            assert!(
                b == a || (b == Action::None && a == Action::Pass),
                "{}",
                ctx(&format!("{src} port {p}: {b} before, {a} after"))
            );
        }
    }
    rem
}

/// [`check`] of the scenario's fix in each of `dialects`, for the fence and the allowed
/// subnet; each dialect with its fix.
fn checked(s: &Scenario, dialects: &[FixDialect]) -> Vec<(FixDialect, Remediation)> {
    dialects
        .iter()
        .map(|&d| (d, check(s, d, &fence(), &[ALLOWED])))
        .collect()
}

/// Some action of the fix `r` (in dialect `d`) is one `want` holds for.
fn assert_an_action(d: FixDialect, r: &Remediation, want: impl Fn(&FixAction) -> bool) {
    assert!(r.actions.iter().any(want), "{d}: {:?}", r.actions);
}

fn fence() -> PortRanges {
    PortRanges::parse("135,5001-5021").unwrap()
}

fn article_without(pred: impl Fn(&str) -> bool) -> String {
    support::policy_text_without("kb908472.cmd", pred)
}

#[test]
fn article_missing_block_for_5003_lint_only() {
    let text = support::article_without_the_5003_block();
    let s = Scenario::new(
        "article without 5003 block",
        &[("kb908472.cmd", text.as_bytes())],
    );
    for (d, r) in checked(&s, &DIALECTS) {
        assert!(
            r.actions.iter().all(|a| a.ports == "5003"),
            "{d}: {:?}",
            r.actions
        );
    }
}

#[test]
fn article_missing_block_for_5003_observed_as_a_leak() {
    let text = support::article_without_the_5003_block();
    let mut s = Scenario::new("leak on 5003", &[("kb908472.cmd", text.as_bytes())]);
    // --default block: the uncovered 5003 is expected blocked; the outsider reaches it.
    s.default = Action::Block;
    s.observe.push((
        OUTSIDER,
        Box::new(|p| {
            if p == 5003 {
                ProbeState::Open
            } else {
                ProbeState::Filtered
            }
        }),
    ));
    s.observe.push((ALLOWED, Box::new(|_| ProbeState::Open)));
    let before = s.loaded();
    let (rows, findings) = s.audit(&before);
    assert!(
        rows.iter()
            .any(|r| r.verdict == verify::Verdict::Leak && r.port == 5003)
    );
    assert!(findings.iter().any(|f| f.code == Code::Leak));
    for (d, r) in checked(&s, &DIALECTS) {
        assert_an_action(d, &r, |a| a.codes.contains(&Code::Leak));
    }
    let r = check(&s, FixDialect::Ipseccmd, &fence(), &[ALLOWED]);
    assert!(r.script.contains(
        "\r\nipseccmd.exe -w REG -p \"Block RPC Ports\" -r \"Block Inbound TCP 5003 Rule\" -f *=0:5003:TCP -n BLOCK\r\n"
    ));
}

#[test]
fn allowed_subnet_passes_135_only_is_a_hang_hazard() {
    let text = article_without(|l| l.contains("Allow Inbound TCP Port 50"));
    let mut s = Scenario::new("pass 135 only", &[("kb908472.cmd", text.as_bytes())]);
    s.observe.push((
        ALLOWED,
        Box::new(|p| {
            if p == 135 {
                ProbeState::Open
            } else {
                ProbeState::Filtered
            }
        }),
    ));
    s.observe
        .push((OUTSIDER, Box::new(|_| ProbeState::Filtered)));
    let before = s.loaded();
    let (_, findings) = s.audit(&before);
    assert!(
        findings
            .iter()
            .filter(|f| f.code == Code::HangHazard)
            .count()
            >= 2,
        "lint and matrix"
    );
    for d in DIALECTS {
        let rem = if d.layer() == policy::Layer::Ipsec {
            check(&s, d, &fence(), &[ALLOWED])
        } else {
            // Windows Firewall cannot lift an IPsec block: the script says so instead.
            let (_, rem, after) = s.fix(d);
            assert_eq!(act(&after, ALLOWED, 5001), Action::Block);
            assert!(
                rem.notes
                    .iter()
                    .any(|n| n.contains("use --fix-dialect ipseccmd or netsh-ipsec")),
                "{d}: {:?}",
                rem.notes
            );
            rem
        };
        if d == FixDialect::Ipseccmd {
            assert!(rem.script.contains(
                "ipseccmd.exe -w REG -p \"Block RPC Ports\" -r \"Allow Inbound TCP Port 5007 from 10.1.1.0 Rule\" -f 10.1.1.0/255.255.255.0=0:5007:TCP -n PASS\r\n"
            ));
            assert!(
                rem.actions
                    .iter()
                    .all(|a| a.kind == FixKind::Pass && a.source == "10.1.1.0/24")
            );
        }
    }
}

#[test]
fn overblocked_port_gets_its_pass_again() {
    // The policy passes the subnet on 5007, the host filters it: re-assert the PASS.
    let text = fixture_text("kb908472.cmd");
    let mut s = Scenario::new("overblock 5007", &[("kb908472.cmd", text.as_bytes())]);
    s.observe.push((
        ALLOWED,
        Box::new(|p| {
            if p == 5007 {
                ProbeState::Filtered
            } else {
                ProbeState::Open
            }
        }),
    ));
    for (d, r) in checked(&s, &[FixDialect::Ipseccmd, FixDialect::NetshIpsec]) {
        assert_an_action(d, &r, |a| {
            a.kind == FixKind::Pass
                && a.ports.contains("5007")
                && a.codes.contains(&Code::Overblock)
        });
    }
}

#[test]
fn netsh_ipsec_policy_missing_a_filter() {
    let text = support::netsh_ipsec_without_the_5003_filter();
    let s = Scenario::new(
        "netsh ipsec without 5003",
        &[("netsh-ipsec.cmd", text.as_bytes())],
    );
    assert!(s.lints(Code::RangePortUnblocked));
    checked(&s, &DIALECTS);
}

#[test]
fn naive_firewall_translation_gets_its_block_narrowed() {
    let s = Scenario::new(
        "naive firewall",
        &[("firewall-naive.cmd", &fixture("firewall-naive.cmd"))],
    );
    assert!(s.lints(Code::AllowShadowed));
    for (d, r) in checked(&s, &[FixDialect::Netsh, FixDialect::Powershell]) {
        assert_an_action(d, &r, |a| a.kind == FixKind::NarrowBlock);
        let after = s.fix(d).2;
        assert!(
            !after.findings.iter().any(|f| f.code == Code::AllowShadowed),
            "{d}: {:?}",
            after.findings
        );
    }
    let r = s.fix(FixDialect::Netsh).1;
    assert!(r.script.contains(
        "netsh advfirewall firewall set rule name=\"Block RPC 135,5001-5021\" dir=in new remoteip=0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255,::/0\r\n"
    ), "{}", r.script);
    let r = s.fix(FixDialect::Powershell).1;
    assert!(r.script.contains(
        "Set-NetFirewallRule -DisplayName 'Block RPC 135,5001-5021' -RemoteAddress '0.0.0.0-10.1.0.255', '10.1.2.0-255.255.255.255', '::/0'\n"
    ), "{}", r.script);
}

#[test]
fn narrowing_a_block_for_every_port_keeps_the_subnet_out_of_the_others() {
    // A block for every port from anywhere hides the subnet's allow on the fence; narrowing it
    // must not open 445 (or anything else outside the fence) to the subnet.
    let text = "New-NetFirewallRule -DisplayName 'Block all' -Direction Inbound -Action Block -Protocol TCP -RemoteAddress Any\n\
                New-NetFirewallRule -DisplayName 'Allow RPC 135,5001-5021 from 10.1.1.0' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135,5001-5021 -RemoteAddress 10.1.1.0/24\n\
                rpccfg.exe -pe 5001-5021 -d 0\n";
    let s = Scenario::new("block all", &[("all.ps1", text.as_bytes())]);
    for d in [FixDialect::Netsh, FixDialect::Powershell] {
        let (_, rem, after) = s.fix(d);
        check(&s, d, &fence(), &[ALLOWED]);
        for p in [1, 134, 136, 445, 5000, 5022, 49152, 65535] {
            assert_eq!(
                act(&after, ALLOWED, p),
                Action::Block,
                "{d} port {p}\n{}",
                rem.script
            );
        }
    }
}

#[test]
fn firewall_policy_with_a_leak_in_every_dialect() {
    let text = fixture_text("firewall-correct.ps1").replace(
        "-LocalPort 135,5001-5021",
        "-LocalPort 135,5001-5002,5004-5021",
    );
    assert!(text.contains("5004-5021"));
    let mut files_text = String::from("rpccfg.exe -pe 5001-5021 -d 0\n");
    files_text.push_str(&text);
    let s = Scenario::new(
        "firewall without 5003",
        &[("fw.ps1", files_text.as_bytes())],
    );
    assert!(s.lints(Code::RangePortUnblocked));
    // The fix dialect is the policy's (netsh, powershell) or IPsec on top of it: a block in
    // either layer wins, and the allowed subnet gets a PASS in the new IPsec policy.
    checked(&s, &DIALECTS);
}

#[test]
fn firewall_hang_hazard_gets_an_allow_for_the_range() {
    let text = "rpccfg.exe -pe 5001-5021 -d 0\n\
                New-NetFirewallRule -DisplayName 'Block RPC outside 10.1.1.0' -Direction Inbound -Action Block -Protocol TCP -LocalPort 135,5001-5021 -RemoteAddress 0.0.0.0-10.1.0.255, 10.1.2.0-255.255.255.255\n\
                New-NetFirewallRule -DisplayName 'Allow 135 from 10.1.1.0' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135 -RemoteAddress 10.1.1.0/24\n";
    let s = Scenario::new("firewall 135 only", &[("fw.ps1", text.as_bytes())]);
    assert!(s.lints(Code::HangHazard));
    for (d, r) in checked(&s, &[FixDialect::Netsh, FixDialect::Powershell]) {
        assert_an_action(d, &r, |a| a.kind == FixKind::Pass && a.ports == "5001-5021");
    }
}

#[test]
fn ipsec_fix_for_a_policy_without_an_assigned_policy() {
    // Blocks only, never assigned: the fix writes into "Block RPC Ports" and assigns it.
    let text = article_without(|l| l.trim_end().ends_with("-x"));
    let s = Scenario::new("unassigned", &[("kb908472.cmd", text.as_bytes())]);
    let lp = s.loaded();
    assert!(lp.findings.iter().any(|f| f.code == Code::PolicyUnassigned));
    for (d, r) in checked(&s, &[FixDialect::Ipseccmd, FixDialect::NetshIpsec]) {
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("no IPsec policy was in force")),
            "{d}: {:?}",
            r.notes
        );
    }
}

#[test]
fn range_growth_fences_the_new_ports() {
    let text = fixture_text("kb908472.cmd");
    let mut s = Scenario::new("range exhausted", &[("kb908472.cmd", text.as_bytes())]);
    let rec = capacity::recommend(&article_range(), 30);
    assert_eq!(rec.range, "5001-5060");
    s.recommendation = Some(rec);
    s.extra_findings.push(Finding::new(
        Code::RangeExhausted,
        rpcaudit::finding::Severity::Error,
        "30 ports in use",
        "enlarge",
    ));
    let wide = PortRanges::parse("135,5001-5060").unwrap();
    for d in DIALECTS {
        let r = check(&s, d, &wide, &[ALLOWED]);
        assert_eq!(r.actions[0].kind, FixKind::Range);
        let after = s.fix(d).2;
        assert_eq!(after.effective_range().to_string(), "5001-5060", "{d}");
        assert!(
            !after
                .findings
                .iter()
                .any(|f| f.code == Code::RangePortUnblocked || f.code == Code::HangHazard),
            "{d}: {:?}",
            after.findings
        );
    }
}

#[test]
fn running_a_fix_twice_changes_nothing_more() {
    let text = support::article_without_the_5003_block();
    let s = Scenario::new("twice", &[("kb908472.cmd", text.as_bytes())]);
    for d in DIALECTS {
        let (_, rem, once) = s.fix(d);
        let mut files = s.files.clone();
        files.push(policy::parse_text("fix", rem.script.as_bytes()));
        files.push(policy::parse_text("fix-again", rem.script.as_bytes()));
        let twice = policy::build(files, &LoadOptions::default());
        for src in [OUTSIDER, ALLOWED, NEIGHBOUR] {
            for p in watched_ports() {
                assert_eq!(act(&once, src, p), act(&twice, src, p), "{d} {src} {p}");
            }
        }
    }
}
