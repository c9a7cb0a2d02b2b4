//! Issue 14 acceptance for SARIF: `rpcaudit policy lint --sarif` for every policy in
//! `fixtures/policy/`, and `audit --sarif FILE`, validate against the official SARIF 2.1.0
//! schema (vendored in `fixtures/sarif/`, its source named in the README there); each finding is
//! one result naming its rule, level and place, with the file relative to the working
//! directory.

mod support;

use serde_json::Value;
use std::process::Command;
use support::{Fixture, bin};

fn sarif_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(support::fixture("sarif/sarif-schema-2.1.0.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, log: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: not valid SARIF 2.1.0:\n{}",
        errors.join("\n")
    );
}

/// Run the binary in the repository's root (so `fixtures/...` is a relative path there).
fn run_here(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_schema_rejects_what_is_not_sarif() {
    let v = sarif_schema();
    assert!(!v.is_valid(&serde_json::json!({"version": "2.1.0"})));
    assert!(!v.is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "fatal", "message": {"text": "m"}}]}]})));
    assert!(v.is_valid(&serde_json::json!({"version": "2.1.0", "runs": []})));
}

#[test]
fn lint_sarif_of_every_fixture_policy_is_valid_and_has_every_finding() {
    let validator = sarif_schema();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    let mut results_seen = 0;
    for name in &names {
        let file = format!("fixtures/policy/{name}");
        let (code, out, err) = run_here(&["policy", "lint", "--sarif", &file]);
        let (json_code, json, _) = run_here(&["policy", "lint", "--json", &file]);
        assert_eq!(code, json_code, "{name}: exit code\n{err}");
        let log: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}\n{out}"));
        assert_valid(&validator, &log, name);
        let findings: Value = serde_json::from_str(&json).unwrap();
        let findings = findings["findings"].as_array().unwrap();
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        for code in rpcaudit::finding::Code::ALL {
            assert_eq!(
                ids.iter().filter(|i| **i == code.as_str()).count(),
                1,
                "{name}: rule {code}"
            );
        }
        let results = run["results"].as_array().unwrap();
        assert_eq!(
            results.len(),
            findings.len(),
            "{name}: one result per finding"
        );
        for (r, f) in results.iter().zip(findings) {
            assert_eq!(r["ruleId"], f["code"], "{name}");
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], f["code"], "{name}: ruleIndex");
            let level = match f["severity"].as_str().unwrap() {
                "info" => "note",
                other => other,
            };
            assert_eq!(r["level"], level, "{name}");
            assert!(
                r["message"]["text"]
                    .as_str()
                    .unwrap()
                    .starts_with(f["message"].as_str().unwrap())
            );
            if f["file"].is_string() {
                let loc = &r["locations"][0]["physicalLocation"];
                assert_eq!(
                    loc["artifactLocation"]["uri"],
                    file.as_str(),
                    "{name}: relative URI"
                );
                assert_eq!(loc["region"]["startLine"], f["line"], "{name}: line");
            }
        }
        results_seen += results.len();
    }
    assert!(
        results_seen > 10,
        "the fixtures have findings: {results_seen}"
    );
}

#[test]
fn audit_sarif_has_the_policy_findings() {
    let fixture = Fixture::start(&[]);
    let port = fixture.port();
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("audit.sarif");
    let (code, out, err) = run_here(&[
        "audit",
        "127.0.0.1",
        "--port",
        &port,
        "--policy",
        "fixtures/policy/firewall-naive.cmd",
        "--range",
        "5001-5021",
        "--json",
        "--sarif",
        sarif.to_str().unwrap(),
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_valid(&sarif_schema(), &log, "audit --sarif");
    let policy: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"].is_string())
        .collect();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!policy.is_empty(), "{report:#}");
    assert_eq!(results.len(), policy.len());
    for (r, f) in results.iter().zip(&policy) {
        assert_eq!(r["ruleId"], f["code"]);
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "fixtures/policy/firewall-naive.cmd"
        );
    }
}

/// The region of a finding about one word starts at that word: an en-dash switch, a
/// placeholder, a key on a continuation line; a word that came from a variable gets no column.
#[test]
fn regions_start_at_the_column_of_the_offending_word() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        "set T=\u{2013}x",
        "ipseccmd -w REG -p \"Block RPC\" -r \"Block 135\" -f *=0:%PORT%:TCP -n BLOCK",
        "ipseccmd -w REG -p \"Block RPC\" \u{2013}x",
        "ipseccmd -w REG -p \"Block RPC\" %T%",
        "netsh advfirewall firewall add rule name=x dir=in action=block protocol=TCP ^",
        "   LocalPort=5001\u{2013}5021",
    ];
    let path = dir.path().join("cols.cmd");
    std::fs::write(&path, lines.join("\r\n") + "\r\n").unwrap();
    let out = Command::new(bin())
        .args(["policy", "lint", "--sarif"])
        .arg(&path)
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&sarif_schema(), &log, "cols.cmd");
    assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
    let mut located: Vec<(String, u64, Option<u64>)> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            Some((
                r["ruleId"].as_str()?.to_string(),
                region["startLine"].as_u64()?,
                region["startColumn"].as_u64(),
            ))
        })
        .filter(|(id, _, _)| id == "typographic-dash" || id == "placeholder")
        .collect();
    located.sort();
    // Each column, counted in characters, lands on the word the finding quotes.
    let at = |line: u64, col: u64, len: usize| -> String {
        lines[line as usize - 1]
            .chars()
            .skip(col as usize - 1)
            .take(len)
            .collect()
    };
    let words: Vec<(String, u64, Option<String>)> = located
        .iter()
        .map(|(id, line, col)| {
            let len = if id == "placeholder" { 6 } else { 2 };
            (id.clone(), *line, col.map(|c| at(*line, c, len)))
        })
        .collect();
    assert_eq!(
        words,
        [
            ("placeholder".to_string(), 2, Some("%PORT%".to_string())),
            (
                "typographic-dash".to_string(),
                3,
                Some("\u{2013}x".to_string())
            ),
            // the switch came from %T%: the line is known, the column is not
            ("typographic-dash".to_string(), 4, None),
            // the key on the continuation line, which the region then names
            ("typographic-dash".to_string(), 6, Some("Lo".to_string())),
        ],
        "{located:?}"
    );
}
