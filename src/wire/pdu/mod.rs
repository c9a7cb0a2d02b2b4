//! Connection-oriented DCE/RPC PDUs (C706 §12.6): the common 16-byte header, the bodies of bind,
//! bind_ack, bind_nak, alter_context(_resp), request, response, fault and shutdown, their
//! decoding (either byte order, as the data representation label says) and encoding. Bodies
//! are read with the stubs' [`NdrReader`] and written with their [`NdrWriter`], over the
//! whole fragment: every field of a PDU lies at its natural alignment from the PDU's start.
//!
//! The connection ([`crate::epm::client`], [`crate::epm::server`]) buffers bytes until
//! [`frame_length`] says a whole fragment is there, then hands exactly that fragment to
//! [`Pdu::decode`]; a partial read never reaches the parser.
//!
//! This file holds what every PDU shares (the header, syntax identifiers, the `Pdu` and its
//! decode and encode dispatch) and the bodiless control PDUs (auth3, shutdown). The families
//! are beside it: `bind.rs` (bind, alter_context and their replies), `call.rs` (request,
//! response, fault), `names.rs` (readable packet type and status names), and `auth_layout.rs`
//! (where an authenticated fragment's verifier lies); their types are
//! re-exported here, so `wire::pdu::Bind` and the like are the paths to use.

mod auth_layout;
mod bind;
mod call;
mod names;

pub use auth_layout::{AuthLayout, layout, pad_for, stub_offset};
pub use bind::{
    Bind, BindAck, BindNak, ContextElem, ContextResult, REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED,
    REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED, RESULT_ACCEPTANCE, RESULT_PROVIDER_REJECTION,
    reject_reason,
};
pub use call::{Fault, ReplyHead, Request, Response};
pub use names::{describe_status, ptype_name, status_name};

use super::WireError;
use super::auth::{AuthVerifier, SecTrailer};
use super::ndr::{ByteOrder, Codec, NdrReader, NdrWriter};
use uuid::Uuid;

/// Length of the common header.
pub const HEADER_LEN: usize = 16;
/// The largest fragment the 16-bit `frag_length` can describe.
pub const MAX_FRAG_LEN: usize = u16::MAX as usize;

pub const PFC_FIRST_FRAG: u8 = 0x01;
pub const PFC_LAST_FRAG: u8 = 0x02;
pub const PFC_PENDING_CANCEL: u8 = 0x04;
pub const PFC_CONC_MPX: u8 = 0x10;
pub const PFC_DID_NOT_EXECUTE: u8 = 0x20;
pub const PFC_MAYBE: u8 = 0x40;
pub const PFC_OBJECT_UUID: u8 = 0x80;

/// The NDR transfer syntax, 8a885d04-1ceb-11c9-9fe8-08002b104860 version 2.
pub const NDR20: SyntaxId = SyntaxId {
    uuid: Uuid::from_u128(0x8a885d04_1ceb_11c9_9fe8_08002b104860),
    version: 2,
};

/// Packet types of the connection-oriented protocol.
pub mod ptype {
    pub const REQUEST: u8 = 0;
    pub const RESPONSE: u8 = 2;
    pub const FAULT: u8 = 3;
    pub const BIND: u8 = 11;
    pub const BIND_ACK: u8 = 12;
    pub const BIND_NAK: u8 = 13;
    pub const ALTER_CONTEXT: u8 = 14;
    pub const ALTER_CONTEXT_RESP: u8 = 15;
    pub const AUTH3: u8 = 16;
    pub const SHUTDOWN: u8 = 17;
    pub const CO_CANCEL: u8 = 18;
    pub const ORPHANED: u8 = 19;
}

/// The data representation label: integer byte order in the high nibble of the first byte,
/// character set in the low nibble, floating-point format in the second byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataRep(pub [u8; 4]);

impl DataRep {
    /// Little-endian integers, ASCII, IEEE floats: what Windows and Samba send.
    pub const LITTLE: DataRep = DataRep([0x10, 0, 0, 0]);
    /// Big-endian integers, ASCII, IEEE floats.
    pub const BIG: DataRep = DataRep([0x00, 0, 0, 0]);

    pub fn for_order(order: ByteOrder) -> Self {
        match order {
            ByteOrder::Little => DataRep::LITTLE,
            ByteOrder::Big => DataRep::BIG,
        }
    }

