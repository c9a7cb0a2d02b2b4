//! What a host or a GPO actually holds for Windows Firewall, read from the `.reg` export of its
//! rule store (`reg export` writes UTF-16LE with a BOM; [`crate::policy::text`] decodes it). Read in
//! [`crate::policy::parse_text`]'s one pass over a `.reg` file ([`super::reg_export::read`]), beside
//! the Rpc\Internet and IPsec store readers; its rules join the
//! scripted ones as [`FwRule`]s of dialect [`Dialect::FirewallStore`], so `explain`, `lint`
//! and `audit` decide from the store exactly as they do from a script. Pure: no I/O.
//!
//! Two stores, each a key of REG_SZ rule strings (MS-GPFAS §2.2.2.19, "v2.30|Action=Block|...|")
//! whose value names are the rule IDs, and one key per profile with the profile's settings:
//! - local: `HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\
//!   FirewallRules`, profiles `DomainProfile`, `StandardProfile` (private), `PublicProfile`;
//! - Group Policy: `HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\FirewallRules`, profiles
//!   `DomainProfile`, `PrivateProfile`, `PublicProfile`.
//!
//! The grammar's defaults are honoured: no `Active=TRUE` means inactive, no `Protocol` means any,
//! no `Profile` means all three, no `RA4`/`RA6` means any remote address, repeated tokens add
//! up. `LPort=RPC` is the RPC dynamic range and `LPort=RPC-EPMap` is TCP 135 (MS-FASP
//! §2.2.14). A profile setting in the GPO store overrides the local one; `AllowLocalPolicyMerge=0`
//! in the GPO store takes the local rules out of force in that profile; `EnableFirewall=0` takes
//! every rule of that profile out (off in every profile, the firewall passes everything);
//! a rule holding a field or port keyword rpcaudit does not model decides only under it
//! (`conditional`, with `unknown-field`), never widened and never dropped; `App=`, `Svc=` and
//! `AppPkgId=` scope a rule to its program's sockets (the model's
//! [`crate::policy::model::condition`]: TCP 135 is RpcSs's, other owners are not known, so
//! conditional); `LA4`/`LA6` are the rule's local addresses (decided where the destination is
//! known); `RPort`, `IF`, `IFType` and the other fields not modelled make the rule conditional;
//! `DoNotAllowExceptions=1` takes that profile's allow rules out and blocks the rest. Not
//! modelled (said in docs/guide/policy.md): which profile the host is in (a rule counts when it
//! is in force in any profile).

use std::collections::HashMap;

use super::reg_export::{self, KeyReader, RawValue, RegData};
use crate::finding::{Code, Severity};
use crate::inert::excerpt;
use crate::policy::dialect::firewall::{FwAction, FwRule, RuleTerms};
use crate::policy::model::address::{self, AddrMatch};
use crate::policy::model::sink::Sink;
use crate::policy::model::{Action, DefaultInbound, Dialect, ProtoMatch, RuleRef};

/// The local store's rule key, below HKLM.
pub const LOCAL_RULES_KEY: &str =
    r"SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules";
/// The Group Policy store's rule key, below HKLM.
pub const GPO_RULES_KEY: &str = r"SOFTWARE\Policies\Microsoft\WindowsFirewall\FirewallRules";

const LOCAL_BASE: &str =
    r"system\currentcontrolset\services\sharedaccess\parameters\firewallpolicy";
const GPO_BASE: &str = r"software\policies\microsoft\windowsfirewall";

/// Which store a rule or setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Local,
    Gpo,
}

impl Store {
    fn index(self) -> usize {
        match self {
            Store::Local => 0,
            Store::Gpo => 1,
        }
    }
}

/// The three firewall profiles as a bit set (FW_PROFILE_TYPE: domain 1, private 2, public 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Profiles(u8);

impl Profiles {
    pub const DOMAIN: Profiles = Profiles(1);
    pub const PRIVATE: Profiles = Profiles(2);
    pub const PUBLIC: Profiles = Profiles(4);
    pub const ALL: Profiles = Profiles(7);
    const EACH: [(Profiles, &'static str); 3] = [
        (Profiles::DOMAIN, "Domain"),
        (Profiles::PRIVATE, "Private"),
        (Profiles::PUBLIC, "Public"),
    ];

    pub fn contains(self, p: Profiles) -> bool {
        self.0 & p.0 == p.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, p: Profiles) -> Profiles {
        Profiles(self.0 | p.0)
    }

    pub fn minus(self, p: Profiles) -> Profiles {
        Profiles(self.0 & !p.0)
    }

    fn intersect(self, p: Profiles) -> Profiles {
        Profiles(self.0 & p.0)
    }

    pub fn names(self) -> String {
        let names: Vec<&str> = Self::EACH
            .iter()
            .filter(|(p, _)| self.contains(*p))
            .map(|(_, n)| *n)
            .collect();
        names.join(", ")
    }
}

/// A rule string that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleStringError {
    #[error("a rule string starts with a version such as 'v2.30|'")]
    NoVersion,
    #[error("a rule string ends with '|'")]
    Unterminated,
    #[error("'{0}' is not Field=value")]
    NotAField(String),
    #[error("{field}={value}: {why}")]
    BadValue {
        field: &'static str,
        value: String,
        why: String,
    },
    #[error("the rule has no {0}= field")]
    Missing(&'static str),
}

/// One rule string as the grammar reads it, before the store decides whether it is in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleString {
    /// `v2.30` and so on.
    pub version: String,
    pub active: bool,
    pub profiles: Profiles,
    /// `Security=` and its later spellings set `secure`.
    pub terms: RuleTerms,
    /// `Name=`, as stored: an indirect string such as `@FirewallAPI.dll,-28539` stays as it is.
    pub name: String,
    /// Fields rpcaudit does not model, as `Field=value`, kept for the report.
    pub unknown: Vec<String>,
}

/// Fields of the grammar that do not change which inbound TCP or UDP traffic a rule matches
/// (descriptions, grouping, ICMP types, edge traversal, outbound-only and version fields).
/// `App`, `Svc` and `AppPkgId` are read as the rule's
/// [`crate::policy::model::condition::Condition`], `LA4`/`LA6` as its local addresses; every
/// other field (`RPort`, `IF`, `IFType`, `RUAuth`, `TTK`, `Platform`, ...) is not modelled and
/// makes the rule conditional: a field ignored would widen the rule.
const KNOWN_IGNORED: &[&str] = &[
    "desc",
    "embedctxt",
    "edge",
    "defer",
    "lom",
    "authbypassout",
    "skipver",
    "icmp4",
    "icmp6",
];

