//! Connectionless DCE/RPC (C706 chapter 12, `ncadg_ip_udp`): the 80-byte header every datagram
//! starts with, the bodies the endpoint-mapper client reads (fault and reject statuses, fack),
//! and the reassembly of a fragmented response under caps. Pure: bytes in, typed values out,
//! and back; no I/O.
//!
//! Grammar of a datagram (integers and UUIDs in the byte order of `drep`):
//! ```text
//! 0  rpc_vers (4)      1  ptype      2  flags1      3  flags2
//! 4  drep[3]           7  serial_hi
//! 8  object uuid      24  interface uuid          40  activity uuid
//! 56 server_boot u32  60  if_vers u32             64  seqnum u32
//! 68 opnum u16        70  ihint u16   72 ahint u16  74 len u16   76 fragnum u16
//! 78 auth_proto u8    79  serial_lo
//! 80 body[len]        (then an auth verifier when auth_proto is not 0: not read here)
//! ```

use super::WireError;
use super::ndr::{ByteOrder, put_uuid, uuid_from};
use super::pdu::DataRep;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Length of the connectionless header.
pub const HEADER_LEN: usize = 80;
/// `rpc_vers` of every connectionless PDU.
pub const RPC_VERS: u8 = 4;
/// Largest datagram: what one UDP datagram can carry.
pub const MAX_DATAGRAM: usize = 65_535;

/// Connectionless PDU types (C706 12.5.1).
pub mod ptype {
    pub const REQUEST: u8 = 0;
    pub const PING: u8 = 1;
    pub const RESPONSE: u8 = 2;
    pub const FAULT: u8 = 3;
    pub const WORKING: u8 = 4;
    pub const NOCALL: u8 = 5;
    pub const REJECT: u8 = 6;
    pub const ACK: u8 = 7;
    pub const CL_CANCEL: u8 = 8;
    pub const FACK: u8 = 9;
    pub const CANCEL_ACK: u8 = 10;
}

/// `flags1` bits (C706 12.5.3.3).
pub mod flags1 {
    /// The last fragment of a fragmented body.
    pub const LASTFRAG: u8 = 0x02;
    /// The body is one fragment of several.
    pub const FRAG: u8 = 0x04;
    /// The receiver need not acknowledge this fragment with a fack.
    pub const NOFACK: u8 = 0x08;
    pub const MAYBE: u8 = 0x10;
    /// The call may be executed more than once (no ack needed).
    pub const IDEMPOTENT: u8 = 0x20;
    pub const BROADCAST: u8 = 0x40;
}

/// A fresh activity UUID (version 4 layout), from the clock and the process: unique enough
/// to tell this client's calls from others', which is all the server asks of it. The one
/// value here not made from bytes: std's per-process random hasher keys and the clock (no
/// I/O); the endpoint-mapper client and the UDP probe both take theirs here.
pub fn new_activity() -> Uuid {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let a = u128::from(h.finish());
    let mut h2 = std::collections::hash_map::RandomState::new().build_hasher();
    h2.write_u128(a);
    let bits = (a << 64) | u128::from(h2.finish());
    Uuid::from_u128((bits & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62))
}

/// The name of a connectionless PDU type, for messages.
pub fn ptype_name(t: u8) -> &'static str {
    match t {
        ptype::REQUEST => "request",
        ptype::PING => "ping",
        ptype::RESPONSE => "response",
        ptype::FAULT => "fault",
        ptype::WORKING => "working",
        ptype::NOCALL => "nocall",
        ptype::REJECT => "reject",
        ptype::ACK => "ack",
        ptype::CL_CANCEL => "cl_cancel",
        ptype::FACK => "fack",
        ptype::CANCEL_ACK => "cancel_ack",
        _ => "unknown",
    }
}

