//! SARIF 2.1.0 for policy findings (`policy lint --sarif`, `audit --sarif FILE`), the format
//! code-scanning views ingest (GitHub's `upload-sarif`). It sits at the end of the flow beside
//! the table and the JSON: findings in, a [`SarifLog`] (serde types) out, no I/O; the caller
//! gives the working directory that file URIs are made relative to.
//!
//! One rule per finding code ([`Code::ALL`], plus any unknown code a finding carries), with a
//! short and a full description, help text saying how to fix it, and a default level from the
//! code's usual severity; one result per finding with its rule, level, message (and the
//! finding's own fix), and where the finding points: the file as a URI relative to the working
//! directory, the line, and the column of the offending word where the policy reader located
//! it in the file as written (`startColumn`, in Unicode code points: the run says
//! `columnKind: unicodeCodePoints`); a word that came from a variable's expansion has none.
//! `fixtures/sarif/` holds the official schema the tests validate against.

use crate::finding::{Code, Finding, Severity};
use serde::Serialize;
use std::path::Path;

/// The `$schema` of the log: the OASIS schema of SARIF 2.1.0 (Errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// A SARIF log file (§3.13).
#[derive(Debug, Clone, Serialize)]
pub struct SarifLog {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

/// One run of the tool (§3.14).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    /// How `startColumn` counts: code points, as [`Finding::column`] does.
    pub column_kind: &'static str,
    pub results: Vec<SarifResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub driver: Driver,
}

/// The tool component (§3.19).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: String,
    pub version: String,
    pub semantic_version: String,
    pub rules: Vec<Rule>,
}

/// A text message (§3.11).
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub text: String,
}

/// A reporting descriptor: one per finding code (§3.49).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub short_description: Message,
    pub full_description: Message,
    pub help: Message,
    pub default_configuration: Configuration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    pub level: &'static str,
}

/// One finding (§3.27).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub physical_location: PhysicalLocation,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArtifactLocation {
    pub uri: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: usize,
    /// Counted in Unicode code points (the run's `columnKind`), where the finding knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<usize>,
}

