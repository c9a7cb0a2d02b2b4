//! Windows Firewall rules as administrators script them: `netsh advfirewall firewall add|set|
//! delete rule ...` and PowerShell `New-NetFirewallRule`, `Set-NetFirewallRule`,
//! `Enable-/Disable-/Remove-NetFirewallRule`. Produces firewall-layer [`Rule`]s (enabled,
//! inbound); the precedence (block beats allow, allow-bypass beats block) lives in the model.
//!
//! Parameters follow the Microsoft references: "netsh advfirewall firewall" (name=, dir=,
//! action=allow|block|bypass, protocol=, localport= with numbers, ranges and the keywords
//! RPC / RPC-EPMap, remoteip= with addresses, CIDR, ranges and keywords, enable=,
//! security=) and "New-NetFirewallRule" (-DisplayName, -Direction, -Action, -Protocol,
//! -LocalPort, -RemoteAddress, -Enabled, -OverrideBlockRules, -Authentication).

use super::groups;
use crate::finding::{Code, Severity};
use crate::inert::excerpt;
use crate::policy::model::address::{self, AddrMatch};
use crate::policy::model::condition::Condition;
use crate::policy::model::error::ValueError;
use crate::policy::model::lint::check_name_ports;
use crate::policy::model::sink::Sink;
use crate::policy::model::{Dialect, Layer, PortMatch, ProtoMatch, Rule, RuleAction, RuleRef};
use crate::policy::text::{dash_name, is_typographic_dash};
use crate::ports::PortRanges;

/// A firewall rule as the script leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FwRule {
    /// `name=` / `-Name` (falls back to the display name).
    pub name: String,
    pub display: String,
    pub enabled: bool,
    pub terms: RuleTerms,
    pub line: usize,
    pub dialect: Dialect,
}

/// What a firewall rule matches and what it does with it, whichever reader filled it (a
/// script, a listing or a rule store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTerms {
    pub inbound: bool,
    pub action: FwAction,
    pub proto: ProtoMatch,
    pub ports: PortMatch,
    /// The RPC keywords among the local ports, as written (`RPC`, `RPC-EPMap`), for
    /// `explain` to say how they were read.
    pub port_keywords: Vec<String>,
    pub remote: Vec<AddrMatch>,
    /// The rule requires IPsec authentication (`security=authenticate`,
    /// `-Authentication Required`, `-Encryption Required`, `Security=` in a store).
    pub secure: bool,
    /// What the rule requires that the model cannot check for a connection (a store's
    /// `App=`, `Svc=`, `AppPkgId=`, fields not modelled): its decisions are conditional.
    pub condition: Condition,
}

impl Default for RuleTerms {
    /// What a rule matches when the command names no condition: inbound, allow, any
    /// protocol, port and remote address.
    fn default() -> Self {
        RuleTerms {
            inbound: true,
            action: FwAction::Allow,
            proto: ProtoMatch::Any,
            ports: PortMatch::Any,
            port_keywords: Vec::new(),
            remote: vec![AddrMatch::Any],
            secure: false,
            condition: Condition::default(),
        }
    }
}

impl RuleTerms {
    /// Set the local ports from their values as written (numbers, ranges, `Any`, `RPC`,
    /// `RPC-EPMap`), keeping the RPC keywords for `explain`.
    pub fn set_local_ports(&mut self, values: &[String]) -> Result<(), ValueError> {
        self.ports = parse_local_ports(values)?;
        self.port_keywords = port_keywords(values);
        Ok(())
    }

    /// What the model does with matching traffic; `None` for `-Action NotConfigured`.
    fn model_action(&self) -> Option<RuleAction> {
        Some(match (self.action, self.secure) {
            (FwAction::NotConfigured, _) => return None,
            (FwAction::Block, _) => RuleAction::Block,
            (FwAction::Bypass, _) => RuleAction::Bypass,
            (FwAction::Allow, true) => RuleAction::AllowSecure,
            (FwAction::Allow, false) => RuleAction::Pass,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwAction {
    Allow,
    Block,
    Bypass,
    /// `-Action NotConfigured`: does nothing.
    NotConfigured,
}

impl FwRule {
    pub(in crate::policy) fn new(line: usize, dialect: Dialect) -> Self {
        FwRule {
            name: String::new(),
            display: String::new(),
            enabled: true,
            terms: RuleTerms::default(),
            line,
            dialect,
        }
    }

    fn label(&self) -> &str {
        if self.display.is_empty() {
            &self.name
        } else {
            &self.display
        }
    }

    fn named(&self, n: &str) -> bool {
        self.name.eq_ignore_ascii_case(n) || self.display.eq_ignore_ascii_case(n)
    }

    /// Named by a PowerShell `-DisplayName` / `-Name` value, which is a wildcard pattern.
    fn named_ps(&self, pattern: &str) -> bool {
        if !pattern.contains(['*', '?', '[', ']', '`']) {
            return self.named(pattern);
        }
        ps_wildcard_match(pattern, &self.name) || ps_wildcard_match(pattern, &self.display)
    }

    /// The model rule, when this rule is enabled, inbound and acts.
    pub fn to_rule(&self, file: &str) -> Option<Rule> {
        if !self.enabled || !self.terms.inbound {
            return None;
        }
        let action = self.terms.model_action()?;
        Some(Rule {
            layer: Layer::Firewall,
            src: self.terms.remote.clone(),
            ports: self.terms.ports.clone(),
            proto: self.terms.proto,
            action,
            weight: 0,
            origin: RuleRef {
                file: file.to_string(),
                line: self.line,
                name: self.label().to_string(),
                dialect: self.dialect,
                policy: None,
                filter: keywords_read_as(&self.terms.port_keywords),
            },
            condition: self.terms.condition.clone(),
        })
    }
}

/// How the RPC port keywords of a rule were read: `LPort=RPC-EPMap (TCP 135)`,
/// `LPort=RPC (the RPC dynamic range)`.
fn keywords_read_as(keywords: &[String]) -> Option<String> {
    let read: Vec<String> = keywords
        .iter()
        .map(|k| {
            let meaning = if k.eq_ignore_ascii_case("rpc") {
                "the RPC dynamic range"
            } else {
                "TCP 135"
            };
            format!("LPort={k} ({meaning})")
        })
        .collect();
    (!read.is_empty()).then(|| read.join(", "))
}

/// The RPC keywords among local-port items, as written.
fn port_keywords(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| {
            ["rpc", "rpc-epmap", "rpcepmap"]
                .iter()
                .any(|k| s.eq_ignore_ascii_case(k))
        })
        .map(str::to_string)
        .collect()
}

/// A command that changes or removes rules by name (`netsh advfirewall firewall set|delete
/// rule`, `Set-/Remove-/Enable-/Disable-NetFirewallRule`). [`crate::policy::build`] replays a file's
/// edits on the rules of the files before it, as running the scripts one after the other on
/// the same host would (a fix script narrowing a rule of the policy it fixes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FwEdit {
    /// The words after `firewall`.
    Netsh { line: usize, words: Vec<String> },
    /// The lower-case cmdlet and the words after it.
    Powershell {
        line: usize,
        cmdlet: String,
        words: Vec<String>,
    },
}

impl FwEdit {
    /// Apply the edit to `rules` (rules of earlier files). What it would report was
    /// reported when its own file was read.
    pub fn replay(&self, rules: &mut Vec<FwRule>) {
        let mut scratch = Sink::new("");
        match self {
            FwEdit::Netsh { line, words } => {
                netsh_rule(rules, &mut scratch, *line, words, Adds::No)
            }
            FwEdit::Powershell {
                line,
                cmdlet,
                words,
            } => powershell_rule(rules, &mut scratch, *line, cmdlet, words, Adds::No),
        }
    }
}

/// Parse a local port list: numbers, `first-last`, `Any`, `RPC`, `RPC-EPMap` and other
/// keywords. Errors name the item.
pub fn parse_local_ports(items: &[String]) -> Result<PortMatch, ValueError> {
    let mut ranges = Vec::new();
    let mut rpc = false;
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let lower = item.to_ascii_lowercase();
        match lower.as_str() {
            "any" | "*" => return Ok(PortMatch::Any),
            "rpc" => rpc = true,
            // The endpoint mapper: TCP 135.
            "rpc-epmap" | "rpcepmap" => ranges.push((135, 135)),
            _ if item.starts_with(|c: char| c.is_ascii_digit()) => {
                ValueError::dash_in(item)?;
                let r = PortRanges::parse(item)?;
                ranges.extend_from_slice(r.ranges());
            }
            _ => {
                if ranges.is_empty() && !rpc {
                    return Ok(PortMatch::Keyword(item.to_string()));
                }
            }
        }
    }
    match (rpc, ranges.is_empty()) {
        (true, true) => Ok(PortMatch::RpcDynamic),
        // RPC mixed with numbers: keep the numbers (rare; RPC is usually alone).
        (_, false) => Ok(PortMatch::Ports(PortRanges::from_ranges(ranges))),
        (false, true) => Err(ValueError::EmptyList("port")),
    }
}

/// Parse remote addresses, reporting address notes.
fn parse_remote(
    items: &[String],
    sink: &mut Sink,
    line: usize,
) -> Result<Vec<AddrMatch>, ValueError> {
    let mut out = Vec::new();
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        ValueError::dash_in(item)?;
        let (m, notes) = address::parse_firewall(item)?;
        address::report_notes(sink, line, item, &m, &notes);
        if m == AddrMatch::Any {
            return Ok(vec![AddrMatch::Any]);
        }
        out.push(m);
    }
    if out.is_empty() {
        return Err(ValueError::EmptyList("address"));
    }
    Ok(out)
}

