//! `rpcaudit probe` driven as a binary against loopback only.

use assert_cmd::Command;
use std::net::TcpListener;

fn rpcaudit() -> Command {
    Command::cargo_bin("rpcaudit").unwrap()
}

fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn json_reports_open_and_closed_in_port_order() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed = closed_port();
    let ports = format!("{open_port},{closed}");
    let out = rpcaudit()
        .args(["probe", "127.0.0.1", "--ports", &ports, "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let obs = rpcaudit::probe::observations_from_json(&out.stdout).unwrap();
    assert_eq!(obs.len(), 2);
    let (lo, hi) = (open_port.min(closed), open_port.max(closed));
    assert_eq!((obs[0].port, obs[1].port), (lo, hi));
    for o in &obs {
        let want = if o.port == open_port {
            "open"
        } else {
            "closed"
        };
        assert_eq!(o.state.as_str(), want, "{o:?}");
        assert_eq!(o.source.to_string(), "127.0.0.1");
        assert_eq!(o.attempts, 1);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &v["observations"][0];
    for key in ["source", "target", "port", "state", "attempts", "rtt_ms"] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
}

#[test]
fn from_binds_the_source_and_table_compresses_runs() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = open.local_addr().unwrap().port();
    let out = rpcaudit()
        .args(["probe", "127.0.0.1", "--from", "127.0.0.9"])
        .args(["--ports", &port.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("127.0.0.9") && text.contains("open"),
        "{text}"
    );
    assert!(text.contains("1 probe: 1 open"), "{text}");
}

#[test]
fn unbindable_source_is_error_and_exit_3() {
    let out = rpcaudit()
        .args([
            "probe",
            "127.0.0.1",
            "--ports",
            "9",
            "--from",
            "198.18.255.254",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let obs = rpcaudit::probe::observations_from_json(&out.stdout).unwrap();
    assert_eq!(obs[0].state.as_str(), "error");
    assert!(obs[0].error.as_deref().unwrap().contains("198.18.255.254"));
}

#[test]
fn bad_input_exits_2() {
    for args in [
        vec!["probe", "127.0.0.1", "--ports", "70000"],
        vec!["probe", "127.0.0.1", "--ports", "0"],
        vec!["probe", "127.0.0.1", "--from", "not-an-ip"],
        vec!["probe", "127.0.0.1", "--timeout-ms", "0"],
        // Larger than --max-hosts: refused before anything is sent.
        vec!["probe", "127.0.0.0/8"],
        vec!["probe"],
    ] {
        let out = rpcaudit().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}
