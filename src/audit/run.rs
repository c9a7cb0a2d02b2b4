//! One whole audit as a per-host pipeline: each target is resolved once, its endpoint mapper
//! dumped and its ports probed from the local vantage points (`collect`, the network half),
//! then assessed (`assess_host`, pure: capacity, the observations made elsewhere, the
//! verification matrix against the intended policy and, with `--store`, what the configured
//! store decides, the findings), and emitted as soon as it is done ([`run_each`]); [`run`]
//! gathers the hosts into one [`AuditResult`] for the report document. The findings about the
//! files rather than a host (the policy's lints, the store's, and where the script and the
//! store disagree) are [`run_findings`]. The result is plain data; `report` turns it into the
//! JSON contract and tables.

use super::capacity::{HostCapacity, assess as assess_capacity};
use super::verify::{Expected, MatrixRow, add_configured, build_matrix, matrix_findings};
use crate::epm::client::DumpOptions;
use crate::epm::pipe::PipeAccess;
use crate::epm::reach::{InterfaceProbes, ReachOptions};
use crate::epm::{HostDump, HostStatus};
use crate::finding::{Code, Finding, Severity};
use crate::pipeline::Order;
use crate::policy::{Action, LoadedPolicy, Proto};
use crate::ports::{PortRanges, StandIn};
use crate::probe::sweep::Sweeper;
use crate::probe::{Observation, ProbeConfig};
use crate::target::Target;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    pub targets: Vec<Target>,
    pub epm_port: u16,
    pub dump: DumpOptions,
    pub concurrency: usize,
    /// The configured RPC dynamic range.
    pub range: PortRanges,
    pub static_ports: Vec<u16>,
    /// Local source addresses to probe from (empty: the kernel's choice).
    pub sources: Vec<IpAddr>,
    /// Probe locally at all (false: only the observation files are judged).
    pub probe: bool,
    pub probe_config: ProbeConfig,
    /// More ports to probe beyond 135, the range and the discovered ports.
    pub extra_ports: Option<PortRanges>,
    /// The other roads to RPC to probe and judge (`fence-bypass`); [`super::roads::ROADS`]
    /// for a real audit.
    pub roads: Vec<super::roads::Road>,
    /// Observations made elsewhere (`--observations`), already read.
    pub imported: Vec<Observation>,
    /// What ports no rule covers are expected to do.
    pub default_action: Action,
    /// Ports probed in place of well-known ones (the demo's fixture endpoint mapper on a free
    /// port for TCP 135, its RPC over HTTP for 593): the policy is asked about the well-known
    /// port and the matrix row is about it, with the port probed beside it. Empty for a real
    /// audit.
    pub stand_ins: Vec<crate::ports::StandIn>,
    /// What the host holds (`--store`: store exports and listings, read together), to set
    /// beside the intended policy; every target is taken to hold it.
    pub store: Option<LoadedPolicy>,
    /// Probe each registered interface from each local source (`--interfaces`): the limits
    /// of the probes of one host (their `dump` and `sources` are this request's). None: not
    /// probed.
    pub interfaces: Option<ReachOptions>,
    /// With `interfaces`: the RPC filters meant to hold (`--rpc-filter`), each probe judged by
    /// them (`audit::rpc_filters`).
    pub rpc_filters: Option<crate::policy::rpc_filter::RpcFilters>,
    /// Interface probes made on vantage hosts (`--interface-observations`), already read:
    /// each set beside the local probes of its target and judged from its own source.
    pub imported_interfaces: Vec<super::interface_imports::ImportedHost>,
}

/// Everything an audit found.
#[derive(Debug, Clone, Default)]
pub struct AuditResult {
    /// The findings about the files rather than a host ([`run_findings`]).
    pub run_findings: Vec<Finding>,
    /// Every target's result, in target order.
    pub hosts: Vec<HostResult>,
    /// The run was cut short (Ctrl-C).
    pub interrupted: bool,
}

