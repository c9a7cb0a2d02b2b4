//! Verify: the matrix of expected × observed. Takes the probe [`Observation`]s (local sweeps and
//! merged `--observations` files) and an expectation function (the intended policy's decision
//! for a source address and port, with the rule it came from), gives each (source, target, port)
//! a [`Verdict`], and turns the matrix into findings: `leak`, `overblock` and `hang-hazard`
//! (a source reaches the endpoint mapper but not some port of the range, or the reverse).
//! With a configured store (`audit --store`), each row also carries what the store decides
//! ([`add_configured`]), and an observation that contradicts it is a `store-not-in-force`
//! finding ([`store_findings`]). Pure: no I/O.

use crate::finding::{Code, Finding, Severity};
use crate::ports::{PortRanges, Proto};
use crate::probe::{Observation, ProbeState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What the intended policy does with a connection (the policy model's own answer type;
/// `None`: no rule covers it, and the run's default (`--default`) decides).
pub use crate::policy::Action;

/// A policy's answer for one source and port: the intended policy's (`expected`), or the
/// configured store's (`configured`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Expected {
    pub action: Action,
    /// Where the decision came from, e.g. "policy.cmd:12"; None when no rule covers the port.
    pub rule: Option<String>,
    /// For `conditional`: what the pass depends on (a program or service the rule is scoped
    /// to, a field rpcaudit does not model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl Expected {
    pub fn new(action: Action, rule: Option<String>) -> Self {
        Expected {
            action,
            rule,
            condition: None,
        }
    }

    /// The policy model's decision, its rule cited as `file:line "name"`.
    pub fn of(d: crate::policy::Decision) -> Self {
        Expected {
            action: d.action,
            rule: d.rule.map(|r| r.to_string()),
            condition: d.condition,
        }
    }

    /// No rule covers the port.
    pub fn uncovered() -> Self {
        Expected::new(Action::None, None)
    }
}

/// Expected × observed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
#[derive(strum::IntoStaticStr, strum::Display, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum Verdict {
    /// Expected pass; observed open or closed.
    PassAsExpected,
    /// Expected block; observed filtered.
    BlockAsExpected,
    /// Expected block; observed open or closed.
    Leak,
    /// Expected pass; observed filtered.
    Overblock,
    /// Observed unreachable or error: nothing to compare.
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixRow {
    pub source: IpAddr,
    pub target: IpAddr,
    pub port: u16,
    /// `udp` for a UDP port (UDP 135, a discovered `ncadg_ip_udp` port); absent for TCP (and in
    /// reports of versions that probed TCP only).
    #[serde(default, skip_serializing_if = "Proto::is_tcp")]
    pub protocol: Proto,
    /// `pass` or `block`, after the default was applied to uncovered ports.
    pub expected: Action,
    /// The rule behind `expected`; null when no rule covers the port and the default decided.
    pub rule: Option<String>,
    /// For `expected` `conditional`: what the pass depends on, which rpcaudit cannot check;
    /// the row's verdict is then `inconclusive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    pub observed: ProbeState,
    pub verdict: Verdict,
    /// Round-trip time of the probe that decided `observed`, in milliseconds, when it got an
    /// answer. (Absent in reports of versions that did not carry it.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// What the configured store (`--store`: a firewall or IPsec store export, a Registry.pol,
    /// a listing) decides for this source and port, and the store's rule; `none` when no rule
    /// of the store covers it. Absent when no store was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured: Option<Expected>,
    /// The port the probe actually went to when `port` was probed through a stand-in (the
    /// demo's fixture endpoint mapper on a free port instead of TCP 135: `ports::StandIn`);
    /// absent when the probe went to `port` itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probed_port: Option<u16>,
}

/// The verdict for an expected action (`None` counts as pass) and an observed state over
/// `proto`. Over UDP silence (`filtered`) is also what a port with no listener says when no ICMP
/// comes back, so where a pass is expected it proves nothing: inconclusive, not an overblock.
pub fn verdict_over(proto: Proto, expected: Action, observed: ProbeState) -> Verdict {
    match (proto, expected, observed) {
        (Proto::Udp, Action::Pass | Action::None, ProbeState::Filtered) => Verdict::Inconclusive,
        _ => verdict(expected, observed),
    }
}

/// The verdict for an expected action (`None` counts as pass) and an observed state of a TCP
/// probe.
pub fn verdict(expected: Action, observed: ProbeState) -> Verdict {
    let reached = match observed {
        ProbeState::Open | ProbeState::Closed => true,
        ProbeState::Filtered => false,
        ProbeState::Unreachable | ProbeState::Error => return Verdict::Inconclusive,
    };
    match (expected, reached) {
        // Pass or not depending on a condition rpcaudit cannot check: what was observed
        // neither confirms nor contradicts it.
        (Action::Conditional, _) => Verdict::Inconclusive,
        (Action::Block, true) => Verdict::Leak,
        (Action::Block, false) => Verdict::BlockAsExpected,
        (Action::Pass | Action::None, true) => Verdict::PassAsExpected,
        (Action::Pass | Action::None, false) => Verdict::Overblock,
    }
}

/// Build the matrix, one row per observation, in the observations' order. `expect` is asked
/// about each row's source, port and protocol (a TCP rule is never a UDP port's answer).
/// `default` decides ports no rule covers (`Action::None` as the default means pass, the
/// `--default` default).
pub fn build_matrix(
    observations: &[Observation],
    default: Action,
    expect: impl Fn(IpAddr, u16, Proto) -> Expected,
) -> Vec<MatrixRow> {
    let default = match default {
        Action::Block => Action::Block,
        Action::Conditional => Action::Conditional,
        Action::Pass | Action::None => Action::Pass,
    };
    observations
        .iter()
        .map(|o| {
            let e = expect(o.source, o.port, o.protocol);
            let expected = match e.action {
                Action::None => default,
                a => a,
            };
            MatrixRow {
                source: o.source,
                target: o.target,
                port: o.port,
                protocol: o.protocol,
                expected,
                rule: if e.action == Action::None {
                    None
                } else {
                    e.rule
                },
                condition: e.condition,
                observed: o.state,
                verdict: verdict_over(o.protocol, expected, o.state),
                rtt_ms: o.rtt_ms,
                configured: None,
                probed_port: None,
            }
        })
        .collect()
}

/// How many rows got each verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixSummary {
    pub pass_as_expected: usize,
    pub block_as_expected: usize,
    pub leak: usize,
    pub overblock: usize,
    pub inconclusive: usize,
}