/// The header of one connectionless PDU; `len` is the body's, set on encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClHeader {
    pub ptype: u8,
    pub flags1: u8,
    pub flags2: u8,
    pub drep: DataRep,
    /// Fragment serial number (`serial_hi` << 8 | `serial_lo`).
    pub serial: u16,
    pub object: Uuid,
    pub interface: Uuid,
    pub activity: Uuid,
    pub server_boot: u32,
    /// Interface version: major in the low 16 bits, minor in the high 16.
    pub if_vers: u32,
    pub seqnum: u32,
    pub opnum: u16,
    pub ihint: u16,
    pub ahint: u16,
    pub fragnum: u16,
    pub auth_proto: u8,
}

impl ClHeader {
    /// A header of type `ptype` in `order`, every other field zero or nil.
    pub fn new(order: ByteOrder, ptype: u8) -> Self {
        ClHeader {
            ptype,
            flags1: 0,
            flags2: 0,
            drep: DataRep::for_order(order),
            serial: 0,
            object: Uuid::nil(),
            interface: Uuid::nil(),
            activity: Uuid::nil(),
            server_boot: 0,
            if_vers: 0,
            seqnum: 0,
            opnum: 0,
            ihint: 0xffff,
            ahint: 0xffff,
            fragnum: 0,
            auth_proto: 0,
        }
    }

    pub fn byte_order(&self) -> ByteOrder {
        self.drep.byte_order()
    }

    /// Whether the body is one fragment of several.
    pub fn is_fragment(&self) -> bool {
        self.flags1 & flags1::FRAG != 0
    }

    /// Whether this is the last fragment (or the whole body, unfragmented).
    pub fn is_last(&self) -> bool {
        !self.is_fragment() || self.flags1 & flags1::LASTFRAG != 0
    }
}

/// One connectionless PDU: its header and its body (borrowed from the datagram).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub header: ClHeader,
    pub body: &'a [u8],
}

impl<'a> Datagram<'a> {
    /// Decode one whole datagram: the header, checked, and exactly `len` body bytes.
    pub fn decode(buf: &'a [u8]) -> Result<Self, WireError> {
        let what = "connectionless header";
        let b = buf
            .first_chunk::<HEADER_LEN>()
            .ok_or(WireError::Malformed {
                what,
                offset: buf.len(),
            })?;
        if b[0] != RPC_VERS {
            return Err(WireError::invalid(
                what,
                format!(
                    "not connectionless DCE/RPC (version 4): first bytes {:02x?}",
                    &b[..4]
                ),
            ));
        }
        let drep = DataRep([b[4], b[5], b[6], 0]);
        let o = drep.byte_order();
        let u16_at = |k: usize| o.u16_from([b[k], b[k + 1]]);
        let u32_at = |k: usize| o.u32_from([b[k], b[k + 1], b[k + 2], b[k + 3]]);
        let uuid_at = |k: usize| {
            let mut u = [0u8; 16];
            u.copy_from_slice(&b[k..k + 16]);
            uuid_from(o, &u)
        };
        let header = ClHeader {
            ptype: b[1],
            flags1: b[2],
            flags2: b[3],
            drep,
            serial: u16::from(b[7]) << 8 | u16::from(b[79]),
            object: uuid_at(8),
            interface: uuid_at(24),
            activity: uuid_at(40),
            server_boot: u32_at(56),
            if_vers: u32_at(60),
            seqnum: u32_at(64),
            opnum: u16_at(68),
            ihint: u16_at(70),
            ahint: u16_at(72),
            fragnum: u16_at(76),
            auth_proto: b[78],
        };
        if header.ptype > ptype::CANCEL_ACK {
            return Err(WireError::invalid(
                what,
                format!("unknown PDU type {}", header.ptype),
            ));
        }
        if header.auth_proto != 0 {
            return Err(WireError::invalid(
                what,
                format!(
                    "authenticated datagram (auth_proto {}): not read",
                    header.auth_proto
                ),
            ));
        }
        let len = usize::from(u16_at(74));
        let rest = buf.len() - HEADER_LEN;
        if len > rest {
            return Err(WireError::invalid(
                what,
                format!("len {len} but only {rest} body bytes follow the header"),
            ));
        }
        if len < rest {
            return Err(WireError::Trailing {
                what: "connectionless PDU",
                offset: HEADER_LEN + len,
                len: rest - len,
            });
        }
        Ok(Datagram {
            header,
            body: &buf[HEADER_LEN..],
        })
    }

