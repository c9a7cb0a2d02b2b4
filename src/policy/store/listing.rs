//! What Windows Firewall lists as configured, read from the two listings administrators save:
//! `netsh advfirewall firewall show rule name=all verbose` (English labels) and
//! `Get-NetFirewallRule` joined with its port and address filters as JSON (`ConvertTo-Json`;
//! enums as numbers or as strings). Called by [`crate::policy::parse_text`] before the script readers;
//! the rules become [`FwRule`]s of dialect [`Dialect::FirewallListing`], the same model the
//! script readers fill. Pure: no I/O.
//!
//! A netsh listing in another language cannot be read reliably (labels and values are
//! translated): [`localised`] names the language when it recognises the first label, and the
//! file is refused with a request for a `.reg` export of the rule store instead.

use crate::inert::excerpt;
use crate::policy::dialect::firewall::{FwAction, FwRule};
use crate::policy::model::address::{self, AddrError, AddrMatch};
use crate::policy::model::condition::Condition;
use crate::policy::model::sink::Sink;
use crate::policy::model::{Dialect, ProtoMatch};
use crate::policy::text::Line;
use serde_json::Value;

/// The first label of each rule in a localised `show rule` listing, and its language.
const LOCALISED: &[(&str, &str)] = &[
    ("Regelname:", "German"),
    ("Nom de la règle", "French"),
    ("Nombre de regla:", "Spanish"),
    ("Nome regola:", "Italian"),
    ("Nome da Regra:", "Portuguese"),
    ("Regelnaam:", "Dutch"),
    ("Имя правила:", "Russian"),
    ("Nazwa reguły:", "Polish"),
    ("規則名:", "Japanese"),
    ("规则名称:", "Chinese"),
    ("Kuralın Adı:", "Turkish"),
];

/// Does this text look like a `show rule` listing (its first line a `Rule Name:` label)?
pub fn is_netsh_listing(lines: &[Line]) -> bool {
    lines
        .first()
        .is_some_and(|l| label(&l.text).is_some_and(|(k, _)| k.eq_ignore_ascii_case("Rule Name")))
}

/// The language of a localised listing, when its first line is a known rule-name label.
pub fn localised(lines: &[Line]) -> Option<&'static str> {
    let first = lines.first()?.text.trim();
    LOCALISED
        .iter()
        .find(|(l, _)| first.to_lowercase().starts_with(&l.to_lowercase()))
        .map(|(_, lang)| *lang)
}

fn label(line: &str) -> Option<(&str, &str)> {
    let (k, v) = line.split_once(':')?;
    Some((k.trim(), v.trim()))
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn remote(items: &[String]) -> Result<Vec<AddrMatch>, AddrError> {
    let mut out = Vec::new();
    for i in items {
        let (m, _) = address::parse_firewall(i)?;
        if m == AddrMatch::Any {
            return Ok(vec![AddrMatch::Any]);
        }
        out.push(m);
    }
    if out.is_empty() {
        out.push(AddrMatch::Any);
    }
    Ok(out)
}

/// Read a `show rule name=all verbose` listing.
pub fn parse_netsh(sink: &mut Sink, lines: &[Line]) -> Vec<FwRule> {
    let mut rules = Vec::new();
    let mut cur: Option<FwRule> = None;
    let bad = |sink: &mut Sink, line: usize, k: &str, v: &str, why: &str| {
        sink.parse_error(
            line,
            format!("{k}: '{}' {why}", excerpt(v)),
            "save the listing again with: netsh advfirewall firewall show rule name=all verbose > rules.txt",
        );
    };
    for l in lines {
        let t = l.text.trim();
        if t.starts_with("---") || t.eq_ignore_ascii_case("Ok.") {
            continue;
        }
        let Some((k, v)) = label(t) else {
            continue;
        };
        let key = k.to_ascii_lowercase();
        if key == "rule name" {
            rules.extend(cur.take());
            let mut r = FwRule::new(l.number, Dialect::FirewallListing);
            r.name = v.to_string();
            r.display = v.to_string();
            cur = Some(r);
            continue;
        }
        let Some(r) = cur.as_mut() else { continue };
        match key.as_str() {
            "enabled" => r.enabled = v.eq_ignore_ascii_case("yes"),
            "direction" => r.terms.inbound = v.eq_ignore_ascii_case("in"),
            "action" => {
                r.terms.action = match v.to_ascii_lowercase().as_str() {
                    "allow" => FwAction::Allow,
                    "block" => FwAction::Block,
                    "bypass" => FwAction::Bypass,
                    _ => {
                        bad(sink, l.number, k, v, "is not Allow, Block or Bypass");
                        r.enabled = false;
                        FwAction::NotConfigured
                    }
                }
            }
            "protocol" => match ProtoMatch::parse(v) {
                Some(p) => r.terms.proto = p,
                None => {
                    bad(sink, l.number, k, v, "is not a protocol");
                    r.enabled = false;
                }
            },
            "localport" => {
                if let Err(e) = r.terms.set_local_ports(&list(v)) {
                    bad(sink, l.number, k, v, &e.to_string());
                    r.enabled = false;
                }
            }
            "remoteip" => match remote(&list(v)) {
                Ok(a) => r.terms.remote = a,
                Err(e) => {
                    bad(sink, l.number, k, v, &e.to_string());
                    r.enabled = false;
                }
            },
            "security" => r.terms.secure = !v.eq_ignore_ascii_case("notrequired"),
            // The program and service the rule is scoped to: the same condition as a store's
            // App= and Svc= (`Any`: none).
            "program" => r.terms.condition.program = Condition::owner_from_script(v),
            "service" => r.terms.condition.service = Condition::owner_from_script(v),
            "localip" => match remote(&list(v)) {
                Ok(a) if a == [AddrMatch::Any] => r.terms.condition.local.clear(),
                Ok(a) => r.terms.condition.local = a,
                Err(e) => {
                    bad(sink, l.number, k, v, &e.to_string());
                    r.enabled = false;
                }
            },
            // Not modelled: the rule depends on them, never widened.
            "remoteport" | "interfacetypes" if !v.eq_ignore_ascii_case("any") => {
                r.terms
                    .condition
                    .unmodelled
                    .push(format!("{k}={}", excerpt(v)));
            }
            _ => {}
        }
    }
    rules.extend(cur);
    rules
}

/// Does this text look like `Get-NetFirewallRule ... | ConvertTo-Json` output?
pub fn is_json_listing(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    (t.starts_with('[') || t.starts_with('{'))
        && (t.contains("\"DisplayName\"") || t.contains("\"Direction\""))
}

/// An enum as PowerShell writes it: a number (`ConvertTo-Json` in Windows PowerShell) or its
/// name (`-EnumsAsStrings`, or `.ToString()`).
fn enum_of(v: &Value, names: &[(u64, &str)]) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            if let Ok(n) = s.trim().parse::<u64>() {
                return Some(n);
            }
            // Profile is a flags enum: "Domain, Private".
            let mut total = None;
            for part in s.split(',').map(str::trim) {
                let n = names
                    .iter()
                    .find(|(_, name)| name.eq_ignore_ascii_case(part))?
                    .0;
                total = Some(total.unwrap_or(0) | n);
            }
            total
        }
        Value::Bool(b) => Some(if *b { 1 } else { 2 }),
        _ => None,
    }
}

