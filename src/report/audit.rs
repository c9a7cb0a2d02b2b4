//! The audit report: the versioned JSON contract a compliance pipeline stores
//! (`schema/report.schema.json` is generated from these types) and the tables an administrator
//! reads: a summary, the matrix compressed into runs of ports, and the findings with their fixes.

use super::dump::{DumpSummary, summarize as summarize_dump};
use crate::audit::capacity::HostCapacity;
use crate::audit::run::{AuditResult, HostResult};
use crate::audit::verify::{MatrixRow, MatrixSummary, summarize as summarize_matrix};
use crate::epm::{HostDump, HostStatus};
use crate::finding::{Finding, Severity, SeverityCounts};
use crate::policy::{Action, SourceFile};
use crate::ports::PortRanges;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Bumped on a breaking change to the report; additions keep it.
pub use crate::jsonl::SCHEMA_VERSION;

/// The report `rpcaudit audit --json` prints.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AuditReport {
    pub schema_version: u32,
    pub tool: Tool,
    /// When the report was made, RFC 3339.
    pub generated_at: String,
    /// False when a target could not be fully examined or the run was interrupted.
    pub complete: bool,
    /// The run was cut short (Ctrl-C); what it gathered is reported. (Absent in reports of
    /// versions that could not be interrupted: false.)
    #[serde(default)]
    pub interrupted: bool,
    pub inputs: Inputs,
    pub hosts: Vec<HostReport>,
    pub capacity: Vec<HostCapacity>,
    pub matrix: Vec<MatrixRow>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Commands that fix the findings, in the administrator's dialect; absent when there is
    /// nothing to fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<crate::audit::remedy::Remediation>,
    /// What changed since the baseline report (`--baseline`), when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<super::changes::Changes>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

/// What the audit was asked to check.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Inputs {
    pub targets: Vec<String>,
    pub epm_port: u16,
    /// The intended policy's files, with their SHA-256.
    pub policy_files: Vec<SourceFile>,
    /// What the hosts hold (`--store`: store exports and listings), with their SHA-256;
    /// absent when none was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub store_files: Vec<SourceFile>,
    /// The configured RPC dynamic range.
    pub range: PortRanges,
    /// Where the range came from: a file and line, `--range`, or the OS default.
    pub range_source: String,
    /// Source addresses the probes came from (local and imported).
    pub vantage_points: Vec<IpAddr>,
    /// Observation files merged in (`--observations`).
    pub observation_files: Vec<String>,
    /// What ports no rule covers are expected to do.
    pub default_action: Action,
    /// Ports probed in place of well-known ones (the demo's fixture: its endpoint mapper on a
    /// free port for TCP 135, its RPC over HTTP for 593); the matrix rows and findings are
    /// about the well-known port, each row with the port probed. Absent for a real audit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stand_ins: Vec<crate::ports::StandIn>,
    /// The RPC filters meant to hold (`--rpc-filter`), with their SHA-256; absent when none
    /// was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rpc_filter_files: Vec<crate::policy::FileDigest>,
    /// Interface probe documents merged in (`--interface-observations`); absent when none was
    /// given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interface_observation_files: Vec<String>,
}

/// One host's dump and its counts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HostReport {
    #[serde(flatten)]
    pub dump: HostDump,
    pub summary: DumpSummary,
    /// The interface probes (`audit --interfaces`): each interface the host registers on
    /// TCP, from each local source, anonymously and authenticated; absent without the flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interfaces: Option<crate::epm::reach::InterfaceProbes>,
    /// Which named pipes opened over SMB from each local source that found 445 or 139 open:
    /// one entry per source, port and session (the null session, then the run's credentials
    /// when given). Absent when none was tried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipe_opens: Vec<crate::epm::pipe::PipeAccess>,
}

/// The verdict in one place.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Complete and without findings of severity error.
    pub compliant: bool,
    pub hosts: usize,
    /// Targets that could not be fully examined.
    pub incomplete_hosts: Vec<String>,
    pub findings: SeverityCounts,
    pub verdicts: MatrixSummary,
}

/// Everything the report needs besides the result: what the run was asked to check (its
/// `vantage_points` are filled in from the observations at the end) and when it ran.
#[derive(Debug, Clone)]
pub struct ReportContext {
    pub inputs: Inputs,
    pub generated_at: String,
}