    /// Encode the header (with `len` from the body) and the body.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let h = &self.header;
        let len = u16::try_from(self.body.len())
            .ok()
            .filter(|_| HEADER_LEN + self.body.len() <= MAX_DATAGRAM)
            .ok_or(WireError::TooLarge {
                what: "connectionless body",
                size: self.body.len(),
                limit: MAX_DATAGRAM - HEADER_LEN,
            })?;
        let o = h.byte_order();
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len());
        let [serial_hi, serial_lo] = h.serial.to_be_bytes();
        out.extend_from_slice(&[RPC_VERS, h.ptype, h.flags1, h.flags2]);
        out.extend_from_slice(&h.drep.0[..3]);
        out.push(serial_hi);
        put_uuid(o, &mut out, &h.object);
        put_uuid(o, &mut out, &h.interface);
        put_uuid(o, &mut out, &h.activity);
        for v in [h.server_boot, h.if_vers, h.seqnum] {
            out.extend_from_slice(&o.u32_bytes(v));
        }
        for v in [h.opnum, h.ihint, h.ahint, len, h.fragnum] {
            out.extend_from_slice(&o.u16_bytes(v));
        }
        out.push(h.auth_proto);
        out.push(serial_lo);
        out.extend_from_slice(self.body);
        Ok(out)
    }
}

/// The status a fault or reject body carries (its first four bytes; Windows may send more).
pub fn status_body(body: &[u8], order: ByteOrder) -> Result<u32, WireError> {
    let b = body.first_chunk::<4>().ok_or(WireError::Malformed {
        what: "fault or reject status",
        offset: body.len(),
    })?;
    Ok(order.u32_from(*b))
}

/// A fack body (C706 12.5.3.4, version 0): acknowledges the fragments up to `fragnum` (in the
/// header) and the one of serial `serial`, with the receiver's window, largest transport data
/// unit and largest fragment; no selective acknowledgements.
pub fn fack_body(order: ByteOrder, window: u16, max_frag: u32, serial: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&order.u16_bytes(window));
    out.extend_from_slice(&order.u32_bytes(max_frag));
    out.extend_from_slice(&order.u32_bytes(max_frag));
    out.extend_from_slice(&order.u16_bytes(serial));
    out.extend_from_slice(&order.u16_bytes(0));
    out
}

/// What a fragment added to a [`ClReassembler`] made of the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClProgress {
    /// Fragments are still missing.
    More,
    /// Every fragment up to the last is there.
    Complete,
    /// A fragment already held (a retransmission): ignored.
    Duplicate,
}

/// Joins the bodies of a fragmented connectionless response, by fragment number, under a cap
/// on the total size and on the number of fragments. Fragments may arrive in any order and
/// more than once; all must share one byte order.
#[derive(Debug)]
pub struct ClReassembler {
    fragments: BTreeMap<u16, Vec<u8>>,
    size: usize,
    max_size: usize,
    max_fragments: usize,
    last: Option<u16>,
    order: Option<ByteOrder>,
}

impl ClReassembler {
    pub fn new(max_size: usize, max_fragments: usize) -> Self {
        ClReassembler {
            fragments: BTreeMap::new(),
            size: 0,
            max_size,
            max_fragments: max_fragments.max(1),
            last: None,
            order: None,
        }
    }

    /// The byte order of the fragments, once one arrived.
    pub fn order(&self) -> Option<ByteOrder> {
        self.order
    }

    /// Fragments held and the last fragment's number, when it arrived: what a timeout
    /// reports.
    pub fn held(&self) -> (usize, Option<u16>) {
        (self.fragments.len(), self.last)
    }

    /// The highest fragment number such that every fragment up to it is held (what a fack
    /// acknowledges), if fragment 0 is.
    pub fn contiguous(&self) -> Option<u16> {
        let mut top = None;
        for (k, n) in self.fragments.keys().enumerate() {
            if usize::from(*n) != k {
                break;
            }
            top = Some(*n);
        }
        top
    }

