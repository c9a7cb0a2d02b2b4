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
use rpcaudit::wire::ndr::{ByteOrder, Stub};

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

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        if let Ok(resp) = LookupResponse::decode(data, order) {
            // Entries are bounded by the bytes that carried them (28 bytes at least each).
            assert!(resp.entries.len() * 28 <= data.len());
            if let Ok(bytes) = resp.encode(order) {
                let back = LookupResponse::decode(&bytes, order)
                    .expect("an encoded ept_lookup response must decode");
                assert_eq!(back.handle, resp.handle);
                assert_eq!(back.status, resp.status);
                assert_eq!(back.entries.len(), resp.entries.len());
                for (a, b) in resp.entries.iter().zip(&back.entries) {
                    assert_eq!(a.object, b.object);
                    assert!(same_tower(&a.tower, &b.tower), "{a:?} vs {b:?}");
                }
            }
        }
        if let Ok(resp) = MapResponse::decode(data, order) {
            assert!(resp.towers.len() * 4 <= data.len());
            if let Ok(bytes) = resp.encode(order) {
                let back = MapResponse::decode(&bytes, order)
                    .expect("an encoded ept_map response must decode");
                assert_eq!(back.handle, resp.handle);
                assert_eq!(back.status, resp.status);
                assert_eq!(back.towers.len(), resp.towers.len());
                for (a, b) in resp.towers.iter().zip(&back.towers) {
                    assert!(same_tower(a, b), "{a:?} vs {b:?}");
                }
            }
        }
        round_trips::<LookupRequest>(data, order);
        round_trips::<MapRequest>(data, order);
        round_trips::<HandleFreeRequest>(data, order);
        round_trips::<HandleFreeResponse>(data, order);
    }
}
