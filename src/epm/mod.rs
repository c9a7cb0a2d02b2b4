//! The endpoint mapper, one level above the wire format: [`client`] dumps a host's EPM over
//! one of its roads ([`Transport`]: TCP 135, `ncacn_http` on TCP 593, and, through
//! [`datagram`], connectionless `ncadg_ip_udp` on UDP 135), [`server`] is the fixture EPM used
//! by the demo, the lab, tests and benches, and [`names`] tells well-known interfaces by UUID.
//! The types here are what the rest of the flow (capacity, audit, report) consumes.

pub mod auth;
pub mod catalogue;
pub mod client;
pub mod connection;
pub mod datagram;
pub mod dump;
pub mod kerberos;
pub mod krb_key;
pub mod krb_mic;
pub mod names;
pub mod pipe;
pub mod reach;
pub mod server;
pub mod survey;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use uuid::Uuid;

pub use crate::ports::EPM_PORT;
pub use crate::wire::epm::EPM_INTERFACE;

/// A road to the endpoint mapper: the protocol sequence it was read over. Named in JSON by
/// its lowercase name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `ncacn_ip_tcp` on TCP 135.
    Tcp,
    /// `ncacn_http` (RPC over HTTP v1, MS-RPCH): the `ncacn_http/1.0` banner, then
    /// connection-oriented PDUs, on TCP 593.
    Http,
    /// `ncadg_ip_udp`: connectionless DCE/RPC (C706 chapter 12) on UDP 135.
    Udp,
    /// `ncacn_np`: the named pipe `\\pipe\\epmapper` over SMB on TCP 445 (139: NetBIOS),
    /// [`pipe`].
    Smb,
}

impl Transport {
    /// Every road, in the order `--transport auto` tries them.
    pub const ALL: [Transport; 4] = [
        Transport::Tcp,
        Transport::Smb,
        Transport::Http,
        Transport::Udp,
    ];

    /// The protocol sequence of this road.
    pub fn protseq(self) -> &'static str {
        match self {
            Transport::Tcp => "ncacn_ip_tcp",
            Transport::Http => "ncacn_http",
            Transport::Udp => "ncadg_ip_udp",
            Transport::Smb => "ncacn_np",
        }
    }

    /// The endpoint mapper's well-known port on this road.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Tcp | Transport::Udp => EPM_PORT,
            Transport::Http => HTTP_EPM_PORT,
            Transport::Smb => pipe::SMB_PORT,
        }
    }

    /// The IP protocol the road runs over.
    pub fn ip_protocol(self) -> &'static str {
        match self {
            Transport::Tcp | Transport::Http | Transport::Smb => "TCP",
            Transport::Udp => "UDP",
        }
    }

    /// The JSON and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Http => "http",
            Transport::Udp => "udp",
            Transport::Smb => "smb",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The endpoint mapper's port for `ncacn_http` (`http-rpc-epmap`, MS-RPCH 2.1).
pub const HTTP_EPM_PORT: u16 = 593;

/// One registered endpoint as the endpoint mapper reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    /// Interface UUID, lowercase.
    pub interface: Uuid,
    /// Interface version, "major.minor".
    pub version: String,
    /// Short name of a well-known interface (e.g. "MS-SAMR samr"), if known.
    pub name: Option<String>,
    /// The catalogue's risk tags for the interface (`data/interfaces.tsv`); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<catalogue::Tag>,
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
    /// Floors of the tower that the binding does not read (an unknown protocol, an address of
    /// a kind its protocol sequence does not use), kept as they came; each is also a warning
    /// of the host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread_floors: Vec<UnreadFloor>,
}

/// A tower floor the binding did not read, as rpcdump-like tools name it, with its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnreadFloor {
    /// Its place in the tower, counted from 1 (as tshark counts).
    pub floor: usize,
    /// The name impacket's rpcdump gives it, e.g. `unknown_proto_0x20`.
    pub protocol: String,
    /// The left-hand side (protocol identifier and data), in hex.
    pub lhs: String,
    /// The right-hand side (address data), in hex.
    pub rhs: String,
}

impl Endpoint {
    /// True for connection-oriented TCP endpoints (`ncacn_ip_tcp`).
    pub fn is_tcp(&self) -> bool {
        self.protocol == "ncacn_ip_tcp"
    }

    /// True for the protocol sequences that listen on a TCP port of the RPC dynamic range:
    /// `ncacn_ip_tcp` and `ncacn_http` (MS-RPCH 2.1: its RPC endpoint is a TCP port).
    pub fn uses_dynamic_tcp_port(&self) -> bool {
        matches!(self.protocol.as_str(), "ncacn_ip_tcp" | "ncacn_http")
    }

    /// True for `ncadg_ip_udp`, which takes its UDP ports from the same configured range.
    pub fn uses_dynamic_udp_port(&self) -> bool {
        self.protocol == "ncadg_ip_udp"
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

impl HostStatus {
    /// How a table shows the status: `ok`, and the two that need attention in capitals.
    pub fn table_label(self) -> &'static str {
        match self {
            HostStatus::Ok => "ok",
            HostStatus::Partial => "PARTIAL",
            HostStatus::Error => "ERROR",
        }
    }
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
    /// The road the endpoint mapper answered on (`tcp`, `http`, `udp`); absent when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
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
    /// With `--auth-survey`: which ways in the endpoint mapper accepted (anonymous, NTLM and
    /// Kerberos, at which levels). Absent without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<Vec<survey::SurveyTry>>,
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

    /// Distinct TCP ports the host's RPC servers listen on: those of `ncacn_ip_tcp` and of
    /// `ncacn_http` endpoints (RPC over HTTP registers interfaces on ports of its own), sorted;
    /// what an audit probes besides the fence's ports.
    pub fn rpc_tcp_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .endpoints
            .iter()
            .filter(|e| e.is_tcp() || e.protocol == "ncacn_http")
            .filter_map(|e| e.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

impl HostDump {
    /// Distinct UDP ports of `ncadg_ip_udp` endpoints, sorted: what an audit probes over UDP
    /// besides UDP 135.
    pub fn rpc_udp_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .endpoints
            .iter()
            .filter(|e| e.uses_dynamic_udp_port())
            .filter_map(|e| e.port)
            .collect();
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
            tags: vec![],
            object: Uuid::nil(),
            annotation: String::new(),
            protocol: "ncacn_ip_tcp".into(),
            address: Some(address.into()),
            port: Some(port),
            binding: format!("ncacn_ip_tcp:{address}[{port}]"),
            unread_floors: Vec::new(),
        }
    }

    /// A whole dump (status ok, anonymous) of `target`, connected at `address` if any.
    pub fn dump(target: &str, address: Option<SocketAddr>, endpoints: Vec<Endpoint>) -> HostDump {
        HostDump {
            survey: None,
            target: target.into(),
            address,
            status: HostStatus::Ok,
            transport: Some(Transport::Tcp),
            error: None,
            warnings: vec![],
            endpoints,
            auth: None,
        }
    }
}
