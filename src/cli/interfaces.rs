//! `rpcaudit interfaces`: dump each target's endpoint mapper, then probe every interface it
//! registers on TCP (`epm::reach`): callable, refused, not offered, anonymous and with the
//! dump's credentials; with `--rpc-filter`, each probe against what the RPC filters given decide
//! (`audit::rpc_filters`). What is sent and why it runs nothing: `docs/guide/interfaces.md`.

use super::dump::{EpmArgs, resolver};
use super::progress::Progress;
use super::stream::{Form, Output, until_interrupted};
use super::{Error, Exit};
use crate::epm::reach::{PROBE_OPNUM, ReachOptions, reach_each};
use crate::report::interfaces::{HostReport, InterfacesReport, InterfacesTally, render_table};
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct InterfacesArgs {
    #[command(flatten)]
    pub targets: super::targets::TargetArgs,
    #[command(flatten)]
    pub epm: EpmArgs,
    #[command(flatten)]
    pub reach: ReachFlags,
    /// Probe from this local source address (one of this host's own; repeatable: every
    /// interface is probed from each in turn, and each probe reports its source).
    #[arg(long = "from", value_name = "IP", value_parser = crate::probe::parse_source)]
    pub from: Vec<std::net::IpAddr>,
    /// The intended policy (as `audit --policy` reads it, repeatable): a coercion or
    /// credentials interface callable from a source it blocks on that port is an
    /// `interface-exposed` finding, authenticated or not.
    #[arg(long = "policy", value_name = "FILE")]
    pub policy: Vec<std::path::PathBuf>,
    /// RPC filters (`netsh rpc filter` commands or `show filter` output, repeatable): a probe
    /// callable where they block is `rpc-filter-not-in-force`, refused where a permit filter
    /// decides `rpc-filter-permit-refused`.
    #[arg(long = "rpc-filter", value_name = "FILE")]
    pub rpc_filter: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub output: super::stream::HostsOutput,
}

/// The limits of the interface probes, shared by `interfaces` and `audit --interfaces`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReachFlags {
    /// Probe at most this many interfaces per host (those the catalogue tags first); the
    /// host is then `partial`.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_interfaces: u32,
    /// Pause, in milliseconds, between two connections to the same host.
    #[arg(long, value_name = "MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub interval_ms: u64,
    /// Bound, in seconds, on all the probes of one host (after its dump).
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub probe_timeout: u64,
    /// Probe the interfaces registered on named pipes too (ncacn_np over SMB on 445: an
    /// anonymous session per probe, and one logged on with NTLM credentials when the dump
    /// authenticated).
    #[arg(long)]
    pub pipes: bool,
}

impl ReachFlags {
    /// The probes' limits over `dump`'s options, from `sources`.
    pub fn options(
        &self,
        dump: crate::epm::client::DumpOptions,
        sources: Vec<std::net::IpAddr>,
    ) -> ReachOptions {
        ReachOptions {
            dump,
            max_interfaces: self.max_interfaces as usize,
            interval: Duration::from_millis(self.interval_ms),
            host_timeout: Duration::from_secs(self.probe_timeout),
            pipes: self.pipes,
            sources,
        }
    }
}

pub fn run(args: InterfacesArgs) -> Result<Exit, Error> {
    let targets = args.targets.expand()?;
    let loaded = if args.policy.is_empty() {
        None
    } else {
        let opts = crate::policy::LoadOptions {
            range_override: None,
            os: Default::default(),
            local_subnets: Vec::new(),
        };
        Some(crate::policy::load(&args.policy, &opts)?)
    };
    let policy = loaded.as_ref().map(|l| &l.policy);
    let filters = if args.rpc_filter.is_empty() {
        None
    } else {
        Some(crate::policy::load_rpc_filters(&args.rpc_filter)?.filters)
    };
    let dump = args.epm.options()?;
    let connect_timeout = dump.connect_timeout;
    let opts = args.reach.options(dump, args.from.clone());
    let form = args.output.form();
    let in_flight = args.epm.hosts_in_flight();
    let rt = super::runtime()?;
    let mut bar = Progress::new(targets.len());
    let mut tally = InterfacesTally::default();
    let mut table_hosts = Vec::new();
    let shell = InterfacesReport {
        schema_version: crate::report::audit::SCHEMA_VERSION,
        probe_opnum: PROBE_OPNUM,
        hosts: Vec::new(),
    };
    let mut out = Output::start(form, &shell, "hosts")?;
    let emit = |_, h: crate::epm::reach::HostInterfaces| {
        let mut h = HostReport::new(h, policy);
        if let Some(f) = &filters {
            h.findings
                .extend(crate::audit::rpc_filters::findings(&h.host, f));
        }
        bar.host_done(
            &h.host.target,
            h.host.status == crate::epm::HostStatus::Error,
            h.host.interfaces.len(),
        );
        tally.add(&h);
        if !out.host(&h, [&h]) {
            table_hosts.push(h);
        }
    };
    let resolve = resolver(args.epm.port, connect_timeout);
    let interrupted = until_interrupted(
        rt,
        reach_each(&targets, resolve, &opts, in_flight, form.order(), emit),
    );
    bar.finish();
    out.finish(|| tally.summary(interrupted))?;
    if form == Form::Table {
        super::out(render_table(&table_hosts));
    }
    let worst = (tally.errors > 0).then_some(crate::finding::Severity::Error);
    Ok(Exit::for_outcome(
        !interrupted && tally.ok == tally.hosts,
        worst,
    ))
}
