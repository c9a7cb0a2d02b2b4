//! RPC filters as policy: the model the `netsh rpc filter` reader
//! ([`crate::policy::dialect::netsh_rpc`]) fills, and the decision for one call to one
//! interface ([`RpcFilters::decide`]), which `policy explain --interface` prints and
//! `audit::rpc_filters` holds against the interface probes. Pure.
//!
//! What the model takes from Microsoft's documents and public write-ups:
//! - RPC filters live in the Windows Filtering Platform's RPC layers; `layer=um`
//!   (`FWPM_LAYER_RPC_UM`) is the one that sees each call to an interface, `epmap`
//!   (`FWPM_LAYER_RPC_EPMAP`) the endpoint mapper's lookups and `ep_add`
//!   (`FWPM_LAYER_RPC_EP_ADD`) endpoint registrations (learn.microsoft.com, "netsh rpc",
//!   windows-server/administration/windows-commands/netsh-rpc). Only `um` filters decide a call
//!   here; the others are kept and said to decide nothing about calls.
//! - The `um` fields (`if_uuid`, `auth_type`, `auth_level`, `remote_addr_v4`/`_v6`, `pipe`,
//!   `protocol`, `opnum`, and others this model does not read) are the same page's list for
//!   `add condition field=`. `protocol` holds an `RPC_PROTSEQ_*` value: 2 is named pipes, as
//!   MichaelGrafnetter/RPCFilterManager's README shows in its "Block ... over named pipes"
//!   filters (`protocol`, `FWP_UINT8` 2); 1 for `ncacn_ip_tcp` is assumed from the same
//!   enumeration's order.
//! - A filter's conditions must all hold for its action to be taken (FWPM_FILTER_CONDITION0:
//!   "a filter condition that must be true for the action to be taken"). How WFP combines two
//!   conditions on the same field is not modelled: when reading them as "all" and as "any"
//!   gives different answers, that filter's match is conditional.
//! - Weights (learn.microsoft.com, "Filter Weight Assignment"): a filter's weight is a 64-bit
//!   value; `FWP_EMPTY` lets BFE generate one in `[0, 2^60)`; an `FWP_UINT8` 0-15 sets the
//!   four high bits and BFE generates the rest. The highest-weighted matching filter decides.
//!   How BFE generates the automatic part is not documented there: we assume, as the
//!   published permit-then-block scripts do (jsecurity101's "Prevent_Relay_RPC_Filter" gist,
//!   the permit with more conditions than the block), that a filter with more conditions gets
//!   the higher automatic weight; two filters with as many conditions and different actions
//!   make the decision conditional.
//! - `remote_addr_*` over named pipes: "IP address filter support for RPC over named pipes was
//!   added in Windows 11 25H2 (10.0.26200)" (MichaelGrafnetter/RPCFilterManager,
//!   `Documentation/DotNet/DSInternals.Win32.RpcFilters.RpcFilterManager.md`,
//!   `IsIpAddressFilterWithNamedPipesSupported`). Before that the RPC layer does not see the
//!   client's address on `ncacn_np`, so a condition on it is conditional for a call over a
//!   pipe: it holds on some Windows versions only.
//!
//! A field, a match type, an action or a value this model does not read never widens or drops
//! a filter: the filter may apply, and a decision it could change is `conditional`.

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use uuid::Uuid;

/// `RPC_PROTSEQ_TCP`, the `protocol` value of a call over `ncacn_ip_tcp` (assumed, see above).
pub const PROTSEQ_TCP: u64 = 1;
/// `RPC_PROTSEQ_NMP`, the `protocol` value of a call over a named pipe.
pub const PROTSEQ_NMP: u64 = 2;

/// The WFP RPC layer a filter is added to (`layer=` / `layerKey:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RpcLayer {
    /// `um`: each call to an interface.
    Um,
    /// `epmap`: the endpoint mapper's lookups.
    Epmap,
    /// `ep_add`: endpoint registrations.
    EpAdd,
    /// Another layer name, kept as written.
    Other(String),
}

/// What a filter does when it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FilterAction {
    Permit,
    Block,
    /// Another action type (a callout, ...): what it decides is not modelled.
    Other(String),
}