/// Parse one rule string (MS-GPFAS §2.2.2.19). Errors say which field is wrong.
pub fn parse_rule(text: &str) -> Result<RuleString, RuleStringError> {
    let text = text.trim();
    let body = text
        .strip_suffix('|')
        .ok_or(RuleStringError::Unterminated)?;
    let mut fields = body.split('|');
    let version = fields.next().unwrap_or_default();
    let is_version = version.len() > 1
        && (version.starts_with('v') || version.starts_with('V'))
        && version[1..].chars().all(|c| c.is_ascii_digit() || c == '.');
    if !is_version {
        return Err(RuleStringError::NoVersion);
    }
    let bad = |field: &'static str, value: &str, why: &str| RuleStringError::BadValue {
        field,
        value: excerpt(value).into_owned(),
        why: why.to_string(),
    };
    let mut terms = RuleTerms::default();
    let mut action = None;
    let mut dir = None;
    let mut active = false;
    let mut profiles = Profiles::default();
    let mut ports: Vec<String> = Vec::new();
    let mut remote: Vec<AddrMatch> = Vec::new();
    let mut name = String::new();
    let mut unknown = Vec::new();
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or_else(|| RuleStringError::NotAField(excerpt(field).into_owned()))?;
        match key.to_ascii_lowercase().as_str() {
            "action" => {
                action = Some(match value.to_ascii_lowercase().as_str() {
                    "allow" => FwAction::Allow,
                    "block" => FwAction::Block,
                    "bypass" => FwAction::Bypass,
                    _ => return Err(bad("Action", value, "expected Allow, Block or ByPass")),
                })
            }
            "active" => {
                active = match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("Active", value, "expected TRUE or FALSE")),
                }
            }
            "dir" => {
                dir = Some(match value.to_ascii_lowercase().as_str() {
                    "in" => true,
                    "out" => false,
                    _ => return Err(bad("Dir", value, "expected In or Out")),
                })
            }
            "protocol" => {
                let digits = value.len() <= 3 && value.chars().all(|c| c.is_ascii_digit());
                let n = value
                    .parse::<u8>()
                    .ok()
                    .filter(|_| digits)
                    .ok_or_else(|| bad("Protocol", value, "expected a number 0-255"))?;
                terms.proto = ProtoMatch::Number(n);
            }
            "profile" => {
                let p = match value.to_ascii_lowercase().as_str() {
                    "domain" => Profiles::DOMAIN,
                    "private" => Profiles::PRIVATE,
                    "public" => Profiles::PUBLIC,
                    _ => return Err(bad("Profile", value, "expected Domain, Private or Public")),
                };
                profiles = profiles.union(p);
            }
            "lport" | "lport2_10" => {
                // A port keyword rpcaudit does not know (`IPHTTPSIn`, `Ply2Disc`, `mDNS`):
                // the rule depends on it, on whatever ports it stands for.
                if is_unknown_port_keyword(value) {
                    unknown.push(excerpt(field).into_owned());
                } else {
                    ports.push(value.to_string());
                }
            }
            "app" => terms.condition.program = Some(value.to_string()),
            "svc" => terms.condition.service = Some(value.to_string()),
            "apppkgid" => terms.condition.package = Some(value.to_string()),
            "la4" | "la6" => {
                let (m, _) = address::parse_firewall(value)
                    .map_err(|e| bad("LA4/LA6", value, &e.to_string()))?;
                if m != AddrMatch::Any {
                    terms.condition.local.push(m);
                }
            }
            "ra4" | "ra6" => {
                let (m, _) = address::parse_firewall(value)
                    .map_err(|e| bad("RA4/RA6", value, &e.to_string()))?;
                remote.push(m);
            }
            "name" => name = value.to_string(),
            "security" | "security2_9" | "security2" => {
                terms.secure = !value.eq_ignore_ascii_case("notrequired");
            }
            k if KNOWN_IGNORED.contains(&k) => {}
            _ => unknown.push(excerpt(field).into_owned()),
        }
    }
    terms.action = action.ok_or(RuleStringError::Missing("Action"))?;
    terms.inbound = dir.ok_or(RuleStringError::Missing("Dir"))?;
    // A field not modelled never widens a rule and never drops it: the rule decides only
    // under it (`conditional`). With an unknown port keyword the ports are not known, so
    // every port is conditional on it, the ports written beside it too.
    terms.condition.unmodelled = unknown.clone();
    let unknown_ports = unknown
        .iter()
        .any(|f| f.to_ascii_lowercase().starts_with("lport"));
    if unknown_ports {
        ports.clear();
    }
    if !ports.is_empty() {
        terms
            .set_local_ports(&ports)
            .map_err(|e| bad("LPort", &ports.join(","), &e.to_string()))?;
    }
    if profiles.is_empty() {
        profiles = Profiles::ALL;
    }
    if !remote.is_empty() && !remote.contains(&AddrMatch::Any) {
        terms.remote = remote;
    }
    Ok(RuleString {
        version: version.to_string(),
        active,
        profiles,
        terms,
        name,
        unknown,
    })
}

/// Is this `LPort` value a keyword rpcaudit does not map to ports (not a number, range, `Any`,
/// `RPC` or `RPC-EPMap`)?
fn is_unknown_port_keyword(value: &str) -> bool {
    let v = value.trim();
    let known = ["any", "*", "rpc", "rpc-epmap", "rpcepmap"]
        .iter()
        .any(|k| v.eq_ignore_ascii_case(k));
    !known && !v.starts_with(|c: char| c.is_ascii_digit())
}

/// One profile setting as a store sets it: on or off, and the line (record) that set it, which
/// findings and decisions cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub on: bool,
    pub line: usize,
}

/// A profile's settings in one store; `None`: not set there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileSettings {
    pub enable_firewall: Option<Setting>,
    /// `DefaultInboundAction`: 1 block (Windows' default), 0 allow.
    pub default_inbound_block: Option<Setting>,
    pub allow_local_policy_merge: Option<Setting>,
    /// `DoNotAllowExceptions` ("block all incoming connections, including those in the list of
    /// allowed programs"): 1 shields the profile, allow rules included.
    pub do_not_allow_exceptions: Option<Setting>,
}

impl ProfileSettings {
    /// Does the store set anything for this profile?
    pub fn is_set(&self) -> bool {
        self.first_line().is_some()
    }

    /// The first line that sets one of them.
    fn first_line(&self) -> Option<usize> {
        [
            self.enable_firewall,
            self.default_inbound_block,
            self.allow_local_policy_merge,
            self.do_not_allow_exceptions,
        ]
        .into_iter()
        .flatten()
        .map(|s| s.line)
        .min()
    }
}

/// A rule read from a store, with the line of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRule {
    pub id: String,
    pub store: Store,
    pub line: usize,
    pub rule: RuleString,
}

