//! `--auth kerberos` on the command line, without a domain controller (the lab test,
//! `lab_kerberos.rs`, has one): what is missing is a usage error naming the flag, exit 2; an
//! address-only target is a per-host error saying how to give the name, and does not spoil the
//! other hosts; the roads that do not carry Kerberos and SPNEGO at connect say so;
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
        // No krb5.conf of the machine's: the tests say where the KDC is, or --dns on loopback.
        .env("KRB5_CONFIG", "/nonexistent/krb5.conf")
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
    // Without --kdc the KDC is looked for in krb5.conf (none here), then by DNS SRV, asked of a
    // loopback port where nothing answers.
    let dns = format!("127.0.0.1:{}", closed_port());
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
                "--dns",
                &dns,
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
            vec![
                "--auth",
                "ntlm",
                "--user",
                "LAB\\audit",
                "--realm",
                "LAB.EXAMPLE",
            ],
            "for --auth kerberos, negotiate or auto",
        ),
        // auto takes the Kerberos flags, and then needs the KDC too.
        (
            vec![
                "--user",
                "LAB\\audit",
                "--realm",
                "LAB.EXAMPLE",
                "--dns",
                &dns,
            ],
            "--kdc",
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
fn the_road_without_kerberos_says_why() {
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
    // UDP (connectionless RPC) carries no Kerberos here; TCP, HTTP and SMB do.
    let mut a = base.to_vec();
    a.extend(["--transport", "udp"]);
    let (code, out, err) = run(&a);
    assert_eq!(code, 3, "{out}{err}");
    assert!(out.contains("does not carry Kerberos"), "{out}");
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
    assert_eq!(tries.len(), 7, "{tries:?}");
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

/// `--auth auto` with a KDC: anonymous first; when the host refuses that, Kerberos, and when
/// Kerberos fails for another reason than the credentials (here: the KDC does not answer, or
/// the target is an address without --target-name), NTLM, unless --no-ntlm. The fixture
/// refuses anonymous lookups and accepts NTLM for the account.
#[test]
fn auto_prefers_kerberos_and_falls_back_to_ntlm_unless_no_ntlm() {
    let fx = Fixture::start(&["--require-auth", &format!("LAB\\audit:{PASSWORD}")]);
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
        "auto",
        "--user",
        "LAB\\audit",
        "--realm",
        "LAB.EXAMPLE",
        "--kdc",
        &kdc,
    ];
    for extra in [&[][..], &["--target-name", "ep.lab.example"][..]] {
        let a = [&base[..], extra].concat();
        let (code, out, err) = run(&a);
        assert_eq!(code, 0, "{extra:?}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let host = &v["hosts"][0];
        assert_eq!(host["auth"]["mechanism"], "ntlm", "{host}");
        let warned = host["warnings"].as_array().unwrap();
        assert!(
            warned.iter().any(|w| w
                .as_str()
                .unwrap()
                .starts_with("read with NTLM: Kerberos failed first")),
            "{host}"
        );
        assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
        // --no-ntlm: Kerberos or nothing; the host is an error saying why Kerberos failed.
        let a = [&base[..], extra, &["--no-ntlm"]].concat();
        let (code, out, err) = run(&a);
        assert_eq!(code, 3, "{extra:?}: {out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let e = v["hosts"][0]["error"].as_str().unwrap();
        let why = if extra.is_empty() {
            "--target-name"
        } else {
            "KDC"
        };
        assert!(e.contains(why), "{extra:?}: {e}");
        assert!(v["hosts"][0]["auth"].is_null(), "{}", v["hosts"][0]);
    }
    // A host that answers anonymously is read anonymously: Kerberos is never needed.
    let open = Fixture::start(&[]);
    let open_port = open.port();
    let mut a = base.to_vec();
    a[3] = &open_port;
    let (code, out, err) = run(&a);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["hosts"][0]["auth"].is_null(), "{}", v["hosts"][0]);
}

#[test]
fn no_ntlm_is_for_auto_only_and_auto_takes_the_kerberos_flags() {
    let (code, _, err) = run(&[
        "dump",
        "127.0.0.1",
        "--auth",
        "ntlm",
        "--user",
        "audit",
        "--no-ntlm",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--no-ntlm is for --auth auto"), "{err}");
    let (code, _, err) = run(&["dump", "127.0.0.1", "--auth", "none", "--kdc", "127.0.0.1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("negotiate or auto"), "{err}");
    // auto with --kdc but no realm (the user has no dotted domain): the realm is asked for.
    let (code, _, err) = run(&["dump", "127.0.0.1", "--user", "audit", "--kdc", "127.0.0.1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--realm"), "{err}");
}

/// Without `--kdc`, the realm's KDC comes from the krb5.conf `KRB5_CONFIG` names, and the
/// verbose log says so; the KDC so named is the one contacted (here a closed loopback port, so
/// the error names it).
#[test]
fn the_kdc_comes_from_krb5_conf_when_kdc_is_not_given() {
    let fx = Fixture::start(&[]);
    let port = fx.port();
    let kdc_port = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("krb5.conf");
    std::fs::write(
        &conf,
        format!(
            "[libdefaults]\n default_realm = LAB.EXAMPLE\n[realms]\n LAB.EXAMPLE = {{\n  kdc = 127.0.0.1:{kdc_port}\n }}\n"
        ),
    )
    .unwrap();
    let out = Command::new(bin())
        .args([
            "dump",
            "localhost",
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
            "LAB.EXAMPLE",
            "-v",
        ])
        .env("RPCAUDIT_PASSWORD", PASSWORD)
        .env_remove("RUST_LOG")
        .env("KRB5_CONFIG", &conf)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stderr.contains("from krb5.conf") && stderr.contains(&format!("127.0.0.1:{kdc_port}")),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("127.0.0.1:{kdc_port}")),
        "{stdout}"
    );
    // A krb5.conf that cannot be read is a usage error naming the file and line.
    std::fs::write(&conf, "[realms]\n LAB.EXAMPLE = {\n  nonsense\n }\n").unwrap();
    let out = Command::new(bin())
        .args([
            "dump",
            "localhost",
            "--port",
            &port,
            "--auth",
            "kerberos",
            "--user",
            "audit",
            "--realm",
            "LAB.EXAMPLE",
        ])
        .env("RPCAUDIT_PASSWORD", PASSWORD)
        .env("KRB5_CONFIG", &conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("krb5.conf: line 3"), "{stderr}");
}

/// `--keytab` with a keytab of another principal: a usage error naming the file and what it
/// holds, never a key; no KDC contacted.
#[test]
fn a_keytab_without_the_users_key_is_a_usage_error() {
    let kt = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/krb/ktutil.keytab");
    let kdc = format!("127.0.0.1:{}", closed_port());
    let (code, out, err) = run(&[
        "dump",
        "localhost",
        "--auth",
        "kerberos",
        "--user",
        "nobody@RPCAUDIT.LAB",
        "--kdc",
        &kdc,
        "--keytab",
        kt.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("ktutil.keytab") && err.contains("audit@RPCAUDIT.LAB"),
        "{err}"
    );
    for key in ["a1b2c3d4", "0f1e2d3c", "11111111"] {
        assert!(
            !err.contains(key) && !out.contains(key),
            "a key in the output"
        );
    }
}
