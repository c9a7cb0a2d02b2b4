//! One UDP reachability attempt from an optional source address, classified: the UDP step
//! [`super::sweep`] repeats per probe, beside [`super::connect`]'s TCP one. UDP has no
//! handshake, so the attempt asks something only an RPC server answers: one connectionless
//! `ept_lookup` request datagram (C706 chapter 12, `ncadg_ip_udp`; idempotent, for one entry),
//! as PortQry asks UDP 135. Any connectionless PDU of this activity that comes back (a
//! response, a fault, a reject of the interface by a server port that is not the endpoint
//! mapper, a `working`) means RPC answers there: open. ICMP port unreachable (the socket is
//! connected, so the kernel reports it as connection refused) means nothing listens: closed.
//! Silence until the deadline is filtered, or a port with no listener on a host that sends no
//! ICMP: UDP cannot tell them apart. Datagrams that are not this activity's RPC answer are
//! ignored; every wait ends at the deadline, and one datagram at most is held.

use super::connect::{Attempt, Outcome};
use crate::wire::cl::{self, ClHeader, Datagram, flags1, ptype};
use crate::wire::epm::{EPM_INTERFACE, LookupRequest, OPNUM_LOOKUP};
use crate::wire::ndr::{ByteOrder, ContextHandle, Stub};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use uuid::Uuid;

/// The endpoint mapper's interface version as the header carries it (major 3, minor 0).
const EPM_IF_VERS: u32 = 3;

/// The request datagram of one attempt: `ept_lookup` of one entry, for `activity`.
pub fn request(activity: Uuid) -> Result<Vec<u8>, crate::wire::WireError> {
    let stub = LookupRequest::all(ContextHandle::NULL, 1).encode(ByteOrder::Little)?;
    Datagram {
        header: ClHeader {
            flags1: flags1::IDEMPOTENT,
            interface: EPM_INTERFACE,
            activity,
            if_vers: EPM_IF_VERS,
            opnum: OPNUM_LOOKUP,
            ..ClHeader::new(ByteOrder::Little, ptype::REQUEST)
        },
        body: &stub,
    }
    .encode()
}

/// True when `bytes` is a connectionless RPC PDU of `activity`: the server's answer.
pub fn answers(bytes: &[u8], activity: Uuid) -> bool {
    Datagram::decode(bytes).is_ok_and(|d| d.header.activity == activity)
}

/// Send one request to `target` (UDP), from `source` if given, and wait at most `timeout` for
/// the answer. Must run inside a tokio runtime. Never panics; every failure is an [`Outcome`].
pub async fn attempt(source: Option<IpAddr>, target: SocketAddr, timeout: Duration) -> Attempt {
    let fail = |message: String, local| Attempt {
        outcome: Outcome::LocalError(message),
        local,
    };
    if let Some(src) = source
        && src.is_ipv4() != target.is_ipv4()
    {
        return fail(
            format!(
                "source {src} and target {} are not the same address family",
                target.ip()
            ),
            None,
        );
    }
    let bind: SocketAddr = match (source, target) {
        (Some(src), _) => SocketAddr::new(src, 0),
        (None, SocketAddr::V4(_)) => SocketAddr::from(([0, 0, 0, 0], 0)),
        (None, SocketAddr::V6(_)) => SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => {
            return match source {
                Some(src) => fail(format!("cannot bind source address {src}: {e}"), None),
                None => fail(format!("cannot open a UDP socket: {e}"), None),
            };
        }
    };
    if let Err(e) = socket.connect(target).await {
        return Attempt {
            outcome: classify(e, target, Duration::ZERO),
            local: source,
        };
    }
    let local = socket
        .local_addr()
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .or(source);
    let activity = cl::new_activity();
    let bytes = match request(activity) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot encode the request: {e}"), local),
    };
    let start = Instant::now();
    if let Err(e) = socket.send(&bytes).await {
        return Attempt {
            outcome: classify(e, target, start.elapsed()),
            local,
        };
    }
    let deadline = tokio::time::Instant::from_std(start + timeout);
    let mut buf = vec![0u8; cl::MAX_DATAGRAM];
    let outcome = loop {
        match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => break Outcome::NoAnswer,
            Ok(Err(e)) => break classify(e, target, start.elapsed()),
            Ok(Ok(n)) => {
                if answers(buf.get(..n).unwrap_or_default(), activity) {
                    break Outcome::Open {
                        rtt: start.elapsed(),
                    };
                }
                // Not this activity's answer: keep waiting until the deadline.
            }
        }
    };
    Attempt { outcome, local }
}

