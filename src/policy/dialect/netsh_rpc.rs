//! The `netsh rpc filter` dialect: RPC filters read into [`RpcFilters`]
//! ([`crate::policy::model::rpc_filter`]), from either of the two forms an administrator has:
//!
//! - the output of `netsh rpc filter show filter`: one block per filter, `key: value` lines
//!   (`filterKey`, `displayData.name`, `layerKey`, `weight`, `action.type`,
//!   `numFilterConditions`), then per condition `filterCondition[N]` and its `fieldKey`,
//!   `matchType` and `conditionValue: Type: T Value: V`. An `if_uuid` is printed there as four
//!   dwords read little-endian from the GUID's bytes (`e3514235 11d14b06 c00004ab d2dcc24f`
//!   for e3514235-4b06-11d1-ab04-00c04fc2dcd2), as in the transcripts of Stiv Kupchik's (Akamai)
//!   Black Hat USA 2023 slides "Lifting the Fog of War" and MichaelGrafnetter/RPCFilterManager's
//!   README;
//! - the commands: `netsh rpc filter add rule layer=um actiontype=block`, `add condition
//!   field=if_uuid matchtype=equal data=UUID`, `add filter` (learn.microsoft.com, "netsh rpc"),
//!   as cmd lines (`netsh rpc filter add ...`), as a `netsh -f` script (`rpc`, `filter`, then
//!   `add ...` in that context, `..`, `quit`), or as an interactive transcript
//!   (`netsh rpc filter>add filter`). `delete filter` and `delete rule` are followed.
//!
//! Either UUID printing is read wherever a UUID is expected. Fields, match types and values
//! not modelled are kept so that a filter's match is conditional, never dropped; anything
//! malformed (a control or invisible character, a line over [`MAX_LINE_CHARS`], a bad UUID or
//! number, a condition outside a filter) is an error naming the file and line. No I/O.

use crate::policy::model::rpc_filter::{
    Condition, Field, FilterAction, MatchType, RpcFilter, RpcFilters, RpcLayer, Value, Weight,
};
use crate::policy::text;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr};
use uuid::Uuid;

/// Longest physical line read.
pub const MAX_LINE_CHARS: usize = 4096;
/// Most filters one file may hold.
pub const MAX_FILTERS: usize = 10_000;
/// Most conditions one filter may hold.
pub const MAX_CONDITIONS: usize = 64;

/// A file that cannot be read as RPC filters, with the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct RpcFilterError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// A UUID as `netsh rpc filter show filter` prints it: four dwords, each read little-endian
/// from the GUID's 16 bytes.
pub fn dwords(u: &Uuid) -> String {
    let b = u.to_bytes_le();
    b.chunks_exact(4)
        .map(|c| format!("{:08x}", u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An interface UUID in either printing: `c681d488-d850-11d0-8c52-00c04fd90f7e` (braces
/// allowed) or four dwords (`c681d488 11d0d850 c000528c 7e0fd94f`, `0x` allowed).
pub fn parse_uuid(s: &str) -> Result<Uuid, String> {
    let s = s.trim();
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() == 4 {
        let mut bytes = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            let h = w
                .strip_prefix("0x")
                .or_else(|| w.strip_prefix("0X"))
                .unwrap_or(w);
            if h.is_empty() || h.len() > 8 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "'{}' is not a dword of a UUID (up to 8 hex digits)",
                    crate::inert::excerpt(w)
                ));
            }
            let d = u32::from_str_radix(h, 16).map_err(|e| e.to_string())?;
            bytes[i * 4..i * 4 + 4].copy_from_slice(&d.to_le_bytes());
        }
        return Ok(Uuid::from_bytes_le(bytes));
    }
    let bare = s
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(s);
    if bare.len() == 36
        && bare.chars().filter(|&c| c == '-').count() == 4
        && let Ok(u) = Uuid::try_parse(bare)
    {
        return Ok(u);
    }
    Err(format!(
        "'{}' is not an interface UUID (8-4-4-4-12 hex digits, or four dwords as show filter prints them)",
        crate::inert::excerpt(s)
    ))
}

fn parse_number(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    };
    r.map_err(|_| format!("'{}' is not a number", crate::inert::excerpt(t)))
}

fn field_of(name: &str) -> Field {
    match name.to_ascii_lowercase().as_str() {
        "if_uuid" => Field::IfUuid,
        "auth_type" => Field::AuthType,
        "auth_level" => Field::AuthLevel,
        "remote_addr_v4"
        | "remote_addr_v6"
        | "ip_remote_address"
        | "remote_ip"
        | "ip_remote_address_v4"
        | "ip_remote_address_v6" => Field::RemoteAddress,
        "pipe" => Field::Pipe,
        "protocol" => Field::Protocol,
        "opnum" => Field::Opnum,
        _ => Field::Other(name.to_string()),
    }
}

