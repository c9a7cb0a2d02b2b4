//! The call PDUs of C706 §12.6.4: request, response and fault. Their bodies, the nom parsers
//! [`super::Pdu::decode`] calls for them (each leaves the rest of the body as the stub, which
//! the caller trims of the auth padding), and their encoders for [`super::Pdu::encode`].

use super::Enc;
use crate::wire::ndr::{ByteOrder, put_uuid, uuid_in};
use nom::IResult;
use nom::number::Endianness;
use nom::number::complete as num;
use uuid::Uuid;

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

/// alloc_hint, p_cont_id and cancel_count (and its reserved byte): how response and fault begin.
fn reply_head(e: Endianness, i: &[u8]) -> IResult<&[u8], (u32, u16, u8)> {
    let (i, alloc_hint) = num::u32(e)(i)?;
    let (i, context_id) = num::u16(e)(i)?;
    let (i, cancel_count) = num::u8(i)?;
    let (i, _) = num::u8(i)?;
    Ok((i, (alloc_hint, context_id, cancel_count)))
}

/// A request body; with `object` (PFC_OBJECT_UUID) an object UUID follows the opnum.
pub(super) fn parse_request(
    order: ByteOrder,
    e: Endianness,
    object: bool,
    i: &[u8],
) -> IResult<&[u8], Request<'_>> {
    let (i, alloc_hint) = num::u32(e)(i)?;
    let (i, context_id) = num::u16(e)(i)?;
    let (i, opnum) = num::u16(e)(i)?;
    let (i, object) = if object {
        let (i, u) = uuid_in(order, i)?;
        (i, Some(u))
    } else {
        (i, None)
    };
    let request = Request {
        alloc_hint,
        context_id,
        opnum,
        object,
        stub: i,
    };
    Ok((&[], request))
}

pub(super) fn parse_response(e: Endianness, i: &[u8]) -> IResult<&[u8], Response<'_>> {
    let (i, (alloc_hint, context_id, cancel_count)) = reply_head(e, i)?;
    let response = Response {
        alloc_hint,
        context_id,
        cancel_count,
        stub: i,
    };
    Ok((&[], response))
}

pub(super) fn parse_fault(e: Endianness, i: &[u8]) -> IResult<&[u8], Fault<'_>> {
    let (i, (alloc_hint, context_id, cancel_count)) = reply_head(e, i)?;
    let (i, status) = num::u32(e)(i)?;
    // Four reserved bytes follow the status; some peers end the PDU right there.
    let i = i.get(4..).unwrap_or(&[]);
    let fault = Fault {
        alloc_hint,
        context_id,
        cancel_count,
        status,
        stub: i,
    };
    Ok((&[], fault))
}

pub(super) fn encode_request(w: &mut Enc, r: &Request<'_>) {
    w.u32(r.alloc_hint);
    w.u16(r.context_id);
    w.u16(r.opnum);
    if let Some(o) = &r.object {
        put_uuid(w.order, &mut w.buf, o);
    }
    w.buf.extend_from_slice(r.stub);
}

fn encode_reply_head(w: &mut Enc, alloc_hint: u32, context_id: u16, cancel_count: u8) {
    w.u32(alloc_hint);
    w.u16(context_id);
    w.buf.push(cancel_count);
    w.buf.push(0);
}

pub(super) fn encode_response(w: &mut Enc, r: &Response<'_>) {
    encode_reply_head(w, r.alloc_hint, r.context_id, r.cancel_count);
    w.buf.extend_from_slice(r.stub);
}

pub(super) fn encode_fault(w: &mut Enc, f: &Fault<'_>) {
    encode_reply_head(w, f.alloc_hint, f.context_id, f.cancel_count);
    w.u32(f.status);
    w.u32(0);
    w.buf.extend_from_slice(f.stub);
}
