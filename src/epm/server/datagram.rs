//! The fixture endpoint mapper over connectionless DCE/RPC (`ncadg_ip_udp`): one socket, one
//! [`Answers`] per client activity (so lookup handles live as they do on a connection), the
//! last reply of each activity kept so a retransmitted request is answered again rather than
//! executed twice, responses fragmented to the fixture's fragment size. The misbehaving modes
//! that make sense without a connection apply here too: silent, garbage, a short datagram, a
//! reject instead of a bind_nak, half a response then nothing (reset), slow fragments (drip),
//! small fragments (huge-alloc-hint), and every mode of the stubs (fault, same-handle,
//! endless, tower-overrun, ndr-tricks, hostile-text).

use super::{
    Answer, Answers, FAULT_ACCESS_DENIED, FixtureConfig, FixtureStats, Misbehave, reached_ipv4,
};
use crate::epm::EPM_INTERFACE;
use crate::wire::cl::{self, ClHeader, Datagram, flags1, ptype};
use std::collections::HashMap;
use std::time::Duration;
use tokio::net::UdpSocket;
use uuid::Uuid;

/// Most client activities remembered at once; beyond it the oldest are forgotten.
const MAX_ACTIVITIES: usize = 1024;
/// The fixture's boot time, as its responses carry it.
const SERVER_BOOT: u32 = 0x5eed_b007;
/// nca_s_unk_if: what the fixture rejects a call to another interface with.
const NCA_S_UNK_IF: u32 = 0x1c01_0003;
/// nca_s_proto_error: a fragmented request, which the fixture does not join.
const NCA_S_PROTO_ERROR: u32 = 0x1c01_000b;
/// Largest body per response datagram (within one Ethernet frame, as Windows sends).
const MAX_FRAG_BODY: usize = 1400;

/// One client activity.
struct Activity<'a> {
    answers: Answers<'a>,
    /// The last call answered, and the datagrams that answered it.
    last: Option<(u32, Vec<Vec<u8>>)>,
    /// When it was last heard from (for forgetting the oldest).
    seen: u64,
}

/// Serve `socket` forever.
pub async fn serve(
    socket: UdpSocket,
    config: &FixtureConfig,
    stats: &FixtureStats,
) -> std::io::Result<()> {
    let local_ip = reached_ipv4(socket.local_addr()?);
    let mut activities: HashMap<Uuid, Activity<'_>> = HashMap::new();
    let mut clock = 0u64;
    let mut buf = vec![0u8; cl::MAX_DATAGRAM];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            // An ICMP error for an earlier reply: not this loop's business.
            Err(_) => continue,
        };
        if config.misbehave == Some(Misbehave::Silent) {
            continue;
        }
        let Ok(d) = Datagram::decode(buf.get(..n).unwrap_or_default()) else {
            continue;
        };
        if d.header.ptype != ptype::REQUEST {
            // Facks, acks and pings need no answer from this fixture.
            continue;
        }
        let h = d.header.clone();
        let reply_header = |t: u8| ClHeader {
            interface: h.interface,
            activity: h.activity,
            server_boot: SERVER_BOOT,
            if_vers: h.if_vers,
            seqnum: h.seqnum,
            opnum: h.opnum,
            ..ClHeader::new(config.byte_order, t)
        };
        let status_reply = |t: u8, status: u32| {
            Datagram {
                header: reply_header(t),
                body: &config.byte_order.u32_bytes(status),
            }
            .encode()
        };
        let replies: Vec<Vec<u8>> = match config.misbehave {
            Some(Misbehave::Garbage) => vec![garbage()],
            Some(Misbehave::ShortFragment) => {
                let mut r = status_reply(ptype::RESPONSE, 0).map_err(std::io::Error::other)?;
                // A len of 5000 over the 4 bytes that follow.
                let len = config.byte_order.u16_bytes(5000);
                r[74] = len[0];
                r[75] = len[1];
                vec![r]
            }
            Some(Misbehave::BindNak) => {
                vec![status_reply(ptype::REJECT, NCA_S_UNK_IF).map_err(std::io::Error::other)?]
            }
            _ if h.interface != EPM_INTERFACE => {
                vec![status_reply(ptype::REJECT, NCA_S_UNK_IF).map_err(std::io::Error::other)?]
            }
            _ if h.is_fragment() => {
                vec![
                    status_reply(ptype::REJECT, NCA_S_PROTO_ERROR)
                        .map_err(std::io::Error::other)?,
                ]
            }
            _ if config.require_auth.is_some() => {
                vec![
                    status_reply(ptype::FAULT, FAULT_ACCESS_DENIED)
                        .map_err(std::io::Error::other)?,
                ]
            }
            _ => {
                clock += 1;
                if !activities.contains_key(&h.activity) && activities.len() >= MAX_ACTIVITIES {
                    forget_oldest(&mut activities);
                }
                let a = activities.entry(h.activity).or_insert_with(|| Activity {
                    answers: Answers::new(config, stats, local_ip),
                    last: None,
                    seen: 0,
                });
                a.seen = clock;
                match &a.last {
                    // A retransmission: the same answer again, not a second execution.
                    Some((seq, replies)) if *seq == h.seqnum => replies.clone(),
                    _ => {
                        let order = h.byte_order();
                        let replies = match a.answers.answer(h.opnum, d.body, order) {
                            Ok(Answer::Stub(stub)) => fragments(config, &reply_header, &stub)?,
                            Ok(Answer::Fault(status)) => vec![
                                status_reply(ptype::FAULT, status)
                                    .map_err(std::io::Error::other)?,
                            ],
                            Err(e) => return Err(std::io::Error::other(e)),
                        };
                        a.last = Some((h.seqnum, replies.clone()));
                        replies
                    }
                }
            }
        };
        send_all(&socket, peer, config, replies).await;
    }
}

