//! Fuzz target `smb3_decode` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/smb3_decode.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/smb3_decode.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
