//! `rpcaudit probe` (being built).
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {}
pub fn run(_args: ProbeArgs) -> super::Exit {
    super::usage_error("probe: not built yet")
}
