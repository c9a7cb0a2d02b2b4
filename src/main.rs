//! The `rpcaudit` binary: [`rpcaudit::cli::main`] parses the command line, runs it and prints
//! what went wrong; its outcome is the exit code.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(rpcaudit::cli::main().code())
}