impl MatrixSummary {
    /// Add another summary's counts to these.
    pub fn add(&mut self, other: MatrixSummary) {
        self.pass_as_expected += other.pass_as_expected;
        self.block_as_expected += other.block_as_expected;
        self.leak += other.leak;
        self.overblock += other.overblock;
        self.inconclusive += other.inconclusive;
    }
}

pub fn summarize(rows: &[MatrixRow]) -> MatrixSummary {
    let mut s = MatrixSummary::default();
    for r in rows {
        match r.verdict {
            Verdict::PassAsExpected => s.pass_as_expected += 1,
            Verdict::BlockAsExpected => s.block_as_expected += 1,
            Verdict::Leak => s.leak += 1,
            Verdict::Overblock => s.overblock += 1,
            Verdict::Inconclusive => s.inconclusive += 1,
        }
    }
    s
}

/// Rows grouped by (target, source, protocol), each group's rows in port order.
fn by_pair(rows: &[MatrixRow]) -> BTreeMap<(IpAddr, IpAddr, Proto), Vec<&MatrixRow>> {
    let mut groups: BTreeMap<(IpAddr, IpAddr, Proto), Vec<&MatrixRow>> = BTreeMap::new();
    for r in rows {
        groups
            .entry((r.target, r.source, r.protocol))
            .or_default()
            .push(r);
    }
    for g in groups.values_mut() {
        g.sort_by_key(|r| r.port);
    }
    groups
}

