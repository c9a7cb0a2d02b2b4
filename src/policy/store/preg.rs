//! Group Policy `Registry.pol` files (MS-GPREG §2.2.1), as GPO backups and SYSVOL hold them
//! (`{GPO}\Machine\Registry.pol`): the firewall rule store and profile settings a GPO sets, and
//! the authentication restrictions (`Software\Policies\Microsoft\Windows NT\Rpc` and the
//! MSV1_0 NTLM key, read into [`super::restrictions`]). Called by
//! [`crate::policy::parse_text`] before any text decoding (the file is binary); what it reads goes
//! into the same [`FirewallStore`] as a `.reg` export of the GPO store. Pure: no I/O.
//!
//! Layout: the signature `PReg`, version 1 (u32 LE), then records
//! `[key;value;type;size;data]` where the brackets and semicolons are UTF-16LE characters, key
//! and value are NUL-terminated UTF-16LE strings, type and size are u32 LE, and data is `size`
//! bytes. Records are read by their size fields, in order; the directives `**del.NAME`,
//! `**delvals.`, `**DeleteValues` (`a;b;`) delete what earlier records set. Findings name the
//! record by its number (1 is the first record) in the `line` field.

use super::fwstore::{self, FirewallStore};
use super::reg_export::RegData;
use super::restrictions::{AuthRestrictions, Key};
use crate::policy::model::sink::Sink;

/// `PReg` as a little-endian u32.
pub const SIGNATURE: &[u8; 4] = b"PReg";
const VERSION: u32 = 1;
#[cfg(test)]
use super::reg_export::{REG_DWORD, REG_SZ};
/// The key of the RPC restrictions.
pub use super::restrictions::RPC_KEY;

/// Is this a Registry.pol file?
pub fn is_preg(bytes: &[u8]) -> bool {
    bytes.starts_with(SIGNATURE)
}

/// A Registry.pol file that cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PregError {
    #[error("Registry.pol version {0}, expected 1")]
    Version(u32),
    #[error("Registry.pol header is cut short")]
    ShortHeader,
}

/// Why one record could not be read (the rest of the file is not read either: without a
/// trustworthy size, the next record's start is unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum RecordError {
    #[error("expected '{0}' at byte {1}")]
    Expected(char, usize),
    #[error("a string that does not end before the end of the file, from byte {0}")]
    Unterminated(usize),
    #[error("the data size {size} at byte {at} runs past the end of the file")]
    DataTooLong { size: u32, at: usize },
}

/// What a Registry.pol file sets that rpcaudit reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PregContents {
    pub firewall: FirewallStore,
    /// The RPC policy key and the MSV1_0 NTLM restrictions.
    pub restrictions: AuthRestrictions,
    pub records: usize,
}

impl PregContents {
    /// Did the file set anything rpcaudit reads?
    pub fn touched(&self) -> bool {
        self.firewall_touched() || self.restrictions.touched()
    }

