//! The Kerberos lab as the Rust tests see it: the names, addresses and lab-only account of
//! tests/lab/dc.sh (keep both in step), bringing the domain controller up with NTLM on or off
//! under the lab lock, and running rpcaudit in the client namespace. `#[ignore]`d tests only.
#![allow(dead_code)]

use super::lab;
use std::fs::File;
use std::process::{Command, Stdio};

pub const NS_CLI: &str = "rpck-cli";
pub const DC_IP: &str = "198.18.16.10";
/// Two more addresses of the same DC (several targets, one TGT).
pub const DC_MORE: [&str; 2] = ["198.18.16.11", "198.18.16.12"];
pub const FQDN: &str = "dc1.rpcaudit.lab";
pub const REALM: &str = "RPCAUDIT.LAB";
pub const NETBIOS_DOMAIN: &str = "RPCK";
pub const USER: &str = "auditor";
pub const PASSWORD: &str = "Krb-Audit-Pass1";

/// The lab lock held while the DC is in the mode a test asked for.
pub struct DcLock(File);

/// Take the lab lock and bring the DC up with NTLM accepted (`ntlm`) or refused (`no-ntlm`).
/// None, after saying why, when this machine cannot run it.
pub fn setup(mode: &str) -> Option<DcLock> {
    if !lab::can_run_with(&["ip", "samba", "samba-tool", "tshark"]) {
        return None;
    }
    let lock = File::create(std::env::temp_dir().join("rpcaudit-lab.lock")).unwrap();
    lock.lock().unwrap();
    lab::run_checked(
        Command::new(lab::scripts_dir().join("dc.sh")).args(["up", mode]),
        "tests/lab/dc.sh up",
    );
    Some(DcLock(lock))
}

/// The Kerberos flags for the lab's account and KDC, the host named by --target-name.
pub fn kerberos_args(level: &str) -> Vec<String> {
    [
        "--auth",
        "kerberos",
        "--user",
        USER,
        "--realm",
        REALM,
        "--kdc",
        DC_IP,
        "--target-name",
        FQDN,
        "--auth-level",
        level,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// What one run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// Run `rpcaudit ARGS` in the client namespace with `password` in RPCAUDIT_PASSWORD and
/// `RUST_LOG` as given.
pub fn rpcaudit(args: &[String], password: Option<&str>, rust_log: Option<&str>) -> Run {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", NS_CLI, super::bin()])
        .args(args)
        .env_remove("RPCAUDIT_PASSWORD")
        .env_remove("RPCAUDIT_NT_HASH")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    if let Some(p) = password {
        cmd.env("RPCAUDIT_PASSWORD", p);
    }
    if let Some(l) = rust_log {
        cmd.env("RUST_LOG", l);
    }
    let out = cmd.output().expect("run rpcaudit in rpck-cli");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
