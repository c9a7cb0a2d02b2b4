//! ipsecpol.exe / ipseccmd.exe command lines (KB908472's own tool), read into the IPsec policy
//! store that `netsh ipsec static` shares, then turned into inbound [`Rule`]s for the policy
//! that is assigned at the end of the script.
//!
//! Syntax (Windows XP ipseccmd reference, learn.microsoft.com/previous-versions bb490922;
//! ipsecpol is the same): static mode `-w REG|DS:domain -p "policy[:poll]" -r "rule"
//! -f FILTER... -n ACTION... [-x|-y|-o]`; dynamic mode (no `-w`) adds rules in force at once,
//! `-u` removes them. A filter is `Src[/Mask][:Port]=Dst[/Mask][:Port][:Proto]`: `=` mirrored,
//! `+` one way; `*` any address, `0` this computer; mask dotted or a prefix length; port 0 or
//! absent: any; protocol TCP, UDP, ICMP, RAW or a number. Actions: `BLOCK`, `PASS`, `INPASS`
//! (accept clear inbound), or security methods (`ESP[3DES,SHA]`, ...) to negotiate.
//!
//! A command with a switch the tool does not recognise (a typographic `–x` pasted from a web
//! page) is refused by the tool as a whole, so we do not carry it out either.

use crate::inert::excerpt;
use crate::policy::model::address::{self, AddrMatch};
use crate::policy::model::error::ValueError;
use crate::policy::model::lint::check_name_ports;
use crate::policy::model::sink::Sink;
use crate::policy::model::{Dialect, Layer, PortMatch, ProtoMatch, Rule, RuleAction, RuleRef};
use crate::policy::text::is_typographic_dash;
use crate::ports::PortRanges;

/// One filter as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub src: AddrMatch,
    /// An inclusive range of ports (one port in scripts; a range in the store's version-2
    /// filters); `None`: any port.
    pub src_port: Option<(u16, u16)>,
    pub dst: AddrMatch,
    pub dst_port: Option<(u16, u16)>,
    pub proto: ProtoMatch,
    pub mirrored: bool,
    pub text: String,
}

/// A rule of a policy: filters and what to do with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsecRule {
    pub name: String,
    pub filters: Vec<Filter>,
    pub action: RuleAction,
    pub line: usize,
    pub dialect: Dialect,
    /// The file the rule was written in.
    pub file: String,
}

/// A named policy in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpsecPolicy {
    pub name: String,
    /// `REG` (local registry) or `DS:domain`.
    pub store: String,
    pub rules: Vec<IpsecRule>,
    /// Line of the command that assigned it, if it is assigned at the end.
    pub assigned: Option<usize>,
    pub line: usize,
    pub dialect: Dialect,
}

/// The IPsec policies one file leaves behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpsecStore {
    pub policies: Vec<IpsecPolicy>,
    /// Dynamic-mode rules: in force without assignment.
    pub dynamic: Vec<IpsecRule>,
}

impl IpsecStore {
    pub fn policy_mut(
        &mut self,
        name: &str,
        store: &str,
        line: usize,
        dialect: Dialect,
    ) -> &mut IpsecPolicy {
        let idx =
            match self.policies.iter().position(|p| {
                p.name.eq_ignore_ascii_case(name) && p.store.eq_ignore_ascii_case(store)
            }) {
                Some(i) => i,
                None => {
                    self.policies.push(IpsecPolicy {
                        name: name.to_string(),
                        store: store.to_string(),
                        rules: Vec::new(),
                        assigned: None,
                        line,
                        dialect,
                    });
                    self.policies.len() - 1
                }
            };
        &mut self.policies[idx]
    }

    /// Assign a policy: only one policy per store can be assigned, so the others lose it.
    pub fn assign(&mut self, name: &str, store: &str, line: usize) {
        for p in &mut self.policies {
            if p.store.eq_ignore_ascii_case(store) {
                p.assigned = if p.name.eq_ignore_ascii_case(name) {
                    Some(line)
                } else {
                    None
                };
            }
        }
    }

    pub fn unassign(&mut self, name: &str, store: &str) {
        for p in &mut self.policies {
            if p.store.eq_ignore_ascii_case(store) && p.name.eq_ignore_ascii_case(name) {
                p.assigned = None;
            }
        }
    }

    pub fn delete(&mut self, name: &str, store: &str) {
        self.policies.retain(|p| {
            !(p.store.eq_ignore_ascii_case(store) && p.name.eq_ignore_ascii_case(name))
        });
    }

