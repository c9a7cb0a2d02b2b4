//! The helpers integration tests share (`mod support;` in a test file): driving the real
//! binary (run it, read its JSON, time it), a fixture endpoint mapper (`rpcaudit lab serve` on
//! a free loopback port, stopped when the guard drops), the network lab ([`lab`]), the Markdown
//! the documentation tests read ([`markdown`]), the programs other tests need ([`tools`]: bash,
//! man, groff) and the cmd.exe / PowerShell line models the fix-script tests check with
//! ([`remedy_models`]).
#![allow(dead_code)]

pub mod browser;
pub mod capture;
pub mod dc;
pub mod hive;
pub mod lab;
pub mod markdown;
pub mod real;
pub mod remedy_models;
pub mod source;
pub mod tools;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A file of the repository's `fixtures/`, e.g. `fixture("policy/kb908472.cmd")`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A policy fixture (`fixtures/policy/NAME`) as text: UTF-8, or UTF-16LE after its BOM.
pub fn policy_text(name: &str) -> String {
    let b = std::fs::read(fixture(&format!("policy/{name}"))).unwrap();
    if b.starts_with(&[0xff, 0xfe]) {
        let u: Vec<u16> = b[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&u).unwrap()
    } else {
        String::from_utf8(b).unwrap()
    }
}

/// A policy fixture's text without the lines `drop` matches, joined with CRLF.
pub fn policy_text_without(name: &str, drop: impl Fn(&str) -> bool) -> String {
    policy_text(name)
        .lines()
        .filter(|l| !drop(l))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// KB908472's script without its block for 5003: 5003 is left open.
pub fn article_without_the_5003_block() -> String {
    policy_text_without("kb908472.cmd", |l| {
        l.contains("\"Block Inbound TCP 5003 Rule\"")
    })
}

/// The `netsh ipsec static` fence without its filter for 5003.
pub fn netsh_ipsec_without_the_5003_filter() -> String {
    policy_text_without("netsh-ipsec.cmd", |l| {
        l.contains("filterlist=\"RPC ports\" ") && l.ends_with("dstport=5003")
    })
}

/// KB908472's script (`fixtures/policy/kb908472.cmd`), the policy most audits are checked
/// against, as a path argument.
pub fn article_policy() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| fixture("policy/kb908472.cmd").display().to_string())
}

/// `audit 127.0.0.1 --policy <KB908472's script> --port PORT EXTRA...`.
pub fn audit_args<'a>(port: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "audit",
        "127.0.0.1",
        "--policy",
        article_policy(),
        "--port",
        port,
    ];
    args.extend_from_slice(extra);
    args
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rpcaudit")
}

/// A fixture endpoint mapper process; killed on drop.
pub struct Fixture {
    child: Child,
    pub addr: SocketAddr,
}

impl Fixture {
    /// Start `rpcaudit lab serve --listen 127.0.0.1:0 EXTRA...` and wait for its address.
    pub fn start(extra: &[&str]) -> Fixture {
        Self::start_in(None, "127.0.0.1:0", extra)
    }

    /// A fixture whose 16 TCP registrations all name its own port (picked free beforehand),
    /// with `extra` flags: what the interface probes need, a map that points at the fixture.
    pub fn self_registered(extra: &[&str]) -> Fixture {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port");
            let listen = format!("127.0.0.1:{port}");
            let ports = port.to_string();
            let args = [&["--tcp-endpoints", "16", "--tcp-ports", &ports][..], extra].concat();
            if std::net::TcpListener::bind(&listen).is_ok() {
                return Fixture::start_in(None, &listen, &args);
            }
        }
        panic!("no free port on loopback");
    }

    /// Same, optionally inside network namespace `netns`, on `listen`.
    pub fn start_in(netns: Option<&str>, listen: &str, extra: &[&str]) -> Fixture {
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, bin()]);
                c
            }
            None => Command::new(bin()),
        };
        cmd.args(["lab", "serve", "--listen", listen])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start rpcaudit lab serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .expect("address");
        Fixture { child, addr }
    }

    pub fn port(&self) -> String {
        self.addr.port().to_string()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait for `child`, started with stdout and stderr piped, for at most `timeout`, reading both
/// pipes meanwhile so that a chatty child cannot block on a full pipe. Ok(None) when it ran
/// out of time: it is then killed (its pipes are not waited for, as a process it started may
/// still hold them).
pub fn wait_with_deadline(mut child: Child, timeout: Duration) -> std::io::Result<Option<Output>> {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out_reader = drain(child.stdout.take());
    let err_reader = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Some(Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }))
}

