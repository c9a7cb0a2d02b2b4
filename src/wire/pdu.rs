//! Connection-oriented DCE/RPC PDUs (C706 §12.6): the common 16-byte header, the bodies of bind,
//! bind_ack, bind_nak, alter_context(_resp), request, response, fault and shutdown, their
//! decoding (nom, either byte order as the data representation label says) and encoding.
//!
//! The connection ([`crate::epm::client`], [`crate::epm::server`]) buffers bytes until
//! [`frame_length`] says a whole fragment is there, then hands exactly that fragment to
//! [`Pdu::decode`]; a partial read never reaches the parser.

use super::WireError;
use super::auth::{self, AuthVerifier, SecTrailer};
use super::ndr::{ByteOrder, put_uuid, uuid_in};
use nom::IResult;
use nom::number::Endianness;
use nom::number::complete as num;
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

    fn nom(self) -> Endianness {
        match self.byte_order() {
            ByteOrder::Little => Endianness::Little,
            ByteOrder::Big => Endianness::Big,
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
    pub fn new(uuid: Uuid, major: u16, minor: u16) -> Self {
        SyntaxId {
            uuid,
            version: u32::from(major) | (u32::from(minor) << 16),
        }
    }
    pub fn major(&self) -> u16 {
        (self.version & 0xffff) as u16
    }
    pub fn minor(&self) -> u16 {
        (self.version >> 16) as u16
    }
}

/// One presentation context offered in a bind or alter_context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextElem {
    pub context_id: u16,
    pub abstract_syntax: SyntaxId,
    pub transfer_syntaxes: Vec<SyntaxId>,
}

/// bind and alter_context bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    pub contexts: Vec<ContextElem>,
}

/// Result of one presentation context in a bind_ack: 0 acceptance, 1 user rejection,
/// 2 provider rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextResult {
    pub result: u16,
    pub reason: u16,
    pub transfer_syntax: SyntaxId,
}

pub const RESULT_ACCEPTANCE: u16 = 0;
pub const RESULT_PROVIDER_REJECTION: u16 = 2;
pub const REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED: u16 = 1;
pub const REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED: u16 = 2;

/// bind_ack and alter_context_resp bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindAck {
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    /// The secondary address (the server's port as a string, e.g. "135"), without its NUL.
    pub secondary_address: String,
    pub results: Vec<ContextResult>,
}

/// bind_nak body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindNak {
    pub reject_reason: u16,
    pub versions: Vec<(u8, u8)>,
}

/// request body; `stub` is this fragment's part of the NDR stub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub alloc_hint: u32,
    pub context_id: u16,
    pub opnum: u16,
    pub object: Option<Uuid>,
    pub stub: &'a [u8],
}

/// response body; `stub` is this fragment's part of the NDR stub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    pub alloc_hint: u32,
    pub context_id: u16,
    pub cancel_count: u8,
    pub stub: &'a [u8],
}

