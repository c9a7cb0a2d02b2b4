//! NDR 2.0 (C706 chapter 14) primitives for the stubs this tool exchanges: integers in the
//! sender's byte order, UUIDs, context handles, and alignment measured from the start of the
//! stub. [`NdrReader`] wraps nom parsers that know the stub's total length, so the current
//! offset (and so the alignment) follows from the remaining input; [`NdrWriter`] builds stubs.

use super::WireError;
use nom::IResult;
use nom::number::Endianness;
use nom::number::complete as num;
use uuid::Uuid;

/// The integer byte order a peer declared in its data representation label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    fn nom(self) -> Endianness {
        match self {
            ByteOrder::Little => Endianness::Little,
            ByteOrder::Big => Endianness::Big,
        }
    }

    /// `v` in this byte order: the one place a 16-bit field is laid out.
    pub fn u16_bytes(self, v: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    /// `v` in this byte order: the one place a 32-bit field is laid out.
    pub fn u32_bytes(self, v: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }
}

type Res<'a, T> = IResult<&'a [u8], T>;

/// Decodes NDR primitives from a stub of known total length.
#[derive(Debug, Clone, Copy)]
pub struct NdrReader {
    total: usize,
    order: ByteOrder,
    what: &'static str,
}

impl NdrReader {
    /// A reader for `stub`, whose integers are in `order`; `what` names the stub in errors.
    pub fn new(stub: &[u8], order: ByteOrder, what: &'static str) -> Self {
        NdrReader {
            total: stub.len(),
            order,
            what,
        }
    }

    /// Offset of `rest` within the stub.
    pub fn offset(&self, rest: &[u8]) -> usize {
        self.total.saturating_sub(rest.len())
    }

    /// Turn a nom failure at `rest` into a [`WireError`] naming the stub and the offset.
    pub fn error(&self, rest: &[u8]) -> WireError {
        WireError::Malformed {
            what: self.what,
            offset: self.offset(rest),
        }
    }

    /// Map a nom result to a [`WireError`] that names the stub and the failing offset.
    pub fn finish<'a, T>(&self, result: Res<'a, T>) -> Result<(&'a [u8], T), WireError> {
        result.map_err(|e| match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => self.error(e.input),
            nom::Err::Incomplete(_) => WireError::Malformed {
                what: self.what,
                offset: self.total,
            },
        })
    }

    /// The end of a stub: `rest` must be empty, or alignment padding of fewer than 8 zero
    /// bytes (tolerated: an NDR engine may round a stub up to its 8-byte alignment). Anything
    /// else is data this decoder would silently drop, so it is an error.
    pub fn end(&self, rest: &[u8]) -> Result<(), WireError> {
        if rest.is_empty() || (rest.len() < 8 && rest.iter().all(|&b| b == 0)) {
            return Ok(());
        }
        Err(WireError::Trailing {
            what: self.what,
            offset: self.offset(rest),
            len: rest.len(),
        })
    }

    /// Skip padding so the next item starts at a multiple of `n` from the stub's start.
    pub fn align<'a>(&self, n: usize, i: &'a [u8]) -> Res<'a, ()> {
        let pad = (n - self.offset(i) % n) % n;
        let (i, _) = nom::bytes::complete::take(pad)(i)?;
        Ok((i, ()))
    }

    pub fn u8<'a>(&self, i: &'a [u8]) -> Res<'a, u8> {
        num::u8(i)
    }

    pub fn u16<'a>(&self, i: &'a [u8]) -> Res<'a, u16> {
        let (i, _) = self.align(2, i)?;
        num::u16(self.order.nom())(i)
    }

    pub fn u32<'a>(&self, i: &'a [u8]) -> Res<'a, u32> {
        let (i, _) = self.align(4, i)?;
        num::u32(self.order.nom())(i)
    }

    /// A UUID as NDR sends it: u32, u16, u16 in the sender's order, then 8 bytes.
    pub fn uuid<'a>(&self, i: &'a [u8]) -> Res<'a, Uuid> {
        let (i, _) = self.align(4, i)?;
        uuid_in(self.order, i)
    }

    pub fn bytes<'a>(&self, n: usize, i: &'a [u8]) -> Res<'a, &'a [u8]> {
        nom::bytes::complete::take(n)(i)
    }

    /// A context handle: attributes (u32) and a UUID, 20 bytes.
    pub fn context_handle<'a>(&self, i: &'a [u8]) -> Res<'a, ContextHandle> {
        let (i, attributes) = self.u32(i)?;
        let (i, uuid) = self.uuid(i)?;
        Ok((i, ContextHandle { attributes, uuid }))
    }
}

