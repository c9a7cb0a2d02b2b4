//! The filter lists of the IPsec policy store: the `ipsecData` blob of an `ipsecFilter{GUID}`
//! object (MS-GPIPSEC §2.2.1.5.1), read with [`super::ipsec_blob`]'s bounded reader;
//! [`super::ipsec_store`] turns the filters into those of [`crate::policy::dialect::ipsec`]. Pure: bytes in,
//! typed values out, every length and count checked against the bytes left before it is used.
//!
//! A blob holds two layouts, one after the other:
//! - legacy (V1), which every Windows since 2000 writes: the filter class GUID
//!   `{80DC20B5-2EC8-11D1-A89E-00A0248D3021}`, a u32 data length, a u32 count and that many
//!   filters: source DNS name, destination DNS name, description (each a u32 byte count, its
//!   NUL included, and UTF-16LE text), the filter GUID, a u32 mirrored flag, source address,
//!   source mask, destination address, destination mask, tunnel address (4 bytes each, network
//!   order), a u32 protocol (0: any), source and destination port (u16 each; 0: any), a tunnel
//!   byte, a special-filter byte (the host's DNS, WINS or DHCP servers or default gateway as
//!   the source, 0x01-0x04, or as the destination, 0x81-0x84) and two option bytes. Address 0
//!   with mask 255.255.255.255 is "this computer", mask 0 any address.
//! - version 2 (V2), which Windows Vista and later write after it: the GUID
//!   `{35FECD3D-AE29-4373-8A6A-C5D8FAB2FB08}`, a u32 data length, a u32 count that replaces
//!   the legacy count when it is not zero, a u32 count of V2 filters, and each V2 filter: the
//!   three strings and the GUID as above, a u32 mirrored flag, source and destination address
//!   data (40 bytes each: a u32 type — any 0, one address 1, range 2, subnet 4, this computer
//!   8, the host's DNS 0x10, WINS 0x20 or DHCP 0x40 servers, default gateway 0x80 —, a u32 IP
//!   version — 4: 1, 6: 2, both: 3, for this computer and the host's servers only —, and two
//!   16-byte addresses in network order: the address, then the range's last address or the
//!   subnet mask, an IPv6 mask being a prefix length in its first byte), source and
//!   destination port data (8 bytes each: a u32 type — any 0, one 1, range 2 —, the port and
//!   the range's last port, u16 each), a u32 protocol and u32 flags (8: address ranges are
//!   written as V2 ranges, and the legacy list holds them expanded into subnets).
//!
//! The specification leaves two lengths open, so both readings are accepted, and checked: the
//! legacy data length counts the legacy count (as Windows 2000 to 2003 write it, one byte
//! short of the data and its trailing zero byte) or, in a blob with a V2 part, only the legacy
//! filters; the V2 data length counts its two counts or only the V2 filters. Either way the
//! filters must fill the length exactly, and a zero byte may end each part. A V2 filter
//! replaces the legacy filter of the same GUID; a legacy filter without one stays (it covers
//! the same addresses as the V2 filter it expands, when it is an expansion). DNS names were
//! resolved when the filter was made: the addresses are what counts.

use super::ipsec_blob::{BlobError, Class, Guid, Reader, header, holds_just};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The GUID that opens the V2 part of a filter blob (Filter-Policy-ID2).
pub const V2_ID: Guid = Guid::from_u128(0x35FECD3D_AE29_4373_8A6A_C5D8FAB2FB08);

/// A server of the host's IP configuration a filter names instead of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Dns,
    Wins,
    Dhcp,
    DefaultGateway,
}

impl Server {
    /// The Windows Firewall keyword for the same servers.
    pub fn keyword(self) -> &'static str {
        match self {
            Server::Dns => "DNS",
            Server::Wins => "WINS",
            Server::Dhcp => "DHCP",
            Server::DefaultGateway => "DefaultGateway",
        }
    }
}

/// A legacy filter's special-filter byte: which side is which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    /// The destination (0x81-0x84), else the source (0x01-0x04).
    pub destination: bool,
    pub server: Server,
}

/// What both layouts start a filter with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterHead {
    pub src_dns: String,
    pub dst_dns: String,
    pub description: String,
    /// The filter's GUID: a V2 filter replaces the legacy filter of the same GUID.
    pub id: Guid,
    pub mirrored: bool,
}