/// fault body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault<'a> {
    pub alloc_hint: u32,
    pub context_id: u16,
    pub cancel_count: u8,
    pub status: u32,
    pub stub: &'a [u8],
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
    fn header(i: &[u8]) -> IResult<&[u8], Header> {
        // The version is checked after parsing, where the error can show what arrived.
        let (i, _version) = num::u8(i)?;
        let (i, minor_version) = num::u8(i)?;
        let (i, ptype) = num::u8(i)?;
        let (i, flags) = num::u8(i)?;
        let (i, d) = nom::bytes::complete::take(4usize)(i)?;
        let drep = DataRep([d[0], d[1], d[2], d[3]]);
        let e = drep.nom();
        let (i, frag_length) = num::u16(e)(i)?;
        let (i, auth_length) = num::u16(e)(i)?;
        let (i, call_id) = num::u32(e)(i)?;
        Ok((
            i,
            Header {
                minor_version,
                ptype,
                flags,
                drep,
                frag_length,
                auth_length,
                call_id,
            },
        ))
    }
    let (_, h) = header(buf).map_err(|_| WireError::Malformed {
        what: "PDU header",
        offset: 0,
    })?;
    if buf.first() != Some(&5) || h.minor_version > 1 {
        return Err(WireError::invalid(
            "PDU header",
            format!(
                "not DCE/RPC connection-oriented version 5.0/5.1 (first bytes {:02x?})",
                &buf[..buf.len().min(4)]
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

fn syntax_id(e: Endianness) -> impl Fn(&[u8]) -> IResult<&[u8], SyntaxId> {
    move |i| {
        let order = if e == Endianness::Big {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        };
        let (i, uuid) = uuid_in(order, i)?;
        let (i, version) = num::u32(e)(i)?;
        Ok((i, SyntaxId { uuid, version }))
    }
}

/// The most presentation contexts or results a bind may carry (n is a u8 on the wire).
const MAX_CONTEXTS: usize = 255;

fn parse_bind(e: Endianness, i: &[u8]) -> IResult<&[u8], Bind> {
    let (i, max_xmit_frag) = num::u16(e)(i)?;
    let (i, max_recv_frag) = num::u16(e)(i)?;
    let (i, assoc_group_id) = num::u32(e)(i)?;
    let (i, n) = num::u8(i)?;
    let (mut i, _) = nom::bytes::complete::take(3usize)(i)?;
    // Each context is at least 44 bytes: never reserve more than the input can hold.
    let mut contexts = Vec::with_capacity(usize::from(n).min(i.len() / 44).min(MAX_CONTEXTS));
    for _ in 0..n {
        let (r, context_id) = num::u16(e)(i)?;
        let (r, n_ts) = num::u8(r)?;
        let (r, _) = num::u8(r)?;
        let (r, abstract_syntax) = syntax_id(e)(r)?;
        let mut transfer_syntaxes = Vec::with_capacity(usize::from(n_ts).min(r.len() / 20));
        let mut r = r;
        for _ in 0..n_ts {
            let (r2, ts) = syntax_id(e)(r)?;
            transfer_syntaxes.push(ts);
            r = r2;
        }
        contexts.push(ContextElem {
            context_id,
            abstract_syntax,
            transfer_syntaxes,
        });
        i = r;
    }
    Ok((
        i,
        Bind {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            contexts,
        },
    ))
}

fn parse_bind_ack(e: Endianness, i: &[u8]) -> IResult<&[u8], BindAck> {
    let start = i.len() + HEADER_LEN;
    let (i, max_xmit_frag) = num::u16(e)(i)?;
    let (i, max_recv_frag) = num::u16(e)(i)?;
    let (i, assoc_group_id) = num::u32(e)(i)?;
    let (i, addr_len) = num::u16(e)(i)?;
    let (i, addr) = nom::bytes::complete::take(addr_len)(i)?;
    // Pad to a 4-byte boundary measured from the start of the PDU.
    let consumed = start - i.len();
    let (i, _) = nom::bytes::complete::take((4 - consumed % 4) % 4)(i)?;
    let (i, n) = num::u8(i)?;
    let (mut i, _) = nom::bytes::complete::take(3usize)(i)?;
    let mut results = Vec::with_capacity(usize::from(n).min(i.len() / 24));
    for _ in 0..n {
        let (r, result) = num::u16(e)(i)?;
        let (r, reason) = num::u16(e)(r)?;
        let (r, transfer_syntax) = syntax_id(e)(r)?;
        results.push(ContextResult {
            result,
            reason,
            transfer_syntax,
        });
        i = r;
    }
    let secondary_address = String::from_utf8_lossy(addr)
        .trim_end_matches('\0')
        .to_string();
    Ok((
        i,
        BindAck {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            secondary_address,
            results,
        },
    ))
}

fn parse_bind_nak(e: Endianness, i: &[u8]) -> IResult<&[u8], BindNak> {
    let (i, reject_reason) = num::u16(e)(i)?;
    // The version list is optional in practice: Windows sends it, some peers stop here.
    if i.is_empty() {
        return Ok((
            i,
            BindNak {
                reject_reason,
                versions: Vec::new(),
            },
        ));
    }
    let (mut i, n) = num::u8(i)?;
    let mut versions = Vec::with_capacity(usize::from(n).min(i.len() / 2));
    for _ in 0..n {
        let (r, major) = num::u8(i)?;
        let (r, minor) = num::u8(r)?;
        versions.push((major, minor));
        i = r;
    }
    Ok((
        i,
        BindNak {
            reject_reason,
            versions,
        },
    ))
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
        let layout = auth::layout_of(&header, frame)?;
        let (body_end, auth_pad) = match &layout {
            Some(l) => (l.trailer_at, usize::from(l.trailer.auth_pad_length)),
            None => (frag_len, 0),
        };
        let verifier = layout.as_ref().map(|l| AuthVerifier {
            trailer: l.trailer,
            token: &frame[l.token.clone()],
        });
        let body_bytes = frame
            .get(HEADER_LEN..body_end)
            .ok_or_else(|| WireError::invalid("PDU", "authentication trailer overlaps header"))?;
        let e = header.drep.nom();
        let what = ptype_name(header.ptype);
        let err = |rest: &[u8]| WireError::Malformed {
            what,
            offset: body_end - rest.len().min(body_end),
        };
        let map = |r: nom::Err<nom::error::Error<&[u8]>>| match r {
            nom::Err::Error(x) | nom::Err::Failure(x) => err(x.input),
            nom::Err::Incomplete(_) => err(&[]),
        };
        let stub_of = |rest: &'a [u8]| -> Result<&'a [u8], WireError> {
            rest.get(..rest.len().saturating_sub(auth_pad))
                .ok_or_else(|| WireError::invalid(what, "auth padding exceeds stub"))
        };
        // With a verifier, a body without a stub must end exactly where the padding starts
        // (as Samba checks too): nothing unaccounted for lies before the sec_trailer.
        let padded = |rest: &[u8]| -> Result<(), WireError> {
            if layout.is_some() && rest.len() != auth_pad {
                return Err(WireError::invalid(
                    what,
                    format!(
                        "{} bytes lie between the body and the sec_trailer but auth_pad_length is {auth_pad}",
                        rest.len()
                    ),
                ));
            }
            Ok(())
        };
        let body = match header.ptype {
            ptype::BIND | ptype::ALTER_CONTEXT => {
                let (rest, b) = parse_bind(e, body_bytes).map_err(map)?;
                padded(rest)?;
                if header.ptype == ptype::BIND {
                    Body::Bind(b)
                } else {
                    Body::AlterContext(b)
                }
            }
            ptype::BIND_ACK | ptype::ALTER_CONTEXT_RESP => {
                let (rest, b) = parse_bind_ack(e, body_bytes).map_err(map)?;
                padded(rest)?;
                if header.ptype == ptype::BIND_ACK {
                    Body::BindAck(b)
                } else {
                    Body::AlterContextResp(b)
                }
            }
            ptype::BIND_NAK => {
                if layout.is_some() {
                    return Err(WireError::invalid(
                        what,
                        "a bind_nak carries no auth verifier",
                    ));
                }
                let (rest, n) = parse_bind_nak(e, body_bytes).map_err(map)?;
                padded(rest)?;
                Body::BindNak(n)
            }
            ptype::REQUEST => {
                let (i, alloc_hint) = num::u32(e)(body_bytes).map_err(map)?;
                let (i, context_id) = num::u16(e)(i).map_err(map)?;
                let (i, opnum) = num::u16(e)(i).map_err(map)?;
                let (i, object) = if header.flags & PFC_OBJECT_UUID != 0 {
                    let (i, u) = uuid_in(header.byte_order(), i).map_err(map)?;
                    (i, Some(u))
                } else {
                    (i, None)
                };
                Body::Request(Request {
                    alloc_hint,
                    context_id,
                    opnum,
                    object,
                    stub: stub_of(i)?,
                })
            }
            ptype::RESPONSE => {
                let (i, alloc_hint) = num::u32(e)(body_bytes).map_err(map)?;
                let (i, context_id) = num::u16(e)(i).map_err(map)?;
                let (i, cancel_count) = num::u8(i).map_err(map)?;
                let (i, _) = num::u8(i).map_err(map)?;
                Body::Response(Response {
                    alloc_hint,
                    context_id,
                    cancel_count,
                    stub: stub_of(i)?,
                })
            }
            ptype::FAULT => {
                let (i, alloc_hint) = num::u32(e)(body_bytes).map_err(map)?;
                let (i, context_id) = num::u16(e)(i).map_err(map)?;
                let (i, cancel_count) = num::u8(i).map_err(map)?;
                let (i, _) = num::u8(i).map_err(map)?;
                let (i, status) = num::u32(e)(i).map_err(map)?;
                // Four reserved bytes follow the status; some peers end the PDU right there.
                let i = i.get(4..).unwrap_or(&[]);
                Body::Fault(Fault {
                    alloc_hint,
                    context_id,
                    cancel_count,
                    status,
                    stub: stub_of(i)?,
                })
            }
            ptype::AUTH3 => {
                // Four bytes of padding (MS-RPCE 2.2.2.10); the token is in the verifier.
                let (rest, _) = nom::bytes::complete::take(4usize)(body_bytes).map_err(map)?;
                padded(rest)?;
                Body::Auth3(Auth3)
            }
            ptype::SHUTDOWN => {
                padded(body_bytes)?;
                Body::Shutdown
            }
            _ => Body::Other(stub_of(body_bytes)?),
        };
        Ok(Pdu {
            header,
            body,
            auth: verifier,
        })
    }

    /// Build a PDU in `order`; `frag_length` is filled in by [`Pdu::encode`].
    pub fn new(order: ByteOrder, call_id: u32, flags: u8, body: Body<'a>) -> Self {
        let ptype = match &body {
            Body::Bind(_) => ptype::BIND,
            Body::BindAck(_) => ptype::BIND_ACK,
            Body::BindNak(_) => ptype::BIND_NAK,
            Body::AlterContext(_) => ptype::ALTER_CONTEXT,
            Body::AlterContextResp(_) => ptype::ALTER_CONTEXT_RESP,
            Body::Request(r) => {
                return Pdu {
                    header: Header {
                        minor_version: 0,
                        ptype: ptype::REQUEST,
                        flags: if r.object.is_some() {
                            flags | PFC_OBJECT_UUID
                        } else {
                            flags & !PFC_OBJECT_UUID
                        },
                        drep: DataRep::for_order(order),
                        frag_length: 0,
                        auth_length: 0,
                        call_id,
                    },
                    body,
                    auth: None,
                };
            }
            Body::Response(_) => ptype::RESPONSE,
            Body::Fault(_) => ptype::FAULT,
            Body::Auth3(_) => ptype::AUTH3,
            Body::Shutdown => ptype::SHUTDOWN,
            Body::Other(_) => ptype::ORPHANED,
        };
        Pdu {
            header: Header {
                minor_version: 0,
                ptype,
                flags,
                drep: DataRep::for_order(order),
                frag_length: 0,
                auth_length: 0,
                call_id,
            },
            body,
            auth: None,
        }
    }

    /// This PDU with an authentication verifier: `trailer` (its padding computed here, see
    /// [`auth::pad_for`]) and `token`.
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
        trailer.auth_pad_length = auth::pad_for(&self.header, body_end);
        self.auth = Some(AuthVerifier { trailer, token });
        Ok(self)
    }

    /// Encode this PDU as one fragment. Fails when it would exceed [`MAX_FRAG_LEN`].
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let order = self.header.byte_order();
        let mut w = Enc {
            buf: Vec::with_capacity(64),
            order,
        };
        w.buf.extend_from_slice(&[
            5,
            self.header.minor_version,
            self.header.ptype,
            self.header.flags,
        ]);
        w.buf.extend_from_slice(&self.header.drep.0);
        w.u16(0); // frag_length, patched below
        w.u16(0); // auth_length
        w.u32(self.header.call_id);
        match &self.body {
            Body::Bind(b) | Body::AlterContext(b) => {
                w.u16(b.max_xmit_frag);
                w.u16(b.max_recv_frag);
                w.u32(b.assoc_group_id);
                w.buf.push(clamp_u8(b.contexts.len(), "bind contexts")?);
                w.buf.extend_from_slice(&[0, 0, 0]);
                for c in &b.contexts {
                    w.u16(c.context_id);
                    w.buf
                        .push(clamp_u8(c.transfer_syntaxes.len(), "transfer syntaxes")?);
                    w.buf.push(0);
                    w.syntax(&c.abstract_syntax);
                    for t in &c.transfer_syntaxes {
                        w.syntax(t);
                    }
                }
            }
            Body::BindAck(b) | Body::AlterContextResp(b) => {
                w.u16(b.max_xmit_frag);
                w.u16(b.max_recv_frag);
                w.u32(b.assoc_group_id);
                let addr_len = if b.secondary_address.is_empty() {
                    0
                } else {
                    b.secondary_address.len() + 1
                };
                w.u16(
                    u16::try_from(addr_len).map_err(|_| {
                        WireError::invalid("bind_ack", "secondary address too long")
                    })?,
                );
                if addr_len > 0 {
                    w.buf.extend_from_slice(b.secondary_address.as_bytes());
                    w.buf.push(0);
                }
                while !w.buf.len().is_multiple_of(4) {
                    w.buf.push(0);
                }
                w.buf.push(clamp_u8(b.results.len(), "bind_ack results")?);
                w.buf.extend_from_slice(&[0, 0, 0]);
                for r in &b.results {
                    w.u16(r.result);
                    w.u16(r.reason);
                    w.syntax(&r.transfer_syntax);
                }
            }
            Body::BindNak(n) => {
                w.u16(n.reject_reason);
                w.buf.push(clamp_u8(n.versions.len(), "bind_nak versions")?);
                for (a, b) in &n.versions {
                    w.buf.push(*a);
                    w.buf.push(*b);
                }
            }
            Body::Request(r) => {
                w.u32(r.alloc_hint);
                w.u16(r.context_id);
                w.u16(r.opnum);
                if let Some(o) = &r.object {
                    put_uuid(order, &mut w.buf, o);
                }
                w.buf.extend_from_slice(r.stub);
            }
            Body::Response(r) => {
                w.u32(r.alloc_hint);
                w.u16(r.context_id);
                w.buf.push(r.cancel_count);
                w.buf.push(0);
                w.buf.extend_from_slice(r.stub);
            }
            Body::Fault(f) => {
                w.u32(f.alloc_hint);
                w.u16(f.context_id);
                w.buf.push(f.cancel_count);
                w.buf.push(0);
                w.u32(f.status);
                w.u32(0);
                w.buf.extend_from_slice(f.stub);
            }
            Body::Auth3(_) => w.buf.extend_from_slice(&[0; 4]),
            Body::Shutdown => {}
            Body::Other(b) => w.buf.extend_from_slice(b),
        }
        if let Some(a) = &self.auth {
            let auth_len = u16::try_from(a.token.len()).map_err(|_| WireError::TooLarge {
                what: "auth token",
                size: a.token.len(),
                limit: MAX_FRAG_LEN,
            })?;
            if auth_len == 0 {
                return Err(WireError::invalid("auth verifier", "empty token"));
            }
            w.buf.extend(std::iter::repeat_n(
                0u8,
                usize::from(a.trailer.auth_pad_length),
            ));
            a.trailer.encode(order, &mut w.buf);
            w.buf.extend_from_slice(a.token);
            let b = match order {
                ByteOrder::Little => auth_len.to_le_bytes(),
                ByteOrder::Big => auth_len.to_be_bytes(),
            };
            w.buf[10..12].copy_from_slice(&b);
        }
        let len = w.buf.len();
        let frag = u16::try_from(len).map_err(|_| WireError::TooLarge {
            what: "PDU",
            size: len,
            limit: MAX_FRAG_LEN,
        })?;
        let b = match order {
            ByteOrder::Little => frag.to_le_bytes(),
            ByteOrder::Big => frag.to_be_bytes(),
        };
        w.buf[8..10].copy_from_slice(&b);
        Ok(w.buf)
    }
}

fn clamp_u8(n: usize, what: &'static str) -> Result<u8, WireError> {
    u8::try_from(n).map_err(|_| WireError::TooLarge {
        what,
        size: n,
        limit: 255,
    })
}

struct Enc {
    buf: Vec<u8>,
    order: ByteOrder,
}

impl Enc {
    fn u16(&mut self, v: u16) {
        let b = match self.order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        };
        self.buf.extend_from_slice(&b);
    }
    fn u32(&mut self, v: u32) {
        let b = match self.order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        };
        self.buf.extend_from_slice(&b);
    }
    fn syntax(&mut self, s: &SyntaxId) {
        put_uuid(self.order, &mut self.buf, &s.uuid);
        self.u32(s.version);
    }
}