impl fmt::Display for FilterAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterAction::Permit => f.write_str("permit"),
            FilterAction::Block => f.write_str("block"),
            FilterAction::Other(s) => write!(f, "{s} (not modelled)"),
        }
    }
}

/// A filter's weight as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Weight {
    /// `FWP_EMPTY` (or not given): BFE generates it.
    Auto,
    /// `FWP_UINT8` 0-15: the four high bits; BFE generates the rest.
    Range(u8),
    /// `FWP_UINT64`: used as is.
    Exact(u64),
    /// A weight not read.
    Unknown(String),
}

/// The fields of the `um` layer this model reads; any other is kept by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    IfUuid,
    AuthType,
    AuthLevel,
    RemoteAddress,
    Pipe,
    Protocol,
    Opnum,
    Other(String),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::IfUuid => "if_uuid",
            Field::AuthType => "auth_type",
            Field::AuthLevel => "auth_level",
            Field::RemoteAddress => "remote address",
            Field::Pipe => "pipe",
            Field::Protocol => "protocol",
            Field::Opnum => "opnum",
            Field::Other(s) => s,
        })
    }
}

/// How a condition compares (`matchtype=` / `FWP_MATCH_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MatchType {
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterOrEqual,
    LessOrEqual,
    /// Another match type (range, flags, prefix, ...): not modelled.
    Other(String),
}

/// A condition's value, as far as it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Value {
    Uuid(#[schemars(with = "String")] Uuid),
    Number(u64),
    Address(#[schemars(with = "String")] IpNet),
    Text(String),
    /// A value of a field this model does not read, or in a form it does not read.
    Unread(String),
}

/// One condition of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Condition {
    pub field: Field,
    pub match_type: MatchType,
    pub value: Value,
    /// The line it was read from.
    pub line: usize,
}

/// One RPC filter, with where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RpcFilter {
    pub file: String,
    /// The line where the filter starts (`add rule`, `filterKey:`).
    pub line: usize,
    /// `filterKey` when given.
    pub key: Option<String>,
    /// `displayData.name` when given.
    pub name: Option<String>,
    pub layer: RpcLayer,
    pub action: FilterAction,
    pub weight: Weight,
    pub conditions: Vec<Condition>,
    /// Settings of the filter this model does not read (each "key: value"): they may narrow
    /// the filter (a flag, a provider), so where its conditions match, the match is
    /// conditional; they never widen it.
    pub unmodelled: Vec<String>,
}

impl RpcFilter {
    /// `file:line`, and the name or key.
    pub fn reference(&self) -> String {
        let label = self
            .name
            .as_deref()
            .or(self.key.as_deref())
            .map(|n| format!(" ({})", crate::inert::excerpt(n)))
            .unwrap_or_default();
        format!("{}:{}{label}", self.file, self.line)
    }
}

/// Every filter read from the files given, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RpcFilters {
    pub filters: Vec<RpcFilter>,
}

/// One call to ask the filters about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub interface: Uuid,
    /// The client's address as the server sees it.
    pub src: IpAddr,
    /// The named pipe the call came over (`\pipe\efsrpc`), `None` over TCP.
    pub pipe: Option<String>,
    /// `auth_level` (1 none ... 6 privacy), when known.
    pub auth_level: Option<u8>,
    /// `auth_type` (0 none, 10 NTLM, 16 Kerberos, 9 negotiate), when known.
    pub auth_type: Option<u8>,
    /// The opnum called, when known (the probes call 65535).
    pub opnum: Option<u16>,
}

impl Call {
    /// An anonymous call (auth level none, auth type none) over TCP or a pipe.
    pub fn anonymous(interface: Uuid, src: IpAddr, pipe: Option<String>, opnum: u16) -> Self {
        Call {
            interface,
            src,
            pipe,
            auth_level: Some(1),
            auth_type: Some(0),
            opnum: Some(opnum),
        }
    }
}

/// What the filters do with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RpcVerdict {
    /// A permit filter decides, or no filter matches (the RPC layer then lets the call on).
    Allow,
    Block,
    /// It depends on something the model cannot check; the reasons say what.
    Conditional,
}

impl fmt::Display for RpcVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RpcVerdict::Allow => "allow",
            RpcVerdict::Block => "block",
            RpcVerdict::Conditional => "conditional",
        })
    }
}

