//! ipseccmd/ipsecpol command lines: switches, filters, actions, for loops and variables.
//!
//! Shared by `fuzz_targets/policy_ipseccmd.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_ipseccmd/` and `fuzz/regressions/policy_ipseccmd/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        let _ = policy::ipsec::parse_filter(line);
    }
    let script = format!("set IPSECTOOL=ipseccmd.exe\r\nipseccmd.exe {text}\r\n");
    let pf = policy::parse_text("fuzz.cmd", script.as_bytes());
    let _ = policy::build(vec![pf], &LoadOptions::default());
}
