//! `rpcaudit dump`: list what each target's endpoint mapper has registered, like rpcdump.

use super::{Error, Exit};
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
    #[arg(long, default_value_t = crate::ports::EPM_PORT)]
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
    pub fn options(&self) -> Result<DumpOptions, Error> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(Error::DumpTimeout(self.timeout));
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
pub async fn dump_targets(targets: &[String], epm: &EpmArgs) -> Result<Vec<HostDump>, Error> {
    let opts = epm.options()?;
    let targets = expand(targets)?;
    let port = epm.port;
    let resolve_deadline = opts.connect_timeout;
    let bar = progress(targets.len());
    let resolve = move |target: crate::target::Target| async move {
        crate::target::resolve(&target, port, resolve_deadline).await
    };
    let hosts = dump_many(targets, resolve, &opts, epm.concurrency, |d| {
        bar.set_message(crate::report::inert::cell(&d.target).into_owned());
        bar.inc(1);
    })
    .await;
    bar.finish_and_clear();
    Ok(hosts)
}

/// The TARGET arguments expanded ([`crate::target::expand`]); none at all is an error.
pub fn expand(targets: &[String]) -> Result<Vec<crate::target::Target>, Error> {
    let targets = crate::target::expand(targets)?;
    if targets.is_empty() {
        return Err(Error::NoTargets);
    }
    Ok(targets)
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

pub fn run(args: DumpArgs) -> Result<Exit, Error> {
    let rt = super::runtime()?;
    let hosts = rt.block_on(dump_targets(&args.targets, &args.epm))?;
    print_dump(&hosts, args.json)?;
    Ok(completeness(&hosts))
}

pub fn print_dump(hosts: &[HostDump], json: bool) -> Result<(), Error> {
    if json {
        super::print_json(&DumpReport {
            hosts: hosts.to_vec(),
        })
    } else {
        super::out(render_table(hosts));
        Ok(())
    }
}
