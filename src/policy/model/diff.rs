//! `policy diff` (and `audit --store`): where what a host holds (a store export or a listing)
//! and what the script intended disagree. Two [`LoadedPolicy`] values in, `store-disagrees`
//! findings out, each naming both sides. Pure: the CLI loads the files, then [`beside`].
//!
//! Two comparisons:
//! - rules, by name (case-insensitive) among the inbound rules in force on each side: a rule
//!   of the script the store lacks (error), a rule both hold that matches other traffic or
//!   acts otherwise (error), a rule of the store the script does not know (warning: a host
//!   holds built-in rules no script wrote; when it changes a decision, the decision says so);
//! - decisions, for every connection that tells the rules apart: each source address a rule
//!   names (inside, and just outside, its subnet or range, plus one address no rule names)
//!   against each port a rule names (and the ports either side of each range), TCP and UDP.
//!   A connection the script decides (pass or block) that the store decides otherwise is an
//!   error; where no rule of the script matches, the script states no intent and the store's
//!   decision is not compared. Connections that disagree the same way (same actions, same
//!   deciding rules) are reported once, with how many there are.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use super::address::AddrMatch;
use super::{Decision, PortMatch, Proto, Rule};
use crate::finding::{Code, Finding, Severity};
use crate::inert::excerpt;
use crate::policy::LoadedPolicy;

/// At most this many source addresses and ports are asked about (sources × ports × 2
/// protocols queries).
pub const MAX_SOURCES: usize = 256;
pub const MAX_PORTS: usize = 512;

/// A source no KB908472 rule names (TEST-NET-3).
const OUTSIDER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 77);

fn v4_step(a: IpAddr, up: bool) -> Option<IpAddr> {
    match a {
        IpAddr::V4(v) => {
            let n = u32::from(v);
            let m = if up {
                n.checked_add(1)?
            } else {
                n.checked_sub(1)?
            };
            Some(IpAddr::V4(Ipv4Addr::from(m)))
        }
        IpAddr::V6(_) => None,
    }
}

fn sources(rules: &[&Rule]) -> Vec<IpAddr> {
    let mut out: BTreeSet<IpAddr> = BTreeSet::new();
    out.insert(IpAddr::V4(OUTSIDER));
    for r in rules {
        for m in &r.src {
            match m {
                AddrMatch::Masked { addr, mask, .. } => {
                    if let (IpAddr::V4(a), IpAddr::V4(k)) = (addr, mask) {
                        let net = u32::from(*a) & u32::from(*k);
                        let last = net | !u32::from(*k);
                        for x in [
                            Some(net),
                            net.checked_add(1),
                            Some(last),
                            net.checked_sub(1),
                            last.checked_add(1),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            out.insert(IpAddr::V4(Ipv4Addr::from(x)));
                        }
                    } else if let Some(s) = m.sample() {
                        out.insert(s);
                    }
                }
                AddrMatch::Range { first, last } => {
                    out.insert(*first);
                    out.insert(*last);
                    out.extend(v4_step(*first, false));
                    out.extend(v4_step(*last, true));
                }
                _ => {}
            }
        }
    }
    out.into_iter().take(MAX_SOURCES).collect()
}

fn ports(rules: &[&Rule], dynamic: &[(u16, u16)]) -> Vec<u16> {
    let mut out: BTreeSet<u16> = BTreeSet::new();
    out.insert(135);
    let mut add = |a: u16, b: u16| {
        out.insert(a);
        out.insert(b);
        out.extend(a.checked_sub(1));
        out.extend(b.checked_add(1));
        // Short ranges (the article's 21 ports) are asked about whole.
        if b.saturating_sub(a) <= 64 {
            out.extend(a..=b);
        }
    };
    for &(a, b) in dynamic {
        add(a, b);
    }
    for r in rules {
        if let PortMatch::Ports(p) = &r.ports {
            for &(a, b) in p.ranges() {
                add(a, b);
            }
        }
    }
    out.remove(&0);
    out.into_iter().take(MAX_PORTS).collect()
}

/// What a rule matches and does, for comparing rules of one name.
fn shape(r: &Rule) -> String {
    let src: Vec<String> = r.src.iter().map(|s| s.to_string()).collect();
    format!(
        "{:?} {} from {} to {} ({})",
        r.action,
        match r.proto {
            super::ProtoMatch::Any => "any protocol".to_string(),
            super::ProtoMatch::Number(n) => format!("protocol {n}"),
        },
        src.join(","),
        r.ports,
        match r.layer {
            super::Layer::Ipsec => "IPsec",
            super::Layer::Firewall => "firewall",
        }
    )
}

