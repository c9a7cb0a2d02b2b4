//! The `.reg` file grammar, as `reg export` and regedit write it, for the three readers of
//! registry exports: `registry` (Rpc\Internet), `fwstore` (the firewall rule stores) and
//! `ipsec_store` (the IPsec policy store). [`read`] goes over a file once: it says which line
//! opens a key, deletes one or sets a value, reports the lines that are none of these, and
//! hands each key's values to the [`KeyReader`]s that read that key; [`decode`] turns the value
//! types regedit writes into [`RegData`], the one type of a registry value (Registry.pol
//! records, in `preg`, decode to it too). What a key or a value means is each reader's. Pure:
//! logical lines in, calls out.

use crate::inert::excerpt;
use crate::policy::model::error::ValueError;
use crate::policy::model::sink::Sink;
use crate::policy::text::Line;

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

/// The registry's value types (`REG_*`), as Registry.pol records and hive values store them.
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_MULTI_SZ: u32 = 7;

impl RegData {
    /// A value stored as its type number and raw bytes (Registry.pol records, hive values):
    /// strings are UTF-16LE (a trailing NUL dropped), a REG_DWORD is 4 bytes little-endian; a
    /// REG_DWORD of another length and the other types are [`RegData::Other`], described.
    pub fn from_typed(ty: u32, data: &[u8]) -> RegData {
        let utf16 = || -> String {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        };
        match (ty, data) {
            (REG_SZ | REG_EXPAND_SZ, _) => RegData::Sz(utf16().trim_end_matches('\0').to_string()),
            (REG_DWORD, &[a, b, c, d]) => RegData::Dword(u32::from_le_bytes([a, b, c, d])),
            (REG_MULTI_SZ, _) => RegData::MultiSz(
                utf16()
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            (REG_BINARY, _) => RegData::Binary(data.to_vec()),
            _ => RegData::Other(format!("type {ty}, {} bytes", data.len())),
        }
    }

    /// The type, as a message names it.
    pub fn type_name(&self) -> String {
        match self {
            RegData::Sz(_) => "REG_SZ".into(),
            RegData::Dword(d) => format!("REG_DWORD ({d:08x})"),
            RegData::MultiSz(_) => "REG_MULTI_SZ".into(),
            RegData::Binary(_) => "REG_BINARY".into(),
            RegData::Other(t) => excerpt(t).into_owned(),
        }
    }
}

/// A reader of some keys of a `.reg` export.
pub(in crate::policy) trait KeyReader {
    /// A key line `[PATH]` at `line`: whether the values under it are this reader's.
    fn key(&mut self, line: usize, path: &str) -> bool;
    /// `[-PATH]`: regedit deletes PATH and its subkeys.
    fn deleted_key(&mut self, _path: &str) {}
    /// A value line under a key this reader reads.
    fn value(&mut self, sink: &mut Sink, line: usize, name: &str, value: RawValue<'_>);
    /// Line `line` belongs to a key this reader reads: its key line, a value, or a line that
    /// should have been one.
    fn owns(&mut self, _line: usize) {}
    /// How to export the keys this reader reads again: the fix of a parse error on a line of
    /// them that is not a value.
    fn export_again(&self) -> String;
}

/// A value as written after `Name=`.
#[derive(Debug, Clone, Copy)]
pub(in crate::policy) struct RawValue<'a> {
    pub(in crate::policy) text: &'a str,
    regedit4: bool,
}

impl RawValue<'_> {
    /// `-`: regedit deletes the value.
    pub fn deletes(&self) -> bool {
        self.text == "-"
    }

    /// The value, decoded as the file's version writes it.
    pub fn decode(&self) -> Result<RegData, ValueError> {
        decode(self.text, self.regedit4)
    }

    /// What the line does to value `name`: sets it, deletes it, or (reported as a parse error
    /// with the fix `fix` gives) cannot be read.
    pub fn read(
        &self,
        sink: &mut Sink,
        line: usize,
        name: &str,
        fix: impl FnOnce() -> String,
    ) -> ValueLine {
        if self.deletes() {
            return ValueLine::Deletes;
        }
        match self.decode() {
            Ok(data) => ValueLine::Sets(data),
            Err(e) => {
                sink.parse_error(line, format!("value {}: {e}", excerpt(name)), fix());
                ValueLine::Unreadable
            }
        }
    }
}