    /// The policies in force: an assigned domain (DS) policy overrides the local one.
    pub fn in_force(&self) -> Vec<&IpsecPolicy> {
        let assigned: Vec<&IpsecPolicy> = self
            .policies
            .iter()
            .filter(|p| p.assigned.is_some())
            .collect();
        let domain: Vec<&IpsecPolicy> = assigned
            .iter()
            .copied()
            .filter(|p| p.store.to_ascii_uppercase().starts_with("DS"))
            .collect();
        if domain.is_empty() { assigned } else { domain }
    }

    /// Inbound rules of the policies in force plus the dynamic rules.
    pub fn to_rules(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        for p in self.in_force() {
            for r in &p.rules {
                push_rule_views(&mut out, r, Some(&p.name));
            }
        }
        for r in &self.dynamic {
            push_rule_views(&mut out, r, None);
        }
        out
    }

    /// Add what a later file left, as if its commands ran on this store: a rule it writes into
    /// a policy that already exists is added to that policy, replacing a same-named rule (as
    /// `ipseccmd -w REG -p P -r R` and `netsh ipsec static add rule policy=P` do on a host
    /// where P exists); an assignment there takes the store's one assignment slot; dynamic
    /// rules add up.
    pub fn merge(&mut self, later: IpsecStore) {
        for p in later.policies {
            let (name, store, assigned) = (p.name.clone(), p.store.clone(), p.assigned);
            match self.policies.iter_mut().find(|q| {
                q.name.eq_ignore_ascii_case(&name) && q.store.eq_ignore_ascii_case(&store)
            }) {
                Some(q) => {
                    for r in p.rules {
                        match q
                            .rules
                            .iter_mut()
                            .find(|x| x.name.eq_ignore_ascii_case(&r.name))
                        {
                            Some(existing) => *existing = r,
                            None => q.rules.push(r),
                        }
                    }
                }
                None => {
                    let mut p = p;
                    p.assigned = None;
                    self.policies.push(p);
                }
            }
            if let Some(at) = assigned {
                self.assign(&name, &store, at);
            }
        }
        self.dynamic.extend(later.dynamic);
    }
}

/// The inbound views of each filter: the filter itself when its destination can be this
/// computer, and its mirror when mirrored. A view that needs a particular client source port
/// is left out: clients connect from ephemeral ports.
fn push_rule_views(out: &mut Vec<Rule>, r: &IpsecRule, policy: Option<&str>) {
    for f in &r.filters {
        let mut views = vec![(&f.src, f.src_port, &f.dst, f.dst_port)];
        if f.mirrored {
            views.push((&f.dst, f.dst_port, &f.src, f.src_port));
        }
        for (src, src_port, dst, dst_port) in views {
            if src_port.is_some() || matches!(dst, AddrMatch::Dns { .. }) {
                continue;
            }
            let ports = match dst_port {
                Some(p) => PortMatch::Ports(PortRanges::from_ranges([p])),
                None => PortMatch::Any,
            };
            out.push(Rule {
                layer: Layer::Ipsec,
                src: vec![src.clone()],
                ports,
                proto: f.proto,
                action: r.action,
                weight: Rule::ipsec_weight(src, dst, f.proto, dst_port.is_some()),
                origin: RuleRef {
                    file: r.file.clone(),
                    line: r.line,
                    name: r.name.clone(),
                    dialect: r.dialect,
                    policy: policy.map(str::to_string),
                    filter: Some(f.text.clone()),
                },
                condition: Default::default(),
            });
        }
    }
}

/// Why a filter could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("'{}': expected Source=Destination or Source+Destination", excerpt(.0))]
    NoSeparator(String),
    #[error("'{}': {reason}", excerpt(text))]
    Part { text: String, reason: String },
}

fn part_err(text: &str, reason: impl Into<String>) -> FilterError {
    FilterError::Part {
        text: text.to_string(),
        reason: reason.into(),
    }
}

fn parse_port(text: &str, field: &str, whole: &str) -> Result<Option<u16>, FilterError> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u16>() {
        Ok(0) => Ok(None),
        Ok(p) => Ok(Some(p)),
        Err(_) => Err(part_err(
            whole,
            format!(
                "{field} port '{text}' is not a port number 0-65535 (ipseccmd takes one port per filter, 0 for any)",
                text = excerpt(text)
            ),
        )),
    }
}

