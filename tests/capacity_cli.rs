//! `rpcaudit capacity` end to end: the real binary against the fixture endpoint mapper on
//! loopback, which spreads its TCP registrations over the ports given with `--tcp-ports`.

mod support;
use serde_json::Value;
use support::{Fixture, run, run_json};

/// Run `capacity 127.0.0.1 --port FIXTURE --json EXTRA...`.
fn capacity(fixture: &Fixture, extra: &[&str]) -> (i32, Value, String) {
    support::run_json_against("capacity", fixture, extra)
}

fn codes(host: &Value) -> Vec<String> {
    support::finding_codes(host)
}

#[test]
fn all_in_range_exits_0_without_findings() {
    let f = Fixture::start(&["--tcp-endpoints", "30", "--tcp-ports", "5001-5010"]);
    let (code, v, err) = capacity(&f, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["range"], "5001-5021");
    let h = &v["hosts"][0];
    assert_eq!(h["status"], "ok");
    assert_eq!(h["tcp_endpoints"], 30);
    assert_eq!(h["in_use"], 10);
    assert_eq!(h["in_range"], 10);
    assert_eq!(h["out_of_range"], 0);
    assert_eq!(h["range_size"], 21);
    assert!(codes(h).is_empty(), "{h}");
    assert_eq!(h["recommendation"]["change"], false);
}

#[test]
fn ports_outside_the_range_are_out_of_range_errors() {
    let f = Fixture::start(&[
        "--tcp-endpoints",
        "30",
        "--tcp-ports",
        "5001-5010,49664-49666",
    ]);
    let (code, v, err) = capacity(&f, &[]);
    assert_eq!(code, 1, "{err}");
    let h = &v["hosts"][0];
    assert_eq!(h["in_use"], 13);
    assert_eq!(h["out_of_range"], 3);
    assert_eq!(codes(h), ["out-of-range"]);
    let finding = &h["findings"][0];
    assert_eq!(finding["severity"], "error");
    let msg = finding["message"].as_str().unwrap();
    for port in ["49664 (", "49665 (", "49666 ("] {
        assert!(msg.contains(port), "{msg}");
    }
    // The interfaces registered there are named.
    assert!(msg.contains("MS-FRS2 FrsTransport"), "{msg}");
    assert!(msg.contains("restart is pending"), "{msg}");
    assert!(!finding["fix"].as_str().unwrap().is_empty());
    let outside: Vec<u64> = h["dynamic_ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in_range"] == false)
        .map(|p| p["port"].as_u64().unwrap())
        .collect();
    assert_eq!(outside, [49664, 49665, 49666]);

    // Declared static, those ports no longer count.
    let (code, v, err) = capacity(
        &f,
        &[
            "--static-port",
            "49664",
            "--static-port",
            "49665",
            "--static-port",
            "49666",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["hosts"][0]["in_use"], 10);
    assert_eq!(
        v["hosts"][0]["static_ports"],
        serde_json::json!([49664, 49665, 49666])
    );
}

/// 30 endpoints spread over `ports`: `capacity` exits `exit`, counts `in_use` ports in use
/// and has one finding, `code` at `severity`. The host's JSON.
fn one_finding(ports: &str, exit: i32, in_use: u64, code: &str, severity: &str) -> Value {
    let f = Fixture::start(&["--tcp-endpoints", "30", "--tcp-ports", ports]);
    let (got, v, err) = capacity(&f, &[]);
    assert_eq!(got, exit, "{err}");
    let h = &v["hosts"][0];
    assert_eq!(h["in_use"], in_use);
    assert_eq!(codes(h), [code]);
    assert_eq!(h["findings"][0]["severity"], severity);
    h.clone()
}

#[test]
fn twenty_one_ports_of_twenty_one_exhaust_the_range() {
    let h = one_finding("5001-5021", 1, 21, "range-exhausted", "error");
    assert_eq!(h["utilisation"], 1.0);
}

#[test]
fn eighteen_of_twenty_one_is_near_full_a_warning_that_exits_0() {
    one_finding("5001-5018", 0, 18, "range-near-full", "warning");
}

