//! Policy-wide lints, run by [`crate::policy::build`] once every file is combined (their findings
//! follow the parse-time ones in [`crate::policy::LoadedPolicy::findings`]): the range is big enough
//! and clear of the ephemeral ports, 135 and every range port are blocked for everyone else,
//! every allowed source reaches 135 and the whole range or neither, no allow is overridden by
//! a block, and every IPsec policy that was written is assigned. Also the rule-name check the
//! parsers call while reading (`name-filter-mismatch`).
//!
//! The lints ask the model ([`crate::policy::Policy::decide`]) about representative sources: one host
//! of each subnet or range an allow names, and one "outsider" that no specific rule names.
//!
//! A fix that gives a command (assign the policy, add the block) is written by the quoting
//! rules of [`crate::script::quote`], as the fix scripts are: a policy name or store from the
//! files that a command cannot carry safely leaves the fix in prose, saying what to do by hand.

use super::address::AddrMatch;
use super::sink::Sink;
use super::{Action, Layer, PortMatch, Query, RuleAction};
use crate::finding::{Code, Finding, Severity};
use crate::policy::{Dialect, Proto};
use crate::policy::{IpsecPolicySummary, LoadedPolicy, RangeKind};
use crate::ports::{EPM_PORT, PortRanges};
use crate::script::quote::{self, Line, Refusal, or_by_hand};
use std::net::IpAddr;

/// The article's own threshold: "fewer than 20 ports" is too small for a busy server.
pub const MIN_RANGE_PORTS: u32 = 20;

/// Port numbers a rule's name mentions ("Block Inbound TCP 5001 Rule" → 5001). Numbers
/// inside addresses (10.1.1.0, /24) and below 20 ("Rule 2") are not ports.
pub fn name_ports(name: &str) -> PortRanges {
    let mut out = Vec::new();
    for token in name.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '/' || c == '-')) {
        if token.contains('.') || token.contains('/') {
            continue;
        }
        let token = token.trim_matches('-');
        if token.is_empty() {
            continue;
        }
        let parsed = match token.split_once('-') {
            Some((a, b)) => a.parse::<u16>().ok().zip(b.parse::<u16>().ok()),
            None => token.parse::<u16>().ok().map(|p| (p, p)),
        };
        if let Some((a, b)) = parsed
            && a >= 20
            && a <= b
        {
            out.push((a, b));
        }
    }
    PortRanges::from_ranges(out)
}

/// `name-filter-mismatch`: the ports a rule's name mentions differ from its filter's.
pub(crate) fn check_name_ports(
    sink: &mut Sink,
    line: usize,
    name: &str,
    filter_ports: &PortRanges,
    filter_text: &str,
) {
    let named = name_ports(name);
    if named.is_empty() || filter_ports.is_empty() || &named == filter_ports {
        return;
    }
    sink.about(name).push(
        Code::NameFilterMismatch,
        Severity::Warning,
        line,
        format!(
            "rule \"{name}\" names port {named} but its filter ({filter_text}) covers port {filter_ports}; KB908472 says to change the port in both the rule name and the filter"
        ),
        format!("make the name and the filter agree: either rename the rule for port {filter_ports} or change the filter to port {named}"),
    );
}

/// Most rule evaluations one lint may spend (a question to the model costs one evaluation per
/// rule). The article's policy needs about ten thousand; a lint whose questions would cost
/// more is not run, and says so with an error, so a hostile file of a hundred thousand rules
/// costs seconds, not hours, and never passes for a checked one.
pub const MAX_LINT_EVALUATIONS: u64 = 20_000_000;