/// What a `.reg` export or a Registry.pol file says about the firewall stores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirewallStore {
    /// Every rule value in file order; `None` once a later value or a delete replaced it.
    entries: Vec<Option<StoreRule>>,
    /// Per store, the lower-case rule ID of each live rule and its place in `entries`, so
    /// setting, replacing and deleting a rule cost the same whatever the store's size.
    live: [HashMap<String, usize>; 2],
    /// `[store][profile]`, profiles in the order domain, private, public.
    pub settings: [[ProfileSettings; 3]; 2],
    /// Lines that belong to a firewall key (they are not Rpc\Internet lines), ascending.
    lines: Vec<usize>,
}

#[derive(Debug, Default)]
pub(super) enum KeyKind {
    Rules(Store),
    Profile(Store, usize),
    #[default]
    Other,
}

pub(super) fn classify(key: &str) -> KeyKind {
    let k = reg_export::below_hklm(key)
        .unwrap_or(key.trim())
        .to_ascii_lowercase();
    for (base, store, private) in [
        (LOCAL_BASE, Store::Local, "standardprofile"),
        (GPO_BASE, Store::Gpo, "privateprofile"),
    ] {
        let Some(rest) = k.strip_prefix(base).and_then(|r| r.strip_prefix('\\')) else {
            continue;
        };
        return match rest {
            "firewallrules" => KeyKind::Rules(store),
            "domainprofile" => KeyKind::Profile(store, 0),
            r if r == private => KeyKind::Profile(store, 1),
            "publicprofile" => KeyKind::Profile(store, 2),
            _ => KeyKind::Other,
        };
    }
    KeyKind::Other
}

/// Reads the firewall keys of a `.reg` export (rule stores and profile settings, local and
/// GPO) into a [`FirewallStore`].
#[derive(Debug, Default)]
pub(in crate::policy) struct StoreReader {
    store: FirewallStore,
    /// The key the values being read belong to.
    kind: KeyKind,
}

impl StoreReader {
    pub fn finish(self) -> FirewallStore {
        self.store
    }
}

impl KeyReader for StoreReader {
    fn key(&mut self, _line: usize, path: &str) -> bool {
        self.kind = classify(path);
        !matches!(self.kind, KeyKind::Other)
    }

    fn value(&mut self, sink: &mut Sink, line: usize, name: &str, value: RawValue<'_>) {
        if value.deletes() {
            self.store.delete(&self.kind, Some(name));
            return;
        }
        // A value that does not decode is kept as one of no type: where the value matters,
        // the reader says it is not what it should be.
        let data = value
            .decode()
            .unwrap_or_else(|_| RegData::Other(excerpt(value.text).into_owned()));
        self.store
            .set(sink, &self.kind, line, name.to_string(), data);
    }

    fn owns(&mut self, line: usize) {
        self.store.own(line);
    }

    fn export_again(&self) -> String {
        "export the key again with reg export".into()
    }
}

fn read_rule(
    store: &mut FirewallStore,
    sink: &mut Sink,
    which: Store,
    line: usize,
    id: String,
    data: RegData,
) {
    let text = match data {
        RegData::Sz(text) => text,
        _ => {
            sink.parse_error(
                line,
                format!("rule {}: a firewall rule is a REG_SZ string", excerpt(&id)),
                "export the rule store again with reg export",
            );
            return;
        }
    };
    // A later value of the same name replaces the earlier one, even when it does not parse.
    store.remove(which, Some(&id));
    match parse_rule(&text) {
        Ok(rule) => {
            for field in &rule.unknown {
                sink.push(
                    Code::UnknownField,
                    Severity::Warning,
                    line,
                    format!(
                        "rule {}: field '{field}' is not modelled; read without it the rule \
                         could match more than Windows lets it, so what it decides is \
                         conditional on it (never a plain pass)",
                        excerpt(&id)
                    ),
                    "check the rule in the Windows Firewall console; where you can, write its \
                     condition as ports and addresses (LPort, RA4, RA6)",
                );
            }
            store.live[which.index()].insert(id.to_lowercase(), store.entries.len());
            store.entries.push(Some(StoreRule {
                id,
                store: which,
                line,
                rule,
            }));
        }
        Err(e) => sink.parse_error(
            line,
            format!("rule {}: {e}", excerpt(&id)),
            "export the rule store again with reg export; rpcaudit reads MS-GPFAS rule strings",
        ),
    }
}

impl FirewallStore {
    /// Set value `name` of key `kind`.
    pub(super) fn set(
        &mut self,
        sink: &mut Sink,
        kind: &KeyKind,
        line: usize,
        name: String,
        data: RegData,
    ) {
        match *kind {
            KeyKind::Rules(which) => read_rule(self, sink, which, line, name, data),
            KeyKind::Profile(which, profile) => {
                let slot = &mut self.settings[which.index()][profile];
                let target = match name.to_ascii_lowercase().as_str() {
                    "enablefirewall" => &mut slot.enable_firewall,
                    "defaultinboundaction" => &mut slot.default_inbound_block,
                    "allowlocalpolicymerge" => &mut slot.allow_local_policy_merge,
                    "donotallowexceptions" => &mut slot.do_not_allow_exceptions,
                    _ => return,
                };
                match data {
                    RegData::Dword(d) => *target = Some(Setting { on: d != 0, line }),
                    _ => sink.parse_error(
                        line,
                        format!("{name}: not a REG_DWORD"),
                        format!("set {name} to dword 0 or 1"),
                    ),
                }
            }
            KeyKind::Other => {}
        }
    }

    /// Delete value `name` of key `kind` (`None`: every value of the key).
    pub(super) fn delete(&mut self, kind: &KeyKind, name: Option<&str>) {
        match *kind {
            KeyKind::Rules(which) => self.remove(which, name),
            KeyKind::Profile(which, profile) => {
                let slot = &mut self.settings[which.index()][profile];
                match name.map(str::to_ascii_lowercase).as_deref() {
                    None => *slot = ProfileSettings::default(),
                    Some("enablefirewall") => slot.enable_firewall = None,
                    Some("defaultinboundaction") => slot.default_inbound_block = None,
                    Some("allowlocalpolicymerge") => slot.allow_local_policy_merge = None,
                    Some("donotallowexceptions") => slot.do_not_allow_exceptions = None,
                    Some(_) => {}
                }
            }
            KeyKind::Other => {}
        }
    }

    /// Take rule `id` (`None`: every rule) of `which` out of the store.
    fn remove(&mut self, which: Store, id: Option<&str>) {
        let live = &mut self.live[which.index()];
        let gone: Vec<usize> = match id {
            Some(id) => live.remove(&id.to_lowercase()).into_iter().collect(),
            None => live.drain().map(|(_, i)| i).collect(),
        };
        for i in gone {
            if let Some(slot) = self.entries.get_mut(i) {
                *slot = None;
            }
        }
    }

    /// The rules in the store, in file order.
    pub fn rules(&self) -> impl Iterator<Item = &StoreRule> {
        self.entries.iter().flatten()
    }

