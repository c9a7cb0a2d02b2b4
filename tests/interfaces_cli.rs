//! `rpcaudit interfaces` end to end: the real binary against the fixture endpoint mapper on
//! loopback, serving its registered interfaces (`lab serve --serve-interfaces`) and refusing
//! some as an RPC filter would.

mod support;
use support::Fixture;

const SVCCTL: &str = "367abb81-9844-35f1-ad32-98f038001003";
const SPOOLSS: &str = "12345678-1234-abcd-ef00-0123456789ab";
const SAMR: &str = "12345778-1234-abcd-ef00-0123456789ac";

fn fixture(extra: &[&str]) -> Fixture {
    Fixture::self_registered(extra)
}

fn interfaces(f: &Fixture, extra: &[&str]) -> (i32, serde_json::Value, String) {
    support::run_json_against(
        "interfaces",
        f,
        &[&["--interval-ms", "0"][..], extra].concat(),
    )
}

fn by_uuid<'a>(host: &'a serde_json::Value, uuid: &str) -> &'a serde_json::Value {
    host["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["interface"] == uuid)
        .unwrap_or_else(|| panic!("{uuid} not probed: {host}"))
}

fn schema_errors(v: &serde_json::Value) -> Vec<String> {
    schema_errors_in("interfaces.schema.json", v)
}

fn schema_errors_in(name: &str, v: &serde_json::Value) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator.iter_errors(v).map(|e| e.to_string()).collect()
}

#[test]
fn every_registered_interface_is_classified_and_refusals_are_told_apart() {
    let f = fixture(&[
        "--serve-interfaces",
        "--refuse-calls",
        SVCCTL,
        "--refuse-binds",
        SPOOLSS,
    ]);
    let (code, v, err) = interfaces(&f, &[]);
    // Coercion and credentials interfaces answer anonymous calls: error findings, exit 1.
    assert_eq!(code, 1, "{err}\n{v}");
    assert!(schema_errors(&v).is_empty(), "{:?}", schema_errors(&v));
    assert_eq!(v["probe_opnum"], 65535);
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "ok");
    // Every TCP registration but the endpoint mapper's own (the fixture registers none on TCP).
    assert_eq!(host["interfaces"].as_array().unwrap().len(), 16);
    for i in host["interfaces"].as_array().unwrap() {
        assert!(
            ["callable", "refused"].contains(&i["anonymous"]["verdict"].as_str().unwrap()),
            "{i}"
        );
        assert!(i.get("authenticated").is_none(), "{i}");
    }
    let samr = by_uuid(host, SAMR);
    assert_eq!(samr["anonymous"]["verdict"], "callable");
    assert!(
        samr["anonymous"]["evidence"]
            .as_str()
            .unwrap()
            .contains("nca_s_op_rng_error")
    );
    assert_eq!(samr["tags"][0], "reconnaissance");
    let svcctl = by_uuid(host, SVCCTL);
    assert_eq!(svcctl["anonymous"]["verdict"], "refused");
    assert!(
        svcctl["anonymous"]["evidence"]
            .as_str()
            .unwrap()
            .contains("rpc_s_access_denied")
    );
    let spoolss = by_uuid(host, SPOOLSS);
    assert_eq!(spoolss["anonymous"]["verdict"], "refused");
    assert!(
        spoolss["anonymous"]["evidence"]
            .as_str()
            .unwrap()
            .contains("bind_nak")
    );
    assert_eq!(spoolss["tags"][0], "coercion");
    // interface-exposed names each coercion or credentials interface that was callable, and
    // not the refused spooler.
    let findings = host["findings"].as_array().unwrap();
    let exposed: Vec<&str> = findings
        .iter()
        .filter(|f| f["code"] == "interface-exposed")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    for name in ["MS-NRPC netlogon", "MS-DRSR drsuapi", "MS-DFSNM netdfs"] {
        assert!(
            exposed.iter().any(|m| m.contains(name)),
            "{name}: {exposed:?}"
        );
    }
    assert!(
        !exposed.iter().any(|m| m.contains("MS-RPRN")),
        "{exposed:?}"
    );
    assert!(
        !exposed.iter().any(|m| m.contains("MS-SAMR")),
        "{exposed:?}"
    );
    assert!(findings.iter().all(|f| f["severity"] == "error"));
}

