//! Issue 10 (terminal output) acceptance: text from the network or from files that holds
//! terminal escapes (OSC, CSI, BEL, CR, BS, LF, C1) and bidi overrides never reaches stdout or
//! stderr raw, from the real binary, whether the output is a pipe or a terminal (a pty from
//! util-linux `script`, where colours are on). Each test also checks that the escaped form is
//! visible (so it cannot pass by printing nothing) and that `--json` parses back to the exact
//! original strings. The hostile endpoint mapper is `rpcaudit lab serve --misbehave
//! hostile-text` on 127.0.0.1; the hostile policy, target and file names are written here.

mod support;

use rpcaudit::epm::server::hostile_text;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{Fixture, bin};

const SCRIPT: &str = "/usr/bin/script";

/// What must never reach a terminal raw, written out independently of the implementation:
/// C0 controls but LF and TAB, DEL, C1, bidi embeddings, overrides, isolates and marks, the
/// line and paragraph separators, and the invisible characters (zero-width space, joiners,
/// word joiner, invisible operators, BOM, interlinear annotation marks).
fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}'
        | '\u{b}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{61c}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{200b}'..='\u{200d}'
        | '\u{2060}'..='\u{2064}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}')
}

/// `text` without SGR sequences (`ESC [` digits and `;` then `m`), the only escapes allowed
/// on a terminal (our own colours).
fn without_sgr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let params = after
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b';')
            .count();
        if after.as_bytes().get(params) == Some(&b'm') {
            rest = &after[params + 1..];
        } else {
            // Not SGR: keep the ESC so the check below finds it.
            out.push('\x1b');
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Panic unless `bytes` is UTF-8 with no forbidden character (SGR allowed when `sgr`).
fn assert_inert(what: &str, bytes: &[u8], sgr: bool) -> String {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{what}: output is not UTF-8 ({e}): {bytes:?}"));
    let checked = if sgr {
        without_sgr(text)
    } else {
        text.to_string()
    };
    if let Some((i, c)) = checked.char_indices().find(|(_, c)| forbidden(*c)) {
        let from = checked[..i]
            .char_indices()
            .rev()
            .nth(60)
            .map_or(0, |(k, _)| k);
        panic!(
            "{what}: raw {c:?} reached the output: {:?}",
            &checked[from..(i + 20).min(checked.len())]
        );
    }
    text.to_string()
}

/// One run: exit code, stdout and stderr.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run the binary with pipes for stdout and stderr; both must be inert.
fn piped(args: &[&str]) -> Run {
    let out = Command::new(bin())
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run rpcaudit");
    let what = format!("{args:?} (pipes)");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: assert_inert(&format!("{what} stdout"), &out.stdout, false),
        stderr: assert_inert(&format!("{what} stderr"), &out.stderr, false),
    }
}

/// `arg` quoted for `sh`: control characters are literal inside single quotes.
fn sh_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

/// Run the binary on a pty (util-linux `script`), stdout and stderr both to the terminal,
/// colours on, 1000 columns so that no cell is wrapped; the merged output must be inert except for SGR colours. Returns (code, output).
fn on_terminal(args: &[&str]) -> (i32, String) {
    assert!(
        Path::new(SCRIPT).exists(),
        "{SCRIPT} is missing: install util-linux's script (Debian package bsdutils)"
    );
    let mut cmd = format!(
        "stty cols 1000 rows 50 -onlcr 2>/dev/null; exec {}",
        sh_quote(bin())
    );
    for a in args {
        cmd.push(' ');
        cmd.push_str(&sh_quote(a));
    }
    let out = Command::new(SCRIPT)
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .output()
        .expect("run rpcaudit under script");
    let text = assert_inert(&format!("{args:?} (terminal)"), &out.stdout, true);
    (out.status.code().unwrap_or(-1), text)
}

/// Both ways; returns the piped run and the terminal's output.
fn both(args: &[&str]) -> (Run, String) {
    let p = piped(args);
    let (code, t) = on_terminal(args);
    assert_eq!(code, p.code, "{args:?}: exit code on a terminal\n{t}");
    (p, t)
}

fn hostile_fixture() -> Fixture {
    Fixture::start(&["--misbehave", "hostile-text"])
}

/// The escaped forms that must be visible where the hostile annotation is shown.
const ANNOTATION_SHOWN: &[&str] = &[
    "\\x1b]0;pwned\\x07DRS\\x1b[2J\\x0d\\x08\\u{202e}",
    "\\u{9b}",
];

