//! Test-only builders of `policy` (compiled for `cargo test` only): [`lab_fixtures`] writes
//! the lab's fence in every format the store readers take, with the stores' test encoders.

mod lab_fixtures;
