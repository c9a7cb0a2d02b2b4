//! `.wfw` firewall exports (registry hives) through `policy::parse_text`, then `build` and a
//! decision: read as a firewall store, or refused with a reason that says it is a hive.
//!
//! Shared by `fuzz_targets/policy_wfw.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_wfw/` (a hive written by `tests/support/hive.rs`) and
//! `fuzz/regressions/policy_wfw/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    // Seeds are whole hives; other inputs get the signature so the hive reader is reached.
    let bytes = if data.starts_with(b"regf") {
        data.to_vec()
    } else {
        let mut b = b"regf".to_vec();
        b.extend_from_slice(data);
        b
    };
    let pf = policy::parse_text("export.wfw", &bytes);
    assert_eq!(pf.encoding, "regf");
    if let Some(reason) = &pf.unreadable {
        assert!(reason.contains("a registry hive (regf)"), "{reason}");
    }
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let outsider = std::net::Ipv4Addr::new(10, 9, 9, 9).into();
    let _ = lp.policy.decide(outsider, 135, policy::Proto::Tcp);
}
