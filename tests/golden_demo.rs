//! Golden tests of `rpcaudit demo`: the table and the JSON report, byte for byte, after the
//! parts that change from run to run are normalised (the embedded endpoint mapper's port, the
//! time of the run). Regenerate with `UPDATE_GOLDEN=1 cargo test --test golden_demo` and review
//! the diff.

mod support;

use serde_json::Value;
use std::path::PathBuf;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n  golden: {:?}\n  actual: {:?}\nrun UPDATE_GOLDEN=1 cargo test --test golden_demo if the change is intended",
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

/// The demo's JSON with the run-specific parts replaced.
fn normalise_json(mut v: Value) -> (Value, u16) {
    let port = v["inputs"]["epm_port"].as_u64().unwrap() as u16;
    v["generated_at"] = Value::from("<generated_at>");
    v["inputs"]["epm_port"] = Value::from(0);
    v["tool"]["version"] = Value::from("<version>");
    for h in v["hosts"].as_array_mut().unwrap() {
        h["address"] = Value::from("127.0.0.1:<epm_port>");
    }
    let rows = v["matrix"].as_array_mut().unwrap();
    for r in rows.iter_mut() {
        if r["port"] == port {
            r["port"] = Value::from(0);
        }
    }
    rows.sort_by_key(|r| r["port"].as_u64());
    (v, port)
}

#[test]
fn demo_json_is_golden() {
    let _demo = support::demo_lock();
    let (code, v, err) = support::run_json(&["demo", "--json"]);
    assert_eq!(code, 0, "{err}");
    support::assert_valid_report(&v);
    let (v, _) = normalise_json(v);
    check(
        "demo.json",
        &(serde_json::to_string_pretty(&v).unwrap() + "\n"),
    );
}

#[test]
fn demo_table_is_golden() {
    let _demo = support::demo_lock();
    let (code, out, err) = support::run(&["demo"]);
    assert_eq!(code, 0, "{err}");
    let port = err
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .expect("the demo names its endpoint mapper's port on stderr")
        .to_string();
    // The endpoint mapper's own matrix row sits wherever its random port sorts: leave it out.
    let text: String = out
        .lines()
        .filter(|l| !l.contains(&format!("┆ {port} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    check("demo.txt", &text);
}
