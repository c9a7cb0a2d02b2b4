//! Seed generator for the fuzz targets: writes valid inputs, built with the crate's own
//! encoders and fixture types, into `<out>/<target>/<name>` (default `<out>` is `seeds`).
//!
//! `cargo run --example gen_seeds -- seeds` (from `fuzz/`). The committed `fuzz/seeds/` set is
//! its output; a fuzzing run reads it as an extra, read-only corpus.

use rpcaudit::epm::EPM_INTERFACE;
use rpcaudit::epm::server::FixtureConfig;
use rpcaudit::ports::PortRanges;
use rpcaudit::wire::epm::{
    EntryTower, EptEntry, HandleFreeRequest, HandleFreeResponse, LookupRequest, LookupResponse,
    MapRequest, MapResponse,
};
use rpcaudit::wire::ndr::{ByteOrder, ContextHandle, Stub};
use rpcaudit::wire::pdu::{
    Bind, BindAck, BindNak, Body, ContextResult, Fault, NDR20, PFC_FIRST_FRAG, PFC_LAST_FRAG, Pdu,
    ReplyHead, Request, Response, SyntaxId,
};
use rpcaudit::wire::tower::{Binding, Floor, Tower, proto};
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use uuid::Uuid;

type Res<T> = Result<T, Box<dyn Error>>;

const SAMR: Uuid = Uuid::from_u128(0x12345778_1234_abcd_ef00_0123456789ac);
const ADDR: &str = "198.18.0.10";
const BOTH: u8 = PFC_FIRST_FRAG | PFC_LAST_FRAG;

/// The bind the client sends: the endpoint mapper in NDR 2.0.
fn epm_bind() -> Bind {
    Bind::offer(SyntaxId::new(EPM_INTERFACE, 3, 0), 5840)
}

/// A page of the fixture's entries, as an `ept_lookup` response stub in `order`.
fn lookup_page(handle: ContextHandle, order: ByteOrder) -> Res<Vec<u8>> {
    let page = LookupResponse {
        handle,
        max_count: 500,
        entries: fixture_entries()?,
        status: 0,
    };
    Ok(page.encode(order)?)
}

struct Out {
    root: PathBuf,
    count: usize,
}

impl Out {
    fn put(&mut self, target: &str, name: &str, bytes: &[u8]) -> Res<()> {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), bytes)?;
        self.count += 1;
        Ok(())
    }
}

fn order_name(order: ByteOrder) -> &'static str {
    match order {
        ByteOrder::Little => "le",
        ByteOrder::Big => "be",
    }
}

fn binding(text: &str) -> Res<Binding> {
    Ok(Binding::parse(text)?.1)
}

/// The fixture's Windows-like registrations as `ept_lookup` entries, the address filled in as
/// the fixture server does for a client that reached `ADDR`.
fn fixture_entries() -> Res<Vec<EptEntry>> {
    let ports: PortRanges = "5001-5021".parse()?;
    let cfg = FixtureConfig::windows_like(6, &ports, 2, 2, "DC1");
    let mut out = Vec::new();
    for e in &cfg.endpoints {
        let mut b = e.binding.clone();
        if b.protseq == "ncacn_ip_tcp" && b.address.is_none() {
            b.address = Some(ADDR.to_string());
        }
        out.push(EptEntry {
            object: e.object,
            tower: EntryTower::Decoded(Tower::for_binding(e.interface, e.major, e.minor, &b)?),
            annotation: e.annotation.clone(),
        });
    }
    Ok(out)
}

