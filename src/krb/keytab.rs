//! Keytab files (`--keytab FILE`): the MIT format, version 2 (0x05 0x02, big-endian), which
//! `ktutil`, `samba-tool domain exportkeytab` and Windows' `ktpass` write. Pure: bytes in, the
//! entries out, every length checked against what is left and capped. The key bytes never
//! print (Debug shows `<key>`) and are zeroed on drop.
//!
//! Grammar (https://web.mit.edu/kerberos/krb5-latest/doc/formats/keytab_file_format.html):
//! ```text
//! file   = 0x05 0x02 *record
//! record = int32 size; size < 0: a hole of -size bytes; size > 0: an entry of size bytes
//! entry  = uint16 num_components, data realm, num_components * data component,
//!          uint32 name_type, uint32 timestamp, uint8 vno8, uint16 enctype, data key,
//!          [uint32 vno (replaces vno8 when present and not 0)], [anything more: ignored]
//! data   = uint16 length, length bytes
//! ```
//! Version 1 (native byte order, the realm counted among the components) dates from MIT krb5
//! before 1.0 and is refused with a message saying so.

use zeroize::Zeroizing;

/// Largest keytab read (a keytab of a few principals is a few hundred bytes).
pub const MAX_KEYTAB: u64 = 1024 * 1024;
/// Most entries read from one keytab.
const MAX_ENTRIES: usize = 4096;
/// Most components in one principal name.
const MAX_COMPONENTS: usize = 16;
/// Longest key accepted (AES-256 is 32 bytes).
const MAX_KEY: usize = 64;

/// The enctypes sspi can use (RFC 3962): aes128-cts-hmac-sha1-96 and aes256-cts-hmac-sha1-96.
pub const AES128: u16 = 17;
pub const AES256: u16 = 18;

/// One key of a principal.
pub struct Entry {
    pub realm: String,
    pub components: Vec<String>,
    pub name_type: u32,
    pub kvno: u32,
    pub enctype: u16,
    key: Zeroizing<Vec<u8>>,
}

impl Entry {
    /// The principal as `name@REALM` (components joined by `/`).
    pub fn principal(&self) -> String {
        format!("{}@{}", self.components.join("/"), self.realm)
    }
    /// The key, for the security provider alone.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
    /// Whether sspi can use this key: AES with a key of its length.
    pub fn usable(&self) -> bool {
        matches!((self.enctype, self.key.len()), (AES128, 16) | (AES256, 32))
    }
}

/// Shows the principal and the key's type, never the key.
impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("principal", &self.principal())
            .field("kvno", &self.kvno)
            .field("enctype", &self.enctype)
            .field("key", &"<key>")
            .finish()
    }
}

/// Why a keytab could not be read. Never quotes a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeytabError {
    #[error("not a keytab (it starts {0:#04x} {1:#04x}, not 0x05 0x02)")]
    Magic(u8, u8),
    #[error(
        "a keytab of version 1 (MIT krb5 before 1.0, native byte order): rewrite it with ktutil"
    )]
    Version1,
    #[error("entry {entry} at byte {at}: {what} runs past the end")]
    Truncated {
        entry: usize,
        at: usize,
        what: &'static str,
    },
    #[error("entry {entry}: {what}")]
    Bad { entry: usize, what: String },
    #[error("more than {MAX_ENTRIES} entries")]
    TooMany,
}

/// A bounded big-endian reader over one slice.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    entry: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], KeytabError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(KeytabError::Truncated {
                entry: self.entry,
                at: self.at,
                what,
            })?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, KeytabError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, KeytabError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, KeytabError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn data(&mut self, what: &'static str) -> Result<&'a [u8], KeytabError> {
        let n = self.u16(what)? as usize;
        self.take(n, what)
    }
    fn text(&mut self, what: &'static str) -> Result<String, KeytabError> {
        let b = self.data(what)?;
        let s = std::str::from_utf8(b).map_err(|_| KeytabError::Bad {
            entry: self.entry,
            what: format!("{what} is not UTF-8"),
        })?;
        if s.is_empty() || s.chars().any(char::is_control) {
            return Err(KeytabError::Bad {
                entry: self.entry,
                what: format!("{what} is empty or holds a control character"),
            });
        }
        Ok(s.to_string())
    }
}