/// Forget the activity heard from longest ago.
fn forget_oldest(activities: &mut HashMap<Uuid, Activity<'_>>) {
    if let Some(oldest) = activities
        .iter()
        .min_by_key(|(_, a)| a.seen)
        .map(|(k, _)| *k)
    {
        activities.remove(&oldest);
    }
}

/// Bytes that are no DCE/RPC at all.
fn garbage() -> Vec<u8> {
    b"HTTP/1.1 400 Bad Request\r\n\r\n"
        .iter()
        .copied()
        .chain((0..200u32).map(|k| (k.wrapping_mul(2_654_435_761) >> 24) as u8))
        .collect()
}

/// `stub` as response datagrams of at most [`MAX_FRAG_BODY`] (64 with huge-alloc-hint and
/// drip) bytes each, numbered, the last marked.
fn fragments(
    config: &FixtureConfig,
    header: &dyn Fn(u8) -> ClHeader,
    stub: &[u8],
) -> std::io::Result<Vec<Vec<u8>>> {
    let room = if matches!(
        config.misbehave,
        Some(Misbehave::HugeAllocHint | Misbehave::Drip)
    ) {
        64
    } else {
        MAX_FRAG_BODY.min(usize::from(config.max_xmit_frag).max(160) - cl::HEADER_LEN)
    };
    let chunks: Vec<&[u8]> = if stub.len() <= room {
        vec![stub]
    } else {
        stub.chunks(room).collect()
    };
    let count = chunks.len();
    let mut out = Vec::with_capacity(count);
    for (k, chunk) in chunks.into_iter().enumerate() {
        let mut h = header(ptype::RESPONSE);
        if count > 1 {
            h.flags1 |= flags1::FRAG;
            h.fragnum = u16::try_from(k).map_err(std::io::Error::other)?;
            h.serial = h.fragnum;
        }
        if k + 1 == count && count > 1 {
            h.flags1 |= flags1::LASTFRAG;
        }
        out.push(
            Datagram {
                header: h,
                body: chunk,
            }
            .encode()
            .map_err(std::io::Error::other)?,
        );
    }
    Ok(out)
}

/// Send `replies` to `peer` as the fixture's mode says: all at once, slowly (drip), or only
/// the first half (reset, which has no connection to reset here).
async fn send_all(
    socket: &UdpSocket,
    peer: std::net::SocketAddr,
    config: &FixtureConfig,
    replies: Vec<Vec<u8>>,
) {
    let count = match config.misbehave {
        Some(Misbehave::Reset) if replies.len() > 1 => replies.len() / 2,
        _ => replies.len(),
    };
    for r in replies.iter().take(count) {
        let _ = socket.send_to(r, peer).await;
        if config.misbehave == Some(Misbehave::Drip) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
