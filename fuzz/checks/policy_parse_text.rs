//! Any bytes as a policy file: decoding, line splitting, every dialect, combining and lints.
//!
//! Shared by `fuzz_targets/policy_parse_text.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_parse_text/` and `fuzz/regressions/policy_parse_text/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions, Proto};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let pf = policy::parse_text("fuzz.cmd", data);
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let _ = lp.policy.decide([10, 1, 1, 5].into(), 135, Proto::Tcp);
}
