//! Lab tests of Kerberos against a real Active Directory domain controller (Samba AD DC in its
//! own namespaces, tests/lab/dc.sh; root, `#[ignore]`; the README's test command runs them):
//! Kerberos dumps at connect, integrity and privacy (and through SPNEGO at each level too) list exactly the anonymous dump's entries, and a tshark capture shows auth type 16
//! (9 for SPNEGO) in the bind, bind_ack and third leg at the chosen level, at integrity every
//! request and response at level 5 with a 28-byte MIC and the stub in clear, and at privacy
//! no stub in clear; several hosts in one run cost one TGT (two AS requests:
//! without and with pre-authentication), the password's key derived once, and one service
//! ticket for the host name they share; a wrong password is one KDC
//! refusal for the whole run and exit 3; with `ntlm auth = disabled` NTLM is refused and
//! Kerberos accepted, and `--auth-survey` says exactly that; no password, key or ticket reaches any output at RUST_LOG=trace;
//! over SMB (`--transport smb`) a Kerberos session setup (AP-REQ, AP-REP) reads the same map
//! on `\pipe\epmapper`, every later message signed and no NTLMSSP on the wire.

mod support;

use std::collections::BTreeSet;
use support::capture::Capture;
use support::dc;

fn entries(v: &serde_json::Value, k: usize) -> BTreeSet<(String, String, String)> {
    support::lab::endpoints(&v["hosts"][k])
        .into_iter()
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn args(targets: &[&str], extra: &[String]) -> Vec<String> {
    let mut a: Vec<String> = ["dump", "--json", "--timeout", "20"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.extend(targets.iter().map(|s| s.to_string()));
    a.extend(extra.iter().cloned());
    a
}

fn anonymous() -> BTreeSet<(String, String, String)> {
    let r = dc::rpcaudit(
        &args(&[dc::DC_IP], &["--auth".into(), "none".into()]),
        None,
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let e = entries(&r.json(), 0);
    assert!(
        e.len() > 10,
        "the anonymous dump listed too little: {}",
        r.stdout
    );
    e
}

/// KDC messages in a capture of port 88, by Kerberos msg-type (10 AS-REQ, 12 TGS-REQ, 30
/// KRB-ERROR) with the error code of errors.
fn kdc_messages(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.replace('\t', " ").trim().to_string())
        .collect()
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn kerberos_dumps_list_the_anonymous_entries_and_the_wire_shows_kerberos() {
    let Some(_dc) = dc::setup("ntlm") else {
        return;
    };
    let expected = anonymous();
    // Stub strings that must be in clear at connect and absent at privacy.
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
    for (mech, level, wire) in [
        ("kerberos", "connect", "2"),
        ("kerberos", "integrity", "5"),
        ("kerberos", "privacy", "6"),
        ("negotiate", "connect", "2"),
        ("negotiate", "integrity", "5"),
        ("negotiate", "privacy", "6"),
    ] {
        let capture = Capture::start_in(dc::NS_CLI, "tcp port 135");
        let mut flags = dc::kerberos_args(level);
        flags[1] = mech.to_string();
        let auth_type = if mech == "kerberos" { "16" } else { "9" };
        let r = dc::rpcaudit(&args(&[dc::DC_IP], &flags), Some(dc::PASSWORD), None);
        let (raw, lines) = capture.finish(
            "dcerpc",
            &[
                "dcerpc.pkt_type",
                "dcerpc.auth_type",
                "dcerpc.auth_level",
                "dcerpc.cn_auth_len",
            ],
        );
        let lines = kdc_messages(&lines);
        // "ptype auth_type level" of each PDU, and the verifier lengths of requests and
        // responses.
        let packets: Vec<String> = lines
            .iter()
            .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
            .collect();
        let call_tokens: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("0 ") || l.starts_with("2 "))
            .filter_map(|l| l.split(' ').nth(3))
            .collect();
        assert_eq!(r.code, 0, "{level}: {}", r.stderr);
        let v = r.json();
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "ok", "{level}: {host}");
        assert_eq!(
            entries(&v, 0),
            expected,
            "{level}: not the anonymous dump's entries"
        );
        assert_eq!(
            host["auth"],
            serde_json::json!({"mechanism": mech, "level": level, "user": format!("{}@{}", dc::USER, dc::REALM)})
        );
        // bind (11) and bind_ack (12) carry Kerberos (16) or SPNEGO (9) at the level, and the
        // third leg too: rpc_auth3 (16) for Kerberos; alter_context (14) or rpc_auth3 for SPNEGO.
        for ptype in ["11", "12"] {
            let want = format!("{ptype} {auth_type} {wire}");
            assert!(
                packets.contains(&want),
                "{mech} {level}: no '{want}' in {packets:?}"
            );
        }
        let third = ["16", "14"]
            .iter()
            .any(|p| packets.contains(&format!("{p} {auth_type} {wire}")));
        assert!(third, "{mech} {level}: no third leg in {packets:?}");
        let seen: Vec<&String> = markers
            .iter()
            .filter(|m| contains(&raw, m.as_bytes()))
            .collect();
        if level == "privacy" {
            for ptype in ["0", "2"] {
                let sealed = format!("{ptype} {auth_type} 6");
                assert!(
                    packets.contains(&sealed),
                    "privacy: no '{sealed}' in {packets:?}"
                );
                assert!(
                    !packets.iter().any(|p| p == ptype),
                    "privacy: an unprotected {ptype} in {packets:?}"
                );
            }
            assert!(seen.is_empty(), "privacy: stub bytes in clear: {seen:?}");
        } else if level == "integrity" {
            // Requests and responses signed at level 5, each with a 28-byte MIC (RFC 4121
            // 4.2.6.1 with an AES key), and the stub in clear.
            for ptype in ["0", "2"] {
                let signed = format!("{ptype} {auth_type} 5");
                assert!(
                    packets.contains(&signed),
                    "integrity: no '{signed}' in {packets:?}"
                );
                assert!(
                    !packets.iter().any(|p| p == ptype),
                    "integrity: an unsigned {ptype} in {packets:?}"
                );
            }
            assert!(
                !call_tokens.is_empty() && call_tokens.iter().all(|t| *t == "28"),
                "integrity: verifier lengths {call_tokens:?}"
            );
            assert!(!seen.is_empty(), "integrity: the stub should be in clear");
        } else {
            assert!(
                !seen.is_empty(),
                "connect: the stub should be in clear (control)"
            );
        }
    }
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn three_addresses_of_one_host_cost_one_tgt_and_one_service_ticket() {
    let Some(_dc) = dc::setup("ntlm") else {
        return;
    };
    let expected = anonymous();
    let targets = [dc::DC_IP, dc::DC_MORE[0], dc::DC_MORE[1]];
    let capture = Capture::start_in(dc::NS_CLI, "tcp port 88");
    let r = dc::rpcaudit(
        &args(&targets, &dc::kerberos_args("privacy")),
        Some(dc::PASSWORD),
        Some("rpcaudit=debug"),
    );
    let (_, msgs) = capture.finish("kerberos", &["kerberos.msg_type"]);
    let msgs = kdc_messages(&msgs);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    for k in 0..3 {
        assert_eq!(v["hosts"][k]["status"], "ok", "{}", v["hosts"][k]);
        assert_eq!(entries(&v, k), expected);
    }
    // The password's key is derived once for the run, after the first TGT, and the later
    // hosts' contexts are given that key (it opened the AS-REP, or it would not be used).
    assert_eq!(
        r.stderr.matches("the password's key derived once").count(),
        1,
        "{}",
        r.stderr
    );
    // "12,14": a TGS-REQ carries an AP-REQ (14) in its pre-authentication data.
    let count = |t: &str| {
        msgs.iter()
            .filter(|m| m.split(',').next() == Some(t))
            .count()
    };
    // One AS exchange: without pre-authentication (answered KDC_ERR_PREAUTH_REQUIRED), then
    // with it; one TGS request for the one host name (host/dc1.rpcaudit.lab) the three
    // addresses share, its ticket reused by the other two binds.
    assert_eq!(count("10"), 2, "AS-REQs: {msgs:?}");
    assert_eq!(count("11"), 1, "AS-REPs: {msgs:?}");
    assert_eq!(count("12"), 1, "TGS-REQs: {msgs:?}");
    assert_eq!(count("13"), 1, "TGS-REPs: {msgs:?}");
    assert_eq!(
        r.stderr
            .matches("service ticket reused from this run")
            .count(),
        2,
        "{}",
        r.stderr
    );
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn a_wrong_password_fails_once_at_the_kdc_and_exits_3() {
    let Some(_dc) = dc::setup("ntlm") else {
        return;
    };
    let targets = [dc::DC_IP, dc::DC_MORE[0], dc::DC_MORE[1]];
    let capture = Capture::start_in(dc::NS_CLI, "tcp port 88 or tcp port 135");
    let r = dc::rpcaudit(
        &args(&targets, &dc::kerberos_args("privacy")),
        Some("Not-The-Lab-Password"),
        None,
    );
    let (_, msgs) = capture.finish(
        "kerberos || dcerpc",
        &[
            "kerberos.msg_type",
            "kerberos.error_code",
            "dcerpc.pkt_type",
        ],
    );
    let msgs = kdc_messages(&msgs);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v = r.json();
    let errors: Vec<&str> = (0..3)
        .map(|k| v["hosts"][k]["error"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.contains("KDC_ERR_PREAUTH_FAILED"))
            .count(),
        3,
        "{errors:?}"
    );
    assert_eq!(
        errors.iter().filter(|e| e.contains("not sent")).count(),
        2,
        "one host asked the KDC, the other two were not sent: {errors:?}"
    );
    // One pre-authenticated AS-REQ refused with KDC_ERR_PREAUTH_FAILED (24), no TGS, and no
    // bind ever sent.
    let as_reqs = msgs.iter().filter(|m| m.as_str() == "10").count();
    assert_eq!(as_reqs, 2, "{msgs:?}");
    assert_eq!(
        msgs.iter().filter(|m| m.as_str() == "30 24").count(),
        1,
        "{msgs:?}"
    );
    assert!(
        !msgs.iter().any(|m| m.starts_with("12")),
        "a TGS-REQ: {msgs:?}"
    );
    assert!(!msgs.iter().any(|m| m == "11"), "a bind: {msgs:?}");
    assert!(
        !r.stdout.contains("Not-The-Lab-Password") && !r.stderr.contains("Not-The-Lab-Password")
    );
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn with_ntlm_disabled_ntlm_is_refused_and_kerberos_accepted() {
    let Some(_dc) = dc::setup("no-ntlm") else {
        return;
    };
    let ntlm: Vec<String> = [
        "--auth",
        "ntlm",
        "--user",
        &format!("{}\\{}", dc::NETBIOS_DOMAIN, dc::USER),
        "--auth-level",
        "privacy",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = dc::rpcaudit(&args(&[dc::DC_IP], &ntlm), Some(dc::PASSWORD), None);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let v = r.json();
    let e = v["hosts"][0]["error"].as_str().unwrap_or_default();
    assert!(e.contains("logon failure"), "NTLM should be refused: {e}");
    let r = dc::rpcaudit(
        &args(&[dc::DC_IP], &dc::kerberos_args("privacy")),
        Some(dc::PASSWORD),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["hosts"][0]["auth"]["mechanism"], "kerberos");
    // --auth-survey says exactly that: anonymous and Kerberos accepted, NTLM refused (and,
    // refused at integrity, not tried again at the other levels).
    let survey: Vec<String> = [
        "--auth-survey",
        "--user",
        &format!("{}@{}", dc::USER, dc::REALM),
        "--kdc",
        dc::DC_IP,
        "--target-name",
        dc::FQDN,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = dc::rpcaudit(&args(&[dc::DC_IP], &survey), Some(dc::PASSWORD), None);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v = r.json();
    let tries: Vec<String> = v["hosts"][0]["survey"]
        .as_array()
        .unwrap_or_else(|| panic!("no survey: {v}"))
        .iter()
        .map(|t| {
            format!(
                "{} {} {}",
                t["mechanism"].as_str().unwrap_or_default(),
                t["level"].as_str().unwrap_or("-"),
                t["outcome"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        tries,
        [
            "anonymous - accepted",
            "ntlm integrity refused",
            "ntlm privacy not-tried",
            "ntlm connect not-tried",
            "kerberos integrity accepted",
            "kerberos privacy accepted",
            "kerberos connect accepted",
        ],
        "{v}"
    );
    let mut table = survey.clone();
    table.insert(0, dc::DC_IP.to_string());
    table.insert(0, "dump".to_string());
    let r = dc::rpcaudit(&table, Some(dc::PASSWORD), None);
    assert!(
        r.stdout.contains(
            "auth survey: anonymous accepted; NTLM refused; Kerberos accepted (integrity, privacy, connect)"
        ),
        "{}",
        r.stdout
    );
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn no_password_key_or_ticket_in_any_output_at_trace() {
    let Some(_dc) = dc::setup("ntlm") else {
        return;
    };
    // The capture holds the tickets and the encrypted parts the KDC sent: none of their bytes
    // (hex or as they are) may reach stdout or stderr.
    let capture = Capture::start_in(dc::NS_CLI, "tcp port 88");
    let mut outputs = Vec::new();
    for (password, targets) in [
        (dc::PASSWORD, vec![dc::DC_IP, dc::DC_MORE[0]]),
        ("Not-The-Lab-Password", vec![dc::DC_IP]),
    ] {
        for form in [vec!["--json".to_string()], vec![]] {
            // Privacy (sealed) and integrity (MICs with the session's subkey) both.
            let level = if form.is_empty() {
                "integrity"
            } else {
                "privacy"
            };
            let mut a = args(&targets, &dc::kerberos_args(level));
            a.retain(|x| x != "--json");
            a.extend(form);
            a.push("-vv".into());
            let r = dc::rpcaudit(&a, Some(password), Some("trace"));
            outputs.push(format!("{}\n{}", r.stdout, r.stderr));
        }
    }
    // And over SMB: the session's key signs every message there.
    let mut a = args(&[dc::DC_IP], &dc::kerberos_args("integrity"));
    a.extend(["--transport".into(), "smb".into(), "-vv".into()]);
    let r = dc::rpcaudit(&a, Some(dc::PASSWORD), Some("trace"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    outputs.push(format!("{}\n{}", r.stdout, r.stderr));
    let (raw, tickets) = capture.finish("kerberos", &["kerberos.cipher"]);
    let all = outputs.join("\n");
    assert!(all.contains("kerberos"), "the runs said nothing: {all}");
    for secret in [dc::PASSWORD, "Not-The-Lab-Password"] {
        assert!(!all.contains(secret), "the password in the output");
    }
    // Kerberos ciphertexts (tickets, encrypted parts: whatever tshark shows as cipher), by
    // their first 16 bytes, in hex either case and in the raw output.
    let ciphers: Vec<String> = tickets
        .iter()
        .flat_map(|l| l.split(['\t', ',']).map(str::to_string).collect::<Vec<_>>())
        .filter(|c| c.len() >= 32)
        .collect();
    assert!(
        !ciphers.is_empty(),
        "no ticket in the capture ({} bytes)",
        raw.len()
    );
    let lower = all.to_lowercase();
    for c in &ciphers {
        let head = &c[..32];
        assert!(
            !lower.contains(head),
            "ticket or key bytes in the output: {head}"
        );
    }
    // Nothing of sspi's or picky's own tracing (which logs keys at trace) gets through.
    for noisy in ["sspi", "picky", "session_key", "sub_session_key"] {
        assert!(!all.contains(noisy), "'{noisy}' in the output");
    }
}

/// `--keytab`: the user's keys exported from the DC (`samba-tool domain exportkeytab`) read
/// the endpoint mapper without any password, and the KDC comes from DNS SRV
/// `_kerberos._tcp.rpcaudit.lab` (a dnsmasq in the DC's namespace answers it; `--dns`), which
/// the verbose log names; a capture of port 53 shows the SRV query. No byte of the keytab's
/// keys (as `klist -K` shows them) reaches any output at `RUST_LOG=trace`.
#[test]
#[ignore = "lab: needs root, samba-ad-dc, dnsmasq, tshark and network namespaces"]
fn a_keytab_and_the_kdc_from_dns_srv_read_the_dc_and_no_key_shows() {
    let Some(_dc) = dc::setup("ntlm") else {
        return;
    };
    if !support::lab::can_run_with(&["dnsmasq", "klist"]) {
        return;
    }
    let expected = anonymous();
    let dir = tempfile::tempdir().unwrap();
    let keytab = dir.path().join("auditor.keytab");
    let conf = std::env::var("RPCK_DIR").unwrap_or_else(|_| "/tmp/rpcaudit-krb-lab".into());
    let st = std::process::Command::new("samba-tool")
        .args(["domain", "exportkeytab"])
        .arg(&keytab)
        .arg(format!("--principal={}@{}", dc::USER, dc::REALM))
        .arg("-s")
        .arg(format!("{conf}/prov/etc/smb.conf"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let listed = std::process::Command::new("klist")
        .args(["-k", "-K", "-e"])
        .arg(&keytab)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let keys: Vec<String> = listed
        .split("(0x")
        .skip(1)
        .filter_map(|k| k.split(')').next().map(str::to_lowercase))
        .collect();
    assert!(
        listed.contains("aes256-cts-hmac-sha1-96") && !keys.is_empty(),
        "{listed}"
    );
    // The realm's SRV record and the DC's name, served on the DC's address.
    let mut dns = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            "rpck-dc",
            "dnsmasq",
            "--keep-in-foreground",
        ])
        .args([
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
        ])
        .arg(format!("--listen-address={}", dc::DC_IP))
        .args(["--port=53", "--user=root", "--pid-file="])
        .arg(format!(
            "--srv-host=_kerberos._tcp.rpcaudit.lab,{},88,0,100",
            dc::FQDN
        ))
        .arg(format!("--host-record={},{}", dc::FQDN, dc::DC_IP))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let capture = Capture::start_in(dc::NS_CLI, "udp port 53 or tcp port 53");
    let mut outputs = Vec::new();
    let mut first = None;
    for (json, log) in [(true, None), (false, Some("trace"))] {
        let mut cmd = std::process::Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            dc::NS_CLI,
            support::bin(),
            "dump",
            dc::DC_IP,
        ])
        .args(["--timeout", "20", "--auth", "kerberos", "--user", dc::USER])
        .args([
            "--realm",
            dc::REALM,
            "--dns",
            dc::DC_IP,
            "--target-name",
            dc::FQDN,
        ])
        .arg("--keytab")
        .arg(&keytab)
        .args(["--auth-level", "privacy", "-vv"])
        .env_remove("RPCAUDIT_PASSWORD")
        .env_remove("RPCAUDIT_NT_HASH")
        .env("KRB5_CONFIG", "/nonexistent/krb5.conf")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
        if json {
            cmd.arg("--json");
        }
        if let Some(l) = log {
            cmd.env("RUST_LOG", l);
        }
        let out = cmd.output().unwrap();
        let (o, e) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        assert_eq!(out.status.code(), Some(0), "{o}{e}");
        assert!(
            e.contains("from DNS SRV _kerberos._tcp.rpcaudit.lab (dc1.rpcaudit.lab:88)"),
            "{e}"
        );
        if json {
            first = Some(o.clone());
        }
        outputs.push(format!("{o}\n{e}"));
    }
    let _ = dns.kill();
    let _ = dns.wait();
    let (_, queries) = capture.finish("dns.flags.response == 0", &["dns.qry.name", "dns.qry.type"]);
    assert!(
        queries
            .iter()
            .any(|q| q.starts_with("_kerberos._tcp.rpcaudit.lab") && q.ends_with("33")),
        "no SRV query in {queries:?}"
    );
    let v: serde_json::Value = serde_json::from_str(first.as_deref().unwrap()).unwrap();
    assert_eq!(v["hosts"][0]["status"], "ok", "{v}");
    assert_eq!(entries(&v, 0), expected, "not the anonymous dump's entries");
    assert_eq!(v["hosts"][0]["auth"]["mechanism"], "kerberos");
    let all = outputs.join("\n").to_lowercase();
    for k in &keys {
        assert!(!all.contains(&k[..16]), "a keytab key in the output");
    }
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn kerberos_over_smb_reads_the_map_on_the_pipe_with_a_signed_session() {
    let Some(_dc) = dc::setup("ntlm") else {
        return;
    };
    let expected = anonymous();
    let capture = Capture::start_in(dc::NS_CLI, "tcp port 445 or tcp port 88");
    let mut flags = dc::kerberos_args("integrity");
    flags.extend(["--transport".to_string(), "smb".to_string()]);
    let r = dc::rpcaudit(&args(&[dc::DC_IP], &flags), Some(dc::PASSWORD), None);
    let (_, lines) = capture.finish(
        "smb2 || kerberos",
        &[
            "smb2.cmd",
            "smb2.flags.response",
            "smb2.flags.signature",
            "kerberos.msg_type",
            "ntlmssp.messagetype",
            "dcerpc.pkt_type",
            "smb2.nt_status",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "ok", "{host}");
    assert_eq!(host["transport"], "smb", "{host}");
    assert_eq!(
        entries(&v, 0),
        expected,
        "over \\pipe\\epmapper with Kerberos: not the anonymous TCP dump's entries"
    );
    assert_eq!(
        host["auth"],
        serde_json::json!({"mechanism": "kerberos", "level": "integrity", "user": format!("{}@{}", dc::USER, dc::REALM)})
    );
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let field = |row: &Vec<&str>, k: usize| row.get(k).copied().unwrap_or_default().to_string();
    let truthy = |s: &str| s == "1" || s.eq_ignore_ascii_case("true");
    // The AP-REQ goes in a session setup request, the AP-REP comes in its answer (SMB2
    // command 1), and no NTLMSSP message is anywhere.
    let setups: Vec<String> = rows
        .iter()
        .filter(|r| field(r, 0) == "1")
        .map(|r| format!("{} {}", field(r, 1), field(r, 3)))
        .collect();
    assert!(
        setups.iter().any(|s| s.ends_with(" 14")) && setups.iter().any(|s| s.ends_with(" 15")),
        "no AP-REQ/AP-REP in the session setup: {setups:?}"
    );
    assert!(
        rows.iter().all(|r| field(r, 4).is_empty()),
        "NTLMSSP on the wire: {lines:?}"
    );
    // Every message after the session setup is signed, both ways (tree connect, create,
    // ioctl, read, close), but for the interim STATUS_PENDING answers, which Samba sends
    // unsigned (the client waits through them and checks the final answer); and DCE/RPC rides
    // on the pipe.
    let after: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| matches!(field(r, 0).as_str(), "3" | "5" | "6" | "8" | "9" | "11"))
        .filter(|r| field(r, 6) != "0x00000103")
        .collect();
    assert!(
        after.len() >= 4,
        "too few messages after the logon: {lines:?}"
    );
    assert!(
        after.iter().all(|r| truthy(&field(r, 2))),
        "an unsigned message after the Kerberos logon: {lines:?}"
    );
    assert!(
        rows.iter()
            .any(|r| field(r, 5).split(',').any(|p| p == "2")),
        "no DCE/RPC response on the pipe: {lines:?}"
    );
}