/// Every policy-wide lint.
pub fn lint(lp: &LoadedPolicy) -> Vec<Finding> {
    let mut out = Vec::new();
    unassigned(lp, &mut out);
    range_shape(lp, &mut out);
    let rules = lp.policy.rules.len() as u64;
    let range_ports = lp
        .range
        .as_ref()
        .filter(|r| r.kind != RangeKind::Invalid)
        .map_or(0, |r| u64::from(r.ports.size()));
    if !lp.policy.rules.is_empty() || !lp.ipsec_policies.is_empty() {
        let outsider = outsider(lp);
        if within_budget(
            lp,
            Code::RangePortUnblocked,
            (1 + range_ports) * rules,
            &mut out,
        ) {
            unblocked(lp, outsider, &mut out);
        }
        let sources = 1 + hang_sources(lp, outsider).len() as u64;
        if within_budget(
            lp,
            Code::HangHazard,
            sources * (2 + range_ports) * rules,
            &mut out,
        ) {
            hang_hazard(lp, outsider, &mut out);
        }
    }
    let questions: u64 = lp
        .policy
        .rules
        .iter()
        .filter(|r| shadow_candidate(r))
        .map(|r| r.src.len() as u64 * shadow_ports(lp, &r.ports).len() as u64)
        .sum();
    if within_budget(lp, Code::AllowShadowed, questions * rules, &mut out) {
        shadowed(lp, &mut out);
    }
    crate::finding::cap_per_code(out)
}

/// True when a lint costing `evaluations` may run; otherwise a `lint-skipped` error says
/// which check was not run and why.
fn within_budget(lp: &LoadedPolicy, check: Code, evaluations: u64, out: &mut Vec<Finding>) -> bool {
    if evaluations <= MAX_LINT_EVALUATIONS {
        return true;
    }
    let mut f = Finding::new(
        Code::LintSkipped,
        Severity::Error,
        format!(
            "the {check} check was not run: the files define {} rules, and checking them would take {evaluations} rule evaluations, more than the {MAX_LINT_EVALUATIONS} rpcaudit spends on one check",
            lp.policy.rules.len()
        ),
        "check that these are the files you meant; a KB908472 policy has tens of rules, not tens of thousands",
    );
    f.file = first_file(lp);
    out.push(f);
    false
}

fn unassigned(lp: &LoadedPolicy, out: &mut Vec<Finding>) {
    let any_in_force = lp.ipsec_policies.iter().any(|p| p.in_force);
    // A store says which policy it assigns (ActivePolicy); scripts say it by their last line.
    for p in lp
        .ipsec_policies
        .iter()
        .filter(|p| p.dialect == Dialect::IpsecStore && p.in_force)
    {
        let f = Finding::new(
            Code::PolicyAssigned,
            Severity::Info,
            format!(
                "IPsec policy \"{}\" ({} rules) is the store's assigned policy (ActivePolicy) and in force",
                p.name, p.rules
            ),
            "nothing to do: this is the policy explain and audit decide from",
        );
        out.push(f.at(p.file.clone(), p.assigned.unwrap_or(p.line)));
    }
    for p in lp.ipsec_policies.iter().filter(|p| p.assigned.is_none()) {
        if p.rules == 0 && p.file.is_empty() {
            // Only named by a -y/-o or set-policy line: nothing was written to assign.
            continue;
        }
        if p.dialect == Dialect::IpsecStore && any_in_force {
            // Every store holds policies it does not assign (the built-in ones, at least).
            continue;
        }
        let (severity, tail) = if any_in_force {
            (
                Severity::Warning,
                "another policy is assigned instead (only one IPsec policy can be assigned)",
            )
        } else {
            (
                Severity::Error,
                "no IPsec policy is in force, so none of its blocks apply",
            )
        };
        let fix = or_by_hand(assign_command(p), "assign the policy");
        let place = if p.dialect == Dialect::IpsecStore {
            "in the store (no ActivePolicy names it)"
        } else {
            "at the end of the script"
        };
        let mut f = Finding::new(
            Code::PolicyUnassigned,
            severity,
            format!(
                "IPsec policy \"{}\" ({} rules) is not assigned {place}: {tail}",
                p.name, p.rules
            ),
            fix,
        );
        if !p.file.is_empty() {
            f = f.at(p.file.clone(), p.line);
        }
        out.push(f);
    }
}

