//! The endpoint-mapper client over connectionless DCE/RPC (`ncadg_ip_udp`, UDP 135), as PortQry
//! asks it: one activity per host, one request datagram per call (idempotent, sequence numbers
//! counting up, the server's boot time echoed once known), the response reassembled from its
//! fragments under caps ([`crate::wire::cl::ClReassembler`]), each fragment acknowledged with a
//! fack unless the server said not to. Every call waits under the same bounds as on TCP (its
//! own and the host's), and a request with no answer is sent again at most [`MAX_SENDS`] times
//! within them. The lookup loop is the client's ([`super::client::lookup_all`]).
//! Anonymous only: there is no bind on this road, and authenticated datagrams are not read.

/// Its errors are part of the client's [`DumpError`], so the type lives there.
pub use super::client::DatagramError;
use super::client::{Bound, Calls, DumpError, DumpOptions, Ending, STATUS_ACCESS_DENIED};
use super::{EPM_INTERFACE, HostDump, Transport};
use crate::wire::cl::{
    self, ClHeader, ClProgress, ClReassembler, Datagram, flags1, new_activity, ptype,
};
use crate::wire::ndr::ByteOrder;
use crate::wire::pdu;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};
use uuid::Uuid;

/// Most times one request is sent (the first time and the retransmissions).
pub const MAX_SENDS: u32 = 4;
/// Most fragments of one response.
pub const MAX_FRAGMENTS: usize = 4096;
/// The largest wait for an answer before the request is sent again.
const RETRANSMIT: Duration = Duration::from_millis(1000);
/// The receive window a fack offers, in fragments.
const FACK_WINDOW: u16 = 32;
/// The endpoint mapper's interface version as the header carries it (major 3, minor 0).
const EPM_IF_VERS: u32 = 3;

impl DatagramError {
    /// Nothing answered on the road: refused (ICMP) or silent.
    pub fn is_unreachable(&self) -> bool {
        match self {
            DatagramError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
            ),
            DatagramError::NoAnswer { .. } | DatagramError::Socket(_) => true,
            _ => false,
        }
    }
}

/// One activity with one host's endpoint mapper over UDP.
pub struct ClSession {
    socket: UdpSocket,
    peer: SocketAddr,
    activity: Uuid,
    /// The next call's sequence number.
    seqnum: u32,
    /// The server's boot time, once an answer told it.
    server_boot: u32,
    max_stub: usize,
    call_timeout: Duration,
    deadline: Instant,
    host_timeout: Duration,
    /// The receive buffer: one datagram at most.
    buf: Vec<u8>,
}

impl ClSession {
    /// A socket connected to `peer` (so that only its datagrams are read), for one activity.
    pub async fn open(
        peer: SocketAddr,
        opts: &DumpOptions,
        deadline: Instant,
    ) -> Result<Self, DumpError> {
        let step = "open";
        let any: SocketAddr = if peer.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(any)
            .await
            .map_err(|e| DumpError::Datagram {
                step,
                source: DatagramError::Socket(e),
            })?;
        socket
            .connect(peer)
            .await
            .map_err(|source| DumpError::Datagram {
                step,
                source: DatagramError::Io { addr: peer, source },
            })?;
        Ok(ClSession {
            socket,
            peer,
            activity: new_activity(),
            seqnum: 0,
            server_boot: 0,
            max_stub: opts.max_stub,
            call_timeout: opts.call_timeout,
            deadline,
            host_timeout: opts.timeout,
            buf: vec![0u8; cl::MAX_DATAGRAM],
        })
    }

    fn bound(&self, by: Instant) -> Bound {
        if by == self.deadline {
            Bound::Host(self.host_timeout)
        } else {
            Bound::Step(self.call_timeout)
        }
    }

    async fn send(&self, step: &'static str, bytes: &[u8]) -> Result<(), DumpError> {
        self.socket
            .send(bytes)
            .await
            .map(|_| ())
            .map_err(|source| DumpError::Datagram {
                step,
                source: DatagramError::Io {
                    addr: self.peer,
                    source,
                },
            })
    }

    /// The header of a PDU of this activity's current call.
    fn header(&self, t: u8, seqnum: u32, opnum: u16) -> ClHeader {
        ClHeader {
            flags1: if t == ptype::REQUEST {
                flags1::IDEMPOTENT
            } else {
                0
            },
            interface: EPM_INTERFACE,
            activity: self.activity,
            server_boot: self.server_boot,
            if_vers: EPM_IF_VERS,
            seqnum,
            opnum,
            ..ClHeader::new(ByteOrder::Little, t)
        }
    }

