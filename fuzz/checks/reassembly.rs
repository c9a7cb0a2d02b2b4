//! Fuzz property: `wire::reassembly::Reassembler` fed a sequence of response fragments carved
//! from the input, under a small limit. The joined stub never exceeds the limit, equals the
//! accepted fragments' stubs in order, and the flags decide More/Complete as C706 says.
//!
//! Input layout: byte 0 sets the limit (0..=255); then fragments, each
//! `[flags][call id selector][alloc_hint: 4 bytes LE][stub length][stub bytes]`.
//!
//! Shared by `fuzz_targets/reassembly.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/reassembly/` and `fuzz/regressions/reassembly/` in plain `cargo test`.
use rpcaudit::wire::ndr::ByteOrder;
use rpcaudit::wire::pdu::{Header, PFC_FIRST_FRAG, PFC_LAST_FRAG, ptype};
use rpcaudit::wire::reassembly::{Progress, Reassembler};

struct Fragment<'a> {
    header: Header,
    alloc_hint: u32,
    stub: &'a [u8],
}

fn carve(mut data: &[u8]) -> Vec<Fragment<'_>> {
    let mut out = Vec::new();
    while data.len() >= 7 && out.len() < 64 {
        let flags = data[0];
        let call_id = u32::from(data[1] % 3);
        let alloc_hint = u32::from_le_bytes([data[2], data[3], data[4], data[5]]);
        let n = usize::from(data[6]).min(data.len() - 7);
        let stub = &data[7..7 + n];
        data = &data[7 + n..];
        out.push(Fragment {
            header: Header::new(ByteOrder::Little, ptype::RESPONSE, flags, call_id),
            alloc_hint,
            stub,
        });
    }
    out
}

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let limit = usize::from(limit);
    let fragments = carve(rest);

    // As the client uses it: stop at the first error or at the last fragment.
    let mut r = Reassembler::new(limit);
    let mut model: Vec<u8> = Vec::new();
    let mut call = None;
    for (k, f) in fragments.iter().enumerate() {
        let res = r.push(&f.header, f.alloc_hint, f.stub);
        let first_ok = match call {
            None => f.header.flags & PFC_FIRST_FRAG != 0,
            Some(id) => f.header.call_id == id && f.header.flags & PFC_FIRST_FRAG == 0,
        };
        let fits = model.len() + f.stub.len() <= limit;
        match res {
            Ok(p) => {
                assert!(first_ok && fits, "fragment {k} accepted against the rules");
                call.get_or_insert(f.header.call_id);
                model.extend_from_slice(f.stub);
                assert_eq!(r.fragments(), k + 1);
                let last = f.header.flags & PFC_LAST_FRAG != 0;
                assert_eq!(p == Progress::Complete, last);
                if last {
                    break;
                }
            }
            Err(_) => {
                assert!(!(first_ok && fits), "fragment {k} refused though valid");
                break;
            }
        }
    }
    let stub = r.into_stub();
    assert!(stub.len() <= limit);
    assert_eq!(stub, model);

    // A careless caller that keeps pushing after errors and completion: the limit still holds.
    let mut r = Reassembler::new(limit);
    for f in &fragments {
        let _ = r.push(&f.header, f.alloc_hint, f.stub);
    }
    assert!(r.into_stub().len() <= limit);
}