    /// Did the file set any firewall rule or profile setting?
    pub fn firewall_touched(&self) -> bool {
        self.firewall.rules().next().is_some()
            || self.firewall.settings.iter().flatten().any(|s| s.is_set())
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn u16(&mut self) -> Option<u16> {
        let b = self.bytes.get(self.at..self.at + 2)?;
        self.at += 2;
        Some(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn punct(&mut self, c: char) -> Result<(), RecordError> {
        let at = self.at;
        match self.u16() {
            Some(u) if u32::from(u) == c as u32 => Ok(()),
            _ => Err(RecordError::Expected(c, at)),
        }
    }

    /// A NUL-terminated UTF-16LE string.
    fn string(&mut self) -> Result<String, RecordError> {
        let start = self.at;
        let mut units = Vec::new();
        loop {
            match self.u16() {
                Some(0) => break,
                Some(u) => units.push(u),
                None => return Err(RecordError::Unterminated(start)),
            }
        }
        Ok(String::from_utf16_lossy(&units))
    }

    fn record(&mut self) -> Result<(String, String, u32, &[u8]), RecordError> {
        self.punct('[')?;
        let key = self.string()?;
        self.punct(';')?;
        let value = self.string()?;
        self.punct(';')?;
        let at = self.at;
        let ty = self.u32().ok_or(RecordError::Expected(';', at))?;
        self.punct(';')?;
        let at = self.at;
        let size = self.u32().ok_or(RecordError::Expected(';', at))?;
        self.punct(';')?;
        let at = self.at;
        let end = usize::try_from(size)
            .ok()
            .and_then(|n| at.checked_add(n))
            .filter(|&e| e <= self.bytes.len())
            .ok_or(RecordError::DataTooLong { size, at })?;
        self.at = end;
        let data = &self.bytes[at..end];
        self.punct(']')?;
        Ok((key, value, ty, data))
    }
}

/// Read a Registry.pol file. A bad header is an error; a bad record is a parse error at that
/// record, and what came before it is kept.
pub fn parse(bytes: &[u8], sink: &mut Sink) -> Result<PregContents, PregError> {
    let mut c = Cursor { bytes, at: 4 };
    if !is_preg(bytes) {
        return Err(PregError::ShortHeader);
    }
    let version = c.u32().ok_or(PregError::ShortHeader)?;
    if version != VERSION {
        return Err(PregError::Version(version));
    }
    let mut out = PregContents::default();
    while c.at < bytes.len() {
        let number = out.records + 1;
        let (key, value, ty, data) = match c.record() {
            Ok(r) => r,
            Err(e) => {
                sink.parse_error(
                    number,
                    format!("Registry.pol record {number}: {e}; the records after it are not read"),
                    "copy the Registry.pol file again from the GPO backup or SYSVOL",
                );
                break;
            }
        };
        out.records = number;
        apply(
            &mut out,
            sink,
            number,
            &key,
            &value,
            RegData::from_typed(ty, data),
        );
    }
    Ok(out)
}

fn apply(
    out: &mut PregContents,
    sink: &mut Sink,
    number: usize,
    key: &str,
    value: &str,
    data: RegData,
) {
    let kind = fwstore::classify(key);
    let lower = value.to_ascii_lowercase();
    if let Some(name) = lower.strip_prefix("**del.") {
        let name = &value[value.len() - name.len()..];
        out.firewall.delete(&kind, Some(name));
        if let Some(k) = Key::of(key) {
            out.restrictions.set(sink, k, name, None, number, true);
        }
        return;
    }
    if lower.starts_with("**delvals") {
        out.firewall.delete(&kind, None);
        if let Some(k) = Key::of(key) {
            out.restrictions.clear(k);
        }
        return;
    }
    if lower == "**deletevalues" {
        if let RegData::Sz(list) = &data {
            for name in list.split(';').filter(|n| !n.is_empty()) {
                out.firewall.delete(&kind, Some(name));
                if let Some(k) = Key::of(key) {
                    out.restrictions.set(sink, k, name, None, number, true);
                }
            }
        }
        return;
    }
    if value.starts_with("**") || value.is_empty() {
        // **DeleteKeys, **SecureKey, key creation: nothing rpcaudit models.
        return;
    }
    if let Some(k) = Key::of(key) {
        out.restrictions
            .set(sink, k, value, Some(data), number, true);
        return;
    }
    out.firewall
        .set(sink, &kind, number, value.to_string(), data);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::finding::Code;

    /// A Registry.pol file from `(key, value, type, data)` records.
    pub(crate) fn pol(records: &[(&str, &str, u32, Vec<u8>)]) -> Vec<u8> {
        let w = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let mut out = b"PReg".to_vec();
        out.extend_from_slice(&1u32.to_le_bytes());
        for (key, value, ty, data) in records {
            out.extend(w("["));
            out.extend(w(key));
            out.extend([0, 0]);
            out.extend(w(";"));
            out.extend(w(value));
            out.extend([0, 0]);
            out.extend(w(";"));
            out.extend(ty.to_le_bytes());
            out.extend(w(";"));
            out.extend((data.len() as u32).to_le_bytes());
            out.extend(w(";"));
            out.extend(data);
            out.extend(w("]"));
        }
        out
    }

    pub(crate) fn sz(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    pub(crate) fn dword(d: u32) -> Vec<u8> {
        d.to_le_bytes().to_vec()
    }

    const RULES: &str = r"Software\Policies\Microsoft\WindowsFirewall\FirewallRules";
    const DOMAIN: &str = r"Software\Policies\Microsoft\WindowsFirewall\DomainProfile";

    fn read(bytes: &[u8]) -> (PregContents, Vec<crate::finding::Finding>) {
        let mut sink = Sink::new("Registry.pol");
        let c = parse(bytes, &mut sink).unwrap();
        c.restrictions.report(&mut sink);
        (c, sink.into_findings())
    }

    /// Each setting cites its own record, not the last record of its profile: a GPO sets
    /// DefaultInboundAction=1 at record 2 and EnableFirewall=1 at record 3 (the order of a
    /// real 600-record GPO, where the decision cited EnableFirewall's record).
    #[test]
    fn each_setting_cites_its_own_record() {
        let bytes = pol(&[
            (RULES, "**delvals.", REG_SZ, sz(" ")),
            (DOMAIN, "DefaultInboundAction", REG_DWORD, dword(1)),
            (DOMAIN, "EnableFirewall", REG_DWORD, dword(1)),
        ]);
        let (c, _) = read(&bytes);
        let d = c.firewall.default_inbound("Registry.pol").unwrap();
        assert_eq!(d.origin.line, 2, "{d:?}");
        let domain = c.firewall.settings[1][0];
        assert_eq!(domain.enable_firewall.map(|s| s.line), Some(3));
    }

    #[test]
    fn records_and_directives_in_order() {
        let rule = "v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|";
        let bytes = pol(&[
            (RULES, "A", REG_SZ, sz(rule)),
            (RULES, "B", REG_SZ, sz(rule)),
            (RULES, "C", REG_SZ, sz(rule)),
            (RULES, "**del.A", REG_SZ, sz(" ")),
            (RULES, "**DeleteValues", REG_SZ, sz("B;")),
            (DOMAIN, "EnableFirewall", REG_DWORD, dword(1)),
            (DOMAIN, "AllowLocalPolicyMerge", REG_DWORD, dword(0)),
        ]);
        let (c, findings) = read(&bytes);
        assert_eq!(c.records, 7);
        let ids: Vec<_> = c.firewall.rules().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["C"]);
        assert_eq!(
            c.firewall.rules().next().map(|r| r.line),
            Some(3),
            "the record number"
        );
        assert_eq!(
            c.firewall.settings[1][0]
                .allow_local_policy_merge
                .map(|s| (s.on, s.line)),
            Some((false, 7))
        );
        assert!(findings.is_empty(), "{findings:?}");
        let bytes = pol(&[
            (RULES, "A", REG_SZ, sz(rule)),
            (RULES, "**delvals.", REG_SZ, sz(" ")),
        ]);
        assert!(read(&bytes).0.firewall.rules().next().is_none());
    }

    #[test]
    fn rpc_restrictions_are_reported() {
        let bytes = pol(&[
            (RPC_KEY, "RestrictRemoteClients", REG_DWORD, dword(1)),
            (RPC_KEY, "EnableAuthEpResolution", REG_DWORD, dword(1)),
        ]);
        let (c, findings) = read(&bytes);
        let rrc = c.restrictions.restrict_remote_clients.as_ref();
        assert_eq!(rrc.map(|s| (s.value, s.line, s.record)), Some((1, 1, true)));
        assert_eq!(
            rrc.map(|s| s.cited()).as_deref(),
            Some("Registry.pol record 1")
        );
        assert_eq!(findings.len(), 2);
        assert!(findings[0].message.contains("RestrictRemoteClients=1"));
        assert_eq!(findings[0].code, Code::RpcRestricted);
    }

    #[test]
    fn bad_headers_and_records() {
        let mut sink = Sink::new("x");
        assert_eq!(
            parse(b"PReg\x02\0\0\0", &mut sink),
            Err(PregError::Version(2))
        );
        assert_eq!(parse(b"PReg\x01\0", &mut sink), Err(PregError::ShortHeader));
        // A size that runs past the end: the record before it is kept.
        let rule = "v2.30|Action=Block|Active=TRUE|Dir=In|";
        let mut bytes = pol(&[
            (RULES, "A", REG_SZ, sz(rule)),
            (RULES, "B", REG_SZ, sz(rule)),
        ]);
        let cut = bytes.len() - 10;
        bytes.truncate(cut);
        let (c, findings) = read(&bytes);
        assert_eq!(c.firewall.rules().count(), 1);
        assert_eq!(findings[0].code, Code::ParseError);
        assert_eq!(findings[0].line, Some(2));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_after_the_header_never_panic(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut bytes = b"PReg\x01\0\0\0".to_vec();
            bytes.extend(tail);
            let mut sink = Sink::new("x");
            let _ = parse(&bytes, &mut sink);
        }
    }
}