fn range_finding(lp: &LoadedPolicy, f: Finding) -> Finding {
    match lp.range.as_ref().and_then(|r| r.source.rsplit_once(':')) {
        Some((file, line)) => match line.parse::<usize>() {
            Ok(l) => f.at(file, l),
            Err(_) => f,
        },
        None => f,
    }
}

fn range_shape(lp: &LoadedPolicy, out: &mut Vec<Finding>) {
    let Some(r) = &lp.range else { return };
    if r.kind == RangeKind::Invalid {
        return;
    }
    let size = r.ports.size();
    if size < MIN_RANGE_PORTS && matches!(r.kind, RangeKind::Listed | RangeKind::Override) {
        out.push(range_finding(lp, Finding::new(
            Code::RangeTooSmall,
            Severity::Warning,
            format!("the RPC dynamic range {} has {size} ports, fewer than the {MIN_RANGE_PORTS} KB908472 takes as its minimum; servers with many TCP endpoints run out", r.ports),
            "count the TCP-bound endpoints (rpcaudit dump) and widen the range, e.g. rpccfg.exe -pe 5001-5100 -d 0",
        )));
    }
    let eph = lp.os.ephemeral();
    let overlap: Vec<(u16, u16)> = eph
        .ranges()
        .iter()
        .flat_map(|&(ea, eb)| {
            r.ports.ranges().iter().filter_map(move |&(a, b)| {
                (a.max(ea) <= b.min(eb)).then_some((a.max(ea), b.min(eb)))
            })
        })
        .collect();
    if !overlap.is_empty() {
        let o = PortRanges::from_ranges(overlap);
        out.push(range_finding(lp, Finding::new(
            Code::RangeOverlapsEphemeral,
            Severity::Warning,
            format!("the RPC dynamic range {} overlaps the ephemeral ports {eph} of {} at {o}: RPC servers compete with every outgoing connection for those ports", r.ports, lp.os.describe()),
            format!("move the range outside {eph}, e.g. 5001-5021 as KB908472 does"),
        )));
    }
}

/// A source address that no specific rule names: "everybody else".
fn outsider(lp: &LoadedPolicy) -> IpAddr {
    const CANDIDATES: &[&str] = &[
        "203.0.113.77",
        "198.51.100.77",
        "192.0.2.77",
        "100.64.77.77",
        "172.31.254.77",
        "192.168.254.77",
        "10.254.254.77",
        "169.254.77.77",
    ];
    let mut fallback = None;
    for c in CANDIDATES {
        let Ok(ip) = c.parse::<IpAddr>() else {
            continue;
        };
        fallback.get_or_insert(ip);
        // Named by a rule that lets traffic in: a host only a block names is an outsider.
        let named = lp
            .policy
            .rules
            .iter()
            .filter(|r| r.action != RuleAction::Block)
            .any(|r| {
                r.src.iter().any(|m| {
                    m.is_specific() && m.contains(ip, &lp.policy.local_subnets) == Some(true)
                })
            });
        if !named {
            return ip;
        }
    }
    fallback.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 77)))
}

fn runs(ports: &[u16]) -> PortRanges {
    PortRanges::from_ranges(ports.iter().map(|&p| (p, p)))
}

fn first_file(lp: &LoadedPolicy) -> Option<String> {
    lp.files
        .iter()
        .find(|f| f.dialects.iter().any(|d| d.layer().is_some()))
        .map(|f| f.path.clone())
}

