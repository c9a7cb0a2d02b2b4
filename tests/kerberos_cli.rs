//! `--auth kerberos` on the command line, without a domain controller (the lab test,
//! `lab_kerberos.rs`, has one): what is missing is a usage error naming the flag, exit 2; an
//! address-only target is a per-host error saying how to give the name, and does not spoil the
//! other hosts; the integrity level and the roads that do not carry Kerberos say so;
//! `--auth-survey` without credentials tries anonymous only and says why not the rest. Only
//! loopback is contacted (a fixture endpoint mapper; a closed port as the KDC).

mod support;

use std::process::Command;
use support::{Fixture, bin};

const PASSWORD: &str = "Krb-Cli-Pass-7";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .env_remove("RPCAUDIT_NT_HASH")
        .env_remove("RUST_LOG")
        .env("RPCAUDIT_PASSWORD", PASSWORD)
        .output()
        .expect("run rpcaudit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn missing_kerberos_settings_are_usage_errors_naming_the_flag() {
    for (args, says) in [
        (vec!["--auth", "kerberos"], "--user"),
        (vec!["--auth", "kerberos", "--user", "audit"], "--realm"),
        (
            vec![
                "--auth",
                "kerberos",
                "--user",
                "audit",
                "--realm",
                "LAB.EXAMPLE",
            ],
            "--kdc",
        ),
        (
            vec![
                "--auth",
                "kerberos",
                "--user",
                "audit@lab.example",
                "--kdc",
                "dc.example",
            ],
            "not an address",
        ),
        (
            vec!["--user", "LAB\\audit", "--realm", "LAB.EXAMPLE"],
            "for --auth kerberos",
        ),
    ] {
        let mut a = vec!["dump", "127.0.0.1"];
        a.extend(&args);
        let (code, out, err) = run(&a);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains(PASSWORD) && !out.contains(PASSWORD));
    }
}

#[test]
fn an_address_without_a_name_is_a_per_host_error_and_the_other_host_goes_on() {
    let fx = Fixture::start(&[]);
    let port = fx.port();
    let kdc = format!("127.0.0.1:{}", closed_port());
    let (code, out, err) = run(&[
        "dump",
        "127.0.0.1",
        "localhost",
        "--port",
        &port,
        "--json",
        "--timeout",
        "10",
        "--auth",
        "kerberos",
        "--user",
        "audit@lab.example",
        "--kdc",
        &kdc,
    ]);
    assert_eq!(code, 3, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hosts = v["hosts"].as_array().unwrap();
    let by = |t: &str| {
        hosts
            .iter()
            .find(|h| h["target"] == t)
            .and_then(|h| h["error"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let addr = by("127.0.0.1");
    assert!(
        addr.contains("is an address") && addr.contains("--target-name"),
        "{addr}"
    );
    // The named host was tried: its ticket could not be had from a KDC that is not there.
    let named = by("localhost");
    assert!(named.contains("KDC") && named.contains(&kdc), "{named}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
}

#[test]
fn integrity_and_the_roads_without_kerberos_say_why() {
    let fx = Fixture::start(&[]);
    let port = fx.port();
    let kdc = format!("127.0.0.1:{}", closed_port());
    let base = [
        "dump",
        "127.0.0.1",
        "--port",
        &port,
        "--json",
        "--timeout",
        "10",
        "--auth",
        "kerberos",
        "--user",
        "audit",
        "--realm",
        "lab.example",
        "--kdc",
        &kdc,
        "--target-name",
        "host1.lab.example",
    ];
    for (extra, says) in [
        (vec!["--auth-level", "integrity"], "GSS_GetMIC"),
        (vec!["--transport", "udp"], "does not carry Kerberos"),
        (vec!["--transport", "smb"], "does not carry Kerberos"),
        (
            vec!["--auth", "negotiate", "--auth-level", "connect"],
            "SPNEGO at the connect level",
        ),
    ] {
        let mut a = base.to_vec();
        if extra[0] == "--auth" {
            // the mode replaces base's
            a.retain(|x| *x != "--auth" && *x != "kerberos");
        }
        a.extend(&extra);
        let (code, out, err) = run(&a);
        assert_eq!(code, 3, "{extra:?}: {out}{err}");
        assert!(out.contains(says), "{extra:?}: {out}");
    }
}

#[test]
fn the_survey_without_credentials_tries_anonymous_only_and_says_why_not_the_rest() {
    let fx = Fixture::start(&[]);
    let port = fx.port();
    let out = Command::new(bin())
        .args([
            "dump",
            "127.0.0.1",
            "--port",
            &port,
            "--json",
            "--auth-survey",
        ])
        .env_remove("RPCAUDIT_PASSWORD")
        .env_remove("RPCAUDIT_NT_HASH")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tries = v["hosts"][0]["survey"].as_array().unwrap();
    assert_eq!(tries.len(), 6, "{tries:?}");
    assert_eq!(tries[0]["mechanism"], "anonymous");
    assert_eq!(tries[0]["outcome"], "accepted");
    for t in &tries[1..] {
        assert_eq!(t["outcome"], "not-tried", "{t}");
        assert!(
            t["detail"].as_str().unwrap().contains("no credentials"),
            "{t}"
        );
    }
}