/// "5001-5003,5007" from ports in any order.
fn runs(ports: impl IntoIterator<Item = u16>) -> String {
    PortRanges::from_ranges(ports.into_iter().map(|p| (p, p))).to_string()
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// "port"/"ports", with "UDP " before it for UDP rows (TCP is what a port means unsaid).
fn ports_word(proto: Proto, n: usize) -> String {
    let word = plural(n, "port", "ports");
    match proto {
        Proto::Tcp => word.to_string(),
        Proto::Udp => format!("UDP {word}"),
    }
}

/// Distinct rules of `rows`, in order, with "no rule (--default pass)" for defaulted rows.
fn rules_of(rows: &[&MatrixRow]) -> String {
    name_rules(rows.iter().map(|r| match &r.rule {
        Some(rule) => rule.clone(),
        None => format!("no rule, --default {}", r.expected),
    }))
}

/// The distinct `rules`, in order: the first two named, then how many more.
fn name_rules(rules: impl IntoIterator<Item = String>) -> String {
    let mut out: Vec<String> = Vec::new();
    for rule in rules {
        if !out.contains(&rule) {
            out.push(rule);
        }
    }
    // Name the first two rules; a fence of one rule per port would otherwise fill a screen.
    const SHOWN: usize = 2;
    if out.len() > SHOWN {
        let more = out.len() - SHOWN;
        out.truncate(SHOWN);
        out.push(format!(
            "{more} more {}",
            if more == 1 { "rule" } else { "rules" }
        ));
    }
    out.join("; ")
}

/// `leak` and `overblock` findings: one per (target, source, protocol) and kind, naming the
/// port runs and the rules that expected otherwise.
pub fn policy_findings(rows: &[MatrixRow]) -> Vec<Finding> {
    let mut out = Vec::new();
    for ((target, source, proto), group) in by_pair(rows) {
        for (verdict, code) in [
            (Verdict::Leak, Code::Leak),
            (Verdict::Overblock, Code::Overblock),
        ] {
            let cells: Vec<&MatrixRow> = group
                .iter()
                .copied()
                .filter(|r| r.verdict == verdict)
                .collect();
            if cells.is_empty() {
                continue;
            }
            let ports = runs(cells.iter().map(|r| r.port));
            let named = match proto {
                Proto::Tcp => ports.clone(),
                Proto::Udp => format!("UDP {ports}"),
            };
            let (seen, expected, fix) = match verdict {
                Verdict::Leak => (
                    "reachable from",
                    "blocks",
                    format!(
                        "Make the block cover {named} from {source}: one BLOCK filter per port (with \
                         ipseccmd/ipsecpol change the port in both -r and -f), no broader PASS for \
                         {source}, and the policy assigned (-x, typed with an ASCII hyphen)."
                    ),
                ),
                _ => (
                    "filtered from",
                    "passes",
                    format!(
                        "Let {named} through from {source}: a PASS filter per port for its subnet, more \
                         specific than the BLOCK (IPsec); in Windows Firewall a block rule wins over an \
                         allow rule, so narrow the block instead. Check host and network firewalls in \
                         between too."
                    ),
                ),
            };
            out.push(
                Finding::new(
                    code,
                    Severity::Error,
                    format!(
                        "{target}: {} {ports} {seen} {source} although the policy {expected} {} ({}).",
                        ports_word(proto, cells.len()),
                        plural(cells.len(), "it", "them"),
                        rules_of(&cells)
                    ),
                    fix,
                )
                .with_evidence(cells.iter().map(|r| cell(r))),
            );
        }
    }
    out
}

/// `hang-hazard` findings: per (target, source), the source reaches the endpoint mapper
/// (`epm_port` open or closed) but some port of `range` is filtered, or 135 is filtered while
/// some range port is reached. Pairs without an observation of `epm_port` are not judged;
/// unreachable and error observations count neither way.
pub fn hang_hazards(rows: &[MatrixRow], range: &PortRanges, epm_port: u16) -> Vec<Finding> {
    let mut out = Vec::new();
    // The fence of 135 and the range is TCP's: UDP rows are judged by `policy_findings` and
    // `audit::roads`.
    for ((target, source, _), group) in by_pair(rows)
        .into_iter()
        .filter(|((_, _, proto), _)| *proto == Proto::Tcp)
    {
        let Some(epm) = group.iter().find(|r| r.port == epm_port) else {
            continue;
        };
        let in_range = || {
            group
                .iter()
                .filter(|r| r.port != epm_port && range.contains(r.port))
        };
        let reached: Vec<u16> = in_range()
            .filter(|r| reaches(r.observed))
            .map(|r| r.port)
            .collect();
        let filtered: Vec<u16> = in_range()
            .filter(|r| r.observed == ProbeState::Filtered)
            .map(|r| r.port)
            .collect();
        let evidence = |ports: &[u16]| -> Vec<String> {
            std::iter::once(cell(epm))
                .chain(
                    group
                        .iter()
                        .filter(|r| r.port != epm_port && ports.contains(&r.port))
                        .map(|r| cell(r)),
                )
                .collect()
        };
        let (message, unlike) = if reaches(epm.observed) && !filtered.is_empty() {
            let ports = runs(filtered.iter().copied());
            (
                format!(
                    "{target}: {source} reaches the endpoint mapper (port {epm_port}) but not range \
                     {} {ports}: a client learns such a port from the endpoint mapper, then cannot \
                     reach it, and the application stops responding.",
                    plural(filtered.len(), "port", "ports")
                ),
                &filtered,
            )
        } else if epm.observed == ProbeState::Filtered && !reached.is_empty() {
            let ports = runs(reached.iter().copied());
            (
                format!(
                    "{target}: {source} reaches range {} {ports} but not the endpoint mapper (port \
                     {epm_port}): the fence is inconsistent; services on the range stay exposed \
                     while RPC clients from there cannot resolve them.",
                    plural(reached.len(), "port", "ports")
                ),
                &reached,
            )
        } else {
            continue;
        };
        out.push(
            Finding::new(
                Code::HangHazard,
                Severity::Error,
                message,
                format!(
                    "Treat port {epm_port} and every port of the range {range} alike for {source}: \
                     either PASS all of them (one filter per port) or BLOCK all of them."
                ),
            )
            .with_evidence(evidence(unlike)),
        );
    }
    out
}

/// One matrix cell as evidence: `198.18.2.10 -> 198.18.0.10:5007 closed (expected block:
/// policy.cmd:13 "Block Inbound TCP 5007 Rule")`.
fn cell(r: &MatrixRow) -> String {
    format!(
        "{} -> {}:{}{} {} (expected {}: {})",
        r.source,
        r.target,
        r.port,
        udp_mark(r.protocol),
        r.observed.as_str(),
        r.expected,
        r.rule.as_deref().unwrap_or("no rule, the run's default")
    )
}

/// What follows the port of a UDP row in evidence ("135/udp"); nothing for TCP.
pub fn udp_mark(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "",
        Proto::Udp => "/udp",
    }
}

fn reaches(state: ProbeState) -> bool {
    matches!(state, ProbeState::Open | ProbeState::Closed)
}

/// Give each row what the configured store decides for its source, port and protocol
/// (`audit --store`).
pub fn add_configured(rows: &mut [MatrixRow], configured: impl Fn(IpAddr, u16, Proto) -> Expected) {
    for r in rows {
        r.configured = Some(configured(r.source, r.port, r.protocol));
    }
}

