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
    v["changes"]["baseline"]["generated_at"] = Value::from("<generated_at>");
    v["changes"]["baseline"]["tool_version"] = Value::from("<version>");
    for h in v["hosts"].as_array_mut().unwrap() {
        h["address"] = Value::from("127.0.0.1:<epm_port>");
    }
    let rows = v["matrix"].as_array_mut().unwrap();
    for r in rows.iter_mut() {
        // Round-trip times differ from run to run.
        if let Some(r) = r.as_object_mut() {
            r.remove("rtt_ms");
        }
        if r["port"] == port {
            r["port"] = Value::from(0);
        }
    }
    rows.sort_by_key(|r| r["port"].as_u64());
    (v, port)
}

/// Replace RFC 3339 timestamps (`2026-11-29T18:17:58.887Z`) with `<time>`.
fn without_timestamps(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = &rest[i..];
        let stamp_len = tail
            .find('Z')
            .filter(|&z| {
                let s = &tail[..z];
                s.len() >= 19
                    && s.as_bytes()[4] == b'-'
                    && s.as_bytes()[10] == b'T'
                    && s.chars().all(|c| c.is_ascii_digit() || "-T:.".contains(c))
            })
            .map(|z| z + 1);
        match stamp_len {
            Some(n) => {
                out.push_str(&rest[..i]);
                out.push_str("<time>");
                rest = &tail[n..];
            }
            None => {
                let step = i + tail.chars().next().map_or(1, char::len_utf8);
                out.push_str(&rest[..step]);
                rest = &rest[step..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn timestamps_are_normalised() {
    assert_eq!(
        without_timestamps("Changes since x (2026-11-29T18:17:58.88749739Z): 5001-5021"),
        "Changes since x (<time>): 5001-5021"
    );
}

#[test]
fn demo_json_is_golden() {
    let (v, _) = normalise_json(support::demo_json());
    check(
        "demo.json",
        &(serde_json::to_string_pretty(&v).unwrap() + "\n"),
    );
}

#[test]
fn demo_table_is_golden() {
    let (code, out, err) = support::run_demo(&[]);
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
        .map(|l| format!("{}\n", without_timestamps(l)))
        .collect();
    check("demo.txt", &text);
}
