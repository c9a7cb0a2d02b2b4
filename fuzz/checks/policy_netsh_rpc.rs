//! RPC filters: `netsh rpc filter` commands and `show filter` output through
//! `policy::netsh_rpc::parse`, then a decision for a call.
//!
//! Shared by `fuzz_targets/policy_netsh_rpc.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which
//! replays `fuzz/seeds/policy_netsh_rpc/` and `fuzz/regressions/policy_netsh_rpc/` in plain
//! `cargo test`.
use rpcaudit::policy::netsh_rpc::{self, MAX_CONDITIONS, MAX_FILTERS, dwords, parse_uuid};
use rpcaudit::policy::rpc_filter::{Call, Value};

/// A `show filter` block's head, so that other inputs reach its conditions.
const SHOW_HEAD: &[u8] = b"filterKey: 6a377823-cff4-11ec-967c-000c29760114\r\nlayerKey: um\r\n\
action.type: block\r\n";
/// A pending rule, so that other inputs are read as its conditions.
const RULE_HEAD: &[u8] = b"rpc filter\r\nadd rule layer=um actiontype=block\r\n";

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let bytes = match sel % 3 {
        0 => [SHOW_HEAD, rest].concat(),
        1 => [RULE_HEAD, rest].concat(),
        _ => rest.to_vec(),
    };
    let Ok(filters) = netsh_rpc::parse("fuzz.txt", &bytes) else {
        return;
    };
    let lines = bytes.split(|&b| b == b'\n' || b == b'\r').count().max(1);
    assert!(filters.filters.len() <= MAX_FILTERS);
    for f in &filters.filters {
        assert!(f.line >= 1 && f.line <= lines, "filter line {}", f.line);
        assert!(f.conditions.len() <= MAX_CONDITIONS);
        for c in &f.conditions {
            // Every UUID read prints as show filter prints it and reads back.
            if let Value::Uuid(u) = c.value {
                assert_eq!(parse_uuid(&dwords(&u)).ok(), Some(u));
                assert_eq!(parse_uuid(&u.to_string()).ok(), Some(u));
            }
        }
        if let Some(Value::Uuid(u)) = f.conditions.first().map(|c| c.value.clone()) {
            let call = Call::anonymous(u, "10.9.9.9".parse().unwrap(), None, 65535);
            let _ = filters.decide(&call);
        }
    }
}