/// How the observation of a row compares with what the store configures: `Leak` when the
/// store blocks and the port was reached, `Overblock` when the store passes and it was
/// filtered, `BlockAsExpected`/`PassAsExpected` when they agree. `None` without a store, when
/// no rule of the store covers the port, or when the observation is inconclusive.
pub fn configured_verdict(r: &MatrixRow) -> Option<Verdict> {
    let c = r.configured.as_ref()?;
    if c.action == Action::None {
        return None;
    }
    Some(verdict_over(r.protocol, c.action, r.observed)).filter(|v| *v != Verdict::Inconclusive)
}

/// `store-not-in-force` findings: per (target, source), the ports the store blocks that were
/// reached (error: the configuration is not in force) and the ports it passes that were
/// filtered (warning: something the store does not hold drops them), with the store's rules.
pub fn store_findings(rows: &[MatrixRow]) -> Vec<Finding> {
    let mut out = Vec::new();
    for ((target, source, proto), group) in by_pair(rows) {
        for kind in [Verdict::Leak, Verdict::Overblock] {
            let hit: Vec<&MatrixRow> = group
                .iter()
                .copied()
                .filter(|r| configured_verdict(r) == Some(kind))
                .collect();
            if hit.is_empty() {
                continue;
            }
            let ports = runs(hit.iter().map(|r| r.port));
            let what = format!("{} {ports}", ports_word(proto, hit.len()));
            let them = plural(hit.len(), "it", "them");
            let rules = name_rules(hit.iter().map(|r| {
                r.configured
                    .as_ref()
                    .and_then(|c| c.rule.clone())
                    .unwrap_or_else(|| "a rule of the store".to_string())
            }));
            let mut seen: Vec<&str> = hit.iter().map(|r| r.observed.as_str()).collect();
            seen.sort_unstable();
            seen.dedup();
            let finding = if kind == Verdict::Leak {
                Finding::new(
                    Code::StoreNotInForce,
                    Severity::Error,
                    format!(
                        "{target}: configured: block, observed: {}: {what} reachable from {source} \
                         although the store blocks {them} ({rules}); the configuration is not in \
                         force (the IPsec policy not assigned, a GPO not applied, or another rule \
                         or firewall letting {them} through).",
                        seen.join("/")
                    ),
                    format!(
                        "On the host, put the exported configuration in force for {ports}: assign \
                         the IPsec policy (ipseccmd -x, netsh ipsec static set policy assign=y), \
                         apply the GPO (gpupdate /force, then gpresult /h to check), turn the \
                         firewall on in the active profile, remove the rule that passes {source}; \
                         then export the store again and re-run the audit."
                    ),
                )
            } else {
                Finding::new(
                    Code::StoreNotInForce,
                    Severity::Warning,
                    format!(
                        "{target}: configured: pass, observed: filtered: {what} filtered from \
                         {source} although the store passes {them} ({rules}); something the \
                         store does not hold drops {them} (another firewall on the host or on \
                         the way, or an IPsec policy other than the one exported)."
                    ),
                    format!(
                        "Find what drops {ports} from {source}: export the host's other stores \
                         (firewall and IPsec) and pass them with --store too, and check the \
                         firewalls on the path."
                    ),
                )
            };
            out.push(finding.with_evidence(hit.iter().map(|r| configured_cell(r))));
        }
    }
    out
}

/// One matrix cell as evidence against the store: `198.18.2.10 -> 198.18.0.10:5007 closed
/// (configured block: fw.reg:19 "Block RPC")`.
fn configured_cell(r: &MatrixRow) -> String {
    let (action, rule) = match &r.configured {
        Some(c) => (
            c.action,
            c.rule.as_deref().unwrap_or("no rule of the store"),
        ),
        None => (Action::None, "no store"),
    };
    format!(
        "{} -> {}:{}{} {} (configured {action}: {rule})",
        r.source,
        r.target,
        r.port,
        udp_mark(r.protocol),
        r.observed.as_str()
    )
}

/// A row with a conditional decision: the row, the condition, the rule.
type Hit<'a> = (&'a MatrixRow, Option<&'a str>, Option<&'a str>);

