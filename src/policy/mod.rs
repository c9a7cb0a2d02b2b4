//! Reading the intended policy (IPsec scripts, firewall rules, rpccfg, .reg) and linting it.
//!
//! Flow: [`load`] reads each file ([`crate::input`]; the only I/O here) → [`parse_text`] decodes it
//! ([`text`]), splits it into lines, has [`cmd`] expand cmd `set` variables and `for` loops into
//! commands, and hands each command to its dialect: [`ipsec`] (ipsecpol/ipseccmd), [`netsh_ipsec`],
//! [`firewall`] (netsh advfirewall, PowerShell), [`registry`] (rpccfg, `reg add`); a `.reg`
//! export is read in one pass ([`reg_export::read`]) by the Rpc\Internet ([`registry`]),
//! firewall store ([`fwstore`]) and IPsec store ([`ipsec_store`]) readers together, and a
//! binary store by its signature: a `Registry.pol` ([`preg`]) or a `.wfw` hive ([`wfw`]), into
//! the same firewall store
//! → [`build`] combines the files into one [`Policy`] ([`model`]) and the effective
//! [`RpcRange`], then runs the policy-wide lints ([`lint`]). The findings of a
//! [`LoadedPolicy`] are the parse-time findings of every file followed by the lints.
//!
//! Rooms: [`dialect`] (the script dialects), [`store`] (the stored-configuration readers),
//! [`model`] (the model and its checks); [`text`] below all three; `testing` (tests only).
//!
//! Files combine in the order given, as if their commands ran one after the other on one
//! host: the IPsec store is shared (a later file's rules join a same-named policy, the last
//! assignment wins, one policy assigned per store), firewall rules add up and a later file's
//! `set`/`delete` commands reach the earlier files' rules, and later Rpc\Internet settings
//! override earlier ones. Without rpccfg/.reg/`reg add` lines or `--range`, `range` is `None`
//! and the RPC default for `--os` applies (see [`OsFamily`]).

pub mod dialect;
pub mod model;
pub mod store;
#[cfg(test)]
mod testing;
pub mod text;

// The rooms' modules under the names callers outside `policy` have always used.
pub use dialect::{cmd, firewall, ipsec, netsh_ipsec, netsh_rpc, registry};
pub use model::{address, diff, error, lint, rpc_filter, sink};
pub use store::{
    fwstore, ipsec_blob, ipsec_filters, ipsec_store, listing, preg, reg_export, restrictions, wfw,
};

pub use cmd::{MAX_COMMAND_BYTES, MAX_EXPANDED_BYTES, MAX_EXPANDED_COMMANDS, MAX_VARIABLE_BYTES};
pub use model::{Action, Decision, Dialect, Layer, Policy, Proto, Query, Rule, RuleRef};
pub use registry::RangeKind;

use crate::finding::{Code, Finding, Severity};
use crate::ports::PortRanges;
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sink::Sink;
use std::path::PathBuf;
use text::{Continuation, Line};

/// Largest policy file we read (a .reg export of one key is tiny; scripts are small).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Which Windows generation's defaults apply. Default: `Vista` (Vista, Server 2008 and
/// later: dynamic/ephemeral range 49152-65535), as nearly every host audited today runs it;
/// `Legacy` is the article's Windows 2000/XP/2003 (1024-5000).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Legacy,
    #[default]
    Vista,
}

impl OsFamily {
    /// The default dynamic (ephemeral) port range.
    pub fn ephemeral(self) -> PortRanges {
        match self {
            OsFamily::Legacy => PortRanges::from_ranges([(1024, 5000)]),
            OsFamily::Vista => PortRanges::from_ranges([(49152, 65535)]),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            OsFamily::Legacy => "Windows 2000/XP/Server 2003 (--os legacy)",
            OsFamily::Vista => "Windows Vista/Server 2008 and later (--os vista)",
        }
    }
}

/// How to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--range`: the dynamic range to assume instead of what the files say.
    pub range_override: Option<PortRanges>,
    pub os: OsFamily,
    /// What the firewall keyword `LocalSubnet` stands for, if known.
    pub local_subnets: Vec<IpNet>,
}

/// Why a file could not be loaded (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: larger than the {max} bytes a policy file may have")]
    TooLarge { path: String, max: u64 },
    /// A file of RPC filters that does not read ([`load_rpc_filters`]).
    #[error(transparent)]
    RpcFilter(#[from] netsh_rpc::RpcFilterError),
    /// Nothing could be read from the file: an error, never "no findings".
    #[error("{path}: nothing could be read from it: {reason}")]
    Unreadable { path: String, reason: String },
}

/// One file as read: everything it says, per dialect, before files are combined.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub name: String,
    pub sha256: String,
    pub encoding: &'static str,
    pub dialects: Vec<Dialect>,
    pub ipsec: ipsec::IpsecStore,
    pub firewall: Vec<firewall::FwRule>,
    /// What a firewall store in this file does with unmatched inbound traffic, if it says.
    pub firewall_default: Option<model::DefaultInbound>,
    /// The local store's rules of a store export: their places in `firewall` and the
    /// profiles they are in force in, which a GPO read beside may take out ([`build`]).
    pub local_store_rules: Vec<(usize, fwstore::Profiles)>,
    /// The profiles in which this file's GPO store sets `AllowLocalPolicyMerge=0`, and the
    /// line: local rules of every file read beside are out of force there.
    pub gpo_merge_off: Option<(fwstore::Profiles, usize)>,
    /// Firewall set/delete commands, replayed by [`build`] on the rules of earlier files.
    pub firewall_edits: Vec<firewall::FwEdit>,
    pub range: registry::RangeState,
    /// The authentication restrictions this file sets (RPC policy key, MSV1_0).
    pub restrictions: restrictions::AuthRestrictions,
    pub findings: Vec<Finding>,
    /// Lines holding rpccfg / `reg` / `.reg` content, to tell range findings apart.
    pub range_lines: Vec<usize>,
    /// Why nothing could be read from the file (empty, binary, broken encoding, no command
    /// or value rpcaudit reads), if so. [`load`] refuses such a file.
    pub unreadable: Option<String>,
}

