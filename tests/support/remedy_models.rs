//! Small models of how cmd.exe and PowerShell read one line of a script, for the fix-script
//! tests. They are deliberately stricter than the shells: anything a shell would *do* with a
//! line other than run one command with plain arguments (expand a variable, start a second
//! command, redirect, continue on the next line, start a comment) is an error, so a test that
//! gets `Ok` knows the line is one command whose arguments are exactly the returned words.
//!
//! Sources for the rules: "How does the Windows Command Interpreter (CMD.EXE) parse scripts?"
//! (phase 1 percent expansion, phase 2 special characters `^ & | < > ( )` and quote state,
//! phase 5 delayed `!` expansion), the MS C runtime's argument parsing ("Parsing C++
//! command-line arguments": backslashes before a quote), and the PowerShell language
//! specification, 2.3 (comments, `#`), 2.3.5 (single-quoted strings: any of U+0027, U+2018,
//! U+2019, U+201A, U+201B opens and closes one, a doubled one is one character), 2.3.5.2
//! (expandable strings: `"`, U+201C, U+201D, U+201E; backtick escapes; `$` expands), 2.2.4
//! (statement separators `;`, pipelines `|`, `&&`/`||`), 2.3.4 (`` ` `` line continuation).

#![allow(dead_code)]

/// What a model refuses to accept in a line.
pub type ModelError = String;

/// cmd.exe, one line of a batch file: returns the commands on it (more than one means a
/// separator outside quotes), each as its argument vector after the C runtime's parsing.
///
/// - Phase 1: any `%` is an error (batch files expand `%name%` even inside quotes; `%~` with a
///   bad modifier aborts the whole script).
/// - Any `!` is an error (expanded when delayed expansion is on).
/// - CR, LF (a new line), NUL and other control characters are errors.
/// - Phase 2: `"` toggles the quote state; outside quotes `^` escapes the next character (an
///   error here: we write none) and a trailing `^` continues the line; `&`, `|` (also `&&`,
///   `||`) start another command; `<`, `>` redirect (error); inside quotes all of these are
///   plain text.
pub fn cmd_line(line: &str) -> Result<Vec<Vec<String>>, ModelError> {
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(format!("control character U+{:04X}", u32::from(c)));
    }
    if line.contains('%') {
        return Err("% expands a variable".into());
    }
    if line.contains('!') {
        return Err("! expands a variable under delayed expansion".into());
    }
    let mut commands: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                quoted = false;
            }
            cur.push(c);
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                cur.push(c);
            }
            '^' => {
                return Err(match chars.peek() {
                    None => "a trailing ^ continues the line".into(),
                    Some(_) => "^ escapes a character outside quotes".into(),
                });
            }
            '&' | '|' => {
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                commands.push(std::mem::take(&mut cur));
            }
            '<' | '>' => return Err("redirection outside quotes".into()),
            _ => cur.push(c),
        }
    }
    if quoted {
        // cmd accepts an unclosed quote; our scripts never write one.
        return Err("unclosed double quote".into());
    }
    commands.push(cur);
    Ok(commands.iter().map(|c| argv(c)).collect())
}

/// The MS C runtime's argument splitting (what ipseccmd.exe, netsh.exe and reg.exe get):
/// white space outside quotes separates; `"` toggles quoting and is removed; `2n` backslashes
/// before a `"` are `n` backslashes and the quote toggles; `2n+1` are `n` backslashes and a
/// literal `"`; backslashes elsewhere are literal; `""` inside quotes is a literal `"`.
pub fn argv(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut quoted = false;
    let chars: Vec<char> = cmd.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let start = i;
                while i < chars.len() && chars[i] == '\\' {
                    i += 1;
                }
                let n = i - start;
                if i < chars.len() && chars[i] == '"' {
                    cur.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        cur.push('"');
                        i += 1;
                    }
                } else {
                    cur.extend(std::iter::repeat_n('\\', n));
                }
                has = true;
                continue;
            }
            '"' => {
                if quoted && chars.get(i + 1) == Some(&'"') {
                    cur.push('"');
                    i += 1;
                } else {
                    quoted = !quoted;
                }
                has = true;
            }
            ' ' | '\t' if !quoted => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            _ => {
                cur.push(c);
                has = true;
            }
        }
        i += 1;
    }
    if has {
        out.push(cur);
    }
    out
}