/// The command that assigns `p` (`policy-unassigned`), in the dialect it was written in,
/// written by the quoting rules of [`crate::script::quote`]: the policy's name and store come
/// from the files.
fn assign_command(p: &IpsecPolicySummary) -> Result<String, Refusal> {
    match p.dialect {
        Dialect::NetshIpsec => Line::new()
            .words("netsh ipsec static set policy")
            .sp()
            .raw("name=")
            .quoted(&quote::cmd_quoted("IPsec policy name", &p.name)?)
            .sp()
            .raw("assign=yes")
            .finish_cmd(),
        _ => Line::new()
            .words("ipseccmd.exe -w")
            .sp()
            .token(&quote::ipseccmd_store(&p.store)?)
            .sp()
            .raw("-p")
            .sp()
            .quoted(&quote::ipseccmd_policy(&p.name)?)
            .sp()
            .raw("-x")
            .finish_cmd(),
    }
}

/// The ipseccmd command that blocks `port` for any source in the policy `name` of `store`.
fn ipsec_block_command(name: &str, store: &str, port: u16) -> Result<String, Refusal> {
    Line::new()
        .words("ipseccmd.exe -w")
        .sp()
        .token(&quote::ipseccmd_store(store)?)
        .sp()
        .raw("-p")
        .sp()
        .quoted(&quote::ipseccmd_policy(name)?)
        .sp()
        .raw("-r")
        .sp()
        .quoted(&quote::cmd_quoted(
            "IPsec rule name",
            &format!("Block Inbound TCP {port} Rule"),
        )?)
        .sp()
        .raw("-f")
        .sp()
        .token(&quote::token("IPsec filter", &format!("*=0:{port}:TCP"))?)
        .sp()
        .words("-n BLOCK")
        .finish_cmd()
}

/// The netsh advfirewall command that blocks `ports` for any source.
fn firewall_block_command(ports: &PortRanges) -> Result<String, Refusal> {
    let list = ports.to_string();
    Line::new()
        .words("netsh advfirewall firewall add rule")
        .sp()
        .raw("name=")
        .quoted(&quote::cmd_quoted(
            quote::FW_RULE_NAME,
            &format!("Block RPC {list}"),
        )?)
        .sp()
        .words("dir=in action=block protocol=TCP localport=")
        .token(&quote::port_list(&list)?)
        .finish_cmd()
}

/// The fix of `range-port-unblocked`: the block for `ports`, in the IPsec policy in force (the
/// article's policy when there is none) or, for a firewall-only policy, as a firewall rule.
fn block_fix(lp: &LoadedPolicy, ports: &PortRanges) -> String {
    if lp.policy.has_layer(Layer::Ipsec) || !lp.policy.has_layer(Layer::Firewall) {
        let first = ports.iter().next().unwrap_or(EPM_PORT);
        let (name, store) = lp
            .ipsec_policies
            .iter()
            .find(|p| p.in_force)
            .map_or(("Block RPC Ports", "REG"), |p| {
                (p.name.as_str(), p.store.as_str())
            });
        match ipsec_block_command(name, store, first) {
            Ok(c) => format!("for each port: {c} (ports {ports})"),
            Err(r) => or_by_hand(
                Err(r),
                &format!(
                    "add a BLOCK filter for any source to the IPsec policy in force for each port ({ports})"
                ),
            ),
        }
    } else {
        or_by_hand(
            firewall_block_command(ports),
            &format!("add an inbound block rule for TCP {ports}"),
        )
    }
}

