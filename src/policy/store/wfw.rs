//! `.wfw` files, as `netsh advfirewall export FILE.wfw` writes them: a registry hive (regf)
//! holding the local firewall store. Called by [`crate::policy::parse_text`] with the file's
//! bytes (the caller reads the file; no I/O here); [`read`] walks the hive with the `regf`
//! crate and hands every value, under the key path a `.reg` export of the same store names,
//! to the same [`FirewallStore`] the `.reg` and Registry.pol readers fill, so a store decides
//! the same in either form.
//!
//! Layout. In the one public `.wfw` we found (a Windows 10 export of 409 rules:
//! github.com/cyber-is-cool/windows-bigboi, `Tools/Win10Firewall.wfw`, commit e0e52ed), the
//! hive's root key (named with a random GUID) *is* the `FirewallPolicy` key: it holds the
//! values `PolicyVersion`, `DisableStatefulFTP`, ... and the subkeys `DomainProfile`,
//! `FirewallRules`, `PublicProfile`, `StandardProfile` (each profile with a `Logging` subkey).
//! Microsoft documents no layout, so both plausible ones are read, each said in
//! docs/guide/policy.md: a key path that holds `Services\SharedAccess\Parameters\
//! FirewallPolicy` is read below that key (a hive holding the full path), any other path is
//! read as if the root were `FirewallPolicy` (what the export above holds). Keys and values
//! outside the firewall keys are walked (and counted) but not read.
//!
//! Values are numbered 1, 2, ... in the order of a depth-first walk (a key's values, in the
//! hive's order, before its subkeys, in the hive's sorted order); a finding cites that number
//! where a `.reg` file's cites a line.
//!
//! Hostile hives: `regf` checks the whole key graph when it opens a hive (offsets, cell sizes,
//! counts against list lengths, cycles, parent links, sorted subkey lists) and returns an
//! error, never panics (tests/wfw_hive.rs feeds it truncated, corrupted and looping hives);
//! this module refuses a header whose checksum is wrong or that says it was not written to the
//! end, walks with its own stack, and caps the keys, values, depth and value size it reads.

use super::fwstore::{self, FirewallStore};
use super::reg_export::RegData;
use crate::inert::excerpt;
use crate::policy::model::sink::Sink;

/// The signature a hive starts with.
pub const SIGNATURE: &[u8; 4] = b"regf";
/// At most this many keys are walked.
pub const MAX_KEYS: usize = 100_000;
/// At most this many values are read.
pub const MAX_VALUES: usize = 500_000;
/// Keys nested deeper than this are refused (a firewall export is three levels deep).
pub const MAX_DEPTH: usize = 32;
/// A value larger than this is refused (a rule string is a few hundred bytes).
pub const MAX_VALUE_BYTES: u32 = 1024 * 1024;

/// The local store's key, below HKLM, which the firewall keys of a `.wfw` are read under.
const FIREWALL_POLICY: &str =
    r"SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy";
/// The path, as key names in lower case, whose presence in a hive marks the second layout.
const FULL_PATH: [&str; 4] = ["services", "sharedaccess", "parameters", "firewallpolicy"];

/// Is this a registry hive?
pub fn is_hive(bytes: &[u8]) -> bool {
    bytes.starts_with(SIGNATURE)
}

/// Why a hive cannot be read at all (the file is refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WfwError {
    #[error("the hive is damaged: {0}")]
    Hive(String),
    #[error("the hive's header checksum does not match its contents (the file is damaged)")]
    Checksum,
    #[error(
        "the hive was not written to the end (its header's sequence numbers differ); export it again"
    )]
    Unfinished,
    #[error("the hive holds more than {max} {what}; a firewall export holds far fewer")]
    TooMany { what: &'static str, max: usize },
    #[error("keys are nested deeper than {0} levels; a firewall export holds three")]
    TooDeep(usize),
    #[error(
        "value '{name}' of key '{key}' holds {size} bytes, more than the {max} a value may hold here"
    )]
    ValueTooLarge {
        key: String,
        name: String,
        size: u32,
        max: u32,
    },
}

impl From<regf::Error> for WfwError {
    fn from(e: regf::Error) -> Self {
        WfwError::Hive(excerpt(&e.to_string()).into_owned())
    }
}

/// One value of the hive, as a `.reg` export of the same store would show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiveValue {
    /// The key path below HKLM (`SYSTEM\...\FirewallPolicy\FirewallRules`).
    pub key: String,
    pub name: String,
    pub data: RegData,
    /// 1 for the first value of the walk.
    pub number: usize,
}

/// What a hive holds: every value, in walk order, and how many keys were walked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hive {
    pub values: Vec<HiveValue>,
    pub keys: usize,
}