/// Every entry of a keytab, in file order.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry>, KeytabError> {
    match bytes {
        [0x05, 0x02, ..] => {}
        [0x05, 0x01, ..] => return Err(KeytabError::Version1),
        [a, b, ..] => return Err(KeytabError::Magic(*a, *b)),
        [a] => return Err(KeytabError::Magic(*a, 0)),
        [] => return Err(KeytabError::Magic(0, 0)),
    }
    let mut r = Reader {
        bytes,
        at: 2,
        entry: 0,
    };
    let mut out = Vec::new();
    while r.at < bytes.len() {
        r.entry += 1;
        let size = r.u32("the record size")? as i32;
        if size == 0 {
            break;
        }
        let len = size.unsigned_abs() as usize;
        let body = r.take(len, "the record")?;
        if size < 0 {
            continue; // a hole left by a removed entry
        }
        if out.len() == MAX_ENTRIES {
            return Err(KeytabError::TooMany);
        }
        out.push(entry(body, r.entry)?);
    }
    Ok(out)
}

fn entry(body: &[u8], n: usize) -> Result<Entry, KeytabError> {
    let mut r = Reader {
        bytes: body,
        at: 0,
        entry: n,
    };
    let count = r.u16("the component count")? as usize;
    if count == 0 || count > MAX_COMPONENTS {
        return Err(KeytabError::Bad {
            entry: n,
            what: format!("{count} name components (1 to {MAX_COMPONENTS})"),
        });
    }
    let realm = r.text("the realm")?;
    let components = (0..count)
        .map(|_| r.text("a name component"))
        .collect::<Result<Vec<_>, _>>()?;
    let name_type = r.u32("the name type")?;
    let _timestamp = r.u32("the timestamp")?;
    let vno8 = r.u8("the key version")?;
    let enctype = r.u16("the key type")?;
    let key = r.data("the key")?;
    if key.len() > MAX_KEY {
        return Err(KeytabError::Bad {
            entry: n,
            what: format!("a key of {} bytes (at most {MAX_KEY})", key.len()),
        });
    }
    let key = Zeroizing::new(key.to_vec());
    let kvno = match body.len() - r.at {
        rest if rest >= 4 => match r.u32("the key version")? {
            0 => u32::from(vno8),
            v => v,
        },
        _ => u32::from(vno8),
    };
    Ok(Entry {
        realm,
        components,
        name_type,
        kvno,
        enctype,
        key,
    })
}

/// Why no key of a keytab fits. Names principals (not secret), never keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    #[error(
        "no AES key (aes256- or aes128-cts-hmac-sha1-96) for {want} in the keytab; it holds {held}"
    )]
    NoKey { want: String, held: String },
    #[error("the keytab holds keys of several principals ({0}): give --user")]
    Several(String),
}

