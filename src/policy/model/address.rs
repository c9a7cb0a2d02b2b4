//! Source-address matchers shared by every dialect: `*`/`any`, `0`/`me` (this computer),
//! `addr/mask` with a dotted or prefix mask, CIDR, `first-last` ranges, DNS names (kept but
//! never matched: we do not resolve names) and Windows Firewall keywords (`LocalSubnet`, ...).
//! Parsers return the matcher plus the facts the linter needs (host bits set, odd mask).

use crate::inert::excerpt;
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// Which addresses a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AddrMatch {
    /// Every address (`*`, `any`).
    Any,
    /// This computer (`0` in ipseccmd, `me` in netsh ipsec).
    Me,
    /// `addr` under `mask`: matches when `src & mask == addr & mask`. The mask may be
    /// non-contiguous (IPsec compares bitwise); `bits` is its number of one bits.
    Masked {
        addr: IpAddr,
        mask: IpAddr,
        bits: u8,
    },
    /// An inclusive range `first-last`.
    Range { first: IpAddr, last: IpAddr },
    /// A DNS name; never matched (names are resolved only on the target when the policy is
    /// applied, and we do not guess).
    Dns { name: String },
    /// A Windows Firewall keyword such as `LocalSubnet`, `DNS`, `DefaultGateway`; matched only
    /// for `LocalSubnet` when local subnets are supplied.
    Keyword { name: String },
}

/// Why an address could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("empty address")]
    Empty,
    #[error("'{}' is not an IP address", excerpt(.0))]
    BadAddress(String),
    #[error("'{}' is not a mask (dotted like 255.255.255.0 or a prefix length)", excerpt(.0))]
    BadMask(String),
    #[error("range '{}' ends before it starts or mixes IPv4 and IPv6", excerpt(.0))]
    BadRange(String),
}

/// Facts about a parsed address the linter reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrNotes {
    /// Host bits set under the mask (e.g. 10.1.1.5/255.255.255.0): the aligned subnet.
    pub misaligned: Option<String>,
    /// The mask has a zero bit before a one bit.
    pub noncontiguous: bool,
}

impl AddrMatch {
    /// `addr` under `mask`, contiguous or not; `bits` counts the mask's one bits.
    pub fn masked(addr: IpAddr, mask: IpAddr) -> AddrMatch {
        AddrMatch::Masked {
            addr,
            mask,
            bits: u8::try_from(to_bits(mask).count_ones()).unwrap_or(u8::MAX),
        }
    }

    /// The one address `addr` (a full-length mask).
    pub fn host(addr: IpAddr) -> AddrMatch {
        AddrMatch::masked(addr, host_mask(addr))
    }

    /// Does `src` belong to this matcher? `None` when it cannot be known (DNS names,
    /// keywords other than a supplied LocalSubnet).
    pub fn contains(&self, src: IpAddr, local_subnets: &[IpNet]) -> Option<bool> {
        match self {
            AddrMatch::Any => Some(true),
            // As a *source* "this computer" is only ever our own address: remote clients are
            // never it.
            AddrMatch::Me => Some(false),
            AddrMatch::Masked { addr, mask, .. } => Some(masked_eq(src, *addr, *mask)),
            AddrMatch::Range { first, last } => Some(in_range(src, *first, *last)),
            AddrMatch::Dns { .. } => None,
            AddrMatch::Keyword { name } => {
                if name.eq_ignore_ascii_case("localsubnet") && !local_subnets.is_empty() {
                    Some(local_subnets.iter().any(|n| n.contains(&src)))
                } else {
                    None
                }
            }
        }
    }

    /// Specificity for IPsec filter ordering: the number of fixed bits (32 for one address or
    /// "this computer", 0 for any).
    pub fn specificity(&self) -> u8 {
        match self {
            AddrMatch::Any | AddrMatch::Keyword { .. } => 0,
            AddrMatch::Me | AddrMatch::Dns { .. } => 32,
            AddrMatch::Masked { bits, .. } => *bits,
            AddrMatch::Range { first, last } => range_bits(*first, *last),
        }
    }

