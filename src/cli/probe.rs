//! `rpcaudit probe`: parse targets, ports and vantage points, run each target through resolve →
//! sweep (`pipeline::run_each`, one probe budget shared by all), and print the observations as a
//! table, as the `{"observations":[...]}` document, or as JSON lines (one per target as it
//! ends, then a summary; `probe::lines`) — the two JSON forms `rpcaudit audit --observations`
//! reads back.

use super::stream::{Form, Output, until_interrupted};
use super::{Error, Exit};
use crate::audit::capacity::ARTICLE_RANGE;
use crate::inert::{self, excerpt};
use crate::jsonl::HostMark;
use crate::ports::{EPM_PORT, PortRanges};
use crate::probe::lines::{ProbeHostLine, ProbeTally};
use crate::probe::sweep::Sweeper;
use crate::probe::{self, Observation, ObservationsFile, ProbeConfig, ProbeState, Proto};
use std::sync::Arc;

use std::net::IpAddr;
use std::time::Duration;

/// The TCP ports probed when `--ports` is not given: the endpoint mapper, the article's range,
/// and the other roads to RPC over TCP (SMB on 445 and 139, RPC over HTTP on 593), so that
/// observations made at a vantage point carry what `audit` needs to judge a `fence-bypass`.
pub fn default_ports() -> PortRanges {
    let roads = crate::audit::roads::ROADS
        .iter()
        .filter(|r| r.proto == Proto::Tcp)
        .map(|r| (r.port, r.port));
    PortRanges::from_ranges(
        [(EPM_PORT, EPM_PORT), ARTICLE_RANGE]
            .into_iter()
            .chain(roads),
    )
}
/// The UDP ports probed when neither `--ports` nor `--udp-ports` is given: the roads to RPC
/// over UDP (the endpoint mapper on UDP 135).
pub fn default_udp_ports() -> PortRanges {
    PortRanges::from_ranges(
        crate::audit::roads::ROADS
            .iter()
            .filter(|r| r.proto == Proto::Udp)
            .map(|r| (r.port, r.port)),
    )
}

/// How long a target's name may take to resolve.
const RESOLVE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    // A name is probed at the first address it resolves to.
    #[command(flatten)]
    pub targets: super::targets::TargetArgs,
    /// Ports to probe, e.g. "135,5001-5021"; replaces the default list, 135, 139, 445, 593
    /// and 5001-5021 (the endpoint mapper, the other roads to RPC and the article's range).
    #[arg(long, value_name = "SPEC")]
    pub ports: Option<String>,
    /// UDP ports to probe with a connectionless endpoint-mapper request, e.g. "135,49700"
    /// (an answer is open, ICMP port unreachable closed, silence filtered). Default: 135 when
    /// --ports is not given either, none when it is.
    #[arg(long, value_name = "SPEC")]
    pub udp_ports: Option<String>,
    #[command(flatten)]
    pub probe: ProbeFlags,
    /// Probes in flight at once (default: derived from the file-descriptor limit, at most
    /// 8192; `-v` shows it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub concurrency: Option<u32>,
    /// Print `{"observations":[...]}` instead of a table (a document: it holds every
    /// observation until the end; for many targets use --json-lines).
    #[arg(long, conflicts_with = "json_lines")]
    pub json: bool,
    /// Print one JSON object per target as soon as its probes have ended (its address and
    /// observations), then one summary object ({"record":"summary",...}); memory stays flat
    /// however many targets there are. `audit --observations` reads it as it reads --json.
    #[arg(long)]
    pub json_lines: bool,
    /// After the sweep, open the well-known named pipes (epmapper, lsarpc, samr, netlogon,
    /// ...) on an anonymous SMB session from each source that found TCP 445 or 139 open, and
    /// write which opened in that observation (`pipes`), which `audit --observations` cites in
    /// its fence-bypass findings.
    #[arg(long)]
    pub pipes: bool,
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

/// A `--ports` or `--udp-ports` list to probe (port 0 refused).
fn probe_ports(flag: &'static str, spec: &str) -> Result<PortRanges, Error> {
    match PortRanges::parse(spec) {
        Ok(p) if p.contains(0) => Err(Error::ProbePortZero),
        Ok(p) => Ok(p),
        Err(source) => Err(Error::Ports {
            flag,
            spec: excerpt(spec).into_owned(),
            source,
        }),
    }
}

