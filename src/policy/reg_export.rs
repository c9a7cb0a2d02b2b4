//! The `.reg` file grammar, as `reg export` and regedit write it, for the three readers of
//! registry exports: `registry` (Rpc\Internet), `fwstore` (the firewall rule stores) and
//! `ipsec_store` (the IPsec policy store). This module says which line opens a key, deletes one
//! or sets a value, and decodes the value types regedit writes into [`RegData`], the one type
//! of a registry value (Registry.pol records, in `preg`, decode to it too). What a key or a
//! value means is each reader's. Pure: logical lines in, items out.

use super::error::ValueError;
use super::sink::Sink;
use super::text::Line;
use crate::inert::excerpt;

/// A registry value, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegData {
    /// REG_SZ (and REG_EXPAND_SZ in Registry.pol).
    Sz(String),
    Dword(u32),
    /// REG_MULTI_SZ strings.
    MultiSz(Vec<String>),
    /// REG_BINARY (`hex:`).
    Binary(Vec<u8>),
    /// Another type, described for messages (`hex(b)`, `REG_QWORD`, `type 11, 8 bytes`).
    Other(String),
}

impl RegData {
    /// The type, as a message names it.
    pub fn type_name(&self) -> String {
        match self {
            RegData::Sz(_) => "REG_SZ".into(),
            RegData::Dword(d) => format!("REG_DWORD ({d:08x})"),
            RegData::MultiSz(_) => "REG_MULTI_SZ".into(),
            RegData::Binary(_) => "REG_BINARY".into(),
            RegData::Other(t) => t.clone(),
        }
    }
}

/// One line of a `.reg` file after its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    /// `[PATH]`: the values that follow belong to PATH.
    Key(&'a str),
    /// `[-PATH]`: regedit deletes PATH and its subkeys.
    DeletedKey(&'a str),
    /// `[PATH` without its `]`: the values that follow belong to no key that can be named.
    /// [`report_broken_key`] says so.
    BrokenKey(&'a str),
    /// `"Name"=value` or `@=value`, the value as written (`-` deletes the value).
    Value { name: String, value: &'a str },
    /// A line that is neither: [`report_not_a_value`] says so, where the reader reads the key.
    NotAValue(&'a str),
}

/// The file was written by regedit 4 (`REGEDIT4`): its `hex(7):` strings are ANSI, not UTF-16.
pub fn is_regedit4(lines: &[Line]) -> bool {
    lines
        .first()
        .is_some_and(|l| l.text.trim().eq_ignore_ascii_case("REGEDIT4"))
}

/// The lines after the header, each with its line number and what it is.
pub fn items(lines: &[Line]) -> impl Iterator<Item = (usize, Item<'_>)> {
    lines
        .iter()
        .skip(1)
        .map(|l| (l.number, item(l.text.trim())))
}

fn item(t: &str) -> Item<'_> {
    if let Some(inner) = t.strip_prefix('[') {
        return match inner.strip_suffix(']') {
            None => Item::BrokenKey(t),
            Some(inner) => match inner.strip_prefix('-') {
                Some(deleted) => Item::DeletedKey(deleted.trim()),
                None => Item::Key(inner.trim()),
            },
        };
    }
    match split_value_line(t) {
        Some((name, value)) => Item::Value { name, value },
        None => Item::NotAValue(t),
    }
}

/// A key line without its `]` is a parse error: the values after it are read as no key's.
pub fn report_broken_key(sink: &mut Sink, line: usize, text: &str) {
    sink.parse_error(
        line,
        format!("'{}': a key line must end with ']'", excerpt(text)),
        "close the key name with ']'",
    );
}

/// A line inside a key the reader reads that is not a value: `fix` says how to get a good
/// export of that key.
pub fn report_not_a_value(sink: &mut Sink, line: usize, text: &str, fix: impl Into<String>) {
    sink.parse_error(
        line,
        format!("'{}': expected \"Name\"=value", excerpt(text)),
        fix,
    );
}

/// A value as written after `=`: `"text"`, `dword:`, `hex(7):`, `hex:`, `hex(N):`.
pub fn decode(value: &str, regedit4: bool) -> Result<RegData, ValueError> {
    if value.starts_with('"') {
        return reg_sz(value)
            .map(RegData::Sz)
            .ok_or(ValueError::Unterminated);
    }
    if let Some(hex) = strip_ci(value, "dword:") {
        return u32::from_str_radix(hex.trim(), 16)
            .map(RegData::Dword)
            .map_err(|_| ValueError::NotRegValue(excerpt(value).into_owned()));
    }
    if let Some(hex) = strip_ci(value, "hex(7):") {
        return Ok(RegData::MultiSz(multi_sz(&decode_hex(hex)?, regedit4)));
    }
    if let Some(hex) = strip_ci(value, "hex:") {
        return Ok(RegData::Binary(decode_hex(hex)?));
    }
    if let Some(rest) = strip_ci(value, "hex(") {
        let ty = rest.split(')').next().unwrap_or("");
        return Ok(RegData::Other(format!("hex({})", excerpt(ty))));
    }
    Err(ValueError::NotRegValue(excerpt(value).into_owned()))
}

/// `prefix` at the start of `s`, in any case: the rest.
pub(super) fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

/// `"Name"=value` (the name unescaped) or `@=value` (the default value, named `@`).
fn split_value_line(t: &str) -> Option<(String, &str)> {
    if let Some(rest) = t.strip_prefix('@') {
        let rest = rest.trim_start().strip_prefix('=')?;
        return Some(("@".to_string(), rest.trim()));
    }
    let rest = t.strip_prefix('"')?;
    let mut name = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    name.push(n);
                }
            }
            '"' => {
                let after = rest[i + 1..].trim_start().strip_prefix('=')?;
                return Some((name, after.trim()));
            }
            c => name.push(c),
        }
    }
    None
}

