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

/// `text` with the number `n` (standing alone, not inside a longer number) replaced by `with`.
fn replace_number(text: &str, n: u16, with: &str) -> String {
    let n = n.to_string();
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(&n) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + n.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(|c| c.is_ascii_digit()) || after.is_some_and(|c| c.is_ascii_digit()) {
            out.push_str(&n);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + n.len()..];
    }
    out.push_str(rest);
    out
}

/// Every stand-in port of the run (the endpoint mapper's for 135, RPC over HTTP's for 593)
/// replaced by a name in `text`.
fn without_stand_ins(text: &str, (epm, http): (u16, u16)) -> String {
    replace_number(
        &replace_number(text, epm, "<epm_port>"),
        http,
        "<http_port>",
    )
}

/// The demo's JSON with the run-specific parts replaced.
fn normalise_json(mut v: Value) -> (Value, u16) {
    let port = v["inputs"]["epm_port"].as_u64().unwrap() as u16;
    let stand_in = |well_known: u64| {
        v["inputs"]["stand_ins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stands_for"] == well_known)
            .and_then(|s| s["port"].as_u64())
            .unwrap() as u16
    };
    let ports = (stand_in(135), stand_in(593));
    assert_eq!(
        ports.0, port,
        "the endpoint mapper's port is the stand-in of 135"
    );
    v["generated_at"] = Value::from("<generated_at>");
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
    }
    rows.sort_by_key(|r| (r["source"].as_str().map(String::from), r["port"].as_u64()));
    // The stand-in ports, wherever they are said (inputs, rows, findings' text).
    replace_stand_ins(&mut v, ports);
    (v, port)
}

/// [`without_stand_ins`] in every string of `v`, and a number that is a stand-in port made
/// its name.
fn replace_stand_ins(v: &mut Value, ports: (u16, u16)) {
    match v {
        Value::String(s) => *s = without_stand_ins(s, ports),
        Value::Number(n) => {
            let named = n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .map(|n| without_stand_ins(&n.to_string(), ports));
            if let Some(named) = named.filter(|s| s.starts_with('<')) {
                *v = Value::from(named);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace_stand_ins(x, ports)),
        Value::Object(o) => o.values_mut().for_each(|x| replace_stand_ins(x, ports)),
        _ => {}
    }
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
    let port_at = |k: usize| -> u16 {
        err.split("127.0.0.1:")
            .nth(k)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse().ok())
            .expect("the demo names its stand-in ports on stderr")
    };
    // The endpoint mapper's stand-in of TCP 135 first, then RPC over HTTP's of 593.
    let ports = (port_at(1), port_at(2));
    let text: String = out
        .lines()
        .map(|l| format!("{}\n", without_stand_ins(&without_timestamps(l), ports)))
        .collect();
    check("demo.txt", &text);
}

#[test]
fn numbers_are_replaced_only_whole() {
    assert_eq!(
        replace_number("TCP 4055 for 40551, :4055 x14055", 4055, "<p>"),
        "TCP <p> for 40551, :<p> x14055"
    );
}

#[test]
fn the_demo_shows_a_fence_bypass_observed_from_a_denied_source() {
    let (v, _) = normalise_json(support::demo_json());
    // From 127.0.1.1 (outside the policy's 127.0.0.0/24) the fence holds on TCP 135's stand-in
    // and on the range, while RPC over HTTP's stand-in answers: a fence-bypass, seen on the wire.
    let row = |source: &str, port: u64| {
        v["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source"] == source && r["port"] == port)
            .cloned()
            .unwrap_or_else(|| panic!("no row {source} {port}"))
    };
    let epm = row("127.0.1.1", 135);
    assert_eq!(epm["expected"], "block");
    assert_eq!(epm["observed"], "filtered");
    assert_eq!(epm["probed_port"], "<epm_port>");
    assert_eq!(row("127.0.1.1", 5001)["observed"], "filtered");
    let http = row("127.0.1.1", 593);
    assert_eq!(http["observed"], "open");
    assert_eq!(http["probed_port"], "<http_port>");
    let bypass: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "fence-bypass")
        .collect();
    assert_eq!(bypass.len(), 1, "{bypass:#?}");
    let message = bypass[0]["message"].as_str().unwrap();
    assert!(
        message.contains("from 127.0.1.1, which the fence denies TCP 135")
            && message.contains("on TCP 593 (probed on its stand-in, TCP <http_port>)"),
        "{message}"
    );
    // The allowed source is no bypass.
    assert!(!message.contains("from 127.0.0.1,"));
}