    /// Line (or value number) `n` belongs to a firewall key; numbers come in ascending order.
    pub(super) fn own(&mut self, n: usize) {
        self.lines.push(n);
    }

    /// Did the file hold any firewall key?
    pub fn touched(&self) -> bool {
        !self.lines.is_empty()
    }

    /// Does line `n` belong to a firewall key?
    pub fn owns_line(&self, n: usize) -> bool {
        self.lines.binary_search(&n).is_ok()
    }

    /// A profile's setting as in force: the GPO store's, else the local store's.
    fn effective(
        &self,
        profile: usize,
        pick: impl Fn(&ProfileSettings) -> Option<Setting>,
    ) -> Option<bool> {
        pick(&self.settings[Store::Gpo.index()][profile])
            .or_else(|| pick(&self.settings[Store::Local.index()][profile]))
            .map(|s| s.on)
    }

    /// The profiles for which `holds` is true.
    fn profiles_where(holds: impl Fn(usize) -> bool) -> Profiles {
        Profiles::EACH
            .iter()
            .enumerate()
            .filter(|(i, _)| holds(*i))
            .fold(Profiles::default(), |acc, (_, (p, _))| acc.union(*p))
    }

    /// The profiles in which the firewall filters (it is on unless a store turns it off).
    fn enabled_profiles(&self) -> Profiles {
        Self::profiles_where(|i| self.effective(i, |s| s.enable_firewall).unwrap_or(true))
    }

    /// The profiles whose firewall is on and shielded (`DoNotAllowExceptions=1`): every
    /// inbound connection is blocked there, whatever the allow rules say.
    fn shielded_profiles(&self) -> Profiles {
        Self::profiles_where(|i| self.effective(i, |s| s.do_not_allow_exceptions) == Some(true))
            .intersect(self.enabled_profiles())
    }

    /// The profiles in which the GPO forbids merging local rules.
    fn local_merge_off(&self) -> Profiles {
        Self::profiles_where(|i| {
            self.settings[Store::Gpo.index()][i]
                .allow_local_policy_merge
                .is_some_and(|s| !s.on)
        })
    }

    /// The GPO store's `AllowLocalPolicyMerge=0`: the profiles where it takes local rules out
    /// of force, and the first line that says so; for [`crate::policy::build`], which applies
    /// it to the local rules of the other files read beside this one.
    pub fn gpo_merge_off(&self) -> Option<(Profiles, usize)> {
        let off = self.local_merge_off();
        (!off.is_empty()).then(|| {
            let line = self.setting_line(|s| s.allow_local_policy_merge.filter(|s| !s.on));
            (off, line)
        })
    }

    /// For each rule of the local store, its place among [`FirewallStore::in_force`]'s rules
    /// and the profiles it is in force in (within this file).
    pub fn local_rules_in_force(&self) -> Vec<(usize, Profiles)> {
        let (enabled, merge_off, shielded) = self.in_force_profiles();
        self.rules()
            .enumerate()
            .filter(|(_, r)| r.store == Store::Local)
            .map(|(i, r)| (i, Self::profiles_of(r, enabled, merge_off, shielded).1))
            .collect()
    }

    fn in_force_profiles(&self) -> (Profiles, Profiles, Profiles) {
        (
            self.enabled_profiles(),
            self.local_merge_off(),
            self.shielded_profiles(),
        )
    }

    /// The profiles rule `r` is in force in: (before the merge setting, after every setting).
    fn profiles_of(
        r: &StoreRule,
        enabled: Profiles,
        merge_off: Profiles,
        shielded: Profiles,
    ) -> (Profiles, Profiles) {
        let on = r.rule.profiles.intersect(enabled);
        let mut profiles = on;
        if r.store == Store::Local {
            profiles = profiles.minus(merge_off);
        }
        if r.rule.terms.action == FwAction::Allow {
            // A shielded profile lets no allow rule through.
            profiles = profiles.minus(shielded);
        }
        (on, profiles)
    }

    /// The rules in force, as firewall rules of this file; findings say what the settings
    /// took out of force.
    pub fn in_force(&self, sink: &mut Sink) -> Vec<FwRule> {
        let (enabled, merge_off, shielded) = self.in_force_profiles();
        self.report_settings(sink, enabled);
        let mut ignored_local = 0usize;
        let mut first_ignored = 0usize;
        let mut out = Vec::new();
        for r in self.rules() {
            let (on, profiles) = Self::profiles_of(r, enabled, merge_off, shielded);
            if r.store == Store::Local
                && !on.is_empty()
                && on.minus(merge_off).is_empty()
                && r.rule.active
            {
                ignored_local += 1;
                if first_ignored == 0 {
                    first_ignored = r.line;
                }
            }
            let display = if r.rule.name.is_empty() {
                r.id.clone()
            } else {
                r.rule.name.clone()
            };
            out.push(FwRule {
                name: r.id.clone(),
                display,
                // A field not modelled never widens a rule: its decisions are conditional
                // (`terms.condition`).
                enabled: r.rule.active && !profiles.is_empty(),
                terms: r.rule.terms.clone(),
                line: r.line,
                dialect: Dialect::FirewallStore,
            });
        }
        if ignored_local > 0 {
            sink.push(
                Code::LocalRulesIgnored,
                Severity::Info,
                first_ignored,
                format!(
                    "{ignored_local} active local rule(s) are not in force: the GPO store sets \
                     AllowLocalPolicyMerge=0 in {}",
                    merge_off.names()
                ),
                "create the rule in the GPO, or allow local policy merge in the GPO",
            );
        }
        out
    }

    fn report_settings(&self, sink: &mut Sink, enabled: Profiles) {
        let off = Profiles::ALL.minus(enabled);
        if !off.is_empty() {
            let line = self.setting_line(|s| s.enable_firewall.filter(|s| !s.on));
            sink.push(
                Code::FirewallOff,
                Severity::Warning,
                line,
                format!(
                    "the firewall is off in the {} profile(s): no firewall rule filters there",
                    off.names()
                ),
                "set EnableFirewall=1 for every profile (netsh advfirewall set allprofiles state on)",
            );
        }
        let allow =
            Self::profiles_where(|i| self.effective(i, |s| s.default_inbound_block) == Some(false))
                .intersect(enabled);
        if !allow.is_empty() {
            let line = self.setting_line(|s| s.default_inbound_block.filter(|s| !s.on));
            sink.push(
                Code::DefaultInboundAllow,
                Severity::Warning,
                line,
                format!(
                    "inbound connections that no rule matches are allowed in the {} profile(s) \
                     (DefaultInboundAction=0)",
                    allow.names()
                ),
                "set DefaultInboundAction=1 (netsh advfirewall set allprofiles firewallpolicy blockinbound,allowoutbound)",
            );
        }
    }