    /// A representative address inside the matcher, used by lints to ask the model about
    /// "a host of this subnet". `None` for any/me/DNS/keywords.
    pub fn sample(&self) -> Option<IpAddr> {
        match self {
            AddrMatch::Masked { addr, mask, bits } => {
                let net = apply_mask(*addr, *mask);
                // Prefer a host address (network + 1) when the subnet has room for one.
                match net {
                    IpAddr::V4(v4) if *bits <= 30 => {
                        Some(IpAddr::V4(Ipv4Addr::from(u32::from(v4).wrapping_add(1))))
                    }
                    _ => Some(net),
                }
            }
            AddrMatch::Range { first, .. } => Some(*first),
            _ => None,
        }
    }

    /// True for a matcher that names specific hosts (not any/me).
    pub fn is_specific(&self) -> bool {
        !matches!(self, AddrMatch::Any | AddrMatch::Me)
    }
}

impl fmt::Display for AddrMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrMatch::Any => f.write_str("any"),
            AddrMatch::Me => f.write_str("this computer"),
            AddrMatch::Masked { addr, mask, bits } => match (addr, prefix_of(*mask)) {
                (IpAddr::V4(_), Some(32)) | (IpAddr::V6(_), Some(128)) => write!(f, "{addr}"),
                (_, Some(p)) => write!(f, "{addr}/{p}"),
                (_, None) => write!(f, "{addr}/{mask} ({bits} bits)"),
            },
            AddrMatch::Range { first, last } => write!(f, "{first}-{last}"),
            AddrMatch::Dns { name } => write!(f, "{name} (DNS name)"),
            AddrMatch::Keyword { name } => f.write_str(name),
        }
    }
}

fn to_bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn masked_eq(src: IpAddr, addr: IpAddr, mask: IpAddr) -> bool {
    match (src, addr) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            let m = to_bits(mask);
            to_bits(src) & m == to_bits(addr) & m
        }
        _ => false,
    }
}

fn in_range(src: IpAddr, first: IpAddr, last: IpAddr) -> bool {
    match (src, first) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            let s = to_bits(src);
            to_bits(first) <= s && s <= to_bits(last)
        }
        _ => false,
    }
}

fn range_bits(first: IpAddr, last: IpAddr) -> u8 {
    let width: u32 = if first.is_ipv4() { 32 } else { 128 };
    let span = to_bits(last)
        .saturating_sub(to_bits(first))
        .saturating_add(1);
    let host_bits = 128 - span.leading_zeros(); // bits needed to count the span
    let fixed = width.saturating_sub(host_bits);
    u8::try_from(fixed).unwrap_or(u8::MAX)
}

fn apply_mask(addr: IpAddr, mask: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v) => {
            let m = match mask {
                IpAddr::V4(m) => u32::from(m),
                IpAddr::V6(_) => u32::MAX,
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(v) & m))
        }
        IpAddr::V6(v) => IpAddr::V6((u128::from(v) & to_bits(mask)).into()),
    }
}

/// The prefix length of a contiguous mask, `None` when the mask has holes.
pub fn prefix_of(mask: IpAddr) -> Option<u8> {
    let (bits, width) = match mask {
        IpAddr::V4(m) => (u128::from(u32::from(m)) << 96, 32u32),
        IpAddr::V6(m) => (u128::from(m), 128u32),
    };
    let ones = bits.leading_ones();
    if bits.count_ones() == ones && ones <= width {
        u8::try_from(ones).ok()
    } else {
        None
    }
}

/// The mask that matches `addr` alone: all ones, in its family.
fn host_mask(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::BROADCAST),
        IpAddr::V6(_) => IpAddr::V6(u128::MAX.into()),
    }
}

fn prefix_mask(v4: bool, prefix: u8) -> Option<IpAddr> {
    if v4 {
        if prefix > 32 {
            return None;
        }
        let m = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        };
        Some(IpAddr::V4(Ipv4Addr::from(m)))
    } else {
        if prefix > 128 {
            return None;
        }
        let m = if prefix == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(prefix))
        };
        Some(IpAddr::V6(m.into()))
    }
}