/// A REG_SZ value as regedit writes it: `"text"` with `\\` and `\"` escaped.
fn reg_sz(value: &str) -> Option<String> {
    let inner = value.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next()?);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// `hex` lists: bytes as two hex digits, separated by commas.
pub(super) fn decode_hex(s: &str) -> Result<Vec<u8>, ValueError> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let b = u8::from_str_radix(p, 16)
            .map_err(|_| ValueError::NotHexByte(excerpt(p).into_owned()))?;
        out.push(b);
    }
    Ok(out)
}

/// REG_MULTI_SZ bytes: UTF-16LE strings (regedit 5) or ANSI (REGEDIT4), each NUL-terminated,
/// the list ending with an empty string.
fn multi_sz(bytes: &[u8], ansi: bool) -> Vec<String> {
    let text = if ansi {
        encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
    } else {
        encoding_rs::UTF_16LE
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
    };
    text.split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_line() {
        assert_eq!(
            item(r"[HKEY_LOCAL_MACHINE\X]"),
            Item::Key(r"HKEY_LOCAL_MACHINE\X")
        );
        assert_eq!(
            item(r"[-HKEY_LOCAL_MACHINE\X]"),
            Item::DeletedKey(r"HKEY_LOCAL_MACHINE\X")
        );
        assert_eq!(
            item(r"[HKEY_LOCAL_MACHINE\X"),
            Item::BrokenKey(r"[HKEY_LOCAL_MACHINE\X")
        );
        assert_eq!(
            item(r#""A \"b\""="x""#),
            Item::Value {
                name: "A \"b\"".into(),
                value: "\"x\""
            }
        );
        assert_eq!(
            item("@=-"),
            Item::Value {
                name: "@".into(),
                value: "-"
            }
        );
        assert_eq!(item("Ports=5001"), Item::NotAValue("Ports=5001"));
    }

    #[test]
    fn each_value_type_regedit_writes() {
        assert_eq!(
            decode(r#""a\\b\"c""#, false),
            Ok(RegData::Sz(r#"a\b"c"#.into()))
        );
        assert_eq!(decode("dword:0000000a", false), Ok(RegData::Dword(10)));
        // "5001-5002" as UTF-16LE, then the empty string that ends the list.
        let utf16 = "hex(7):35,00,30,00,30,00,31,00,00,00,35,00,30,00,30,00,32,00,00,00,00,00";
        assert_eq!(
            decode(utf16, false),
            Ok(RegData::MultiSz(vec!["5001".into(), "5002".into()]))
        );
        assert_eq!(
            decode("hex(7):35,30,30,31,00,00", true),
            Ok(RegData::MultiSz(vec!["5001".into()]))
        );
        assert_eq!(
            decode("hex:01,ff", false),
            Ok(RegData::Binary(vec![1, 0xff]))
        );
        assert_eq!(
            decode("hex(b):01,00", false),
            Ok(RegData::Other("hex(b)".into()))
        );
        assert_eq!(decode("\"open", false), Err(ValueError::Unterminated));
        assert_eq!(
            decode("hex:01,zz", false),
            Err(ValueError::NotHexByte("zz".into()))
        );
        assert!(matches!(
            decode("dword:zz", false),
            Err(ValueError::NotRegValue(_))
        ));
        assert!(matches!(
            decode("5001", false),
            Err(ValueError::NotRegValue(_))
        ));
        assert_eq!(RegData::Dword(1).type_name(), "REG_DWORD (00000001)");
    }
}
