//! Remedy: fix scripts in the administrator's dialect (`--fix-dialect`), the audit's last step
//! before `report`. From the loaded policy, the verification matrix, the findings of the run
//! and capacity's recommendation, [`remediate`] writes commented commands that fix:
//! - `leak`, `range-port-unblocked`: the missing block for those ports, for every source but
//!   the allowed ones;
//! - `overblock`, `hang-hazard`, and `allow-shadowed` in Windows Firewall: the missing pass
//!   for the allowed subnet (IPsec: a more specific PASS filter; Windows Firewall, where a
//!   block beats any allow: the block narrowed so it no longer names the subnet);
//! - range findings (`out-of-range`, `range-exhausted`, `range-near-full`, `range-invalid`,
//!   ...): the range as rpccfg / `reg add` / `.reg`, and the fence extended to new ports.
//!
//! No command removes a block for a source outside the allowed sources, and an allowed source
//! is only let through to ports it is meant to reach. Pure: text in, text out. The tests read
//! every script back with [`crate::policy::parse_text`] and check the combined policy.

use super::capacity::{self, Recommendation};
use super::verify::{MatrixRow, Verdict};
use crate::finding::Finding;
use crate::policy::address::{AddrMatch, prefix_of};
use crate::policy::model::{PortMatch, RuleAction};
use crate::policy::registry::complement;
use crate::policy::sink::codes;
use crate::policy::{Action, Layer, LoadedPolicy, Proto, Query, Rule};
use crate::ports::PortRanges;
use crate::probe::ProbeState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The endpoint mapper's port, fenced with the range.
pub const EPM_PORT: u16 = 135;
/// Most ports one script fences; more means the range itself is wrong (fix it first).
pub const MAX_FIX_PORTS: u32 = 4096;
/// The policy name KB908472 uses, for a host without an assigned IPsec policy.
pub const DEFAULT_POLICY: &str = "Block RPC Ports";

/// Range findings the recommendation answers.
const RANGE_CODES: &[&str] = &[
    "out-of-range",
    "range-exhausted",
    "range-near-full",
    codes::RANGE_INVALID,
    codes::RANGE_INVERTED,
    codes::RANGE_TOO_SMALL,
    codes::RANGE_OVERLAPS_EPHEMERAL,
];

/// The language of the fix script.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum FixDialect {
    /// ipseccmd.exe (Windows XP/2003; ipsecpol.exe on Windows 2000 takes the same switches).
    Ipseccmd,
    /// `netsh ipsec static` (Windows Server 2003).
    NetshIpsec,
    /// `netsh advfirewall firewall` (Windows Vista / Server 2008 and later).
    Netsh,
    /// PowerShell NetSecurity cmdlets (Windows 8 / Server 2012 and later).
    Powershell,
}

impl FixDialect {
    pub fn as_str(self) -> &'static str {
        match self {
            FixDialect::Ipseccmd => "ipseccmd",
            FixDialect::NetshIpsec => "netsh-ipsec",
            FixDialect::Netsh => "netsh",
            FixDialect::Powershell => "powershell",
        }
    }

    /// The layer the dialect's rules live in.
    pub fn layer(self) -> Layer {
        match self {
            FixDialect::Ipseccmd | FixDialect::NetshIpsec => Layer::Ipsec,
            FixDialect::Netsh | FixDialect::Powershell => Layer::Firewall,
        }
    }

    fn comment(self) -> &'static str {
        match self {
            FixDialect::Powershell => "#",
            _ => "rem",
        }
    }
}

impl std::fmt::Display for FixDialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a step of the script does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    /// Adds a block (IPsec BLOCK filter, firewall block rule).
    Block,
    /// Adds a pass (IPsec PASS filter, firewall allow rule).
    Pass,
    /// Narrows an existing firewall block rule so it no longer covers allowed sources.
    NarrowBlock,
    /// Sets the RPC dynamic port range.
    Range,
}

/// One step of the script and what it fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FixAction {
    /// The finding codes the step fixes, e.g. `["leak", "range-port-unblocked"]`.
    pub codes: Vec<String>,
    pub kind: FixKind,
    /// The sources concerned: `any`, `any except 10.1.1.0/24`, `10.1.1.0/24`, `10.1.1.66`.
    pub source: String,
    /// TCP ports, e.g. `5003` or `135,5001-5021` (for `range`: the new range).
    pub ports: String,
    /// What the step does, in words.
    pub detail: String,
}

/// The fix script and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Remediation {
    pub dialect: FixDialect,
    /// The commands, commented (`rem` / `#` lines), CRLF line ends for cmd, LF for PowerShell.
    pub script: String,
    pub actions: Vec<FixAction>,
    /// What the script cannot fix, and assumptions to check before running it.
    pub notes: Vec<String>,
}

impl Remediation {
    /// True when the script changes nothing.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Address sets as intervals, to compute "every address except the allowed subnets".

/// An inclusive interval of one address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Iv {
    v6: bool,
    lo: u128,
    hi: u128,
}

fn family_max(v6: bool) -> u128 {
    if v6 { u128::MAX } else { u128::from(u32::MAX) }
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn to_ip(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(x).unwrap_or(u32::MAX)))
    }
}

/// Both families, whole.
fn everything() -> Vec<Iv> {
    vec![
        Iv {
            v6: false,
            lo: 0,
            hi: family_max(false),
        },
        Iv {
            v6: true,
            lo: 0,
            hi: family_max(true),
        },
    ]
}

/// The addresses a matcher stands for, when they are a plain set (not a keyword, DNS name,
/// "this computer" or a mask with holes).
fn intervals(m: &AddrMatch) -> Option<Vec<Iv>> {
    match m {
        AddrMatch::Any => Some(everything()),
        AddrMatch::Masked { addr, mask, .. } => {
            let p = prefix_of(*mask)?;
            let v6 = addr.is_ipv6();
            let host = family_max(v6).checked_shr(u32::from(p)).unwrap_or(0);
            let lo = bits(*addr) & !host & family_max(v6);
            Some(vec![Iv {
                v6,
                lo,
                hi: lo | host,
            }])
        }
        AddrMatch::Range { first, last } if first.is_ipv6() == last.is_ipv6() => {
            let (a, b) = (bits(*first), bits(*last));
            Some(vec![Iv {
                v6: first.is_ipv6(),
                lo: a.min(b),
                hi: a.max(b),
            }])
        }
        _ => None,
    }
}

fn intervals_all(ms: &[AddrMatch]) -> Option<Vec<Iv>> {
    let mut out = Vec::new();
    for m in ms {
        out.extend(intervals(m)?);
    }
    Some(normalize(out))
}

/// Sorted, overlapping and adjacent intervals merged.
fn normalize(mut v: Vec<Iv>) -> Vec<Iv> {
    v.sort();
    let mut out: Vec<Iv> = Vec::with_capacity(v.len());
    for iv in v {
        match out.last_mut() {
            Some(last) if last.v6 == iv.v6 && iv.lo <= last.hi.saturating_add(1) => {
                last.hi = last.hi.max(iv.hi);
            }
            _ => out.push(iv),
        }
    }
    out
}

/// `set` without the addresses of `minus`.
fn subtract(set: &[Iv], minus: &[Iv]) -> Vec<Iv> {
    let mut cur = normalize(set.to_vec());
    for m in minus {
        let mut next = Vec::with_capacity(cur.len() + 1);
        for iv in cur {
            if iv.v6 != m.v6 || m.hi < iv.lo || m.lo > iv.hi {
                next.push(iv);
                continue;
            }
            if m.lo > iv.lo {
                next.push(Iv { hi: m.lo - 1, ..iv });
            }
            if m.hi < iv.hi {
                next.push(Iv { lo: m.hi + 1, ..iv });
            }
        }
        cur = next;
    }
    cur
}

/// Does `outer` hold every address of `inner`?
fn covers(outer: &[Iv], inner: &[Iv]) -> bool {
    subtract(inner, outer).is_empty()
}

/// The interval as a CIDR block when it is one, else `first-last`.
fn format_iv(iv: Iv) -> String {
    let width: u32 = if iv.v6 { 128 } else { 32 };
    let span = iv.hi - iv.lo;
    if span == 0 {
        return to_ip(iv.v6, iv.lo).to_string();
    }
    if span & span.wrapping_add(1) == 0 && iv.lo & span == 0 {
        let prefix = width - span.count_ones();
        return format!("{}/{prefix}", to_ip(iv.v6, iv.lo));
    }
    format!("{}-{}", to_ip(iv.v6, iv.lo), to_ip(iv.v6, iv.hi))
}

