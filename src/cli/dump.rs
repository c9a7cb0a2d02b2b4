//! `rpcaudit dump`: list what each target's endpoint mapper has registered, like rpcdump.

use super::Exit;
use crate::epm::client::{DumpOptions, dump_many};
use crate::epm::{HostDump, HostStatus};
use crate::report::dump::{DumpReport, render_table};
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct DumpArgs {
    /// Hosts to dump: IPv4/IPv6 addresses, host names, CIDR blocks, or @FILE with one per line.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub epm: EpmArgs,
    /// Print JSON ({"hosts":[...]}) instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Flags shared by every command that dumps endpoint mappers.
#[derive(Debug, Clone, clap::Args)]
pub struct EpmArgs {
    /// TCP port of the endpoint mapper.
    #[arg(long, default_value_t = crate::epm::EPM_PORT)]
    pub port: u16,
    /// Bound, in seconds, on one host's whole dump (connect, bind and every call).
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub timeout: f64,
    /// How many hosts are examined at once.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub concurrency: usize,
    /// Stop a host's dump after this many entries (the host is then `partial`).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_entries: usize,
}

impl EpmArgs {
    pub fn options(&self) -> Result<DumpOptions, String> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(format!(
                "--timeout {} must be between 0 and 3600 seconds",
                self.timeout
            ));
        }
        let total = Duration::from_secs_f64(self.timeout);
        let defaults = DumpOptions::default();
        Ok(DumpOptions {
            timeout: total,
            connect_timeout: defaults.connect_timeout.min(total),
            call_timeout: defaults.call_timeout.min(total),
            max_entries: self.max_entries.max(1),
            ..defaults
        })
    }
}

/// Expand targets and dump each; shared by `dump`, `capacity`, `audit` and `demo`.
pub async fn dump_targets(targets: &[String], epm: &EpmArgs) -> Result<Vec<HostDump>, String> {
    let opts = epm.options()?;
    let targets = crate::target::expand(targets).map_err(|e| e.to_string())?;
    if targets.is_empty() {
        return Err("no targets given".to_string());
    }
    let port = epm.port;
    let resolve_deadline = opts.connect_timeout;
    let bar = progress(targets.len());
    let resolve = move |target: crate::target::Target| async move {
        crate::target::resolve(&target, port, resolve_deadline)
            .await
            .map_err(|e| e.to_string())
    };
    let hosts = dump_many(targets, resolve, &opts, epm.concurrency, |d| {
        bar.set_message(crate::report::inert::cell(&d.target).into_owned());
        bar.inc(1);
    })
    .await;
    bar.finish_and_clear();
    Ok(hosts)
}

/// A progress bar on stderr for scans of several hosts (hidden when stderr is not a terminal).
fn progress(n: usize) -> indicatif::ProgressBar {
    if n < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(n as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} hosts {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Exit 3 when any host is not fully examined, else 0.
pub fn completeness(hosts: &[HostDump]) -> Exit {
    if hosts.iter().any(|h| h.status != HostStatus::Ok) {
        Exit::Incomplete
    } else {
        Exit::Ok
    }
}

pub fn run(args: DumpArgs) -> Exit {
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(e) => return super::usage_error(format!("cannot start the async runtime: {e}")),
    };
    let hosts = match rt.block_on(dump_targets(&args.targets, &args.epm)) {
        Ok(h) => h,
        Err(e) => return super::usage_error(e),
    };
    print_dump(&hosts, args.json);
    completeness(&hosts)
}

pub fn print_dump(hosts: &[HostDump], json: bool) {
    if json {
        let report = DumpReport {
            hosts: hosts.to_vec(),
        };
        match crate::report::inert::to_json_pretty(&report) {
            Ok(s) => super::outln(&s),
            Err(e) => super::errln(format!("rpcaudit: cannot encode JSON: {e}")),
        }
    } else {
        super::out(render_table(hosts));
    }
}