/// One host through the pipeline: what was collected (its dump, the address probed, the
/// local observations and the imported ones about it) and what was assessed from it.
#[derive(Debug, Clone)]
pub struct HostResult {
    pub dump: HostDump,
    pub ip: Option<IpAddr>,
    pub capacity: HostCapacity,
    pub observations: Vec<Observation>,
    /// Which named pipes opened from each local source that found SMB open (anonymously, and
    /// with the credentials when given) and those the imported observations carry (`probe
    /// --pipes` elsewhere); the `fence-bypass` findings cite them.
    pub pipes: Vec<PipeAccess>,
    /// The interface probes (`--interfaces`), from each local source.
    pub interfaces: Option<InterfaceProbes>,
    pub matrix: Vec<MatrixRow>,
    pub findings: Vec<Finding>,
    /// The host could not be fully examined.
    pub incomplete: bool,
}

/// What an audit has gathered so far: each host's result, with its index among the targets,
/// as it is emitted, so that a run that is interrupted (Ctrl-C) can still be reported with
/// [`interrupted`].
#[derive(Debug, Default)]
pub struct AuditProgress {
    pub done: Vec<(usize, HostResult)>,
}

/// What each host's task needs, shared by all of them.
struct Collect {
    epm_port: u16,
    dump: DumpOptions,
    probe: bool,
    sources: Vec<IpAddr>,
    range: PortRanges,
    extra_ports: Option<PortRanges>,
    roads: Vec<super::roads::Road>,
    sweeper: Sweeper,
    interfaces: Option<ReachOptions>,
}

/// What was seen of one host from here: the probes' observations, the named pipes that
/// opened, the interface probes.
type Seen = (Vec<Observation>, Vec<PipeAccess>, Option<InterfaceProbes>);

/// What [`collect`] gathers about one host: its dump, the address probed, what was seen.
type Collected = (HostDump, Option<IpAddr>, Seen);

/// The network half for one host: resolve it once, dump its endpoint mapper, then probe the
/// endpoint mapper's port, the range, every discovered TCP and UDP port, the other roads to RPC
/// (UDP 135 among them) and the extra ports from each vantage point (within the run's shared
/// probe budget), and open the named pipes from each source that found SMB open.
async fn collect(target: Target, c: Arc<Collect>) -> Collected {
    let label = target.to_string();
    let addrs = crate::target::resolve(&target, c.epm_port, c.dump.connect_timeout).await;
    let dump = match &addrs {
        Ok(a) => crate::epm::dump::dump_host(&label, a, &c.dump).await,
        Err(e) => crate::epm::client::failed(&label, e.to_string()),
    };
    // Where to probe: the address the dump reached, else the target's first address.
    let ip = dump
        .address
        .map(|a| a.ip())
        .or_else(|| addrs.ok().and_then(|a| a.first().map(|s| s.ip())));
    let mut observations = Vec::new();
    if let (true, Some(ip)) = (c.probe, ip) {
        let mut plan = super::probe_plan(
            &[ip],
            &c.sources,
            c.epm_port,
            &c.range,
            &c.roads,
            std::slice::from_ref(&dump),
        );
        if let Some(extra) = &c.extra_ports {
            plan.extend(crate::probe::plan(&[ip], &c.sources, extra));
        }
        let mut seen = HashSet::new();
        plan.retain(|k| seen.insert(*k));
        observations = c.sweeper.sweep(&plan).await;
    }
    let pipes = match ip {
        Some(ip) => open_pipes(&label, ip, &dump, &observations, &c).await,
        None => Vec::new(),
    };
    // The interfaces the map registers, from each local source, after the sweep (so the
    // sweep's load and the probes' pauses do not overlap on the host).
    let interfaces = match (&c.interfaces, c.probe) {
        (Some(opts), true) => Some(crate::epm::reach::reach_dump(&label, &dump, opts).await),
        _ => None,
    };
    (dump, ip, (observations, pipes, interfaces))
}

