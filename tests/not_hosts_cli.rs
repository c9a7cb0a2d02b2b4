//! Targets that are not one host's address (issue 24): `0.0.0.0`, `::ffff:0.0.0.0` (both reach
//! the scanning machine itself), broadcast and multicast addresses, and a name that resolves
//! to one of them, are refused before anything is sent, naming what was given. The fixture
//! endpoint mapper listens on 127.0.0.1, which a connection to 0.0.0.0 reaches on Linux: a
//! run that sent anything would read its map.

mod support;

use std::process::Command;
use support::{Fixture, bin, run};

#[test]
fn literal_addresses_that_are_no_host_are_refused_before_any_connect() {
    let f = Fixture::start(&["--tcp-endpoints", "3"]);
    let port = f.port();
    for (target, addr, why) in [
        ("0.0.0.0", "0.0.0.0", "unspecified"),
        ("::ffff:0.0.0.0", "::ffff:0.0.0.0", "unspecified"),
        ("255.255.255.255", "255.255.255.255", "broadcast"),
        ("224.0.0.1", "224.0.0.1", "multicast"),
        ("ff02::1", "ff02::1", "multicast"),
    ] {
        for command in [
            vec!["dump", target, "--port", &port, "--json"],
            vec!["capacity", target, "--port", &port, "--json"],
            vec!["probe", target, "--ports", &port, "--json"],
            support::audit_args(&port, &["--json"])
                .into_iter()
                .map(|a| if a == "127.0.0.1" { target } else { a })
                .collect(),
        ] {
            let (code, out, err) = run(&command);
            assert_eq!(code, 2, "{command:?}: {out}{err}");
            assert!(out.is_empty(), "{command:?}: nothing is reported: {out}");
            assert!(
                err.contains(&format!(
                    "target `{target}`: {addr} is not a host address ({why})"
                )),
                "{command:?}: {err}"
            );
        }
    }
}

/// `name` resolves to `addr` through a hosts file bound over /etc/hosts in a mount namespace
/// of the test's own (root: the lab tests run as root).
fn with_hosts_file(name: &str, addr: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, format!("127.0.0.1 localhost\n{addr} {name}\n")).unwrap();
    let script = "mount --bind \"$1\" /etc/hosts && shift && exec \"$@\"";
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(&hosts)
        .arg(bin())
        .args(args)
        .output()
        .expect("run unshare (util-linux)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs root (a mount namespace with its own /etc/hosts); run by scripts/test-all.sh"]
fn a_name_that_resolves_to_no_host_is_refused_by_name() {
    let f = Fixture::start(&["--tcp-endpoints", "3"]);
    let port = f.port();
    // The namespace resolves through the hosts file: a control name reaches the fixture.
    let (code, out, err) = with_hosts_file(
        "good.rpcaudit.test",
        "127.0.0.1",
        &["dump", "good.rpcaudit.test", "--port", &port, "--json"],
    );
    assert_eq!(code, 0, "{out}{err}");
    for (addr, why) in [
        ("0.0.0.0", "unspecified"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
    ] {
        let name = "evil.rpcaudit.test";
        for command in [
            vec!["dump", name, "--port", &port, "--json"],
            vec!["probe", name, "--ports", &port, "--json"],
            support::audit_args(&port, &["--json", "--no-probe"])
                .into_iter()
                .map(|a| if a == "127.0.0.1" { name } else { a })
                .collect(),
        ] {
            let (code, out, err) = with_hosts_file(name, addr, &command);
            let said = format!(
                "target `{name}`: the name resolves to {addr}, which is not a host address ({why})"
            );
            assert!(
                out.contains(&said) || err.contains(&said),
                "{command:?}: {out}{err}"
            );
            assert_ne!(code, 0, "{command:?}: {out}{err}");
            assert!(!out.contains("COMPLIANT\""), "{command:?}: {out}");
            assert!(
                !out.contains("\"status\": \"ok\""),
                "{command:?}: the map of this machine was read: {out}"
            );
        }
    }
}
