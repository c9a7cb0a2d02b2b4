//! Fuzz property: `wire::pdu::frame_length` and `Pdu::decode` on arbitrary bytes, as the
//! connection feeds them. A decoded PDU must encode without panicking, and the encoding must
//! decode to the same PDU, auth verifier included (only `frag_length` may change: padding and
//! bytes a body does not account for are not written back).
//!
//! Shared by `fuzz_targets/pdu_decode.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/pdu_decode/` and `fuzz/regressions/pdu_decode/` in plain `cargo test`.
use rpcaudit::wire::pdu::{self, HEADER_LEN, Pdu};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    // The whole input as one frame, whatever frame_length thinks of it.
    let _ = Pdu::decode(data);
    let _ = pdu::layout(data);
    let len = match pdu::frame_length(data) {
        Ok(Some(n)) => n,
        Ok(None) => {
            assert!(data.len() < HEADER_LEN || pdu::parse_header(data).is_ok());
            return;
        }
        Err(_) => return,
    };
    assert!(
        (HEADER_LEN..=data.len()).contains(&len),
        "frame length {len}"
    );
    let frame = &data[..len];
    let Ok(p) = Pdu::decode(frame) else { return };
    assert_eq!(usize::from(p.header.frag_length), len);
    if let Some(a) = &p.auth {
        let l = pdu::layout(frame)
            .expect("a decoded verifier has a layout")
            .expect("and is there");
        assert_eq!(a.token, &frame[l.token.clone()]);
        assert_eq!(l.trailer_at % 4, 0);
        assert!(l.payload.end <= l.trailer_at && l.token.end == len);
    }
    let Ok(bytes) = p.encode() else { return };
    assert_eq!(pdu::frame_length(&bytes), Ok(Some(bytes.len())));
    let back = Pdu::decode(&bytes).expect("the encoding of a decoded PDU must decode");
    let mut expected = p.clone();
    expected.header.frag_length = bytes.len() as u16;
    assert_eq!(back, expected);
    // A second round is byte-exact.
    assert_eq!(back.encode().expect("re-encode"), bytes);
}
