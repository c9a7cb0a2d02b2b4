//! Issue 25: the real `rpcaudit dump` over the endpoint mapper's other roads, `ncacn_http` on
//! TCP 593 (`--transport http`) and `ncadg_ip_udp` on UDP 135 (`--transport udp`), against the
//! fixture (`rpcaudit lab serve --http-listen --udp-listen`): the whole map in both byte orders,
//! equal to the map over TCP; each hostile-peer mode of tests/hostile_peers.rs on each road (a
//! good fixture on 127.0.0.1, the hostile one on 127.0.0.2 with the same port numbers; the run
//! ends within the host deadline, the hostile host is an error or partial with a message naming
//! what went wrong, nothing panics); a peer that is not an endpoint mapper; and `--transport
//! auto` taking the next road only when one is refused, saying which answered.

mod support;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `--timeout` of the hostile runs, in seconds.
const HOST_TIMEOUT: u64 = 3;
/// Registrations of the default fixture: 30 TCP, 6 named pipes, 6 ncalrpc.
const GOOD_ENTRIES: usize = 42;

/// A `lab serve` on every road; killed on drop.
struct Roads {
    child: Child,
    tcp: SocketAddr,
    http: SocketAddr,
    udp: SocketAddr,
}

impl Roads {
    /// `lab serve` on `ip`, with the given ports (0: free ones) and `extra` flags; None when a
    /// port was taken.
    fn start_on(ip: &str, ports: [u16; 3], extra: &[&str]) -> Option<Roads> {
        let [t, h, u] = ports;
        let mut child = Command::new(support::bin())
            .args(["lab", "serve"])
            .args(["--listen", &format!("{ip}:{t}")])
            .args(["--http-listen", &format!("{ip}:{h}")])
            .args(["--udp-listen", &format!("{ip}:{u}")])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rpcaudit lab serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut next = |prefix: &str| -> Option<SocketAddr> {
            let line = lines.next()?.ok()?;
            line.strip_prefix(prefix)?.trim().parse().ok()
        };
        let (Some(tcp), Some(http), Some(udp)) = (
            next("listening "),
            next("listening-http "),
            next("listening-udp "),
        ) else {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        };
        Some(Roads {
            child,
            tcp,
            http,
            udp,
        })
    }

    fn start(extra: &[&str]) -> Roads {
        Self::start_on("127.0.0.1", [0, 0, 0], extra).expect("lab serve on free ports")
    }

    fn ports(&self) -> [u16; 3] {
        [self.tcp.port(), self.http.port(), self.udp.port()]
    }

