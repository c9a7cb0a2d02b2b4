//! Any bytes as a policy file: decoding, line splitting, every dialect, combining and lints.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rpcaudit::policy::{self, LoadOptions, Proto};

fuzz_target!(|data: &[u8]| {
    let pf = policy::parse_text("fuzz.cmd", data);
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let _ = lp.policy.decide([10, 1, 1, 5].into(), 135, Proto::Tcp);
});