fn match_of(name: &str) -> MatchType {
    let l = name.to_ascii_lowercase();
    let l = l.strip_prefix("fwp_match_").unwrap_or(&l).replace('_', "");
    match l.as_str() {
        "equal" => MatchType::Equal,
        "notequal" => MatchType::NotEqual,
        "greater" | "greaterthan" => MatchType::Greater,
        "less" | "lessthan" => MatchType::Less,
        "greaterorequal" | "greaterthanorequal" => MatchType::GreaterOrEqual,
        "lessorequal" | "lessthanorequal" => MatchType::LessOrEqual,
        _ => MatchType::Other(name.to_string()),
    }
}

/// `10.0.0.5`, `10.0.0.0/24`, `10.0.0.0/255.255.255.0`, or (show filter's `FWP_UINT32`) a
/// number.
fn parse_address(s: &str) -> Option<IpNet> {
    let t = s.trim();
    if let Ok(a) = t.parse::<IpAddr>() {
        return Some(IpNet::from(a));
    }
    if let Ok(n) = t.parse::<IpNet>() {
        return Some(n);
    }
    if let Some((a, m)) = t.split_once('/') {
        let (a, m) = (a.parse::<Ipv4Addr>().ok()?, m.parse::<Ipv4Addr>().ok()?);
        let bits = u32::from(m);
        if bits.leading_ones() + bits.trailing_zeros() != 32 {
            return None;
        }
        return ipnet::Ipv4Net::new(a, bits.leading_ones() as u8)
            .ok()
            .map(IpNet::V4);
    }
    let n = parse_number(t).ok()?;
    u32::try_from(n)
        .ok()
        .map(|v| IpNet::from(IpAddr::V4(Ipv4Addr::from(v))))
}

/// A condition's value for its field. A UUID or number that does not read is an error; an
/// address or a field not modelled is kept unread (the filter then matches conditionally).
fn value_of(field: &Field, data: &str) -> Result<Value, String> {
    Ok(match field {
        Field::IfUuid => Value::Uuid(parse_uuid(data)?),
        Field::AuthType | Field::AuthLevel | Field::Opnum => Value::Number(parse_number(data)?),
        Field::Protocol => Value::Number(match data.trim().to_ascii_lowercase().as_str() {
            "ncacn_ip_tcp" | "tcp" => 1,
            "ncacn_np" | "nmp" | "np" => 2,
            "ncalrpc" | "lrpc" => 3,
            "ncacn_http" | "http" => 4,
            _ => parse_number(data)?,
        }),
        Field::RemoteAddress => match parse_address(data) {
            Some(n) => Value::Address(n),
            None => Value::Unread(data.to_string()),
        },
        Field::Pipe => {
            let p = data.trim();
            if p.is_empty() || p.chars().count() > 256 {
                return Err("a pipe name must have 1 to 256 characters".into());
            }
            Value::Text(p.to_string())
        }
        Field::Other(_) => Value::Unread(data.to_string()),
    })
}

/// `Type: FWP_UINT8 Value: 6` → ("FWP_UINT8", "6").
fn typed(s: &str) -> (String, String) {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    match (lower.find("type:"), lower.find("value:")) {
        (Some(0), Some(v)) => (
            t[5..v].trim().to_string(),
            t[v + "value:".len()..].trim().to_string(),
        ),
        _ => (String::new(), t.to_string()),
    }
}

fn layer_of(s: &str) -> RpcLayer {
    match s.trim().to_ascii_lowercase().as_str() {
        "um" | "fwpm_layer_rpc_um" => RpcLayer::Um,
        "epmap" | "fwpm_layer_rpc_epmap" => RpcLayer::Epmap,
        "ep_add" | "fwpm_layer_rpc_ep_add" => RpcLayer::EpAdd,
        _ => RpcLayer::Other(s.trim().to_string()),
    }
}

fn action_of(s: &str) -> FilterAction {
    match s.trim().to_ascii_lowercase().as_str() {
        "permit" | "fwp_action_permit" => FilterAction::Permit,
        "block" | "fwp_action_block" => FilterAction::Block,
        _ => FilterAction::Other(s.trim().to_string()),
    }
}

fn weight_of(s: &str) -> Weight {
    let (ty, v) = typed(s);
    match ty.to_ascii_uppercase().as_str() {
        "FWP_EMPTY" => Weight::Auto,
        "FWP_UINT8" => match parse_number(&v) {
            Ok(n) if n <= 15 => Weight::Range(n as u8),
            _ => Weight::Unknown(s.trim().to_string()),
        },
        "FWP_UINT64" => match parse_number(&v) {
            Ok(n) => Weight::Exact(n),
            _ => Weight::Unknown(s.trim().to_string()),
        },
        _ => Weight::Unknown(s.trim().to_string()),
    }
}

