//! Windows Firewall rule stores as `reg export` writes them: rule strings (MS-GPFAS §2.2.2.19)
//! under the local and GPO FirewallRules keys, and the per-profile settings.
//!
//! Shared by `fuzz_targets/policy_fwstore.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_fwstore/` and `fuzz/regressions/policy_fwstore/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions, fwstore};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    // A bare rule string: parses or errs, and a parsed rule keeps the version it started with.
    if let Ok(text) = std::str::from_utf8(rest)
        && let Ok(rule) = fwstore::parse_rule(text)
    {
        assert!(text.trim_start().starts_with(rule.version.as_str()));
        assert!(!rule.profiles.is_empty(), "no Profile means all profiles");
    }
    let header: &[u8] = match sel % 3 {
        0 => b"Windows Registry Editor Version 5.00\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules]\r\n",
        1 => b"Windows Registry Editor Version 5.00\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules]\r\n",
        _ => b"Windows Registry Editor Version 5.00\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\DomainProfile]\r\n",
    };
    let mut bytes = header.to_vec();
    bytes.extend_from_slice(rest);
    let pf = policy::parse_text("fuzz.reg", &bytes);
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let outsider = std::net::Ipv4Addr::new(10, 9, 9, 9).into();
    let _ = lp.policy.decide(outsider, 135, policy::Proto::Tcp);
}