/// The decision and the filter that makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RpcDecision {
    pub verdict: RpcVerdict,
    /// The deciding filter (`file:line (name)`), absent when no filter matches or when the
    /// decision is conditional.
    pub filter: Option<String>,
    /// For `conditional`: what it depends on; otherwise empty.
    pub reasons: Vec<String>,
    /// A filter that matters here is scoped by remote address and the call came over a named
    /// pipe, where the RPC layer does not see the client's address before Windows 11 25H2.
    pub address_over_pipe: bool,
}

/// Yes, no, or maybe (with why).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe(Vec<String>),
}

fn tri(b: bool) -> Tri {
    if b { Tri::Yes } else { Tri::No }
}

fn compare(mt: &MatchType, have: u64, want: u64) -> Option<bool> {
    Some(match mt {
        MatchType::Equal => have == want,
        MatchType::NotEqual => have != want,
        MatchType::Greater => have > want,
        MatchType::Less => have < want,
        MatchType::GreaterOrEqual => have >= want,
        MatchType::LessOrEqual => have <= want,
        MatchType::Other(_) => return None,
    })
}

/// A pipe name without `\\.\`, `\pipe\`, case folded: `\PIPE\atsvc` and `atsvc` are one.
fn pipe_key(p: &str) -> String {
    let l = p.trim().to_ascii_lowercase();
    let l = l.strip_prefix("\\\\.").unwrap_or(&l);
    let l = l.strip_prefix("\\pipe\\").unwrap_or(l);
    l.to_string()
}

impl Condition {
    fn eval(&self, call: &Call, address_over_pipe: &mut bool) -> Tri {
        let maybe = |why: String| Tri::Maybe(vec![why]);
        let number = |have: Option<u64>, what: &str| match (&self.value, have) {
            (Value::Number(want), Some(have)) => match compare(&self.match_type, have, *want) {
                Some(b) => tri(b),
                None => maybe(format!(
                    "line {}: match type {:?} on {} is not modelled",
                    self.line, self.match_type, self.field
                )),
            },
            (Value::Number(_), None) => maybe(format!(
                "line {}: a condition on {} ({what} of the call not known)",
                self.line, self.field
            )),
            _ => maybe(format!(
                "line {}: the value of {} was not read",
                self.line, self.field
            )),
        };
        match &self.field {
            Field::IfUuid => match (&self.value, &self.match_type) {
                (Value::Uuid(u), MatchType::Equal) => tri(*u == call.interface),
                (Value::Uuid(u), MatchType::NotEqual) => tri(*u != call.interface),
                _ => maybe(format!(
                    "line {}: an if_uuid condition not read as equal/not equal",
                    self.line
                )),
            },
            Field::AuthLevel => number(call.auth_level.map(u64::from), "the auth level"),
            Field::AuthType => number(call.auth_type.map(u64::from), "the auth type"),
            Field::Opnum => number(call.opnum.map(u64::from), "the opnum"),
            Field::Protocol => number(
                Some(if call.pipe.is_some() {
                    PROTSEQ_NMP
                } else {
                    PROTSEQ_TCP
                }),
                "the protocol",
            ),
            Field::RemoteAddress => {
                let Value::Address(net) = &self.value else {
                    return maybe(format!("line {}: a remote address not read", self.line));
                };
                if call.pipe.is_some() {
                    *address_over_pipe = true;
                    return maybe(format!(
                        "line {}: the filter is scoped by remote address ({net}) and the call \
                         comes over a named pipe, where the RPC layer sees the client's address \
                         only from Windows 11 25H2",
                        self.line
                    ));
                }
                let inside = net.contains(&call.src);
                match self.match_type {
                    MatchType::Equal => tri(inside),
                    MatchType::NotEqual => tri(!inside),
                    _ => maybe(format!(
                        "line {}: match type {:?} on a remote address is not modelled",
                        self.line, self.match_type
                    )),
                }
            }
            Field::Pipe => {
                let Value::Text(p) = &self.value else {
                    return maybe(format!("line {}: a pipe name not read", self.line));
                };
                let same = call
                    .pipe
                    .as_deref()
                    .is_some_and(|q| pipe_key(q) == pipe_key(p));
                match self.match_type {
                    MatchType::Equal => tri(same),
                    MatchType::NotEqual => tri(!same),
                    _ => maybe(format!(
                        "line {}: match type {:?} on a pipe is not modelled",
                        self.line, self.match_type
                    )),
                }
            }
            Field::Other(name) => maybe(format!(
                "line {}: field {} is not modelled",
                self.line,
                crate::inert::excerpt(name)
            )),
        }
    }
}

