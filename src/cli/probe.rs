//! `rpcaudit probe`: parse targets, ports and vantage points, run [`crate::probe::sweep`], print
//! the observations as a table or as the `{"observations":[...]}` JSON that `rpcaudit audit
//! --observations` reads back.

use super::{Error, Exit};
use crate::audit::capacity::ARTICLE_RANGE;
use crate::ports::{EPM_PORT, PortRanges};
use crate::probe::{self, Observation, ObservationsFile, ProbeConfig, ProbeState};

use std::net::IpAddr;
use std::time::Duration;

/// The ports probed when `--ports` is not given: the endpoint mapper and the article's range.
pub const DEFAULT_PORTS: &[(u16, u16)] = &[(EPM_PORT, EPM_PORT), ARTICLE_RANGE];
/// How long a target's name may take to resolve.
const RESOLVE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    // A name is probed at the first address it resolves to.
    #[command(flatten)]
    pub targets: super::targets::TargetArgs,
    /// Ports to probe, e.g. "135,5001-5021" (the default); replaces the default list.
    #[arg(long, value_name = "SPEC")]
    pub ports: Option<String>,
    #[command(flatten)]
    pub probe: ProbeFlags,
    /// Probes in flight at once (default: derived from the file-descriptor limit, at most
    /// 8192; `-v` shows it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub concurrency: Option<u32>,
    /// Print `{"observations":[...]}` instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// How probes are made, shared by `probe` and `audit` (defined once, with one set of limits).
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeFlags {
    /// Source address to probe from, bound before connecting (one of this host's addresses);
    /// repeat for several vantage points. Without it the OS chooses.
    #[arg(long = "from", value_name = "IP", value_parser = crate::probe::parse_source)]
    pub from: Vec<IpAddr>,
    /// How long each connection attempt waits for an answer, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = probe::DEFAULT_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub timeout_ms: u64,
    /// Further attempts after an unanswered one (a port is `filtered` after 1 + N silences).
    #[arg(long, value_name = "N", default_value_t = probe::DEFAULT_RETRIES,
          value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,
    /// At most N connection attempts started per second (default: no limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: Option<u32>,
}

impl ProbeFlags {
    /// The sweep's configuration, with `concurrency` probes in flight at most.
    pub fn config(&self, concurrency: usize) -> ProbeConfig {
        ProbeConfig {
            timeout: Duration::from_millis(self.timeout_ms),
            retries: self.retries,
            concurrency,
            rate: self.rate.map(f64::from),
        }
    }
}

pub fn run(args: ProbeArgs) -> Result<Exit, Error> {
    let ports = match args.ports.as_deref() {
        None => PortRanges::from_ranges(DEFAULT_PORTS.iter().copied()),
        Some(spec) => match PortRanges::parse(spec) {
            Ok(p) if p.contains(0) => return Err(Error::ProbePortZero),
            Ok(p) => p,
            Err(source) => {
                return Err(Error::Ports {
                    flag: "--ports",
                    spec: crate::report::inert::excerpt(spec).into_owned(),
                    source,
                });
            }
        },
    };
    let targets = args.targets.expand()?;
    let concurrency = args
        .concurrency
        .map_or_else(|| super::fd_budget().probes, |n| n as usize);
    let cfg = args.probe.config(concurrency);
    let rt = super::runtime()?;
    let observations = rt.block_on(async {
        let mut ips = Vec::with_capacity(targets.len());
        for t in &targets {
            ips.push(resolve(t).await?);
        }
        let plan = probe::plan(&ips, &args.probe.from, &ports);
        Ok::<_, Error>(probe::sweep(&plan, &cfg).await)
    })?;

    if args.json {
        let file = ObservationsFile { observations };
        super::print_json(&file)?;
        return Ok(exit_for(&file.observations));
    }
    super::outln(table(&observations).to_string());
    super::outln(summary(&observations));
    Ok(exit_for(&observations))
}

/// 3 when any probe could not be carried out (state `error`), else 0.
fn exit_for(observations: &[Observation]) -> Exit {
    if observations.iter().any(|o| o.state == ProbeState::Error) {
        Exit::Incomplete
    } else {
        Exit::Ok
    }
}

/// A target's first address ([`crate::target::resolve`]).
async fn resolve(target: &crate::target::Target) -> Result<IpAddr, Error> {
    let addrs = crate::target::resolve(target, 0, RESOLVE_DEADLINE).await?;
    // resolve returns at least one address or an error.
    addrs.first().map(|a| a.ip()).ok_or_else(|| {
        Error::Target(crate::target::TargetError::NoAddresses {
            target: target.to_string(),
        })
    })
}

/// Consecutive ports of one (target, source) with the same state and note, as one table row.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    target: IpAddr,
    source: IpAddr,
    first: u16,
    last: u16,
    state: ProbeState,
    note: String,
}

fn note(o: &Observation) -> String {
    match (&o.error, o.rtt_ms) {
        (Some(e), _) => e.clone(),
        (None, _) if o.state == ProbeState::Filtered => {
            format!("no answer to {} attempt(s)", o.attempts)
        }
        _ => String::new(),
    }
}

