//! `rpcaudit report render REPORT.json --html FILE`, and the report files other commands write
//! beside their output (`audit --html/--sarif`, `demo --html`): the HTML page
//! ([`crate::report::html`]) and the SARIF log ([`crate::report::sarif`]), each written
//! through [`super::files`] (a new file beside it, then a rename), so a reader never sees half a
//! file and no planted name is written through.
//!
//! `report render` reads a saved `--json`/`--output` report (the document form, or JSON
//! lines) through the baseline reader, which refuses what is not a report and
//! names the file. Exit 0 when the page was written, 2 when the report cannot be read or the
//! page cannot be written.

use super::files::write_atomically;
use super::{Error, Exit};
use crate::finding::Finding;
use crate::report::audit::AuditReport;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Render a saved report (`audit --json` or `--output`) as a self-contained HTML page.
    Render(RenderArgs),
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The JSON report, as `rpcaudit audit --json` or `--output` wrote it.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Write the HTML page to FILE.
    #[arg(long, value_name = "FILE", required = true)]
    pub html: PathBuf,
}

pub fn run(cmd: ReportCommand) -> Result<Exit, Error> {
    match cmd {
        ReportCommand::Render(a) => {
            let report = crate::report::diff::read_baseline(&a.report)?;
            write_html(&a.html, &report)?;
            Ok(Exit::Ok)
        }
    }
}

/// Write the HTML page of `report` to `path`.
pub fn write_html(path: &Path, report: &AuditReport) -> Result<(), Error> {
    let page = crate::report::html::render(report);
    write_atomically(path, page.as_bytes()).map_err(|source| Error::WriteFile {
        path: path.display().to_string(),
        what: "HTML report",
        source,
    })
}

/// Write the SARIF log of `findings` to `path`, file URIs relative to the working directory.
pub fn write_sarif(path: &Path, findings: &[Finding]) -> Result<(), Error> {
    let text = sarif_text(findings)?;
    write_atomically(path, text.as_bytes()).map_err(|source| Error::WriteFile {
        path: path.display().to_string(),
        what: "SARIF log",
        source,
    })
}

/// The SARIF log of `findings` as pretty JSON with a final newline.
pub fn sarif_text(findings: &[Finding]) -> Result<String, Error> {
    let cwd = std::env::current_dir().map_err(Error::WorkingDirectory)?;
    let log = crate::report::sarif::log(findings, &cwd);
    let mut text = crate::inert::to_json_pretty(&log).map_err(Error::Json)?;
    text.push('\n');
    Ok(text)
}

/// `audit`'s and `demo`'s extra report files: the page (`--html`) and, for `audit`, the SARIF
/// log of its policy findings (`--sarif`).
pub fn write_extra(
    report: &AuditReport,
    html: Option<&Path>,
    sarif: Option<&Path>,
) -> Result<(), Error> {
    if let Some(path) = html {
        write_html(path, report)?;
    }
    if let Some(path) = sarif {
        write_sarif(
            path,
            &crate::report::sarif::policy_findings(&report.findings),
        )?;
    }
    Ok(())
}