/// Read one file's bytes as RPC filters.
pub fn parse(file: &str, bytes: &[u8]) -> Result<RpcFilters, RpcFilterError> {
    let err = |line: usize, reason: String| RpcFilterError {
        file: file.to_string(),
        line,
        reason,
    };
    let decoded = text::decode(bytes);
    if let Some(why) = text::not_text(bytes, &decoded) {
        return Err(err(0, why));
    }
    let normalized = decoded.text.replace("\r\n", "\n").replace('\r', "\n");
    let raw: Vec<&str> = normalized.split('\n').collect();
    for (i, l) in raw.iter().enumerate() {
        let l = l.strip_prefix('\u{feff}').unwrap_or(l);
        if l.chars().count() > MAX_LINE_CHARS {
            return Err(err(
                i + 1,
                format!("a line longer than {MAX_LINE_CHARS} characters"),
            ));
        }
        if let Some(c) = l
            .chars()
            .find(|&c| c != '\t' && c != '\x1a' && crate::inert::forbidden(c))
        {
            return Err(err(
                i + 1,
                format!(
                    "holds U+{:04X} (a control, line-break or invisible character)",
                    u32::from(c)
                ),
            ));
        }
    }
    let show = raw.iter().any(|l| l.trim_start().starts_with("filterKey:"));
    let filters = if show {
        parse_show(file, &raw)?
    } else {
        parse_commands(file, &decoded.text)?
    };
    Ok(RpcFilters { filters })
}

fn new_filter(file: &str, line: usize) -> RpcFilter {
    RpcFilter {
        file: file.to_string(),
        line,
        key: None,
        name: None,
        layer: RpcLayer::Um,
        action: FilterAction::Other("none given".into()),
        weight: Weight::Auto,
        conditions: Vec::new(),
        unmodelled: Vec::new(),
    }
}

/// A condition of `show filter` being read.
#[derive(Default)]
struct PendingCondition {
    line: usize,
    field: Option<String>,
    match_type: Option<String>,
    value: Option<String>,
}

fn finish_condition(
    file: &str,
    p: PendingCondition,
    f: &mut RpcFilter,
) -> Result<(), RpcFilterError> {
    let err = |reason: String| RpcFilterError {
        file: file.to_string(),
        line: p.line,
        reason,
    };
    let (Some(field), Some(mt), Some(v)) = (p.field, p.match_type, p.value) else {
        return Err(err(
            "a filterCondition without its fieldKey, matchType and conditionValue".into(),
        ));
    };
    let field = field_of(&field);
    let (_, data) = typed(&v);
    let value = value_of(&field, &data).map_err(err)?;
    if f.conditions.len() >= MAX_CONDITIONS {
        return Err(err(format!(
            "more than {MAX_CONDITIONS} conditions in one filter"
        )));
    }
    f.conditions.push(Condition {
        field,
        match_type: match_of(&mt),
        value,
        line: p.line,
    });
    Ok(())
}