fn runs(observations: &[Observation]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for o in observations {
        let n = note(o);
        if let Some(last) = out.last_mut()
            && last.target == o.target
            && last.source == o.source
            && last.state == o.state
            && last.note == n
            && u32::from(last.last) + 1 == u32::from(o.port)
        {
            last.last = o.port;
            continue;
        }
        out.push(Run {
            target: o.target,
            source: o.source,
            first: o.port,
            last: o.port,
            state: o.state,
            note: n,
        });
    }
    out
}

fn table(observations: &[Observation]) -> comfy_table::Table {
    let mut t = crate::report::table::new_table();
    t.set_header(["target", "ports", "state", "source", "note"]);
    for r in runs(observations) {
        let ports = if r.first == r.last {
            r.first.to_string()
        } else {
            format!("{}-{}", r.first, r.last)
        };
        t.add_row([
            r.target.to_string(),
            ports,
            r.state.to_string(),
            r.source.to_string(),
            crate::report::inert::cell(&r.note).into_owned(),
        ]);
    }
    t
}

fn summary(observations: &[Observation]) -> String {
    let states = [
        ProbeState::Open,
        ProbeState::Closed,
        ProbeState::Filtered,
        ProbeState::Unreachable,
        ProbeState::Error,
    ];
    let counts: Vec<String> = states
        .iter()
        .map(|s| (s, observations.iter().filter(|o| o.state == *s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let n = observations.len();
    let noun = if n == 1 { "probe" } else { "probes" };
    format!("{n} {noun}: {}", counts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(port: u16, state: ProbeState) -> Observation {
        Observation {
            source: "198.18.1.10".parse().unwrap(),
            target: "198.18.0.10".parse().unwrap(),
            port,
            state,
            attempts: if state == ProbeState::Filtered { 2 } else { 1 },
            rtt_ms: None,
            error: None,
        }
    }

    #[test]
    fn runs_compress_consecutive_ports_with_one_state() {
        let mut list = vec![obs(135, ProbeState::Open)];
        list.extend((5001..=5003).map(|p| obs(p, ProbeState::Open)));
        list.extend((5004..=5021).map(|p| obs(p, ProbeState::Closed)));
        let r = runs(&list);
        let rows: Vec<(u16, u16, ProbeState)> =
            r.iter().map(|r| (r.first, r.last, r.state)).collect();
        assert_eq!(
            rows,
            [
                (135, 135, ProbeState::Open),
                (5001, 5003, ProbeState::Open),
                (5004, 5021, ProbeState::Closed)
            ]
        );
        let text = table(&list).to_string();
        assert!(
            text.contains("5004-5021") && text.contains("closed"),
            "{text}"
        );
        assert_eq!(summary(&list), "22 probes: 4 open, 18 closed");
    }

    #[test]
    fn runs_split_on_source_change() {
        let a = obs(5001, ProbeState::Filtered);
        let mut b = obs(5002, ProbeState::Filtered);
        b.source = "198.18.2.10".parse().unwrap();
        assert_eq!(runs(&[a, b]).len(), 2);
    }

    #[test]
    fn probe_and_audit_share_the_probe_flags_and_their_limits() {
        use clap::Parser;
        let parse = |cmd: &str, flags: &[&str]| {
            let mut argv = vec!["rpcaudit", cmd, "127.0.0.1"];
            if cmd == "audit" {
                argv.extend(["--policy", "p.cmd"]);
            }
            argv.extend(flags);
            super::super::Cli::try_parse_from(argv).map(|cli| match cli.command {
                super::super::Command::Probe(a) => a.probe,
                super::super::Command::Audit(a) => a.probe,
                _ => unreachable!(),
            })
        };
        for cmd in ["probe", "audit"] {
            let most = ["--timeout-ms", "600000", "--retries", "20", "--rate", "1"];
            let flags = parse(cmd, &most).unwrap();
            assert_eq!((flags.timeout_ms, flags.retries), (600_000, 20), "{cmd}");
            assert_eq!(flags.config(1).retries, 20, "{cmd}: no clamping");
            for bad in [
                ["--timeout-ms", "0"],
                ["--timeout-ms", "600001"],
                ["--retries", "21"],
                ["--rate", "0"],
                ["--from", "0.0.0.0"],
            ] {
                assert!(parse(cmd, &bad).is_err(), "{cmd} {bad:?}");
            }
        }
    }

    #[test]
    fn exit_is_3_only_with_errors() {
        assert_eq!(exit_for(&[obs(1, ProbeState::Filtered)]), Exit::Ok);
        assert_eq!(
            exit_for(&[obs(1, ProbeState::Open), obs(2, ProbeState::Error)]),
            Exit::Incomplete
        );
    }

    #[tokio::test]
    async fn targets_take_every_form_and_resolve_to_their_address() {
        let one = |spec: &str| crate::target::expand(&[spec.to_string()]);
        for (spec, ip) in [("127.0.0.1", "127.0.0.1"), ("[::1]", "::1")] {
            let target = &one(spec).unwrap()[0];
            assert_eq!(resolve(target).await.unwrap().to_string(), ip);
        }
        assert_eq!(one("198.18.0.0/24").unwrap().len(), 254);
        assert_eq!(one("198.18.0.1-20").unwrap().len(), 20);
        assert!(one("").is_err());
    }
}
