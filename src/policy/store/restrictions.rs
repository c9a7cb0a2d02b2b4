//! The configured authentication restrictions a host or a GPO holds, which `audit
//! --auth-survey --store` sets beside what each host accepted: the RPC policy key
//! (`HKLM\Software\Policies\Microsoft\Windows NT\Rpc`: `RestrictRemoteClients`,
//! `EnableAuthEpResolution`) and the NTLM restriction of incoming traffic
//! (`HKLM\System\CurrentControlSet\Control\Lsa\MSV1_0`: `RestrictReceivingNTLMTraffic`, the
//! "Network security: Restrict NTLM: Incoming NTLM traffic" security option). Read from a
//! `.reg` export ([`Reader`]) and from a GPO's `Registry.pol` (`preg` calls [`AuthRestrictions::set`]);
//! each setting keeps the file and the line (`.reg`) or record (`Registry.pol`) that made it.
//! Pure: no I/O.

use super::reg_export::{KeyReader, RawValue, RegData, ValueLine, below_hklm};
use crate::finding::{Code, Severity};
use crate::inert::excerpt;
use crate::policy::model::sink::Sink;

/// The key of the RPC restrictions (below HKLM).
pub const RPC_KEY: &str = r"Software\Policies\Microsoft\Windows NT\Rpc";
/// The key of the NTLM restrictions of the MSV1_0 authentication package (below HKLM).
pub const MSV1_0_KEY: &str = r"System\CurrentControlSet\Control\Lsa\MSV1_0";

/// One setting, with where it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: u32,
    pub file: String,
    /// The `.reg` line, or the `Registry.pol` record number.
    pub line: usize,
    /// Set by a `Registry.pol` record (`line` is the record's number).
    pub record: bool,
}

impl Setting {
    /// Where it was set, as a message cites it: `file:line`, or `file record N`.
    pub fn cited(&self) -> String {
        if self.record {
            format!("{} record {}", excerpt(&self.file), self.line)
        } else {
            format!("{}:{}", excerpt(&self.file), self.line)
        }
    }
}

/// What the files configure about authentication; each `None` when no file sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthRestrictions {
    /// `RestrictRemoteClients`: 0 none, 1 authenticated, 2 authenticated without exceptions.
    pub restrict_remote_clients: Option<Setting>,
    /// `EnableAuthEpResolution`: clients authenticate their endpoint-mapper lookups.
    pub enable_auth_ep_resolution: Option<Setting>,
    /// `RestrictReceivingNTLMTraffic`: 0 allow all, 1 deny all domain accounts, 2 deny all
    /// accounts.
    pub restrict_receiving_ntlm: Option<Setting>,
}

/// Which of the keys a key path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Rpc,
    Msv1_0,
}

impl Key {
    /// The key a path names (`HKEY_LOCAL_MACHINE\...` in a `.reg`, or below HKLM as
    /// `Registry.pol` writes it), if it is one of these.
    pub fn of(path: &str) -> Option<Key> {
        let below = below_hklm(path).unwrap_or(path.trim_start_matches('\\'));
        if below.eq_ignore_ascii_case(RPC_KEY) {
            Some(Key::Rpc)
        } else if below.eq_ignore_ascii_case(MSV1_0_KEY) {
            Some(Key::Msv1_0)
        } else {
            None
        }
    }
}

impl AuthRestrictions {
    /// The setting `name` of `key` is, if it is one rpcaudit reads.
    pub fn slot(&mut self, key: Key, name: &str) -> Option<&mut Option<Setting>> {
        match (key, name.to_ascii_lowercase().as_str()) {
            (Key::Rpc, "restrictremoteclients") => Some(&mut self.restrict_remote_clients),
            (Key::Rpc, "enableauthepresolution") => Some(&mut self.enable_auth_ep_resolution),
            (Key::Msv1_0, "restrictreceivingntlmtraffic") => {
                Some(&mut self.restrict_receiving_ntlm)
            }
            _ => None,
        }
    }

