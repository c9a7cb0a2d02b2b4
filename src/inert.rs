//! Untrusted text made inert for a terminal: the one place that decides how text read from the
//! network or a file (annotations, pipe and host names, string bindings, rule names, target
//! lines, file names, error messages that quote input) is shown. Every renderer passes such a
//! string through [`field`] or [`cell`]; the CLI's stdout, stderr and log writers pass whole
//! output through [`terminal`] as a backstop; JSON for a terminal goes through [`to_json_pretty`].
//!
//! The rule, exactly:
//! - Forbidden characters: the C0 controls U+0000-U+001F (TAB, LF and CR included), DEL U+007F,
//!   the C1 controls U+0080-U+009F; the bidirectional embeddings and overrides U+202A-U+202E,
//!   the isolates U+2066-U+2069 and the marks U+200E, U+200F and U+061C; the line and paragraph
//!   separators U+2028, U+2029; the invisible characters that make two different names look
//!   the same: zero-width space, non-joiner and joiner U+200B-U+200D, word joiner and invisible
//!   operators U+2060-U+2064, the BOM / zero-width no-break space U+FEFF and the interlinear
//!   annotation marks U+FFF9-U+FFFB. The fix-script writers refuse exactly this set in names
//!   ([`forbidden`] is the one definition).
//! - [`field`] replaces each forbidden character by an escape and keeps every other character:
//!   `\xHH` (two lowercase hex digits) below U+0080, `\u{hex}` (lowercase, no leading zeros)
//!   above, so ESC is `\x1b`, LF `\x0a` and RLO `\u{202e}`. A backslash is not escaped: input
//!   that already contains the text `\x1b` looks like an escaped ESC (the JSON has the exact
//!   value). An LF inside a value can therefore never start a new table row or log line.
//! - [`cell`] is [`field`] cut to [`MAX_CELL`] (200) characters of its output, then `…`, for
//!   table cells holding one value (a name, a binding, a target, a place); [`prose`] cuts at
//!   [`MAX_PROSE`] (1000) for cells holding a sentence (a finding's message or fix). A table
//!   stays linear in its input whatever one value holds (the whole value is in the JSON):
//!   comfy-table wraps one long word in quadratic time (80,000 characters take 3.8 s in a
//!   release build at 80 columns; a cut cell takes microseconds).
//! - [`excerpt`] cuts input quoted in an error message to [`MAX_QUOTE`] characters, then `…`
//!   (no escaping: that happens when the message is printed). Every module that builds such
//!   messages from what it read (`wire`, `policy`, `target`, `ports`, `jsonl`, `probe`,
//!   `report`, `cli`) calls it; it is pure and has no dependencies.
//! - [`terminal`], the sink-level backstop, escapes the same way but keeps LF and TAB (our own
//!   line structure) and the SGR colour sequences we emit ourselves (`ESC [` digits and `;`
//!   then `m`); any other ESC (OSC, other CSI, a lone ESC) is escaped, as are CR, BS and BEL.
//! - JSON keeps the exact data: [`to_json_pretty`] writes DEL, the C1 controls and the bidi
//!   characters as `\uXXXX` escapes (serde_json already escapes C0), which parse back to the
//!   same strings.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Most characters a table cell shows; longer values are cut (see [`cell`]).
pub const MAX_CELL: usize = 200;
/// Most characters a table cell holding a sentence shows (see [`prose`]).
pub const MAX_PROSE: usize = 1000;
/// Most characters of input an error message quotes (see [`excerpt`]).
pub const MAX_QUOTE: usize = 80;
/// What ends a cut value.
pub const ELLIPSIS: char = '…';

/// True for the characters the rule forbids on a terminal (see the module comment): the one
/// hazard set, which the fix-script writers refuse in names too
/// (`audit::remedy::quote::is_hazard` is this function).
pub fn forbidden(c: char) -> bool {
    // `is_control` is the Cc category: C0, DEL and C1 (NEL included).
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// Append the escape of `c` (a forbidden character) to `out`.
fn push_escape(out: &mut String, c: char) {
    let n = u32::from(c);
    // Writing to a String cannot fail.
    let _ = if n < 0x80 {
        write!(out, "\\x{n:02x}")
    } else {
        write!(out, "\\u{{{n:x}}}")
    };
}

/// One untrusted string, safe for a terminal: every forbidden character escaped, nothing else
/// changed. Borrowed when nothing needed escaping.
pub fn field(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(forbidden) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if forbidden(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`field`], cut to [`MAX_CELL`] characters (escapes count with their length, and are never
/// split), then [`ELLIPSIS`]. Reads no more of `s` than it shows.
pub fn cell(s: &str) -> Cow<'_, str> {
    cut_escaped(s, MAX_CELL)
}

/// [`field`], cut to [`MAX_PROSE`] characters then [`ELLIPSIS`]: for cells holding a sentence.
pub fn prose(s: &str) -> Cow<'_, str> {
    cut_escaped(s, MAX_PROSE)
}

/// [`field`] cut to `max` characters of output, then [`ELLIPSIS`].
pub fn cut_escaped(s: &str, max: usize) -> Cow<'_, str> {
    let mut shown = 0usize;
    let mut plain_end = None;
    for (i, c) in s.char_indices() {
        if forbidden(c) {
            plain_end = Some(i);
            break;
        }
        if shown == max {
            let mut out = String::with_capacity(i + ELLIPSIS.len_utf8());
            out.push_str(&s[..i]);
            out.push(ELLIPSIS);
            return Cow::Owned(out);
        }
        shown += 1;
    }
    let Some(start) = plain_end else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(start + 16);
    out.push_str(&s[..start]);
    let mut piece = String::new();
    for c in s[start..].chars() {
        piece.clear();
        if forbidden(c) {
            push_escape(&mut piece, c);
        } else {
            piece.push(c);
        }
        let len = piece.chars().count();
        if shown + len > max {
            out.push(ELLIPSIS);
            return Cow::Owned(out);
        }
        shown += len;
        out.push_str(&piece);
    }
    Cow::Owned(out)
}