fn list(v: &str) -> Vec<String> {
    v.split(',').map(|s| s.trim().to_string()).collect()
}

fn yes(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "$true" | "1" => Some(true),
        "no" | "n" | "false" | "$false" | "0" => Some(false),
        _ => None,
    }
}

/// Set one parameter on a rule; `Err` explains a bad value.
fn set_param(
    rule: &mut FwRule,
    key: &str,
    values: &[String],
    sink: &mut Sink,
    line: usize,
) -> Result<(), ValueError> {
    let v = values.first().map(String::as_str).unwrap_or("");
    match key {
        "name" => rule.name = v.to_string(),
        "displayname" => rule.display = v.to_string(),
        "dir" | "direction" => {
            rule.terms.inbound = match v.to_ascii_lowercase().as_str() {
                "in" | "inbound" => true,
                "out" | "outbound" => false,
                _ => return Err(ValueError::not_one_of("direction", v, "is not in/out")),
            }
        }
        "action" => {
            rule.terms.action = match v.to_ascii_lowercase().as_str() {
                "allow" => FwAction::Allow,
                "block" => FwAction::Block,
                "bypass" => FwAction::Bypass,
                "notconfigured" => FwAction::NotConfigured,
                _ => {
                    return Err(ValueError::not_one_of(
                        "action",
                        v,
                        "is not allow, block or bypass",
                    ));
                }
            }
        }
        "enable" | "enabled" => {
            rule.enabled = yes(v)
                .ok_or_else(|| ValueError::not_one_of("", v, "is not yes/no or True/False"))?
        }
        "protocol" => {
            rule.terms.proto = ProtoMatch::parse(v)
                .ok_or_else(|| ValueError::not_one_of("protocol", v, "unknown"))?
        }
        "localport" => rule.terms.set_local_ports(values)?,
        "remoteip" | "remoteaddress" => rule.terms.remote = parse_remote(values, sink, line)?,
        "security" => {
            rule.terms.secure = !matches!(v.to_ascii_lowercase().as_str(), "notrequired" | "")
        }
        "authentication" | "encryption"
            if v.eq_ignore_ascii_case("required") || v.eq_ignore_ascii_case("dynamic") =>
        {
            rule.terms.secure = true;
        }
        "overrideblockrules" if yes(v) == Some(true) => {
            rule.terms.action = FwAction::Bypass;
            rule.terms.secure = true;
        }
        // The program, service or package the rule is scoped to: the same condition as a
        // store's App=, Svc=, AppPkgId= ([`Condition`]), one rule for every reader.
        "program" => rule.terms.condition.program = Condition::owner_from_script(v),
        "service" => rule.terms.condition.service = Condition::owner_from_script(v),
        "package" => rule.terms.condition.package = Condition::owner_from_script(v),
        "localip" | "localaddress" => {
            rule.terms.condition.local = match parse_remote(values, sink, line)?.as_slice() {
                [AddrMatch::Any] => Vec::new(),
                list => list.to_vec(),
            }
        }
        // Conditions the model does not check: the rule depends on them (conditional),
        // never widened to every remote port, interface or user.
        "remoteport" | "interfacetype" | "interfacealias" | "interface" | "rmtcomputergrp"
        | "rmtusrgrp" | "remoteuser" | "remotemachine" | "localuser"
            if !values
                .iter()
                .all(|x| x.trim().is_empty() || x.trim().eq_ignore_ascii_case("any")) =>
        {
            let field = format!("{key}={}", values.join(","));
            rule.terms
                .condition
                .unmodelled
                .retain(|u| !u.to_ascii_lowercase().starts_with(&format!("{key}=")));
            rule.terms
                .condition
                .unmodelled
                .push(excerpt(&field).into_owned());
        }
        // Profile, description, group and edge traversal do not change which source may
        // reach which local port in our model (a rule counts in any profile).
        _ => {}
    }
    Ok(())
}

fn finish(rules: &mut Vec<FwRule>, mut rule: FwRule, sink: &mut Sink) {
    if rule.name.is_empty() {
        rule.name = rule.display.clone();
    }
    if let Some(p) = rule.terms.ports.as_ranges() {
        let label = rule.label().to_string();
        check_name_ports(sink, rule.line, &label, p, &format!("local port {p}"));
    }
    rules.push(rule);
}

/// Whether a command may add Windows' built-in rules (a group or a built-in rule enabled by
/// name) to the rules it is given: yes when its own file is read; no when [`FwEdit::replay`]
/// runs it again on the rules of the files before, which its own file already holds them
/// beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adds {
    Yes,
    No,
}

/// `netsh advfirewall firewall <verb> rule k=v ...`: `words` start after `firewall`.
pub fn apply_netsh(rules: &mut Vec<FwRule>, sink: &mut Sink, line: usize, words: &[String]) {
    netsh_rule(rules, sink, line, words, Adds::Yes)
}

