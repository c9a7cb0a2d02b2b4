//! `rpcaudit report render REPORT.json --html FILE` from the real binary: a saved report
//! becomes a page with one cell per matrix row and one article per finding (the browser test,
//! tests/html_browser.rs, opens such pages in chromium); what is not a report, or cannot be
//! read, fails closed with exit 2 and the file's name, and writes no page.

mod support;

use std::path::Path;
use support::run;

/// `rpcaudit report render REPORT --html PAGE`.
fn render(report: &Path, page: &Path) -> (i32, String, String) {
    run(&[
        "report",
        "render",
        report.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ])
}

#[test]
fn a_saved_demo_report_renders_and_bad_input_fails_closed() {
    let report = support::demo_json();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("demo.json");
    std::fs::write(&json, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let html = dir.path().join("demo.html");
    let (code, out, err) = render(&json, &html);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        page.matches(" data-cell=\"").count(),
        report["matrix"].as_array().unwrap().len()
    );
    assert_eq!(
        page.matches(" data-finding=\"").count(),
        report["findings"].as_array().unwrap().len()
    );
    assert!(!page.contains("<script"));
    // No temporary file is left beside the page.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");

    let not_a_report = dir.path().join("probe.json");
    std::fs::write(&not_a_report, "{\"observations\":[]}").unwrap();
    let missing = dir.path().join("missing.json");
    let out_html = dir.path().join("bad.html");
    for bad in [&not_a_report, &missing] {
        let (code, _, err) = render(bad, &out_html);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(bad.to_str().unwrap()), "{err}");
        assert!(!out_html.exists());
    }
    // A page that cannot be written: exit 2, naming it.
    let unwritable = dir.path().join("no-such-dir").join("x.html");
    let (code, _, err) = render(&json, &unwritable);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot write the HTML report"), "{err}");
}

#[test]
fn a_json_lines_report_renders_with_every_host_cell_and_finding() {
    let server = support::Fixture::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("audit.jsonl");
    let (code, _, err) = run(&[
        "audit",
        "127.0.0.1",
        "127.0.0.2",
        "--port",
        &server.port(),
        "--policy",
        support::article_policy(),
        "--json-lines",
        "--output",
        lines.to_str().unwrap(),
    ]);
    // 127.0.0.2 has no endpoint mapper: that host is an error (exit 3), the other is audited.
    assert_eq!(code, 3, "{err}");
    let text = std::fs::read_to_string(&lines).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let hosts: Vec<_> = records.iter().filter(|r| r["record"] == "host").collect();
    assert_eq!(hosts.len(), 2, "{text}");
    let cells: usize = hosts
        .iter()
        .map(|h| h["matrix"].as_array().unwrap().len())
        .sum();
    assert!(cells > 0, "{text}");
    let html = dir.path().join("audit.html");
    let (code, _, err) = render(&lines, &html);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches(" data-cell=\"").count(), cells);
    let findings: usize = records
        .iter()
        .map(|r| r["findings"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(page.matches(" data-finding=\"").count(), findings);
}
