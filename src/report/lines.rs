//! The JSON-lines contract of `rpcaudit audit --json-lines` (`schema/audit-lines.schema.json`):
//! one [`HostLine`] per host, written as soon as that host's pipeline ends (its dump, capacity,
//! matrix rows and findings), then one [`SummaryLine`] (`"record": "summary"`) with what the
//! document has besides the hosts. [`Tally`] keeps the summary's counts while the hosts stream
//! past, in memory that does not grow with hosts (but for the names of incomplete hosts);
//! [`report_from_lines`] reads such a file back as an [`AuditReport`] for `--baseline`.

use super::audit::{
    AuditReport, HostReport, Inputs, ReportContext, SCHEMA_VERSION, SeverityCounts, Summary, Tool,
};
use super::dump::{HostMark, SummaryMark, summarize as summarize_dump};
use crate::audit::capacity::HostCapacity;
use crate::audit::run::HostResult;
use crate::audit::verify::{MatrixRow, MatrixSummary, summarize as summarize_matrix};
use crate::finding::{Finding, Severity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// One host of `audit --json-lines`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HostLine {
    /// Always `host`.
    pub record: HostMark,
    /// False when the host could not be fully examined.
    pub complete: bool,
    pub host: HostReport,
    pub capacity: HostCapacity,
    pub matrix: Vec<MatrixRow>,
    pub findings: Vec<Finding>,
}

/// The last line of `audit --json-lines`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SummaryLine {
    /// Always `summary`.
    pub record: SummaryMark,
    pub schema_version: u32,
    pub tool: Tool,
    pub generated_at: String,
    pub complete: bool,
    pub interrupted: bool,
    pub inputs: Inputs,
    /// Findings about the policy itself (its lints); each host's are on its line.
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

/// One line of `audit --json-lines`: the schema of `schema/audit-lines.schema.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AuditLine {
    Summary(Box<SummaryLine>),
    Host(Box<HostLine>),
}

/// The JSON Schema of one line of `audit --json-lines`.
pub fn lines_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(AuditLine)).unwrap_or_default()
}

/// A host's line.
pub fn host_line(h: HostResult) -> HostLine {
    HostLine {
        record: HostMark::Host,
        complete: !h.incomplete,
        host: HostReport {
            summary: summarize_dump(&h.dump),
            dump: h.dump,
        },
        capacity: h.capacity,
        matrix: h.matrix,
        findings: h.findings,
    }
}

/// The counts of the summary line, kept as hosts stream past.
#[derive(Debug, Default)]
pub struct Tally {
    hosts: usize,
    incomplete: Vec<String>,
    counts: SeverityCounts,
    verdicts: MatrixSummary,
    vantage_points: BTreeSet<IpAddr>,
}

fn count(counts: &mut SeverityCounts, findings: &[Finding]) {
    for f in findings {
        match f.severity {
            Severity::Error => counts.error += 1,
            Severity::Warning => counts.warning += 1,
            Severity::Info => counts.info += 1,
        }
    }
}

impl Tally {
    pub fn add(&mut self, h: &HostResult) {
        self.hosts += 1;
        if h.incomplete {
            self.incomplete.push(h.dump.target.clone());
        }
        count(&mut self.counts, &h.findings);
        let v = summarize_matrix(&h.matrix);
        self.verdicts.pass_as_expected += v.pass_as_expected;
        self.verdicts.block_as_expected += v.block_as_expected;
        self.verdicts.leak += v.leak;
        self.verdicts.overblock += v.overblock;
        self.verdicts.inconclusive += v.inconclusive;
        self.vantage_points
            .extend(h.observations.iter().map(|o| o.source));
    }

    /// Worst severity so far, the policy's own findings included.
    pub fn worst(&self, policy_findings: &[Finding]) -> Option<Severity> {
        let mut c = self.counts;
        count(&mut c, policy_findings);
        if c.error > 0 {
            Some(Severity::Error)
        } else if c.warning > 0 {
            Some(Severity::Warning)
        } else if c.info > 0 {
            Some(Severity::Info)
        } else {
            None
        }
    }

    /// The summary line. Targets that never got a line (an interrupted run) are incomplete.
    pub fn summary(
        mut self,
        ctx: ReportContext,
        policy_findings: Vec<Finding>,
        interrupted: bool,
    ) -> SummaryLine {
        let mut counts = self.counts;
        count(&mut counts, &policy_findings);
        if interrupted && self.hosts < ctx.targets.len() {
            let missing = ctx.targets.len() - self.hosts;
            self.incomplete
                .push(format!("({missing} targets not examined: interrupted)"));
        }
        let complete = self.incomplete.is_empty() && !interrupted;
        SummaryLine {
            record: SummaryMark::Summary,
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            generated_at: ctx.generated_at,
            complete,
            interrupted,
            inputs: Inputs {
                targets: ctx.targets,
                epm_port: ctx.epm_port,
                policy_files: ctx.policy_files,
                store_files: ctx.store_files,
                range: ctx.range,
                range_source: ctx.range_source,
                vantage_points: self.vantage_points.into_iter().collect(),
                observation_files: ctx.observation_files,
                default_action: ctx.default_action,
            },
            findings: policy_findings,
            summary: Summary {
                compliant: complete && counts.error == 0,
                hosts: self.hosts,
                incomplete_hosts: self.incomplete,
                findings: counts,
                verdicts: self.verdicts,
            },
        }
    }
}

/// Why a JSON-lines report could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum LinesError {
    #[error("line {line}: {source}")]
    Line {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("no summary line (`\"record\":\"summary\"`): the report was cut short")]
    NoSummary,
    #[error("line {line}: a line after the summary")]
    AfterSummary { line: usize },
}

/// Whether `text` looks like JSON lines: its first non-blank line is a whole JSON object with
/// a `record` key (a document's first line is `{` alone, or a whole report without `record`).
pub fn is_lines(text: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Marked {
        record: Option<serde_json::Value>,
    }
    text.split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .and_then(|l| serde_json::from_slice::<Marked>(l).ok())
        .is_some_and(|m| m.record.is_some())
}

/// The report a JSON-lines output stands for: hosts in the order of their lines, the policy's
/// findings first, as in the document.
pub fn report_from_lines(text: &[u8]) -> Result<AuditReport, LinesError> {
    let mut hosts = Vec::new();
    let mut capacity = Vec::new();
    let mut matrix = Vec::new();
    let mut host_findings = Vec::new();
    let mut summary: Option<SummaryLine> = None;
    for (k, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = k + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if summary.is_some() {
            return Err(LinesError::AfterSummary { line });
        }
        match serde_json::from_slice::<AuditLine>(raw)
            .map_err(|source| LinesError::Line { line, source })?
        {
            AuditLine::Host(h) => {
                let h = *h;
                hosts.push(h.host);
                capacity.push(h.capacity);
                matrix.extend(h.matrix);
                host_findings.extend(h.findings);
            }
            AuditLine::Summary(s) => summary = Some(*s),
        }
    }
    let s = summary.ok_or(LinesError::NoSummary)?;
    let mut findings = s.findings;
    findings.extend(host_findings);
    Ok(AuditReport {
        schema_version: s.schema_version,
        tool: s.tool,
        generated_at: s.generated_at,
        complete: s.complete,
        interrupted: s.interrupted,
        inputs: s.inputs,
        hosts,
        capacity,
        matrix,
        findings,
        summary: s.summary,
        remediation: None,
        changes: None,
    })
}