    /// What the firewall does with inbound traffic no rule matches, for the model: known
    /// only when the export holds a profile setting (an export of the rule key alone does
    /// not say). Off in every profile (`EnableFirewall=0`): pass, cited there. On in some
    /// profile and shielded in every such one (`DoNotAllowExceptions=1`): block, cited there
    /// (its allow rules are out of force, [`FirewallStore::in_force`]). Otherwise every
    /// profile where it is on must agree (`DefaultInboundAction=1`, or not set, or shielded:
    /// Windows blocks; `=0`: it allows). rpcaudit does not know which profile the host is in,
    /// so profiles that disagree give no answer.
    pub fn default_inbound(&self, file: &str) -> Option<DefaultInbound> {
        if !self.settings.iter().flatten().any(ProfileSettings::is_set) {
            return None;
        }
        let enabled = self.enabled_profiles();
        let from_gpo = self.settings[Store::Gpo.index()]
            .iter()
            .any(ProfileSettings::is_set);
        let cite = |line: usize, name: &str, action: Action| DefaultInbound {
            action,
            origin: RuleRef {
                file: file.to_string(),
                line,
                name: name.to_string(),
                dialect: Dialect::FirewallStore,
                policy: None,
                filter: None,
            },
            from_gpo,
        };
        if enabled.is_empty() {
            // Off in every profile: whatever the host's profile, nothing filters.
            return Some(cite(
                self.setting_line(|s| s.enable_firewall.filter(|s| !s.on)),
                "EnableFirewall=0 in every profile: the firewall filters nothing, every inbound \
                 connection is let in",
                Action::Pass,
            ));
        }
        let shielded = self.shielded_profiles();
        if shielded == enabled {
            return Some(cite(
                self.setting_line(|s| s.do_not_allow_exceptions.filter(|s| s.on)),
                "DoNotAllowExceptions=1 in every profile whose firewall is on: every inbound \
                 connection is blocked, allow rules included",
                Action::Block,
            ));
        }
        let mut in_force = Profiles::EACH
            .iter()
            .enumerate()
            .filter(|(_, (profile, _))| enabled.contains(*profile))
            .map(|(i, (profile, _))| {
                shielded.contains(*profile)
                    || self
                        .effective(i, |s| s.default_inbound_block)
                        .unwrap_or(true)
            });
        let block = in_force.next()?;
        if in_force.any(|b| b != block) {
            return None;
        }
        let explicit = |s: &ProfileSettings| s.default_inbound_block.filter(|s| s.on == block);
        let (line, name) = match (self.setting_line(explicit), block) {
            (0, _) => (
                self.settings
                    .iter()
                    .rev()
                    .flatten()
                    .find_map(ProfileSettings::first_line)
                    .unwrap_or(0),
                "DefaultInboundAction not set: Windows blocks inbound connections no rule allows"
                    .to_string(),
            ),
            (line, true) => (
                line,
                "DefaultInboundAction=1: inbound connections no rule allows are blocked".into(),
            ),
            (line, false) => (
                line,
                "DefaultInboundAction=0: inbound connections no rule blocks are allowed".into(),
            ),
        };
        Some(cite(
            line,
            &name,
            if block { Action::Block } else { Action::Pass },
        ))
    }

