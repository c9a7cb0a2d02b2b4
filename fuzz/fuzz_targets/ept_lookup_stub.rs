//! Fuzz target `ept_lookup_stub` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/ept_lookup_stub.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/ept_lookup_stub.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