#[test]
fn a_restricted_host_refuses_anonymous_calls_and_the_table_says_so() {
    let f = fixture(&[
        "--serve-interfaces",
        "--require-auth",
        "LAB\\audit:Lab-pass-1",
    ]);
    let port = f.port();
    let out = std::process::Command::new(support::bin())
        .args([
            "interfaces",
            "127.0.0.1",
            "--port",
            &port,
            "--timeout",
            "10",
        ])
        .args([
            "--interval-ms",
            "0",
            "--user",
            "LAB\\audit",
            "--max-interfaces",
            "4",
        ])
        .env("RPCAUDIT_PASSWORD", "Lab-pass-1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The cap makes the host partial: exit 3.
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("not probed: 12 interfaces"), "{text}");
    assert!(text.contains("refused (fault 0x00000005"), "{text}");
    assert!(text.contains("callable (fault 0x1c010002"), "{text}");
    assert!(!text.contains("Lab-pass-1"));
    // Tagged interfaces come first under the cap.
    assert!(
        text.contains("[coercion]") || text.contains("[credentials]"),
        "{text}"
    );
}

#[test]
fn a_fixture_that_serves_only_its_endpoint_mapper_offers_nothing_else() {
    let f = fixture(&[]);
    let (code, v, err) = interfaces(&f, &[]);
    assert_eq!(code, 0, "{err}");
    for i in v["hosts"][0]["interfaces"].as_array().unwrap() {
        assert_eq!(i["anonymous"]["verdict"], "not-offered", "{i}");
    }
}

#[test]
fn a_dead_host_is_an_error_and_spoils_nothing_else() {
    let f = fixture(&["--serve-interfaces"]);
    let (code, v, _) = support::run_json_with_a_dead_host("interfaces", &f);
    assert_eq!(code, 3);
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["status"], "ok");
    assert_eq!(hosts[0]["interfaces"].as_array().unwrap().len(), 16);
    assert_eq!(hosts[1]["status"], "error");
    assert!(hosts[1]["interfaces"].as_array().unwrap().is_empty());
}

#[test]
fn an_authenticated_call_from_a_source_the_policy_blocks_is_exposed() {
    let f = fixture(&[
        "--serve-interfaces",
        "--require-auth",
        "LAB\\audit:Lab-pass-1",
    ]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.cmd");
    std::fs::write(
        &policy,
        format!(
            "netsh advfirewall firewall add rule name=\"Block RPC\" dir=in action=block protocol=TCP localport={port}\r\n"
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(support::bin())
            .args([
                "interfaces",
                "127.0.0.1",
                "--port",
                &port,
                "--timeout",
                "10",
            ])
            .args(["--interval-ms", "0", "--user", "LAB\\audit", "--json"])
            .args(extra)
            .env("RPCAUDIT_PASSWORD", "Lab-pass-1")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), v)
    };
    // Anonymous calls are refused, authenticated ones get through: no policy, no finding.
    let (code, v) = run(&[]);
    assert_eq!(code, Some(0), "{v}");
    assert!(v["hosts"][0].get("findings").is_none(), "{v}");
    assert_eq!(v["hosts"][0]["source"], "127.0.0.1");
    // The policy blocks the port from every source: the callable coercion and credentials
    // interfaces are exposed, authenticated as they are.
    let (code, v) = run(&["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{v}");
    assert!(schema_errors(&v).is_empty(), "{:?}", schema_errors(&v));
    let messages: Vec<&str> = v["hosts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("MS-DRSR drsuapi")
            && m.contains("answers authenticated calls from 127.0.0.1")
            && m.contains("\"Block RPC\"")),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("MS-SAMR")),
        "{messages:?}"
    );
}

