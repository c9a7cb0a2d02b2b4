//! The IPsec policy store as a host holds it, read from the `.reg` export of
//! `HKLM\SOFTWARE\Policies\Microsoft\Windows\IPSec\Policy\Local` (what `ipseccmd -w REG`,
//! `netsh ipsec static` and the IP Security Policies console write). Called by
//! [`crate::policy::parse_text`] for `.reg` files; the policies it finds land in the same
//! [`IpsecStore`] the ipseccmd and netsh readers fill, as rules of dialect
//! [`Dialect::IpsecStore`], so `explain`, `lint` and `audit` decide from the store as they do
//! from the script. Pure: no I/O.
//!
//! The store (MS-GPIPSEC §2.2.1) is a key per object below `...\Local`, named
//! `ipsecPolicy{GUID}`, `ipsecNFA{GUID}` (a rule), `ipsecFilter{GUID}` (a filter list),
//! `ipsecNegotiationPolicy{GUID}` (a filter action) and `ipsecISAKMPPolicy{GUID}`, each with
//! `ipsecName`, `ipsecData` (a binary blob, [`super::ipsec_blob`]) and references to other
//! objects by key path: a policy's `ipsecNFAReference` (multi-string), a rule's
//! `ipsecFilterReference` (multi-string) and `ipsecNegotiationPolicyReference`. The
//! `ActivePolicy` value of `...\Local` names the assigned policy. A filter action is its
//! `ipsecNegotiationPolicyAction` GUID (block, permit, negotiate, inbound pass-through); a
//! negotiate action with an offer without transforms falls back to clear traffic (our reading
//! of how the console's "allow unsecured communication" is stored). The default response rule
//! (type `{62F49E13-...}`) has no filters and is not modelled.

use std::collections::HashMap;

use super::ipsec_blob::{self, Class, Guid, NegotiationAction};
use super::ipsec_filters::{self, BlobAddr, V2Filter};
use super::reg_export::{self, KeyReader, RawValue, RegData, ValueLine};
use crate::inert::excerpt;
use crate::policy::dialect::ipsec::{Filter, IpsecRule, IpsecStore};
use crate::policy::model::address::AddrMatch;
use crate::policy::model::sink::Sink;
use crate::policy::model::{Dialect, ProtoMatch, RuleAction};

/// Most filters a store may put in force (a KB908472 store has 44): each rule holds its own
/// copy of its filter lists, so a list referenced by many rules is counted each time, and a
/// crafted export cannot multiply one large blob into unbounded memory.
pub const MAX_FILTERS: usize = 100_000;

/// The store's key, below HKLM.
pub const KEY: &str = r"SOFTWARE\Policies\Microsoft\Windows\IPSec\Policy\Local";

#[derive(Debug, Clone)]
struct Object {
    /// The key name, `ipsecFilter{...}`.
    key: String,
    class: Class,
    line: usize,
    /// Lower-case value name → line and value; a later value replaces an earlier one.
    values: HashMap<String, (usize, RegData)>,
}

impl Object {
    fn get(&self, name: &str) -> Option<&(usize, RegData)> {
        self.values.get(&name.to_ascii_lowercase())
    }

    fn sz(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some((_, RegData::Sz(s))) => Some(s),
            _ => None,
        }
    }

    /// A reference value: one path (REG_SZ) or several (REG_MULTI_SZ).
    fn refs(&self, name: &str) -> (usize, Vec<String>) {
        match self.get(name) {
            Some((l, RegData::Sz(s))) => (*l, vec![s.clone()]),
            Some((l, RegData::MultiSz(m))) => (*l, m.clone()),
            Some((l, _)) => (*l, Vec::new()),
            None => (self.line, Vec::new()),
        }
    }

    fn display(&self) -> String {
        match self.sz("ipsecName") {
            Some(n) if !n.is_empty() => format!("{} (\"{}\")", excerpt(&self.key), excerpt(n)),
            _ => excerpt(&self.key).into_owned(),
        }
    }
}

/// What an export says about the IPsec store, before it is resolved.
#[derive(Debug, Clone, Default)]
pub struct StoreExport {
    objects: Vec<Object>,
    /// `ActivePolicy`: its line and the path it names.
    active: Option<(usize, String)>,
    /// Lines of the store's keys and values, ascending.
    lines: Vec<usize>,
}

#[derive(Debug, Default)]
enum KeyKind {
    Root,
    Object(String, Class),
    #[default]
    Other,
}

fn classify(key: &str) -> KeyKind {
    let Some(after) = reg_export::below_hklm(key).and_then(|rest| reg_export::strip_ci(rest, KEY))
    else {
        return KeyKind::Other;
    };
    if after.is_empty() {
        return KeyKind::Root;
    }
    let Some(name) = after.strip_prefix('\\') else {
        return KeyKind::Other;
    };
    if name.contains('\\') {
        return KeyKind::Other;
    }
    match Class::of_key(name) {
        Some(c) => KeyKind::Object(name.to_string(), c),
        None => KeyKind::Other,
    }
}

