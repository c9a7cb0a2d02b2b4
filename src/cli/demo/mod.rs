//! `rpcaudit demo`: a full audit with no Windows host, no root and no network. It starts the
//! fixture endpoint mapper on loopback (shaped like a domain controller, some endpoints outside
//! the range), opens listeners on loopback for the TCP ports it registers and for every port of
//! the range (standing in for the RPC servers), and audits it against an embedded KB908472
//! policy with deliberate mistakes, so every part of the report appears. Binding 135 and 593
//! needs root, so the endpoint mapper listens on a free port standing in for TCP 135 and
//! answers RPC over HTTP (`ncacn_http`) on another standing in for 593 (`ports::StandIn`: the
//! policy is asked about 135 and 593, and the report lists both stand-ins).
//!
//! It probes from 127.0.0.1, inside the policy's allowed 127.0.0.0/24, and (on Linux, where
//! all of 127.0.0.0/8 is loopback) from 127.0.1.1, outside it. For that source the ports the
//! policy blocks carry a socket filter (`fence`), standing in for the IPsec policy in force, so
//! the fence holds on TCP 135 and the range while RPC over HTTP, which the article never
//! closes, answers: a `fence-bypass` observed on the wire. Nothing but the demo's own ports is
//! probed.

use super::audit::print_report;
use super::{Error, Exit};
use crate::audit::roads::Road;
use crate::audit::run::{AuditRequest, run as run_audit};
use crate::epm::client::DumpOptions;
use crate::epm::server::{FixtureConfig, FixtureServer, Listeners};
use crate::policy::{Action, LoadOptions};
use crate::ports::{PortRanges, Proto, StandIn};
use crate::probe::ProbeConfig;
use crate::report::audit::{AuditReport, Inputs, ReportContext};
use crate::target::Target;
use std::net::{IpAddr, Ipv4Addr};
use tokio::net::TcpListener;

mod fence;

/// The demo's intended policy (CRLF, as a Windows editor saves it).
pub const DEMO_POLICY: &str = include_str!("policy.cmd");
/// The name the embedded policy is reported under.
pub const DEMO_POLICY_NAME: &str = "demo-policy.cmd";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Print the JSON report instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

/// The demo host: 24 TCP registrations on 5001-5008 and, as on a server never restarted after
/// the range changed, on 49664-49666; plus named pipes and local endpoints.
pub fn demo_config() -> FixtureConfig {
    let ports = PortRanges::from_ranges([(5001, 5008), (49664, 49666)]);
    FixtureConfig::windows_like(24, &ports, 6, 6, "DEMO-DC01")
}

/// Accept and drop connections on `listener` forever (a stand-in RPC server).
async fn accept_forever(listener: TcpListener) {
    loop {
        if listener.accept().await.is_err() {
            tokio::task::yield_now().await;
        }
    }
}

/// The demo host as an earlier audit saw it: the same, before three services registered
/// outside the range (so the report has changes to show).
pub fn previous_config() -> FixtureConfig {
    let mut c = demo_config();
    c.endpoints
        .retain(|e| e.binding.port.is_none_or(|p| p < 49152));
    c
}

/// The embedded policy, read as `rpcaudit audit --policy` would read it.
fn demo_policy() -> crate::policy::LoadedPolicy {
    crate::policy::build(
        vec![crate::policy::parse_text(
            DEMO_POLICY_NAME,
            DEMO_POLICY.as_bytes(),
        )],
        &LoadOptions::default(),
    )
}

/// The subnet the demo policy lets reach TCP 135 and the range.
const ALLOWED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 0);
/// A loopback source outside it (all of 127.0.0.0/8 is loopback on Linux), which the policy
/// denies TCP 135 and the range.
pub const DENIED_SOURCE: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);

