//! Remedy's arithmetic: address sets as intervals ("every address except the allowed
//! subnets", split back into CIDR blocks and ranges) and port-set helpers.

use crate::policy::address::{AddrMatch, prefix_of};
use crate::policy::model::PortMatch;
use crate::policy::registry::complement;
use crate::ports::PortRanges;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ---------------------------------------------------------------------------------------------
// Address sets as intervals, to compute "every address except the allowed subnets".

/// An inclusive interval of one address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Iv {
    pub(super) v6: bool,
    pub(super) lo: u128,
    pub(super) hi: u128,
}

pub(super) fn family_max(v6: bool) -> u128 {
    if v6 { u128::MAX } else { u128::from(u32::MAX) }
}

pub(super) fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

pub(super) fn to_ip(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(x).unwrap_or(u32::MAX)))
    }
}

/// Both families, whole.
pub(super) fn everything() -> Vec<Iv> {
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
pub(super) fn intervals(m: &AddrMatch) -> Option<Vec<Iv>> {
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

pub(super) fn intervals_all(ms: &[AddrMatch]) -> Option<Vec<Iv>> {
    let mut out = Vec::new();
    for m in ms {
        out.extend(intervals(m)?);
    }
    Some(normalize(out))
}

/// Sorted, overlapping and adjacent intervals merged.
pub(super) fn normalize(mut v: Vec<Iv>) -> Vec<Iv> {
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
pub(super) fn subtract(set: &[Iv], minus: &[Iv]) -> Vec<Iv> {
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
pub(super) fn covers(outer: &[Iv], inner: &[Iv]) -> bool {
    subtract(inner, outer).is_empty()
}

/// The interval as a CIDR block when it is one, else `first-last`.
pub(super) fn format_iv(iv: Iv) -> String {
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
pub(super) fn cidrs(iv: Iv) -> Vec<(IpAddr, u32)> {
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

pub(super) fn v4_mask(prefix: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix.min(32)).unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// Port set helpers.

pub(super) fn all_ports() -> PortRanges {
    PortRanges::from_ranges([(1, 65535)])
}

pub(super) fn intersect(a: &PortRanges, b: &PortRanges) -> PortRanges {
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

pub(super) fn minus(a: &PortRanges, b: &PortRanges) -> PortRanges {
    intersect(a, &complement(b))
}

pub(super) fn ports_of(ports: impl IntoIterator<Item = u16>) -> PortRanges {
    PortRanges::from_ranges(ports.into_iter().map(|p| (p, p)))
}

/// The ports a rule names, as a set (`None` for keywords).
pub(super) fn concrete(pm: &PortMatch, rpc: &PortRanges) -> Option<PortRanges> {
    match pm {
        PortMatch::Any => Some(all_ports()),
        PortMatch::Ports(p) => Some(p.clone()),
        PortMatch::RpcDynamic => Some(rpc.clone()),
        PortMatch::Keyword(_) => None,
    }
}
