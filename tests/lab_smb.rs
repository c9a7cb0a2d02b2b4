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
//! - a server that requires SMB 3.x (a second smbd of the test's own, on loopback, `server min
//!   protocol = SMB3`): the map is read over 3.1.1, anonymously and with NTLM (signed with
//!   AES-CMAC), and equals the one the same Samba serves over SMB 2.1 (`server max protocol =
//!   SMB2_10`); tshark shows the dialects offered and 3.1.1 chosen;
//! - a server that requires encryption (`server smb encrypt = required`, `server signing =
//!   mandatory`): with NTLM the same map, read through the transform header (AES-128-GCM; tshark
//!   sees no SMB2 command and no DCE/RPC in clear after the logon); a null session, which has
//!   no key, is refused by Samba, and the error asks for credentials.

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

/// A second smbd of a test's own, on loopback only (no namespace, no shared lab), with its own
/// directories and passdb holding the lab's account; stopped by its PID on drop.
struct LoopbackSmbd {
    child: std::process::Child,
    port: u16,
    conf: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl LoopbackSmbd {
    /// False (after saying why, or failing where the lab is required) without root, smbd or
    /// smbpasswd.
    fn available() -> bool {
        lab::can_run_with(&["smbd", "smbpasswd"])
    }

    /// Start smbd with `extra` lines in its `[global]` section and the lab's account in its
    /// passdb; wait until it listens.
    fn start(extra: &[&str]) -> LoopbackSmbd {
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
        let mut conf = format!(
            "[global]\n  server role = standalone server\n  interfaces = 127.0.0.1\n  bind interfaces only = yes\n  smb ports = {port}\n  disable netbios = yes\n  load printers = no\n  lock directory = {}\n  state directory = {}\n  cache directory = {}\n  private dir = {}\n  pid directory = {}\n  ncalrpc dir = {}\n  binddns dir = {}\n  passdb backend = tdbsam:{}/passdb.tdb\n  log file = {}/log.%m\n",
            d("lock"),
            d("state"),
            d("cache"),
            d("private"),
            d("pid"),
            d("ncalrpc"),
            d("binddns"),
            d("private"),
            d("log")
        );
        for line in extra {
            conf.push_str(&format!("  {line}\n"));
        }
        let conf_path = dir.path().join("smb.conf");
        std::fs::write(&conf_path, conf).unwrap();
        // The lab's account, as tests/lab/up.sh makes it: a system user without login, and its
        // Samba password in this smbd's own passdb.
        let exists = Command::new("id")
            .arg(lab::USER)
            .output()
            .is_ok_and(|o| o.status.success());
        if !exists {
            lab::run_checked(
                Command::new("useradd").args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    lab::USER,
                ]),
                "useradd",
            );
        }
        let mut pw = Command::new("smbpasswd")
            .arg("-c")
            .arg(&conf_path)
            .args(["-s", "-a", lab::USER])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smbpasswd");
        {
            use std::io::Write;
            let mut stdin = pw.stdin.take().unwrap();
            writeln!(stdin, "{}\n{}", lab::PASSWORD, lab::PASSWORD).unwrap();
        }
        assert!(pw.wait().unwrap().success(), "smbpasswd -a {}", lab::USER);
        // In a process group of its own: smbd signals its group when it stops, which must not
        // reach the test.
        use std::os::unix::process::CommandExt;
        let mut child = Command::new("smbd")
            .args(["-F", "--no-process-group", "-s"])
            .arg(&conf_path)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smbd");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("smbd did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        LoopbackSmbd {
            child,
            port,
            conf: conf_path,
            _dir: dir,
        }
    }

    /// `rpcaudit dump 127.0.0.1 --transport smb` on this smbd's port, with NTLM and the lab's
    /// account when `ntlm`: (exit code, JSON).
    fn dump(&self, ntlm: bool) -> (i32, serde_json::Value) {
        let mut cmd = Command::new(bin());
        cmd.args(["dump", "127.0.0.1", "--transport", "smb", "--json"])
            .args(["--timeout", "10", "--smb-port", &self.port.to_string()])
            .env_remove("RPCAUDIT_PASSWORD")
            .env_remove("RPCAUDIT_NT_HASH")
            .stdin(Stdio::null());
        if ntlm {
            cmd.args([
                "--auth",
                "ntlm",
                "--user",
                &format!("WORKGROUP\\{}", lab::USER),
            ])
            .env("RPCAUDIT_PASSWORD", lab::PASSWORD);
        }
        let out = cmd.output().expect("run rpcaudit dump");
        let v = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"));
        (out.status.code().unwrap_or(-1), v)
    }
}

