//! The `ipsecData` blobs of the IPsec policy store (MS-GPIPSEC §2.2.1), decoded from bytes:
//! [`super::ipsec_store`] hands each object's `ipsecData` here and turns the result into the
//! filters and actions of [`crate::policy::dialect::ipsec`]. Pure: bytes in, typed values out, and every length
//! and count is checked against the bytes that are left before it is used.
//!
//! Every blob: the object class GUID (16 bytes: Data1 u32, Data2 u16, Data3 u16 little-endian,
//! Data4 8 bytes), a u32 little-endian length of the data that follows, the data, and one
//! trailing zero byte (accepted when absent). Strings inside are a u32 byte count (its NUL
//! included) and UTF-16LE text ending in NUL.
//!
//! Filter data (class `{80DC20B5-2EC8-11D1-A89E-00A0248D3021}`) holds filter lists in two
//! layouts; [`super::ipsec_filters`] decodes them with this module's reader.
//!
//! Negotiation policy data (class `{80DC20B9-...}`): a u32 count of security offers, each
//! lifetime seconds, lifetime kilobytes, flags, PFS (u32 each), a u32 count of transforms
//! (at most 3) and three transforms (three u32: algorithms and AH/ESP). The filter action
//! itself is the object's `ipsecNegotiationPolicyAction` GUID ([`NegotiationAction`]).

use std::fmt;
use std::net::Ipv4Addr;

/// A GUID as the blobs and the store's values hold it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Guid {
    pub data1: u32,
    pub data2: u16,
    pub data3: u16,
    pub data4: [u8; 8],
}

impl Guid {
    pub const fn new(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Guid {
        Guid {
            data1,
            data2,
            data3,
            data4,
        }
    }

    /// The GUID written as one number in its text order: `0x3F91A819_7647_11D1_864D_D46A00000000`
    /// is `{3F91A819-7647-11D1-864D-D46A00000000}`, so a constant reads as the specification
    /// prints it.
    pub const fn from_u128(v: u128) -> Guid {
        let b = v.to_be_bytes();
        Guid {
            data1: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            data2: u16::from_be_bytes([b[4], b[5]]),
            data3: u16::from_be_bytes([b[6], b[7]]),
            data4: [b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]],
        }
    }

    /// `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (braces optional, any case).
    pub fn parse(text: &str) -> Option<Guid> {
        let t = text.trim();
        let t = t
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t);
        let parts: Vec<&str> = t.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        if parts.len() != 5
            || parts
                .iter()
                .zip(lens)
                .any(|(p, n)| p.len() != n || !p.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return None;
        }
        let data1 = u32::from_str_radix(parts[0], 16).ok()?;
        let data2 = u16::from_str_radix(parts[1], 16).ok()?;
        let data3 = u16::from_str_radix(parts[2], 16).ok()?;
        let tail = format!("{}{}", parts[3], parts[4]);
        let mut data4 = [0u8; 8];
        for (i, b) in data4.iter_mut().enumerate() {
            *b = u8::from_str_radix(tail.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        Some(Guid::new(data1, data2, data3, data4))
    }

    fn from_bytes(b: &[u8; 16]) -> Guid {
        let mut data4 = [0u8; 8];
        data4.copy_from_slice(&b[8..]);
        Guid {
            data1: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            data2: u16::from_le_bytes([b[4], b[5]]),
            data3: u16::from_le_bytes([b[6], b[7]]),
            data4,
        }
    }

    /// The 16 bytes as a blob holds them.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&self.data1.to_le_bytes());
        out[4..6].copy_from_slice(&self.data2.to_le_bytes());
        out[6..8].copy_from_slice(&self.data3.to_le_bytes());
        out[8..].copy_from_slice(&self.data4);
        out
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

/// The object classes of the store and the class GUID their blobs start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Policy,
    Nfa,
    Filter,
    NegotiationPolicy,
    IsakmpPolicy,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Class::Policy,
        Class::Nfa,
        Class::Filter,
        Class::NegotiationPolicy,
        Class::IsakmpPolicy,
    ];