/// The object name a reference path ends in (`SOFTWARE\...\Local\ipsecNFA{...}` →
/// `ipsecNFA{...}`), lower-case.
fn ref_name(path: &str) -> String {
    path.trim()
        .rsplit('\\')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Reads the IPsec policy store's keys of a `.reg` export into a [`StoreExport`].
#[derive(Debug, Default)]
pub(in crate::policy) struct ExportReader {
    out: StoreExport,
    /// The key the values being read belong to.
    kind: KeyKind,
}

impl ExportReader {
    pub fn finish(self) -> StoreExport {
        self.out
    }
}

fn export_again() -> String {
    format!("export the IPsec store again: reg export HKLM\\{KEY} ipsec.reg")
}

impl KeyReader for ExportReader {
    fn key(&mut self, line: usize, path: &str) -> bool {
        self.kind = classify(path);
        match &self.kind {
            KeyKind::Other => return false,
            KeyKind::Root => {}
            KeyKind::Object(key, class) => self.out.objects.push(Object {
                key: key.clone(),
                class: *class,
                line,
                values: HashMap::new(),
            }),
        }
        true
    }

    fn value(&mut self, sink: &mut Sink, line: usize, name: &str, value: RawValue<'_>) {
        let parsed = match value.read(sink, line, name, export_again) {
            ValueLine::Sets(data) => Some(data),
            ValueLine::Deletes => None,
            ValueLine::Unreadable => return,
        };
        match &self.kind {
            KeyKind::Root => {
                if name.eq_ignore_ascii_case("ActivePolicy") {
                    self.out.active = match parsed {
                        Some(RegData::Sz(p)) => Some((line, p)),
                        _ => None,
                    };
                }
            }
            KeyKind::Object(..) => {
                if let Some(obj) = self.out.objects.last_mut() {
                    let k = name.to_ascii_lowercase();
                    match parsed {
                        Some(v) => {
                            obj.values.insert(k, (line, v));
                        }
                        None => {
                            obj.values.remove(&k);
                        }
                    }
                }
            }
            KeyKind::Other => {}
        }
    }

    fn owns(&mut self, line: usize) {
        self.out.lines.push(line);
    }

    fn export_again(&self) -> String {
        export_again()
    }
}

impl StoreExport {
    /// Did the file hold a key of the IPsec store?
    pub fn touched(&self) -> bool {
        !self.lines.is_empty()
    }

    /// Does line `n` belong to the IPsec store's keys?
    pub fn owns_line(&self, n: usize) -> bool {
        self.lines.binary_search(&n).is_ok()
    }

    /// How many objects of each class the export holds (policies, rules, filter lists).
    pub fn count(&self, class: Class) -> usize {
        self.objects.iter().filter(|o| o.class == class).count()
    }

    /// Resolve the references into policies and rules; findings say what could not be read.
    pub fn resolve(&self, sink: &mut Sink) -> IpsecStore {
        let mut by_name: HashMap<String, &Object> = HashMap::new();
        for o in &self.objects {
            // A key exported twice: the later one holds.
            by_name.insert(o.key.to_ascii_lowercase(), o);
        }
        let mut store = IpsecStore::default();
        let mut ctx = Ctx {
            by_name: &by_name,
            decoded: HashMap::new(),
            budget: MAX_FILTERS,
            over: false,
        };
        for o in self.objects.iter().filter(|o| o.class == Class::Policy) {
            let latest = by_name
                .get(&o.key.to_ascii_lowercase())
                .is_some_and(|x| std::ptr::eq(*x, o));
            if !latest {
                continue;
            }
            check_blob(sink, o);
            let name = policy_name(o);
            let (ref_line, nfas) = o.refs("ipsecNFAReference");
            let mut rules = Vec::new();
            for path in &nfas {
                match by_name.get(&ref_name(path)) {
                    Some(nfa) if nfa.class == Class::Nfa => {
                        if let Some(rule) = read_rule(sink, nfa, &mut ctx) {
                            rules.push(rule);
                        }
                    }
                    _ => sink.parse_error(
                        ref_line,
                        format!(
                            "{}: ipsecNFAReference names '{}', which the export does not hold",
                            o.display(),
                            excerpt(path)
                        ),
                        format!("export the whole store: reg export HKLM\\{KEY} ipsec.reg"),
                    ),
                }
            }
            let pol = store.policy_mut(&name, "REG", o.line, Dialect::IpsecStore);
            pol.rules.extend(rules);
        }
        if let Some((line, path)) = &self.active {
            match by_name.get(&ref_name(path)) {
                Some(o) if o.class == Class::Policy => {
                    store.assign(&policy_name(o), "REG", *line);
                }
                _ => sink.parse_error(
                    *line,
                    format!(
                        "ActivePolicy names '{}', which the export does not hold: no policy is assigned",
                        excerpt(path)
                    ),
                    format!("export the whole store: reg export HKLM\\{KEY} ipsec.reg"),
                ),
            }
        }
        store
    }
}

fn policy_name(o: &Object) -> String {
    match o.sz("ipsecName") {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => o.key.clone(),
    }
}

/// The header of an object's blob (the classes whose data the model does not need).
fn check_blob(sink: &mut Sink, o: &Object) {
    if let Some((line, v)) = o.get("ipsecData") {
        let err = match v {
            RegData::Binary(b) => ipsec_blob::check_header(b, o.class)
                .err()
                .map(DataError::from),
            _ => Some(DataError::NotBinary),
        };
        if let Some(e) = err {
            blob_error(sink, *line, o, &e);
        }
    }
}

/// Why an object's `ipsecData` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum DataError {
    #[error(transparent)]
    Blob(#[from] ipsec_blob::BlobError),
    #[error("not a REG_BINARY value")]
    NotBinary,
    #[error("the filter list has no ipsecData value")]
    Missing,
}

fn blob_error(sink: &mut Sink, line: usize, o: &Object, e: &DataError) {
    sink.parse_error(
        line,
        format!("{}: ipsecData: {e}", o.display()),
        format!("export the IPsec store again (reg export HKLM\\{KEY} ipsec.reg); rpcaudit reads the MS-GPIPSEC blob layout of Windows 2000/XP/2003"),
    );
}

/// What resolving needs besides the sink: the objects by name, each filter list decoded once,
/// and what is left of [`MAX_FILTERS`].
struct Ctx<'a> {
    by_name: &'a HashMap<String, &'a Object>,
    decoded: HashMap<String, Result<Vec<Filter>, DataError>>,
    budget: usize,
    over: bool,
}

