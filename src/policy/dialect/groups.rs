//! Windows Firewall's built-in rule groups that touch RPC: `data/firewall_groups.tsv`, compiled
//! in with `include_str!` and parsed here, once. Pure: text in, rows out. [`super::firewall`]
//! turns a group enabled or disabled by name (`netsh advfirewall firewall set rule group=...`,
//! `netsh firewall set service type=remoteadmin`, `Enable-NetFirewallRule -DisplayGroup` /
//! `-Group`, `Set-NetFirewallRule -DisplayGroup ... -Enabled True`) into the group's rules, with
//! their real scope: program and service conditions go to the model's
//! [`crate::policy::model::condition`], `RPC` is the RPC dynamic ports, `RPC-EPMap` TCP 135.
//!
//! Grammar (the file's header says the same for a reader):
//! - `#@source KEY<TAB>CITATION` declares a source; other `#` lines are comments;
//! - every other non-blank line is a row of 12 tab-separated columns: group (other names after
//!   `;`), ref (`@FirewallAPI.dll,-NNNNN` or `-`), id, display, protocol (`TCP`/`UDP`), lport
//!   (a number, `RPC`, `RPC-EPMap`, `Any`), program, service (`-`: none), profiles, remote
//!   (`Any`/`LocalSubnet`), hosts (`all` or the versions that have the group), sources (declared
//!   keys).
//!
//! A row that breaks a rule is an error naming its line; the unit tests hold the shipped file to
//! every rule, so [`get`] cannot fail in a released binary, and callers treat a failure as "group
//! not known" (a finding and a conditional decision), never as a panic.

use crate::policy::model::ProtoMatch;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The shipped table's text.
pub const TEXT: &str = include_str!("../../../data/firewall_groups.tsv");

/// One built-in inbound rule of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinRule {
    /// The group's names: the first is how `explain` and the findings name it.
    pub group: Vec<&'static str>,
    /// The group's indirect name (`@FirewallAPI.dll,-29502`), when recorded.
    pub group_ref: Option<&'static str>,
    /// The rule's ID (`RemoteSvcAdmin-RPCSS-In-TCP`).
    pub id: &'static str,
    /// The rule's display name.
    pub display: &'static str,
    pub proto: ProtoMatch,
    /// Local ports as Windows writes them (`RPC`, `RPC-EPMap`, `445`, `Any`).
    pub lport: &'static str,
    pub program: Option<&'static str>,
    pub service: Option<&'static str>,
    /// `Domain`, `Private,Public`, `Any`: shown, not decided on (rpcaudit does not know the
    /// host's profile, so a rule counts in any profile, as store rules do).
    pub profiles: &'static str,
    /// The default remote scope is the local subnet (else any address).
    pub local_subnet: bool,
    /// The Windows versions that have the group, when not every version does.
    pub hosts: Option<&'static str>,
    /// The citations of the row's sources.
    pub sources: Vec<&'static str>,
}

impl BuiltinRule {
    /// The group's first name.
    pub fn group_name(&self) -> &'static str {
        self.group.first().copied().unwrap_or_default()
    }

    /// Is `name` one of the group's names or its indirect name? netsh and `-DisplayGroup`
    /// compare names without regard to case; an indirect name is compared by its DLL file
    /// name and resource number (`@%SystemRoot%\system32\firewallapi.dll,-29502` is
    /// `@FirewallAPI.dll,-29502`).
    pub fn in_group(&self, name: &str) -> bool {
        let name = name.trim();
        self.group.iter().any(|g| g.eq_ignore_ascii_case(name))
            || self
                .group_ref
                .is_some_and(|r| indirect_key(r) == indirect_key(name))
    }

    /// Is this rule named `name` (its ID or its display name)?
    pub fn named(&self, name: &str) -> bool {
        let name = name.trim();
        self.id.eq_ignore_ascii_case(name) || self.display.eq_ignore_ascii_case(name)
    }
}

