//! netsh ipsec static, netsh advfirewall and PowerShell firewall commands.
//!
//! Shared by `fuzz_targets/policy_netsh_powershell.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_netsh_powershell/` and `fuzz/regressions/policy_netsh_powershell/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions};

const PREFIXES: &[&str] = &[
    "netsh ipsec static ",
    "netsh advfirewall firewall ",
    "New-NetFirewallRule ",
    "Set-NetFirewallRule ",
];

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let prefix = PREFIXES[usize::from(sel) % PREFIXES.len()];
    let text = String::from_utf8_lossy(rest);
    let script: String = text
        .lines()
        .take(256)
        .map(|l| format!("{prefix}{l}\n"))
        .collect();
    let pf = policy::parse_text("fuzz.ps1", script.as_bytes());
    let _ = policy::build(vec![pf], &LoadOptions::default());
    let items: Vec<String> = text.split(',').map(str::to_string).collect();
    let _ = policy::firewall::parse_local_ports(&items);
}