/// An address as written, what it matches, and what the linter should know about it.
pub type WrittenAddr = (String, AddrMatch, address::AddrNotes);

/// Parse one ipseccmd filter, with what its addresses tell the linter.
pub fn parse_filter(text: &str) -> Result<(Filter, Vec<WrittenAddr>), FilterError> {
    let (idx, sep) = text
        .char_indices()
        .find(|&(_, c)| c == '=' || c == '+')
        .ok_or_else(|| FilterError::NoSeparator(text.to_string()))?;
    let (left, right) = (&text[..idx], &text[idx + sep.len_utf8()..]);
    let mirrored = sep == '=';
    let l: Vec<&str> = left.split(':').collect();
    let r: Vec<&str> = right.split(':').collect();
    if l.len() > 2 || r.len() > 3 {
        return Err(part_err(text, "too many ':' fields"));
    }
    let addr = |s: &str| {
        address::parse_ipsecpol(s)
            .map(|(m, n)| (s.to_string(), m, n))
            .map_err(|e| part_err(text, e.to_string()))
    };
    let src = addr(l[0])?;
    let dst = addr(r[0])?;
    let src_port = parse_port(l.get(1).copied().unwrap_or(""), "source", text)?;
    let (dst_port, proto) = match r.len() {
        1 => (None, ProtoMatch::Any),
        2 => {
            let x = r[1];
            if x.bytes().all(|b| b.is_ascii_digit()) {
                (parse_port(x, "destination", text)?, ProtoMatch::Any)
            } else {
                (None, parse_proto(x, text)?)
            }
        }
        _ => (
            parse_port(r[1], "destination", text)?,
            parse_proto(r[2], text)?,
        ),
    };
    let filter = Filter {
        src: src.1.clone(),
        src_port: src_port.map(|p| (p, p)),
        dst: dst.1.clone(),
        dst_port: dst_port.map(|p| (p, p)),
        proto,
        mirrored,
        text: text.to_string(),
    };
    Ok((filter, vec![src, dst]))
}

fn parse_proto(s: &str, whole: &str) -> Result<ProtoMatch, FilterError> {
    if s.is_empty() {
        return Ok(ProtoMatch::Any);
    }
    ProtoMatch::parse(s).ok_or_else(|| {
        part_err(
            whole,
            format!(
                "protocol '{s}' is not TCP, UDP, ICMP, RAW or a number",
                s = excerpt(s)
            ),
        )
    })
}

/// Parse `-n` values into an action.
fn parse_action(values: &[String], soft: bool) -> Result<RuleAction, ValueError> {
    let mut action = None;
    for v in values {
        let u = v.to_ascii_uppercase();
        let a = match u.as_str() {
            "BLOCK" => RuleAction::Block,
            "PASS" => RuleAction::Pass,
            "INPASS" => RuleAction::Negotiate {
                clear_inbound: true,
            },
            _ if u.starts_with("ESP[") || u.starts_with("AH[") => RuleAction::Negotiate {
                clear_inbound: soft,
            },
            _ => {
                return Err(ValueError::not_one_of(
                    "",
                    v,
                    "is not BLOCK, PASS, INPASS or a security method such as ESP[3DES,SHA]",
                ));
            }
        };
        // BLOCK and PASS are exclusive actions; the first one written rules.
        action.get_or_insert(a);
    }
    Ok(action.unwrap_or(RuleAction::Negotiate {
        clear_inbound: soft,
    }))
}

/// Switches and how many values they take: `Some(true)` a list, `Some(false)` one, `None`
/// none.
fn switch_arity(name: &str) -> Option<Option<bool>> {
    Some(match name {
        "w" | "p" | "r" | "t" | "1k" | "1e" => Some(false),
        "f" | "n" | "a" | "1s" | "1f" => Some(true),
        "x" | "y" | "o" | "u" | "1p" | "soft" | "confirm" | "dialup" | "lan" | "?" => None,
        _ => return None,
    })
}

