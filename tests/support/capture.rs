//! A tshark capture on the lab's allowed client (`rpca-allow`, eth0; or another namespace's
//! eth0), for the lab tests that check what crossed the wire: NTLMSSP and the auth level on TCP
//! 135 (`lab_auth.rs`), SMB2 signing and DCE/RPC on the named pipe (`lab_smb.rs`), Kerberos in
//! the bind and the KDC requests (`lab_kerberos.rs`). The capture is stopped by its PID and
//! killed on drop.
#![allow(dead_code)]

use super::lab;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// tshark writing the packets that match a capture filter to a file of its own.
pub struct Capture {
    child: Child,
    file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Capture {
    /// Start capturing the packets that match `filter` (a BPF capture filter, e.g.
    /// `"tcp port 445"`), and wait until tshark says it captures.
    pub fn start(filter: &str) -> Capture {
        Capture::start_in(lab::NS_ALLOW, filter)
    }

    /// [`Capture::start`] on eth0 of the namespace `ns` (the Kerberos lab's client, `rpck-cli`).
    pub fn start_in(ns: &str, filter: &str) -> Capture {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, "tshark", "-i", "eth0"]);
        Capture::spawn(cmd, filter)
    }

    /// [`Capture::start`] on the host's loopback (`lo`), for a test's own server on 127.0.0.1
    /// (`lab_smb.rs`'s smbd); the filter names its port.
    pub fn start_loopback(filter: &str) -> Capture {
        let mut cmd = Command::new("tshark");
        cmd.args(["-i", "lo"]);
        Capture::spawn(cmd, filter)
    }

    fn spawn(mut cmd: Command, filter: &str) -> Capture {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("capture.pcapng");
        let log = dir.path().join("tshark.log");
        let child = cmd
            .arg("-f")
            .arg(filter)
            .args(["-q", "-w"])
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start tshark (apt-get install tshark)");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            // dumpcap says "Capturing on" before its filter is attached, "Capture started"
            // once it is; a moment more lets the first packets through.
            if said.contains("Capture started") {
                std::thread::sleep(Duration::from_millis(700));
                break;
            }
            assert!(Instant::now() < deadline, "tshark did not start: {said}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Capture {
            child,
            file,
            _dir: dir,
        }
    }

    /// Stop the capture: its raw bytes, and tshark's `fields` of the packets that match the
    /// display filter `display`, one tab-separated line each.
    pub fn finish(self, display: &str, fields: &[&str]) -> (Vec<u8>, Vec<String>) {
        self.finish_decoding(&[], display, fields)
    }

    /// [`Capture::finish`], reading with tshark's `-d` decode-as rules (`tcp.port==N,nbss` for
    /// SMB on a port of its own).
    pub fn finish_decoding(
        mut self,
        decode_as: &[&str],
        display: &str,
        fields: &[&str],
    ) -> (Vec<u8>, Vec<String>) {
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let raw = std::fs::read(&self.file).expect("the capture file");
        let mut cmd = Command::new("tshark");
        cmd.arg("-r").arg(&self.file);
        for d in decode_as {
            cmd.args(["-d", d]);
        }
        cmd.args(["-Y", display, "-T", "fields"]);
        for f in fields {
            cmd.args(["-e", f]);
        }
        let out = cmd.output().expect("tshark -r");
        let lines = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        (raw, lines)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
