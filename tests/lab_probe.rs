//! Lab integration tests for `rpcaudit probe` (root; `cargo test -- --ignored --test-threads=1`).
//! Each test brings the lab up itself (tests/lab/up.sh is idempotent) and applies its scenario.

mod common;

use common::lab;
use std::time::Duration;

/// The lab itself: from the allowed subnet, Samba's endpoint mapper lists TCP endpoints whose
/// ports are in the configured range.
#[test]
#[ignore = "needs root and the network lab"]
fn lab_samba_registers_tcp_endpoints_in_range() {
    let Some(_lab) = lab::setup(None, &["correct"]) else {
        return;
    };
    let target = format!("ncacn_ip_tcp:{}", lab::SRV_IP);
    let out = lab::run_in_ns(
        lab::NS_ALLOW,
        "rpcclient",
        &["-U%", "-N", &target, "-c", "epmlookup"],
        Duration::from_secs(10),
    )
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let ports = tcp_ports(&text);
    assert!(ports.contains(&135), "no 135 in:\n{text}");
    let (lo, hi) = lab::POLICY_RANGE_BOUNDS;
    let dynamic: Vec<u16> = ports.into_iter().filter(|&p| p != 135).collect();
    assert!(!dynamic.is_empty(), "no dynamic TCP endpoint in:\n{text}");
    assert!(
        dynamic.iter().all(|&p| (lo..=hi).contains(&p)),
        "ports outside {lo}-{hi}: {dynamic:?}"
    );
}

/// Ports of `ncacn_ip_tcp:HOST[PORT,...]` bindings in rpcclient's epmlookup output.
fn tcp_ports(epmlookup: &str) -> Vec<u16> {
    let mut ports: Vec<u16> = epmlookup
        .lines()
        .filter_map(|l| l.split("ncacn_ip_tcp:").nth(1))
        .filter_map(|rest| rest.split('[').nth(1))
        .filter_map(|rest| rest.split([',', ']']).next())
        .filter_map(|p| p.parse().ok())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}
