//! First step of reading a policy file: bytes → text → logical lines. Decodes what Windows
//! writes (UTF-8 with or without BOM, UTF-16LE/BE with BOM, UTF-16LE without BOM, and legacy
//! Windows-1252 for anything that is not valid UTF-8), joins continuation lines (`^` in cmd,
//! `` ` `` in PowerShell, `\` in `.reg` hex data) and marks comments, so the dialect parsers
//! only ever see whole commands tagged with the 1-based line they started on.

/// Text decoded from a file, with the name of the encoding that was recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    /// The bytes were not valid in the encoding their BOM (or layout) announced: truncated
    /// or broken UTF-16, invalid UTF-8 after a UTF-8 BOM. Replacement characters stand in.
    pub malformed: bool,
}

/// Decode bytes as Windows tools write them. Never fails: bytes that are not UTF-8 are read
/// as Windows-1252, where every byte maps to a character; [`Decoded::malformed`] says when an
/// announced encoding did not hold.
pub fn decode(bytes: &[u8]) -> Decoded {
    let with = |encoding: &'static encoding_rs::Encoding, rest: &[u8], name: &'static str| {
        let (text, malformed) = encoding.decode_without_bom_handling(rest);
        Decoded {
            text: text.into_owned(),
            encoding: name,
            malformed,
        }
    };
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return with(encoding_rs::UTF_8, rest, "utf-8-bom");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return with(encoding_rs::UTF_16LE, rest, "utf-16le");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return with(encoding_rs::UTF_16BE, rest, "utf-16be");
    }
    if looks_like_utf16le(bytes) {
        return with(encoding_rs::UTF_16LE, bytes, "utf-16le");
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Decoded {
            text: s.to_string(),
            encoding: "utf-8",
            malformed: false,
        },
        Err(_) => with(encoding_rs::WINDOWS_1252, bytes, "windows-1252"),
    }
}

/// Why decoded text is not a policy file at all, if it is not: empty, broken in its own
/// encoding, or binary (a NUL, or more than one character in ten a control character
/// other than tab, line breaks, form feed and the old end-of-file mark).
pub fn not_text(bytes: &[u8], decoded: &Decoded) -> Option<String> {
    if decoded.text.trim().is_empty() {
        return Some(if bytes.is_empty() {
            "the file is empty".into()
        } else {
            "the file holds only white space".into()
        });
    }
    if decoded.malformed {
        return Some(format!(
            "the file is not valid {} (truncated or corrupted)",
            decoded.encoding
        ));
    }
    let mut chars = 0usize;
    let mut controls = 0usize;
    for c in decoded.text.chars() {
        chars += 1;
        if c == '\0' {
            return Some(
                "the file is binary (it holds NUL characters), not a script or a .reg export"
                    .into(),
            );
        }
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1a') {
            controls += 1;
        }
    }
    (controls * 10 > chars).then(|| {
        format!("the file is binary ({controls} control characters in {chars}), not a script or a .reg export")
    })
}

/// UTF-16LE without a BOM: ASCII text has a zero in (nearly) every odd byte.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return false;
    }
    let pairs = bytes.len() / 2;
    let odd_zero = bytes.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let even_zero = bytes.iter().step_by(2).filter(|&&b| b == 0).count();
    odd_zero * 10 >= pairs * 9 && even_zero * 10 < pairs
}

/// How a file continues a command on the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuation {
    /// cmd.exe: a line ending in `^` goes on.
    Caret,
    /// PowerShell: a line ending in a backtick goes on.
    Backtick,
    /// `.reg`: hex data ending in `\` goes on. It also marks the text as a `.reg` file, where
    /// `;` starts a comment and a leading `@` names the default value.
    Backslash,
}

/// One logical line: a whole command, tagged with its first physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based physical line where the command starts.
    pub number: usize,
    pub text: String,
}

/// Split into logical lines (CRLF, LF or CR), join continuations, drop blank lines and
/// comments (`rem`, `::`, `#`, and `;` for `.reg`), and trim. `@` before a cmd command is
/// dropped too (`@echo off`), but not in a `.reg` file, where `@=` is a key's default value.
pub fn logical_lines(text: &str, cont: &[Continuation]) -> Vec<Line> {
    let mut out = Vec::new();
    let mut pending: Option<Line> = None;
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    for (i, raw) in normalized.split('\n').enumerate() {
        let number = i + 1;
        let trimmed = raw.trim_end();
        let (body, goes_on) = strip_continuation(trimmed, cont);
        match pending.as_mut() {
            Some(p) => {
                p.text.push(' ');
                p.text.push_str(body.trim_start());
            }
            None => {
                pending = Some(Line {
                    number,
                    text: body.to_string(),
                })
            }
        }
        if !goes_on && let Some(p) = pending.take() {
            push_line(&mut out, p, cont);
        }
    }
    if let Some(p) = pending.take() {
        push_line(&mut out, p, cont);
    }
    out
}

