//! Fuzz target `policy_listing` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/policy_listing.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/policy_listing.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
