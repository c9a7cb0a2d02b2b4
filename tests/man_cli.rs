//! `rpcaudit man` driven as a real binary: groff reads the page without a warning, `man -l`
//! renders it, and the rendered page names every command (nested ones by their whole name)
//! and every flag `--help` lists, and says what each exit code means as the README's table
//! does. Without man or groff the tests skip, unless `RPCAUDIT_LAB_REQUIRED` is set
//! (scripts/test-all.sh installs man-db and groff-base): then they fail.

mod support;

use clap::CommandFactory;
use std::path::Path;
use std::process::Command;
use support::{markdown, tools};

/// The page `rpcaudit man` prints, written to a file in `dir`.
fn page(dir: &Path) -> std::path::PathBuf {
    let (code, out, err) = support::run(&["man"]);
    assert_eq!(code, 0, "man: {err}");
    assert!(err.is_empty(), "man wrote to stderr: {err}");
    assert!(
        out.starts_with(".ie "),
        "not roff: {}",
        &out[..out.len().min(80)]
    );
    let path = dir.join("rpcaudit.1");
    std::fs::write(&path, out).unwrap();
    path
}

/// Every command path (`rpcaudit policy lint`) and every long flag, from the clap definition.
fn commands_and_flags() -> (Vec<String>, Vec<String>) {
    fn walk(cmd: &clap::Command, path: &str, cmds: &mut Vec<String>, flags: &mut Vec<String>) {
        flags.extend(
            cmd.get_arguments()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}"))),
        );
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = format!("{path} {}", sub.get_name());
            cmds.push(path.clone());
            walk(sub, &path, cmds, flags);
        }
    }
    let mut cmd = rpcaudit::cli::Cli::command();
    cmd.build();
    let (mut cmds, mut flags) = (Vec::new(), Vec::new());
    walk(&cmd, "rpcaudit", &mut cmds, &mut flags);
    flags.sort();
    flags.dedup();
    (cmds, flags)
}

#[test]
fn groff_reads_the_page_without_a_warning() {
    let Some(groff) = tools::program("groff", "groff-base") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = page(dir.path());
    // -ww: every warning; -z: format, print nothing.
    let out = Command::new(groff)
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "groff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The page as `man -l` shows it, on a line wide enough that nothing is broken or hyphenated,
/// with runs of white space made one space.
fn rendered() -> Option<String> {
    let man = tools::program("man", "man-db")?;
    let dir = tempfile::tempdir().unwrap();
    let page = page(dir.path());
    let out = Command::new(man)
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "1000")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env_remove("MAN_KEEP_FORMATTING")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "man -l: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn man_renders_the_page_and_it_names_every_command_and_flag() {
    let Some(text) = rendered() else {
        return;
    };
    assert!(
        text.starts_with("rpcaudit(1)"),
        "{}",
        &text[..text.len().min(200)]
    );
    let (cmds, flags) = commands_and_flags();
    assert!(cmds.iter().any(|c| c == "rpcaudit policy lint"), "{cmds:?}");
    for cmd in &cmds {
        assert!(
            text.contains(cmd.as_str()),
            "the man page does not name {cmd}"
        );
    }
    // man renders a hyphen as U+2010 where groff may break a line; the flags have none there.
    for flag in &flags {
        assert!(
            text.contains(flag.as_str()),
            "the man page does not name {flag}"
        );
    }
    for section in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "COMMANDS",
        "EXIT STATUS",
        "ENVIRONMENT",
    ] {
        assert!(text.contains(section), "no {section} section");
    }
}

#[test]
fn the_exit_codes_mean_what_the_readme_says() {
    let Some(text) = rendered() else {
        return;
    };
    let readme = markdown::page("README.md");
    let rows: Vec<(String, String)> = readme
        .text
        .split("\n## Exit codes\n")
        .nth(1)
        .expect("README has an Exit codes section")
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", code, meaning, ""] if code.parse::<u8>().is_ok() => {
                    Some((code.to_string(), meaning.to_string()))
                }
                _ => None,
            }
        })
        .collect();
    assert_eq!(rows.len(), 4, "README exit codes: {rows:?}");
    let status = text
        .split("EXIT STATUS")
        .nth(1)
        .expect("an EXIT STATUS section");
    for (code, meaning) in rows {
        assert!(
            status.contains(&format!("{code} {meaning}")),
            "man page EXIT STATUS lacks \"{code} {meaning}\""
        );
    }
}
