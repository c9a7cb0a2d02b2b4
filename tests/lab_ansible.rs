//! Lab acceptance of the Ansible flow over SSH (root; the README's test command runs it):
//! Debian's `sshd` runs inside each client namespace (rpca-allow, rpca-deny), reached over a
//! management veth pair this test creates from the host namespace (198.19.N.1 on the host,
//! 198.19.N.2 in the namespace, inside 198.18.0.0/15), with throw-away host and client keys in
//! a temp dir; `ansible-playbook contrib/ansible/vantage.yml` probes the lab's server from both
//! vantage points and brings the observations home; the audit merges them against the lab's
//! KB908472 policy. Links and sshd processes are removed by name and PID in `Drop`, so even a
//! failed assertion leaves nothing behind. `#[ignore]`d like the other lab tests (the README's
//! test command runs them with `--ignored`); it skips when not root or when sshd or
//! ansible-playbook is missing, and fails instead when RPCAUDIT_LAB_REQUIRED=1.

mod support;

use serde_json::Value;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{bin, lab};

/// A vantage point: its lab namespace, the host side of its management link, its number N in
/// 198.19.N.0/30, and its address in the lab (the probes' source).
struct Vantage {
    name: &'static str,
    ns: &'static str,
    link: &'static str,
    n: u8,
    lab_ip: std::net::Ipv4Addr,
}

const VANTAGES: [Vantage; 2] = [
    Vantage {
        name: "vantage-allow",
        ns: lab::NS_ALLOW,
        link: "rpcm-allow",
        n: 1,
        lab_ip: lab::ALLOW_IP,
    },
    Vantage {
        name: "vantage-deny",
        ns: lab::NS_DENY,
        link: "rpcm-deny",
        n: 2,
        lab_ip: lab::DENY_IP,
    },
];

fn host_addr(v: &Vantage) -> String {
    format!("198.19.{}.1", v.n)
}

fn ns_addr(v: &Vantage) -> String {
    format!("198.19.{}.2", v.n)
}

/// What this test started: management links (host side, by name) and sshd children (by PID).
/// Dropped last, even when an assertion fails.
#[derive(Default)]
struct Started {
    links: Vec<&'static str>,
    sshd: Vec<Child>,
}

impl Drop for Started {
    fn drop(&mut self) {
        for child in &mut self.sshd {
            // Child::kill signals this child's own PID, nothing else
            let _ = child.kill();
            let _ = child.wait();
        }
        for link in &self.links {
            // deleting one end of a veth pair removes its peer in the namespace
            let _ = Command::new("ip").args(["link", "del", link]).status();
        }
    }
}

/// The veth pair host ↔ namespace with its /30; a leftover of an earlier run is replaced.
fn add_link(v: &Vantage, started: &mut Started) {
    let _ = Command::new("ip")
        .args(["link", "del", v.link])
        .stderr(Stdio::null())
        .status();
    lab::run_checked(
        Command::new("ip").args([
            "link", "add", v.link, "type", "veth", "peer", "name", "mgmt0", "netns", v.ns,
        ]),
        "ip link add",
    );
    started.links.push(v.link);
    lab::run_checked(
        Command::new("ip").args([
            "addr",
            "add",
            &format!("{}/30", host_addr(v)),
            "dev",
            v.link,
        ]),
        "ip addr add (host)",
    );
    lab::run_checked(
        Command::new("ip").args(["link", "set", v.link, "up"]),
        "ip link set up (host)",
    );
    lab::run_checked(
        Command::new("ip").args([
            "-n",
            v.ns,
            "addr",
            "add",
            &format!("{}/30", ns_addr(v)),
            "dev",
            "mgmt0",
        ]),
        "ip addr add (namespace)",
    );
    lab::run_checked(
        Command::new("ip").args(["-n", v.ns, "link", "set", "mgmt0", "up"]),
        "ip link set up (namespace)",
    );
}

fn keygen(path: &Path) {
    lab::run_checked(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(path),
        "ssh-keygen",
    );
}

