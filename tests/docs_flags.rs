//! `rpcaudit help` and the guide agree: every flag of every command, nested ones too, as the
//! one clap definition (`rpcaudit::cli::Cli`) declares it, is documented in `docs/guide/` as a
//! code span that starts with it (`` `--timeout SECS` ``); every `` `--flag` `` the guide
//! documents is a flag of some command; and every command has an example there
//! (`rpcaudit policy lint ...`).

mod support;

use clap::CommandFactory;
use std::collections::{BTreeMap, BTreeSet};
use support::markdown::{self, Page};

/// Flags of other programs that the guide documents in code spans of their own. Empty today;
/// a page quoting, say, `samba-tool --targetdir` in prose adds it here.
const OTHER_PROGRAMS_FLAGS: &[&str] = &[];

/// Every visible flag of every command: `--long` and `-s`, each with the commands that take it
/// (`rpcaudit dump`, `rpcaudit policy lint`, ...).
fn declared() -> BTreeMap<String, BTreeSet<String>> {
    let mut cmd = rpcaudit::cli::Cli::command();
    cmd.build();
    let mut out = BTreeMap::new();
    walk(&cmd, "rpcaudit", &mut out);
    out
}

fn walk(cmd: &clap::Command, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let names = arg
            .get_long()
            .map(|l| format!("--{l}"))
            .into_iter()
            .chain(arg.get_short().map(|s| format!("-{s}")));
        for name in names {
            out.entry(name).or_default().insert(path.to_string());
        }
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        walk(sub, &format!("{path} {}", sub.get_name()), out);
    }
}

/// Every command path with no subcommand of its own (`rpcaudit audit`, `rpcaudit policy
/// lint`), clap's own `help` left out.
fn leaf_commands() -> Vec<String> {
    fn leaves(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let subs: Vec<_> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
            .collect();
        if subs.is_empty() {
            out.push(path.to_string());
        }
        for sub in subs {
            leaves(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
    let mut cmd = rpcaudit::cli::Cli::command();
    cmd.build();
    let mut out = Vec::new();
    leaves(&cmd, "rpcaudit", &mut out);
    out
}

/// The flag a code span documents: the span starts with `-`/`--` and a name, which ends at
/// the span's end or at a character that cannot continue it (`` `--os legacy|vista` `` →
/// `--os`; `` `-v` `` → `-v`).
fn documented_flag(span: &str) -> Option<&str> {
    let dashes = span.chars().take_while(|c| *c == '-').count();
    if !(1..=2).contains(&dashes) {
        return None;
    }
    let name_len = span[dashes..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .count();
    (name_len > 0).then(|| &span[..dashes + name_len])
}

/// The flags `pages` document, each with where (`file:line`).
fn documented(pages: &[Page]) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::<String, Vec<String>>::new();
    for page in pages {
        for (first, para) in markdown::paragraphs(&page.text) {
            for (line, span) in markdown::code_spans(&para) {
                if let Some(flag) = documented_flag(&span) {
                    out.entry(flag.to_string()).or_default().push(format!(
                        "{}:{}",
                        page.path.display(),
                        first + line
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn every_flag_help_lists_is_in_the_guide() {
    let declared = declared();
    // The walk sees the whole tree: the global flags, nested subcommands' flags.
    for expected in [
        "--verbose",
        "-q",
        "--help",
        "--store",
        "--src",
        "--require-auth",
    ] {
        assert!(
            declared.contains_key(expected),
            "{expected} not read from the clap definition"
        );
    }
    let documented = documented(&markdown::guide());
    let missing: Vec<String> = declared
        .iter()
        .filter(|(flag, _)| !documented.contains_key(*flag))
        .map(|(flag, cmds)| {
            let cmds: Vec<&str> = cmds.iter().map(String::as_str).collect();
            format!("{flag} (of {})", cmds.join(", "))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "flags `--help` lists that docs/guide/ does not document as `--flag ...`:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_long_flag_the_guide_documents_exists() {
    let declared = declared();
    let unknown: Vec<String> = documented(&markdown::guide())
        .into_iter()
        .filter(|(flag, _)| flag.starts_with("--"))
        .filter(|(flag, _)| !declared.contains_key(flag))
        .filter(|(flag, _)| !OTHER_PROGRAMS_FLAGS.contains(&flag.as_str()))
        .map(|(flag, at)| format!("{flag} at {}", at.join(", ")))
        .collect();
    assert!(
        unknown.is_empty(),
        "the guide documents flags no command has (renamed? removed?):\n{}",
        unknown.join("\n")
    );
}

#[test]
fn every_command_has_an_example_in_the_guide() {
    let text: String = markdown::guide().iter().map(|p| p.text.as_str()).collect();
    let leaves = leaf_commands();
    assert!(
        leaves.iter().any(|c| c == "rpcaudit policy lint"),
        "nested commands are walked: {leaves:?}"
    );
    let missing: Vec<&String> = leaves
        .iter()
        .filter(|cmd| !text.contains(&format!("{cmd} ")))
        .collect();
    assert!(
        missing.is_empty(),
        "commands the guide never shows being run: {missing:?}"
    );
}

#[test]
fn a_flag_is_read_from_the_start_of_a_code_span_only() {
    assert_eq!(documented_flag("--os legacy|vista"), Some("--os"));
    assert_eq!(documented_flag("--timeout-ms"), Some("--timeout-ms"));
    assert_eq!(documented_flag("-v"), Some("-v"));
    assert_eq!(documented_flag("--json`"), Some("--json"));
    assert_eq!(documented_flag("policy diff --store"), None);
    assert_eq!(documented_flag("---"), None);
    assert_eq!(documented_flag("-"), None);
    let page = Page {
        path: "docs/guide/x.md".into(),
        text: "`--user USER` and `--auth`\n```sh\n`--in-a-block`\n```\n".into(),
    };
    let found: Vec<String> = documented(&[page]).into_keys().collect();
    assert_eq!(found, ["--auth", "--user"]);
}