impl Drop for LoopbackSmbd {
    fn drop(&mut self) {
        // Stopped by its own PID with SIGTERM, so that it stops the samba-dcerpcd it started
        // on demand for the pipes (a SIGKILLed smbd leaves it behind); SIGKILL after 10 s.
        // (Its process group is its own: what smbd signals on the way out stays inside.)
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Whatever still runs with this smbd's own configuration file (a unique temporary
        // path): its samba-dcerpcd, stopped by PID.
        let mine = format!("--configfile={}", self.conf.display());
        for pid in helpers_of(&mine) {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
}

/// The PIDs of the processes whose command line holds the argument `arg` exactly.
fn helpers_of(arg: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        cmdline
            .split(|b| *b == 0)
            .any(|a| a == arg.as_bytes())
            .then_some(pid)
    })
    .collect()
}

/// A map's entries, sorted: each loopback smbd starts its own on-demand samba-dcerpcd, whose
/// helpers register their interfaces in whatever order they come up, so two smbds' maps hold
/// the same entries in orders of their own.
fn sorted(eps: Vec<serde_json::Value>) -> Vec<String> {
    let mut v: Vec<String> = eps.iter().map(|e| e.to_string()).collect();
    v.sort();
    v
}

/// The map a loopback smbd limited to SMB 2.1 gives an anonymous dump: what the same Samba
/// serves, read over the dialect rpcaudit has always read (sorted).
fn loopback_map_over_smb21() -> Vec<String> {
    let smbd = LoopbackSmbd::start(&["server max protocol = SMB2_10"]);
    let capture = Capture::start_loopback(&format!("tcp port {}", smbd.port));
    let (code, v) = smbd.dump(false);
    assert_eq!(code, 0, "{v}");
    let port = format!("tcp.port=={},nbss", smbd.port);
    let (_, lines) = capture.finish_decoding(
        &[&port],
        "smb2.cmd == 0 && smb2.flags.response == 1",
        &["smb2.dialect"],
    );
    assert_eq!(lines, ["0x0210"], "the comparison map is read over SMB 2.1");
    let eps = endpoints_ok(&v, "SMB 2.1");
    assert!(eps.len() > 10, "Samba registered too little: {}", eps.len());
    sorted(eps)
}

#[test]
#[ignore = "lab: needs root, Samba (smbd) and tshark"]
fn a_server_that_requires_smb3_is_read_over_3_1_1_and_3_0_anonymously_and_with_ntlm() {
    if !LoopbackSmbd::available() || !lab::can_run_with(&["tshark"]) {
        return;
    }
    let over_21 = loopback_map_over_smb21();
    // A second smbd of its own, on loopback only, that accepts SMB 3.x alone (`SMB3_00` and up:
    // Samba's `SMB3` means 3.1.1 as a minimum): 3.1.1 by default, and once capped at 3.0 (the
    // 3.0 keys, no preauth hash).
    for (max, dialect) in [("SMB3_11", "0x0311"), ("SMB3_00", "0x0300")] {
        let smbd = LoopbackSmbd::start(&[
            "server min protocol = SMB3_00",
            &format!("server max protocol = {max}"),
        ]);
        read_signed_over(&smbd, dialect, &over_21);
    }
}

/// The map of `smbd` (which chooses `dialect`), anonymously and with NTLM, equals `over_21`;
/// tshark shows the dialects offered, `dialect` chosen, DCE/RPC in clear on the pipe, and with
/// NTLM every message signed after the logon.
fn read_signed_over(smbd: &LoopbackSmbd, dialect: &str, over_21: &[String]) {
    for ntlm in [false, true] {
        let capture = Capture::start_loopback(&format!("tcp port {}", smbd.port));
        let (code, v) = smbd.dump(ntlm);
        assert_eq!(code, 0, "ntlm {ntlm}: {v}");
        assert_eq!(
            sorted(endpoints_ok(&v, dialect)),
            over_21,
            "{dialect}, ntlm {ntlm}"
        );
        let port = format!("tcp.port=={},nbss", smbd.port);
        let (_, lines) = capture.finish_decoding(
            &[&port],
            "smb2",
            &[
                "smb2.cmd",
                "smb2.flags.response",
                "smb2.dialect",
                "smb2.flags.signature",
                "smb2.nt_status",
                "dcerpc.pkt_type",
                "smb2.negotiate_context.signing_id",
                "smb2.ioctl.function",
            ],
        );
        let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
        // The negotiate offers 2.0.2 to 3.1.1; the server chose `dialect`.
        assert_eq!(
            rows[0][2], "0x0202,0x0210,0x0300,0x0302,0x0311",
            "{lines:#?}"
        );
        assert_eq!(&rows[1][..3], ["0", "1", dialect], "{lines:#?}");
        // 3.1.1: AES-GMAC offered first, then AES-CMAC; Samba 4.17 chooses AES-GMAC, so every
        // signature below was made and checked with it. (3.0 signs with AES-CMAC, no context.)
        assert_eq!(rows[0][6], "0x0002,0x0001", "{lines:#?}");
        let chosen = if dialect == "0x0311" { "0x0002" } else { "" };
        assert_eq!(rows[1][6], chosen, "{lines:#?}");
        // DCE/RPC on the pipe, in clear: the session signs, it does not encrypt.
        assert!(
            rows.iter()
                .any(|r| r.get(5).is_some_and(|f| f.contains("11"))),
            "no DCE/RPC bind: {lines:#?}"
        );
        // 3.0 with a key: the negotiate is validated (FSCTL_VALIDATE_NEGOTIATE_INFO, signed),
        // and Samba answers it; 3.1.1's preauth hash makes that unneeded, and a null session
        // cannot sign it.
        let validated = rows
            .iter()
            .any(|r| r[0] == "11" && r[1] == "1" && r[4] == "0x00000000" && r[7] == "0x00140204");
        assert_eq!(
            validated,
            ntlm && dialect == "0x0300",
            "{dialect}, ntlm {ntlm}: {lines:#?}"
        );
        if ntlm {
            // Signed from the final session setup response on, both ways (interim
            // STATUS_PENDING answers aside).
            let logged_on = rows
                .iter()
                .position(|r| r[0] == "1" && r[1] == "1" && r[4] == "0x00000000")
                .unwrap_or_else(|| panic!("no successful session setup: {lines:#?}"));
            for r in rows[logged_on..].iter().filter(|r| r[4] != "0x00000103") {
                assert_eq!(r[3], "1", "an unsigned message after the logon: {r:?}");
            }
            assert_eq!(v["hosts"][0]["auth"]["mechanism"], "ntlm");
        }
    }
}

