//! Lab tests of authenticated dumps against Samba (root, `#[ignore]`; the README's test
//! command runs them): a local account (`smbpasswd -a` in tests/lab/up.sh), dumps at connect,
//! integrity and privacy that list exactly the anonymous dump's entries, a tshark capture of
//! each showing the bind's auth type NTLMSSP (10) and the chosen level and, at privacy, no stub
//! bytes in clear; a wrong password is a logon failure, exit 3; and Samba's own rpcclient,
//! signing, lists what we list.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::bin;
use support::capture::Capture;
use support::lab;

fn account() -> String {
    format!("{}\\{}", lab::NETBIOS, lab::USER)
}

/// Run `rpcaudit dump SRV --json ARGS` in the allowed client's namespace with `password` in
/// RPCAUDIT_PASSWORD; (exit code, JSON, stderr).
fn dump(args: &[&str], password: Option<&str>) -> (i32, serde_json::Value, String) {
    let srv = lab::SRV_IP.to_string();
    let mut cmd = Command::new("ip");
    cmd.args([
        "netns",
        "exec",
        lab::NS_ALLOW,
        bin(),
        "dump",
        &srv,
        "--json",
        "--timeout",
        "15",
    ])
    .args(args)
    .env_remove("RPCAUDIT_PASSWORD")
    .env_remove("RPCAUDIT_NT_HASH")
    .stdin(Stdio::null());
    if let Some(p) = password {
        cmd.env("RPCAUDIT_PASSWORD", p);
    }
    let out = cmd.output().expect("run rpcaudit dump in the lab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// [`dump`] with NTLM as the lab's account, at `level`.
fn dump_ntlm(level: &str, password: &str) -> (i32, serde_json::Value, String) {
    let user = account();
    let args = ["--auth", "ntlm", "--user", &user, "--auth-level", level];
    dump(&args, Some(password))
}

fn entries(v: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    lab::endpoints(&v["hosts"][0]).into_iter().collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
#[ignore = "lab: needs root, Samba, tshark and network namespaces"]
fn authenticated_dumps_at_every_level_list_the_anonymous_entries_and_the_wire_shows_ntlm() {
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    let (code, anon, err) = dump(&["--auth", "none"], None);
    assert_eq!(code, 0, "{err}");
    let expected = entries(&anon);
    assert!(
        expected.len() > 10,
        "the anonymous dump listed too little: {anon}"
    );
    // Strings of the stub the capture must show in clear at connect and integrity, and
    // must not show at privacy: the ncalrpc endpoint names and annotations Samba registers.
    let markers: BTreeSet<String> = expected
        .iter()
        .flat_map(|(_, b, a)| {
            let lrpc = b
                .strip_prefix("ncalrpc:[")
                .and_then(|r| r.strip_suffix(']'))
                .map(str::to_string);
            lrpc.into_iter().chain([a.clone()])
        })
        .filter(|s| s.len() >= 5)
        .collect();
    assert!(!markers.is_empty(), "no marker strings in {expected:?}");

    for (level, wire) in [("connect", "2"), ("integrity", "5"), ("privacy", "6")] {
        let capture = Capture::start("tcp port 135");
        let (code, v, err) = dump_ntlm(level, lab::PASSWORD);
        // Each DCE/RPC packet as "pkt_type auth_type auth_level".
        let (raw, packets) = capture.finish(
            "dcerpc",
            &["dcerpc.pkt_type", "dcerpc.auth_type", "dcerpc.auth_level"],
        );
        let packets: Vec<String> = packets.iter().map(|l| l.replace('\t', " ")).collect();
        assert_eq!(code, 0, "{level}: {err}");
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "ok", "{level}: {host}");
        assert_eq!(
            entries(&v),
            expected,
            "{level}: not the anonymous dump's entries"
        );
        assert_eq!(
            host["auth"],
            serde_json::json!({"mechanism": "ntlm", "level": level, "user": account()})
        );
        // bind (11), bind_ack (12) and rpc_auth3 (16) carry NTLMSSP (10) at the level.
        for ptype in ["11", "12", "16"] {
            let want = format!("{ptype} 10 {wire}");
            assert!(
                packets.contains(&want),
                "{level}: no '{want}' in the capture ({} bytes): {packets:?}",
                raw.len()
            );
        }
        // Requests (0) and responses (2): signed at integrity and privacy, bare at connect.
        for ptype in ["0", "2"] {
            let with_auth = format!("{ptype} 10 {wire}");
            let plain = packets.iter().any(|p| p.trim() == ptype);
            if level == "connect" {
                assert!(plain, "{level}: no bare {ptype} in {packets:?}");
            } else {
                assert!(
                    packets.contains(&with_auth),
                    "{level}: no '{with_auth}' in {packets:?}"
                );
                assert!(!plain, "{level}: an unprotected {ptype} in {packets:?}");
            }
        }
        let seen: Vec<&String> = markers
            .iter()
            .filter(|m| contains(&raw, m.as_bytes()))
            .collect();
        if level == "privacy" {
            assert!(
                seen.is_empty(),
                "privacy: stub bytes in clear on the wire: {seen:?}"
            );
        } else {
            assert!(
                !seen.is_empty(),
                "{level}: the stub should be in clear (control)"
            );
        }
    }
}

#[test]
#[ignore = "lab: needs root, Samba and network namespaces"]
fn a_wrong_password_is_a_logon_failure_exit_3() {
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    for level in ["integrity", "privacy"] {
        let (code, v, err) = dump_ntlm(level, "Not-The-Lab-Password");
        assert_eq!(code, 3, "{err}");
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "error");
        let e = host["error"].as_str().unwrap();
        assert!(e.contains("logon failure"), "{level}: {e}");
        assert!(!e.contains("Not-The-Lab-Password") && !err.contains("Not-The-Lab-Password"));
    }
}

#[test]
#[ignore = "lab: needs root, Samba and network namespaces"]
fn rpcclient_signing_lists_what_we_list_signed() {
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    let creds = format!("{}%{}", account(), lab::PASSWORD);
    let smb_conf = format!("{}/smb.conf", lab::lab_dir().display());
    let out = lab::rpcclient_epmlookup(
        &["-s", &smb_conf, "-U", &creds],
        "[sign,ntlm]",
        Duration::from_secs(30),
    );
    let theirs: BTreeSet<_> = lab::parse_epmlookup(&String::from_utf8_lossy(&out.stdout))
        .into_iter()
        .collect();
    assert!(theirs.len() > 10, "rpcclient [sign] listed too little");
    let (code, v, err) = dump(
        &["--auth", "ntlm", "--user", &account()],
        Some(lab::PASSWORD),
    );
    assert_eq!(code, 0, "{err}");
    let ours: BTreeSet<(String, String)> =
        entries(&v).into_iter().map(|(i, b, _)| (i, b)).collect();
    // rpcclient stops one entry early on Samba's last page (tests/lab_dump.rs says why).
    assert!(
        theirs.is_subset(&ours),
        "missing: {:?}",
        theirs.difference(&ours)
    );
    assert_eq!(ours.len(), theirs.len() + 1);
}
