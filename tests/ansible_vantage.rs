//! `contrib/ansible/vantage.yml` run for real with ansible-core against two vantage points of
//! the inventory (local connections on this machine, one of them probing from 127.0.0.2), then
//! the merged audit. Not the lab's SSH test (sshd in namespaces): it needs ansible-core only,
//! so it is `#[ignore]`d in plain `cargo test` (`pip install ansible-core`, then
//! `cargo test --test ansible_vantage -- --ignored`). Loopback only.

mod support;

use serde_json::Value;
use support::{Fixture, bin, run};

#[test]
#[ignore = "needs ansible-core (pip install ansible-core)"]
fn the_playbook_leaves_one_observations_file_per_host_and_the_audit_merges_them() {
    let f = Fixture::start(&["--tcp-endpoints", "3", "--tcp-ports", "5001-5003"]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let python = std::process::Command::new("sh")
        .args(["-c", "command -v python3"])
        .output()
        .unwrap();
    let python = String::from_utf8_lossy(&python.stdout).trim().to_string();
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
        .arg(format!(
            "rpcaudit_remote_dir={}",
            dir.path().join("remote").display()
        ))
        .env("ANSIBLE_NOCOLOR", "1")
        .status()
        .expect("run ansible-playbook (pip install ansible-core)");
    assert!(status.success());
    let mut files = Vec::new();
    for name in ["vantage-a", "vantage-b"] {
        let path = out_dir.join(format!("{name}.json"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let obs = v["observations"].as_array().unwrap();
        assert_eq!(obs.len(), 23, "{name}");
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
