//! `contrib/ansible/vantage.yml` run for real with ansible-core against vantage points of an
//! inventory (local connections on this machine, one of them probing from 127.0.0.2), then the
//! merged audit; and the playbook's defences: a directory another user prepared is not used and
//! a binary swapped by another user never runs (root only: the other user is `nobody`), a target
//! word that starts with `-` is a target, an inventory name that is not a safe file name is
//! refused. Not the lab's SSH test (sshd in namespaces): it needs ansible-core only, so it is
//! `#[ignore]`d in plain `cargo test` (`pip install ansible-core`, then
//! `cargo test --test ansible_vantage -- --ignored`). Loopback only; every file is made in the
//! test's temp dir, and the one process a test starts besides ansible-playbook is stopped by
//! its PID.

mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Fixture, bin, run};

fn python() -> String {
    let python = Command::new("sh")
        .args(["-c", "command -v python3"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&python.stdout).trim().to_string()
}

fn playbook() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/vantage.yml")
}

/// An inventory of local-connection hosts, `[all:vars]` naming this machine's python3.
fn inventory(dir: &Path, hosts: &str) -> PathBuf {
    let path = dir.join("inventory.ini");
    std::fs::write(
        &path,
        format!(
            "{hosts}[all:vars]\nansible_connection=local\nansible_python_interpreter={}\n",
            python()
        ),
    )
    .unwrap();
    path
}