/// A readable name for a packet type, for messages.
pub fn ptype_name(ptype: u8) -> &'static str {
    match ptype {
        ptype::REQUEST => "request",
        ptype::RESPONSE => "response",
        ptype::FAULT => "fault",
        ptype::BIND => "bind",
        ptype::BIND_ACK => "bind_ack",
        ptype::BIND_NAK => "bind_nak",
        ptype::ALTER_CONTEXT => "alter_context",
        ptype::ALTER_CONTEXT_RESP => "alter_context_resp",
        ptype::AUTH3 => "auth3",
        ptype::SHUTDOWN => "shutdown",
        ptype::CO_CANCEL => "co_cancel",
        ptype::ORPHANED => "orphaned",
        _ => "PDU of unknown type",
    }
}

/// A readable name for common fault and reject status codes (C706 appendix E, MS-RPCE 3.1.1.5.5).
pub fn status_name(status: u32) -> Option<&'static str> {
    Some(match status {
        0x1c01_0001 => "nca_s_comm_failure",
        0x1c01_0002 => "nca_s_op_rng_error",
        0x1c01_0003 => "nca_s_unk_if",
        0x1c01_0006 => "nca_s_wrong_boot_time",
        0x1c01_0009 => "nca_s_you_crashed",
        0x1c01_000b => "nca_s_proto_error",
        0x1c01_0013 => "nca_s_out_args_too_big",
        0x1c01_0014 => "nca_s_server_too_busy",
        0x1c01_0017 => "nca_s_unsupported_type",
        0x1c00_0001 => "nca_s_fault_int_div_by_zero",
        0x1c00_0011 => "nca_s_fault_remote_no_memory",
        0x1c00_001c => "nca_s_fault_context_mismatch",
        0x1c00_001e => "nca_s_fault_ndr",
        0x0000_0005 => "rpc_s_access_denied",
        0x0000_06f7 => "rpc_x_bad_stub_data",
        0x0000_06d1 => "rpc_s_procnum_out_of_range",
        0x16c9_a0d6 => "ept_s_not_registered",
        0x16c9_a116 => "ept_s_cant_perform_op",
        _ => return None,
    })
}

