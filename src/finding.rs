//! Findings: the common currency of policy lints, capacity checks and verification verdicts.
//! Every producer (policy, audit) emits these; report renders them and cli maps their worst
//! severity to the exit code.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// What a finding is about: a stable kebab-case string in the JSON (`code`), one variant per
/// code the guide lists (docs/guide/reports.md, "Finding codes"). Policy lints, capacity checks and verification verdicts all name
/// theirs here; [`Code::ALL`] is the whole list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    // policy
    TypographicDash,
    Placeholder,
    NameFilterMismatch,
    RangePortUnblocked,
    /// Policy (a source allowed to 135 but not the range, or the reverse) and audit (observed).
    HangHazard,
    AllowShadowed,
    PolicyUnassigned,
    SubnetMisaligned,
    MaskNoncontiguous,
    RangeOverlapsEphemeral,
    RangeTooSmall,
    RangeInverted,
    RangeInvalid,
    ParseError,
    /// A DNS name in a filter: Windows resolves it once, when the filter is created; rpcaudit
    /// does not resolve it, so it matches nothing in the model.
    DnsUnresolved,
    /// A policy-wide check was not run: the files define more rules than it can afford.
    LintSkipped,
    /// A firewall rule string holds a field rpcaudit does not model (what the rule decides is
    /// conditional on it, never read wider), or a script names a built-in rule group.
    UnknownField,
    /// The GPO store's `AllowLocalPolicyMerge=0` takes active local rules out of force.
    LocalRulesIgnored,
    /// A store turns the firewall off in a profile.
    FirewallOff,
    /// A store lets unmatched inbound connections through (`DefaultInboundAction=0`).
    DefaultInboundAllow,
    /// A GPO restricts unauthenticated RPC clients (`RestrictRemoteClients`,
    /// `EnableAuthEpResolution`): anonymous endpoint-mapper dumps of its hosts fail.
    RpcRestricted,
    /// An IPsec policy store assigns this policy (`ActivePolicy`): the one in force.
    PolicyAssigned,
    /// `policy diff`: the configured store and the intended script disagree about a rule or
    /// a decision.
    StoreDisagrees,
    // capacity
    OutOfRange,
    RangeNearFull,
    RangeExhausted,
    // audit
    Leak,
    Overblock,
    EpmFenced,
    Unverified,
    /// `audit --store`: what was observed contradicts what the configured store decides
    /// (configured block, observed open or closed; or configured pass, observed filtered).
    StoreNotInForce,
    /// A source the fence denies TCP 135 and the range reaches the same RPC interfaces by
    /// another road (SMB named pipes on 445 or 139, RPC over HTTP on 593).
    FenceBypass,
    /// `rpcaudit interfaces`: an interface the catalogue tags `coercion` or `credentials`
    /// answered a call (fault nca_s_op_rng_error: the call reached it) anonymously, or from a
    /// source the intended policy blocks on its port.
    InterfaceExposed,
    /// `rpcaudit interfaces --rpc-filter`: the RPC filters given block a call from the probing
    /// source, and the probe of that interface was callable (the filters are not in force).
    RpcFilterNotInForce,
    /// `rpcaudit interfaces --rpc-filter`: the RPC filters given let a call from the probing
    /// source through, and the probe was refused (something else refuses it).
    RpcFilterPermitRefused,
    /// The intended policy (error) or the configured store (warning) passes a probed port only
    /// under a condition rpcaudit cannot check (a program or service the rule is scoped to, a
    /// field not modelled): the observation neither confirms nor contradicts it.
    DecisionConditional,
    /// `audit --auth-survey --store`: the configuration restricts unauthenticated RPC clients
    /// (`RestrictRemoteClients` 1 or 2) and the host's endpoint mapper still answered an
    /// anonymous lookup.
    RpcRestrictionNotInForce,
    /// `audit --auth-survey --store`: the configuration refuses incoming NTLM
    /// (`RestrictReceivingNTLMTraffic`) and the host accepted an NTLM bind.
    NtlmAccepted,
    /// A code this version does not know, read from another version's report (a baseline);
    /// kept as written. rpcaudit itself never produces one.
    #[serde(untagged)]
    Other(String),
}