fn netsh_rule(rules: &mut Vec<FwRule>, sink: &mut Sink, line: usize, words: &[String], adds: Adds) {
    let verb = words
        .first()
        .map(|w| w.to_ascii_lowercase())
        .unwrap_or_default();
    if words.get(1).map(|w| w.to_ascii_lowercase()).as_deref() != Some("rule") {
        if matches!(verb.as_str(), "add" | "set" | "delete") {
            sink.parse_error(
                line,
                format!(
                    "netsh advfirewall firewall {verb}: expected 'rule' after '{verb}'",
                    verb = excerpt(&verb)
                ),
                "write netsh advfirewall firewall add rule name=... dir=in action=block ...",
            );
        }
        return;
    }
    let mut before: Vec<(String, Vec<String>)> = Vec::new();
    let mut after: Vec<(String, Vec<String>)> = Vec::new();
    let mut seen_new = false;
    let args = &words[2..];
    for (i, w) in args.iter().enumerate() {
        if w.eq_ignore_ascii_case("new") {
            seen_new = true;
            continue;
        }
        let spaced = |a: &String| a.starts_with('=');
        let next_bare = args
            .get(i + 1)
            .is_some_and(|a| !a.contains('=') && !a.eq_ignore_ascii_case("new"));
        if (!w.contains('=') && args.get(i + 1).is_some_and(spaced))
            || spaced(w)
            || (w.ends_with('=') && next_bare)
        {
            // `Name = "x"`: netsh splits its arguments at spaces and takes a tag and its
            // value from one argument, split at '=' (netsh.h: NETSH_CMD_DELIMITER " ",
            // NETSH_ARG_DELIMITER "="), so no argument here is the tag=value netsh wants.
            sink.about(w).parse_error(
                line,
                format!(
                    "'{w}' in netsh advfirewall rule: spaces around '='; netsh takes each \
                     tag=value as one argument (it splits arguments at spaces), so it does not \
                     read this line as the rule it means; the rule is left out",
                    w = excerpt(w)
                ),
                "write tag=value with no space around '=': name=\"Block RPC\" dir=in",
            );
            return;
        }
        let Some((k, v)) = w.split_once('=') else {
            sink.about(w).parse_error(
                line,
                format!(
                    "'{w}' in netsh advfirewall rule: expected key=value",
                    w = excerpt(w)
                ),
                "quote values with spaces: name=\"Block RPC\"",
            );
            return;
        };
        let k = k.to_ascii_lowercase();
        let v = if matches!(
            k.as_str(),
            "localport" | "remoteip" | "remoteport" | "localip"
        ) {
            list(v)
        } else {
            vec![v.to_string()]
        };
        if seen_new {
            after.push((k, v));
        } else {
            before.push((k, v));
        }
    }
    let find = |ps: &[(String, Vec<String>)], k: &str| {
        ps.iter()
            .find(|(x, _)| x == k)
            .and_then(|(_, v)| v.first().cloned())
    };
    match verb.as_str() {
        "add" => {
            let mut rule = FwRule::new(line, Dialect::NetshAdvfirewall);
            for (k, v) in &before {
                if let Err(e) = set_param(&mut rule, k, v, sink, line) {
                    report_bad(sink, line, k, &e, "netsh");
                    return;
                }
            }
            if find(&before, "name").is_none() {
                sink.parse_error(
                    line,
                    "netsh advfirewall firewall add rule without name=",
                    "add name=\"...\"",
                );
                return;
            }
            finish(rules, rule, sink);
        }
        "delete" => {
            let Some(n) = find(&before, "name") else {
                if let Some(g) = find(&before, "group") {
                    let sel = GroupEdit {
                        tool: "netsh advfirewall",
                        label: &g,
                        what: GroupWhat::Remove,
                        selector: other_selectors(&before),
                        dialect: Dialect::NetshAdvfirewall,
                    };
                    edit_group(
                        rules,
                        sink,
                        line,
                        &sel,
                        |n| n.eq_ignore_ascii_case(g.trim()) || groups::same_indirect(&g, n),
                        &[],
                        adds,
                    );
                }
                return;
            };
            rules.retain(|r| !r.named(&n));
        }
        "set" => {
            let enabling = find(&after, "enable").as_deref().and_then(yes);
            let Some(n) = find(&before, "name") else {
                if let Some(g) = find(&before, "group") {
                    let sel = GroupEdit {
                        tool: "netsh advfirewall",
                        label: &g,
                        what: GroupWhat::from_enable(enabling),
                        selector: other_selectors(&before),
                        dialect: Dialect::NetshAdvfirewall,
                    };
                    edit_group(
                        rules,
                        sink,
                        line,
                        &sel,
                        |n| n.eq_ignore_ascii_case(g.trim()) || groups::same_indirect(&g, n),
                        &after,
                        adds,
                    );
                }
                return;
            };
            if enabling == Some(true) && adds == Adds::Yes {
                add_builtin_named(rules, line, Dialect::NetshAdvfirewall, |x| {
                    x.eq_ignore_ascii_case(n.trim())
                });
            }
            for r in rules.iter_mut().filter(|r| r.named(&n)) {
                for (k, v) in &after {
                    if let Err(e) = set_param(r, k, v, sink, line) {
                        report_bad(sink, line, k, &e, "netsh");
                        return;
                    }
                }
            }
        }
        _ => {}
    }
}

/// What a command does to a rule group it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupWhat {
    Enable,
    Disable,
    /// Changes other properties (`new remoteip=...`, `Set-NetFirewallRule -DisplayGroup ...
    /// -RemoteAddress ...`).
    Change,
    Remove,
}

impl GroupWhat {
    fn from_enable(enable: Option<bool>) -> GroupWhat {
        match enable {
            Some(true) => GroupWhat::Enable,
            Some(false) => GroupWhat::Disable,
            None => GroupWhat::Change,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            GroupWhat::Enable => "enables",
            GroupWhat::Disable => "disables",
            GroupWhat::Change => "changes",
            GroupWhat::Remove => "removes",
        }
    }
}

/// A command that names a rule group rather than its rules.
struct GroupEdit<'a> {
    /// `netsh advfirewall`, `Enable-NetFirewallRule`, ...
    tool: &'a str,
    /// The group as written.
    label: &'a str,
    what: GroupWhat,
    /// The other selectors of a netsh `set rule group=...` (`dir=in`, `profile=domain`,
    /// `protocol=tcp`), as `k=v`.
    selector: Vec<(String, String)>,
    dialect: Dialect,
}

/// The selectors of a netsh `set|delete rule` beside `group=` (and `name=`).
fn other_selectors(before: &[(String, Vec<String>)]) -> Vec<(String, String)> {
    before
        .iter()
        .filter(|(k, _)| k != "group" && k != "name")
        .map(|(k, v)| (k.clone(), v.join(",")))
        .collect()
}

/// PowerShell's `-Name`/`-DisplayName`/`-DisplayGroup`/`-Group` match: a wildcard pattern
/// when it holds one, else the name without regard to case.
fn ps_names(pattern: &str, name: &str) -> bool {
    if pattern.contains(['*', '?', '[', ']', '`']) {
        ps_wildcard_match(pattern, name)
    } else {
        pattern.trim().eq_ignore_ascii_case(name.trim())
    }
}