    /// `--port T --http-port H --udp-port U`.
    fn port_args(&self) -> Vec<String> {
        let [t, h, u] = self.ports();
        [
            "--port",
            &t.to_string(),
            "--http-port",
            &h.to_string(),
            "--udp-port",
            &u.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

impl Drop for Roads {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A good fixture on 127.0.0.1 and a `mode` one on 127.0.0.2, on the same port numbers.
fn pair(mode: &str) -> (Roads, Roads) {
    for _ in 0..5 {
        let good = Roads::start(&[]);
        if let Some(bad) = Roads::start_on("127.0.0.2", good.ports(), &["--misbehave", mode]) {
            return (good, bad);
        }
    }
    panic!("could not start a good and a {mode} fixture on the same port numbers");
}

/// `rpcaudit dump TARGETS --json --transport ROAD` with the fixture's ports and `extra`.
fn dump(road: &str, targets: &[&str], fixture: &Roads, extra: &[&str]) -> (i32, Value, String) {
    let ports = fixture.port_args();
    let mut args: Vec<&str> = vec!["dump"];
    args.extend_from_slice(targets);
    args.extend(["--json", "--transport", road]);
    args.extend(ports.iter().map(String::as_str));
    args.extend_from_slice(extra);
    support::run_json(&args)
}

/// The map of a dump's host as (interface, binding, annotation), sorted.
fn map_of(host: &Value) -> Vec<(String, String, String)> {
    let mut m: Vec<_> = host["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            (
                e["interface"].as_str().unwrap_or("").to_string(),
                e["binding"].as_str().unwrap_or("").to_string(),
                e["annotation"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    m.sort();
    m
}

fn check_whole_map_over(road: &str) {
    for order in [&[][..], &["--big-endian"][..]] {
        let f = Roads::start(order);
        let (code, v, err) = dump(road, &["127.0.0.1"], &f, &[]);
        assert_eq!(code, 0, "{road} {order:?}: {err}\n{v}");
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "ok", "{road} {order:?}: {host}");
        assert_eq!(host["transport"], road);
        assert_eq!(map_of(host).len(), GOOD_ENTRIES);
        let (code, tcp, err) = dump("tcp", &["127.0.0.1"], &f, &[]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(tcp["hosts"][0]["transport"], "tcp");
        assert_eq!(
            map_of(host),
            map_of(&tcp["hosts"][0]),
            "{road} {order:?}: the map over {road} differs from the map over TCP"
        );
    }
}

#[test]
fn the_whole_map_over_http_in_both_byte_orders_equals_the_map_over_tcp() {
    check_whole_map_over("http");
}

/// What one run of `dump 127.0.0.1 127.0.0.2 --transport ROAD` against a [`pair`] showed.
struct Outcome {
    code: i32,
    bad: Value,
    stderr: String,
}

impl Outcome {
    fn status(&self) -> &str {
        self.bad["status"].as_str().unwrap_or("?")
    }
    fn error(&self) -> &str {
        self.bad["error"].as_str().unwrap_or("")
    }
    fn entries(&self) -> usize {
        self.bad["endpoints"].as_array().map_or(0, Vec::len)
    }
    fn assert_error(&self, needles: &[&str]) {
        assert_eq!(self.code, 3, "{}", self.stderr);
        assert_eq!(self.status(), "error", "{}", self.bad);
        assert_eq!(self.entries(), 0);
        self.assert_message(needles);
    }
    fn assert_message(&self, needles: &[&str]) {
        let e = self.error();
        assert!(e.starts_with("127.0.0.2: "), "{e}");
        for n in needles {
            assert!(e.contains(n), "{e:?} lacks {n:?}");
        }
    }
}

/// Dump a good and a `mode` fixture over `road` in one run; check what every mode must
/// satisfy (the deadline holds, no panic, the good host is whole).
fn hostile(road: &str, mode: &str, extra: &[&str]) -> Outcome {
    let (good, _bad) = pair(mode);
    let timeout = HOST_TIMEOUT.to_string();
    let mut args = vec!["--timeout", timeout.as_str()];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let (code, v, stderr) = dump(road, &["127.0.0.1", "127.0.0.2"], &good, &args);
    let elapsed = started.elapsed();
    let hosts = v["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 2, "{road} {mode}: {v}");
    eprintln!("{road} {mode}: {:?} in {elapsed:?}", hosts[1]["error"]);
    assert!(
        elapsed <= Duration::from_secs(HOST_TIMEOUT * 4),
        "{road} {mode}: the run took {elapsed:?}"
    );
    assert!(!stderr.contains("panicked"), "{road} {mode}: {stderr}");
    assert_eq!(hosts[0]["status"], "ok", "{road} {mode}: {}", hosts[0]);
    assert_eq!(hosts[0]["transport"], road);
    assert_eq!(
        hosts[0]["endpoints"].as_array().map_or(0, Vec::len),
        GOOD_ENTRIES
    );
    assert_eq!(hosts[1]["target"], "127.0.0.2");
    Outcome {
        code,
        bad: hosts[1].clone(),
        stderr,
    }
}

#[test]
fn http_silent_sends_no_banner_and_the_banner_read_times_out() {
    hostile("http", "silent", &[])
        .assert_error(&["ncacn_http banner: timed out", "deadline of 3s"]);
}

#[test]
fn http_garbage_instead_of_a_bind_ack() {
    hostile("http", "garbage", &[]).assert_error(&["bind:", "not DCE/RPC"]);
}

#[test]
fn http_short_fragment_then_silence() {
    hostile("http", "short-fragment", &[])
        .assert_error(&["bind: timed out", "116 of the 5000 bytes"]);
}

#[test]
fn http_fault_and_bind_nak() {
    hostile("http", "fault", &[]).assert_error(&["ept_lookup: fault 0x00000005"]);
    hostile("http", "bind-nak", &[]).assert_error(&["bind rejected", "bind_nak, reason 4"]);
}

#[test]
fn http_reset_in_the_middle_of_a_response() {
    let o = hostile("http", "reset", &[]);
    o.assert_error(&["ept_lookup:"]);
    assert!(
        o.error().contains("incomplete fragment") || o.error().contains("reset"),
        "{}",
        o.error()
    );
}

#[test]
fn http_drip_is_cut_by_the_host_deadline() {
    let o = hostile("http", "drip", &[]);
    assert_eq!(o.code, 3);
    assert!(matches!(o.status(), "error" | "partial"), "{}", o.bad);
    o.assert_message(&["timed out", "deadline of 3s"]);
}

#[test]
fn http_loops_and_caps() {
    let o = hostile("http", "same-handle", &[]);
    assert_eq!(o.status(), "partial", "{}", o.bad);
    o.assert_message(&["same page"]);
    let o = hostile("http", "endless", &["--max-entries", "2000"]);
    assert_eq!(o.status(), "partial", "{}", o.bad);
    assert_eq!(o.entries(), 2000);
    o.assert_message(&["cap of 2000 entries"]);
}

#[test]
fn http_malformed_stubs() {
    hostile("http", "tower-overrun", &[]).assert_error(&["ept_lookup:", "tower", "60000 bytes"]);
    hostile("http", "ndr-tricks", &[]).assert_error(&["ept_lookup", "1000000 entries announced"]);
    let o = hostile("http", "huge-alloc-hint", &[]);
    assert_eq!(o.status(), "ok", "{}", o.bad);
    assert_eq!(o.entries(), GOOD_ENTRIES);
}

#[test]
fn a_peer_that_is_not_ncacn_http_is_named_as_such() {
    // A web server where the endpoint mapper should be: refused at the first wrong byte.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::Write;
        for s in listener.incoming().take(1) {
            let mut s = s.unwrap();
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            std::thread::sleep(Duration::from_secs(2));
        }
    });
    let port = port.to_string();
    let (code, v, _) = support::run_json(&[
        "dump",
        "127.0.0.1",
        "--json",
        "--transport",
        "http",
        "--http-port",
        &port,
        "--timeout",
        "5",
    ]);
    assert_eq!(code, 3);
    let e = v["hosts"][0]["error"].as_str().unwrap();
    assert!(
        e.contains("not an ncacn_http endpoint mapper") && e.contains("HTTP/1.1 400"),
        "{e}"
    );
    // The plain TCP endpoint mapper on the HTTP port: it waits for a bind, sends no banner.
    let f = Roads::start(&[]);
    let tcp = f.tcp.port().to_string();
    let (_, v, _) = support::run_json(&[
        "dump",
        "127.0.0.1",
        "--json",
        "--transport",
        "http",
        "--http-port",
        &tcp,
        "--timeout",
        "2",
    ]);
    let e = v["hosts"][0]["error"].as_str().unwrap();
    assert!(e.contains("ncacn_http banner: timed out"), "{e}");
}

#[test]
fn auto_takes_http_when_tcp_is_refused_and_says_so() {
    let f = Roads::start(&[]);
    let http = f.http.port().to_string();
    // Port 1 on loopback refuses: TCP is refused, HTTP answers.
    let (code, v, err) = support::run_json(&[
        "dump",
        "127.0.0.1",
        "--json",
        "--transport",
        "auto",
        "--port",
        "1",
        "--http-port",
        &http,
        "--timeout",
        "10",
    ]);
    assert_eq!(code, 0, "{err}\n{v}");
    let host = &v["hosts"][0];
    assert_eq!(host["transport"], "http");
    assert_eq!(map_of(host).len(), GOOD_ENTRIES);
    let w = host["warnings"][0].as_str().unwrap();
    assert!(
        w.starts_with("read over http ") && w.contains("tcp 1: connect"),
        "{w}"
    );
    // TCP answering: auto stays on TCP.
    let (code, v, _) = dump("auto", &["127.0.0.1"], &f, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["hosts"][0]["transport"], "tcp");
    assert!(v["hosts"][0]["warnings"].is_null());
}

#[test]
fn the_whole_map_over_udp_in_both_byte_orders_equals_the_map_over_tcp() {
    check_whole_map_over("udp");
}

#[test]
fn udp_silent_is_no_answer_after_bounded_retransmission() {
    let o = hostile("udp", "silent", &[]);
    o.assert_error(&["ept_lookup: timed out: no answer to 4 request datagrams"]);
}

#[test]
fn udp_garbage_and_a_short_datagram() {
    hostile("udp", "garbage", &[]).assert_error(&["ept_lookup:", "not connectionless DCE/RPC"]);
    hostile("udp", "short-fragment", &[])
        .assert_error(&["ept_lookup:", "len 5000 but only 4 body bytes"]);
}

#[test]
fn udp_fault_and_reject() {
    hostile("udp", "fault", &[]).assert_error(&["ept_lookup: fault 0x00000005"]);
    hostile("udp", "bind-nak", &[]).assert_error(&["ept_lookup: rejected: 0x1c010003"]);
}

#[test]
fn udp_half_a_response_then_nothing() {
    hostile("udp", "reset", &[])
        .assert_error(&["ept_lookup: timed out with", "response fragments received"]);
}

#[test]
fn udp_drip_is_cut_by_the_host_deadline() {
    let o = hostile("udp", "drip", &[]);
    assert_eq!(o.code, 3);
    assert!(matches!(o.status(), "error" | "partial"), "{}", o.bad);
    o.assert_message(&["timed out", "deadline of 3s"]);
}

#[test]
fn udp_loops_and_caps() {
    let o = hostile("udp", "same-handle", &[]);
    assert_eq!(o.status(), "partial", "{}", o.bad);
    o.assert_message(&["same page"]);
    let o = hostile("udp", "endless", &["--max-entries", "2000"]);
    assert_eq!(o.status(), "partial", "{}", o.bad);
    assert_eq!(o.entries(), 2000);
    o.assert_message(&["cap of 2000 entries"]);
}

#[test]
fn udp_malformed_stubs_and_small_fragments() {
    hostile("udp", "tower-overrun", &[]).assert_error(&["ept_lookup:", "tower", "60000 bytes"]);
    hostile("udp", "ndr-tricks", &[]).assert_error(&["ept_lookup", "1000000 entries announced"]);
    // 64-byte fragments: many of them, reassembled.
    let o = hostile("udp", "huge-alloc-hint", &[]);
    assert_eq!(o.status(), "ok", "{}", o.bad);
    assert_eq!(o.entries(), GOOD_ENTRIES);
}

#[test]
fn udp_refused_is_named_and_auto_reaches_udp_last() {
    let f = Roads::start(&[]);
    let udp = f.udp.port().to_string();
    let (code, v, err) = support::run_json(&[
        "dump",
        "127.0.0.1",
        "--json",
        "--transport",
        "auto",
        "--port",
        "1",
        "--http-port",
        "1",
        "--udp-port",
        &udp,
        "--timeout",
        "10",
    ]);
    assert_eq!(code, 0, "{err}\n{v}");
    let host = &v["hosts"][0];
    assert_eq!(host["transport"], "udp");
    assert_eq!(map_of(host).len(), GOOD_ENTRIES);
    let w = host["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("tcp 1: connect") && w.contains("http 1: connect"),
        "{w}"
    );
    // Nothing on the UDP port: ICMP says so, and the host is an error naming it.
    let (code, v, _) = support::run_json(&[
        "dump",
        "127.0.0.1",
        "--json",
        "--transport",
        "udp",
        "--udp-port",
        "9",
        "--timeout",
        "3",
    ]);
    assert_eq!(code, 3);
    let e = v["hosts"][0]["error"].as_str().unwrap();
    assert!(e.contains("127.0.0.1:9") && e.contains("refused"), "{e}");
    assert!(v["hosts"][0]["transport"].is_null());
}

#[test]
fn udp_with_ntlm_is_refused_per_host() {
    let f = Roads::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "Not-Sent-1\n").unwrap();
    let pw = pw.display().to_string();
    let (code, v, err) = dump(
        "udp",
        &["127.0.0.1"],
        &f,
        &[
            "--auth",
            "ntlm",
            "--user",
            "LAB\\audit",
            "--password-file",
            &pw,
        ],
    );
    assert_eq!(code, 3, "{err}");
    let e = v["hosts"][0]["error"].as_str().unwrap();
    assert!(e.contains("anonymously only"), "{e}");
}
