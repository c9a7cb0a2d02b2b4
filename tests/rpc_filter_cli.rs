//! RPC filters end to end through the real binary: `policy explain --interface` on
//! `netsh rpc filter` commands and `show filter` output, `policy rpc-filter-script` read back by
//! explain, and `interfaces --rpc-filter` against the fixture endpoint mapper on loopback,
//! serving interfaces callable or refusing them with fault 5 as an RPC filter is assumed to.

mod support;
use support::Fixture;

const NETDFS: &str = "4fc742e0-4a10-11cf-8273-00aa004ae673";
const SVCCTL: &str = "367abb81-9844-35f1-ad32-98f038001003";
const EFSR_LSA: &str = "c681d488-d850-11d0-8c52-00c04fd90f7e";
const EFSR: &str = "df1941c5-fe89-4e79-bf10-463657acf44d";

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Block MS-DFSNM for everyone; MS-SCMR only except from 127.0.0.1.
fn filters() -> String {
    format!(
        "@echo off\r\n\
         netsh rpc filter add rule layer=um actiontype=block\r\n\
         netsh rpc filter add condition field=if_uuid matchtype=equal data={NETDFS}\r\n\
         netsh rpc filter add filter\r\n\
         netsh rpc filter add rule layer=um actiontype=permit\r\n\
         netsh rpc filter add condition field=if_uuid matchtype=equal data={SVCCTL}\r\n\
         netsh rpc filter add condition field=remote_addr_v4 matchtype=equal data=127.0.0.1\r\n\
         netsh rpc filter add filter\r\n\
         netsh rpc filter add rule layer=um actiontype=block\r\n\
         netsh rpc filter add condition field=if_uuid matchtype=equal data={SVCCTL}\r\n\
         netsh rpc filter add filter\r\n"
    )
}