/// What a value line does, as [`RawValue::read`] tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::policy) enum ValueLine {
    Sets(RegData),
    Deletes,
    /// Already reported.
    Unreadable,
}

/// Read a `.reg` file (decoded, split into logical lines) once for every reader: a key line
/// without its `]` is reported, and ends the key before it; a line in a key some reader reads
/// that is not a value is reported once, with the first such reader's fix.
pub(in crate::policy) fn read(lines: &[Line], sink: &mut Sink, readers: &mut [&mut dyn KeyReader]) {
    let regedit4 = is_regedit4(lines);
    let mut reading = vec![false; readers.len()];
    for (number, item) in items(lines) {
        match item {
            Item::Key(path) => {
                for (r, on) in readers.iter_mut().zip(reading.iter_mut()) {
                    *on = r.key(number, path);
                    if *on {
                        r.owns(number);
                    }
                }
            }
            Item::DeletedKey(path) => {
                for r in readers.iter_mut() {
                    r.deleted_key(path);
                }
                reading.fill(false);
            }
            Item::BrokenKey(text) => {
                // The line stands in the keys being read: theirs to own, as their other lines.
                for (r, _) in readers.iter_mut().zip(&reading).filter(|(_, on)| **on) {
                    r.owns(number);
                }
                sink.parse_error(
                    number,
                    format!("'{}': a key line must end with ']'", excerpt(text)),
                    "close the key name with ']'",
                );
                reading.fill(false);
            }
            Item::NotAValue(text) => {
                let mut fix = None;
                for (r, _) in readers.iter_mut().zip(&reading).filter(|(_, on)| **on) {
                    r.owns(number);
                    fix.get_or_insert_with(|| r.export_again());
                }
                if let Some(fix) = fix {
                    sink.parse_error(
                        number,
                        format!("'{}': expected \"Name\"=value", excerpt(text)),
                        fix,
                    );
                }
            }
            Item::Value { name, value } => {
                let value = RawValue {
                    text: value,
                    regedit4,
                };
                for (r, _) in readers.iter_mut().zip(&reading).filter(|(_, on)| **on) {
                    r.owns(number);
                    r.value(sink, number, &name, value);
                }
            }
        }
    }
}