fn towers() -> Res<Vec<(&'static str, Tower)>> {
    let mut t = Vec::new();
    for (name, text) in [
        ("ncacn_ip_tcp", "ncacn_ip_tcp:198.18.0.10[5001]"),
        ("ncadg_ip_udp", "ncadg_ip_udp:198.18.0.10[1025]"),
        ("ncacn_http", "ncacn_http:198.18.0.10[593]"),
        ("ncacn_np", "ncacn_np:\\\\DC1[\\pipe\\lsass]"),
        ("ncalrpc", "ncalrpc:[LRPC-0123456789abcdef]"),
    ] {
        t.push((name, Tower::for_binding(SAMR, 1, 0, &binding(text)?)?));
    }
    // Towers `for_binding` does not build: SAMR in NDR 2.0 over `protocol`, then `lower`.
    let tower = |protocol, lower: Floor, below: Option<Floor>| Tower {
        floors: [
            Floor::Uuid {
                uuid: SAMR,
                major: 1,
                minor: 0,
            },
            Floor::Uuid {
                uuid: NDR20.uuid,
                major: 2,
                minor: 0,
            },
            Floor::Rpc { protocol, minor: 0 },
            lower,
        ]
        .into_iter()
        .chain(below)
        .collect(),
    };
    let tcp = Floor::Unknown {
        lhs: vec![proto::TCP],
        rhs: vec![],
    };
    t.push((
        "ncacn_nb_tcp",
        tower(proto::NCACN, Floor::NetBios("DC1".into()), Some(tcp)),
    ));
    t.push((
        "ncacn_unix_stream",
        tower(
            proto::NCACN,
            Floor::UnixSocket("/run/samba/ncalrpc/EPMAPPER".into()),
            None,
        ),
    ));
    let ipx = Floor::Unknown {
        lhs: vec![proto::IPX],
        rhs: vec![0, 0, 0, 1, 2, 3, 4, 5, 6, 7],
    };
    t.push(("unknown_ipx", tower(proto::NCADG, ipx, None)));
    Ok(t)
}

fn pdus(out: &mut Out) -> Res<()> {
    let bind = epm_bind();
    let ack = BindAck {
        max_xmit_frag: 4280,
        max_recv_frag: 4280,
        assoc_group_id: 0x53f0,
        secondary_address: "135".into(),
        results: vec![ContextResult {
            result: 0,
            reason: 0,
            transfer_syntax: NDR20,
        }],
    };
    let lookup = LookupRequest::all(ContextHandle::NULL, 500);
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let o = order_name(order);
        let req_stub = lookup.encode(order)?;
        let resp_stub = lookup_page(ContextHandle::NULL, order)?;
        let list: Vec<(&str, Pdu<'_>)> = vec![
            ("bind", Pdu::new(order, 1, BOTH, Body::Bind(bind.clone()))),
            (
                "bind_ack",
                Pdu::new(order, 1, BOTH, Body::BindAck(ack.clone())),
            ),
            (
                "bind_nak",
                Pdu::new(
                    order,
                    1,
                    BOTH,
                    Body::BindNak(BindNak {
                        reject_reason: 4,
                        versions: vec![(5, 0)],
                    }),
                ),
            ),
            (
                "alter_context",
                Pdu::new(order, 1, BOTH, Body::AlterContext(bind.clone())),
            ),
            (
                "request",
                Pdu::new(order, 2, BOTH, Body::Request(Request::call(2, &req_stub))),
            ),
            (
                "request_object",
                Pdu::new(
                    order,
                    2,
                    BOTH,
                    Body::Request(Request {
                        alloc_hint: 0,
                        context_id: 0,
                        opnum: 3,
                        object: Some(Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff)),
                        stub: &req_stub,
                    }),
                ),
            ),
            (
                "response",
                Pdu::new(order, 2, BOTH, Body::Response(Response::whole(&resp_stub))),
            ),
            (
                "fault",
                Pdu::new(order, 2, BOTH, Body::Fault(Fault::status(0x1c01_0002))),
            ),
            ("shutdown", Pdu::new(order, 0, BOTH, Body::Shutdown)),
        ];
        for (name, p) in list {
            out.put("pdu_decode", &format!("{name}_{o}"), &p.encode()?)?;
        }
    }
    // A little-endian response with an 8-byte sec_trailer and a 4-byte token after 4 bytes
    // of auth padding.
    let mut auth = Pdu::new(
        ByteOrder::Little,
        3,
        BOTH,
        Body::Response(Response {
            head: ReplyHead {
                alloc_hint: 4,
                ..ReplyHead::default()
            },
            stub: &[1, 2, 3, 4, 0, 0, 0, 0],
        }),
    )
    .encode()?;
    auth.extend_from_slice(&[10, 2, 4, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
    let len = auth.len() as u16;
    auth[8..10].copy_from_slice(&len.to_le_bytes());
    auth[10..12].copy_from_slice(&4u16.to_le_bytes());
    out.put("pdu_decode", "response_auth_le", &auth)?;
    Ok(())
}

/// Fragments in the reassembly target's layout:
/// `[flags][call id selector][alloc_hint LE][stub length][stub]`.
fn fragment(flags: u8, call: u8, hint: u32, stub: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, call];
    v.extend_from_slice(&hint.to_le_bytes());
    v.push(stub.len() as u8);
    v.extend_from_slice(stub);
    v
}

