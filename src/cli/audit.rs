//! `rpcaudit audit`: the whole check. Dump the endpoint mappers, count their endpoints against
//! the range, probe from the local vantage points, merge probe results made elsewhere, compare
//! everything with the intended policy (and with what the hosts hold, `--store`), and print the
//! report (table, or JSON with `--json`).
//!
//! Exit codes: 3 when a target could not be fully examined (that answer must not pass for a
//! complete one), else 1 when a finding has severity error, else 0; 2 for bad input.

use super::dump::EpmArgs;
use super::progress::Progress;
use super::values::{DefaultAction, Dialect, Os};
use super::{Error, Exit};
use crate::audit::run::{AuditProgress, AuditRequest, interrupted, run as run_audit, run_each};
use crate::inert;
use crate::pipeline::Order;
use crate::policy::LoadOptions;
use crate::ports::PortRanges;
use crate::report::audit::Tally;
use crate::report::audit::{AuditReport, Inputs, ReportContext, render_styled};
use crate::report::diff_lines::LinesDiff;
use crate::report::lines::host_line;
use crate::target::Target;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub targets: super::targets::TargetArgs,
    /// The intended policy: ipseccmd/ipsecpol or netsh scripts, firewall rules, rpccfg lines,
    /// .reg exports. Repeatable.
    #[arg(long = "policy", value_name = "FILE", required = true)]
    pub policy: Vec<PathBuf>,
    /// What the hosts hold: firewall or IPsec store exports (.reg, .wfw), a GPO's
    /// Registry.pol, netsh or Get-NetFirewallRule listings, read together as `policy diff --store` reads
    /// them. The matrix shows what they decide beside what the policy intends; where the two
    /// disagree, and where an observation contradicts the store, are findings. Repeatable.
    #[arg(long = "store", value_name = "FILE")]
    pub stores: Vec<PathBuf>,
    /// The configured RPC dynamic range, instead of what the policy files say (rpccfg/.reg).
    #[arg(long, value_name = "R")]
    pub range: Option<PortRanges>,
    /// Which ephemeral range the range is checked against, and the default range when nothing
    /// configures one.
    #[arg(long, value_enum, default_value_t = Os::Vista)]
    pub os: Os,
    /// A port a service was given on purpose (not from the dynamic range). Repeatable.
    #[arg(long = "static-port", value_name = "P", value_parser = clap::value_parser!(u16).range(1..))]
    pub static_ports: Vec<u16>,
    /// Probe results made at other vantage points (`rpcaudit probe --json` output). Repeatable.
    #[arg(long = "observations", value_name = "FILE")]
    pub observations: Vec<PathBuf>,
    /// Interface probes made at other vantage points (`rpcaudit interfaces --json` output),
    /// judged like the local `--interfaces` probes, each from its own source. Repeatable.
    #[arg(long = "interface-observations", value_name = "FILE")]
    pub interface_observations: Vec<PathBuf>,
    /// Do not probe from here; judge only the --observations files.
    #[arg(long)]
    pub no_probe: bool,
    /// More ports to probe beyond the endpoint mapper, the range and the discovered ports.
    #[arg(long, value_name = "SPEC")]
    pub ports: Option<PortRanges>,
    /// What a port no policy rule covers is expected to do.
    #[arg(long = "default", value_enum, default_value_t = DefaultAction::Pass)]
    pub default_action: DefaultAction,
    #[command(flatten)]
    pub probe: super::probe::ProbeFlags,
    /// Also probe each interface a host registers on TCP from each local source (`--from`),
    /// anonymously and with the dump's credentials, as `rpcaudit interfaces` does: a coercion
    /// or credentials interface callable anonymously or from a source the policy blocks is
    /// an `interface-exposed` finding.
    #[arg(long, conflicts_with = "no_probe")]
    pub interfaces: bool,
    /// With --interfaces: RPC filters meant to hold (`netsh rpc filter` commands or `show
    /// filter` output, repeatable): a probe callable where they block is
    /// `rpc-filter-not-in-force`, refused where a permit filter decides
    /// `rpc-filter-permit-refused`.
    #[arg(long = "rpc-filter", value_name = "FILE")]
    pub rpc_filter: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub reach: super::interfaces::ReachFlags,
    #[command(flatten)]
    pub epm: EpmArgs,
    /// Print the JSON report instead of tables (a document: it holds every host until the end;
    /// for many hosts use --json-lines).
    #[arg(long, conflicts_with = "json_lines")]
    pub json: bool,
    /// Print one JSON object per host as soon as it is done (its dump, capacity, matrix rows
    /// and findings), then one summary object ({"record":"summary",...}); memory stays flat
    /// however many hosts there are. With --output, FILE gets the same lines; with
    /// --baseline, each host's line carries its changes and the summary the rest. The fix
    /// script is in the document form only.
    #[arg(long, conflicts_with = "fix_dialect")]
    pub json_lines: bool,
    /// Write the fix script in this dialect (default: the policy files' own).
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub fix_dialect: Option<Dialect>,
    /// An earlier report (`--json`, `--json-lines` or `--output`) to compare with: endpoints
    /// that appeared or disappeared, verdicts and findings that changed are listed first.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,
    /// Also write the JSON report to FILE (atomically: a temporary file, then a rename). An
    /// interrupted run (Ctrl-C) still writes what it gathered, marked incomplete.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the policy findings as SARIF 2.1.0 to FILE (for code-scanning uploads).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// Everything `run` needs, checked before any packet is sent.
