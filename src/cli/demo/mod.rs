//! `rpcaudit demo`: a full audit with no Windows host, no root and no network. It starts the
//! fixture endpoint mapper on loopback (shaped like a domain controller, some endpoints outside
//! the range), opens listeners on loopback for the TCP ports it registers (standing in for the
//! RPC servers), and audits it against an embedded KB908472 policy with deliberate mistakes, so
//! every part of the report appears. The endpoint mapper listens on a free port instead of 135.

use super::audit::print_report;
use super::{Error, Exit};
use crate::audit::run::{AuditRequest, run as run_audit};
use crate::epm::client::DumpOptions;
use crate::epm::server::{FixtureConfig, FixtureServer};
use crate::policy::{Action, LoadOptions};
use crate::ports::PortRanges;
use crate::probe::ProbeConfig;
use crate::report::audit::{AuditReport, Inputs, ReportContext};
use crate::target::Target;
use std::net::{IpAddr, Ipv4Addr};
use tokio::net::TcpListener;

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

/// Serve `config` on 127.0.0.1:`port` (0: any free port; a port just released may take a
/// moment to bind again), with listeners on its TCP ports, and audit it.
async fn audit_fixture(
    config: FixtureConfig,
    port: u16,
    loaded: &crate::policy::LoadedPolicy,
) -> Result<AuditReport, Error> {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut registered: Vec<u16> = config
        .endpoints
        .iter()
        .filter_map(|e| e.binding.port)
        .collect();
    registered.sort_unstable();
    registered.dedup();
    let mut tries = 0;
    let server = loop {
        match FixtureServer::start((loopback, port).into(), config.clone()).await {
            Ok(s) => break s,
            Err(_) if port != 0 && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => return Err(Error::DemoServer(e)),
        }
    };
    let mut servers = tokio::task::JoinSet::new();
    for p in &registered {
        match TcpListener::bind((loopback, *p)).await {
            Ok(l) => {
                servers.spawn(accept_forever(l));
            }
            Err(e) => super::errln(format!(
                "rpcaudit demo: cannot listen on 127.0.0.1:{p} ({e}); whatever holds it answers instead"
            )),
        }
    }
    let epm_port = server.local_addr().port();
    let (range, range_source) = (loaded.effective_range(), loaded.range_source());
    let req = AuditRequest {
        targets: vec![Target::Addr(loopback)],
        epm_port,
        dump: DumpOptions::default(),
        concurrency: 1,
        range: range.clone(),
        static_ports: Vec::new(),
        sources: Vec::new(),
        probe: true,
        probe_config: ProbeConfig::default(),
        extra_ports: None,
        // The demo's loopback has no fence to bypass: probing this machine's own 445, 139 and
        // 593 would show whatever happens to listen there.
        roads: Vec::new(),
        imported: Vec::new(),
        default_action: Action::Pass,
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
        },
        generated_at: jiff::Timestamp::now().to_string(),
    };
    let mut report = AuditReport::new(ctx, result);
    report.attach_remediation(crate::audit::remedy::dialect_of(loaded), loaded);
    Ok(report)
}

pub fn run(args: DemoArgs) -> Result<Exit, Error> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let loaded = demo_policy();
        // An earlier run to compare with, as `--baseline` would, then today's.
        let previous = audit_fixture(previous_config(), 0, &loaded).await?;
        let port = previous.inputs.epm_port;
        let mut report = audit_fixture(demo_config(), port, &loaded).await?;
        super::errln(format!(
            "rpcaudit demo: embedded endpoint mapper on 127.0.0.1:{port}, audited twice against the embedded policy {DEMO_POLICY_NAME} (the first run is the baseline)"
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
