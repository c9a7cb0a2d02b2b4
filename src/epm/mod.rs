//! The endpoint mapper, one level above the wire format: [`client`] dumps a host's EPM over
//! TCP 135, [`server`] is the fixture EPM used by the demo, the lab, tests and benches, and
//! [`names`] tells well-known interfaces by UUID. The types here are what the rest of the flow
//! (capacity, audit, report) consumes.

pub mod auth;
pub mod client;
pub mod connection;
pub mod names;
pub mod pipe;
pub mod server;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use uuid::Uuid;

pub use crate::ports::EPM_PORT;
pub use crate::wire::epm::EPM_INTERFACE;

/// One registered endpoint as the endpoint mapper reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    /// Interface UUID, lowercase.
    pub interface: Uuid,
    /// Interface version, "major.minor".
    pub version: String,
    /// Short name of a well-known interface (e.g. "MS-SAMR samr"), if known.
    pub name: Option<String>,
    /// Object UUID (nil for most registrations).
    pub object: Uuid,
    /// The annotation the server registered, possibly empty.
    pub annotation: String,
    /// Protocol sequence, e.g. "ncacn_ip_tcp", "ncacn_np", "ncalrpc".
    pub protocol: String,
    /// Network address from the tower (IP, host name, pipe's host), if any.
    pub address: Option<String>,
    /// TCP or UDP port, for ncacn_ip_tcp, ncadg_ip_udp and ncacn_http.
    pub port: Option<u16>,
    /// The string binding, e.g. `ncacn_ip_tcp:198.18.0.10[5001]`.
    pub binding: String,
}

impl Endpoint {
    /// True for connection-oriented TCP endpoints (`ncacn_ip_tcp`), the ones the RPC dynamic
    /// range governs.
    pub fn is_tcp(&self) -> bool {
        self.protocol == "ncacn_ip_tcp"
    }
}

/// How far one host's dump got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HostStatus {
    /// The whole endpoint list was read.
    Ok,
    /// Some entries were read, then a cap, a deadline or an error stopped the dump.
    Partial,
    /// Nothing usable was read.
    Error,
}

/// The result of dumping one target's endpoint mapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostDump {
    /// The target as given (address or host name).
    pub target: String,
    /// The socket address actually connected to, if any.
    #[schemars(with = "Option<String>")]
    pub address: Option<SocketAddr>,
    pub status: HostStatus,
    /// What went wrong, naming the host and the step, when status is not ok.
    pub error: Option<String>,
    /// Things worth knowing that did not stop the dump (e.g. an entry whose tower was
    /// malformed and was left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    /// How the endpoint mapper was authenticated to, when it was: mechanism, level and
    /// account, never a secret. Absent for anonymous dumps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<auth::AuthInfo>,
}

impl HostDump {
    /// Endpoints bound to TCP (`ncacn_ip_tcp`).
    pub fn tcp_endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(|e| e.is_tcp())
    }

    /// Distinct TCP ports of `ncacn_ip_tcp` endpoints, sorted.
    pub fn tcp_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self.tcp_endpoints().filter_map(|e| e.port).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// Small builders for tests of code that judges or renders dumps.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A TCP endpoint of interface `iface` on `address`:`port` (version 1.0, no name, no
    /// annotation).
    pub fn tcp_endpoint(address: &str, port: u16, iface: u128) -> Endpoint {
        Endpoint {
            interface: Uuid::from_u128(iface),
            version: "1.0".into(),
            name: None,
            object: Uuid::nil(),
            annotation: String::new(),
            protocol: "ncacn_ip_tcp".into(),
            address: Some(address.into()),
            port: Some(port),
            binding: format!("ncacn_ip_tcp:{address}[{port}]"),
        }
    }

    /// A whole dump (status ok, anonymous) of `target`, connected at `address` if any.
    pub fn dump(target: &str, address: Option<SocketAddr>, endpoints: Vec<Endpoint>) -> HostDump {
        HostDump {
            target: target.into(),
            address,
            status: HostStatus::Ok,
            error: None,
            warnings: vec![],
            endpoints,
            auth: None,
        }
    }
}