fn all(results: &[Tri]) -> Tri {
    let mut why = Vec::new();
    for r in results {
        match r {
            Tri::No => return Tri::No,
            Tri::Maybe(w) => why.extend(w.iter().cloned()),
            Tri::Yes => {}
        }
    }
    if why.is_empty() {
        Tri::Yes
    } else {
        Tri::Maybe(why)
    }
}

fn any(results: &[Tri]) -> Tri {
    let mut why = Vec::new();
    for r in results {
        match r {
            Tri::Yes => return Tri::Yes,
            Tri::Maybe(w) => why.extend(w.iter().cloned()),
            Tri::No => {}
        }
    }
    if why.is_empty() {
        Tri::No
    } else {
        Tri::Maybe(why)
    }
}

impl RpcFilter {
    /// Whether the filter applies to the call.
    fn applies(&self, call: &Call, address_over_pipe: &mut bool) -> Tri {
        let mut groups: std::collections::BTreeMap<&Field, Vec<Tri>> = Default::default();
        for c in &self.conditions {
            let r = c.eval(call, address_over_pipe);
            groups.entry(&c.field).or_default().push(r);
        }
        let per_field: Vec<Tri> = groups
            .into_iter()
            .map(|(field, rs)| {
                if rs.len() == 1 {
                    return rs.into_iter().next().unwrap_or(Tri::No);
                }
                let (a, o) = (all(&rs), any(&rs));
                if a == o {
                    a
                } else {
                    Tri::Maybe(vec![format!(
                        "{} conditions on {field}: how WFP combines them is not modelled",
                        rs.len()
                    )])
                }
            })
            .collect();
        match all(&per_field) {
            Tri::Yes if !self.unmodelled.is_empty() => Tri::Maybe(
                self.unmodelled
                    .iter()
                    .map(|u| format!("setting not modelled: {}", crate::inert::excerpt(u)))
                    .collect(),
            ),
            r => r,
        }
    }

    /// The four high bits and, where BFE generates the rest, the number of conditions.
    fn rank(&self) -> Option<(u64, Option<u64>, usize)> {
        match self.weight {
            Weight::Auto => Some((0, None, self.conditions.len())),
            Weight::Range(r) => Some((u64::from(r), None, self.conditions.len())),
            Weight::Exact(w) => Some((w >> 60, Some(w), self.conditions.len())),
            Weight::Unknown(_) => None,
        }
    }
}

/// Whether `a` is weighted above or below `b`; `None` when it cannot be told.
fn outranks(a: &RpcFilter, b: &RpcFilter) -> Option<Ordering> {
    let (Some((ha, ea, na)), Some((hb, eb, nb))) = (a.rank(), b.rank()) else {
        return None;
    };
    if ha != hb {
        return Some(ha.cmp(&hb));
    }
    match (ea, eb) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        (None, None) if na != nb => Some(na.cmp(&nb)),
        _ => None,
    }
}

