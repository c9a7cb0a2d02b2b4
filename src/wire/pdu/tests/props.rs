//! Property tests of `wire::pdu`: any bind, bind_ack, request, response or fault round-trips
//! in either byte order, and no input makes the decoder panic.

use super::*;
use proptest::prelude::*;

fn syntax() -> impl Strategy<Value = SyntaxId> {
    (any::<u128>(), any::<u32>()).prop_map(|(u, version)| SyntaxId {
        uuid: Uuid::from_u128(u),
        version,
    })
}

fn bind() -> impl Strategy<Value = Bind> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        prop::collection::vec(
            (
                any::<u16>(),
                syntax(),
                prop::collection::vec(syntax(), 0..4),
            ),
            0..5,
        ),
    )
        .prop_map(|(x, r, a, cs)| Bind {
            max_xmit_frag: x,
            max_recv_frag: r,
            assoc_group_id: a,
            contexts: cs
                .into_iter()
                .map(
                    |(context_id, abstract_syntax, transfer_syntaxes)| ContextElem {
                        context_id,
                        abstract_syntax,
                        transfer_syntaxes,
                    },
                )
                .collect(),
        })
}

fn ack() -> impl Strategy<Value = BindAck> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        "[0-9]{0,6}",
        prop::collection::vec((any::<u16>(), any::<u16>(), syntax()), 0..4),
    )
        .prop_map(|(x, r, a, addr, rs)| BindAck {
            max_xmit_frag: x,
            max_recv_frag: r,
            assoc_group_id: a,
            secondary_address: addr,
            results: rs
                .into_iter()
                .map(|(result, reason, transfer_syntax)| ContextResult {
                    result,
                    reason,
                    transfer_syntax,
                })
                .collect(),
        })
}

proptest! {
    #[test]
    fn binds_and_acks_round_trip(b in bind(), a in ack(), big in any::<bool>(),
                                 call in any::<u32>(), flags in any::<u8>()) {
        let order = if big { ByteOrder::Big } else { ByteOrder::Little };
        for pdu in [
            Pdu::new(order, call, flags, Body::Bind(b.clone())),
            Pdu::new(order, call, flags, Body::AlterContext(b)),
            Pdu::new(order, call, flags, Body::BindAck(a.clone())),
            Pdu::new(order, call, flags, Body::AlterContextResp(a)),
        ] {
            let bytes = pdu.encode().unwrap();
            let back = Pdu::decode(&bytes).unwrap();
            prop_assert_eq!(back.body, pdu.body);
            prop_assert_eq!(back.header.call_id, call);
        }
    }

    #[test]
    fn calls_round_trip(stub in prop::collection::vec(any::<u8>(), 0..2000),
                        hint in any::<u32>(), ctx in any::<u16>(), opnum in any::<u16>(),
                        object in proptest::option::of(any::<u128>()),
                        status in any::<u32>(), big in any::<bool>(), flags in 0u8..0x40) {
        let order = if big { ByteOrder::Big } else { ByteOrder::Little };
        let bodies = [
            Body::Request(Request { alloc_hint: hint, context_id: ctx, opnum,
                object: object.map(Uuid::from_u128), stub: &stub }),
            Body::Response(Response { head: ReplyHead { alloc_hint: hint, context_id: ctx, cancel_count: 0 },
                stub: &stub }),
            Body::Fault(Fault { head: ReplyHead { alloc_hint: hint, context_id: ctx, cancel_count: 0 },
                status, stub: &stub }),
        ];
        for body in bodies {
            let pdu = Pdu::new(order, 9, flags, body);
            let bytes = pdu.encode().unwrap();
            prop_assert_eq!(frame_length(&bytes).unwrap(), Some(bytes.len()));
            prop_assert_eq!(Pdu::decode(&bytes).unwrap().body, pdu.body);
        }
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(Some(n)) = frame_length(&bytes) {
            let _ = Pdu::decode(&bytes[..n]);
        }
    }
}