/// Parse `addr`, `addr/prefix` or `addr/dotted-mask` (either IP family).
pub fn parse_masked(text: &str) -> Result<(AddrMatch, AddrNotes), AddrError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AddrError::Empty);
    }
    let (a, m) = match text.split_once('/') {
        Some((a, m)) => (a.trim(), Some(m.trim())),
        None => (text, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| AddrError::BadAddress(a.to_string()))?;
    let mask = match m {
        None => Some(host_mask(addr)),
        Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => m
            .parse::<u8>()
            .ok()
            .and_then(|p| prefix_mask(addr.is_ipv4(), p)),
        Some(m) => match m.parse::<IpAddr>() {
            Ok(mask) if mask.is_ipv4() == addr.is_ipv4() => Some(mask),
            _ => None,
        },
    }
    .ok_or_else(|| AddrError::BadMask(m.unwrap_or_default().to_string()))?;
    let mut notes = AddrNotes {
        noncontiguous: prefix_of(mask).is_none(),
        ..AddrNotes::default()
    };
    let net = apply_mask(addr, mask);
    if net != addr {
        notes.misaligned = Some(match prefix_of(mask) {
            Some(_) if m.is_some_and(|m| m.contains('.') || m.contains(':')) => {
                format!("{net}/{mask}")
            }
            Some(p) => format!("{net}/{p}"),
            None => format!("{net}/{mask}"),
        });
    }
    Ok((AddrMatch::masked(addr, mask), notes))
}

/// Parse a Windows Firewall address element (`RemoteAddress`, `remoteip=`): `Any`, a keyword,
/// an address, CIDR, `addr/mask` or a `first-last` range.
pub fn parse_firewall(text: &str) -> Result<(AddrMatch, AddrNotes), AddrError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AddrError::Empty);
    }
    if t.eq_ignore_ascii_case("any") || t == "*" {
        return Ok((AddrMatch::Any, AddrNotes::default()));
    }
    if let Some((a, b)) = t.split_once('-')
        && !t.contains('/')
    {
        let first: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| AddrError::BadAddress(a.to_string()))?;
        let last: IpAddr = b
            .trim()
            .parse()
            .map_err(|_| AddrError::BadAddress(b.to_string()))?;
        if first.is_ipv4() != last.is_ipv4() || to_bits(last) < to_bits(first) {
            return Err(AddrError::BadRange(t.to_string()));
        }
        return Ok((AddrMatch::Range { first, last }, AddrNotes::default()));
    }
    if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !t.starts_with(char::is_numeric)
    {
        return Ok((
            AddrMatch::Keyword {
                name: t.to_string(),
            },
            AddrNotes::default(),
        ));
    }
    parse_masked(t)
}

/// Parse an ipseccmd/ipsecpol address: `*` any, `0` this computer, an address with an
/// optional `/mask` (dotted or prefix), or a DNS name.
pub fn parse_ipsecpol(text: &str) -> Result<(AddrMatch, AddrNotes), AddrError> {
    let t = text.trim();
    match t {
        "" => Err(AddrError::Empty),
        "*" => Ok((AddrMatch::Any, AddrNotes::default())),
        "0" => Ok((AddrMatch::Me, AddrNotes::default())),
        _ if looks_like_dns(t) => Ok((
            AddrMatch::Dns {
                name: t.to_string(),
            },
            AddrNotes::default(),
        )),
        _ => parse_masked(t),
    }
}

/// A name with a letter that is not an IP address (IPv6 has hex letters, so it must not
/// parse as one).
pub fn looks_like_dns(t: &str) -> bool {
    let host = t.split('/').next().unwrap_or(t);
    host.chars().any(|c| c.is_ascii_alphabetic())
        && host.parse::<IpAddr>().is_err()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
}