#[test]
#[ignore = "lab: needs root, Samba (smbd) and tshark"]
fn a_server_that_requires_encryption_is_read_through_the_transform_header() {
    if !LoopbackSmbd::available() || !lab::can_run_with(&["tshark"]) {
        return;
    }
    let over_21 = loopback_map_over_smb21();
    // 3.0 and 3.0.2 encrypt with AES-128-CCM (SMB2_GLOBAL_CAP_ENCRYPTION); 3.1.1 with the
    // cipher its negotiate context names, AES-128-GCM here (offered first).
    for (max, dialect) in [
        ("SMB3_00", "0x0300"),
        ("SMB3_02", "0x0302"),
        ("SMB3_11", "0x0311"),
    ] {
        let smbd = LoopbackSmbd::start(&[
            "server min protocol = SMB3_00",
            &format!("server max protocol = {max}"),
            "server smb encrypt = required",
            "server signing = mandatory",
        ]);
        let capture = Capture::start_loopback(&format!("tcp port {}", smbd.port));
        let (code, v) = smbd.dump(true);
        assert_eq!(code, 0, "{max}: {v}");
        assert_eq!(
            sorted(endpoints_ok(&v, "SMB 3 encrypted")),
            over_21,
            "{max}"
        );
        // A sealed session is reported at the privacy level.
        assert_eq!(
            v["hosts"][0]["auth"]["level"], "privacy",
            "{max}: {}",
            v["hosts"][0]["auth"]
        );
        let port = format!("tcp.port=={},nbss", smbd.port);
        let (_, lines) = capture.finish_decoding(
            &[&port],
            "smb2 || dcerpc",
            &[
                "smb2.cmd",
                "smb2.flags.response",
                "smb2.dialect",
                "smb2.nt_status",
                "smb2.header.transform.msg_size",
                "smb2.negotiate_context.cipher_id",
                "dcerpc.pkt_type",
            ],
        );
        let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
        assert_eq!(&rows[1][..3], ["0", "1", dialect], "{max}: {lines:#?}");
        if dialect == "0x0311" {
            assert_eq!(rows[1][5], "0x0002", "AES-128-GCM: {lines:#?}");
        }
        // After the session setup, every message is sealed: a transform header, no SMB2
        // command and no DCE/RPC in clear (tshark cannot decrypt without the keys).
        let logged_on = rows
            .iter()
            .position(|r| r[0] == "1" && r[1] == "1" && r[3] == "0x00000000")
            .unwrap_or_else(|| panic!("{max}: no successful session setup: {lines:#?}"));
        let after = &rows[logged_on + 1..];
        assert!(
            after.len() >= 8,
            "{max}: too few messages after the logon: {lines:#?}"
        );
        for r in after {
            assert!(
                r[0].is_empty() && !r[4].is_empty(),
                "{max}: a message in clear after the logon: {r:?}"
            );
        }
        assert!(
            rows.iter().all(|r| r.get(6).is_none_or(|f| f.is_empty())),
            "{max}: DCE/RPC in clear: {lines:#?}"
        );
        if dialect != "0x0311" {
            continue;
        }
        // A null session has no key to encrypt with: Samba refuses it, and the error says so.
        let (code, v) = smbd.dump(false);
        assert_eq!(code, 3, "{v}");
        let host = &v["hosts"][0];
        assert_eq!(host["status"], "error", "{host}");
        let error = host["error"].as_str().unwrap();
        assert!(
            error.contains("STATUS_ACCESS_DENIED")
                && error.contains("give credentials with --user"),
            "{error}"
        );
    }
}
