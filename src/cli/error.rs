//! Why a command could not do its job. Every command returns `Result<Exit, Error>`; the error
//! is printed once, by [`super::main`] (through [`super::errln`], so escaped like everything
//! else this binary prints), and mapped to its exit code by [`Error::exit`]. The layers below
//! have typed errors of their own (policy, target, probe, report); this type wraps them and adds
//! what only the command line can get wrong.

use super::Exit;
use crate::policy::PolicyError;
use crate::ports::PortSpecError;
use crate::probe::ObservationsFileError;
use crate::report::diff::BaselineError;
use crate::target::TargetError;
use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line itself: clap's message (or, for `--help` and `--version`, the text
    /// asked for, which goes to stdout).
    #[error("{0}")]
    Clap(#[from] clap::Error),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Observations(#[from] ObservationsFileError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// `audit --interface-observations FILE`: a document that cannot be imported.
    #[error("{file}: {cause}")]
    InterfaceObservations { file: String, cause: String },
    /// `policy rpc-filter-script`: a value the script cannot carry safely (the refusal says
    /// which and why).
    #[error("no script written: {0}")]
    ScriptRefused(String),
    /// The targets expanded to nothing.
    #[error("no targets given")]
    NoTargets,
    /// `--exclude`/`--exclude-file` left nothing of the targets.
    #[error("no targets left: --exclude/--exclude-file leave out every one")]
    AllExcluded,
    /// `--timeout` (seconds) outside what a dump may take.
    #[error("--timeout {0} must be between 0 and 3600 seconds")]
    DumpTimeout(f64),
    /// A port list flag clap read as text that is not a port list; `spec` is an excerpt.
    #[error("{flag} '{spec}': {source}")]
    Ports {
        flag: &'static str,
        spec: String,
        #[source]
        source: PortSpecError,
    },
    /// `--ports 0`: nothing can be sent to port 0.
    #[error("--ports: port 0 cannot be probed")]
    ProbePortZero,
    /// `--range` with port 0 in it; `spec` is an excerpt.
    #[error("--range '{spec}': port 0 cannot be in the range")]
    RangePortZero { spec: String },
    /// `capacity --config`: the files configure no range; `files` lists them.
    #[error(
        "{files}: no RPC range configured (no rpccfg -pe/-pi line and no Rpc\\Internet Ports value)"
    )]
    NoRange { files: String },
    /// `capacity --config`: RPC would reject the configured range; each item is
    /// `file:line: message` of a `range-invalid` finding.
    #[error("{}", .0.join("; "))]
    RangeInvalid(Vec<String>),
    /// `capacity --config`: the configured range has no port.
    #[error("{files}: the configured RPC range is empty")]
    RangeEmpty { files: String },
    /// `--user` and the secret flags: what is missing or malformed (never the secret itself).
    #[error(transparent)]
    Credentials(#[from] super::dump::CredentialsError),
    /// `lab serve`: a fixture option that cannot be served (e.g. `--require-auth`).
    #[error(transparent)]
    LabConfig(#[from] super::lab::LabConfigError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `demo`: the embedded endpoint mapper could not listen on loopback.
    #[error("cannot start the demo endpoint mapper on loopback: {0}")]
    DemoServer(#[source] std::io::Error),
    /// `lab serve`: the listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A result could not be encoded as JSON for stdout.
    #[error("cannot encode JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// `--output`: the report could not be encoded.
    #[error("{path}: cannot encode the report: {source}")]
    EncodeReport {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// `--html`, `--sarif`: the file could not be written; `what` names the kind.
    #[error("{path}: cannot write the {what}: {source}")]
    WriteFile {
        path: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// SARIF URIs are relative to the working directory, which could not be read.
    #[error("cannot read the working directory: {0}")]
    WorkingDirectory(#[source] std::io::Error),
    /// `--output`: the report could not be written.
    #[error("{path}: cannot write the report: {source}")]
    WriteReport {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// `completions`, `man`: clap_complete or clap_mangen could not produce the text.
    #[error("cannot generate the {what}: {reason}")]
    Generate { what: &'static str, reason: String },
}

impl Error {
    /// The exit code the error ends the run with: 0 for `--help` and `--version`; 3 when a
    /// result was gathered but could not be written out (the answer is incomplete); else 2 (bad
    /// input, usage, or an environment the run could not start in).
    pub fn exit(&self) -> Exit {
        match self {
            Error::Clap(e) if !e.use_stderr() => Exit::Ok,
            Error::Json(_) => Exit::Incomplete,
            _ => Exit::Usage,
        }
    }
}
