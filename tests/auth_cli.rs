//! Hardened hosts end to end: the real binary against `lab serve --require-auth`, a fixture
//! endpoint mapper that refuses anonymous lookups with fault 5 as a Windows host with
//! RestrictRemoteClients does, and accepts NTLM at every level.

mod support;

use std::process::Command;
use support::{Fixture, bin};

const PASSWORD: &str = "Lab-Pa55-Quartz";
const ACCOUNT: &str = "LAB\\audit";
/// 30 TCP + 6 pipes + 6 lrpc, the fixture's default.
const ALL: usize = 42;

fn restricted(extra: &[&str]) -> Fixture {
    let spec = format!("{ACCOUNT}:{PASSWORD}");
    let mut args = vec!["--require-auth", spec.as_str()];
    args.extend_from_slice(extra);
    Fixture::start(&args)
}

fn nt_hash_hex(password: &str) -> String {
    use md4::{Digest, Md4};
    let utf16: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
    Md4::digest(&utf16)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Run the binary with `args` and `env` (and nothing of the caller's RPCAUDIT_* variables).
fn run_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_remove("RPCAUDIT_PASSWORD")
        .env_remove("RPCAUDIT_NT_HASH")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run rpcaudit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn dump_args<'a>(port: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "dump",
        "127.0.0.1",
        "--port",
        port,
        "--json",
        "--timeout",
        "10",
    ];
    a.extend_from_slice(extra);
    a
}

/// A dump as [`ACCOUNT`] with its password, at `level`.
fn as_the_account(port: &str, level: &str) -> (i32, String, String) {
    run_env(
        &dump_args(port, &["--user", ACCOUNT, "--auth-level", level]),
        &[("RPCAUDIT_PASSWORD", PASSWORD)],
    )
}

fn json(out: &str, err: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\nstderr: {err}"))
}

#[test]
fn an_anonymous_dump_is_refused_with_the_reason_and_what_to_do() {
    let f = restricted(&[]);
    let port = f.port();
    for auth in ["auto", "none"] {
        let (code, out, err) = run_env(&dump_args(&port, &["--auth", auth]), &[]);
        assert_eq!(code, 3, "{err}");
        let v = json(&out, &err);
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "error");
        let e = host["error"].as_str().unwrap();
        assert!(
            e.contains(
                "the endpoint mapper refused an anonymous lookup (rpc_s_access_denied): the host restricts unauthenticated RPC clients (RestrictRemoteClients); give credentials with --user"
            ),
            "{e}"
        );
        assert!(host.get("auth").is_none());
    }
    // The table says the same.
    let (code, out, _) = run_env(&["dump", "127.0.0.1", "--port", &port], &[]);
    assert_eq!(code, 3);
    assert!(out.contains("refused an anonymous lookup"), "{out}");
}

#[test]
fn auto_with_credentials_gives_the_full_list_at_every_level() {
    let f = restricted(&[]);
    let port = f.port();
    for level in ["connect", "integrity", "privacy"] {
        let (code, out, err) = as_the_account(&port, level);
        assert_eq!(code, 0, "{level}: {err}");
        let v = json(&out, &err);
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "ok", "{level}: {host}");
        assert_eq!(host["endpoints"].as_array().unwrap().len(), ALL);
        assert_eq!(
            host["auth"],
            serde_json::json!({"mechanism": "ntlm", "level": level, "user": "LAB\\audit"})
        );
    }
}

#[test]
fn the_user_forms_and_secret_sources_all_log_on() {
    let f = restricted(&[
        "--big-endian",
        "--max-frag",
        "1024",
        "--tcp-endpoints",
        "200",
    ]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let hash = dir.path().join("nthash");
    std::fs::write(&hash, format!("{}\n", nt_hash_hex(PASSWORD))).unwrap();
    let pw = pw.to_str().unwrap();
    let hash = hash.to_str().unwrap();
    let hash_env = nt_hash_hex(PASSWORD);
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec!["--user", "audit@LAB", "--password-file", pw], vec![]),
        (
            vec!["--user", "audit", "--domain", "LAB", "--nt-hash-file", hash],
            vec![],
        ),
        (
            vec![
                "--user",
                ACCOUNT,
                "--auth",
                "ntlm",
                "--auth-level",
                "privacy",
            ],
            vec![("RPCAUDIT_NT_HASH", hash_env.as_str())],
        ),
    ];
    for (extra, env) in cases {
        let (code, out, err) = run_env(&dump_args(&port, &extra), &env);
        assert_eq!(code, 0, "{extra:?}: {err}");
        let v = json(&out, &err);
        assert_eq!(v["hosts"][0]["endpoints"].as_array().unwrap().len(), 212);
    }
}

#[test]
fn a_tampered_response_signature_is_rejected() {
    let f = restricted(&["--misbehave", "tamper-signature"]);
    let port = f.port();
    for level in ["integrity", "privacy"] {
        let (code, out, err) = as_the_account(&port, level);
        assert_eq!(code, 3, "{err}");
        let v = json(&out, &err);
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "error");
        assert!(host["endpoints"].as_array().unwrap().is_empty());
        let e = host["error"].as_str().unwrap();
        assert!(e.contains("signature does not verify"), "{level}: {e}");
    }
}