impl ParsedFile {
    /// What a firewall store (of a `.reg` export, a Registry.pol file or a `.wfw` hive) puts
    /// in force: its rules, its default for unmatched traffic, its merge setting.
    fn take_store(&mut self, store: &fwstore::FirewallStore, sink: &mut Sink) {
        self.firewall = store.in_force(sink);
        self.firewall_default = store.default_inbound(&self.name);
        self.gpo_merge_off = store.gpo_merge_off();
        self.local_store_rules = store.local_rules_in_force();
    }

    /// The inbound rules this file alone puts in force.
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules = self.ipsec.to_rules();
        rules.extend(self.firewall.iter().filter_map(|r| r.to_rule(&self.name)));
        rules
    }
}

/// A file that was read, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceFile {
    pub path: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    pub encoding: String,
    /// The dialects found in it (a KB908472 script mixes rpccfg and ipseccmd).
    pub dialects: Vec<Dialect>,
}

/// The effective RPC dynamic range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RpcRange {
    pub ports: PortRanges,
    /// `file:line` of the Ports value, or `--range`.
    pub source: String,
    pub kind: RangeKind,
    /// The Ports list as written (differs from `ports` when inverted).
    pub listed: PortRanges,
}

/// An IPsec policy as the files leave it (for `policy-unassigned` and reports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IpsecPolicySummary {
    pub name: String,
    pub store: String,
    pub dialect: Dialect,
    pub file: String,
    pub line: usize,
    pub rules: usize,
    /// The line that assigned it, when it is assigned at the end.
    pub assigned: Option<usize>,
    /// Assigned and in force (an assigned domain policy overrides the local one).
    pub in_force: bool,
}

/// Everything read from the files.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    pub policy: Policy,
    /// `None`: no file configures Rpc\Internet and no `--range`.
    pub range: Option<RpcRange>,
    /// Parse-time findings of every file, then the lints.
    pub findings: Vec<Finding>,
    pub files: Vec<SourceFile>,
    pub ipsec_policies: Vec<IpsecPolicySummary>,
    pub os: OsFamily,
    /// `(file, line)` of rpccfg / reg / `.reg` content.
    pub range_lines: Vec<(String, usize)>,
    /// The authentication restrictions the files set, a later file's over an earlier's.
    pub restrictions: restrictions::AuthRestrictions,
}

impl LoadedPolicy {
    /// The dynamic range RPC uses: the configured one, else the OS default.
    pub fn effective_range(&self) -> PortRanges {
        match &self.range {
            Some(r) => r.ports.clone(),
            None => self.os.ephemeral(),
        }
    }

    /// Where [`effective_range`](Self::effective_range) comes from: a file and line, `--range`,
    /// or the OS default (said with the OS family, which decides it).
    pub fn range_source(&self) -> String {
        match &self.range {
            Some(r) => r.source.clone(),
            None => format!(
                "no rpccfg/.reg in the policy files and no --range: the default dynamic range of {}",
                self.os.describe()
            ),
        }
    }

    /// Findings about the range (codes `range-*`, and problems on rpccfg/.reg lines).
    pub fn range_findings(&self) -> Vec<Finding> {
        self.findings
            .iter()
            .filter(|f| {
                let on_range_line = match (&f.file, f.line) {
                    (Some(file), Some(line)) => self.range_lines.contains(&(file.clone(), line)),
                    _ => false,
                };
                f.code.is_about_the_range() || on_range_line
            })
            .cloned()
            .collect()
    }

    /// Whether any file speaks of the fence (firewall or IPsec rules, a store, a listing),
    /// rather than only of the range or the authentication restrictions.
    pub fn has_fence(&self) -> bool {
        self.files
            .iter()
            .flat_map(|f| &f.dialects)
            .any(|d| d.layer().is_some())
    }

    /// The worst severity of all findings.
    pub fn worst(&self) -> Option<Severity> {
        crate::finding::worst(&self.findings)
    }
}

/// One policy or filter file's name as reports cite it, and its bytes, at most
/// [`MAX_FILE_BYTES`]; the errors name the file.
fn read_file(p: &std::path::Path) -> Result<(String, Vec<u8>), PolicyError> {
    let path = p.display().to_string();
    let bytes = crate::input::read_capped_or(
        p,
        MAX_FILE_BYTES,
        |source| PolicyError::Read {
            path: path.clone(),
            source,
        },
        |max| PolicyError::TooLarge {
            path: path.clone(),
            max,
        },
    )?;
    Ok((path, bytes))
}

/// Read the files and build the policy. Errors name the file: one that cannot be read, is
/// larger than [`MAX_FILE_BYTES`], or from which nothing could be read.
pub fn load(paths: &[PathBuf], opts: &LoadOptions) -> Result<LoadedPolicy, PolicyError> {
    let mut parsed = Vec::new();
    for p in paths {
        let (path, bytes) = read_file(p)?;
        let pf = parse_text(&path, &bytes);
        if let Some(reason) = pf.unreadable {
            return Err(PolicyError::Unreadable { path, reason });
        }
        parsed.push(pf);
    }
    Ok(build(parsed, opts))
}

