//! The lab as the Rust tests see it: the names and addresses of tests/lab/lib.sh (keep both in
//! step), bringing the lab up and applying a policy scenario through the scripts, and running a
//! command inside a lab namespace with a deadline. Lab tests are `#[ignore]` and need root.
#![allow(dead_code)]

use std::fs::File;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub const NS_RT: &str = "rpca-rt";
pub const NS_SRV: &str = "rpca-srv";
pub const NS_ALLOW: &str = "rpca-allow";
pub const NS_DENY: &str = "rpca-deny";

pub const SRV_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 10);
pub const ALLOW_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 10);
pub const DENY_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 2, 10);
pub const SRV_NET: &str = "198.18.0.0/24";
pub const ALLOW_NET: &str = "198.18.1.0/24";
pub const DENY_NET: &str = "198.18.2.0/24";
/// Every address of it belongs to the server namespace, behind the same fence (lib.sh).
pub const SWEEP_NET: &str = "198.18.3.0/24";

/// The range the nftables fence guards (with 135), and Samba's range unless told otherwise.
/// The local Samba account up.sh creates (smbpasswd -a) for the authenticated tests.
pub const USER: &str = "rpcaudit";
pub const PASSWORD: &str = "Lab-Audit-Pass1";
pub const NETBIOS: &str = "RPCASRV";
pub const POLICY_RANGE: &str = "5001-5021";
pub const POLICY_RANGE_BOUNDS: (u16, u16) = (5001, 5021);

/// Lab state directory (smb.conf, Samba's dirs, logs); RPCA_LAB_DIR overrides as in lib.sh.
pub fn lab_dir() -> PathBuf {
    std::env::var_os("RPCA_LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/rpcaudit-lab"))
}

/// tests/lab/ in this checkout.
pub fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lab")
}

/// True when running as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// True when `program` is on PATH (or is an executable path).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// True when the lab is up: root, `ip` present, and the four namespaces exist.
pub fn lab_available() -> bool {
    if !is_root() || !have("ip") {
        return false;
    }
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return false;
    };
    let list = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    [NS_RT, NS_SRV, NS_ALLOW, NS_DENY]
        .iter()
        .all(|ns| names.contains(ns))
}

/// Why the lab cannot be built here (not root, a tool missing), or None when it can.
pub fn cannot_run_reason() -> Option<String> {
    if !is_root() {
        return Some("lab tests need root (network namespaces)".into());
    }
    for tool in ["ip", "nft", "rpcclient"] {
        if !have(tool) {
            return Some(format!("lab tests need '{tool}'"));
        }
    }
    if !std::path::Path::new("/usr/libexec/samba/samba-dcerpcd").exists()
        && std::env::var_os("RPCA_DCERPCD").is_none()
    {
        return Some("lab tests need samba-dcerpcd (apt-get install samba)".into());
    }
    None
}

/// True when this machine can run a lab test that needs root and `tools` (names on PATH or
/// paths) but not the shared lab; false, after saying why, when it cannot ([`skip`]).
pub fn can_run_with(tools: &[&str]) -> bool {
    let why = if !is_root() {
        Some("lab tests need root (network namespaces)".to_string())
    } else {
        tools
            .iter()
            .find(|t| !have(t))
            .map(|t| format!("lab tests need '{t}'"))
    };
    match why {
        Some(why) => {
            skip(&why);
            false
        }
        None => true,
    }
}

/// Say why a lab test is skipped; fail instead where the lab is required (scripts/test-all.sh,
/// the README's test command run by CI as root, sets `RPCAUDIT_LAB_REQUIRED`).
fn skip(why: &str) {
    assert!(
        std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
        "the lab is required but cannot run: {why}"
    );
    eprintln!("SKIPPED: {why}");
}

/// An exclusive hold on the lab across threads and test processes (the scenario is global
/// state); released on drop.
pub struct LabLock(File);

