//! NDR 2.0 (C706 chapter 14) primitives for the stubs and PDUs this tool exchanges: integers
//! in the sender's byte order, UUIDs, context handles, and alignment measured from the start of
//! the buffer. [`NdrReader`] is a cursor over one buffer that checks every length against the
//! bytes left before it uses it, and names the buffer and the offset in its errors;
//! [`NdrWriter`] builds one. [`Codec`] is the one shape of every stub and PDU body read and
//! written with them; a [`Stub`] is a codec that is a whole operation's stub.

use super::WireError;
use uuid::Uuid;

/// The integer byte order a peer declared in its data representation label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
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

    /// The 16-bit value of `b` in this byte order: the one place a 16-bit field is read.
    pub fn u16_from(self, b: [u8; 2]) -> u16 {
        match self {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        }
    }

    /// The 32-bit value of `b` in this byte order: the one place a 32-bit field is read.
    pub fn u32_from(self, b: [u8; 4]) -> u32 {
        match self {
            ByteOrder::Little => u32::from_le_bytes(b),
            ByteOrder::Big => u32::from_be_bytes(b),
        }
    }
}

/// Reads NDR primitives from one buffer (a stub, a PDU, a tower), front to back. Alignment and
/// offsets count from the buffer's start. Every read checks its length against the bytes left
/// before it moves past them; a failed read says what was being read ([`NdrReader::what`]) and
/// at which byte, and has moved no further than the alignment padding before the item.
#[derive(Debug, Clone)]
pub struct NdrReader<'a> {
    buf: &'a [u8],
    pos: usize,
    order: ByteOrder,
    what: &'static str,
}

impl<'a> NdrReader<'a> {
    /// A reader for `buf`, whose integers are in `order`; `what` names it in errors.
    pub fn new(buf: &'a [u8], order: ByteOrder, what: &'static str) -> Self {
        NdrReader {
            buf,
            pos: 0,
            order,
            what,
        }
    }

    /// What this reader reads, for errors ("ept_lookup response", "bind_ack", ...).
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Offset of the next byte from the buffer's start.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The error for data that ends or breaks off here.
    pub fn malformed(&self) -> WireError {
        WireError::Malformed {
            what: self.what,
            offset: self.pos,
        }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let taken = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end))
            .ok_or_else(|| self.malformed())?;
        self.pos += n;
        Ok(taken)
    }

    /// The next `N` bytes, without alignment (for fields of fixed layout: headers, towers).
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let taken = self
            .buf
            .get(self.pos..)
            .and_then(|rest| rest.first_chunk::<N>())
            .ok_or_else(|| self.malformed())?;
        self.pos += N;
        Ok(*taken)
    }

    /// Every byte left.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }

    /// Skip padding so the next item starts at a multiple of `n` from the buffer's start (0 and
    /// 1 align nothing).
    pub fn align(&mut self, n: usize) -> Result<(), WireError> {
        let pad = match self.pos.checked_rem(n) {
            Some(r) if r > 0 => n - r,
            _ => 0,
        };
        self.bytes(pad).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, WireError> {
        self.array::<1>().map(|[b]| b)
    }

    /// A u16, aligned to 2.
    pub fn u16(&mut self) -> Result<u16, WireError> {
        self.align(2)?;
        Ok(self.order.u16_from(self.array()?))
    }

    /// A u32, aligned to 4.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        self.align(4)?;
        Ok(self.order.u32_from(self.array()?))
    }

    /// A UUID as NDR sends it, aligned to 4: u32, u16, u16 in the sender's order, then 8 bytes.
    pub fn uuid(&mut self) -> Result<Uuid, WireError> {
        self.align(4)?;
        Ok(uuid_from(self.order, &self.array()?))
    }

    /// A context handle: attributes (u32) and a UUID, 20 bytes.
    pub fn context_handle(&mut self) -> Result<ContextHandle, WireError> {
        let attributes = self.u32()?;
        let uuid = self.uuid()?;
        Ok(ContextHandle { attributes, uuid })
    }

    /// The end of a stub: what is left must be nothing, or alignment padding of fewer than 8
    /// zero bytes (tolerated: an NDR engine may round a stub up to its 8-byte alignment).
    /// Anything else is data this decoder would silently drop, so it is an error.
    pub fn end(&self) -> Result<(), WireError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if rest.is_empty() || (rest.len() < 8 && rest.iter().all(|&b| b == 0)) {
            return Ok(());
        }
        Err(WireError::Trailing {
            what: self.what,
            offset: self.pos,
            len: rest.len(),
        })
    }
}

/// A value with one NDR layout, read from an [`NdrReader`] and written to an [`NdrWriter`]:
/// the codec shape of the endpoint mapper's stubs ([`Stub`]) and of the PDU bodies. `'a` is
/// the lifetime of the bytes read, for values that borrow them (a response's stub).
pub trait Codec<'a>: Sized {
    /// Read a value from `r`, leaving it after the value's last byte.
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError>;

    /// Append this value's NDR to `w`.
    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError>;
}

