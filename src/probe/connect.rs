//! One TCP connection attempt from an optional source address, classified: the step [`super::sweep`]
//! repeats per probe. A socket2 socket is created, bound to the source before connecting,
//! put in non-blocking mode and handed to tokio, which waits for the handshake to finish or fail.

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// What one attempt saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Handshake completed.
    Open { rtt: Duration },
    /// Reset / connection refused.
    Closed { rtt: Duration },
    /// An ICMP error (host or network unreachable); the message says which.
    Unreachable { rtt: Duration, error: String },
    /// Nothing came back before the timeout.
    NoAnswer,
    /// A local failure; the message says what could not be done.
    LocalError(String),
}

/// An attempt's outcome and the local address the kernel used for it (getsockname), when known.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub outcome: Outcome,
    pub local: Option<IpAddr>,
}

impl Attempt {
    fn local_error(message: String, local: Option<IpAddr>) -> Self {
        Attempt {
            outcome: Outcome::LocalError(message),
            local,
        }
    }
}

/// Try once to connect to `target`, from `source` if given, waiting at most `timeout`.
/// Must run inside a tokio runtime. Never panics; every failure is an [`Outcome`].
pub async fn attempt(source: Option<IpAddr>, target: SocketAddr, timeout: Duration) -> Attempt {
    if let Some(src) = source
        && src.is_ipv4() != target.is_ipv4()
    {
        return Attempt::local_error(
            format!(
                "source {src} and target {} are not the same address family",
                target.ip()
            ),
            None,
        );
    }
    let socket = match Socket::new(
        Domain::for_address(target),
        Type::STREAM,
        Some(Protocol::TCP),
    ) {
        Ok(s) => s,
        Err(e) => return Attempt::local_error(format!("cannot create a TCP socket: {e}"), None),
    };
    if let Err(e) = socket.set_nonblocking(true) {
        return Attempt::local_error(format!("cannot make the socket non-blocking: {e}"), None);
    }
    if let Some(src) = source
        && let Err(e) = socket.bind(&SockAddr::from(SocketAddr::new(src, 0)))
    {
        return Attempt::local_error(format!("cannot bind source address {src}: {e}"), None);
    }

    let start = Instant::now();
    let started = socket.connect(&SockAddr::from(target));
    // The kernel chose the local address when connect() began; read it before any answer.
    let local = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .or(source);
    match started {
        Ok(()) => {
            return Attempt {
                outcome: Outcome::Open {
                    rtt: start.elapsed(),
                },
                local,
            };
        }
        Err(e) if in_progress(&e) => {}
        Err(e) => {
            return Attempt {
                outcome: classify(e, target, start.elapsed()),
                local,
            };
        }
    }

    let stream = match TcpStream::from_std(std::net::TcpStream::from(socket)) {
        Ok(s) => s,
        Err(e) => return Attempt::local_error(format!("cannot register the socket: {e}"), local),
    };
    let deadline = tokio::time::Instant::from_std(start + timeout);
    let outcome = loop {
        match tokio::time::timeout_at(deadline, stream.writable()).await {
            Err(_) => break Outcome::NoAnswer,
            Ok(Err(e)) => break Outcome::LocalError(format!("waiting for {target}: {e}")),
            Ok(Ok(())) => {}
        }
        let rtt = start.elapsed();
        match stream.take_error() {
            Ok(Some(e)) => break classify(e, target, rtt),
            Err(e) => break classify(e, target, rtt),
            Ok(None) => {}
        }
        match stream.peer_addr() {
            Ok(_) => break Outcome::Open { rtt },
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                // Spurious wake-up: clear the readiness and wait again.
                let _ = stream.try_io(Interest::WRITABLE, || {
                    Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
                });
            }
            Err(e) => break classify(e, target, rtt),
        }
    };
    // Dropping the stream closes the socket: FIN after a completed handshake, and an
    // unanswered connection attempt is abandoned.
    Attempt { outcome, local }
}

/// A non-blocking connect that has begun: EINPROGRESS (115 on Linux, 36 on the BSDs and macOS;
/// its ErrorKind is not stable yet) or EWOULDBLOCK.
fn in_progress(e: &io::Error) -> bool {
    const EINPROGRESS: i32 = if cfg!(target_os = "linux") { 115 } else { 36 };
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(EINPROGRESS)
}