/// Read RPC filter files (`netsh rpc filter` commands or `show filter` output), in order, into
/// one set of filters ([`netsh_rpc`]). A file that holds none is refused.
pub fn load_rpc_filters(paths: &[PathBuf]) -> Result<LoadedRpcFilters, PolicyError> {
    let mut all = rpc_filter::RpcFilters::default();
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        let (path, bytes) = read_file(p)?;
        files.push(FileDigest {
            path: path.clone(),
            sha256: sha256_hex(&bytes),
        });
        let read = netsh_rpc::parse(&path, &bytes)?;
        // `show filter` on a host without filters prints the header alone: no filter, read.
        let listing = text::decode(&bytes)
            .text
            .contains("Listing all RPC Filters");
        if read.filters.is_empty() && !listing {
            return Err(PolicyError::Unreadable {
                path,
                reason: "no RPC filter in it (netsh rpc filter add rule/condition/filter, or \
                         netsh rpc filter show filter output)"
                    .into(),
            });
        }
        all.filters.extend(read.filters);
    }
    Ok(LoadedRpcFilters {
        filters: all,
        files,
    })
}

/// The RPC filters of `--rpc-filter` files, and the files they came from.
#[derive(Debug, Clone)]
pub struct LoadedRpcFilters {
    pub filters: rpc_filter::RpcFilters,
    pub files: Vec<FileDigest>,
}

/// A file that was read, by name and content, for a report's inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileDigest {
    pub path: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
}

/// SHA-256 of `bytes`, lower-case hex: how reports identify the files they read.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn is_reg_file(lines: &[Line]) -> bool {
    lines.first().is_some_and(|l| {
        let t = l.text.trim();
        t.starts_with("Windows Registry Editor Version") || t.eq_ignore_ascii_case("REGEDIT4")
    })
}

