//! How the shells split a command line into words, as far as rpcaudit reads and writes them:
//! cmd.exe and the programs it starts ([`split_words`]), PowerShell ([`ps_words`], with the
//! one expression form fix texts use for characters outside ASCII, [`ps_concat`]). The policy
//! reader splits the administrator's scripts with these (`policy::text`, `policy::firewall`
//! re-export them), and [`super::quote`] reads back every command it writes with them, so a
//! name is written and read by one rule.

/// Split a cmd/netsh command line into words. Double quotes group words and are removed
/// (`name="Block RPC"` → `name=Block RPC`); single quotes are kept for PowerShell to handle.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut has_word = false;
    for ch in line.chars() {
        match ch {
            '"' | '\u{201c}' | '\u{201d}' => {
                in_quotes = !in_quotes;
                has_word = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if has_word {
                    words.push(std::mem::take(&mut cur));
                    has_word = false;
                }
            }
            c => {
                cur.push(c);
                has_word = true;
            }
        }
    }
    if has_word {
        words.push(cur);
    }
    words
}

/// The five characters PowerShell reads as a single quote: any of them opens and closes a
/// single-quoted string, and two in a row inside one stand for the second.
pub const PS_SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201a}', '\u{201b}'];

pub fn is_ps_single_quote(c: char) -> bool {
    PS_SINGLE_QUOTES.contains(&c)
}

/// A single-quoted string at the start of `s`: its value and the text after it.
fn ps_single_quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.char_indices().peekable();
    match chars.next() {
        Some((_, q)) if is_ps_single_quote(q) => {}
        _ => return None,
    }
    let mut value = String::new();
    while let Some((at, c)) = chars.next() {
        if is_ps_single_quote(c) {
            match chars.peek() {
                Some(&(_, n)) if is_ps_single_quote(n) => {
                    value.push(n);
                    chars.next();
                }
                _ => return Some((value, &s[at + c.len_utf8()..])),
            }
        } else {
            value.push(c);
        }
    }
    None
}

/// `[char]0xHHHH` (one to four hex digits, `[char]` in any case) at the start of `s`: the
/// UTF-16 code unit and the text after it.
fn ps_char_code(s: &str) -> Option<(u16, &str)> {
    let cast = s.get(..8)?;
    if !cast.eq_ignore_ascii_case("[char]0x") {
        return None;
    }
    let rest = &s[8..];
    let digits = rest
        .bytes()
        .take_while(u8::is_ascii_hexdigit)
        .take(5)
        .count();
    if !(1..=4).contains(&digits) {
        return None;
    }
    let unit = u16::from_str_radix(&rest[..digits], 16).ok()?;
    Some((unit, &rest[digits..]))
}

/// The parenthesised concatenation fix texts write for a name with characters outside ASCII,
/// at the start of `s`: `('Remote' + [char]0x00FC + 'ber')`. The first part is a
/// single-quoted string (so `+` joins strings, not numbers), then any number of `+` and a
/// string or a `[char]0xHHHH` code (a UTF-16 code unit: characters beyond U+FFFF are two).
/// Returns the string PowerShell makes of it and the length of the text read; `None` for
/// anything else, or for codes that are not valid UTF-16.
pub fn ps_concat(s: &str) -> Option<(String, usize)> {
    let mut rest = s.strip_prefix('(')?.trim_start_matches(' ');
    let mut units: Vec<u16> = Vec::new();
    let (first, after) = ps_single_quoted(rest)?;
    units.extend(first.encode_utf16());
    rest = after.trim_start_matches(' ');
    loop {
        if let Some(after) = rest.strip_prefix(')') {
            let value = String::from_utf16(&units).ok()?;
            return Some((value, s.len() - after.len()));
        }
        rest = rest.strip_prefix('+')?.trim_start_matches(' ');
        if let Some((unit, after)) = ps_char_code(rest) {
            units.push(unit);
            rest = after;
        } else {
            let (part, after) = ps_single_quoted(rest)?;
            units.extend(part.encode_utf16());
            rest = after;
        }
        rest = rest.trim_start_matches(' ');
    }
}

/// Split a PowerShell command into words: `'...'` and `"..."` group, `-Name:value` splits.
/// In a single-quoted string a doubled quote character is one quote (`'O''Brien'`). A word
/// that is a [`ps_concat`] expression is the string it makes.
pub fn ps_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has = false;
    let mut chars = line.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        match (quote, ch) {
            (None, '(') if !has => {
                let whole = ps_concat(&line[at..]).filter(|(_, len)| {
                    line[at + len..]
                        .chars()
                        .next()
                        .is_none_or(char::is_whitespace)
                });
                match whole {
                    Some((value, len)) => {
                        cur.push_str(&value);
                        while chars.next_if(|&(i, _)| i < at + len).is_some() {}
                    }
                    None => cur.push(ch),
                }
                has = true;
            }
            (Some('\''), c) if is_ps_single_quote(c) => match chars.peek() {
                Some(&(_, n)) if is_ps_single_quote(n) => {
                    cur.push(n);
                    chars.next();
                }
                _ => quote = None,
            },
            (Some(q), c) if c == q || (q == '"' && matches!(c, '\u{201c}' | '\u{201d}')) => {
                quote = None
            }
            (Some(_), c) => cur.push(c),
            (None, c) if is_ps_single_quote(c) => {
                quote = Some('\'');
                has = true;
            }
            (None, '"' | '\u{201c}') => {
                quote = Some('"');
                has = true;
            }
            (None, c) if c.is_whitespace() => {
                if has {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenations_read_as_the_string_they_make() {
        assert_eq!(
            ps_concat("('Remote' + [char]0x00FC + 'ber') x"),
            Some(("Remoteüber".to_string(), 33))
        );
        let all = "('' + [CHAR]0X0451 + 'a''b' + [char]0xD83D + [char]0xDE00)";
        assert_eq!(ps_concat(all), Some(("ёa'b😀".to_string(), all.len())));
        // Numbers, not strings, a lone surrogate, a missing parenthesis, anything else.
        for bad in [
            "([char]0x41 + 'a')",
            "('' + [char]0xD83D)",
            "('a' + [char]0x00FC",
            "('a' + [char]0x10000)",
            "('a' + $x)",
            "('a' + [char]0x)",
            "('a'; calc)",
            "(Get-NetFirewallRule -DisplayName 'x')",
        ] {
            assert_eq!(ps_concat(bad), None, "{bad}");
        }
        assert_eq!(
            ps_words("Set-NetFirewallRule -DisplayName ('' + [char]0x0411 + 'x') -Enabled True"),
            [
                "Set-NetFirewallRule",
                "-DisplayName",
                "Бx",
                "-Enabled",
                "True"
            ]
        );
        // Not a whole word, or not the form: read as before.
        assert_eq!(
            ps_words("if (Get-NetFirewallRule -DisplayName 'a b') {"),
            ["if", "(Get-NetFirewallRule", "-DisplayName", "a b)", "{"]
        );
        assert_eq!(ps_words("x ('a')b"), ["x", "(a)b"]);
    }

    #[test]
    fn cmd_words_lose_their_double_quotes() {
        assert_eq!(
            split_words(r#"ipseccmd -p "Block RPC Ports" -f *=0:135:TCP"#),
            ["ipseccmd", "-p", "Block RPC Ports", "-f", "*=0:135:TCP"]
        );
    }
}
