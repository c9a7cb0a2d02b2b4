//! Fuzz target `mgmt_inq_if_ids` for libFuzzer (FUZZING.md says how to run it). The property it checks
//! lives in `../checks/mgmt_inq_if_ids.rs`, where `tests/fuzz_seeds.rs` replays the seeds in `cargo test`.
#![no_main]

#[path = "../checks/mgmt_inq_if_ids.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
