//! Inputs rpcaudit could not read fail closed, through the real binary: a policy file with
//! nothing readable in it is an error naming the file (exit 2) in every command that reads
//! policies, never "no findings"; an audit target that no observation verified is incomplete
//! (exit 3), never compliant; a `--from` address that cannot be a source is refused before
//! anything is sent.

mod support;

use std::path::{Path, PathBuf};
use support::{Fixture, run};

/// Files from which nothing can be read, each with the words its error must carry.
fn unreadable_files(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut files: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.cmd", Vec::new(), "the file is empty"),
        ("blank.cmd", b"  \r\n\r\n\t\r\n".to_vec(), "only white space"),
        ("binary.cmd", (0..=255u8).cycle().take(4096).collect(), "the file is binary"),
        ("controls.cmd", b"\x01\x02\x03\x04 ipseccmd \x05\x06\x07\x08".to_vec(), "the file is binary"),
        ("prose.txt", b"Block RPC ports as the article says.\r\n".to_vec(), "no command rpcaudit reads"),
        ("comments.cmd", b"@echo off\r\nrem ipseccmd -w REG -p P -x\r\n:: nothing\r\n".to_vec(), "no command rpcaudit reads"),
        ("other.reg", b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Other]\r\n\"X\"=\"1\"\r\n".to_vec(), "sets nothing rpcaudit reads"),
    ];
    // UTF-16LE with BOM, cut in the middle of a character.
    let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
    for u in "rpccfg.exe -pe 5001-5021 -d 0\r\n".encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    utf16.push(b'x');
    files.push(("truncated-utf16.cmd", utf16, "not valid utf-16le"));
    // An unpaired surrogate in UTF-16LE.
    let mut broken: Vec<u8> = vec![0xFF, 0xFE];
    for u in "rpccfg.exe -pe 5001-5021 -d 0".encode_utf16() {
        broken.extend(u.to_le_bytes());
    }
    broken.extend(0xD800u16.to_le_bytes());
    broken.extend(b"\r\0\n\0");
    files.push(("surrogate.cmd", broken, "not valid utf-16le"));
    // A registry hive, as `netsh advfirewall export` writes: said for what it is (it was
    // "not valid utf-16le" or "binary").
    let mut hive = b"regf".to_vec();
    hive.resize(4096, 0);
    files.push(("export.wfw", hive, "a registry hive (regf)"));
    files
        .into_iter()
        .map(|(name, bytes, why)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            (p, why)
        })
        .collect()
}

fn assert_refused(args: &[&str], file: &Path, why: &str) {
    let (code, out, err) = run(args);
    assert_eq!(code, 2, "{args:?}: stdout {out}\nstderr {err}");
    let name = file.display().to_string();
    assert!(
        err.contains(&format!("{name}: nothing could be read from it")) && err.contains(why),
        "{args:?}: {err}"
    );
    assert!(!out.contains("no findings"), "{args:?}: {out}");
}

#[test]
fn unreadable_policy_files_are_errors_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for (file, why) in unreadable_files(dir.path()) {
        let f = file.to_str().unwrap();
        assert_refused(&["policy", "lint", f], &file, why);
        assert_refused(&["policy", "lint", f, "--json"], &file, why);
        assert_refused(
            &["policy", "explain", f, "--src", "10.1.1.7", "--port", "135"],
            &file,
            why,
        );
        assert_refused(&["policy", "range", f], &file, why);
        assert_refused(
            &["audit", "127.0.0.1", "--no-probe", "--policy", f],
            &file,
            why,
        );
        assert_refused(&["capacity", "127.0.0.1", "--config", f], &file, why);
    }
}

#[test]
fn an_unreadable_file_among_good_ones_is_still_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = support::article_policy();
    let empty = dir.path().join("empty.cmd");
    std::fs::write(&empty, b"").unwrap();
    assert_refused(
        &["policy", "lint", good, empty.to_str().unwrap()],
        &empty,
        "empty",
    );
}

#[test]
fn a_policy_read_from_a_pipe_is_capped_by_reading() {
    // /dev/zero has no size: the cap must come from reading, not from metadata.
    let (code, _, err) = run(&["policy", "lint", "/dev/zero"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("/dev/zero: larger than the 16777216 bytes"),
        "{err}"
    );
}

fn observations(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_target_no_observation_verified_is_incomplete_never_compliant() {
    let f = Fixture::start(&["--tcp-endpoints", "3", "--tcp-ports", "5001-5003"]);
    let dir = tempfile::tempdir().unwrap();
    let about_others = observations(
        dir.path(),
        "others.json",
        r#"{"observations":[{"source":"127.0.0.9","target":"127.0.0.77","port":135,"state":"filtered","attempts":2,"rtt_ms":null}]}"#,
    );
    let empty = observations(dir.path(), "empty.json", r#"{"observations":[]}"#);
    let port = f.port();
    let no_probe = |obs| ["--no-probe", "--observations", obs];
    for obs in [&about_others, &empty] {
        let args = support::audit_args(&port, &[&no_probe(obs)[..], &["--json"]].concat());
        let (code, v, err) = support::run_json(&args);
        assert_eq!(code, 3, "{obs}: {err}\n{v}");
        assert_eq!(v["complete"], false, "{v}");
        assert_eq!(v["summary"]["compliant"], false, "{v}");
        assert_eq!(
            v["summary"]["incomplete_hosts"],
            serde_json::json!(["127.0.0.1"])
        );
        let unverified = *support::findings_with(&v, "unverified")
            .first()
            .unwrap_or_else(|| panic!("no unverified finding: {v}"));
        assert!(
            unverified["message"]
                .as_str()
                .unwrap()
                .contains("127.0.0.1: the fence was not verified"),
            "{unverified}"
        );
    }
    // The table says so too.
    let (code, out, _) = run(&support::audit_args(&port, &no_probe(&empty)));
    assert_eq!(code, 3);
    assert!(out.contains("INCOMPLETE: 1 host(s)"), "{out}");
    assert!(
        out.contains("warning unverified: 127.0.0.1: the fence was not verified"),
        "{out}"
    );
}

#[test]
fn sources_that_cannot_send_are_refused_before_anything_is_sent() {
    for bad in ["0.0.0.0", "::", "224.0.0.251", "ff02::1", "255.255.255.255"] {
        for cmd in [
            vec!["probe", "127.0.0.1", "--from", bad],
            vec!["audit", "127.0.0.1", "--no-probe", "--from", bad],
        ] {
            let (code, out, err) = run(&cmd);
            assert_eq!(code, 2, "{cmd:?}: {out}{err}");
            assert!(err.contains("is not a unicast address"), "{cmd:?}: {err}");
            assert!(out.is_empty(), "{cmd:?}: {out}");
        }
    }
}
