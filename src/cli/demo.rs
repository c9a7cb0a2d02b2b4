//! `rpcaudit demo`: a full run against the embedded fixture endpoint mapper on loopback, for
//! trying the tool with no Windows host, no root and no network.

use super::Exit;
use super::dump::{EpmArgs, dump_targets, print_dump};
use crate::epm::server::{FixtureConfig, FixtureServer};
use crate::ports::PortRanges;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The demo host: 24 TCP registrations, most in the article's range 5001-5021, three on
/// ports of the Vista+ default dynamic range as a server that was never restarted would have.
pub fn demo_config() -> FixtureConfig {
    let ports = PortRanges::from_ranges([(5001, 5008), (49664, 49666)]);
    FixtureConfig::windows_like(24, &ports, 6, 6, "DEMO-DC01")
}

pub fn run(args: DemoArgs) -> Exit {
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(e) => return super::usage_error(format!("cannot start the async runtime: {e}")),
    };
    rt.block_on(async {
        let server = match FixtureServer::start(([127, 0, 0, 1], 0).into(), demo_config()).await {
            Ok(s) => s,
            Err(e) => {
                return super::usage_error(format!(
                    "cannot start the demo endpoint mapper on loopback: {e}"
                ));
            }
        };
        let addr = server.local_addr();
        eprintln!("rpcaudit demo: embedded endpoint mapper listening on {addr}");
        let epm = EpmArgs {
            port: addr.port(),
            timeout: 10.0,
            concurrency: 1,
            max_entries: 10_000,
        };
        let hosts = match dump_targets(&[addr.ip().to_string()], &epm).await {
            Ok(h) => h,
            Err(e) => return super::usage_error(e),
        };
        server.stop();
        print_dump(&hosts, args.json);
        super::dump::completeness(&hosts)
    })
}
