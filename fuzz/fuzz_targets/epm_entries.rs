//! Fuzz target `epm_entries` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/epm_entries.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/epm_entries.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
