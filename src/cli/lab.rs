//! `rpcaudit lab` (being built).
#[derive(Debug, clap::Subcommand)]
pub enum LabCommand {}
pub fn run(cmd: LabCommand) -> super::Exit {
    match cmd {}
}