fn shapes<'a>(rules: &[&'a Rule], name: &str) -> (Vec<String>, Option<&'a Rule>) {
    let mine: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| r.origin.name.eq_ignore_ascii_case(name))
        .collect();
    let mut s: Vec<String> = mine.iter().map(|r| shape(r)).collect();
    s.sort();
    s.dedup();
    (s, mine.first().copied())
}

fn at(f: Finding, r: Option<&Rule>) -> Finding {
    match r {
        Some(r) => f.at(r.origin.file.clone(), r.origin.line),
        None => f,
    }
}

fn side(d: &Decision) -> String {
    match &d.rule {
        Some(r) => format!(
            "{} ({} {}:{} \"{}\")",
            d.action,
            r.dialect,
            excerpt(&r.file),
            r.line,
            excerpt(&r.name)
        ),
        None => format!("{} (no rule matches)", d.action),
    }
}

/// Connections decided the same two ways: (script side, store side), the first connection,
/// how many.
type Group = ((String, String), (IpAddr, u16, Proto), usize);

/// The disagreements between the intended `script` and the configured `store`.
pub fn diff(script: &LoadedPolicy, store: &LoadedPolicy) -> Vec<Finding> {
    let mut out = Vec::new();
    let a: Vec<&Rule> = script.policy.rules.iter().collect();
    let b: Vec<&Rule> = store.policy.rules.iter().collect();
    let names = |rules: &[&Rule]| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        for r in rules {
            if !seen.iter().any(|n| n.eq_ignore_ascii_case(&r.origin.name)) {
                seen.push(r.origin.name.clone());
            }
        }
        seen
    };
    let (a_names, b_names) = (names(&a), names(&b));
    for n in &a_names {
        let (sa, ra) = shapes(&a, n);
        let (sb, rb) = shapes(&b, n);
        if sb.is_empty() {
            out.push(at(
                Finding::new(
                    Code::StoreDisagrees,
                    Severity::Error,
                    format!(
                        "rule \"{}\" of the script is not in force in the store: script {}; store: no rule of that name",
                        excerpt(n),
                        sa.join("; ")
                    ),
                    "apply the script on the host again, or export the store again if it was changed since",
                ),
                ra,
            ));
        } else if sa != sb {
            let where_b = rb
                .map(|r| format!("{}:{}", r.origin.file, r.origin.line))
                .unwrap_or_default();
            out.push(at(
                Finding::new(
                    Code::StoreDisagrees,
                    Severity::Error,
                    format!(
                        "rule \"{}\" differs: script {}; store ({where_b}) {}",
                        excerpt(n),
                        sa.join("; "),
                        sb.join("; ")
                    ),
                    "make the host's rule what the script says (or change the script if the host is right)",
                ),
                ra,
            ));
        }
    }
    for n in b_names
        .iter()
        .filter(|n| !a_names.iter().any(|x| x.eq_ignore_ascii_case(n)))
    {
        let (sb, rb) = shapes(&b, n);
        out.push(at(
            Finding::new(
                Code::StoreDisagrees,
                Severity::Warning,
                format!(
                    "rule \"{}\" is in force in the store but not in the script: {}",
                    excerpt(n),
                    sb.join("; ")
                ),
                "check whether the rule belongs on the host (built-in rules do); a decision it changes is reported as an error",
            ),
            rb,
        ));
    }
    // Decisions.
    let mut both = a.clone();
    both.extend(b.iter().copied());
    let dynamic: Vec<(u16, u16)> = script
        .policy
        .rpc_dynamic
        .ranges()
        .iter()
        .chain(store.policy.rpc_dynamic.ranges())
        .copied()
        .collect();
    let srcs = sources(&both);
    let ps = ports(&both, &dynamic);
    // (script action/rule, store action/rule) → first query and count.
    let mut groups: Vec<Group> = Vec::new();
    for &src in &srcs {
        for &port in &ps {
            for proto in [Proto::Tcp, Proto::Udp] {
                let da = script.policy.decide(src, port, proto);
                let db = store.policy.decide(src, port, proto);
                // Where the script decides nothing it states no intent (a host's built-in
                // rules are not disagreements); the extra rules are reported above.
                if da.action == db.action || da.action == super::Action::None {
                    continue;
                }
                let key = (side(&da), side(&db));
                match groups.iter_mut().find(|(k, _, _)| *k == key) {
                    Some((_, _, n)) => *n += 1,
                    None => groups.push((key, (src, port, proto), 1)),
                }
            }
        }
    }
    for ((sa, sb), (src, port, proto), n) in groups {
        let more = if n > 1 {
            format!(
                " (and {} more connections decided the same two ways)",
                n - 1
            )
        } else {
            String::new()
        };
        let d = script.policy.decide(src, port, proto);
        let mut f = Finding::new(
            Code::StoreDisagrees,
            Severity::Error,
            format!("{src} → {port}/{proto}: the script decides {sa}, the store {sb}{more}"),
            "make the host's rules what the script says, then export the store again and re-run policy diff",
        );
        if let Some(r) = d.rule {
            f = f.at(r.file, r.line);
        }
        out.push(f);
    }
    // A host holds hundreds of built-in rules: at most 100 findings per file and kind.
    crate::finding::cap_per_code(out)
}

