//! `netsh ipsec static` scripts (Windows Server 2003): policies, filter lists, filters,
//! filter actions and rules that tie them together, `set policy ... assign=yes`. Names are
//! resolved when the file ends (a filter may be added to a list after the rule that uses it),
//! and the result lands in the same [`IpsecStore`] ipseccmd writes.
//!
//! Syntax as the "Netsh commands for IPsec" reference gives it: `add filter filterlist=
//! srcaddr=any|me|IP|DNS dstaddr=... srcmask= dstmask= (mask or prefix) protocol= srcport=
//! dstport= mirrored=yes|no`; `add filteraction name= action=permit|block|negotiate
//! inpass= soft=`; `add rule name= policy= filterlist= filteraction=`; `add policy name=
//! assign=`; `set policy name= assign=`; `delete policy name=` / `delete all`.

use super::ipsec::{Filter, IpsecRule, IpsecStore};
use crate::finding::{Code, Severity};
use crate::inert::excerpt;
use crate::policy::model::address::{self, AddrMatch};
use crate::policy::model::error::ValueError;
use crate::policy::model::lint::check_name_ports;
use crate::policy::model::sink::Sink;
use crate::policy::model::{Dialect, ProtoMatch, RuleAction};
use crate::ports::PortRanges;
use crate::script::quote::{Line, cmd_quoted, or_by_hand};

/// The fix of a rule naming a filter list or action the script never adds: the `netsh ipsec
/// static add` command for it, the name written by the quoting rules (or what to do by hand).
fn add_it(object: &str, name: &str, tail: &str) -> String {
    let what = format!("IPsec {object} name");
    let command = cmd_quoted(&what, name).and_then(|q| {
        let line = Line::new()
            .words("netsh ipsec static add")
            .sp()
            .raw(object)
            .sp()
            .raw("name=")
            .quoted(&q);
        match tail {
            "" => line,
            _ => line.sp().words(tail),
        }
        .finish_cmd()
    });
    match command {
        Ok(c) => format!("add it: {c}"),
        Err(r) => or_by_hand(Err(r), &format!("add the {object}")),
    }
}

#[derive(Debug, Clone)]
struct RuleDef {
    name: String,
    policy: String,
    filterlist: String,
    filteraction: String,
    line: usize,
}

/// What a file said, before names are resolved.
#[derive(Debug, Clone, Default)]
pub struct NetshIpsec {
    filterlists: Vec<(String, Vec<Filter>)>,
    actions: Vec<(String, RuleAction)>,
    policies: Vec<(String, usize, Option<usize>)>,
    rules: Vec<RuleDef>,
}

fn kv(words: &[String]) -> Result<Vec<(String, String)>, ValueError> {
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .ok_or_else(|| ValueError::NotKeyValue(excerpt(w).into_owned()))
        })
        .collect()
}

fn get<'a>(ps: &'a [(String, String)], k: &str) -> Option<&'a str> {
    ps.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
}

fn yes(v: Option<&str>) -> bool {
    matches!(
        v.map(|s| s.to_ascii_lowercase()).as_deref(),
        Some("yes" | "y")
    )
}

fn find_ci<'a, T>(v: &'a mut [(String, T)], name: &str) -> Option<&'a mut T> {
    v.iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| t)
}