/// One line of a `.reg` file after its header.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item<'a> {
    /// `[PATH]`: the values that follow belong to PATH.
    Key(&'a str),
    /// `[-PATH]`: regedit deletes PATH and its subkeys.
    DeletedKey(&'a str),
    /// `[PATH` without its `]`: the values that follow belong to no key that can be named.
    BrokenKey(&'a str),
    /// `"Name"=value` or `@=value`, the value as written (`-` deletes the value).
    Value { name: String, value: &'a str },
    /// A line that is neither.
    NotAValue(&'a str),
}

/// The file was written by regedit 4 (`REGEDIT4`): its `hex(7):` strings are ANSI, not UTF-16.
fn is_regedit4(lines: &[Line]) -> bool {
    lines
        .first()
        .is_some_and(|l| l.text.trim().eq_ignore_ascii_case("REGEDIT4"))
}

/// The lines after the header, each with its line number and what it is.
fn items(lines: &[Line]) -> impl Iterator<Item = (usize, Item<'_>)> {
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

/// A key path below `HKEY_LOCAL_MACHINE\` (or `HKLM\`, in any case): the rest, as written.
pub(in crate::policy) fn below_hklm(path: &str) -> Option<&str> {
    let path = path.trim();
    strip_ci(path, "HKEY_LOCAL_MACHINE\\").or_else(|| strip_ci(path, "HKLM\\"))
}

/// A value as written after `=`: `"text"`, `dword:`, `hex(7):`, `hex:`, `hex(N):`.
fn decode(value: &str, regedit4: bool) -> Result<RegData, ValueError> {
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
fn decode_hex(s: &str) -> Result<Vec<u8>, ValueError> {
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
    use crate::policy::text::{Continuation, logical_lines};

    /// Reads the keys that start with its prefix; notes what it was handed.
    struct Prefix {
        prefix: &'static str,
        seen: Vec<String>,
    }

    impl KeyReader for Prefix {
        fn key(&mut self, line: usize, path: &str) -> bool {
            let ours = path.starts_with(self.prefix);
            if ours {
                self.seen.push(format!("{line} key {path}"));
            }
            ours
        }
        fn deleted_key(&mut self, path: &str) {
            self.seen.push(format!("deleted {path}"));
        }
        fn value(&mut self, _: &mut Sink, line: usize, name: &str, value: RawValue<'_>) {
            let shown = match value.decode() {
                Ok(d) => d.type_name(),
                Err(_) if value.deletes() => "deleted".into(),
                Err(e) => e.to_string(),
            };
            self.seen.push(format!("{line} {name} {shown}"));
        }
        fn owns(&mut self, line: usize) {
            self.seen.push(format!("{line} owned"));
        }
        fn export_again(&self) -> String {
            format!("export {} again", self.prefix)
        }
    }

    #[test]
    fn one_pass_hands_each_key_to_its_readers_and_reports_once() {
        let text = "Windows Registry Editor Version 5.00\r\n\
            [A\\x]\r\n\"v\"=dword:00000001\r\n\
            [B\\y]\r\n\"w\"=-\r\nnonsense\r\n\
            [A\\broken\r\n\"lost\"=\"x\"\r\n\
            [-A\\x]\r\n\
            [C]\r\nnot ours\r\n";
        let lines = logical_lines(text, &[Continuation::Backslash]);
        let mut sink = Sink::new("t.reg");
        let (mut a, mut b) = (
            Prefix {
                prefix: "A",
                seen: Vec::new(),
            },
            Prefix {
                prefix: "B",
                seen: Vec::new(),
            },
        );
        read(&lines, &mut sink, &mut [&mut a, &mut b]);
        assert_eq!(
            a.seen,
            [
                "2 key A\\x",
                "2 owned",
                "3 owned",
                "3 v REG_DWORD (00000001)",
                "deleted A\\x"
            ]
        );
        assert_eq!(
            b.seen,
            [
                "4 key B\\y",
                "4 owned",
                "5 owned",
                "5 w deleted",
                "6 owned",
                "7 owned",
                "deleted A\\x"
            ]
        );
        let errors: Vec<_> = sink
            .findings
            .iter()
            .map(|f| (f.line, f.message.clone(), f.fix.clone()))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    Some(6),
                    "'nonsense': expected \"Name\"=value".to_string(),
                    "export B again".to_string()
                ),
                (
                    Some(7),
                    "'[A\\broken': a key line must end with ']'".to_string(),
                    "close the key name with ']'".to_string()
                ),
            ]
        );
    }

    /// `@=` is a key's default value, not a cmd line's echo-off `@` (which a script reader
    /// drops).
    #[test]
    fn a_default_value_is_the_value_named_at() {
        let text = "REGEDIT4\r\n[A\\x]\r\n@=\"d\"\r\n";
        let lines = logical_lines(text, &[Continuation::Backslash]);
        let mut sink = Sink::new("t.reg");
        let mut a = Prefix {
            prefix: "A",
            seen: Vec::new(),
        };
        read(&lines, &mut sink, &mut [&mut a]);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        assert_eq!(a.seen, ["2 key A\\x", "2 owned", "3 owned", "3 @ REG_SZ"]);
    }

    #[test]
    fn keys_below_hklm_in_either_spelling_and_any_case() {
        assert_eq!(
            below_hklm(r"HKEY_LOCAL_MACHINE\SOFTWARE\X"),
            Some(r"SOFTWARE\X")
        );
        assert_eq!(below_hklm(r" hklm\Software\X "), Some(r"Software\X"));
        assert_eq!(below_hklm(r"HKEY_CURRENT_USER\SOFTWARE\X"), None);
        assert_eq!(below_hklm(r"SOFTWARE\X"), None);
    }

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