/// Report what the linter cares about in an address as written: host bits under the mask,
/// a mask with holes, an unresolved DNS name.
pub(crate) fn report_notes(
    sink: &mut super::sink::Sink,
    line: usize,
    written: &str,
    m: &AddrMatch,
    notes: &AddrNotes,
) {
    use crate::finding::Code;
    use crate::finding::Severity;
    if let Some(aligned) = &notes.misaligned {
        sink.about(written).push(
            Code::SubnetMisaligned,
            Severity::Warning,
            line,
            format!("'{written}' has host bits set under its mask; Windows matches the subnet {aligned}, which may not be what was meant", written = excerpt(written)),
            format!("write the subnet as {aligned} (or use a 255.255.255.255 mask for the single host)"),
        );
    }
    if notes.noncontiguous {
        sink.about(written).push(
            Code::MaskNoncontiguous,
            Severity::Error,
            line,
            format!("the mask in '{written}' is not contiguous (a zero bit before a one bit); it matches scattered addresses", written = excerpt(written)),
            "use a contiguous mask such as 255.255.255.0 (/24)",
        );
    }
    if let AddrMatch::Dns { name } = m {
        sink.about(name).push(
            Code::DnsUnresolved,
            Severity::Warning,
            line,
            format!("'{name}' is a DNS name: Windows resolves it once, when the filter is created, and rpcaudit does not resolve it, so the model treats it as matching no address", name = excerpt(name)),
            "write the IP address or subnet instead of the name",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn dotted_and_prefix_masks_agree() {
        let (a, n) = parse_masked("10.1.1.0/255.255.255.0").unwrap();
        let (b, _) = parse_masked("10.1.1.0/24").unwrap();
        assert_eq!(a, b);
        assert_eq!(n, AddrNotes::default());
        assert_eq!(a.contains(ip("10.1.1.77"), &[]), Some(true));
        assert_eq!(a.contains(ip("10.1.2.1"), &[]), Some(false));
        assert_eq!(a.specificity(), 24);
        assert_eq!(a.to_string(), "10.1.1.0/24");
        assert_eq!(a.sample(), Some(ip("10.1.1.1")));
    }

    #[test]
    fn flags_misaligned_and_noncontiguous_masks() {
        let (_, n) = parse_masked("10.1.1.5/255.255.255.0").unwrap();
        assert_eq!(n.misaligned.as_deref(), Some("10.1.1.0/255.255.255.0"));
        let (_, n) = parse_masked("10.1.1.5/24").unwrap();
        assert_eq!(n.misaligned.as_deref(), Some("10.1.1.0/24"));
        let (m, n) = parse_masked("10.0.1.0/255.0.255.0").unwrap();
        assert!(n.noncontiguous);
        assert_eq!(m.contains(ip("10.9.1.3"), &[]), Some(true));
        assert!(parse_masked("10.1.1.0/33").is_err());
        assert!(parse_masked("10.1.1.0/ffff").is_err());
        assert!(parse_masked("10.1.1").is_err());
    }

    #[test]
    fn ipsecpol_forms() {
        assert_eq!(parse_ipsecpol("*").unwrap().0, AddrMatch::Any);
        assert_eq!(parse_ipsecpol("0").unwrap().0, AddrMatch::Me);
        assert!(matches!(
            parse_ipsecpol("server.contoso.com").unwrap().0,
            AddrMatch::Dns { .. }
        ));
        let (m, _) = parse_ipsecpol("10.1.1.9").unwrap();
        assert_eq!(m.specificity(), 32);
        assert_eq!(m.contains(ip("10.1.1.9"), &[]), Some(true));
        assert_eq!(AddrMatch::Me.contains(ip("10.1.1.9"), &[]), Some(false));
    }

    #[test]
    fn firewall_forms() {
        let (r, _) = parse_firewall("10.1.1.1-10.1.1.50").unwrap();
        assert_eq!(r.contains(ip("10.1.1.50"), &[]), Some(true));
        assert_eq!(r.contains(ip("10.1.1.51"), &[]), Some(false));
        assert!(parse_firewall("10.1.1.50-10.1.1.1").is_err());
        let (k, _) = parse_firewall("LocalSubnet").unwrap();
        assert_eq!(k.contains(ip("10.1.1.1"), &[]), None);
        let net: IpNet = "10.1.1.0/24".parse().unwrap();
        assert_eq!(k.contains(ip("10.1.1.1"), &[net]), Some(true));
        assert_eq!(parse_firewall("Any").unwrap().0, AddrMatch::Any);
        let (v6, _) = parse_firewall("fe80::/64").unwrap();
        assert_eq!(v6.contains(ip("fe80::1"), &[]), Some(true));
        assert_eq!(v6.contains(ip("10.0.0.1"), &[]), Some(false));
    }

    proptest! {
        #[test]
        fn prefix_parse_matches_ipnet(a in any::<u32>(), p in 0u8..=32, probe in any::<u32>()) {
            let text = format!("{}/{}", Ipv4Addr::from(a), p);
            let (m, notes) = parse_masked(&text).unwrap();
            let net: IpNet = text.parse().unwrap();
            let probe = IpAddr::V4(Ipv4Addr::from(probe));
            prop_assert_eq!(m.contains(probe, &[]), Some(net.trunc().contains(&probe)));
            prop_assert_eq!(notes.misaligned.is_some(), net.trunc().addr() != net.addr());
            prop_assert!(!notes.noncontiguous);
        }

        #[test]
        fn parsers_never_panic(s in ".{0,40}") {
            let _ = parse_masked(&s);
            let _ = parse_firewall(&s);
            let _ = parse_ipsecpol(&s);
        }
    }
}
