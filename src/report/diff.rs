//! The baseline diff (`audit --baseline OLD.json`): reads an earlier audit report, compares it
//! with this run's report and says what changed: endpoints that appeared or disappeared,
//! verdicts that changed per (source, target, port), findings that are new or resolved. The
//! result, [`Changes`] (in [`super::changes`], which the report types use without knowing of
//! this module), goes into the report's JSON;
//! [`render_changes`](super::changes::render_changes) is the section the audit table shows
//! first. Pure apart from [`read_baseline`], which reads one file.
//!
//! Identities (what counts as "the same" in both reports):
//! - an endpoint: (target as given, interface, version, object, string binding); a port change
//!   is therefore one endpoint disappearing and one appearing. Endpoints are compared only for
//!   targets dumped completely (`ok`) in both reports; other targets are listed in
//!   [`Changes::hosts_not_compared`] with the reason, so that an unreachable host does not look
//!   as if all its endpoints disappeared.
//! - a matrix row: (source, target, port); a row in one report only is a verdict change from or
//!   to nothing (`before` or `after` null).
//! - a finding: (code, file, line, message). Messages name their port runs, so a leak that
//!   grows from 5001-5003 to 5001-5005 shows as the old finding resolved and the new one new,
//!   each with its ports; a change of wording only in `fix` or `severity` is not a change.
//!
//! Duplicates within one report count once (the first occurrence).

use super::audit::{AuditReport, SCHEMA_VERSION};
use super::changes::{BaselineInfo, Changes, EndpointChange, HostNotCompared, VerdictChange};
use crate::audit::verify::MatrixRow;
use crate::epm::{Endpoint, HostDump, HostStatus};
use crate::finding::Finding;
use crate::inert::excerpt;
use crate::ports::Proto;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;
use uuid::Uuid;

/// The largest baseline file read; reports this tool writes are far smaller.
pub const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a saved report (a baseline, or one to render) could not be read. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{file}: cannot open the report: {source}")]
    Open {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: cannot read the report: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file}: larger than {} MiB, too large for an audit report; give the JSON an `rpcaudit audit --json` run wrote",
        .limit / (1024 * 1024)
    )]
    TooLarge { file: String, limit: u64 },
    /// `said`: serde_json's message, the value it quotes cut short, with the line and column.
    #[error("{file}: not valid JSON: {said}")]
    NotJson { file: String, said: String },
    #[error("{file}: not an rpcaudit audit report: {said}")]
    NotAReport { file: String, said: String },
    /// A JSON-lines report (`audit --json-lines`) that cannot be read back; `said` names the
    /// line.
    #[error("{file}: not an rpcaudit audit JSON-lines report: {said}")]
    BadLines { file: String, said: String },
    #[error("{file}: no schema_version: not a report of `rpcaudit audit --json`")]
    NoSchemaVersion { file: String },
    #[error(
        "{file}: schema_version {version} is not a whole number: not a report of `rpcaudit audit --json`"
    )]
    BadSchemaVersion { file: String, version: String },
    #[error("{file}: schema_version 0{made_by} was never written by rpcaudit")]
    ZeroSchemaVersion { file: String, made_by: String },
    #[error(
        "{file}: report schema_version {version}{made_by} is newer than this rpcaudit {} reads (schema_version {SCHEMA_VERSION}); use a newer rpcaudit, or a baseline made by this version",
        env!("CARGO_PKG_VERSION")
    )]
    Newer {
        file: String,
        version: u64,
        made_by: String,
    },
}

/// Read an earlier `rpcaudit audit --json` report (a baseline, or the report `report render`
/// renders). Errors name the file (and the line and
/// column of bad JSON); a report without `schema_version`, or with one newer than
/// [`SCHEMA_VERSION`], is refused before its structure is read.
pub fn read_baseline(path: &Path) -> Result<AuditReport, BaselineError> {
    read_baseline_capped(path, MAX_BASELINE_BYTES)
}

