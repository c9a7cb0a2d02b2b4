//! rpcaudit: verify and audit Windows RPC endpoint exposure after the RPC dynamic port range was
//! restricted and fenced as Microsoft KB908472 prescribes.
//!
//! The flow (see DESIGN.md): targets go to [`epm::client`], which speaks the DCE/RPC wire format
//! from [`wire`] to dump the endpoint mapper; [`policy`] reads what the administrator meant;
//! [`probe`] observes what the network lets through; [`audit`] compares the three and [`report`]
//! renders the result. [`cli`] only parses arguments and maps outcomes to exit codes.
#![forbid(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod epm;
pub mod finding;
pub mod input;
pub mod policy;
pub mod ports;
pub mod probe;
pub mod report;
pub mod target;
pub mod wire;
