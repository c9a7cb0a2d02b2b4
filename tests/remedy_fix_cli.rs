//! Issue 24, hole 3, through the real binary: a finding's fix is built by the quoting rules
//! (`script::quote`), so a hostile IPsec store (`ipseccmd -w "DS:x & calc.exe & rem"`) or a
//! policy name from a store export (`" & calc.exe & rem "`) never comes back as a runnable
//! command in `policy lint`'s table, JSON or SARIF, nor in `audit --json`/`--sarif` (where the
//! fix script is checked as well). Every command a fix text gives must be one command, ASCII,
//! with no argument holding the injected `calc.exe`, and the text must not carry the value.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::remedy_models::{Intended, check_script, fix_commands};
use support::{Fixture, bin};

const INJECTED: &str = "calc.exe";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The article's store export (UTF-16LE, as regedit writes it), with `edit` applied to its
/// text, written to `dir`.
fn store_export(dir: &Path, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let bytes = std::fs::read(support::fixture("policy/ipsec-store-kb908472.reg")).unwrap();
    let (text, _, bad) = encoding_rs::UTF_16LE.decode(&bytes);
    assert!(!bad);
    let text = edit(&text);
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

/// The policy's name in the export: `" & calc.exe & rem "`, as a .reg string writes it.
fn hostile_name(text: &str) -> String {
    let from = "\"ipsecName\"=\"Block RPC Ports\"";
    assert!(text.contains(from));
    text.replace(from, "\"ipsecName\"=\"\\\" & calc.exe & rem \\\"\"")
}

fn unassigned(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("\"ActivePolicy\""))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// A fix text's commands are clean, and nothing of the injection is in it.
fn assert_fix_clean(fix: &str, what: &str) {
    let commands = fix_commands(fix).unwrap_or_else(|e| panic!("{what}: {e}"));
    for args in &commands {
        assert!(
            !args.iter().any(|a| a.contains(INJECTED)),
            "{what}: {args:?} in {fix:?}"
        );
    }
    assert!(!fix.contains(INJECTED), "{what}: {fix:?}");
}

/// `policy lint` on `files` in all three forms: every fix is clean; returns the JSON
/// findings for further checks.
fn lint_everywhere(files: &[&Path], extra: &[&str]) -> Vec<Value> {
    let paths: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let with = |form: &[&str]| {
        let mut a = vec!["policy", "lint"];
        a.extend_from_slice(extra);
        a.extend_from_slice(form);
        a.extend_from_slice(&paths);
        let (code, out, err) = run(&a);
        assert!(code == 0 || code == 1, "{a:?}: {code} {err}");
        out
    };
    let json: Value = serde_json::from_str(&with(&["--json"])).unwrap();
    let findings = json["findings"].as_array().unwrap().clone();
    for f in &findings {
        assert_fix_clean(f["fix"].as_str().unwrap(), "json");
    }
    let sarif: Value = serde_json::from_str(&with(&["--sarif"])).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for r in results {
        let text = r["message"]["text"].as_str().unwrap();
        let (_, fix) = text.rsplit_once("\nFix: ").unwrap();
        assert_fix_clean(fix, "sarif");
    }
    // The table: the fix is the last cell of each row (the message names the policy, as
    // prose shown inertly).
    let table = with(&[]);
    let cells: Vec<&str> = table
        .lines()
        .filter_map(|l| l.rsplit_once('\u{2506}'))
        .map(|(_, cell)| cell.trim_end_matches('\u{2502}').trim())
        .collect();
    assert_eq!(cells.len(), findings.len() + 1, "{table}");
    for cell in cells {
        assert_fix_clean(cell, "table");
    }
    findings
}

fn with_code<'a>(findings: &'a [Value], code: &str) -> Vec<&'a str> {
    findings
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["fix"].as_str().unwrap())
        .collect()
}

