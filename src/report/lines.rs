//! The JSON-lines contract of `rpcaudit audit --json-lines` (`schema/audit-lines.schema.json`):
//! one [`HostLine`] per host, written as soon as that host's pipeline ends (its dump, capacity,
//! matrix rows and findings), then one [`SummaryLine`] (`"record": "summary"`) with what the
//! document has besides the hosts, counted by [`super::audit::Tally`] (the document's count too)
//! while the hosts stream past;
//! with `--baseline`, each line carries its host's changes ([`super::diff_lines`]) and the
//! summary the rest; [`report_from_lines`] reads such a file back as an [`AuditReport`] (for
//! `--baseline` and `report render`), the changes put together.

use super::audit::{
    AuditReport, HostReport, Inputs, ReportContext, SCHEMA_VERSION, Summary, Tally, Tool,
};
use super::changes::{Changes, HostChanges};
use crate::audit::capacity::HostCapacity;
use crate::audit::run::HostResult;
use crate::audit::verify::MatrixRow;
use crate::finding::Finding;
use crate::jsonl::{HostMark, LinesError, SummaryMark};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// What changed on this host since the baseline (`--baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<HostChanges>,
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
    /// With `--baseline`: which report the run was compared with, and what changed beyond
    /// the hosts' lines (baseline targets no host matched, cells of addresses not probed,
    /// new policy findings, every finding resolved). Each host's changes are on its line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
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

/// A host's line, with what changed on it since the baseline when there is one (the caller
/// asks [`super::diff_lines::LinesDiff::host`], as it sets the summary line's changes).
pub fn host_line(h: HostResult, changes: Option<HostChanges>) -> HostLine {
    HostLine {
        record: HostMark::Host,
        complete: !h.incomplete,
        host: HostReport::with_pipes(h.dump, h.pipes).with_interfaces(h.interfaces),
        capacity: h.capacity,
        matrix: h.matrix,
        findings: h.findings,
        changes,
    }
}

impl Tally {
    /// The summary line. Targets that never got a line (an interrupted run) are incomplete.
    pub fn summary(
        self,
        ctx: ReportContext,
        policy_findings: Vec<Finding>,
        interrupted: bool,
    ) -> SummaryLine {
        let closed = self.close(ctx.inputs.targets.len(), &policy_findings, interrupted);
        SummaryLine {
            record: SummaryMark::Summary,
            schema_version: SCHEMA_VERSION,
            tool: Tool::rpcaudit(),
            generated_at: ctx.generated_at.clone(),
            complete: closed.complete,
            interrupted,
            inputs: ctx.inputs(closed.vantage_points),
            findings: policy_findings,
            summary: closed.summary,
            changes: None,
        }
    }
}

/// The report a JSON-lines output stands for: hosts in the order of their lines, the policy's
/// findings first, as in the document.
pub fn report_from_lines(text: &[u8]) -> Result<AuditReport, LinesError> {
    let mut hosts = Vec::new();
    let mut capacity = Vec::new();
    let mut matrix = Vec::new();
    let mut host_findings = Vec::new();
    let mut host_changes = Vec::new();
    let mut summary: Option<SummaryLine> = None;
    crate::jsonl::read::<AuditLine>(text, |l| match l {
        AuditLine::Host(h) => {
            let h = *h;
            if let Some(c) = h.changes {
                host_changes.push((h.host.dump.target.clone(), c));
            }
            hosts.push(h.host);
            capacity.push(h.capacity);
            matrix.extend(h.matrix);
            host_findings.extend(h.findings);
            false
        }
        AuditLine::Summary(s) => {
            summary = Some(*s);
            true
        }
    })?;
    let s = summary.ok_or(LinesError::NoSummary)?;
    let mut findings = s.findings;
    findings.extend(host_findings);
    // The run's changes are the summary's and every host's together.
    let changes = s.changes.map(|mut c| {
        c.absorb(host_changes);
        c
    });
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
        changes,
    })
}