/// Do two indirect names (`@FirewallAPI.dll,-29502`) name the same resource, whatever the
/// DLL's directory and case?
pub fn same_indirect(a: &str, b: &str) -> bool {
    a.trim().starts_with('@') && b.trim().starts_with('@') && indirect_key(a) == indirect_key(b)
}

/// `@dir\FirewallAPI.dll,-29502` as `firewallapi.dll,-29502`: the file name and resource.
fn indirect_key(s: &str) -> String {
    let s = s.trim().trim_start_matches('@');
    let (file, res) = s.split_once(',').unwrap_or((s, ""));
    let file = file.rsplit(['\\', '/']).next().unwrap_or(file);
    format!("{},{}", file.to_ascii_lowercase(), res.trim())
}

/// The parsed table.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    pub rows: Vec<BuiltinRule>,
    /// Source key → citation.
    pub sources: BTreeMap<&'static str, &'static str>,
}

impl Groups {
    /// The rules of the group named `name` (a name or an indirect name), in table order;
    /// empty when the group is not in the table.
    pub fn group(&self, name: &str) -> Vec<&BuiltinRule> {
        self.rows.iter().filter(|r| r.in_group(name)).collect()
    }

    /// The rules of every group a PowerShell `-DisplayGroup` / `-Group` pattern names
    /// (`*` and `?` wildcards).
    pub fn group_matching(&self, matches: impl Fn(&str) -> bool) -> Vec<&BuiltinRule> {
        self.rows
            .iter()
            .filter(|r| r.group.iter().copied().chain(r.group_ref).any(&matches))
            .collect()
    }

    /// The built-in rules named `name` (ID or display name; a display name is shared by a
    /// rule and its `-NoScope` twin).
    pub fn rules_named(&self, matches: impl Fn(&str) -> bool) -> Vec<&BuiltinRule> {
        self.rows
            .iter()
            .filter(|r| matches(r.id) || matches(r.display))
            .collect()
    }

    /// The groups in table order, each once.
    pub fn names(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.group_name()) {
                out.push(r.group_name());
            }
        }
        out
    }
}

/// Why the table cannot be read; names the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/firewall_groups.tsv line {line}: {what}")]
pub struct GroupsError {
    pub line: usize,
    pub what: String,
}

/// The shipped table, parsed on first use.
pub fn get() -> Result<&'static Groups, &'static GroupsError> {
    static PARSED: OnceLock<Result<Groups, GroupsError>> = OnceLock::new();
    PARSED.get_or_init(|| parse(TEXT)).as_ref()
}

const COLUMNS: usize = 12;