#[test]
fn a_wrong_password_is_a_logon_failure_and_three_hosts_retire_the_credentials() {
    let f = restricted(&[]);
    let port = f.port();
    let (code, out, err) = run_env(
        &dump_args(&port, &["--user", ACCOUNT]),
        &[("RPCAUDIT_PASSWORD", "Not-The-Password")],
    );
    assert_eq!(code, 3, "{err}");
    let v = json(&out, &err);
    let e = v["hosts"][0]["error"].as_str().unwrap();
    assert!(
        e.contains("logon failure") && e.contains("LAB\\audit"),
        "{e}"
    );
    assert!(!out.contains("Not-The-Password") && !err.contains("Not-The-Password"));

    // Five loopback addresses, a restricted fixture on each with the same port number:
    // three logon failures, then the credentials are no longer sent.
    let spec = format!("{ACCOUNT}:{PASSWORD}");
    let _more: Vec<Fixture> = (2..=5)
        .map(|k| {
            Fixture::start_in(
                None,
                &format!("127.0.0.{k}:{port}"),
                &["--require-auth", &spec],
            )
        })
        .collect();
    let (code, out, err) = run_env(
        &[
            "dump",
            "127.0.0.1",
            "127.0.0.2",
            "127.0.0.3",
            "127.0.0.4",
            "127.0.0.5",
            "--port",
            &port,
            "--json",
            "--user",
            ACCOUNT,
        ],
        &[("RPCAUDIT_PASSWORD", "Not-The-Password")],
    );
    assert_eq!(code, 3, "{err}");
    let v = json(&out, &err);
    let errors = support::strs(&v["hosts"], "error");
    let saying = |what: &str| errors.iter().filter(|e| e.contains(what)).count();
    assert_eq!(
        (
            saying("logon failure: the host refused"),
            saying("credentials given are no longer used")
        ),
        (3, 2),
        "{errors:#?}"
    );
    assert!(err.contains("no longer used"), "{err}");
}

#[test]
fn a_host_that_accepts_a_wrong_password_does_not_lift_the_cap() {
    // 127.0.0.1 takes "Not-The-Password" (a hostile host, or one that maps a bad password to
    // Guest); eight more refuse it. All at once, the accepting one first in line: the others
    // still get the credentials at most three times between them.
    let wrong = "Not-The-Password";
    let f = Fixture::start(&["--require-auth", &format!("{ACCOUNT}:{wrong}")]);
    let port = f.port();
    let spec = format!("{ACCOUNT}:{PASSWORD}");
    let _refusing: Vec<Fixture> = (2..=9)
        .map(|k| {
            Fixture::start_in(
                None,
                &format!("127.0.0.{k}:{port}"),
                &["--require-auth", &spec],
            )
        })
        .collect();
    let targets: Vec<String> = (1..=9).map(|k| format!("127.0.0.{k}")).collect();
    let mut args: Vec<&str> = vec!["dump"];
    args.extend(targets.iter().map(String::as_str));
    args.extend([
        "--port",
        &port,
        "--json",
        "--user",
        ACCOUNT,
        "--auth",
        "ntlm",
        "--concurrency",
        "9",
    ]);
    let (code, out, err) = run_env(&args, &[("RPCAUDIT_PASSWORD", wrong)]);
    assert_eq!(code, 3, "{err}");
    let v = json(&out, &err);
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts[0]["status"], "ok", "{}", hosts[0]);
    let errors: Vec<&str> = hosts[1..]
        .iter()
        .map(|h| h["error"].as_str().unwrap())
        .collect();
    let saying = |what: &str| errors.iter().filter(|e| e.contains(what)).count();
    assert_eq!(
        (
            saying("logon failure: the host refused"),
            saying("so they are no longer used")
        ),
        (3, 5),
        "{errors:#?}"
    );
}

#[test]
fn rust_log_cannot_bring_back_the_ntlm_librarys_logs() {
    let f = restricted(&[]);
    let port = f.port();
    // NTLMSSP as the library might print a message: text, base64, hex, a Debug byte list.
    let marks = [
        "NTLMSSP",
        "TlRMTVNTUA",
        "4e544c4d5353",
        "4E544C4D5353",
        "78, 84, 76, 77, 83, 83, 80",
        "sspi",
    ];
    for directive in [
        "sspi::ntlm=trace",
        "sspi=trace",
        "trace",
        "sspi::ntlm[]=trace,trace",
    ] {
        for level in ["integrity", "privacy"] {
            let (code, out, err) = run_env(
                &dump_args(&port, &["--user", ACCOUNT, "--auth-level", level]),
                &[("RPCAUDIT_PASSWORD", PASSWORD), ("RUST_LOG", directive)],
            );
            assert_eq!(code, 0, "{directive}: {err}");
            if directive.ends_with("trace") && !directive.starts_with("sspi") {
                assert!(
                    err.contains("NTLM authentication sent"),
                    "{directive}: our own trace still shows: {err}"
                );
            }
            for m in marks {
                assert!(
                    !err.contains(m) && !out.contains(m),
                    "RUST_LOG={directive} at {level}: {m:?} in the output"
                );
            }
        }
    }
}

