//! Reassembly of a fragmented response (C706 §12.6.3.1): the stubs of the fragments of one
//! call are joined in order, from the fragment flagged first to the one flagged last. The
//! `alloc_hint` a peer sends is only a hint: the buffer grows with the bytes that really
//! arrive, and never beyond the configured limit.

use super::WireError;
use super::pdu::Header;

/// Default limit for one reassembled stub (a 500-entry `ept_lookup` page is under 100 KiB).
pub const DEFAULT_MAX_STUB: usize = 4 * 1024 * 1024;
/// The most a hint may make us reserve up front.
const MAX_HINT_RESERVE: usize = 64 * 1024;

/// Collects the stub fragments of one call.
#[derive(Debug)]
pub struct Reassembler {
    stub: Vec<u8>,
    limit: usize,
    call_id: Option<u32>,
    fragments: usize,
}

/// What one more fragment made of the call.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// More fragments are due.
    More,
    /// The last fragment arrived.
    Complete,
}

impl Reassembler {
    pub fn new(limit: usize) -> Self {
        Reassembler {
            stub: Vec::new(),
            limit,
            call_id: None,
            fragments: 0,
        }
    }

    /// Add the stub of a fragment with `header`; `alloc_hint` from its body.
    pub fn push(
        &mut self,
        header: &Header,
        alloc_hint: u32,
        stub: &[u8],
    ) -> Result<Progress, WireError> {
        // Every check comes before any change, so a refused fragment leaves the reassembler
        // as it was.
        let size = self.stub.len().saturating_add(stub.len());
        if size > self.limit {
            return Err(WireError::TooLarge {
                what: "reassembled stub",
                size,
                limit: self.limit,
            });
        }
        match self.call_id {
            None => {
                if !header.is_first() {
                    return Err(WireError::invalid(
                        "response",
                        "first fragment of a call lacks the first-fragment flag",
                    ));
                }
                self.call_id = Some(header.call_id);
                let hint = usize::try_from(alloc_hint).unwrap_or(usize::MAX);
                self.stub
                    .reserve(hint.min(MAX_HINT_RESERVE).min(self.limit));
            }
            Some(id) => {
                if header.call_id != id {
                    return Err(WireError::invalid(
                        "response",
                        format!(
                            "fragment for call {} arrived while call {id} was being reassembled",
                            header.call_id
                        ),
                    ));
                }
                if header.is_first() {
                    return Err(WireError::invalid(
                        "response",
                        "a second first fragment arrived in the middle of a call",
                    ));
                }
            }
        }
        self.stub.extend_from_slice(stub);
        self.fragments += 1;
        Ok(if header.is_last() {
            Progress::Complete
        } else {
            Progress::More
        })
    }

    /// Number of fragments taken so far.
    pub fn fragments(&self) -> usize {
        self.fragments
    }

    /// The joined stub.
    pub fn into_stub(self) -> Vec<u8> {
        self.stub
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ndr::ByteOrder;
    use crate::wire::pdu::{PFC_FIRST_FRAG, PFC_LAST_FRAG, ptype};

    fn header(flags: u8, call_id: u32) -> Header {
        Header::new(ByteOrder::Little, ptype::RESPONSE, flags, call_id)
    }

    #[test]
    fn joins_fragments_in_order() {
        let mut r = Reassembler::new(100);
        assert_eq!(
            r.push(&header(PFC_FIRST_FRAG, 1), 9, b"abc").unwrap(),
            Progress::More
        );
        assert_eq!(r.push(&header(0, 1), 9, b"def").unwrap(), Progress::More);
        assert_eq!(
            r.push(&header(PFC_LAST_FRAG, 1), 9, b"ghi").unwrap(),
            Progress::Complete
        );
        assert_eq!(r.fragments(), 3);
        assert_eq!(r.into_stub(), b"abcdefghi");
    }

    #[test]
    fn single_fragment_call() {
        let mut r = Reassembler::new(10);
        assert_eq!(
            r.push(&header(PFC_FIRST_FRAG | PFC_LAST_FRAG, 1), 3, b"abc")
                .unwrap(),
            Progress::Complete
        );
    }

    #[test]
    fn a_huge_hint_reserves_little_and_the_limit_holds() {
        let mut r = Reassembler::new(8);
        r.push(&header(PFC_FIRST_FRAG, 1), u32::MAX, b"1234")
            .unwrap();
        assert!(r.stub.capacity() <= MAX_HINT_RESERVE);
        assert!(matches!(
            r.push(&header(0, 1), u32::MAX, b"56789"),
            Err(WireError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_refused_first_fragment_leaves_no_trace() {
        let mut r = Reassembler::new(4);
        assert!(r.push(&header(PFC_FIRST_FRAG, 1), 0, b"too long").is_err());
        assert_eq!(r.call_id, None);
        assert_eq!(r.fragments(), 0);
        // A proper first fragment of another call is still welcome.
        assert_eq!(
            r.push(&header(PFC_FIRST_FRAG | PFC_LAST_FRAG, 2), 0, b"ok")
                .unwrap(),
            Progress::Complete
        );
    }

    #[test]
    fn out_of_order_flags_and_foreign_calls_are_errors() {
        let mut r = Reassembler::new(100);
        assert!(r.push(&header(0, 1), 0, b"x").is_err());
        let mut r = Reassembler::new(100);
        r.push(&header(PFC_FIRST_FRAG, 1), 0, b"x").unwrap();
        assert!(r.push(&header(0, 2), 0, b"x").is_err());
        assert!(r.push(&header(PFC_FIRST_FRAG, 1), 0, b"x").is_err());
    }
}
