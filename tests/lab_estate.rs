//! Lab test of a whole estate (root, `#[ignore]`; the README's test command runs it): the
//! fixture endpoint mapper answers on TCP 135 of every loopback address of a network namespace
//! this test creates, and `rpcaudit dump` reads a whole /16 of it (65,534 hosts) under GNU
//! time. Every host must be `ok` with every entry, every JSON line must validate against
//! `schema/dump-lines.schema.json`, and peak memory must stay within 64 MiB, for the JSON
//! lines and for the streamed `--json` document alike. Traffic stays on the namespace's
//! loopback; the namespace and the server (killed by PID) go when the test ends.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Fixture, lab};

const BIN: &str = env!("CARGO_BIN_EXE_rpcaudit");
const NS: &str = "rpca-estate";
/// The /16 dumped, and its host count (network and broadcast addresses left out).
const SCOPE: &str = "127.1.0.0/16";
const HOSTS: u64 = 65_534;
/// What the fixture registers per host: 40 TCP endpoints, and its default 6 named pipes and
/// 6 local endpoints.
const TCP_ENDPOINTS: &str = "40";
const ENTRIES_PER_HOST: u64 = 52;
/// The bound issue 11 sets for a /16.
const MAX_RSS_KIB: u64 = 64 * 1024;

/// The namespace with the fixture endpoint mapper in it; both go on drop.
struct Estate {
    server: Option<Fixture>,
}

impl Estate {
    fn start() -> Estate {
        // A namespace left by an earlier run that was killed; none is the usual case.
        let _ = Command::new("ip")
            .args(["netns", "del", NS])
            .stderr(Stdio::null())
            .status();
        checked(
            Command::new("ip").args(["netns", "add", NS]),
            "ip netns add",
        );
        let mut estate = Estate { server: None };
        checked(
            Command::new("ip").args(["-n", NS, "link", "set", "lo", "up"]),
            "ip link set lo up",
        );
        estate.server = Some(Fixture::start_in(
            Some(NS),
            "0.0.0.0:135",
            &["--tcp-endpoints", TCP_ENDPOINTS],
        ));
        estate
    }
}

impl Drop for Estate {
    fn drop(&mut self) {
        // The server first (killed by its PID), then its namespace.
        drop(self.server.take());
        let _ = Command::new("ip").args(["netns", "del", NS]).status();
    }
}

fn checked(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what}: {status}");
}

/// Run `rpcaudit ARGS` in the namespace under GNU time, handing each stdout line to `line`;
/// returns the exit code and the peak RSS in KiB.
fn dump_in_estate(args: &[&str], mut line: impl FnMut(&str)) -> (Option<i32>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let rss_file = dir.path().join("rss");
    let mut child = Command::new("ip")
        .args(["netns", "exec", NS, "/usr/bin/time", "-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rpcaudit under GNU time");
    let deadline = Instant::now() + Duration::from_secs(20 * 60);
    let out = BufReader::new(child.stdout.take().unwrap());
    for l in out.lines() {
        line(&l.expect("read a line of rpcaudit's output"));
        assert!(Instant::now() < deadline, "the dump ran past 20 minutes");
    }
    let status = child.wait().unwrap();
    let rss = std::fs::read_to_string(&rss_file).unwrap();
    let rss = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("GNU time wrote {rss:?}"));
    (status.code(), rss)
}

#[test]
#[ignore = "lab: needs root, network namespaces and GNU time"]
fn a_slash_16_dump_is_complete_in_bounded_memory() {
    if !lab::can_run_with(&["ip", "/usr/bin/time"]) {
        return;
    }
    let _estate = Estate::start();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/dump-lines.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();

    // JSON lines: one host per line as it is done, then the summary.
    let (mut hosts, mut entries, mut summary) = (0u64, 0u64, None::<Value>);
    let (code, rss) = dump_in_estate(&["dump", SCOPE, "--json-lines", "--quiet"], |l| {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        if let Some(e) = validator.iter_errors(&v).next() {
            panic!("line {} does not fit the schema: {e}: {l}", hosts + 1);
        }
        assert!(summary.is_none(), "a line after the summary: {l}");
        if v["record"] == "summary" {
            summary = Some(v);
            return;
        }
        assert_eq!(v["status"], "ok", "{l}");
        let n = v["endpoints"].as_array().map_or(0, Vec::len) as u64;
        assert_eq!(n, ENTRIES_PER_HOST, "{}", v["target"]);
        hosts += 1;
        entries += n;
    });
    assert_eq!(code, Some(0));
    assert_eq!((hosts, entries), (HOSTS, HOSTS * ENTRIES_PER_HOST));
    let s = summary.expect("a summary line");
    assert_eq!(s["hosts"], HOSTS);
    assert_eq!(s["ok"], HOSTS);
    assert_eq!(s["entries"], HOSTS * ENTRIES_PER_HOST);
    assert_eq!(s["complete"], true);
    assert!(rss <= MAX_RSS_KIB, "--json-lines peak RSS {rss} KiB");
    eprintln!("dump {SCOPE} --json-lines: peak RSS {rss} KiB");

    // The --json document streams its hosts array: as flat. Each host object starts with its
    // "target" at the array's indentation; the document must parse as a whole at the end,
    // which is checked here line by line to keep this test's own memory flat too.
    let (mut objects, mut ok, mut last) = (0u64, 0u64, String::new());
    let (code, rss) = dump_in_estate(&["dump", SCOPE, "--json", "--quiet"], |l| {
        if l.starts_with("      \"target\": ") {
            objects += 1;
        } else if l == "      \"status\": \"ok\"," {
            ok += 1;
        }
        last = l.to_string();
    });
    assert_eq!(code, Some(0));
    assert_eq!((objects, ok), (HOSTS, HOSTS));
    assert_eq!(last, "}");
    assert!(rss <= MAX_RSS_KIB, "--json peak RSS {rss} KiB");
    eprintln!("dump {SCOPE} --json: peak RSS {rss} KiB");
}