fn read_baseline_capped(path: &Path, max: u64) -> Result<AuditReport, BaselineError> {
    let file = path.display().to_string();
    let bytes = crate::input::read_capped(path, max).map_err(|e| match e {
        crate::input::ReadError::TooLarge { limit } => BaselineError::TooLarge {
            file: file.clone(),
            limit,
        },
        crate::input::ReadError::Open(source) => BaselineError::Open {
            file: file.clone(),
            source,
        },
        crate::input::ReadError::Read(source) => BaselineError::Read {
            file: file.clone(),
            source,
        },
    })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if crate::jsonl::is_lines(text) {
        let report =
            super::lines::report_from_lines(text).map_err(|e| BaselineError::BadLines {
                file: file.clone(),
                said: excerpt(&e.to_string()).into_owned(),
            })?;
        if report.schema_version == 0 {
            return Err(BaselineError::ZeroSchemaVersion {
                file,
                made_by: String::new(),
            });
        }
        if report.schema_version > SCHEMA_VERSION {
            return Err(BaselineError::Newer {
                file,
                version: u64::from(report.schema_version),
                made_by: String::new(),
            });
        }
        return Ok(report);
    }

    /// The fields checked before the rest of the report is read.
    #[derive(Deserialize)]
    struct Head {
        schema_version: Option<serde_json::Value>,
        tool: Option<HeadTool>,
    }
    #[derive(Deserialize)]
    struct HeadTool {
        version: Option<String>,
    }
    let head: Head = serde_json::from_slice(text).map_err(|e| json_error(&file, e))?;
    let made_by = head
        .tool
        .and_then(|t| t.version)
        .map(|v| format!(" (made by rpcaudit {})", excerpt(&v)))
        .unwrap_or_default();
    let version = match head.schema_version {
        None | Some(serde_json::Value::Null) => {
            return Err(BaselineError::NoSchemaVersion { file });
        }
        Some(v) => v,
    };
    let Some(number) = version.as_u64() else {
        return Err(BaselineError::BadSchemaVersion {
            file,
            version: excerpt(&version.to_string()).into_owned(),
        });
    };
    if number == 0 {
        return Err(BaselineError::ZeroSchemaVersion { file, made_by });
    }
    if number > u64::from(SCHEMA_VERSION) {
        return Err(BaselineError::Newer {
            file,
            version: number,
            made_by,
        });
    }
    serde_json::from_slice(text).map_err(|e| json_error(&file, e))
}

fn json_error(file: &str, source: serde_json::Error) -> BaselineError {
    use serde_json::error::Category;
    let file = file.to_string();
    // serde_json quotes the offending value whole: keep its first characters and the place.
    let full = source.to_string();
    let place = format!(" at line {} column {}", source.line(), source.column());
    let said = match full.strip_suffix(&place) {
        Some(message) => format!("{}{place}", excerpt(message)),
        None => excerpt(&full).into_owned(),
    };
    match source.classify() {
        Category::Syntax | Category::Eof => BaselineError::NotJson { file, said },
        Category::Data => BaselineError::NotAReport { file, said },
        Category::Io => BaselineError::Read {
            file,
            source: source.into(),
        },
    }
}

/// What changed from `old` (the baseline, read from `baseline_path`) to `new`.
pub fn diff(old: &AuditReport, new: &AuditReport, baseline_path: &str) -> Changes {
    let (endpoints_appeared, endpoints_disappeared, hosts_not_compared) =
        endpoint_changes(old, new);
    let (findings_new, findings_resolved) = finding_changes(&old.findings, &new.findings);
    Changes {
        baseline: baseline_info(old, baseline_path),
        endpoints_appeared,
        endpoints_disappeared,
        hosts_not_compared,
        verdicts_changed: verdict_changes(&old.matrix, &new.matrix),
        findings_new,
        findings_resolved,
    }
}