#[test]
fn dump_table_and_json() {
    let f = hostile_fixture();
    let port = f.port();
    let args = ["dump", "127.0.0.1", "--port", &port];
    let (p, t) = both(&args);
    assert_eq!(p.code, 0, "{}", p.stderr);
    for text in [&p.stdout, &t] {
        for shown in ANNOTATION_SHOWN {
            assert!(text.contains(shown), "{shown} not in\n{text}");
        }
        // The pipe, its host and the ncalrpc endpoint, escaped inside their bindings.
        assert!(
            text.contains(
                "ncacn_np:\\\\EVIL\\x1b[2J\\x0d\\x08\\u{202e}HOST[\\PIPE\\\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}lsass]"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "LRPC-\\x1b]8;;http://x/\\x07link\\x1b]8;;\\x07\\x1b[31m\\u{200e}\\u{61c}"
            ),
            "{text}"
        );
        // The LF in an annotation does not start a row of its own.
        assert!(text.contains("x\\x0a│ fake-row"), "{text}");
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start_matches(['│', ' ']).starts_with("fake-row")),
            "{text}"
        );
    }

    // -vv: the log lines go through the same backstop.
    let v = piped(&["dump", "127.0.0.1", "--port", &port, "-vv"]);
    assert_eq!(v.code, 0, "{}", v.stderr);

    let (j, t) = both(&["dump", "127.0.0.1", "--port", &port, "--json"]);
    assert_eq!(j.code, 0);
    for text in [&j.stdout, &t] {
        let text = without_sgr(text);
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let eps = v["hosts"][0]["endpoints"].as_array().expect("endpoints");
        assert_eq!(eps[0]["annotation"], hostile_text::ANNOTATION);
        assert_eq!(eps[1]["annotation"], hostile_text::ANNOTATION_ROW);
        assert_eq!(eps[2]["address"], hostile_text::HOST);
        assert_eq!(
            eps[2]["binding"],
            format!(
                "ncacn_np:\\\\{}[{}]",
                hostile_text::HOST,
                hostile_text::PIPE
            )
        );
        assert_eq!(
            eps[3]["binding"],
            format!("ncalrpc:[{}]", hostile_text::LRPC)
        );
        // Written as escapes, which is why the raw check above passed.
        assert!(
            text.contains("\\u202e") && text.contains("\\u009b"),
            "{text}"
        );
    }
}

#[test]
fn capacity_table_and_a_hostile_config_file_name() {
    let f = hostile_fixture();
    let port = f.port();
    let (p, t) = both(&["capacity", "127.0.0.1", "--port", &port]);
    // 30 + 2 TCP registrations fill the article's 21 ports: range-exhausted, exit 1.
    assert_eq!(p.code, 1, "{}", p.stderr);
    assert!(p.stdout.contains("range-exhausted"), "{}", p.stdout);
    assert!(t.contains("range-exhausted"), "{t}");

    let name = "cfg\x1b]0;pwned\x07\x1b[2J\u{202e}.reg";
    let (e, t) = both(&["capacity", "127.0.0.1", "--port", &port, "--config", name]);
    assert_eq!(e.code, 2);
    let shown = "cfg\\x1b]0;pwned\\x07\\x1b[2J\\u{202e}.reg";
    assert!(e.stderr.contains(shown), "{}", e.stderr);
    assert!(t.contains(shown), "{t}");
}

/// A netsh rule and a PowerShell rule with hostile names, a parse error quoting a hostile and
/// long value, in files whose names are hostile too.
fn hostile_policy(dir: &Path) -> (PathBuf, PathBuf) {
    let netsh = dir.join("fw\x1b[2J.cmd");
    let long = "A".repeat(300);
    std::fs::write(
        &netsh,
        format!(
            "netsh advfirewall firewall add rule name=\"Block RPC 5009 x\x1b[2Jy\x1b]0;pwned\x07\" dir=in action=block protocol=TCP localport=5001-5003 remoteip=any\r\n\
             netsh advfirewall firewall add rule name=\"bad\" dir=side\x1b[31mways\x07{long} action=block protocol=TCP localport=5004\r\n"
        ),
    )
    .unwrap();
    let ps = dir.join("rules\u{202e}1sp.ps1");
    std::fs::write(
        &ps,
        "New-NetFirewallRule -DisplayName 'RPC \u{202e}exe.txt\x1b]0;pwned\x07\u{200b}ad\u{2060}min\u{feff}\u{2028}' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 5001-5003 -RemoteAddress 10.1.1.0/24\n",
    )
    .unwrap();
    (netsh, ps)
}

const NETSH_RULE: &str = "Block RPC 5009 x\x1b[2Jy\x1b]0;pwned\x07";
const NETSH_RULE_SHOWN: &str = "Block RPC 5009 x\\x1b[2Jy\\x1b]0;pwned\\x07";
const PS_RULE: &str = "RPC \u{202e}exe.txt\x1b]0;pwned\x07\u{200b}ad\u{2060}min\u{feff}\u{2028}";
const PS_RULE_SHOWN: &str =
    "RPC \\u{202e}exe.txt\\x1b]0;pwned\\x07\\u{200b}ad\\u{2060}min\\u{feff}\\u{2028}";