/// The key to log on with: the entries of `user` (the first component, compared without
/// regard to case as Active Directory does) in `realm` (when given), AES only, AES-256 before
/// AES-128, the highest key version first. Without `user`, the keytab must hold one principal.
pub fn choose<'e>(
    entries: &'e [Entry],
    user: Option<&str>,
    realm: Option<&str>,
) -> Result<&'e Entry, ChoiceError> {
    let held = || {
        let mut p: Vec<String> = entries.iter().map(Entry::principal).collect();
        p.dedup();
        if p.is_empty() {
            "nothing".to_string()
        } else {
            crate::inert::field(&p.join(", ")).into_owned()
        }
    };
    let fits = |e: &&Entry| {
        e.usable()
            && user
                .is_none_or(|u| e.components.len() == 1 && e.components[0].eq_ignore_ascii_case(u))
            && realm.is_none_or(|r| e.realm.eq_ignore_ascii_case(r))
    };
    let mut candidates: Vec<&Entry> = entries.iter().filter(fits).collect();
    if user.is_none() {
        let mut names: Vec<String> = candidates.iter().map(|e| e.principal()).collect();
        names.sort();
        names.dedup();
        if names.len() > 1 {
            return Err(ChoiceError::Several(
                crate::inert::field(&names.join(", ")).into_owned(),
            ));
        }
    }
    candidates.sort_by_key(|e| (e.enctype != AES256, std::cmp::Reverse(e.kvno)));
    candidates
        .first()
        .copied()
        .ok_or_else(|| ChoiceError::NoKey {
            want: match (user, realm) {
                (Some(u), Some(r)) => crate::inert::field(&format!("{u}@{r}")).into_owned(),
                (Some(u), None) => crate::inert::field(u).into_owned(),
                (None, _) => "any principal".into(),
            },
            held: held(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keytab that MIT's `ktutil` wrote (`addent -key` of known keys, `wkt`); `klist -k -t -e
    /// -K` read it as listed in `fixtures/krb/keytab.klist`, which the test compares.
    const KTUTIL: &[u8] = include_bytes!("../../fixtures/krb/ktutil.keytab");
    const KLIST: &str = include_str!("../../fixtures/krb/keytab.klist");

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn a_keytab_ktutil_wrote_reads_as_klist_lists_it() {
        let entries = parse(KTUTIL).unwrap();
        // klist -K lines: "   2 01/01/70 00:00:00 audit@RPCAUDIT.LAB (aes256-cts-hmac-sha1-96)  (0x...)"
        let want: Vec<(u32, String, String)> = KLIST
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let kvno = f.first()?.parse().ok()?;
                let key = f.last()?.trim_start_matches("(0x").trim_end_matches(')');
                Some((kvno, f.get(3)?.to_string(), key.to_string()))
            })
            .collect();
        assert!(want.len() >= 3, "{KLIST}");
        let got: Vec<(u32, String, String)> = entries
            .iter()
            .map(|e| (e.kvno, e.principal(), hex(e.key())))
            .collect();
        assert_eq!(got, want);
        let shown = format!("{entries:?}");
        for (_, _, key) in &want {
            assert!(!shown.contains(&key[..8]), "a key printed: {shown}");
        }
    }

    #[test]
    fn the_key_chosen_is_the_users_aes256_of_the_highest_version() {
        let entries = parse(KTUTIL).unwrap();
        let e = choose(&entries, Some("AUDIT"), Some("rpcaudit.lab")).unwrap();
        assert_eq!((e.enctype, e.kvno), (AES256, 3));
        let e = choose(&entries, Some("other"), None).unwrap();
        assert_eq!(e.enctype, AES128);
        let e = choose(&entries, Some("nobody"), None).unwrap_err();
        assert!(e.to_string().contains("audit@RPCAUDIT.LAB"), "{e}");
        let e = choose(&entries, None, None).unwrap_err();
        assert!(matches!(e, ChoiceError::Several(_)), "{e}");
        let e = choose(&entries, Some("audit"), Some("OTHER.REALM")).unwrap_err();
        assert!(matches!(e, ChoiceError::NoKey { .. }), "{e}");
    }

    #[test]
    fn hostile_keytabs_are_errors_never_panics() {
        assert_eq!(parse(&[]).err(), Some(KeytabError::Magic(0, 0)));
        assert_eq!(parse(&[5, 1, 0]).err(), Some(KeytabError::Version1));
        assert!(matches!(parse(b"PK\x03\x04"), Err(KeytabError::Magic(..))));
        assert!(parse(&[5, 2]).unwrap().is_empty());
        // Every truncation of a real keytab is an error (or, at a record boundary, fewer
        // entries), never a panic.
        for n in 0..KTUTIL.len() {
            let _ = parse(&KTUTIL[..n]);
        }
        // A size larger than the file; a huge negative size; components beyond the cap; a key
        // beyond the cap; a control character in the realm.
        let mut big = vec![5, 2];
        big.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert!(matches!(parse(&big), Err(KeytabError::Truncated { .. })));
        let mut hole = vec![5, 2];
        hole.extend_from_slice(&i32::MIN.to_be_bytes());
        assert!(matches!(parse(&hole), Err(KeytabError::Truncated { .. })));
        let rec = |body: Vec<u8>| {
            let mut f = vec![5, 2];
            f.extend_from_slice(&(body.len() as u32).to_be_bytes());
            f.extend(body);
            f
        };
        let mut many = 40u16.to_be_bytes().to_vec();
        many.extend([0, 1, b'R']);
        assert!(matches!(parse(&rec(many)), Err(KeytabError::Bad { .. })));
        let mut ctl = 1u16.to_be_bytes().to_vec();
        ctl.extend([0, 2, b'R', 0x1b, 0, 1, b'u']);
        assert!(matches!(parse(&rec(ctl)), Err(KeytabError::Bad { .. })));
        let mut long = 1u16.to_be_bytes().to_vec();
        long.extend([
            0, 1, b'R', 0, 1, b'u', 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 18, 0, 200,
        ]);
        long.extend([0u8; 200]);
        assert!(matches!(parse(&rec(long)), Err(KeytabError::Bad { .. })));
    }
}
