//! The one bounded little-endian cursor every SMB2 and NTLMSSP decoder reads through: each read
//! checks the bytes left first, and [`Reader::field`] takes a (offset, length) pair from the peer
//! and returns the bytes only when they lie inside the message. Pure.

use super::SmbWireError;

/// A cursor over one message. Offsets in errors are from the start of the message.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    /// A cursor at `pos` of `buf` (for bodies that follow a header).
    pub fn at(buf: &'a [u8], pos: usize, what: &'static str) -> Self {
        Reader { buf, pos, what }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    fn malformed(&self) -> SmbWireError {
        SmbWireError::Malformed {
            what: self.what,
            offset: self.pos,
        }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], SmbWireError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.malformed())?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.malformed())?;
        self.pos = end;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), SmbWireError> {
        self.take(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, SmbWireError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, SmbWireError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, SmbWireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, SmbWireError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], SmbWireError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// The `len` bytes at `offset` from the start of the message, which must lie inside it
    /// (an empty field may carry any offset).
    pub fn field(&self, offset: usize, len: usize) -> Result<&'a [u8], SmbWireError> {
        if len == 0 {
            return Ok(&[]);
        }
        offset
            .checked_add(len)
            .and_then(|end| self.buf.get(offset..end))
            .ok_or(SmbWireError::Invalid {
                what: self.what,
                detail: format!(
                    "a field of {len} bytes at offset {offset} lies outside the {} bytes received",
                    self.buf.len()
                ),
            })
    }

    /// The structure size field every SMB2 body starts with must be `want`.
    pub fn structure_size(&mut self, want: u16) -> Result<(), SmbWireError> {
        let got = self.u16()?;
        if got != want {
            return Err(SmbWireError::invalid(
                self.what,
                format!("structure size {got}, expected {want}"),
            ));
        }
        Ok(())
    }
}

/// Little-endian writes onto a growing message.
pub trait Put {
    fn u16le(&mut self, v: u16);
    fn u32le(&mut self, v: u32);
    fn u64le(&mut self, v: u64);
}

impl Put for Vec<u8> {
    fn u16le(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u32le(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u64le(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
}

/// UTF-16LE of `s`, as SMB2 paths and NTLMSSP strings are sent.
pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_outside_the_message_are_refused() {
        let buf = [0u8; 10];
        let r = Reader::new(&buf, "t");
        assert_eq!(r.field(8, 2).unwrap().len(), 2);
        assert!(r.field(8, 3).is_err());
        assert!(r.field(usize::MAX, 2).is_err());
        assert!(r.field(usize::MAX, 0).unwrap().is_empty());
    }

    #[test]
    fn reads_stop_at_the_end() {
        let buf = [1, 0, 2];
        let mut r = Reader::new(&buf, "t");
        assert_eq!(r.u16().unwrap(), 1);
        assert!(r.u16().is_err());
        assert_eq!(r.u8().unwrap(), 2);
        assert!(r.u8().is_err());
    }
}