fn parse_show(file: &str, raw: &[&str]) -> Result<Vec<RpcFilter>, RpcFilterError> {
    let err = |line: usize, reason: String| RpcFilterError {
        file: file.to_string(),
        line,
        reason,
    };
    let mut out: Vec<RpcFilter> = Vec::new();
    let mut cur: Option<(RpcFilter, Option<(usize, usize)>)> = None;
    let mut cond: Option<PendingCondition> = None;
    let finish = |cur: Option<(RpcFilter, Option<(usize, usize)>)>,
                  cond: Option<PendingCondition>,
                  out: &mut Vec<RpcFilter>|
     -> Result<(), RpcFilterError> {
        let Some((mut f, declared)) = cur else {
            return match cond {
                Some(c) => Err(err(c.line, "a filterCondition outside a filter".into())),
                None => Ok(()),
            };
        };
        if let Some(c) = cond {
            finish_condition(file, c, &mut f)?;
        }
        match declared {
            Some((n, line)) if n != f.conditions.len() => {
                return Err(err(
                    line,
                    format!(
                        "numFilterConditions says {n}, and the filter lists {}",
                        f.conditions.len()
                    ),
                ));
            }
            None if !f.conditions.is_empty() => {
                return Err(err(f.line, "conditions without numFilterConditions".into()));
            }
            _ => {}
        }
        if matches!(&f.action, FilterAction::Other(a) if a == "none given") {
            return Err(err(f.line, "a filter without action.type".into()));
        }
        if out.len() >= MAX_FILTERS {
            return Err(err(f.line, format!("more than {MAX_FILTERS} filters")));
        }
        out.push(f);
        Ok(())
    };
    for (i, l) in raw.iter().enumerate() {
        let n = i + 1;
        let t = l.trim().trim_start_matches('\u{feff}');
        if t.is_empty()
            || t.chars().all(|c| c == '-')
            || t.eq_ignore_ascii_case("Listing all RPC Filters.")
            || t.eq_ignore_ascii_case("Ok.")
        {
            continue;
        }
        // The command line itself, after a cmd.exe or PowerShell prompt.
        let lower = t.to_ascii_lowercase();
        if lower.contains("netsh")
            && lower
                .split_whitespace()
                .rev()
                .take(2)
                .eq(["filter", "show"])
        {
            continue;
        }
        if let Some((_, rest)) = prompt(t) {
            let words: Vec<String> = crate::script::words::split_words(rest)
                .into_iter()
                .map(|w| w.to_ascii_lowercase())
                .collect();
            if words.iter().map(String::as_str).eq(["show", "filter"])
                || words.is_empty()
                || words.iter().map(String::as_str).eq(["filter"])
            {
                continue;
            }
            return Err(err(
                n,
                "a command in a file of `show filter` output: give the commands and the \
                 output as separate files"
                    .into(),
            ));
        }
        if t.starts_with("filterCondition[") {
            if let Some((f, _)) = cur.as_mut() {
                if let Some(c) = cond.take() {
                    finish_condition(file, c, f)?;
                }
            } else {
                return Err(err(n, "a filterCondition outside a filter".into()));
            }
            cond = Some(PendingCondition {
                line: n,
                ..Default::default()
            });
            continue;
        }
        let Some((key, value)) = t.split_once(':') else {
            return Err(err(
                n,
                format!(
                    "'{}' is not a line of `netsh rpc filter show filter` output",
                    crate::inert::excerpt(t)
                ),
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "filterKey" {
            finish(cur.take(), cond.take(), &mut out)?;
            Uuid::try_parse(value.trim_matches(|c| c == '{' || c == '}')).map_err(|_| {
                err(
                    n,
                    format!("filterKey '{}' is not a GUID", crate::inert::excerpt(value)),
                )
            })?;
            let mut f = new_filter(file, n);
            f.key = Some(value.to_string());
            cur = Some((f, None));
            continue;
        }
        let Some((f, declared)) = cur.as_mut() else {
            return Err(err(
                n,
                format!("'{}' before any filterKey", crate::inert::excerpt(key)),
            ));
        };
        if let Some(c) = cond.as_mut() {
            match key {
                "fieldKey" => {
                    c.field = Some(value.to_string());
                    continue;
                }
                "matchType" => {
                    c.match_type = Some(value.to_string());
                    continue;
                }
                "conditionValue" => {
                    c.value = Some(value.to_string());
                    continue;
                }
                _ => {}
            }
        }
        match key {
            "displayData.name" => f.name = Some(value.to_string()),
            "displayData.description"
            | "filterId"
            | "Audit"
            | "AuditParameters"
            | "providerKey" => {}
            "layerKey" => f.layer = layer_of(value),
            "weight" => f.weight = weight_of(value),
            "action.type" => f.action = action_of(value),
            "numFilterConditions" => {
                let k = parse_number(value).map_err(|e| err(n, e))?;
                if k > MAX_CONDITIONS as u64 {
                    return Err(err(
                        n,
                        format!("more than {MAX_CONDITIONS} conditions in one filter"),
                    ));
                }
                *declared = Some((k as usize, n));
            }
            "fieldKey" | "matchType" | "conditionValue" => {
                return Err(err(n, format!("{key} outside a filterCondition")));
            }
            _ => f.unmodelled.push(format!("{key}: {value}")),
        }
    }
    finish(cur.take(), cond.take(), &mut out)?;
    Ok(out)
}

/// An interactive prompt before a command: `netsh rpc filter>add filter` → (the context's
/// words after `netsh`, the command).
fn prompt(t: &str) -> Option<(Vec<String>, &str)> {
    let (before, after) = t.split_once('>')?;
    let words: Vec<&str> = before.split_whitespace().collect();
    if words.first()?.eq_ignore_ascii_case("netsh")
        && words[1..]
            .iter()
            .all(|w| w.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
    {
        Some((
            words[1..].iter().map(|w| w.to_ascii_lowercase()).collect(),
            after,
        ))
    } else {
        None
    }
}

/// `key=value` or positional arguments, by the order `names` gives.
fn arguments(words: &[String], names: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        match w.split_once('=') {
            Some((k, v)) => out.push((k.to_ascii_lowercase(), v.to_string())),
            None => match names.get(i) {
                Some(k) => out.push((k.to_string(), w.clone())),
                None => {
                    return Err(format!(
                        "'{}' is not an argument of this command",
                        crate::inert::excerpt(w)
                    ));
                }
            },
        }
    }
    Ok(out)
}

fn parse_commands(file: &str, text_: &str) -> Result<Vec<RpcFilter>, RpcFilterError> {
    let err = |line: usize, reason: String| RpcFilterError {
        file: file.to_string(),
        line,
        reason,
    };
    let mut out: Vec<RpcFilter> = Vec::new();
    let mut pending: Option<RpcFilter> = None;
    let mut context: Vec<String> = Vec::new();
    let lines = text::logical_lines(text_, &[text::Continuation::Caret]);
    // A transcript of an interactive session: only the lines after a prompt are commands,
    // the others are netsh's answers ("Ok.", "FilterKey: ...").
    let transcript = lines.iter().any(|l| prompt(l.text.trim()).is_some());
    for line in lines {
        let n = line.number;
        let t = line.text.trim();
        if transcript && prompt(t).is_none() {
            continue;
        }
        // The words from the root context, lower-cased keywords kept apart from values.
        let (base, words) = match prompt(t) {
            Some((ctx, rest)) => (ctx, crate::script::words::split_words(rest)),
            None => (context.clone(), crate::script::words::split_words(t)),
        };
        let full: Vec<String> = match words.first() {
            Some(w) if w.eq_ignore_ascii_case("netsh") || w.eq_ignore_ascii_case("netsh.exe") => {
                if words[1..].iter().any(|w| w.starts_with('-')) {
                    // netsh -f FILE, -c CONTEXT, -r HOST: not a command of ours.
                    continue;
                }
                words[1..].to_vec()
            }
            Some(w) if w == ".." => {
                context = base;
                context.pop();
                continue;
            }
            Some(w)
                if ["quit", "exit", "bye"]
                    .iter()
                    .any(|q| w.eq_ignore_ascii_case(q)) =>
            {
                context.clear();
                continue;
            }
            _ => base.into_iter().chain(words).collect(),
        };
        let kw = |i: usize| full.get(i).map(|w| w.to_ascii_lowercase());
        if kw(0).as_deref() != Some("rpc") {
            continue;
        }
        if full.len() == 1 || (full.len() == 2 && kw(1).as_deref() == Some("filter")) {
            // A context of its own: `rpc`, `rpc filter`.
            context = full.iter().map(|w| w.to_ascii_lowercase()).collect();
            continue;
        }
        if kw(1).as_deref() != Some("filter") {
            // `netsh rpc add/delete/show/reset`: selective binding, not filters.
            continue;
        }
        let cmd = (kw(2).unwrap_or_default(), kw(3).unwrap_or_default());
        let args = &full[4.min(full.len())..];
        match (cmd.0.as_str(), cmd.1.as_str()) {
            ("add", "rule") => {
                let mut f = new_filter(file, n);
                for (k, v) in
                    arguments(args, &["layer", "actiontype", "filterkey"]).map_err(|e| err(n, e))?
                {
                    match k.as_str() {
                        "layer" => f.layer = layer_of(&v),
                        "actiontype" => f.action = action_of(&v),
                        "filterkey" => {
                            Uuid::try_parse(&v).map_err(|_| {
                                err(
                                    n,
                                    format!(
                                        "filterkey '{}' is not a GUID",
                                        crate::inert::excerpt(&v)
                                    ),
                                )
                            })?;
                            f.key = Some(v);
                        }
                        "persistence" | "audit" | "auditparameters" => {}
                        _ => f.unmodelled.push(format!("{k}={v}")),
                    }
                }
                if matches!(&f.action, FilterAction::Other(a) if a == "none given") {
                    return Err(err(n, "add rule without actiontype".into()));
                }
                pending = Some(f);
            }
            ("add", "condition") => {
                let Some(f) = pending.as_mut() else {
                    return Err(err(n, "add condition with no add rule before it".into()));
                };
                let (mut field, mut mt, mut data) = (None, None, None);
                for (k, v) in
                    arguments(args, &["field", "matchtype", "data"]).map_err(|e| err(n, e))?
                {
                    match k.as_str() {
                        "field" => field = Some(v),
                        "matchtype" => mt = Some(v),
                        "data" => data = Some(v),
                        _ => {
                            return Err(err(
                                n,
                                format!(
                                    "'{}' is not an argument of add condition",
                                    crate::inert::excerpt(&k)
                                ),
                            ));
                        }
                    }
                }
                let (Some(field), Some(mt), Some(data)) = (field, mt, data) else {
                    return Err(err(
                        n,
                        "add condition needs field=, matchtype= and data=".into(),
                    ));
                };
                let field = field_of(&field);
                let value = value_of(&field, &data).map_err(|e| err(n, e))?;
                if f.conditions.len() >= MAX_CONDITIONS {
                    return Err(err(
                        n,
                        format!("more than {MAX_CONDITIONS} conditions in one filter"),
                    ));
                }
                f.conditions.push(Condition {
                    field,
                    match_type: match_of(&mt),
                    value,
                    line: n,
                });
            }
            ("add", "filter") => {
                let Some(f) = pending.take() else {
                    return Err(err(n, "add filter with no add rule before it".into()));
                };
                if out.len() >= MAX_FILTERS {
                    return Err(err(n, format!("more than {MAX_FILTERS} filters")));
                }
                out.push(f);
            }
            ("delete", "rule") => pending = None,
            ("delete", "filter") => {
                let key = arguments(args, &["filterkey"])
                    .map_err(|e| err(n, e))?
                    .into_iter()
                    .find(|(k, _)| k == "filterkey")
                    .map(|(_, v)| v);
                match key {
                    Some(k) if k.eq_ignore_ascii_case("all") => out.clear(),
                    Some(k) => out.retain(|f| {
                        !f.key
                            .as_deref()
                            .is_some_and(|fk| fk.eq_ignore_ascii_case(&k))
                    }),
                    None => {
                        return Err(err(
                            n,
                            "delete filter without filterkey= (a key, or all)".into(),
                        ));
                    }
                }
            }
            ("show", _) => {}
            _ => {
                return Err(err(
                    n,
                    format!(
                        "'{}' is not a `netsh rpc filter` command rpcaudit reads (add rule, \
                         add condition, add filter, delete rule, delete filter, show filter)",
                        crate::inert::excerpt(&full[2..].join(" "))
                    ),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::rpc_filter::{Call, RpcVerdict};

    const EFSR_LSA: &str = "c681d488-d850-11d0-8c52-00c04fd90f7e";
    const EFSR: &str = "df1941c5-fe89-4e79-bf10-463657acf44d";

    /// UUIDs and the dwords netsh printed for them in published transcripts (a book's
    /// "Listing A-1. Adding and listing RPC filters using netsh" for DRSUAPI, Stiv Kupchik's
    /// Black Hat USA 2023 slides "Lifting the Fog of War" for SCMR, MichaelGrafnetter/
    /// RPCFilterManager's README for both MS-EFSR interfaces): printed by Windows, not by us.
    const PRINTED: &[(&str, &str)] = &[
        (
            "e3514235-4b06-11d1-ab04-00c04fc2dcd2",
            "e3514235 11d14b06 c00004ab d2dcc24f",
        ),
        (
            "367abb81-9844-35f1-ad32-98f038001003",
            "367abb81 35f19844 f09832ad 03100038",
        ),
        (EFSR_LSA, "c681d488 11d0d850 c000528c 7e0fd94f"),
        (EFSR, "df1941c5 4e79fe89 364610bf 4df4ac57"),
    ];

    fn u(s: &str) -> Uuid {
        Uuid::parse_str(s).unwrap()
    }

    fn call(iface: &str, src: &str) -> Call {
        Call::anonymous(u(iface), src.parse().unwrap(), None, 65535)
    }

    #[test]
    fn both_uuid_printings_read_as_windows_prints_them() {
        for (hyphenated, printed) in PRINTED {
            assert_eq!(parse_uuid(printed).unwrap(), u(hyphenated), "{printed}");
            assert_eq!(dwords(&u(hyphenated)), *printed);
            assert_eq!(parse_uuid(hyphenated).unwrap(), u(hyphenated));
            let with_0x: String = printed
                .split(' ')
                .map(|w| format!("0x{w}"))
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(parse_uuid(&with_0x).unwrap(), u(hyphenated));
            assert_eq!(
                parse_uuid(&format!("{{{hyphenated}}}")).unwrap(),
                u(hyphenated)
            );
        }
        for bad in [
            "c681d488-d850-11d0-8c52-00c04fd90f7",
            "c681d488d85011d08c5200c04fd90f7e",
            "c681d488 11d0d850 c000528c",
            "c681d488 11d0d850 c000528c 7e0fd94fz",
            "c681d488 11d0d850 c000528c 17e0fd94f",
            "zzzzzzzz-d850-11d0-8c52-00c04fd90f7e",
            "",
        ] {
            assert!(parse_uuid(bad).is_err(), "{bad}");
        }
    }

    const SHOW: &str = "Listing all RPC Filters.\r
-----------------------------\r
filterKey: 0b7c5c4e-1f6f-4bde-9d3e-5a2a7e0c1d01\r
displayData.name: EFSR permit admins\r
displayData.description: RPC Filter\r
filterId: 0x12cd7\r
layerKey: um\r
weight: Type: FWP_EMPTY Value: Empty\r
action.type: permit\r
numFilterConditions: 2\r
\r
filterCondition[0]\r
        fieldKey: if_uuid\r
        matchType: FWP_MATCH_EQUAL\r
        conditionValue: Type: FWP_BYTE_ARRAY16_TYPE Value: df1941c5 4e79fe89 364610bf 4df4ac57\r
\r
filterCondition[1]\r
        fieldKey: remote_addr_v4\r
        matchType: FWP_MATCH_EQUAL\r
        conditionValue: Type: FWP_UINT32 Value: 10.0.9.5\r
\r
-----------------------------\r
filterKey: 6a377823-cff4-11ec-967c-000c29760114\r
displayData.name: RPCFilter\r
displayData.description: RPC Filter\r
filterId: 0x12794\r
layerKey: um\r
weight: Type: FWP_EMPTY Value: Empty\r
action.type: block\r
Audit: Enable\r
numFilterConditions: 1\r
filterCondition[0]\r
        fieldKey: if_uuid\r
        matchType: FWP_MATCH_EQUAL\r
        conditionValue: Type: FWP_BYTE_ARRAY16_TYPE Value: df1941c5 4e79fe89 364610bf 4df4ac57\r
";

    #[test]
    fn show_filter_output_reads_into_filters_and_decides_per_source() {
        let f = parse("show.txt", SHOW.as_bytes()).unwrap();
        assert_eq!(f.filters.len(), 2, "{f:#?}");
        // After the command line that printed it, at a cmd.exe prompt.
        let prompted = format!("C:\\Windows\\system32>netsh rpc filter show filter\r\n\r\n{SHOW}");
        assert_eq!(
            parse("p.txt", prompted.as_bytes()).unwrap().filters.len(),
            2
        );
        let permit = &f.filters[0];
        assert_eq!(permit.line, 3);
        assert_eq!(permit.name.as_deref(), Some("EFSR permit admins"));
        assert_eq!(permit.action, FilterAction::Permit);
        assert_eq!(permit.conditions[0].value, Value::Uuid(u(EFSR)));
        assert_eq!(
            permit.conditions[1].value,
            Value::Address("10.0.9.5/32".parse().unwrap())
        );
        assert_eq!(f.filters[1].action, FilterAction::Block);
        // The admin passes (the permit has more conditions), anyone else is blocked, another
        // interface is let on, and over a named pipe the address cannot be told.
        let admin = f.decide(&call(EFSR, "10.0.9.5"));
        assert_eq!(admin.verdict, RpcVerdict::Allow, "{admin:?}");
        assert_eq!(
            admin.filter.as_deref(),
            Some("show.txt:3 (EFSR permit admins)")
        );
        let other = f.decide(&call(EFSR, "10.0.1.7"));
        assert_eq!(other.verdict, RpcVerdict::Block);
        assert_eq!(other.filter.as_deref(), Some("show.txt:23 (RPCFilter)"));
        assert_eq!(
            f.decide(&call(EFSR_LSA, "10.0.1.7")).verdict,
            RpcVerdict::Allow
        );
        let mut piped = call(EFSR, "10.0.9.5");
        piped.pipe = Some("\\pipe\\efsrpc".into());
        let d = f.decide(&piped);
        assert_eq!(d.verdict, RpcVerdict::Conditional, "{d:?}");
        assert!(d.address_over_pipe);
        assert!(d.reasons.iter().any(|r| r.contains("25H2")), "{d:?}");
    }

    #[test]
    fn netsh_commands_scripts_and_transcripts_read_alike() {
        let cmd = format!(
            "@echo off\r\nrem block EFSR\r\nnetsh rpc filter add rule layer=um actiontype=block\r\n\
             netsh rpc filter add condition field=if_uuid matchtype=equal data={EFSR}\r\n\
             netsh rpc filter add filter\r\nnetsh advfirewall set allprofiles state on\r\n"
        );
        let script = format!(
            "rpc\nfilter\nadd rule layer=um actiontype=block\n\
             add condition field=if_uuid matchtype=equal data={EFSR}\nadd filter\nquit\n"
        );
        let transcript = format!(
            "c:\\>netsh\nnetsh>rpc\nnetsh rpc>filter\n\
             netsh rpc filter>add rule layer=um actiontype=block\nOk.\n\
             netsh rpc filter>add condition field=if_uuid matchtype=equal data={EFSR}\nOk.\n\
             netsh rpc filter>add filter\nFilterKey: 6a377823-cff4-11ec-967c-000c29760114\nOk.\n\
             netsh rpc filter>quit\n"
        );
        // The dword printing in a command too.
        let dword = "netsh rpc filter add rule um block\r\nnetsh rpc filter add condition if_uuid equal \"df1941c5 4e79fe89 364610bf 4df4ac57\"\r\nnetsh rpc filter add filter\r\n";
        for (name, text) in [
            ("a.cmd", cmd.as_str()),
            ("b.txt", &script),
            ("c.txt", &transcript),
            ("d.cmd", dword),
        ] {
            let f = parse(name, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(f.filters.len(), 1, "{name}: {f:#?}");
            assert_eq!(
                f.filters[0].conditions[0].value,
                Value::Uuid(u(EFSR)),
                "{name}"
            );
            assert_eq!(
                f.decide(&call(EFSR, "10.0.1.7")).verdict,
                RpcVerdict::Block,
                "{name}"
            );
        }
    }

    #[test]
    fn delete_and_unmodelled_fields_are_followed_not_dropped() {
        let text = format!(
            "netsh rpc filter add rule layer=um actiontype=block filterkey=6a377823-cff4-11ec-967c-000c29760114\n\
             netsh rpc filter add condition field=if_uuid matchtype=equal data={EFSR}\n\
             netsh rpc filter add filter\n\
             netsh rpc filter delete filter filterkey=6a377823-cff4-11ec-967c-000c29760114\n\
             netsh rpc filter add rule layer=um actiontype=block\n\
             netsh rpc filter add condition field=if_uuid matchtype=equal data={EFSR}\n\
             netsh rpc filter add condition field=image_name matchtype=equal data=lsass.exe\n\
             netsh rpc filter add filter\n"
        );
        let f = parse("x.cmd", text.as_bytes()).unwrap();
        assert_eq!(f.filters.len(), 1);
        let d = f.decide(&call(EFSR, "10.0.1.7"));
        assert_eq!(d.verdict, RpcVerdict::Conditional, "{d:?}");
        assert!(d.reasons.iter().any(|r| r.contains("image_name")), "{d:?}");
        // A filter on opnum 6 does not stop the probe's opnum 65535, and an unknown auth
        // level makes an auth_level filter conditional.
        let text = format!(
            "rpc filter\nadd rule um block\nadd condition opnum equal 6\nadd condition if_uuid equal {EFSR}\nadd filter\n\
             add rule um block\nadd condition auth_level lessthan 6\nadd condition if_uuid equal {EFSR_LSA}\nadd filter\n"
        );
        let f = parse("y.txt", text.as_bytes()).unwrap();
        assert_eq!(f.filters.len(), 2);
        assert_eq!(f.decide(&call(EFSR, "10.0.1.7")).verdict, RpcVerdict::Allow);
        assert_eq!(
            f.decide(&call(EFSR_LSA, "10.0.1.7")).verdict,
            RpcVerdict::Block
        );
        let mut authenticated = call(EFSR_LSA, "10.0.1.7");
        authenticated.auth_level = None;
        authenticated.auth_type = None;
        assert_eq!(f.decide(&authenticated).verdict, RpcVerdict::Conditional);
        authenticated.auth_level = Some(6);
        assert_eq!(f.decide(&authenticated).verdict, RpcVerdict::Allow);
    }

    #[test]
    fn hostile_files_are_errors_naming_the_line() {
        let long = format!(
            "netsh rpc filter add rule layer=um actiontype=block {}\n",
            "a".repeat(MAX_LINE_CHARS)
        );
        let cases: Vec<(String, usize, &str)> = vec![
            ("netsh rpc filter add rule layer=um actiontype=block\nnetsh rpc filter add condition field=if_uuid matchtype=equal data=c681d488-d850-11d0-8c52-00c04fd90f7\n".into(), 2, "not an interface UUID"),
            ("rpc filter\nadd rule um block\nadd condition if_uuid equal \"c681d488 11d0d850 c000528c\"\n".into(), 3, "not an interface UUID"),
            ("netsh rpc filter add condition field=if_uuid matchtype=equal data=x\n".into(), 1, "no add rule"),
            ("netsh rpc filter add filter\n".into(), 1, "no add rule"),
            ("netsh rpc filter add rule layer=um actiontype=block\nnetsh rpc filter add condition field=auth_level matchtype=equal data=high\n".into(), 2, "not a number"),
            ("netsh rpc filter add rule layer=um actiontype=block\nnetsh rpc filter set something\n".into(), 2, "is not a `netsh rpc filter` command"),
            ("netsh rpc filter add rule layer=um\n".into(), 1, "without actiontype"),
            ("netsh rpc filter add rule layer=um actiontype=block\u{202e}\n".into(), 1, "U+202E"),
            ("rem ok\nnetsh rpc filter add rule layer=um actiontype=block\x1b[2J\n".into(), 2, "U+001B"),
            (long, 1, "longer than"),
            (SHOW.replace("numFilterConditions: 2", "numFilterConditions: 3"), 10, "numFilterConditions says 3"),
            (SHOW.replace("Value: df1941c5 4e79fe89 364610bf 4df4ac57\r\n\r\nfilterCondition[1]", "Value: df1941c5 4e79fe89 zz 4df4ac57\r\n\r\nfilterCondition[1]"), 12, "not a dword"),
            (SHOW.replace("filterKey: 0b7c5c4e-1f6f-4bde-9d3e-5a2a7e0c1d01", "filterKey: not-a-guid"), 3, "not a GUID"),
            (SHOW.replace("action.type: permit\r\n", ""), 3, "without action.type"),
            (format!("{SHOW}netsh rpc filter>add filter\r\n"), 36, "separate files"),
            ("displayData.name: x\nfilterKey: 6a377823-cff4-11ec-967c-000c29760114\n".into(), 1, "before any filterKey"),
        ];
        for (text, line, why) in cases {
            let e = parse("evil.txt", text.as_bytes()).expect_err(&text);
            assert_eq!((e.file.as_str(), e.line), ("evil.txt", line), "{e}");
            assert!(e.reason.contains(why), "{e}");
            assert!(!e.to_string().chars().any(crate::inert::forbidden), "{e:?}");
        }
        // A name with hostile characters other than control ones stays a name.
        let named = SHOW.replace("EFSR permit admins", "\"; & del * %PATH% 'x'");
        let f = parse("n.txt", named.as_bytes()).unwrap();
        assert_eq!(f.filters[0].name.as_deref(), Some("\"; & del * %PATH% 'x'"));
        // An empty file, and a binary one, are refused.
        assert!(parse("e.txt", b"").is_err());
        assert!(parse("b.bin", b"\0\x01\x02rpc").is_err());
    }

    #[test]
    fn utf16_show_output_as_a_redirect_writes_it_reads() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in SHOW.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let f = parse("show16.txt", &bytes).unwrap();
        assert_eq!(f.filters.len(), 2);
    }
}