pub fn run(args: ProbeArgs) -> Result<Exit, Error> {
    let ports = match args.ports.as_deref() {
        None => default_ports(),
        Some(spec) => probe_ports("--ports", spec)?,
    };
    let udp_ports = match (args.udp_ports.as_deref(), &args.ports) {
        (Some(spec), _) => probe_ports("--udp-ports", spec)?,
        (None, None) => default_udp_ports(),
        (None, Some(_)) => PortRanges::default(),
    };
    let targets = args.targets.expand()?;
    let budget = super::fd_budget();
    let concurrency = args.concurrency.map_or(budget.probes, |n| n as usize);
    let cfg = args.probe.config(concurrency);
    // Enough targets in flight to keep every probe slot busy, and no more: a target's line
    // waits for its slowest probe.
    let probes_per_target = ((ports.size() + udp_ports.size()) as usize
        * probe::vantage_points(&args.probe.from).len())
    .max(1);
    let in_flight = concurrency
        .div_ceil(probes_per_target)
        .clamp(1, MAX_TARGETS_IN_FLIGHT);
    tracing::info!("probe: {concurrency} probes and {in_flight} targets in flight at most");
    let sweeper = Sweeper::new(&cfg);
    let (from, ports) = (
        Arc::new(args.probe.from.clone()),
        Arc::new((ports, udp_ports)),
    );
    let pipes = args.pipes;
    let mut pipe_lines = Vec::new();
    let form = Form::of(args.json, args.json_lines);
    let mut out = Output::start(
        form,
        &ObservationsFile {
            observations: Vec::new(),
        },
        "observations",
    )?;
    let rt = super::runtime()?;
    let mut bar = super::progress::Progress::new(targets.len());
    let mut tally = ProbeTally::default();
    let mut table_rows = Vec::new();
    let work = crate::pipeline::run_each(
        targets.len(),
        in_flight,
        form.order(),
        |k| {
            let (target, sweeper) = (targets[k].clone(), sweeper.clone());
            let (from, ports) = (from.clone(), ports.clone());
            async move {
                let mut line = probe_target(target, &sweeper, &from, &ports).await;
                if pipes {
                    open_pipes(&mut line).await;
                }
                line
            }
        },
        |k| ProbeHostLine {
            record: HostMark::Host,
            target: targets[k].to_string(),
            address: None,
            error: Some("the probe task ended abnormally".into()),
            observations: Vec::new(),
        },
        |_, line| {
            bar.host_done(&line.target, line.error.is_some(), line.observations.len());
            tally.add(&line);
            if let Some(e) = &line.error {
                super::errln(format!(
                    "rpcaudit: {}: not probed: {}",
                    inert::field(&line.target),
                    inert::field(e)
                ));
            }
            if !out.host(&line, &line.observations) {
                // A table row is a run of ports: what a person reads, not a whole estate.
                table_rows.extend(runs(&line.observations));
                pipe_lines.extend(line.observations.iter().filter_map(pipes_text));
            }
        },
    );
    let interrupted = until_interrupted(rt, work);
    bar.finish();
    out.finish(|| tally.summary(interrupted))?;
    if form == Form::Table {
        super::outln(table(&table_rows).to_string());
        for l in &pipe_lines {
            super::outln(inert::prose(l));
        }
        super::outln(summary(&tally));
    }
    Ok(if interrupted || !tally.complete() {
        Exit::Incomplete
    } else {
        Exit::Ok
    })
}

/// Most targets whose probes run at once.
const MAX_TARGETS_IN_FLIGHT: usize = 4096;

/// One target through resolve → sweep of its TCP ports, then its UDP ones: its line.
async fn probe_target(
    target: crate::target::Target,
    sweeper: &Sweeper,
    from: &[IpAddr],
    (ports, udp_ports): &(PortRanges, PortRanges),
) -> ProbeHostLine {
    let name = target.to_string();
    match resolve(&target).await {
        Ok(ip) => ProbeHostLine {
            record: HostMark::Host,
            target: name,
            address: Some(ip),
            error: None,
            observations: {
                let mut plan = probe::plan(&[ip], from, ports);
                plan.extend(probe::plan_over(&[ip], from, udp_ports, Proto::Udp));
                sweeper.sweep(&plan).await
            },
        },
        Err(e) => ProbeHostLine {
            record: HostMark::Host,
            target: name,
            address: None,
            error: Some(e.to_string()),
            observations: Vec::new(),
        },
    }
}