/// Input quoted in an error message, cut to [`MAX_QUOTE`] characters then [`ELLIPSIS`]. Not
/// escaped: the message is escaped as a whole when it is printed.
pub fn excerpt(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(MAX_QUOTE) {
        None => Cow::Borrowed(s),
        Some((i, _)) => {
            let mut out = String::with_capacity(i + ELLIPSIS.len_utf8());
            out.push_str(&s[..i]);
            out.push(ELLIPSIS);
            Cow::Owned(out)
        }
    }
}

/// The length in bytes of an SGR sequence (`ESC [` digits and `;` then `m`) at the start of
/// `s`, which begins with ESC; None when it is anything else.
fn sgr_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix("\x1b[")?;
    let params = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    // Real SGR sequences are short; a long run of parameters is not one of ours.
    if params > 32 {
        return None;
    }
    (rest.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

/// The sink-level backstop for whole output (stdout, stderr, log lines): like [`field`] but
/// LF, TAB and SGR colour sequences pass through. Borrowed when nothing needed escaping.
pub fn terminal(s: &str) -> Cow<'_, str> {
    let bad = |c: char| forbidden(c) && c != '\n' && c != '\t';
    let Some(first) = s.find(bad) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    let mut i = first;
    out.push_str(&s[..first]);
    let mut kept_sgr_only = true;
    while let Some(c) = s[i..].chars().next() {
        if c == '\x1b'
            && let Some(n) = sgr_len(&s[i..])
        {
            out.push_str(&s[i..i + n]);
            i += n;
            continue;
        }
        if bad(c) {
            kept_sgr_only = false;
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
        i += c.len_utf8();
    }
    if kept_sgr_only {
        // Only our own colours: the text was already safe.
        return Cow::Borrowed(s);
    }
    Cow::Owned(out)
}

/// A serde_json formatter that writes what [`forbidden`] names and serde_json leaves raw (DEL,
/// C1, bidi, separator and invisible characters) as `\uXXXX` escapes; everything else as `F` would. The parsed value is
/// unchanged.
pub struct InertJson<F>(pub F);

/// The layout methods of serde_json's `Formatter` (brackets, commas, indentation), passed on
/// to the wrapped formatter unchanged: only string fragments are [`InertJson`]'s business.
macro_rules! forward_layout {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<W: ?Sized + std::io::Write>(
            &mut self,
            w: &mut W
            $(, $arg: $ty)*
        ) -> std::io::Result<()> {
            self.0.$method(w $(, $arg)*)
        }
    )*};
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for InertJson<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if forbidden(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                // Every forbidden character is in the BMP: one \uXXXX escape.
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    forward_layout! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
    }
}

/// `serde_json::to_string_pretty`, with [`InertJson`]: the same JSON value, and no raw C1 or
/// bidi character in the text.
pub fn to_json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    to_json_with(value, serde_json::ser::PrettyFormatter::new())
}

/// `serde_json::to_string` (one line), with [`InertJson`]: for JSON lines.
pub fn to_json_line<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    to_json_with(value, serde_json::ser::CompactFormatter)
}