/// One of Windows' built-in rules (`data/firewall_groups.tsv`) as a rule of the script that
/// enabled it, cited at that line: its protocol, ports (`RPC`, `RPC-EPMap`), default remote
/// scope, and its program and service as the rule's condition, which the model decides as it
/// does a store's `App=`/`Svc=`. A group that only some Windows versions have is conditional
/// on it.
fn builtin_rule(b: &groups::BuiltinRule, line: usize, dialect: Dialect) -> FwRule {
    let mut r = FwRule::new(line, dialect);
    r.name = b.id.to_string();
    r.display = b.display.to_string();
    r.terms.proto = b.proto;
    if b.lport != "Any" && r.terms.set_local_ports(&[b.lport.to_string()]).is_err() {
        // The table's tests hold every port to the grammar; should one not read, the rule
        // depends on it rather than covering every port.
        r.terms
            .condition
            .unmodelled
            .push(format!("LPort={}", b.lport));
    }
    if b.local_subnet {
        r.terms.remote = vec![AddrMatch::Keyword {
            name: "LocalSubnet".into(),
        }];
    }
    r.terms.condition.program = b.program.map(str::to_string);
    r.terms.condition.service = b.service.map(str::to_string);
    if let Some(hosts) = b.hosts {
        r.terms.condition.unmodelled.push(format!(
            "the host's Windows having the group '{}' ({hosts})",
            b.group_name()
        ));
    }
    r
}

/// A command enabled a rule by name that the files do not hold: when the name is one of
/// Windows' built-in rules in the table (`Enable-NetFirewallRule -Name
/// RemoteEventLogSvc-In-TCP`, `netsh ... set rule name="COM+ Network Access (DCOM-In)" new
/// enable=yes`), the built-in rule joins the rules, enabled.
fn add_builtin_named(
    rules: &mut Vec<FwRule>,
    line: usize,
    dialect: Dialect,
    matches: impl Fn(&str) -> bool,
) {
    if rules
        .iter()
        .any(|r| matches(&r.name) || matches(&r.display))
    {
        return;
    }
    if let Ok(table) = groups::get() {
        for b in table.rules_named(&matches) {
            rules.push(builtin_rule(b, line, dialect));
        }
    }
}

/// A rule group named rather than its rules (`set rule group="Remote Administration" new
/// enable=yes`, `Enable-NetFirewallRule -DisplayGroup ...`, `-Group "@FirewallAPI.dll,-29502"`):
/// the group's rules are Windows' built-in ones. A group in rpcaudit's table
/// ([`groups`]) is enabled, disabled, changed or removed rule by rule (its rules join the
/// file's rules when enabled); a group not in the table is said (`unknown-field`) and stands in
/// the decision as a rule on every port that depends on it: an allow when enabled or changed, a
/// block when disabled or removed (it may take allow rules out), so the decisions it could
/// change are conditional, never silently as if the line were not there.
fn edit_group(
    rules: &mut Vec<FwRule>,
    sink: &mut Sink,
    line: usize,
    edit: &GroupEdit<'_>,
    matches: impl Fn(&str) -> bool,
    set: &[(String, Vec<String>)],
    adds: Adds,
) {
    // `dir=out` selects the group's outbound rules, which the model does not hold.
    if edit
        .selector
        .iter()
        .any(|(k, v)| k == "dir" && v.eq_ignore_ascii_case("out"))
    {
        return;
    }
    let table: Vec<&groups::BuiltinRule> = groups::get()
        .map(|t| t.group_matching(&matches))
        .unwrap_or_default();
    if table.is_empty() {
        group_not_modelled(sink, line, edit);
        if adds == Adds::Yes {
            rules.push(group_stand_in(line, edit));
        }
        return;
    }
    // A selector the model does not read (`protocol=`, `localport=`, ...) narrows which of
    // the group's rules the command reaches: the rules it adds depend on it.
    let narrowed: Vec<String> = edit
        .selector
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "dir" | "profile"))
        .map(|(k, v)| format!("{k}={v} (selector)"))
        .collect();
    for b in table {
        let present = rules.iter().any(|r| r.name.eq_ignore_ascii_case(b.id));
        match edit.what {
            GroupWhat::Remove => {
                rules.retain(|r| !r.name.eq_ignore_ascii_case(b.id));
                continue;
            }
            GroupWhat::Enable if !present && adds == Adds::Yes => {
                let mut r = builtin_rule(b, line, edit.dialect);
                r.terms
                    .condition
                    .unmodelled
                    .extend(narrowed.iter().cloned());
                rules.push(r);
            }
            _ => {}
        }
        for r in rules
            .iter_mut()
            .filter(|r| r.name.eq_ignore_ascii_case(b.id))
        {
            match edit.what {
                GroupWhat::Enable => r.enabled = true,
                GroupWhat::Disable => r.enabled = false,
                _ => {}
            }
            for (k, v) in set.iter().filter(|(k, _)| k != "enable" && k != "enabled") {
                if let Err(e) = set_param(r, k, v, sink, line) {
                    report_bad(sink, line, k, &e, edit.tool);
                    return;
                }
            }
        }
    }
}

