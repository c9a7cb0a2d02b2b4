//! `rpcaudit capacity`: dump each target's endpoint mapper, then count its dynamic TCP ports
//! against the configured RPC range with [`crate::audit::capacity`], and print the findings with
//! their fixes and the recommended range (table, the `{"range","hosts":[...]}` JSON document
//! written as it fills, or JSON lines). Each host is assessed as soon as its dump is done, and
//! the dump is dropped.
//!
//! Exit codes: 3 when any host was not fully examined (its dump is partial or failed), even
//! when other hosts have error findings: an incomplete examination is the answer that must not
//! be mistaken for a complete one; else 1 when any finding has severity error; else 0
//! (warnings such as `range-near-full` do not fail the run); 2 for bad arguments.

use super::dump::{EpmArgs, resolver};
use super::progress::Progress;
use super::stream::{Form, Output, until_interrupted};
use super::{Error, Exit};
use crate::audit::capacity::assess;
use crate::epm::HostStatus;
use crate::epm::dump::dump_each;
use crate::inert::excerpt;
use crate::ports::PortRanges;
use crate::report::capacity::{CapacityReport, CapacityTally, render};

#[derive(Debug, Clone, clap::Args)]
pub struct CapacityArgs {
    #[command(flatten)]
    pub targets: super::targets::TargetArgs,
    /// The configured RPC dynamic range (what `rpccfg.exe -pe` set), e.g. "5001-5021" (the
    /// article's, the default) or "5001-5010,6000-6009".
    #[arg(
        long,
        value_name = "R",
        default_value = "5001-5021",
        conflicts_with = "config"
    )]
    pub range: String,
    /// Read the range from configuration files instead: rpccfg lines or `.reg` exports of
    /// HKLM\SOFTWARE\Microsoft\Rpc\Internet (Ports, PortsInternetAvailable, UseInternetPorts).
    /// Repeatable.
    #[arg(long = "config", value_name = "FILE")]
    pub config: Vec<std::path::PathBuf>,
    /// A port a service was given on purpose (not from the dynamic range): left out of the
    /// count and never `out-of-range`. Repeatable.
    #[arg(long = "static-port", value_name = "P",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub static_ports: Vec<u16>,
    #[command(flatten)]
    pub epm: EpmArgs,
    #[command(flatten)]
    pub output: super::stream::HostsOutput,
}

pub fn run(args: CapacityArgs) -> Result<Exit, Error> {
    let range = if args.config.is_empty() {
        parse_range(&args.range)?
    } else {
        range_from_config(&args.config)?
    };
    let targets = args.targets.expand()?;
    let opts = args.epm.options()?;
    let form = args.output.form();
    let rt = super::runtime()?;
    let mut report = CapacityReport {
        range: range.to_string(),
        static_ports: args.static_ports.clone(),
        hosts: Vec::new(),
    };
    let mut out = Output::start(form, &report, "hosts")?;
    let mut bar = Progress::new(targets.len());
    let mut tally = CapacityTally::default();
    // Each dump is assessed as soon as it is done and dropped: only the assessments of a
    // table's hosts are kept.
    let work = dump_each(
        &targets,
        resolver(args.epm.port, opts.connect_timeout),
        &opts,
        args.epm.hosts_in_flight(),
        form.order(),
        |_, d| {
            bar.host_done(&d.target, d.status == HostStatus::Error, 0);
            let host = assess(&d, &range, &args.static_ports);
            tally.add(&host);
            if !out.host(&host, [&host]) {
                report.hosts.push(host);
            }
        },
    );
    let interrupted = until_interrupted(rt, work);
    bar.finish();
    out.finish(|| tally.summary(&report, interrupted))?;
    if form == Form::Table {
        super::out(render(&report));
    }
    Ok(exit_for(&tally, interrupted))
}

/// `--range`: a port list without port 0.
fn parse_range(spec: &str) -> Result<PortRanges, Error> {
    let shown = || excerpt(spec).into_owned();
    match PortRanges::parse(spec) {
        Ok(r) if r.contains(0) => Err(Error::RangePortZero { spec: shown() }),
        Ok(r) => Ok(r),
        Err(source) => Err(Error::Ports {
            flag: "--range",
            spec: shown(),
            source,
        }),
    }
}

/// `--config`: the effective range the files configure. Files that configure none, or a
/// configuration RPC would reject, are input errors naming the files and the findings.
fn range_from_config(files: &[std::path::PathBuf]) -> Result<PortRanges, Error> {
    let loaded = crate::policy::load(files, &crate::policy::LoadOptions::default())?;
    let files = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let Some(range) = &loaded.range else {
        return Err(Error::NoRange { files });
    };
    let invalid: Vec<String> = loaded
        .range_findings()
        .into_iter()
        .filter(|f| f.code == crate::finding::Code::RangeInvalid)
        .map(|f| match (&f.file, f.line) {
            (Some(file), Some(line)) => format!("{file}:{line}: {}", f.message),
            _ => f.message.clone(),
        })
        .collect();
    if !invalid.is_empty() {
        return Err(Error::RangeInvalid(invalid));
    }
    if range.ports.is_empty() {
        return Err(Error::RangeEmpty { files });
    }
    Ok(range.ports.clone())
}

/// 3 when a host is incomplete or the run was interrupted (takes precedence), else 1 with an
/// error finding, else 0.
fn exit_for(tally: &CapacityTally, interrupted: bool) -> Exit {
    Exit::for_outcome(!interrupted && tally.complete(), tally.findings.worst())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::HostStatus;

    use crate::audit::capacity::testing::{article_range, host};

    #[test]
    fn range_argument_rules() {
        assert_eq!(parse_range("5001-5021").unwrap(), article_range());
        assert!(
            parse_range("0-10")
                .unwrap_err()
                .to_string()
                .contains("port 0")
        );
        assert!(
            parse_range("5021-5001")
                .unwrap_err()
                .to_string()
                .contains("5021-5001")
        );
        assert!(parse_range("").is_err());
    }

    #[test]
    fn exit_codes_incomplete_over_findings_over_ok() {
        let tally = |hosts: &[crate::audit::capacity::HostCapacity]| {
            let mut t = CapacityTally::default();
            hosts.iter().for_each(|h| t.add(h));
            t
        };
        let fine = host(HostStatus::Ok, &[5001]);
        let near = host(HostStatus::Ok, &(5001..=5018).collect::<Vec<_>>());
        let bad = host(HostStatus::Ok, &[49664]);
        let partial = host(HostStatus::Partial, &[5001]);
        assert_eq!(
            exit_for(&tally(std::slice::from_ref(&fine)), false),
            Exit::Ok
        );
        assert_eq!(
            exit_for(&tally(std::slice::from_ref(&near)), false),
            Exit::Ok
        );
        assert_eq!(
            exit_for(&tally(&[fine.clone(), bad.clone()]), false),
            Exit::Findings
        );
        assert_eq!(
            exit_for(&tally(&[bad.clone(), partial]), false),
            Exit::Incomplete
        );
        assert_eq!(exit_for(&tally(&[bad, fine]), true), Exit::Incomplete);
    }
}