#[test]
fn a_hostile_store_in_a_script_gives_no_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.cmd");
    std::fs::write(
        &path,
        "ipseccmd -w \"DS:x & calc.exe & rem\" -p \"Block RPC Ports\" -r \"Block Inbound TCP 135 Rule\" -f *=0:135:TCP -n BLOCK\r\n",
    )
    .unwrap();
    let findings = lint_everywhere(&[&path], &[]);
    let fixes = with_code(&findings, "policy-unassigned");
    assert_eq!(fixes.len(), 1, "{findings:?}");
    assert!(
        fixes[0].starts_with("assign the policy by hand"),
        "{}",
        fixes[0]
    );
    // A store that is a DNS domain is written.
    std::fs::write(
        &path,
        "ipseccmd -w DS:corp.example.com -p \"Block RPC Ports\" -r \"Block Inbound TCP 135 Rule\" -f *=0:135:TCP -n BLOCK\r\n",
    )
    .unwrap();
    let findings = lint_everywhere(&[&path], &[]);
    assert_eq!(
        with_code(&findings, "policy-unassigned"),
        ["ipseccmd.exe -w DS:corp.example.com -p \"Block RPC Ports\" -x"]
    );
}

#[test]
fn a_hostile_policy_name_in_a_store_export_gives_no_command() {
    let dir = tempfile::tempdir().unwrap();
    // Not assigned: policy-unassigned names it.
    let store = store_export(dir.path(), "unassigned.reg", |t| {
        unassigned(&hostile_name(t))
    });
    let findings = lint_everywhere(&[&store], &["--range", "5001-5021"]);
    let fixes = with_code(&findings, "policy-unassigned");
    assert!(
        fixes
            .iter()
            .any(|f| f.starts_with("assign the policy by hand")),
        "{findings:#?}"
    );
    // The other policy of the store is fine, and its command is still written.
    assert!(
        fixes.contains(&"ipseccmd.exe -w REG -p \"Server (Request Security)\" -x"),
        "{fixes:?}"
    );
    // Assigned, with ports of a wider range unblocked: the block names the policy in force.
    let store = store_export(dir.path(), "assigned.reg", hostile_name);
    let findings = lint_everywhere(&[&store], &["--range", "5001-5030"]);
    let fixes = with_code(&findings, "range-port-unblocked");
    assert!(!fixes.is_empty(), "{findings:#?}");
    for f in fixes {
        assert!(
            f.starts_with("add a BLOCK filter for any source to the IPsec policy in force"),
            "{f}"
        );
    }
}

#[test]
fn audit_json_and_sarif_carry_no_injected_command() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_export(dir.path(), "assigned.reg", hostile_name);
    let sarif = dir.path().join("audit.sarif");
    let fixture = Fixture::start(&[]);
    let port = fixture.port();
    for dialect in ["ipseccmd", "netsh-ipsec", "netsh", "powershell"] {
        let (code, out, err) = run(&[
            "audit",
            "127.0.0.1",
            "--port",
            &port,
            "--policy",
            store.to_str().unwrap(),
            "--range",
            "5001-5030",
            "--fix-dialect",
            dialect,
            "--json",
            "--sarif",
            sarif.to_str().unwrap(),
        ]);
        assert!(code == 0 || code == 1, "{dialect}: {code} {err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        let findings: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .chain(
                report["hosts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|h| h["findings"].as_array().into_iter().flatten()),
            )
            .collect();
        assert!(
            findings.iter().any(|f| f["code"] == "range-port-unblocked"),
            "{dialect}: {report:#}"
        );
        for f in &findings {
            assert_fix_clean(f["fix"].as_str().unwrap(), dialect);
        }
        let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
        for r in log["runs"][0]["results"].as_array().unwrap() {
            let text = r["message"]["text"].as_str().unwrap();
            let (_, fix) = text.rsplit_once("\nFix: ").unwrap();
            assert_fix_clean(fix, dialect);
        }
        // The fix script: nothing of the name reaches a command, in either reading. The IPsec
        // dialects must name the policy, so they write nothing (no script at all).
        let script = report["remediation"]["script"].as_str();
        assert_eq!(
            script.is_some(),
            dialect == "netsh" || dialect == "powershell",
            "{dialect}: {report:#}"
        );
        let Some(script) = script else { continue };
        if let Err(e) = check_script(dialect == "powershell", script, &Intended::default()) {
            panic!("{dialect}: {e}\n{script}");
        }
        assert!(
            !script
                .lines()
                .any(|l| l.contains(INJECTED) && !l.starts_with("rem") && !l.starts_with('#')),
            "{dialect}\n{script}"
        );
    }
}