/// A store read for comparing with `script`: a store export rarely carries Rpc\Internet, so
/// when the store files configure no range, the keyword `RPC` means the script's range.
pub fn beside(mut store: LoadedPolicy, script: &LoadedPolicy) -> LoadedPolicy {
    if store.range.is_none() {
        store.policy.rpc_dynamic = script.effective_range();
    }
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{LoadOptions, build, parse_text};

    fn load(name: &str, text: &str) -> LoadedPolicy {
        build(
            vec![parse_text(name, text.as_bytes())],
            &LoadOptions::default(),
        )
    }

    const SCRIPT: &str = "ipseccmd -w REG -p P -r \"Block 135\" -f *=0:135:TCP -n BLOCK\r\n\
        ipseccmd -w REG -p P -r \"Allow 135\" -f 10.1.1.0/255.255.255.0=0:135:TCP -n PASS\r\n\
        ipseccmd -w REG -p P -x\r\n";

    #[test]
    fn the_same_policy_agrees() {
        assert_eq!(diff(&load("a.cmd", SCRIPT), &load("b.cmd", SCRIPT)), vec![]);
    }

    #[test]
    fn each_kind_of_disagreement() {
        // The store lacks the allow, widens nothing, and holds an extra rule.
        let store = "ipseccmd -w REG -p P -r \"Block 135\" -f *=0:135:TCP -n BLOCK\r\n\
            ipseccmd -w REG -p P -r \"Extra\" -f *=0:445:TCP -n BLOCK\r\n\
            ipseccmd -w REG -p P -x\r\n";
        let f = diff(&load("a.cmd", SCRIPT), &load("host.cmd", store));
        let missing = f
            .iter()
            .find(|x| {
                x.message
                    .contains("\"Allow 135\" of the script is not in force")
            })
            .unwrap();
        assert_eq!(missing.severity, Severity::Error);
        assert_eq!(missing.line, Some(2));
        let extra = f
            .iter()
            .find(|x| x.message.contains("\"Extra\" is in force in the store"))
            .unwrap();
        assert_eq!(extra.severity, Severity::Warning);
        let decision = f
            .iter()
            .find(|x| x.message.contains("10.1.1.0 → 135/tcp"))
            .unwrap();
        assert!(
            decision
                .message
                .contains("pass (ipseccmd a.cmd:2 \"Allow 135\")"),
            "{}",
            decision.message
        );
        assert!(
            decision
                .message
                .contains("block (ipseccmd host.cmd:1 \"Block 135\")"),
            "{}",
            decision.message
        );
        assert!(
            decision.message.contains("more connections"),
            "{}",
            decision.message
        );
        // A rule of the same name that matches other traffic.
        let store = SCRIPT.replace("10.1.1.0/255.255.255.0", "10.1.0.0/255.255.0.0");
        let f = diff(&load("a.cmd", SCRIPT), &load("host.cmd", &store));
        let changed = f
            .iter()
            .find(|x| x.message.starts_with("rule \"Allow 135\" differs"))
            .unwrap();
        assert!(
            changed.message.contains("10.1.1.0/24") && changed.message.contains("10.1.0.0/16"),
            "{}",
            changed.message
        );
        assert!(
            f.iter()
                .any(|x| x.message.starts_with("10.1.0.0 → 135/tcp")),
            "{f:?}"
        );
        assert!(f.iter().all(|x| x.code == Code::StoreDisagrees));
    }
}