/// Run the binary with `args`; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run rpcaudit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The findings of a JSON result (`value["findings"]`, which must be an array) with `code`.
pub fn findings_with<'a>(value: &'a serde_json::Value, code: &str) -> Vec<&'a serde_json::Value> {
    all_findings(value)
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// The codes of the findings of a JSON result, in order.
pub fn finding_codes(value: &serde_json::Value) -> Vec<String> {
    all_findings(value)
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn all_findings(value: &serde_json::Value) -> &[serde_json::Value] {
    value["findings"].as_array().unwrap()
}

/// Field `field` of each element of the JSON array `array`, as text (each must be a string),
/// e.g. `strs(&v["inputs"]["policy_files"], "path")`.
pub fn strs<'a>(array: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[field].as_str().unwrap())
        .collect()
}

/// True when some element of the JSON array `array` has `field` equal to `want`, e.g.
/// `any_with(&host["matrix"], "verdict", "leak")`.
pub fn any_with(array: &serde_json::Value, field: &str, want: &str) -> bool {
    array.as_array().unwrap().iter().any(|e| e[field] == want)
}

/// The matrix row `row` is configured to block, by a rule of the policy or store file `file`
/// (its rule is named `FILE:LINE ...`).
pub fn assert_configured_block(row: &serde_json::Value, file: &str) {
    assert_eq!(row["configured"]["action"], "block");
    assert!(
        row["configured"]["rule"]
            .as_str()
            .unwrap()
            .contains(&format!("{file}:")),
        "{row}"
    );
}

/// Run and parse stdout as JSON.
pub fn run_json(args: &[&str]) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(args);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out}\nstderr: {err}"));
    (code, v, err)
}

/// `rpcaudit COMMAND 127.0.0.1 --port P --json --timeout 10 EXTRA...` with P the fixture's
/// port, its stdout as JSON.
pub fn run_json_against(
    command: &str,
    fixture: &Fixture,
    extra: &[&str],
) -> (i32, serde_json::Value, String) {
    let port = fixture.port();
    let args = [
        command,
        "127.0.0.1",
        "--port",
        &port,
        "--json",
        "--timeout",
        "10",
    ];
    run_json(&[&args[..], extra].concat())
}

/// `rpcaudit COMMAND 127.0.0.1 127.0.0.3 --port P --json --timeout 5` with P the fixture's
/// port: one host that answers, and another loopback address where nothing listens on it.
pub fn run_json_with_a_dead_host(
    command: &str,
    fixture: &Fixture,
) -> (i32, serde_json::Value, String) {
    let port = fixture.port();
    run_json(&[
        command,
        "127.0.0.1",
        "127.0.0.3",
        "--port",
        &port,
        "--json",
        "--timeout",
        "5",
    ])
}

/// Validation errors of `report` against schema/report.schema.json, or None when valid.
pub fn report_errors(report: &serde_json::Value) -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| errors.join("\n"))
}

/// Panic unless `report` validates against schema/report.schema.json.
pub fn assert_valid_report(report: &serde_json::Value) {
    if let Some(e) = report_errors(report) {
        panic!("the report does not validate against schema/report.schema.json:\n{e}");
    }
}

/// A good fixture on 127.0.0.1:P and one misbehaving as `mode` on 127.0.0.2:P (`--port` is
/// global to a run, so both share the port number).
pub fn fixture_pair(mode: &str) -> (Fixture, Fixture) {
    for _ in 0..5 {
        let good = Fixture::start(&[]);
        let listen = format!("127.0.0.2:{}", good.port());
        // The same port number may be taken on 127.0.0.2 (rare): then pick another.
        let bad =
            std::panic::catch_unwind(|| Fixture::start_in(None, &listen, &["--misbehave", mode]));
        if let Ok(bad) = bad {
            return (good, bad);
        }
    }
    panic!("could not start a good and a {mode} fixture on one port number");
}