/// Which report `old` is, read from `path`.
pub(super) fn baseline_info(old: &AuditReport, path: &str) -> BaselineInfo {
    BaselineInfo {
        path: path.to_string(),
        generated_at: old.generated_at.clone(),
        tool_version: old.tool.version.clone(),
        schema_version: old.schema_version,
        complete: old.complete,
    }
}

/// Identity of an endpoint within one target.
type EndpointKey<'a> = (Option<u16>, Uuid, &'a str, Uuid, &'a str);

fn endpoint_key(e: &Endpoint) -> EndpointKey<'_> {
    // The port leads so that the changes come out in port order.
    (
        e.port,
        e.interface,
        e.version.as_str(),
        e.object,
        e.binding.as_str(),
    )
}

fn endpoint_changes(
    old: &AuditReport,
    new: &AuditReport,
) -> (
    Vec<EndpointChange>,
    Vec<EndpointChange>,
    Vec<HostNotCompared>,
) {
    let mut old_hosts = BTreeMap::new();
    for h in &old.hosts {
        old_hosts.entry(h.dump.target.as_str()).or_insert(&h.dump);
    }
    let mut new_hosts = BTreeMap::new();
    for h in &new.hosts {
        new_hosts.entry(h.dump.target.as_str()).or_insert(&h.dump);
    }
    let targets: BTreeSet<&str> = old_hosts.keys().chain(new_hosts.keys()).copied().collect();
    let (mut appeared, mut disappeared, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for target in targets {
        match compare_host(
            target,
            old_hosts.get(target).copied(),
            new_hosts.get(target).copied(),
        ) {
            Ok((a, d)) => {
                appeared.extend(a);
                disappeared.extend(d);
            }
            Err(not_compared) => skipped.push(not_compared),
        }
    }
    (appeared, disappeared, skipped)
}

/// One target's endpoints that (appeared, disappeared) from `before` (the baseline's dump) to
/// `after` (this run's); or why they are not compared: the target is in one report only, or
/// was not dumped completely in one of them.
pub(super) fn compare_host(
    target: &str,
    before: Option<&HostDump>,
    after: Option<&HostDump>,
) -> Result<(Vec<EndpointChange>, Vec<EndpointChange>), HostNotCompared> {
    let not_compared = |reason: &str| HostNotCompared {
        target: target.to_string(),
        reason: reason.to_string(),
    };
    let (before, after) = match (before, after) {
        (Some(b), Some(a)) => (b, a),
        (Some(_), None) => return Err(not_compared("not in this run")),
        (None, _) => return Err(not_compared("not in the baseline")),
    };
    let problem = |s: HostStatus| match s {
        HostStatus::Ok => None,
        HostStatus::Partial => Some("partial"),
        HostStatus::Error => Some("failed"),
    };
    match (problem(before.status), problem(after.status)) {
        (None, None) => {}
        (Some(b), None) => return Err(not_compared(&format!("dump {b} in the baseline"))),
        (None, Some(a)) => return Err(not_compared(&format!("dump {a} in this run"))),
        (Some(b), Some(a)) => {
            return Err(not_compared(&format!(
                "dump {b} in the baseline and {a} in this run"
            )));
        }
    }
    let (b, a) = (
        index_endpoints(&before.endpoints),
        index_endpoints(&after.endpoints),
    );
    let only_in = |these: &BTreeMap<EndpointKey<'_>, &Endpoint>,
                   other: &BTreeMap<EndpointKey<'_>, &Endpoint>| {
        these
            .iter()
            .filter(|(k, _)| !other.contains_key(*k))
            .map(|(_, e)| EndpointChange::of(target, e))
            .collect::<Vec<_>>()
    };
    Ok((only_in(&a, &b), only_in(&b, &a)))
}