/// Take the lab lock, bring the lab up (Samba range `range`, None = 5001-5021, Some("default")
/// = Samba's own) and apply a policy scenario, e.g. `&["correct"]` or `&["leak", "5007"]`.
/// Returns None, after printing why, when this machine cannot run the lab (not root); panics
/// when it can but a script fails (that is a test failure).
pub fn setup(range: Option<&str>, scenario: &[&str]) -> Option<LabLock> {
    if let Some(why) = cannot_run_reason() {
        skip(&why);
        return None;
    }
    let lock = File::create(std::env::temp_dir().join("rpcaudit-lab.lock")).unwrap();
    lock.lock().unwrap();
    let mut up = Command::new(scripts_dir().join("up.sh"));
    if let Some(r) = range {
        up.env("RPCA_RANGE", r);
    }
    run_checked(&mut up, "tests/lab/up.sh");
    run_checked(
        Command::new(scripts_dir().join("policy.sh")).args(scenario),
        "tests/lab/policy.sh",
    );
    Some(LabLock(lock))
}

/// Run `cmd` to its end; panic, with its output, unless it succeeds.
pub fn run_checked(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run `program args...` inside namespace `ns` (`ip netns exec`), killing it after `timeout`.
/// Err when it could not start or ran out of time.
pub fn run_in_ns(
    ns: &str,
    program: &str,
    args: &[&str],
    timeout: Duration,
) -> Result<Output, String> {
    let child = Command::new("ip")
        .args(["netns", "exec", ns, program])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ip netns exec {ns} {program}: {e}"))?;
    super::wait_with_deadline(child, timeout)
        .map_err(|e| format!("{program} in {ns}: {e}"))?
        .ok_or_else(|| format!("{program} in {ns}: no result after {timeout:?}"))
}

/// `rpcaudit audit SRV_IP --policy POLICY --json EXTRA...` from the allowed subnet: (exit code,
/// the report, checked against the report's schema).
pub fn audit_from_allowed(policy: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let target = SRV_IP.to_string();
    let mut args = vec!["audit", target.as_str(), "--policy", policy, "--json"];
    args.extend_from_slice(extra);
    let out = run_in_ns(NS_ALLOW, super::bin(), &args, Duration::from_secs(60))
        .expect("audit from the allowed subnet");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    super::assert_valid_report(&report);
    (out.status.code().unwrap_or(-1), report)
}

/// `rpcclient ARGS... ncacn_ip_tcp:SRV_IP[OPTIONS] -c epmlookup` from the allowed subnet, with
/// `options` (e.g. `"[sign,ntlm]"`, or `""`) after the address. Panics when rpcclient cannot
/// start or runs past `timeout`.
pub fn rpcclient_epmlookup(args: &[&str], options: &str, timeout: Duration) -> Output {
    let binding = format!("ncacn_ip_tcp:{SRV_IP}{options}");
    let args = [args, &[&binding, "-c", "epmlookup"]].concat();
    run_in_ns(NS_ALLOW, "rpcclient", &args, timeout).expect("rpcclient")
}

/// (interface, binding) pairs from `rpcclient -c epmlookup` lines such as
/// `0000... ncacn_ip_tcp:198.18.0.10[5001,abstract_syntax=4b324fc8-.../0x00000003]: srvsvc`.
pub fn parse_epmlookup(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once(' ')?;
            let (binding, tail) = rest.split_once(",abstract_syntax=")?;
            let iface = tail.split('/').next()?.to_ascii_lowercase();
            Some((iface, format!("{binding}]")))
        })
        .collect()
}

/// Interface, binding and annotation of each endpoint of one host of a dump's JSON.
pub fn endpoints(host: &serde_json::Value) -> Vec<(String, String, String)> {
    let field = |e: &serde_json::Value, name: &str| e[name].as_str().unwrap().to_string();
    host["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                field(e, "interface"),
                field(e, "binding"),
                field(e, "annotation"),
            )
        })
        .collect()
}
