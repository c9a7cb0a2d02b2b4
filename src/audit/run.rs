//! One whole audit, in the order of the flow: dump every target's endpoint mapper, assess
//! capacity, probe from the local vantage points, merge observations made elsewhere, build the
//! verification matrix against the intended policy, and collect every finding. The result is
//! plain data ([`AuditResult`]); `report` turns it into the JSON contract and tables.

use super::capacity::{HostCapacity, assess};
use super::verify::{Expected, MatrixRow, build_matrix, matrix_findings};
use crate::epm::client::{DumpOptions, dump_many};
use crate::epm::{HostDump, HostStatus};
use crate::finding::{Code, Finding, Severity};
use crate::policy::{Action, LoadedPolicy, Proto};
use crate::ports::PortRanges;
use crate::probe::{Observation, ProbeConfig, sweep};
use crate::target::Target;
use std::collections::HashSet;
use std::net::IpAddr;

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    pub targets: Vec<Target>,
    pub epm_port: u16,
    pub dump: DumpOptions,
    pub concurrency: usize,
    /// The configured RPC dynamic range and where it came from.
    pub range: PortRanges,
    pub range_source: String,
    pub static_ports: Vec<u16>,
    /// Local source addresses to probe from (empty: the kernel's choice).
    pub sources: Vec<IpAddr>,
    /// Probe locally at all (false: only the observation files are judged).
    pub probe: bool,
    pub probe_config: ProbeConfig,
    /// More ports to probe beyond 135, the range and the discovered ports.
    pub extra_ports: Option<PortRanges>,
    /// Observations made elsewhere (`--observations`), already read.
    pub imported: Vec<Observation>,
    /// What ports no rule covers are expected to do.
    pub default_action: Action,
}

/// Everything an audit found.
#[derive(Debug, Clone)]
pub struct AuditResult {
    pub dumps: Vec<HostDump>,
    pub capacity: Vec<HostCapacity>,
    pub observations: Vec<Observation>,
    pub matrix: Vec<MatrixRow>,
    pub findings: Vec<Finding>,
    /// Targets that could not be fully examined.
    pub incomplete: Vec<String>,
    /// The run was cut short (Ctrl-C).
    pub interrupted: bool,
}

/// What an audit has gathered so far. [`run`] records each stage here as it completes, so a run
/// that is interrupted (Ctrl-C) can still be reported with [`finish`].
#[derive(Debug, Default)]
pub struct AuditProgress {
    /// One slot per target, filled as each host's dump ends.
    pub dumps: Vec<Option<HostDump>>,
    /// The address to probe for each target, once known.
    pub ips: Vec<Option<IpAddr>>,
    /// Local observations, once the sweep has ended.
    pub observations: Vec<Observation>,
}

/// Run the audit. `policy` is the loaded intended policy (its lints become findings too);
/// `progress` receives each stage's results as they complete.
pub async fn run(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    progress: &std::sync::Mutex<AuditProgress>,
) -> AuditResult {
    let port = req.epm_port;
    let resolve_deadline = req.dump.connect_timeout;
    if let Ok(mut p) = progress.lock() {
        p.dumps = vec![None; req.targets.len()];
    }
    let order: Vec<String> = req.targets.iter().map(|t| t.to_string()).collect();
    let dumps = dump_many(
        req.targets.clone(),
        move |t: Target| async move { crate::target::resolve(&t, port, resolve_deadline).await },
        &req.dump,
        req.concurrency,
        |d| {
            if let (Ok(mut p), Some(k)) =
                (progress.lock(), order.iter().position(|t| *t == d.target))
                && let Some(slot) = p.dumps.get_mut(k)
            {
                *slot = Some(d.clone());
            }
        },
    )
    .await;

    // Where to probe: the address each dump reached, else the target's first address.
    let mut ip_of_dump: Vec<Option<IpAddr>> = Vec::with_capacity(req.targets.len());
    for (t, d) in req.targets.iter().zip(&dumps) {
        let from_dump = d.address.map(|a| a.ip());
        let ip = match (from_dump, t) {
            (Some(ip), _) => Some(ip),
            (None, Target::Addr(ip)) => Some(*ip),
            (None, t) => crate::target::resolve(t, port, resolve_deadline)
                .await
                .ok()
                .and_then(|a| a.first().map(|s| s.ip())),
        };
        ip_of_dump.push(ip);
    }
    if let Ok(mut p) = progress.lock() {
        p.ips = ip_of_dump.clone();
    }
    let target_ips: Vec<IpAddr> = ip_of_dump.iter().flatten().copied().collect();

    let mut observations = Vec::new();
    if req.probe {
        let mut plan = super::probe_plan(&target_ips, &req.sources, port, &req.range, &dumps);
        if let Some(extra) = &req.extra_ports {
            plan.extend(crate::probe::plan(&target_ips, &req.sources, extra));
        }
        let mut seen = HashSet::new();
        plan.retain(|k| seen.insert(*k));
        observations = sweep(&plan, &req.probe_config).await;
    }
    finish(req, policy, dumps, ip_of_dump, observations, false)
}