    /// The line of the setting `pick` chooses, the GPO store's first, profiles in order.
    fn setting_line(&self, pick: impl Fn(&ProfileSettings) -> Option<Setting>) -> usize {
        self.settings
            .iter()
            .rev()
            .flatten()
            .find_map(pick)
            .map_or(0, |s| s.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::{PortMatch, Proto};
    use crate::policy::text::{Continuation, logical_lines};
    use crate::ports::PortRanges;

    fn rule(s: &str) -> RuleString {
        parse_rule(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn defaults_of_the_grammar() {
        let r = rule("v2.30|Action=Block|Dir=In|Name=x|");
        assert!(!r.active, "no Active field means inactive");
        assert_eq!(r.terms.proto, ProtoMatch::Any, "no Protocol means any");
        assert_eq!(r.profiles, Profiles::ALL, "no Profile means all");
        assert_eq!(r.terms.ports, PortMatch::Any);
        assert_eq!(r.terms.remote, vec![AddrMatch::Any]);
        assert!(r.terms.inbound);
    }

    #[test]
    fn repeated_tokens_add_up() {
        let r = rule(
            "v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|Profile=Private|\
             LPort=135|LPort=5001-5021|RA4=10.1.1.0/255.255.255.0|RA4=10.2.0.0-10.2.0.9|Name=Pass|",
        );
        assert!(r.active);
        assert_eq!(r.terms.proto, ProtoMatch::Number(6));
        assert!(r.profiles.contains(Profiles::DOMAIN) && r.profiles.contains(Profiles::PRIVATE));
        assert!(!r.profiles.contains(Profiles::PUBLIC));
        let PortMatch::Ports(p) = &r.terms.ports else {
            panic!("{:?}", r.terms.ports)
        };
        assert_eq!(
            p.to_string(),
            PortRanges::parse("135,5001-5021").unwrap().to_string()
        );
        assert_eq!(r.terms.remote.len(), 2);
        assert!(matches!(
            r.terms.remote[0],
            AddrMatch::Masked { bits: 24, .. }
        ));
        assert!(matches!(r.terms.remote[1], AddrMatch::Range { .. }));
    }

    #[test]
    fn rpc_keywords_map_to_the_dynamic_range_and_135() {
        let r = rule("v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=RPC|");
        assert_eq!(r.terms.ports, PortMatch::RpcDynamic);
        let r = rule("v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=RPC-EPMap|");
        assert_eq!(
            r.terms.ports,
            PortMatch::Ports(PortRanges::parse("135").unwrap())
        );
    }

    /// An unknown port keyword stands for ports rpcaudit does not know: the rule covers every
    /// port, conditionally on the keyword, the numbers beside it too; never "no port".
    #[test]
    fn an_unknown_port_keyword_makes_every_port_conditional() {
        let r = rule("v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort2_10=IPHTTPSIn|");
        assert_eq!(r.terms.ports, PortMatch::Any);
        assert_eq!(r.unknown, vec!["LPort2_10=IPHTTPSIn".to_string()]);
        assert_eq!(r.terms.condition.unmodelled, r.unknown);
        let r = rule("v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=443|LPort2_10=mDNS|");
        assert_eq!(r.terms.ports, PortMatch::Any);
        assert_eq!(
            r.terms.condition.unmodelled,
            vec!["LPort2_10=mDNS".to_string()]
        );
    }

    #[test]
    fn app_svc_and_package_are_the_rules_condition() {
        let r = rule(
            "v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=3389|\
             App=%SystemRoot%\\system32\\svchost.exe|Svc=termservice|AppPkgId=S-1-15-2-1|",
        );
        assert_eq!(r.terms.condition.service.as_deref(), Some("termservice"));
        assert_eq!(
            r.terms.condition.program.as_deref(),
            Some("%SystemRoot%\\system32\\svchost.exe")
        );
        assert_eq!(r.terms.condition.package.as_deref(), Some("S-1-15-2-1"));
        assert!(r.unknown.is_empty());
    }

    /// On a real Windows 10 store an app-only rule with no port made every port pass: it
    /// covers only its program's sockets, so it does not decide TCP 135 (RpcSs's) and a port
    /// whose owner is not known is conditional on it.
    #[test]
    fn an_app_only_rule_does_not_pass_135_and_is_conditional_elsewhere() {
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"P\"=\"v2.26|Action=Allow|Active=TRUE|Dir=In|Protocol=6|\
             App=%SystemRoot%\\\\system32\\\\proximityuxhost.exe|Name=Proximity|\"\r\n\
             \"E\"=\"v2.26|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|Svc=RpcSs|Name=EPM|\"\r\n"
        );
        let p = policy_of(&text);
        let src: std::net::IpAddr = "8.8.8.8".parse().unwrap();
        let d = p.decide(src, 135, Proto::Tcp);
        assert_eq!(d.action, Action::Pass, "{d:?}");
        assert_eq!(d.rule.unwrap().name, "EPM");
        let d = p.decide(src, 49152, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional, "{d:?}");
        assert_eq!(d.rule.unwrap().name, "Proximity");
        assert!(d.condition.unwrap().contains("proximityuxhost.exe"));
        // Without the RpcSs rule, 135 is blocked by the default, not passed by the app rule.
        let alone = text
            .lines()
            .filter(|l| !l.contains("EPM"))
            .collect::<Vec<_>>()
            .join("\r\n");
        let d = policy_of(&alone).decide(src, 135, Proto::Tcp);
        assert_ne!(d.action, Action::Pass, "{d:?}");
        assert_ne!(d.action, Action::Conditional, "{d:?}");
    }

    #[test]
    fn address_keywords_and_indirect_names() {
        let r = rule(
            "v2.30|Action=Allow|Active=TRUE|Dir=In|RA4=LocalSubnet|RA6=LocalSubnet|\
             Name=@FirewallAPI.dll,-28539|EmbedCtxt=@FirewallAPI.dll,-28502|",
        );
        assert_eq!(
            r.terms.remote,
            vec![
                AddrMatch::Keyword {
                    name: "LocalSubnet".into()
                };
                2
            ]
        );
        assert_eq!(r.name, "@FirewallAPI.dll,-28539");
        assert!(r.unknown.is_empty());
    }

    #[test]
    fn unknown_fields_are_kept_not_fatal() {
        let r = rule("v2.33|Action=Block|Dir=In|Frobnicate=1|");
        assert_eq!(r.unknown, vec!["Frobnicate=1".to_string()]);
    }

    /// Fields that used to be ignored (and so widened the rule): `LA4`/`LA6` are the rule's
    /// local addresses; `RPort`, `IF`, `IFType`, `RUAuth`, `TTK` are not modelled, so the rule
    /// is conditional on them.
    #[test]
    fn local_addresses_are_kept_and_remote_port_and_interfaces_are_conditional() {
        let r = rule(
            "v2.33|Action=Allow|Active=TRUE|Dir=In|Protocol=17|LPort=68|RPort=67|LA4=10.0.0.5|\
             LA6=fe80::/64|IF={1234}|IFType=Wireless|TTK=ProxSharing|Desc=x|EmbedCtxt=y|",
        );
        assert_eq!(r.terms.condition.local.len(), 2);
        assert_eq!(
            r.terms.condition.unmodelled,
            [
                "RPort=67",
                "IF={1234}",
                "IFType=Wireless",
                "TTK=ProxSharing"
            ]
        );
        assert_eq!(r.terms.ports.to_string(), "68");
    }

    #[test]
    fn malformed_strings_say_what_is_wrong() {
        assert_eq!(
            parse_rule("Action=Block|Dir=In|"),
            Err(RuleStringError::NoVersion)
        );
        assert_eq!(
            parse_rule("v2.30|Action=Block|Dir=In"),
            Err(RuleStringError::Unterminated)
        );
        assert_eq!(
            parse_rule("v2.30|Dir=In|"),
            Err(RuleStringError::Missing("Action"))
        );
        assert!(matches!(
            parse_rule("v2.30|Action=Block|Dir=In|Protocol=1234|"),
            Err(RuleStringError::BadValue {
                field: "Protocol",
                ..
            })
        ));
        assert!(matches!(
            parse_rule("v2.30|Action=Block|Dir=In|junk|"),
            Err(RuleStringError::NotAField(_))
        ));
    }

    fn store(text: &str) -> (FirewallStore, Vec<FwRule>, Vec<crate::finding::Finding>) {
        let lines = logical_lines(text, &[Continuation::Backslash]);
        let mut sink = Sink::new("store.reg");
        let mut reader = StoreReader::default();
        crate::policy::reg_export::read(&lines, &mut sink, &mut [&mut reader]);
        let st = reader.finish();
        let rules = st.in_force(&mut sink);
        (st, rules, sink.into_findings())
    }

    const HEAD: &str = "Windows Registry Editor Version 5.00\r\n\r\n";

    #[test]
    fn local_merge_off_takes_local_rules_out_of_force() {
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"L1\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|Name=local pass|\"\r\n\
             \r\n[HKEY_LOCAL_MACHINE\\{GPO_RULES_KEY}]\r\n\
             \"G1\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|Name=gpo block|\"\r\n\
             \r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\DomainProfile]\r\n\
             \"AllowLocalPolicyMerge\"=dword:00000000\r\n\
             [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\PrivateProfile]\r\n\
             \"AllowLocalPolicyMerge\"=dword:00000000\r\n\
             [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\PublicProfile]\r\n\
             \"AllowLocalPolicyMerge\"=dword:00000000\r\n"
        );
        let (st, rules, findings) = store(&text);
        assert_eq!(st.rules().count(), 2);
        let local = rules.iter().find(|r| r.name == "L1").unwrap();
        let gpo = rules.iter().find(|r| r.name == "G1").unwrap();
        assert!(!local.enabled);
        assert!(gpo.enabled);
        assert!(
            findings.iter().any(|f| f.code == Code::LocalRulesIgnored),
            "{findings:?}"
        );
    }

    #[test]
    fn merge_off_in_one_profile_keeps_local_rules_of_the_others() {
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"L1\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|\"\r\n\
             [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\PublicProfile]\r\n\
             \"AllowLocalPolicyMerge\"=dword:00000000\r\n"
        );
        let (_, rules, findings) = store(&text);
        assert!(rules[0].enabled);
        assert!(findings.iter().all(|f| f.code != Code::LocalRulesIgnored));
    }

    /// `[key]` lines of the three profiles of `base` (the local or the GPO store's path below
    /// HKLM), each with `values`.
    fn profiles(base: &str, private: &str, values: [&str; 3]) -> String {
        ["DomainProfile", private, "PublicProfile"]
            .iter()
            .zip(values)
            .map(|(p, v)| format!("[HKEY_LOCAL_MACHINE\\{base}\\{p}]\r\n{v}"))
            .collect()
    }

    #[test]
    fn the_default_inbound_action_decides_what_no_rule_matches() {
        let rules = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"B\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|Name=block 135|\"\r\n"
        );
        let on = "\"EnableFirewall\"=dword:00000001\r\n";
        let allow =
            "\"EnableFirewall\"=dword:00000001\r\n\"DefaultInboundAction\"=dword:00000000\r\n";
        let off = "\"EnableFirewall\"=dword:00000000\r\n";
        let default_of = |text: &str| store(text).0.default_inbound("store.reg");

        // Only the rule key: the export does not say, so no default.
        assert_eq!(default_of(&rules), None);
        // Profiles on, no DefaultInboundAction: Windows blocks, cited at the first setting.
        let d = default_of(&format!(
            "{rules}{}",
            profiles(LOCAL_BASE, "StandardProfile", [on; 3])
        ))
        .unwrap();
        assert_eq!(d.action, Action::Block);
        assert_eq!(
            d.origin.line, 6,
            "the EnableFirewall value of the domain profile"
        );
        assert!(
            d.origin.name.starts_with("DefaultInboundAction not set"),
            "{}",
            d.origin.name
        );
        assert!(!d.from_gpo);
        // Every profile that is on allows: pass; the one that is off does not count.
        let d = default_of(&format!(
            "{rules}{}",
            profiles(LOCAL_BASE, "StandardProfile", [allow, allow, off])
        ))
        .unwrap();
        assert_eq!(d.action, Action::Pass);
        assert!(
            d.origin.name.starts_with("DefaultInboundAction=0"),
            "{}",
            d.origin.name
        );
        // Profiles that disagree: rpcaudit does not know the host's profile, so no default.
        assert_eq!(
            default_of(&format!(
                "{rules}{}",
                profiles(LOCAL_BASE, "StandardProfile", [on, allow, on])
            )),
            None
        );
        // The firewall off everywhere: Windows lets everything in (issue 28: this was None).
        let d = default_of(&format!(
            "{rules}{}",
            profiles(LOCAL_BASE, "StandardProfile", [off; 3])
        ))
        .unwrap();
        assert_eq!(d.action, Action::Pass);
        // The GPO store's setting overrides the local one's.
        let d = default_of(&format!(
            "{rules}{}{}",
            profiles(LOCAL_BASE, "StandardProfile", [allow; 3]),
            profiles(
                GPO_BASE,
                "PrivateProfile",
                ["\"DefaultInboundAction\"=dword:00000001\r\n"; 3]
            )
        ))
        .unwrap();
        assert_eq!(d.action, Action::Block);
        assert!(d.from_gpo);
        assert!(
            d.origin.name.starts_with("DefaultInboundAction=1"),
            "{}",
            d.origin.name
        );
    }

