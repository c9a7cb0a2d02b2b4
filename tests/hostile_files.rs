//! Where results go (issue 24): report files are never written through a name another user
//! prepared, and output that could not be delivered is never a success.
//! - A symlink spray in a world-writable, non-sticky directory (every name the old scheme
//!   `.NAME.<pid>.tmp` could use for the next few thousand process ids, each a link to a victim
//!   file) before `--output`, `--json-lines --output`, `--html`, `--sarif` and `report render
//!   --html`: the victim is unchanged and each report is a regular file.
//! - A destination that is itself a symlink or a device is refused (exit 2), left as it was.
//! - stdout on /dev/full, and a pipe closed by its reader: exit 2 and a message, for every
//!   command that writes a result.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use support::{Fixture, article_policy, bin, fixture, run};

const PRECIOUS: &[u8] = b"root's file, not a report\n";

/// Symlinks to `victim` under every name `.NAME.<pid>.tmp` for the next `count` process ids.
fn spray(dir: &Path, names: &[&str], victim: &Path, count: u32) {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    for pid in last + 1..=last + count {
        for name in names {
            let _ = std::os::unix::fs::symlink(victim, dir.join(format!(".{name}.{pid}.tmp")));
        }
    }
}

#[test]
fn a_symlink_spray_never_redirects_a_report() {
    let f = Fixture::start(&["--tcp-endpoints", "3", "--tcp-ports", "5001-5003"]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, PRECIOUS).unwrap();
    let names = [
        "report.json",
        "lines.jsonl",
        "report.html",
        "report.sarif",
        "rendered.html",
    ];
    spray(&shared, &names, &victim, 3000);
    let p = |n: &str| shared.join(n).display().to_string();
    let (report, lines, html, sarif, rendered) = (
        p("report.json"),
        p("lines.jsonl"),
        p("report.html"),
        p("report.sarif"),
        p("rendered.html"),
    );
    let runs: Vec<Vec<&str>> = vec![
        support::audit_args(
            &port,
            &[
                "--no-probe",
                "--json",
                "--output",
                &report,
                "--html",
                &html,
                "--sarif",
                &sarif,
            ],
        ),
        support::audit_args(&port, &["--no-probe", "--json-lines", "--output", &lines]),
        vec!["report", "render", &report, "--html", &rendered],
    ];
    for args in &runs {
        let (code, out, err) = run(args);
        // 3: --no-probe leaves the fence unverified; the files are written all the same.
        assert!([0, 1, 3].contains(&code), "{args:?}: {code} {out}{err}");
        assert!(
            std::fs::read(&victim).unwrap() == PRECIOUS,
            "{args:?} wrote through a link"
        );
    }
    for name in names {
        let meta = std::fs::symlink_metadata(shared.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is a regular file");
        assert!(meta.len() > 0, "{name} is not empty");
    }
    // No temporary file of ours is left beside them.
    let ours = std::fs::read_dir(&shared)
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let regular = e.file_type().unwrap().is_file();
            let name = e.file_name().to_string_lossy().into_owned();
            (regular && !names.contains(&name.as_str())).then_some(name)
        })
        .collect::<Vec<_>>();
    assert!(ours.is_empty(), "left behind: {ours:?}");
}

#[test]
fn a_destination_that_is_a_link_or_a_device_is_refused() {
    let f = Fixture::start(&["--tcp-endpoints", "3"]);
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, PRECIOUS).unwrap();
    let link = dir.path().join("report.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let link = link.display().to_string();
    for flag in ["--output", "--html", "--sarif"] {
        let (code, _, err) = run(&support::audit_args(&port, &["--no-probe", flag, &link]));
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(err.contains("is a symbolic link"), "{flag}: {err}");
        assert_eq!(std::fs::read(&victim).unwrap(), PRECIOUS);
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    // As root, renaming over /dev/null would replace the device node itself.
    let (code, _, err) = run(&support::audit_args(
        &port,
        &["--no-probe", "--output", "/dev/null"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(
        !std::fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_file()
    );
}

/// Every command that writes a result, with the fixture at `port`.
fn result_commands(port: &str) -> Vec<Vec<String>> {
    let policy = article_policy().to_string();
    let range = fixture("policy/rpc-internet.reg").display().to_string();
    let store = fixture("policy/ipsec-store-kb908472.reg")
        .display()
        .to_string();
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<String>>();
    vec![
        s(&support::audit_args(port, &["--no-probe"])),
        s(&support::audit_args(port, &["--no-probe", "--json"])),
        s(&support::audit_args(port, &["--no-probe", "--json-lines"])),
        s(&["dump", "127.0.0.1", "--port", port]),
        s(&["dump", "127.0.0.1", "--port", port, "--json"]),
        s(&["dump", "127.0.0.1", "--port", port, "--json-lines"]),
        s(&["capacity", "127.0.0.1", "--port", port]),
        s(&["capacity", "127.0.0.1", "--port", port, "--json"]),
        s(&["probe", "127.0.0.1", "--ports", port]),
        s(&["probe", "127.0.0.1", "--ports", port, "--json"]),
        s(&["probe", "127.0.0.1", "--ports", port, "--json-lines"]),
        s(&["policy", "lint", &policy]),
        s(&["policy", "lint", &policy, "--json"]),
        s(&["policy", "range", &range]),
        s(&[
            "policy",
            "explain",
            &policy,
            "--src",
            "192.0.2.1",
            "--port",
            "135",
        ]),
        s(&["policy", "diff", &policy, "--store", &store]),
    ]
}

#[test]
fn a_result_that_cannot_be_written_to_stdout_is_exit_2() {
    let f = Fixture::start(&["--tcp-endpoints", "3"]);
    let port = f.port();
    for args in result_commands(&port) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(bin())
            .args(&args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("cannot write the result to stdout: No space left on device"),
            "{args:?}: {err}"
        );
        assert_eq!(err.matches("cannot write").count(), 1, "said once: {err}");
    }
}

#[test]
fn a_pipe_closed_by_its_reader_is_exit_2() {
    let f = Fixture::start(&["--tcp-endpoints", "3"]);
    let port = f.port();
    for args in result_commands(&port) {
        // The reader is gone before the command starts, so every write meets a closed pipe
        // (dropping the reader after the spawn raced a fast command that wrote first).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(bin())
            .args(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("the reader closed the pipe before the whole result was written"),
            "{args:?}: {err}"
        );
    }
}