/// sshd in the namespace, listening on the management address only, with its own config.
fn start_sshd(v: &Vantage, dir: &Path, started: &mut Started) {
    let conf = dir.join(format!("sshd-{}.conf", v.name));
    std::fs::write(
        &conf,
        format!(
            "ListenAddress {addr}:22\n\
             HostKey {dir}/host_key\n\
             AuthorizedKeysFile {dir}/authorized_keys\n\
             PermitRootLogin prohibit-password\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             UsePAM no\n\
             StrictModes no\n\
             PidFile none\n\
             Subsystem sftp /usr/lib/openssh/sftp-server\n",
            addr = ns_addr(v),
            dir = dir.display()
        ),
    )
    .unwrap();
    // the privilege separation directory Debian's sshd insists on
    std::fs::create_dir_all("/run/sshd").unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", v.ns, "/usr/sbin/sshd", "-D", "-e", "-f"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("sshd-{}.log", v.name))).unwrap())
        .spawn()
        .expect("start sshd");
    started.sshd.push(child);
    let addr: SocketAddr = format!("{}:22", ns_addr(v)).parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd in {} does not answer on {addr}: {}",
            v.ns,
            std::fs::read_to_string(dir.join(format!("sshd-{}.log", v.name))).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The playbook, killed by PID when it has not finished after `timeout`.
fn run_playbook(args: &[String], dir: &Path, timeout: Duration) -> std::process::ExitStatus {
    let log = dir.join("ansible.log");
    let mut child = Command::new("ansible-playbook")
        .args(args)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        // no ControlPersist master: its sshd session would outlive the link and the test
        .env("ANSIBLE_SSH_ARGS", "-o ControlMaster=no")
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-local"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run ansible-playbook (pip install ansible-core)");
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            if !status.success() {
                eprintln!("{}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ansible-playbook: no result after {timeout:?}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "lab: needs root, Samba, network namespaces, sshd and ansible-core"]
fn the_playbook_over_ssh_probes_from_each_subnet_and_the_audit_is_compliant() {
    let Some(_lab) = lab::setup(None, &["correct"]) else {
        return;
    };
    for tool in ["/usr/sbin/sshd", "ssh-keygen", "ansible-playbook"] {
        if !lab::have(tool) {
            assert!(
                std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
                "the Ansible lab test is required but '{tool}' is missing"
            );
            eprintln!(
                "SKIPPED: needs '{tool}' (apt-get install openssh-server; pip install ansible-core)"
            );
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host_key"));
    keygen(&d.join("client_key"));
    std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();

    let mut started = Started::default();
    for v in &VANTAGES {
        add_link(v, &mut started);
        start_sshd(v, d, &mut started);
    }

    // One group per subnet; each host copies the binary into a private directory of its own
    // that the playbook makes in /tmp (both sshd share this machine's filesystem) and removes.
    let mut inventory = String::new();
    for v in &VANTAGES {
        let subnet = v.lab_ip.octets();
        inventory.push_str(&format!(
            "[subnet_{}_{}_{}]\n{} ansible_host={}\n",
            subnet[0],
            subnet[1],
            subnet[2],
            v.name,
            ns_addr(v),
        ));
    }
    inventory.push_str(&format!(
        "[all:vars]\nansible_user=root\nansible_ssh_private_key_file={}\n\
         ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n\
         ansible_python_interpreter=/usr/bin/python3\n",
        d.join("client_key").display()
    ));
    let inv = d.join("inventory.ini");
    std::fs::write(&inv, inventory).unwrap();
    let out_dir = d.join("vantage");
    let playbook = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/vantage.yml");
    let status = run_playbook(
        &[
            "-i".into(),
            inv.display().to_string(),
            playbook.display().to_string(),
            "-e".into(),
            format!("rpcaudit_bin={}", bin()),
            "-e".into(),
            format!("rpcaudit_targets='{}'", lab::SRV_IP),
            "-e".into(),
            format!("rpcaudit_out={}", out_dir.display()),
            // The article's fence (the default adds the other roads, `lab_roads.rs`'s).
            "-e".into(),
            "rpcaudit_ports=135,5001-5021".into(),
        ],
        d,
        Duration::from_secs(300),
    );
    assert!(status.success(), "ansible-playbook: {status}");

    let mut args: Vec<String> = vec![
        "audit".into(),
        lab::SRV_IP.to_string(),
        "--policy".into(),
        support::fixture("lab/ipsec-correct.cmd")
            .display()
            .to_string(),
        "--no-probe".into(),
        "--json".into(),
    ];
    for v in &VANTAGES {
        let path = out_dir.join(format!("{}.json", v.name));
        let obs: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let obs = obs["observations"].as_array().unwrap();
        assert_eq!(obs.len(), 22, "{}", v.name);
        // the probes started inside the subnet, not on the management link
        assert!(
            obs.iter().all(|o| o["source"] == v.lab_ip.to_string()),
            "{}: {obs:?}",
            v.name
        );
        args.push("--observations".into());
        args.push(path.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // the endpoint mapper is dumped from the allowed subnet, where the fence lets 135 through
    let out = lab::run_in_ns(lab::NS_ALLOW, bin(), &args, Duration::from_secs(60)).unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    support::assert_valid_report(&report);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["summary"]["compliant"], true);
    for (v, want) in VANTAGES
        .iter()
        .zip(["pass-as-expected", "block-as-expected"])
    {
        let rows: Vec<&Value> = report["matrix"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["source"] == v.lab_ip.to_string())
            .collect();
        assert_eq!(rows.len(), 22, "{}", v.name);
        for r in rows {
            assert_eq!(r["verdict"], want, "{}: {r}", v.name);
        }
    }
    drop(started);
    for v in &VANTAGES {
        assert!(
            !Command::new("ip")
                .args(["link", "show", v.link])
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success(),
            "{} left behind",
            v.link
        );
    }
}