    /// The class name (`ClassName` value, and the prefix of the object's key name).
    pub fn name(self) -> &'static str {
        match self {
            Class::Policy => "ipsecPolicy",
            Class::Nfa => "ipsecNFA",
            Class::Filter => "ipsecFilter",
            Class::NegotiationPolicy => "ipsecNegotiationPolicy",
            Class::IsakmpPolicy => "ipsecISAKMPPolicy",
        }
    }

    pub fn guid(self) -> Guid {
        match self {
            Class::Filter => Guid::from_u128(0x80DC20B5_2EC8_11D1_A89E_00A0248D3021),
            Class::NegotiationPolicy => Guid::from_u128(0x80DC20B9_2EC8_11D1_A89E_00A0248D3021),
            Class::IsakmpPolicy => Guid::from_u128(0x80DC20B8_2EC8_11D1_A89E_00A0248D3021),
            Class::Nfa => Guid::from_u128(0x11BBAC00_498D_11D1_8639_00A0248D3021),
            Class::Policy => Guid::from_u128(0x22202163_4F4C_11D1_863B_00A0248D3021),
        }
    }

    /// The class of an object key named `ipsecFilter{GUID}` and so on.
    pub fn of_key(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| {
            name.len() > c.name().len()
                && name.is_char_boundary(c.name().len())
                && name[..c.name().len()].eq_ignore_ascii_case(c.name())
                && name[c.name().len()..].starts_with('{')
        })
    }
}

/// What a negotiation policy (a filter action) does, from its `ipsecNegotiationPolicyAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationAction {
    Block,
    /// Permit: pass without IPsec.
    Permit,
    /// Negotiate security.
    Negotiate,
    /// Negotiate, and accept unsecured inbound traffic ("inbound pass-through", `INPASS`).
    InboundPassThrough,
}

impl NegotiationAction {
    pub const ALL: [NegotiationAction; 4] = [
        NegotiationAction::Block,
        NegotiationAction::Permit,
        NegotiationAction::Negotiate,
        NegotiationAction::InboundPassThrough,
    ];

    pub fn guid(self) -> Guid {
        match self {
            NegotiationAction::Block => Guid::from_u128(0x3F91A819_7647_11D1_864D_D46A00000000),
            NegotiationAction::Permit => Guid::from_u128(0x8A171DD2_77E3_11D1_8659_A04F00000000),
            NegotiationAction::Negotiate => Guid::from_u128(0x8A171DD3_77E3_11D1_8659_A04F00000000),
            NegotiationAction::InboundPassThrough => {
                Guid::from_u128(0x3F91A81A_7647_11D1_864D_D46A00000000)
            }
        }
    }

    pub fn from_guid(g: Guid) -> Option<NegotiationAction> {
        Self::ALL.into_iter().find(|a| a.guid() == g)
    }
}

/// `ipsecNegotiationPolicyType` of the default response rule, which has no filters.
pub const DEFAULT_RESPONSE_TYPE: Guid = Guid::from_u128(0x62F49E13_6C37_11D1_864C_14A300000000);

/// Why a blob could not be decoded. Offsets count from the start of the blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("{0} bytes: shorter than the 20-byte header (class GUID and length)")]
    TooShort(usize),
    #[error("class GUID {found} is not the {class} class GUID {expected}")]
    WrongClass {
        found: Guid,
        class: &'static str,
        expected: Guid,
    },
    #[error("the header says {declared} bytes of data, the blob holds {actual} after it")]
    Length { declared: u32, actual: usize },
    #[error("{what} at offset {at}: {need} bytes needed, {left} left")]
    Truncated {
        what: &'static str,
        at: usize,
        need: usize,
        left: usize,
    },
    #[error(
        "{what} at offset {at}: {count} entries of at least {each} bytes do not fit in {left} bytes"
    )]
    Count {
        what: &'static str,
        at: usize,
        count: u32,
        each: usize,
        left: usize,
    },
    #[error("{what} at offset {at}: a string of {len} bytes is not UTF-16LE text ending in NUL")]
    BadString {
        what: &'static str,
        at: usize,
        len: u32,
    },
    #[error("{what} at offset {at}: {value} is out of range")]
    BadValue {
        what: &'static str,
        at: usize,
        value: u32,
    },
    #[error("{0} bytes are left after the last entry")]
    Trailing(usize),
    #[error(
        "the version-2 part says {declared} bytes of data, its filters take {filters} (and its counts 8)"
    )]
    V2Length { declared: u32, filters: usize },
}

