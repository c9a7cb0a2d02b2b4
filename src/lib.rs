//! rpcaudit: verify and audit Windows RPC endpoint exposure after the RPC dynamic port range was
//! restricted and fenced as Microsoft KB908472 prescribes.
//!
//! The flow: [`target`] reads the TARGET arguments; [`epm::client`], which speaks the DCE/RPC
//! wire format from [`wire`], dumps each endpoint mapper; [`policy`] reads what the
//! administrator meant; [`probe`] observes what the network lets through; [`audit`] compares the
//! three and [`report`] renders the result, every finding a [`finding::Code`]. [`cli`] parses
//! arguments, prints errors in one place and maps outcomes to exit codes. [`input`] is the one
//! capped file read, [`ports`] the one port-list parser, [`inert`] the one place that makes
//! untrusted text safe to show.
//!
//! The design, with each module's job and what it may use: `docs/DESIGN.md` in the repository.
#![forbid(unsafe_code)]

pub mod audit;
pub mod budget;
pub mod cli;
pub mod epm;
pub mod finding;
pub mod inert;
pub mod input;
pub mod jsonl;
pub mod krb;
pub mod pipeline;
pub mod policy;
pub mod ports;
pub mod probe;
pub mod report;
pub mod script;
pub mod smb;
pub mod target;
#[cfg(test)]
mod testing;
pub mod wire;