/// A cmd comment line (`rem ...`) that stays a comment: no `%` (phase 1 expands it, and `%~`
/// can abort the script), no `!`, no `^` (a trailing one would join the next line to the
/// comment), no control characters.
pub fn cmd_comment(line: &str) -> Result<(), ModelError> {
    let lower = line.to_ascii_lowercase();
    if !(lower == "rem" || lower.starts_with("rem ")) {
        return Err("not a rem line".into());
    }
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(format!("control character U+{:04X}", u32::from(c)));
    }
    if line.contains(['%', '!', '^']) {
        return Err("% ! or ^ in a comment".into());
    }
    Ok(())
}

pub const PS_SINGLE: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201a}', '\u{201b}'];
pub const PS_DOUBLE: [char; 4] = ['"', '\u{201c}', '\u{201d}', '\u{201e}'];

/// A parenthesised expression at the start of `rest` (which starts with `(`), in argument
/// mode: PowerShell runs whatever is inside. The model accepts only a concatenation of
/// single-quoted strings and `[char]0xHHHH` casts that starts with a string (so `+` joins
/// strings), `('Remote' + [char]0x00FC + 'ber')`, and returns the string it makes (the casts
/// are UTF-16 code units) and the characters read; anything else is an error.
pub fn ps_paren_string(rest: &[char]) -> Result<(String, usize), ModelError> {
    let bad = || "( runs what is inside it".to_string();
    let mut i = 1;
    let mut units: Vec<u16> = Vec::new();
    let mut parts = 0;
    loop {
        while rest.get(i) == Some(&' ') {
            i += 1;
        }
        let c = *rest.get(i).ok_or_else(bad)?;
        if PS_SINGLE.contains(&c) {
            i += 1;
            loop {
                let q = *rest.get(i).ok_or("unclosed single-quoted string")?;
                i += 1;
                if PS_SINGLE.contains(&q) {
                    match rest.get(i) {
                        Some(n) if PS_SINGLE.contains(n) => {
                            units.extend(n.encode_utf16(&mut [0; 2]).iter());
                            i += 1;
                        }
                        _ => break,
                    }
                } else {
                    units.extend(q.encode_utf16(&mut [0; 2]).iter());
                }
            }
        } else if parts > 0 {
            let cast: String = rest.iter().skip(i).take(8).collect();
            if !cast.eq_ignore_ascii_case("[char]0x") {
                return Err(bad());
            }
            i += 8;
            let hex: String = rest
                .iter()
                .skip(i)
                .take_while(|c| c.is_ascii_hexdigit())
                .collect();
            if hex.is_empty() || hex.len() > 4 {
                return Err(bad());
            }
            i += hex.len();
            units.push(u16::from_str_radix(&hex, 16).map_err(|_| bad())?);
        } else {
            return Err(bad());
        }
        parts += 1;
        while rest.get(i) == Some(&' ') {
            i += 1;
        }
        match rest.get(i) {
            Some('+') => i += 1,
            Some(')') => {
                let s = String::from_utf16(&units).map_err(|_| "a lone surrogate".to_string())?;
                return Ok((s, i + 1));
            }
            _ => return Err(bad()),
        }
    }
}

/// PowerShell, one line: the words of the one statement on it. Strings are decoded.
///
/// - Outside quotes: white space separates words; `;`, `|`, `&` end the statement (error);
///   `#` at the start of a word starts a comment (error: a command line must not hold one);
///   `$` is a variable or `$(` a subexpression (error); a backtick escapes the next character,
///   or continues the line at its end (error); `<#` opens a block comment (caught by `#`).
///   `( ) { } ,` are kept in the words, as they are structure of our `if (...) {` lines.
/// - Single-quoted strings: any of the five quote characters opens and closes one; two in a
///   row inside are one (the second).
/// - Double-quoted strings: any of the four double quotes opens and closes; a backtick escapes
///   the next character; `$` expands (error); two quotes in a row are one.
/// - A word that starts with `(` is an expression: only [`ps_paren_string`]'s form, or the
///   `(Get-NetFirewallRule` of our `if` lines (whose shape `ps_shape` checks).
/// - Control characters (CR, LF, ...) are errors.
pub fn ps_line(line: &str) -> Result<Vec<String>, ModelError> {
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(format!("control character U+{:04X}", u32::from(c)));
    }
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '(' && cur.is_none() {
            let rest: Vec<char> = std::iter::once(c).chain(chars.clone()).collect();
            let ours: String = rest.iter().take(21).collect();
            if ours != "(Get-NetFirewallRule " {
                let (s, n) = ps_paren_string(&rest)?;
                for _ in 1..n {
                    chars.next();
                }
                if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                    return Err("text after a parenthesised expression".into());
                }
                cur = Some(s);
                continue;
            }
        }
        let quoting = if PS_SINGLE.contains(&c) {
            Some((&PS_SINGLE[..], "single"))
        } else if PS_DOUBLE.contains(&c) {
            Some((&PS_DOUBLE[..], "double"))
        } else {
            None
        };
        if let Some((quotes, kind)) = quoting {
            let double = kind == "double";
            let w = cur.get_or_insert_with(String::new);
            loop {
                match chars.next() {
                    None => return Err(format!("unclosed {kind}-quoted string")),
                    Some('`') if double => match chars.next() {
                        Some(x) => w.push(x),
                        None => return Err("backtick at the end".into()),
                    },
                    Some('$') if double => {
                        return Err("$ expands in a double-quoted string".into());
                    }
                    Some(q) if quotes.contains(&q) => match chars.peek() {
                        Some(&n) if quotes.contains(&n) => {
                            w.push(n);
                            chars.next();
                        }
                        _ => break,
                    },
                    Some(x) => w.push(x),
                }
            }
        } else if c.is_whitespace() {
            words.extend(cur.take());
        } else {
            match c {
                ';' | '|' | '&' => return Err(format!("'{c}' ends the statement")),
                '#' if cur.is_none() => return Err("# starts a comment".into()),
                '$' => return Err("$ is a variable or subexpression".into()),
                '`' => return Err("backtick escape or continuation outside quotes".into()),
                '@' if cur.is_none() => return Err("@ starts a splat, array or here-string".into()),
                '<' | '>' => return Err("redirection".into()),
                _ => cur.get_or_insert_with(String::new).push(c),
            }
        }
    }
    words.extend(cur);
    Ok(words)
}