/// For each local source that found an SMB road open (445, 139), which named pipes open
/// anonymously, and with the run's credentials when they were given and may be sent over SMB
/// ([`AuthOptions::smb_credentials`](crate::epm::client::AuthOptions::smb_credentials)): those the map registers (the well-known ones when it could not be
/// read), one session per source, port and logon, one after another, within the host's dump
/// deadline each. The authenticated sessions go through the run's logon gate, so a logon
/// failure counts toward the run's limit and none is sent past it.
async fn open_pipes(
    label: &str,
    ip: IpAddr,
    dump: &HostDump,
    observations: &[Observation],
    c: &Collect,
) -> Vec<PipeAccess> {
    let smb_roads: Vec<u16> = c
        .roads
        .iter()
        .filter(|r| r.protocol == "ncacn_np" && r.proto == Proto::Tcp)
        .map(|r| r.port)
        .collect();
    let names = crate::epm::pipe::pipes_to_probe(dump);
    if names.is_empty() {
        return Vec::new();
    }
    let user = c.dump.auth.smb_credentials();
    let mut out = Vec::new();
    for o in observations.iter().filter(|o| {
        o.target == ip
            && o.protocol == Proto::Tcp
            && o.state == crate::probe::ProbeState::Open
            && smb_roads.contains(&o.port)
    }) {
        // The anonymous session first, then the credentials'.
        for creds in std::iter::once(None).chain(user.map(Some)) {
            let deadline = tokio::time::Instant::now() + c.dump.timeout;
            out.push(
                crate::epm::pipe::open_pipes_from(
                    label,
                    std::net::SocketAddr::new(ip, o.port),
                    o.source,
                    &names,
                    (&c.dump, creds),
                    deadline,
                )
                .await,
            );
        }
    }
    out
}

/// The pipe opens an observation carries (`probe --pipes` at another vantage point), as one
/// anonymous session's [`PipeAccess`].
pub fn pipes_observed(o: &Observation) -> Option<PipeAccess> {
    let p = o.pipes.as_ref()?;
    Some(PipeAccess {
        source: o.source,
        port: o.port,
        user: None,
        opened: p.opened.clone(),
        refused: p.refused.clone(),
        error: p.error.clone(),
    })
}

/// The imported observations (`--observations`), by target address: each host's assessment
/// looks up its own, so the cost does not grow with hosts × observations.
fn index_imported(imported: &[Observation]) -> HashMap<IpAddr, Vec<Observation>> {
    let mut by_target: HashMap<IpAddr, Vec<Observation>> = HashMap::new();
    for o in imported {
        by_target.entry(o.target).or_default().push(o.clone());
    }
    by_target
}

/// Run the audit host by host: each target goes through resolve → dump → probe (at most
/// `req.concurrency` hosts and `req.probe_config.concurrency` probes in flight) and then
/// [`assess_host`], and its [`HostResult`] is handed to `emit` with the target's index as soon
/// as `order` allows. Memory is bounded by the concurrencies, not by the number of targets.
/// The policy's own lints are not per host: they are in `policy.findings`.
pub async fn run_each(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    order: Order,
    mut emit: impl FnMut(usize, HostResult),
) {
    let c = Arc::new(Collect {
        epm_port: req.epm_port,
        dump: req.dump.clone(),
        probe: req.probe,
        sources: req.sources.clone(),
        range: req.range.clone(),
        extra_ports: req.extra_ports.clone(),
        roads: req.roads.clone(),
        sweeper: Sweeper::new(&req.probe_config),
        // The probes use the audit's own dump options and sources.
        interfaces: req.interfaces.clone().map(|o| ReachOptions {
            dump: req.dump.clone(),
            sources: req.sources.clone(),
            ..o
        }),
    });
    let imported = index_imported(&req.imported);
    let targets = &req.targets;
    crate::pipeline::run_each(
        targets.len(),
        req.concurrency,
        order,
        |k| {
            let target = targets.get(k).cloned();
            let c = c.clone();
            async move {
                match target {
                    Some(t) => collect(t, c).await,
                    None => (
                        crate::epm::client::failed("?", "no such target".into()),
                        None,
                        (vec![], vec![], None),
                    ),
                }
            }
        },
        |k| {
            let label = targets.get(k).map(|t| t.to_string()).unwrap_or_default();
            let dump = crate::epm::client::failed(
                &label,
                format!("{label}: the host's task ended abnormally"),
            );
            (dump, None, (Vec::new(), Vec::new(), None))
        },
        |k, (dump, ip, seen)| {
            let about = ip
                .and_then(|ip| imported.get(&ip))
                .map_or(&[][..], Vec::as_slice);
            emit(k, assess_host(req, policy, dump, ip, seen, about));
        },
    )
    .await;
}