/// `netsh firewall set service [type=]REMOTEADMIN|FILEANDPRINT|REMOTEDESKTOP|UPNP|ALL
/// [[mode=]ENABLE|DISABLE] [[scope=]ALL|SUBNET|CUSTOM] [[addresses=]...] [[profile=]...]`, the
/// Windows XP SP2 / Server 2003 firewall context ("Help: Enable or disable the remote
/// administration exception", Microsoft Learn cc737332), which later Windows keeps for old
/// scripts: each service is the built-in group of that name ([`edit_group`]); `scope=SUBNET`
/// narrows its rules to the local subnet, `CUSTOM` to `addresses=`, `ALL` opens them to any
/// address. `words` start after `service`.
pub fn apply_netsh_legacy_service(
    rules: &mut Vec<FwRule>,
    sink: &mut Sink,
    line: usize,
    words: &[String],
) {
    const ORDER: [&str; 5] = ["type", "mode", "scope", "addresses", "profile"];
    let mut params: Vec<(String, String)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        match w.split_once('=') {
            Some((k, v)) => params.push((k.to_ascii_lowercase(), v.to_string())),
            None => match ORDER.get(i) {
                Some(k) => params.push(((*k).to_string(), w.to_string())),
                None => {
                    sink.about(w).parse_error(
                        line,
                        format!("'{w}' in netsh firewall set service: expected key=value", w = excerpt(w)),
                        "write netsh firewall set service type=REMOTEADMIN mode=ENABLE scope=SUBNET",
                    );
                    return;
                }
            },
        }
    }
    let get = |k: &str| {
        params
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let services: &[(&str, &str)] = &[
        ("remoteadmin", "Remote Administration"),
        ("fileandprint", "File and Printer Sharing"),
        ("remotedesktop", "Remote Desktop"),
        ("upnp", "UPnP Framework"),
    ];
    let Some(kind) = get("type") else {
        sink.parse_error(
            line,
            "netsh firewall set service without type=",
            "write netsh firewall set service type=REMOTEADMIN mode=ENABLE",
        );
        return;
    };
    let chosen: Vec<&str> = if kind == "all" {
        services.iter().map(|(_, g)| *g).collect()
    } else if let Some((_, g)) = services.iter().find(|(k, _)| *k == kind) {
        vec![g]
    } else {
        sink.about(&kind).parse_error(
            line,
            format!(
                "netsh firewall set service type={}: not a service netsh knows",
                excerpt(&kind)
            ),
            "type= takes FILEANDPRINT, REMOTEADMIN, REMOTEDESKTOP, UPNP or ALL",
        );
        return;
    };
    let what = match get("mode").as_deref() {
        None | Some("enable") => GroupWhat::Enable,
        Some("disable") => GroupWhat::Disable,
        Some(m) => {
            sink.about(m).parse_error(
                line,
                format!(
                    "netsh firewall set service mode={}: ENABLE or DISABLE",
                    excerpt(m)
                ),
                "write mode=ENABLE or mode=DISABLE",
            );
            return;
        }
    };
    let remote: Vec<(String, Vec<String>)> = match get("scope").as_deref() {
        Some("all") => vec![("remoteip".into(), vec!["any".into()])],
        Some("subnet") => vec![("remoteip".into(), vec!["LocalSubnet".into()])],
        Some("custom") => match params.iter().find(|(k, _)| k == "addresses") {
            Some((_, a)) => vec![("remoteip".into(), list(a))],
            None => {
                sink.parse_error(
                    line,
                    "netsh firewall set service scope=CUSTOM without addresses=",
                    "add addresses=10.1.1.0/255.255.255.0,...",
                );
                return;
            }
        },
        _ => Vec::new(),
    };
    for group in chosen {
        let edit = GroupEdit {
            tool: "netsh firewall set service",
            label: group,
            what,
            selector: Vec::new(),
            dialect: Dialect::NetshAdvfirewall,
        };
        let set = if what == GroupWhat::Enable {
            remote.as_slice()
        } else {
            &[]
        };
        edit_group(
            rules,
            sink,
            line,
            &edit,
            |n| n.eq_ignore_ascii_case(group),
            set,
            Adds::Yes,
        );
    }
}

/// The stand-in for a group not in the table: a rule on every port and protocol that decides
/// only under the group's own rules, which rpcaudit does not know.
fn group_stand_in(line: usize, edit: &GroupEdit<'_>) -> FwRule {
    let mut r = FwRule::new(line, edit.dialect);
    r.name = format!("rule group '{}'", edit.label.trim());
    r.display = r.name.clone();
    r.terms.action = match edit.what {
        GroupWhat::Enable | GroupWhat::Change => FwAction::Allow,
        GroupWhat::Disable | GroupWhat::Remove => FwAction::Block,
    };
    r.terms.condition.unmodelled.push(format!(
        "group '{}' (its built-in rules are not in rpcaudit's table)",
        edit.label.trim()
    ));
    r
}

/// A group not in rpcaudit's table: said, and its decisions conditional ([`edit_group`]).
fn group_not_modelled(sink: &mut Sink, line: usize, edit: &GroupEdit<'_>) {
    let known = groups::get()
        .map(|t| t.names().join(", "))
        .unwrap_or_default();
    sink.about(edit.label).push(
        Code::UnknownField,
        Severity::Warning,
        line,
        format!(
            "{tool} {what} the built-in rule group '{group}' by name; rpcaudit's table of \
             Windows' built-in groups does not hold it (it holds {known}), so the decisions on \
             the ports its rules could cover are conditional on them",
            tool = edit.tool,
            what = edit.what.verb(),
            group = excerpt(edit.label)
        ),
        "write the group's rules out in the script (netsh advfirewall firewall add rule, \
         New-NetFirewallRule), or give rpcaudit a store export of the host (reg export of the \
         FirewallRules key), which holds them",
    );
}

fn report_bad(sink: &mut Sink, line: usize, key: &str, why: &ValueError, tool: &str) {
    sink.about(key);
    if matches!(why, ValueError::TypographicDash { .. }) {
        sink.push(
            Code::TypographicDash,
            Severity::Error,
            line,
            format!("{key}: {why}; {tool} rejects the rule"),
            "replace the dash with an ASCII '-'",
        );
    } else {
        sink.parse_error(
            line,
            format!("{key}: {why}"),
            "fix the value as the Windows Firewall reference describes",
        );
    }
}

/// PowerShell's word splitter lives in [`crate::script::words`], beside the quoting rules that
/// write what it reads.
pub use crate::script::words::{PS_SINGLE_QUOTES, ps_words};

/// One element of a PowerShell wildcard pattern.
enum WildPart {
    Star,
    One,
    Lit(char),
    /// `[abc]`, `[a-z]`: inclusive ranges.
    Class(Vec<(char, char)>),
}