/// "0x1c010002 (nca_s_op_rng_error)" or just the hex code.
pub fn describe_status(status: u32) -> String {
    match status_name(status) {
        Some(n) => format!("0x{status:08x} ({n})"),
        None => format!("0x{status:08x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epm_syntax() -> SyntaxId {
        SyntaxId::new(crate::epm::EPM_INTERFACE, 3, 0)
    }

    fn round_trip(pdu: Pdu<'_>) {
        let bytes = pdu.encode().unwrap();
        assert_eq!(frame_length(&bytes).unwrap(), Some(bytes.len()));
        let back = Pdu::decode(&bytes).unwrap();
        let mut expected = pdu.clone();
        expected.header.frag_length = bytes.len() as u16;
        assert_eq!(back, expected);
    }

    fn bind() -> Bind {
        Bind {
            max_xmit_frag: 5840,
            max_recv_frag: 5840,
            assoc_group_id: 0,
            contexts: vec![ContextElem {
                context_id: 0,
                abstract_syntax: epm_syntax(),
                transfer_syntaxes: vec![NDR20],
            }],
        }
    }

    fn ack() -> BindAck {
        BindAck {
            max_xmit_frag: 4280,
            max_recv_frag: 4280,
            assoc_group_id: 0x1234,
            secondary_address: "135".into(),
            results: vec![ContextResult {
                result: 0,
                reason: 0,
                transfer_syntax: NDR20,
            }],
        }
    }

    #[test]
    fn every_pdu_type_round_trips_in_both_byte_orders() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let both = PFC_FIRST_FRAG | PFC_LAST_FRAG;
            round_trip(Pdu::new(order, 1, both, Body::Bind(bind())));
            round_trip(Pdu::new(order, 1, both, Body::AlterContext(bind())));
            round_trip(Pdu::new(order, 1, both, Body::BindAck(ack())));
            round_trip(Pdu::new(order, 1, both, Body::AlterContextResp(ack())));
            round_trip(Pdu::new(
                order,
                1,
                both,
                Body::BindNak(BindNak {
                    reject_reason: 4,
                    versions: vec![(5, 0), (5, 1)],
                }),
            ));
            round_trip(Pdu::new(
                order,
                7,
                both,
                Body::Request(Request {
                    alloc_hint: 4,
                    context_id: 0,
                    opnum: 2,
                    object: None,
                    stub: &[1, 2, 3, 4],
                }),
            ));
            round_trip(Pdu::new(
                order,
                7,
                both,
                Body::Request(Request {
                    alloc_hint: 0,
                    context_id: 1,
                    opnum: 3,
                    object: Some(Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff)),
                    stub: &[9; 12],
                }),
            ));
            round_trip(Pdu::new(
                order,
                7,
                PFC_FIRST_FRAG,
                Body::Response(Response {
                    alloc_hint: 100,
                    context_id: 0,
                    cancel_count: 0,
                    stub: &[5; 40],
                }),
            ));
            round_trip(Pdu::new(
                order,
                7,
                both,
                Body::Fault(Fault {
                    alloc_hint: 0,
                    context_id: 0,
                    cancel_count: 0,
                    status: 0x1c01_0002,
                    stub: &[],
                }),
            ));
            round_trip(Pdu::new(order, 0, both, Body::Shutdown));
        }
    }

    #[test]
    fn big_endian_header_fields_are_big_endian() {
        let bytes = Pdu::new(ByteOrder::Big, 0x0102_0304, 3, Body::Shutdown)
            .encode()
            .unwrap();
        assert_eq!(bytes[4], 0x00);
        assert_eq!(&bytes[8..10], &[0, 16]);
        assert_eq!(&bytes[12..16], &[1, 2, 3, 4]);
        let le = Pdu::new(ByteOrder::Little, 0x0102_0304, 3, Body::Shutdown)
            .encode()
            .unwrap();
        assert_eq!(le[4], 0x10);
        assert_eq!(&le[8..10], &[16, 0]);
    }

    #[test]
    fn frame_length_waits_for_the_whole_fragment() {
        let bytes = Pdu::new(ByteOrder::Little, 1, 3, Body::Bind(bind()))
            .encode()
            .unwrap();
        for cut in 0..bytes.len() {
            assert_eq!(frame_length(&bytes[..cut]).unwrap(), None, "cut {cut}");
        }
        let mut more = bytes.clone();
        more.extend_from_slice(&[5, 0, 0]);
        assert_eq!(frame_length(&more).unwrap(), Some(bytes.len()));
    }

    #[test]
    fn rejects_foreign_and_contradictory_headers() {
        let http = b"HTTP/1.1 400 Bad Request\r\n\r\n";
        let err = frame_length(http).unwrap_err().to_string();
        assert!(err.contains("not DCE/RPC"), "{err}");
        let mut short = Pdu::new(ByteOrder::Little, 1, 3, Body::Shutdown)
            .encode()
            .unwrap();
        short[8] = 4; // frag_length 4 < header
        assert!(frame_length(&short).is_err());
        let mut auth = Pdu::new(ByteOrder::Little, 1, 3, Body::Shutdown)
            .encode()
            .unwrap();
        auth[10] = 200; // auth_length beyond the fragment
        assert!(frame_length(&auth).is_err());
    }

    #[test]
    fn truncated_bodies_are_errors_not_panics() {
        let bytes = Pdu::new(ByteOrder::Little, 1, 3, Body::BindAck(ack()))
            .encode()
            .unwrap();
        for cut in HEADER_LEN..bytes.len() {
            let mut b = bytes[..cut].to_vec();
            b[8..10].copy_from_slice(&(cut as u16).to_le_bytes());
            assert!(Pdu::decode(&b).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn auth_trailer_is_stripped_from_the_stub() {
        let mut bytes = Pdu::new(
            ByteOrder::Little,
            1,
            3,
            Body::Response(Response {
                alloc_hint: 4,
                context_id: 0,
                cancel_count: 0,
                stub: &[1, 2, 3, 4, 0, 0, 0, 0],
            }),
        )
        .encode()
        .unwrap();
        // sec_trailer: type, level, pad length 4, reserved, context id; then a 4-byte token.
        bytes.extend_from_slice(&[10, 2, 4, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
        let len = bytes.len() as u16;
        bytes[8..10].copy_from_slice(&len.to_le_bytes());
        bytes[10..12].copy_from_slice(&4u16.to_le_bytes());
        let pdu = Pdu::decode(&bytes).unwrap();
        match pdu.body {
            Body::Response(r) => assert_eq!(r.stub, &[1, 2, 3, 4]),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn syntax_version_splits_major_and_minor() {
        let s = SyntaxId::new(Uuid::nil(), 3, 1);
        assert_eq!((s.major(), s.minor()), (3, 1));
        assert_eq!(s.version, 0x0001_0003);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn syntax() -> impl Strategy<Value = SyntaxId> {
            (any::<u128>(), any::<u32>()).prop_map(|(u, version)| SyntaxId {
                uuid: Uuid::from_u128(u),
                version,
            })
        }

        fn bind() -> impl Strategy<Value = Bind> {
            (
                any::<u16>(),
                any::<u16>(),
                any::<u32>(),
                prop::collection::vec(
                    (
                        any::<u16>(),
                        syntax(),
                        prop::collection::vec(syntax(), 0..4),
                    ),
                    0..5,
                ),
            )
                .prop_map(|(x, r, a, cs)| Bind {
                    max_xmit_frag: x,
                    max_recv_frag: r,
                    assoc_group_id: a,
                    contexts: cs
                        .into_iter()
                        .map(
                            |(context_id, abstract_syntax, transfer_syntaxes)| ContextElem {
                                context_id,
                                abstract_syntax,
                                transfer_syntaxes,
                            },
                        )
                        .collect(),
                })
        }

        fn ack() -> impl Strategy<Value = BindAck> {
            (
                any::<u16>(),
                any::<u16>(),
                any::<u32>(),
                "[0-9]{0,6}",
                prop::collection::vec((any::<u16>(), any::<u16>(), syntax()), 0..4),
            )
                .prop_map(|(x, r, a, addr, rs)| BindAck {
                    max_xmit_frag: x,
                    max_recv_frag: r,
                    assoc_group_id: a,
                    secondary_address: addr,
                    results: rs
                        .into_iter()
                        .map(|(result, reason, transfer_syntax)| ContextResult {
                            result,
                            reason,
                            transfer_syntax,
                        })
                        .collect(),
                })
        }

        proptest! {
            #[test]
            fn binds_and_acks_round_trip(b in bind(), a in ack(), big in any::<bool>(),
                                         call in any::<u32>(), flags in any::<u8>()) {
                let order = if big { ByteOrder::Big } else { ByteOrder::Little };
                for pdu in [
                    Pdu::new(order, call, flags, Body::Bind(b.clone())),
                    Pdu::new(order, call, flags, Body::AlterContext(b)),
                    Pdu::new(order, call, flags, Body::BindAck(a.clone())),
                    Pdu::new(order, call, flags, Body::AlterContextResp(a)),
                ] {
                    let bytes = pdu.encode().unwrap();
                    let back = Pdu::decode(&bytes).unwrap();
                    prop_assert_eq!(back.body, pdu.body);
                    prop_assert_eq!(back.header.call_id, call);
                }
            }

            #[test]
            fn calls_round_trip(stub in prop::collection::vec(any::<u8>(), 0..2000),
                                hint in any::<u32>(), ctx in any::<u16>(), opnum in any::<u16>(),
                                object in proptest::option::of(any::<u128>()),
                                status in any::<u32>(), big in any::<bool>(), flags in 0u8..0x40) {
                let order = if big { ByteOrder::Big } else { ByteOrder::Little };
                let bodies = [
                    Body::Request(Request { alloc_hint: hint, context_id: ctx, opnum,
                        object: object.map(Uuid::from_u128), stub: &stub }),
                    Body::Response(Response { alloc_hint: hint, context_id: ctx, cancel_count: 0,
                        stub: &stub }),
                    Body::Fault(Fault { alloc_hint: hint, context_id: ctx, cancel_count: 0,
                        status, stub: &stub }),
                ];
                for body in bodies {
                    let pdu = Pdu::new(order, 9, flags, body);
                    let bytes = pdu.encode().unwrap();
                    prop_assert_eq!(frame_length(&bytes).unwrap(), Some(bytes.len()));
                    prop_assert_eq!(Pdu::decode(&bytes).unwrap().body, pdu.body);
                }
            }

            #[test]
            fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
                if let Ok(Some(n)) = frame_length(&bytes) {
                    let _ = Pdu::decode(&bytes[..n]);
                }
            }
        }
    }
}