#[test]
fn the_recommendation_is_in_the_json_with_commands() {
    let f = Fixture::start(&["--tcp-endpoints", "30", "--tcp-ports", "5001-5021"]);
    let (_, v, _) = capacity(&f, &[]);
    let rec = &v["hosts"][0]["recommendation"];
    assert_eq!(rec["change"], true);
    assert_eq!(rec["range"], "5001-5042");
    assert_eq!(rec["size"], 42);
    assert_eq!(rec["rpccfg"], "rpccfg.exe -pe 5001-5042 -d 0");
    let reg = rec["reg"].as_str().unwrap();
    assert!(
        reg.contains("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\r\n"),
        "{reg}"
    );
    // "5001-5042" in UTF-16LE, NUL, final NUL.
    assert!(
        reg.contains(
            "\"Ports\"=hex(7):35,00,30,00,30,00,31,00,2d,00,35,00,30,00,34,00,32,00,00,00,00,00\r\n"
        ),
        "{reg}"
    );
    assert!(reg.contains("\"PortsInternetAvailable\"=\"Y\""), "{reg}");
    assert!(reg.contains("\"UseInternetPorts\"=\"Y\""), "{reg}");
    assert!(
        rec["reasoning"]
            .as_str()
            .unwrap()
            .contains("21 dynamic ports in use")
    );
    assert!(rec["note"].as_str().unwrap().contains("restart"));
}

#[test]
fn another_range_is_honoured() {
    let f = Fixture::start(&["--tcp-endpoints", "30", "--tcp-ports", "6000-6004"]);
    let (code, v, err) = capacity(&f, &["--range", "6000-6009"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["hosts"][0]["range"], "6000-6009");
    assert_eq!(v["hosts"][0]["utilisation"], 0.5);
    // 5 of 10 used: the recommendation keeps the start and grows to 21.
    assert_eq!(v["hosts"][0]["recommendation"]["range"], "6000-6020");
}

#[test]
fn table_output_shows_counts_findings_and_fix_commands() {
    let f = Fixture::start(&[
        "--tcp-endpoints",
        "30",
        "--tcp-ports",
        "5001-5010,49664-49666",
    ]);
    let port = f.port();
    let (code, out, err) = run(&["capacity", "127.0.0.1", "--port", &port]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("5001-5021 (21 ports)"), "{out}");
    assert!(out.contains("62 %"), "{out}");
    assert!(
        out.contains("error out-of-range: 127.0.0.1: 3 dynamic TCP ports"),
        "{out}"
    );
    assert!(
        out.contains("apply: rpccfg.exe -pe 5001-5026 -d 0"),
        "{out}"
    );
    assert!(out.contains("\"UseInternetPorts\"=\"Y\""), "{out}");
}

#[test]
fn an_unexamined_host_exits_3_even_with_error_findings_elsewhere() {
    let f = Fixture::start(&["--tcp-ports", "5001-5010,49664"]);
    let (code, v, err) = support::run_json_with_a_dead_host("capacity", &f);
    assert_eq!(code, 3, "{err}");
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(codes(&hosts[0]), ["out-of-range"]);
    assert_eq!(hosts[1]["status"], "error");
    assert!(hosts[1]["error"].as_str().unwrap().contains("127.0.0.3"));
    assert!(hosts[1]["recommendation"].is_null());
}

#[test]
fn bad_arguments_exit_2() {
    for range in ["5021-5001", "0-10", "abc"] {
        let (code, out, err) = run(&["capacity", "127.0.0.1", "--range", range]);
        assert_eq!(code, 2, "{range}: {err}");
        assert!(out.is_empty());
        assert!(err.contains(range), "{err}");
    }
    let (code, _, _) = run(&["capacity", "127.0.0.1", "--static-port", "0"]);
    assert_eq!(code, 2);
    let (code, _, err) = run(&["capacity", "not a host!"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a host!"), "{err}");
}

#[test]
fn the_range_can_come_from_configuration_files() {
    let f = Fixture::start(&["--tcp-endpoints", "10", "--tcp-ports", "5001-5005"]);
    let port = f.port();
    let fixtures = support::fixture("policy").display().to_string();
    let reg = format!("{fixtures}/rpc-internet.reg");
    let (code, v, err) = run_json(&[
        "capacity",
        "127.0.0.1",
        "--port",
        &port,
        "--config",
        &reg,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["range"], "5001-5021");
    // A configuration RPC would reject is an input error naming the file and line.
    let invalid = format!("{fixtures}/rpc-internet-invalid.reg");
    let (code, out, err) = support::run(&[
        "capacity",
        "127.0.0.1",
        "--port",
        &port,
        "--config",
        &invalid,
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("rpc-internet-invalid.reg:"), "{err}");
    // A file that configures no range says so.
    let fw = format!("{fixtures}/firewall-correct.ps1");
    let (code, _, err) = support::run(&["capacity", "127.0.0.1", "--port", &port, "--config", &fw]);
    assert_eq!(code, 2);
    assert!(err.contains("no RPC range configured"), "{err}");
    // --range and --config exclude each other.
    let (code, _, _) = support::run(&[
        "capacity",
        "127.0.0.1",
        "--config",
        &reg,
        "--range",
        "5001-5010",
    ]);
    assert_eq!(code, 2);
}
