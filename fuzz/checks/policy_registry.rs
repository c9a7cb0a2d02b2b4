//! .reg exports of Rpc\Internet (both header versions), rpccfg and reg add lines.
//!
//! Shared by `fuzz_targets/policy_registry.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_registry/` and `fuzz/regressions/policy_registry/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let header: &[u8] = match sel % 4 {
        0 => b"Windows Registry Editor Version 5.00\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\r\n",
        1 => b"REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\r\n",
        2 => b"rpccfg.exe ",
        _ => b"reg add HKLM\\SOFTWARE\\Microsoft\\Rpc\\Internet ",
    };
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(rest);
    let pf = policy::parse_text("fuzz.reg", &bytes);
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let _ = lp.range_findings();
}