fn read_rule(sink: &mut Sink, nfa: &Object, ctx: &mut Ctx<'_>) -> Option<IpsecRule> {
    let by_name = ctx.by_name;
    check_blob(sink, nfa);
    let (neg_line, neg) = nfa.refs("ipsecNegotiationPolicyReference");
    let negpol = neg.first().and_then(|p| by_name.get(&ref_name(p))).copied();
    let Some(negpol) = negpol.filter(|n| n.class == Class::NegotiationPolicy) else {
        sink.parse_error(
            neg_line,
            format!("{}: no filter action (ipsecNegotiationPolicyReference names no negotiation policy of the export)", nfa.display()),
            format!("export the whole store: reg export HKLM\\{KEY} ipsec.reg"),
        );
        return None;
    };
    let default_response = negpol
        .sz("ipsecNegotiationPolicyType")
        .and_then(Guid::parse)
        .is_some_and(|g| g == ipsec_blob::DEFAULT_RESPONSE_TYPE);
    let (filter_line, lists) = nfa.refs("ipsecFilterReference");
    if default_response || lists.is_empty() {
        // The default response rule: no filters, nothing the model matches.
        return None;
    }
    let action = read_action(sink, negpol)?;
    let mut filters = Vec::new();
    for path in &lists {
        let Some(list) = by_name
            .get(&ref_name(path))
            .filter(|o| o.class == Class::Filter)
        else {
            sink.parse_error(
                filter_line,
                format!(
                    "{}: ipsecFilterReference names '{}', which the export does not hold",
                    nfa.display(),
                    excerpt(path)
                ),
                format!("export the whole store: reg export HKLM\\{KEY} ipsec.reg"),
            );
            return None;
        };
        let key = list.key.to_ascii_lowercase();
        let decoded = ctx
            .decoded
            .entry(key)
            .or_insert_with(|| match list.get("ipsecData") {
                Some((_, RegData::Binary(b))) => ipsec_filters::decode(b)
                    .map(|l| l.in_force().iter().map(to_filter).collect())
                    .map_err(DataError::from),
                Some(_) => Err(DataError::NotBinary),
                None => Err(DataError::Missing),
            });
        match decoded {
            Ok(list_filters) => {
                if list_filters.len() > ctx.budget {
                    if !ctx.over {
                        ctx.over = true;
                        sink.parse_error(
                            filter_line,
                            format!(
                                "{}: the store puts more than {MAX_FILTERS} filters in force; this rule and the ones after it are not read",
                                nfa.display()
                            ),
                            "check that this is the IPsec store you meant; a KB908472 store has 44 filters",
                        );
                    }
                    return None;
                }
                ctx.budget -= list_filters.len();
                for f in list_filters.iter() {
                    let server = [&f.src, &f.dst].into_iter().find_map(|a| match a {
                        AddrMatch::Keyword { name } => Some(name.clone()),
                        _ => None,
                    });
                    if let Some(server) = server {
                        sink.push(
                            crate::finding::Code::DnsUnresolved,
                            crate::finding::Severity::Warning,
                            filter_line,
                            format!(
                                "{}: filter {} names {server} (the host's DNS, WINS or DHCP servers or its default gateway, which Windows reads from its IP configuration); rpcaudit does not know them, so the model treats the filter as matching no address",
                                nfa.display(),
                                excerpt(&f.text)
                            ),
                            "check the rule by hand for the host's servers, or name their addresses in the filter",
                        );
                    }
                }
                filters.extend(list_filters.iter().cloned());
            }
            Err(e) => {
                let line = list.get("ipsecData").map_or(list.line, |(l, _)| *l);
                let e = e.clone();
                blob_error(sink, line, list, &e);
                return None;
            }
        }
    }
    let name = match nfa.sz("ipsecName") {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => nfa.key.clone(),
    };
    Some(IpsecRule {
        name,
        filters,
        action,
        line: nfa.line,
        dialect: Dialect::IpsecStore,
        file: sink.file.clone(),
    })
}

fn read_action(sink: &mut Sink, negpol: &Object) -> Option<RuleAction> {
    let (line, text) = match negpol.get("ipsecNegotiationPolicyAction") {
        Some((l, RegData::Sz(s))) => (*l, s.clone()),
        Some((l, _)) => (*l, String::new()),
        None => (negpol.line, String::new()),
    };
    let Some(action) = Guid::parse(&text).and_then(NegotiationAction::from_guid) else {
        sink.parse_error(
            line,
            format!(
                "{}: ipsecNegotiationPolicyAction '{}' is not block, permit, negotiate or inbound pass-through",
                negpol.display(),
                excerpt(&text)
            ),
            format!("export the IPsec store again: reg export HKLM\\{KEY} ipsec.reg"),
        );
        return None;
    };
    Some(match action {
        NegotiationAction::Block => RuleAction::Block,
        NegotiationAction::Permit => RuleAction::Pass,
        NegotiationAction::InboundPassThrough => RuleAction::Negotiate {
            clear_inbound: true,
        },
        NegotiationAction::Negotiate => {
            let offers = match negpol.get("ipsecData") {
                Some((l, RegData::Binary(b))) => match ipsec_blob::decode_offers(b) {
                    Ok(o) => o,
                    Err(e) => {
                        blob_error(sink, *l, negpol, &e.into());
                        return None;
                    }
                },
                _ => Vec::new(),
            };
            RuleAction::Negotiate {
                clear_inbound: offers.iter().any(|o| o.transforms.is_empty()),
            }
        }
    })
}