    pub fn byte_order(self) -> ByteOrder {
        if self.0[0] & 0xf0 == 0 {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    }
}

/// The common header of every connection-oriented PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub minor_version: u8,
    pub ptype: u8,
    pub flags: u8,
    pub drep: DataRep,
    pub frag_length: u16,
    pub auth_length: u16,
    pub call_id: u32,
}

impl Header {
    /// A header of version 5.0 in `order`; the lengths are filled in when the PDU is encoded.
    pub fn new(order: ByteOrder, ptype: u8, flags: u8, call_id: u32) -> Self {
        Header {
            minor_version: 0,
            ptype,
            flags,
            drep: DataRep::for_order(order),
            frag_length: 0,
            auth_length: 0,
            call_id,
        }
    }

    pub fn byte_order(&self) -> ByteOrder {
        self.drep.byte_order()
    }
    pub fn is_first(&self) -> bool {
        self.flags & PFC_FIRST_FRAG != 0
    }
    pub fn is_last(&self) -> bool {
        self.flags & PFC_LAST_FRAG != 0
    }
}

/// An interface or transfer syntax identifier: UUID and a version whose low 16 bits are the
/// major and high 16 bits the minor version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SyntaxId {
    pub uuid: Uuid,
    pub version: u32,
}

impl SyntaxId {
    pub const fn new(uuid: Uuid, major: u16, minor: u16) -> Self {
        SyntaxId {
            uuid,
            version: major as u32 | ((minor as u32) << 16),
        }
    }
    pub fn major(&self) -> u16 {
        (self.version & 0xffff) as u16
    }
    pub fn minor(&self) -> u16 {
        (self.version >> 16) as u16
    }
}

/// rpc_auth3 body: four bytes of padding; the AUTHENTICATE token is in the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Auth3;

/// A PDU body by packet type. Types this tool does not use are kept as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    Bind(Bind),
    BindAck(BindAck),
    BindNak(BindNak),
    AlterContext(Bind),
    AlterContextResp(BindAck),
    Request(Request<'a>),
    Response(Response<'a>),
    Fault(Fault<'a>),
    Auth3(Auth3),
    Shutdown,
    Other(&'a [u8]),
}

/// One decoded fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu<'a> {
    pub header: Header,
    pub body: Body<'a>,
    /// The authentication verifier (sec_trailer and token), when `auth_length` is not 0.
    pub auth: Option<AuthVerifier<'a>>,
}

/// If `buf` starts with a complete fragment, its length; `None` when more bytes are needed.
/// Rejects a header that is not DCE/RPC 5.0/5.1 or whose lengths contradict each other.
pub fn frame_length(buf: &[u8]) -> Result<Option<usize>, WireError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let header = parse_header(buf)?;
    let len = usize::from(header.frag_length);
    if buf.len() < len {
        return Ok(None);
    }
    Ok(Some(len))
}

/// Decode the common header and check its invariants.
pub fn parse_header(buf: &[u8]) -> Result<Header, WireError> {
    let b = buf
        .first_chunk::<HEADER_LEN>()
        .ok_or(WireError::Malformed {
            what: "PDU header",
            offset: 0,
        })?;
    let drep = DataRep([b[4], b[5], b[6], b[7]]);
    let order = drep.byte_order();
    let h = Header {
        minor_version: b[1],
        ptype: b[2],
        flags: b[3],
        drep,
        frag_length: order.u16_from([b[8], b[9]]),
        auth_length: order.u16_from([b[10], b[11]]),
        call_id: order.u32_from([b[12], b[13], b[14], b[15]]),
    };
    if b[0] != 5 || h.minor_version > 1 {
        return Err(WireError::invalid(
            "PDU header",
            format!(
                "not DCE/RPC connection-oriented version 5.0/5.1 (first bytes {:02x?})",
                &b[..4]
            ),
        ));
    }
    if usize::from(h.frag_length) < HEADER_LEN {
        return Err(WireError::invalid(
            "PDU header",
            format!("frag_length {} is shorter than the header", h.frag_length),
        ));
    }
    if h.auth_length > 0 && usize::from(h.auth_length) + 8 + HEADER_LEN > usize::from(h.frag_length)
    {
        return Err(WireError::invalid(
            "PDU header",
            format!(
                "auth_length {} does not fit in frag_length {}",
                h.auth_length, h.frag_length
            ),
        ));
    }
    Ok(h)
}

impl<'a> Codec<'a> for SyntaxId {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        Ok(SyntaxId {
            uuid: r.uuid()?,
            version: r.u32()?,
        })
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.uuid(&self.uuid);
        w.u32(self.version);
        Ok(())
    }
}

