//! Lab tests of the endpoint mapper read over SMB named pipes, `ncacn_np` `\pipe\epmapper`
//! (root, `#[ignore]`; the README's test command runs them), against Samba's smbd in the lab's
//! server namespace (tests/lab/up.sh starts it beside samba-dcerpcd):
//! - anonymous (null session) over 445 and over 139 (NetBIOS session request): the map equals
//!   the one read over TCP 135 entry for entry, holds every entry `rpcclient ncacn_np:` lists,
//!   and equals what impacket reads over the same pipe (`tests/lab/impacket_epm_np.py`:
//!   rpcdump.py's loop, which rpcdump.py itself cannot finish against Samba);
//! - with the lab's account (NTLM through sspi): the same map, the session signed (a tshark
//!   capture shows every SMB2 message after the logon flagged signed, and SMB2 carrying
//!   DCE/RPC bind, request and response on the pipe); a wrong password is a logon failure.
//! - a server that requires SMB 3.x (a second smbd, on loopback, `server min protocol = SMB3`):
//!   a clear per-host error naming the dialects, not a guess.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::bin;
use support::capture::Capture;
use support::lab;

fn account() -> String {
    format!("{}\\{}", lab::NETBIOS, lab::USER)
}

/// `rpcaudit dump SRV --json ARGS` in the allowed client's namespace, with `password` in
/// RPCAUDIT_PASSWORD: (exit code, JSON, stderr).
fn dump(args: &[&str], password: Option<&str>) -> (i32, serde_json::Value, String) {
    let srv = lab::SRV_IP.to_string();
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", lab::NS_ALLOW, bin(), "dump", &srv])
        .args(["--json", "--timeout", "15"])
        .args(args)
        .env_remove("RPCAUDIT_PASSWORD")
        .env_remove("RPCAUDIT_NT_HASH")
        .stdin(Stdio::null());
    if let Some(p) = password {
        cmd.env("RPCAUDIT_PASSWORD", p);
    }
    let out = cmd.output().expect("run rpcaudit dump in the lab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// The endpoints of a whole dump, in the order read.
fn endpoints_ok(v: &serde_json::Value, what: &str) -> Vec<serde_json::Value> {
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "ok", "{what}: {host}");
    host["endpoints"].as_array().unwrap().clone()
}

#[test]
#[ignore = "lab: needs root, Samba (smbd) and network namespaces"]
fn the_map_over_the_pipe_equals_the_map_over_tcp_135_on_445_and_139() {
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    let (code, tcp, err) = dump(&[], None);
    assert_eq!(code, 0, "{err}");
    let tcp = endpoints_ok(&tcp, "TCP 135");
    assert!(tcp.len() > 20, "Samba registered too little: {}", tcp.len());
    assert!(
        tcp.iter()
            .any(|e| e["binding"] == r"ncacn_np:\\RPCASRV[\pipe\epmapper]"
                || e["binding"].as_str().unwrap().contains(r"\pipe\epmapper")),
        "the map names the endpoint mapper's own pipe"
    );
    for port in ["445", "139"] {
        let (code, v, err) = dump(&["--transport", "smb", "--smb-port", port], None);
        assert_eq!(code, 0, "{port}: {err}");
        let host = &v["hosts"][0];
        assert_eq!(host["address"], format!("{}:{port}", lab::SRV_IP));
        assert!(
            host.get("auth").is_none(),
            "{port}: a null session has no auth"
        );
        assert_eq!(endpoints_ok(&v, port), tcp, "over {port}");
    }
}

#[test]
#[ignore = "lab: needs root, Samba (smbd) and network namespaces"]
fn rpcclient_ncacn_np_lists_what_we_list_over_the_pipe() {
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    let binding = format!(r"ncacn_np:{}[\pipe\epmapper]", lab::SRV_IP);
    let out = lab::run_in_ns(
        lab::NS_ALLOW,
        "rpcclient",
        &["-U%", "-N", &binding, "-c", "epmlookup"],
        Duration::from_secs(30),
    )
    .expect("rpcclient");
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs: BTreeSet<_> = lab::parse_epmlookup(&text).into_iter().collect();
    assert!(theirs.len() > 10, "rpcclient listed too little:\n{text}");
    let (code, v, err) = dump(&["--transport", "smb"], None);
    assert_eq!(code, 0, "{err}");
    let ours: BTreeSet<(String, String)> = lab::endpoints(&v["hosts"][0])
        .into_iter()
        .map(|(i, b, _)| (i, b))
        .collect();
    // rpcclient stops one entry early on Samba's last page (tests/lab_dump.rs says why).
    assert!(
        theirs.is_subset(&ours),
        "missing: {:?}",
        theirs.difference(&ours)
    );
    assert_eq!(ours.len(), theirs.len() + 1);
}

#[test]
#[ignore = "lab: needs root, Samba (smbd), impacket and network namespaces"]
fn impacket_over_445_and_139_lists_what_we_list() {
    if !lab::can_run_with(&["python3"]) {
        return;
    }
    let impacket = Command::new("python3")
        .args(["-c", "import impacket"])
        .status()
        .is_ok_and(|s| s.success());
    if !impacket {
        assert!(
            std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
            "impacket is required (python3 -m pip install impacket)"
        );
        eprintln!("SKIPPED: impacket is not installed");
        return;
    }
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    let srv = lab::SRV_IP.to_string();
    let script = lab::scripts_dir().join("impacket_epm_np.py");
    let script = script.to_str().unwrap();
    for port in ["445", "139"] {
        // rpcdump.py stops on the status Samba ends its list with (the script says why):
        // impacket's own SMB transport and EPM structures, in rpcdump.py's loop.
        let out = lab::run_in_ns(
            lab::NS_ALLOW,
            "python3",
            &[script, &srv, port],
            Duration::from_secs(60),
        )
        .expect("impacket_epm_np.py");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{port}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (code, v, err) = dump(&["--transport", "smb", "--smb-port", port], None);
        assert_eq!(code, 0, "{err}");
        let eps = endpoints_ok(&v, port);
        assert!(
            text.contains(&format!("Received {} endpoints.", eps.len())),
            "{port}: impacket:\n{text}"
        );
        // Entry for entry, in order: impacket writes named pipes without the `\\` of the
        // standard form and UUIDs in capitals.
        let theirs: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with("Received "))
            .map(str::to_string)
            .collect();
        let ours: Vec<String> = eps
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["interface"].as_str().unwrap().to_ascii_uppercase(),
                    e["binding"]
                        .as_str()
                        .unwrap()
                        .replace(r"ncacn_np:\\", "ncacn_np:")
                )
            })
            .collect();
        assert_eq!(ours, theirs, "over {port}");
    }
}