impl NetshIpsec {
    /// One `ipsec static ...` command: `words` start after `static`.
    pub fn apply(&mut self, sink: &mut Sink, line: usize, words: &[String]) {
        let verb = words
            .first()
            .map(|w| w.to_ascii_lowercase())
            .unwrap_or_default();
        let object = words
            .get(1)
            .map(|w| w.to_ascii_lowercase())
            .unwrap_or_default();
        if verb == "delete" && object == "all" {
            *self = NetshIpsec::default();
            return;
        }
        let ps = match kv(words.get(2..).unwrap_or(&[])) {
            Ok(ps) => ps,
            Err(e) => {
                if matches!(verb.as_str(), "add" | "set" | "delete") {
                    sink.parse_error(
                        line,
                        format!("netsh ipsec static {verb} {object}: {e}"),
                        "write parameters as name=value, quoting values with spaces",
                    );
                }
                return;
            }
        };
        let name = get(&ps, "name").map(str::to_string);
        match (verb.as_str(), object.as_str()) {
            ("add", "policy") => {
                let Some(n) = name else {
                    return missing(sink, line, "add policy", "name");
                };
                let assigned = yes(get(&ps, "assign")).then_some(line);
                if assigned.is_some() {
                    self.unassign_all();
                }
                self.policies.push((n, line, assigned));
            }
            ("set", "policy") => {
                let Some(n) = name else {
                    return missing(sink, line, "set policy", "name");
                };
                if let Some(a) = get(&ps, "assign") {
                    let on = yes(Some(a));
                    if on {
                        self.unassign_all();
                    }
                    if let Some(p) = self
                        .policies
                        .iter_mut()
                        .find(|p| p.0.eq_ignore_ascii_case(&n))
                    {
                        p.2 = on.then_some(line);
                    } else {
                        // A policy this script did not create: nothing we can model.
                        self.policies.push((n, line, on.then_some(line)));
                    }
                }
            }
            ("delete", "policy") => {
                if let Some(n) = name {
                    self.policies.retain(|p| !p.0.eq_ignore_ascii_case(&n));
                    self.rules.retain(|r| !r.policy.eq_ignore_ascii_case(&n));
                }
            }
            ("add", "filterlist") => {
                let Some(n) = name else {
                    return missing(sink, line, "add filterlist", "name");
                };
                if find_ci(&mut self.filterlists, &n).is_none() {
                    self.filterlists.push((n, Vec::new()));
                }
            }
            ("add", "filter") => {
                let Some(fl) = get(&ps, "filterlist").map(str::to_string) else {
                    return missing(sink, line, "add filter", "filterlist");
                };
                let Some(f) = parse_filter(&ps, sink, line) else {
                    return;
                };
                match find_ci(&mut self.filterlists, &fl) {
                    Some(list) => list.push(f),
                    // netsh creates the list when a filter names a new one.
                    None => self.filterlists.push((fl, vec![f])),
                }
            }
            ("add", "filteraction") => {
                let Some(n) = name else {
                    return missing(sink, line, "add filteraction", "name");
                };
                let action = match get(&ps, "action").map(str::to_ascii_lowercase).as_deref() {
                    Some("permit") => RuleAction::Pass,
                    Some("block") => RuleAction::Block,
                    Some("negotiate") | None => RuleAction::Negotiate {
                        clear_inbound: yes(get(&ps, "inpass")) || yes(get(&ps, "soft")),
                    },
                    Some(other) => {
                        sink.parse_error(
                            line,
                            format!(
                                "filteraction action '{other}' is not permit, block or negotiate",
                                other = excerpt(other)
                            ),
                            "write action=block or action=permit",
                        );
                        return;
                    }
                };
                self.actions.push((n, action));
            }
            ("add", "rule") => {
                let (Some(n), Some(p), Some(fl), Some(fa)) = (
                    name,
                    get(&ps, "policy"),
                    get(&ps, "filterlist"),
                    get(&ps, "filteraction"),
                ) else {
                    return missing(
                        sink,
                        line,
                        "add rule",
                        "name, policy, filterlist or filteraction",
                    );
                };
                self.rules.push(RuleDef {
                    name: n,
                    policy: p.to_string(),
                    filterlist: fl.to_string(),
                    filteraction: fa.to_string(),
                    line,
                });
            }
            _ => {}
        }
    }

    fn unassign_all(&mut self) {
        // One policy is assigned at a time.
        self.policies.iter_mut().for_each(|p| p.2 = None);
    }