/// The SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// What a rule says about its code: (usual severity, short description, full description, how
/// to fix it). The guide's "Finding codes" table (docs/guide/reports.md) says the same in fewer words.
fn describe(code: &Code) -> (Severity, &'static str, &'static str, &'static str) {
    use Severity::{Error, Info, Warning};
    match code {
        Code::TypographicDash => (
            Error,
            "A switch written with a typographic dash",
            "A command-line switch is written with an en dash, em dash or another non-ASCII dash (typically copied from a web page); the tool that runs the script does not recognise it as a switch.",
            "Retype the dash as an ASCII hyphen-minus (-).",
        ),
        Code::Placeholder => (
            Error,
            "A placeholder left in the script",
            "A placeholder of the article's script (%IPSECTOOL%, %PORT%, %SUBNET%, %MASK%) was never replaced with a value.",
            "Replace the placeholder with the value for your network, or set the variable before the line.",
        ),
        Code::NameFilterMismatch => (
            Warning,
            "A rule's name disagrees with its filter",
            "The port named in a rule's or filter list's name is not the port its filter matches, so whoever reads the name is misled.",
            "Rename the rule, or correct its filter, so that both name the same port.",
        ),
        Code::RangePortUnblocked => (
            Error,
            "135 or a port of the RPC range is not blocked",
            "The endpoint mapper port 135 or a port of the RPC dynamic range has no blocking rule, so every source reaches it.",
            "Add a block for the port (or the whole range) for all sources, below the allows for the permitted sources.",
        ),
        Code::HangHazard => (
            Error,
            "A source reaches 135 but not the whole range, or the reverse",
            "A source is allowed to the endpoint mapper (135) but not to every port of the RPC dynamic range, or to the range but not to 135; its RPC clients hang until they time out instead of failing fast.",
            "Allow the source to 135 and to the whole range, or to neither.",
        ),
        Code::AllowShadowed => (
            Error,
            "An allow that a block overrides",
            "An allow rule never takes effect: under the dialect's precedence a block rule covers the same traffic and wins.",
            "Reorder or narrow the rules so that the allow is evaluated first, or remove the covering block.",
        ),
        Code::PolicyUnassigned => (
            Error,
            "The IPsec policy is not assigned",
            "The script creates an IPsec policy but never assigns it, so none of its filters are in force.",
            "Assign the policy at the end of the script (ipseccmd -x, or netsh ipsec static set policy assign=y).",
        ),
        Code::SubnetMisaligned => (
            Warning,
            "Host bits set under the mask",
            "A subnet address has bits set that its mask clears; the filter matches the network, not the address written.",
            "Write the network address of the subnet (the address with the host bits cleared).",
        ),
        Code::MaskNoncontiguous => (
            Error,
            "A mask with holes",
            "A subnet mask is not a run of ones followed by zeros; such masks match address sets nobody intends.",
            "Use a contiguous mask (a prefix length).",
        ),
        Code::RangeOverlapsEphemeral => (
            Warning,
            "The RPC range overlaps the ephemeral ports",
            "The RPC dynamic range overlaps the operating system's ephemeral port range, so outgoing connections and RPC servers compete for the same ports.",
            "Move the RPC range out of the ephemeral range of the OS family.",
        ),
        Code::RangeTooSmall => (
            Warning,
            "Fewer than 20 ports in the RPC range",
            "The RPC dynamic range has fewer ports than the article's own threshold of 20; RPC servers fail to register once it is used up.",
            "Widen the range (Rpc\\Internet Ports) to at least the recommended size.",
        ),
        Code::RangeInverted => (
            Error,
            "The RPC range is inverted",
            "PortsInternetAvailable=N with UseInternetPorts=Y makes the range every port except the ones listed.",
            "Set PortsInternetAvailable=Y (and UseInternetPorts=Y) so that the listed ports are the range.",
        ),
        Code::RangeInvalid => (
            Error,
            "Rpc\\Internet values RPC would reject",
            "The Rpc\\Internet values are malformed or out of bounds; RPC rejects them and every ncacn_ip_tcp registration fails.",
            "Correct the Ports value (REG_MULTI_SZ of ports and ranges between 1 and 65535) and the Y/N values.",
        ),
        Code::ParseError => (
            Error,
            "A line that could not be read",
            "A line of the policy could not be read as the dialect it is written in; what it does is not in the model.",
            "Correct the line as the message says; the message names what was expected.",
        ),
        Code::DnsUnresolved => (
            Warning,
            "A filter names a host by DNS name, or the host's servers",
            "A filter names a host by DNS name (Windows resolves it once, when the filter is created), or, in the IPsec policy store, the host's DNS, WINS or DHCP servers or default gateway; rpcaudit does not resolve them, so the filter matches nothing in the model.",
            "Use addresses or subnets in filters.",
        ),
        Code::LintSkipped => (
            Error,
            "A policy-wide check was not run",
            "The files define so many rules that a policy-wide check would cost more than its budget of rule evaluations; it was skipped.",
            "Lint the files in smaller parts, or reduce the number of rules.",
        ),
        Code::UnknownField => (
            Info,
            "A firewall rule field rpcaudit does not model",
            "A firewall rule string holds a field rpcaudit does not model (or a script names a built-in rule group); the rule is left out of the decisions rather than read wider.",
            "Check by hand what the field changes about the rule.",
        ),
        Code::LocalRulesIgnored => (
            Info,
            "Local firewall rules are not in force",
            "The GPO store sets AllowLocalPolicyMerge=0: the active local rules are not in force.",
            "Move the rules that must apply into the GPO, or allow local policy merge.",
        ),
        Code::FirewallOff => (
            Warning,
            "The firewall is off in a profile",
            "A firewall store turns the firewall off in a profile (EnableFirewall=0); none of its rules apply there.",
            "Turn the firewall on in every profile the hosts use.",
        ),
        Code::DefaultInboundAllow => (
            Warning,
            "Unmatched inbound connections are allowed",
            "A firewall store lets unmatched inbound connections through (DefaultInboundAction=0), so ports without a rule are open.",
            "Set the default inbound action to block.",
        ),
        Code::RpcRestricted => (
            Info,
            "Unauthenticated RPC clients are restricted",
            "A GPO's Registry.pol or a .reg export sets RestrictRemoteClients or EnableAuthEpResolution: anonymous endpoint-mapper dumps of its hosts fail.",
            "Dump those hosts with credentials (rpcaudit dump --user).",
        ),
        Code::PolicyAssigned => (
            Info,
            "The IPsec policy in force",
            "An IPsec policy store's ActivePolicy names this policy: it is the one in force, and the one explain and audit decide from.",
            "Nothing to fix; check that it is the policy you meant to assign.",
        ),
        Code::StoreDisagrees => (
            Error,
            "The configured store and the script disagree",
            "policy diff found a rule of the script missing from the store or different there, a rule only the store holds, or a connection the two decide differently.",
            "Re-apply the script to the host or GPO, or update the script to what is meant to be configured, then diff again.",
        ),
        Code::OutOfRange => (
            Error,
            "A dynamic TCP endpoint outside the range",
            "A dynamic TCP endpoint is registered outside the configured RPC range (typically a service not restarted since the range changed).",
            "Restart the service (or the host) so that it registers in the range, or give it a static port.",
        ),
        Code::RangeNearFull => (
            Warning,
            "80 % or more of the RPC range in use",
            "80 % or more of the RPC dynamic range is in use.",
            "Widen the range before it runs out.",
        ),
        Code::RangeExhausted => (
            Error,
            "The RPC range has no free port",
            "The RPC dynamic range has no free port (or fewer ports than are in use); the next RPC server fails to register.",
            "Widen the range to the recommended size.",
        ),
        Code::Leak => (
            Error,
            "Expected block, observed open or closed",
            "A probe reached a port the intended policy blocks for its source.",
            "Add or correct the blocking rule for the port and source.",
        ),
        Code::Overblock => (
            Error,
            "Expected pass, observed filtered",
            "A probe was dropped on a port the intended policy passes for its source.",
            "Correct the allow (or remove the block) for the port and source.",
        ),
        Code::EpmFenced => (
            Info,
            "The endpoint mapper is fenced from here",
            "The endpoint mapper is filtered from this vantage point, as intended, so it was not dumped.",
            "Dump the host from an allowed source.",
        ),
        Code::Unverified => (
            Warning,
            "No observation with an answer about the target",
            "No observation with an answer is about the target; the target is incomplete and never compliant.",
            "Probe the target, or give observations made where it can be reached.",
        ),
        Code::StoreNotInForce => (
            Error,
            "Configured and observed disagree",
            "audit --store: a probe reached a port the configured store blocks (the configuration is not in force: the IPsec policy not assigned, a GPO not applied, another rule or firewall), or was dropped on a port the store passes (a warning: something the store does not hold drops it).",
            "Put the exported configuration in force on the host (assign the IPsec policy, apply the GPO, turn the firewall on), or find what else filters, then export the store again and re-run the audit.",
        ),
        Code::FenceBypass => (
            Error,
            "RPC reachable by another road than the fence's",
            "A source the fence denies TCP 135 and the RPC dynamic range reaches the same RPC interfaces by another road: SMB named pipes on TCP 445 or 139 (RestrictRemoteClients counts a named-pipe client as authenticated), or RPC over HTTP on TCP 593.",
            "Block those ports from the denied sources as TCP 135 is blocked; where SMB must stay open for file sharing, close the named-pipe interfaces with RPC filters.",
        ),
        Code::InterfaceExposed => (
            Error,
            "A coercion or credentials interface answers calls it should not",
            "rpcaudit interfaces bound to an interface the catalogue tags coercion (it makes the host authenticate to an address the caller chooses) or credentials (it hands out or resets secrets), and a call beyond its last method reached it (fault nca_s_op_rng_error; no method ran) anonymously, or from a source the intended policy blocks on that port.",
            "Stop the service that hosts it where it is not needed, or refuse unauthenticated calls to it (RestrictRemoteClients, an RPC filter that requires authentication), or block its port from the sources that have no business calling it.",
        ),
        Code::RpcFilterNotInForce => (
            Error,
            "An RPC filter that should block a call is not in force",
            "rpcaudit interfaces --rpc-filter: the RPC filters given (netsh rpc filter commands or show filter output) block a call to this interface from the probing source, and the probe's call reached the interface (fault nca_s_op_rng_error; no method ran).",
            "Add the filters on the host (netsh -f with the script, as an administrator) and check them with netsh rpc filter show filter; a filter added without persistence is gone after a restart.",
        ),
        Code::RpcFilterPermitRefused => (
            Warning,
            "A call the RPC filters permit was refused",
            "rpcaudit interfaces --rpc-filter: the RPC filters given let a call to this interface from the probing source through, and the probe was refused (rpc_s_access_denied or a bind_nak): a filter not in the files, RestrictRemoteClients or the interface's own security refuses it.",
            "Compare netsh rpc filter show filter on the host with the files given, and check RestrictRemoteClients and the service's own access checks.",
        ),
        Code::DecisionConditional => (
            Error,
            "The decision depends on a condition rpcaudit cannot check",
            "The intended policy (an error) or the configured store (a warning) passes a probed port only under a condition rpcaudit cannot check: a program or service the firewall rule is scoped to (App, Svc, a package), or a field it does not model. The observation neither confirms nor contradicts the policy, so the port is not verified.",
            "Write the rule with ports and addresses only, or check on the host that the port belongs to the program or service the rule names.",
        ),
        Code::RpcRestrictionNotInForce => (
            Error,
            "The restriction of unauthenticated RPC clients is not in force",
            "audit --auth-survey --store: the configuration sets RestrictRemoteClients (1 Authenticated, or 2 Authenticated without exceptions), yet the host's endpoint mapper answered an anonymous lookup.",
            "Apply the GPO to the host (gpupdate /force) and restart it, since the setting is read when RPC starts; then re-run the audit with --auth-survey.",
        ),
        Code::NtlmAccepted => (
            Error,
            "NTLM accepted where it is meant to be refused",
            "audit --auth-survey --store: the configuration refuses incoming NTLM (RestrictReceivingNTLMTraffic, Network security: Restrict NTLM: Incoming NTLM traffic), yet the host's endpoint mapper accepted an NTLM bind.",
            "Apply the NTLM restriction to the host (the GPO's security options, gpupdate /force), then re-run the audit with --auth-survey.",
        ),
        Code::Other(_) => (
            Warning,
            "A finding code this rpcaudit does not know",
            "A finding code from another rpcaudit version.",
            "See that version's documentation.",
        ),
    }
}