/// Parse one file's bytes (no I/O): what issue 5's fix scripts are checked with.
pub fn parse_text(name: &str, bytes: &[u8]) -> ParsedFile {
    let decoded = text::decode(bytes);
    let sha256 = sha256_hex(bytes);
    let mut sink = Sink::new(name);
    let mut pf = ParsedFile {
        name: name.to_string(),
        sha256,
        encoding: decoded.encoding,
        dialects: Vec::new(),
        ipsec: ipsec::IpsecStore::default(),
        firewall: Vec::new(),
        firewall_default: None,
        local_store_rules: Vec::new(),
        gpo_merge_off: None,
        firewall_edits: Vec::new(),
        range: registry::RangeState::default(),
        restrictions: restrictions::AuthRestrictions::default(),
        findings: Vec::new(),
        range_lines: Vec::new(),
        unreadable: text::not_text(bytes, &decoded),
    };
    if wfw::is_hive(bytes) {
        // A hive is read as a firewall store, or refused for what it is, never as broken text.
        pf.encoding = "regf";
        pf.unreadable = None;
        match wfw::read(bytes, &mut sink) {
            Ok((store, _)) if store.touched() => {
                pf.dialects.push(Dialect::FirewallStore);
                pf.take_store(&store, &mut sink);
            }
            Ok((_, hive)) => {
                pf.unreadable = Some(format!(
                    "a registry hive (regf) of {} keys and {} values with no firewall key \
                     rpcaudit reads: a `netsh advfirewall export` (.wfw) holds FirewallRules and \
                     the profile keys (DomainProfile, StandardProfile, PublicProfile) at its root, \
                     or below Services\\SharedAccess\\Parameters\\FirewallPolicy",
                    hive.keys,
                    hive.values.len()
                ))
            }
            Err(e) => {
                pf.unreadable = Some(format!(
                    "a registry hive (regf), as `netsh advfirewall export` writes (.wfw), that \
                     cannot be read: {e}"
                ))
            }
        }
        pf.findings = sink.into_findings();
        return pf;
    }
    if preg::is_preg(bytes) {
        pf.unreadable = None;
        pf.encoding = "registry.pol";
        match preg::parse(bytes, &mut sink) {
            Ok(contents) => {
                // A GPO that sets only the authentication restrictions says nothing of the
                // fence: it is read as registry values, not as a firewall store.
                pf.dialects.push(
                    if contents.firewall_touched() || !contents.restrictions.touched() {
                        Dialect::FirewallStore
                    } else {
                        Dialect::Reg
                    },
                );
                contents.restrictions.report(&mut sink);
                pf.restrictions = contents.restrictions.clone();
                pf.take_store(&contents.firewall, &mut sink);
                if !contents.touched() && sink.findings.is_empty() {
                    pf.unreadable = Some(format!(
                        "the Registry.pol file ({} records) sets nothing rpcaudit reads (it reads HKLM\\{} and its profile keys, and {})",
                        contents.records,
                        fwstore::GPO_RULES_KEY,
                        preg::RPC_KEY
                    ));
                }
            }
            Err(e) => pf.unreadable = Some(e.to_string()),
        }
        sink.locate_words(&decoded.text);
        pf.findings = sink.into_findings();
        return pf;
    }
    if pf.unreadable.is_some() {
        return pf;
    }
    if listing::is_json_listing(&decoded.text) {
        match listing::parse_json(&mut sink, &decoded.text) {
            Ok(rules) => {
                pf.dialects.push(Dialect::FirewallListing);
                pf.firewall = rules;
            }
            Err(e) => pf.unreadable = Some(format!("a Get-NetFirewallRule JSON listing: {e}")),
        }
        sink.locate_words(&decoded.text);
        pf.findings = sink.into_findings();
        return pf;
    }
    let plain = text::logical_lines(&decoded.text, &[]);
    if let Some(language) = listing::localised(&plain) {
        pf.unreadable = Some(format!(
            "a {language} 'netsh advfirewall firewall show rule' listing: rpcaudit reads English \
             listings only (labels and values are translated); export the rule store instead: \
             reg export \"HKLM\\{}\" fw-local.reg",
            fwstore::LOCAL_RULES_KEY
        ));
        return pf;
    }
    if listing::is_netsh_listing(&plain) {
        pf.dialects.push(Dialect::FirewallListing);
        pf.firewall = listing::parse_netsh(&mut sink, &plain);
        sink.locate_words(&decoded.text);
        pf.findings = sink.into_findings();
        return pf;
    }
    let reg_lines = text::logical_lines(&decoded.text, &[Continuation::Backslash]);
    if is_reg_file(&reg_lines) {
        let (mut fw, mut ipsec) = (
            fwstore::StoreReader::default(),
            ipsec_store::ExportReader::default(),
        );
        let mut auth = restrictions::AuthRestrictions::default();
        let mut auth_reader = restrictions::Reader::new(&mut auth);
        reg_export::read(
            &reg_lines,
            &mut sink,
            &mut [
                &mut registry::RangeReader(&mut pf.range),
                &mut fw,
                &mut ipsec,
                &mut auth_reader,
            ],
        );
        let auth_lines: Vec<usize> = reg_lines
            .iter()
            .map(|l| l.number)
            .filter(|&n| auth_reader.owns_line(n))
            .collect();
        auth.report(&mut sink);
        pf.restrictions = auth;
        let (store, ipsec_export) = (fw.finish(), ipsec.finish());
        if pf.range.touched || (!store.touched() && !ipsec_export.touched()) {
            pf.dialects.push(Dialect::Reg);
        }
        if store.touched() {
            pf.dialects.push(Dialect::FirewallStore);
            pf.take_store(&store, &mut sink);
        }
        if ipsec_export.touched() {
            pf.dialects.push(Dialect::IpsecStore);
            pf.ipsec = ipsec_export.resolve(&mut sink);
        }
        pf.range_lines = reg_lines
            .iter()
            .map(|l| l.number)
            .filter(|&n| {
                !store.owns_line(n) && !ipsec_export.owns_line(n) && !auth_lines.contains(&n)
            })
            .collect();
        if !pf.range.touched
            && !store.touched()
            && !ipsec_export.touched()
            && !pf.restrictions.touched()
            && sink.findings.is_empty()
        {
            pf.unreadable = Some(format!(
                "the .reg file sets nothing rpcaudit reads (it reads {}, the firewall rule \
                 stores HKLM\\{} and HKLM\\{}, the IPsec policy store HKLM\\{}, and the \
                 authentication restrictions HKLM\\{} and HKLM\\{})",
                registry::KEY,
                fwstore::LOCAL_RULES_KEY,
                fwstore::GPO_RULES_KEY,
                ipsec_store::KEY,
                restrictions::RPC_KEY,
                restrictions::MSV1_0_KEY
            ));
        }
        sink.locate_words(&decoded.text);
        pf.findings = sink.into_findings();
        return pf;
    }
    let lines = text::logical_lines(
        &decoded.text,
        &[Continuation::Caret, Continuation::Backtick],
    );
    let mut interpreter = cmd::Interpreter::default();
    let mut netsh = netsh_ipsec::NetshIpsec::default();
    for line in &lines {
        let commands = match interpreter.commands(line, &mut sink) {
            cmd::Step::Skip => continue,
            cmd::Step::Stop => break,
            cmd::Step::Run(commands) => commands,
        };
        let first_only = commands.len() > 1;
        for (i, cmd) in commands.iter().enumerate() {
            // Findings about the text of a loop body are reported once.
            let mut scratch = Sink::new(name);
            let s = if first_only && i > 0 {
                &mut scratch
            } else {
                &mut sink
            };
            dispatch(&mut pf, &mut netsh, s, line.number, cmd);
        }
    }
    netsh.finish(&mut pf.ipsec, &mut sink);
    pf.dialects.sort();
    pf.dialects.dedup();
    if pf.dialects.is_empty() {
        let first = sink
            .findings
            .first()
            .map(|f| format!(" (line {}: {})", f.line.unwrap_or(0), f.message))
            .unwrap_or_default();
        pf.unreadable = Some(format!(
            "no command rpcaudit reads: ipseccmd/ipsecpol, netsh ipsec static, netsh advfirewall, PowerShell *-NetFirewallRule, rpccfg, reg add, or a .reg export{first}"
        ));
    }
    sink.locate_words(&decoded.text);
    pf.findings = sink.into_findings();
    pf
}

const PLACEHOLDERS: &[&str] = &["%IPSECTOOL%", "%PORT%", "%SUBNET%", "%MASK%"];

fn check_placeholders(sink: &mut Sink, line: usize, t: &str) -> bool {
    let upper = t.to_ascii_uppercase();
    let mut found = false;
    for p in PLACEHOLDERS {
        if let Some(at) = upper.find(p) {
            found = true;
            let var = p.trim_matches('%');
            // ASCII upper-casing keeps byte offsets: the placeholder as written.
            let written = t.get(at..at + p.len()).unwrap_or(p);
            sink.about(written).push(
                Code::Placeholder,
                Severity::Error,
                line,
                format!("{p} is still in the command: it is the article's placeholder, not a value, and nothing in the script sets it"),
                match var {
                    "IPSECTOOL" => "write ipseccmd.exe (XP/2003) or ipsecpol.exe (2000), or put 'set IPSECTOOL=ipseccmd.exe' before this line".to_string(),
                    "PORT" => "write the port number (135, 5001, ...) or loop: for /L %%p in (5001,1,5021) do ...".to_string(),
                    _ => format!("write the value, e.g. 10.1.1.0 / 255.255.255.0, or 'set {var}=...' before this line"),
                },
            );
        }
    }
    found
}

