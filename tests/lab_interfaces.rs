//! Lab test of `rpcaudit interfaces` against real Samba (root, `#[ignore]`): every interface
//! samba-dcerpcd registers on TCP is bound to and called at opnum 65535; the callable ones show
//! `nca_s_op_rng_error` on the wire (tshark), the answer from the allowed and the denied subnet
//! is what the nftables fence decides. Anonymous only (see the note in the test); anonymous
//! against authenticated is `lab_dc_interfaces.rs`, against the AD DC lab.

mod support;

use std::time::Duration;
use support::capture::Capture;
use support::{bin, lab};

/// `rpcaudit interfaces SRV --json EXTRA...` inside `ns`, with the lab account's password in
/// RPCAUDIT_PASSWORD when `password`: (exit code, JSON).
fn interfaces_in(ns: &str, extra: &[&str], password: bool) -> (i32, serde_json::Value) {
    let target = lab::SRV_IP.to_string();
    let mut args = vec![
        "interfaces",
        target.as_str(),
        "--json",
        "--timeout",
        "10",
        "--interval-ms",
        "20",
    ];
    args.extend_from_slice(extra);
    // The password reaches rpcaudit through its environment (never a flag): `env` inside the
    // namespace sets it for that one process.
    let env_arg = format!("RPCAUDIT_PASSWORD={}", lab::PASSWORD);
    let mut full = vec![env_arg.as_str(), bin()];
    full.extend_from_slice(&args);
    let out = if password {
        lab::run_in_ns(ns, "env", &full, Duration::from_secs(120))
    } else {
        lab::run_in_ns(ns, bin(), &args, Duration::from_secs(120))
    }
    .expect("run rpcaudit interfaces in the lab");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

#[test]
#[ignore = "lab: needs root, Samba, tshark and network namespaces"]
fn samba_interfaces_are_classified_as_the_wire_and_the_fence_say() {
    let Some(_lab) = lab::setup(None, &["correct"]) else {
        return;
    };
    let capture = Capture::start("tcp portrange 5001-5021");
    // Anonymous only: the lab's NTLM account is refused by samba-dcerpcd at the time of
    // writing (`rpcaudit dump --auth ntlm` fails the same way). The authenticated side is
    // covered against the Samba AD DC lab (tests/lab_dc_interfaces.rs: NTLM and Kerberos,
    // the verdicts that differ from the anonymous ones) and by the fixture's tests
    // (epm::reach, tests/interfaces_cli.rs).
    let (code, v) = interfaces_in(lab::NS_ALLOW, &["--auth", "none"], false);
    let (_, faults) = capture.finish(
        "dcerpc.pkt_type == 3 && dcerpc.cn_status == 0x1c010002",
        &["tcp.srcport"],
    );
    let host = &v["hosts"][0];
    // Samba answers anonymous calls to netdfs (coercion) and winreg (credentials) on TCP:
    // interface-exposed findings, exit 1.
    assert_eq!(code, 1, "{v}");
    assert_eq!(host["status"], "ok", "{host}");
    let probed = host["interfaces"].as_array().unwrap();
    let registered: std::collections::BTreeSet<(String, u64)> = host["dump"]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["protocol"] == "ncacn_ip_tcp")
        .filter(|e| e["interface"] != "e1af8308-5d1f-11c9-91a4-08002b14a0fa")
        .map(|e| {
            (
                e["interface"].as_str().unwrap().to_string(),
                e["port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        registered.len() >= 4,
        "Samba registered too little on TCP: {host}"
    );
    // Every registered (interface, port) was probed, and each probe ended in a verdict.
    // (Interfaces found only through rpc_mgmt_inq_if_ids are probed too: not registrations.)
    let seen: std::collections::BTreeSet<(String, u64)> = probed
        .iter()
        .filter(|i| i.get("unregistered").is_none())
        .map(|i| {
            (
                i["interface"].as_str().unwrap().to_string(),
                i["port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(seen, registered);
    let mut callable = 0;
    for i in probed {
        assert!(i.get("authenticated").is_none(), "{i}");
        let verdict = i["anonymous"]["verdict"].as_str().unwrap_or_default();
        assert!(
            ["callable", "refused", "not-offered"].contains(&verdict),
            "{i}"
        );
        if verdict == "callable" {
            callable += 1;
        }
        eprintln!(
            "{} {}: anonymous {}",
            i["interface"], i["name"], i["anonymous"]["evidence"]
        );
    }
    assert!(callable > 0, "nothing callable: {host}");
    let allow = lab::ALLOW_IP.to_string();
    assert_eq!(host["source"], allow.as_str());
    let exposed: Vec<&str> = host["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "interface-exposed")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        exposed
            .iter()
            .any(|m| m.contains("MS-DFSNM netdfs") && m.contains(&allow)),
        "{exposed:?}"
    );
    // Each callable verdict is a fault nca_s_op_rng_error that crossed the wire.
    assert!(
        faults.len() >= callable,
        "{callable} callable verdicts but {} nca_s_op_rng_error faults captured",
        faults.len()
    );

    // Over the named pipes too (`--pipes`: SMB on 445, anonymous): every plain pipe name
    // probed; the spooler, which Samba registers on a pipe only, is an exposed coercion road.
    let (code, v) = interfaces_in(lab::NS_ALLOW, &["--auth", "none", "--pipes"], false);
    assert_eq!(code, 1, "{v}");
    let host = &v["hosts"][0];
    let pipes: Vec<&serde_json::Value> = host["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["road"].as_str().unwrap().starts_with("ncacn_np:"))
        .collect();
    // Distinct (interface, version, binding) registrations on pipes, the endpoint mapper aside.
    let registered_pipes: std::collections::BTreeSet<(String, String, String)> =
        host["dump"]["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["protocol"] == "ncacn_np")
            .filter(|e| e["interface"] != "e1af8308-5d1f-11c9-91a4-08002b14a0fa")
            .map(|e| {
                (
                    e["interface"].as_str().unwrap().to_string(),
                    e["version"].as_str().unwrap().to_string(),
                    e["binding"].as_str().unwrap().to_ascii_lowercase(),
                )
            })
            .collect();
    assert_eq!(
        pipes.len() + host["skipped"].as_u64().unwrap() as usize,
        registered_pipes.len()
    );
    for i in &pipes {
        assert_eq!(i["anonymous"]["verdict"], "callable", "{i}");
    }
    assert!(
        host["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |f| f["message"].as_str().unwrap().contains("MS-RPRN winspool")
                    && f["message"].as_str().unwrap().contains("\\pipe\\spoolss")
            ),
        "{host}"
    );

    // From the denied subnet the fence drops 135 and the range: nothing is reachable, and the
    // run says so rather than "nothing callable".
    let (code, v) = interfaces_in(lab::NS_DENY, &["--auth", "none"], false);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["hosts"][0]["status"], "error");
    assert!(v["hosts"][0]["interfaces"].as_array().unwrap().is_empty());
}

/// `audit SRV --policy (the lab's) --interfaces --json EXTRA...` inside `ns`: (exit code, report).
fn audit_interfaces_in(ns: &str) -> (i32, serde_json::Value) {
    let target = lab::SRV_IP.to_string();
    let policy = support::fixture("lab/ipsec-correct.cmd");
    let args = [
        "audit",
        target.as_str(),
        "--policy",
        policy.to_str().unwrap(),
        "--json",
        "--interfaces",
        "--auth",
        "none",
        "--timeout",
        "10",
        "--interval-ms",
        "20",
    ];
    let out = lab::run_in_ns(ns, bin(), &args, Duration::from_secs(180))
        .expect("run rpcaudit audit --interfaces in the lab");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    support::assert_valid_report(&v);
    (out.status.code().unwrap_or(-1), v)
}

/// impacket's `rpc_mgmt_inq_if_ids` of SRV:`port` from the allowed subnet, "UUID M.m" lines;
/// None (said) when impacket is not installed and the lab is not required.
fn impacket_inq_if_ids(port: u64) -> Option<Vec<String>> {
    let have = std::process::Command::new("python3")
        .args(["-c", "import impacket"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
            "impacket is required (python3 -m pip install impacket)"
        );
        eprintln!("SKIPPED: the comparison with impacket (not installed)");
        return None;
    }
    let script = lab::scripts_dir().join("impacket_inq_if_ids.py");
    let out = lab::run_in_ns(
        lab::NS_ALLOW,
        "python3",
        &[
            script.to_str().unwrap(),
            &lab::SRV_IP.to_string(),
            &port.to_string(),
        ],
        Duration::from_secs(60),
    )
    .expect("impacket_inq_if_ids.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

/// `audit --interfaces` from the allowed and the denied subnet under the lab's fence: from the
/// allowed one every Samba interface on TCP is probed and the anonymously callable coercion and
/// credentials ones are `interface-exposed`; from the denied one the fence drops the endpoint
/// mapper, nothing can be probed and nothing is exposed. Each TCP endpoint is asked
/// `rpc_mgmt_inq_if_ids`: tshark sees the calls and their answers (opnum 0 of the management
/// interface) on the ports of the inquiries, and impacket reads the same list from one of them.
#[test]
#[ignore = "lab: needs root, Samba, tshark and network namespaces"]
fn audit_interfaces_from_both_subnets_and_inq_if_ids_against_samba() {
    let Some(_lab) = lab::setup(None, &["correct"]) else {
        return;
    };
    let capture = Capture::start("tcp portrange 5001-5021");
    let (code, v) = audit_interfaces_in(lab::NS_ALLOW);
    let (_, answers) = capture.finish("mgmt.opnum == 0 && dcerpc.pkt_type == 2", &["tcp.srcport"]);
    assert_eq!(code, 1, "{v}");
    let probes = &v["hosts"][0]["interfaces"];
    let list = probes["interfaces"].as_array().unwrap();
    assert!(list.len() >= 4, "{probes}");
    let allow = lab::ALLOW_IP.to_string();
    for i in list {
        assert_eq!(i["source"], allow.as_str(), "{i}");
    }
    let exposed: Vec<&str> = support::findings_with(&v, "interface-exposed")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        exposed
            .iter()
            .any(|m| m.contains("MS-DFSNM netdfs") && m.contains(&allow)),
        "{exposed:?}"
    );
    // Samba answers rpc_mgmt_inq_if_ids on its TCP endpoints: every inquiry that read a list
    // has its answer on the wire, from its port.
    let inquiries = probes["inquiries"].as_array().unwrap();
    let read: Vec<&serde_json::Value> = inquiries
        .iter()
        .filter(|q| !q["served"].as_array().unwrap().is_empty())
        .collect();
    assert!(!read.is_empty(), "no inquiry read a list: {inquiries:?}");
    for q in &read {
        let port = q["port"].as_u64().unwrap().to_string();
        assert!(
            answers.iter().any(|a| a.trim() == port),
            "no rpc_mgmt_inq_if_ids answer from {port} on the wire: {answers:?}"
        );
        eprintln!("inq_if_ids {port}: {}", q["served"]);
    }
    // The first list, read again by impacket.
    let first = read[0];
    if let Some(theirs) = impacket_inq_if_ids(first["port"].as_u64().unwrap()) {
        let ours: Vec<String> = first["served"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["interface"].as_str().unwrap(),
                    s["version"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(ours, theirs, "rpcaudit (left) vs impacket (right)");
    }

    // From the denied subnet the fence drops 135 and the range: no map, no interface probed,
    // no exposure.
    let (_, v) = audit_interfaces_in(lab::NS_DENY);
    let probes = &v["hosts"][0]["interfaces"];
    assert_eq!(probes["status"], "error", "{probes}");
    assert!(probes["interfaces"].as_array().unwrap().is_empty());
    assert!(
        support::findings_with(&v, "interface-exposed").is_empty(),
        "{v}"
    );
    assert!(!support::findings_with(&v, "epm-fenced").is_empty(), "{v}");
}

/// `--pipes` with the lab's account: the map read over `\pipe\epmapper` logged on with it
/// (NTLM; samba-dcerpcd refuses NTLM binds on TCP, SMB takes it), then each interface
/// registered on a named pipe probed over SMB on an anonymous session and on one logged on
/// with the account. Samba lets both reach its pipes: every pipe interface gets both verdicts,
/// the logged-on ones callable, and none is a logon failure or undetermined.
#[test]
#[ignore = "lab: needs root, Samba, tshark and network namespaces"]
fn over_named_pipes_the_interfaces_are_probed_anonymously_and_logged_on() {
    let Some(_lab) = lab::setup(None, &["correct"]) else {
        return;
    };
    let user = format!("{}\\{}", lab::NETBIOS, lab::USER);
    let extra = [
        "--transport",
        "smb",
        "--pipes",
        "--auth",
        "ntlm",
        "--user",
        user.as_str(),
    ];
    let (_, v) = interfaces_in(lab::NS_ALLOW, &extra, true);
    let host = &v["hosts"][0];
    assert_eq!(host["dump"]["auth"]["mechanism"], "ntlm", "{host}");
    let over_pipes: Vec<&serde_json::Value> = host["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["road"]
                .as_str()
                .unwrap_or_default()
                .starts_with("ncacn_np:")
        })
        .collect();
    assert!(
        over_pipes.len() >= 8,
        "too few pipe interfaces probed: {host}"
    );
    for i in &over_pipes {
        let anonymous = i["anonymous"]["verdict"].as_str().unwrap_or_default();
        assert!(
            ["callable", "refused", "not-offered"].contains(&anonymous),
            "{i}"
        );
        assert_eq!(i["authenticated"]["verdict"], "callable", "{i}");
        let ev = i["authenticated"]["evidence"].as_str().unwrap_or_default();
        assert!(ev.contains("nca_s_op_rng_error"), "{i}");
    }
    // A wrong password: the dump over the pipe is a logon failure, nothing is probed logged on.
    let out = lab::run_in_ns(
        lab::NS_ALLOW,
        "env",
        &[
            "RPCAUDIT_PASSWORD=wrong-Pass-1",
            bin(),
            "interfaces",
            &lab::SRV_IP.to_string(),
            "--json",
            "--timeout",
            "10",
            "--transport",
            "smb",
            "--pipes",
            "--auth",
            "ntlm",
            "--user",
            user.as_str(),
        ],
        Duration::from_secs(120),
    )
    .expect("run rpcaudit interfaces in the lab");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["hosts"][0]["interfaces"]
            .as_array()
            .is_none_or(|l| l.iter().all(|i| i.get("authenticated").is_none())),
        "{v}"
    );
}
