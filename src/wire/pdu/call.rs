//! The call PDUs of C706 §12.6.4: request, response and fault. Their bodies and their readers
//! and writers, which [`super::Pdu::decode`] and [`super::Pdu::encode`] call: each reader takes
//! the rest of the body as the stub, which the caller trims of the auth padding.

use crate::wire::WireError;
use crate::wire::ndr::{Codec, NdrReader, NdrWriter};
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

/// How a response and a fault begin: alloc_hint, p_cont_id, cancel_count (and a reserved
/// byte on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyHead {
    pub alloc_hint: u32,
    pub context_id: u16,
    pub cancel_count: u8,
}

/// response body; `stub` is this fragment's part of the NDR stub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    pub head: ReplyHead,
    pub stub: &'a [u8],
}

/// fault body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault<'a> {
    pub head: ReplyHead,
    pub status: u32,
    pub stub: &'a [u8],
}

/// `len` as an `alloc_hint`: a hint, so a stub too long for it says "at least this much".
fn hint(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl<'a> Request<'a> {
    /// alloc_hint, p_cont_id and opnum: what comes before the object UUID (when there is
    /// one) and the stub.
    pub const HEAD_LEN: usize = 8;
    /// The head and the object UUID after it (PFC_OBJECT_UUID).
    pub const OBJECT_HEAD_LEN: usize = Self::HEAD_LEN + 16;

    /// A request for `opnum` of presentation context 0 carrying `stub` whole (one fragment,
    /// no object UUID).
    pub fn call(opnum: u16, stub: &'a [u8]) -> Self {
        Request {
            alloc_hint: hint(stub.len()),
            context_id: 0,
            opnum,
            object: None,
            stub,
        }
    }

    /// A request body; with `object` (PFC_OBJECT_UUID) an object UUID follows the opnum.
    pub(super) fn read(r: &mut NdrReader<'a>, object: bool) -> Result<Self, WireError> {
        Ok(Request {
            alloc_hint: r.u32()?,
            context_id: r.u16()?,
            opnum: r.u16()?,
            object: if object { Some(r.uuid()?) } else { None },
            stub: r.rest(),
        })
    }

    /// The body; the object UUID when there is one (the header's flag says so).
    pub(super) fn write(&self, w: &mut NdrWriter) {
        w.u32(self.alloc_hint);
        w.u16(self.context_id);
        w.u16(self.opnum);
        if let Some(o) = &self.object {
            w.uuid(o);
        }
        w.bytes(self.stub);
    }
}

impl ReplyHead {
    /// Its length on the wire, the reserved byte included.
    pub const LEN: usize = 8;
}

impl<'a> Codec<'a> for ReplyHead {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let head = ReplyHead {
            alloc_hint: r.u32()?,
            context_id: r.u16()?,
            cancel_count: r.u8()?,
        };
        r.u8()?;
        Ok(head)
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.u32(self.alloc_hint);
        w.u16(self.context_id);
        w.u8(self.cancel_count);
        w.u8(0);
        Ok(())
    }
}

impl<'a> Response<'a> {
    /// A response of presentation context 0 carrying `stub` whole (one fragment).
    pub fn whole(stub: &'a [u8]) -> Self {
        Response {
            head: ReplyHead {
                alloc_hint: hint(stub.len()),
                ..ReplyHead::default()
            },
            stub,
        }
    }
}

impl<'a> Codec<'a> for Response<'a> {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        Ok(Response {
            head: ReplyHead::read(r)?,
            stub: r.rest(),
        })
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        self.head.write(w)?;
        w.bytes(self.stub);
        Ok(())
    }
}

impl Fault<'_> {
    /// The reply head, the status and four reserved bytes: what comes before the stub.
    pub const HEAD_LEN: usize = ReplyHead::LEN + 8;

    /// A fault of presentation context 0 with `status` and no stub.
    pub fn status(status: u32) -> Self {
        Fault {
            head: ReplyHead::default(),
            status,
            stub: &[],
        }
    }
}

impl<'a> Codec<'a> for Fault<'a> {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let head = ReplyHead::read(r)?;
        let status = r.u32()?;
        // Four reserved bytes follow the status; some peers end the PDU right there.
        r.bytes(r.remaining().min(4))?;
        Ok(Fault {
            head,
            status,
            stub: r.rest(),
        })
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        self.head.write(w)?;
        w.u32(self.status);
        w.u32(0);
        w.bytes(self.stub);
        Ok(())
    }
}