    /// Forget every setting of `key` (a deleted key, `**delvals.`).
    pub fn clear(&mut self, key: Key) {
        match key {
            Key::Rpc => {
                self.restrict_remote_clients = None;
                self.enable_auth_ep_resolution = None;
            }
            Key::Msv1_0 => self.restrict_receiving_ntlm = None,
        }
    }

    /// Value `name` of `key` set to `data` at `line` of `file` (`record`: a Registry.pol
    /// record), or deleted (`None`); a value that is not a dword is a parse error.
    #[allow(clippy::too_many_arguments)]
    pub fn set(
        &mut self,
        sink: &mut Sink,
        key: Key,
        name: &str,
        data: Option<RegData>,
        line: usize,
        record: bool,
    ) {
        let file = sink.file.clone();
        let Some(slot) = self.slot(key, name) else {
            return;
        };
        match data {
            None => *slot = None,
            Some(RegData::Dword(value)) => {
                *slot = Some(Setting {
                    value,
                    file,
                    line,
                    record,
                })
            }
            Some(_) => sink.parse_error(
                line,
                format!("{}: not a REG_DWORD", excerpt(name)),
                format!("set {} to a dword", excerpt(name)),
            ),
        }
    }

    /// Did the file set anything here?
    pub fn touched(&self) -> bool {
        *self != AuthRestrictions::default()
    }

    /// `later`'s settings over these (files combine in the order given).
    pub fn merge(&mut self, later: &AuthRestrictions) {
        for (mine, theirs) in [
            (
                &mut self.restrict_remote_clients,
                &later.restrict_remote_clients,
            ),
            (
                &mut self.enable_auth_ep_resolution,
                &later.enable_auth_ep_resolution,
            ),
            (
                &mut self.restrict_receiving_ntlm,
                &later.restrict_receiving_ntlm,
            ),
        ] {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        }
    }

    /// Report the RPC restrictions (`rpc-restricted`, info): they decide whether an anonymous
    /// endpoint-mapper dump works.
    pub fn report(&self, sink: &mut Sink) {
        if let Some(s) = &self.restrict_remote_clients {
            let what = match s.value {
                0 => "None: unauthenticated RPC clients are not restricted",
                1 => {
                    "Authenticated: the endpoint mapper refuses anonymous lookups from remote clients (rpc_s_access_denied), so an anonymous dump of this host fails"
                }
                _ => {
                    "Authenticated without exceptions: every RPC interface, the endpoint mapper included, refuses unauthenticated clients, so an anonymous dump of this host fails"
                }
            };
            sink.push(
                Code::RpcRestricted,
                Severity::Info,
                s.line,
                format!("RestrictRemoteClients={} is set ({what})", s.value),
                "dump or audit these hosts with credentials: add --user DOMAIN\\name --password-file FILE (NTLM; --auth auto tries an anonymous lookup first)",
            );
        }
        if let Some(s) = &self.enable_auth_ep_resolution {
            sink.push(
                Code::RpcRestricted,
                Severity::Info,
                s.line,
                format!(
                    "EnableAuthEpResolution={} is set: clients of this host {} their endpoint-mapper lookups",
                    s.value,
                    if s.value == 0 {
                        "do not authenticate"
                    } else {
                        "authenticate"
                    }
                ),
                "nothing to fix; this tells which hosts expect authenticated lookups",
            );
        }
    }
}

/// Reads the RPC policy key and the MSV1_0 key of a `.reg` export.
pub(in crate::policy) struct Reader<'a> {
    pub(in crate::policy) into: &'a mut AuthRestrictions,
    key: Option<Key>,
    lines: Vec<usize>,
}

impl<'a> Reader<'a> {
    pub(in crate::policy) fn new(into: &'a mut AuthRestrictions) -> Self {
        Reader {
            into,
            key: None,
            lines: Vec::new(),
        }
    }

    /// Whether line `n` is one of these keys' lines.
    pub(in crate::policy) fn owns_line(&self, n: usize) -> bool {
        self.lines.contains(&n)
    }
}