fn strip_continuation<'a>(line: &'a str, cont: &[Continuation]) -> (&'a str, bool) {
    for c in cont {
        let mark = match c {
            Continuation::Caret => '^',
            Continuation::Backtick => '`',
            Continuation::Backslash => '\\',
        };
        if let Some(body) = line.strip_suffix(mark) {
            // `^^` is an escaped caret, not a continuation.
            if *c == Continuation::Caret && body.ends_with('^') {
                continue;
            }
            return (body, true);
        }
    }
    (line, false)
}

fn push_line(out: &mut Vec<Line>, mut line: Line, cont: &[Continuation]) {
    let reg = cont.contains(&Continuation::Backslash);
    let t = line.text.trim().trim_start_matches('\u{feff}').trim();
    let t = match t.strip_prefix('@') {
        Some(command) if !reg => command.trim_start(),
        _ => t,
    };
    if t.is_empty() || is_comment(t, reg) {
        return;
    }
    line.text = t.to_string();
    out.push(line);
}

fn is_comment(t: &str, reg: bool) -> bool {
    let lower = t.to_ascii_lowercase();
    lower == "rem"
        || lower.starts_with("rem ")
        || lower.starts_with("rem\t")
        || t.starts_with("::")
        || t.starts_with('#')
        || (reg && t.starts_with(';'))
}

/// The cmd/netsh word splitter lives in [`crate::script::words`], beside the quoting rules that
/// write what it reads.
pub use crate::script::words::split_words;

/// Non-ASCII characters that look like a hyphen-minus and get pasted from web pages or word
/// processors: hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar,
/// minus sign, small and full-width hyphen-minus.
pub const TYPOGRAPHIC_DASHES: &[char] = &[
    '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2212}', '\u{fe58}',
    '\u{fe63}', '\u{ff0d}',
];

pub fn is_typographic_dash(c: char) -> bool {
    TYPOGRAPHIC_DASHES.contains(&c)
}

/// The Unicode name of a dash, for messages.
pub fn dash_name(c: char) -> &'static str {
    match c {
        '\u{2013}' => "en dash (U+2013)",
        '\u{2014}' => "em dash (U+2014)",
        '\u{2212}' => "minus sign (U+2212)",
        '\u{2010}' => "hyphen (U+2010)",
        '\u{2011}' => "non-breaking hyphen (U+2011)",
        '\u{2012}' => "figure dash (U+2012)",
        '\u{2015}' => "horizontal bar (U+2015)",
        _ => "non-ASCII dash",
    }
}

/// Replace every typographic dash by ASCII `-`.
pub fn ascii_dashes(s: &str) -> String {
    s.chars()
        .map(|c| if is_typographic_dash(c) { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_windows_encoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFab").text, "ab");
        assert_eq!(decode(b"\xEF\xBB\xBFab").encoding, "utf-8-bom");
        let utf16: Vec<u8> = [0xFF, 0xFE, b'a', 0, b'b', 0].to_vec();
        assert_eq!(decode(&utf16).text, "ab");
        assert_eq!(decode(&utf16).encoding, "utf-16le");
        let no_bom: Vec<u8> = "rpccfg -pe 5001".bytes().flat_map(|b| [b, 0]).collect();
        assert_eq!(decode(&no_bom).text, "rpccfg -pe 5001");
        // 0x96 is the en dash in Windows-1252 and invalid as UTF-8.
        let d = decode(b"ipseccmd \x96x");
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(d.text, "ipseccmd \u{2013}x");
        assert_eq!(decode("é".as_bytes()).encoding, "utf-8");
    }

    #[test]
    fn joins_caret_and_backtick_continuations_and_drops_comments() {
        let t = "@echo off\r\nrem a comment\r\n:: another\r\n\r\nipseccmd -w REG ^\r\n  -p \"P\"\r\nnext";
        let lines = logical_lines(t, &[Continuation::Caret]);
        assert_eq!(
            lines,
            vec![
                Line {
                    number: 1,
                    text: "echo off".into()
                },
                Line {
                    number: 5,
                    text: "ipseccmd -w REG  -p \"P\"".into()
                },
                Line {
                    number: 7,
                    text: "next".into()
                },
            ]
        );
        let ps = "New-NetFirewallRule `\n -Action Block\n# c";
        let lines = logical_lines(ps, &[Continuation::Backtick]);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "New-NetFirewallRule  -Action Block");
        // Without the caret rule a caret is text.
        assert_eq!(logical_lines("a ^\nb", &[]).len(), 2);
    }

    #[test]
    fn splits_words_with_quotes() {
        assert_eq!(
            split_words(r#"ipseccmd -p "Block RPC Ports" -f *=0:135:TCP"#),
            vec!["ipseccmd", "-p", "Block RPC Ports", "-f", "*=0:135:TCP"]
        );
        assert_eq!(split_words(r#"name="a b" x"#), vec!["name=a b", "x"]);
        assert_eq!(split_words(r#""""#), vec![""]);
    }

    #[test]
    fn knows_typographic_dashes() {
        assert!(is_typographic_dash('\u{2013}'));
        assert!(!is_typographic_dash('-'));
        assert_eq!(ascii_dashes("\u{2013}x 5001\u{2014}5021"), "-x 5001-5021");
    }
}
