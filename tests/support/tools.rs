//! Programs and files of the machine that tests outside the lab need (`bash`, `man`, `groff`,
//! bash-completion's loader). Missing, a test skips with a message, unless
//! `RPCAUDIT_LAB_REQUIRED` is set (scripts/test-all.sh sets it and installs them): then it
//! fails, as the lab tests do.

use std::path::{Path, PathBuf};

/// `program` found on PATH, or None after saying the test skips (failing instead when the
/// tools are required). `package` is the Debian package that brings it.
pub fn program(program: &str, package: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        missing(program, package);
    }
    found
}

/// The file at `path`, or None after saying the test skips (failing instead when required).
pub fn file(path: &str, package: &str) -> Option<PathBuf> {
    let found = Path::new(path).is_file().then(|| PathBuf::from(path));
    if found.is_none() {
        missing(path, package);
    }
    found
}

fn missing(what: &str, package: &str) {
    assert!(
        std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
        "{what} is required but not installed (Debian package {package})"
    );
    eprintln!("SKIPPED: {what} is not installed (Debian package {package})");
}