fn wild_parts(pattern: &str) -> Option<Vec<WildPart>> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' => WildPart::Star,
            '?' => WildPart::One,
            '`' => WildPart::Lit(chars.next().unwrap_or('`')),
            '[' => {
                let mut set = Vec::new();
                let mut items: Vec<char> = Vec::new();
                loop {
                    match chars.next()? {
                        ']' => break,
                        '`' => items.push(chars.next()?),
                        x => items.push(x),
                    }
                }
                let mut i = 0;
                while i < items.len() {
                    if i + 2 < items.len() && items[i + 1] == '-' {
                        set.push((items[i], items[i + 2]));
                        i += 3;
                    } else {
                        set.push((items[i], items[i]));
                        i += 1;
                    }
                }
                WildPart::Class(set)
            }
            x => WildPart::Lit(x),
        });
    }
    Some(out)
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// PowerShell's wildcard match, case-insensitive (`-like`; what `-DisplayName` and `-Name` of
/// the NetFirewallRule cmdlets take): `*` any run, `?` one character, `[abc]` / `[a-z]` one of
/// a set, a backtick makes the next character literal. An invalid pattern (an unclosed `[`)
/// matches nothing, as PowerShell reports it as an error.
pub fn ps_wildcard_match(pattern: &str, name: &str) -> bool {
    let Some(parts) = wild_parts(pattern) else {
        return false;
    };
    let text: Vec<char> = name.chars().map(fold).collect();
    let one = |p: &WildPart, c: char| match p {
        WildPart::One => true,
        WildPart::Lit(l) => fold(*l) == c,
        WildPart::Class(set) => set
            .iter()
            .any(|&(a, b)| (fold(a)..=fold(b)).contains(&c) || (a..=b).contains(&c)),
        WildPart::Star => false,
    };
    // Greedy matching with one backtrack point per star: linear in practice.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match parts.get(p) {
            Some(WildPart::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(x) if one(x, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    parts[p..].iter().all(|x| matches!(x, WildPart::Star))
}

fn is_ps_param(w: &str) -> bool {
    let mut chars = w.chars();
    match chars.next() {
        Some(c) if c == '-' || is_typographic_dash(c) => {
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        }
        _ => false,
    }
}

/// PowerShell NetSecurity cmdlets. `cmdlet` is lower-case; `words` follow it.
pub fn apply_powershell(
    rules: &mut Vec<FwRule>,
    sink: &mut Sink,
    line: usize,
    cmdlet: &str,
    words: &[String],
) {
    powershell_rule(rules, sink, line, cmdlet, words, Adds::Yes)
}

fn powershell_rule(
    rules: &mut Vec<FwRule>,
    sink: &mut Sink,
    line: usize,
    cmdlet: &str,
    words: &[String],
    adds: Adds,
) {
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if !is_ps_param(w) {
            sink.about(w).parse_error(
                line,
                format!("unexpected '{w}' in {cmdlet}: expected a -Parameter", w = excerpt(w)),
                "name every parameter: New-NetFirewallRule -DisplayName \"...\" -Direction Inbound ...",
            );
            return;
        }
        let first = w.chars().next().unwrap_or('-');
        if is_typographic_dash(first) {
            sink.about(w).push(
                Code::TypographicDash,
                Severity::Warning,
                line,
                format!(
                    "'{w}' starts with an {}; PowerShell accepts it, but the script breaks when it is reused with netsh or cmd tools",
                    dash_name(first), w = excerpt(w)
                ),
                format!("write '-{}'", w.chars().skip(1).collect::<String>()),
            );
        }
        let body: String = w.chars().skip(1).collect();
        let (name, inline) = match body.split_once(':') {
            Some((n, v)) => (n.to_ascii_lowercase(), Some(v.to_string())),
            None => (body.to_ascii_lowercase(), None),
        };
        let mut raw = Vec::new();
        if let Some(v) = inline {
            raw.push(v);
        }
        while i < words.len() && !is_ps_param(&words[i]) {
            raw.push(words[i].clone());
            i += 1;
        }
        let joined = raw.join(" ");
        let inner = joined
            .trim()
            .trim_start_matches("@(")
            .trim_end_matches(')')
            .to_string();
        // Only address and port parameters are arrays; names may contain commas.
        let is_list = matches!(
            name.as_str(),
            "localport" | "remoteport" | "remoteaddress" | "localaddress" | "profile" | "protocol"
        );
        let values: Vec<String> = if is_list {
            inner
                .split(',')
                .map(|s| s.trim().trim_matches(['"', '\'']).to_string())
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            vec![raw.first().cloned().unwrap_or_default()]
        };
        if values
            .iter()
            .any(|v| v.starts_with('$') && yes(v).is_none())
        {
            sink.push(
                Code::ParseError,
                Severity::Warning,
                line,
                format!("{cmdlet} -{name} uses a variable ({joined}); rpcaudit does not run PowerShell, so the rule is left out"),
                "write the literal value in the script you give rpcaudit",
            );
            return;
        }
        params.push((name, values));
    }
    let find = |k: &str| {
        params
            .iter()
            .find(|(x, _)| x == k)
            .and_then(|(_, v)| v.first().cloned())
    };
    match cmdlet {
        "new-netfirewallrule" => {
            let mut rule = FwRule::new(line, Dialect::Powershell);
            for (k, v) in &params {
                if let Err(e) = set_param(&mut rule, k, v, sink, line) {
                    report_bad(sink, line, k, &e, "New-NetFirewallRule");
                    return;
                }
            }
            if rule.display.is_empty() && rule.name.is_empty() {
                sink.parse_error(
                    line,
                    "New-NetFirewallRule without -DisplayName",
                    "add -DisplayName \"...\"",
                );
                return;
            }
            finish(rules, rule, sink);
        }
        _ => {
            let enabling = match cmdlet {
                "enable-netfirewallrule" => Some(true),
                "disable-netfirewallrule" => Some(false),
                _ => find("enabled").as_deref().and_then(yes),
            };
            let Some(n) = find("displayname").or_else(|| find("name")) else {
                if let Some(g) = find("displaygroup").or_else(|| find("group")) {
                    let what = match cmdlet {
                        "remove-netfirewallrule" => GroupWhat::Remove,
                        _ => GroupWhat::from_enable(enabling),
                    };
                    let sel = GroupEdit {
                        tool: cmdlet_name(cmdlet),
                        label: &g,
                        what,
                        selector: Vec::new(),
                        dialect: Dialect::Powershell,
                    };
                    let set: Vec<(String, Vec<String>)> = params
                        .iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "displaygroup" | "group"))
                        .cloned()
                        .collect();
                    edit_group(
                        rules,
                        sink,
                        line,
                        &sel,
                        |x| ps_names(&g, x) || groups::same_indirect(&g, x),
                        &set,
                        adds,
                    );
                }
                return;
            };
            if enabling == Some(true) && adds == Adds::Yes && !rules.iter().any(|r| r.named_ps(&n))
            {
                add_builtin_named(rules, line, Dialect::Powershell, |x| ps_names(&n, x));
            }
            match cmdlet {
                "remove-netfirewallrule" => rules.retain(|r| !r.named_ps(&n)),
                "enable-netfirewallrule" | "disable-netfirewallrule" => {
                    let on = cmdlet.starts_with("enable");
                    rules
                        .iter_mut()
                        .filter(|r| r.named_ps(&n))
                        .for_each(|r| r.enabled = on);
                }
                "set-netfirewallrule" => {
                    for r in rules.iter_mut().filter(|r| r.named_ps(&n)) {
                        for (k, v) in params
                            .iter()
                            .filter(|(k, _)| k != "displayname" && k != "name")
                        {
                            if let Err(e) = set_param(r, k, v, sink, line) {
                                report_bad(sink, line, k, &e, "Set-NetFirewallRule");
                                return;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A firewall cmdlet's name as Microsoft writes it, from its lower-case form.
fn cmdlet_name(cmdlet: &str) -> &'static str {
    match cmdlet {
        "enable-netfirewallrule" => "Enable-NetFirewallRule",
        "disable-netfirewallrule" => "Disable-NetFirewallRule",
        "remove-netfirewallrule" => "Remove-NetFirewallRule",
        "set-netfirewallrule" => "Set-NetFirewallRule",
        _ => "a firewall cmdlet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::text::split_words;

    fn netsh(lines: &[&str]) -> (Vec<FwRule>, Sink) {
        let mut rules = Vec::new();
        let mut sink = Sink::new("fw.cmd");
        for (i, l) in lines.iter().enumerate() {
            let w = split_words(l);
            apply_netsh(&mut rules, &mut sink, i + 1, &w[3..]);
        }
        (rules, sink)
    }

    fn ps(lines: &[&str]) -> (Vec<FwRule>, Sink) {
        let mut rules = Vec::new();
        let mut sink = Sink::new("fw.ps1");
        for (i, l) in lines.iter().enumerate() {
            let w = ps_words(l);
            apply_powershell(
                &mut rules,
                &mut sink,
                i + 1,
                &w[0].to_ascii_lowercase(),
                &w[1..],
            );
        }
        (rules, sink)
    }

    /// A built-in rule group enabled by name brings in Windows' own rules of that group, from
    /// the table: their ports (`RPC`, `RPC-EPMap`), programs, services and default scope.
    #[test]
    fn rule_groups_enabled_by_name_bring_in_their_rules() {
        let (rules, sink) = netsh(&[
            r#"netsh advfirewall firewall set rule group="Remote Service Management" new enable=yes"#,
        ]);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        assert_eq!(rules.len(), 6);
        let epmap = rules
            .iter()
            .find(|r| r.name == "RemoteSvcAdmin-RPCSS-In-TCP")
            .unwrap();
        assert!(epmap.enabled);
        assert_eq!(epmap.terms.ports.to_string(), "135");
        assert_eq!(epmap.terms.condition.service.as_deref(), Some("RPCSS"));
        assert_eq!(epmap.terms.remote.len(), 1);
        assert!(
            matches!(&epmap.terms.remote[0], AddrMatch::Keyword { name } if name == "LocalSubnet")
        );
        let rpc = rules
            .iter()
            .find(|r| r.name == "RemoteSvcAdmin-In-TCP-NoScope")
            .unwrap();
        assert_eq!(rpc.terms.ports, PortMatch::RpcDynamic);
        assert_eq!(rpc.terms.remote, vec![AddrMatch::Any]);
        assert_eq!(
            rpc.terms.condition.program.as_deref(),
            Some(r"%SystemRoot%\system32\services.exe")
        );
        // By display group, by indirect name, with PowerShell wildcards; Set- with -Enabled.
        for line in [
            r#"Enable-NetFirewallRule -DisplayGroup "Remote Event Log Management""#,
            r#"Enable-NetFirewallRule -Group "@FirewallAPI.dll,-29252""#,
            r#"Enable-NetFirewallRule -Group "@%SystemRoot%\system32\firewallapi.dll,-29252""#,
            r#"Enable-NetFirewallRule -DisplayGroup "Remote Event Log*""#,
            r#"Set-NetFirewallRule -DisplayGroup "Remote Event Log Management" -Enabled True"#,
        ] {
            let (rules, sink) = ps(&[line]);
            assert!(sink.findings.is_empty(), "{line}: {:?}", sink.findings);
            assert_eq!(rules.len(), 6, "{line}");
            assert!(
                rules
                    .iter()
                    .all(|r| r.enabled && r.name.starts_with("RemoteEventLogSvc"))
            );
        }
        // Set- narrows the group's rules; Disable- takes them out again.
        let (rules, _) = ps(&[
            r#"Set-NetFirewallRule -DisplayGroup "Remote Scheduled Tasks Management" -Enabled True -RemoteAddress 10.1.1.0/24"#,
            r#"Disable-NetFirewallRule -DisplayGroup "Remote Scheduled Tasks Management""#,
        ]);
        assert_eq!(rules.len(), 4);
        assert!(
            rules
                .iter()
                .all(|r| r.terms.remote.len() == 1 && !r.enabled)
        );
        assert!(rules.iter().all(|r| r.to_rule("f").is_none()));
        // A built-in rule enabled by its own name.
        let (rules, _) =
            ps(&["Set-NetFirewallRule -Name RemoteEventLogSvc-RPCSS-In-TCP -Enabled True"]);
        assert_eq!(rules.len(), 1);
        let (rules, _) = netsh(&[
            r#"netsh advfirewall firewall set rule name="COM+ Network Access (DCOM-In)" new enable=yes"#,
        ]);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].terms.ports.to_string(), "135");
        // `dir=out` selects no inbound rule.
        let (rules, _) = netsh(&[
            r#"netsh advfirewall firewall set rule group="Remote Service Management" dir=out new enable=yes"#,
        ]);
        assert!(rules.is_empty());
        // The legacy context: netsh firewall set service.
        let mut rules = Vec::new();
        let mut sink = Sink::new("fw.cmd");
        apply_netsh_legacy_service(
            &mut rules,
            &mut sink,
            1,
            &split_words("type=remoteadmin mode=enable scope=subnet"),
        );
        apply_netsh_legacy_service(
            &mut rules,
            &mut sink,
            2,
            &split_words("fileandprint enable"),
        );
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        assert_eq!(
            rules
                .iter()
                .filter(|r| r.name.starts_with("RemoteAdmin"))
                .count(),
            6
        );
        assert!(
            rules
                .iter()
                .filter(|r| r.name.starts_with("RemoteAdmin"))
                .all(|r| matches!(&r.terms.remote[..], [AddrMatch::Keyword { .. }]))
        );
        assert!(rules.iter().any(|r| r.name == "FPS-SMB-In-TCP-NoScope"));
    }

    /// A group rpcaudit's table does not hold is said (a warning naming it) and stands in as a
    /// rule that depends on it on every port: enabled, an allow; disabled, a block.
    #[test]
    fn a_group_not_in_the_table_is_said_and_conditional() {
        let (rules, sink) = netsh(&[
            r#"netsh advfirewall firewall set rule group="Media Center Extenders" new enable=yes"#,
        ]);
        let [f] = sink.findings.as_slice() else {
            panic!("{:?}", sink.findings)
        };
        assert_eq!(
            (f.code.clone(), f.severity),
            (Code::UnknownField, Severity::Warning)
        );
        assert!(
            f.message.starts_with(
                "netsh advfirewall enables the built-in rule group 'Media Center Extenders'"
            ),
            "{}",
            f.message
        );
        let [r] = rules.as_slice() else {
            panic!("{rules:?}")
        };
        assert_eq!(
            (r.terms.action, &r.terms.ports),
            (FwAction::Allow, &PortMatch::Any)
        );
        assert!(!r.terms.condition.unmodelled.is_empty());
        let (rules, sink) = ps(&[r#"Disable-NetFirewallRule -DisplayGroup "Some Group""#]);
        assert_eq!(sink.findings.len(), 1);
        assert_eq!(rules[0].terms.action, FwAction::Block);
    }

    /// `program=`, `service=`, `-Program`, `-Service`, `-Package` scope a script's rule as the
    /// store's App=, Svc=, AppPkgId= do; `Any` is no scope; the remote port, interface types
    /// and remote users make the rule conditional; local addresses are kept.
    #[test]
    fn program_and_service_scope_script_rules() {
        let (rules, sink) = netsh(&[
            r#"netsh advfirewall firewall add rule name=A dir=in action=allow protocol=TCP localport=any program=%SystemRoot%\system32\svchost.exe service=winmgmt"#,
            r#"netsh advfirewall firewall add rule name=B dir=in action=allow protocol=TCP localport=135 program=any service=any remoteport=any"#,
            r#"netsh advfirewall firewall add rule name=C dir=in action=allow protocol=TCP localport=5000 remoteport=1024-65535 interfacetype=lan localip=10.0.0.5"#,
        ]);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        assert_eq!(rules[0].terms.condition.service.as_deref(), Some("winmgmt"));
        assert!(rules[0].terms.condition.program.is_some());
        assert!(
            rules[1].terms.condition.is_empty(),
            "{:?}",
            rules[1].terms.condition
        );
        assert_eq!(
            rules[2].terms.condition.unmodelled,
            vec![
                "remoteport=1024-65535".to_string(),
                "interfacetype=lan".to_string()
            ]
        );
        assert_eq!(rules[2].terms.condition.local.len(), 1);
        let (rules, _) = ps(&[
            r#"New-NetFirewallRule -DisplayName X -Direction Inbound -Action Allow -Protocol TCP -Program "C:\app\a.exe" -Service Spooler -Package S-1-15-2-1"#,
        ]);
        let c = &rules[0].terms.condition;
        assert_eq!(
            (
                c.program.as_deref(),
                c.service.as_deref(),
                c.package.as_deref()
            ),
            (Some(r"C:\app\a.exe"), Some("Spooler"), Some("S-1-15-2-1"))
        );
    }

    /// Real admin scripts write `Name = "x" Dir = in`: netsh splits arguments at spaces and
    /// reads tag=value from one argument, so the line is reported for what it is, not as an
    /// unquoted value, and the rule is left out.
    #[test]
    fn spaces_around_equals_are_named_as_such() {
        for line in [
            r#"netsh advfirewall firewall add rule Name = "x" Dir = in action=block protocol=TCP localport=135"#,
            r#"netsh advfirewall firewall add rule name ="x" dir=in action=block protocol=TCP localport=135"#,
            r#"netsh advfirewall firewall add rule name= "x" dir=in action=block protocol=TCP localport=135"#,
        ] {
            let (rules, sink) = netsh(&[line]);
            assert!(rules.is_empty(), "{line}");
            let [f] = sink.findings.as_slice() else {
                panic!("{line}: {:?}", sink.findings)
            };
            assert_eq!(f.code, Code::ParseError);
            assert!(
                f.message.contains("spaces around '='"),
                "{line}: {}",
                f.message
            );
            assert!(f.fix.contains("no space around '='"), "{}", f.fix);
        }
    }

    #[test]
    fn netsh_add_rule_lists_and_ranges() {
        let (rules, sink) = netsh(&[
            r#"netsh advfirewall firewall add rule name="Allow RPC 135,5001-5021" dir=in action=allow protocol=TCP localport=135,5001-5021 remoteip=10.1.1.0/24,192.168.5.1-192.168.5.9,LocalSubnet"#,
        ]);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        let r = &rules[0];
        assert_eq!(r.terms.ports.to_string(), "135,5001-5021");
        assert_eq!(r.terms.remote.len(), 3);
        assert_eq!(r.terms.action, FwAction::Allow);
        assert!(r.to_rule("f").is_some());
    }

    #[test]
    fn netsh_set_and_delete() {
        let (rules, _) = netsh(&[
            r#"netsh advfirewall firewall add rule name=A dir=in action=block protocol=TCP localport=135"#,
            r#"netsh advfirewall firewall set rule name=A new enable=no"#,
        ]);
        assert!(rules[0].to_rule("f").is_none());
        let (rules, _) = netsh(&[
            r#"netsh advfirewall firewall add rule name=A dir=in action=block protocol=TCP localport=135"#,
            r#"netsh advfirewall firewall delete rule name=A"#,
        ]);
        assert!(rules.is_empty());
    }

    #[test]
    fn netsh_bad_values() {
        let (rules, sink) = netsh(&[
            "netsh advfirewall firewall add rule name=A dir=in action=block protocol=TCP localport=5001\u{2013}5021",
            "netsh advfirewall firewall add rule name=B dir=sideways action=block",
        ]);
        assert!(rules.is_empty());
        assert_eq!(sink.findings[0].code, Code::TypographicDash);
        assert_eq!(sink.findings[1].code, Code::ParseError);
    }

    #[test]
    fn powershell_forms() {
        let (rules, sink) = ps(&[
            r#"New-NetFirewallRule -DisplayName 'Allow RPC' -Direction Inbound -Action Allow -Protocol TCP -LocalPort @("135", "5001-5021") -RemoteAddress 10.1.1.0/255.255.255.0, LocalSubnet -Enabled True"#,
            r#"New-NetFirewallRule -DisplayName "Bypass" -Direction Inbound -Action Allow -Protocol TCP -LocalPort RPC -Authentication Required -OverrideBlockRules $true"#,
            r#"New-NetFirewallRule -DisplayName "Off" -Protocol TCP -LocalPort RPC-EPMap -Enabled:False"#,
        ]);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        assert_eq!(rules[0].terms.ports.to_string(), "135,5001-5021");
        assert_eq!(rules[0].terms.remote.len(), 2);
        assert_eq!(rules[1].to_rule("f").unwrap().action, RuleAction::Bypass);
        assert_eq!(rules[1].terms.ports, PortMatch::RpcDynamic);
        assert!(rules[2].to_rule("f").is_none());
        assert_eq!(rules[2].terms.ports.to_string(), "135");
    }

    #[test]
    fn powershell_en_dash_is_a_warning_and_still_works() {
        let (rules, sink) = ps(&["New-NetFirewallRule \u{2013}DisplayName X -Action Block"]);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].terms.action, FwAction::Block);
        assert_eq!(sink.findings[0].code, Code::TypographicDash);
        assert_eq!(sink.findings[0].severity, Severity::Warning);
    }

    #[test]
    fn powershell_single_quotes_and_wildcards() {
        assert_eq!(
            ps_words(
                "X -DisplayName 'O''Brien' -A 'b\u{2019}\u{2019}c' -B \u{2018}d\u{2019} -C 'e\u{2019}; f'"
            ),
            vec![
                "X",
                "-DisplayName",
                "O'Brien",
                "-A",
                "b\u{2019}c",
                "-B",
                "d",
                "-C",
                "e;",
                "f"
            ]
        );
        assert!(ps_wildcard_match("Block*", "block RPC"));
        assert!(ps_wildcard_match("B?ock [a-c]", "Block b"));
        assert!(!ps_wildcard_match("B?ock [a-c]", "Block d"));
        assert!(ps_wildcard_match("`[abc`] `*", "[abc] *"));
        assert!(!ps_wildcard_match("`[abc`] `*", "[abc] x"));
        assert!(!ps_wildcard_match("[abc", "[abc"));
        assert!(ps_wildcard_match("*", ""));
        assert!(ps_wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!ps_wildcard_match("a*b*c", "aXXbYY"));
        let (rules, _) = ps(&[
            "New-NetFirewallRule -DisplayName 'Block [1]' -Action Block -Protocol TCP -LocalPort 135",
            "New-NetFirewallRule -DisplayName 'Block 2' -Action Block -Protocol TCP -LocalPort 136",
            "Disable-NetFirewallRule -DisplayName 'Block `[1`]'",
        ]);
        assert!(!rules[0].enabled && rules[1].enabled);
        let (rules, _) = ps(&[
            "New-NetFirewallRule -DisplayName 'Block 1' -Action Block -Protocol TCP -LocalPort 135",
            "New-NetFirewallRule -DisplayName 'Block 2' -Action Block -Protocol TCP -LocalPort 136",
            "Remove-NetFirewallRule -DisplayName 'Block *'",
        ]);
        assert!(rules.is_empty());
    }

    #[test]
    fn powershell_disable_and_variables() {
        let (rules, sink) = ps(&[
            "New-NetFirewallRule -DisplayName X -Action Block -Protocol TCP -LocalPort 135",
            "Disable-NetFirewallRule -DisplayName X",
            "New-NetFirewallRule -DisplayName Y -LocalPort $port",
        ]);
        assert_eq!(rules.len(), 1);
        assert!(!rules[0].enabled);
        assert_eq!(sink.findings[0].code, Code::ParseError);
        assert_eq!(sink.findings[0].line, Some(3));
    }
}