/// A stub body (the NDR of one operation's request or response). [`Stub::decode`] reads the
/// whole stub: bytes left over after the last field are an error ([`NdrReader::end`]).
pub trait Stub: for<'a> Codec<'a> {
    /// Names the stub in errors, e.g. "ept_lookup response".
    const WHAT: &'static str;

    /// The stub in `order`.
    fn encode(&self, order: ByteOrder) -> Result<Vec<u8>, WireError> {
        let mut w = NdrWriter::new(order);
        self.write(&mut w)?;
        Ok(w.into_bytes())
    }

    /// Decode a whole stub whose integers are in `order`.
    fn decode(stub: &[u8], order: ByteOrder) -> Result<Self, WireError> {
        let mut r = NdrReader::new(stub, order, Self::WHAT);
        let value = Self::read(&mut r)?;
        r.end()?;
        Ok(value)
    }
}

/// A UUID from its 16 bytes with the first three fields in `order`.
pub fn uuid_from(order: ByteOrder, b: &[u8; 16]) -> Uuid {
    let [a0, a1, a2, a3, b0, b1, c0, c1, d @ ..] = *b;
    Uuid::from_fields(
        order.u32_from([a0, a1, a2, a3]),
        order.u16_from([b0, b1]),
        order.u16_from([c0, c1]),
        &d,
    )
}

/// Append a UUID's 16 bytes with the first three fields in `order`.
pub fn put_uuid(order: ByteOrder, out: &mut Vec<u8>, uuid: &Uuid) {
    let (d1, d2, d3, d4) = uuid.as_fields();
    out.extend_from_slice(&order.u32_bytes(d1));
    out.extend_from_slice(&order.u16_bytes(d2));
    out.extend_from_slice(&order.u16_bytes(d3));
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
        Self::with_capacity(order, 0)
    }

    /// A writer with room for `n` bytes before it grows.
    pub fn with_capacity(order: ByteOrder, n: usize) -> Self {
        NdrWriter {
            buf: Vec::with_capacity(n),
            order,
        }
    }

    /// Pad with zeros to the next multiple of `n` bytes (0 and 1 align nothing).
    pub fn align(&mut self, n: usize) {
        if let Some(r) = self.buf.len().checked_rem(n)
            && r > 0
        {
            self.buf.resize(self.buf.len() + (n - r), 0);
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
    fn aligning_to_zero_or_one_is_no_alignment() {
        let mut w = NdrWriter::new(ByteOrder::Little);
        w.u8(7);
        w.align(0);
        w.align(1);
        assert_eq!(w.into_bytes(), [7]);
        let mut r = NdrReader::new(&[7, 8], ByteOrder::Little, "test");
        r.u8().unwrap();
        r.align(0).unwrap();
        r.align(1).unwrap();
        assert_eq!(r.u8().unwrap(), 8);
    }

    #[test]
    fn alignment_counts_from_the_stub_start() {
        let mut w = NdrWriter::new(ByteOrder::Little);
        w.u8(7);
        w.u32(0x0102_0304);
        w.u16(5);
        w.u32(9);
        let stub = w.into_bytes();
        assert_eq!(stub, [7, 0, 0, 0, 4, 3, 2, 1, 5, 0, 0, 0, 9, 0, 0, 0]);
        let mut r = NdrReader::new(&stub, ByteOrder::Little, "test");
        let a = r.u8().unwrap();
        let b = r.u32().unwrap();
        let c = r.u16().unwrap();
        let d = r.u32().unwrap();
        assert_eq!((a, b, c, d), (7, 0x0102_0304, 5, 9));
        assert_eq!(r.remaining(), 0);
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
        assert_eq!(uuid_from(ByteOrder::Little, le.first_chunk().unwrap()), id);
        assert_eq!(uuid_from(ByteOrder::Big, be.first_chunk().unwrap()), id);
    }

    #[test]
    fn a_stub_ends_at_its_last_field_or_its_alignment_padding() {
        let stub = [1u8, 0, 0, 0, 0, 0, 0, 0, 9];
        // A reader of `buf` that has read its first `at` bytes.
        let after = |buf, at| {
            let mut r = NdrReader::new(buf, ByteOrder::Little, "stub");
            r.bytes(at).unwrap();
            r
        };
        assert!(
            after(&stub[..8], 4).end().is_ok(),
            "zero padding below 8 bytes"
        );
        assert!(after(&stub, 9).end().is_ok());
        assert_eq!(
            after(&stub, 4).end(),
            Err(WireError::Trailing {
                what: "stub",
                offset: 4,
                len: 5
            })
        );
        let data = [0u8, 0, 7];
        assert!(
            after(&data, 0).end().is_err(),
            "non-zero bytes are data, not padding"
        );
        let eight = [0u8; 8];
        assert!(
            after(&eight, 0).end().is_err(),
            "8 bytes is more than any alignment"
        );
    }

    #[test]
    fn truncation_is_an_error_with_offset() {
        let stub = [1u8, 0, 0, 0, 2, 0];
        let mut r = NdrReader::new(&stub, ByteOrder::Little, "stub");
        r.u32().unwrap();
        let err = r.u32().unwrap_err();
        assert_eq!(
            err,
            WireError::Malformed {
                what: "stub",
                offset: 4
            }
        );
    }
}