/// Read every key and value of a hive (no I/O: the bytes are the file's).
pub fn values(bytes: &[u8]) -> Result<Hive, WfwError> {
    let hive = regf::RegistryHive::from_bytes(bytes.to_vec())?;
    if !hive.base_block().checksum_valid {
        return Err(WfwError::Checksum);
    }
    if hive.is_dirty() {
        return Err(WfwError::Unfinished);
    }
    let mut out = Hive::default();
    // (key, its path below the root as key names)
    let mut pending = vec![(hive.root_key()?, Vec::<String>::new())];
    while let Some((key, path)) = pending.pop() {
        out.keys += 1;
        if out.keys > MAX_KEYS {
            return Err(WfwError::TooMany {
                what: "keys",
                max: MAX_KEYS,
            });
        }
        let below_hklm = below_hklm(&path);
        for v in key.values()? {
            let size = v.data_size();
            if size > MAX_VALUE_BYTES {
                return Err(WfwError::ValueTooLarge {
                    key: excerpt(&below_hklm).into_owned(),
                    name: excerpt(&v.name()).into_owned(),
                    size,
                    max: MAX_VALUE_BYTES,
                });
            }
            if out.values.len() >= MAX_VALUES {
                return Err(WfwError::TooMany {
                    what: "values",
                    max: MAX_VALUES,
                });
            }
            out.values.push(HiveValue {
                key: below_hklm.clone(),
                name: v.name(),
                data: RegData::from_typed(v.raw_data_type(), &v.raw_data()?),
                number: out.values.len() + 1,
            });
        }
        let subkeys = key.subkeys()?;
        if !subkeys.is_empty() && path.len() >= MAX_DEPTH {
            return Err(WfwError::TooDeep(MAX_DEPTH));
        }
        // Pushed in reverse, so the first subkey is walked next: depth first, in hive order.
        for sub in subkeys.into_iter().rev() {
            let mut p = path.clone();
            p.push(sub.name());
            pending.push((sub, p));
        }
    }
    Ok(out)
}

/// The key path below HKLM that key `path` (names below the hive's root) stands for: below
/// `FirewallPolicy` wherever the hive holds `...\Services\SharedAccess\Parameters\
/// FirewallPolicy`, otherwise as if the root were `FirewallPolicy`.
pub fn below_hklm(path: &[String]) -> String {
    let lower: Vec<String> = path.iter().map(|n| n.to_ascii_lowercase()).collect();
    let rest = lower
        .windows(FULL_PATH.len())
        .position(|w| w.iter().zip(FULL_PATH).all(|(a, b)| a == b))
        .map_or(path, |i| &path[i + FULL_PATH.len()..]);
    std::iter::once(FIREWALL_POLICY)
        .chain(rest.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\\")
}

/// Read a `.wfw` hive into a firewall store: each value goes where a `.reg` export's value of
/// the same key and name goes. Values of keys the store reader does not read are skipped.
pub fn read(bytes: &[u8], sink: &mut Sink) -> Result<(FirewallStore, Hive), WfwError> {
    let hive = values(bytes)?;
    let mut store = FirewallStore::default();
    for v in &hive.values {
        let kind = fwstore::classify(&v.key);
        if matches!(kind, fwstore::KeyKind::Other) {
            continue;
        }
        store.own(v.number);
        store.set(sink, &kind, v.number, v.name.clone(), v.data.clone());
    }
    Ok((store, hive))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_root_is_firewall_policy_unless_the_hive_holds_the_full_path() {
        assert_eq!(below_hklm(&path(&[])), FIREWALL_POLICY);
        assert_eq!(
            below_hklm(&path(&["FirewallRules"])),
            format!(r"{FIREWALL_POLICY}\FirewallRules")
        );
        for full in [
            &[
                "SYSTEM",
                "CurrentControlSet",
                "Services",
                "SharedAccess",
                "Parameters",
                "FirewallPolicy",
            ][..],
            &[
                "ControlSet001",
                "services",
                "SHAREDACCESS",
                "Parameters",
                "FirewallPolicy",
            ][..],
            &["Services", "SharedAccess", "Parameters", "FirewallPolicy"][..],
        ] {
            let mut p = path(full);
            p.push("DomainProfile".into());
            assert_eq!(
                below_hklm(&p),
                format!(r"{FIREWALL_POLICY}\DomainProfile"),
                "{full:?}"
            );
        }
        // Keys above FirewallPolicy in the second layout are read as nothing the store reads.
        let above = below_hklm(&path(&["SYSTEM", "CurrentControlSet"]));
        assert!(matches!(fwstore::classify(&above), fwstore::KeyKind::Other));
        assert!(matches!(
            fwstore::classify(&below_hklm(&path(&["StandardProfile"]))),
            fwstore::KeyKind::Profile(fwstore::Store::Local, 1)
        ));
    }

    #[test]
    fn not_a_hive_is_an_error_never_a_panic() {
        for bytes in [
            &b""[..],
            b"regf",
            &[0u8; 4096][..],
            b"regf\x01\0\0\0\x01\0\0\0",
        ] {
            assert!(values(bytes).is_err(), "{bytes:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_after_the_signature_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..9000)) {
            let mut bytes = SIGNATURE.to_vec();
            bytes.extend(tail);
            let mut sink = Sink::new("x.wfw");
            let _ = read(&bytes, &mut sink);
        }
    }
}