/// One filter of the legacy layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobFilter {
    pub head: FilterHead,
    pub src: Ipv4Addr,
    pub src_mask: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub dst_mask: Ipv4Addr,
    pub tunnel: Ipv4Addr,
    /// 0: any protocol.
    pub protocol: u8,
    /// 0: any port.
    pub src_port: u16,
    pub dst_port: u16,
    pub tunnel_filter: bool,
    pub special: Option<Special>,
}

/// An address of a V2 filter (and of a legacy one, once read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobAddr {
    Any,
    /// This computer.
    Me,
    One(IpAddr),
    /// Inclusive.
    Range(IpAddr, IpAddr),
    Subnet {
        addr: IpAddr,
        mask: IpAddr,
    },
    Server(Server),
}

impl BlobAddr {
    /// A legacy address and mask.
    fn legacy(a: Ipv4Addr, mask: Ipv4Addr) -> BlobAddr {
        match (u32::from(a), u32::from(mask)) {
            (_, 0) => BlobAddr::Any,
            (0, u32::MAX) => BlobAddr::Me,
            (_, u32::MAX) => BlobAddr::One(IpAddr::V4(a)),
            _ => BlobAddr::Subnet {
                addr: IpAddr::V4(a),
                mask: IpAddr::V4(mask),
            },
        }
    }
}

/// A port or an inclusive range of ports; `None`: any.
pub type Ports = Option<(u16, u16)>;

/// One filter of the V2 layout; the legacy filters are read into the same shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Filter {
    pub head: FilterHead,
    pub src: BlobAddr,
    pub dst: BlobAddr,
    pub src_ports: Ports,
    pub dst_ports: Ports,
    /// 0: any protocol.
    pub protocol: u8,
    pub flags: u32,
}

impl BlobFilter {
    /// The legacy filter in the V2 shape.
    pub fn to_v2(&self) -> V2Filter {
        let port = |p: u16| (p != 0).then_some((p, p));
        let mut src = BlobAddr::legacy(self.src, self.src_mask);
        let mut dst = BlobAddr::legacy(self.dst, self.dst_mask);
        if let Some(s) = self.special {
            let side = if s.destination { &mut dst } else { &mut src };
            *side = BlobAddr::Server(s.server);
        }
        V2Filter {
            head: self.head.clone(),
            src,
            dst,
            src_ports: port(self.src_port),
            dst_ports: port(self.dst_port),
            protocol: self.protocol,
            flags: 0,
        }
    }
}

/// What one filter blob holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilterList {
    pub legacy: Vec<BlobFilter>,
    pub v2: Vec<V2Filter>,
}

impl FilterList {
    /// The filters Windows applies: every V2 filter, and each legacy filter no V2 filter of
    /// the same GUID replaces.
    pub fn in_force(&self) -> Vec<V2Filter> {
        let replaced: std::collections::HashSet<Guid> = self.v2.iter().map(|v| v.head.id).collect();
        let mut out = self.v2.clone();
        out.extend(
            self.legacy
                .iter()
                .filter(|l| !replaced.contains(&l.head.id))
                .map(BlobFilter::to_v2),
        );
        out
    }
}

/// Smallest legacy filter: three empty strings (4 bytes each), GUID, mirrored, five
/// addresses, protocol, two ports, tunnel, special and option bytes.
const MIN_LEGACY: usize = 3 * 4 + 16 + 4 + 5 * 4 + 4 + 2 + 2 + 4;
/// Smallest V2 filter: three empty strings, GUID, mirrored, two address data of 40 bytes,
/// two port data of 8, protocol, flags.
const MIN_V2: usize = 3 * 4 + 16 + 4 + 2 * 40 + 2 * 8 + 4 + 4;

fn protocol(r: &mut Reader<'_>) -> Result<u8, BlobError> {
    let at = r.at();
    let p = r.u32("protocol")?;
    u8::try_from(p).map_err(|_| BlobError::BadValue {
        what: "protocol",
        at,
        value: p,
    })
}

fn head(r: &mut Reader<'_>) -> Result<FilterHead, BlobError> {
    Ok(FilterHead {
        src_dns: r.wstring("source DNS name")?,
        dst_dns: r.wstring("destination DNS name")?,
        description: r.wstring("filter description")?,
        id: r.guid("filter GUID")?,
        mirrored: r.bool32("mirrored flag")?,
    })
}