/// `COMMAND 127.0.0.1 127.0.0.2 --port PORT --timeout SECONDS`: both fixtures of a
/// [`fixture_pair`], PORT being their port number.
pub fn pair_args<'a>(command: &'a str, port: &'a str, seconds: &'a str) -> Vec<&'a str> {
    vec![
        command,
        "127.0.0.1",
        "127.0.0.2",
        "--port",
        port,
        "--timeout",
        seconds,
    ]
}

/// `rpcaudit demo` listens on fixed loopback ports (5001-5008, 49664-49666): runs at the same
/// time would answer for each other. Tests that run it hold this lock (across threads and
/// test binaries) while they do.
pub fn demo_lock() -> std::fs::File {
    let f =
        std::fs::File::create(std::env::temp_dir().join("rpcaudit-demo.lock")).expect("lock file");
    f.lock().expect("lock");
    f
}

/// `rpcaudit demo ARGS` under [`demo_lock`]. The demo listens on fixed loopback ports
/// (5001-5008, 49664-49666); when one is held by something else it says so on stderr and its
/// report differs from a clean run, so it is run again until the port is free, and refused
/// with that message after [`DEMO_PORT_WAIT`]. What holds such a port is most often a
/// connection of an earlier test in TIME_WAIT whose source port it was (49664-49666 lie in
/// Linux's ephemeral range, and the estate tests open thousands of connections): Linux keeps
/// those 60 seconds.
pub fn run_demo(args: &[&str]) -> (i32, String, String) {
    let _demo = demo_lock();
    let mut argv = vec!["demo"];
    argv.extend_from_slice(args);
    let started = std::time::Instant::now();
    loop {
        let (code, out, err) = run(&argv);
        if !err.contains("cannot listen on") {
            return (code, out, err);
        }
        assert!(
            started.elapsed() < DEMO_PORT_WAIT,
            "the demo could not listen on its ports for {DEMO_PORT_WAIT:?}: {err}"
        );
        std::thread::sleep(std::time::Duration::from_secs(3));
    }
}

/// How long [`run_demo`] waits for a port of the demo's: longer than TIME_WAIT lasts.
pub const DEMO_PORT_WAIT: std::time::Duration = std::time::Duration::from_secs(75);

/// `rpcaudit demo --json` (through [`run_demo`]): it exits 0, and its report, returned, is
/// valid against the committed schema.
pub fn demo_json() -> serde_json::Value {
    let (code, out, err) = run_demo(&["--json"]);
    assert_eq!(code, 0, "{err}");
    let report = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out}\nstderr: {err}"));
    assert_valid_report(&report);
    report
}

/// What one run under GNU time gave.
pub struct Measured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident set size, KiB.
    pub peak_kib: u64,
    pub elapsed: std::time::Duration,
}

/// GNU time (Debian package `time`), for peak memory.
pub const GNU_TIME: &str = "/usr/bin/time";

/// Run the binary with `args` under GNU time and report its exit code, output, peak RSS and
/// wall-clock time.
pub fn run_measured(args: &[&str]) -> Measured {
    assert!(
        std::path::Path::new(GNU_TIME).exists(),
        "{GNU_TIME} is missing: install GNU time (Debian/Ubuntu package `time`)"
    );
    let peak_file = tempfile::NamedTempFile::new().expect("temporary file");
    let started = std::time::Instant::now();
    let out = Command::new(GNU_TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(peak_file.path())
        .arg(bin())
        .args(args)
        .output()
        .expect("run rpcaudit under GNU time");
    let elapsed = started.elapsed();
    let peak = std::fs::read_to_string(peak_file.path()).expect("GNU time's output");
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let peak_kib = peak
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in GNU time's output {peak:?}"));
    Measured {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        peak_kib,
        elapsed,
    }
}