/// An address of a blob as the model's matcher: the host's servers as the Windows Firewall
/// keywords for them (which match no address here).
fn addr(a: &BlobAddr) -> AddrMatch {
    match a {
        BlobAddr::Any => AddrMatch::Any,
        BlobAddr::Me => AddrMatch::Me,
        BlobAddr::One(ip) => AddrMatch::host(*ip),
        BlobAddr::Range(first, last) => AddrMatch::Range {
            first: *first,
            last: *last,
        },
        BlobAddr::Subnet { addr, mask } => AddrMatch::masked(*addr, *mask),
        BlobAddr::Server(s) => AddrMatch::Keyword {
            name: s.keyword().to_string(),
        },
    }
}

/// The filter in ipseccmd's syntax (with `first-last` for ranges, the keyword for a server),
/// so explain and diff show it as a script would have written it.
fn filter_text(f: &V2Filter) -> String {
    fn side(a: &BlobAddr, ports: ipsec_filters::Ports) -> String {
        let mut s = match a {
            BlobAddr::Any => "*".to_string(),
            BlobAddr::Me => "0".to_string(),
            BlobAddr::One(ip) => ip.to_string(),
            BlobAddr::Range(x, y) => format!("{x}-{y}"),
            BlobAddr::Subnet { addr, mask } => format!("{addr}/{mask}"),
            BlobAddr::Server(s) => s.keyword().to_string(),
        };
        match ports {
            Some((p, q)) if p == q => s.push_str(&format!(":{p}")),
            Some((p, q)) => s.push_str(&format!(":{p}-{q}")),
            None => {}
        }
        s
    }
    let proto = match f.protocol {
        0 => String::new(),
        6 => ":TCP".into(),
        17 => ":UDP".into(),
        1 => ":ICMP".into(),
        n => format!(":{n}"),
    };
    format!(
        "{}{}{}{proto}",
        side(&f.src, f.src_ports),
        if f.head.mirrored { '=' } else { '+' },
        side(&f.dst, f.dst_ports)
    )
}

fn to_filter(f: &V2Filter) -> Filter {
    Filter {
        src: addr(&f.src),
        src_port: f.src_ports,
        dst: addr(&f.dst),
        dst_port: f.dst_ports,
        proto: match f.protocol {
            0 => ProtoMatch::Any,
            n => ProtoMatch::Number(n),
        },
        mirrored: f.head.mirrored,
        text: filter_text(f),
    }
}

/// Writing a store export as `reg export` does, for the fixture and the tests (test-only).
#[cfg(test)]
pub mod export {
    use super::KEY;
    use super::ipsec_blob::{Class, Guid, NegotiationAction, Offer, encode};
    use super::ipsec_filters::{self, BlobFilter, FilterHead, V2Filter};
    use std::net::Ipv4Addr;

    /// One rule of a policy to write: its name, filters and action.
    pub struct RuleSpec {
        pub name: String,
        pub filters: Vec<BlobFilter>,
        /// The version-2 filters written after them (Windows Vista and later), if any.
        pub v2: Vec<V2Filter>,
        pub action: NegotiationAction,
        /// For a negotiate action: fall back to clear (an offer without transforms).
        pub soft: bool,
    }

    pub struct PolicySpec {
        pub name: String,
        pub rules: Vec<RuleSpec>,
    }

    /// A deterministic GUID from a counter (the fixture must not change between runs).
    fn guid(n: u32, salt: u16) -> Guid {
        Guid::new(
            0x5EED_0000 + n,
            salt,
            0x4A2B,
            [0x9C, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x00, (n & 0xFF) as u8],
        )
    }

    fn hex_lines(name: &str, kind: &str, bytes: &[u8]) -> String {
        // regedit wraps hex at about 80 columns with "\" and two spaces of indentation.
        let mut out = format!("\"{name}\"={kind}:");
        let mut col = out.len();
        for (i, b) in bytes.iter().enumerate() {
            let item = if i + 1 < bytes.len() {
                format!("{b:02x},")
            } else {
                format!("{b:02x}")
            };
            if col + item.len() > 78 && i + 1 < bytes.len() {
                out.push_str("\\\r\n  ");
                col = 2;
            }
            out.push_str(&item);
            col += item.len();
        }
        out.push_str("\r\n");
        out
    }

    fn multi(name: &str, items: &[String]) -> String {
        let mut b = Vec::new();
        for s in items {
            for u in s.encode_utf16().chain([0]) {
                b.extend_from_slice(&u.to_le_bytes());
            }
        }
        b.extend_from_slice(&[0, 0]);
        hex_lines(name, "hex(7)", &b)
    }