    #[test]
    fn firewall_off_and_default_allow_are_reported() {
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\StandardProfile]\r\n\
             \"EnableFirewall\"=dword:00000000\r\n\
             \"DefaultInboundAction\"=dword:00000000\r\n\
             [HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"P\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Profile=Private|LPort=135|Protocol=6|\"\r\n"
        );
        let (_, rules, findings) = store(&text);
        assert!(
            !rules[0].enabled,
            "a rule only in a profile whose firewall is off"
        );
        let off = findings
            .iter()
            .find(|f| f.code == Code::FirewallOff)
            .unwrap();
        assert!(off.message.contains("Private"), "{}", off.message);
        // EnableFirewall's own line (5 was DefaultInboundAction's, the profile's last).
        assert_eq!(off.line, Some(4));
        // The private profile's default does not matter while its firewall is off.
        assert!(findings.iter().all(|f| f.code != Code::DefaultInboundAllow));
    }

    /// The model built from one store export alone.
    fn policy_of(text: &str) -> crate::policy::model::Policy {
        let (st, rules, _) = store(text);
        crate::policy::model::Policy {
            rules: rules
                .iter()
                .filter_map(|r| r.to_rule("store.reg"))
                .collect(),
            firewall_default: st.default_inbound("store.reg"),
            ..Default::default()
        }
    }

    /// Off in every profile, Windows lets every inbound connection in: the decision is pass,
    /// cited at an `EnableFirewall=0`, not "none".
    #[test]
    fn a_firewall_off_in_every_profile_passes_everything() {
        let off = "\"EnableFirewall\"=dword:00000000\r\n";
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"B\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|\"\r\n{}",
            profiles(LOCAL_BASE, "StandardProfile", [off; 3])
        );
        let d = policy_of(&text).decide("198.18.2.10".parse().unwrap(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Pass);
        let rule = d.rule.unwrap();
        assert!(rule.name.starts_with("EnableFirewall=0"), "{}", rule.name);
        assert_eq!(rule.line, 6, "the first profile's EnableFirewall=0");
    }

    /// `DoNotAllowExceptions=1` blocks what allow rules would pass, cited there; a profile
    /// without it keeps its allow rules.
    #[test]
    fn do_not_allow_exceptions_blocks_what_allow_rules_pass() {
        let shield =
            "\"EnableFirewall\"=dword:00000001\r\n\"DoNotAllowExceptions\"=dword:00000001\r\n";
        let rules = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{GPO_RULES_KEY}]\r\n\
             \"A\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|\"\r\n"
        );
        let src = "198.18.2.10".parse().unwrap();
        let all = format!(
            "{rules}{}",
            profiles(GPO_BASE, "PrivateProfile", [shield; 3])
        );
        let d = policy_of(&all).decide(src, 135, Proto::Tcp);
        assert_eq!(d.action, Action::Block);
        let rule = d.rule.unwrap();
        assert!(
            rule.name.starts_with("DoNotAllowExceptions=1"),
            "{}",
            rule.name
        );
        assert_eq!(rule.line, 7);
        let on = "\"EnableFirewall\"=dword:00000001\r\n";
        let one = format!(
            "{rules}{}",
            profiles(GPO_BASE, "PrivateProfile", [shield, on, on])
        );
        assert_eq!(
            policy_of(&one).decide(src, 135, Proto::Tcp).action,
            Action::Pass
        );
        // The same store as above with one profile setting changed: each assertion is a case.
        // Turned off where it is set, the firewall filters nothing there.
        let off =
            "\"EnableFirewall\"=dword:00000000\r\n\"DoNotAllowExceptions\"=dword:00000001\r\n";
        let both = format!(
            "{rules}{}",
            profiles(GPO_BASE, "PrivateProfile", [off, shield, shield])
        );
        assert_eq!(
            policy_of(&both).decide(src, 135, Proto::Tcp).action,
            Action::Block
        );
    }

    /// `RA42`/`RA62` (remote address keywords of later grammars) are not modelled: the rule
    /// is not read as "any address" (which let every source through), nor left out: what it
    /// decides is conditional on the field, said.
    #[test]
    fn a_field_not_modelled_never_widens_the_rule() {
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"X\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|RA42=IntrAnet|\"\r\n"
        );
        let d = policy_of(&text).decide("8.8.8.8".parse().unwrap(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional, "{d:?}");
        assert_eq!(
            d.condition.as_deref(),
            Some("depends on RA42=IntrAnet, not modelled")
        );
        let (_, _, findings) = store(&text);
        let f = findings
            .iter()
            .find(|f| f.code == Code::UnknownField)
            .unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.message.contains("RA42=IntrAnet") && f.message.contains("conditional"));
    }

    #[test]
    fn broken_values_are_parse_errors_with_their_line() {
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{GPO_RULES_KEY}]\r\n\
             \"A\"=\"v2.30|Action=Maybe|Dir=In|\"\r\n\
             \"B\"=dword:00000001\r\n"
        );
        let (st, _, findings) = store(&text);
        assert!(st.rules().next().is_none());
        let lines: Vec<_> = findings
            .iter()
            .filter(|f| f.code == Code::ParseError)
            .map(|f| f.line)
            .collect();
        assert_eq!(lines, vec![Some(4), Some(5)]);
    }

    /// A key line without its `]` is an error, and the rules after it are not taken for the
    /// key before it: an export that cannot be read says so instead of reading as fewer rules.
    #[test]
    fn a_broken_key_line_is_an_error_and_ends_the_key() {
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{GPO_RULES_KEY}]\r\n\
             \"A\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|Name=A|\"\r\n\
             [HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}\r\n\
             \"B\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|Name=B|\"\r\n"
        );
        let (st, _, findings) = store(&text);
        let names: Vec<_> = st.rules().map(|r| r.id.clone()).collect();
        assert_eq!(names, ["A"]);
        let broken: Vec<_> = findings
            .iter()
            .filter(|f| f.code == Code::ParseError)
            .map(|f| (f.line, f.message.contains("must end with ']'")))
            .collect();
        assert_eq!(broken, [(Some(5), true)]);
    }

    /// A broken key line inside the firewall keys is the store's problem, not the RPC range's:
    /// `policy range` and `capacity` do not show it.
    #[test]
    fn a_broken_key_line_in_a_store_is_not_a_range_finding() {
        use crate::policy::{LoadOptions, build, parse_text};
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{GPO_RULES_KEY}]\r\n\
             \"A\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|Name=A|\"\r\n\
             [HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}\r\n"
        );
        let lp = build(
            vec![parse_text("fw.reg", text.as_bytes())],
            &LoadOptions::default(),
        );
        assert!(
            lp.findings
                .iter()
                .any(|f| f.code == Code::ParseError && f.line == Some(5))
        );
        assert!(lp.range_findings().is_empty(), "{:?}", lp.range_findings());
    }

    /// Decisions from a store: `LocalSubnet` stands for the subnets given with
    /// `--local-subnet` and for nothing without them; a dotted mask and a range match what they
    /// name; an inactive rule decides nothing; `RPC` is the range in force.
    #[test]
    fn store_rules_decide_with_keywords_masks_and_ranges() {
        use crate::policy::{Action, LoadOptions, Proto, build, parse_text};
        let text = format!(
            "{HEAD}[HKEY_LOCAL_MACHINE\\{LOCAL_RULES_KEY}]\r\n\
             \"A\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=445|RA4=LocalSubnet|\"\r\n\
             \"B\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|RA4=10.1.0.0/255.255.0.0|RA4=192.0.2.10-192.0.2.20|\"\r\n\
             \"C\"=\"v2.30|Action=Block|Dir=In|Protocol=6|LPort=139|\"\r\n\
             \"D\"=\"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=RPC|\"\r\n\
             \"E\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=RPC-EPMap|RA4=198.51.100.0/24|\"\r\n"
        );
        let load = |local: &str, range: Option<&str>| {
            build(
                vec![parse_text("store.reg", text.as_bytes())],
                &LoadOptions {
                    local_subnets: if local.is_empty() {
                        vec![]
                    } else {
                        vec![local.parse().unwrap()]
                    },
                    range_override: range.map(|r| PortRanges::parse(r).unwrap()),
                    ..LoadOptions::default()
                },
            )
        };
        let decide = |lp: &crate::policy::LoadedPolicy, a: [u8; 4], p: u16| {
            lp.policy.decide(a.into(), p, Proto::Tcp).action
        };
        let known = load("198.18.1.0/24", Some("5001-5021"));
        assert_eq!(decide(&known, [198, 18, 1, 7], 445), Action::Pass);
        assert_eq!(decide(&known, [198, 18, 2, 7], 445), Action::None);
        let unknown = load("", Some("5001-5021"));
        assert_eq!(decide(&unknown, [198, 18, 1, 7], 445), Action::None);
        for (a, want) in [
            ([10, 1, 200, 3], Action::Block),
            ([10, 2, 0, 1], Action::None),
            ([192, 0, 2, 10], Action::Block),
            ([192, 0, 2, 20], Action::Block),
            ([192, 0, 2, 21], Action::None),
        ] {
            assert_eq!(decide(&known, a, 135), want, "{a:?}");
        }
        // RPC-EPMap: TCP 135, and explain says so.
        let d = known
            .policy
            .decide([198, 51, 100, 1].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Pass);
        assert_eq!(
            d.rule.and_then(|r| r.filter).as_deref(),
            Some("LPort=RPC-EPMap (TCP 135)")
        );
        // C has no Active field: not in force.
        assert_eq!(decide(&known, [10, 9, 9, 9], 139), Action::None);
        // RPC: the range in force, here 5001-5021, or else the OS default; explain says so.
        assert_eq!(decide(&known, [10, 9, 9, 9], 5021), Action::Block);
        let d = known.policy.decide([10, 9, 9, 9].into(), 5021, Proto::Tcp);
        assert_eq!(
            d.rule.and_then(|r| r.filter).as_deref(),
            Some("LPort=RPC (the RPC dynamic range)")
        );
        assert_eq!(decide(&known, [10, 9, 9, 9], 5022), Action::None);
        let default = load("", None);
        assert_eq!(decide(&default, [10, 9, 9, 9], 5021), Action::None);
        assert_eq!(decide(&default, [10, 9, 9, 9], 49152), Action::Block);
    }

    proptest::proptest! {
        #[test]
        fn any_rule_string_parses_or_errs_without_panic(s in "v2\\.[0-9]{1,2}\\|([A-Za-z0-9_]{1,10}=[ -{}~]{0,20}\\|){0,8}") {
            let _ = parse_rule(&s);
        }
    }
}