/// `leak` → `Leak`, `hang-hazard` → `HangHazard` (a rule's `name`).
fn pascal(code: &str) -> String {
    code.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn rule(code: &Code) -> Rule {
    let (severity, short, full, help) = describe(code);
    Rule {
        id: code.as_str().to_string(),
        name: pascal(code.as_str()),
        short_description: Message { text: short.into() },
        full_description: Message { text: full.into() },
        help: Message { text: help.into() },
        default_configuration: Configuration {
            level: level(severity),
        },
    }
}

/// Bytes a URI path keeps as they are: RFC 3986 unreserved characters and `/`.
fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URI of `file` (as a finding names it): relative to `cwd` when it lies under it (or is
/// relative already), else an absolute `file://` URI. Backslashes are path separators.
pub fn artifact_uri(file: &str, cwd: &Path) -> String {
    let unified = file.replace('\\', "/");
    let path = Path::new(&unified);
    if path.is_absolute() {
        match path.strip_prefix(cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => percent_encode(&rel.to_string_lossy()),
            _ => format!("file://{}", percent_encode(&unified)),
        }
    } else {
        let mut rel = unified.as_str();
        while let Some(rest) = rel.strip_prefix("./") {
            rel = rest.trim_start_matches('/');
        }
        percent_encode(rel)
    }
}

/// The result of one finding; `rules` gains a rule for a code it does not have yet.
fn result(f: &Finding, rules: &mut Vec<Rule>, cwd: &Path) -> SarifResult {
    let id = f.code.as_str();
    let rule_index = match rules.iter().position(|r| r.id == id) {
        Some(i) => i,
        None => {
            rules.push(rule(&f.code));
            rules.len() - 1
        }
    };
    let locations = match &f.file {
        Some(file) => vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: artifact_uri(file, cwd),
                },
                region: f.line.filter(|l| *l >= 1).map(|start_line| Region {
                    start_line,
                    start_column: f.column.filter(|c| *c >= 1),
                }),
            },
        }],
        None => Vec::new(),
    };
    SarifResult {
        rule_id: id.to_string(),
        rule_index,
        level: level(f.severity),
        message: Message {
            text: format!("{}\nFix: {}", f.message, f.fix),
        },
        locations,
    }
}

