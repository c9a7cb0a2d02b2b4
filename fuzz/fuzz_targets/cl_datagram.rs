//! Fuzz target `cl_datagram` for libFuzzer (FUZZING.md says how to run it). The property it
//! checks lives in `../checks/cl_datagram.rs`, where `tests/fuzz_seeds.rs` replays the seeds in
//! `cargo test`.
#![no_main]

#[path = "../checks/cl_datagram.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