/// A two-valued enum (1 `names[0]`, 2 `names[1]`, as numbers or names): true for the first,
/// false for the second, `None` for anything else.
fn first_of_two(v: Option<&Value>, names: [&str; 2]) -> Option<bool> {
    match v.and_then(|v| enum_of(v, &[(1, names[0]), (2, names[1])])) {
        Some(1) => Some(true),
        Some(2) => Some(false),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => list(s),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// The line of the `n`th object of a JSON array, for findings: where `"Name"` or
/// `"DisplayName"` appears for the `n`th time.
fn object_lines(text: &str) -> Vec<usize> {
    let key = if text.contains("\"Name\"") {
        "\"Name\""
    } else {
        "\"DisplayName\""
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(key))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Why a `Get-NetFirewallRule` JSON listing could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum JsonListingError {
    #[error("not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error("not a JSON object or array of rules")]
    NotRules,
}

/// Read `Get-NetFirewallRule` JSON (one object or an array of them). `Err` when the text is
/// not JSON at all.
pub fn parse_json(sink: &mut Sink, text: &str) -> Result<Vec<FwRule>, JsonListingError> {
    let t = text.trim_start_matches('\u{feff}');
    let v: Value = serde_json::from_str(t)?;
    let items = match v {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => return Err(JsonListingError::NotRules),
    };
    let lines = object_lines(t);
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let Value::Object(o) = item else {
            sink.parse_error(
                line,
                format!("item {}: not a rule object", i + 1),
                "export again with the command in docs/guide/policy.md",
            );
            continue;
        };
        let get = |k: &str| {
            o.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v)
        };
        let mut r = FwRule::new(line, Dialect::FirewallListing);
        r.name = get("Name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        r.display = get("DisplayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if r.name.is_empty() {
            r.name = r.display.clone();
        }
        let who = if r.display.is_empty() {
            r.name.clone()
        } else {
            r.display.clone()
        };
        let mut bad = |field: &str, v: Option<&Value>| {
            sink.parse_error(
                line,
                format!(
                    "rule \"{}\": {field} {} is not a value Get-NetFirewallRule writes",
                    excerpt(&who),
                    excerpt(
                        &v.map(Value::to_string)
                            .unwrap_or_else(|| "(missing)".into())
                    )
                ),
                "export again with the command in docs/guide/policy.md (enums as numbers or strings)",
            );
        };
        // GpoBoolean: True 1, False 2; Direction: Inbound 1, Outbound 2.
        let Some(enabled) = first_of_two(get("Enabled"), ["True", "False"]) else {
            bad("Enabled", get("Enabled"));
            continue;
        };
        let Some(inbound) = first_of_two(get("Direction"), ["Inbound", "Outbound"]) else {
            bad("Direction", get("Direction"));
            continue;
        };
        (r.enabled, r.terms.inbound) = (enabled, inbound);
        r.terms.action = match get("Action")
            .and_then(|v| enum_of(v, &[(0, "NotConfigured"), (2, "Allow"), (4, "Block")]))
        {
            Some(0) => FwAction::NotConfigured,
            Some(2) => FwAction::Allow,
            Some(4) => FwAction::Block,
            _ => {
                bad("Action", get("Action"));
                continue;
            }
        };
        if get("OverrideBlockRules").is_some_and(|v| v.as_bool() == Some(true)) {
            r.terms.action = FwAction::Bypass;
        }
        let proto = strings(get("Protocol"));
        match proto.first().map(|p| ProtoMatch::parse(p)) {
            None => {}
            Some(Some(p)) => r.terms.proto = p,
            Some(None) => {
                bad("Protocol", get("Protocol"));
                continue;
            }
        }
        let ports = strings(get("LocalPort"));
        if !ports.is_empty() && r.terms.set_local_ports(&ports).is_err() {
            bad("LocalPort", get("LocalPort"));
            continue;
        }
        match remote(&strings(get("RemoteAddress"))) {
            Ok(a) => r.terms.remote = a,
            Err(_) => {
                bad("RemoteAddress", get("RemoteAddress"));
                continue;
            }
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{self, Action, LoadOptions, Proto};

    const NETSH: &str = "\r\nRule Name:                            Block RPC\r\n\
        ----------------------------------------------------------------------\r\n\
        Enabled:                              Yes\r\nDirection:                            In\r\n\
        Profiles:                             Domain,Private,Public\r\nGrouping:                             \r\n\
        LocalIP:                              Any\r\nRemoteIP:                             Any\r\n\
        Protocol:                             TCP\r\nLocalPort:                            135,5001-5021\r\n\
        RemotePort:                           Any\r\nEdge traversal:                       No\r\n\
        Action:                               Block\r\n\r\n\
        Rule Name:                            Remote Desktop - User Mode (TCP-In)\r\n\
        ----------------------------------------------------------------------\r\n\
        Enabled:                              No\r\nDirection:                            In\r\n\
        RemoteIP:                             LocalSubnet\r\nProtocol:                             TCP\r\n\
        LocalPort:                            3389\r\nAction:                               Allow\r\nOk.\r\n";

    #[test]
    fn netsh_listing_rules() {
        let pf = policy::parse_text("rules.txt", NETSH.as_bytes());
        assert!(pf.findings.is_empty(), "{:?}", pf.findings);
        assert_eq!(pf.dialects, vec![Dialect::FirewallListing]);
        assert_eq!(pf.firewall.len(), 2);
        assert!(!pf.firewall[1].enabled);
        let lp = policy::build(vec![pf], &LoadOptions::default());
        let d = lp.policy.decide([10, 9, 9, 9].into(), 5010, Proto::Tcp);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.rule.unwrap().line, 2);
    }

    #[test]
    fn localised_listing_is_refused_naming_the_language() {
        let pf = policy::parse_text(
            "regeln.txt",
            "\r\nRegelname:                            RPC\r\n---\r\nAktiviert: Ja\r\n".as_bytes(),
        );
        let why = pf.unreadable.unwrap();
        assert!(why.contains("German"), "{why}");
        assert!(why.contains("reg export"), "{why}");
    }

    #[test]
    fn json_listing_with_numbers_and_strings() {
        let numbers = r#"[
  {
    "Name": "{1}",
    "DisplayName": "Block RPC",
    "Enabled": 1,
    "Direction": 1,
    "Action": 4,
    "Profile": 0,
    "Protocol": "TCP",
    "LocalPort": ["135", "5001-5021"],
    "RemoteAddress": "Any"
  },
  {
    "Name": "{2}",
    "DisplayName": "Allow RPC from 10.1.1.0",
    "Enabled": "True",
    "Direction": "Inbound",
    "Action": "Allow",
    "Profile": "Domain, Private",
    "Protocol": "6",
    "LocalPort": "135",
    "RemoteAddress": ["10.1.1.0/255.255.255.0"]
  }
]"#;
        let pf = policy::parse_text("rules.json", numbers.as_bytes());
        assert!(pf.findings.is_empty(), "{:?}", pf.findings);
        assert_eq!(pf.dialects, vec![Dialect::FirewallListing]);
        assert_eq!(pf.firewall.len(), 2);
        assert_eq!(pf.firewall[1].line, 14);
        let lp = policy::build(vec![pf], &LoadOptions::default());
        // Block beats allow in Windows Firewall.
        let d = lp.policy.decide([10, 1, 1, 5].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Block);
        let broken = numbers.replace("\"Action\": 4", "\"Action\": 9");
        let pf = policy::parse_text("rules.json", broken.as_bytes());
        assert_eq!(pf.findings.len(), 1);
        assert_eq!(pf.findings[0].line, Some(3));
        assert!(pf.findings[0].message.contains("Action"));
    }
}