/// `ansible-playbook -i INVENTORY vantage.yml -e VAR...` with `env`; its output (stdout and
/// stderr) is returned; it is killed by its PID when it has not ended after 10 minutes.
fn run_playbook(
    dir: &Path,
    inventory: &Path,
    vars: &[String],
    env: &[(&str, &Path)],
) -> (std::process::ExitStatus, String) {
    let log = dir.join(format!(
        "ansible-{}.log",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let out = std::fs::File::create_new(&log).unwrap();
    let mut cmd = Command::new("ansible-playbook");
    cmd.arg("-i").arg(inventory).arg(playbook());
    for v in vars {
        cmd.arg("-e").arg(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .env("ANSIBLE_NOCOLOR", "1")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("run ansible-playbook (pip install ansible-core)");
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ansible-playbook: no result after 10 minutes\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status, std::fs::read_to_string(&log).unwrap_or_default())
}

/// A directory for `rpcaudit_remote_dir` inside the test's temp dir (0700), so that even the
/// playbook of before (which made its fixed directory there) never touches /tmp/rpcaudit-vantage.
fn remote_parent(dir: &Path) -> PathBuf {
    let remote = dir.join("remote");
    std::fs::create_dir(&remote).unwrap();
    std::fs::set_permissions(&remote, std::fs::Permissions::from_mode(0o700)).unwrap();
    remote
}

#[test]
#[ignore = "needs ansible-core (pip install ansible-core)"]
fn the_playbook_leaves_one_observations_file_per_host_and_the_audit_merges_them() {
    let f = Fixture::start(&["--tcp-endpoints", "3", "--tcp-ports", "5001-5003"]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let python = python();
    let inventory = dir.path().join("inventory.ini");
    std::fs::write(
        &inventory,
        format!(
            "[subnet_a]\nvantage-a ansible_connection=local ansible_python_interpreter={python}\n\
             [subnet_b]\nvantage-b ansible_connection=local ansible_python_interpreter={python} rpcaudit_from=127.0.0.2\n"
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("vantage");
    let playbook =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/vantage.yml");
    let remote = remote_parent(dir.path());
    let status = std::process::Command::new("ansible-playbook")
        .arg("-i")
        .arg(&inventory)
        .arg(&playbook)
        .arg("-e")
        .arg(format!("rpcaudit_bin={}", bin()))
        .arg("-e")
        .arg("rpcaudit_targets='127.0.0.1'")
        .arg("-e")
        .arg(format!("rpcaudit_out={}", out_dir.display()))
        .arg("-e")
        .arg(format!("rpcaudit_ports=135,{port},5001-5021"))
        .arg("-e")
        // UDP: nothing listens on loopback's 135 (ICMP port unreachable: closed).
        .arg("rpcaudit_udp_ports=135")
        .arg("-e")
        // `probe --pipes`: nothing serves SMB on loopback's ports here, so no pipes are listed,
        // but a flag `probe` did not take would fail the play (exit 2).
        .arg("rpcaudit_pipes=true")
        .arg("-e")
        .arg(format!("rpcaudit_remote_dir={}", remote.display()))
        .env("ANSIBLE_NOCOLOR", "1")
        .status()
        .expect("run ansible-playbook (pip install ansible-core)");
    assert!(status.success());
    let mut files = Vec::new();
    for name in ["vantage-a", "vantage-b"] {
        let path = out_dir.join(format!("{name}.json"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let obs = v["observations"].as_array().unwrap();
        assert_eq!(obs.len(), 24, "{name}");
        let udp: Vec<&Value> = obs.iter().filter(|o| o["protocol"] == "udp").collect();
        assert_eq!(udp.len(), 1, "{name}: {udp:?}");
        assert_eq!(
            (&udp[0]["port"], &udp[0]["state"]),
            (&Value::from(135), &Value::from("closed"))
        );
        let want_source = if name == "vantage-b" {
            "127.0.0.2"
        } else {
            "127.0.0.1"
        };
        assert!(
            obs.iter().all(|o| o["source"] == want_source),
            "{name}: {v}"
        );
        files.push(path.display().to_string());
    }
    let mut args = support::audit_args(&port, &["--no-probe", "--json"]);
    for f in &files {
        args.extend(["--observations", f.as_str()]);
    }
    let (code, out, err) = run(&args);
    // The article's policy blocks the range from both sources; nothing on loopback enforces
    // it: the fixture's registered ports 5001-5003 are leaks from each vantage point.
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    support::assert_valid_report(&v);
    assert_eq!(
        v["inputs"]["vantage_points"],
        serde_json::json!(["127.0.0.1", "127.0.0.2"])
    );
    for source in ["127.0.0.1", "127.0.0.2"] {
        let leaks: Vec<u64> = v["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["source"] == source && r["verdict"] == "leak")
            .map(|r| r["port"].as_u64().unwrap())
            .collect();
        assert!(
            leaks.contains(&5001) && leaks.contains(&5003),
            "{source}: {leaks:?}"
        );
    }
}

/// Another user (`nobody`) at work in a world-writable, sticky directory (`shared`, as /tmp):
/// it makes `shared/rpcaudit-vantage` (0777, the playbook's old fixed place) and keeps
/// replacing every `rpcaudit` file it can reach under `shared` with a script that writes
/// `marker`. Its one process is stopped by its PID when this guard drops.
struct Swapper(Child);

impl Swapper {
    const SCRIPT: &'static str = r##"
import os, shlex, sys, time
shared, marker = sys.argv[1], sys.argv[2]
trap = os.path.join(shared, "rpcaudit-vantage")
os.mkdir(trap)
os.chmod(trap, 0o777)
script = "#!/bin/sh\necho swapped > %s\n" % shlex.quote(marker)
while True:
    for d, _dirs, files in os.walk(shared):
        if "rpcaudit" in files:
            tmp = os.path.join(d, ".swap")
            try:
                with open(tmp, "w") as f:
                    f.write(script)
                os.chmod(tmp, 0o755)
                os.replace(tmp, os.path.join(d, "rpcaudit"))
            except OSError:
                pass
    time.sleep(0.005)
"##;

    fn start(python: &Path, shared: &Path, marker: &Path) -> Swapper {
        let child = Command::new(python)
            .arg("-c")
            .arg(Self::SCRIPT)
            .arg(shared)
            .arg(marker)
            .current_dir("/")
            .env_clear()
            .uid(65534)
            .gid(65534)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the swapping process as nobody");
        let swapper = Swapper(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !shared.join("rpcaudit-vantage").is_dir() {
            assert!(
                Instant::now() < deadline,
                "the swapping process did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        swapper
    }
}

impl Drop for Swapper {
    fn drop(&mut self) {
        // Child::kill signals this child's own PID, nothing else
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs ansible-core (pip install ansible-core) and root (the other user is nobody)"]
fn a_directory_another_user_made_is_not_used_and_a_binary_it_swaps_never_runs() {
    // the other user needs a python3 it can run, outside root's home (pyenv's is not)
    let other_python = Path::new("/usr/bin/python3");
    if !support::lab::is_root() || !other_python.exists() {
        assert!(
            std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
            "the swap test is required but needs root and /usr/bin/python3"
        );
        eprintln!("SKIPPED: needs root (to be another user, nobody) and /usr/bin/python3");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // nobody may pass through the test's dir (not list or write it) to reach `shared`
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711)).unwrap();
    let shared = dir.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let marker = dir.join("marker");
    let old_default = Path::new("/tmp/rpcaudit-vantage");
    let old_default_was_there = old_default.symlink_metadata().is_ok();
    let inv = inventory(dir, "[subnet_a]\nvantage-a\n");
    let f = Fixture::start(&[]);
    let port = f.port();
    let _swapper = Swapper::start(other_python, &shared, &marker);

    // 1. rpcaudit_remote_dir names the other user's directory (what the playbook used to adopt
    //    at /tmp/rpcaudit-vantage): refused, nothing copied there, nothing run.
    let out1 = dir.join("out1");
    let (status, log) = run_playbook(
        dir,
        &inv,
        &[
            format!("rpcaudit_bin={}", bin()),
            "rpcaudit_targets=127.0.0.1".into(),
            format!("rpcaudit_out={}", out1.display()),
            format!("rpcaudit_ports={port}"),
            format!(
                "rpcaudit_remote_dir={}",
                shared.join("rpcaudit-vantage").display()
            ),
        ],
        &[("TMPDIR", &shared)],
    );
    assert!(
        !marker.exists(),
        "the other user's program ran as the connecting user:\n{log}"
    );
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("must belong to root or uid 0"),
        "refused for another reason:\n{log}"
    );
    assert!(!out1.join("vantage-a.json").exists(), "{log}");

    // 2. The default: a private directory in the (shared, sticky) temporary directory; the
    //    other user cannot reach the binary, the probe runs, the directory is removed.
    let out2 = dir.join("out2");
    let (status, log) = run_playbook(
        dir,
        &inv,
        &[
            format!("rpcaudit_bin={}", bin()),
            "rpcaudit_targets=127.0.0.1".into(),
            format!("rpcaudit_out={}", out2.display()),
            format!("rpcaudit_ports={port}"),
        ],
        &[("TMPDIR", &shared)],
    );
    if !old_default_was_there && old_default.symlink_metadata().is_ok() {
        // made by this run (the playbook of before): take it away again, then fail
        let _ = std::fs::remove_dir_all(old_default);
        panic!("the playbook used the fixed directory /tmp/rpcaudit-vantage:\n{log}");
    }
    assert!(
        !marker.exists(),
        "the other user's program ran as the connecting user:\n{log}"
    );
    assert!(status.success(), "{log}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("vantage-a.json")).unwrap())
            .unwrap();
    let obs = v["observations"].as_array().unwrap();
    assert_eq!(obs.len(), 1, "{v}");
    assert_eq!(obs[0]["state"], "open", "{v}");
    let mut left: Vec<String> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    // what remains is the other user's own directory (and what it made in it in step 1)
    assert_eq!(left, ["rpcaudit-vantage"], "{log}");
    drop(f);
}

#[test]
#[ignore = "needs ansible-core (pip install ansible-core)"]
fn a_target_word_that_starts_with_a_dash_is_a_target_not_an_option() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let inv = inventory(dir, "[subnet_a]\nvantage-a\n");
    let remote = remote_parent(dir);
    let out = dir.join("out");
    let (status, log) = run_playbook(
        dir,
        &inv,
        &[
            format!("rpcaudit_bin={}", bin()),
            // as an option, --help would print the help and end well, leaving it as the
            // "observations"
            "rpcaudit_targets='127.0.0.1 --help'".into(),
            format!("rpcaudit_out={}", out.display()),
            "rpcaudit_ports=1".into(),
            format!("rpcaudit_remote_dir={}", remote.display()),
        ],
        &[],
    );
    assert!(!status.success(), "{log}");
    assert!(log.contains("target `--help`"), "{log}");
    assert!(!out.join("vantage-a.json").exists(), "{log}");
    // the working directory was removed after the failed probe
    assert_eq!(std::fs::read_dir(&remote).unwrap().count(), 0, "{log}");
}

#[test]
#[ignore = "needs ansible-core (pip install ansible-core)"]
fn an_inventory_name_that_is_not_a_safe_file_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let inv = inventory(dir, "[subnet_a]\nvantage-ok\n../escaped\n");
    let remote = remote_parent(dir);
    let out = dir.join("out");
    let (status, log) = run_playbook(
        dir,
        &inv,
        &[
            format!("rpcaudit_bin={}", bin()),
            "rpcaudit_targets=127.0.0.1".into(),
            format!("rpcaudit_out={}", out.display()),
            "rpcaudit_ports=1".into(),
            format!("rpcaudit_remote_dir={}", remote.display()),
        ],
        &[],
    );
    assert!(!status.success(), "{log}");
    assert!(
        log.contains("inventory host '../escaped': the name is not a safe file name"),
        "{log}"
    );
    // nothing written outside rpcaudit_out, nothing for the refused host inside it
    assert!(!dir.join("escaped.json").exists(), "{log}");
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    // the other host was probed all the same
    assert_eq!(written, ["vantage-ok.json"], "{log}");
}