#[test]
#[ignore = "lab: needs root, Samba (smbd), tshark and network namespaces"]
fn an_authenticated_session_is_signed_and_the_wire_shows_dcerpc_on_the_pipe() {
    if !lab::can_run_with(&["tshark"]) {
        return;
    }
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    let (code, anon, err) = dump(&["--transport", "smb"], None);
    assert_eq!(code, 0, "{err}");
    let anon = endpoints_ok(&anon, "anonymous");

    let capture = Capture::start("tcp port 445");
    let user = account();
    let (code, v, err) = dump(
        &["--transport", "smb", "--auth", "ntlm", "--user", &user],
        Some(lab::PASSWORD),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(endpoints_ok(&v, "NTLM"), anon);
    let auth = &v["hosts"][0]["auth"];
    assert_eq!(auth["mechanism"], "ntlm");
    assert_eq!(auth["user"], user.as_str());
    assert_eq!(auth["level"], "integrity", "a signed session");

    let (_, lines) = capture.finish(
        "smb2",
        &[
            "smb2.cmd",
            "smb2.flags.response",
            "smb2.flags.signature",
            "smb2.nt_status",
            "dcerpc.pkt_type",
        ],
    );
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    assert!(rows.len() > 8, "too few SMB2 packets: {lines:#?}");
    // After the session setup that succeeded, every message is signed, both ways, but for
    // interim responses (STATUS_PENDING, 0x103), which servers send unsigned (MS-SMB2
    // 3.3.4.1.1; the client skips their signature, 3.2.5.1.3) and the client only waits through.
    let logged_on = rows
        .iter()
        .position(|r| r[0] == "1" && r[1] == "1" && r[3] == "0x00000000")
        .unwrap_or_else(|| panic!("no successful session setup: {lines:#?}"));
    for r in rows[logged_on + 1..]
        .iter()
        .filter(|r| r[3] != "0x00000103")
    {
        assert_eq!(r[2], "1", "an unsigned message after the logon: {r:?}");
    }
    // DCE/RPC on the pipe: a bind (11), its bind_ack (12), requests (0) and responses (2).
    let pkt: BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r.get(4).copied())
        .flat_map(|f| f.split(','))
        .filter(|f| !f.is_empty())
        .collect();
    for t in ["11", "12", "0", "2"] {
        assert!(pkt.contains(t), "no DCE/RPC packet type {t}: {lines:#?}");
    }
    // The pipe carries them in IOCTL FSCTL_PIPE_TRANSCEIVE (11) messages.
    assert!(
        rows.iter()
            .any(|r| r[0] == "11" && r.get(4).is_some_and(|f| !f.is_empty()))
    );
}

