//! The `rpcaudit` binary: parse the command line, run it, map the outcome to an exit code.
#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = rpcaudit::cli::Cli::parse();
    ExitCode::from(rpcaudit::cli::run(cli).code())
}
