//! Address, mask, range and port-list parsers.
//!
//! Shared by `fuzz_targets/policy_address.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_address/` and `fuzz/regressions/policy_address/` in plain `cargo test`.
use rpcaudit::policy::address;
use rpcaudit::ports::PortRanges;

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    for p in [
        address::parse_masked(&s),
        address::parse_firewall(&s),
        address::parse_ipsecpol(&s),
    ]
    .into_iter()
    .flatten()
    {
        let (m, _) = p;
        let _ = m.contains([10, 1, 1, 5].into(), &[]);
        let _ = m.sample();
        let _ = m.to_string();
    }
    let _ = PortRanges::parse(&s);
    let _ = rpcaudit::policy::lint::name_ports(&s);
}