fn program(word: &str) -> String {
    let w = word.trim_matches('"');
    let base = w
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(w)
        .to_ascii_lowercase();
    base.strip_suffix(".exe")
        .map(str::to_string)
        .unwrap_or(base)
}

fn dispatch(
    pf: &mut ParsedFile,
    netsh: &mut netsh_ipsec::NetshIpsec,
    sink: &mut Sink,
    line: usize,
    cmd: &str,
) {
    let words = text::split_words(cmd);
    let Some(first) = words.first() else { return };
    let prog = program(first);
    let has_placeholder = |sink: &mut Sink| check_placeholders(sink, line, cmd);
    match prog.as_str() {
        "ipseccmd" | "ipsecpol" | "%ipsectool%" => {
            has_placeholder(sink);
            let tool = if prog == "%ipsectool%" {
                "ipseccmd"
            } else {
                prog.as_str()
            };
            pf.dialects.push(Dialect::Ipseccmd);
            ipsec::apply(&mut pf.ipsec, sink, line, &words[1..], tool);
        }
        "rpccfg" => {
            has_placeholder(sink);
            pf.dialects.push(Dialect::Rpccfg);
            pf.range_lines.push(line);
            registry::apply_rpccfg(&mut pf.range, sink, line, &words[1..]);
        }
        "reg" => {
            let before = pf.range.touched;
            registry::apply_reg_command(&mut pf.range, sink, line, &words[1..]);
            if pf.range.touched && !before {
                pf.dialects.push(Dialect::Reg);
            }
            pf.range_lines.push(line);
        }
        "netsh" => netsh_line(pf, netsh, sink, line, &words[1..], cmd),
        // Lines of a `netsh -f` script have no `netsh` in front.
        "ipsec" | "advfirewall" | "firewall" => netsh_line(pf, netsh, sink, line, &words, cmd),
        c if c.ends_with("-netfirewallrule") => {
            has_placeholder(sink);
            pf.dialects.push(Dialect::Powershell);
            let w = firewall::ps_words(cmd);
            firewall::apply_powershell(&mut pf.firewall, sink, line, c, &w[1..]);
            if c != "new-netfirewallrule" {
                pf.firewall_edits.push(firewall::FwEdit::Powershell {
                    line,
                    cmdlet: c.to_string(),
                    words: w[1..].to_vec(),
                });
            }
        }
        _ => {
            // Other commands (echo, pause, net stop, ...) do not touch the policy; a line
            // that still carries the article's placeholders is reported.
            if PLACEHOLDERS
                .iter()
                .any(|p| cmd.to_ascii_uppercase().contains(p))
            {
                has_placeholder(sink);
            }
        }
    }
}

fn netsh_line(
    pf: &mut ParsedFile,
    netsh: &mut netsh_ipsec::NetshIpsec,
    sink: &mut Sink,
    line: usize,
    words: &[String],
    cmd: &str,
) {
    let lw: Vec<String> = words
        .iter()
        .take(2)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    match lw.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["ipsec", "static"] => {
            check_placeholders(sink, line, cmd);
            pf.dialects.push(Dialect::NetshIpsec);
            netsh.apply(sink, line, &words[2..]);
        }
        ["advfirewall", "firewall"] => {
            check_placeholders(sink, line, cmd);
            pf.dialects.push(Dialect::NetshAdvfirewall);
            firewall::apply_netsh(&mut pf.firewall, sink, line, &words[2..]);
            if words
                .get(2)
                .is_some_and(|v| v.eq_ignore_ascii_case("set") || v.eq_ignore_ascii_case("delete"))
            {
                pf.firewall_edits.push(firewall::FwEdit::Netsh {
                    line,
                    words: words[2..].to_vec(),
                });
            }
        }
        ["firewall", "set"]
            if words
                .get(2)
                .is_some_and(|w| w.eq_ignore_ascii_case("service")) =>
        {
            check_placeholders(sink, line, cmd);
            pf.dialects.push(Dialect::NetshAdvfirewall);
            firewall::apply_netsh_legacy_service(&mut pf.firewall, sink, line, &words[3..]);
        }
        ["firewall", ..] => sink.push(
            Code::ParseError,
            Severity::Warning,
            line,
            "'netsh firewall' (the Windows XP SP2 firewall context) is not modelled but for \
             'set service'",
            "use netsh advfirewall firewall add rule ... (Vista and later)",
        ),
        _ => {}
    }
}