/// A target's endpoints by identity, the first of duplicates.
fn index_endpoints(eps: &[Endpoint]) -> BTreeMap<EndpointKey<'_>, &Endpoint> {
    let mut m = BTreeMap::new();
    for e in eps {
        m.entry(endpoint_key(e)).or_insert(e);
    }
    m
}

/// Matrix rows by (source, target, protocol, port), the first of duplicates.
fn index_rows<'a>(
    rows: impl IntoIterator<Item = &'a MatrixRow>,
) -> BTreeMap<(IpAddr, IpAddr, Proto, u16), &'a MatrixRow> {
    let mut m = BTreeMap::new();
    for r in rows {
        m.entry((r.source, r.target, r.protocol, r.port))
            .or_insert(r);
    }
    m
}

/// The cells whose verdict changed from `old` to `new`, one per (source, target, port), sorted.
pub(super) fn verdict_changes<'a>(
    old: impl IntoIterator<Item = &'a MatrixRow>,
    new: impl IntoIterator<Item = &'a MatrixRow>,
) -> Vec<VerdictChange> {
    let (b, a) = (index_rows(old), index_rows(new));
    let keys: BTreeSet<(IpAddr, IpAddr, Proto, u16)> = b.keys().chain(a.keys()).copied().collect();
    keys.into_iter()
        .filter_map(|k @ (source, target, protocol, port)| {
            let (before, after) = (b.get(&k), a.get(&k));
            if before.map(|r| r.verdict) == after.map(|r| r.verdict) {
                return None;
            }
            Some(VerdictChange {
                source,
                target,
                port,
                protocol,
                before: before.map(|r| r.verdict),
                after: after.map(|r| r.verdict),
                before_observed: before.map(|r| r.observed),
                after_observed: after.map(|r| r.observed),
            })
        })
        .collect()
}

/// Identity of a finding: code, file, line, message.
pub(super) type FindingKey<'a> = (&'a str, Option<&'a str>, Option<usize>, &'a str);

/// A finding's identity.
pub(super) fn finding_key(f: &Finding) -> FindingKey<'_> {
    (f.code.as_str(), f.file.as_deref(), f.line, &f.message)
}