/// Build the result from what was gathered: capacity, imported observations, the matrix, the
/// findings and which hosts are incomplete. `interrupted` marks a run cut short: every host is
/// then incomplete unless it was fully examined, and targets never dumped are reported so.
pub fn finish(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    dumps: Vec<HostDump>,
    ip_of_dump: Vec<Option<IpAddr>>,
    mut observations: Vec<Observation>,
    interrupted: bool,
) -> AuditResult {
    let port = req.epm_port;
    let capacity: Vec<HostCapacity> = dumps
        .iter()
        .map(|d| assess(d, &req.range, &req.static_ports))
        .collect();
    let target_ips: Vec<IpAddr> = ip_of_dump.iter().flatten().copied().collect();
    // Imported observations about our targets; a local observation of the same
    // (source, target, port) wins.
    let wanted: HashSet<IpAddr> = target_ips.iter().copied().collect();
    let mut seen: HashSet<(IpAddr, IpAddr, u16)> = observations
        .iter()
        .map(|o| (o.source, o.target, o.port))
        .collect();
    for o in &req.imported {
        if wanted.contains(&o.target) && seen.insert((o.source, o.target, o.port)) {
            observations.push(o.clone());
        }
    }

    let matrix = build_matrix(&observations, req.default_action, |src, p| {
        let d = policy.policy.decide(src, p, Proto::Tcp);
        Expected::new(d.action, d.rule.map(|r| r.to_string()))
    });

    let mut findings = policy.findings.clone();
    for c in &capacity {
        for f in &c.findings {
            let mut f = f.clone();
            if !f.message.contains(&c.target) {
                f.message = format!("{}: {}", c.target, f.message);
            }
            findings.push(f);
        }
    }
    findings.extend(matrix_findings(&matrix, &req.range, port));

    // A host whose endpoint mapper could not be dumped is incomplete, unless the policy blocks
    // the endpoint mapper from here and the probe saw exactly that: then nothing more could be
    // learnt from this vantage point, and the fence is doing its job.
    let mut incomplete = Vec::new();
    for (d, ip) in dumps.iter().zip(&ip_of_dump) {
        if d.status == HostStatus::Ok {
            continue;
        }
        let fenced = d.status == HostStatus::Error
            && ip.is_some_and(|ip| {
                let rows: Vec<&MatrixRow> = matrix
                    .iter()
                    .filter(|r| r.target == ip && r.port == port)
                    .collect();
                !rows.is_empty()
                    && rows.iter().all(|r| {
                        r.verdict == super::verify::Verdict::BlockAsExpected
                            && !imported_row(&req.imported, r)
                    })
            });
        if fenced {
            findings.push(Finding::new(
                Code::EpmFenced,
                Severity::Info,
                format!(
                    "{}: the endpoint mapper is filtered from this vantage point, as the policy intends, so it was not dumped ({})",
                    d.target,
                    d.error.as_deref().unwrap_or("no answer")
                ),
                "run the audit from an allowed subnet (or pass its probe results with --observations) to dump and count the endpoints",
            ));
        } else {
            incomplete.push(d.target.clone());
        }
    }

    // A target no observation verified is incomplete, never compliant: `--no-probe` with
    // observations about other hosts, an empty observations file, or probes that all failed.
    for (d, ip) in dumps.iter().zip(&ip_of_dump) {
        let verified = ip.is_some_and(|ip| {
            matrix
                .iter()
                .any(|r| r.target == ip && r.verdict != super::verify::Verdict::Inconclusive)
        });
        if !verified && !incomplete.contains(&d.target) {
            let why = match ip {
                None => "its address is not known".to_string(),
                Some(ip) if req.probe || !req.imported.is_empty() => format!(
                    "no probe of {ip} from any vantage point gave an answer (none ran, or every one was unreachable or failed)"
                ),
                Some(ip) => {
                    format!("--no-probe was given and no --observations file is about {ip}")
                }
            };
            findings.push(Finding::new(
                // No observation verified the target (no matrix row with a conclusive verdict).
                Code::Unverified,
                Severity::Warning,
                format!("{}: the fence was not verified: {why}", d.target),
                "probe it from here (drop --no-probe), or pass --observations files made from the vantage points that probed it",
            ));
            incomplete.push(d.target.clone());
        }
    }

    if interrupted {
        for d in &dumps {
            if d.status == HostStatus::Ok && !incomplete.contains(&d.target) {
                // The dump is whole, but the probes of this host may not have run.
                incomplete.push(d.target.clone());
            }
        }
    }
    AuditResult {
        dumps,
        capacity,
        observations,
        matrix,
        findings,
        incomplete,
        interrupted,
    }
}

/// The result of a run interrupted with `progress` as it stood: targets whose dump had not
/// ended are reported as such.
pub fn interrupted(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    progress: AuditProgress,
) -> AuditResult {
    let dumps: Vec<HostDump> = req
        .targets
        .iter()
        .enumerate()
        .map(|(k, t)| {
            progress.dumps.get(k).cloned().flatten().unwrap_or_else(|| {
                let label = t.to_string();
                crate::epm::client::failed(
                    &label,
                    format!("{label}: interrupted before its dump ended"),
                )
            })
        })
        .collect();
    let mut ips = progress.ips;
    ips.resize(dumps.len(), None);
    finish(req, policy, dumps, ips, progress.observations, true)
}

/// True when the row's observation was imported, not made here.
fn imported_row(imported: &[Observation], r: &MatrixRow) -> bool {
    imported
        .iter()
        .any(|o| o.source == r.source && o.target == r.target && o.port == r.port)
}