impl Code {
    /// Every code rpcaudit produces, in the order of the guide's table.
    pub const ALL: &[Code] = &[
        Code::TypographicDash,
        Code::Placeholder,
        Code::NameFilterMismatch,
        Code::RangePortUnblocked,
        Code::HangHazard,
        Code::AllowShadowed,
        Code::PolicyUnassigned,
        Code::SubnetMisaligned,
        Code::MaskNoncontiguous,
        Code::RangeOverlapsEphemeral,
        Code::RangeTooSmall,
        Code::RangeInverted,
        Code::RangeInvalid,
        Code::ParseError,
        Code::DnsUnresolved,
        Code::OutOfRange,
        Code::RangeNearFull,
        Code::RangeExhausted,
        Code::Leak,
        Code::Overblock,
        Code::EpmFenced,
        Code::Unverified,
        Code::UnknownField,
        Code::LocalRulesIgnored,
        Code::FirewallOff,
        Code::DefaultInboundAllow,
        Code::RpcRestricted,
        Code::LintSkipped,
        Code::PolicyAssigned,
        Code::StoreDisagrees,
        Code::StoreNotInForce,
        Code::FenceBypass,
        Code::InterfaceExposed,
        Code::RpcFilterNotInForce,
        Code::RpcFilterPermitRefused,
        Code::DecisionConditional,
        Code::RpcRestrictionNotInForce,
        Code::NtlmAccepted,
    ];

    /// Whether the policy reader and linter produce this code (the guide's "policy" rows;
    /// `hang-hazard` comes from the audit too).
    pub fn from_policy(&self) -> bool {
        !matches!(
            self,
            Code::OutOfRange
                | Code::RangeNearFull
                | Code::RangeExhausted
                | Code::Leak
                | Code::Overblock
                | Code::EpmFenced
                | Code::Unverified
                | Code::StoreNotInForce
                | Code::FenceBypass
                | Code::InterfaceExposed
                | Code::RpcFilterNotInForce
                | Code::RpcFilterPermitRefused
                | Code::DecisionConditional
                | Code::RpcRestrictionNotInForce
                | Code::NtlmAccepted
                | Code::Other(_)
        )
    }

    /// The code as it stands in the JSON and the guide.
    pub fn as_str(&self) -> &str {
        match self {
            Code::TypographicDash => "typographic-dash",
            Code::Placeholder => "placeholder",
            Code::NameFilterMismatch => "name-filter-mismatch",
            Code::RangePortUnblocked => "range-port-unblocked",
            Code::HangHazard => "hang-hazard",
            Code::AllowShadowed => "allow-shadowed",
            Code::PolicyUnassigned => "policy-unassigned",
            Code::SubnetMisaligned => "subnet-misaligned",
            Code::MaskNoncontiguous => "mask-noncontiguous",
            Code::RangeOverlapsEphemeral => "range-overlaps-ephemeral",
            Code::RangeTooSmall => "range-too-small",
            Code::RangeInverted => "range-inverted",
            Code::RangeInvalid => "range-invalid",
            Code::ParseError => "parse-error",
            Code::DnsUnresolved => "dns-unresolved",
            Code::LintSkipped => "lint-skipped",
            Code::UnknownField => "unknown-field",
            Code::LocalRulesIgnored => "local-rules-ignored",
            Code::FirewallOff => "firewall-off",
            Code::DefaultInboundAllow => "default-inbound-allow",
            Code::RpcRestricted => "rpc-restricted",
            Code::PolicyAssigned => "policy-assigned",
            Code::StoreDisagrees => "store-disagrees",
            Code::OutOfRange => "out-of-range",
            Code::RangeNearFull => "range-near-full",
            Code::RangeExhausted => "range-exhausted",
            Code::Leak => "leak",
            Code::Overblock => "overblock",
            Code::EpmFenced => "epm-fenced",
            Code::Unverified => "unverified",
            Code::StoreNotInForce => "store-not-in-force",
            Code::FenceBypass => "fence-bypass",
            Code::InterfaceExposed => "interface-exposed",
            Code::RpcFilterNotInForce => "rpc-filter-not-in-force",
            Code::RpcFilterPermitRefused => "rpc-filter-permit-refused",
            Code::DecisionConditional => "decision-conditional",
            Code::RpcRestrictionNotInForce => "rpc-restriction-not-in-force",
            Code::NtlmAccepted => "ntlm-accepted",
            Code::Other(code) => code,
        }
    }