#[test]
fn json_lines_are_one_host_each_then_the_summary_and_match_their_schema() {
    let f = fixture(&["--serve-interfaces"]);
    let port = f.port();
    let out = std::process::Command::new(support::bin())
        .args(["interfaces", "127.0.0.1", "127.0.0.3", "--port", &port])
        .args(["--timeout", "5", "--interval-ms", "0", "--json-lines"])
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for l in &lines {
        let errors = schema_errors_in("interfaces-lines.schema.json", l);
        assert!(errors.is_empty(), "{errors:?}: {l}");
    }
    let summary = &lines[2];
    assert_eq!(summary["record"], "summary");
    assert_eq!(summary["hosts"], 2);
    assert_eq!(summary["ok"], 1);
    assert_eq!(summary["error"], 1);
    assert_eq!(summary["complete"], false);
    assert!(summary["errors"].as_u64().unwrap() > 0);
    assert_eq!(out.status.code(), Some(3));
}

/// `audit --interfaces` against a fixture that refuses anonymous calls, from two local sources
/// and with a policy that blocks the fixture's port from the second: the interface probes are
/// in the report per source, and only the blocked source's callable coercion and credentials
/// interfaces are `interface-exposed`.
#[test]
fn audit_interfaces_judges_each_source_against_the_policy() {
    let f = fixture(&[
        "--serve-interfaces",
        "--require-auth",
        "LAB\\audit:Lab-pass-1",
    ]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.cmd");
    std::fs::write(
        &policy,
        format!(
            "netsh advfirewall firewall add rule name=\"Block B\" dir=in action=block protocol=TCP localport={port} remoteip=127.0.0.2\r\n"
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(support::bin())
            .args(["audit", "127.0.0.1", "--port", &port, "--timeout", "10"])
            .args(["--policy", policy.to_str().unwrap(), "--range", "5001-5002"])
            .args(["--user", "LAB\\audit", "--json", "--interval-ms", "0"])
            .args(["--from", "127.0.0.1", "--from", "127.0.0.2"])
            .args(extra)
            .env("RPCAUDIT_PASSWORD", "Lab-pass-1")
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    // Without the flag: no interface probes, no interface-exposed.
    let (_, plain) = run(&[]);
    support::assert_valid_report(&plain);
    assert!(plain["hosts"][0].get("interfaces").is_none(), "{plain}");
    assert!(support::findings_with(&plain, "interface-exposed").is_empty());

    let (code, v) = run(&["--interfaces"]);
    support::assert_valid_report(&v);
    // The policy's block of 127.0.0.2 is not enforced on loopback: leak and exposure, exit 1.
    assert_eq!(code, Some(1), "{v}");
    let probes = &v["hosts"][0]["interfaces"];
    assert_eq!(probes["status"], "ok", "{probes}");
    let list = probes["interfaces"].as_array().unwrap();
    // 16 registrations from each of the two sources.
    assert_eq!(list.len(), 32, "{probes}");
    for src in ["127.0.0.1", "127.0.0.2"] {
        let samr = list
            .iter()
            .find(|i| i["interface"] == SAMR && i["source"] == src)
            .unwrap_or_else(|| panic!("samr from {src}: {probes}"));
        assert_eq!(samr["anonymous"]["verdict"], "refused", "{samr}");
        assert_eq!(samr["authenticated"]["verdict"], "callable", "{samr}");
    }
    let exposed: Vec<&str> = support::findings_with(&v, "interface-exposed")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(!exposed.is_empty());
    for m in &exposed {
        assert!(
            m.contains("answers authenticated calls from 127.0.0.2, a source ")
                && m.contains("policy.cmd:1"),
            "{m}"
        );
    }
    assert!(
        exposed.iter().any(|m| m.contains("MS-NRPC netlogon")),
        "{exposed:?}"
    );
    // The same findings in SARIF, and the HTML report's interface x source view: a column per
    // source, a row per interface, an exposed cell per finding.
    let sarif = dir.path().join("r.sarif");
    let html = dir.path().join("r.html");
    let (_, again) = run(&[
        "--interfaces",
        "--sarif",
        sarif.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&sarif).unwrap();
    assert!(text.contains("\"interface-exposed\""), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Interfaces (16 probed from 2 sources)"),
        "{page}"
    );
    for src in ["127.0.0.1", "127.0.0.2"] {
        assert!(
            page.contains(&format!("<th class=\"src\">{src}</th>")),
            "{page}"
        );
    }
    assert_eq!(
        page.matches("data-iface-cell=\"exposed\"").count(),
        support::findings_with(&again, "interface-exposed").len()
    );
    assert_eq!(page.matches("data-iface-cell=").count(), 32);
}

/// `interfaces --from A --from B`: every interface probed from each source, each probe with
/// its source, the table with a source column; and an interface the fixture serves without
/// registering it is found through `rpc_mgmt_inq_if_ids` and probed.
#[test]
fn from_each_source_and_what_inq_if_ids_finds() {
    const EFSR: &str = "c681d488-d850-11d0-8c52-00c04fd90f7e";
    let f = fixture(&["--serve-interfaces", "--serve-unregistered", EFSR]);
    let (code, v, err) = interfaces(&f, &["--from", "127.0.0.1", "--from", "127.0.0.2"]);
    assert_eq!(code, 1, "{err}\n{v}");
    assert!(schema_errors(&v).is_empty(), "{:?}", schema_errors(&v));
    let host = &v["hosts"][0];
    let list = host["interfaces"].as_array().unwrap();
    // 16 registered and one unregistered, from each of two sources.
    assert_eq!(list.len(), 34, "{host}");
    for src in ["127.0.0.1", "127.0.0.2"] {
        assert_eq!(list.iter().filter(|i| i["source"] == src).count(), 17);
        let efsr = list
            .iter()
            .find(|i| i["interface"] == EFSR && i["source"] == src)
            .unwrap_or_else(|| panic!("{host}"));
        assert_eq!(efsr["unregistered"], true);
        assert_eq!(efsr["anonymous"]["verdict"], "callable");
    }
    let inq = &host["inquiries"][0];
    assert_eq!(inq["port"].as_u64().unwrap().to_string(), f.port());
    assert!(
        inq["served"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["interface"] == EFSR && s["registered"] == false),
        "{inq}"
    );
    let exposed = host["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("MS-EFSR"))
        .count();
    assert_eq!(exposed, 2, "{host}");
    // The table: a source column, the unregistered road marked.
    let port = f.port();
    let out = std::process::Command::new(support::bin())
        .args([
            "interfaces",
            "127.0.0.1",
            "--port",
            &port,
            "--interval-ms",
            "0",
        ])
        .args(["--from", "127.0.0.1", "--from", "127.0.0.2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Source"), "{text}");
    assert!(text.contains("127.0.0.2"), "{text}");
    assert!(text.contains("(unregistered)"), "{text}");
    // A source that is not a host address is refused before anything is sent.
    let (code, _, err) = support::run(&["interfaces", "127.0.0.1", "--from", "255.255.255.255"]);
    assert_eq!(code, 2, "{err}");
}

/// The fixture's `rpc_mgmt_inq_if_ids` answer, as rpcaudit reads it, against impacket's
/// client of the management interface (`tests/lab/impacket_inq_if_ids.py`), the independent
/// reader of what the fixture writes. Skipped, saying so, without impacket.
#[test]
fn the_fixture_inq_if_ids_answer_reads_the_same_with_impacket() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import impacket"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        eprintln!("SKIPPED: impacket is not installed (python3 -m pip install impacket)");
        return;
    }
    let f = fixture(&[
        "--serve-interfaces",
        "--serve-unregistered",
        "c681d488-d850-11d0-8c52-00c04fd90f7e",
    ]);
    let (_, v, err) = interfaces(&f, &[]);
    let ours: Vec<String> = v["hosts"][0]["inquiries"][0]["served"]
        .as_array()
        .unwrap_or_else(|| panic!("{err}\n{v}"))
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["interface"].as_str().unwrap(),
                s["version"].as_str().unwrap()
            )
        })
        .collect();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/impacket_inq_if_ids.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(["127.0.0.1", &f.port()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert!(theirs.len() > 2, "{theirs:?}");
    assert_eq!(ours, theirs, "rpcaudit (left) vs impacket (right)");
}
