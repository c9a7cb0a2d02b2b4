//! Fuzz property: the endpoint mapper's NDR stubs (`wire::epm`) decoded from arbitrary bytes in
//! both byte orders: `ept_lookup` response (the one a hostile server controls most), `ept_map`
//! response, and the two requests the fixture server decodes. Decoded values re-encode without
//! panicking, and what re-encodes decodes again to the same values where the format keeps them.
//!
//! Shared by `fuzz_targets/ept_lookup_stub.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/ept_lookup_stub/` and `fuzz/regressions/ept_lookup_stub/` in plain `cargo test`.
use rpcaudit::wire::epm::{
    EntryTower, HandleFreeRequest, HandleFreeResponse, LookupRequest, LookupResponse, MapRequest,
    MapResponse,
};
use rpcaudit::wire::ndr::{ByteOrder, ContextHandle, Stub};

/// A stub that decodes re-encodes to bytes that decode to the same value.
fn round_trips<T: Stub + PartialEq + std::fmt::Debug>(data: &[u8], order: ByteOrder) {
    if let Ok(value) = T::decode(data, order)
        && let Ok(bytes) = value.encode(order)
    {
        let back = T::decode(&bytes, order).expect("an encoded stub must decode");
        assert_eq!(back, value);
    }
}

/// Null stays null, a malformed tower re-encodes as an empty (so malformed) one, a decoded
/// tower comes back equal.
fn same_tower(a: &EntryTower, b: &EntryTower) -> bool {
    match (a, b) {
        (EntryTower::Null, EntryTower::Null) => true,
        (EntryTower::Malformed(_), EntryTower::Malformed(_)) => true,
        (EntryTower::Decoded(x), EntryTower::Decoded(y)) => x == y,
        _ => false,
    }
}

/// A response that decodes, bounded by the bytes that carried it (`min_len` at least each of
/// its `towers`), re-encodes to bytes that decode again with the same handle, status and
/// towers; `also` checks the rest of each element.
fn response_round_trips<T: Stub>(
    data: &[u8],
    order: ByteOrder,
    min_len: usize,
    parts: impl Fn(&T) -> (ContextHandle, u32, Vec<&EntryTower>),
    also: impl Fn(&T, &T),
) {
    let Ok(resp) = T::decode(data, order) else {
        return;
    };
    let (handle, status, towers) = parts(&resp);
    assert!(towers.len() * min_len <= data.len());
    let Ok(bytes) = resp.encode(order) else {
        return;
    };
    let back = T::decode(&bytes, order).expect("an encoded response must decode");
    let (back_handle, back_status, back_towers) = parts(&back);
    assert_eq!(back_handle, handle);
    assert_eq!(back_status, status);
    assert_eq!(back_towers.len(), towers.len());
    for (a, b) in towers.iter().zip(&back_towers) {
        assert!(same_tower(a, b), "{a:?} vs {b:?}");
    }
    also(&resp, &back);
}

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        // Entries take 28 bytes at least each, towers' pointers 4.
        response_round_trips::<LookupResponse>(
            data,
            order,
            28,
            |r| {
                (
                    r.handle,
                    r.status,
                    r.entries.iter().map(|e| &e.tower).collect(),
                )
            },
            |a, b| {
                for (x, y) in a.entries.iter().zip(&b.entries) {
                    assert_eq!(x.object, y.object);
                }
            },
        );
        response_round_trips::<MapResponse>(
            data,
            order,
            4,
            |r| (r.handle, r.status, r.towers.iter().collect()),
            |_, _| {},
        );
        round_trips::<LookupRequest>(data, order);
        round_trips::<MapRequest>(data, order);
        round_trips::<HandleFreeRequest>(data, order);
        round_trips::<HandleFreeResponse>(data, order);
    }
}