/// Bind with `bind`, retrying a moment when `port` is a fixed one just released by the
/// earlier run (0: any free port, no retry).
async fn bind_again<T>(
    port: u16,
    bind: impl Fn() -> std::io::Result<T>,
) -> Result<T, std::io::Error> {
    let mut tries = 0;
    loop {
        match bind() {
            Ok(l) => return Ok(l),
            Err(_) if port != 0 && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Serve `config` on 127.0.0.1:`port` and, over RPC over HTTP, on 127.0.0.1:`http_port` (0:
/// any free port; a port just released may take a moment to bind again), with listeners on its
/// TCP ports and on every port of the range, and audit it from 127.0.0.1 and from
/// [`DENIED_SOURCE`]. The endpoint mapper's port and the range carry the demo's fence
/// (`fence`); the HTTP road and the ports outside the range do not.
async fn audit_fixture(
    config: FixtureConfig,
    (port, http_port): (u16, u16),
    loaded: &crate::policy::LoadedPolicy,
) -> Result<AuditReport, Error> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let allowed = ipnet::Ipv4Net::new(ALLOWED, 24)
        .map_err(|e| Error::DemoServer(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
    let (range, range_source) = (loaded.effective_range(), loaded.range_source());
    let mut ports: Vec<u16> = config
        .endpoints
        .iter()
        .filter_map(|e| e.binding.port)
        .chain(range.iter())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    // The fence in force: the policy's own decision for a source outside the allowed block,
    // so whatever the policy forgets to block stays open to it as it would on the host.
    let fence_for = |well_known: u16| {
        let decided = loaded
            .policy
            .decide(IpAddr::V4(DENIED_SOURCE), well_known, Proto::Tcp);
        (decided.action == Action::Block).then_some(allowed)
    };
    let tcp = bind_again(port, || {
        fence::listener((loopback, port).into(), fence_for(crate::ports::EPM_PORT))
    })
    .await
    .map_err(Error::DemoServer)?;
    let http = bind_again(http_port, || {
        fence::listener((loopback, http_port).into(), None)
    })
    .await
    .map_err(Error::DemoServer)?;
    let listeners = Listeners {
        tcp,
        http: Some(http),
        udp: None,
    };
    let server = FixtureServer::start_on(listeners, config).map_err(Error::DemoServer)?;
    let mut servers = tokio::task::JoinSet::new();
    for p in &ports {
        match fence::listener((loopback, *p).into(), fence_for(*p)) {
            Ok(l) => {
                servers.spawn(accept_forever(l));
            }
            Err(e) => super::errln(format!(
                "rpcaudit demo: cannot listen on 127.0.0.1:{p} ({e}); whatever holds it answers instead"
            )),
        }
    }
    let epm_port = server.local_addr().port();
    let http_port = server.http_addr().map_or(0, |a| a.port());
    let stand_ins = vec![
        StandIn {
            port: epm_port,
            stands_for: crate::ports::EPM_PORT,
            protocol: Proto::Tcp,
        },
        StandIn {
            port: http_port,
            stands_for: crate::epm::HTTP_EPM_PORT,
            protocol: Proto::Tcp,
        },
    ];
    // Only the HTTP road: the demo probes its own fixture's ports and nothing else (this
    // machine's own 445, 139 and UDP 135 would show whatever happens to listen there).
    let roads = crate::audit::roads::ROADS
        .iter()
        .filter(|r| r.protocol == "ncacn_http")
        .map(|r| Road {
            port: http_port,
            ..*r
        })
        .collect();
    let mut sources = vec![loopback];
    if fence::AVAILABLE {
        sources.push(IpAddr::V4(DENIED_SOURCE));
    }
    let req = AuditRequest {
        targets: vec![Target::Addr(loopback)],
        epm_port,
        dump: DumpOptions::default(),
        concurrency: 1,
        range: range.clone(),
        static_ports: Vec::new(),
        sources,
        probe: true,
        // Loopback answers in microseconds; what the fence drops costs the timeout twice.
        probe_config: ProbeConfig {
            timeout: std::time::Duration::from_millis(300),
            ..ProbeConfig::default()
        },
        extra_ports: None,
        roads,
        imported: Vec::new(),
        default_action: Action::Pass,
        stand_ins: stand_ins.clone(),
        store: None,
        rpc_filters: None,
        imported_interfaces: Vec::new(),
        interfaces: None,
    };
    let progress = std::sync::Mutex::new(Default::default());
    let result = run_audit(&req, loaded, &progress, |_| {}).await;
    servers.abort_all();
    while servers.join_next().await.is_some() {}
    server.stop();
    let ctx = ReportContext {
        inputs: Inputs {
            targets: vec![loopback.to_string()],
            epm_port,
            policy_files: loaded.files.clone(),
            store_files: Vec::new(),
            range,
            range_source,
            vantage_points: Vec::new(),
            observation_files: Vec::new(),
            default_action: Action::Pass,
            stand_ins,
            rpc_filter_files: Vec::new(),
            interface_observation_files: Vec::new(),
        },
        generated_at: jiff::Timestamp::now().to_string(),
    };
    let mut report = AuditReport::new(ctx, result);
    report.attach_remediation(crate::audit::remedy::dialect_of(loaded), loaded);
    Ok(report)
}

/// The ports the first run's stand-ins took, for the second run to take again.
fn stand_in_ports(report: &AuditReport) -> (u16, u16) {
    let of = |well_known: u16| {
        report
            .inputs
            .stand_ins
            .iter()
            .find(|s| s.stands_for == well_known)
            .map_or(0, |s| s.port)
    };
    (of(crate::ports::EPM_PORT), of(crate::epm::HTTP_EPM_PORT))
}

pub fn run(args: DemoArgs) -> Result<Exit, Error> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let loaded = demo_policy();
        // An earlier run to compare with, as `--baseline` would, then today's.
        let previous = audit_fixture(previous_config(), (0, 0), &loaded).await?;
        let ports = stand_in_ports(&previous);
        let mut report = audit_fixture(demo_config(), ports, &loaded).await?;
        let (port, http_port) = ports;
        let from = if fence::AVAILABLE {
            format!(
                " from 127.0.0.1 and from {DENIED_SOURCE}, outside the policy's allowed 127.0.0.0/24 (a socket filter on the stand-in of TCP 135 and on the range stands in for the IPsec fence)"
            )
        } else {
            " from 127.0.0.1".to_string()
        };
        super::errln(format!(
            "rpcaudit demo: embedded endpoint mapper on 127.0.0.1:{port} (standing in for TCP 135) and over RPC over HTTP on 127.0.0.1:{http_port} (standing in for TCP 593), audited twice{from} against the embedded policy {DEMO_POLICY_NAME} (the first run is the baseline)"
        ));
        report.changes = Some(crate::report::diff::diff(
            &previous,
            &report,
            "(the demo's earlier run)",
        ));
        print_report(&report, args.json)?;
        super::report::write_extra(&report, args.html.as_deref(), None)?;
        let would = super::audit::exit_for(&report);
        if would == Exit::Incomplete {
            return Ok(Exit::Incomplete);
        }
        super::errln(format!(
            "rpcaudit demo: the demo policy has mistakes on purpose; `rpcaudit audit` with these findings exits {}",
            would.code()
        ));
        Ok(Exit::Ok)
    })
}