/// Authenticated PDUs for `pdu_decode` (NTLM-shaped tokens; the bytes need not verify), and
/// inputs for `auth_response`: a level byte, then a stub, then alterations (none, one, many).
fn auth_seeds(out: &mut Out) -> Res<()> {
    use rpcaudit::wire::auth::{PFC_SUPPORT_HEADER_SIGN, SecTrailer, auth_level, auth_type};
    let bind = epm_bind();
    let negotiate = b"NTLMSSP\0\x01\0\0\0\x97\x82\x08\xe2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    let signature = [
        1u8, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22, 0, 0, 0, 0,
    ];
    let stub = lookup_page(ContextHandle::NULL, ByteOrder::Little)?;
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let o = order_name(order);
        let t = |level| SecTrailer::new(auth_type::WINNT, level, 0);
        let b = Pdu::new(
            order,
            1,
            BOTH | PFC_SUPPORT_HEADER_SIGN,
            Body::Bind(bind.clone()),
        )
        .with_auth(t(auth_level::PKT_INTEGRITY), negotiate)?
        .encode()?;
        out.put("pdu_decode", &format!("bind_ntlm_{o}"), &b)?;
        let a3 = Pdu::new(order, 1, BOTH, Body::Auth3(rpcaudit::wire::pdu::Auth3))
            .with_auth(t(auth_level::PKT_INTEGRITY), negotiate)?
            .encode()?;
        out.put("pdu_decode", &format!("auth3_{o}"), &a3)?;
        let r = Pdu::new(
            order,
            2,
            BOTH,
            Body::Response(Response {
                head: ReplyHead {
                    alloc_hint: 37,
                    ..ReplyHead::default()
                },
                stub: &stub[..37],
            }),
        )
        .with_auth(t(auth_level::PKT_PRIVACY), &signature)?
        .encode()?;
        out.put("pdu_decode", &format!("response_sealed_{o}"), &r)?;
    }
    let short = &stub[..stub.len().min(200)];
    for (name, sel) in [
        ("connect", 0u8),
        ("integrity", 1),
        ("privacy", 2),
        ("integrity_be", 0x81),
        ("privacy_be", 0x82),
    ] {
        // Unaltered: the stub twice as long as the (empty) alterations.
        let mut v = vec![sel];
        v.extend_from_slice(short);
        v.extend(std::iter::repeat_n(0u8, short.len()));
        out.put("auth_response", &format!("{name}_unaltered"), &v)?;
        let mut v = vec![sel];
        v.extend_from_slice(short);
        let mut alter = vec![0u8; short.len()];
        alter[..3].copy_from_slice(&[30, 0, 0x40]);
        v.extend(alter);
        out.put("auth_response", &format!("{name}_one_bit"), &v)?;
    }
    Ok(())
}

fn reassembly(out: &mut Out) -> Res<()> {
    let mut three = vec![200u8];
    three.extend(fragment(PFC_FIRST_FRAG, 1, 90, &[0x11; 30]));
    three.extend(fragment(0, 1, 60, &[0x22; 30]));
    three.extend(fragment(PFC_LAST_FRAG, 1, 30, &[0x33; 30]));
    out.put("reassembly", "three_fragments", &three)?;
    let mut single = vec![64u8];
    single.extend(fragment(PFC_FIRST_FRAG | PFC_LAST_FRAG, 0, 16, &[0x44; 16]));
    out.put("reassembly", "single", &single)?;
    let mut over = vec![40u8];
    over.extend(fragment(PFC_FIRST_FRAG, 2, u32::MAX, &[0x55; 30]));
    over.extend(fragment(PFC_LAST_FRAG, 2, u32::MAX, &[0x66; 30]));
    out.put("reassembly", "over_limit_huge_hint", &over)?;
    let mut foreign = vec![100u8];
    foreign.extend(fragment(PFC_FIRST_FRAG, 1, 8, &[1; 8]));
    foreign.extend(fragment(PFC_LAST_FRAG, 2, 8, &[2; 8]));
    out.put("reassembly", "foreign_call", &foreign)?;
    Ok(())
}