impl RpcFilters {
    /// What the `um` filters do with `call`.
    pub fn decide(&self, call: &Call) -> RpcDecision {
        let mut address_over_pipe = false;
        // The filters that apply (Yes) or may apply (Maybe), with their match.
        let mut candidates: Vec<(&RpcFilter, Tri)> = Vec::new();
        let mut reasons = Vec::new();
        for f in &self.filters {
            match &f.layer {
                RpcLayer::Um => {}
                RpcLayer::Epmap | RpcLayer::EpAdd => continue,
                RpcLayer::Other(l) => {
                    reasons.push(format!(
                        "{}: layer {} is not modelled",
                        f.reference(),
                        crate::inert::excerpt(l)
                    ));
                    if f.action != FilterAction::Permit {
                        candidates.push((f, Tri::Maybe(Vec::new())));
                    }
                    continue;
                }
            }
            let mut over_pipe = false;
            let m = f.applies(call, &mut over_pipe);
            if m != Tri::No {
                address_over_pipe |= over_pipe;
                candidates.push((f, m));
            }
        }
        // A filter decides when it surely applies and every filter with another action
        // that applies or may apply is surely weighted below it.
        let decider = candidates.iter().find(|(w, m)| {
            *m == Tri::Yes
                && !matches!(w.action, FilterAction::Other(_))
                && candidates.iter().all(|(o, _)| {
                    std::ptr::eq(*o, *w)
                        || o.action == w.action
                        || outranks(o, w) == Some(Ordering::Less)
                })
        });
        if let Some((w, _)) = decider {
            return RpcDecision {
                verdict: if w.action == FilterAction::Block {
                    RpcVerdict::Block
                } else {
                    RpcVerdict::Allow
                },
                filter: Some(w.reference()),
                reasons: Vec::new(),
                address_over_pipe: false,
            };
        }
        // No filter that surely applies decides: with nothing but permits that may apply,
        // the call is let on either way.
        if candidates
            .iter()
            .all(|(f, _)| f.action == FilterAction::Permit)
        {
            return RpcDecision {
                verdict: RpcVerdict::Allow,
                filter: None,
                reasons: Vec::new(),
                address_over_pipe: false,
            };
        }
        for (f, m) in &candidates {
            match m {
                Tri::Maybe(why) if why.is_empty() => {}
                Tri::Maybe(why) => reasons.push(format!(
                    "{} ({}) may apply: {}",
                    f.reference(),
                    f.action,
                    why.join("; ")
                )),
                _ => reasons.push(format!(
                    "{} ({}) applies, unless a filter with another action outweighs it (which cannot be told here)",
                    f.reference(),
                    f.action
                )),
            }
        }
        RpcDecision {
            verdict: RpcVerdict::Conditional,
            filter: None,
            reasons,
            address_over_pipe,
        }
    }