impl ReportContext {
    /// The report's `inputs`: what the run was asked to check, and the sources its probes
    /// came from.
    pub fn inputs(self, vantage_points: Vec<IpAddr>) -> Inputs {
        Inputs {
            vantage_points,
            ..self.inputs
        }
    }
}

impl Tool {
    /// This program, as it names itself in a report.
    pub fn rpcaudit() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

impl AuditReport {
    /// Attach the fix script for this report's findings, in `dialect`. The range to apply is
    /// the largest any host's capacity recommends.
    pub fn attach_remediation(
        &mut self,
        dialect: crate::audit::remedy::FixDialect,
        policy: &crate::policy::LoadedPolicy,
    ) {
        let recommendation = self
            .capacity
            .iter()
            .filter_map(|c| c.recommendation.as_ref())
            .filter(|r| r.change)
            .max_by_key(|r| r.size);
        let r = crate::audit::remedy::remediate(
            dialect,
            policy,
            &self.matrix,
            &self.findings,
            &self.inputs.range,
            recommendation,
        );
        self.remediation = (!r.is_empty()).then_some(r);
    }

    pub fn new(ctx: ReportContext, result: AuditResult) -> Self {
        let mut tally = Tally::default();
        for h in &result.hosts {
            tally.add(h);
        }
        let closed = tally.close(result.hosts.len(), &result.run_findings, result.interrupted);
        let mut hosts = Vec::with_capacity(result.hosts.len());
        let mut capacity = Vec::with_capacity(result.hosts.len());
        let mut matrix = Vec::new();
        let mut findings = result.run_findings;
        for h in result.hosts {
            hosts.push(HostReport::with_pipes(h.dump, h.pipes).with_interfaces(h.interfaces));
            capacity.push(h.capacity);
            matrix.extend(h.matrix);
            findings.extend(h.findings);
        }
        AuditReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::rpcaudit(),
            generated_at: ctx.generated_at.clone(),
            complete: closed.complete,
            interrupted: result.interrupted,
            inputs: ctx.inputs(closed.vantage_points),
            hosts,
            capacity,
            summary: closed.summary,
            matrix,
            findings,
            remediation: None,
            changes: None,
        }
    }
}

impl HostReport {
    /// A host's dump with its summary.
    pub fn new(dump: HostDump) -> Self {
        HostReport {
            summary: summarize_dump(&dump),
            dump,
            interfaces: None,
            pipe_opens: Vec::new(),
        }
    }

    /// A host's dump with its summary and the named pipes opened on it.
    pub fn with_pipes(dump: HostDump, pipe_opens: Vec<crate::epm::pipe::PipeAccess>) -> Self {
        HostReport {
            pipe_opens,
            ..HostReport::new(dump)
        }
    }

    /// The host's interface probes beside its dump (`audit --interfaces`).
    pub fn with_interfaces(self, interfaces: Option<crate::epm::reach::InterfaceProbes>) -> Self {
        HostReport { interfaces, ..self }
    }
}

/// The summary's counts over hosts as they come, in memory that does not grow with hosts (but
/// for the names of incomplete hosts): the one place the document and the JSON lines' summary
/// line count hosts, incomplete hosts, findings, verdicts and vantage points.
#[derive(Debug, Default)]
pub struct Tally {
    hosts: usize,
    incomplete: Vec<String>,
    counts: SeverityCounts,
    verdicts: MatrixSummary,
    vantage_points: BTreeSet<IpAddr>,
}

/// What [`Tally::close`] gives: the summary, whether the run is complete, and the vantage
/// points, ascending.
#[derive(Debug)]
pub struct Closed {
    pub complete: bool,
    pub summary: Summary,
    pub vantage_points: Vec<IpAddr>,
}

impl Tally {
    pub fn add(&mut self, h: &HostResult) {
        self.hosts += 1;
        if h.incomplete {
            self.incomplete.push(h.dump.target.clone());
        }
        self.counts.add(&h.findings);
        self.verdicts.add(summarize_matrix(&h.matrix));
        self.vantage_points
            .extend(h.observations.iter().map(|o| o.source));
    }

