//! The demo's fence, standing in for the IPsec policy in force on the demo host: without root
//! there is no firewall to configure on loopback, so the listeners of the endpoint mapper's
//! stand-in port and of the range carry a classic BPF socket filter that drops every segment
//! from an IPv4 source outside the allowed block. A SYN from such a source is dropped before
//! the kernel answers it, so the probe sees the port filtered, as behind an IPsec block;
//! sources inside the block are not touched. The demo's other listeners (RPC over HTTP's
//! stand-in, the ports outside the range) carry none: a road the fence forgets.
//!
//! The filter only reads the packet's source address (the IPv4 header's bytes 12-15, reached
//! through the kernel's network-header offset `SKF_NET_OFF`) and compares it under the mask:
//! five instructions, attached through socket2 (no `unsafe` here). Linux only; elsewhere
//! [`AVAILABLE`] is false and the demo probes from the allowed source alone.

use ipnet::Ipv4Net;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Whether this platform can attach the filter (the demo then also probes from outside).
pub const AVAILABLE: bool = cfg!(target_os = "linux");

/// The filter program: accept a segment whose IPv4 source is in `allowed`, drop the others.
#[cfg(target_os = "linux")]
fn program(allowed: Ipv4Net) -> [socket2::SockFilter; 5] {
    use socket2::SockFilter;
    // Classic BPF opcodes (linux/filter.h): BPF_LD|BPF_W|BPF_ABS, BPF_ALU|BPF_AND|BPF_K,
    // BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K.
    const LD_W_ABS: u16 = 0x20;
    const AND_K: u16 = 0x54;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    // SKF_NET_OFF (-0x100000) + 12: the source address in the IPv4 header, loaded in host order.
    const SOURCE: u32 = 0xfff0_000c;
    [
        SockFilter::new(LD_W_ABS, 0, 0, SOURCE),
        SockFilter::new(AND_K, 0, 0, u32::from(allowed.netmask())),
        SockFilter::new(JEQ_K, 0, 1, u32::from(allowed.network())),
        SockFilter::new(RET_K, 0, 0, u32::MAX),
        SockFilter::new(RET_K, 0, 0, 0),
    ]
}

/// A listener on `addr` (with `SO_REUSEADDR`, as tokio's `bind` sets it, so a port the
/// earlier run left in `TIME_WAIT` binds again) that sources outside `allowed`, when given,
/// cannot reach (see the module's text; on other platforms than Linux nothing is filtered).
pub fn listener(addr: SocketAddr, allowed: Option<Ipv4Net>) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    #[cfg(target_os = "linux")]
    if let Some(allowed) = allowed {
        socket.attach_filter(&program(allowed))?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = allowed;
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    async fn connect_from(source: Ipv4Addr, to: SocketAddr) -> bool {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind((IpAddr::V4(source), 0).into()).unwrap();
        matches!(
            tokio::time::timeout(Duration::from_millis(300), s.connect(to)).await,
            Ok(Ok(_))
        )
    }

    #[tokio::test]
    async fn a_source_outside_the_block_gets_no_answer() {
        let l = listener(
            (Ipv4Addr::LOCALHOST, 0).into(),
            Some("127.0.0.0/24".parse().unwrap()),
        )
        .unwrap();
        let to = l.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            while let Ok((_, peer)) = l.accept().await {
                assert_ne!(peer.ip(), IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1)));
            }
        });
        assert!(connect_from(Ipv4Addr::LOCALHOST, to).await);
        assert!(connect_from(Ipv4Addr::new(127, 0, 0, 77), to).await);
        assert!(!connect_from(Ipv4Addr::new(127, 0, 1, 1), to).await);
        // The same port without the filter answers that source at once.
        accept.abort();
        let plain = listener((Ipv4Addr::LOCALHOST, 0).into(), None).unwrap();
        assert!(connect_from(Ipv4Addr::new(127, 0, 1, 1), plain.local_addr().unwrap()).await);
    }
}
