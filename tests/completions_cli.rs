//! `rpcaudit completions SHELL` driven as a real binary: the bash script is one `bash -n`
//! accepts, and a bash that sources it completes the commands, the nested ones, the flags and
//! their values, both sourced directly and loaded by bash-completion from where the guide says
//! to put it; the other shells' scripts register for `rpcaudit` and name every command. Without
//! bash or bash-completion the tests skip, unless `RPCAUDIT_LAB_REQUIRED` is set
//! (scripts/test-all.sh installs them): then they fail.

mod support;

use clap::CommandFactory;
use std::path::Path;
use std::process::Command;
use support::tools;

/// Where Debian's bash-completion keeps its loader.
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

/// The top-level commands, as `--help` lists them (clap's `help` too: it is completed).
fn commands() -> Vec<String> {
    let mut cmd = rpcaudit::cli::Cli::command();
    cmd.build();
    cmd.get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect()
}

fn script(shell: &str) -> String {
    let (code, out, err) = support::run(&["completions", shell]);
    assert_eq!(code, 0, "completions {shell}: {err}");
    assert!(err.is_empty(), "completions {shell} wrote to stderr: {err}");
    out
}

/// What bash completes for the words `words` (the last one being typed), after `setup` (bash
/// code that makes the completion for `rpcaudit` known).
fn complete(bash: &Path, setup: &str, home: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let program = format!(
        r#"{setup}
spec=$(complete -p rpcaudit) || exit 10
fn=$(printf '%s\n' "$spec" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || exit 11
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$fn" rpcaudit "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        words = quoted.join(" "),
    );
    let out = Command::new(bash)
        .args(["--norc", "--noprofile", "-c", &program])
        .env("HOME", home)
        .env_remove("XDG_DATA_HOME")
        .env_remove("BASH_COMPLETION_USER_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash completing {words:?}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The completions a user meets: the commands after `rpcaudit `, the nested ones after
/// `rpcaudit policy `, a flag from its start, a flag's values.
fn check_completions(bash: &Path, setup: &str, home: &Path) {
    let top = complete(bash, setup, home, &["rpcaudit", ""]);
    for cmd in commands() {
        assert!(
            top.contains(&cmd),
            "`rpcaudit ` does not offer {cmd}: {top:?}"
        );
    }
    let policy = complete(bash, setup, home, &["rpcaudit", "policy", ""]);
    for cmd in ["lint", "explain", "range", "diff"] {
        assert!(
            policy.iter().any(|c| c == cmd),
            "`rpcaudit policy ` lacks {cmd}: {policy:?}"
        );
    }
    let flag = complete(bash, setup, home, &["rpcaudit", "dump", "--tra"]);
    assert_eq!(flag, ["--transport"]);
    let values = complete(bash, setup, home, &["rpcaudit", "dump", "--transport", ""]);
    assert_eq!(values, ["tcp", "http", "udp", "smb", "auto"]);
    let shells = complete(bash, setup, home, &["rpcaudit", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(
            shells.iter().any(|s| s == shell),
            "{shell} not offered: {shells:?}"
        );
    }
}

#[test]
fn bash_accepts_the_script_and_completes_commands_flags_and_values() {
    let Some(bash) = tools::program("bash", "bash") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpcaudit.bash");
    std::fs::write(&path, script("bash")).unwrap();
    let syntax = Command::new(&bash).arg("-n").arg(&path).output().unwrap();
    assert!(
        syntax.status.success() && syntax.stderr.is_empty(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    let setup = format!("source '{}' || exit 9", path.display());
    check_completions(&bash, &setup, dir.path());
}

/// The guide's install: the script in ~/.local/share/bash-completion/completions/rpcaudit,
/// loaded on demand by bash-completion the first time `rpcaudit` is completed.
#[test]
fn bash_completion_loads_the_script_from_where_the_guide_puts_it() {
    let Some(bash) = tools::program("bash", "bash") else {
        return;
    };
    let Some(loader) = tools::file(BASH_COMPLETION, "bash-completion") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".local/share/bash-completion/completions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rpcaudit"), script("bash")).unwrap();
    // Nothing is known for rpcaudit until the loader finds the file, as in a new shell.
    let setup = format!(
        "source '{}' || exit 9\ncomplete -p rpcaudit 2>/dev/null && exit 12\n_completion_loader rpcaudit",
        loader.display()
    );
    check_completions(&bash, &setup, home.path());
}

#[test]
fn every_shell_gets_a_script_that_registers_rpcaudit_and_names_every_command() {
    let registers = [
        ("zsh", "#compdef rpcaudit"),
        ("fish", "complete -c rpcaudit"),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'rpcaudit'",
        ),
        ("elvish", "edit:completion:arg-completer[rpcaudit]"),
    ];
    for (shell, registration) in registers {
        let text = script(shell);
        assert!(
            text.contains(registration),
            "{shell}: no `{registration}` in its script"
        );
        for cmd in commands() {
            assert!(text.contains(&cmd), "{shell}: {cmd} is not completed");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let (code, out, err) = support::run(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty());
    assert!(err.contains("tcsh"), "{err}");
}
