//! The real public artifacts (`../shared/real/`, beside the checkout: files nobody on the
//! project wrote, listed with their sources in its SOURCES.md) and the independent readers the
//! tests check rpcaudit against (tshark, impacket, Samba's python `preg`, hivex). A missing
//! artifact skips with a message; a missing reader fails where `RPCAUDIT_LAB_REQUIRED` is set
//! (the README's test command installs them) and skips elsewhere.

use std::path::PathBuf;
use std::process::Command;

/// `../shared/real/NAME`, or None (said on stderr) when the folder or the file is absent.
pub fn artifact(name: &str) -> Option<PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real")
        .join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIPPED: the real artifact {} is absent", path.display());
        None
    }
}

/// True when `program` runs with `args` and succeeds (e.g. `python3 -c "import impacket"`);
/// otherwise false after saying so, or a failure where the readers are required.
pub fn reader(what: &str, program: &str, args: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
            "the independent reader {what} is required but missing"
        );
        eprintln!("SKIPPED: {what} is missing");
    }
    ok
}

/// Run `program args...`, which must succeed; its stdout.
pub fn stdout_of(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}
