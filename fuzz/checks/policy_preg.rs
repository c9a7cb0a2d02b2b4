//! Group Policy Registry.pol files (PReg records) through `policy::parse_text`, then `build`
//! and a decision.
//!
//! Shared by `fuzz_targets/policy_preg.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_preg/` and `fuzz/regressions/policy_preg/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    // Seeds are whole files; other inputs get the header so the records are reached.
    let bytes = if data.starts_with(b"PReg") {
        data.to_vec()
    } else {
        let mut b = b"PReg\x01\0\0\0".to_vec();
        b.extend_from_slice(data);
        b
    };
    let pf = policy::parse_text("Registry.pol", &bytes);
    // A PReg file is never refused as binary text: it is read, or refused with a PReg reason.
    if let Some(reason) = &pf.unreadable {
        assert!(reason.contains("Registry.pol"), "{reason}");
    }
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let outsider = std::net::Ipv4Addr::new(10, 9, 9, 9).into();
    let _ = lp.policy.decide(outsider, 135, policy::Proto::Tcp);
}