    async fn call_cl(
        &mut self,
        step: &'static str,
        opnum: u16,
        stub: &[u8],
    ) -> Result<(Vec<u8>, ByteOrder), DumpError> {
        let wire = |source| DumpError::Wire { step, source };
        let seqnum = self.seqnum;
        self.seqnum = self.seqnum.wrapping_add(1);
        let by = self.deadline.min(Instant::now() + self.call_timeout);
        let retransmit = RETRANSMIT
            .min(self.call_timeout / MAX_SENDS)
            .max(Duration::from_millis(50));
        let mut reassembler = ClReassembler::new(self.max_stub, MAX_FRAGMENTS);
        let mut sends = 0u32;
        let mut resend_at = Instant::now();
        loop {
            if Instant::now() >= resend_at && sends < MAX_SENDS {
                // The server's boot time as last known (zero on the first call).
                let request = Datagram {
                    header: self.header(ptype::REQUEST, seqnum, opnum),
                    body: stub,
                }
                .encode()
                .map_err(wire)?;
                self.send(step, &request).await?;
                sends += 1;
                resend_at = Instant::now() + retransmit;
            }
            let wait_until = if sends < MAX_SENDS {
                by.min(resend_at)
            } else {
                by
            };
            let n = match timeout_at(wait_until, self.socket.recv(&mut self.buf)).await {
                Err(_) if wait_until < by => continue,
                Err(_) => {
                    let (held, last) = reassembler.held();
                    let source = if held == 0 {
                        DatagramError::NoAnswer {
                            sends,
                            bound: self.bound(by),
                        }
                    } else {
                        DatagramError::Stalled {
                            held,
                            last,
                            bound: self.bound(by),
                        }
                    };
                    return Err(DumpError::Datagram { step, source });
                }
                Ok(Err(source)) => {
                    return Err(DumpError::Datagram {
                        step,
                        source: DatagramError::Io {
                            addr: self.peer,
                            source,
                        },
                    });
                }
                Ok(Ok(n)) => n,
            };
            let bytes = self.buf.get(..n).unwrap_or_default();
            let d = Datagram::decode(bytes).map_err(wire)?;
            let h = &d.header;
            if h.activity != self.activity || h.seqnum != seqnum {
                // A late answer to an earlier call, or not ours: not this call's.
                continue;
            }
            let order = h.byte_order();
            match h.ptype {
                ptype::RESPONSE => {
                    self.server_boot = h.server_boot;
                    let progress = reassembler.push(h, d.body).map_err(wire)?;
                    if h.is_fragment() && h.flags1 & flags1::NOFACK == 0 {
                        self.fack(step, seqnum, opnum, h.serial, &reassembler)
                            .await?;
                    }
                    match progress {
                        ClProgress::Complete => {
                            let order = reassembler.order().unwrap_or(order);
                            return Ok((reassembler.into_body(), order));
                        }
                        // The server is answering: wait for the rest rather than ask again.
                        ClProgress::More | ClProgress::Duplicate => {
                            resend_at = Instant::now() + retransmit;
                        }
                    }
                }
                ptype::WORKING => resend_at = Instant::now() + retransmit,
                // The server has no record of the call: send it again (within MAX_SENDS).
                ptype::NOCALL => resend_at = Instant::now(),
                ptype::FACK => {}
                ptype::FAULT => {
                    let status = cl::status_body(d.body, order).map_err(wire)?;
                    return Err(if status == STATUS_ACCESS_DENIED {
                        DumpError::AnonymousRefused {
                            step,
                            creds_unused: false,
                        }
                    } else {
                        DumpError::Fault {
                            step,
                            status: pdu::describe_status(status),
                            code: status,
                        }
                    });
                }
                ptype::REJECT => {
                    let status = cl::status_body(d.body, order).map_err(wire)?;
                    return Err(DumpError::Datagram {
                        step,
                        source: DatagramError::Rejected(pdu::describe_status(status)),
                    });
                }
                other => {
                    return Err(DumpError::Datagram {
                        step,
                        source: DatagramError::Unexpected(cl::ptype_name(other)),
                    });
                }
            }
        }
    }

    /// Acknowledge the fragments held so far (up to the first gap) and fragment `serial`.
    async fn fack(
        &self,
        step: &'static str,
        seqnum: u32,
        opnum: u16,
        serial: u16,
        r: &ClReassembler,
    ) -> Result<(), DumpError> {
        let Some(top) = r.contiguous() else {
            return Ok(());
        };
        let body = cl::fack_body(ByteOrder::Little, FACK_WINDOW, 1464, serial);
        let bytes = Datagram {
            header: ClHeader {
                fragnum: top,
                ..self.header(ptype::FACK, seqnum, opnum)
            },
            body: &body,
        }
        .encode()
        .map_err(|source| DumpError::Wire { step, source })?;
        self.send(step, &bytes).await
    }
}

// Calls as EpmSession implements it in client.rs, each session with its own call: the
// connection-oriented call_co there, the connectionless call_cl here.
impl Calls for ClSession {
    fn call(
        &mut self,
        step: &'static str,
        opnum: u16,
        stub: &[u8],
    ) -> impl std::future::Future<Output = Result<(Vec<u8>, ByteOrder), DumpError>> + Send {
        self.call_cl(step, opnum, stub)
    }
}

/// Read the endpoint mapper over UDP at each of `addrs` in turn until one answers, filling
/// `d` (its address and road are set while a host answers, and cleared when none did).
pub(crate) async fn attempt(
    addrs: &[SocketAddr],
    opts: &DumpOptions,
    deadline: Instant,
    d: &mut HostDump,
) -> Result<Ending, DumpError> {
    let mut last_err = None;
    for addr in addrs {
        let mut s = match ClSession::open(*addr, opts, deadline).await {
            Ok(s) => s,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        d.address = Some(*addr);
        d.transport = Some(Transport::Udp);
        let r = super::client::lookup_all(&mut s, opts, &mut d.endpoints, &mut d.warnings).await;
        match r {
            Err(e) if e.is_unreachable() && d.endpoints.is_empty() => {
                d.address = None;
                d.transport = None;
                last_err = Some(e);
            }
            other => return other,
        }
    }
    Err(last_err.unwrap_or(DumpError::NoAddress))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activities_are_version_4_uuids_and_differ() {
        let a = new_activity();
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(a, new_activity());
    }
}
