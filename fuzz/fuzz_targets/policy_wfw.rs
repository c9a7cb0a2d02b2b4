//! Fuzz target `policy_wfw` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/policy_wfw.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/policy_wfw.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