/// `decision-conditional` findings: per (target, source, protocol), the ports the intended
/// policy (error: the port is not verified, so the host is not compliant) or the configured
/// store (warning) passes only under a condition rpcaudit cannot check, with the conditions
/// and the rules. Their verdicts are `inconclusive`; this says why, so a conditional decision
/// never passes for a verified one.
pub fn conditional_findings(rows: &[MatrixRow]) -> Vec<Finding> {
    let mut out = Vec::new();
    for ((target, source, proto), group) in by_pair(rows) {
        let sides: [(&str, Severity, Vec<Hit>); 2] = [
            (
                "the intended policy",
                Severity::Error,
                group
                    .iter()
                    .filter(|r| r.expected == Action::Conditional)
                    .map(|r| (*r, r.condition.as_deref(), r.rule.as_deref()))
                    .collect(),
            ),
            (
                "the configured store",
                Severity::Warning,
                group
                    .iter()
                    .filter_map(|r| {
                        let c = r.configured.as_ref()?;
                        (c.action == Action::Conditional).then_some((
                            *r,
                            c.condition.as_deref(),
                            c.rule.as_deref(),
                        ))
                    })
                    .collect(),
            ),
        ];
        for (who, severity, hit) in sides {
            if hit.is_empty() {
                continue;
            }
            let ports = runs(hit.iter().map(|(r, _, _)| r.port));
            let mut conditions: Vec<&str> = hit
                .iter()
                .map(|(_, c, _)| c.unwrap_or("a condition not modelled"))
                .collect();
            conditions.sort_unstable();
            conditions.dedup();
            let rules = name_rules(
                hit.iter()
                    .map(|(_, _, rule)| rule.unwrap_or("a rule").to_string()),
            );
            out.push(
                Finding::new(
                    Code::DecisionConditional,
                    severity,
                    format!(
                        "{target}: {who} passes {} {ports} from {source} only under a condition \
                         rpcaudit cannot check ({}; {rules}): what was observed neither confirms \
                         nor contradicts it, so {} not verified.",
                        ports_word(proto, hit.len()),
                        conditions.join("; "),
                        plural(hit.len(), "it is", "they are")
                    ),
                    "Decide these ports by ports and addresses alone (LPort and RA4/RA6, netsh \
                     localport= and remoteip=), or check on the host that each port belongs to \
                     the program or service the rule names (netstat -abno; \
                     Get-NetFirewallApplicationFilter, Get-NetFirewallServiceFilter).",
                )
                .with_evidence(hit.iter().map(|(r, c, _)| {
                    format!(
                        "{} (if {})",
                        cell(r),
                        c.unwrap_or("a condition not modelled")
                    )
                })),
            );
        }
    }
    out
}