#[test]
fn missing_or_contradictory_credentials_are_usage_errors() {
    let f = restricted(&[]);
    let port = f.port();
    // --user without a secret, stdin not a terminal.
    let (code, _, err) = run_env(&dump_args(&port, &["--user", ACCOUNT]), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("RPCAUDIT_PASSWORD"), "{err}");
    // --auth ntlm without --user.
    let (code, _, err) = run_env(&dump_args(&port, &["--auth", "ntlm"]), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--user"), "{err}");
    // There is no password flag.
    let (code, _, err) = run_env(
        &dump_args(&port, &["--user", ACCOUNT, "--password", PASSWORD]),
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        !err.contains(PASSWORD) || err.contains("unexpected argument"),
        "{err}"
    );
}

#[test]
fn the_password_and_nt_hash_appear_in_no_output_log_or_report() {
    let f = restricted(&[]);
    let port = f.port();
    let hash = nt_hash_hex(PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let secrets = [
        PASSWORD.to_string(),
        hash.clone(),
        hash.to_uppercase(),
        // The hash as the provider's own password field would spell it.
        format!("$NTLM$:{hash}"),
    ];
    let check = |what: &str, text: &str| {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{what} holds a secret");
        }
    };
    let runs: Vec<(Vec<&str>, (&str, String))> = vec![
        (
            dump_args(
                &port,
                &["--user", ACCOUNT, "-vvv", "--auth-level", "privacy"],
            ),
            ("RPCAUDIT_PASSWORD", PASSWORD.to_string()),
        ),
        (
            dump_args(
                &port,
                &["--user", ACCOUNT, "-vvv", "--auth-level", "integrity"],
            ),
            ("RPCAUDIT_NT_HASH", hash.clone()),
        ),
        (
            vec![
                "capacity",
                "127.0.0.1",
                "--port",
                &port,
                "--json",
                "--user",
                ACCOUNT,
                "-vvv",
            ],
            ("RPCAUDIT_PASSWORD", PASSWORD.to_string()),
        ),
        (
            support::audit_args(
                &port,
                &[
                    "--no-probe",
                    "--json",
                    "--output",
                    report.to_str().unwrap(),
                    "--user",
                    ACCOUNT,
                    "-vvv",
                ],
            ),
            ("RPCAUDIT_PASSWORD", PASSWORD.to_string()),
        ),
        // A wrong secret, so the failure paths print too.
        (
            dump_args(&port, &["--user", ACCOUNT, "-vvv"]),
            ("RPCAUDIT_PASSWORD", format!("{PASSWORD}-wrong")),
        ),
    ];
    for (args, (k, v)) in &runs {
        let (code, out, err) = run_env(args, &[(k, v.as_str())]);
        assert!(
            code == 0 || code == 1 || code == 3,
            "{args:?}: {code} {err}"
        );
        assert!(
            err.contains("TRACE") || err.contains("DEBUG"),
            "-vvv logs: {err}"
        );
        check(&format!("stdout of {args:?}"), &out);
        check(&format!("stderr of {args:?}"), &err);
    }
    let written = std::fs::read_to_string(&report).unwrap();
    check("the audit report", &written);
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    support::assert_valid_report(&v);
    let host = &v["hosts"][0];
    assert_eq!(host["auth"]["mechanism"], "ntlm");
    assert_eq!(host["auth"]["user"], "LAB\\audit");
}

#[test]
fn on_a_terminal_the_password_is_asked_without_echo() {
    use std::io::{Read, Write};
    const SCRIPT: &str = "/usr/bin/script";
    if !std::path::Path::new(SCRIPT).exists() {
        panic!("{SCRIPT} is missing: install util-linux's script (Debian package bsdutils)");
    }
    let f = restricted(&[]);
    let cmd = format!(
        "stty cols 200 rows 50 2>/dev/null; exec '{}' dump 127.0.0.1 --port {} --json --user 'LAB\\audit'",
        bin(),
        f.port()
    );
    let mut child = Command::new(SCRIPT)
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("RPCAUDIT_PASSWORD")
        .env_remove("RPCAUDIT_NT_HASH")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run rpcaudit under script");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    // Type only once the prompt is up (echo is off from then on).
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !String::from_utf8_lossy(&seen).contains("Password for") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => panic!("no prompt: {}", String::from_utf8_lossy(&seen)),
        }
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{PASSWORD}\r").as_bytes()).unwrap();
    drop(stdin);
    while let Ok(chunk) = rx.recv_timeout(std::time::Duration::from_secs(20)) {
        seen.extend(chunk);
    }
    let status = child.wait().unwrap();
    let seen = String::from_utf8_lossy(&seen).into_owned();
    assert!(status.success(), "{seen}");
    assert!(seen.contains("Password for LAB\\audit: "), "{seen}");
    assert!(!seen.contains(PASSWORD), "the password was echoed: {seen}");
    assert!(seen.contains("\"mechanism\": \"ntlm\""), "{seen}");
}