impl KeyReader for Reader<'_> {
    fn key(&mut self, _line: usize, path: &str) -> bool {
        self.key = Key::of(path);
        self.key.is_some()
    }

    fn deleted_key(&mut self, path: &str) {
        if let Some(k) = Key::of(path) {
            self.into.clear(k);
        }
    }

    fn value(&mut self, sink: &mut Sink, line: usize, name: &str, value: RawValue<'_>) {
        let Some(key) = self.key else { return };
        let fix =
            || "export the key again with regedit or write the value as dword:00000001".into();
        match value.read(sink, line, name, fix) {
            ValueLine::Sets(data) => self.into.set(sink, key, name, Some(data), line, false),
            ValueLine::Deletes => self.into.set(sink, key, name, None, line, false),
            ValueLine::Unreadable => {}
        }
    }

    fn owns(&mut self, line: usize) {
        self.lines.push(line);
    }

    fn export_again(&self) -> String {
        format!("export HKLM\\{RPC_KEY} or HKLM\\{MSV1_0_KEY} again with reg export")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::text::{Continuation, logical_lines};

    fn read(text: &str) -> (AuthRestrictions, Sink) {
        let lines = logical_lines(text, &[Continuation::Backslash]);
        let mut into = AuthRestrictions::default();
        let mut sink = Sink::new("r.reg");
        super::super::reg_export::read(&lines, &mut sink, &mut [&mut Reader::new(&mut into)]);
        (into, sink)
    }

    #[test]
    fn both_keys_are_read_with_their_lines() {
        let (r, sink) = read(
            "Windows Registry Editor Version 5.00\r\n\r\n\
             [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Rpc]\r\n\
             \"RestrictRemoteClients\"=dword:00000001\r\n\r\n\
             [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\r\n\
             \"NtlmMinServerSec\"=dword:20080000\r\n\
             \"RestrictReceivingNTLMTraffic\"=dword:00000002\r\n",
        );
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        let rrc = r
            .restrict_remote_clients
            .as_ref()
            .map(|s| (s.value, s.line));
        assert_eq!(rrc, Some((1, 4)));
        let ntlm = r.restrict_receiving_ntlm.as_ref();
        assert_eq!(ntlm.map(|s| (s.value, s.line)), Some((2, 8)));
        assert_eq!(ntlm.map(Setting::cited).as_deref(), Some("r.reg:8"));
        assert_eq!(r.enable_auth_ep_resolution, None);
    }

    #[test]
    fn deletions_and_wrong_types() {
        let (r, sink) = read(
            "Windows Registry Editor Version 5.00\r\n\
             [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Rpc]\r\n\
             \"RestrictRemoteClients\"=dword:00000001\r\n\
             \"RestrictRemoteClients\"=-\r\n\
             \"EnableAuthEpResolution\"=\"1\"\r\n",
        );
        assert_eq!(r, AuthRestrictions::default());
        assert_eq!(sink.findings.len(), 1);
        assert_eq!(sink.findings[0].code, Code::ParseError);
        assert_eq!(sink.findings[0].line, Some(5));
        let (r, _) = read(
            "Windows Registry Editor Version 5.00\r\n\
             [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\r\n\
             \"RestrictReceivingNTLMTraffic\"=dword:00000002\r\n\
             [-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\r\n",
        );
        assert_eq!(r.restrict_receiving_ntlm, None);
    }

    #[test]
    fn a_later_file_overrides_what_it_sets() {
        let s = |value, file: &str| Setting {
            value,
            file: file.into(),
            line: 1,
            record: false,
        };
        let mut a = AuthRestrictions {
            restrict_remote_clients: Some(s(1, "a")),
            restrict_receiving_ntlm: Some(s(2, "a")),
            ..AuthRestrictions::default()
        };
        a.merge(&AuthRestrictions {
            restrict_remote_clients: Some(s(0, "b")),
            ..AuthRestrictions::default()
        });
        assert_eq!(a.restrict_remote_clients, Some(s(0, "b")));
        assert_eq!(a.restrict_receiving_ntlm, Some(s(2, "a")));
    }
}
