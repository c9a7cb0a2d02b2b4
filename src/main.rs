//! The `rpcaudit` binary: parse the command line, run it, map the outcome to an exit code.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let exit = match rpcaudit::cli::parse() {
        Ok(cli) => rpcaudit::cli::run(cli),
        Err(exit) => exit,
    };
    ExitCode::from(exit.code())
}