/// A bounded reader over one blob's data.
pub(super) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data` in the whole blob, for messages.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`, which starts at offset `base` of the blob.
    pub(super) fn new(data: &'a [u8], base: usize) -> Reader<'a> {
        Reader { data, pos: 0, base }
    }

    pub(super) fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(super) fn at(&self) -> usize {
        self.base + self.pos
    }

    pub(super) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BlobError> {
        if self.left() < n {
            return Err(BlobError::Truncated {
                what,
                at: self.at(),
                need: n,
                left: self.left(),
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(super) fn u32(&mut self, what: &'static str) -> Result<u32, BlobError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn u16(&mut self, what: &'static str) -> Result<u16, BlobError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(super) fn ipv4(&mut self, what: &'static str) -> Result<Ipv4Addr, BlobError> {
        let b = self.take(4, what)?;
        Ok(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }

    pub(super) fn guid(&mut self, what: &'static str) -> Result<Guid, BlobError> {
        let b = self.take(16, what)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(b);
        Ok(Guid::from_bytes(&a))
    }

    pub(super) fn bool32(&mut self, what: &'static str) -> Result<bool, BlobError> {
        Ok(self.u32(what)? != 0)
    }

    pub(super) fn wstring(&mut self, what: &'static str) -> Result<String, BlobError> {
        let at = self.at();
        let len = self.u32(what)?;
        let bad = BlobError::BadString { what, at, len };
        let n = usize::try_from(len).map_err(|_| bad.clone())?;
        if n % 2 != 0 {
            return Err(bad);
        }
        let bytes = self.take(n, what)?;
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let units = match units.split_last() {
            None => &units[..],
            Some((0, rest)) => rest,
            Some(_) => return Err(bad),
        };
        String::from_utf16(units).map_err(|_| bad)
    }

    /// A count of entries of at least `each` bytes, checked against what is left.
    pub(super) fn count(&mut self, what: &'static str, each: usize) -> Result<usize, BlobError> {
        let at = self.at();
        let count = self.u32(what)?;
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        if n > self.left() / each {
            return Err(BlobError::Count {
                what,
                at,
                count,
                each,
                left: self.left(),
            });
        }
        Ok(n)
    }
}

/// Check the class GUID of a blob of `class`: the data length it declares and the bytes
/// after the 20-byte header.
pub(super) fn header(blob: &[u8], class: Class) -> Result<(u32, &[u8]), BlobError> {
    if blob.len() < 20 {
        return Err(BlobError::TooShort(blob.len()));
    }
    let mut g = [0u8; 16];
    g.copy_from_slice(&blob[..16]);
    let found = Guid::from_bytes(&g);
    if found != class.guid() {
        return Err(BlobError::WrongClass {
            found,
            class: class.name(),
            expected: class.guid(),
        });
    }
    let declared = u32::from_le_bytes([blob[16], blob[17], blob[18], blob[19]]);
    Ok((declared, &blob[20..]))
}

/// `rest` (a blob after its header) is `n` bytes of data, then the trailing zero byte, which
/// some writers leave out.
pub(super) fn holds_just(rest: &[u8], n: usize) -> bool {
    rest.len() == n || (rest.len() == n.saturating_add(1) && rest.last() == Some(&0))
}

/// Check the header of a blob of `class` and return a reader over its data, which is the
/// rest of the blob (less one trailing zero byte, which some writers leave out).
pub(super) fn open(blob: &[u8], class: Class) -> Result<Reader<'_>, BlobError> {
    let (declared, rest) = header(blob, class)?;
    let n = usize::try_from(declared).unwrap_or(usize::MAX);
    if !holds_just(rest, n) {
        return Err(BlobError::Length {
            declared,
            actual: rest.len(),
        });
    }
    Ok(Reader::new(&rest[..n], 20))
}

/// Only the header of a blob, for classes whose data rpcaudit does not need (NFA, policy,
/// ISAKMP policy): the class is right and the length adds up.
pub fn check_header(blob: &[u8], class: Class) -> Result<(), BlobError> {
    open(blob, class).map(|_| ())
}

/// One transform of a security offer: two algorithm numbers and AH (1) or ESP (2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transform {
    pub alg1: u32,
    pub alg2: u32,
    pub kind: u32,
}

/// One security offer of a negotiation policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offer {
    pub lifetime_secs: u32,
    pub lifetime_kbytes: u32,
    pub flags: u32,
    pub pfs: bool,
    /// The transforms in use (at most 3).
    pub transforms: Vec<Transform>,
}

const OFFER: usize = 5 * 4 + 3 * 12;

/// Decode an ipsecNegotiationPolicy blob: its security offers.
pub fn decode_offers(blob: &[u8]) -> Result<Vec<Offer>, BlobError> {
    let mut r = open(blob, Class::NegotiationPolicy)?;
    let n = r.count("offer count", OFFER)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let lifetime_secs = r.u32("offer lifetime")?;
        let lifetime_kbytes = r.u32("offer lifetime (kilobytes)")?;
        let flags = r.u32("offer flags")?;
        let pfs = r.bool32("offer PFS flag")?;
        let at = r.at();
        let count = r.u32("transform count")?;
        if count > 3 {
            return Err(BlobError::BadValue {
                what: "transform count",
                at,
                value: count,
            });
        }
        let mut transforms = Vec::new();
        for i in 0..3 {
            let t = Transform {
                alg1: r.u32("transform")?,
                alg2: r.u32("transform")?,
                kind: r.u32("transform")?,
            };
            if i < count {
                transforms.push(t);
            }
        }
        out.push(Offer {
            lifetime_secs,
            lifetime_kbytes,
            flags,
            pfs,
            transforms,
        });
    }
    if r.left() > 0 {
        return Err(BlobError::Trailing(r.left()));
    }
    Ok(out)
}

/// A writer that follows the layout above, for tests and the fixture export (test-only).
#[cfg(test)]
pub mod encode {
    use super::*;

    /// Class GUID, data length, data, the trailing zero byte.
    pub fn envelope(class: Class, data: &[u8]) -> Vec<u8> {
        let mut b = class.guid().to_bytes().to_vec();
        b.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        b.extend_from_slice(data);
        b.push(0);
        b
    }

    pub fn wstring(b: &mut Vec<u8>, s: &str) {
        let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
        b.extend_from_slice(&u32::try_from(units.len() * 2).unwrap().to_le_bytes());
        for u in units {
            b.extend_from_slice(&u.to_le_bytes());
        }
    }

    pub fn offers(list: &[Offer]) -> Vec<u8> {
        let mut b = u32::try_from(list.len()).unwrap().to_le_bytes().to_vec();
        for o in list {
            for v in [
                o.lifetime_secs,
                o.lifetime_kbytes,
                o.flags,
                u32::from(o.pfs),
                u32::try_from(o.transforms.len()).unwrap(),
            ] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            for i in 0..3 {
                let t = o.transforms.get(i).copied().unwrap_or_default();
                for v in [t.alg1, t.alg2, t.kind] {
                    b.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        envelope(Class::NegotiationPolicy, &b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_print_and_parse() {
        assert_eq!(
            Guid::from_u128(0x01234567_89AB_CDEF_0011_223344556677),
            Guid::new(
                0x0123_4567,
                0x89AB,
                0xCDEF,
                [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]
            )
        );
        let g = Class::Filter.guid();
        assert_eq!(g.to_string(), "{80DC20B5-2EC8-11D1-A89E-00A0248D3021}");
        assert_eq!(
            Guid::parse("{80dc20b5-2ec8-11d1-a89e-00a0248d3021}"),
            Some(g)
        );
        assert_eq!(Guid::from_bytes(&g.to_bytes()), g);
        assert_eq!(Guid::parse("{80dc20b5-2ec8-11d1-a89e}"), None);
        assert_eq!(
            NegotiationAction::from_guid(
                Guid::parse("{3f91a819-7647-11d1-864d-d46a00000000}").unwrap()
            ),
            Some(NegotiationAction::Block)
        );
        assert_eq!(Class::of_key("ipsecNFA{x}"), Some(Class::Nfa));
        assert_eq!(
            Class::of_key("ipsecNegotiationPolicy{x}"),
            Some(Class::NegotiationPolicy)
        );
        assert_eq!(Class::of_key("ipsecFilterX{x}"), None);
    }

    #[test]
    fn offers_round_trip() {
        let offers = vec![
            Offer {
                lifetime_secs: 900,
                lifetime_kbytes: 100_000,
                flags: 0,
                pfs: false,
                transforms: vec![Transform {
                    alg1: 3,
                    alg2: 2,
                    kind: 2,
                }],
            },
            Offer::default(),
        ];
        assert_eq!(decode_offers(&encode::offers(&offers)).unwrap(), offers);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_or_err(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut blob = Class::Filter.guid().to_bytes().to_vec();
            blob.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
            blob.extend_from_slice(&data);
            let _ = decode_offers(&blob);
        }
    }
}