fn unblocked(lp: &LoadedPolicy, outsider: IpAddr, out: &mut Vec<Finding>) {
    let mut groups: Vec<(String, Option<crate::policy::RuleRef>, Vec<u16>, bool)> = Vec::new();
    let mut check = |port: u16, in_range: bool| {
        let d = lp.policy.decide(outsider, port, Proto::Tcp);
        if d.action == Action::Block {
            return;
        }
        let key = format!("{}|{:?}|{in_range}", d.action, d.rule);
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.2.push(port),
            None => groups.push((key, d.rule, vec![port], in_range)),
        }
    };
    check(EPM_PORT, false);
    let range = lp
        .range
        .as_ref()
        .filter(|r| r.kind != RangeKind::Invalid)
        .map(|r| r.ports.clone());
    if let Some(r) = &range {
        for p in r.iter().filter(|&p| p != EPM_PORT) {
            check(p, true);
        }
    }
    for (_, rule, ports, in_range) in groups {
        let set = runs(&ports);
        let what = if in_range {
            format!("port {set} of the RPC dynamic range")
        } else {
            "port 135 (the endpoint mapper)".to_string()
        };
        let why = match &rule {
            Some(r) => format!("the allow rule {r} lets them in"),
            None => "no rule blocks it".to_string(),
        };
        let mut f = Finding::new(
            Code::RangePortUnblocked,
            Severity::Error,
            format!(
                "TCP {what} is not blocked for hosts outside the allowed sources (checked with {outsider}): {why}"
            ),
            block_fix(lp, &set),
        );
        f = match (&rule, first_file(lp)) {
            (Some(r), _) => f.at(r.file.clone(), r.line),
            (None, Some(file)) if !in_range => {
                f.file = Some(file);
                f
            }
            _ => range_finding(lp, f),
        };
        out.push(f);
    }
}

/// The sources `hang_hazard` asks about: everybody else, and one host of each source an
/// allow names.
fn hang_sources(lp: &LoadedPolicy, outsider: IpAddr) -> Vec<(String, IpAddr)> {
    let mut sources: Vec<(String, IpAddr)> = vec![("hosts no rule names".into(), outsider)];
    let mut seen: std::collections::HashSet<IpAddr> = [outsider].into();
    for rule in &lp.policy.rules {
        if !matches!(
            rule.action,
            RuleAction::Pass
                | RuleAction::Negotiate {
                    clear_inbound: true
                }
        ) {
            continue;
        }
        for m in &rule.src {
            if let Some(ip) = m.sample()
                && seen.insert(ip)
            {
                sources.push((format!("{m}"), ip));
            }
        }
    }
    sources
}

fn hang_hazard(lp: &LoadedPolicy, outsider: IpAddr, out: &mut Vec<Finding>) {
    let Some(r) = lp.range.as_ref().filter(|r| r.kind != RangeKind::Invalid) else {
        return;
    };
    for (label, ip) in hang_sources(lp, outsider) {
        let d135 = lp.policy.decide(ip, EPM_PORT, Proto::Tcp);
        // A conditional decision (a rule scoped to a program or service, a field not
        // modelled) is neither passed nor denied: no hazard is claimed on its account.
        if d135.action == Action::Conditional {
            continue;
        }
        let mut passed = Vec::new();
        let mut denied = Vec::new();
        for p in r.ports.iter() {
            match lp.policy.decide(ip, p, Proto::Tcp).action {
                Action::Pass => passed.push(p),
                Action::Conditional => {}
                _ => denied.push(p),
            }
        }
        let to135 = d135.action == Action::Pass;
        if to135 && !denied.is_empty() {
            let mut f = Finding::new(
                Code::HangHazard,
                Severity::Error,
                format!(
                    "{label} (e.g. {ip}) may reach port 135 but not port {} of the RPC dynamic range {}: clients learn a port from the endpoint mapper, then cannot connect and applications stop responding",
                    runs(&denied),
                    r.ports
                ),
                format!(
                    "allow {label} to every port of {} as well, or to none of them and not to 135",
                    r.ports
                ),
            );
            if let Some(rule) = &d135.rule {
                f = f.at(rule.file.clone(), rule.line);
            }
            out.push(f);
        } else if !to135 && !passed.is_empty() {
            let first = passed[0];
            let d = lp.policy.decide(ip, first, Proto::Tcp);
            let mut f = Finding::new(
                Code::HangHazard,
                Severity::Warning,
                format!(
                    "{label} (e.g. {ip}) may reach port {} of the RPC dynamic range but not the endpoint mapper on 135: it cannot learn which port to use, so the opening is useless or meant for something else",
                    runs(&passed)
                ),
                format!("allow {label} to port 135 too, or remove its access to the range"),
            );
            if let Some(rule) = &d.rule {
                f = f.at(rule.file.clone(), rule.line);
            }
            out.push(f);
        }
    }
}