fn epm_stubs(out: &mut Out) -> Res<()> {
    let handle = ContextHandle {
        attributes: 0,
        uuid: Uuid::from_u128(0x5eed_0001),
    };
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let o = order_name(order);
        let page = lookup_page(handle, order)?;
        out.put("ept_lookup_stub", &format!("lookup_response_{o}"), &page)?;
        let mut sel = vec![if order == ByteOrder::Little { 0 } else { 1 }];
        sel.extend_from_slice(&page);
        out.put("epm_entries", &format!("lookup_response_{o}"), &sel)?;
        let last = LookupResponse {
            handle: ContextHandle::NULL,
            max_count: 500,
            entries: Vec::new(),
            status: rpcaudit::wire::epm::EPT_S_NOT_REGISTERED,
        }
        .encode(order)?;
        out.put(
            "ept_lookup_stub",
            &format!("lookup_response_end_{o}"),
            &last,
        )?;
        let towers = towers()?;
        let map = MapResponse {
            handle: ContextHandle::NULL,
            max_count: 4,
            towers: vec![
                EntryTower::Decoded(towers[0].1.clone()),
                EntryTower::Null,
                EntryTower::Decoded(towers[1].1.clone()),
            ],
            status: 0,
        }
        .encode(order)?;
        out.put("ept_lookup_stub", &format!("map_response_{o}"), &map)?;
        let req = LookupRequest::all(handle, 500).encode(order)?;
        out.put("ept_lookup_stub", &format!("lookup_request_{o}"), &req)?;
        let map_req = MapRequest {
            object: None,
            tower: Some(towers[0].1.clone()),
            handle: ContextHandle::NULL,
            max_towers: 4,
        }
        .encode(order)?;
        out.put("ept_lookup_stub", &format!("map_request_{o}"), &map_req)?;
        out.put(
            "ept_lookup_stub",
            &format!("handle_free_request_{o}"),
            &HandleFreeRequest { handle }.encode(order)?,
        )?;
        let freed = HandleFreeResponse {
            handle: ContextHandle::NULL,
            status: 0,
        };
        out.put(
            "ept_lookup_stub",
            &format!("handle_free_response_{o}"),
            &freed.encode(order)?,
        )?;
    }
    Ok(())
}

fn tower_seeds(out: &mut Out) -> Res<()> {
    for (name, t) in towers()? {
        let bytes = t.encode()?;
        out.put("tower", name, &bytes)?;
        let mut sel = vec![0u8];
        sel.extend_from_slice(&bytes);
        out.put("epm_entries", &format!("tower_{name}"), &sel)?;
    }
    Ok(())
}

fn string_bindings(out: &mut Out) -> Res<()> {
    let list = [
        ("tcp", "ncacn_ip_tcp:198.18.0.10[5001]"),
        (
            "tcp_object",
            "12345778-1234-abcd-ef00-0123456789ac@ncacn_ip_tcp:198.18.0.10[5001]",
        ),
        ("udp", "ncadg_ip_udp:198.18.0.10[1025]"),
        ("http_options", "ncacn_http:198.18.0.10[593,RpcProxy=gw]"),
        ("np", "ncacn_np:\\\\DC1[\\pipe\\lsass]"),
        ("lrpc", "ncalrpc:[LRPC-0123456789abcdef]"),
        ("no_endpoint", "ncacn_ip_tcp:198.18.0.10"),
        ("empty_brackets", "ncacn_ip_tcp:[]"),
    ];
    for (name, text) in list {
        out.put("string_binding", name, text.as_bytes())?;
    }
    Ok(())
}