fn legacy_filter(r: &mut Reader<'_>) -> Result<BlobFilter, BlobError> {
    let head = head(r)?;
    let src = r.ipv4("source address")?;
    let src_mask = r.ipv4("source mask")?;
    let dst = r.ipv4("destination address")?;
    let dst_mask = r.ipv4("destination mask")?;
    let tunnel = r.ipv4("tunnel address")?;
    let protocol = protocol(r)?;
    let src_port = r.u16("source port")?;
    let dst_port = r.u16("destination port")?;
    let flags = r.take(4, "tunnel and special-filter bytes")?;
    let special = match flags[1] {
        0 => None,
        b => {
            let server = match b & 0x7F {
                1 => Server::Dns,
                2 => Server::Wins,
                3 => Server::Dhcp,
                4 => Server::DefaultGateway,
                _ => {
                    return Err(BlobError::BadValue {
                        what: "special-filter byte",
                        at: r.at() - 3,
                        value: u32::from(b),
                    });
                }
            };
            Some(Special {
                destination: b & 0x80 != 0,
                server,
            })
        }
    };
    // flags[2..4]: the filter options, which the specification fixes at zero and Windows
    // does not interpret.
    Ok(BlobFilter {
        head,
        src,
        src_mask,
        dst,
        dst_mask,
        tunnel,
        protocol,
        src_port,
        dst_port,
        tunnel_filter: flags[0] != 0,
        special,
    })
}

fn address(r: &mut Reader<'_>, what: &'static str) -> Result<BlobAddr, BlobError> {
    let at = r.at();
    let kind = r.u32(what)?;
    let version_at = r.at();
    let version = r.u32(what)?;
    let first = r.take(16, what)?;
    let second = r.take(16, what)?;
    let bad = |what, at, value| BlobError::BadValue { what, at, value };
    let v6 = match version {
        1 => false,
        2 => true,
        // Both versions: only for this computer and the host's servers.
        3 if matches!(kind, 0x08 | 0x10 | 0x20 | 0x40 | 0x80) => false,
        v => return Err(bad("IP version of an address", version_at, v)),
    };
    let ip = |b: &[u8]| -> IpAddr {
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        if v6 {
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
        }
    };
    Ok(match kind {
        0x00 => BlobAddr::Any,
        0x01 => BlobAddr::One(ip(first)),
        0x02 => {
            let (a, b) = (ip(first), ip(second));
            let order = match (a, b) {
                (IpAddr::V4(x), IpAddr::V4(y)) => u32::from(x) <= u32::from(y),
                (IpAddr::V6(x), IpAddr::V6(y)) => u128::from(x) <= u128::from(y),
                _ => false,
            };
            if !order {
                return Err(bad(
                    "address range (its last address is below its first)",
                    at,
                    2,
                ));
            }
            BlobAddr::Range(a, b)
        }
        0x04 => {
            let mask = if v6 {
                let bits = second[0];
                if bits > 128 {
                    return Err(bad("IPv6 prefix length", at + 24, u32::from(bits)));
                }
                let m = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(m))
            } else {
                ip(second)
            };
            BlobAddr::Subnet {
                addr: ip(first),
                mask,
            }
        }
        0x08 => BlobAddr::Me,
        0x10 => BlobAddr::Server(Server::Dns),
        0x20 => BlobAddr::Server(Server::Wins),
        0x40 => BlobAddr::Server(Server::Dhcp),
        0x80 => BlobAddr::Server(Server::DefaultGateway),
        k => return Err(bad("address type", at, k)),
    })
}

fn ports(r: &mut Reader<'_>, what: &'static str) -> Result<Ports, BlobError> {
    let at = r.at();
    let kind = r.u32(what)?;
    let first = r.u16(what)?;
    let last = r.u16(what)?;
    match kind {
        0 => Ok(None),
        1 => Ok(Some((first, first))),
        2 if first <= last => Ok(Some((first, last))),
        2 => Err(BlobError::BadValue {
            what: "port range (its last port is below its first)",
            at,
            value: 2,
        }),
        k => Err(BlobError::BadValue {
            what: "port type",
            at,
            value: k,
        }),
    }
}