/// An interval as CIDR blocks (network, prefix length).
fn cidrs(iv: Iv) -> Vec<(IpAddr, u32)> {
    let width: u32 = if iv.v6 { 128 } else { 32 };
    let mut out = Vec::new();
    let mut lo = iv.lo;
    loop {
        // The largest aligned block at `lo` that stays within `hi`.
        let mut size_bits = if lo == 0 {
            width
        } else {
            lo.trailing_zeros().min(width)
        };
        while size_bits > 0 {
            let last = if size_bits >= 128 {
                u128::MAX
            } else {
                lo + ((1u128 << size_bits) - 1)
            };
            if last <= iv.hi {
                break;
            }
            size_bits -= 1;
        }
        out.push((to_ip(iv.v6, lo), width - size_bits));
        let last = if size_bits >= 128 {
            u128::MAX
        } else {
            lo + ((1u128 << size_bits) - 1)
        };
        if last >= iv.hi {
            break;
        }
        lo = last + 1;
    }
    out
}

fn v4_mask(prefix: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Port set helpers.

fn all_ports() -> PortRanges {
    PortRanges::from_ranges([(1, 65535)])
}

fn intersect(a: &PortRanges, b: &PortRanges) -> PortRanges {
    let mut out = Vec::new();
    for &(a0, a1) in a.ranges() {
        for &(b0, b1) in b.ranges() {
            let (lo, hi) = (a0.max(b0), a1.min(b1));
            if lo <= hi {
                out.push((lo, hi));
            }
        }
    }
    PortRanges::from_ranges(out)
}

fn minus(a: &PortRanges, b: &PortRanges) -> PortRanges {
    intersect(a, &complement(b))
}

fn ports_of(ports: impl IntoIterator<Item = u16>) -> PortRanges {
    PortRanges::from_ranges(ports.into_iter().map(|p| (p, p)))
}

/// The ports a rule names, as a set (`None` for keywords).
fn concrete(pm: &PortMatch, rpc: &PortRanges) -> Option<PortRanges> {
    match pm {
        PortMatch::Any => Some(all_ports()),
        PortMatch::Ports(p) => Some(p.clone()),
        PortMatch::RpcDynamic => Some(rpc.clone()),
        PortMatch::Keyword(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The plan: what must change, whatever the dialect.

/// A source the policy lets in on purpose.
#[derive(Debug, Clone)]
struct Allowed {
    m: AddrMatch,
    sample: IpAddr,
    ivs: Option<Vec<Iv>>,
    /// The ports it is meant to reach: what its pass rules name, and the whole fence (135 and
    /// the range) when they name any port of it (KB908472: 135 and every range port alike).
    ports: PortRanges,
}

impl Allowed {
    fn label(&self) -> String {
        self.m.to_string()
    }

    /// How a firewall rule names it.
    fn fw_addr(&self) -> Option<String> {
        match &self.m {
            AddrMatch::Masked { mask, .. } if prefix_of(*mask).is_some() => Some(self.label()),
            AddrMatch::Range { .. } => Some(self.label()),
            AddrMatch::Keyword { name } => Some(name.clone()),
            _ => None,
        }
    }

    /// ipseccmd source addresses (`net/dotted-mask`), IPv4 only.
    fn ipsec_addrs(&self) -> Option<Vec<(Ipv4Addr, Ipv4Addr)>> {
        let ivs = self.ivs.as_ref()?;
        let mut out = Vec::new();
        for iv in ivs {
            if iv.v6 {
                return None;
            }
            for (net, prefix) in cidrs(*iv) {
                let IpAddr::V4(n) = net else { return None };
                out.push((n, v4_mask(prefix)));
            }
        }
        Some(out)
    }

    /// The network address a rule name uses ("from 10.1.1.0", as the article writes).
    fn name_part(&self) -> String {
        match &self.m {
            AddrMatch::Masked { addr, mask, .. } => match (addr, mask) {
                (IpAddr::V4(a), IpAddr::V4(m)) => {
                    Ipv4Addr::from(u32::from(*a) & u32::from(*m)).to_string()
                }
                _ => self.label(),
            },
            _ => self.label(),
        }
    }
}

type Codes = BTreeSet<String>;

struct Plan {
    allowed: Vec<Allowed>,
    /// Ports to block for every source but the allowed ones.
    block: BTreeMap<u16, Codes>,
    /// (leaking source inside an allowed subnet, port).
    host_block: BTreeMap<(IpAddr, u16), Codes>,
    /// (allowed index, port) that must pass.
    pass: BTreeMap<(usize, u16), Codes>,
    range_fix: Option<(Recommendation, Codes)>,
    notes: Vec<String>,
}

fn pass_like(a: RuleAction) -> bool {
    matches!(
        a,
        RuleAction::Pass
            | RuleAction::Negotiate {
                clear_inbound: true
            }
    )
}

fn reaches(s: ProbeState) -> bool {
    matches!(s, ProbeState::Open | ProbeState::Closed)
}

fn allowed_sources(lp: &LoadedPolicy, fence: &PortRanges) -> Vec<Allowed> {
    let rpc = &lp.policy.rpc_dynamic;
    let mut out: Vec<Allowed> = Vec::new();
    for r in lp.policy.rules.iter().filter(|r| pass_like(r.action)) {
        let Some(ports) = concrete(&r.ports, rpc) else {
            continue;
        };
        for m in r.src.iter().filter(|m| m.is_specific()) {
            let Some(sample) = m.sample() else { continue };
            match out.iter_mut().find(|a| &a.m == m) {
                Some(a) => a.ports = a.ports.union(&ports),
                None => out.push(Allowed {
                    m: m.clone(),
                    sample,
                    ivs: intervals(m),
                    ports: ports.clone(),
                }),
            }
        }
    }
    for a in &mut out {
        if !intersect(&a.ports, fence).is_empty() {
            a.ports = a.ports.union(fence);
        }
    }
    out
}

/// A source no allowed set names: "everybody else".
fn outsider(lp: &LoadedPolicy, allowed: &[Allowed]) -> IpAddr {
    const CANDIDATES: &[[u8; 4]] = &[
        [203, 0, 113, 77],
        [198, 51, 100, 77],
        [192, 0, 2, 77],
        [100, 64, 77, 77],
        [172, 31, 254, 77],
        [192, 168, 254, 77],
        [10, 254, 254, 77],
    ];
    let local = &lp.policy.local_subnets;
    CANDIDATES
        .iter()
        .map(|c| IpAddr::from(*c))
        .find(|ip| {
            !allowed
                .iter()
                .any(|a| a.m.contains(*ip, local) == Some(true))
                && !lp.policy.rules.iter().any(|r| {
                    r.action != RuleAction::Block
                        && r.src
                            .iter()
                            .any(|m| m.is_specific() && m.contains(*ip, local) == Some(true))
                })
        })
        .unwrap_or(IpAddr::from(CANDIDATES[0]))
}

/// The most specific allowed set holding `ip` that is meant to reach `port`.
fn allowed_for(
    allowed: &[Allowed],
    local: &[ipnet::IpNet],
    ip: IpAddr,
    port: u16,
) -> Option<usize> {
    allowed
        .iter()
        .enumerate()
        .filter(|(_, a)| a.ports.contains(port) && a.m.contains(ip, local) == Some(true))
        .max_by_key(|(_, a)| a.m.specificity())
        .map(|(i, _)| i)
}

fn plan(
    lp: &LoadedPolicy,
    matrix: &[MatrixRow],
    findings: &[Finding],
    range: &PortRanges,
    recommendation: Option<&Recommendation>,
) -> Plan {
    let has = |c: &str| findings.iter().any(|f| f.code == c);
    let local = lp.policy.local_subnets.clone();
    let mut notes = Vec::new();

    // The range first: a new range widens the fence.
    let range_codes: Codes = RANGE_CODES
        .iter()
        .filter(|c| has(c))
        .map(|c| c.to_string())
        .collect();
    let range_fix = if range_codes.is_empty() {
        None
    } else {
        let rec = match recommendation {
            Some(r) => r.clone(),
            None => {
                let listed = lp
                    .range
                    .as_ref()
                    .map(|r| r.listed.clone())
                    .filter(|l| !l.is_empty());
                let base = listed
                    .or_else(|| (!range.is_empty()).then(|| range.clone()))
                    .unwrap_or_else(|| PortRanges::from_ranges([capacity::ARTICLE_RANGE]));
                capacity::recommend(&base, 0)
            }
        };
        Some((rec, range_codes))
    };
    let new_range = range_fix
        .as_ref()
        .and_then(|(r, _)| PortRanges::parse(&r.range).ok())
        .unwrap_or_default();
    let fence = ports_of([EPM_PORT]).union(range).union(&new_range);
    let allowed = allowed_sources(lp, &fence);
    let outsider = outsider(lp, &allowed);
    let decide = |ip: IpAddr, p: u16| lp.policy.decide(ip, p, Proto::Tcp).action;

    let mut block: BTreeMap<u16, Codes> = BTreeMap::new();
    let mut host_block: BTreeMap<(IpAddr, u16), Codes> = BTreeMap::new();
    let mut pass: BTreeMap<(usize, u16), Codes> = BTreeMap::new();
    let put = |m: &mut BTreeMap<u16, Codes>, k: u16, c: &str| {
        m.entry(k).or_default().insert(c.to_string());
    };

    if has("leak") {
        for r in matrix.iter().filter(|r| r.verdict == Verdict::Leak) {
            if allowed
                .iter()
                .any(|a| a.m.contains(r.source, &local) == Some(true) && a.ports.contains(r.port))
            {
                host_block
                    .entry((r.source, r.port))
                    .or_default()
                    .insert("leak".into());
            } else {
                put(&mut block, r.port, "leak");
            }
        }
    }
    if has(codes::RANGE_PORT_UNBLOCKED) {
        let fence_now = ports_of([EPM_PORT]).union(range);
        if fence_now.size() > MAX_FIX_PORTS {
            notes.push(format!(
                "range-port-unblocked: the range {range} has {} ports, too many to fence one by one; fix the range first",
                fence_now.size()
            ));
        } else {
            for p in fence_now.iter() {
                if decide(outsider, p) != Action::Block {
                    put(&mut block, p, codes::RANGE_PORT_UNBLOCKED);
                }
            }
        }
    }
    if let Some((_, codes_)) = &range_fix
        && !new_range.is_empty()
        && new_range.size() <= MAX_FIX_PORTS
    {
        // Every port of the new range joins the fence: blocked for everyone else, passed for
        // the allowed sources.
        for p in new_range.iter() {
            for c in codes_ {
                if decide(outsider, p) != Action::Block {
                    put(&mut block, p, c);
                }
                for (i, a) in allowed.iter().enumerate() {
                    if a.ports.contains(p) && decide(a.sample, p) != Action::Pass {
                        pass.entry((i, p)).or_default().insert(c.clone());
                    }
                }
            }
        }
    }

    if has("overblock") {
        for r in matrix.iter().filter(|r| r.verdict == Verdict::Overblock) {
            match allowed_for(&allowed, &local, r.source, r.port) {
                Some(i) => {
                    pass.entry((i, r.port)).or_default().insert("overblock".into());
                }
                None if r.rule.is_none() => notes.push(format!(
                    "overblock: port {} is filtered from {} although no rule of the policy covers it: something outside the policy (a host or network firewall) filters it; no script change",
                    r.port, r.source
                )),
                None => notes.push(format!(
                    "overblock: port {} is filtered from {}, which the policy passes ({}) without naming its subnet; the host's configuration differs from the policy files: re-apply them",
                    r.port,
                    r.source,
                    r.rule.as_deref().unwrap_or("")
                )),
            }
        }
    }
    if has(codes::HANG_HAZARD) {
        // From the matrix: a source that reaches 135 but not the whole range, or the reverse.
        let mut groups: BTreeMap<(IpAddr, IpAddr), Vec<&MatrixRow>> = BTreeMap::new();
        for r in matrix {
            groups.entry((r.target, r.source)).or_default().push(r);
        }
        for ((_, source), rows) in groups {
            let Some(epm) = rows.iter().find(|r| r.port == EPM_PORT) else {
                continue;
            };
            let in_range = || {
                rows.iter()
                    .filter(|r| r.port != EPM_PORT && range.contains(r.port))
            };
            let filtered = in_range().any(|r| r.observed == ProbeState::Filtered);
            let reached = in_range().any(|r| reaches(r.observed));
            let hazard = (reaches(epm.observed) && filtered)
                || (epm.observed == ProbeState::Filtered && reached);
            if !hazard {
                continue;
            }
            // An outsider reaching range ports is a leak, fixed by blocking them.
            let Some(i) = allowed_for(&allowed, &local, source, EPM_PORT) else {
                continue;
            };
            for p in fence.iter() {
                let seen_filtered = rows
                    .iter()
                    .any(|r| r.port == p && r.observed == ProbeState::Filtered);
                if seen_filtered || decide(source, p) != Action::Pass {
                    pass.entry((i, p))
                        .or_default()
                        .insert(codes::HANG_HAZARD.into());
                }
            }
        }
        // From the policy: an allowed source passed to 135 but not to every range port, or the
        // reverse.
        for (i, a) in allowed.iter().enumerate() {
            if !a.ports.contains(EPM_PORT) {
                continue;
            }
            let passes: Vec<(u16, bool)> = fence
                .iter()
                .map(|p| (p, decide(a.sample, p) == Action::Pass))
                .collect();
            if passes.iter().any(|x| x.1) && passes.iter().any(|x| !x.1) {
                for (p, ok) in passes {
                    if !ok {
                        pass.entry((i, p))
                            .or_default()
                            .insert(codes::HANG_HAZARD.into());
                    }
                }
            }
        }
    }
    if has(codes::ALLOW_SHADOWED) {
        for (i, a) in allowed.iter().enumerate() {
            let ports = if a.ports.size() > MAX_FIX_PORTS {
                intersect(&a.ports, &fence)
            } else {
                a.ports.clone()
            };
            for p in ports.iter() {
                let q = Query {
                    src: a.sample,
                    port: p,
                    proto: Proto::Tcp,
                    authenticated: false,
                };
                let fw = lp.policy.decide_layer(Layer::Firewall, q).action;
                let fw_allow = lp.policy.rules.iter().any(|r| {
                    r.layer == Layer::Firewall
                        && r.action == RuleAction::Pass
                        && matches_query(r, a.sample, p, lp)
                });
                if fw == Action::Block && fw_allow {
                    pass.entry((i, p))
                        .or_default()
                        .insert(codes::ALLOW_SHADOWED.into());
                }
                let ipsec = lp.policy.decide_layer(Layer::Ipsec, q).action;
                if ipsec == Action::Block
                    && a.ports.contains(p)
                    && lp.policy.has_layer(Layer::Ipsec)
                {
                    let ipsec_pass = lp.policy.rules.iter().any(|r| {
                        r.layer == Layer::Ipsec
                            && pass_like(r.action)
                            && matches_query(r, a.sample, p, lp)
                    });
                    if ipsec_pass && !pass.contains_key(&(i, p)) {
                        notes.push(format!(
                            "allow-shadowed: in the IPsec policy a more specific BLOCK filter hides the PASS for {} on port {p}; that is usually deliberate (a host excluded from its subnet) and is left as it is",
                            a.label()
                        ));
                    }
                }
            }
        }
    }
    // A leak inside an allowed subnet on a port that subnet is now to be passed (hang-hazard,
    // overblock) was the policy's own mistake, not an intended exception: blocking the host
    // there would keep the hang. The pass fixes both.
    host_block.retain(|&(ip, p), _| {
        !pass.keys().any(|&(i, q)| {
            q == p
                && allowed
                    .get(i)
                    .is_some_and(|a| a.m.contains(ip, &lp.policy.local_subnets) == Some(true))
        })
    });
    Plan {
        allowed,
        block,
        host_block,
        pass,
        range_fix,
        notes,
    }
}

fn matches_query(r: &Rule, src: IpAddr, port: u16, lp: &LoadedPolicy) -> bool {
    r.proto.matches(Proto::Tcp)
        && r.ports.contains(port, &lp.policy.rpc_dynamic)
        && r.src
            .iter()
            .any(|m| m.contains(src, &lp.policy.local_subnets) == Some(true))
}

// ---------------------------------------------------------------------------------------------
// Rendering.

/// The script being written, with its actions and notes.
struct Out {
    dialect: FixDialect,
    lines: Vec<String>,
    actions: Vec<FixAction>,
    notes: Vec<String>,
}

impl Out {
    fn comment(&mut self, text: &str) {
        let c = self.dialect.comment();
        if text.is_empty() {
            self.lines.push(c.to_string());
        } else {
            self.lines.push(format!("{c} {text}"));
        }
    }

    fn cmd(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    fn blank(&mut self) {
        self.lines.push(String::new());
    }

    fn action(
        &mut self,
        codes: &Codes,
        kind: FixKind,
        source: String,
        ports: String,
        detail: String,
    ) {
        self.actions.push(FixAction {
            codes: codes.iter().cloned().collect(),
            kind,
            source,
            ports,
            detail,
        });
    }
}

fn join_codes(c: &Codes) -> String {
    c.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn list_labels(allowed: &[Allowed], idx: &[usize]) -> String {
    idx.iter()
        .filter_map(|&i| allowed.get(i))
        .map(Allowed::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// PowerShell single-quoted string.
fn psq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// PowerShell array of strings from a comma-separated list.
fn ps_list(items: &str) -> String {
    items.split(',').map(psq).collect::<Vec<_>>().join(", ")
}

/// The ports of the fence that `a` is meant to reach, per the plan.
fn allowed_on(plan: &Plan, port: u16) -> Vec<usize> {
    plan.allowed
        .iter()
        .enumerate()
        .filter(|(_, a)| a.ports.contains(port))
        .map(|(i, _)| i)
        .collect()
}

/// Consecutive ports with the same value, as port sets.
fn group_runs<V: Clone + Ord>(items: impl IntoIterator<Item = (u16, V)>) -> Vec<(V, PortRanges)> {
    let mut by: BTreeMap<V, Vec<u16>> = BTreeMap::new();
    for (p, v) in items {
        by.entry(v).or_default().push(p);
    }
    let mut out: Vec<(V, PortRanges)> = by.into_iter().map(|(v, ps)| (v, ports_of(ps))).collect();
    out.sort_by_key(|(_, p)| p.ranges().first().copied());
    out
}

/// The dialect a fix should be written in when none is asked for: the language the policy's
/// rules are written in (the first file's), ipseccmd when only rpccfg/.reg lines are given.
pub fn dialect_of(policy: &LoadedPolicy) -> FixDialect {
    policy
        .files
        .iter()
        .flat_map(|f| f.dialects.iter())
        .find_map(|d| match d {
            crate::policy::Dialect::Ipseccmd => Some(FixDialect::Ipseccmd),
            crate::policy::Dialect::NetshIpsec => Some(FixDialect::NetshIpsec),
            crate::policy::Dialect::NetshAdvfirewall => Some(FixDialect::Netsh),
            crate::policy::Dialect::Powershell => Some(FixDialect::Powershell),
            crate::policy::Dialect::Rpccfg | crate::policy::Dialect::Reg => None,
        })
        .unwrap_or(FixDialect::Ipseccmd)
}

/// Produce the fix script for `dialect`.
///
/// `findings` are every finding of the run (the policy's lints, the matrix findings, capacity
/// findings): a kind of fix is written only when a finding of its code is present, and its
/// details (ports, sources) come from `policy`, `matrix` and `range` (the dynamic range the
/// audit used). `recommendation` is capacity's; without one, range findings get a range that
/// restates or repairs the configured one (at least 21 ports).
pub fn remediate(
    dialect: FixDialect,
    policy: &LoadedPolicy,
    matrix: &[MatrixRow],
    findings: &[Finding],
    range: &PortRanges,
    recommendation: Option<&Recommendation>,
) -> Remediation {
    let plan = plan(policy, matrix, findings, range, recommendation);
    let mut out = Out {
        dialect,
        lines: Vec::new(),
        actions: Vec::new(),
        notes: plan.notes.clone(),
    };
    header(&mut out, policy);
    if let Some((rec, c)) = &plan.range_fix {
        render_range(&mut out, rec, c);
    }
    match dialect.layer() {
        Layer::Ipsec => render_ipsec(&mut out, policy, &plan),
        Layer::Firewall => render_firewall(&mut out, policy, &plan),
    }
    if out.actions.is_empty() {
        out.blank();
        out.comment("Nothing to fix in this dialect.");
    }
    let nl = match dialect {
        FixDialect::Powershell => "\n",
        _ => "\r\n",
    };
    let mut script = out.lines.join(nl);
    script.push_str(nl);
    let mut notes: Vec<String> = Vec::new();
    for n in out.notes {
        if !notes.contains(&n) {
            notes.push(n);
        }
    }
    Remediation {
        dialect,
        script,
        actions: out.actions,
        notes,
    }
}

fn header(out: &mut Out, lp: &LoadedPolicy) {
    let d = out.dialect;
    match d {
        FixDialect::Powershell => out.cmd("#Requires -RunAsAdministrator"),
        _ => out.cmd("@echo off"),
    }
    out.comment(&format!(
        "rpcaudit fix script (--fix-dialect {d}): commands that fix the audit's findings."
    ));
    out.comment("Review it, then run it as an administrator on the audited host.");
    out.comment("It adds blocks and passes and narrows blocks; it never opens a port to a source outside the allowed ones.");
    let policy_layers: Vec<Layer> = [Layer::Ipsec, Layer::Firewall]
        .into_iter()
        .filter(|l| lp.policy.has_layer(*l))
        .collect();
    if !policy_layers.is_empty() && !policy_layers.contains(&d.layer()) {
        let (what, other) = match d.layer() {
            Layer::Ipsec => ("IPsec filters", "Windows Firewall rules"),
            Layer::Firewall => ("Windows Firewall rules", "IPsec filters"),
        };
        let msg = format!(
            "the policy is written as {other} and this script adds {what}: a connection must pass both layers, a block in either wins; blocks fixed here work, but a block in the other layer cannot be lifted from here"
        );
        out.comment(&format!("Note: {msg}."));
        out.notes.push(msg);
    }
}

fn render_range(out: &mut Out, rec: &Recommendation, c: &Codes) {
    out.blank();
    out.comment(&format!(
        "== Range: fixes {}: set the RPC dynamic range to {} ({} ports). ==",
        join_codes(c),
        rec.range,
        rec.size
    ));
    out.comment(&rec.reasoning);
    out.comment(&rec.note);
    let pieces: Vec<String> = PortRanges::parse(&rec.range)
        .map(|r| capacity::pieces(&r))
        .unwrap_or_else(|_| vec![rec.range.clone()]);
    let key = r"HKLM\SOFTWARE\Microsoft\Rpc\Internet";
    match out.dialect.layer() {
        Layer::Ipsec => {
            out.comment("rpccfg.exe (Windows 2000/2003 resource kit) writes Ports, PortsInternetAvailable=Y and UseInternetPorts=Y.");
            out.cmd(rec.rpccfg.clone());
        }
        Layer::Firewall => {
            out.comment(&format!(
                "reg.exe writes all three values (the same as: {}).",
                rec.rpccfg
            ));
            out.cmd(format!(
                "reg add {key} /v Ports /t REG_MULTI_SZ /d {} /f",
                pieces.join(r"\0")
            ));
            out.cmd(format!(
                "reg add {key} /v PortsInternetAvailable /t REG_SZ /d Y /f"
            ));
            out.cmd(format!(
                "reg add {key} /v UseInternetPorts /t REG_SZ /d Y /f"
            ));
        }
    }
    out.comment("The same as a .reg file: save the lines below without the comment mark and import it with regedit.");
    for l in rec.reg.split("\r\n") {
        let l = l.trim_end();
        if l.is_empty() {
            out.comment("");
        } else {
            out.comment(&format!("  {l}"));
        }
    }
    out.action(
        c,
        FixKind::Range,
        String::new(),
        rec.range.clone(),
        format!(
            "set the RPC dynamic range to {} (restart needed)",
            rec.range
        ),
    );
}

/// The in-force IPsec policy the fix writes to, its store, and whether the files define it.
fn ipsec_target(lp: &LoadedPolicy) -> (String, String, bool, bool) {
    match lp.ipsec_policies.iter().find(|p| p.in_force) {
        Some(p) => (p.name.clone(), p.store.clone(), true, true),
        None => {
            let exists = lp
                .ipsec_policies
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(DEFAULT_POLICY));
            (DEFAULT_POLICY.to_string(), "REG".to_string(), false, exists)
        }
    }
}

/// `name`, or `name (rpcaudit)` when the policy already has a rule so named that does
/// something else (re-adding a name replaces that rule, which could drop one of its blocks).
fn ipsec_rule_name(
    lp: &LoadedPolicy,
    policy: &str,
    name: &str,
    action: RuleAction,
    src: &[Iv],
    ports: &PortRanges,
) -> String {
    let clash = lp.policy.rules.iter().any(|r| {
        r.layer == Layer::Ipsec
            && r.origin
                .policy
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(policy))
            && r.origin.name.eq_ignore_ascii_case(name)
            && !(r.action == action
                && r.ports.as_ranges() == Some(ports)
                && intervals_all(&r.src).is_some_and(|s| s == normalize(src.to_vec())))
    });
    if clash {
        format!("{name} (rpcaudit)")
    } else {
        name.to_string()
    }
}

fn ipsec_pass_weight(a: &Allowed) -> u32 {
    Rule::ipsec_weight(
        &a.m,
        &AddrMatch::Me,
        crate::policy::model::ProtoMatch::Number(6),
        true,
    )
}

/// Why an IPsec PASS for `a` on `port` would not help, if it would not.
fn ipsec_pass_blocked(lp: &LoadedPolicy, a: &Allowed, port: u16) -> Option<String> {
    let q = Query {
        src: a.sample,
        port,
        proto: Proto::Tcp,
        authenticated: false,
    };
    let fw = lp.policy.decide_layer(Layer::Firewall, q);
    if fw.action == Action::Block {
        return Some(format!(
            "{} is blocked on port {port} by the Windows Firewall rule {}; an IPsec PASS cannot lift it: use --fix-dialect netsh or powershell",
            a.label(),
            fw.rule.map(|r| r.to_string()).unwrap_or_default()
        ));
    }
    let ours = ipsec_pass_weight(a);
    let stronger = lp.policy.rules.iter().find(|r| {
        r.layer == Layer::Ipsec
            && matches!(
                r.action,
                RuleAction::Block
                    | RuleAction::Negotiate {
                        clear_inbound: false
                    }
            )
            && r.weight >= ours
            && matches_query(r, a.sample, port, lp)
    });
    stronger.map(|r| {
        format!(
            "{} is blocked on port {port} by {}, a filter at least as specific as a PASS for the subnet; remove or change that rule by hand if the block is not deliberate",
            a.label(),
            r.origin
        )
    })
}

fn render_ipsec(out: &mut Out, lp: &LoadedPolicy, plan: &Plan) {
    let (pol, store, in_force, exists) = ipsec_target(lp);
    let netsh = out.dialect == FixDialect::NetshIpsec;
    let tool = "ipseccmd.exe";
    let start = out.actions.len();
    let mut covered: BTreeSet<(usize, u16)> = BTreeSet::new();
    let any = everything();

    out.blank();
    out.comment(&format!(
        "IPsec policy \"{pol}\" ({}).",
        if in_force {
            "the policy in force"
        } else {
            "no IPsec policy is in force; this one is assigned at the end"
        }
    ));
    if netsh {
        if store != "REG" {
            out.notes.push(format!(
                "the policy in force is in store {store}; netsh ipsec static works on the local store unless 'netsh ipsec static set store location=domain' comes first"
            ));
        }
        out.comment(
            "Filter actions (netsh reports 'already exists' on a second run; that is harmless).",
        );
        out.cmd("netsh ipsec static add filteraction name=\"rpcaudit Block\" action=block");
        out.cmd("netsh ipsec static add filteraction name=\"rpcaudit Permit\" action=permit");
        if !exists {
            out.cmd(format!(
                "netsh ipsec static add policy name=\"{pol}\" description=\"KB908472\" assign=no"
            ));
        }
    } else {
        out.comment(&format!(
            "{tool} (ipsecpol.exe on Windows 2000 takes the same switches). Assumption: naming an existing rule again (-r) replaces its filter and action, so running this script twice changes nothing."
        ));
    }

    // Blocks for everyone, with a PASS for each allowed subnet (the more specific filter wins).
    let groups = group_runs(
        plan.block
            .iter()
            .map(|(&p, c)| (p, (c.clone(), allowed_on(plan, p)))),
    );
    for ((c, allowed_idx), ports) in &groups {
        out.blank();
        let except = if allowed_idx.is_empty() {
            String::new()
        } else {
            format!(" except {}", list_labels(&plan.allowed, allowed_idx))
        };
        out.comment(&format!(
            "Fixes {}: TCP {ports} must be blocked for every source{except}.",
            join_codes(c)
        ));
        out.comment("A BLOCK filter for any source (*), and a PASS filter per allowed subnet: in an IPsec policy the more specific filter wins.");
        if netsh {
            let list = format!("rpcaudit Block Inbound TCP {ports}");
            netsh_rule(out, &pol, &list, "rpcaudit Block", |out| {
                for p in ports.iter() {
                    out.cmd(format!(
                        "netsh ipsec static add filter filterlist=\"{list}\" srcaddr=any dstaddr=me protocol=TCP dstport={p}"
                    ));
                }
            });
        } else {
            for p in ports.iter() {
                let name = ipsec_rule_name(
                    lp,
                    &pol,
                    &format!("Block Inbound TCP {p} Rule"),
                    RuleAction::Block,
                    &any,
                    &ports_of([p]),
                );
                out.cmd(format!(
                    "{tool} -w {store} -p \"{pol}\" -r \"{name}\" -f *=0:{p}:TCP -n BLOCK"
                ));
            }
        }
        out.action(
            c,
            FixKind::Block,
            "any".into(),
            ports.to_string(),
            format!("BLOCK filter for any source on TCP {ports} in IPsec policy \"{pol}\""),
        );
        for &i in allowed_idx {
            let a = &plan.allowed[i];
            if render_ipsec_pass(out, lp, &pol, &store, a, ports, c) {
                covered.extend(ports.iter().map(|p| (i, p)));
            }
        }
    }

    // Hosts inside an allowed subnet that must stay blocked: a host filter is more specific.
    let hosts = group_runs(
        plan.host_block
            .iter()
            .map(|(&(ip, p), c)| (p, (ip, c.clone()))),
    );
    for ((ip, c), ports) in &hosts {
        let IpAddr::V4(v4) = ip else {
            out.notes.push(format!(
                "{}: {ip} leaks on TCP {ports}, but IPsec filters here are IPv4 only; block it in Windows Firewall",
                join_codes(c)
            ));
            continue;
        };
        out.blank();
        out.comment(&format!(
            "Fixes {}: {ip} reaches TCP {ports} although the policy blocks it inside its allowed subnet; a filter for the single host is more specific than the subnet's PASS.",
            join_codes(c)
        ));
        if netsh {
            let list = format!("rpcaudit Block Inbound TCP {ports} from {ip}");
            netsh_rule(out, &pol, &list, "rpcaudit Block", |out| {
                for p in ports.iter() {
                    out.cmd(format!(
                        "netsh ipsec static add filter filterlist=\"{list}\" srcaddr={v4} srcmask=255.255.255.255 dstaddr=me protocol=TCP dstport={p}"
                    ));
                }
            });
        } else {
            let host = [Iv {
                v6: false,
                lo: u128::from(u32::from(*v4)),
                hi: u128::from(u32::from(*v4)),
            }];
            for p in ports.iter() {
                let name = ipsec_rule_name(
                    lp,
                    &pol,
                    &format!("Block Inbound TCP {p} from {ip} Rule"),
                    RuleAction::Block,
                    &host,
                    &ports_of([p]),
                );
                out.cmd(format!(
                    "{tool} -w {store} -p \"{pol}\" -r \"{name}\" -f {v4}/255.255.255.255=0:{p}:TCP -n BLOCK"
                ));
            }
        }
        out.action(
            c,
            FixKind::Block,
            ip.to_string(),
            ports.to_string(),
            format!("BLOCK filter for the host {ip} on TCP {ports}"),
        );
    }

    // Missing passes for allowed subnets.
    let mut per_source: BTreeMap<usize, Vec<(u16, Codes)>> = BTreeMap::new();
    for (&(i, p), c) in &plan.pass {
        if covered.contains(&(i, p)) {
            continue;
        }
        let Some(a) = plan.allowed.get(i) else {
            continue;
        };
        if let Some(why) = ipsec_pass_blocked(lp, a, p) {
            out.notes.push(format!("{}: {why}", join_codes(c)));
            continue;
        }
        per_source.entry(i).or_default().push((p, c.clone()));
    }
    for (i, items) in per_source {
        let a = &plan.allowed[i];
        for (c, ports) in group_runs(items) {
            out.blank();
            out.comment(&format!(
                "Fixes {}: {} must reach TCP {ports} (135 and every port of the range alike).",
                join_codes(&c),
                a.label()
            ));
            out.comment(
                "A PASS filter for the subnet, more specific than the BLOCK for any source.",
            );
            render_ipsec_pass(out, lp, &pol, &store, a, &ports, &c);
        }
    }

    if out.actions.len() > start {
        out.blank();
        if in_force {
            out.comment("Assign the policy again so the change is in force (IPsec changes act at once, no restart).");
        } else {
            out.comment("Assign the policy: without an assigned policy none of its filters apply.");
            out.notes.push(format!(
                "no IPsec policy was in force; the script assigns \"{pol}\"{}",
                if exists {
                    ", which the policy files define but leave unassigned: its other rules come into force too"
                } else {
                    ""
                }
            ));
        }
        if netsh {
            out.cmd(format!(
                "netsh ipsec static set policy name=\"{pol}\" assign=yes"
            ));
        } else {
            out.cmd(format!("{tool} -w {store} -p \"{pol}\" -x"));
        }
    }
}

/// Delete and re-create a netsh ipsec rule and its filter list (so a second run starts from
/// scratch), `filters` writing the `add filter` lines.
fn netsh_rule(out: &mut Out, pol: &str, name: &str, action: &str, filters: impl FnOnce(&mut Out)) {
    out.comment("Deleting the rule and its filter list first makes the script safe to run again (netsh reports a missing one; that is harmless).");
    out.cmd(format!(
        "netsh ipsec static delete rule name=\"{name}\" policy=\"{pol}\""
    ));
    out.cmd(format!(
        "netsh ipsec static delete filterlist name=\"{name}\""
    ));
    out.cmd(format!("netsh ipsec static add filterlist name=\"{name}\""));
    filters(out);
    out.cmd(format!(
        "netsh ipsec static add rule name=\"{name}\" policy=\"{pol}\" filterlist=\"{name}\" filteraction=\"{action}\""
    ));
}

/// PASS filters for `a` on `ports`; false when the subnet cannot be written as IPsec filters.
fn render_ipsec_pass(
    out: &mut Out,
    lp: &LoadedPolicy,
    pol: &str,
    store: &str,
    a: &Allowed,
    ports: &PortRanges,
    c: &Codes,
) -> bool {
    let Some(addrs) = a.ipsec_addrs() else {
        out.notes.push(format!(
            "{}: {} cannot be written as IPv4 address/mask filters; add its PASS filters for TCP {ports} by hand",
            join_codes(c),
            a.label()
        ));
        return false;
    };
    let from = a.name_part();
    if out.dialect == FixDialect::NetshIpsec {
        let list = format!("rpcaudit Allow Inbound TCP {ports} from {from}");
        netsh_rule(out, pol, &list, "rpcaudit Permit", |out| {
            for p in ports.iter() {
                for (net, mask) in &addrs {
                    out.cmd(format!(
                        "netsh ipsec static add filter filterlist=\"{list}\" srcaddr={net} srcmask={mask} dstaddr=me protocol=TCP dstport={p}"
                    ));
                }
            }
        });
    } else {
        let ivs = a.ivs.clone().unwrap_or_default();
        for p in ports.iter() {
            let name = ipsec_rule_name(
                lp,
                pol,
                &format!("Allow Inbound TCP Port {p} from {from} Rule"),
                RuleAction::Pass,
                &ivs,
                &ports_of([p]),
            );
            let filters: Vec<String> = addrs
                .iter()
                .map(|(net, mask)| format!("{net}/{mask}=0:{p}:TCP"))
                .collect();
            out.cmd(format!(
                "ipseccmd.exe -w {store} -p \"{pol}\" -r \"{name}\" -f {} -n PASS",
                filters.join(" ")
            ));
        }
    }
    out.action(
        c,
        FixKind::Pass,
        a.label(),
        ports.to_string(),
        format!(
            "PASS filter for {} on TCP {ports} in IPsec policy \"{pol}\"",
            a.label()
        ),
    );
    true
}

fn has_pass(lp: &LoadedPolicy, a: &Allowed, port: u16) -> bool {
    lp.policy
        .rules
        .iter()
        .any(|r| pass_like(r.action) && matches_query(r, a.sample, port, lp))
}

/// The addresses as a firewall address list.
fn fw_remote(ivs: &[Iv]) -> String {
    if normalize(ivs.to_vec()) == everything() {
        return "any".into();
    }
    ivs.iter()
        .map(|iv| format_iv(*iv))
        .collect::<Vec<_>>()
        .join(",")
}

/// Add (or replace) an inbound TCP rule, idempotently.
fn fw_add(out: &mut Out, name: &str, block: bool, ports: &PortRanges, remote: &str) {
    match out.dialect {
        FixDialect::Powershell => {
            let lp: Vec<String> = ports
                .to_string()
                .split(',')
                .map(|x| {
                    if x.contains('-') {
                        psq(x)
                    } else {
                        x.to_string()
                    }
                })
                .collect();
            let ra = if remote == "any" {
                "Any".to_string()
            } else {
                ps_list(remote)
            };
            let params = format!(
                "-Direction Inbound -Action {} -Protocol TCP -LocalPort {} -RemoteAddress {ra} -Enabled True",
                if block { "Block" } else { "Allow" },
                lp.join(", ")
            );
            let q = psq(name);
            out.comment("Updated when it exists (from an earlier run), created otherwise.");
            out.cmd(format!(
                "if (Get-NetFirewallRule -DisplayName {q} -ErrorAction SilentlyContinue) {{"
            ));
            out.cmd(format!("    Set-NetFirewallRule -DisplayName {q} {params}"));
            out.cmd("} else {");
            out.cmd(format!("    New-NetFirewallRule -DisplayName {q} {params}"));
            out.cmd("}");
        }
        _ => {
            out.comment("Deleting the rule first makes the script safe to run again ('No rules match' on the first run is harmless).");
            out.cmd(format!(
                "netsh advfirewall firewall delete rule name=\"{name}\""
            ));
            out.cmd(format!(
                "netsh advfirewall firewall add rule name=\"{name}\" dir=in action={} protocol=TCP localport={ports} remoteip={remote}",
                if block { "block" } else { "allow" }
            ));
        }
    }
}

/// A firewall block rule of the policy that must stop covering some allowed sources.
struct Narrow {
    name: String,
    excl: BTreeSet<usize>,
    codes: Codes,
}

fn render_firewall(out: &mut Out, lp: &LoadedPolicy, plan: &Plan) {
    let mut need_allow: BTreeMap<usize, BTreeMap<u16, Codes>> = BTreeMap::new();

    // Blocks: every address except the allowed subnets, since a block beats any allow.
    let groups = group_runs(
        plan.block
            .iter()
            .map(|(&p, c)| (p, (c.clone(), allowed_on(plan, p)))),
    );
    for ((c, idx), ports) in &groups {
        let mut remote = everything();
        let mut kept_in: Vec<String> = Vec::new();
        let mut excluded: Vec<String> = Vec::new();
        for &i in idx {
            let a = &plan.allowed[i];
            match &a.ivs {
                Some(v) => {
                    remote = subtract(&remote, v);
                    excluded.push(a.label());
                }
                None => kept_in.push(a.label()),
            }
        }
        if !kept_in.is_empty() {
            out.notes.push(format!(
                "{}: {} cannot be left out of a block by address (keyword or DNS name); the block for TCP {ports} covers it too",
                join_codes(c),
                kept_in.join(", ")
            ));
        }
        if remote.is_empty() {
            out.notes.push(format!(
                "{}: the allowed sources cover every address, so there is nobody to block on TCP {ports}",
                join_codes(c)
            ));
            continue;
        }
        let except = if excluded.is_empty() {
            String::new()
        } else {
            format!(" except {}", excluded.join(", "))
        };
        out.blank();
        out.comment(&format!(
            "Fixes {}: TCP {ports} must be blocked for every source{except}.",
            join_codes(c)
        ));
        if !excluded.is_empty() {
            out.comment("In Windows Firewall a block rule beats every allow rule, so the block names every address except the allowed subnets instead of any.");
        }
        fw_add(
            out,
            &format!("Block Inbound TCP {ports} (rpcaudit)"),
            true,
            ports,
            &fw_remote(&remote),
        );
        out.action(
            c,
            FixKind::Block,
            format!("any{except}"),
            ports.to_string(),
            format!(
                "block rule for TCP {ports}, remote addresses {}",
                fw_remote(&remote)
            ),
        );
        for &i in idx {
            for p in ports.iter() {
                if !has_pass(lp, &plan.allowed[i], p) {
                    let e = need_allow.entry(i).or_default().entry(p).or_default();
                    e.extend(c.iter().cloned());
                }
            }
        }
    }

    // Hosts inside an allowed subnet that must stay blocked: block beats allow.
    let hosts = group_runs(
        plan.host_block
            .iter()
            .map(|(&(ip, p), c)| (p, (ip, c.clone()))),
    );
    for ((ip, c), ports) in &hosts {
        out.blank();
        out.comment(&format!(
            "Fixes {}: {ip} reaches TCP {ports} although the policy blocks it; a block rule for the host beats the subnet's allow.",
            join_codes(c)
        ));
        fw_add(
            out,
            &format!("Block Inbound TCP {ports} from {ip} (rpcaudit)"),
            true,
            ports,
            &ip.to_string(),
        );
        out.action(
            c,
            FixKind::Block,
            ip.to_string(),
            ports.to_string(),
            format!("block rule for the host {ip} on TCP {ports}"),
        );
    }

    // Passes: narrow the blocks that cover allowed sources, then allow them where nothing does.
    let mut narrow: BTreeMap<String, Narrow> = BTreeMap::new();
    for (&(i, p), c) in &plan.pass {
        let Some(a) = plan.allowed.get(i) else {
            continue;
        };
        let q = Query {
            src: a.sample,
            port: p,
            proto: Proto::Tcp,
            authenticated: false,
        };
        let ipsec = lp.policy.decide_layer(Layer::Ipsec, q);
        if ipsec.action == Action::Block {
            out.notes.push(format!(
                "{}: {} is blocked on port {p} by the IPsec rule {}; a firewall rule cannot lift it: use --fix-dialect ipseccmd or netsh-ipsec",
                join_codes(c),
                a.label(),
                ipsec.rule.map(|r| r.to_string()).unwrap_or_default()
            ));
            continue;
        }
        for r in lp.policy.rules.iter().filter(|r| {
            r.layer == Layer::Firewall
                && r.action == RuleAction::Block
                && matches_query(r, a.sample, p, lp)
        }) {
            let n = narrow
                .entry(r.origin.name.to_ascii_lowercase())
                .or_insert_with(|| Narrow {
                    name: r.origin.name.clone(),
                    excl: BTreeSet::new(),
                    codes: Codes::new(),
                });
            n.excl.insert(i);
            n.codes.extend(c.iter().cloned());
        }
        if !has_pass(lp, a, p) {
            let e = need_allow.entry(i).or_default().entry(p).or_default();
            e.extend(c.iter().cloned());
        }
    }
    let mut keep: BTreeMap<usize, (PortRanges, Codes)> = BTreeMap::new();
    for n in narrow.values() {
        render_narrow(out, lp, plan, n, &mut keep);
    }
    for (i, (ports, c)) in &keep {
        let a = &plan.allowed[*i];
        let Some(addr) = a.fw_addr() else { continue };
        out.blank();
        out.comment(&format!(
            "Keeps {} blocked on TCP {ports}, which the narrowed block covered and it is not meant to reach.",
            a.label()
        ));
        fw_add(
            out,
            &format!(
                "Keep blocking {} outside its allowed ports (rpcaudit)",
                a.label()
            ),
            true,
            ports,
            &addr,
        );
        out.action(
            c,
            FixKind::Block,
            a.label(),
            ports.to_string(),
            format!("block rule keeping {} out of TCP {ports}", a.label()),
        );
    }
    for (i, per_port) in need_allow {
        let a = &plan.allowed[i];
        let Some(addr) = a.fw_addr() else {
            out.notes.push(format!(
                "{} cannot be written as a firewall address; allow it by hand",
                a.label()
            ));
            continue;
        };
        for (c, ports) in group_runs(per_port) {
            out.blank();
            out.comment(&format!(
                "Fixes {}: {} must reach TCP {ports}, and no rule lets it in.",
                join_codes(&c),
                a.label()
            ));
            fw_add(
                out,
                &format!("Allow Inbound TCP {ports} from {} (rpcaudit)", a.label()),
                false,
                &ports,
                &addr,
            );
            out.action(
                &c,
                FixKind::Pass,
                a.label(),
                ports.to_string(),
                format!("allow rule for {} on TCP {ports}", a.label()),
            );
        }
    }
}

fn render_narrow(
    out: &mut Out,
    lp: &LoadedPolicy,
    plan: &Plan,
    n: &Narrow,
    keep: &mut BTreeMap<usize, (PortRanges, Codes)>,
) {
    let c = join_codes(&n.codes);
    let same: Vec<&Rule> = lp
        .policy
        .rules
        .iter()
        .filter(|r| r.layer == Layer::Firewall && r.origin.name.eq_ignore_ascii_case(&n.name))
        .collect();
    let Some(first) = same.first() else { return };
    if out.dialect == FixDialect::Netsh && n.name.contains('"') {
        out.notes.push(format!(
            "{c}: rule '{}' has a double quote in its name, which netsh cannot name; narrow it by hand or use --fix-dialect powershell",
            n.name
        ));
        return;
    }
    if same
        .iter()
        .any(|r| r.src != first.src || r.action != RuleAction::Block)
    {
        out.notes.push(format!(
            "{c}: several rules are named \"{}\" with different addresses or actions; changing them by name would change them all, so narrow the right one by hand",
            n.name
        ));
        return;
    }
    let Some(r_ivs) = intervals_all(&first.src) else {
        out.notes.push(format!(
            "{c}: rule \"{}\" names its remote addresses with keywords; narrow it by hand",
            n.name
        ));
        return;
    };
    let mut rports = PortRanges::default();
    for r in &same {
        match concrete(&r.ports, &lp.policy.rpc_dynamic) {
            Some(p) => rports = rports.union(&p),
            None => {
                out.notes.push(format!(
                    "{c}: rule \"{}\" names its ports with a keyword ({}); narrow it by hand",
                    n.name, r.ports
                ));
                return;
            }
        }
    }
    let mut new = r_ivs.clone();
    let mut excluded = Vec::new();
    for &i in &n.excl {
        let a = &plan.allowed[i];
        match &a.ivs {
            Some(v) if covers(&r_ivs, v) => {
                new = subtract(&new, v);
                excluded.push(i);
            }
            _ => out.notes.push(format!(
                "{c}: rule \"{}\" blocks part of {} only (a deliberate exception?); left as it is",
                n.name,
                a.label()
            )),
        }
    }
    if excluded.is_empty() {
        return;
    }
    let labels = list_labels(&plan.allowed, &excluded);
    out.blank();
    out.comment(&format!(
        "Fixes {c}: rule \"{}\" blocks {labels}, which is meant to pass; in Windows Firewall a block beats every allow, so the block is narrowed to leave {labels} out.",
        n.name
    ));
    let q = psq(&n.name);
    if new.is_empty() {
        out.comment("Every address it blocked is allowed: the rule is disabled.");
        match out.dialect {
            FixDialect::Powershell => out.cmd(format!("Disable-NetFirewallRule -DisplayName {q}")),
            _ => out.cmd(format!(
                "netsh advfirewall firewall set rule name=\"{}\" dir=in new enable=no",
                n.name
            )),
        }
    } else {
        let remote = fw_remote(&new);
        match out.dialect {
            FixDialect::Powershell => out.cmd(format!(
                "Set-NetFirewallRule -DisplayName {q} -RemoteAddress {}",
                ps_list(&remote)
            )),
            _ => out.cmd(format!(
                "netsh advfirewall firewall set rule name=\"{}\" dir=in new remoteip={remote}",
                n.name
            )),
        }
    }
    out.action(
        &n.codes,
        FixKind::NarrowBlock,
        format!("{} except {labels}", fw_remote(&r_ivs)),
        rports.to_string(),
        format!("block rule \"{}\" no longer covers {labels}", n.name),
    );
    for i in excluded {
        let k = minus(&rports, &plan.allowed[i].ports);
        if !k.is_empty() {
            let e = keep.entry(i).or_default();
            e.0 = e.0.union(&k);
            e.1.extend(n.codes.iter().cloned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{LoadOptions, build, parse_text};

    const ARTICLE: &str = include_str!("../../tests/fixtures/policy/kb908472.cmd");

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn iv(a: &str, b: &str) -> Iv {
        let (a, b) = (ip(a), ip(b));
        Iv {
            v6: a.is_ipv6(),
            lo: bits(a),
            hi: bits(b),
        }
    }

    fn load(text: &str) -> LoadedPolicy {
        build(
            vec![parse_text("policy.cmd", text.as_bytes())],
            &LoadOptions::default(),
        )
    }

    /// The article's script without the block for 5003.
    fn article_missing_5003() -> String {
        ARTICLE
            .lines()
            .filter(|l| !l.contains("\"Block Inbound TCP 5003 Rule\""))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    fn range() -> PortRanges {
        PortRanges::parse("5001-5021").unwrap()
    }

    fn fix(dialect: FixDialect, lp: &LoadedPolicy) -> Remediation {
        remediate(dialect, lp, &[], &lp.findings, &range(), None)
    }

    #[test]
    fn complement_of_the_allowed_subnet() {
        let (m, _) = crate::policy::address::parse_masked("10.1.1.0/24").unwrap();
        let rest = subtract(&everything(), &intervals(&m).unwrap());
        assert_eq!(
            fw_remote(&rest),
            "0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255,::/0"
        );
        assert_eq!(fw_remote(&everything()), "any");
        assert_eq!(format_iv(iv("10.1.1.0", "10.1.1.255")), "10.1.1.0/24");
        assert_eq!(format_iv(iv("10.1.1.7", "10.1.1.7")), "10.1.1.7");
        assert_eq!(format_iv(iv("0.0.0.0", "255.255.255.255")), "0.0.0.0/0");
        assert_eq!(format_iv(iv("10.1.1.1", "10.1.1.50")), "10.1.1.1-10.1.1.50");
        assert!(covers(&everything(), &[iv("10.1.1.0", "10.1.1.255")]));
        assert!(!covers(
            &[iv("10.1.1.66", "10.1.1.66")],
            &[iv("10.1.1.0", "10.1.1.255")]
        ));
        // A host mask and the whole IPv6 space do not overflow.
        let (h, _) = crate::policy::address::parse_masked("fe80::1/128").unwrap();
        assert_eq!(intervals(&h).unwrap()[0].lo, intervals(&h).unwrap()[0].hi);
    }

    #[test]
    fn ranges_split_into_cidr_blocks() {
        let blocks: Vec<String> = cidrs(iv("10.1.1.1", "10.1.1.50"))
            .into_iter()
            .map(|(n, p)| format!("{n}/{p}"))
            .collect();
        assert_eq!(
            blocks,
            [
                "10.1.1.1/32",
                "10.1.1.2/31",
                "10.1.1.4/30",
                "10.1.1.8/29",
                "10.1.1.16/28",
                "10.1.1.32/28",
                "10.1.1.48/31",
                "10.1.1.50/32"
            ]
        );
        assert_eq!(cidrs(iv("0.0.0.0", "255.255.255.255")).len(), 1);
        assert_eq!(
            cidrs(iv("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).len(),
            1
        );
        assert_eq!(v4_mask(24).to_string(), "255.255.255.0");
        assert_eq!(v4_mask(0).to_string(), "0.0.0.0");
    }

    #[test]
    fn article_missing_block_in_ipseccmd() {
        let lp = load(&article_missing_5003());
        assert!(lp.findings.iter().any(|f| f.code == "range-port-unblocked"));
        let r = fix(FixDialect::Ipseccmd, &lp);
        let lines: Vec<&str> = r.script.split("\r\n").collect();
        assert!(
            lines.contains(
                &r#"ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5003 Rule" -f *=0:5003:TCP -n BLOCK"#
            ),
            "{}",
            r.script
        );
        assert!(lines.contains(
            &r#"ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5003 from 10.1.1.0 Rule" -f 10.1.1.0/255.255.255.0=0:5003:TCP -n PASS"#
        ));
        assert_eq!(
            lines.iter().rev().find(|l| !l.is_empty()),
            Some(&r#"ipseccmd.exe -w REG -p "Block RPC Ports" -x"#)
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("rem Fixes range-port-unblocked: TCP 5003"))
        );
        // Only 5003 is touched.
        assert_eq!(
            lines.iter().filter(|l| l.contains("-n BLOCK")).count(),
            1,
            "{}",
            r.script
        );
        assert_eq!(r.actions[0].kind, FixKind::Block);
        assert_eq!(r.actions[0].ports, "5003");
        assert_eq!(r.actions[0].codes, ["range-port-unblocked"]);
        assert_eq!(r.actions[1].kind, FixKind::Pass);
        assert_eq!(r.actions[1].source, "10.1.1.0/24");
    }

    #[test]
    fn firewall_dialects_name_the_port_and_leave_the_subnet_out() {
        let lp = load(&article_missing_5003());
        let r = fix(FixDialect::Netsh, &lp);
        assert!(
            r.script.contains(
                "netsh advfirewall firewall add rule name=\"Block Inbound TCP 5003 (rpcaudit)\" dir=in action=block protocol=TCP localport=5003 remoteip=0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255,::/0\r\n"
            ),
            "{}",
            r.script
        );
        assert!(r.script.contains(
            "netsh advfirewall firewall delete rule name=\"Block Inbound TCP 5003 (rpcaudit)\"\r\n"
        ));
        let r = fix(FixDialect::Powershell, &lp);
        assert!(
            r.script.contains(
                "    New-NetFirewallRule -DisplayName 'Block Inbound TCP 5003 (rpcaudit)' -Direction Inbound -Action Block -Protocol TCP -LocalPort 5003 -RemoteAddress '0.0.0.0-10.1.0.255', '10.1.2.0-255.255.255.255', '::/0' -Enabled True\n"
            ),
            "{}",
            r.script
        );
        assert!(r.script.contains(
            "if (Get-NetFirewallRule -DisplayName 'Block Inbound TCP 5003 (rpcaudit)' -ErrorAction SilentlyContinue) {\n"
        ));
        assert!(r.script.starts_with("#Requires -RunAsAdministrator\n"));
        assert!(!r.script.contains('\r'));
        assert_eq!(r.actions[0].source, "any except 10.1.1.0/24");
    }

    #[test]
    fn netsh_ipsec_adds_a_rule_to_the_policy_in_force() {
        let lp = load(&article_missing_5003());
        let r = fix(FixDialect::NetshIpsec, &lp);
        for line in [
            "netsh ipsec static add filter filterlist=\"rpcaudit Block Inbound TCP 5003\" srcaddr=any dstaddr=me protocol=TCP dstport=5003",
            "netsh ipsec static add rule name=\"rpcaudit Block Inbound TCP 5003\" policy=\"Block RPC Ports\" filterlist=\"rpcaudit Block Inbound TCP 5003\" filteraction=\"rpcaudit Block\"",
            "netsh ipsec static add filter filterlist=\"rpcaudit Allow Inbound TCP 5003 from 10.1.1.0\" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5003",
            "netsh ipsec static set policy name=\"Block RPC Ports\" assign=yes",
        ] {
            assert!(
                r.script.split("\r\n").any(|l| l == line),
                "missing {line}\n{}",
                r.script
            );
        }
        // The policy exists already: no `add policy`.
        assert!(!r.script.contains("add policy"));
    }

    #[test]
    fn a_clashing_rule_name_gets_a_suffix() {
        // "Block Inbound TCP 5003 Rule" exists but filters 5030 (the article's warning).
        let text = ARTICLE.replace("*=0:5003:TCP", "*=0:5030:TCP");
        let lp = load(&text);
        let r = fix(FixDialect::Ipseccmd, &lp);
        assert!(
            r.script.contains(
                r#"-r "Block Inbound TCP 5003 Rule (rpcaudit)" -f *=0:5003:TCP -n BLOCK"#
            ),
            "{}",
            r.script
        );
    }

    #[test]
    fn nothing_to_fix() {
        let lp = load(ARTICLE);
        for d in [
            FixDialect::Ipseccmd,
            FixDialect::NetshIpsec,
            FixDialect::Netsh,
            FixDialect::Powershell,
        ] {
            let r = fix(d, &lp);
            assert!(r.is_empty(), "{d}: {:?}", r.actions);
            assert!(r.script.contains("Nothing to fix"));
        }
    }

    #[test]
    fn range_findings_bring_rpccfg_and_reg() {
        let lp = load(ARTICLE);
        let rec = capacity::recommend(&range(), 30);
        let f = [Finding::new(
            "range-exhausted",
            crate::finding::Severity::Error,
            "m",
            "f",
        )];
        let r = remediate(FixDialect::Ipseccmd, &lp, &[], &f, &range(), Some(&rec));
        assert!(
            r.script.contains("\r\nrpccfg.exe -pe 5001-5060 -d 0\r\n"),
            "{}",
            r.script
        );
        assert!(
            r.script
                .contains("\r\nrem   \"PortsInternetAvailable\"=\"Y\"\r\n")
        );
        assert!(
            r.script
                .contains("rem   Windows Registry Editor Version 5.00")
        );
        assert_eq!(r.actions[0].kind, FixKind::Range);
        // The new ports join the fence.
        assert!(
            r.script
                .contains(r#"-r "Block Inbound TCP 5060 Rule" -f *=0:5060:TCP -n BLOCK"#)
        );
        let r = remediate(FixDialect::Powershell, &lp, &[], &f, &range(), Some(&rec));
        assert!(r.script.contains(
            "\nreg add HKLM\\SOFTWARE\\Microsoft\\Rpc\\Internet /v Ports /t REG_MULTI_SZ /d 5001-5060 /f\n"
        ));
        assert!(
            r.script
                .contains("\n#   [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\n")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in "[ -~]{0,100}", pick in 0usize..5, verdicts in proptest::collection::vec(0u8..5, 0..12)) {
            let prefix = ["ipseccmd -w REG -p P -r R -f ", "netsh advfirewall firewall add rule name=X action=block ",
                "New-NetFirewallRule -DisplayName X -Action Block ", "netsh ipsec static add filter filterlist=L ", "rpccfg.exe -pe "][pick];
            let text = format!("{}\r\n{prefix}{body}\r\n", article_missing_5003());
            let lp = load(&text);
            let states = [ProbeState::Open, ProbeState::Closed, ProbeState::Filtered, ProbeState::Unreachable, ProbeState::Error];
            let rows: Vec<MatrixRow> = verdicts.iter().enumerate().map(|(i, v)| {
                let observed = states[usize::from(*v)];
                let expected = if i % 2 == 0 { Action::Block } else { Action::Pass };
                MatrixRow {
                    source: if i % 3 == 0 { ip("10.1.1.9") } else { ip("203.0.113.5") },
                    target: ip("198.18.0.10"),
                    port: [135u16, 5001, 5003, 5021, 49664][i % 5],
                    expected,
                    rule: None,
                    observed,
                    verdict: crate::audit::verify::verdict(expected, observed),
                }
            }).collect();
            let mut findings = lp.findings.clone();
            for c in ["leak", "overblock", "hang-hazard", "allow-shadowed", "range-exhausted", "range-invalid"] {
                findings.push(Finding::new(c, crate::finding::Severity::Error, "m", "f"));
            }
            for d in [FixDialect::Ipseccmd, FixDialect::NetshIpsec, FixDialect::Netsh, FixDialect::Powershell] {
                let r = remediate(d, &lp, &rows, &findings, &range(), None);
                let back = parse_text("fix", r.script.as_bytes());
                proptest::prop_assert!(!back.findings.iter().any(|f| f.code == "parse-error"), "{:?}\n{}", back.findings, r.script);
            }
        }
    }

    #[test]
    fn dialect_names() {
        use clap::ValueEnum;
        let names: Vec<String> = FixDialect::value_variants()
            .iter()
            .map(|v| v.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(names, ["ipseccmd", "netsh-ipsec", "netsh", "powershell"]);
        assert_eq!(
            serde_json::to_value(FixDialect::NetshIpsec).unwrap(),
            "netsh-ipsec"
        );
        for v in FixDialect::value_variants() {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::Value::String(v.as_str().into())
            );
        }
    }
}
