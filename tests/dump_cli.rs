//! `rpcaudit dump` end to end: the real binary against the fixture endpoint mapper on loopback.

mod support;
use support::{Fixture, run, run_json};

fn dump(fixture: &Fixture, extra: &[&str]) -> (i32, serde_json::Value, String) {
    support::run_json_against("dump", fixture, extra)
}

#[test]
fn json_lists_every_registration_with_the_contract_fields() {
    let f = Fixture::start(&["--tcp-endpoints", "30", "--pipes", "6", "--lrpc", "6"]);
    let (code, v, err) = dump(&f, &[]);
    assert_eq!(code, 0, "{err}");
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "ok");
    assert!(host["error"].is_null());
    let eps = host["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 42);
    let tcp: Vec<_> = eps
        .iter()
        .filter(|e| e["protocol"] == "ncacn_ip_tcp")
        .collect();
    assert_eq!(tcp.len(), 30);
    let first = tcp[0];
    assert_eq!(first["interface"], "12345778-1234-abcd-ef00-0123456789ac");
    assert_eq!(first["version"], "1.0");
    assert_eq!(first["name"], "MS-SAMR samr");
    assert_eq!(first["object"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(first["port"], 5001);
    assert_eq!(first["address"], "127.0.0.1");
    assert_eq!(first["binding"], "ncacn_ip_tcp:127.0.0.1[5001]");
    assert!(first["annotation"].is_string());
    let np = eps.iter().find(|e| e["protocol"] == "ncacn_np").unwrap();
    assert!(np["port"].is_null());
    assert_eq!(np["binding"], "ncacn_np:\\\\FIXTURE01[\\pipe\\lsass]");
}

#[test]
fn every_end_of_list_style_and_both_byte_orders() {
    for style in ["null-handle", "extra-call", "with-last"] {
        for order in [None, Some("--big-endian")] {
            // 30 + 6 + 4 = 40 registrations in pages of 8: the last page is full.
            let mut extra = vec!["--page-size", "8", "--end-style", style, "--lrpc", "4"];
            extra.extend(order);
            let f = Fixture::start(&extra);
            let (code, v, err) = dump(&f, &[]);
            assert_eq!(code, 0, "{style} {order:?}: {err}");
            assert_eq!(
                v["hosts"][0]["endpoints"].as_array().unwrap().len(),
                40,
                "{style} {order:?}"
            );
        }
    }
}

#[test]
fn table_output_groups_interfaces_and_summarises() {
    let f = Fixture::start(&[]);
    let port = f.port();
    let (code, out, err) = run(&["dump", "127.0.0.1", "--port", &port]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("MS-SAMR samr"), "{out}");
    assert!(
        out.contains("42 entries, 30 TCP-bound endpoints, 21 distinct TCP ports (5001-5021)"),
        "{out}"
    );
}

#[test]
fn an_unreachable_host_is_an_error_and_the_others_complete() {
    let f = Fixture::start(&[]);
    let (code, v, err) = support::run_json_with_a_dead_host("dump", &f);
    assert_eq!(code, 3, "{err}");
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts[0]["status"], "ok");
    assert_eq!(hosts[0]["endpoints"].as_array().unwrap().len(), 42);
    assert_eq!(hosts[1]["status"], "error");
    let msg = hosts[1]["error"].as_str().unwrap();
    assert!(
        msg.contains("127.0.0.3") && msg.contains("connect"),
        "{msg}"
    );
}

#[test]
fn the_entry_cap_marks_the_host_partial() {
    let f = Fixture::start(&["--page-size", "10"]);
    let (code, v, _) = dump(&f, &["--max-entries", "15"]);
    assert_eq!(code, 3);
    assert_eq!(v["hosts"][0]["status"], "partial");
    assert_eq!(v["hosts"][0]["endpoints"].as_array().unwrap().len(), 15);
}

#[test]
fn bad_targets_are_usage_errors_naming_the_argument() {
    let (code, out, err) = run(&["dump", "not a host!"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("not a host!"), "{err}");
    let (code, _, err) = run(&["dump", "@/nonexistent/targets.txt"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/targets.txt"), "{err}");
}

#[test]
fn demo_runs_without_root_or_network() {
    let _demo = support::demo_lock();
    let (code, v, err) = run_json(&["demo", "--json"]);
    assert_eq!(code, 0, "{err}");
    let eps = v["hosts"][0]["endpoints"].as_array().unwrap();
    // 24 TCP registrations, 6 named pipes, 6 local.
    assert_eq!(eps.len(), 36);
    assert!(eps.iter().any(|e| e["port"] == 49664));
    // The audit around it: the deliberate mistakes are found.
    let codes = support::finding_codes(&v);
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    for code in [
        "leak",
        "out-of-range",
        "hang-hazard",
        "name-filter-mismatch",
        "range-port-unblocked",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

#[test]
fn a_reader_that_stops_early_is_not_a_crash_nor_a_success() {
    let _demo = support::demo_lock();
    let mut child = std::process::Command::new(support::bin())
        .arg("demo")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the demo writes its report (it probes first), like
    // `rpcaudit demo | true`: the write then fails with a broken pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    // The report did not arrive: exit 2, said once.
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(
        err.matches("the reader closed the pipe before the whole result was written")
            .count(),
        1,
        "{err}"
    );
}