/// Map a connect error to what it says about the path.
fn classify(e: io::Error, target: SocketAddr, rtt: Duration) -> Outcome {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused | K::ConnectionReset => Outcome::Closed { rtt },
        K::HostUnreachable | K::NetworkUnreachable => Outcome::Unreachable {
            rtt,
            error: e.to_string(),
        },
        K::TimedOut => Outcome::NoAnswer,
        _ if is_host_down(&e) => Outcome::Unreachable {
            rtt,
            error: e.to_string(),
        },
        _ => Outcome::LocalError(format!("connect to {target}: {e}")),
    }
}

/// EHOSTDOWN has no ErrorKind of its own; Linux reports it for some ICMP host errors.
fn is_host_down(e: &io::Error) -> bool {
    cfg!(target_os = "linux") && e.raw_os_error() == Some(112)
}

/// The local address the kernel would use to reach `target` (a UDP socket "connected" to it:
/// a route lookup, no packet is sent). None when there is no route.
pub fn route_source(target: IpAddr) -> Option<IpAddr> {
    let any: IpAddr = if target.is_ipv4() {
        IpAddr::from([0u8; 4])
    } else {
        IpAddr::from([0u16; 8])
    };
    let sock = std::net::UdpSocket::bind(SocketAddr::new(any, 0)).ok()?;
    sock.connect(SocketAddr::new(target, 9)).ok()?;
    sock.local_addr()
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn listening_port_is_open_and_reports_the_local_address() {
        let listener = std::net::TcpListener::bind((LO, 0)).unwrap();
        let target = listener.local_addr().unwrap();
        let a = attempt(None, target, Duration::from_secs(2)).await;
        assert!(matches!(a.outcome, Outcome::Open { .. }), "{a:?}");
        assert_eq!(a.local, Some(LO));
    }

    #[tokio::test]
    async fn bound_source_is_used() {
        let listener = std::net::TcpListener::bind((LO, 0)).unwrap();
        let target = listener.local_addr().unwrap();
        let src: IpAddr = "127.0.0.2".parse().unwrap();
        let a = attempt(Some(src), target, Duration::from_secs(2)).await;
        assert!(matches!(a.outcome, Outcome::Open { .. }), "{a:?}");
        assert_eq!(a.local, Some(src));
        let (_conn, peer) = listener.accept().unwrap();
        assert_eq!(peer.ip(), src);
    }

    #[tokio::test]
    async fn port_without_listener_is_closed() {
        let listener = std::net::TcpListener::bind((LO, 0)).unwrap();
        let target = listener.local_addr().unwrap();
        drop(listener);
        let a = attempt(None, target, Duration::from_secs(2)).await;
        assert!(matches!(a.outcome, Outcome::Closed { .. }), "{a:?}");
    }

    #[tokio::test]
    async fn non_local_source_is_a_local_error_naming_it() {
        // 198.18.255.254 is assigned nowhere on this host: bind fails before any packet.
        let src: IpAddr = "198.18.255.254".parse().unwrap();
        let a = attempt(Some(src), SocketAddr::new(LO, 9), Duration::from_secs(1)).await;
        match a.outcome {
            Outcome::LocalError(msg) => {
                assert!(
                    msg.contains("cannot bind source address 198.18.255.254"),
                    "{msg}"
                )
            }
            other => panic!("expected a local error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn mixed_families_are_a_local_error() {
        let a = attempt(
            Some("::1".parse().unwrap()),
            SocketAddr::new(LO, 9),
            Duration::from_secs(1),
        )
        .await;
        assert!(
            matches!(&a.outcome, Outcome::LocalError(m) if m.contains("address family")),
            "{a:?}"
        );
    }

    #[test]
    fn route_source_of_loopback_is_loopback() {
        assert_eq!(route_source(LO), Some(LO));
    }

    #[test]
    fn errors_are_classified() {
        let t = SocketAddr::new(LO, 1);
        let z = Duration::ZERO;
        let k = |kind| io::Error::from(kind);
        assert_eq!(
            classify(k(io::ErrorKind::ConnectionRefused), t, z),
            Outcome::Closed { rtt: z }
        );
        assert!(matches!(
            classify(k(io::ErrorKind::HostUnreachable), t, z),
            Outcome::Unreachable { .. }
        ));
        assert!(matches!(
            classify(k(io::ErrorKind::NetworkUnreachable), t, z),
            Outcome::Unreachable { .. }
        ));
        assert_eq!(
            classify(k(io::ErrorKind::TimedOut), t, z),
            Outcome::NoAnswer
        );
        assert!(matches!(
            classify(k(io::ErrorKind::PermissionDenied), t, z),
            Outcome::LocalError(_)
        ));
    }
}