/// Combine parsed files into one policy and run the lints.
pub fn build(files: Vec<ParsedFile>, opts: &LoadOptions) -> LoadedPolicy {
    let mut store = ipsec::IpsecStore::default();
    let mut range_state = registry::RangeState::default();
    let mut fw_files: Vec<(String, Vec<firewall::FwRule>)> = Vec::new();
    let mut findings = Vec::new();
    let mut sources = Vec::new();
    let mut range_lines = Vec::new();
    let mut auth = restrictions::AuthRestrictions::default();
    // A Group Policy store's setting overrides a local store's; among stores of one kind,
    // a later file's replaces an earlier one's.
    let mut firewall_default: Option<model::DefaultInbound> = None;
    // A GPO store's AllowLocalPolicyMerge=0 holds whatever file the local rules come from.
    let merge_off = files
        .iter()
        .filter_map(|f| f.gpo_merge_off.map(|(p, line)| (p, f.name.clone(), line)))
        .reduce(|(a, file, line), (b, _, _)| (a.union(b), file, line));
    let mut ignored_local = 0usize;
    for mut f in files {
        if let Some((off, _, _)) = &merge_off {
            for &(i, profiles) in &f.local_store_rules {
                if let Some(r) = f.firewall.get_mut(i)
                    && r.enabled
                    && profiles.minus(*off).is_empty()
                {
                    r.enabled = false;
                    ignored_local += 1;
                }
            }
        }
        if let Some(d) = f.firewall_default
            && (d.from_gpo || !firewall_default.as_ref().is_some_and(|e| e.from_gpo))
        {
            firewall_default = Some(d);
        }
        range_lines.extend(f.range_lines.iter().map(|&l| (f.name.clone(), l)));
        for edit in &f.firewall_edits {
            for (_, earlier) in fw_files.iter_mut() {
                edit.replay(earlier);
            }
        }
        fw_files.push((f.name.clone(), f.firewall));
        range_state.merge(&f.range);
        auth.merge(&f.restrictions);
        store.merge(f.ipsec);
        findings.extend(f.findings);
        sources.push(SourceFile {
            path: f.name,
            sha256: f.sha256,
            encoding: f.encoding.to_string(),
            dialects: f.dialects,
        });
    }
    if let Some((off, file, line)) = merge_off.filter(|_| ignored_local > 0) {
        let mut sink = Sink::new(&file);
        sink.push(
            Code::LocalRulesIgnored,
            Severity::Info,
            line,
            format!(
                "{ignored_local} active local rule(s) of the store exports read beside this GPO \
                 are not in force: it sets AllowLocalPolicyMerge=0 in {}",
                off.names()
            ),
            "create the rule in the GPO, or allow local policy merge in the GPO",
        );
        findings.extend(sink.into_findings());
    }
    let (resolved, range_findings) = registry::resolve(&range_state);
    let range = match &opts.range_override {
        Some(p) => Some(RpcRange {
            ports: p.clone(),
            source: "--range".into(),
            kind: RangeKind::Override,
            listed: p.clone(),
        }),
        None => {
            findings.extend(range_findings);
            resolved.map(|r| RpcRange {
                ports: r.ports,
                source: r.source,
                kind: r.kind,
                listed: r.listed,
            })
        }
    };
    let in_force: Vec<(String, String)> = store
        .in_force()
        .iter()
        .map(|p| (p.name.clone(), p.store.clone()))
        .collect();
    let ipsec_policies = store
        .policies
        .iter()
        .map(|p| IpsecPolicySummary {
            name: p.name.clone(),
            store: p.store.clone(),
            dialect: p.dialect,
            file: p.rules.first().map(|r| r.file.clone()).unwrap_or_default(),
            line: p.line,
            rules: p.rules.len(),
            assigned: p.assigned,
            in_force: in_force.contains(&(p.name.clone(), p.store.clone())),
        })
        .collect();
    let mut rules = store.to_rules();
    for (file, fw) in &fw_files {
        rules.extend(fw.iter().filter_map(|r| r.to_rule(file)));
    }
    let mut loaded = LoadedPolicy {
        policy: Policy {
            rules,
            rpc_dynamic: PortRanges::default(),
            local_subnets: opts.local_subnets.clone(),
            firewall_default,
        },
        range,
        findings,
        files: sources,
        ipsec_policies,
        os: opts.os,
        range_lines,
        restrictions: auth,
    };
    loaded.policy.rpc_dynamic = loaded.effective_range();
    let lints = lint::lint(&loaded);
    loaded.findings.extend(lints);
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.reg` export holding only the authentication restrictions is read (not refused as
    /// setting nothing), says `rpc-restricted`, and a later file's value wins.
    #[test]
    fn a_reg_file_of_authentication_restrictions_is_read_and_combined() {
        let first = parse_text(
            "restrict.reg",
            b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Rpc]\r\n\"RestrictRemoteClients\"=dword:00000001\r\n",
        );
        assert_eq!(first.unreadable, None);
        assert_eq!(first.findings.len(), 1, "{:?}", first.findings);
        assert_eq!(first.findings[0].code, Code::RpcRestricted);
        assert_eq!(first.findings[0].line, Some(4));
        assert!(
            !first.range_lines.iter().any(|&l| l >= 3),
            "{:?}",
            first.range_lines
        );
        let second = parse_text(
            "ntlm.reg",
            b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\r\n\"RestrictReceivingNTLMTraffic\"=dword:00000002\r\n",
        );
        assert_eq!(second.unreadable, None);
        let loaded = build(vec![first, second], &LoadOptions::default());
        let r = &loaded.restrictions;
        assert_eq!(
            r.restrict_remote_clients
                .as_ref()
                .map(|s| s.cited())
                .as_deref(),
            Some("restrict.reg:4")
        );
        assert_eq!(
            r.restrict_receiving_ntlm
                .as_ref()
                .map(|s| s.cited())
                .as_deref(),
            Some("ntlm.reg:4")
        );
    }

    #[test]
    fn the_range_says_where_it_comes_from() {
        let configured = build(
            vec![parse_text("r.cmd", b"rpccfg.exe -pe 5001-5021 -d 0\r\n")],
            &LoadOptions::default(),
        );
        assert_eq!(configured.effective_range().to_string(), "5001-5021");
        assert_eq!(configured.range_source(), "r.cmd:1");
        let none = build(
            vec![parse_text("fw.cmd", b"netsh advfirewall firewall add rule name=x dir=in action=block protocol=TCP localport=135\r\n")],
            &LoadOptions { os: OsFamily::Legacy, ..LoadOptions::default() },
        );
        assert_eq!(none.effective_range().to_string(), "1024-5000");
        assert!(
            none.range_source()
                .contains("default dynamic range of Windows 2000/XP/Server 2003")
        );
    }

    #[test]
    fn set_variables_and_for_loops_expand() {
        let script = b"@echo off\r\nset IPSECTOOL=ipseccmd.exe\r\nset \"POL=Block RPC Ports\"\r\nfor /L %%p in (5001,1,5003) do %IPSECTOOL% -w REG -p \"%POL%\" -r \"Block Inbound TCP %%p Rule\" -f *=0:%%p:TCP -n BLOCK\r\n%IPSECTOOL% -w REG -p \"%POL%\" -x\r\n";
        let pf = parse_text("loop.cmd", script);
        assert!(pf.findings.is_empty(), "{:?}", pf.findings);
        let rules = pf.rules();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[2].origin.name, "Block Inbound TCP 5003 Rule");
        assert_eq!(rules[2].origin.line, 4);
        assert_eq!(rules[2].origin.policy.as_deref(), Some("Block RPC Ports"));
    }

    #[test]
    fn placeholders_are_reported_when_not_set() {
        let pf = parse_text(
            "p.cmd",
            b"%IPSECTOOL% -w REG -p \"Block RPC Ports\" -r \"Block Inbound TCP %PORT% Rule\" -f *=0:%PORT%:TCP -n BLOCK\n",
        );
        let codes: Vec<_> = pf.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, vec!["placeholder", "placeholder"]);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_and_build_without_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let pf = parse_text("p.cmd", &data);
            let lp = build(vec![pf], &LoadOptions::default());
            let _ = lp.policy.decide([10, 1, 1, 5].into(), 135, Proto::Tcp);
        }

        #[test]
        fn command_shaped_text_never_panics(body in "[ -~\u{2013}]{0,120}", pick in 0usize..6) {
            let prefix = ["ipseccmd -w REG -p P ", "rpccfg ", "netsh ipsec static add filter ",
                "netsh advfirewall firewall add rule ", "New-NetFirewallRule ", "for /L %%p in "][pick];
            let pf = parse_text("c.cmd", format!("{prefix}{body}").as_bytes());
            let _ = build(vec![pf], &LoadOptions::default());
        }
    }

    #[test]
    fn a_firewall_default_decides_only_where_no_rule_does_and_the_gpo_store_wins() {
        let local = parse_text(
            "local.reg",
            b"Windows Registry Editor Version 5.00\r\n\r\n\
              [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules]\r\n\
              \"A\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|RA4=10.1.1.0/255.255.255.0|Name=allow 135|\"\r\n\
              [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\DomainProfile]\r\n\
              \"DefaultInboundAction\"=dword:00000000\r\n\
              [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\StandardProfile]\r\n\
              \"DefaultInboundAction\"=dword:00000000\r\n\
              [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\PublicProfile]\r\n\
              \"DefaultInboundAction\"=dword:00000000\r\n",
        );
        let gpo = parse_text(
            "gpo.reg",
            b"Windows Registry Editor Version 5.00\r\n\r\n\
              [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\DomainProfile]\r\n\
              \"DefaultInboundAction\"=dword:00000001\r\n",
        );
        let only_local = build(vec![local.clone()], &LoadOptions::default());
        let d = only_local
            .policy
            .decide([10, 9, 9, 9].into(), 135, Proto::Tcp);
        assert_eq!(
            d.action,
            Action::Pass,
            "the local store allows what no rule matches"
        );
        assert_eq!(d.rule.unwrap().line, 6, "a DefaultInboundAction=0 value");
        for files in [vec![local.clone(), gpo.clone()], vec![gpo, local]] {
            let lp = build(files, &LoadOptions::default());
            // A rule still decides where it matches.
            let d = lp.policy.decide([10, 1, 1, 5].into(), 135, Proto::Tcp);
            assert_eq!(
                (d.action, d.rule.unwrap().name.as_str()),
                (Action::Pass, "allow 135")
            );
            // Elsewhere the GPO store's default, whichever file came first.
            let d = lp.policy.decide([10, 9, 9, 9].into(), 135, Proto::Tcp);
            assert_eq!(d.action, Action::Block);
            assert_eq!(d.rule.unwrap().file, "gpo.reg");
        }
        // A script says nothing of the default: no decision where no rule matches.
        let script = build(
            vec![parse_text("s.cmd", b"netsh advfirewall firewall add rule name=x dir=in action=block protocol=TCP localport=135\r\n")],
            &LoadOptions::default(),
        );
        assert_eq!(
            script.policy.action([10, 9, 9, 9], 136, Proto::Tcp),
            Action::None
        );
    }

    #[test]
    fn firewall_edits_of_a_later_file_reach_earlier_rules() {
        let first = parse_text(
            "policy.cmd",
            b"netsh advfirewall firewall add rule name=\"Block RPC\" dir=in action=block protocol=TCP localport=135 remoteip=any\r\n\
              netsh advfirewall firewall add rule name=\"Block 445\" dir=in action=block protocol=TCP localport=445\r\n",
        );
        let fix = parse_text(
            "fix.cmd",
            b"netsh advfirewall firewall set rule name=\"Block RPC\" new remoteip=0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255\r\n\
              netsh advfirewall firewall delete rule name=\"Block 445\"\r\n",
        );
        assert!(fix.findings.is_empty(), "{:?}", fix.findings);
        let lp = build(vec![first, fix], &LoadOptions::default());
        let d = lp.policy.decide([10, 1, 1, 5].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::None);
        let d = lp.policy.decide([10, 1, 2, 5].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.rule.unwrap().file, "policy.cmd");
        assert_eq!(
            lp.policy.action([10, 1, 2, 5], 445, Proto::Tcp),
            Action::None
        );
        // PowerShell edits too; a file's edits do not reach the files after it.
        let first = parse_text(
            "a.ps1",
            b"New-NetFirewallRule -DisplayName X -Direction Inbound -Action Block -Protocol TCP -LocalPort 135\n",
        );
        let fix = parse_text(
            "b.ps1",
            b"Set-NetFirewallRule -DisplayName X -RemoteAddress 192.0.2.0/24\n",
        );
        let last = parse_text(
            "c.ps1",
            b"New-NetFirewallRule -DisplayName X -Direction Inbound -Action Block -Protocol TCP -LocalPort 136\n",
        );
        let lp = build(vec![first, fix, last], &LoadOptions::default());
        assert_eq!(
            lp.policy.action([10, 1, 1, 5], 135, Proto::Tcp),
            Action::None
        );
        assert_eq!(
            lp.policy.action([192, 0, 2, 5], 135, Proto::Tcp),
            Action::Block
        );
        assert_eq!(
            lp.policy.action([10, 1, 1, 5], 136, Proto::Tcp),
            Action::Block
        );
    }

    fn one(name: &str, text: &str) -> LoadedPolicy {
        build(
            vec![parse_text(name, text.as_bytes())],
            &LoadOptions::default(),
        )
    }

    /// A group enabled by name decides as Windows' own rules of the group do: the endpoint
    /// mapper passes by its RPCSS rule, SMB by its `System` rule, a dynamic port only for the
    /// group's program (conditional while its owner is not known), and a port outside the group
    /// is not touched. A group disabled in a later file is out again.
    #[test]
    fn an_enabled_group_decides_with_its_rules_real_scope() {
        let lp = one(
            "groups.cmd",
            "netsh advfirewall firewall set rule group=\"Remote Service Management\" new enable=yes\r\n",
        );
        // The group opens the endpoint mapper to every source in the Domain profile.
        let codes: Vec<Code> = lp.findings.iter().map(|f| f.code.clone()).collect();
        assert_eq!(codes, vec![Code::RangePortUnblocked], "{:?}", lp.findings);
        let d = lp.policy.decide([10, 9, 9, 9].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Pass);
        let r = d.rule.unwrap();
        assert_eq!(
            (r.name.as_str(), r.line),
            ("Remote Service Management (RPC-EPMAP)", 1)
        );
        assert_eq!(r.filter.as_deref(), Some("LPort=RPC-EPMap (TCP 135)"));
        assert_eq!(
            lp.policy.action([10, 9, 9, 9], 445, Proto::Tcp),
            Action::Pass
        );
        let d = lp.policy.decide([10, 9, 9, 9].into(), 49152, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional);
        assert_eq!(
            d.condition.as_deref(),
            Some(r"only for program %SystemRoot%\system32\services.exe")
        );
        assert_eq!(
            lp.policy.action([10, 9, 9, 9], 3389, Proto::Tcp),
            Action::None
        );
        assert_eq!(
            lp.policy.action([10, 9, 9, 9], 135, Proto::Udp),
            Action::None
        );
        // Disabled again in a later file: nothing left.
        let off = parse_text(
            "off.ps1",
            b"Disable-NetFirewallRule -DisplayGroup 'Remote Service Management'\n",
        );
        let on = parse_text(
            "groups.cmd",
            b"netsh advfirewall firewall set rule group=\"Remote Service Management\" new enable=yes\r\n",
        );
        let lp = build(vec![on, off], &LoadOptions::default());
        assert_eq!(
            lp.policy.action([10, 9, 9, 9], 135, Proto::Tcp),
            Action::None
        );
        // Remote Administration exists on some Windows versions only: conditional on it.
        let lp = one(
            "ra.cmd",
            "netsh firewall set service type=remoteadmin mode=enable\r\n",
        );
        let d = lp.policy.decide([10, 9, 9, 9].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional, "{d:?}");
        assert!(d.condition.unwrap().contains("Remote Administration"));
    }

    /// A group not in the table makes every decision it could change conditional, never a
    /// plain pass and never ignored: enabled, the ports nothing else decides; disabled, the
    /// passes it might take away.
    #[test]
    fn a_group_not_in_the_table_makes_its_decisions_conditional() {
        let lp = one(
            "unknown.cmd",
            "netsh advfirewall firewall add rule name=Block dir=in action=block protocol=TCP localport=5000\r\n\
             netsh advfirewall firewall set rule group=\"Contoso Agent\" new enable=yes\r\n",
        );
        assert_eq!(lp.findings[0].code, Code::UnknownField, "{:?}", lp.findings);
        let d = lp.policy.decide([10, 9, 9, 9].into(), 49152, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional);
        assert!(d.condition.unwrap().contains("Contoso Agent"));
        assert_eq!(
            lp.policy.action([10, 9, 9, 9], 5000, Proto::Tcp),
            Action::Block
        );
        let lp = one(
            "unknown.ps1",
            "New-NetFirewallRule -DisplayName RPC -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135\n\
             Disable-NetFirewallRule -DisplayGroup 'Contoso Agent'\n",
        );
        let d = lp.policy.decide([10, 9, 9, 9].into(), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional, "{d:?}");
    }

    #[test]
    fn program_names() {
        assert_eq!(program(r"C:\Tools\IPSECCMD.EXE"), "ipseccmd");
        assert_eq!(program("\"rpccfg.exe\""), "rpccfg");
    }
}
