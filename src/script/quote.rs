//! The quoting rules: the one place that decides how a value from a policy file (an IPsec
//! policy or rule name, a firewall rule name, a store string, an address keyword) may appear in
//! a command rpcaudit writes (a fix script of `audit::remedy`, the fix text of a lint), per
//! dialect. Every function returns the value ready to write ([`Quoted`],
//! [`Token`]) or a [`Refusal`] saying why it cannot be written safely; the writers call only
//! these, and a refused value means the command that needed it is not written (a comment and a
//! note say what to do by hand).
//!
//! What is written is ASCII, whatever the names hold: cmd.exe reads a batch file in the
//! console's code page and Windows PowerShell 5.1 a `.ps1` without a BOM in the ANSI code page,
//! where the UTF-8 bytes of a letter can read as a quote (U+0451 is `D1 91`, and `91` is U+2018,
//! a PowerShell quote, in code page 1252). ASCII reads the same in all of them, so no safety
//! argument rests on how the file is saved, and [`Line`] refuses any other line.
//!
//! - cmd.exe (`ipseccmd`, `netsh ...` in `.cmd` scripts): a value is either a [`Token`] from a
//!   strict grammar (addresses, masks, ports, the store forms `REG`, `DS`, `DS:<domain>`) or an
//!   ASCII name (cmd.exe has no escape for other characters: such names are refused, the
//!   refusal saying to use the PowerShell dialect) inside double quotes that holds no `"` (ends
//!   the string), `%` (variable expansion,
//!   also in batch files inside quotes), `!` (delayed expansion), `^` (escape), the typographic
//!   double quotes our reader treats as quotes, a trailing `\` (`\"` is an escaped quote to the
//!   program's argument parser), and no control, line-break or invisible character. `&|<>()`
//!   are plain text inside double quotes. Netsh advfirewall rule names must not be `all` (every
//!   rule) nor start with `@` (an indirect resource string). ipseccmd policy names must not end
//!   in `:digits` ([`ipseccmd_policy`]: ipseccmd reads that as a polling interval).
//! - PowerShell: names go into single-quoted strings where each of the five characters
//!   PowerShell reads as a single quote (U+0027, U+2018, U+2019, U+201A, U+201B) is doubled;
//!   where a cmdlet applies wildcards (`-DisplayName` of `Get-`/`Set-`/`Disable-NetFirewallRule`)
//!   `` ` * ? [ ] `` are escaped with a backtick first. Control and line-break characters are
//!   refused (PowerShell accepts them inside quotes; our line-oriented review does not). A
//!   name with characters outside ASCII is written as a concatenation of single-quoted ASCII
//!   runs and `[char]0xHHHH` codes, `('Remote' + [char]0x00FC + 'ber')` (UTF-16 code units,
//!   the first part always a string so that `+` joins strings), which
//!   [`super::words::ps_concat`] reads back.
//! - Comments (`rem`, `#`): untrusted text is shown with [`comment_value`], which writes
//!   control, invisible, non-ASCII and (for cmd) `% ! ^ & | < > "` characters as `\u{..}`;
//!   our own comment text goes through [`comment_line`], which escapes control, invisible and
//!   non-ASCII characters the same way.
//!
//! Each whole command line is then checked by [`Line::finish_cmd`] / [`Line::finish_ps`]: it
//! must be ASCII, and is read again with the policy reader's tokenizer ([`super::words`]) and
//! with a strict lexer of the dialect, and must give exactly the intended words on one logical
//! line.

use super::words::{is_ps_single_quote, ps_concat, ps_words, split_words};
use std::fmt;
use std::net::IpAddr;

/// Longest name a fix script writes (Windows keeps longer ones, but nobody reviews them).
pub const MAX_NAME_CHARS: usize = 256;
/// cmd.exe's command line limit.
pub const MAX_CMD_LINE: usize = 8191;

/// Why a value is not written into a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What the value is: "IPsec policy name", "Windows Firewall rule name", ...
    pub what: String,
    /// The value, as read.
    pub value: String,
    /// Why it cannot be written, e.g. "holds '%', which cmd.exe expands".
    pub reason: String,
}