/// Every finding of the matrix: leaks and overblocks, then hang hazards, then where the
/// observations contradict the configured store (none without a store), then the ports whose
/// decision depends on a condition rpcaudit cannot check.
pub fn matrix_findings(rows: &[MatrixRow], range: &PortRanges, epm_port: u16) -> Vec<Finding> {
    let mut out = policy_findings(rows);
    out.extend(hang_hazards(rows, range, epm_port));
    out.extend(store_findings(rows));
    out.extend(conditional_findings(rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decision that depends on a condition rpcaudit cannot check is never verified: the
    /// row is inconclusive whatever was observed, and a finding says why (an error for the
    /// intended policy, so the host is not compliant; a warning for the configured store).
    #[test]
    fn a_conditional_decision_is_inconclusive_and_said() {
        let conditional = |_: IpAddr, port: u16, _: Proto| Expected {
            action: if port == 3389 {
                Action::Conditional
            } else {
                Action::Block
            },
            rule: Some("fw.reg:7 \"RDP\"".into()),
            condition: (port == 3389).then(|| "only for service termservice".to_string()),
        };
        let observations = [
            obs(OTHER, 3389, ProbeState::Open),
            obs(OTHER, 135, ProbeState::Filtered),
        ];
        let mut rows = build_matrix(&observations, Action::Pass, conditional);
        assert_eq!(rows[0].expected, Action::Conditional);
        assert_eq!(rows[0].verdict, Verdict::Inconclusive);
        assert_eq!(
            rows[0].condition.as_deref(),
            Some("only for service termservice")
        );
        assert_eq!(
            verdict(Action::Conditional, ProbeState::Filtered),
            Verdict::Inconclusive
        );
        let findings = matrix_findings(&rows, &article(), 135);
        let f: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.code == Code::DecisionConditional)
            .collect();
        assert_eq!(f.len(), 1, "{findings:?}");
        assert_eq!(f[0].severity, Severity::Error);
        assert!(f[0].message.contains("3389") && f[0].message.contains("termservice"));
        assert!(
            f[0].message.contains("the intended policy"),
            "{}",
            f[0].message
        );
        assert!(f[0].evidence[0].contains("if only for service termservice"));
        // The configured store's conditional decision: a warning, not store-not-in-force.
        add_configured(&mut rows, conditional);
        for r in &mut rows {
            r.expected = Action::Block;
            r.condition = None;
        }
        let findings = conditional_findings(&rows);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].severity, Severity::Warning);
        assert!(findings[0].message.contains("the configured store"));
        assert!(store_findings(&rows).is_empty());
    }

    #[test]
    fn each_verdict_is_shown_as_its_json_name() {
        crate::testing::assert_shown_as_json_names::<Verdict>();
        assert_eq!(Verdict::PassAsExpected.as_str(), "pass-as-expected");
    }

    const T: &str = "198.18.0.10";
    const ALLOWED: &str = "198.18.1.10";
    const OTHER: &str = "198.18.2.10";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn obs(source: &str, port: u16, state: ProbeState) -> Observation {
        Observation::new(ip(source), ip(T), port, state)
    }

    fn article() -> PortRanges {
        PortRanges::parse("5001-5021").unwrap()
    }

    /// The article's policy: everything of 135 and the range blocked, the allowed subnet passed.
    fn policy(source: IpAddr, port: u16, proto: Proto) -> Expected {
        if proto != Proto::Tcp || port != 135 && !article().contains(port) {
            return Expected::uncovered();
        }
        if source == ip(ALLOWED) {
            Expected::new(Action::Pass, Some(format!("policy.cmd:{}", 100 + port)))
        } else {
            Expected::new(Action::Block, Some("policy.cmd:1".into()))
        }
    }

    /// A correct fence, seen from both subnets.
    fn correct() -> Vec<Observation> {
        let mut v = Vec::new();
        for p in std::iter::once(135).chain(5001..=5021) {
            let state = if p <= 5003 {
                ProbeState::Open
            } else {
                ProbeState::Closed
            };
            v.push(obs(ALLOWED, p, state));
            v.push(obs(OTHER, p, ProbeState::Filtered));
        }
        v
    }

    /// The matrix of the [`correct`] observations, but that `source` sees `state` on the ports
    /// `which` picks.
    fn matrix_where(
        source: &str,
        which: impl Fn(u16) -> bool,
        state: ProbeState,
    ) -> Vec<MatrixRow> {
        let mut o = correct();
        for x in o
            .iter_mut()
            .filter(|x| x.source == ip(source) && which(x.port))
        {
            x.state = state;
        }
        build_matrix(&o, Action::Pass, policy)
    }

    fn codes(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn each_verdict() {
        use ProbeState::*;
        assert_eq!(verdict(Action::Pass, Open), Verdict::PassAsExpected);
        assert_eq!(verdict(Action::Pass, Closed), Verdict::PassAsExpected);
        assert_eq!(verdict(Action::Block, Filtered), Verdict::BlockAsExpected);
        assert_eq!(verdict(Action::Block, Open), Verdict::Leak);
        assert_eq!(verdict(Action::Block, Closed), Verdict::Leak);
        assert_eq!(verdict(Action::Pass, Filtered), Verdict::Overblock);
        for a in [Action::Pass, Action::Block] {
            assert_eq!(verdict(a, Unreachable), Verdict::Inconclusive);
            assert_eq!(verdict(a, Error), Verdict::Inconclusive);
        }
    }

    #[test]
    fn the_default_decides_uncovered_ports_and_leaves_rule_null() {
        let o = [obs(OTHER, 445, ProbeState::Open)];
        let rows = build_matrix(&o, Action::None, policy);
        assert_eq!(rows[0].expected, Action::Pass);
        assert_eq!(rows[0].rule, None);
        assert_eq!(rows[0].verdict, Verdict::PassAsExpected);
        let rows = build_matrix(&o, Action::Block, policy);
        assert_eq!(rows[0].expected, Action::Block);
        assert_eq!(rows[0].verdict, Verdict::Leak);
        let f = policy_findings(&rows);
        assert!(
            f[0].message.contains("no rule, --default block"),
            "{}",
            f[0].message
        );
        // A covered port keeps its rule.
        let rows = build_matrix(
            &[obs(ALLOWED, 135, ProbeState::Open)],
            Action::Block,
            policy,
        );
        assert_eq!(rows[0].rule.as_deref(), Some("policy.cmd:235"));
    }

    #[test]
    fn a_correct_fence_has_no_findings() {
        let rows = build_matrix(&correct(), Action::Pass, policy);
        let s = summarize(&rows);
        assert_eq!(s.pass_as_expected, 22);
        assert_eq!(s.block_as_expected, 22);
        assert_eq!(s.leak + s.overblock + s.inconclusive, 0);
        assert!(matrix_findings(&rows, &article(), 135).is_empty());
    }

    #[test]
    fn a_leak_names_the_port_runs_and_source() {
        let rows = matrix_where(
            OTHER,
            |p| [5007, 5010, 5011].contains(&p),
            ProbeState::Closed,
        );
        let f = matrix_findings(&rows, &article(), 135);
        // 135 filtered from OTHER while 5007 is reached: the reverse hazard as well.
        assert_eq!(codes(&f), ["leak", "hang-hazard"]);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(
            f[0].message,
            "198.18.0.10: ports 5007,5010-5011 reachable from 198.18.2.10 although the policy \
             blocks them (policy.cmd:1)."
        );
        let one = build_matrix(&[obs(OTHER, 5007, ProbeState::Open)], Action::Pass, policy);
        assert!(
            policy_findings(&one)[0]
                .message
                .contains("port 5007 reachable from 198.18.2.10")
        );
    }

    #[test]
    fn one_leak_finding_per_source_and_target() {
        let mut o = vec![
            obs(OTHER, 5001, ProbeState::Open),
            obs(OTHER, 5002, ProbeState::Open),
            obs("198.18.3.10", 5001, ProbeState::Open),
        ];
        let mut elsewhere = obs(OTHER, 5001, ProbeState::Open);
        elsewhere.target = ip("198.18.0.11");
        o.push(elsewhere);
        let rows = build_matrix(&o, Action::Pass, policy);
        let f = policy_findings(&rows);
        assert_eq!(codes(&f), ["leak", "leak", "leak"]);
        assert!(
            f[0].message
                .contains("ports 5001-5002 reachable from 198.18.2.10")
        );
    }

    #[test]
    fn overblock_for_a_passed_port_that_is_filtered() {
        let rows = matrix_where(ALLOWED, |p| p == 5002, ProbeState::Filtered);
        let f = policy_findings(&rows);
        assert_eq!(codes(&f), ["overblock"]);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].message.contains("port 5002 filtered from 198.18.1.10"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("policy.cmd:5102"), "{}", f[0].message);
    }

    #[test]
    fn hang_hazard_135_reached_range_filtered() {
        // The allowed subnet passes 135 only.
        let rows = matrix_where(ALLOWED, |p| p != 135, ProbeState::Filtered);
        let f = hang_hazards(&rows, &article(), 135);
        assert_eq!(codes(&f), ["hang-hazard"]);
        assert_eq!(f[0].severity, Severity::Error);
        assert!(
            f[0].message.contains(
                "198.18.1.10 reaches the endpoint mapper (port 135) but not range ports 5001-5021"
            ),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("stops responding"));
    }

    #[test]
    fn hang_hazard_range_reached_135_filtered() {
        let rows = matrix_where(ALLOWED, |p| p == 135, ProbeState::Filtered);
        let f = hang_hazards(&rows, &article(), 135);
        assert_eq!(codes(&f), ["hang-hazard"]);
        assert!(
            f[0].message
                .contains("198.18.1.10 reaches range ports 5001-5021 but not the endpoint mapper"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn hang_hazard_needs_an_observation_of_135_and_ignores_ports_outside_the_range() {
        let o = vec![
            obs(ALLOWED, 5001, ProbeState::Open),
            obs(ALLOWED, 5002, ProbeState::Filtered),
        ];
        let rows = build_matrix(&o, Action::Pass, policy);
        assert!(hang_hazards(&rows, &article(), 135).is_empty());
        // 135 reached, a discovered port outside the range filtered: not this finding.
        let o = vec![
            obs(ALLOWED, 135, ProbeState::Open),
            obs(ALLOWED, 5001, ProbeState::Open),
            obs(ALLOWED, 49664, ProbeState::Filtered),
        ];
        let rows = build_matrix(&o, Action::Pass, policy);
        assert!(hang_hazards(&rows, &article(), 135).is_empty());
        // Unreachable counts neither way.
        let o = vec![
            obs(ALLOWED, 135, ProbeState::Open),
            obs(ALLOWED, 5001, ProbeState::Unreachable),
        ];
        let rows = build_matrix(&o, Action::Pass, policy);
        assert!(hang_hazards(&rows, &article(), 135).is_empty());
        assert_eq!(rows[1].verdict, Verdict::Inconclusive);
        // The EPM on another port (the fixture's) is honoured.
        let o = vec![
            obs(ALLOWED, 13500, ProbeState::Open),
            obs(ALLOWED, 5001, ProbeState::Filtered),
        ];
        let rows = build_matrix(&o, Action::Pass, policy);
        assert_eq!(
            codes(&hang_hazards(&rows, &article(), 13500)),
            ["hang-hazard"]
        );
    }

    /// A store that passes the allowed subnet, and blocks everyone else on 135 and the range
    /// but 5020-5021 (rules fw.reg:1, fw.reg:2 and fw.reg:3); it covers nothing else.
    fn store(source: IpAddr, port: u16, _: Proto) -> Expected {
        if port != 135 && !article().contains(port) {
            return Expected::uncovered();
        }
        if source == ip(ALLOWED) {
            Expected::new(Action::Pass, Some("fw.reg:2 \"Allow RPC\"".into()))
        } else if port >= 5020 {
            Expected::new(Action::Pass, Some("fw.reg:3 \"Allow 5020\"".into()))
        } else {
            Expected::new(Action::Block, Some("fw.reg:1 \"Block RPC\"".into()))
        }
    }

    #[test]
    fn rows_carry_the_store_and_contradictions_are_findings() {
        let mut o = correct();
        o.push(obs(OTHER, 445, ProbeState::Open));
        for x in o.iter_mut() {
            if x.source == ip(OTHER) && x.port == 5007 {
                x.state = ProbeState::Closed;
            }
            if x.source == ip(OTHER) && x.port == 5008 {
                x.state = ProbeState::Open;
            }
        }
        let mut rows = build_matrix(&o, Action::Pass, policy);
        // Without a store: no configured field, no store finding.
        assert!(rows.iter().all(|r| r.configured.is_none()));
        assert!(store_findings(&rows).is_empty());
        let before = serde_json::to_value(&rows[0]).unwrap();
        assert!(before.get("configured").is_none(), "{before}");
        add_configured(&mut rows, store);
        let r5007 = rows
            .iter()
            .find(|r| r.source == ip(OTHER) && r.port == 5007)
            .unwrap();
        assert_eq!(
            r5007.configured,
            Some(Expected::new(
                Action::Block,
                Some("fw.reg:1 \"Block RPC\"".into())
            ))
        );
        assert_eq!(configured_verdict(r5007), Some(Verdict::Leak));
        let v = serde_json::to_value(r5007).unwrap();
        assert_eq!(v["configured"]["action"], "block");
        assert_eq!(v["configured"]["rule"], "fw.reg:1 \"Block RPC\"");
        let back: MatrixRow = serde_json::from_value(v).unwrap();
        assert_eq!(&back, r5007);
        // Agreement, and a port the store does not cover, are no contradiction.
        let allowed = rows.iter().find(|r| r.source == ip(ALLOWED)).unwrap();
        assert_eq!(configured_verdict(allowed), Some(Verdict::PassAsExpected));
        let r445 = rows.iter().find(|r| r.port == 445).unwrap();
        assert_eq!(r445.configured, Some(Expected::uncovered()));
        assert_eq!(configured_verdict(r445), None);
        let f = store_findings(&rows);
        assert_eq!(codes(&f), ["store-not-in-force", "store-not-in-force"]);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(
            f[0].message,
            "198.18.0.10: configured: block, observed: closed/open: ports 5007-5008 reachable \
             from 198.18.2.10 although the store blocks them (fw.reg:1 \"Block RPC\"); the \
             configuration is not in force (the IPsec policy not assigned, a GPO not applied, or \
             another rule or firewall letting them through)."
        );
        assert_eq!(
            f[0].evidence,
            [
                "198.18.2.10 -> 198.18.0.10:5007 closed (configured block: fw.reg:1 \"Block RPC\")",
                "198.18.2.10 -> 198.18.0.10:5008 open (configured block: fw.reg:1 \"Block RPC\")"
            ]
        );
        assert_eq!(f[1].severity, Severity::Warning);
        assert!(
            f[1].message.starts_with(
                "198.18.0.10: configured: pass, observed: filtered: ports 5020-5021 filtered from \
                 198.18.2.10 although the store passes them (fw.reg:3 \"Allow 5020\")"
            ),
            "{}",
            f[1].message
        );
        // matrix_findings carries them after the script's own.
        let all = matrix_findings(&rows, &article(), 135);
        assert_eq!(codes(&all)[0], "leak");
        assert_eq!(
            all.iter()
                .filter(|x| x.code == Code::StoreNotInForce)
                .count(),
            2
        );
    }

    #[test]
    fn rows_serialise_with_the_contract_names() {
        let rows = build_matrix(&[obs(OTHER, 5007, ProbeState::Open)], Action::Pass, policy);
        let v = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(v["source"], OTHER);
        assert_eq!(v["target"], T);
        assert_eq!(v["port"], 5007);
        assert_eq!(v["expected"], "block");
        assert_eq!(v["rule"], "policy.cmd:1");
        assert_eq!(v["observed"], "open");
        assert_eq!(v["verdict"], "leak");
        let back: MatrixRow = serde_json::from_value(v).unwrap();
        assert_eq!(back, rows[0]);
        assert_eq!(
            serde_json::to_value(Verdict::PassAsExpected).unwrap(),
            "pass-as-expected"
        );
    }

    #[test]
    fn udp_rows_are_asked_about_udp_and_silence_proves_no_overblock() {
        let udp = |source: &str, port, state| Observation::udp(ip(source), ip(T), port, state);
        let o = [
            obs(OTHER, 135, ProbeState::Filtered),
            udp(OTHER, 135, ProbeState::Open),
            udp(ALLOWED, 135, ProbeState::Filtered),
            udp(ALLOWED, 40000, ProbeState::Closed),
        ];
        // A policy that blocks UDP 135 from OTHER and passes it from ALLOWED.
        let rows = build_matrix(&o, Action::Pass, |src, port, proto| match (proto, port) {
            (Proto::Udp, 135) if src == ip(OTHER) => {
                Expected::new(Action::Block, Some("u:1".into()))
            }
            (Proto::Udp, 135) => Expected::new(Action::Pass, Some("u:2".into())),
            (Proto::Udp, _) => Expected::uncovered(),
            (Proto::Tcp, p) => policy(src, p, Proto::Tcp),
        });
        assert_eq!(rows[1].protocol, Proto::Udp);
        assert_eq!(rows[1].verdict, Verdict::Leak);
        assert_eq!(
            rows[2].verdict,
            Verdict::Inconclusive,
            "UDP silence where a pass is meant"
        );
        assert_eq!(
            rows[3].verdict,
            Verdict::PassAsExpected,
            "ICMP port unreachable reached it"
        );
        let f = policy_findings(&rows);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .contains("UDP port 135 reachable from 198.18.2.10"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].fix.contains("Make the block cover UDP 135"),
            "{}",
            f[0].fix
        );
        assert_eq!(
            f[0].evidence,
            ["198.18.2.10 -> 198.18.0.10:135/udp open (expected block: u:1)"]
        );
        // The TCP hang-hazard rule ignores UDP rows: TCP 135 filtered, UDP 135 open.
        assert!(hang_hazards(&rows, &article(), 135).is_empty());
        let json = serde_json::to_string(&rows[1]).unwrap();
        assert!(json.contains(r#""protocol":"udp""#), "{json}");
        assert!(
            !serde_json::to_string(&rows[0])
                .unwrap()
                .contains("protocol")
        );
    }
}
