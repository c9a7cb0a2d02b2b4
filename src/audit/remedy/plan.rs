//! Remedy's plan: from the policy, the matrix and the findings, what must change — ports to
//! block for all but the allowed sources, passes to add, hosts to keep out, the range to set —
//! whatever the dialect the script is then written in.

use super::interval::{Iv, cidrs, concrete, intersect, intervals, ports_of, v4_mask};
use super::{MAX_FIX_PORTS, RANGE_CODES};
use crate::audit::capacity;
use crate::audit::capacity::Recommendation;
use crate::audit::verify::{MatrixRow, Verdict};
use crate::finding::{Code, Finding};
use crate::policy::address::{AddrMatch, prefix_of};
use crate::policy::model::RuleAction;
use crate::policy::{Action, Layer, LoadedPolicy, Proto, Query, Rule};
use crate::ports::{EPM_PORT, PortRanges};
use crate::probe::ProbeState;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

// ---------------------------------------------------------------------------------------------
// The plan: what must change, whatever the dialect.

/// A source the policy lets in on purpose.
#[derive(Debug, Clone)]
pub(super) struct Allowed {
    pub(super) m: AddrMatch,
    pub(super) sample: IpAddr,
    pub(super) ivs: Option<Vec<Iv>>,
    /// The ports it is meant to reach: what its pass rules name, and the whole fence (135 and
    /// the range) when they name any port of it (KB908472: 135 and every range port alike).
    pub(super) ports: PortRanges,
}

impl Allowed {
    pub(super) fn label(&self) -> String {
        self.m.to_string()
    }

    /// How a firewall rule names it.
    pub(super) fn fw_addr(&self) -> Option<String> {
        match &self.m {
            AddrMatch::Masked { mask, .. } if prefix_of(*mask).is_some() => Some(self.label()),
            AddrMatch::Range { .. } => Some(self.label()),
            AddrMatch::Keyword { name } => Some(name.clone()),
            _ => None,
        }
    }

