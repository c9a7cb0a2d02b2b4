//! `rpcaudit audit` end to end on loopback: the real binary, the fixture endpoint mapper, an
//! intended policy, the JSON report (validated against the schema), `--output`, and Ctrl-C.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;
use support::{Fixture, bin, fixture_pair, run, run_json};

/// `audit 127.0.0.1 --policy KB908472 FLAG FILE` is a usage error (exit 2) naming the file.
fn refused_naming(flag: &str, file: &std::path::Path) {
    let name = file.file_name().unwrap().to_str().unwrap();
    let args = [
        "audit",
        "127.0.0.1",
        "--policy",
        support::article_policy(),
        flag,
    ];
    let (code, _, err) = run(&[&args[..], &[file.to_str().unwrap()]].concat());
    assert_eq!(code, 2);
    assert!(err.contains(name), "{err}");
}

fn audit_json(port: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    run_json(&support::audit_args(port, extra))
}

fn audit_text(port: &str, extra: &[&str]) -> (i32, String, String) {
    run(&support::audit_args(port, extra))
}

#[test]
fn report_validates_and_output_matches_stdout() {
    let f = Fixture::start(&["--tcp-endpoints", "10", "--tcp-ports", "5001-5005"]);
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("report.json");
    let (code, v, err) = audit_json(
        &f.port(),
        &["--json", "--output", out_file.to_str().unwrap()],
    );
    support::assert_valid_report(&v);
    // The article's policy blocks the range for 127.0.0.1 (only 10.1.1.0/24 passes), and
    // nothing on loopback enforces it: the range ports the fixture registered are leaks.
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["complete"], true);
    assert_eq!(v["interrupted"], false);
    assert_eq!(v["inputs"]["range"], serde_json::json!([[5001, 5021]]));
    let leaks: Vec<u64> = v["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "leak")
        .map(|r| r["port"].as_u64().unwrap())
        .collect();
    assert!(leaks.contains(&5001) && leaks.len() == 21, "{leaks:?}");
    // The leak finding carries its evidence: every leaking matrix cell.
    let leak = support::findings_with(&v, "leak")[0];
    let evidence = leak["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 21);
    assert!(
        evidence[0]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1 -> 127.0.0.1:5001 ")
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(written, v);
    // No temporary file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn bad_inputs_are_usage_errors_naming_the_file() {
    let (code, out, err) = run(&["audit", "127.0.0.1", "--policy", "/nonexistent/policy.cmd"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("/nonexistent/policy.cmd"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let obs = dir.path().join("obs.json");
    std::fs::write(&obs, "{\"observations\": [ {\"source\": 1 } ]}").unwrap();
    refused_naming("--observations", &obs);
}

#[test]
fn an_interrupted_run_still_writes_its_partial_report() {
    // 127.0.0.2 never answers after accepting: its dump would wait for the 20 s deadline.
    let (good, _silent) = fixture_pair("silent");
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("partial.json");
    let port = good.port();
    let child = Command::new(bin())
        .args([
            "audit",
            "127.0.0.1",
            "127.0.0.2",
            "--policy",
            support::article_policy(),
            "--port",
            &port,
            "--timeout",
            "20",
            "--json",
            "--output",
            out_file.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not stop promptly"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    support::assert_valid_report(&report);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["complete"], false);
    let hosts = report["hosts"].as_array().unwrap();
    assert_eq!(hosts[0]["status"], "ok");
    assert_eq!(hosts[0]["endpoints"].as_array().unwrap().len(), 42);
    assert_eq!(hosts[1]["status"], "error");
    assert!(hosts[1]["error"].as_str().unwrap().contains("interrupted"));
    // Each host runs its own pipeline: 127.0.0.1 was dumped and probed whole before the
    // interrupt, so only 127.0.0.2 is incomplete (the report as a whole is not complete).
    let incomplete = report["summary"]["incomplete_hosts"].as_array().unwrap();
    assert_eq!(
        incomplete,
        &[serde_json::json!("127.0.0.2")],
        "{incomplete:?}"
    );
}

#[test]
fn baseline_changes_and_fix_script_in_the_chosen_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    // The first run: registrations on 5001-5003.
    {
        let f = Fixture::start(&["--tcp-endpoints", "6", "--tcp-ports", "5001-5003"]);
        let (_, v, err) = audit_json(&f.port(), &["--json", "--output", old.to_str().unwrap()]);
        assert!(v["changes"].is_null(), "{err}");
    }
    // The second: one registration moved to 5010, and a fix script for Windows Firewall.
    let f = Fixture::start(&["--tcp-endpoints", "6", "--tcp-ports", "5001-5002,5010"]);
    let port = f.port();
    let (code, v, err) = audit_json(
        &port,
        &[
            "--json",
            "--baseline",
            old.to_str().unwrap(),
            "--fix-dialect",
            "powershell",
        ],
    );
    assert_eq!(code, 1, "{err}");
    support::assert_valid_report(&v);
    let ports = |key: &str| -> Vec<u64> {
        let mut p: Vec<u64> = v["changes"][key]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["port"].as_u64())
            .collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    assert_eq!(ports("endpoints_appeared"), [5010]);
    assert_eq!(ports("endpoints_disappeared"), [5003]);
    // 5003 no longer answers (closed instead of open): the same verdict, leak, so no change;
    // the fixture's endpoint-mapper port differs between runs and shows up as probed anew.
    let script = v["remediation"]["script"].as_str().unwrap();
    assert_eq!(v["remediation"]["dialect"], "powershell");
    assert!(script.contains("-LocalPort '5001-5021'"), "{script}");
    assert!(script.contains("New-NetFirewallRule"), "{script}");
    // The table shows the changes first.
    let (_, table, _) = audit_text(&port, &["--baseline", old.to_str().unwrap()]);
    assert!(table.starts_with("Changes since"), "{table}");
    // A baseline that is not a report is an input error naming it, before any scan.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "[1,2,3]").unwrap();
    refused_naming("--baseline", &junk);
}

/// `audit --store`: the matrix carries what the store decides, an observation that contradicts
/// it is `store-not-in-force`, a store that disagrees with the script is `store-disagrees`,
/// and an unreadable store is an input error naming it.
#[test]
fn a_store_beside_the_script() {
    let f = Fixture::start(&["--tcp-endpoints", "6", "--tcp-ports", "5001-5003"]);
    let port = f.port();
    // The IPsec store the article's script writes: the two agree, and loopback enforces
    // neither, so every blocked port is both a leak and configured but not in force.
    let ipsec = support::fixture("policy/ipsec-store-kb908472.reg");
    let (code, v, err) = audit_json(&port, &["--json", "--store", ipsec.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    support::assert_valid_report(&v);
    assert_eq!(
        v["inputs"]["store_files"][0]["dialects"],
        serde_json::json!(["ipsec-store"])
    );
    let rows = v["matrix"].as_array().unwrap();
    let r5002 = rows.iter().find(|r| r["port"] == 5002).unwrap();
    assert_eq!(r5002["expected"], "block");
    support::assert_configured_block(r5002, "ipsec-store-kb908472.reg");
    assert!(support::findings_with(&v, "store-disagrees").is_empty());
    let nif = support::findings_with(&v, "store-not-in-force");
    assert_eq!(nif.len(), 1, "{:?}", support::finding_codes(&v));
    assert_eq!(nif[0]["severity"], "error");
    let msg = nif[0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("127.0.0.1: configured: block, observed: ") && msg.contains("5001-5021"),
        "{msg}"
    );
    // The store's own findings come with the report: which IPsec policy it assigns.
    assert_eq!(support::findings_with(&v, "policy-assigned").len(), 1);
    // The table has the configured column.
    let (_, table, _) = audit_text(&port, &["--store", ipsec.to_str().unwrap()]);
    assert!(table.contains("Configured (--store): "), "{table}");
    assert!(table.contains("configured"), "{table}");
    assert!(table.contains("store-not-in-force"), "{table}");
    // A firewall store of the same fence, whose rules the script does not name.
    let fw = support::fixture("policy/firewall-store-local.reg");
    let (code, v, err) = audit_json(&port, &["--json", "--store", fw.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let disagree = support::findings_with(&v, "store-disagrees");
    assert!(
        disagree.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("\"Block Inbound TCP 135 Rule\" of the script is not in force")),
        "{disagree:?}"
    );
    // JSON lines: the summary line carries the store's findings too.
    let (code, out, err) = audit_text(&port, &["--json-lines", "--store", fw.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(summary["record"], "summary");
    assert_eq!(
        summary["inputs"]["store_files"][0]["dialects"],
        serde_json::json!(["firewall-store"])
    );
    assert!(!support::findings_with(&summary, "store-disagrees").is_empty());
    let host: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert!(
        host["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| (5001..=5021).contains(&r["port"].as_u64().unwrap()))
            .all(|r| r["configured"]["action"] == "block"),
        "{host}"
    );
    // The fixture's endpoint mapper listens on a port no rule of the store names by number,
    // but CoreNet-IPHTTPS-In (App=System, LPort2_10=IPHTTPSIn) may cover it: its port keyword
    // is not modelled, so the store passes it only under that condition, not the default
    // block (DefaultInboundAction=1); a warning says the port is not verified against it.
    let epm = host["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["port"].as_u64().unwrap().to_string() == port)
        .unwrap();
    assert_eq!(epm["configured"]["action"], "conditional", "{epm}");
    let rule = epm["configured"]["rule"].as_str().unwrap();
    assert!(
        rule.contains("firewall-store-local.reg:") && rule.contains("@FirewallAPI.dll,-25426"),
        "{rule}"
    );
    let condition = epm["configured"]["condition"].as_str().unwrap();
    assert!(
        condition.contains("program System") && condition.contains("LPort2_10=IPHTTPSIn"),
        "{condition}"
    );
    let conditional = support::findings_with(&host, "decision-conditional");
    assert!(
        conditional.iter().any(|f| f["severity"] == "warning"
            && f["message"]
                .as_str()
                .unwrap()
                .contains("the configured store")),
        "{host}"
    );
    // An unreadable store fails closed, naming it, before any probe.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-store.reg");
    std::fs::write(&empty, b"").unwrap();
    for bad in [empty.to_str().unwrap(), "/nonexistent/store.reg"] {
        let (code, out, err) = audit_text(&port, &["--store", bad]);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains(bad), "{err}");
    }
}