/// A PowerShell comment line that stays one: `#` first, no control characters.
pub fn ps_comment(line: &str) -> Result<(), ModelError> {
    if !line.starts_with('#') {
        return Err("not a # line".into());
    }
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(format!("control character U+{:04X}", u32::from(c)));
    }
    Ok(())
}

/// The literal text a PowerShell wildcard pattern matches when it has no live wildcard:
/// backticks removed from `` `x ``; `None` when a `* ? [ ]` is not escaped.
pub fn ps_wildcard_literal(pattern: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '`' => out.push(chars.next().unwrap_or('`')),
            '*' | '?' | '[' | ']' => return None,
            x => out.push(x),
        }
    }
    Some(out)
}

/// The values from the policy files a script is meant to name.
#[derive(Debug, Default, Clone)]
pub struct Intended<'a> {
    /// The IPsec policy (`-p`, `policy=`, `set policy name=`).
    pub policy: Option<&'a str>,
    /// The ipseccmd store (`-w`), compared without regard to case.
    pub store: Option<&'a str>,
    /// The firewall rule a `set rule` / `Set-` / `Disable-NetFirewallRule` narrows.
    pub fw_rule: Option<&'a str>,
}

/// Names of ours: what a value with a space in it may be when it is not an intended name.
const OUR_PREFIXES: &[&str] = &[
    "Block Inbound TCP ",
    "Allow Inbound TCP ",
    "rpcaudit ",
    "Keep blocking ",
    "KB908472",
];

fn plain(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".:/,*=+-_\\()".contains(c))
}

fn ours(v: &str) -> bool {
    OUR_PREFIXES.iter().any(|p| v.starts_with(p))
}

/// The text of a script's bytes as a shell reads them when the file has no BOM and is not
/// taken for UTF-8: Windows PowerShell 5.1 reads a `.ps1` in the ANSI code page (1252 in
/// western Europe), where the UTF-8 bytes of U+0451 (`D1 91`) read as `Ñ` and U+2018, a quote.
pub fn as_cp1252(script: &str) -> String {
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(script.as_bytes())
        .0
        .into_owned()
}

/// Check every line of a fix script with the dialect's model, reading its bytes both as
/// UTF-8 and as code page 1252: comments stay comments, each command line is exactly one
/// command of a shape remedy writes, every argument that names the policy, its store or the
/// narrowed firewall rule decodes to the intended value, both readings give the same commands,
/// and the script is ASCII.
pub fn check_script(powershell: bool, script: &str, want: &Intended) -> Result<(), String> {
    let as_utf8 = read_script(powershell, script, want)?;
    let ansi = as_cp1252(script);
    let as_ansi =
        read_script(powershell, &ansi, want).map_err(|e| format!("read as code page 1252: {e}"))?;
    if as_utf8 != as_ansi {
        return Err("the commands read differently as UTF-8 and as code page 1252".into());
    }
    if let Some(c) = script.chars().find(|c| !c.is_ascii()) {
        return Err(format!("U+{:04X} is not ASCII", u32::from(c)));
    }
    Ok(())
}