/// Connectionless datagrams for `cl_datagram`: a request, a response in three fragments (also
/// as one input of length-prefixed datagrams, as the property carves them), a fault, a reject
/// and a fack, in both byte orders.
fn cl_seeds(out: &mut Out) -> Res<()> {
    use rpcaudit::wire::cl::{self, ClHeader, Datagram, flags1, ptype};
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let o = order_name(order);
        let head = |t: u8| ClHeader {
            interface: EPM_INTERFACE,
            activity: Uuid::from_u128(0xac71_0000_0000_4000_8000_0000_0000_0001),
            if_vers: 3,
            seqnum: 1,
            ..ClHeader::new(order, t)
        };
        let request = LookupRequest::all(ContextHandle::NULL, 500).encode(order)?;
        let d = Datagram {
            header: ClHeader {
                flags1: flags1::IDEMPOTENT,
                ..head(ptype::REQUEST)
            },
            body: &request,
        };
        out.put("cl_datagram", &format!("request_{o}"), &d.encode()?)?;
        let page = lookup_page(ContextHandle::NULL, order)?;
        let parts: Vec<&[u8]> = page.chunks(page.len().div_ceil(3)).collect();
        let mut carved = vec![200u8];
        for (k, part) in parts.iter().enumerate() {
            let last = k + 1 == parts.len();
            let h = ClHeader {
                flags1: flags1::FRAG | if last { flags1::LASTFRAG } else { 0 },
                fragnum: k as u16,
                serial: k as u16,
                ..head(ptype::RESPONSE)
            };
            let bytes = Datagram {
                header: h,
                body: part,
            }
            .encode()?;
            out.put("cl_datagram", &format!("response_frag{k}_{o}"), &bytes)?;
            if part.len() <= 255 {
                carved.push(part.len() as u8);
                carved.extend_from_slice(&bytes);
            }
        }
        let small = Datagram {
            header: head(ptype::RESPONSE),
            body: &page[..page.len().min(200)],
        };
        carved.push(small.body.len() as u8);
        carved.extend_from_slice(&small.encode()?);
        out.put("cl_datagram", &format!("carved_{o}"), &carved)?;
        for (name, t, status) in [
            ("fault", ptype::FAULT, 5u32),
            ("reject", ptype::REJECT, 0x1c01_0003),
        ] {
            let body = order.u32_bytes(status);
            let bytes = Datagram {
                header: head(t),
                body: &body,
            }
            .encode()?;
            out.put("cl_datagram", &format!("{name}_{o}"), &bytes)?;
        }
        let fack = cl::fack_body(order, 32, 1464, 2);
        let bytes = Datagram {
            header: head(ptype::FACK),
            body: &fack,
        }
        .encode()?;
        out.put("cl_datagram", &format!("fack_{o}"), &bytes)?;
    }
    Ok(())
}

/// `rpc_mgmt_inq_if_ids` answers: one naming three interfaces (one of them a null element),
/// and a refusal with a null vector, in both byte orders.
fn mgmt_seeds(out: &mut Out) -> Res<()> {
    use rpcaudit::wire::mgmt::{IfId, InqIfIdsResponse};
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let o = order_name(order);
        let served = InqIfIdsResponse {
            ids: Some(vec![
                Some(IfId {
                    uuid: SAMR,
                    major: 1,
                    minor: 0,
                }),
                None,
                Some(IfId {
                    uuid: EPM_INTERFACE,
                    major: 3,
                    minor: 0,
                }),
            ]),
            status: 0,
        }
        .encode(order)?;
        out.put("mgmt_inq_if_ids", &format!("served_{o}"), &served)?;
        let refused = InqIfIdsResponse {
            ids: None,
            status: 5,
        }
        .encode(order)?;
        out.put("mgmt_inq_if_ids", &format!("refused_{o}"), &refused)?;
    }
    Ok(())
}

fn main() -> Res<()> {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new("seeds").to_path_buf());
    let mut out = Out { root, count: 0 };
    pdus(&mut out)?;
    reassembly(&mut out)?;
    auth_seeds(&mut out)?;
    epm_stubs(&mut out)?;
    tower_seeds(&mut out)?;
    string_bindings(&mut out)?;
    cl_seeds(&mut out)?;
    mgmt_seeds(&mut out)?;
    println!("wrote {} seeds under {}", out.count, out.root.display());
    Ok(())
}