/// The ports `shadowed` asks about for an allow on `ports` (none for a keyword).
fn shadow_ports(lp: &LoadedPolicy, ports: &PortMatch) -> Vec<u16> {
    let range = lp.effective_range();
    match ports {
        PortMatch::Ports(p) => p.iter().take(4096).collect(),
        PortMatch::Any => std::iter::once(EPM_PORT)
            .chain(range.iter().take(4096))
            .collect(),
        PortMatch::RpcDynamic => range.iter().take(4096).collect(),
        PortMatch::Keyword(_) => Vec::new(),
    }
}

/// An allow `shadowed` asks about: a plain one. A rule scoped to a program or service, or
/// holding a field not modelled, applies only under its condition on ports rpcaudit may not
/// know (an app rule with no port, an unknown port keyword), so "never applies to these ports"
/// would not be true of it.
fn shadow_candidate(r: &super::Rule) -> bool {
    r.action == RuleAction::Pass && r.condition.is_empty()
}

fn shadowed(lp: &LoadedPolicy, out: &mut Vec<Finding>) {
    for rule in lp.policy.rules.iter().filter(|r| shadow_candidate(r)) {
        let ports = shadow_ports(lp, &rule.ports);
        if ports.is_empty() {
            continue;
        }
        let proto = match rule.proto {
            super::ProtoMatch::Number(17) => Proto::Udp,
            super::ProtoMatch::Number(6) | super::ProtoMatch::Any => Proto::Tcp,
            // ICMP and other protocols have no ports: the rule is not about RPC.
            super::ProtoMatch::Number(_) => continue,
        };
        for m in &rule.src {
            let ip = match m {
                AddrMatch::Any => outsider(lp),
                other => match other.sample() {
                    Some(ip) => ip,
                    None => continue,
                },
            };
            let mut blocked = Vec::new();
            let mut by = None;
            for &p in &ports {
                let d = lp.policy.decide_layer(
                    rule.layer,
                    Query {
                        src: ip,
                        port: p,
                        proto,
                        authenticated: false,
                    },
                );
                if d.action == Action::Block {
                    blocked.push(p);
                    by.get_or_insert(d.rule);
                }
            }
            if blocked.is_empty() {
                continue;
            }
            let by = by.flatten().map(|r| r.to_string()).unwrap_or_default();
            let why = match rule.layer {
                Layer::Firewall => {
                    "in Windows Firewall a block rule beats an allow rule whatever their specificity ([MS-FASP] FW_RULE_ACTION)"
                }
                Layer::Ipsec => {
                    "in an IPsec policy the more specific filter wins, and a block wins a tie"
                }
            };
            let fix = match rule.layer {
                Layer::Firewall => "narrow the block rule so it does not cover these sources (e.g. block RemoteAddress = every range except the allowed subnet), or make the allow an authenticated allow-bypass (-OverrideBlockRules)".to_string(),
                Layer::Ipsec => "make the block filter less specific than the pass filter, or remove it".to_string(),
            };
            out.push(
                Finding::new(
                    Code::AllowShadowed,
                    Severity::Error,
                    format!("allow rule \"{}\" for {m} never applies to port {}: {by} blocks the same traffic, and {why}", rule.origin.name, runs(&blocked)),
                    fix,
                )
                .at(rule.origin.file.clone(), rule.origin.line),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn name_ports_ignores_addresses_and_ordinals() {
        assert_eq!(name_ports("Block Inbound TCP 135 Rule").to_string(), "135");
        assert_eq!(
            name_ports("Allow Inbound TCP Port 135 from 10.1.1.0 Rule").to_string(),
            "135"
        );
        assert_eq!(
            name_ports("RPC 135,5001-5021 Rule 2").to_string(),
            "135,5001-5021"
        );
        assert_eq!(name_ports("Allow 10.1.1.0/24").to_string(), "");
        assert_eq!(name_ports("KB908472").to_string(), "");
    }

    fn load(text: &str) -> LoadedPolicy {
        crate::policy::build(
            vec![crate::policy::parse_text("p.cmd", text.as_bytes())],
            &crate::policy::LoadOptions::default(),
        )
    }

    fn fix_of(lp: &LoadedPolicy, code: Code) -> String {
        lint(lp)
            .into_iter()
            .find(|f| f.code == code)
            .map(|f| f.fix)
            .unwrap_or_default()
    }

    const BLOCK_135: &str = "-r \"Block Inbound TCP 135 Rule\" -f *=0:135:TCP -n BLOCK\r\n";

    #[test]
    fn assign_fixes_are_written_by_the_quoting_rules() {
        let lp = load(&format!(
            "ipseccmd -w DS:corp.example.com -p \"Block RPC Ports\" {BLOCK_135}"
        ));
        assert_eq!(
            fix_of(&lp, Code::PolicyUnassigned),
            "ipseccmd.exe -w DS:corp.example.com -p \"Block RPC Ports\" -x"
        );
        let lp = load(
            "netsh ipsec static add policy name=\"Block RPC Ports\"\r\n\
             netsh ipsec static add filterlist name=L\r\n\
             netsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=TCP dstport=135\r\n\
             netsh ipsec static add filteraction name=B action=block\r\n\
             netsh ipsec static add rule name=R policy=\"Block RPC Ports\" filterlist=L filteraction=B\r\n",
        );
        assert_eq!(
            fix_of(&lp, Code::PolicyUnassigned),
            "netsh ipsec static set policy name=\"Block RPC Ports\" assign=yes"
        );
    }

    #[test]
    fn a_store_or_name_no_command_can_carry_leaves_the_fix_in_prose() {
        // The store as the script wrote it: `-w "DS:x & calc.exe & rem"`.
        let lp = load(&format!(
            "ipseccmd -w \"DS:x & calc.exe & rem\" -p \"Block RPC Ports\" {BLOCK_135}"
        ));
        let fix = fix_of(&lp, Code::PolicyUnassigned);
        assert_eq!(
            fix,
            "assign the policy by hand: rpcaudit writes no command for it, because the IPsec policy store names a domain that is not a DNS name"
        );
        // Names as a store export can hold them.
        for (name, why) in [
            ("\" & calc.exe & rem \"", "holds '\\u{22}', which ends"),
            ("%COMSPEC%", "holds '\\u{25}', which expands"),
            ("R\u{e8}gle", "holds U+00E8 (not ASCII)"),
            ("Block RPC Ports:5", "polling interval"),
        ] {
            let mut lp = load("ipseccmd -w REG -p P -r B -f *=0:445:TCP -n BLOCK\r\n");
            for p in &mut lp.ipsec_policies {
                p.name = name.to_string();
            }
            let fix = fix_of(&lp, Code::PolicyUnassigned);
            assert!(fix.starts_with("assign the policy by hand"), "{fix}");
            assert!(fix.contains(why), "{fix}");
            assert!(fix.is_ascii() && !fix.contains(name), "{fix}");
            // The block for a port no rule blocks names the policy in force.
            for p in &mut lp.ipsec_policies {
                p.in_force = true;
                p.assigned = Some(1);
            }
            let unblocked: Vec<String> = lint(&lp)
                .into_iter()
                .filter(|f| f.code == Code::RangePortUnblocked)
                .map(|f| f.fix)
                .collect();
            assert!(!unblocked.is_empty(), "{name}");
            for fix in &unblocked {
                assert!(
                    fix.starts_with(
                        "add a BLOCK filter for any source to the IPsec policy in force for each port"
                    ),
                    "{fix}"
                );
                assert!(fix.is_ascii() && !fix.contains(name), "{fix}");
            }
        }
    }

    proptest! {
        #[test]
        fn name_ports_never_panics(s in ".{0,60}") {
            let _ = name_ports(&s);
        }
    }
}
