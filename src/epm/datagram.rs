//! The endpoint mapper over connectionless DCE/RPC (`ncadg_ip_udp`, UDP 135).

use std::net::SocketAddr;

/// What the connectionless road could not do or read.
#[derive(Debug, thiserror::Error)]
pub enum DatagramError {
    #[error("the UDP road is not read yet ({0})")]
    NotYet(SocketAddr),
}

impl DatagramError {
    /// Nothing answered on the road.
    pub fn is_unreachable(&self) -> bool {
        true
    }
}

/// Placeholder: the UDP road.
pub(crate) async fn attempt(
    addrs: &[SocketAddr],
    _opts: &super::client::DumpOptions,
    _deadline: tokio::time::Instant,
    _d: &mut super::HostDump,
) -> Result<super::client::Ending, super::client::DumpError> {
    Err(super::client::DumpError::Datagram {
        step: "connect",
        source: DatagramError::NotYet(addrs.first().copied().unwrap_or(([0, 0, 0, 0], 0).into())),
    })
}
