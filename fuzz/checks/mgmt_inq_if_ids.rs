//! Fuzz property: the management interface's `rpc_mgmt_inq_if_ids` response (`wire::mgmt`),
//! which every TCP endpoint a probed host exposes may send, decoded from arbitrary bytes in both
//! byte orders: what decodes holds no more interface ids than the bytes could carry (and at
//! most `MAX_IF_IDS`), re-encodes, and decodes again to the same value.
//!
//! Shared by `fuzz_targets/mgmt_inq_if_ids.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which
//! replays `fuzz/seeds/mgmt_inq_if_ids/` and `fuzz/regressions/mgmt_inq_if_ids/` in plain
//! `cargo test`.
use rpcaudit::wire::mgmt::{InqIfIdsResponse, MAX_IF_IDS};
use rpcaudit::wire::ndr::{ByteOrder, Stub};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let Ok(resp) = InqIfIdsResponse::decode(data, order) else {
            continue;
        };
        if let Some(ids) = &resp.ids {
            // A pointer each (4 bytes), 20 more for each one present, and the counts.
            assert!(ids.len() <= MAX_IF_IDS);
            assert!(12 + 4 * ids.len() + 20 * resp.if_ids().count() + 4 <= data.len());
        }
        let bytes = resp.encode(order).expect("a decoded response must encode");
        let back =
            InqIfIdsResponse::decode(&bytes, order).expect("an encoded response must decode");
        assert_eq!(back, resp);
    }
}