impl Refusal {
    pub fn new(what: &str, value: &str, reason: impl Into<String>) -> Self {
        Refusal {
            what: what.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl Refusal {
    /// The first 80 characters of the value, and `...` when there are more.
    fn short_value(&self) -> (String, &'static str) {
        let shown: String = self.value.chars().take(80).collect();
        let more = if self.value.chars().count() > 80 {
            "..."
        } else {
            ""
        };
        (shown, more)
    }

    /// The refusal for a comment line: the value and the reason shown with [`comment_value`].
    pub fn for_comment(&self, cmd: bool) -> String {
        let (shown, more) = self.short_value();
        format!(
            "{} \"{}{more}\" {}",
            self.what,
            comment_value(cmd, &shown),
            comment_value(cmd, &self.reason)
        )
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (shown, more) = self.short_value();
        write!(
            f,
            "{} \"{}{more}\" {}",
            self.what,
            shown.escape_debug(),
            self.reason
        )
    }
}

/// A value as it is written in a command (`text`, with its quotes) and the word a reader gets
/// back from it (`value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    text: String,
    value: String,
}

impl Quoted {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The word a reader decodes from it.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An unquoted word from a strict grammar: ASCII letters, digits and `. : / , * = + - _ \`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn u(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Control characters (C0, DEL, C1 including NEL), line and paragraph separators, and the
/// invisible formatting characters that make a line read differently from what runs
/// (bidirectional overrides and isolates, zero-width characters, BOM): the terminal's
/// forbidden set, one definition ([`crate::inert::forbidden`]).
pub fn is_hazard(c: char) -> bool {
    crate::inert::forbidden(c)
}

/// What every name must be, whatever the dialect.
fn check_text(what: &str, s: &str) -> Result<(), Refusal> {
    if s.trim().is_empty() {
        return Err(Refusal::new(what, s, "is empty or only white space"));
    }
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(Refusal::new(
            what,
            s,
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if let Some(c) = s.chars().find(|&c| is_hazard(c)) {
        return Err(Refusal::new(
            what,
            s,
            format!(
                "holds {} (a control, line-break or invisible character)",
                u(c)
            ),
        ));
    }
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Err(Refusal::new(
            what,
            s,
            "starts or ends with white space, which the tools may trim (and then name another object)",
        ));
    }
    Ok(())
}

/// Characters a double-quoted cmd.exe value must not hold, and why.
pub const CMD_FORBIDDEN: &[(char, &str)] = &[
    ('"', "ends the double-quoted string"),
    (
        '%',
        "expands a variable in cmd.exe, even inside double quotes",
    ),
    ('!', "expands a variable when delayed expansion is on"),
    ('^', "is cmd.exe's escape character"),
    (
        '\u{201c}',
        "is a typographic double quote, which the policy reader takes as a quote",
    ),
    (
        '\u{201d}',
        "is a typographic double quote, which the policy reader takes as a quote",
    ),
];

/// A name as a double-quoted cmd.exe argument: `"Block RPC Ports"`.
pub fn cmd_quoted(what: &str, s: &str) -> Result<Quoted, Refusal> {
    check_text(what, s)?;
    for &(c, why) in CMD_FORBIDDEN {
        if s.contains(c) {
            return Err(Refusal::new(what, s, format!("holds '{c}', which {why}")));
        }
    }
    if s.ends_with('\\') {
        return Err(Refusal::new(
            what,
            s,
            "ends in a backslash, which with the closing quote reads as an escaped quote (\\\") to the program",
        ));
    }
    if let Some(c) = s.chars().find(|c| !c.is_ascii()) {
        return Err(Refusal::new(what, s, not_ascii_in_cmd(c)));
    }
    Ok(Quoted {
        text: format!("\"{s}\""),
        value: s.to_string(),
    })
}

/// Why a character outside ASCII keeps a name out of a cmd.exe command.
fn not_ascii_in_cmd(c: char) -> String {
    format!(
        "holds {} (not ASCII): cmd.exe reads a batch file in the console's code page and has no escape for it, so the name could be read as another; use the PowerShell dialect (--fix-dialect powershell), which writes such characters as [char] codes",
        u(c)
    )
}

/// An IPsec policy name for `ipseccmd -p`: [`cmd_quoted`] (so ASCII only: ipseccmd creates a
/// policy it does not find, and a name read in another code page would make the script create
/// and assign another policy, which unassigns the one in force and drops every block it
/// holds), and not ending in `:digits`, which ipseccmd reads as a polling interval.
pub fn ipseccmd_policy(s: &str) -> Result<Quoted, Refusal> {
    const WHAT: &str = "IPsec policy name";
    if let Some(c) = s.chars().find(|c| !c.is_ascii()) {
        return Err(Refusal::new(
            WHAT,
            s,
            format!(
                "holds {} (not ASCII): cmd.exe reads the script in the console's code page, and a policy name read differently makes the tool create and assign another policy, dropping the one in force; use the PowerShell dialect (--fix-dialect powershell) or assign it by hand",
                u(c)
            ),
        ));
    }
    let q = cmd_quoted(WHAT, s)?;
    if let Some((_, poll)) = s.rsplit_once(':')
        && !poll.is_empty()
        && poll.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Refusal::new(
            WHAT,
            s,
            "ends in ':' and digits, which ipseccmd reads as a polling interval, not as part of the name",
        ));
    }
    Ok(q)
}

/// What a firewall rule name is called in a [`Refusal`].
pub const FW_RULE_NAME: &str = "Windows Firewall rule name";

/// A Windows Firewall rule name for `netsh advfirewall firewall ... name=`.
pub fn netsh_rule_name(s: &str) -> Result<Quoted, Refusal> {
    const WHAT: &str = FW_RULE_NAME;
    if s.trim().eq_ignore_ascii_case("all") {
        return Err(Refusal::new(
            WHAT,
            s,
            "is netsh's keyword for every rule (name=all)",
        ));
    }
    if s.starts_with('@') {
        return Err(Refusal::new(
            WHAT,
            s,
            "starts with '@', which Windows reads as an indirect resource string",
        ));
    }
    cmd_quoted(WHAT, s)
}

/// An IPsec policy store as read from a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// `REG`: the local registry.
    Reg,
    /// `LOCAL` (netsh's name for the same store).
    Local,
    /// `DS` or `DS:domain`: the directory.
    Domain(Option<String>),
}

/// A DNS domain name: labels of letters, digits and `-` (not at either end), 1-63 characters
/// each, 253 in all.
pub fn is_dns_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// Read a store string: `REG`, `LOCAL`, `DS` or `DS:<domain>`; anything else is refused.
pub fn ipsec_store(s: &str) -> Result<Store, Refusal> {
    const WHAT: &str = "IPsec policy store";
    let upper = s.to_ascii_uppercase();
    match upper.as_str() {
        "REG" => return Ok(Store::Reg),
        "LOCAL" => return Ok(Store::Local),
        "DS" => return Ok(Store::Domain(None)),
        _ => {}
    }
    match s.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("DS:") => {
            let d = s.get(3..).unwrap_or("");
            if is_dns_domain(d) {
                Ok(Store::Domain(Some(d.to_string())))
            } else {
                Err(Refusal::new(
                    WHAT,
                    s,
                    "names a domain that is not a DNS name",
                ))
            }
        }
        _ => Err(Refusal::new(
            WHAT,
            s,
            "is not REG, LOCAL, DS or DS:<domain>",
        )),
    }
}

/// The store as `ipseccmd -w` takes it: `REG`, `DS` or `DS:<domain>`.
pub fn ipseccmd_store(s: &str) -> Result<Token, Refusal> {
    match ipsec_store(s)? {
        Store::Reg => Ok(Token("REG".into())),
        Store::Domain(None) => Ok(Token("DS".into())),
        Store::Domain(Some(d)) => token("IPsec policy store", &format!("DS:{d}")),
        Store::Local => Err(Refusal::new(
            "IPsec policy store",
            s,
            "is not a store ipseccmd -w takes (REG or DS:<domain>)",
        )),
    }
}

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".:/,*=+-_\\".contains(c)
}

/// A word from a strict grammar, written without quotes.
pub fn token(what: &str, s: &str) -> Result<Token, Refusal> {
    if s.is_empty() {
        return Err(Refusal::new(what, s, "is empty"));
    }
    match s.chars().find(|&c| !token_char(c)) {
        Some(c) => Err(Refusal::new(
            what,
            s,
            format!(
                "holds '{}', which is not part of its grammar",
                c.escape_debug()
            ),
        )),
        None => Ok(Token(s.to_string())),
    }
}

/// Port lists: `5003`, `135,5001-5021`.
pub fn port_list(s: &str) -> Result<Token, Refusal> {
    let ok = !s.is_empty()
        && s.split(',').all(|item| {
            let mut parts = item.splitn(2, '-');
            parts.all(|p| p.parse::<u16>().is_ok())
        });
    if ok {
        token("port list", s)
    } else {
        Err(Refusal::new("port list", s, "is not a list of ports"))
    }
}

/// Address keywords Windows Firewall takes in `remoteip=` / `-RemoteAddress`.
pub const FW_ADDRESS_KEYWORDS: &[&str] = &[
    "any",
    "localsubnet",
    "dns",
    "dhcp",
    "wins",
    "defaultgateway",
    "internet",
    "intranet",
    "intranetremoteaccess",
    "playtodevice",
    "remotecorpnetwork",
];

fn fw_address_item(item: &str) -> bool {
    if FW_ADDRESS_KEYWORDS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(item))
    {
        return true;
    }
    if item.parse::<IpAddr>().is_ok() {
        return true;
    }
    if let Some((a, p)) = item.split_once('/') {
        return match (a.parse::<IpAddr>(), p.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(p)) => p <= 32,
            (Ok(IpAddr::V6(_)), Ok(p)) => p <= 128,
            _ => a.parse::<IpAddr>().is_ok() && p.parse::<std::net::Ipv4Addr>().is_ok(),
        };
    }
    if let Some((a, b)) = item.split_once('-') {
        return matches!(
            (a.parse::<IpAddr>(), b.parse::<IpAddr>()),
            (Ok(x), Ok(y)) if x.is_ipv4() == y.is_ipv4()
        );
    }
    false
}

/// A Windows Firewall address list: addresses, `addr/prefix`, `first-last`, keywords.
pub fn fw_addresses(s: &str) -> Result<Token, Refusal> {
    const WHAT: &str = "remote address list";
    match s.split(',').find(|i| !fw_address_item(i)) {
        Some(bad) => Err(Refusal::new(
            WHAT,
            s,
            format!(
                "holds '{}', which is not an address, range, subnet or Windows Firewall keyword",
                bad.escape_debug()
            ),
        )),
        None => token(WHAT, s),
    }
}

pub use super::words::PS_SINGLE_QUOTES;

/// `s` as PowerShell reads it back, in ASCII: a single-quoted string (each of the five quote
/// characters doubled; only `'` can occur, the others are not ASCII) when `s` is ASCII, else
/// a concatenation of such strings and `[char]0xHHHH` codes, one per UTF-16 code unit, in
/// parentheses and starting with a string: `('Remote' + [char]0x00FC + 'ber')`.
fn ps_escape_quotes(s: &str) -> String {
    fn literal(run: &str) -> String {
        let mut out = String::with_capacity(run.len() + 2);
        out.push('\'');
        for c in run.chars() {
            if is_ps_single_quote(c) {
                out.push(c);
            }
            out.push(c);
        }
        out.push('\'');
        out
    }
    if s.is_ascii() {
        return literal(s);
    }
    let mut parts: Vec<String> = Vec::new();
    let mut run = String::new();
    for c in s.chars() {
        if c.is_ascii() {
            run.push(c);
            continue;
        }
        if !run.is_empty() || parts.is_empty() {
            parts.push(literal(&run));
            run.clear();
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            parts.push(format!("[char]0x{unit:04X}"));
        }
    }
    if !run.is_empty() {
        parts.push(literal(&run));
    }
    format!("({})", parts.join(" + "))
}

/// A value as a PowerShell single-quoted string, `'O''Brien'`, or, with characters outside
/// ASCII, the concatenation that makes it: `('Remote' + [char]0x00FC + 'ber')`.
pub fn ps_quoted(what: &str, s: &str) -> Result<Quoted, Refusal> {
    check_text(what, s)?;
    Ok(Quoted {
        text: ps_escape_quotes(s),
        value: s.to_string(),
    })
}

/// The characters PowerShell's wildcard patterns give a meaning to, and its escape.
pub const PS_WILDCARD_SPECIAL: [char; 5] = ['*', '?', '[', ']', '`'];

/// `s` as a wildcard pattern that matches only `s` (`[WildcardPattern]::Escape`).
pub fn ps_wildcard_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if PS_WILDCARD_SPECIAL.contains(&c) {
            out.push('`');
        }
        out.push(c);
    }
    out
}

/// A name for a parameter PowerShell reads as a wildcard pattern (`Get-NetFirewallRule
/// -DisplayName`): escaped, then single-quoted. Its [`Quoted::value`] is the pattern.
pub fn ps_pattern(what: &str, s: &str) -> Result<Quoted, Refusal> {
    check_text(what, s)?;
    let pattern = ps_wildcard_escape(s);
    Ok(Quoted {
        text: ps_escape_quotes(&pattern),
        value: pattern,
    })
}

/// Longest untrusted text a comment shows.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// A character a comment line writes as `\u{..}`: control, invisible or outside ASCII.
fn escaped_in_comment(c: char) -> bool {
    is_hazard(c) || !c.is_ascii()
}

/// Untrusted text for a comment line: control, invisible, non-ASCII and, in cmd,
/// `% ! ^ & | < > "` characters are written as `\u{..}`; text longer than
/// [`MAX_COMMENT_CHARS`] is cut.
pub fn comment_value(cmd: bool, s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= MAX_COMMENT_CHARS {
            out.push_str("...");
            break;
        }
        if escaped_in_comment(c) || (cmd && "%!^&|<>\"".contains(c)) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Trusted comment text made safe all the same: control, invisible and non-ASCII characters
/// escaped, nothing else.
pub fn comment_line(s: &str) -> String {
    if s.chars().any(escaped_in_comment) {
        s.chars()
            .map(|c| {
                if escaped_in_comment(c) {
                    format!("\\u{{{:x}}}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        s.to_string()
    }
}

/// A fix text that gives a command: the command, when every value in it could be written
/// (`command` as [`Line::finish_cmd`] returned it), else `todo` and why no command is given,
/// in ASCII prose that does not repeat the value (a finding's message names it, shown
/// inertly): "assign the policy by hand: rpcaudit writes no command for it, because the IPsec
/// policy name holds '\u{22}', which ends the double-quoted string".
pub fn or_by_hand(command: Result<String, Refusal>, todo: &str) -> String {
    match command {
        Ok(c) => c,
        Err(r) => format!(
            "{} by hand: rpcaudit writes no command for it, because the {} {}",
            comment_value(true, todo),
            comment_value(true, &r.what),
            comment_value(true, &r.reason)
        ),
    }
}

/// One command line being written, with the words a reader must get back from it.
#[derive(Debug, Clone, Default)]
pub struct Line {
    text: String,
    words: Vec<String>,
    cur: Option<String>,
}

impl Line {
    pub fn new() -> Self {
        Line::default()
    }

    /// Literal text of ours (a program, a switch, `dir=in`): no spaces, no quotes.
    pub fn raw(mut self, s: &str) -> Self {
        if s.is_empty() {
            return self;
        }
        self.text.push_str(s);
        self.cur.get_or_insert_with(String::new).push_str(s);
        self
    }

    /// Literal words of ours separated by single spaces.
    pub fn words(mut self, s: &str) -> Self {
        for (i, w) in s.split(' ').enumerate() {
            if i > 0 {
                self = self.sp();
            }
            self = self.raw(w);
        }
        self
    }

    pub fn token(self, t: &Token) -> Self {
        self.raw(t.as_str())
    }

    pub fn quoted(mut self, q: &Quoted) -> Self {
        self.text.push_str(q.as_str());
        self.cur.get_or_insert_with(String::new).push_str(q.value());
        self
    }

    /// A word boundary (one space).
    pub fn sp(mut self) -> Self {
        self.text.push(' ');
        if let Some(w) = self.cur.take() {
            self.words.push(w);
        }
        self
    }

    fn parts(mut self) -> (String, Vec<String>) {
        if let Some(w) = self.cur.take() {
            self.words.push(w);
        }
        (self.text, self.words)
    }

    /// The line for a cmd script, after it reads back as the intended words.
    pub fn finish_cmd(self) -> Result<String, Refusal> {
        self.finish(split_words, cmd_lex, "cmd.exe")
    }

    /// The line for a PowerShell script, after it reads back as the intended words.
    pub fn finish_ps(self) -> Result<String, Refusal> {
        self.finish(ps_words, ps_lex, "PowerShell")
    }

    /// The line, once both the policy reader (`read`) and our model of the `shell`'s own
    /// lexer (`lex`) read it back as the intended words.
    fn finish(
        self,
        read: fn(&str) -> Vec<String>,
        lex: fn(&str) -> Option<Vec<String>>,
        shell: &str,
    ) -> Result<String, Refusal> {
        let (text, words) = self.parts();
        check_line(&text)?;
        let fail = |why: String| Refusal::new("command", &text, why);
        if read(&text) != words {
            return Err(fail(
                "does not read back as the intended words with the policy reader".to_string(),
            ));
        }
        if lex(&text).as_ref() != Some(&words) {
            return Err(fail(format!(
                "has a character {shell} gives a meaning to outside quotes, or reads back differently"
            )));
        }
        Ok(text)
    }
}

/// One logical line (no line break, no continuation, not a comment) within cmd's limit.
fn check_line(t: &str) -> Result<(), Refusal> {
    let fail = |why: String| Refusal::new("command", t, why);
    if let Some(c) = t.chars().find(|c| !c.is_ascii()) {
        return Err(fail(format!(
            "holds {} (not ASCII), which a shell reads differently in another code page",
            u(c)
        )));
    }
    if t.chars().count() > MAX_CMD_LINE {
        return Err(fail(format!("is longer than {MAX_CMD_LINE} characters")));
    }
    if let Some(c) = t.chars().find(|&c| is_hazard(c)) {
        return Err(fail(format!("holds {}", u(c))));
    }
    // As the policy reader's logical lines: a comment, or a line that goes on.
    let lower = t.trim_start().to_ascii_lowercase();
    let comment = lower == "rem"
        || lower.starts_with("rem ")
        || lower.starts_with("rem\t")
        || lower.starts_with("::")
        || lower.starts_with('#')
        || lower.starts_with('@');
    let goes_on = t.trim_end().ends_with(['^', '`']);
    if comment || goes_on || t.trim().is_empty() {
        return Err(fail(
            "does not read back as one command line (a comment or continuation)".into(),
        ));
    }
    Ok(())
}

/// A strict lexer of the cmd lines remedy writes: outside double quotes only [`token_char`]s
/// and `(`, `)` are allowed (no `& | < > ^ % !`); inside them anything but `" % ! ^`. Quotes
/// are removed, as a program's argument parser does. `None` when the line has anything else.
fn cmd_lex(t: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut quoted = false;
    for c in t.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.get_or_insert_with(String::new);
            }
            '%' | '!' | '^' => return None,
            _ if quoted => cur.get_or_insert_with(String::new).push(c),
            ' ' => words.extend(cur.take()),
            _ if token_char(c) || c == '(' || c == ')' => {
                cur.get_or_insert_with(String::new).push(c)
            }
            _ => return None,
        }
    }
    if quoted {
        return None;
    }
    words.extend(cur);
    Some(words)
}

/// A strict lexer of the PowerShell lines remedy writes: single-quoted strings (any of the
/// five quote characters opens and closes, a doubled one is one character), and a whole word
/// that is a concatenation exactly as [`ps_quoted`] writes it (`('a' + [char]0x00FC)`); outside
/// them only ASCII letters, digits and `- . , : / \ _ ( ) { }`, so no `; | & $ # @ "`, `+`,
/// `[`, `]` or backtick.
fn ps_lex(t: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = t.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '(' && cur.is_none() {
            let canonical = ps_concat(&t[at..]).filter(|(value, len)| {
                let text = &t[at..at + len];
                text == ps_escape_quotes(value)
                    && t[at + len..].chars().next().is_none_or(|n| n == ' ')
            });
            if let Some((value, len)) = canonical {
                cur = Some(value);
                while chars.next_if(|&(i, _)| i < at + len).is_some() {}
                continue;
            }
        }
        if is_ps_single_quote(c) {
            let w = cur.get_or_insert_with(String::new);
            loop {
                match chars.next() {
                    None => return None,
                    Some((_, q)) if is_ps_single_quote(q) => match chars.peek() {
                        Some(&(_, n)) if is_ps_single_quote(n) => {
                            w.push(n);
                            chars.next();
                        }
                        _ => break,
                    },
                    Some((_, x)) => w.push(x),
                }
            }
        } else if c == ' ' {
            words.extend(cur.take());
        } else if c.is_ascii_alphanumeric() || "-.,:/\\_(){}".contains(c) {
            cur.get_or_insert_with(String::new).push(c);
        } else {
            return None;
        }
    }
    words.extend(cur);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "a\" & calc & \"",
        "%COMSPEC%",
        "!x!",
        "^",
        "a^",
        "a\r\nnetsh advfirewall reset",
        "a\nb",
        "a\rb",
        "\x1b[31mred",
        "\u{0085}",
        "\u{2028}",
        "\u{202e}txt.exe",
        "",
        "   ",
        "\t",
        " lead",
        "trail ",
        "end\\",
        "\u{201c}smart\u{201d}",
    ];

    #[test]
    fn cmd_refuses_what_breaks_out_of_double_quotes() {
        for h in HOSTILE {
            assert!(cmd_quoted("name", h).is_err(), "{h:?}");
            assert!(netsh_rule_name(h).is_err(), "{h:?}");
        }
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        assert!(cmd_quoted("name", &long).is_err());
        assert!(cmd_quoted("name", &"x".repeat(MAX_NAME_CHARS)).is_ok());
        let r = cmd_quoted("IPsec policy name", "%COMSPEC%").unwrap_err();
        assert_eq!(
            r.for_comment(true),
            "IPsec policy name \"\\u{25}COMSPEC\\u{25}\" holds '\\u{25}', which expands a variable in cmd.exe, even inside double quotes"
        );
        assert!(r.reason.contains("'%'"), "{r}");
        assert_eq!(
            r.to_string(),
            "IPsec policy name \"%COMSPEC%\" holds '%', which expands a variable in cmd.exe, even inside double quotes"
        );
    }

    #[test]
    fn cmd_keeps_fine_names() {
        for ok in [
            "Block RPC Ports",
            "a & b | c < d > e",
            "a-b_c.d, e; f=g",
            "[abc] *",
            "O'Brien",
            "all ports",
            "C:\\path\\x",
        ] {
            let q = cmd_quoted("name", ok).unwrap();
            assert_eq!(q.as_str(), format!("\"{ok}\""));
            assert_eq!(q.value(), ok);
            assert!(netsh_rule_name(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn cmd_refuses_what_it_cannot_write_in_ascii() {
        // cmd.exe reads a batch file in the console's code page and has no escape form.
        for name in [
            "Règle (RPC) – dynamique",
            "Блок RPC",
            "‘quoted’",
            "x\u{451}",
        ] {
            let r = cmd_quoted("name", name).unwrap_err();
            assert!(r.reason.contains("not ASCII"), "{r}");
            assert!(r.reason.contains("--fix-dialect powershell"), "{r}");
            assert!(netsh_rule_name(name).is_err(), "{name}");
            assert!(ipseccmd_policy(name).is_err(), "{name}");
        }
    }

    #[test]
    fn ipseccmd_policy_names_are_ascii() {
        assert!(ipseccmd_policy("Block RPC Ports (a & b)").is_ok());
        for bad in [
            "R\u{e8}gle",
            "\u{411}\u{43b}\u{43e}\u{43a}",
            "x\u{2019}",
            "%x%",
        ] {
            assert!(ipseccmd_policy(bad).is_err(), "{bad:?}");
        }
        // Nor does netsh ipsec static any more: cmd.exe has no escape form.
        assert!(cmd_quoted("IPsec policy name", "R\u{e8}gle").is_err());
        // ipseccmd reads "name:5" as the policy "name" polled every 5 minutes.
        assert!(ipseccmd_policy("Block RPC Ports:5").is_err());
        assert!(ipseccmd_policy("Block RPC Ports: 5").is_ok());
        assert!(ipseccmd_policy("Block:RPC").is_ok());
    }

    #[test]
    fn powershell_writes_names_in_ascii() {
        let q = ps_quoted("name", "Remote\u{fc}ber").unwrap();
        assert_eq!(q.as_str(), "('Remote' + [char]0x00FC + 'ber')");
        assert_eq!(q.value(), "Remote\u{fc}ber");
        // U+0451 is D1 91 in UTF-8, and 91 is U+2018 in code page 1252: not a byte of it here.
        let q = ps_quoted("name", "\u{451}; trap {continue}; \u{451}'").unwrap();
        assert_eq!(
            q.as_str(),
            "('' + [char]0x0451 + '; trap {continue}; ' + [char]0x0451 + '''')"
        );
        assert_eq!(
            ps_lex(&format!("X -DisplayName {q} -Y")).unwrap(),
            [
                "X",
                "-DisplayName",
                "\u{451}; trap {continue}; \u{451}'",
                "-Y"
            ]
        );
        // Beyond U+FFFF: two UTF-16 code units, as PowerShell strings hold them.
        let q = ps_pattern("name", "\u{1f600}*").unwrap();
        assert_eq!(q.as_str(), "('' + [char]0xD83D + [char]0xDE00 + '`*')");
        assert_eq!(q.value(), "\u{1f600}`*");
        for name in ["‘x’", "a\u{2019}; calc; \u{2019}", "Блок RPC", "\u{e9}"] {
            let q = ps_quoted("name", name).unwrap();
            assert!(q.as_str().is_ascii(), "{q}");
            assert_eq!(ps_lex(q.as_str()).unwrap(), [name]);
            assert_eq!(ps_words(q.as_str()), [name]);
        }
        // The lexer takes only the form ps_quoted writes.
        for bad in [
            "X ('a'+[char]0x00FC)",
            "X ('a' + [char]0xfc)",
            "X ([char]0x00FC + 'a')",
            "X ('a' + [char]0x00FC)x",
            "X x('a' + [char]0x00FC)",
            "X ('a' + $x)",
        ] {
            assert_eq!(ps_lex(bad), None, "{bad}");
        }
    }

    #[test]
    fn lines_that_are_not_ascii_are_refused() {
        let q = Quoted {
            text: "'\u{e9}'".into(),
            value: "\u{e9}".into(),
        };
        let l = Line::new()
            .words("Set-NetFirewallRule -DisplayName")
            .sp()
            .quoted(&q);
        assert!(l.finish_ps().unwrap_err().reason.contains("not ASCII"));
    }

    #[test]
    fn netsh_keywords_are_refused() {
        for k in ["all", "ALL", "All", "@FirewallAPI.dll,-28502"] {
            assert!(netsh_rule_name(k).is_err(), "{k}");
        }
        // Not a keyword elsewhere: an IPsec policy may be called "all".
        assert!(cmd_quoted("IPsec policy name", "all").is_ok());
    }

    #[test]
    fn stores_come_from_a_grammar() {
        assert_eq!(ipseccmd_store("REG").unwrap().as_str(), "REG");
        assert_eq!(ipseccmd_store("reg").unwrap().as_str(), "REG");
        assert_eq!(ipseccmd_store("DS").unwrap().as_str(), "DS");
        assert_eq!(
            ipseccmd_store("DS:corp.example.com").unwrap().as_str(),
            "DS:corp.example.com"
        );
        assert_eq!(ipsec_store("LOCAL").unwrap(), Store::Local);
        assert!(ipseccmd_store("LOCAL").is_err());
        for bad in [
            "DS:evil\" & x",
            "DS:evil & calc",
            "DS:%USERDOMAIN%",
            "DS:",
            "DS:-bad.example",
            "DS:a..b",
            "DSX",
            "REG & calc",
            "REG\r\n",
            "",
            "DS:exa_mple.com",
        ] {
            assert!(ipseccmd_store(bad).is_err(), "{bad:?}");
        }
        assert!(!is_dns_domain(&format!("{}.com", "a".repeat(64))));
        assert!(is_dns_domain(&format!("{}.com", "a".repeat(63))));
    }

    #[test]
    fn tokens_and_addresses() {
        assert!(fw_addresses("0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255,::/0").is_ok());
        assert!(fw_addresses("LocalSubnet").is_ok());
        assert!(fw_addresses("10.1.1.0/24").is_ok());
        assert!(fw_addresses("10.1.1.0/255.255.255.0").is_ok());
        assert!(fw_addresses("fe80::1").is_ok());
        for bad in [
            "Foo",
            "10.1.1.0/33",
            "10.1.1.1-::1",
            "x & calc",
            "",
            "10.1.1.1 ",
            "fe80::1%12",
        ] {
            assert!(fw_addresses(bad).is_err(), "{bad:?}");
        }
        assert!(port_list("135,5001-5021").is_ok());
        for bad in ["", "5001-", "70000", "1 2", "a"] {
            assert!(port_list(bad).is_err(), "{bad:?}");
        }
        assert!(token("t", "a b").is_err());
        assert!(token("t", "a\"").is_err());
        assert!(token("t", "%x%").is_err());
    }

    #[test]
    fn powershell_doubles_all_five_single_quotes() {
        let q = ps_quoted("name", "'; Remove-Item C:\\ -Recurse; '").unwrap();
        assert_eq!(q.as_str(), "'''; Remove-Item C:\\ -Recurse; '''");
        // The typographic ones are not ASCII: written as codes, never as quotes.
        let q = ps_quoted("name", "a'b’c‚d‛e‘f").unwrap();
        assert_eq!(
            q.as_str(),
            "('a''b' + [char]0x2019 + 'c' + [char]0x201A + 'd' + [char]0x201B + 'e' + [char]0x2018 + 'f')"
        );
        assert_eq!(ps_lex(q.as_str()).unwrap(), vec!["a'b’c‚d‛e‘f"]);
        for h in HOSTILE.iter().filter(|h| {
            h.trim().is_empty()
                || h.chars().any(is_hazard)
                || h.starts_with(' ')
                || h.ends_with(' ')
        }) {
            assert!(ps_quoted("name", h).is_err(), "{h:?}");
        }
        // Fine in PowerShell single quotes: cmd's specials, dollar signs, double quotes.
        for ok in [
            "a\" & calc & \"",
            "%COMSPEC%",
            "!x!",
            "^",
            "$(calc)",
            "a; b | c # d",
            "Règle (RPC)",
            "end\\",
        ] {
            let q = ps_quoted("name", ok).unwrap();
            assert_eq!(ps_lex(q.as_str()).unwrap(), vec![ok.to_string()], "{ok}");
        }
    }

    #[test]
    fn powershell_wildcards_are_escaped() {
        assert_eq!(ps_wildcard_escape("Block *"), "Block `*");
        assert_eq!(ps_wildcard_escape("[abc]?`"), "`[abc`]`?``");
        let q = ps_pattern("name", "[abc] *").unwrap();
        assert_eq!(q.as_str(), "'`[abc`] `*'");
        assert_eq!(q.value(), "`[abc`] `*");
        assert!(ps_pattern("name", "*\n").is_err());
    }

    #[test]
    fn comments_show_untrusted_text_inertly() {
        assert_eq!(comment_value(true, "a\r\nb"), "a\\u{d}\\u{a}b");
        assert_eq!(
            comment_value(true, "%COMSPEC% & x ^"),
            "\\u{25}COMSPEC\\u{25} \\u{26} x \\u{5e}"
        );
        assert_eq!(comment_value(false, "%x% & y"), "%x% & y");
        assert_eq!(comment_value(false, "a\nb\u{1b}"), "a\\u{a}b\\u{1b}");
        assert_eq!(comment_value(true, "Block RPC Ports"), "Block RPC Ports");
        assert!(comment_value(true, &"x".repeat(5000)).len() < MAX_COMMENT_CHARS + 10);
        assert_eq!(comment_line("fine"), "fine");
        assert_eq!(
            comment_value(false, "R\u{e8}gle \u{451}"),
            "R\\u{e8}gle \\u{451}"
        );
        assert_eq!(comment_line("\u{2013} x"), "\\u{2013} x");
        assert_eq!(comment_line("a\nb"), "a\\u{a}b");
    }

    #[test]
    fn lines_read_back_as_their_words() {
        let pol = cmd_quoted("p", "Block RPC Ports").unwrap();
        let l = Line::new()
            .words("ipseccmd.exe -w REG -p")
            .sp()
            .quoted(&pol)
            .sp()
            .raw("-x")
            .finish_cmd()
            .unwrap();
        assert_eq!(l, "ipseccmd.exe -w REG -p \"Block RPC Ports\" -x");
        let n = netsh_rule_name("a & b").unwrap();
        let l = Line::new()
            .words("netsh advfirewall firewall delete rule")
            .sp()
            .raw("name=")
            .quoted(&n)
            .finish_cmd()
            .unwrap();
        assert_eq!(l, "netsh advfirewall firewall delete rule name=\"a & b\"");
        // A literal of ours with a cmd special is caught by the line check.
        for bad in ["echo a & b", "rem x", "x ^"] {
            assert!(Line::new().words(bad).finish_cmd().is_err(), "{bad}");
        }
        let q = ps_pattern("n", "O'Brien [1]").unwrap();
        let l = Line::new()
            .words("Set-NetFirewallRule -DisplayName")
            .sp()
            .quoted(&q)
            .finish_ps()
            .unwrap();
        assert_eq!(l, "Set-NetFirewallRule -DisplayName 'O''Brien `[1`]'");
        for bad in ["a; b", "$x", "# x"] {
            assert!(Line::new().words(bad).finish_ps().is_err(), "{bad}");
        }
    }
}