/// Map a socket error to what it says about the path: ICMP port unreachable is closed, ICMP
/// host or network unreachable is unreachable.
fn classify(e: io::Error, target: SocketAddr, rtt: Duration) -> Outcome {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused | K::ConnectionReset => Outcome::Closed { rtt },
        K::HostUnreachable | K::NetworkUnreachable => Outcome::Unreachable {
            rtt,
            error: e.to_string(),
        },
        _ if cfg!(target_os = "linux") && e.raw_os_error() == Some(112) => Outcome::Unreachable {
            rtt,
            error: e.to_string(),
        },
        _ => Outcome::LocalError(format!("UDP to {target}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn the_request_is_an_idempotent_ept_lookup_and_only_its_activity_answers() {
        let a = cl::new_activity();
        let bytes = request(a).unwrap();
        let d = Datagram::decode(&bytes).unwrap();
        assert_eq!(d.header.ptype, ptype::REQUEST);
        assert_eq!(d.header.interface, EPM_INTERFACE);
        assert_eq!(d.header.opnum, OPNUM_LOOKUP);
        assert_ne!(d.header.flags1 & flags1::IDEMPOTENT, 0);
        assert!(answers(&bytes, a));
        assert!(!answers(&bytes, cl::new_activity()));
        assert!(!answers(b"not rpc", a));
        assert!(!answers(&bytes[..40], a));
    }

    #[tokio::test]
    async fn the_fixture_endpoint_mapper_answers_in_either_byte_order() {
        use crate::epm::server::{FixtureConfig, FixtureStats};
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let socket = tokio::net::UdpSocket::bind((LO, 0)).await.unwrap();
            let target = socket.local_addr().unwrap();
            let config = FixtureConfig {
                byte_order: order,
                ..FixtureConfig::windows_like(3, &"5001-5003".parse().unwrap(), 1, 0, "h")
            };
            let server = tokio::spawn(async move {
                let stats = FixtureStats::default();
                let _ = crate::epm::server::datagram::serve(socket, &config, &stats).await;
            });
            let a = attempt(None, target, Duration::from_secs(2)).await;
            server.abort();
            assert!(
                matches!(a.outcome, Outcome::Open { .. }),
                "{order:?}: {a:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_port_without_listener_is_closed() {
        let s = std::net::UdpSocket::bind((LO, 0)).unwrap();
        let target = s.local_addr().unwrap();
        drop(s);
        let a = attempt(None, target, Duration::from_secs(2)).await;
        assert!(matches!(a.outcome, Outcome::Closed { .. }), "{a:?}");
        assert_eq!(a.local, Some(LO));
    }

    #[tokio::test]
    async fn silence_is_no_answer_and_a_foreign_datagram_does_not_count() {
        // A peer that answers every datagram with bytes that are not RPC.
        let s = tokio::net::UdpSocket::bind((LO, 0)).await.unwrap();
        let target = s.local_addr().unwrap();
        let echo = tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while let Ok((_, peer)) = s.recv_from(&mut buf).await {
                let _ = s.send_to(b"hello", peer).await;
            }
        });
        let started = Instant::now();
        let a = attempt(
            Some("127.0.0.2".parse().unwrap()),
            target,
            Duration::from_millis(300),
        )
        .await;
        echo.abort();
        assert_eq!(a.outcome, Outcome::NoAnswer);
        assert_eq!(a.local, Some("127.0.0.2".parse().unwrap()));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    // Alike probe::connect's test of the same refusals: each socket kind (a TCP connect, a UDP bind)
    // refuses them on its own path, so each is tested on its own.
    async fn a_non_local_source_and_mixed_families_are_local_errors() {
        let a = attempt(
            Some("198.18.255.254".parse().unwrap()),
            SocketAddr::new(LO, 9),
            Duration::from_secs(1),
        )
        .await;
        assert!(
            matches!(&a.outcome, Outcome::LocalError(m) if m.contains("cannot bind source address 198.18.255.254")),
            "{a:?}"
        );
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
}