    /// ipseccmd source addresses (`net/dotted-mask`), IPv4 only.
    pub(super) fn ipsec_addrs(&self) -> Option<Vec<(Ipv4Addr, Ipv4Addr)>> {
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
    pub(super) fn name_part(&self) -> String {
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

pub(super) type Codes = BTreeSet<Code>;

pub(super) struct Plan {
    pub(super) allowed: Vec<Allowed>,
    /// Ports to block for every source but the allowed ones.
    pub(super) block: BTreeMap<u16, Codes>,
    /// UDP ports to block for every source but the allowed ones that the fence lets reach TCP
    /// 135 (UDP 135 and `ncadg_ip_udp` ports a fenced-off source reached, UDP leaks).
    pub(super) block_udp: BTreeMap<u16, Codes>,
    /// (leaking source inside an allowed subnet, port).
    pub(super) host_block: BTreeMap<(IpAddr, u16), Codes>,
    /// (allowed index, port) that must pass.
    pub(super) pass: BTreeMap<(usize, u16), Codes>,
    pub(super) range_fix: Option<(Recommendation, Codes)>,
    pub(super) notes: Vec<String>,
}

pub(super) fn pass_like(a: RuleAction) -> bool {
    matches!(
        a,
        RuleAction::Pass
            | RuleAction::Negotiate {
                clear_inbound: true
            }
    )
}

pub(super) fn reaches(s: ProbeState) -> bool {
    matches!(s, ProbeState::Open | ProbeState::Closed)
}

pub(super) fn allowed_sources(lp: &LoadedPolicy, fence: &PortRanges) -> Vec<Allowed> {
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
pub(super) fn outsider(lp: &LoadedPolicy, allowed: &[Allowed]) -> IpAddr {
    pub(super) const CANDIDATES: &[[u8; 4]] = &[
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
pub(super) fn allowed_for(
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

pub(super) fn plan(
    lp: &LoadedPolicy,
    matrix: &[MatrixRow],
    findings: &[Finding],
    range: &PortRanges,
    recommendation: Option<&Recommendation>,
) -> Plan {
    let has = |c: &Code| findings.iter().any(|f| f.code == *c);
    let local = lp.policy.local_subnets.clone();
    let mut notes = Vec::new();

    // The range first: a new range widens the fence.
    let range_codes: Codes = RANGE_CODES.iter().filter(|c| has(c)).cloned().collect();
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
    // The other roads to RPC that a fenced-off source reached: fenced as 135 is, so the
    // allowed sources keep them. TCP roads and UDP ones apart.
    let (bypassed, bypassed_udp) = if has(&Code::FenceBypass) {
        // The rows the findings are about; a finding also needs the road to carry RPC (a map
        // without named pipes makes 445 file sharing only), which the matrix alone cannot
        // tell: such a port is closed to the fenced-off sources too, as 135 is.
        let rows =
            crate::audit::roads::open_to_fenced(matrix, EPM_PORT, &crate::audit::roads::ROADS);
        let over = |proto: Proto| {
            ports_of(
                rows.iter()
                    .filter(|(_, r)| r.protocol == proto)
                    .map(|(_, r)| r.port),
            )
        };
        (over(Proto::Tcp), over(Proto::Udp))
    } else {
        (PortRanges::default(), PortRanges::default())
    };
    let allowed = allowed_sources(lp, &fence.union(&bypassed));
    let outsider = outsider(lp, &allowed);
    let decide = |ip: IpAddr, p: u16| lp.policy.decide(ip, p, Proto::Tcp).action;

    let mut block: BTreeMap<u16, Codes> = BTreeMap::new();
    let mut block_udp: BTreeMap<u16, Codes> = BTreeMap::new();
    let mut host_block: BTreeMap<(IpAddr, u16), Codes> = BTreeMap::new();
    let mut pass: BTreeMap<(usize, u16), Codes> = BTreeMap::new();
    let put = |m: &mut BTreeMap<u16, Codes>, k: u16, c: Code| {
        m.entry(k).or_default().insert(c);
    };

    if has(&Code::Leak) {
        for r in matrix.iter().filter(|r| r.verdict == Verdict::Leak) {
            if r.protocol == Proto::Udp {
                if allowed_for(&allowed, &local, r.source, EPM_PORT).is_some() {
                    notes.push(format!(
                        "leak: UDP {} is reachable from {}, inside a subnet the fence lets reach the endpoint mapper, although the policy blocks it; block it for that host by hand",
                        r.port, r.source
                    ));
                } else {
                    put(&mut block_udp, r.port, Code::Leak);
                }
                continue;
            }
            if allowed
                .iter()
                .any(|a| a.m.contains(r.source, &local) == Some(true) && a.ports.contains(r.port))
            {
                host_block
                    .entry((r.source, r.port))
                    .or_default()
                    .insert(Code::Leak);
            } else {
                put(&mut block, r.port, Code::Leak);
            }
        }
    }
    for p in bypassed_udp.iter() {
        put(&mut block_udp, p, Code::FenceBypass);
    }
    if !bypassed_udp.is_empty() {
        notes.push(format!(
            "fence-bypass: UDP {bypassed_udp} (connectionless RPC, ncadg_ip_udp) is blocked for every source but the ones the fence lets reach TCP 135"
        ));
    }
    if !bypassed.is_empty() {
        for p in bypassed.iter() {
            put(&mut block, p, Code::FenceBypass);
        }
        notes.push(format!(
            "fence-bypass: TCP {bypassed} is blocked for every source but the allowed ones, as TCP 135 is; where SMB (445, 139) must stay open for file sharing, leave those blocks out and close the named-pipe interfaces with RPC filters (netsh rpc filter) instead: RestrictRemoteClients does not help, it counts a named-pipe client as authenticated"
        ));
    }
    if has(&Code::RangePortUnblocked) {
        let fence_now = ports_of([EPM_PORT]).union(range);
        if fence_now.size() > MAX_FIX_PORTS {
            notes.push(format!(
                "range-port-unblocked: the range {range} has {} ports, too many to fence one by one; fix the range first",
                fence_now.size()
            ));
        } else {
            for p in fence_now.iter() {
                if decide(outsider, p) != Action::Block {
                    put(&mut block, p, Code::RangePortUnblocked);
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
                    put(&mut block, p, c.clone());
                }
                for (i, a) in allowed.iter().enumerate() {
                    if a.ports.contains(p) && decide(a.sample, p) != Action::Pass {
                        pass.entry((i, p)).or_default().insert(c.clone());
                    }
                }
            }
        }
    }

    if has(&Code::Overblock) {
        // Overblocks no script change fixes, one note per source and rule with their ports
        // (a sweep of every port can give tens of thousands of them).
        let mut unfixed: BTreeMap<(IpAddr, Option<&str>), Vec<u16>> = BTreeMap::new();
        for r in matrix.iter().filter(|r| r.verdict == Verdict::Overblock) {
            if r.protocol == Proto::Udp {
                notes.push(format!(
                    "overblock: UDP {} is filtered from {} although the policy passes it; no script change (the fix scripts write TCP passes only)",
                    r.port, r.source
                ));
                continue;
            }
            match allowed_for(&allowed, &local, r.source, r.port) {
                Some(i) => {
                    pass.entry((i, r.port)).or_default().insert(Code::Overblock);
                }
                None => unfixed
                    .entry((r.source, r.rule.as_deref()))
                    .or_default()
                    .push(r.port),
            }
        }
        for ((source, rule), ports) in unfixed {
            let ports = ports_of(ports);
            notes.push(match rule {
                None => format!(
                    "overblock: port {ports} is filtered from {source} although no rule of the policy covers it: something outside the policy (a host or network firewall) filters it; no script change"
                ),
                Some(rule) => format!(
                    "overblock: port {ports} is filtered from {source}, which the policy passes ({rule}) without naming its subnet; the host's configuration differs from the policy files: re-apply them"
                ),
            });
        }
    }
    if has(&Code::HangHazard) {
        // From the matrix: a source that reaches 135 but not the whole range, or the reverse.
        let mut groups: BTreeMap<(IpAddr, IpAddr), Vec<&MatrixRow>> = BTreeMap::new();
        for r in matrix.iter().filter(|r| r.protocol == Proto::Tcp) {
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
                    pass.entry((i, p)).or_default().insert(Code::HangHazard);
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
                        pass.entry((i, p)).or_default().insert(Code::HangHazard);
                    }
                }
            }
        }
    }
    if has(&Code::AllowShadowed) {
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
                    pass.entry((i, p)).or_default().insert(Code::AllowShadowed);
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
        block_udp,
        host_block,
        pass,
        range_fix,
        notes,
    }
}

pub(super) fn matches_query(r: &Rule, src: IpAddr, port: u16, lp: &LoadedPolicy) -> bool {
    r.proto.matches(Proto::Tcp)
        && r.ports.contains(port, &lp.policy.rpc_dynamic)
        && r.src
            .iter()
            .any(|m| m.contains(src, &lp.policy.local_subnets) == Some(true))
}