    /// Whether any filter is scoped by remote address: such a filter does not hold over
    /// named pipes before Windows 11 25H2.
    pub fn scoped_by_address(&self) -> impl Iterator<Item = &RpcFilter> {
        self.filters
            .iter()
            .filter(|f| f.conditions.iter().any(|c| c.field == Field::RemoteAddress))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IFACE: Uuid = Uuid::from_u128(0xdf1941c5_fe89_4e79_bf10_463657acf44d);

    fn filter(
        line: usize,
        action: FilterAction,
        weight: Weight,
        extra: Vec<Condition>,
    ) -> RpcFilter {
        let mut conditions = vec![Condition {
            field: Field::IfUuid,
            match_type: MatchType::Equal,
            value: Value::Uuid(IFACE),
            line,
        }];
        conditions.extend(extra);
        RpcFilter {
            file: "f".into(),
            line,
            key: None,
            name: None,
            layer: RpcLayer::Um,
            action,
            weight,
            conditions,
            unmodelled: Vec::new(),
        }
    }

    fn from(net: &str, line: usize) -> Condition {
        Condition {
            field: Field::RemoteAddress,
            match_type: MatchType::Equal,
            value: Value::Address(net.parse().unwrap()),
            line,
        }
    }

    fn decide(filters: Vec<RpcFilter>, src: &str) -> RpcDecision {
        RpcFilters { filters }.decide(&Call::anonymous(IFACE, src.parse().unwrap(), None, 65535))
    }

    #[test]
    fn weights_decide_and_ties_are_conditional() {
        use FilterAction::{Block, Permit};
        // No filter: the call goes on.
        assert_eq!(decide(vec![], "10.0.0.1").verdict, RpcVerdict::Allow);
        // Automatic weights: the permit with more conditions wins for its source only.
        let auto = || {
            vec![
                filter(1, Block, Weight::Auto, vec![]),
                filter(2, Permit, Weight::Auto, vec![from("10.0.9.0/24", 2)]),
            ]
        };
        assert_eq!(decide(auto(), "10.0.9.7").filter.as_deref(), Some("f:2"));
        assert_eq!(decide(auto(), "10.0.1.7").verdict, RpcVerdict::Block);
        // A weight range above the automatic one outranks the more specific permit.
        let ranged = vec![
            filter(1, Block, Weight::Range(15), vec![]),
            filter(2, Permit, Weight::Auto, vec![from("10.0.9.0/24", 2)]),
        ];
        assert_eq!(decide(ranged, "10.0.9.7").verdict, RpcVerdict::Block);
        // Exact weights compare as numbers.
        let exact = vec![
            filter(1, Block, Weight::Exact(10), vec![]),
            filter(2, Permit, Weight::Exact(20), vec![]),
        ];
        assert_eq!(decide(exact, "10.0.9.7").verdict, RpcVerdict::Allow);
        // As many conditions, different actions: which wins is not known.
        let tie = vec![
            filter(1, Block, Weight::Auto, vec![]),
            filter(2, Permit, Weight::Auto, vec![]),
        ];
        let d = decide(tie, "10.0.9.7");
        assert_eq!(d.verdict, RpcVerdict::Conditional, "{d:?}");
        assert_eq!(d.reasons.len(), 2, "{d:?}");
        // An exact weight beside an automatic one in the same range: not known either.
        let mixed = vec![
            filter(1, Block, Weight::Exact(5), vec![]),
            filter(2, Permit, Weight::Auto, vec![from("10.0.9.0/24", 2)]),
        ];
        assert_eq!(decide(mixed, "10.0.9.7").verdict, RpcVerdict::Conditional);
        // Same action, any weights: that action.
        let same = vec![
            filter(1, Block, Weight::Exact(5), vec![]),
            filter(2, Block, Weight::Unknown("x".into()), vec![]),
        ];
        assert_eq!(decide(same, "10.0.9.7").verdict, RpcVerdict::Block);
        // Filters of the endpoint mapper's layer do not decide calls; an unknown action may.
        let mut epmap = filter(1, Block, Weight::Auto, vec![]);
        epmap.layer = RpcLayer::Epmap;
        assert_eq!(decide(vec![epmap], "10.0.9.7").verdict, RpcVerdict::Allow);
        let callout = filter(
            1,
            FilterAction::Other("callout".into()),
            Weight::Auto,
            vec![],
        );
        assert_eq!(
            decide(vec![callout], "10.0.9.7").verdict,
            RpcVerdict::Conditional
        );
    }

    #[test]
    fn two_conditions_on_one_field_are_conditional_only_where_all_and_any_differ() {
        let two = |other: Uuid| {
            let mut f = filter(1, FilterAction::Block, Weight::Auto, vec![]);
            f.conditions.push(Condition {
                field: Field::IfUuid,
                match_type: MatchType::Equal,
                value: Value::Uuid(other),
                line: 2,
            });
            f
        };
        // Both name the interface: the same read either way.
        assert_eq!(
            decide(vec![two(IFACE)], "10.0.0.1").verdict,
            RpcVerdict::Block
        );
        // Two interfaces: "all" never matches, "any" does.
        let d = decide(vec![two(Uuid::from_u128(1))], "10.0.0.1");
        assert_eq!(d.verdict, RpcVerdict::Conditional);
        assert!(
            d.reasons
                .iter()
                .any(|r| r.contains("2 conditions on if_uuid")),
            "{d:?}"
        );
    }

    #[test]
    fn a_pipe_condition_holds_for_its_pipe_only() {
        let mut f = filter(1, FilterAction::Block, Weight::Auto, vec![]);
        f.conditions.push(Condition {
            field: Field::Pipe,
            match_type: MatchType::Equal,
            value: Value::Text("\\PIPE\\efsrpc".into()),
            line: 2,
        });
        let filters = RpcFilters { filters: vec![f] };
        let mut call = Call::anonymous(IFACE, "10.0.0.1".parse().unwrap(), None, 65535);
        assert_eq!(filters.decide(&call).verdict, RpcVerdict::Allow);
        call.pipe = Some("\\pipe\\EFSRPC".into());
        assert_eq!(filters.decide(&call).verdict, RpcVerdict::Block);
        call.pipe = Some("\\pipe\\lsarpc".into());
        assert_eq!(filters.decide(&call).verdict, RpcVerdict::Allow);
    }
}
