//! Fuzz target `policy_parse_text` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/policy_parse_text.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/policy_parse_text.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