#[test]
#[ignore = "lab: needs root, Samba (smbd) and network namespaces"]
fn a_wrong_password_over_smb_is_a_logon_failure_exit_3() {
    let Some(_lab) = lab::setup(None, &["open"]) else {
        return;
    };
    let user = account();
    let (code, v, err) = dump(
        &["--transport", "smb", "--auth", "ntlm", "--user", &user],
        Some("Not-The-Lab-Password"),
    );
    assert_eq!(code, 3, "{err}");
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "error");
    let e = host["error"].as_str().unwrap();
    assert!(e.contains("smb session setup: logon failure"), "{e}");
    assert!(!e.contains("Not-The-Lab-Password") && !err.contains("Not-The-Lab-Password"));
}

#[test]
#[ignore = "lab: needs root and Samba (smbd)"]
fn a_server_that_requires_smb3_is_a_clear_per_host_error() {
    if Command::new("smbd").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
            "smbd is required (apt-get install samba)"
        );
        eprintln!("SKIPPED: smbd is not installed");
        return;
    }
    // A second smbd of its own, on loopback only, that accepts SMB 3.x alone.
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = |name: &str| {
        let p = dir.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p.display().to_string()
    };
    let conf = dir.path().join("smb.conf");
    std::fs::write(
        &conf,
        format!(
            "[global]\n  server role = standalone server\n  interfaces = 127.0.0.1\n  bind interfaces only = yes\n  smb ports = {port}\n  server min protocol = SMB3\n  disable netbios = yes\n  load printers = no\n  lock directory = {}\n  state directory = {}\n  cache directory = {}\n  private dir = {}\n  pid directory = {}\n  ncalrpc dir = {}\n  log file = {}/log.%m\n",
            d("lock"), d("state"), d("cache"), d("private"), d("pid"), d("ncalrpc"), d("log")
        ),
    )
    .unwrap();
    let mut smbd = Command::new("smbd")
        .args(["-F", "--no-process-group", "-s"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smbd");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = smbd.kill();
            let _ = smbd.wait();
            panic!("smbd did not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = Command::new(bin())
        .args([
            "dump",
            "127.0.0.1",
            "--transport",
            "smb",
            "--json",
            "--timeout",
            "10",
        ])
        .args(["--smb-port", &port.to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("run rpcaudit dump");
    // Stopped by its own PID, before anything is checked.
    let _ = smbd.kill();
    let _ = smbd.wait();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"));
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let host = &v["hosts"][0];
    assert_eq!(host["status"], "error", "{host}");
    let error = host["error"].as_str().unwrap();
    assert!(
        error.contains("smb negotiate: 0xc00000bb (STATUS_NOT_SUPPORTED): the server accepts none of the dialects offered, SMB 2.0.2 and 2.1; it requires SMB 3.x (3.0, 3.0.2 or 3.1.1), which rpcaudit does not read yet"),
        "{error}"
    );
}