    /// Resolve names and write the policies into `store`.
    pub fn finish(mut self, store: &mut IpsecStore, sink: &mut Sink) {
        for (name, line, assigned) in &self.policies {
            store.policy_mut(name, "REG", *line, Dialect::NetshIpsec);
            if let Some(at) = assigned {
                store.assign(name, "REG", *at);
            }
        }
        for r in std::mem::take(&mut self.rules) {
            let Some(filters) = find_ci(&mut self.filterlists, &r.filterlist).cloned() else {
                sink.parse_error(
                    r.line,
                    format!(
                        "rule \"{}\" names filter list \"{}\", which the script never adds",
                        r.name, r.filterlist
                    ),
                    add_it("filterlist", &r.filterlist, ""),
                );
                continue;
            };
            let Some(action) = find_ci(&mut self.actions, &r.filteraction).copied() else {
                sink.parse_error(
                    r.line,
                    format!(
                        "rule \"{}\" names filter action \"{}\", which the script never adds",
                        r.name, r.filteraction
                    ),
                    add_it("filteraction", &r.filteraction, "action=block"),
                );
                continue;
            };
            if filters.iter().all(|f| f.dst_port.is_some()) && !filters.is_empty() {
                let ports = PortRanges::from_ranges(filters.iter().filter_map(|f| f.dst_port));
                check_name_ports(
                    sink,
                    r.line,
                    &r.name,
                    &ports,
                    &format!("filter list \"{}\"", r.filterlist),
                );
            }
            let pol = store.policy_mut(&r.policy, "REG", r.line, Dialect::NetshIpsec);
            pol.rules.push(IpsecRule {
                name: r.name,
                filters,
                action,
                line: r.line,
                dialect: Dialect::NetshIpsec,
                file: sink.file.clone(),
            });
        }
    }
}

fn missing(sink: &mut Sink, line: usize, what: &str, param: &str) {
    sink.parse_error(
        line,
        format!("netsh ipsec static {what} needs {param}="),
        format!("add {param}=... as the netsh ipsec reference shows"),
    );
}

fn parse_addr(
    v: &str,
    mask: Option<&str>,
    sink: &mut Sink,
    line: usize,
) -> Result<AddrMatch, ValueError> {
    match v.to_ascii_lowercase().as_str() {
        "any" => return Ok(AddrMatch::Any),
        "me" => return Ok(AddrMatch::Me),
        "dns" | "wins" | "dhcp" | "gateway" => {
            return Ok(AddrMatch::Keyword {
                name: v.to_string(),
            });
        }
        _ => {}
    }
    ValueError::dash_in(v)?;
    let written = match mask {
        Some(m) if !v.contains('-') => format!("{v}/{m}"),
        _ => v.to_string(),
    };
    let (m, notes) = if address::looks_like_dns(v) {
        address::parse_ipsecpol(v)
    } else {
        address::parse_firewall(&written)
    }?;
    address::report_notes(sink, line, &written, &m, &notes);
    Ok(m)
}