pub struct Prepared {
    pub req: AuditRequest,
    pub loaded: crate::policy::LoadedPolicy,
    pub ctx: ReportContext,
    /// `--baseline`: its path as given and the report it holds.
    pub baseline: Option<(String, AuditReport)>,
}

/// Read and check every input: the policy, the observation files, the baseline, the targets.
pub fn prepare(args: &AuditArgs) -> Result<Prepared, Error> {
    let baseline = match &args.baseline {
        Some(path) => Some((
            path.display().to_string(),
            crate::report::diff::read_baseline(path)?,
        )),
        None => None,
    };
    let opts = LoadOptions {
        range_override: args.range.clone(),
        os: args.os.into(),
        local_subnets: Vec::new(),
    };
    let loaded = crate::policy::load(&args.policy, &opts)?;
    let store = if args.stores.is_empty() {
        None
    } else {
        Some(crate::policy::diff::beside(
            crate::policy::load(&args.stores, &opts)?,
            &loaded,
        ))
    };
    let (range, range_source) = (loaded.effective_range(), loaded.range_source());
    let mut imported = Vec::new();
    for path in &args.observations {
        imported.extend(crate::probe::read_observations(path)?);
    }
    if !args.rpc_filter.is_empty() && !args.interfaces && args.interface_observations.is_empty() {
        return Err(Error::Clap(clap::Error::raw(
            clap::error::ErrorKind::MissingRequiredArgument,
            "--rpc-filter needs interface probes: --interfaces or --interface-observations FILE\n",
        )));
    }
    let targets = args.targets.expand()?;
    let mut imported_interfaces = Vec::new();
    for path in &args.interface_observations {
        let hosts = read_interface_observations(path)?;
        // Every host of the document is one of the audit's targets (by address; a target
        // given by name matches any, its address being known only once resolved).
        let named = targets.iter().any(|t| matches!(t, Target::Name(_)));
        if let Some(h) = hosts
            .iter()
            .find(|h| !named && !targets.contains(&Target::Addr(h.target)))
        {
            return Err(Error::InterfaceObservations {
                file: path.display().to_string(),
                cause: format!("host {} is not one of the audit's targets", h.target),
            });
        }
        imported_interfaces.extend(hosts);
    }
    let probe_config = args.probe.config(super::fd_budget().probes);
    let dump = args.epm.options()?;
    let roads = crate::audit::roads::at(dump.roads.http_port, dump.roads.udp_port);
    let (rpc_filters, rpc_filter_files) = if args.rpc_filter.is_empty() {
        (None, Vec::new())
    } else {
        let loaded = crate::policy::load_rpc_filters(&args.rpc_filter)?;
        (Some(loaded.filters), loaded.files)
    };
    let req = AuditRequest {
        targets: targets.clone(),
        epm_port: args.epm.port,
        dump: dump.clone(),
        concurrency: args.epm.hosts_in_flight(),
        range: range.clone(),
        static_ports: args.static_ports.clone(),
        sources: args.probe.from.clone(),
        probe: !args.no_probe,
        probe_config,
        extra_ports: args.ports.clone(),
        roads,
        imported,
        default_action: args.default_action.into(),
        stand_ins: Vec::new(),
        store,
        interfaces: args
            .interfaces
            .then(|| args.reach.options(dump.clone(), args.probe.from.clone())),
        rpc_filters,
        imported_interfaces,
    };
    let ctx = ReportContext {
        inputs: Inputs {
            targets: targets.iter().map(|t| t.to_string()).collect(),
            epm_port: args.epm.port,
            policy_files: loaded.files.clone(),
            store_files: req
                .store
                .as_ref()
                .map(|s| s.files.clone())
                .unwrap_or_default(),
            range,
            range_source,
            vantage_points: Vec::new(),
            observation_files: args
                .observations
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            default_action: args.default_action.into(),
            stand_ins: Vec::new(),
            rpc_filter_files,
            interface_observation_files: args
                .interface_observations
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        },
        generated_at: jiff::Timestamp::now().to_string(),
    };
    Ok(Prepared {
        req,
        loaded,
        ctx,
        baseline,
    })
}