/// Run the audit and gather the whole result (the report document): [`run_each`] with every
/// host shown to `on_host` and recorded in `progress` as it ends, then put in target order.
/// `cli audit` and `cli demo` both call this.
pub async fn run(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    progress: &std::sync::Mutex<AuditProgress>,
    mut on_host: impl FnMut(&HostResult),
) -> AuditResult {
    run_each(req, policy, Order::Completion, |k, h| {
        on_host(&h);
        if let Ok(mut p) = progress.lock() {
            p.done.push((k, h));
        }
    })
    .await;
    let done = match progress.lock() {
        Ok(mut p) => std::mem::take(&mut p.done),
        Err(poisoned) => std::mem::take(&mut poisoned.into_inner().done),
    };
    combine(req, policy, done, false)
}

/// The result of a run interrupted with `progress` as it stood: hosts done are reported whole;
/// targets whose pipeline had not ended are reported as not examined.
pub fn interrupted(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    progress: AuditProgress,
) -> AuditResult {
    combine(req, policy, progress.done, true)
}

/// The findings about the files rather than a host, first in every report: the intended
/// policy's (parse errors and lints), and with a store, the store's own and every
/// `store-disagrees` finding of `policy diff` between the two (when the store files speak of
/// the fence at all: files of authentication restrictions alone are not compared with it).
pub fn run_findings(req: &AuditRequest, policy: &LoadedPolicy) -> Vec<Finding> {
    let mut out = policy.findings.clone();
    if let Some(store) = &req.store {
        out.extend(store.findings.iter().cloned());
        if store.has_fence() {
            out.extend(crate::policy::diff::diff(policy, store));
        }
    }
    out
}

/// What the audit knows of a host's local end: its address and its ports' owners
/// ([`super::owners`]), for rules scoped to local addresses or to a program or service.
struct LocalEnd {
    dst: Option<IpAddr>,
    owners: std::collections::BTreeMap<(u16, Proto), crate::policy::model::condition::Owners>,
}

/// What a loaded policy decides for traffic from `src` to `port` over `proto` at the host's
/// local end, and the rule.
fn decision(
    policy: &LoadedPolicy,
    at: &LocalEnd,
    src: IpAddr,
    port: u16,
    proto: Proto,
) -> Expected {
    let target = crate::policy::model::condition::Target {
        dst: at.dst,
        owners: at.owners.get(&(port, proto)).cloned(),
        local_subnets: Vec::new(),
    };
    let q = crate::policy::Query {
        src,
        port,
        proto,
        authenticated: false,
    };
    Expected::of(policy.policy.decide_at(q, &target))
}

/// Put per-host results in target order, fill in the hosts that have none (interrupted), and
/// set the findings about the files ([`run_findings`]) beside them.
fn combine(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    mut done: Vec<(usize, HostResult)>,
    interrupted: bool,
) -> AuditResult {
    done.sort_by_key(|(k, _)| *k);
    let mut done = done.into_iter().peekable();
    let hosts = req
        .targets
        .iter()
        .enumerate()
        .map(|(k, t)| match done.next_if(|(i, _)| *i == k) {
            Some((_, h)) => h,
            None => {
                let label = t.to_string();
                let dump = crate::epm::client::failed(
                    &label,
                    format!("{label}: interrupted before its dump ended"),
                );
                let mut h =
                    assess_host(req, policy, dump, None, (Vec::new(), Vec::new(), None), &[]);
                h.incomplete = true;
                h
            }
        })
        .collect();
    AuditResult {
        run_findings: run_findings(req, policy),
        hosts,
        interrupted,
    }
}