#[test]
fn audit_and_lint_with_hostile_rule_and_file_names() {
    let f = hostile_fixture();
    let port = f.port();
    let dir = tempfile::tempdir().unwrap();
    let (netsh, ps) = hostile_policy(dir.path());
    let (netsh, ps) = (netsh.to_str().unwrap(), ps.to_str().unwrap());
    let audit = [
        "audit",
        "127.0.0.1",
        "--port",
        &port,
        "--policy",
        netsh,
        "--policy",
        ps,
        "--range",
        "5001-5021",
    ];
    let (p, t) = both(&audit);
    assert_eq!(p.code, 1, "{}", p.stderr);
    for text in [&p.stdout, &t] {
        for shown in [
            NETSH_RULE_SHOWN,
            PS_RULE_SHOWN,
            "fw\\x1b[2J.cmd",
            "rules\\u{202e}1sp.ps1",
            // The quoted value is cut to 80 characters.
            "direction 'side\\x1b[31mways\\x07AAAA",
        ] {
            assert!(text.contains(shown), "{shown} not in\n{text}");
        }
        assert!(text.contains("AAAA…' is not in/out"), "{text}");
        assert!(!text.contains(&"A".repeat(100)), "{text}");
    }
    // The terminal run is coloured: our SGR sequences pass.
    assert!(t.contains("\x1b[1;31mNOT COMPLIANT\x1b[0m"), "{t}");

    let mut json_args = audit.to_vec();
    json_args.push("--json");
    let (j, t) = both(&json_args);
    assert_eq!(j.code, 1);
    for text in [&j.stdout, &t] {
        let v: Value = serde_json::from_str(&without_sgr(text)).unwrap();
        support::assert_valid_report(&v);
        for (code, rule) in [("leak", NETSH_RULE), ("allow-shadowed", PS_RULE)] {
            let finding = *support::findings_with(&v, code)
                .first()
                .unwrap_or_else(|| panic!("a {code} finding"));
            assert!(
                finding["message"].as_str().unwrap().contains(rule),
                "{finding}"
            );
        }
        let files = support::strs(&v["inputs"]["policy_files"], "path");
        assert_eq!(files, [netsh, ps]);
        assert_eq!(
            v["hosts"][0]["endpoints"][0]["annotation"],
            hostile_text::ANNOTATION
        );
    }

    let (l, t) = both(&["policy", "lint", netsh, ps]);
    assert_eq!(l.code, 1, "{}", l.stderr);
    for text in [&l.stdout, &t] {
        assert!(text.contains(NETSH_RULE_SHOWN), "{text}");
        assert!(text.contains(PS_RULE_SHOWN), "{text}");
    }
    let (e, t) = both(&[
        "policy", "explain", netsh, ps, "--src", "10.1.1.7", "--port", "5001",
    ]);
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert!(e.stdout.contains(NETSH_RULE_SHOWN), "{}", e.stdout);
    assert!(t.contains(NETSH_RULE_SHOWN), "{t}");
}

#[test]
fn demo_is_inert_and_keeps_its_colours() {
    let _demo = support::demo_lock();
    let (p, t) = both(&["demo"]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert!(p.stdout.contains("NOT COMPLIANT"), "{}", p.stdout);
    assert!(!p.stdout.contains('\x1b'));
    assert!(t.contains("\x1b[1;31mNOT COMPLIANT\x1b[0m"), "{t}");
}

#[test]
fn hostile_target_lines_file_names_and_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.txt");
    std::fs::write(&targets, "host\x1b]0;pwned\x07\u{202e}name\n").unwrap();
    let at = format!("@{}", targets.display());
    let (p, t) = both(&["dump", &at]);
    assert_eq!(p.code, 2);
    let shown = "target `host\\x1b]0;pwned\\x07\\u{202e}name`";
    assert!(p.stderr.contains(shown), "{}", p.stderr);
    assert!(t.contains(shown), "{t}");

    // A long line is quoted as its first 80 characters.
    std::fs::write(&targets, format!("\x1b[2J{}\n", "B".repeat(500))).unwrap();
    let (p, _) = both(&["dump", &at]);
    assert_eq!(p.code, 2);
    assert!(p.stderr.contains("target `\\x1b[2JBBBB"), "{}", p.stderr);
    assert!(p.stderr.contains("B…`"), "{}", p.stderr);
    assert!(!p.stderr.contains(&"B".repeat(100)), "{}", p.stderr);

    // A file name that cannot be read.
    let missing = format!("@{}/t\x1b]0;pwned\x07\r\u{202e}.txt", dir.path().display());
    let (p, t) = both(&["dump", &missing]);
    assert_eq!(p.code, 2);
    let shown = "t\\x1b]0;pwned\\x07\\x0d\\u{202e}.txt";
    assert!(p.stderr.contains(shown), "{}", p.stderr);
    assert!(t.contains(shown), "{t}");

    // Clap's own message quotes the argument.
    let (p, t) = both(&["dump", "127.0.0.1", "--port", "\r\u{202e}\x07\x08"]);
    assert_eq!(p.code, 2);
    assert!(p.stderr.contains("\\x0d\\u{202e}"), "{}", p.stderr);
    assert!(t.contains("\\x0d\\u{202e}"), "{t}");
}