/// A stub body (the NDR of one operation's request or response) that encodes into an
/// [`NdrWriter`] and decodes from an [`NdrReader`]. [`Stub::decode`] reads the whole stub:
/// bytes left over after the last field are an error ([`NdrReader::end`]).
pub trait Stub: Sized {
    /// Names the stub in errors, e.g. "ept_lookup response".
    const WHAT: &'static str;

    /// Append this value's NDR to `w`.
    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError>;

    /// Read a value from `i` (a suffix of the stub `r` was made for); the bytes after it.
    fn read<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], Self), WireError>;

    /// The stub in `order`.
    fn encode(&self, order: ByteOrder) -> Result<Vec<u8>, WireError> {
        let mut w = NdrWriter::new(order);
        self.write(&mut w)?;
        Ok(w.into_bytes())
    }

    /// Decode a whole stub whose integers are in `order`.
    fn decode(stub: &[u8], order: ByteOrder) -> Result<Self, WireError> {
        let r = NdrReader::new(stub, order, Self::WHAT);
        let (rest, value) = Self::read(&r, stub)?;
        r.end(rest)?;
        Ok(value)
    }
}

/// A UUID's 16 bytes with the first three fields in `order` (no alignment).
pub fn uuid_in(order: ByteOrder, i: &[u8]) -> Res<'_, Uuid> {
    let e = order.nom();
    let (i, d1) = num::u32(e)(i)?;
    let (i, d2) = num::u16(e)(i)?;
    let (i, d3) = num::u16(e)(i)?;
    let (i, d4) = nom::bytes::complete::take(8usize)(i)?;
    let mut tail = [0u8; 8];
    tail.copy_from_slice(d4);
    Ok((i, Uuid::from_fields(d1, d2, d3, &tail)))
}

/// Append a UUID's 16 bytes with the first three fields in `order`.
pub fn put_uuid(order: ByteOrder, out: &mut Vec<u8>, uuid: &Uuid) {
    let (d1, d2, d3, d4) = uuid.as_fields();
    match order {
        ByteOrder::Little => {
            out.extend_from_slice(&d1.to_le_bytes());
            out.extend_from_slice(&d2.to_le_bytes());
            out.extend_from_slice(&d3.to_le_bytes());
        }
        ByteOrder::Big => {
            out.extend_from_slice(&d1.to_be_bytes());
            out.extend_from_slice(&d2.to_be_bytes());
            out.extend_from_slice(&d3.to_be_bytes());
        }
    }
    out.extend_from_slice(d4);
}

/// An RPC context handle (`ndr_context_handle`): 20 opaque bytes, all zero when null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ContextHandle {
    pub attributes: u32,
    pub uuid: Uuid,
}

impl ContextHandle {
    pub const NULL: ContextHandle = ContextHandle {
        attributes: 0,
        uuid: Uuid::nil(),
    };

    pub fn is_null(&self) -> bool {
        self.attributes == 0 && self.uuid.is_nil()
    }
}

/// Builds an NDR stub in one byte order, aligning from the stub's start.
#[derive(Debug, Clone)]
pub struct NdrWriter {
    buf: Vec<u8>,
    order: ByteOrder,
}