/// The pure half for one host: capacity, the imported observations about it (`imported`; a
/// local observation of the same source and port wins), its matrix rows and findings (with
/// the named pipes that opened from each local source, `pipes`, and the interface probes,
/// `interface-exposed` judged against the intended policy), and whether it is complete.
pub fn assess_host(
    req: &AuditRequest,
    policy: &LoadedPolicy,
    dump: HostDump,
    ip: Option<IpAddr>,
    (mut observations, mut pipes, mut interfaces): Seen,
    imported: &[Observation],
) -> HostResult {
    let port = req.epm_port;
    let capacity = assess_capacity(&dump, &req.range, &req.static_ports);
    if let Some(target) = ip {
        let mut seen: HashSet<(IpAddr, IpAddr, u16, Proto)> = observations
            .iter()
            .map(|o| (o.source, o.target, o.port, o.protocol))
            .collect();
        for o in imported {
            if o.target == target && seen.insert((o.source, o.target, o.port, o.protocol)) {
                observations.push(o.clone());
                // The pipes it carries (`probe --pipes` there) are that source's.
                pipes.extend(pipes_observed(o));
            }
        }
    }

    let at = LocalEnd {
        dst: ip,
        owners: super::owners::port_owners(&dump),
    };
    // A stand-in's row is about the well-known port it stands in for, with the port probed
    // beside it; so are the endpoint mapper's port and the roads the findings judge.
    let well_known = |p: u16, proto: Proto| StandIn::resolve(&req.stand_ins, p, proto);
    let port = well_known(port, Proto::Tcp);
    let roads: Vec<super::roads::Road> = req
        .roads
        .iter()
        .map(|r| super::roads::Road {
            port: well_known(r.port, r.proto),
            ..*r
        })
        .collect();
    let mut matrix = build_matrix(&observations, req.default_action, |src, p, proto| {
        decision(policy, &at, src, well_known(p, proto), proto)
    });
    for r in &mut matrix {
        let p = well_known(r.port, r.protocol);
        if p != r.port {
            r.probed_port = Some(r.port);
            r.port = p;
        }
    }
    if let Some(store) = req.store.as_ref().filter(|s| s.has_fence()) {
        add_configured(&mut matrix, |src, p, proto| {
            decision(store, &at, src, p, proto)
        });
    }

    let mut findings: Vec<Finding> = capacity
        .findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if !f.message.contains(&capacity.target) {
                f.message = format!("{}: {}", capacity.target, f.message);
            }
            f
        })
        .collect();
    findings.extend(matrix_findings(&matrix, &req.range, port));
    findings.extend(super::roads::fence_bypasses(
        &matrix, port, &roads, &dump, &pipes,
    ));

    // A host whose endpoint mapper could not be dumped is incomplete, unless the policy blocks
    // the endpoint mapper from here and the probe saw exactly that: then nothing more could be
    // learnt from this vantage point, and the fence is doing its job.
    let mut incomplete = false;
    if dump.status != HostStatus::Ok {
        let fenced = dump.status == HostStatus::Error
            && ip.is_some_and(|ip| {
                let rows: Vec<&MatrixRow> = matrix
                    .iter()
                    .filter(|r| r.target == ip && r.port == port && r.protocol == Proto::Tcp)
                    .collect();
                !rows.is_empty()
                    && rows.iter().all(|r| {
                        r.verdict == super::verify::Verdict::BlockAsExpected
                            && !imported_row(imported, r)
                    })
            });
        if fenced {
            findings.push(Finding::new(
                Code::EpmFenced,
                Severity::Info,
                format!(
                    "{}: the endpoint mapper is filtered from this vantage point, as the policy intends, so it was not dumped ({})",
                    dump.target,
                    dump.error.as_deref().unwrap_or("no answer")
                ),
                "run the audit from an allowed subnet (or pass its probe results with --observations) to dump and count the endpoints",
            ));
        } else {
            incomplete = true;
        }
    }

    // A target no observation verified is incomplete, never compliant: `--no-probe` with
    // observations about other hosts, an empty observations file, or probes that all failed.
    let verified = ip.is_some_and(|ip| {
        matrix
            .iter()
            .any(|r| r.target == ip && r.verdict != super::verify::Verdict::Inconclusive)
    });
    if !verified && !incomplete {
        let why = match ip {
            None => "its address is not known".to_string(),
            Some(ip) if req.probe || !imported.is_empty() => format!(
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
            format!("{}: the fence was not verified: {why}", dump.target),
            "probe it from here (drop --no-probe), or pass --observations files made from the vantage points that probed it",
        ));
        incomplete = true;
    }

    // The interface probes made on vantage hosts about this target, beside the local ones
    // (an audit with --interface-observations but without --interfaces has only those).
    if let Some(target) = ip {
        for h in req
            .imported_interfaces
            .iter()
            .filter(|h| h.target == target)
        {
            let probes = interfaces.get_or_insert_with(|| InterfaceProbes {
                status: HostStatus::Ok,
                error: None,
                interfaces: Vec::new(),
                skipped: 0,
                inquiries: Vec::new(),
            });
            probes.interfaces.extend(h.interfaces.iter().cloned());
            if h.status != HostStatus::Ok && probes.status == HostStatus::Ok {
                probes.status = HostStatus::Partial;
            }
        }
    }

    // With --interfaces: a coercion or credentials interface callable anonymously, or from a
    // source the intended policy blocks on its port. Probes cut short by the cap or the
    // deadline, or ending undetermined, leave the host incomplete; a map that could not be
    // read is the dump's status, judged above.
    if let Some(probes) = &interfaces {
        findings.extend(super::exposure::findings_about(
            &dump.target,
            &probes.interfaces,
            None,
            Some(&policy.policy),
        ));
        if let Some(filters) = &req.rpc_filters {
            findings.extend(super::rpc_filters::findings_about(
                &dump.target,
                &probes.interfaces,
                None,
                filters,
            ));
        }
        incomplete |= probes.status == HostStatus::Partial;
    }

    // With a store and --auth-survey: what the host accepted against the configured
    // authentication restrictions; a restriction the survey could not check leaves the host
    // incomplete.
    if let Some(store) = &req.store {
        let domain_account = req
            .dump
            .auth
            .credentials
            .as_ref()
            .is_some_and(|c| !c.domain.is_empty());
        let (auth, unchecked) = super::survey::against(
            &dump.target,
            &store.restrictions,
            dump.survey.as_deref(),
            domain_account,
        );
        findings.extend(auth);
        incomplete |= unchecked;
    }

    HostResult {
        dump,
        ip,
        capacity,
        observations,
        pipes,
        interfaces,
        matrix,
        findings,
        incomplete,
    }
}