    /// A REG_SZ value line, name and value escaped as regedit escapes them.
    pub fn sz(name: &str, v: &str) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{}\"=\"{}\"\r\n", esc(name), esc(v))
    }

    struct Obj {
        key: String,
        body: String,
    }

    /// The text of an export holding `policies` (the first one `assigned` when true), in the
    /// order regedit writes keys (sorted by name, case-insensitively).
    pub fn text(policies: &[PolicySpec], assigned: Option<usize>) -> String {
        let root = format!("HKEY_LOCAL_MACHINE\\{KEY}");
        let local = KEY.to_string();
        let mut n = 0u32;
        let mut objs: Vec<Obj> = Vec::new();
        let mut policy_keys = Vec::new();
        for p in policies {
            n += 1;
            let pkey = format!("ipsecPolicy{}", guid(n, 1));
            let isakmp = format!("ipsecISAKMPPolicy{}", guid(n, 2));
            let mut nfa_paths = Vec::new();
            for r in &p.rules {
                n += 1;
                let nkey = format!("ipsecNFA{}", guid(n, 3));
                let fkey = format!("ipsecFilter{}", guid(n, 4));
                let gkey = format!("ipsecNegotiationPolicy{}", guid(n, 5));
                let owner = vec![format!("{local}\\{nkey}")];
                let mut f = String::new();
                f += &sz("ClassName", Class::Filter.name());
                f += &sz("description", "");
                let blob = if r.v2.is_empty() {
                    ipsec_filters::encode::filters(&r.filters)
                } else {
                    ipsec_filters::encode::with_v2(&r.filters, &r.v2)
                };
                f += &hex_lines("ipsecData", "hex", &blob);
                f += "\"ipsecDataType\"=dword:00000100\r\n";
                f += &sz("ipsecID", &guid(n, 4).to_string());
                f += &sz("ipsecName", &r.name);
                f += &multi("ipsecOwnersReference", &owner);
                f += &sz("name", &fkey);
                f += "\"whenChanged\"=dword:4f1c2a00\r\n";
                objs.push(Obj {
                    key: fkey.clone(),
                    body: f,
                });
                let offers = if r.soft {
                    vec![Offer::default()]
                } else {
                    Vec::new()
                };
                let mut g = String::new();
                g += &sz("ClassName", Class::NegotiationPolicy.name());
                g += &hex_lines("ipsecData", "hex", &encode::offers(&offers));
                g += "\"ipsecDataType\"=dword:00000100\r\n";
                g += &sz("ipsecID", &guid(n, 5).to_string());
                g += &sz("ipsecName", &r.name);
                g += &sz(
                    "ipsecNegotiationPolicyAction",
                    &r.action.guid().to_string().to_ascii_lowercase(),
                );
                g += &sz(
                    "ipsecNegotiationPolicyType",
                    "{62f49e10-6c37-11d1-864c-14a300000000}",
                );
                g += &multi("ipsecOwnersReference", &owner);
                g += &sz("name", &gkey);
                g += "\"whenChanged\"=dword:4f1c2a00\r\n";
                objs.push(Obj {
                    key: gkey.clone(),
                    body: g,
                });
                let mut a = String::new();
                a += &sz("ClassName", Class::Nfa.name());
                a += &hex_lines(
                    "ipsecData",
                    "hex",
                    &encode::envelope(Class::Nfa, &[0xfd, 0xff, 0xff, 0xff]),
                );
                a += "\"ipsecDataType\"=dword:00000100\r\n";
                a += &multi("ipsecFilterReference", &[format!("{local}\\{fkey}")]);
                a += &sz("ipsecID", &guid(n, 3).to_string());
                a += &sz("ipsecName", &r.name);
                a += &sz(
                    "ipsecNegotiationPolicyReference",
                    &format!("{local}\\{gkey}"),
                );
                a += &multi("ipsecOwnersReference", &[format!("{local}\\{pkey}")]);
                a += &sz("name", &nkey);
                a += "\"whenChanged\"=dword:4f1c2a00\r\n";
                objs.push(Obj {
                    key: nkey.clone(),
                    body: a,
                });
                nfa_paths.push(format!("{local}\\{nkey}"));
            }
            let mut s = String::new();
            s += &sz("ClassName", Class::IsakmpPolicy.name());
            s += &hex_lines(
                "ipsecData",
                "hex",
                &encode::envelope(Class::IsakmpPolicy, &[0; 8]),
            );
            s += "\"ipsecDataType\"=dword:00000100\r\n";
            s += &sz("ipsecName", &p.name);
            s += &multi("ipsecOwnersReference", &[format!("{local}\\{pkey}")]);
            s += &sz("name", &isakmp);
            objs.push(Obj {
                key: isakmp.clone(),
                body: s,
            });
            let mut q = String::new();
            q += &sz("ClassName", Class::Policy.name());
            q += &sz("description", "");
            q += &hex_lines(
                "ipsecData",
                "hex",
                &encode::envelope(Class::Policy, &10800u32.to_le_bytes()),
            );
            q += "\"ipsecDataType\"=dword:00000100\r\n";
            q += &sz("ipsecID", &guid(n, 1).to_string());
            q += &sz("ipsecISAKMPReference", &format!("{local}\\{isakmp}"));
            q += &sz("ipsecName", &p.name);
            q += &multi("ipsecNFAReference", &nfa_paths);
            q += &sz("name", &pkey);
            q += "\"whenChanged\"=dword:4f1c2a00\r\n";
            policy_keys.push(pkey.clone());
            objs.push(Obj { key: pkey, body: q });
        }
        objs.sort_by_key(|o| o.key.to_ascii_lowercase());
        let mut out = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
        out += &format!("[{root}]\r\n");
        if let Some(i) = assigned {
            out += &sz("ActivePolicy", &format!("{local}\\{}", policy_keys[i]));
        }
        out += "\r\n";
        for o in objs {
            out += &format!("[{root}\\{}]\r\n{}\r\n", o.key, o.body);
        }
        out
    }

    /// A mirrored TCP filter from `src`/`mask` to this computer's `port`, with an ID from `n`.
    pub fn filter(src: [u8; 4], mask: [u8; 4], port: u16, n: u32) -> BlobFilter {
        BlobFilter {
            head: FilterHead {
                id: Guid::new(0xF11E_0000 + n, 7, 7, [7; 8]),
                mirrored: true,
                ..FilterHead::default()
            },
            src: src.into(),
            src_mask: mask.into(),
            dst: Ipv4Addr::UNSPECIFIED,
            dst_mask: Ipv4Addr::BROADCAST,
            tunnel: Ipv4Addr::UNSPECIFIED,
            protocol: 6,
            src_port: 0,
            dst_port: port,
            tunnel_filter: false,
            special: None,
        }
    }

    /// The KB908472 policy as ipseccmd writes it: a rule per port (135, 5001-5021), one
    /// filter each, blocked for all and permitted for the /24 `allowed`.
    pub fn kb908472(allowed: [u8; 4]) -> PolicySpec {
        let ports: Vec<u16> = std::iter::once(135).chain(5001..=5021).collect();
        let net = Ipv4Addr::from(allowed);
        let mut rules = Vec::new();
        for (i, &p) in ports.iter().enumerate() {
            rules.push(RuleSpec {
                name: format!("Block Inbound TCP {p} Rule"),
                filters: vec![filter([0; 4], [0; 4], p, i as u32)],
                action: NegotiationAction::Block,
                soft: false,
                v2: Vec::new(),
            });
        }
        for (i, &p) in ports.iter().enumerate() {
            rules.push(RuleSpec {
                name: format!("Allow Inbound TCP Port {p} from {net} Rule"),
                filters: vec![filter(allowed, [255, 255, 255, 0], p, 100 + i as u32)],
                action: NegotiationAction::Permit,
                soft: false,
                v2: Vec::new(),
            });
        }
        PolicySpec {
            name: "Block RPC Ports".into(),
            rules,
        }
    }

    /// A built-in policy of Windows XP/2003, as every store holds it (unassigned).
    pub fn server_request_security() -> PolicySpec {
        let mut icmp = filter([0; 4], [0; 4], 0, 900);
        icmp.protocol = 1;
        icmp.head.description = "All ICMP Traffic".into();
        let mut all = filter([0; 4], [0; 4], 0, 901);
        all.protocol = 0;
        all.src = Ipv4Addr::UNSPECIFIED;
        all.src_mask = Ipv4Addr::BROADCAST;
        all.dst_mask = Ipv4Addr::UNSPECIFIED;
        PolicySpec {
            name: "Server (Request Security)".into(),
            rules: vec![
                RuleSpec {
                    name: "All ICMP Traffic".into(),
                    filters: vec![icmp],
                    action: NegotiationAction::Permit,
                    soft: false,
                    v2: Vec::new(),
                },
                RuleSpec {
                    name: "All IP Traffic".into(),
                    filters: vec![all],
                    action: NegotiationAction::Negotiate,
                    soft: true,
                    v2: Vec::new(),
                },
            ],
        }
    }

    /// UTF-16LE with a BOM, as `reg export` writes.
    pub fn utf16(text: &str) -> Vec<u8> {
        let mut b = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::export::{PolicySpec, RuleSpec};
    use super::ipsec_blob::NegotiationAction;
    use super::ipsec_filters::BlobFilter;
    use super::*;
    use crate::finding::Code;
    use crate::policy::{self, Action, LoadOptions, Proto};
    use std::net::Ipv4Addr;

    fn f(src: [u8; 4], mask: [u8; 4], port: u16, n: u32) -> BlobFilter {
        export::filter(src, mask, port, n)
    }

    fn kb908472() -> PolicySpec {
        export::kb908472([10, 1, 1, 0])
    }

    const FIXTURE: &str = "ipsec-store-kb908472.reg";

    fn fixture_bytes() -> Vec<u8> {
        export::utf16(&export::text(
            &[kb908472(), export::server_request_security()],
            Some(0),
        ))
    }

    /// The fixture in fixtures/policy is what the encoder writes (set
    /// RPCAUDIT_WRITE_FIXTURES=1 to write it again, and the fuzz seeds with it).
    #[test]
    fn fixture_is_what_the_encoder_writes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = root.join("fixtures/policy").join(FIXTURE);
        let bytes = fixture_bytes();
        if std::env::var_os("RPCAUDIT_WRITE_FIXTURES").is_some() {
            std::fs::write(&path, &bytes).unwrap();
            let seeds = root.join("fuzz/seeds/policy_ipsec_store");
            std::fs::create_dir_all(&seeds).unwrap();
            let filters = ipsec_filters::encode::filters(&kb908472().rules[22].filters);
            let mut seed = vec![0u8];
            seed.extend_from_slice(&filters);
            std::fs::write(seeds.join("filter-blob"), seed).unwrap();
            let mut seed = vec![1u8];
            seed.extend_from_slice(&ipsec_blob::encode::offers(&[Default::default()]));
            std::fs::write(seeds.join("offers-blob"), seed).unwrap();
            let small = export::utf16(&export::text(&[export::server_request_security()], None));
            let mut seed = vec![2u8];
            seed.extend_from_slice(&small);
            std::fs::write(seeds.join("unassigned-store.reg"), seed).unwrap();
            // Version-2 filter lists (Windows Vista and later): a blob, and a whole export.
            let v2 = super::ipsec_filters::tests::v2_sample();
            let mut seed = vec![0u8];
            seed.extend_from_slice(&v2);
            std::fs::write(seeds.join("filter-blob-v2"), seed).unwrap();
            let list = super::ipsec_filters::decode(&v2).unwrap();
            let mut spec = export::kb908472([10, 1, 1, 0]);
            spec.rules.truncate(1);
            spec.rules[0].filters = list.legacy;
            spec.rules[0].v2 = list.v2;
            let mut seed = vec![2u8];
            seed.extend_from_slice(&export::utf16(&export::text(&[spec], Some(0))));
            std::fs::write(seeds.join("store-v2-filters.reg"), seed).unwrap();
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "run with RPCAUDIT_WRITE_FIXTURES=1"
        );
    }

    fn parse(text: &str) -> policy::ParsedFile {
        policy::parse_text("ipsec.reg", &export::utf16(text))
    }

    #[test]
    fn the_assigned_policy_decides_like_the_script() {
        let pf = policy::parse_text("ipsec.reg", &fixture_bytes());
        assert!(pf.findings.is_empty(), "{:?}", pf.findings);
        assert_eq!(pf.dialects, vec![Dialect::IpsecStore]);
        assert_eq!(pf.ipsec.policies.len(), 2);
        let force = pf.ipsec.in_force();
        assert_eq!(force.len(), 1);
        assert_eq!(force[0].name, "Block RPC Ports");
        assert_eq!(force[0].rules.len(), 44);
        let lp = policy::build(vec![pf], &LoadOptions::default());
        let d = lp.policy.decide([10, 1, 1, 7].into(), 5010, Proto::Tcp);
        assert_eq!(d.action, Action::Pass);
        let rule = d.rule.unwrap();
        assert_eq!(rule.name, "Allow Inbound TCP Port 5010 from 10.1.1.0 Rule");
        assert_eq!(
            rule.filter.as_deref(),
            Some("10.1.1.0/255.255.255.0=0:5010:TCP")
        );
        assert_eq!(rule.dialect, Dialect::IpsecStore);
        let d = lp.policy.decide([10, 1, 2, 7].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.rule.unwrap().filter.as_deref(), Some("*=0:135:TCP"));
        // The built-in policy is not assigned: its rules are not in force.
        assert_eq!(
            lp.policy.action([10, 1, 2, 7], 445, Proto::Tcp),
            Action::None
        );
    }

    #[test]
    fn no_active_policy_means_nothing_in_force() {
        let pf = parse(&export::text(&[kb908472()], None));
        assert!(pf.findings.is_empty(), "{:?}", pf.findings);
        assert!(pf.ipsec.in_force().is_empty());
        let lp = policy::build(vec![pf], &LoadOptions::default());
        assert!(
            lp.findings.iter().any(|f| f.code == Code::PolicyUnassigned),
            "{:?}",
            lp.findings
        );
    }

    #[test]
    fn actions_and_addresses() {
        let mut one = f([192, 168, 5, 9], [255, 255, 255, 255], 0, 1);
        one.head.mirrored = false;
        one.protocol = 17;
        let me_to_any = BlobFilter {
            src: Ipv4Addr::UNSPECIFIED,
            src_mask: Ipv4Addr::BROADCAST,
            dst: Ipv4Addr::UNSPECIFIED,
            dst_mask: Ipv4Addr::UNSPECIFIED,
            dst_port: 0,
            src_port: 135,
            ..f([0; 4], [0; 4], 0, 2)
        };
        let spec = PolicySpec {
            name: "P".into(),
            rules: vec![
                RuleSpec {
                    name: "udp from one host".into(),
                    filters: vec![one],
                    action: NegotiationAction::Negotiate,
                    soft: false,
                    v2: Vec::new(),
                },
                RuleSpec {
                    name: "mirror of me:135 to any".into(),
                    filters: vec![me_to_any],
                    action: NegotiationAction::InboundPassThrough,
                    soft: false,
                    v2: Vec::new(),
                },
            ],
        };
        let pf = parse(&export::text(&[spec], Some(0)));
        assert!(pf.findings.is_empty(), "{:?}", pf.findings);
        let rules = &pf.ipsec.in_force()[0].rules;
        assert_eq!(rules[0].filters[0].text, "192.168.5.9+0:UDP");
        assert_eq!(
            rules[0].action,
            RuleAction::Negotiate {
                clear_inbound: false
            }
        );
        assert!(matches!(
            rules[0].filters[0].src,
            AddrMatch::Masked { bits: 32, .. }
        ));
        assert_eq!(rules[1].filters[0].src, AddrMatch::Me);
        assert_eq!(rules[1].filters[0].dst, AddrMatch::Any);
        assert_eq!(
            rules[1].action,
            RuleAction::Negotiate {
                clear_inbound: true
            }
        );
        let lp = policy::build(vec![pf], &LoadOptions::default());
        // Negotiate blocks a plain client; the mirrored me:135 filter is inbound to 135 from
        // anyone, and inbound pass-through lets clear traffic in.
        assert_eq!(
            lp.policy.action([192, 168, 5, 9], 53, Proto::Udp),
            Action::Block
        );
        assert_eq!(
            lp.policy.action([1, 2, 3, 4], 135, Proto::Tcp),
            Action::Pass
        );
    }

    /// A store written by Windows Vista or later: the filter list holds the legacy filters
    /// (the range expanded into subnets) and, after them, the version-2 filters; a V2 filter
    /// replaces the legacy filter of its GUID, and a filter naming the host's DNS servers is
    /// reported and matches nothing.
    #[test]
    fn version_2_filters_decide_with_their_ranges() {
        use super::ipsec_filters::{BlobAddr, FilterHead, Server, V2Filter};
        // 10.1.1.8-10.1.1.23 as Vista writes it for older readers: 10.1.1.8/29, 10.1.1.16/29.
        let mut low = f([10, 1, 1, 8], [255, 255, 255, 248], 0, 50);
        let mut high = f([10, 1, 1, 16], [255, 255, 255, 248], 0, 50);
        for x in [&mut low, &mut high] {
            x.dst_port = 5001;
        }
        let range = V2Filter {
            head: FilterHead {
                description: "range".into(),
                id: low.head.id,
                mirrored: true,
                ..FilterHead::default()
            },
            src: BlobAddr::Range([10, 1, 1, 8].into(), [10, 1, 1, 23].into()),
            dst: BlobAddr::Me,
            src_ports: None,
            dst_ports: Some((5001, 5021)),
            protocol: 6,
            flags: 8,
        };
        let dns = V2Filter {
            head: FilterHead {
                id: Guid::new(0xD25, 1, 1, [1; 8]),
                ..range.head.clone()
            },
            src: BlobAddr::Server(Server::Dns),
            dst_ports: Some((135, 135)),
            flags: 0,
            ..range.clone()
        };
        let spec = PolicySpec {
            name: "Vista".into(),
            rules: vec![
                RuleSpec {
                    name: "Allow the range".into(),
                    filters: vec![low, high],
                    v2: vec![range, dns],
                    action: NegotiationAction::Permit,
                    soft: false,
                },
                RuleSpec {
                    name: "Block RPC".into(),
                    filters: vec![f([0; 4], [0; 4], 0, 60)],
                    action: NegotiationAction::Block,
                    soft: false,
                    v2: Vec::new(),
                },
            ],
        };
        let pf = parse(&export::text(&[spec], Some(0)));
        let codes: Vec<&str> = pf.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["dns-unresolved"], "{:?}", pf.findings);
        assert!(
            pf.findings[0].message.contains("names DNS"),
            "{}",
            pf.findings[0].message
        );
        let rules = &pf.ipsec.in_force()[0].rules;
        let texts: Vec<&str> = rules[0].filters.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(
            texts,
            ["10.1.1.8-10.1.1.23=0:5001-5021:TCP", "DNS=0:135:TCP"]
        );
        let lp = policy::build(vec![pf], &LoadOptions::default());
        let decide = |a: [u8; 4], p: u16| lp.policy.decide(a.into(), p, Proto::Tcp);
        // The range passes the whole port range, at both of its ends.
        for (a, p) in [
            ([10, 1, 1, 8], 5001),
            ([10, 1, 1, 23], 5021),
            ([10, 1, 1, 15], 5010),
        ] {
            let d = decide(a, p);
            assert_eq!(d.action, Action::Pass, "{a:?} {p}");
            assert_eq!(d.rule.unwrap().name, "Allow the range");
        }
        // Just outside the range or the ports, the block decides; the DNS filter matches nothing.
        for (a, p) in [
            ([10, 1, 1, 7], 5001),
            ([10, 1, 1, 24], 5001),
            ([10, 1, 1, 9], 5022),
            ([10, 1, 1, 9], 135),
        ] {
            assert_eq!(decide(a, p).action, Action::Block, "{a:?} {p}");
        }
    }

    #[test]
    fn malformed_blobs_are_parse_errors_naming_line_and_object() {
        let text = export::text(&[kb908472()], Some(0));
        // Cut a filter list's blob short: the line holding it, the object named.
        let at = text.find("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\IPSec\\Policy\\Local\\ipsecFilter").unwrap();
        let data = text[at..].find("\"ipsecData\"=hex:").unwrap() + at;
        let end = text[data..].find("\r\n\"ipsecDataType\"").unwrap() + data;
        let broken = format!(
            "{}\"ipsecData\"=hex:b5,20,dc,80{}",
            &text[..data],
            &text[end..]
        );
        let line = text[..data].matches("\r\n").count() + 1;
        let pf = parse(&broken);
        let e = pf
            .findings
            .iter()
            .find(|f| f.code == Code::ParseError)
            .unwrap_or_else(|| panic!("{:?}", pf.findings));
        assert_eq!(e.line, Some(line));
        assert_eq!(e.file.as_deref(), Some("ipsec.reg"));
        assert!(e.message.contains("ipsecFilter{"), "{}", e.message);
        assert!(e.message.contains("shorter than"), "{}", e.message);
        // The rule that used it is not read; the others are.
        assert_eq!(pf.ipsec.in_force()[0].rules.len(), 43);
    }

    #[test]
    fn dangling_references_are_reported() {
        let text = export::text(&[kb908472()], Some(0)).replace(
            "ActivePolicy\"=\"SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows\\\\IPSec\\\\Policy\\\\Local\\\\ipsecPolicy",
            "ActivePolicy\"=\"SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows\\\\IPSec\\\\Policy\\\\Local\\\\ipsecPolicyX",
        );
        let pf = parse(&text);
        assert!(pf.ipsec.in_force().is_empty());
        assert_eq!(pf.findings[0].code, Code::ParseError);
        assert_eq!(pf.findings[0].line, Some(4));
        assert!(pf.findings[0].message.contains("ActivePolicy"));
    }

    proptest::proptest! {
        #[test]
        fn any_blob_bytes_in_an_export_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let hex: Vec<String> = data.iter().map(|b| format!("{b:02x}")).collect();
            let text = format!(
                "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\{KEY}\\ipsecFilter{{1}}]\r\n\"ipsecData\"=hex:{}\r\n",
                hex.join(",")
            );
            let _ = parse(&text);
        }
    }
}