fn parse_filter(ps: &[(String, String)], sink: &mut Sink, line: usize) -> Option<Filter> {
    fn bad(sink: &mut Sink, line: usize, k: &str, e: ValueError) -> Option<Filter> {
        sink.about(k);
        if matches!(e, ValueError::TypographicDash { .. }) {
            sink.push(
                Code::TypographicDash,
                Severity::Error,
                line,
                format!("{k}: {e}; netsh rejects the filter"),
                "replace the dash with an ASCII '-'",
            );
        } else {
            sink.parse_error(
                line,
                format!("netsh ipsec static add filter {k}: {e}"),
                "fix the value as the netsh ipsec reference describes",
            );
        }
        None
    }
    let (Some(src), Some(dst)) = (get(ps, "srcaddr"), get(ps, "dstaddr")) else {
        return bad(
            sink,
            line,
            "srcaddr/dstaddr",
            ValueError::Missing("both are required"),
        );
    };
    let src_m = match parse_addr(src, get(ps, "srcmask"), sink, line) {
        Ok(m) => m,
        Err(e) => return bad(sink, line, "srcaddr", e),
    };
    let dst_m = match parse_addr(dst, get(ps, "dstmask"), sink, line) {
        Ok(m) => m,
        Err(e) => return bad(sink, line, "dstaddr", e),
    };
    let port = |k: &str| -> Result<Option<u16>, ValueError> {
        match get(ps, k) {
            None => Ok(None),
            Some(v) => match v.parse::<u16>() {
                Ok(0) => Ok(None),
                Ok(p) => Ok(Some(p)),
                Err(_) => Err(ValueError::not_one_of("", v, "is not a port 0-65535")),
            },
        }
    };
    let src_port = match port("srcport") {
        Ok(p) => p,
        Err(e) => return bad(sink, line, "srcport", e),
    };
    let dst_port = match port("dstport") {
        Ok(p) => p,
        Err(e) => return bad(sink, line, "dstport", e),
    };
    let proto = match get(ps, "protocol") {
        None => ProtoMatch::Any,
        Some(p) => match ProtoMatch::parse(p) {
            Some(m) => m,
            None => {
                return bad(
                    sink,
                    line,
                    "protocol",
                    ValueError::not_one_of("", p, "is not ANY, TCP, UDP, ICMP, RAW or a number"),
                );
            }
        },
    };
    let mirrored = !matches!(
        get(ps, "mirrored").map(str::to_ascii_lowercase).as_deref(),
        Some("no" | "n")
    );
    let text: Vec<String> = ps
        .iter()
        .filter(|(k, _)| k != "filterlist" && k != "description")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some(Filter {
        src: src_m,
        src_port: src_port.map(|p| (p, p)),
        dst: dst_m,
        dst_port: dst_port.map(|p| (p, p)),
        proto,
        mirrored,
        text: text.join(" "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::text::split_words;

    fn run(lines: &[&str]) -> (IpsecStore, Sink) {
        let mut n = NetshIpsec::default();
        let mut sink = Sink::new("n.cmd");
        for (i, l) in lines.iter().enumerate() {
            let w = split_words(l);
            n.apply(&mut sink, i + 1, &w[3..]);
        }
        let mut store = IpsecStore::default();
        n.finish(&mut store, &mut sink);
        (store, sink)
    }

    const SCRIPT: &[&str] = &[
        r#"netsh ipsec static add policy name="Block RPC Ports" description="KB908472" assign=no"#,
        r#"netsh ipsec static add filterlist name="RPC 135""#,
        r#"netsh ipsec static add filteraction name="Block" action=block"#,
        r#"netsh ipsec static add filteraction name="Permit" action=permit"#,
        r#"netsh ipsec static add filter filterlist="RPC 135" srcaddr=any dstaddr=me protocol=TCP dstport=135"#,
        r#"netsh ipsec static add filter filterlist="Subnet 135" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=135"#,
        r#"netsh ipsec static add rule name="Block Inbound TCP 135 Rule" policy="Block RPC Ports" filterlist="RPC 135" filteraction="Block""#,
        r#"netsh ipsec static add rule name="Allow Inbound TCP Port 135 from 10.1.1.0 Rule" policy="Block RPC Ports" filterlist="Subnet 135" filteraction="Permit""#,
        r#"netsh ipsec static set policy name="Block RPC Ports" assign=yes"#,
    ];

    #[test]
    fn builds_an_assigned_policy() {
        let (store, sink) = run(SCRIPT);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        let force = store.in_force();
        assert_eq!(force.len(), 1);
        assert_eq!(force[0].rules.len(), 2);
        assert_eq!(force[0].assigned, Some(9));
        let rules = store.to_rules();
        assert!(
            rules
                .iter()
                .any(|r| r.origin.name.starts_with("Allow") && r.src[0].specificity() == 24)
        );
    }

    #[test]
    fn unassigned_and_unresolved() {
        let (store, _) = run(&SCRIPT[..8]);
        assert!(store.in_force().is_empty());
        let (_, sink) = run(&[
            r#"netsh ipsec static add policy name=P"#,
            r#"netsh ipsec static add rule name=R policy=P filterlist=Nope filteraction=Block"#,
        ]);
        assert_eq!(sink.findings[0].code, Code::ParseError);
        assert_eq!(sink.findings[0].line, Some(2));
    }
}