/// The commands of a script, each as its words, after the checks of [`check_script`].
fn read_script(
    powershell: bool,
    script: &str,
    want: &Intended,
) -> Result<Vec<Vec<String>>, String> {
    let nl = if powershell { "\n" } else { "\r\n" };
    let body = script
        .strip_suffix(nl)
        .ok_or("the script does not end with a line end")?;
    let mut out = Vec::new();
    for (n, line) in body.split(nl).enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if powershell {
            if line.starts_with('#') {
                ps_comment(line).map_err(at)?;
                continue;
            }
            let words = ps_line(line).map_err(at)?;
            ps_shape(&words, want).map_err(at)?;
            out.push(words);
        } else {
            if line == "@echo off" {
                continue;
            }
            if line.to_ascii_lowercase().starts_with("rem") {
                cmd_comment(line).map_err(at)?;
                continue;
            }
            let commands = cmd_line(line).map_err(at)?;
            let [args] = commands.as_slice() else {
                return Err(at(format!("{} commands on one line", commands.len())));
            };
            cmd_shape(args, want).map_err(at)?;
            out.push(args.clone());
        }
    }
    Ok(out)
}

fn value_ok(v: &str, want: &Intended) -> bool {
    plain(v) || ours(v) || Some(v) == want.policy || Some(v) == want.fw_rule
}

fn cmd_shape(args: &[String], want: &Intended) -> Result<(), String> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["ipseccmd.exe", "-w", store, "-p", pol, rest @ ..] => {
            if let Some(s) = want.store
                && !store.eq_ignore_ascii_case(s)
            {
                return Err(format!("store {store:?}, meant {s:?}"));
            }
            if Some(*pol) != want.policy {
                return Err(format!("policy {pol:?}, meant {:?}", want.policy));
            }
            match rest {
                ["-x"] => Ok(()),
                ["-r", rule, "-f", tail @ ..] => {
                    let (filters, action) = tail.split_at(tail.len().saturating_sub(2));
                    let rule_ok =
                        ours(rule) || rule.ends_with(" Rule") || rule.ends_with(" Rule (rpcaudit)");
                    if rule_ok
                        && !filters.is_empty()
                        && filters.iter().all(|f| plain(f))
                        && matches!(action, ["-n", "BLOCK" | "PASS"])
                    {
                        Ok(())
                    } else {
                        Err("not -r RULE -f FILTERS -n BLOCK|PASS".into())
                    }
                }
                _ => Err("unexpected ipseccmd arguments".into()),
            }
        }
        ["netsh", "ipsec", "static", verb, object, kv @ ..] => {
            if !matches!(*verb, "add" | "delete" | "set")
                || !matches!(
                    *object,
                    "filteraction" | "policy" | "filterlist" | "filter" | "rule"
                )
            {
                return Err("unexpected netsh ipsec command".into());
            }
            for w in kv {
                let (k, v) = w.split_once('=').ok_or("not key=value")?;
                if !matches!(
                    k,
                    "name"
                        | "action"
                        | "description"
                        | "assign"
                        | "policy"
                        | "filterlist"
                        | "filteraction"
                        | "srcaddr"
                        | "srcmask"
                        | "dstaddr"
                        | "protocol"
                        | "dstport"
                ) || !value_ok(v, want)
                {
                    return Err(format!("unexpected {w:?}"));
                }
                let names_policy = k == "policy" || (*object == "policy" && k == "name");
                if names_policy && Some(v) != want.policy {
                    return Err(format!("policy {v:?}, meant {:?}", want.policy));
                }
            }
            Ok(())
        }
        ["netsh", "advfirewall", "firewall", verb, "rule", kv @ ..] => {
            let mut after_new = false;
            for w in kv {
                if *w == "new" && *verb == "set" {
                    after_new = true;
                    continue;
                }
                let (k, v) = w.split_once('=').ok_or("not key=value")?;
                if !matches!(
                    k,
                    "name" | "dir" | "action" | "protocol" | "localport" | "remoteip" | "enable"
                ) || !value_ok(v, want)
                {
                    return Err(format!("unexpected {w:?}"));
                }
                if *verb == "set" && k == "name" && !after_new && Some(v) != want.fw_rule {
                    return Err(format!("narrows {v:?}, meant {:?}", want.fw_rule));
                }
            }
            match *verb {
                "add" | "delete" => Ok(()),
                "set" if after_new => Ok(()),
                _ => Err("unexpected netsh advfirewall command".into()),
            }
        }
        ["rpccfg.exe", "-pe", rest @ ..] if rest.iter().all(|w| plain(w)) => Ok(()),
        ["reg", "add", rest @ ..] if rest.iter().all(|w| plain(w)) => Ok(()),
        _ => Err("not a command remedy writes".into()),
    }
}