/// Parse table text (the shipped file, or a test's).
pub fn parse(text: &'static str) -> Result<Groups, GroupsError> {
    let mut out = Groups::default();
    let mut pending: Vec<(usize, Vec<&'static str>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let err = |what: String| GroupsError { line: n, what };
        if let Some(decl) = line.strip_prefix("#@source ") {
            let (key, citation) = decl
                .split_once('\t')
                .ok_or_else(|| err("a source needs a key, a tab and a citation".into()))?;
            if key.is_empty() || citation.trim().is_empty() {
                return Err(err("a source needs a key and a citation".into()));
            }
            if out.sources.insert(key, citation).is_some() {
                return Err(err(format!("source {key} declared twice")));
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&'static str> = line.split('\t').collect();
        if cols.len() != COLUMNS {
            return Err(err(format!("{} columns; a row has {COLUMNS}", cols.len())));
        }
        let opt = |v: &'static str| (v != "-").then_some(v);
        let proto = match cols[4] {
            "TCP" => ProtoMatch::Number(6),
            "UDP" => ProtoMatch::Number(17),
            p => return Err(err(format!("protocol {p:?}: TCP or UDP"))),
        };
        let lport = cols[5];
        let port_ok = ["RPC", "RPC-EPMap", "Any"].contains(&lport) || lport.parse::<u16>().is_ok();
        if !port_ok {
            return Err(err(format!(
                "local port {lport:?}: a number, RPC, RPC-EPMap or Any"
            )));
        }
        if lport == "RPC-EPMap" && proto != ProtoMatch::Number(6) {
            return Err(err("RPC-EPMap is TCP 135".into()));
        }
        let local_subnet = match cols[9] {
            "Any" => false,
            "LocalSubnet" => true,
            r => return Err(err(format!("remote {r:?}: Any or LocalSubnet"))),
        };
        let profiles = cols[8];
        let profiles_ok = profiles == "Any"
            || profiles
                .split(',')
                .all(|p| ["Domain", "Private", "Public"].contains(&p));
        if !profiles_ok {
            return Err(err(format!("profiles {profiles:?}")));
        }
        if cols[0].is_empty() || cols[2].is_empty() || cols[3].is_empty() {
            return Err(err("a row needs a group, an id and a display name".into()));
        }
        pending.push((n, cols.clone()));
        out.rows.push(BuiltinRule {
            group: cols[0].split(';').map(str::trim).collect(),
            group_ref: opt(cols[1]),
            id: cols[2],
            display: cols[3],
            proto,
            lport,
            program: opt(cols[6]),
            service: opt(cols[7]),
            profiles,
            local_subnet,
            hosts: (cols[10] != "all").then_some(cols[10]),
            sources: Vec::new(),
        });
    }
    for ((n, cols), row) in pending.iter().zip(out.rows.iter_mut()) {
        for key in cols[11].split(',').map(str::trim) {
            let citation = out.sources.get(key).ok_or_else(|| GroupsError {
                line: *n,
                what: format!("source {key:?} is not declared"),
            })?;
            row.sources.push(citation);
        }
    }
    let mut ids: Vec<&str> = out.rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0].eq_ignore_ascii_case(w[1])) {
        return Err(GroupsError {
            line: 0,
            what: format!("rule id {} appears twice", w[0]),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_holds_to_its_grammar() {
        let g = get().expect("data/firewall_groups.tsv parses");
        assert!(g.rows.len() > 40, "{}", g.rows.len());
        // Every group the issue names is modelled.
        for name in [
            "Remote Administration",
            "Remote Service Management",
            "Remote Scheduled Tasks Management",
            "Remote Event Log Management",
            "COM+ Network Access",
            "Windows Management Instrumentation (WMI)",
            "File and Printer Sharing",
            "Remote Volume Management",
            "Windows Firewall Remote Management",
            "Windows Defender Firewall Remote Management",
            "Netlogon Service",
            "Remote Desktop",
        ] {
            assert!(!g.group(name).is_empty(), "{name}");
        }
        // Every row cites a source.
        assert!(g.rows.iter().all(|r| !r.sources.is_empty()));
    }

    #[test]
    fn groups_are_found_by_name_or_indirect_name() {
        let g = get().unwrap();
        let by_name = g.group("remote service management");
        let by_ref = g.group(r"@%SystemRoot%\system32\firewallapi.dll,-29502");
        assert_eq!(by_name, by_ref);
        assert_eq!(by_name.len(), 6);
        let epmap = by_name
            .iter()
            .find(|r| r.id == "RemoteSvcAdmin-RPCSS-In-TCP")
            .unwrap();
        assert_eq!(
            (epmap.lport, epmap.service, epmap.local_subnet),
            ("RPC-EPMap", Some("RPCSS"), true)
        );
        assert!(g.group("No Such Group").is_empty());
        assert_eq!(
            g.rules_named(|n| n == "COM+ Network Access (DCOM-In)")
                .len(),
            1
        );
    }

    #[test]
    fn broken_rows_name_their_line() {
        let e =
            parse("#@source a\tb\nG\t-\tid\tD\tICMP\t135\t-\t-\tAny\tAny\tall\ta\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("G\t-\tid\tD\tTCP\t135\t-\t-\tAny\tAny\tall\tnope\n").unwrap_err();
        assert!(e.what.contains("not declared"), "{e}");
        let e = parse("G\t-\tid\tD\tTCP\tIPHTTPS\t-\t-\tAny\tAny\tall\ta\n").unwrap_err();
        assert!(e.what.contains("local port"), "{e}");
    }
}