/// The SARIF log of `findings`, file URIs relative to `cwd`.
pub fn log(findings: &[Finding], cwd: &Path) -> SarifLog {
    let mut rules: Vec<Rule> = Code::ALL.iter().map(rule).collect();
    let results = findings
        .iter()
        .map(|f| result(f, &mut rules, cwd))
        .collect();
    SarifLog {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME").to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    semantic_version: env!("CARGO_PKG_VERSION").to_string(),
                    rules,
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

/// The findings of an audit that SARIF carries: those that point into a file, the policy's and
/// the survey's against a configured setting (`rpc-restriction-not-in-force`,
/// `ntlm-accepted`, at the setting's line); an audit's observed `hang-hazard` is about the
/// network, not a file.
pub fn policy_findings(findings: &[Finding]) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| {
            (f.code.from_policy()
                || matches!(f.code, Code::RpcRestrictionNotInForce | Code::NtlmAccepted))
                && f.file.is_some()
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_to_the_working_directory_and_encoded() {
        let cwd = Path::new("/work/repo");
        assert_eq!(artifact_uri("policy/a.cmd", cwd), "policy/a.cmd");
        assert_eq!(artifact_uri("./policy/a.cmd", cwd), "policy/a.cmd");
        assert_eq!(artifact_uri("/work/repo/policy/a.cmd", cwd), "policy/a.cmd");
        assert_eq!(
            artifact_uri("/etc/x y#.cmd", cwd),
            "file:///etc/x%20y%23.cmd"
        );
        assert_eq!(artifact_uri("gpo\\Registry.pol", cwd), "gpo/Registry.pol");
        assert_eq!(
            artifact_uri("<img src=x>\u{202e}.cmd", cwd),
            "%3Cimg%20src%3Dx%3E%E2%80%AE.cmd"
        );
    }

    #[test]
    fn one_rule_per_code_and_results_point_at_their_rule() {
        let findings = vec![
            Finding::new(Code::Placeholder, Severity::Error, "m", "f").at("a.cmd", 3),
            Finding::new(Code::UnknownField, Severity::Info, "m2", "f2").at_file("b.ps1"),
            Finding::new(
                Code::Other("from-the-future".into()),
                Severity::Warning,
                "m",
                "f",
            ),
        ];
        let log = log(&findings, Path::new("/"));
        let run = &log.runs[0];
        let rules = &run.tool.driver.rules;
        assert_eq!(rules.len(), Code::ALL.len() + 1);
        for (i, r) in run.results.iter().enumerate() {
            assert_eq!(rules[r.rule_index].id, r.rule_id, "result {i}");
        }
        assert_eq!(run.results[0].level, "error");
        assert_eq!(run.results[1].level, "note");
        assert_eq!(run.results[0].message.text, "m\nFix: f");
        let v = serde_json::to_value(&log).unwrap();
        assert_eq!(
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            3
        );
        assert!(v["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"].is_null());
        assert!(v["runs"][0]["results"][2]["locations"].is_null());
        assert_eq!(rules[0].name, "TypographicDash");
        for r in rules {
            assert!(!r.short_description.text.is_empty() && !r.help.text.is_empty());
        }
    }
}