/// Carry out one ipsecpol/ipseccmd command (the words after the program name).
pub fn apply(store: &mut IpsecStore, sink: &mut Sink, line: usize, words: &[String], tool: &str) {
    let mut opts: Vec<(String, Vec<String>)> = Vec::new();
    let mut failed = false;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if sink.typographic_switch(
            line,
            w,
            &format!("{tool} does not recognise the switch and refuses the whole command"),
        ) {
            failed = true;
            continue;
        }
        if i == 1 && w.starts_with("\\\\") {
            continue; // \\ComputerName: a remote computer; we read the rules all the same.
        }
        if i == 1 && w.eq_ignore_ascii_case("show") {
            return; // query mode changes nothing
        }
        let name = match w.strip_prefix('-').or_else(|| w.strip_prefix('/')) {
            Some(n) => n.to_ascii_lowercase(),
            None => {
                sink.about(w).parse_error(
                    line,
                    format!("unexpected '{w}' in {tool} command: expected a switch such as -f or -n", w = excerpt(w)),
                    "quote names with spaces (-p \"Block RPC Ports\") and start every switch with '-'",
                );
                failed = true;
                continue;
            }
        };
        let Some(arity) = switch_arity(&name) else {
            sink.about(w).parse_error(
                line,
                format!("'{w}' is not a {tool} switch", w = excerpt(w)),
                "use -w, -p, -r, -f, -n, -x, -y or -o as KB908472 shows",
            );
            failed = true;
            continue;
        };
        let mut values = Vec::new();
        match arity {
            None => {}
            Some(list) => {
                while i < words.len() {
                    let v = &words[i];
                    let looks_switch = (v.starts_with('-') || v.starts_with('/')) && v.len() > 1
                        || v.chars().next().is_some_and(is_typographic_dash);
                    if looks_switch {
                        break;
                    }
                    values.push(v.clone());
                    i += 1;
                    if !list {
                        break;
                    }
                }
                if values.is_empty() {
                    sink.about(w).parse_error(
                        line,
                        format!("{tool} switch '{w}' needs a value", w = excerpt(w)),
                        format!("give a value after '{w}'", w = excerpt(w)),
                    );
                    failed = true;
                }
            }
        }
        opts.push((name, values));
    }
    if failed {
        return;
    }
    execute(store, sink, line, &opts, tool);
}

fn execute(
    store: &mut IpsecStore,
    sink: &mut Sink,
    line: usize,
    opts: &[(String, Vec<String>)],
    tool: &str,
) {
    let get = |n: &str| opts.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_slice());
    let has = |n: &str| get(n).is_some();
    let first = |n: &str| get(n).and_then(|v| v.first()).cloned();
    let soft = has("soft");

    // Parse filters first: a bad filter makes the tool refuse the command.
    let mut filters = Vec::new();
    if let Some(list) = get("f") {
        for text in list {
            match parse_filter(text) {
                Ok((f, addrs)) => {
                    for (written, m, notes) in &addrs {
                        address::report_notes(sink, line, written, m, notes);
                    }
                    filters.push(f);
                }
                Err(e) => {
                    if !text.contains('%') {
                        sink.about(text).parse_error(
                            line,
                            format!("bad {tool} filter {e}"),
                            "write the filter as Source=Destination:Port:Protocol, e.g. *=0:135:TCP or 10.1.1.0/255.255.255.0=0:5001:TCP",
                        );
                    }
                    return;
                }
            }
        }
    }
    let action = match parse_action(get("n").unwrap_or(&[]), soft) {
        Ok(a) => a,
        Err(msg) => {
            sink.parse_error(
                line,
                format!("bad {tool} -n value: {msg}"),
                "use -n BLOCK or -n PASS",
            );
            return;
        }
    };

    let Some(w) = first("w") else {
        // Dynamic mode.
        if has("u") {
            store.dynamic.clear();
        }
        if !filters.is_empty() {
            let name = first("r").unwrap_or_else(|| format!("dynamic rule at line {line}"));
            check_filter_name(sink, line, &name, &filters);
            store.dynamic.push(IpsecRule {
                name,
                filters,
                action,
                line,
                dialect: Dialect::Ipseccmd,
                file: sink.file.clone(),
            });
        }
        return;
    };
    let w_upper = w.to_ascii_uppercase();
    if w_upper != "REG" && !w_upper.starts_with("DS") {
        sink.about(&w).parse_error(
            line,
            format!("-w '{w}': expected REG or DS:domain", w = excerpt(&w)),
            "use -w REG to store the policy in the local registry",
        );
        return;
    }
    let Some(p) = first("p") else {
        sink.parse_error(
            line,
            format!("{tool} -w {w} without -p: static mode needs a policy name"),
            "add -p \"Block RPC Ports\"",
        );
        return;
    };
    // "policy:poll" – the poll interval in minutes is not part of the name.
    let pname = match p.rsplit_once(':') {
        Some((n, poll)) if !poll.is_empty() && poll.bytes().all(|b| b.is_ascii_digit()) => {
            n.to_string()
        }
        _ => p.clone(),
    };
    if has("o") {
        store.delete(&pname, &w);
        return;
    }
    if !filters.is_empty() || has("r") {
        let name = first("r").unwrap_or_else(|| format!("rule at line {line}"));
        if filters.is_empty() {
            sink.parse_error(
                line,
                format!("{tool} rule \"{name}\" has no -f filter"),
                "add -f with a filter such as *=0:135:TCP",
            );
        } else {
            check_filter_name(sink, line, &name, &filters);
            let pol = store.policy_mut(&pname, &w, line, Dialect::Ipseccmd);
            let rule = IpsecRule {
                name: name.clone(),
                filters,
                action,
                line,
                dialect: Dialect::Ipseccmd,
                file: sink.file.clone(),
            };
            // Naming an existing rule again modifies it.
            match pol
                .rules
                .iter_mut()
                .find(|r| r.name.eq_ignore_ascii_case(&name))
            {
                Some(existing) => *existing = rule,
                None => pol.rules.push(rule),
            }
        }
    } else {
        // -x/-y on a policy this script did not create still refers to it.
        store.policy_mut(&pname, &w, line, Dialect::Ipseccmd);
    }
    if has("x") {
        store.assign(&pname, &w, line);
    }
    if has("y") {
        store.unassign(&pname, &w);
    }
}