/// (new, resolved), each in its report's order, duplicates once.
fn finding_changes(old: &[Finding], new: &[Finding]) -> (Vec<Finding>, Vec<Finding>) {
    let only_in = |these: &[Finding], other: &[Finding]| {
        let other: BTreeSet<_> = other.iter().map(finding_key).collect();
        let mut seen = BTreeSet::new();
        these
            .iter()
            .filter(|f| !other.contains(&finding_key(f)) && seen.insert(finding_key(f)))
            .cloned()
            .collect::<Vec<_>>()
    };
    (only_in(new, old), only_in(old, new))
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::changes::{render_changes, side, verdict_runs};
    use super::*;
    use serde_json::{Value, json};
    use std::io::Write;

    pub(in crate::report) const T: &str = "198.18.0.10";
    const SRC: &str = "198.18.2.10";

    pub(in crate::report) fn ep(port: u16, iface: &str) -> Value {
        json!({
            "interface": iface,
            "version": "1.0",
            "name": null,
            "object": "00000000-0000-0000-0000-000000000000",
            "annotation": "",
            "protocol": "ncacn_ip_tcp",
            "address": T,
            "port": port,
            "binding": format!("ncacn_ip_tcp:{T}[{port}]"),
        })
    }

    pub(in crate::report) fn host(target: &str, status: &str, endpoints: Vec<Value>) -> Value {
        json!({
            "target": target,
            "address": null,
            "status": status,
            "error": null,
            "endpoints": endpoints,
            "summary": {"entries": 0, "tcp_endpoints": 0, "distinct_tcp_ports": 0},
        })
    }

    pub(in crate::report) fn row(
        port: u16,
        expected: &str,
        observed: &str,
        verdict: &str,
    ) -> Value {
        json!({
            "source": SRC, "target": T, "port": port, "expected": expected,
            "rule": null, "observed": observed, "verdict": verdict,
        })
    }

    pub(in crate::report) fn finding(code: &str, message: &str) -> Value {
        json!({"code": code, "severity": "error", "message": message, "fix": "fix it"})
    }

    fn report_json(hosts: Vec<Value>, matrix: Vec<Value>, findings: Vec<Value>) -> Value {
        json!({
            "schema_version": 1,
            "tool": {"name": "rpcaudit", "version": "0.1.0"},
            "generated_at": "2025-01-02T03:04:05Z",
            "complete": true,
            "inputs": {
                "targets": [T], "epm_port": 135, "policy_files": [], "range": [[5001, 5021]],
                "range_source": "--range", "vantage_points": [SRC], "observation_files": [],
                "default_action": "pass",
            },
            "hosts": hosts,
            "capacity": [],
            "matrix": matrix,
            "findings": findings,
            "summary": {
                "compliant": true, "hosts": 1, "incomplete_hosts": [],
                "findings": {"error": 0, "warning": 0, "info": 0},
                "verdicts": {"pass_as_expected": 0, "block_as_expected": 0, "leak": 0,
                             "overblock": 0, "inconclusive": 0},
            },
        })
    }

    pub(in crate::report) fn report(
        hosts: Vec<Value>,
        matrix: Vec<Value>,
        findings: Vec<Value>,
    ) -> AuditReport {
        serde_json::from_value(report_json(hosts, matrix, findings)).unwrap()
    }

    pub(in crate::report) const SAMR: &str = "12345778-1234-abcd-ef00-0123456789ac";
    pub(in crate::report) const LSA: &str = "12345778-1234-abcd-ef00-0123456789ab";

    fn write_temp(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    /// A report with only hosts, only matrix rows or only findings.
    fn hosts_only(hosts: Vec<Value>) -> AuditReport {
        report(hosts, vec![], vec![])
    }

    fn matrix_only(rows: Vec<Value>) -> AuditReport {
        report(vec![], rows, vec![])
    }

    fn findings_only(findings: Vec<Value>) -> AuditReport {
        report(vec![], vec![], findings)
    }

    #[test]
    fn endpoints_appear_and_disappear_with_their_ports() {
        let old = hosts_only(vec![host(
            T,
            "ok",
            vec![ep(135, LSA), ep(5001, SAMR), ep(5002, LSA)],
        )]);
        // SAMR moved from 5001 to 5003; a new LSA binding on 5004.
        let new = hosts_only(vec![host(
            T,
            "ok",
            vec![ep(135, LSA), ep(5003, SAMR), ep(5002, LSA), ep(5004, LSA)],
        )]);
        let c = diff(&old, &new, "old.json");
        let ports = |v: &[EndpointChange]| v.iter().map(|e| e.port).collect::<Vec<_>>();
        assert_eq!(ports(&c.endpoints_appeared), [Some(5003), Some(5004)]);
        assert_eq!(ports(&c.endpoints_disappeared), [Some(5001)]);
        assert_eq!(c.endpoints_disappeared[0].interface.to_string(), SAMR);
        assert_eq!(c.endpoints_disappeared[0].target, T);
        assert!(c.verdicts_changed.is_empty() && c.hosts_not_compared.is_empty());
        assert!(!c.is_empty());
        let text = render_changes(&c);
        assert!(text.starts_with("Changes since old.json (2025-01-02T03:04:05Z):\n"));
        assert!(text.contains(&format!("ncacn_ip_tcp:{T}[5003]")));
        assert_eq!(text.matches("appeared").count(), 3, "{text}"); // 2 rows + "disappeared"
        assert_eq!(text.matches("disappeared").count(), 1, "{text}");
    }

    #[test]
    fn hosts_not_dumped_completely_or_only_in_one_report_are_not_compared() {
        let old = hosts_only(vec![
            host(T, "ok", vec![ep(5001, SAMR)]),
            host("198.18.0.11", "ok", vec![ep(5001, SAMR)]),
        ]);
        let new = hosts_only(vec![
            host(T, "error", vec![]),
            host("198.18.0.12", "ok", vec![ep(5001, SAMR)]),
        ]);
        let c = diff(&old, &new, "old.json");
        assert!(c.endpoints_appeared.is_empty() && c.endpoints_disappeared.is_empty());
        let notes: Vec<String> = c
            .hosts_not_compared
            .iter()
            .map(|h| format!("{}: {}", h.target, h.reason))
            .collect();
        assert_eq!(
            notes,
            [
                "198.18.0.10: dump failed in this run",
                "198.18.0.11: not in this run",
                "198.18.0.12: not in the baseline",
            ]
        );
        assert!(c.is_empty());
        let text = render_changes(&c);
        assert!(text.starts_with("No changes since old.json"), "{text}");
        assert!(text.contains("Endpoints of 198.18.0.10 not compared: dump failed in this run."));
    }

    #[test]
    fn verdict_changes_per_cell_including_cells_probed_once() {
        let old = matrix_only(vec![
            row(135, "block", "filtered", "block-as-expected"),
            row(5001, "block", "filtered", "block-as-expected"),
            row(5002, "block", "filtered", "block-as-expected"),
        ]);
        let new = matrix_only(vec![
            row(135, "block", "filtered", "block-as-expected"),
            row(5001, "block", "open", "leak"),
            // 5002 no longer probed; 5003 probed for the first time.
            row(5003, "pass", "closed", "pass-as-expected"),
        ]);
        let c = diff(&old, &new, "old.json");
        let got: Vec<_> = c
            .verdicts_changed
            .iter()
            .map(|v| {
                (
                    v.port,
                    v.before,
                    v.after,
                    v.before_observed,
                    v.after_observed,
                )
            })
            .collect();
        use crate::audit::verify::Verdict::*;
        use crate::probe::ProbeState::*;
        assert_eq!(
            got,
            [
                (
                    5001,
                    Some(BlockAsExpected),
                    Some(Leak),
                    Some(Filtered),
                    Some(Open)
                ),
                (5002, Some(BlockAsExpected), None, Some(Filtered), None),
                (5003, None, Some(PassAsExpected), None, Some(Closed)),
            ]
        );
        assert!(
            c.verdicts_changed
                .iter()
                .all(|v| v.source.to_string() == SRC && v.target.to_string() == T)
        );
        let text = render_changes(&c);
        assert!(text.contains("not probed"), "{text}");
        // Same verdict, other observation: no change.
        let closed = matrix_only(vec![row(5001, "block", "closed", "leak")]);
        assert!(diff(&new, &closed, "x").verdicts_changed.len() == 2); // 135 and 5003 gone
        let only_5001 = matrix_only(vec![row(5001, "block", "open", "leak")]);
        assert!(diff(&only_5001, &closed, "x").is_empty());
    }

    #[test]
    fn runs_of_consecutive_ports_with_the_same_change_are_compressed() {
        let ports = [135u16, 5001, 5002, 5003, 5004, 5005, 5006, 5007];
        let old = matrix_only(
            ports
                .iter()
                .map(|&p| row(p, "block", "filtered", "block-as-expected"))
                .collect(),
        );
        let new = matrix_only(
            ports
                .iter()
                .map(|&p| match p {
                    5001 | 5002 => row(p, "block", "open", "leak"),
                    5003..=5005 | 5007 => row(p, "block", "closed", "leak"),
                    _ => row(p, "block", "filtered", "block-as-expected"),
                })
                .collect(),
        );
        let c = diff(&old, &new, "old.json");
        assert_eq!(c.verdicts_changed.len(), 6, "uncompressed in the JSON");
        let runs = verdict_runs(&c.verdicts_changed);
        let text: Vec<String> = runs
            .iter()
            .map(|r| {
                format!(
                    "{} {} -> {}",
                    r.ports,
                    side(r.before, &r.before_observed),
                    side(r.after, &r.after_observed)
                )
            })
            .collect();
        assert_eq!(
            text,
            [
                "5001-5005 block-as-expected (filtered) -> leak (open/closed)",
                "5007 block-as-expected (filtered) -> leak (closed)",
            ]
        );
        let table = render_changes(&c);
        assert!(table.contains("5001-5005"), "{table}");
        assert!(table.contains("leak (open/closed)"), "{table}");
        // Another source's changes are a run of their own, even on adjacent ports.
        let mut other = c.verdicts_changed[0].clone();
        other.source = "198.18.1.10".parse().unwrap();
        other.port = 5006;
        let mut all = c.verdicts_changed.clone();
        all.push(other);
        assert_eq!(verdict_runs(&all).len(), 3);
    }

    #[test]
    fn findings_new_and_resolved_by_code_file_line_and_message() {
        let leak_3 = "198.18.0.10: ports 5001-5003 reachable from 198.18.2.10";
        let leak_5 = "198.18.0.10: ports 5001-5005 reachable from 198.18.2.10";
        let mut lint = finding("pass-before-block", "PASS shadows BLOCK");
        lint["file"] = json!("policy.cmd");
        lint["line"] = json!(12);
        let mut lint_moved = lint.clone();
        lint_moved["line"] = json!(14);
        let old = findings_only(vec![
            finding("leak", leak_3),
            lint.clone(),
            finding("hang-hazard", "h"),
        ]);
        let mut hang_reworded_fix = finding("hang-hazard", "h");
        hang_reworded_fix["fix"] = json!("another fix");
        let new = findings_only(vec![
            finding("leak", leak_5),
            lint_moved,
            hang_reworded_fix,
            finding("leak", leak_5),
        ]);
        let c = diff(&old, &new, "old.json");
        let show = |v: &[Finding]| {
            v.iter()
                .map(|f| format!("{} {:?} {}", f.code, f.line, f.message))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            show(&c.findings_new),
            [
                format!("leak None {leak_5}"),
                "pass-before-block Some(14) PASS shadows BLOCK".to_string(),
            ]
        );
        assert_eq!(
            show(&c.findings_resolved),
            [
                format!("leak None {leak_3}"),
                "pass-before-block Some(12) PASS shadows BLOCK".to_string(),
            ]
        );
        let text = render_changes(&c);
        assert!(
            text.contains("policy.cmd:14") && text.contains("5001-5005"),
            "{text}"
        );
        assert!(text.contains("resolved"), "{text}");
    }

    #[test]
    fn an_unchanged_run_has_no_changes() {
        let r = report(
            vec![host(T, "ok", vec![ep(5001, SAMR)])],
            vec![row(5001, "block", "filtered", "block-as-expected")],
            vec![finding("leak", "x")],
        );
        let c = diff(&r, &r, "base.json");
        assert!(c.is_empty());
        assert_eq!(
            render_changes(&c),
            "No changes since base.json (2025-01-02T03:04:05Z).\n"
        );
        let mut incomplete = r.clone();
        incomplete.complete = false;
        let c = diff(&incomplete, &r, "base.json");
        assert!(!c.baseline.complete);
        assert!(render_changes(&c).contains("that run was incomplete"));
    }

    #[test]
    fn round_trip_through_a_file_gives_no_changes() {
        let r = report(
            vec![host(T, "ok", vec![ep(135, LSA), ep(5001, SAMR)])],
            vec![
                row(135, "block", "filtered", "block-as-expected"),
                row(5001, "block", "closed", "leak"),
            ],
            vec![finding("leak", "5001 leaks")],
        );
        let f = write_temp(&serde_json::to_string_pretty(&r).unwrap());
        let back = read_baseline(f.path()).unwrap();
        let c = diff(&back, &r, &f.path().display().to_string());
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(c.baseline.tool_version, "0.1.0");
        assert_eq!(c.baseline.schema_version, SCHEMA_VERSION);
        // Changes themselves round-trip through JSON, and have a schema.
        let c2: Changes = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(c, c2);
        let schema = serde_json::to_string(&schemars::schema_for!(Changes)).unwrap();
        assert!(schema.contains("verdicts_changed"));
    }

    #[test]
    fn a_newer_or_missing_schema_version_is_refused() {
        let mut v = report_json(vec![], vec![], vec![]);
        v["schema_version"] = json!(SCHEMA_VERSION + 1);
        v["tool"]["version"] = json!("9.0.0");
        v["hosts"] = json!("a shape this version does not know");
        let f = write_temp(&v.to_string());
        let e = read_baseline(f.path()).unwrap_err().to_string();
        let name = f.path().display().to_string();
        assert!(e.starts_with(&name), "{e}");
        assert!(
            e.contains("schema_version 2 (made by rpcaudit 9.0.0) is newer"),
            "{e}"
        );

        let mut v = report_json(vec![], vec![], vec![]);
        v.as_object_mut().unwrap().remove("schema_version");
        let e = read_baseline(write_temp(&v.to_string()).path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no schema_version"), "{e}");

        v["schema_version"] = json!("1");
        let e = read_baseline(write_temp(&v.to_string()).path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a whole number"), "{e}");

        v["schema_version"] = json!(0);
        let e = read_baseline(write_temp(&v.to_string()).path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema_version 0"), "{e}");
    }

    #[test]
    fn a_malformed_file_is_an_error_naming_the_file_and_place() {
        let f = write_temp("{\n  \"schema_version\": 1,\n  \"tool\": [,\n}");
        let e = read_baseline(f.path()).unwrap_err().to_string();
        let name = f.path().display().to_string();
        assert!(e.starts_with(&format!("{name}: not valid JSON")), "{e}");
        assert!(e.contains("line 3 column"), "{e}");

        // Valid JSON, wrong shape: the missing field and its place are named.
        let mut v = report_json(vec![], vec![], vec![]);
        v.as_object_mut().unwrap().remove("matrix");
        let f = write_temp(&serde_json::to_string_pretty(&v).unwrap());
        let e = read_baseline(f.path()).unwrap_err().to_string();
        assert!(e.contains("not an rpcaudit audit report"), "{e}");
        assert!(
            e.contains("missing field `matrix`") && e.contains("line"),
            "{e}"
        );

        let e = read_baseline(Path::new("/nonexistent/old.json"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/nonexistent/old.json: cannot open"), "{e}");

        let e = read_baseline(write_temp("[1, 2]").path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an rpcaudit audit report"), "{e}");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_and_a_bom_is_accepted() {
        let r = report(vec![], vec![], vec![]);
        let text = serde_json::to_string(&r).unwrap();
        let f = write_temp(&text);
        let e = read_baseline_capped(f.path(), 100).unwrap_err().to_string();
        assert!(e.contains("too large"), "{e}");
        assert!(read_baseline_capped(f.path(), text.len() as u64).is_ok());
        let bom = write_temp(&format!("\u{feff}{text}"));
        assert!(read_baseline(bom.path()).is_ok());
    }

    #[test]
    fn a_baseline_error_quotes_a_short_prefix_and_keeps_the_place() {
        // serde_json's message would quote the whole 10,000-character string.
        let long = "\\u001b]0;x\\u0007".repeat(1000);
        let path = write_temp(&format!(
            "{{\"schema_version\": 1, \"complete\": \"{long}\"}}"
        ));
        let e = read_baseline(path.path()).unwrap_err().to_string();
        assert!(
            e.contains("not an rpcaudit audit report: invalid type: string"),
            "{e}"
        );
        assert!(e.contains("… at line 1 column "), "{e}");
        assert!(e.len() < 400, "{e}");
    }
}
