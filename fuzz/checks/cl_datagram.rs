//! Fuzz property: `wire::cl::Datagram::decode` on arbitrary bytes, as a UDP socket hands them
//! over, then `wire::cl::ClReassembler` on datagrams carved from the input. A decoded datagram
//! re-encodes to exactly the input (decode refuses trailing bytes, so nothing is dropped); the
//! status of a fault or reject body never panics; the reassembler never holds more than its
//! caps, whatever order, duplicates and errors come in, and a complete body is the accepted
//! fragments joined in fragment order.
//!
//! Shared by `fuzz_targets/cl_datagram.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/cl_datagram/` and `fuzz/regressions/cl_datagram/` in plain `cargo test`.
use rpcaudit::wire::cl::{self, ClProgress, ClReassembler, Datagram};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    if let Ok(d) = Datagram::decode(data) {
        assert_eq!(d.body.len(), data.len() - cl::HEADER_LEN);
        let bytes = d.encode().expect("a decoded datagram encodes");
        assert_eq!(bytes, data, "re-encoding is byte-exact");
        let _ = cl::status_body(d.body, d.header.byte_order());
    }
    // Datagrams carved from the input: a length byte, then that many bytes, over and over,
    // each decoded and pushed into a reassembler with small caps.
    let (max_size, max_fragments) = match data.first() {
        Some(b) => (usize::from(*b) * 4, usize::from(b % 16) + 1),
        None => return,
    };
    let mut r = ClReassembler::new(max_size, max_fragments);
    let mut accepted = std::collections::BTreeMap::new();
    let mut rest = &data[1..];
    while let Some((&n, tail)) = rest.split_first() {
        let n = usize::from(n) + cl::HEADER_LEN;
        let (piece, tail) = tail.split_at(n.min(tail.len()));
        rest = tail;
        let Ok(d) = Datagram::decode(piece) else {
            continue;
        };
        let fragnum = if d.header.is_fragment() {
            d.header.fragnum
        } else {
            0
        };
        match r.push(&d.header, d.body) {
            Ok(ClProgress::Duplicate) => {}
            Ok(p) => {
                accepted.insert(fragnum, d.body.to_vec());
                let (held, _) = r.held();
                assert!(held <= max_fragments);
                assert_eq!(held, accepted.len());
                assert!(accepted.values().map(Vec::len).sum::<usize>() <= max_size);
                if p == ClProgress::Complete {
                    let joined: Vec<u8> = accepted.values().flatten().copied().collect();
                    assert_eq!(r.into_body(), joined);
                    return;
                }
            }
            Err(_) => {}
        }
    }
}
