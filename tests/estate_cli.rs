//! Whole estates end to end on loopback: every target form in every scanning command, the
//! refusal of an oversized scope before anything is sent, `--json-lines` for `dump` and
//! `audit` (validated against their schemas, the same host objects as `--json`), and a
//! JSON-lines report read back as `--baseline`. The fixture endpoint mapper listens on every
//! loopback address (0.0.0.0), so 127.1.0.x targets answer; no packet leaves loopback.

mod support;

use serde_json::Value;
use support::{Fixture, run};

fn schema(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// Every line validates against `schema/NAME`.
fn assert_valid_lines(lines: &[Value], name: &str) {
    let validator = schema(name);
    for l in lines {
        let errors: Vec<String> = validator.iter_errors(l).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}: {l}");
    }
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A fixture endpoint mapper `lab serve EXTRA...` on every address (0.0.0.0), so that each
/// 127.1.0.x target of an estate reaches it.
fn estate_fixture(extra: &[&str]) -> Fixture {
    Fixture::start_in(None, "0.0.0.0:0", extra)
}

fn targets_of(hosts: &[Value]) -> Vec<String> {
    hosts
        .iter()
        .map(|h| h["target"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_target_form_reaches_dump_and_probe() {
    let f = estate_fixture(&["--tcp-endpoints", "3"]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("targets.txt");
    std::fs::write(&list, "# estate\n127.1.0.20\n").unwrap();
    let ex = dir.path().join("exclude.txt");
    std::fs::write(&ex, "127.1.0.10\n").unwrap();
    let at_list = format!("@{}", list.display());
    let forms = [
        "127.1.0.1",
        "127.1.0.2-127.1.0.3",
        "127.1.0.4-5",
        "127.1.0.8/30",
        at_list.as_str(),
    ];
    let common = [
        "--exclude",
        "127.1.0.3",
        "--exclude-file",
        ex.to_str().unwrap(),
        "--port",
        &port,
    ];
    let mut args = vec!["dump"];
    args.extend(forms);
    args.push("localhost");
    args.extend(common);
    args.push("--json");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(
        targets_of(hosts),
        [
            "127.1.0.1",
            "127.1.0.2",
            "127.1.0.4",
            "127.1.0.5",
            "127.1.0.9",
            "127.1.0.20",
            "localhost"
        ]
    );
    assert!(hosts.iter().all(|h| h["status"] == "ok"), "{out}");

    let mut args = vec!["probe"];
    args.extend(forms);
    args.extend([
        "--exclude",
        "127.1.0.3",
        "--exclude-file",
        ex.to_str().unwrap(),
    ]);
    args.extend(["--ports", &port, "--json"]);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let obs = v["observations"].as_array().unwrap();
    assert_eq!(obs.len(), 6, "{out}");
    assert!(obs.iter().all(|o| o["state"] == "open"), "{out}");
    assert!(obs.iter().any(|o| o["target"] == "127.1.0.20"));
}

#[test]
fn an_oversized_scope_is_refused_before_anything_is_sent() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for (cmd, args) in [
        (
            "dump",
            vec!["127.0.0.1", "127.1.0.0/24", "--max-hosts", "100"],
        ),
        (
            "capacity",
            vec!["127.0.0.1", "127.1.0.1-254", "--max-hosts", "100"],
        ),
        (
            "probe",
            vec!["127.0.0.1", "127.1.0-1.0-255", "--max-hosts", "300"],
        ),
        ("dump", vec!["127.0.0.1", "10.0.0.0/8"]),
    ] {
        let mut argv = vec![cmd];
        argv.extend(&args);
        argv.extend(["--port", &port]);
        if cmd == "probe" {
            argv.pop();
            argv.pop();
            argv.extend(["--ports", &port]);
        }
        let (code, out, err) = run(&argv);
        assert_eq!(code, 2, "{argv:?}: {out} {err}");
        assert!(err.contains("--max-hosts"), "{err}");
        assert!(out.is_empty(), "{out}");
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{argv:?}: a connection was made: {other:?}"),
        }
    }
    // Within the limit, the same scope runs.
    let (code, _, err) = run(&[
        "probe",
        "127.0.0.1",
        "127.1.0.1-4",
        "--max-hosts",
        "5",
        "--ports",
        &port,
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn bad_target_forms_and_exclusions_fail_closed_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("ex.txt");
    std::fs::write(&ex, "127.1.0.1\n127.1.0.9-1\n").unwrap();
    let ex_path = ex.display().to_string();
    for (argv, needle) in [
        (vec!["dump", "127.1.0.1-300"], "`127.1.0.1-300`".to_string()),
        (
            vec!["probe", "127.1.0.9-127.1.0.1"],
            "ends before".to_string(),
        ),
        (
            vec!["dump", "127.1.0.1", "--exclude-file", &ex_path],
            format!("{ex_path}:2:"),
        ),
        (
            vec!["dump", "127.1.0.1", "--exclude", "127.1.0.1"],
            "no targets left".to_string(),
        ),
    ] {
        let (code, _, err) = run(&argv);
        assert_eq!(code, 2, "{argv:?}: {err}");
        assert!(err.contains(&needle), "{argv:?}: {err}");
    }
}

#[test]
fn dump_json_lines_are_the_hosts_of_the_document_then_a_summary() {
    let f = estate_fixture(&["--tcp-endpoints", "5", "--pipes", "2"]);
    let port = f.port();
    let base = [
        "dump",
        "127.1.0.1-12",
        "127.1.0.99",
        "--port",
        &port,
        "--timeout",
        "10",
    ];
    let mut args = base.to_vec();
    args.push("--json-lines");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 14, "{out}");
    assert_valid_lines(&got, "dump-lines.schema.json");
    let summary = got.last().unwrap();
    assert_eq!(summary["record"], "summary");
    assert_eq!(summary["hosts"], 13);
    assert_eq!(summary["ok"], 13);
    // 5 TCP endpoints, 2 pipes and the fixture's default 6 local endpoints per host.
    assert_eq!(summary["entries"], 13 * 13);
    assert_eq!(summary["complete"], true);
    let mut from_lines: Vec<Value> = got[..13].to_vec();
    assert!(from_lines.iter().all(|h| h.get("record").is_none()));

    let mut args = base.to_vec();
    args.push("--json");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let hosts = doc["hosts"].as_array().unwrap().clone();
    // The document keeps target order; the lines come as hosts finish.
    let mut want = targets_of(&hosts);
    assert_eq!(want.first().map(String::as_str), Some("127.1.0.1"));
    assert_eq!(want.last().map(String::as_str), Some("127.1.0.99"));
    let key = |h: &Value| h["target"].as_str().unwrap().to_string();
    from_lines.sort_by_key(key);
    let mut hosts = hosts;
    hosts.sort_by_key(key);
    want.sort();
    assert_eq!(targets_of(&from_lines), want);
    assert_eq!(
        from_lines, hosts,
        "each line is the object --json puts in hosts"
    );

    // A host that does not answer is an error line, and the summary says incomplete.
    let (code, out, _) = run(&[
        "dump",
        "127.1.0.1",
        "[::1]",
        "--port",
        "1",
        "--json-lines",
        "--timeout",
        "2",
    ]);
    assert_eq!(code, 3);
    let got = lines(&out);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2]["error"], 2);
    assert_eq!(got[2]["complete"], false);
}

#[test]
fn audit_json_lines_validate_and_serve_as_a_baseline() {
    let f = estate_fixture(&["--tcp-endpoints", "4", "--tcp-ports", "5001-5004"]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("estate.jsonl");
    let policy = support::article_policy();
    let audit = ["audit", "127.1.0.1-3", "--policy", policy, "--port", &port];
    let output = ["--json-lines", "--output", out_file.to_str().unwrap()];
    let (code, out, err) = run(&[audit.as_slice(), &output].concat());
    // Loopback enforces nothing: the range ports are leaks (exit 1), as in audit_cli.
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), out);
    let got = lines(&out);
    assert_eq!(got.len(), 4);
    assert_valid_lines(&got, "audit-lines.schema.json");
    for h in &got[..3] {
        assert_eq!(h["record"], "host");
        assert_eq!(h["complete"], true);
        assert_eq!(h["host"]["status"], "ok");
        assert!(support::any_with(&h["matrix"], "verdict", "leak"));
        assert!(!support::findings_with(h, "leak").is_empty());
    }
    let s = &got[3];
    assert_eq!(s["record"], "summary");
    assert_eq!(s["summary"]["hosts"], 3);
    assert_eq!(s["complete"], true);
    assert_eq!(s["summary"]["compliant"], false);
    assert!(s["summary"]["findings"]["error"].as_u64().unwrap() >= 3);

    // The lines as a baseline: nothing changed, so no endpoint appeared.
    let baseline = ["--json", "--baseline", out_file.to_str().unwrap()];
    let (code, out, err) = run(&[audit.as_slice(), &baseline].concat());
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    support::assert_valid_report(&v);
    let changes = &v["changes"];
    assert_eq!(
        changes["endpoints_appeared"],
        serde_json::json!([]),
        "{changes}"
    );
    assert_eq!(
        changes["endpoints_disappeared"],
        serde_json::json!([]),
        "{changes}"
    );

    // JSON lines against that baseline, after a fifth endpoint (5005) was registered on every
    // host: each host's line says what appeared there, the summary which report it was.
    let g = estate_fixture(&["--tcp-endpoints", "5", "--tcp-ports", "5001-5005"]);
    let g_port = g.port();
    let (code, out, err) = run(&[
        "audit",
        "127.1.0.1-3",
        "--policy",
        policy,
        "--port",
        &g_port,
        "--json-lines",
        "--baseline",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 4);
    assert_valid_lines(&got, "audit-lines.schema.json");
    for h in &got[..3] {
        let appeared = support::strs(&h["changes"]["endpoints_appeared"], "binding");
        let target = h["host"]["target"].as_str().unwrap();
        assert_eq!(appeared, [format!("ncacn_ip_tcp:{target}[5005]")], "{h}");
        assert_eq!(h["changes"]["endpoints_disappeared"], serde_json::json!([]));
    }
    let changes = &got[3]["changes"];
    assert_eq!(changes["baseline"]["path"], out_file.to_str().unwrap());
    assert_eq!(
        changes["hosts_not_compared"],
        serde_json::json!([]),
        "{changes}"
    );
    // Rendered later, the page has the changes of every host line together.
    let (again, page) = (
        dir.path().join("again.jsonl"),
        dir.path().join("again.html"),
    );
    std::fs::write(&again, &out).unwrap();
    let (code, _, err) = run(&[
        "report",
        "render",
        again.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap();
    let section = html
        .split_once("id=\"changes\"")
        .and_then(|(_, rest)| rest.split_once("</section>"))
        .map(|(section, _)| section)
        .unwrap_or_else(|| panic!("no changes section: {html}"));
    for t in ["127.1.0.1", "127.1.0.2", "127.1.0.3"] {
        assert!(
            section.contains(&format!("ncacn_ip_tcp:{t}[5005]")),
            "{t}: {section}"
        );
    }

    // A cut-short lines file is refused, naming the file.
    let text = std::fs::read_to_string(&out_file).unwrap();
    let audit = ["audit", "127.1.0.1", "--policy", policy, "--port", &port];
    refused_cut_short(dir.path(), &text, &[&audit[..], &["--baseline"]].concat());
}

/// `args` followed by a file of the first two of `lines` (cut before its summary) is refused
/// (exit 2), naming the file and the missing summary.
fn refused_cut_short(dir: &std::path::Path, lines: &str, args: &[&str]) {
    let cut = dir.join("cut.jsonl");
    std::fs::write(&cut, lines.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
    let (code, _, err) = run(&[args, &[cut.to_str().unwrap()]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cut.jsonl") && err.contains("summary"),
        "{err}"
    );
}

#[test]
fn capacity_json_lines_are_the_hosts_of_the_document_then_a_summary() {
    // 5001-5003 and 49664 on every host: one port outside the range, an error finding each.
    let f = estate_fixture(&["--tcp-endpoints", "4", "--tcp-ports", "5001-5003,49664"]);
    let port = f.port();
    let base = [
        "capacity",
        "127.1.0.1-5",
        "--port",
        &port,
        "--timeout",
        "10",
    ];
    let (code, out, err) = run(&[base.as_slice(), &["--json-lines"]].concat());
    assert_eq!(code, 1, "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 6, "{out}");
    assert_valid_lines(&got, "capacity-lines.schema.json");
    let s = &got[5];
    assert_eq!(s["record"], "summary");
    assert_eq!((s["hosts"].as_u64(), s["ok"].as_u64()), (Some(5), Some(5)));
    assert_eq!(s["range"], "5001-5021");
    assert_eq!(s["findings"]["error"], 5, "{s}");
    assert_eq!(s["complete"], true);

    // The document (its hosts array streamed in target order) holds the same host objects.
    let (code, doc, err) = run(&[base.as_slice(), &["--json"]].concat());
    assert_eq!(code, 1, "{err}");
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["range"], "5001-5021");
    let hosts = doc["hosts"].as_array().unwrap();
    assert_eq!(
        targets_of(hosts),
        [
            "127.1.0.1",
            "127.1.0.2",
            "127.1.0.3",
            "127.1.0.4",
            "127.1.0.5"
        ]
    );
    let key = |h: &Value| h["target"].as_str().unwrap().to_string();
    let mut from_lines = got[..5].to_vec();
    from_lines.sort_by_key(key);
    assert_eq!(
        &from_lines, hosts,
        "each line is the object --json puts in hosts"
    );
    assert!(hosts.iter().all(|h| h["out_of_range"] == 1), "{doc}");
}

#[test]
fn probe_json_lines_validate_and_read_back_as_observations() {
    let f = estate_fixture(&[]);
    let port = f.port();
    let base = ["probe", "127.1.0.1-4", "--ports", &port];
    let (code, out, err) = run(&[base.as_slice(), &["--json-lines"]].concat());
    assert_eq!(code, 0, "{err}");
    let got = lines(&out);
    assert_eq!(got.len(), 5, "one line per target, then the summary: {out}");
    assert_valid_lines(&got, "probe-lines.schema.json");
    let mut targets: Vec<&str> = got[..4]
        .iter()
        .map(|h| {
            assert_eq!(h["record"], "host");
            assert_eq!(h["address"], h["target"]);
            let obs = h["observations"].as_array().unwrap();
            assert_eq!(obs.len(), 1, "{h}");
            assert_eq!(obs[0]["state"], "open");
            h["target"].as_str().unwrap()
        })
        .collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        ["127.1.0.1", "127.1.0.2", "127.1.0.3", "127.1.0.4"]
    );
    let s = &got[4];
    assert_eq!(s["record"], "summary");
    assert_eq!(
        (s["targets"].as_u64(), s["probes"].as_u64()),
        (Some(4), Some(4))
    );
    assert_eq!(s["states"]["open"], 4);
    assert_eq!(s["complete"], true);

    // audit --observations reads the lines as it reads the document of the same observations
    // (`probe --json`'s shape): the same matrix.
    let (code, doc, err) = run(&[base.as_slice(), &["--json"]].concat());
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["observations"].as_array().map(Vec::len), Some(4));
    let observed: Vec<Value> = got[..4]
        .iter()
        .flat_map(|h| h["observations"].as_array().unwrap().clone())
        .collect();
    let doc = serde_json::json!({ "observations": observed }).to_string();
    let dir = tempfile::tempdir().unwrap();
    let (as_lines, as_doc) = (dir.path().join("obs.jsonl"), dir.path().join("obs.json"));
    std::fs::write(&as_lines, &out).unwrap();
    std::fs::write(&as_doc, &doc).unwrap();
    let policy = support::article_policy();
    let matrix_from = |file: &std::path::Path| {
        let (_, out, err) = run(&[
            "audit",
            "127.1.0.1-4",
            "--policy",
            policy,
            "--port",
            &port,
            "--no-probe",
            "--observations",
            file.to_str().unwrap(),
            "--json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        v["matrix"].clone()
    };
    let from_lines = matrix_from(&as_lines);
    assert_eq!(from_lines.as_array().map(Vec::len), Some(4), "{from_lines}");
    assert_eq!(from_lines, matrix_from(&as_doc));

    // Lines cut before their summary are refused, naming the file.
    let audit = ["audit", "127.1.0.1", "--policy", policy, "--no-probe"];
    refused_cut_short(
        dir.path(),
        &out,
        &[&audit[..], &["--observations"]].concat(),
    );
}

/// `script` gives the binary a terminal on stderr and copies what it draws to our stdout.
fn under_terminal(args: &[&str]) -> String {
    let mut cmd = vec![support::bin().to_string()];
    cmd.extend(args.iter().map(|a| a.to_string()));
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd.join(" "), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script (util-linux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only_and_not_with_quiet() {
    // 127.0.0.2 accepts and then says nothing: the run lasts its 2 s timeout, with one host
    // of two done in the meantime.
    let (good, _silent) = support::fixture_pair("silent");
    let port = good.port();
    let mut args = support::pair_args("dump", &port, "2");
    args.push("--json-lines");
    let seen = under_terminal(&args);
    assert!(seen.contains("1/2 hosts"), "{seen}");
    assert!(
        seen.contains("0 probes, 0 errors, last 127.0.0.1"),
        "{seen}"
    );
    assert!(seen.contains("ETA"), "{seen}");

    let mut quiet = args.to_vec();
    quiet.push("--quiet");
    let seen = under_terminal(&quiet);
    assert!(!seen.contains("hosts "), "{seen}");
    assert!(seen.contains("\"record\":\"summary\""), "{seen}");

    let (code, out, err) = run(&args);
    assert_eq!(code, 3);
    assert!(!err.contains("hosts") && !err.contains("ETA"), "{err}");
    assert_eq!(lines(&out).len(), 3);
}

#[test]
fn verbose_says_what_the_descriptor_budget_chose() {
    let f = Fixture::start(&[]);
    let (code, _, err) = run(&["dump", "127.0.0.1", "--port", &f.port(), "-v"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("file descriptors: limit"), "{err}");
    assert!(
        err.contains("hosts and") && err.contains("probes in flight"),
        "{err}"
    );
}