impl NdrWriter {
    pub fn new(order: ByteOrder) -> Self {
        NdrWriter {
            buf: Vec::new(),
            order,
        }
    }

    pub fn align(&mut self, n: usize) {
        while !self.buf.len().is_multiple_of(n) {
            self.buf.push(0);
        }
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u16(&mut self, v: u16) {
        self.align(2);
        self.buf.extend_from_slice(&self.order.u16_bytes(v));
    }

    pub fn u32(&mut self, v: u32) {
        self.align(4);
        self.buf.extend_from_slice(&self.order.u32_bytes(v));
    }

    pub fn uuid(&mut self, uuid: &Uuid) {
        self.align(4);
        put_uuid(self.order, &mut self.buf, uuid);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub fn context_handle(&mut self, h: &ContextHandle) {
        self.u32(h.attributes);
        self.uuid(&h.uuid);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_counts_from_the_stub_start() {
        let mut w = NdrWriter::new(ByteOrder::Little);
        w.u8(7);
        w.u32(0x0102_0304);
        w.u16(5);
        w.u32(9);
        let stub = w.into_bytes();
        assert_eq!(stub, [7, 0, 0, 0, 4, 3, 2, 1, 5, 0, 0, 0, 9, 0, 0, 0]);
        let r = NdrReader::new(&stub, ByteOrder::Little, "test");
        let (i, a) = r.u8(&stub).unwrap();
        let (i, b) = r.u32(i).unwrap();
        let (i, c) = r.u16(i).unwrap();
        let (i, d) = r.u32(i).unwrap();
        assert_eq!((a, b, c, d), (7, 0x0102_0304, 5, 9));
        assert!(i.is_empty());
    }

    #[test]
    fn uuid_byte_orders() {
        let id = Uuid::from_u128(0xe1af8308_5d1f_11c9_91a4_08002b14a0fa);
        let mut le = Vec::new();
        put_uuid(ByteOrder::Little, &mut le, &id);
        assert_eq!(&le[..4], &[0x08, 0x83, 0xaf, 0xe1]);
        let mut be = Vec::new();
        put_uuid(ByteOrder::Big, &mut be, &id);
        assert_eq!(be, id.as_bytes());
        assert_eq!(uuid_in(ByteOrder::Little, &le).unwrap().1, id);
        assert_eq!(uuid_in(ByteOrder::Big, &be).unwrap().1, id);
    }

    #[test]
    fn a_stub_ends_at_its_last_field_or_its_alignment_padding() {
        let stub = [1u8, 0, 0, 0, 0, 0, 0, 0, 9];
        let r = NdrReader::new(&stub, ByteOrder::Little, "stub");
        assert!(r.end(&stub[4..8]).is_ok(), "zero padding below 8 bytes");
        assert!(r.end(&[]).is_ok());
        assert_eq!(
            r.end(&stub[4..]),
            Err(WireError::Trailing {
                what: "stub",
                offset: 4,
                len: 5
            })
        );
        let data = [0u8, 0, 7];
        let r = NdrReader::new(&data, ByteOrder::Little, "stub");
        assert!(
            r.end(&data).is_err(),
            "non-zero bytes are data, not padding"
        );
        let eight = [0u8; 8];
        let r = NdrReader::new(&eight, ByteOrder::Little, "stub");
        assert!(r.end(&eight).is_err(), "8 bytes is more than any alignment");
    }

    #[test]
    fn truncation_is_an_error_with_offset() {
        let stub = [1u8, 0, 0, 0, 2, 0];
        let r = NdrReader::new(&stub, ByteOrder::Little, "stub");
        let (i, _) = r.u32(&stub).unwrap();
        let err = r.finish(r.u32(i)).unwrap_err();
        assert_eq!(
            err,
            WireError::Malformed {
                what: "stub",
                offset: 4
            }
        );
    }
}
