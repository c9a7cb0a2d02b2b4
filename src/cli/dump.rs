//! `rpcaudit dump` (being built).
#[derive(Debug, clap::Args)]
pub struct DumpArgs {}
pub fn run(_args: DumpArgs) -> super::Exit {
    super::usage_error("dump: not built yet")
}