    /// The codes about the RPC dynamic port range itself (`range-*`, bar
    /// `range-port-unblocked`, which is about the fence).
    pub fn is_about_the_range(&self) -> bool {
        matches!(
            self,
            Code::RangeOverlapsEphemeral
                | Code::RangeTooSmall
                | Code::RangeInverted
                | Code::RangeInvalid
                | Code::RangeNearFull
                | Code::RangeExhausted
        )
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered by the text, as the strings were.
impl Ord for Code {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Code {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One finding. `code` is a stable kebab-case string listed in docs/guide/reports.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    #[schemars(with = "String")]
    pub code: Code,
    pub severity: Severity,
    /// The file the finding is about, if it comes from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column of `line` where the offending word starts, in characters (Unicode
    /// scalar values), where the word stands in the file as written (not when it came from a
    /// variable's expansion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
    /// A concrete fix, in words or as a command.
    pub fix: String,
    /// What was seen that supports the finding: matrix cells, endpoint bindings, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Finding {
    pub fn new(
        code: Code,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            code,
            severity,
            file: None,
            line: None,
            column: None,
            message: message.into(),
            fix: fix.into(),
            evidence: Vec::new(),
        }
    }

    /// Attach the observations the finding rests on.
    pub fn with_evidence(mut self, evidence: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    /// Attach the file the finding is about, with no line.
    pub fn at_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self.line = None;
        self.column = None;
        self
    }

    /// Attach the file and 1-based line the finding points at.
    pub fn at(mut self, file: impl Into<String>, line: usize) -> Self {
        self.file = Some(file.into());
        self.line = Some(line);
        self
    }
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityCounts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl SeverityCounts {
    /// Count `findings` in.
    pub fn add(&mut self, findings: &[Finding]) {
        for f in findings {
            match f.severity {
                Severity::Error => self.error += 1,
                Severity::Warning => self.warning += 1,
                Severity::Info => self.info += 1,
            }
        }
    }

    /// The worst severity counted.
    pub fn worst(&self) -> Option<Severity> {
        if self.error > 0 {
            Some(Severity::Error)
        } else if self.warning > 0 {
            Some(Severity::Warning)
        } else if self.info > 0 {
            Some(Severity::Info)
        } else {
            None
        }
    }
}

/// The worst severity among `findings`, if any.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

/// Most findings of one code (per file) a report lists; the rest are counted in one closing
/// finding, so a hostile file of a million bad lines costs a hundred findings, not a million.
pub const MAX_FINDINGS_PER_CODE: usize = 100;

/// The closing finding that counts the `n` findings of `code` left out past the cap.
pub fn left_out(code: Code, severity: Severity, n: usize) -> Finding {
    let message =
        format!("{n} more {code} findings are not listed (the first {MAX_FINDINGS_PER_CODE} are)");
    Finding::new(code, severity, message, "fix the ones listed and run again")
}

/// `findings` with at most [`MAX_FINDINGS_PER_CODE`] per (file, code, severity), the rest
/// counted in a closing finding of each, in the order the findings came.
pub fn cap_per_code(findings: Vec<Finding>) -> Vec<Finding> {
    use std::collections::HashMap;
    /// What a cap counts by: file, code, severity.
    type Key = (Option<String>, Code, Severity);
    let mut listed: HashMap<Key, usize> = HashMap::new();
    let mut out = Vec::new();
    let mut dropped: Vec<(Key, usize)> = Vec::new();
    for f in findings {
        let key = (f.file.clone(), f.code.clone(), f.severity);
        let n = listed.entry(key.clone()).or_default();
        if *n < MAX_FINDINGS_PER_CODE {
            *n += 1;
            out.push(f);
        } else {
            match dropped.iter_mut().find(|(k, _)| *k == key) {
                Some((_, d)) => *d += 1,
                None => dropped.push((key, 1)),
            }
        }
    }
    for ((file, code, severity), n) in dropped {
        let mut f = left_out(code, severity, n);
        f.file = file;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_capped_per_file_and_code() {
        let mut all = Vec::new();
        for i in 0..130 {
            all.push(
                Finding::new(Code::AllowShadowed, Severity::Error, format!("m{i}"), "f")
                    .at("a.cmd", i),
            );
            all.push(Finding::new(Code::AllowShadowed, Severity::Error, "m", "f").at("b.cmd", i));
        }
        all.push(Finding::new(Code::Leak, Severity::Error, "m", "f"));
        let capped = cap_per_code(all);
        assert_eq!(capped.len(), 2 * MAX_FINDINGS_PER_CODE + 1 + 2);
        let closing: Vec<_> = capped
            .iter()
            .filter(|f| f.message.starts_with("30 more allow-shadowed"))
            .collect();
        assert_eq!(closing.len(), 2);
        assert_eq!(closing[0].file.as_deref(), Some("a.cmd"));
        assert_eq!(closing[1].file.as_deref(), Some("b.cmd"));
        // Order kept: the first listed is the first given.
        assert_eq!(capped[0].message, "m0");
    }

    /// The (code, from) rows of the "Finding codes" table in docs/guide/reports.md, in its order.
    fn guide_codes() -> Vec<(String, String)> {
        let guide = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/guide/reports.md"
        ));
        let table = guide
            .split("\n## Finding codes\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/guide/reports.md has a Finding codes section");
        table
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| {
                let (code, rest) = l.split_once('`')?;
                let from = rest.split('|').nth(2)?.trim();
                Some((code.to_string(), from.to_string()))
            })
            .collect()
    }

    #[test]
    fn every_code_in_the_guide_is_one_code_and_every_code_is_in_the_guide() {
        let rows = guide_codes();
        let listed: Vec<&String> = rows.iter().map(|(code, _)| code).collect();
        assert!(listed.len() >= Code::ALL.len(), "{listed:?}");
        let all: Vec<&str> = Code::ALL.iter().map(Code::as_str).collect();
        for code in &listed {
            assert_eq!(
                all.iter().filter(|c| **c == code.as_str()).count(),
                1,
                "guide code {code} is not exactly one finding::Code"
            );
        }
        for code in &all {
            assert!(
                listed.iter().any(|c| c == code),
                "{code} is not in the guide's table"
            );
        }
        let distinct: std::collections::BTreeSet<_> = Code::ALL.iter().collect();
        assert_eq!(
            distinct.len(),
            Code::ALL.len(),
            "a code listed twice in Code::ALL"
        );
        let policy: Vec<&str> = rows
            .iter()
            .filter(|(_, from)| from == "policy")
            .map(|(code, _)| code.as_str())
            .collect();
        let policy_codes: Vec<&str> = Code::ALL
            .iter()
            .filter(|c| c.from_policy())
            .map(Code::as_str)
            .collect();
        assert_eq!(
            policy, policy_codes,
            "Code::from_policy is not the guide's policy rows"
        );
    }

    #[test]
    fn codes_serialize_as_their_text_and_unknown_ones_are_kept() {
        for code in Code::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), *code);
            assert!(!matches!(code, Code::Other(_)));
        }
        let other: Code = serde_json::from_str("\"pass-before-block\"").unwrap();
        assert_eq!(other, Code::Other("pass-before-block".into()));
        assert_eq!(
            serde_json::to_string(&other).unwrap(),
            "\"pass-before-block\""
        );
        // By the text, not by the order of the variants.
        assert!(Code::Leak < Code::Placeholder);
    }
}