    /// Add one response PDU's body.
    pub fn push(&mut self, header: &ClHeader, body: &[u8]) -> Result<ClProgress, WireError> {
        let what = "connectionless response";
        let order = header.byte_order();
        if *self.order.get_or_insert(order) != order {
            return Err(WireError::invalid(
                what,
                "fragments in different byte orders",
            ));
        }
        let fragnum = if header.is_fragment() {
            header.fragnum
        } else {
            0
        };
        if header.is_last() {
            if let Some(last) = self.last
                && last != fragnum
            {
                return Err(WireError::invalid(
                    what,
                    format!("two last fragments, {last} and {fragnum}"),
                ));
            }
            self.last = Some(fragnum);
        }
        if self.last.is_some_and(|last| fragnum > last) {
            return Err(WireError::invalid(
                what,
                format!("fragment {fragnum} after the last one"),
            ));
        }
        if self.fragments.contains_key(&fragnum) {
            return Ok(ClProgress::Duplicate);
        }
        if usize::from(fragnum) >= self.max_fragments || self.fragments.len() >= self.max_fragments
        {
            return Err(WireError::TooLarge {
                what: "connectionless response fragments",
                size: usize::from(fragnum) + 1,
                limit: self.max_fragments,
            });
        }
        let size = self.size.saturating_add(body.len());
        if size > self.max_size {
            return Err(WireError::TooLarge {
                what: "reassembled connectionless response",
                size,
                limit: self.max_size,
            });
        }
        self.size = size;
        self.fragments.insert(fragnum, body.to_vec());
        Ok(match self.last {
            Some(last) if usize::from(last) + 1 == self.fragments.len() => ClProgress::Complete,
            _ => ClProgress::More,
        })
    }

    /// The joined body, once [`ClProgress::Complete`].
    pub fn into_body(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size);
        for body in self.fragments.into_values() {
            out.extend_from_slice(&body);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(order: ByteOrder) -> ClHeader {
        ClHeader {
            flags1: flags1::FRAG | flags1::IDEMPOTENT,
            serial: 0x0102,
            object: Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff),
            interface: Uuid::from_u128(0xe1af8308_5d1f_11c9_91a4_08002b14a0fa),
            activity: Uuid::from_u128(0xac71_0000_0000_4000_8000_0000_0000_0001),
            server_boot: 0x1234_5678,
            if_vers: 3,
            seqnum: 7,
            opnum: 2,
            fragnum: 5,
            ..ClHeader::new(order, ptype::RESPONSE)
        }
    }