fn to_json_with<T, F>(value: &T, layout: F) -> serde_json::Result<String>
where
    T: serde::Serialize + ?Sized,
    F: serde_json::ser::Formatter,
{
    let mut buf = Vec::with_capacity(1024);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, InertJson(layout));
    value.serialize(&mut ser)?;
    // serde_json writes UTF-8 only; the fallback is never taken.
    Ok(String::from_utf8(buf)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOSTILE: &str = "a\x1b]0;pwned\x07b\x1b[2Jc\rd\x08e\u{202e}f\u{9b}g\th\ni\u{7f}";

    #[test]
    fn field_escapes_every_forbidden_character() {
        assert_eq!(
            field(HOSTILE),
            "a\\x1b]0;pwned\\x07b\\x1b[2Jc\\x0dd\\x08e\\u{202e}f\\u{9b}g\\x09h\\x0ai\\x7f"
        );
        for c in [
            '\u{200e}', '\u{200f}', '\u{61c}', '\u{2066}', '\u{2069}', '\u{202a}',
        ] {
            assert!(!field(&c.to_string()).contains(c));
        }
        // Separators and invisible characters: two names that look the same must not.
        for c in [
            '\u{2028}', '\u{2029}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{2061}',
            '\u{2064}', '\u{feff}', '\u{fffb}', '\u{85}',
        ] {
            let name = format!("admin{c}");
            let shown = field(&name);
            assert_eq!(shown, format!("admin\\u{{{:x}}}", u32::from(c)));
            assert_eq!(terminal(&name), shown);
            let json = to_json_line(&name).unwrap();
            assert!(json.is_ascii(), "{json}");
            assert_eq!(serde_json::from_str::<String>(&json).unwrap(), name);
        }
        assert!(matches!(field("MS-SAMR samr ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn cells_are_cut_and_escapes_never_split() {
        let long = "x".repeat(1000);
        let c = cell(&long);
        assert_eq!(c.chars().count(), MAX_CELL + 1);
        assert!(c.ends_with(ELLIPSIS));
        let exact = "y".repeat(MAX_CELL);
        assert_eq!(cell(&exact), exact);
        let escs = "\x1b".repeat(100);
        let c = cell(&escs);
        // 200 characters hold 50 four-character escapes.
        assert_eq!(c, format!("{}{ELLIPSIS}", "\\x1b".repeat(50)));
        let mixed = format!("{}\x1b", "z".repeat(MAX_CELL - 2));
        assert_eq!(
            cell(&mixed),
            format!("{}{ELLIPSIS}", "z".repeat(MAX_CELL - 2))
        );
        assert_eq!(cell("a\nb"), "a\\x0ab");
    }

    #[test]
    fn excerpts_cut_quoted_input() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(500);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), MAX_QUOTE + 1);
        assert!(e.ends_with(ELLIPSIS));
    }

    #[test]
    fn terminal_keeps_our_colours_and_lines_only() {
        let ours = "\x1b[1;31mNOT COMPLIANT\x1b[0m: 1 host\n\tfix\n";
        assert!(matches!(terminal(ours), Cow::Borrowed(_)));
        assert_eq!(
            terminal("a\x1b]0;t\x07\x1b[2J\x1b\r\x08\u{202e}\x1b[31mred\x1b[0m\n"),
            "a\\x1b]0;t\\x07\\x1b[2J\\x1b\\x0d\\x08\\u{202e}\x1b[31mred\x1b[0m\n"
        );
        assert_eq!(terminal("\x1b["), "\\x1b[");
        assert_eq!(terminal("\x1b[m"), "\x1b[m");
    }

    #[test]
    fn json_keeps_the_data_and_escapes_c1_and_bidi() {
        let v = serde_json::json!({ "k\u{202e}": [HOSTILE, "plain", "\u{85}\u{2067}"] });
        let text = to_json_pretty(&v).unwrap();
        assert!(!text.chars().any(|c| forbidden(c) && c != '\n'), "{text}");
        assert!(text.contains("\\u202e") && text.contains("\\u009b") && text.contains("\\u007f"));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        // The layout is serde_json's own pretty one.
        let plain = serde_json::json!({"a": [1, {"b": "c"}]});
        assert_eq!(
            to_json_pretty(&plain).unwrap(),
            serde_json::to_string_pretty(&plain).unwrap()
        );
    }

    fn printable() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            any::<char>().prop_filter("printable", |c| !forbidden(*c)),
            0..64,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn field_and_cell_never_let_a_forbidden_character_through(s in any::<String>()) {
            prop_assert!(!field(&s).chars().any(forbidden));
            let c = cell(&s);
            prop_assert!(!c.chars().any(forbidden));
            prop_assert!(c.chars().count() <= MAX_CELL + 1);
        }

        #[test]
        fn terminal_lets_through_only_lf_tab_and_sgr(s in any::<String>()) {
            let t = terminal(&s);
            // Remove the SGR sequences it kept: nothing forbidden but LF and TAB remains.
            let mut rest = String::new();
            let mut i = 0;
            while let Some(c) = t[i..].chars().next() {
                if c == '\x1b' {
                    let n = sgr_len(&t[i..]);
                    prop_assert!(n.is_some(), "a raw ESC that is not SGR in {:?}", t);
                    i += n.unwrap_or(1);
                    continue;
                }
                rest.push(c);
                i += c.len_utf8();
            }
            prop_assert!(!rest.chars().any(|c| forbidden(c) && c != '\n' && c != '\t'));
        }

        #[test]
        fn escaping_is_the_identity_on_printable_text(s in printable()) {
            prop_assert_eq!(field(&s), s.as_str());
            prop_assert_eq!(terminal(&s), s.as_str());
            prop_assert_eq!(excerpt(&s), s.as_str());
            prop_assert_eq!(cell(&s), s.as_str());
        }

        #[test]
        fn json_parses_back_to_the_same_strings(s in any::<String>()) {
            let text = to_json_pretty(&s).unwrap();
            prop_assert!(!text.chars().any(|c| forbidden(c) && c != '\n'));
            let back: String = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, s);
        }
    }
}