fn check_filter_name(sink: &mut Sink, line: usize, name: &str, filters: &[Filter]) {
    let mut ports = Vec::new();
    for f in filters {
        match f.dst_port {
            Some(p) => ports.push(p),
            None => return,
        }
    }
    let filter_ports = PortRanges::from_ranges(ports);
    let text: Vec<&str> = filters.iter().map(|f| f.text.as_str()).collect();
    check_name_ports(sink, line, name, &filter_ports, &text.join(" "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Code;
    use crate::policy::text::split_words;

    fn run(lines: &[&str]) -> (IpsecStore, Sink) {
        let mut store = IpsecStore::default();
        let mut sink = Sink::new("t.cmd");
        for (i, l) in lines.iter().enumerate() {
            let words = split_words(l);
            apply(&mut store, &mut sink, i + 1, &words[1..], "ipseccmd");
        }
        (store, sink)
    }

    #[test]
    fn parses_the_articles_filters() {
        let (f, _) = parse_filter("*=0:135:TCP").unwrap();
        assert_eq!(f.src, AddrMatch::Any);
        assert_eq!(f.dst, AddrMatch::Me);
        assert_eq!(f.dst_port, Some((135, 135)));
        assert_eq!(f.proto, ProtoMatch::Number(6));
        assert!(f.mirrored);
        let (f, _) = parse_filter("10.1.1.0/255.255.255.0=0:5001:TCP").unwrap();
        assert_eq!(f.src.specificity(), 24);
        let (f, _) = parse_filter("10.1.1.0/24:0+0:135:UDP").unwrap();
        assert!(!f.mirrored);
        assert_eq!(f.src_port, None);
        assert_eq!(f.proto, ProtoMatch::Number(17));
        let (f, _) = parse_filter("*=0").unwrap();
        assert_eq!((f.dst_port, f.proto), (None, ProtoMatch::Any));
        let (f, _) = parse_filter("*=0:TCP").unwrap();
        assert_eq!((f.dst_port, f.proto), (None, ProtoMatch::Number(6)));
        assert!(parse_filter("*:0:135:TCP").is_err());
        assert!(parse_filter("*=0:5001-5021:TCP").is_err());
        assert!(parse_filter("*=0:135:XYZ").is_err());
        assert!(parse_filter("*=0:70000:TCP").is_err());
    }

    #[test]
    fn only_the_policy_assigned_at_the_end_is_in_force() {
        let (store, sink) = run(&[
            r#"ipseccmd -w REG -p "A" -r "Block 135" -f *=0:135:TCP -n BLOCK"#,
            r#"ipseccmd -w REG -p "B" -r "Block 139" -f *=0:139:TCP -n BLOCK"#,
            r#"ipseccmd -w REG -p "A" -x"#,
            r#"ipseccmd -w REG -p "B" -x"#,
        ]);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        let force = store.in_force();
        assert_eq!(force.len(), 1);
        assert_eq!(force[0].name, "B");
        let (store, _) = run(&[
            r#"ipseccmd -w REG -p "A:30" -r "Block 135" -f *=0:135:TCP -n BLOCK -x"#,
            r#"ipseccmd -w REG -p "A" -y"#,
        ]);
        assert!(store.in_force().is_empty());
        assert_eq!(store.policies[0].name, "A");
        let (store, _) = run(&[
            r#"ipseccmd -w REG -p "A" -r "Block 135" -f *=0:135:TCP -n BLOCK -x"#,
            r#"ipseccmd -w REG -p "A" -o"#,
        ]);
        assert!(store.policies.is_empty());
    }

    #[test]
    fn typographic_dash_refuses_the_command() {
        let (store, sink) = run(&[
            r#"ipseccmd -w REG -p "A" -r "Block 135" -f *=0:135:TCP -n BLOCK"#,
            "ipseccmd -w REG -p \"A\" \u{2013}x",
        ]);
        assert!(store.in_force().is_empty());
        assert_eq!(sink.findings.len(), 1);
        assert_eq!(sink.findings[0].code, Code::TypographicDash);
        assert_eq!(sink.findings[0].line, Some(2));
        assert!(sink.findings[0].fix.contains("'-x'"));
    }

    #[test]
    fn reports_bad_input_as_parse_errors() {
        let (_, sink) = run(&[
            r#"ipseccmd -w REG -p "A" -r "R" -f *=0:135:TCP -n BLCOK"#,
            r#"ipseccmd -w REG -p "A" -r "R" -f *=0:135:TCP -q"#,
            r#"ipseccmd -w FOO -p "A" -r "R" -f *=0:135:TCP"#,
            r#"ipseccmd -w REG -p"#,
        ]);
        let lines: Vec<_> = sink
            .findings
            .iter()
            .map(|f| (f.code.as_str(), f.line.unwrap()))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("parse-error", 1),
                ("parse-error", 2),
                ("parse-error", 3),
                ("parse-error", 4)
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn filter_fields_round_trip(a in proptest::prelude::any::<u32>(), bits in 0u8..=32,
                                    port in proptest::prelude::any::<u16>(), one_way in proptest::prelude::any::<bool>()) {
            let addr = std::net::Ipv4Addr::from(a);
            let sep = if one_way { '+' } else { '=' };
            let text = format!("{addr}/{bits}{sep}0:{port}:UDP");
            let (f, _) = parse_filter(&text).unwrap();
            proptest::prop_assert_eq!(f.mirrored, !one_way);
            proptest::prop_assert_eq!(f.dst_port, (port != 0).then_some((port, port)));
            proptest::prop_assert_eq!(f.proto, ProtoMatch::Number(17));
            proptest::prop_assert_eq!(f.src.specificity(), bits);
            proptest::prop_assert_eq!(&f.dst, &AddrMatch::Me);
        }

        #[test]
        fn parse_filter_never_panics(s in "[0-9./:=+*a-zA-Z\u{2013}-]{0,40}") {
            let _ = parse_filter(&s);
        }
    }

    #[test]
    fn a_later_file_adds_rules_to_an_existing_policy() {
        let (mut first, _) = run(&[
            r#"ipseccmd -w REG -p "A" -r "Block 135" -f *=0:135:TCP -n BLOCK"#,
            r#"ipseccmd -w REG -p "A" -r "Block 139" -f *=0:139:TCP -n BLOCK -x"#,
        ]);
        let (later, _) = run(&[
            r#"ipseccmd -w REG -p "A" -r "Block 139" -f *=0:445:TCP -n BLOCK"#,
            r#"ipseccmd -w REG -p "A" -r "Block 5003" -f *=0:5003:TCP -n BLOCK"#,
        ]);
        first.merge(later);
        let force = first.in_force();
        assert_eq!(force.len(), 1, "the earlier assignment stays");
        let names: Vec<&str> = force[0].rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["Block 135", "Block 139", "Block 5003"]);
        assert_eq!(force[0].rules[1].filters[0].dst_port, Some((445, 445)));
    }

    #[test]
    fn mirrored_filter_views() {
        let (store, _) = run(&[
            r#"ipseccmd -r "R" -f 0:135=10.1.1.0/24 -n PASS"#,
            r#"ipseccmd -r "S" -f 0:136+10.1.1.0/24 -n PASS"#,
        ]);
        let rules = store.to_rules();
        // The mirror of 0:135=subnet is inbound from the subnet to local port 135; the
        // one-way filter has no inbound view that a client from any port meets.
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].origin.name, "R");
        assert_eq!(rules[0].ports.to_string(), "135");
    }
}