impl<'a> Pdu<'a> {
    /// Decode one whole fragment (exactly `frag_length` bytes, as [`frame_length`] measured).
    pub fn decode(frame: &'a [u8]) -> Result<Pdu<'a>, WireError> {
        let header = parse_header(frame)?;
        let frag_len = usize::from(header.frag_length);
        if frame.len() != frag_len {
            return Err(WireError::invalid(
                "PDU",
                format!(
                    "frame of {} bytes but frag_length says {frag_len}",
                    frame.len()
                ),
            ));
        }
        // The authentication verifier (sec_trailer + token) sits at the end; the body stops
        // before it, and the stub before its padding. Every length is checked by the layout.
        let layout = auth_layout::layout_of(&header, frame)?;
        let (body_end, auth_pad) = match &layout {
            Some(l) => (l.trailer_at, usize::from(l.trailer.auth_pad_length)),
            None => (frag_len, 0),
        };
        let verifier = layout.as_ref().map(|l| AuthVerifier {
            trailer: l.trailer,
            token: &frame[l.token.clone()],
        });
        let body_bytes = frame
            .get(..body_end)
            .filter(|b| b.len() >= HEADER_LEN)
            .ok_or_else(|| WireError::invalid("PDU", "authentication trailer overlaps header"))?;
        let what = ptype_name(header.ptype);
        let mut r = NdrReader::new(body_bytes, header.byte_order(), what);
        r.bytes(HEADER_LEN)?;
        // The stub of a request, response or fault (the rest of its body) less the auth padding.
        let trim = |rest: &'a [u8]| rest.split_at(rest.len().saturating_sub(auth_pad)).0;
        // A body without a stub; with a verifier it must end exactly where the padding starts
        // (as Samba checks too): nothing unaccounted for lies before the sec_trailer. Without
        // a verifier, bytes after the body are tolerated on purpose: frag_length bounds them,
        // nothing is read from them or passed on, and refusing them would only lose peers
        // whose stacks pad a bind or bind_ack out to an alignment.
        let ends_at_pad = |r: &mut NdrReader<'a>| -> Result<(), WireError> {
            if layout.is_some() && r.remaining() != auth_pad {
                return Err(WireError::invalid(
                    what,
                    format!(
                        "{} bytes lie between the body and the sec_trailer but auth_pad_length is {auth_pad}",
                        r.remaining()
                    ),
                ));
            }
            Ok(())
        };
        // A body without a stub, read whole.
        fn unstubbed<'a, T: Codec<'a>>(
            r: &mut NdrReader<'a>,
            ends_at_pad: impl Fn(&mut NdrReader<'a>) -> Result<(), WireError>,
        ) -> Result<T, WireError> {
            let body = T::read(r)?;
            ends_at_pad(r)?;
            Ok(body)
        }
        let body = match header.ptype {
            ptype::BIND => Body::Bind(unstubbed(&mut r, ends_at_pad)?),
            ptype::ALTER_CONTEXT => Body::AlterContext(unstubbed(&mut r, ends_at_pad)?),
            ptype::BIND_ACK => Body::BindAck(unstubbed(&mut r, ends_at_pad)?),
            ptype::ALTER_CONTEXT_RESP => Body::AlterContextResp(unstubbed(&mut r, ends_at_pad)?),
            ptype::BIND_NAK if layout.is_some() => {
                return Err(WireError::invalid(
                    what,
                    "a bind_nak carries no auth verifier",
                ));
            }
            ptype::BIND_NAK => Body::BindNak(unstubbed(&mut r, ends_at_pad)?),
            ptype::REQUEST => {
                let object = header.flags & PFC_OBJECT_UUID != 0;
                let mut request = Request::read(&mut r, object)?;
                request.stub = trim(request.stub);
                Body::Request(request)
            }
            ptype::RESPONSE => {
                let mut response = Response::read(&mut r)?;
                response.stub = trim(response.stub);
                Body::Response(response)
            }
            ptype::FAULT => {
                let mut fault = Fault::read(&mut r)?;
                fault.stub = trim(fault.stub);
                Body::Fault(fault)
            }
            ptype::AUTH3 => Body::Auth3(unstubbed(&mut r, ends_at_pad)?),
            ptype::SHUTDOWN => {
                ends_at_pad(&mut r)?;
                Body::Shutdown
            }
            _ => Body::Other(trim(r.rest())),
        };
        Ok(Pdu {
            header,
            body,
            auth: verifier,
        })
    }

    /// Build a PDU in `order`; `frag_length` is filled in by [`Pdu::encode`].
    pub fn new(order: ByteOrder, call_id: u32, flags: u8, body: Body<'a>) -> Self {
        let (ptype, flags) = match &body {
            Body::Bind(_) => (ptype::BIND, flags),
            Body::BindAck(_) => (ptype::BIND_ACK, flags),
            Body::BindNak(_) => (ptype::BIND_NAK, flags),
            Body::AlterContext(_) => (ptype::ALTER_CONTEXT, flags),
            Body::AlterContextResp(_) => (ptype::ALTER_CONTEXT_RESP, flags),
            // PFC_OBJECT_UUID says whether an object UUID follows: it follows the body.
            Body::Request(r) if r.object.is_some() => (ptype::REQUEST, flags | PFC_OBJECT_UUID),
            Body::Request(_) => (ptype::REQUEST, flags & !PFC_OBJECT_UUID),
            Body::Response(_) => (ptype::RESPONSE, flags),
            Body::Fault(_) => (ptype::FAULT, flags),
            Body::Auth3(_) => (ptype::AUTH3, flags),
            Body::Shutdown => (ptype::SHUTDOWN, flags),
            Body::Other(_) => (ptype::ORPHANED, flags),
        };
        Pdu {
            header: Header::new(order, ptype, flags, call_id),
            body,
            auth: None,
        }
    }

    /// This PDU with an authentication verifier: `trailer` (its padding computed here, see
    /// [`pad_for`]) and `token`.
    pub fn with_auth(
        mut self,
        mut trailer: SecTrailer,
        token: &'a [u8],
    ) -> Result<Self, WireError> {
        if token.is_empty() {
            return Err(WireError::invalid("auth verifier", "empty token"));
        }
        self.auth = None;
        let body_end = self.encode()?.len();
        trailer.auth_pad_length = pad_for(&self.header, body_end);
        self.auth = Some(AuthVerifier { trailer, token });
        Ok(self)
    }

    /// Encode this PDU as one fragment. Fails when it would exceed [`MAX_FRAG_LEN`].
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let order = self.header.byte_order();
        let mut w = NdrWriter::with_capacity(order, 64);
        for b in [
            5,
            self.header.minor_version,
            self.header.ptype,
            self.header.flags,
        ] {
            w.u8(b);
        }
        w.bytes(&self.header.drep.0);
        w.u16(0); // frag_length, patched below
        w.u16(0); // auth_length
        w.u32(self.header.call_id);
        match &self.body {
            Body::Bind(b) | Body::AlterContext(b) => b.write(&mut w)?,
            Body::BindAck(b) | Body::AlterContextResp(b) => b.write(&mut w)?,
            Body::BindNak(n) => n.write(&mut w)?,
            Body::Request(r) => r.write(&mut w),
            Body::Response(r) => r.write(&mut w)?,
            Body::Fault(f) => f.write(&mut w)?,
            Body::Auth3(a) => a.write(&mut w)?,
            Body::Shutdown => {}
            Body::Other(b) => w.bytes(b),
        }
        let mut auth_len = 0;
        if let Some(a) = &self.auth {
            auth_len = u16::try_from(a.token.len()).map_err(|_| WireError::TooLarge {
                what: "auth token",
                size: a.token.len(),
                limit: MAX_FRAG_LEN,
            })?;
            if auth_len == 0 {
                return Err(WireError::invalid("auth verifier", "empty token"));
            }
            w.bytes(&[0; 255][..usize::from(a.trailer.auth_pad_length)]);
            w.bytes(&a.trailer.bytes(order));
            w.bytes(a.token);
        }
        let mut buf = w.into_bytes();
        let frag = u16::try_from(buf.len()).map_err(|_| WireError::TooLarge {
            what: "PDU",
            size: buf.len(),
            limit: MAX_FRAG_LEN,
        })?;
        buf[8..10].copy_from_slice(&order.u16_bytes(frag));
        buf[10..12].copy_from_slice(&order.u16_bytes(auth_len));
        Ok(buf)
    }
}

/// auth3's body: four bytes of padding (MS-RPCE 2.2.2.10); the token is in the verifier.
impl<'a> Codec<'a> for Auth3 {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        r.bytes(4)?;
        Ok(Auth3)
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.bytes(&[0; 4]);
        Ok(())
    }
}

fn clamp_u8(n: usize, what: &'static str) -> Result<u8, WireError> {
    u8::try_from(n).map_err(|_| WireError::TooLarge {
        what,
        size: n,
        limit: 255,
    })
}

#[cfg(test)]
mod tests;