    /// Worst severity so far, the run's own findings included.
    pub fn worst(&self, run_findings: &[Finding]) -> Option<Severity> {
        let mut c = self.counts;
        c.add(run_findings);
        c.worst()
    }

    /// The summary of the hosts added, the run's own findings counted too. Of `targets`
    /// targets, those that were never added (an interrupted run) are incomplete.
    pub fn close(mut self, targets: usize, run_findings: &[Finding], interrupted: bool) -> Closed {
        let mut counts = self.counts;
        counts.add(run_findings);
        if interrupted && self.hosts < targets {
            let missing = targets - self.hosts;
            self.incomplete
                .push(format!("({missing} targets not examined: interrupted)"));
        }
        let complete = self.incomplete.is_empty() && !interrupted;
        Closed {
            complete,
            summary: Summary {
                compliant: complete && counts.error == 0,
                hosts: self.hosts,
                incomplete_hosts: self.incomplete,
                findings: counts,
                verdicts: self.verdicts,
            },
            vantage_points: self.vantage_points.into_iter().collect(),
        }
    }
}

/// Consecutive ports of one (source, target) with the same expectation, observation and
/// verdict, as "5001-5021".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRun {
    pub source: IpAddr,
    pub target: IpAddr,
    pub protocol: crate::ports::Proto,
    pub ports: PortRanges,
    pub expected: Action,
    /// What the configured store decides (`--store`), when one was given.
    pub configured: Option<Action>,
    pub observed: String,
    pub verdict: String,
}

/// Compress the matrix into runs of ports (input order of (source, target, protocol) kept;
/// ports sorted).
pub fn compress(matrix: &[MatrixRow]) -> Vec<MatrixRun> {
    let mut pairs: Vec<(IpAddr, IpAddr, crate::ports::Proto)> = Vec::new();
    for r in matrix {
        if !pairs.contains(&(r.source, r.target, r.protocol)) {
            pairs.push((r.source, r.target, r.protocol));
        }
    }
    let mut out = Vec::new();
    for (s, t, proto) in pairs {
        let mut rows: Vec<&MatrixRow> = matrix
            .iter()
            .filter(|r| r.source == s && r.target == t && r.protocol == proto)
            .collect();
        rows.sort_by_key(|r| r.port);
        let mut current: Option<(u16, u16, &MatrixRow)> = None;
        for r in rows {
            match current {
                Some((a, b, c))
                    if u32::from(r.port) == u32::from(b) + 1
                        && c.expected == r.expected
                        && configured_action(c) == configured_action(r)
                        && c.observed == r.observed
                        && c.verdict == r.verdict =>
                {
                    current = Some((a, r.port, c));
                }
                _ => {
                    if let Some((a, b, c)) = current {
                        out.push(run_of(a, b, c));
                    }
                    current = Some((r.port, r.port, r));
                }
            }
        }
        if let Some((a, b, c)) = current {
            out.push(run_of(a, b, c));
        }
    }
    out
}

fn configured_action(r: &MatrixRow) -> Option<Action> {
    r.configured.as_ref().map(|c| c.action)
}

fn run_of(a: u16, b: u16, r: &MatrixRow) -> MatrixRun {
    MatrixRun {
        source: r.source,
        target: r.target,
        protocol: r.protocol,
        ports: PortRanges::from_ranges([(a, b)]),
        expected: r.expected,
        configured: configured_action(r),
        observed: r.observed.as_str().to_string(),
        verdict: r.verdict.as_str().to_string(),
    }
}