/// `--pipes`: for each observation of an open TCP 445 or 139, which of the well-known named
/// pipes open on an anonymous SMB session from its source (`epm::pipe::open_pipes_from`, with
/// the dump's step limits and a 15 s bound per session), written into the observation.
async fn open_pipes(line: &mut ProbeHostLine) {
    let Some(ip) = line.address else {
        return;
    };
    let names: Vec<String> = crate::epm::pipe::WELL_KNOWN_PIPES
        .iter()
        .map(|p| p.to_string())
        .collect();
    let opts = crate::epm::client::DumpOptions::default();
    for o in line.observations.iter_mut().filter(|o| {
        o.protocol == Proto::Tcp
            && o.state == ProbeState::Open
            && [crate::epm::pipe::SMB_PORT, crate::epm::pipe::NETBIOS_PORT].contains(&o.port)
    }) {
        let deadline = tokio::time::Instant::now() + opts.timeout;
        let a = crate::epm::pipe::open_pipes_from(
            &line.target,
            std::net::SocketAddr::new(ip, o.port),
            o.source,
            &names,
            (&opts, None),
            deadline,
        )
        .await;
        o.pipes = Some(probe::PipeOpens {
            opened: a.opened,
            refused: a.refused,
            error: a.error,
        });
    }
}

/// What the table form says of an observation's pipe opens, when it has them (as the audit's
/// table says a session's).
fn pipes_text(o: &Observation) -> Option<String> {
    let a = crate::audit::run::pipes_observed(o)?;
    Some(format!(
        "{} TCP {}:{}",
        o.target,
        o.port,
        crate::report::audit::pipe_access_text(&a)
    ))
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
    protocol: Proto,
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
            && last.protocol == o.protocol
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
            protocol: o.protocol,
            first: o.port,
            last: o.port,
            state: o.state,
            note: n,
        });
    }
    out
}

fn table(runs: &[Run]) -> comfy_table::Table {
    let mut t = crate::report::table::new_table();
    t.set_header(["target", "ports", "state", "source", "note"]);
    for r in runs {
        let ports = if r.first == r.last {
            r.first.to_string()
        } else {
            format!("{}-{}", r.first, r.last)
        };
        let ports = format!("{ports}{}", crate::audit::verify::udp_mark(r.protocol));
        t.add_row([
            r.target.to_string(),
            ports,
            r.state.to_string(),
            r.source.to_string(),
            inert::cell(&r.note).into_owned(),
        ]);
    }
    t
}

/// "22 probes: 4 open, 18 closed": the states seen, in a fixed order.
fn summary(tally: &ProbeTally) -> String {
    let c = tally.states;
    let counts: Vec<String> = [
        (c.open, ProbeState::Open),
        (c.closed, ProbeState::Closed),
        (c.filtered, ProbeState::Filtered),
        (c.unreachable, ProbeState::Unreachable),
        (c.error, ProbeState::Error),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, s)| format!("{n} {s}"))
    .collect();
    let n = c.open + c.closed + c.filtered + c.unreachable + c.error;
    let noun = if n == 1 { "probe" } else { "probes" };
    format!("{n} {noun}: {}", counts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(port: u16, state: ProbeState) -> Observation {
        let ip = |s: &str| s.parse().unwrap();
        Observation {
            attempts: if state == ProbeState::Filtered { 2 } else { 1 },
            ..Observation::new(ip("198.18.1.10"), ip("198.18.0.10"), port, state)
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
        let text = table(&r).to_string();
        assert!(
            text.contains("5004-5021") && text.contains("closed"),
            "{text}"
        );
        let mut tally = ProbeTally::default();
        tally.add(&ProbeHostLine {
            record: HostMark::Host,
            target: "198.18.0.10".into(),
            address: None,
            error: None,
            observations: list,
        });
        assert_eq!(summary(&tally), "22 probes: 4 open, 18 closed");
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
    fn a_probe_in_state_error_leaves_the_run_incomplete() {
        let line = |o: Vec<Observation>| ProbeHostLine {
            record: HostMark::Host,
            target: "198.18.0.10".into(),
            address: None,
            error: None,
            observations: o,
        };
        let mut t = ProbeTally::default();
        t.add(&line(vec![obs(1, ProbeState::Filtered)]));
        assert!(t.complete());
        t.add(&line(vec![
            obs(1, ProbeState::Open),
            obs(2, ProbeState::Error),
        ]));
        assert!(!t.complete());
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