fn v2_filter(r: &mut Reader<'_>) -> Result<V2Filter, BlobError> {
    let head = head(r)?;
    let src = address(r, "source address data")?;
    let dst = address(r, "destination address data")?;
    let src_ports = ports(r, "source port data")?;
    let dst_ports = ports(r, "destination port data")?;
    let protocol = protocol(r)?;
    let flags = r.u32("filter flags")?;
    Ok(V2Filter {
        head,
        src,
        dst,
        src_ports,
        dst_ports,
        protocol,
        flags,
    })
}

/// `n` entries read by `one` that fill `data` (at offset `base` of the blob) exactly.
fn all_of<T>(
    data: &[u8],
    base: usize,
    n: usize,
    min: usize,
    one: fn(&mut Reader<'_>) -> Result<T, BlobError>,
) -> Result<Vec<T>, BlobError> {
    let mut r = Reader::new(data, base);
    if n > data.len() / min {
        return Err(BlobError::Count {
            what: "filter count",
            at: base,
            count: u32::try_from(n).unwrap_or(u32::MAX),
            each: min,
            left: data.len(),
        });
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(one(&mut r)?);
    }
    if r.left() > 0 {
        return Err(BlobError::Trailing(r.left()));
    }
    Ok(out)
}

/// The `n` legacy filters of `blob`, which end at `end`.
fn legacy_part(blob: &[u8], end: usize, n: u32) -> Result<Vec<BlobFilter>, BlobError> {
    let data = blob.get(24..end).unwrap_or_default();
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    all_of(data, 24, n, MIN_LEGACY, legacy_filter)
}

/// The `n` V2 filters of `blob` from `start` to `end`.
fn v2_part(blob: &[u8], start: usize, end: usize, n: u32) -> Result<Vec<V2Filter>, BlobError> {
    let data = blob.get(start..end).unwrap_or_default();
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    all_of(data, start, n, MIN_V2, v2_filter)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

/// Where the V2 part starts in `blob` (its GUID), and where the legacy filters end, when the
/// legacy data length `declared` leads to one (read either way, with or without a zero byte
/// between the parts).
fn find_v2(blob: &[u8], declared: usize) -> Option<(usize, usize)> {
    let id = V2_ID.to_bytes();
    for legacy_end in [
        20usize.checked_add(declared)?,
        24usize.checked_add(declared)?,
    ] {
        for gap in [0, 1] {
            let at = legacy_end + gap;
            if gap == 1 && blob.get(legacy_end) != Some(&0) {
                continue;
            }
            if blob.get(at..at.checked_add(16)?) == Some(&id[..]) {
                return Some((legacy_end, at));
            }
        }
    }
    None
}

/// Decode an ipsecFilter blob: its legacy filters and, after them, its V2 filters.
pub fn decode(blob: &[u8]) -> Result<FilterList, BlobError> {
    let (declared, rest) = header(blob, Class::Filter)?;
    let len = usize::try_from(declared).unwrap_or(usize::MAX);
    // Legacy only: nothing after the legacy data.
    if holds_just(rest, len) {
        let n1 = u32_at(blob, 20)
            .filter(|_| len >= 4)
            .ok_or(BlobError::Truncated {
                what: "filter count",
                at: 20,
                need: 4,
                left: len,
            })?;
        return Ok(FilterList {
            legacy: legacy_part(blob, 20 + len, n1)?,
            v2: Vec::new(),
        });
    }
    let Some((legacy_end, v2_at)) = find_v2(blob, len) else {
        return Err(BlobError::Length {
            declared,
            actual: rest.len(),
        });
    };
    // The V2 part: GUID, data length, the two counts, the filters, a zero byte perhaps.
    let body = v2_at + 20;
    let (Some(declared2), Some(n11), Some(n2)) = (
        u32_at(blob, v2_at + 16),
        u32_at(blob, body),
        u32_at(blob, body + 4),
    ) else {
        return Err(BlobError::Truncated {
            what: "version-2 header and counts",
            at: v2_at,
            need: 28,
            left: blob.len() - v2_at,
        });
    };
    // A zero byte at the end closes the blob unless the filters need it: without it first.
    let whole = blob.len();
    let trimmed = (whole > body + 8 && blob.last() == Some(&0)).then(|| whole - 1);
    let (v2, v2_end) = match trimmed.map(|end| (v2_part(blob, body + 8, end, n2), end)) {
        Some((Ok(v2), end)) => (v2, end),
        _ => (v2_part(blob, body + 8, whole, n2)?, whole),
    };
    let filters_len = v2_end - (body + 8);
    let d2 = usize::try_from(declared2).unwrap_or(usize::MAX);
    if d2 != filters_len && d2 != filters_len + 8 {
        return Err(BlobError::V2Length {
            declared: declared2,
            filters: filters_len,
        });
    }
    let n1 = u32_at(blob, 20).unwrap_or(0);
    let legacy = legacy_part(blob, legacy_end, if n11 != 0 { n11 } else { n1 })?;
    Ok(FilterList { legacy, v2 })
}

/// A writer that follows the layouts above, for tests, the fixtures and the fuzz seeds
/// (test-only).
#[cfg(test)]
pub mod encode {
    use super::*;
    use crate::policy::ipsec_blob::encode::{envelope, wstring};

    fn count(b: &mut Vec<u8>, n: usize) {
        b.extend_from_slice(&u32::try_from(n).unwrap().to_le_bytes());
    }

    /// The strings, GUID and mirrored flag both layouts start a filter with.
    fn head(b: &mut Vec<u8>, h: &FilterHead) {
        for s in [&h.src_dns, &h.dst_dns, &h.description] {
            wstring(b, s);
        }
        b.extend_from_slice(&h.id.to_bytes());
        count(b, usize::from(h.mirrored));
    }

    fn legacy_specs(list: &[BlobFilter]) -> Vec<u8> {
        let mut b = Vec::new();
        for f in list {
            head(&mut b, &f.head);
            for a in [f.src, f.src_mask, f.dst, f.dst_mask, f.tunnel] {
                b.extend_from_slice(&a.octets());
            }
            count(&mut b, usize::from(f.protocol));
            b.extend_from_slice(&f.src_port.to_le_bytes());
            b.extend_from_slice(&f.dst_port.to_le_bytes());
            let special = f.special.map_or(0, |s| {
                let n = match s.server {
                    Server::Dns => 1,
                    Server::Wins => 2,
                    Server::Dhcp => 3,
                    Server::DefaultGateway => 4,
                };
                if s.destination { n | 0x80 } else { n }
            });
            b.extend_from_slice(&[u8::from(f.tunnel_filter), special, 0, 0]);
        }
        b
    }

    fn address(b: &mut Vec<u8>, a: &BlobAddr) {
        let bytes = |ip: &IpAddr| -> [u8; 16] {
            let mut out = [0u8; 16];
            match ip {
                IpAddr::V4(v) => out[..4].copy_from_slice(&v.octets()),
                IpAddr::V6(v) => out = v.octets(),
            }
            out
        };
        let version = |ip: &IpAddr| if ip.is_ipv4() { 1 } else { 2 };
        let (kind, ver, first, second) = match a {
            BlobAddr::Any => (0, 1, [0; 16], [0; 16]),
            BlobAddr::One(ip) => (1, version(ip), bytes(ip), [0; 16]),
            BlobAddr::Range(x, y) => (2, version(x), bytes(x), bytes(y)),
            BlobAddr::Subnet { addr, mask } => {
                let second = match mask {
                    IpAddr::V6(m) => {
                        let mut s = [0u8; 16];
                        s[0] = u8::try_from(u128::from(*m).count_ones()).unwrap();
                        s
                    }
                    v4 => bytes(v4),
                };
                (4, version(addr), bytes(addr), second)
            }
            BlobAddr::Me => (8, 3, [0; 16], [0; 16]),
            BlobAddr::Server(s) => (
                match s {
                    Server::Dns => 0x10,
                    Server::Wins => 0x20,
                    Server::Dhcp => 0x40,
                    Server::DefaultGateway => 0x80,
                },
                3,
                [0; 16],
                [0; 16],
            ),
        };
        count(b, kind);
        count(b, ver);
        b.extend_from_slice(&first);
        b.extend_from_slice(&second);
    }

    fn ports(b: &mut Vec<u8>, p: Ports) {
        let (kind, first, last) = match p {
            None => (0, 0, 0),
            Some((a, z)) if a == z => (1, a, 0),
            Some((a, z)) => (2, a, z),
        };
        count(b, kind);
        b.extend_from_slice(&first.to_le_bytes());
        b.extend_from_slice(&last.to_le_bytes());
    }

    fn v2_specs(list: &[V2Filter]) -> Vec<u8> {
        let mut b = Vec::new();
        for f in list {
            head(&mut b, &f.head);
            address(&mut b, &f.src);
            address(&mut b, &f.dst);
            ports(&mut b, f.src_ports);
            ports(&mut b, f.dst_ports);
            count(&mut b, usize::from(f.protocol));
            b.extend_from_slice(&f.flags.to_le_bytes());
        }
        b
    }

    /// A legacy-only blob, as Windows 2000 to 2003 write it.
    pub fn filters(list: &[BlobFilter]) -> Vec<u8> {
        let mut b = Vec::new();
        count(&mut b, list.len());
        b.extend(legacy_specs(list));
        envelope(Class::Filter, &b)
    }

    /// A blob with both parts: the legacy data length counting its count, the V2 one its two
    /// counts, the legacy count in both places, and one zero byte at the end.
    pub fn with_v2(legacy: &[BlobFilter], v2: &[V2Filter]) -> Vec<u8> {
        let mut b = Class::Filter.guid().to_bytes().to_vec();
        let specs = legacy_specs(legacy);
        count(&mut b, specs.len() + 4);
        count(&mut b, legacy.len());
        b.extend(specs);
        b.extend_from_slice(&V2_ID.to_bytes());
        let specs = v2_specs(v2);
        count(&mut b, specs.len() + 8);
        count(&mut b, legacy.len());
        count(&mut b, v2.len());
        b.extend(specs);
        b.push(0);
        b
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::policy::ipsec_blob::decode_offers;

    fn filter(src: [u8; 4], mask: [u8; 4], port: u16) -> BlobFilter {
        crate::policy::ipsec_store::export::filter(src, mask, port, u32::from(port))
    }

    fn legacy(blob: &[u8]) -> Result<Vec<BlobFilter>, BlobError> {
        decode(blob).map(|l| {
            assert!(l.v2.is_empty());
            l.legacy
        })
    }

    #[test]
    fn legacy_filters_round_trip() {
        let mut dns = filter([0; 4], [0; 4], 53);
        dns.special = Some(Special {
            destination: false,
            server: Server::Dns,
        });
        let list = vec![
            filter([0, 0, 0, 0], [0, 0, 0, 0], 135),
            filter([10, 1, 1, 0], [255, 255, 255, 0], 5001),
            dns,
        ];
        let blob = encode::filters(&list);
        assert_eq!(legacy(&blob).unwrap(), list);
        // Without the trailing zero byte too.
        assert_eq!(legacy(&blob[..blob.len() - 1]).unwrap(), list);
        // The special filter names the host's DNS servers as the source.
        assert_eq!(list[2].to_v2().src, BlobAddr::Server(Server::Dns));
        assert_eq!(list[2].to_v2().dst, BlobAddr::Me);
    }

    #[test]
    fn malformed_legacy_blobs_say_what_is_wrong() {
        let blob = encode::filters(&[filter([0; 4], [0; 4], 135)]);
        assert_eq!(decode(&blob[..10]), Err(BlobError::TooShort(10)));
        assert!(matches!(
            decode_offers(&blob),
            Err(BlobError::WrongClass { .. })
        ));
        assert!(matches!(
            decode(&blob[..blob.len() - 5]),
            Err(BlobError::Length { .. })
        ));
        // A count no data can hold is refused before anything is reserved.
        let mut huge = blob.clone();
        huge[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge), Err(BlobError::Count { .. })));
        // A string longer than the blob.
        let mut long = blob.clone();
        long[24..28].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(decode(&long), Err(BlobError::Truncated { .. })));
        // A protocol above 255.
        let mut bad = blob.clone();
        let proto_at = bad.len() - 1 - 4 - 2 - 2 - 4;
        bad[proto_at..proto_at + 4].copy_from_slice(&300u32.to_le_bytes());
        assert!(matches!(
            decode(&bad),
            Err(BlobError::BadValue {
                what: "protocol",
                ..
            })
        ));
        // A special-filter byte the specification does not define.
        let mut bad = blob.clone();
        let special_at = bad.len() - 1 - 3;
        bad[special_at] = 0x05;
        assert!(matches!(
            decode(&bad),
            Err(BlobError::BadValue {
                what: "special-filter byte",
                ..
            })
        ));
    }

    /// Field after field as MS-GPIPSEC §2.2.1.5.1 lists them, written out here by hand rather
    /// than by the encoder: one legacy filter (any to this computer, TCP 135, mirrored) that
    /// Windows Vista and later replace with its V2 filter of the same GUID (the range
    /// 192.0.2.10-192.0.2.20 to this computer, TCP 5001-5021), and one V2 filter of its own
    /// (IPv6 subnet 2001:db8::/32 to this computer, UDP, any port).
    pub(crate) fn v2_sample() -> Vec<u8> {
        let mut b = Vec::new();
        let le = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_le_bytes());
        let empty = |b: &mut Vec<u8>| b.extend_from_slice(&[2, 0, 0, 0, 0, 0]);
        // Filter-Policy-ID1 {80DC20B5-2EC8-11D1-A89E-00A0248D3021}.
        b.extend_from_slice(&[
            0xB5, 0x20, 0xDC, 0x80, 0xC8, 0x2E, 0xD1, 0x11, 0xA8, 0x9E, 0x00, 0xA0, 0x24, 0x8D,
            0x30, 0x21,
        ]);
        le(&mut b, 4 + 70); // Data-Length1: the count and one legacy filter.
        le(&mut b, 1); // Number-Of-Filters1
        empty(&mut b); // Source-DNS-Name1: a NUL only
        empty(&mut b); // Destination-DNS-Name1
        empty(&mut b); // Filter-Description1
        let id = [0x11u8; 16]; // Filter-Specification-ID1
        b.extend_from_slice(&id);
        le(&mut b, 1); // Legacy-Mirror-Options: mirrored
        b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // source 0.0.0.0 mask 0.0.0.0: any
        b.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 255]); // destination: this computer
        b.extend_from_slice(&[0, 0, 0, 0]); // Legacy-Tunnel-Address
        le(&mut b, 6); // Legacy-Protocol: TCP
        b.extend_from_slice(&[0, 0, 135, 0]); // source port any, destination port 135
        b.extend_from_slice(&[0, 0, 0, 0]); // not a tunnel, not special, options 0
        // Filter-Policy-ID2 {35FECD3D-AE29-4373-8A6A-C5D8FAB2FB08}.
        b.extend_from_slice(&[
            0x3D, 0xCD, 0xFE, 0x35, 0x29, 0xAE, 0x73, 0x43, 0x8A, 0x6A, 0xC5, 0xD8, 0xFA, 0xB2,
            0xFB, 0x08,
        ]);
        le(&mut b, 8 + 2 * 142); // Data-Length2: the two counts and two V2 filters
        le(&mut b, 1); // Number-Of-Filters11
        le(&mut b, 2); // Number-Of-Filters2
        // V2 filter 1: the same GUID as the legacy filter.
        empty(&mut b);
        empty(&mut b);
        empty(&mut b);
        b.extend_from_slice(&id);
        le(&mut b, 1); // Mirror-Flags
        le(&mut b, 2); // source: a range
        le(&mut b, 1); // IPv4
        b.extend_from_slice(&[192, 0, 2, 10]);
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(&[192, 0, 2, 20]);
        b.extend_from_slice(&[0; 12]);
        le(&mut b, 8); // destination: this computer
        le(&mut b, 3); // IPv4 and IPv6
        b.extend_from_slice(&[0; 32]);
        le(&mut b, 0); // source port: any
        b.extend_from_slice(&[0, 0, 0, 0]);
        le(&mut b, 2); // destination ports: a range
        b.extend_from_slice(&[0x89, 0x13, 0x9D, 0x13]); // 5001-5021
        le(&mut b, 6); // Filter-Protocol: TCP
        le(&mut b, 8); // Filter-Flags: V2 ranges
        // V2 filter 2: an IPv6 subnet.
        empty(&mut b);
        empty(&mut b);
        empty(&mut b);
        b.extend_from_slice(&[0x22; 16]);
        le(&mut b, 0); // one way
        le(&mut b, 4); // source: a subnet
        le(&mut b, 2); // IPv6
        b.extend_from_slice(&[0x20, 0x01, 0x0D, 0xB8]);
        b.extend_from_slice(&[0; 12]);
        b.push(32); // prefix length
        b.extend_from_slice(&[0; 15]);
        le(&mut b, 8);
        le(&mut b, 3);
        b.extend_from_slice(&[0; 32]);
        le(&mut b, 0);
        b.extend_from_slice(&[0; 4]);
        le(&mut b, 0);
        b.extend_from_slice(&[0; 4]);
        le(&mut b, 17); // UDP
        le(&mut b, 0);
        b
    }

    #[test]
    fn a_v2_blob_written_from_the_specification() {
        let list = decode(&v2_sample()).unwrap();
        assert_eq!(list.legacy.len(), 1);
        assert_eq!(list.legacy[0].dst_port, 135);
        assert_eq!(list.v2.len(), 2);
        let range = &list.v2[0];
        assert_eq!(
            range.src,
            BlobAddr::Range([192, 0, 2, 10].into(), [192, 0, 2, 20].into())
        );
        assert_eq!(range.dst, BlobAddr::Me);
        assert_eq!(
            (range.src_ports, range.dst_ports),
            (None, Some((5001, 5021)))
        );
        assert_eq!((range.protocol, range.flags), (6, 8));
        assert!(range.head.mirrored);
        let v6 = &list.v2[1];
        assert_eq!(
            v6.src,
            BlobAddr::Subnet {
                addr: "2001:db8::".parse().unwrap(),
                mask: "ffff:ffff::".parse().unwrap()
            }
        );
        assert!(!v6.head.mirrored);
        assert_eq!(v6.protocol, 17);
        // The V2 filter replaces the legacy filter of its GUID.
        let force = list.in_force();
        assert_eq!(force.len(), 2);
        assert_eq!(force[0], list.v2[0]);
        // With a zero byte at the end, and with the lengths read the other way (the legacy
        // length without its count, the V2 length without its counts), as the specification
        // also allows.
        let mut zero = v2_sample();
        zero.push(0);
        assert_eq!(decode(&zero).unwrap(), list);
        let mut other = v2_sample();
        other[16..20].copy_from_slice(&70u32.to_le_bytes());
        let v2_len_at = 20 + 4 + 70 + 16;
        other[v2_len_at..v2_len_at + 4].copy_from_slice(&(2u32 * 142).to_le_bytes());
        assert_eq!(decode(&other).unwrap(), list);
        // The encoder writes the same blob.
        assert_eq!(encode::with_v2(&list.legacy, &list.v2)[..], zero[..]);
    }

    #[test]
    fn malformed_v2_parts_say_what_is_wrong() {
        let good = v2_sample();
        let v2_len_at = 20 + 4 + 70 + 16;
        // A V2 length that fits neither reading.
        let mut bad = good.clone();
        bad[v2_len_at..v2_len_at + 4].copy_from_slice(&7u32.to_le_bytes());
        assert!(matches!(decode(&bad), Err(BlobError::V2Length { .. })));
        // Another GUID where the V2 part should start.
        let mut bad = good.clone();
        bad[v2_len_at - 1] ^= 0xFF;
        assert!(matches!(decode(&bad), Err(BlobError::Length { .. })));
        // A V2 count larger than the bytes can hold.
        let mut bad = good.clone();
        bad[v2_len_at + 8..v2_len_at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&bad), Err(BlobError::Count { .. })));
        // An address type, a version, a range and a port type the specification does not allow.
        let first = v2_len_at + 12 + 3 * 6 + 16 + 4;
        for (at, value, what) in [
            (first, 3u32, "address type"),
            (first + 4, 4, "IP version of an address"),
            (first + 4, 3, "IP version of an address"),
            (first + 80, 5, "port type"),
        ] {
            let mut bad = good.clone();
            bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
            match decode(&bad) {
                Err(BlobError::BadValue { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{what}: {other:?}"),
            }
        }
        let mut bad = good.clone();
        bad[first + 8..first + 12].copy_from_slice(&[192, 0, 2, 30]);
        assert!(matches!(decode(&bad), Err(BlobError::BadValue { .. })));
        // Cut anywhere: an error, never a panic; cut right after the legacy part, it is a
        // legacy blob of its own.
        for n in 0..good.len() {
            if let Ok(l) = decode(&good[..n]) {
                assert!(
                    n == 94 && l.v2.is_empty() && l.legacy.len() == 1,
                    "{n} bytes"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_err(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), v2 in proptest::prelude::any::<bool>()) {
            let mut blob = Class::Filter.guid().to_bytes().to_vec();
            blob.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
            blob.extend_from_slice(&data);
            if v2 {
                blob.extend_from_slice(&V2_ID.to_bytes());
                blob.extend_from_slice(&data);
            }
            let _ = decode(&blob);
        }
    }
}
