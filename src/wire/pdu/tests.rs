//! Unit tests of `wire::pdu`: round trips of every PDU family in both byte orders, header
//! checks, truncation; the property tests are in `props.rs` beside this file.

use super::*;

fn epm_syntax() -> SyntaxId {
    crate::wire::epm::EPM_SYNTAX
}

fn round_trip(pdu: Pdu<'_>) {
    let bytes = pdu.encode().unwrap();
    assert_eq!(frame_length(&bytes).unwrap(), Some(bytes.len()));
    let back = Pdu::decode(&bytes).unwrap();
    let mut expected = pdu.clone();
    expected.header.frag_length = bytes.len() as u16;
    assert_eq!(back, expected);
}

fn bind() -> Bind {
    Bind::offer(epm_syntax(), 5840)
}

fn ack() -> BindAck {
    BindAck {
        max_xmit_frag: 4280,
        max_recv_frag: 4280,
        assoc_group_id: 0x1234,
        secondary_address: "135".into(),
        results: vec![ContextResult {
            result: 0,
            reason: 0,
            transfer_syntax: NDR20,
        }],
    }
}

#[test]
fn every_pdu_type_round_trips_in_both_byte_orders() {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let both = PFC_FIRST_FRAG | PFC_LAST_FRAG;
        round_trip(Pdu::new(order, 1, both, Body::Bind(bind())));
        round_trip(Pdu::new(order, 1, both, Body::AlterContext(bind())));
        round_trip(Pdu::new(order, 1, both, Body::BindAck(ack())));
        round_trip(Pdu::new(order, 1, both, Body::AlterContextResp(ack())));
        round_trip(Pdu::new(
            order,
            1,
            both,
            Body::BindNak(BindNak {
                reject_reason: 4,
                versions: vec![(5, 0), (5, 1)],
            }),
        ));
        round_trip(Pdu::new(
            order,
            7,
            both,
            Body::Request(Request::call(2, &[1, 2, 3, 4])),
        ));
        round_trip(Pdu::new(
            order,
            7,
            both,
            Body::Request(Request {
                alloc_hint: 0,
                context_id: 1,
                opnum: 3,
                object: Some(Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff)),
                stub: &[9; 12],
            }),
        ));
        round_trip(Pdu::new(
            order,
            7,
            PFC_FIRST_FRAG,
            Body::Response(Response {
                head: ReplyHead {
                    alloc_hint: 100,
                    context_id: 0,
                    cancel_count: 0,
                },
                stub: &[5; 40],
            }),
        ));
        round_trip(Pdu::new(
            order,
            7,
            both,
            Body::Fault(Fault::status(0x1c01_0002)),
        ));
        round_trip(Pdu::new(order, 0, both, Body::Shutdown));
    }
}

/// The head lengths the auth layer uses to find where a stub starts are what the codecs write.
#[test]
fn head_lengths_are_what_the_codecs_write() {
    let written = |write: &dyn Fn(&mut NdrWriter)| {
        let mut w = NdrWriter::new(ByteOrder::Little);
        write(&mut w);
        w.len()
    };
    assert_eq!(
        written(&|w| Request::call(0, &[]).write(w)),
        Request::HEAD_LEN
    );
    let with_object = Request {
        object: Some(Uuid::from_u128(1)),
        ..Request::call(0, &[])
    };
    assert_eq!(written(&|w| with_object.write(w)), Request::OBJECT_HEAD_LEN);
    assert_eq!(
        written(&|w| ReplyHead::default().write(w).unwrap()),
        ReplyHead::LEN
    );
    assert_eq!(
        written(&|w| Response::whole(&[]).write(w).unwrap()),
        ReplyHead::LEN
    );
    assert_eq!(
        written(&|w| Fault::status(5).write(w).unwrap()),
        Fault::HEAD_LEN
    );
}

#[test]
fn big_endian_header_fields_are_big_endian() {
    let bytes = Pdu::new(ByteOrder::Big, 0x0102_0304, 3, Body::Shutdown)
        .encode()
        .unwrap();
    assert_eq!(bytes[4], 0x00);
    assert_eq!(&bytes[8..10], &[0, 16]);
    assert_eq!(&bytes[12..16], &[1, 2, 3, 4]);
    let le = Pdu::new(ByteOrder::Little, 0x0102_0304, 3, Body::Shutdown)
        .encode()
        .unwrap();
    assert_eq!(le[4], 0x10);
    assert_eq!(&le[8..10], &[16, 0]);
}

#[test]
fn frame_length_waits_for_the_whole_fragment() {
    let bytes = Pdu::new(ByteOrder::Little, 1, 3, Body::Bind(bind()))
        .encode()
        .unwrap();
    for cut in 0..bytes.len() {
        assert_eq!(frame_length(&bytes[..cut]).unwrap(), None, "cut {cut}");
    }
    let mut more = bytes.clone();
    more.extend_from_slice(&[5, 0, 0]);
    assert_eq!(frame_length(&more).unwrap(), Some(bytes.len()));
}

#[test]
fn rejects_foreign_and_contradictory_headers() {
    let http = b"HTTP/1.1 400 Bad Request\r\n\r\n";
    let err = frame_length(http).unwrap_err().to_string();
    assert!(err.contains("not DCE/RPC"), "{err}");
    let mut short = Pdu::new(ByteOrder::Little, 1, 3, Body::Shutdown)
        .encode()
        .unwrap();
    short[8] = 4; // frag_length 4 < header
    assert!(frame_length(&short).is_err());
    let mut auth = Pdu::new(ByteOrder::Little, 1, 3, Body::Shutdown)
        .encode()
        .unwrap();
    auth[10] = 200; // auth_length beyond the fragment
    assert!(frame_length(&auth).is_err());
}

#[test]
fn truncated_bodies_are_errors_not_panics() {
    let bytes = Pdu::new(ByteOrder::Little, 1, 3, Body::BindAck(ack()))
        .encode()
        .unwrap();
    for cut in HEADER_LEN..bytes.len() {
        let mut b = bytes[..cut].to_vec();
        b[8..10].copy_from_slice(&(cut as u16).to_le_bytes());
        assert!(Pdu::decode(&b).is_err(), "cut {cut}");
    }
}

#[test]
fn auth_trailer_is_stripped_from_the_stub() {
    let mut bytes = Pdu::new(
        ByteOrder::Little,
        1,
        3,
        Body::Response(Response {
            head: ReplyHead {
                alloc_hint: 4,
                context_id: 0,
                cancel_count: 0,
            },
            stub: &[1, 2, 3, 4, 0, 0, 0, 0],
        }),
    )
    .encode()
    .unwrap();
    // sec_trailer: type, level, pad length 4, reserved, context id; then a 4-byte token.
    bytes.extend_from_slice(&[10, 2, 4, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
    let len = bytes.len() as u16;
    bytes[8..10].copy_from_slice(&len.to_le_bytes());
    bytes[10..12].copy_from_slice(&4u16.to_le_bytes());
    let pdu = Pdu::decode(&bytes).unwrap();
    match pdu.body {
        Body::Response(r) => assert_eq!(r.stub, &[1, 2, 3, 4]),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn syntax_version_splits_major_and_minor() {
    let s = SyntaxId::new(Uuid::nil(), 3, 1);
    assert_eq!((s.major(), s.minor()), (3, 1));
    assert_eq!(s.version, 0x0001_0003);
}

mod props;
