//! The UDP road to RPC end to end on loopback: the real binary audits the fixture endpoint
//! mapper (`rpcaudit lab serve --udp-listen`) from a source its intended policy denies the
//! endpoint mapper's TCP port, and UDP, which that policy does not mention, answers: a
//! `fence-bypass` over UDP; with nothing on the UDP port, none. `probe --udp-ports` carries the
//! UDP observations to `audit --observations`.

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use support::{bin, findings_with, run_json};

/// `lab serve` on 127.0.0.1 with the endpoint mapper on TCP and UDP; killed on drop.
struct Served {
    child: Child,
    tcp: SocketAddr,
    udp: SocketAddr,
}

impl Served {
    fn start() -> Served {
        let mut child = Command::new(bin())
            .args(["lab", "serve", "--listen", "127.0.0.1:0"])
            .args(["--udp-listen", "127.0.0.1:0"])
            .args(["--tcp-endpoints", "4", "--tcp-ports", "5001-5002"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rpcaudit lab serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut next = |prefix: &str| -> SocketAddr {
            let line = lines.next().expect("a line").expect("read");
            line.strip_prefix(prefix)
                .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"))
                .trim()
                .parse()
                .expect("address")
        };
        let tcp = next("listening ");
        let udp = next("listening-udp ");
        Served { child, tcp, udp }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The article's fence for the endpoint mapper's TCP port `port`: blocked for every source,
/// passed for 127.0.0.2 only; nothing about UDP.
fn tcp_fence(dir: &std::path::Path, port: u16) -> String {
    let path = dir.join("policy.cmd");
    let p = "ipseccmd.exe -w REG -p \"Block RPC Ports\"";
    std::fs::write(
        &path,
        format!(
            "{p} -r \"Block Inbound TCP {port} Rule\" -f *=0:{port}:TCP -n BLOCK\r\n\
             {p} -r \"Allow Inbound TCP Port {port} from 127.0.0.2 Rule\" -f 127.0.0.2/255.255.255.255=0:{port}:TCP -n PASS\r\n\
             {p} -x\r\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn udp_rows<'a>(v: &'a Value, source: &str) -> Vec<&'a Value> {
    v["matrix"]
        .as_array()
        .expect("matrix")
        .iter()
        .filter(|r| r["protocol"] == "udp" && r["source"] == source)
        .collect()
}

/// A UDP port nothing listens on (bound, then released).
fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

#[test]
fn the_endpoint_mapper_on_udp_bypasses_a_tcp_fence_and_a_closed_udp_port_does_not() {
    let served = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let policy = tcp_fence(dir.path(), served.tcp.port());
    let (tcp, udp) = (served.tcp.port().to_string(), served.udp.port().to_string());
    let audit = |udp_port: &str| {
        run_json(&[
            "audit",
            "127.0.0.1",
            "--policy",
            &policy,
            "--port",
            &tcp,
            "--udp-port",
            udp_port,
            "--from",
            "127.0.0.3",
            "--from",
            "127.0.0.2",
            "--json",
        ])
    };

    let (code, v, err) = audit(&udp);
    support::assert_valid_report(&v);
    assert_eq!(code, 1, "{err}");
    let rows = udp_rows(&v, "127.0.0.3");
    let at_udp: Vec<&&Value> = rows
        .iter()
        .filter(|r| r["port"] == served.udp.port())
        .collect();
    assert_eq!(at_udp.len(), 1, "{rows:#?}");
    assert_eq!(at_udp[0]["observed"], "open");
    // The policy says nothing of UDP: the default passes it, no TCP rule is borrowed.
    assert_eq!(at_udp[0]["expected"], "pass");
    assert_eq!(at_udp[0]["rule"], Value::Null);
    let bypasses = findings_with(&v, "fence-bypass");
    assert_eq!(bypasses.len(), 1, "{bypasses:#?}");
    let message = bypasses[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "from 127.0.0.3, which the fence denies TCP {tcp}, RPC is reachable over connectionless RPC (the endpoint mapper on ncadg_ip_udp) on UDP {udp}"
        )),
        "{message}"
    );
    assert!(message.ends_with(": the endpoint mapper."), "{message}");
    assert_eq!(
        bypasses[0]["evidence"],
        serde_json::json!([format!("127.0.0.3 -> 127.0.0.1:{udp}/udp open")])
    );
    // 127.0.0.2 may reach TCP: reaching UDP too is no bypass.
    assert!(!message.contains("127.0.0.2"));
    assert!(!udp_rows(&v, "127.0.0.2").is_empty());

    // Nothing on the UDP port: ICMP port unreachable, closed, no bypass.
    let (code, v, err) = audit(&free_udp_port().to_string());
    assert_eq!(code, 1, "the TCP leak from 127.0.0.3 stays: {err}");
    assert!(findings_with(&v, "fence-bypass").is_empty(), "{v:#}");
    let rows = udp_rows(&v, "127.0.0.3");
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r["observed"] == "closed"),
        "{rows:#?}"
    );
}

#[test]
fn probe_udp_ports_carry_the_udp_road_to_audit_observations() {
    let served = Served::start();
    let dir = tempfile::tempdir().unwrap();
    let policy = tcp_fence(dir.path(), served.tcp.port());
    let (tcp, udp) = (served.tcp.port().to_string(), served.udp.port().to_string());
    let closed = free_udp_port().to_string();
    let udp_ports = format!("{udp},{closed}");
    let (code, obs, err) = run_json(&[
        "probe",
        "127.0.0.1",
        "--ports",
        &tcp,
        "--udp-ports",
        &udp_ports,
        "--from",
        "127.0.0.3",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let list = obs["observations"].as_array().unwrap();
    let state = |port: &str, proto: Option<&str>| -> Vec<&Value> {
        let port: u64 = port.parse().unwrap();
        list.iter()
            .filter(|o| o["port"] == port && o.get("protocol").and_then(Value::as_str) == proto)
            .map(|o| &o["state"])
            .collect()
    };
    assert_eq!(
        state(&tcp, None),
        ["open"],
        "TCP has no protocol field: {obs:#}"
    );
    assert_eq!(state(&udp, Some("udp")), ["open"], "{obs:#}");
    assert_eq!(state(&closed, Some("udp")), ["closed"], "{obs:#}");

    let file = dir.path().join("obs.json");
    std::fs::write(&file, serde_json::to_vec(&obs).unwrap()).unwrap();
    let (code, v, err) = run_json(&[
        "audit",
        "127.0.0.1",
        "--policy",
        &policy,
        "--port",
        &tcp,
        "--udp-port",
        &udp,
        "--no-probe",
        "--observations",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1, "{err}");
    let bypasses = findings_with(&v, "fence-bypass");
    assert_eq!(bypasses.len(), 1, "{v:#}");
    assert!(
        bypasses[0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("on UDP {udp}")),
        "{:#}",
        bypasses[0]
    );

    // A table marks the UDP ports.
    let (code, out, err) =
        support::run(&["probe", "127.0.0.1", "--ports", &tcp, "--udp-ports", &udp]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{udp}/udp")), "{out}");
}
