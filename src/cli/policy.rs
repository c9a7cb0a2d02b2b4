//! `rpcaudit policy` (being built).
#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {}
pub fn run(cmd: PolicyCommand) -> super::Exit {
    match cmd {}
}