/// "TCP 40123 for TCP 135, TCP 40124 for TCP 593": the inputs' stand-ins, as the table and
/// the HTML page say them.
pub fn stand_ins_text(stand_ins: &[crate::ports::StandIn]) -> String {
    stand_ins
        .iter()
        .map(|s| {
            let proto = s.protocol.upper();
            format!("{proto} {} for {proto} {}", s.port, s.stands_for)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// " named pipes from S (anonymous): opened epmapper, lsarpc; did not open spoolss
/// (0xc0000034)", or why no session was set up: one session's pipe opens, as the table and the
/// HTML page say them (the names and statuses go through `inert` there).
pub fn pipe_access_text(a: &crate::epm::pipe::PipeAccess) -> String {
    let mut parts = Vec::new();
    if !a.opened.is_empty() {
        parts.push(format!("opened {}", a.opened.join(", ")));
    }
    if !a.refused.is_empty() {
        let refused: Vec<String> = a
            .refused
            .iter()
            .map(|(name, why)| format!("{name} ({why})"))
            .collect();
        parts.push(format!("did not open {}", refused.join(", ")));
    }
    if let Some(e) = &a.error {
        parts.push(format!("error: {e}"));
    }
    format!(
        " named pipes from {} ({}): {}",
        a.source,
        a.logon(),
        parts.join("; ")
    )
}

/// The human-readable audit: summary, matrix runs, findings with fixes, verdict line.
pub fn render(report: &AuditReport) -> String {
    render_styled(report, false)
}

/// [`render`], with the verdict line and the severities coloured when `color` is set (the CLI
/// sets it on a terminal unless `NO_COLOR` is set). Strings from the network or a file go
/// through [`inert`](crate::inert), so the only escape sequences are these colours.
pub fn render_styled(report: &AuditReport, color: bool) -> String {
    use crate::inert::{cell, field};
    let paint = |code: &str, text: &str| -> String {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    if let Some(c) = &report.changes {
        out.push_str(&super::changes::render_changes(c));
        out.push('\n');
    }
    let mut t = crate::report::table::new_table();
    t.set_header([
        "host",
        "status",
        "entries",
        "TCP endpoints",
        "dynamic ports",
        "range use",
    ]);
    for (h, c) in report.hosts.iter().zip(&report.capacity) {
        let status = match h.dump.status {
            HostStatus::Ok => "ok",
            HostStatus::Partial => "partial",
            HostStatus::Error => "not dumped",
        };
        let used = match (h.dump.status, c.utilisation) {
            (HostStatus::Error, _) | (_, None) => "-".to_string(),
            (_, Some(u)) => format!(
                "{}/{} ({:.0} %), {} outside",
                c.in_range,
                c.range_size,
                u * 100.0,
                c.out_of_range
            ),
        };
        t.add_row([
            cell(&h.dump.target).into_owned(),
            status.to_string(),
            h.summary.entries.to_string(),
            h.summary.tcp_endpoints.to_string(),
            c.in_use.to_string(),
            used,
        ]);
    }
    if !report.inputs.store_files.is_empty() {
        let files: Vec<_> = report
            .inputs
            .store_files
            .iter()
            .map(|f| field(&f.path))
            .collect();
        out.push_str(&format!("Configured (--store): {}\n", files.join(", ")));
    }
    if !report.inputs.rpc_filter_files.is_empty() {
        let files: Vec<_> = report
            .inputs
            .rpc_filter_files
            .iter()
            .map(|f| field(&f.path))
            .collect();
        out.push_str(&format!(
            "RPC filters (--rpc-filter): {}\n",
            files.join(", ")
        ));
    }
    out.push_str(&format!(
        "Range {} ({} ports, from {}); policy files: {}\n",
        report.inputs.range,
        report.inputs.range.size(),
        field(&report.inputs.range_source),
        if report.inputs.policy_files.is_empty() {
            "none".to_string()
        } else {
            report
                .inputs
                .policy_files
                .iter()
                .map(|f| field(&f.path))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    if !report.inputs.stand_ins.is_empty() {
        out.push_str(&format!(
            "Stand-ins (probed in place of the well-known ports, which the policy, the matrix and the findings are about): {}\n",
            stand_ins_text(&report.inputs.stand_ins)
        ));
    }
    out.push_str(&format!("{t}\n"));
    for h in &report.hosts {
        for a in &h.pipe_opens {
            out.push_str(&format!(
                "{} TCP {}:{}\n",
                field(&h.dump.target),
                a.port,
                crate::inert::prose(&pipe_access_text(a))
            ));
        }
    }

    if !report.matrix.is_empty() {
        // The configured column only when a store was given (`--store`).
        let store = report.matrix.iter().any(|r| r.configured.is_some());
        let mut m = crate::report::table::new_table();
        let mut header = vec!["source", "target", "ports", "expected"];
        if store {
            header.push("configured");
        }
        header.extend(["observed", "verdict"]);
        m.set_header(header);
        for r in compress(&report.matrix) {
            let mut row = vec![
                r.source.to_string(),
                r.target.to_string(),
                format!("{}{}", r.ports, crate::audit::verify::udp_mark(r.protocol)),
                r.expected.to_string(),
            ];
            if store {
                row.push(
                    r.configured
                        .map_or_else(|| "-".to_string(), |a| a.to_string()),
                );
            }
            row.extend([r.observed, r.verdict]);
            m.add_row(row);
        }
        out.push_str(&format!("{m}\n"));
    }

    if report.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        out.push_str("Findings:\n");
        let mut sorted: Vec<&Finding> = report.findings.iter().collect();
        sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in sorted {
            let text = super::finding_text(f);
            let sev = f.severity.to_string();
            let code = match f.severity {
                Severity::Error => "31",
                Severity::Warning => "33",
                Severity::Info => "36",
            };
            out.push_str(&text.replacen(&sev, &paint(code, &sev), 1));
        }
    }
    for c in &report.capacity {
        if let Some(rec) = c.recommendation.as_ref().filter(|r| r.change) {
            out.push_str(&format!("Host {}\n", field(&c.target)));
            out.push_str(&super::capacity::recommendation_text(rec));
        }
    }
    if let Some(r) = &report.remediation {
        out.push_str(&format!(
            "Fix script ({}; review before running it):\n",
            r.dialect
        ));
        // Escaped, not cut: a fix script line is shown whole (the exact script is in the JSON).
        for line in r.script.lines() {
            out.push_str(&format!("  {}\n", field(line.trim_end_matches('\r'))));
        }
        for n in &r.notes {
            out.push_str(&format!("  note: {}\n", field(n)));
        }
    }
    let s = &report.summary;
    let verdict = if s.compliant {
        paint("1;32", "COMPLIANT")
    } else if report.interrupted {
        paint("1;33", "INTERRUPTED (partial report)")
    } else if !report.complete {
        paint("1;33", "INCOMPLETE")
    } else {
        paint("1;31", "NOT COMPLIANT")
    };
    out.push_str(&format!(
        "{verdict}: {} host(s), {} error(s), {} warning(s); matrix: {} pass-as-expected, {} block-as-expected, {} leak, {} overblock, {} inconclusive{}\n",
        s.hosts,
        s.findings.error,
        s.findings.warning,
        s.verdicts.pass_as_expected,
        s.verdicts.block_as_expected,
        s.verdicts.leak,
        s.verdicts.overblock,
        s.verdicts.inconclusive,
        if s.incomplete_hosts.is_empty() {
            String::new()
        } else {
            let hosts: Vec<_> = s.incomplete_hosts.iter().map(|h| field(h)).collect();
            format!("; not fully examined: {}", hosts.join(", "))
        }
    ));
    out
}

/// The JSON Schema of [`AuditReport`], as `schema/report.schema.json` holds it.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(AuditReport)).unwrap_or_default()
}

/// Small builders for tests of code that renders reports.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// The context of a run against `targets` with the article's range (said to come from
    /// `range_source`), port 135, no policy or observation files, and `--default pass`.
    pub fn context(targets: &str, range_source: &str, generated_at: &str) -> ReportContext {
        ReportContext {
            inputs: Inputs {
                targets: vec![targets.into()],
                epm_port: 135,
                policy_files: vec![],
                store_files: vec![],
                range: PortRanges::from_ranges([(5001, 5021)]),
                range_source: range_source.into(),
                vantage_points: vec![],
                observation_files: vec![],
                default_action: Action::Pass,
                stand_ins: Vec::new(),
                rpc_filter_files: Vec::new(),
                interface_observation_files: Vec::new(),
            },
            generated_at: generated_at.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::verify::{Expected, Verdict, build_matrix};
    use crate::probe::{Observation, ProbeState};

    fn obs(port: u16, state: ProbeState) -> Observation {
        let ip = |s: &str| s.parse().unwrap();
        Observation {
            attempts: 2,
            ..Observation::new(ip("198.18.2.10"), ip("198.18.0.10"), port, state)
        }
    }

    fn demo_like_report(matrix: Vec<MatrixRow>) -> AuditReport {
        let findings = crate::audit::verify::matrix_findings(
            &matrix,
            &PortRanges::from_ranges([(5001, 5021)]),
            135,
        );
        let target = "198.18.0.10";
        let dump = crate::epm::testing::dump(target, None, Vec::new());
        let host = crate::audit::run::HostResult {
            pipes: Vec::new(),
            interfaces: None,
            capacity: crate::audit::capacity::assess(
                &dump,
                &PortRanges::from_ranges([(5001, 5021)]),
                &[],
            ),
            dump,
            ip: target.parse().ok(),
            observations: Vec::new(),
            matrix,
            findings,
            incomplete: false,
        };
        let result = AuditResult {
            hosts: vec![host],
            ..AuditResult::default()
        };
        let ctx = testing::context(target, "--range", "2026-11-29T00:00:00Z");
        AuditReport::new(ctx, result)
    }

    #[test]
    fn pipe_opens_are_in_the_json_the_table_and_the_page() {
        let mut report = demo_like_report(Vec::new());
        let ip = "198.18.2.10".parse().unwrap();
        report.hosts[0].pipe_opens = vec![
            crate::epm::pipe::PipeAccess {
                source: ip,
                port: 445,
                user: None,
                opened: vec!["epmapper".into(), "lsarpc".into()],
                refused: vec![("spoolss".into(), "0xc0000034".into())],
                error: None,
            },
            crate::epm::pipe::PipeAccess {
                source: ip,
                port: 445,
                user: Some("LAB\\audit".into()),
                opened: vec!["epmapper".into(), "lsarpc".into(), "srvsvc\x1b[31m".into()],
                refused: vec![],
                error: Some("smb close x: no clean answer".into()),
            },
        ];
        let json = serde_json::to_value(&report).unwrap();
        let opens = &json["hosts"][0]["pipe_opens"];
        assert_eq!(
            opens[0]["refused"][0],
            serde_json::json!(["spoolss", "0xc0000034"])
        );
        assert!(opens[0].get("user").is_none());
        assert_eq!(opens[1]["user"], "LAB\\audit");
        let back: AuditReport = serde_json::from_value(json).unwrap();
        assert_eq!(back.hosts[0].pipe_opens, report.hosts[0].pipe_opens);
        let text = render(&report);
        assert!(
            text.contains("198.18.0.10 TCP 445: named pipes from 198.18.2.10 (anonymous): opened epmapper, lsarpc; did not open spoolss (0xc0000034)\n"),
            "{text}"
        );
        assert!(
            text.contains("198.18.0.10 TCP 445: named pipes from 198.18.2.10 (as LAB\\audit): opened epmapper, lsarpc, srvsvc\\x1b[31m; error: smb close x: no clean answer\n")
                && !text.contains('\x1b'),
            "{text}"
        );
        let page = crate::report::html::render(&report);
        assert!(page.contains("Named pipes opened over SMB") && page.contains("as LAB\\audit"));
    }

    #[test]
    fn compress_makes_runs_of_equal_verdicts() {
        let mut o: Vec<Observation> = (5001..=5021)
            .map(|p| obs(p, ProbeState::Filtered))
            .collect();
        o.push(obs(135, ProbeState::Filtered));
        o[6].state = ProbeState::Closed; // 5007 leaks
        let m = build_matrix(&o, Action::Pass, |_, _, _| {
            Expected::new(Action::Block, None)
        });
        let runs = compress(&m);
        // Colour is opt-in: plain text has no escape sequences.
        let report = demo_like_report(m.clone());
        assert!(!render(&report).contains('\x1b'));
        let styled = render_styled(&report, true);
        assert!(
            styled.contains("\x1b[1;31mNOT COMPLIANT\x1b[0m"),
            "{styled}"
        );
        let text: Vec<String> = runs
            .iter()
            .map(|r| format!("{} {}", r.ports, r.verdict))
            .collect();
        assert_eq!(
            text,
            [
                "135 block-as-expected",
                "5001-5006 block-as-expected",
                "5007 leak",
                "5008-5021 block-as-expected"
            ]
        );
        assert_eq!(m.iter().filter(|r| r.verdict == Verdict::Leak).count(), 1);
    }
}