fn ps_shape(words: &[String], want: &Intended) -> Result<(), String> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let display = |rest: &[&str]| -> Result<String, String> {
        match rest {
            ["-DisplayName", pattern, ..] => {
                ps_wildcard_literal(pattern).ok_or(format!("live wildcard in {pattern:?}"))
            }
            _ => Err("no -DisplayName".into()),
        }
    };
    let params_ok = |rest: &[&str]| {
        rest.iter()
            .skip(2)
            .all(|x| x.starts_with('-') || plain(x.trim_end_matches(',')) || *x == "{" || *x == ")")
    };
    match w.as_slice() {
        ["}"] | ["}", "else", "{"] => Ok(()),
        ["if", "(Get-NetFirewallRule", rest @ ..] => {
            let name = display(rest)?;
            if !ours(&name) {
                return Err(format!("looks up {name:?}"));
            }
            match rest {
                [_, _, "-ErrorAction", "SilentlyContinue)", "{"] => Ok(()),
                _ => Err("unexpected if line".into()),
            }
        }
        ["New-NetFirewallRule", "-DisplayName", name, ..] => {
            if ours(name) && params_ok(&w[1..]) {
                Ok(())
            } else {
                Err(format!("creates {name:?}"))
            }
        }
        ["Set-NetFirewallRule" | "Disable-NetFirewallRule", rest @ ..] => {
            let name = display(rest)?;
            let narrowing = !rest.contains(&"-Direction");
            if narrowing && Some(name.as_str()) != want.fw_rule {
                return Err(format!("narrows {name:?}, meant {:?}", want.fw_rule));
            }
            if !narrowing && !ours(&name) {
                return Err(format!("updates {name:?}"));
            }
            if params_ok(rest) {
                Ok(())
            } else {
                Err("unexpected parameters".into())
            }
        }
        ["reg", "add", rest @ ..] if rest.iter().all(|x| plain(x)) => Ok(()),
        _ => Err("not a command remedy writes".into()),
    }
}

/// Programs a fix text may name as the start of a command.
const PROGRAMS: &[&str] = &[
    "ipseccmd",
    "ipsecpol",
    "netsh",
    "rpccfg",
    "reg add",
    "New-NetFirewallRule",
    "Set-NetFirewallRule",
    "Get-NetFirewallRule",
    "Disable-NetFirewallRule",
];

/// The commands a finding's fix text gives (`for each port: ipseccmd.exe ... (ports 5012)`,
/// `add it: netsh ...`, a bare command), each as its arguments after cmd.exe's model: the text
/// must be ASCII (so it reads the same in every code page), and from each program name at a
/// word's start to the end of the text (less a trailing `(ports ...)`) must be exactly one
/// command with no expansion, separator or redirection. Prose is fine and gives no command.
pub fn fix_commands(fix: &str) -> Result<Vec<Vec<String>>, String> {
    if let Some(c) = fix.chars().find(|c| !c.is_ascii()) {
        return Err(format!("U+{:04X} is not ASCII: {fix:?}", u32::from(c)));
    }
    let lower = fix.to_ascii_lowercase();
    let mut out = Vec::new();
    for p in PROGRAMS {
        let p = p.to_ascii_lowercase();
        for (at, _) in lower.match_indices(&p) {
            let starts_word = lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '_');
            if !starts_word {
                continue;
            }
            let mut cmd = &fix[at..];
            if let Some(i) = cmd.rfind(" (ports ")
                && cmd.ends_with(')')
            {
                cmd = &cmd[..i];
            }
            let commands = cmd_line(cmd).map_err(|e| format!("{e}: {fix:?}"))?;
            let ansi = cmd_line(&as_cp1252(cmd)).map_err(|e| format!("{e}: {fix:?}"))?;
            if commands != ansi {
                return Err(format!("reads differently in code page 1252: {fix:?}"));
            }
            match commands.as_slice() {
                [args] => out.push(args.clone()),
                _ => return Err(format!("{} commands: {fix:?}", commands.len())),
            }
        }
    }
    Ok(out)
}

/// [`fix_commands`], and each command is of a shape remedy writes, naming the intended policy
/// and store.
pub fn check_fix_text(fix: &str, want: &Intended) -> Result<(), String> {
    for args in fix_commands(fix)? {
        cmd_shape(&args, want).map_err(|e| format!("{e}: {fix:?}"))?;
    }
    Ok(())
}
