//! Fuzz target `pdu_decode` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/pdu_decode.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/pdu_decode.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