    #[test]
    fn a_datagram_round_trips_in_both_byte_orders() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let d = Datagram {
                header: sample(order),
                body: b"stub bytes",
            };
            let bytes = d.encode().unwrap();
            assert_eq!(bytes.len(), HEADER_LEN + 10);
            assert_eq!(bytes[0], 4);
            assert_eq!((bytes[7], bytes[79]), (1, 2), "serial_hi, serial_lo");
            assert_eq!(Datagram::decode(&bytes).unwrap(), d, "{order:?}");
        }
    }

    #[test]
    fn fields_lie_where_c706_puts_them() {
        let bytes = Datagram {
            header: sample(ByteOrder::Big),
            body: &[],
        }
        .encode()
        .unwrap();
        assert_eq!(bytes[4], 0x00, "big-endian drep");
        // The interface UUID's first field, big-endian, at 24.
        assert_eq!(&bytes[24..28], &[0xe1, 0xaf, 0x83, 0x08]);
        assert_eq!(&bytes[56..60], &[0x12, 0x34, 0x56, 0x78]);
        assert_eq!(&bytes[64..68], &[0, 0, 0, 7]);
        assert_eq!(&bytes[68..70], &[0, 2]);
        assert_eq!(&bytes[76..78], &[0, 5]);
        let le = Datagram {
            header: sample(ByteOrder::Little),
            body: &[],
        }
        .encode()
        .unwrap();
        assert_eq!(le[4], 0x10);
        assert_eq!(&le[24..28], &[0x08, 0x83, 0xaf, 0xe1]);
    }

    #[test]
    fn every_length_is_checked() {
        let bytes = Datagram {
            header: sample(ByteOrder::Little),
            body: b"abcd",
        }
        .encode()
        .unwrap();
        for cut in 0..bytes.len() {
            assert!(Datagram::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            Datagram::decode(&long),
            Err(WireError::Trailing { len: 1, .. })
        ));
        let mut v5 = bytes.clone();
        v5[0] = 5;
        let e = Datagram::decode(&v5).unwrap_err().to_string();
        assert!(e.contains("not connectionless"), "{e}");
        let mut t = bytes.clone();
        t[1] = 11;
        assert!(Datagram::decode(&t).is_err());
        let mut auth = bytes;
        auth[78] = 10;
        assert!(Datagram::decode(&auth).is_err());
    }

    #[test]
    fn an_oversized_body_is_refused_on_encoding() {
        let big = vec![0u8; MAX_DATAGRAM];
        let d = Datagram {
            header: sample(ByteOrder::Little),
            body: &big,
        };
        assert!(matches!(d.encode(), Err(WireError::TooLarge { .. })));
    }

    #[test]
    fn status_and_fack_bodies() {
        assert_eq!(
            status_body(&[0x1c, 0x01, 0x00, 0x03], ByteOrder::Big).unwrap(),
            0x1c01_0003
        );
        assert!(status_body(&[1, 2], ByteOrder::Little).is_err());
        let f = fack_body(ByteOrder::Little, 16, 1464, 3);
        assert_eq!(f.len(), 16);
        assert_eq!(&f[2..4], &[16, 0]);
        assert_eq!(&f[12..14], &[3, 0]);
    }

    fn frag(order: ByteOrder, n: u16, last: bool) -> ClHeader {
        ClHeader {
            fragnum: n,
            flags1: flags1::FRAG | if last { flags1::LASTFRAG } else { 0 },
            ..ClHeader::new(order, ptype::RESPONSE)
        }
    }

    #[test]
    fn fragments_join_in_any_order_and_duplicates_are_ignored() {
        let o = ByteOrder::Little;
        let mut r = ClReassembler::new(1024, 16);
        assert_eq!(r.push(&frag(o, 2, true), b"c").unwrap(), ClProgress::More);
        assert_eq!(r.push(&frag(o, 0, false), b"a").unwrap(), ClProgress::More);
        assert_eq!(r.contiguous(), Some(0));
        assert_eq!(
            r.push(&frag(o, 0, false), b"a").unwrap(),
            ClProgress::Duplicate
        );
        assert_eq!(r.held(), (2, Some(2)));
        assert_eq!(
            r.push(&frag(o, 1, false), b"b").unwrap(),
            ClProgress::Complete
        );
        assert_eq!(r.into_body(), b"abc");
        // Unfragmented: complete at once.
        let mut r = ClReassembler::new(1024, 16);
        let whole = ClHeader::new(o, ptype::RESPONSE);
        assert_eq!(r.push(&whole, b"all").unwrap(), ClProgress::Complete);
    }

    #[test]
    fn the_caps_and_the_rules_hold() {
        let o = ByteOrder::Little;
        let mut r = ClReassembler::new(4, 16);
        r.push(&frag(o, 0, false), b"abc").unwrap();
        assert!(matches!(
            r.push(&frag(o, 1, false), b"de"),
            Err(WireError::TooLarge { .. })
        ));
        let mut r = ClReassembler::new(1024, 4);
        assert!(
            r.push(&frag(o, 4, false), b"x").is_err(),
            "fragment 4 of at most 4"
        );
        let mut r = ClReassembler::new(1024, 16);
        r.push(&frag(o, 1, true), b"x").unwrap();
        assert!(r.push(&frag(o, 3, false), b"y").is_err(), "after the last");
        assert!(
            r.push(&frag(o, 0, true), b"y").is_err(),
            "two last fragments"
        );
        assert!(
            r.push(&frag(ByteOrder::Big, 0, false), b"z").is_err(),
            "another byte order"
        );
    }
}