fn explain(file: &str, iface: &str, src: &str, extra: &[&str]) -> serde_json::Value {
    let (code, v, err) = support::run_json(
        &[
            &[
                "policy",
                "explain",
                file,
                "--interface",
                iface,
                "--src",
                src,
                "--json",
            ][..],
            extra,
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}\n{v}");
    v
}

#[test]
fn explain_answers_per_interface_for_commands_and_show_output() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = write(&dir, "filters.cmd", &filters());
    let v = explain(&cmd, NETDFS, "10.0.1.7", &[]);
    assert_eq!(v["verdict"], "block", "{v}");
    assert!(
        v["filter"].as_str().unwrap().ends_with("filters.cmd:2"),
        "{v}"
    );
    assert_eq!(explain(&cmd, SVCCTL, "127.0.0.1", &[])["verdict"], "allow");
    assert_eq!(explain(&cmd, SVCCTL, "10.0.1.7", &[])["verdict"], "block");
    assert_eq!(explain(&cmd, EFSR, "10.0.1.7", &[])["verdict"], "allow");
    // Over a named pipe the address-scoped permit cannot be told apart.
    let piped = explain(&cmd, SVCCTL, "127.0.0.1", &["--pipe", "\\pipe\\svcctl"]);
    assert_eq!(piped["verdict"], "conditional", "{piped}");
    assert_eq!(piped["address_over_pipe"], true);
    // The same filters as `show filter` prints them (the UUID as four dwords).
    let show = write(
        &dir,
        "show.txt",
        "Listing all RPC Filters.\r\n-----------------------------\r\n\
         filterKey: 6a377823-cff4-11ec-967c-000c29760114\r\n\
         displayData.name: RPCFilter\r\ndisplayData.description: RPC Filter\r\n\
         filterId: 0x12794\r\nlayerKey: um\r\nweight: Type: FWP_EMPTY Value: Empty\r\n\
         action.type: block\r\nnumFilterConditions: 2\r\n\r\nfilterCondition[0]\r\n\
         \tfieldKey: if_uuid\r\n\tmatchType: FWP_MATCH_EQUAL\r\n\
         \tconditionValue: Type: FWP_BYTE_ARRAY16_TYPE Value: c681d488 11d0d850 c000528c 7e0fd94f\r\n\
         \r\nfilterCondition[1]\r\n\tfieldKey: auth_level\r\n\tmatchType: FWP_MATCH_LESS\r\n\
         \tconditionValue: Type: FWP_UINT8 Value: 6\r\n",
    );
    assert_eq!(
        explain(&show, EFSR_LSA, "10.0.1.7", &["--auth-level", "1"])["verdict"],
        "block"
    );
    assert_eq!(
        explain(&show, EFSR_LSA, "10.0.1.7", &["--auth-level", "6"])["verdict"],
        "allow"
    );
    let unknown = explain(&show, EFSR_LSA, "10.0.1.7", &[]);
    assert_eq!(unknown["verdict"], "conditional", "{unknown}");
    // The table names the filter too.
    let (code, out, err) = support::run(&[
        "policy",
        "explain",
        &cmd,
        "--interface",
        NETDFS,
        "--src",
        "10.0.1.7",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("block") && out.contains("filters.cmd:2"),
        "{out}"
    );
}

#[test]
fn a_hostile_filter_file_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        &dir,
        "bad.cmd",
        "netsh rpc filter add rule layer=um actiontype=block\r\n\
         netsh rpc filter add condition field=if_uuid matchtype=equal data=c681d488-d850-11d0-8c52\u{1b}[2J\r\n",
    );
    let (code, out, err) = support::run(&[
        "policy",
        "explain",
        &bad,
        "--interface",
        EFSR,
        "--src",
        "10.0.1.7",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("bad.cmd:2"), "{err}");
    assert!(err.contains("U+001B"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    let uuid = write(
        &dir,
        "uuid.cmd",
        "netsh rpc filter add rule layer=um actiontype=block\r\n\
         netsh rpc filter add condition field=if_uuid matchtype=equal data=c681d488-zzzz\r\n",
    );
    let (code, _, err) = support::run(&[
        "policy",
        "explain",
        &uuid,
        "--interface",
        EFSR,
        "--src",
        "10.0.1.7",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("uuid.cmd:2") && err.contains("not an interface UUID"),
        "{err}"
    );
}

#[test]
fn the_fix_script_reads_back_through_explain() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("efsr.txt");
    let out_s = out.display().to_string();
    let (code, stdout, err) = support::run(&[
        "policy",
        "rpc-filter-script",
        "--block",
        EFSR_LSA,
        "--block",
        EFSR,
        "--permit-from",
        "10.0.9.0/29",
        "--output",
        &out_s,
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.is_ascii() && text.contains("\r\n"));
    for iface in [EFSR_LSA, EFSR] {
        assert_eq!(explain(&out_s, iface, "10.0.9.6", &[])["verdict"], "allow");
        assert_eq!(explain(&out_s, iface, "10.0.9.9", &[])["verdict"], "block");
    }
    // A hostile UUID writes nothing and says why.
    let (code, stdout, err) = support::run(&[
        "policy",
        "rpc-filter-script",
        "--block",
        "c681d488-d850-11d0-8c52-00c04fd90f7e\r\nadd filter",
    ]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(err.contains("not an interface UUID"), "{err}");
}

fn fixture(extra: &[&str]) -> Fixture {
    Fixture::self_registered(extra)
}

fn codes_for(host: &serde_json::Value, code: &str) -> Vec<String> {
    host["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn probes_are_held_against_the_filters_as_the_fixture_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "filters.cmd", &filters());
    // Served callable: the filter that blocks MS-DFSNM is not in force.
    let f = fixture(&["--serve-interfaces"]);
    let (_, v, err) = support::run_json_against(
        "interfaces",
        &f,
        &["--interval-ms", "0", "--rpc-filter", &file],
    );
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "ok", "{err}\n{v}");
    let not_in_force = codes_for(host, "rpc-filter-not-in-force");
    assert_eq!(not_in_force.len(), 1, "{not_in_force:?}");
    assert!(not_in_force[0].contains(NETDFS), "{}", not_in_force[0]);
    assert!(
        not_in_force[0].contains("filters.cmd:2"),
        "{}",
        not_in_force[0]
    );
    assert!(
        not_in_force[0].contains("from 127.0.0.1"),
        "{}",
        not_in_force[0]
    );
    let finding = host["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "rpc-filter-not-in-force")
        .unwrap();
    assert_eq!(finding["severity"], "error");
    assert!(
        finding["evidence"][0]
            .as_str()
            .unwrap()
            .contains("nca_s_op_rng_error")
    );
    // MS-SCMR is permitted from 127.0.0.1 and callable: nothing to say.
    assert!(codes_for(host, "rpc-filter-permit-refused").is_empty());
    drop(f);
    // Refused as the filters say (fault 5): no rpc-filter-not-in-force; MS-SCMR refused
    // although its permit decides: a warning.
    let f = fixture(&[
        "--serve-interfaces",
        "--refuse-calls",
        NETDFS,
        "--refuse-calls",
        SVCCTL,
    ]);
    let (_, v, err) = support::run_json_against(
        "interfaces",
        &f,
        &["--interval-ms", "0", "--rpc-filter", &file],
    );
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "ok", "{err}\n{v}");
    assert!(codes_for(host, "rpc-filter-not-in-force").is_empty(), "{v}");
    let refused = codes_for(host, "rpc-filter-permit-refused");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains(SVCCTL), "{}", refused[0]);
    // Without --rpc-filter there are no such findings at all.
    let (_, v, _) = support::run_json_against("interfaces", &f, &["--interval-ms", "0"]);
    assert!(codes_for(&v["hosts"][0], "rpc-filter-permit-refused").is_empty());
}

#[test]
fn a_filter_scoped_by_source_is_held_against_a_fixture_refusing_per_source() {
    const SAMR: &str = "12345778-1234-abcd-ef00-0123456789ac";
    let dir = tempfile::tempdir().unwrap();
    // Block MS-SAMR from 127.0.0.1 only (the probes' source on loopback).
    let file = write(
        &dir,
        "samr.txt",
        &format!(
            "rpc\r\nfilter\r\nadd rule layer=um actiontype=block\r\n\
             add condition field=if_uuid matchtype=equal data={SAMR}\r\n\
             add condition field=remote_addr_v4 matchtype=equal data=127.0.0.1\r\n\
             add filter\r\nquit\r\n"
        ),
    );
    let run = |refusal: &str| {
        let f = fixture(&["--serve-interfaces", "--refuse-calls-from", refusal]);
        let (_, v, err) = support::run_json_against(
            "interfaces",
            &f,
            &["--interval-ms", "0", "--rpc-filter", &file],
        );
        assert_eq!(v["hosts"][0]["status"], "ok", "{err}\n{v}");
        v["hosts"][0].clone()
    };
    // The fixture refuses MS-SAMR from another address: callable from here, not in force.
    let host = run(&format!("{SAMR}@127.0.0.2"));
    let samr = host["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["interface"] == SAMR)
        .unwrap();
    assert_eq!(samr["anonymous"]["verdict"], "callable", "{samr}");
    let got = codes_for(&host, "rpc-filter-not-in-force");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains(SAMR) && got[0].contains("samr.txt:3"),
        "{}",
        got[0]
    );
    // Refused from this source, as the filter says: no finding.
    let host = run(&format!("{SAMR}@127.0.0.1"));
    let samr = host["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["interface"] == SAMR)
        .unwrap();
    assert_eq!(samr["anonymous"]["verdict"], "refused", "{samr}");
    assert!(codes_for(&host, "rpc-filter-not-in-force").is_empty());
}

/// `audit --interfaces --rpc-filter`: the audit holds its interface probes against the filters
/// as `interfaces` does (one finding where the fixture serves MS-DFSNM callable, none where it
/// refuses it), and `--rpc-filter` without `--interfaces` is a usage error.
#[test]
fn audit_interfaces_holds_the_probes_against_the_filters() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "filters.cmd", &filters());
    // The port policy passes everything: only the filters can make a finding about calls.
    let policy = write(&dir, "policy.cmd", "rpccfg.exe -pe 5001-5002 -d 0\r\n");
    let audit = |f: &Fixture, extra: &[&str]| {
        let out = std::process::Command::new(support::bin())
            .args(["audit", "127.0.0.1", "--port", &f.port(), "--timeout", "10"])
            .args(["--range", "5001-5002", "--json", "--interval-ms", "0"])
            .args(["--from", "127.0.0.1", "--policy", &policy])
            .args(extra)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    let f = fixture(&["--serve-interfaces"]);
    let (code, v) = audit(&f, &["--interfaces", "--rpc-filter", &file]);
    support::assert_valid_report(&v);
    assert_eq!(code, Some(1), "{v}");
    let not_in_force: Vec<&str> = support::findings_with(&v, "rpc-filter-not-in-force")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(not_in_force.len(), 1, "{not_in_force:?}");
    assert!(
        not_in_force[0].contains(NETDFS) && not_in_force[0].contains("filters.cmd:2"),
        "{}",
        not_in_force[0]
    );
    // Without --rpc-filter the same audit says nothing about filters.
    let (_, plain) = audit(&f, &["--interfaces"]);
    assert!(support::findings_with(&plain, "rpc-filter-not-in-force").is_empty());
    drop(f);
    let f = fixture(&["--serve-interfaces", "--refuse-calls", NETDFS]);
    let (_, v) = audit(&f, &["--interfaces", "--rpc-filter", &file]);
    assert!(
        support::findings_with(&v, "rpc-filter-not-in-force").is_empty(),
        "{v}"
    );
    let out = std::process::Command::new(support::bin())
        .args([
            "audit",
            "127.0.0.1",
            "--port",
            &f.port(),
            "--policy",
            &policy,
        ])
        .args(["--rpc-filter", &file])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--interfaces"));
}

/// `audit --interface-observations FILE`: a document made by the real `interfaces --json`
/// against the fixture (as a vantage host would make it) is judged by the audit like its own
/// probes, with no local probe (`--no-probe`): each probe a column of its source, MS-DFSNM
/// callable anonymously `interface-exposed`, and callable where the filters block it
/// `rpc-filter-not-in-force`. A document of another version, about a host that is not a
/// target, or with a hostile road is refused with an error naming the file.
#[test]
fn audit_judges_interface_probes_made_on_a_vantage_host() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "filters.cmd", &filters());
    let policy = write(&dir, "policy.cmd", "rpccfg.exe -pe 5001-5002 -d 0\r\n");
    let f = fixture(&["--serve-interfaces"]);
    let made = std::process::Command::new(support::bin())
        .args(["interfaces", "127.0.0.1", "--port", &f.port(), "--json"])
        .args([
            "--timeout",
            "10",
            "--interval-ms",
            "0",
            "--from",
            "127.0.0.1",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&made.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&made.stderr)));
    let probed = doc["hosts"][0]["interfaces"].as_array().unwrap().len();
    assert!(probed >= 4, "{doc}");
    let vantage = write(&dir, "vantage.json", &doc.to_string());
    let audit = |target: &str, extra: &[&str]| {
        let out = std::process::Command::new(support::bin())
            .args(["audit", target, "--port", &f.port(), "--timeout", "10"])
            .args([
                "--range",
                "5001-5002",
                "--json",
                "--no-probe",
                "--policy",
                &policy,
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = audit(
        "127.0.0.1",
        &["--interface-observations", &vantage, "--rpc-filter", &file],
    );
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    support::assert_valid_report(&v);
    // Exit 3: with --no-probe and no port observation the fence itself is `unverified`.
    assert_eq!(code, Some(3), "{v}");
    assert!(!support::findings_with(&v, "unverified").is_empty(), "{v}");
    // The evidence names both files the verdict rests on, the filters with their digest.
    let inputs = &v["inputs"];
    assert_eq!(
        inputs["interface_observation_files"],
        serde_json::json!([vantage]),
        "{inputs}"
    );
    assert_eq!(inputs["rpc_filter_files"][0]["path"], file, "{inputs}");
    let digest = inputs["rpc_filter_files"][0]["sha256"]
        .as_str()
        .unwrap_or_default();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{inputs}"
    );
    let list = v["hosts"][0]["interfaces"]["interfaces"]
        .as_array()
        .unwrap();
    assert_eq!(list.len(), probed, "{v}");
    assert!(list.iter().all(|i| i["source"] == "127.0.0.1"), "{v}");
    let exposed: Vec<&str> = support::findings_with(&v, "interface-exposed")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        exposed.iter().any(|m| m.contains("MS-DFSNM netdfs")),
        "{exposed:?}"
    );
    let not_in_force = support::findings_with(&v, "rpc-filter-not-in-force");
    assert_eq!(not_in_force.len(), 1, "{v}");
    assert!(
        not_in_force[0]["message"]
            .as_str()
            .unwrap()
            .contains(NETDFS)
    );
    // A second vantage point (the same probes, as seen from 198.51.100.5): a column of its
    // own in the JSON and in the HTML view, and findings naming it.
    let mut branch = doc.clone();
    branch["hosts"][0]["source"] = serde_json::json!("198.51.100.5");
    for i in branch["hosts"][0]["interfaces"].as_array_mut().unwrap() {
        i["source"] = serde_json::json!("198.51.100.5");
    }
    let branch = write(&dir, "branch.json", &branch.to_string());
    let html = dir.path().join("report.html");
    let (_, out, err) = audit(
        "127.0.0.1",
        &[
            "--interface-observations",
            &vantage,
            "--interface-observations",
            &branch,
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let list = v["hosts"][0]["interfaces"]["interfaces"]
        .as_array()
        .unwrap();
    assert_eq!(list.len(), 2 * probed, "{v}");
    for source in ["127.0.0.1", "198.51.100.5"] {
        assert!(
            support::findings_with(&v, "interface-exposed")
                .iter()
                .any(|f| {
                    let m = f["message"].as_str().unwrap();
                    m.contains("MS-DFSNM netdfs") && m.contains(&format!("from {source} "))
                }),
            "{source}: {v}"
        );
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("198.51.100.5") && page.contains("MS-DFSNM netdfs"));
    // Without the document, nothing is probed (--no-probe) and nothing is exposed.
    let (_, out, _) = audit("127.0.0.1", &[]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        support::findings_with(&v, "interface-exposed").is_empty(),
        "{v}"
    );

    // Refused, naming the file: another schema version, a host that is not a target, a
    // hostile road (its escape never reaches the terminal raw).
    let mut other = doc.clone();
    other["schema_version"] = serde_json::json!(999);
    let mut hostile = doc.clone();
    hostile["hosts"][0]["interfaces"][0]["road"] = serde_json::json!("ncacn_ip_tcp:\u{1b}[2J");
    for (name, d, target, says) in [
        ("other.json", other, "127.0.0.1", "schema_version 999"),
        (
            "elsewhere.json",
            doc.clone(),
            "127.0.0.2",
            "not one of the audit's targets",
        ),
        ("hostile.json", hostile, "127.0.0.1", "road"),
    ] {
        let path = write(&dir, name, &d.to_string());
        let (code, _, err) = audit(target, &["--interface-observations", &path]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
        assert!(!err.contains('\u{1b}'), "{name}: {err:?}");
    }
}
