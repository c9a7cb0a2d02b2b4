//! Fuzz property: the endpoint mapper's NDR stubs (`wire::epm`) decoded from arbitrary bytes in
//! both byte orders: `ept_lookup` response (the one a hostile server controls most), `ept_map`
//! response, and the two requests the fixture server decodes. Decoded values re-encode without
//! panicking, and what re-encodes decodes again to the same values where the format keeps them.
//!
//! Shared by `fuzz_targets/ept_lookup_stub.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/ept_lookup_stub/` and `fuzz/regressions/ept_lookup_stub/` in plain `cargo test`.
use rpcaudit::wire::epm::{
    self, EntryTower, LookupRequest, LookupResponse, MapRequest, MapResponse,
};
use rpcaudit::wire::ndr::ByteOrder;

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
            if let Ok(bytes) = resp.encode(order, 0) {
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
            if let Ok(bytes) = resp.encode(order, 0) {
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
        if let Ok(req) = LookupRequest::decode(data, order) {
            let back = LookupRequest::decode(&req.encode(order), order)
                .expect("an encoded ept_lookup request must decode");
            assert_eq!(back, req);
        }
        if let Ok(req) = MapRequest::decode(data, order)
            && let Ok(bytes) = req.encode(order)
        {
            let back =
                MapRequest::decode(&bytes, order).expect("an encoded ept_map request must decode");
            assert_eq!(back, req);
        }
        if let Ok(h) = epm::decode_handle_free_request(data, order) {
            let bytes = epm::encode_handle_free(&h, order);
            assert_eq!(epm::decode_handle_free_request(&bytes, order), Ok(h));
        }
        if let Ok((h, status)) = epm::decode_handle_free_response(data, order) {
            let bytes = epm::encode_handle_free_response(&h, status, order);
            assert_eq!(
                epm::decode_handle_free_response(&bytes, order),
                Ok((h, status))
            );
        }
    }
}
