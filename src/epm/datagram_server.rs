//! The fixture endpoint mapper over connectionless DCE/RPC (`ncadg_ip_udp`).

use super::server::{FixtureConfig, FixtureStats};

/// Placeholder.
pub async fn serve(
    socket: tokio::net::UdpSocket,
    _config: &FixtureConfig,
    _stats: &FixtureStats,
) -> std::io::Result<()> {
    let _ = socket;
    std::future::pending().await
}