/// The hosts of one `--interface-observations` document, or an error naming the file.
fn read_interface_observations(
    path: &std::path::Path,
) -> Result<Vec<crate::audit::interface_imports::ImportedHost>, Error> {
    let fail = |cause: String| Error::InterfaceObservations {
        file: path.display().to_string(),
        cause,
    };
    let bytes = crate::input::read_capped(path, crate::probe::MAX_OBSERVATIONS_BYTES)
        .map_err(|e| fail(e.to_string()))?;
    crate::audit::interface_imports::parse(&bytes, crate::report::audit::SCHEMA_VERSION)
        .map_err(|e| fail(e.to_string()))
}

pub fn run(args: AuditArgs) -> Result<Exit, Error> {
    let Prepared {
        req,
        loaded,
        ctx,
        baseline,
    } = prepare(&args)?;
    if args.json_lines {
        return run_lines(&args, &req, &loaded, ctx, baseline.as_ref());
    }
    let rt = super::runtime()?;
    let progress = std::sync::Mutex::new(AuditProgress::default());
    let mut bar = Progress::new(req.targets.len());
    let result = rt.block_on(async {
        let work = run_audit(&req, &loaded, &progress, |h| {
            bar.host_done(&h.dump.target, h.incomplete, h.observations.len())
        });
        tokio::select! {
            r = work => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    bar.finish();
    let result = match result {
        Some(r) => r,
        None => {
            super::errln("rpcaudit: interrupted; reporting what was gathered");
            let gathered = progress
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            interrupted(&req, &loaded, gathered)
        }
    };
    // Probes still in flight are abandoned, not awaited.
    rt.shutdown_background();
    let mut report = AuditReport::new(ctx, result);
    report.attach_remediation(
        args.fix_dialect
            .map_or_else(|| crate::audit::remedy::dialect_of(&loaded), Into::into),
        &loaded,
    );
    if let Some((path, old)) = &baseline {
        report.changes = Some(crate::report::diff::diff(old, &report, path));
    }
    let printed = print_report(&report, args.json);
    if let Some(path) = &args.output {
        write_report(path, &report)?;
    }
    super::report::write_extra(&report, args.html.as_deref(), args.sarif.as_deref())?;
    printed?;
    Ok(exit_for(&report))
}

/// `--json-lines`: each host's line as soon as it is done, on stdout and in `--output`, then
/// the summary line; nothing but counts (and the index of a `--baseline`) is kept across hosts.
fn run_lines(
    args: &AuditArgs,
    req: &AuditRequest,
    loaded: &crate::policy::LoadedPolicy,
    ctx: ReportContext,
    baseline: Option<&(String, crate::report::audit::AuditReport)>,
) -> Result<Exit, Error> {
    let mut diff = baseline.map(|(path, old)| LinesDiff::new(old, path));
    let mut file = match &args.output {
        Some(path) => Some(LinesFile::create(path)?),
        None => None,
    };
    let rt = super::runtime()?;
    let mut bar = Progress::new(req.targets.len());
    let mut tally = Tally::default();
    let mut failure: Option<Error> = None;
    let mut write = |line: &str, failure: &mut Option<Error>| {
        super::outln(line);
        if let Some(f) = file.as_mut()
            && failure.is_none()
            && let Err(e) = f.line(line)
        {
            *failure = Some(e);
        }
    };
    let work = run_each(req, loaded, Order::Completion, |_, h| {
        bar.host_done(&h.dump.target, h.incomplete, h.observations.len());
        tally.add(&h);
        let changes = diff
            .as_mut()
            .map(|d| d.host(&h.dump, h.ip, &h.matrix, &h.findings));
        match inert::to_json_line(&host_line(h, changes)) {
            Ok(line) => write(&line, &mut failure),
            Err(e) => failure = failure.take().or(Some(Error::Json(e))),
        }
    });
    let was_interrupted = super::stream::until_interrupted(rt, work);
    bar.finish();
    let files = crate::audit::run::run_findings(req, loaded);
    let worst = tally.worst(&files);
    let changes = diff.map(|d| d.finish(&files));
    let mut summary = tally.summary(ctx, files, was_interrupted);
    summary.changes = changes;
    let complete = summary.complete;
    let line = inert::to_json_line(&summary).map_err(Error::Json)?;
    write(&line, &mut failure);
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(f) = file {
        f.finish()?;
    }
    Ok(Exit::for_outcome(complete, worst))
}

/// `--output` with `--json-lines`: the lines go to a new file beside FILE as they are written
/// ([`super::files::AtomicFile`]), and it is renamed over FILE once the summary line is in, so
/// a reader never sees a report without its summary.
struct LinesFile {
    path: PathBuf,
    out: super::files::AtomicFile,
}

impl LinesFile {
    fn create(path: &std::path::Path) -> Result<Self, Error> {
        let out = super::files::AtomicFile::create(path).map_err(|source| Error::WriteReport {
            path: path.display().to_string(),
            source,
        })?;
        Ok(LinesFile {
            path: path.to_path_buf(),
            out,
        })
    }

    fn fail(&self, source: std::io::Error) -> Error {
        Error::WriteReport {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn line(&mut self, line: &str) -> Result<(), Error> {
        use std::io::Write;
        let r = self
            .out
            .write_all(line.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"));
        r.map_err(|e| self.fail(e))
    }

    fn finish(self) -> Result<(), Error> {
        let path = self.path;
        self.out.commit().map_err(|source| Error::WriteReport {
            path: path.display().to_string(),
            source,
        })
    }
}

/// Write the JSON report to `path` through [`super::files::write_atomically`], so a reader
/// never sees half a report.
pub fn write_report(path: &std::path::Path, report: &AuditReport) -> Result<(), Error> {
    let mut json = inert::to_json_pretty(report).map_err(|source| Error::EncodeReport {
        path: path.display().to_string(),
        source,
    })?;
    json.push('\n');
    super::files::write_atomically(path, json.as_bytes()).map_err(|source| Error::WriteReport {
        path: path.display().to_string(),
        source,
    })
}

pub fn print_report(report: &AuditReport, json: bool) -> Result<(), Error> {
    if json {
        super::print_json(report)
    } else {
        super::out(render_styled(report, use_color()));
        Ok(())
    }
}

/// Colour on a terminal, unless `NO_COLOR` is set to anything non-empty (no-color.org).
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    color_wanted(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// The decision behind [`use_color`].
pub fn color_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// 3 incomplete, else 1 on an error finding, else 0.
pub fn exit_for(report: &AuditReport) -> Exit {
    Exit::for_outcome(report.complete, crate::finding::worst(&report.findings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        assert!(color_wanted(true, None));
        assert!(!color_wanted(false, None));
        assert!(!color_wanted(true, Some(OsStr::new("1"))));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(color_wanted(true, Some(OsStr::new(""))));
    }
}