/// True when the row's observation was imported, not made here.
fn imported_row(imported: &[Observation], r: &MatrixRow) -> bool {
    imported.iter().any(|o| {
        o.source == r.source && o.target == r.target && o.port == r.port && o.protocol == r.protocol
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::auth::Credentials;
    use crate::epm::client::AuthMode;
    use crate::epm::{Endpoint, HostStatus};
    use crate::policy::{LoadOptions, build, parse_text};
    use uuid::Uuid;

    fn dump(endpoints: &[(&str, u16)]) -> HostDump {
        HostDump {
            target: "198.18.0.10".into(),
            address: None,
            status: HostStatus::Ok,
            transport: None,
            error: None,
            warnings: Vec::new(),
            endpoints: endpoints
                .iter()
                .map(|(u, port)| Endpoint {
                    interface: Uuid::parse_str(u).unwrap(),
                    version: "1.0".into(),
                    name: None,
                    tags: Vec::new(),
                    object: Uuid::nil(),
                    annotation: String::new(),
                    protocol: "ncacn_ip_tcp".into(),
                    address: None,
                    port: Some(*port),
                    binding: String::new(),
                    unread_floors: Vec::new(),
                })
                .collect(),
            auth: None,
            survey: None,
        }
    }

    /// A dynamic port's owner, from the interfaces the map lists on it, decides a rule scoped
    /// to a program or service: the group's Spooler rule passes the spooler's port, a rule of
    /// another program does not apply there, and a port whose owner is not known stays
    /// conditional.
    #[test]
    fn the_audit_decides_scoped_rules_at_the_ports_owners() {
        let policy = build(
            vec![parse_text(
                "fps.cmd",
                b"netsh advfirewall firewall set rule group=\"File and Printer Sharing\" new enable=yes\r\n\
                  netsh advfirewall firewall add rule name=Agent dir=in action=allow protocol=TCP localport=RPC program=C:\\agent\\agent.exe\r\n",
            )],
            &LoadOptions::default(),
        );
        let at = LocalEnd {
            dst: Some("198.18.0.10".parse().unwrap()),
            owners: super::super::owners::port_owners(&dump(&[
                // MS-RPRN winspool: Spooler in spoolsv.exe.
                ("12345678-1234-abcd-ef00-0123456789ab", 49700),
                ("00000000-1111-2222-3333-444444444444", 49800),
            ])),
        };
        let src: IpAddr = "10.9.9.9".parse().unwrap();
        let e = decision(&policy, &at, src, 49700, Proto::Tcp);
        assert_eq!(e.action, Action::Pass, "{e:?}");
        assert!(e.rule.unwrap().contains("Spooler Service - RPC"));
        let e = decision(&policy, &at, src, 49800, Proto::Tcp);
        assert_eq!(e.action, Action::Conditional, "{e:?}");
        // Without the owners (as before), the spooler's port was conditional too.
        let e = Expected::of(policy.policy.decide(src, 49700, Proto::Tcp));
        assert_eq!(e.action, Action::Conditional, "{e:?}");
        // The agent's rule alone on the spooler's port: not its owner, so nothing passes.
        let agent = build(
            vec![parse_text(
                "agent.cmd",
                b"netsh advfirewall firewall add rule name=Agent dir=in action=allow protocol=TCP localport=RPC program=C:\\agent\\agent.exe\r\n",
            )],
            &LoadOptions::default(),
        );
        assert_eq!(
            decision(&agent, &at, src, 49700, Proto::Tcp).action,
            Action::None
        );
        assert_eq!(
            decision(&agent, &at, src, 49800, Proto::Tcp).action,
            Action::Conditional
        );
    }

    #[test]
    fn pipes_are_opened_with_the_credentials_where_ntlm_or_kerberos_may_be_sent() {
        let with = |mode: AuthMode, no_ntlm: bool, creds: bool| {
            let mut opts = DumpOptions::default();
            opts.auth.mode = mode;
            opts.auth.no_ntlm = no_ntlm;
            if creds {
                opts.auth.credentials = Some(Arc::new(Credentials::password("audit", "LAB", "pw")));
            }
            opts.auth.smb_credentials().map(Credentials::display_user)
        };
        let lab = Some("LAB\\audit".to_string());
        assert_eq!(with(AuthMode::Auto, false, true), lab);
        assert_eq!(with(AuthMode::Ntlm, false, true), lab);
        assert_eq!(with(AuthMode::Auto, true, true), None, "--no-ntlm");
        // Kerberos sessions (the SMB logon follows --auth).
        assert_eq!(with(AuthMode::Kerberos, true, true), lab);
        assert_eq!(with(AuthMode::Negotiate, false, true), lab);
        assert_eq!(with(AuthMode::None, false, true), None, "--auth none");
        assert_eq!(with(AuthMode::Auto, false, false), None, "no --user");
    }
}
