//! Where the parts of an authenticated connection-oriented fragment lie (C706 §13.2.6,
//! MS-RPCE §2.2.2.11-2.2.2.13): the stub's offset, the auth padding a body needs, and the
//! [`AuthLayout`] of one fragment, so a security provider can sign, verify, seal and unseal
//! exactly the bytes the peer did. The verifier's own parts (the `sec_trailer`, the auth
//! types and levels) are [`crate::wire::auth`]'s; where they sit depends on the PDU's header
//! and body, so it is read here, beside the PDUs. [`Pdu::decode`](super::Pdu::decode) finds
//! the end of a body with [`layout_of`].
//!
//! ```text
//! | header (16) | body | stub ... | auth pad | sec_trailer (8) | auth token (auth_length) |
//!                       ^ stub_offset         ^ trailer         ^ token
//! ```
//!
//! Every length here comes from the peer and is checked before it is used: `auth_length` must
//! leave room for the header and the trailer, the trailer must be 4-byte aligned (MS-RPCE
//! §2.2.2.11), the padding must fit in the body before it and be less than the 16-byte
//! alignment it exists for.

use super::{Fault, HEADER_LEN, Header, PFC_OBJECT_UUID, ReplyHead, Request, ptype};
use crate::wire::WireError;
use crate::wire::auth::{AUTH_PAD_ALIGN, SEC_TRAILER_LEN, SecTrailer};
use std::ops::Range;

/// Where the stub of a request, response or fault starts, from the start of the PDU; `None`
/// for PDU types that carry no stub.
pub fn stub_offset(header: &Header) -> Option<usize> {
    match header.ptype {
        ptype::REQUEST if header.flags & PFC_OBJECT_UUID != 0 => {
            Some(HEADER_LEN + Request::OBJECT_HEAD_LEN)
        }
        ptype::REQUEST => Some(HEADER_LEN + Request::HEAD_LEN),
        ptype::RESPONSE => Some(HEADER_LEN + ReplyHead::LEN),
        ptype::FAULT => Some(HEADER_LEN + Fault::HEAD_LEN),
        _ => None,
    }
}

/// The auth padding a body needs: PDUs with a stub pad the stub to [`AUTH_PAD_ALIGN`] from
/// the stub's start (what sealing providers expect), the others pad to 4 bytes from the start
/// of the PDU so the trailer is aligned.
pub fn pad_for(header: &Header, body_end: usize) -> u8 {
    let (start, align) = match stub_offset(header) {
        Some(s) => (s, AUTH_PAD_ALIGN),
        None => (0, 4),
    };
    let used = body_end.saturating_sub(start);
    ((align - used % align) % align) as u8
}

/// The parts of one authenticated fragment, as offsets into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthLayout {
    pub trailer: SecTrailer,
    /// The bytes a sealing provider encrypts: the stub and its auth padding (empty for PDUs
    /// without a stub).
    pub payload: Range<usize>,
    /// Where the `sec_trailer` starts; everything before it, and the trailer, is signed.
    pub trailer_at: usize,
    /// The token.
    pub token: Range<usize>,
}

impl AuthLayout {
    /// The bytes an NTLM signature covers: the whole PDU up to the token (header, body, stub,
    /// padding and sec_trailer).
    pub fn signed(&self) -> Range<usize> {
        0..self.token.start
    }
}

/// Locate and check the verifier of `frame` (one whole fragment). `Ok(None)` when the header
/// says `auth_length` 0.
pub fn layout(frame: &[u8]) -> Result<Option<AuthLayout>, WireError> {
    let header = super::parse_header(frame)?;
    layout_of(&header, frame)
}

pub(crate) fn layout_of(header: &Header, frame: &[u8]) -> Result<Option<AuthLayout>, WireError> {
    if header.auth_length == 0 {
        return Ok(None);
    }
    let frag = usize::from(header.frag_length);
    if frame.len() != frag {
        return Err(WireError::invalid(
            "auth verifier",
            format!("frame of {} bytes but frag_length says {frag}", frame.len()),
        ));
    }
    let auth_len = usize::from(header.auth_length);
    let trailer_at = frag
        .checked_sub(auth_len + SEC_TRAILER_LEN)
        .filter(|&t| t >= HEADER_LEN)
        .ok_or_else(|| {
            WireError::invalid(
                "auth verifier",
                format!("auth_length {auth_len} does not fit in frag_length {frag}"),
            )
        })?;
    if !trailer_at.is_multiple_of(4) {
        return Err(WireError::invalid(
            "auth verifier",
            format!("sec_trailer at byte {trailer_at} is not 4-byte aligned"),
        ));
    }
    let trailer = SecTrailer::decode(&frame[trailer_at..], header.byte_order())?;
    let pad = usize::from(trailer.auth_pad_length);
    if pad >= AUTH_PAD_ALIGN {
        return Err(WireError::invalid(
            "auth verifier",
            format!(
                "auth_pad_length {pad} is not below the {AUTH_PAD_ALIGN}-byte alignment it pads to"
            ),
        ));
    }
    let body_start = stub_offset(header).unwrap_or(HEADER_LEN);
    if body_start > trailer_at {
        return Err(WireError::invalid(
            "auth verifier",
            format!(
                "sec_trailer at byte {trailer_at} overlaps the {} header ending at byte {body_start}",
                super::ptype_name(header.ptype)
            ),
        ));
    }
    if pad > trailer_at - body_start {
        return Err(WireError::invalid(
            "auth verifier",
            format!(
                "auth_pad_length {pad} exceeds the {} bytes before the sec_trailer",
                trailer_at - body_start
            ),
        ));
    }
    let payload = match stub_offset(header) {
        Some(s) => s..trailer_at,
        None => trailer_at..trailer_at,
    };
    Ok(Some(AuthLayout {
        trailer,
        payload,
        trailer_at,
        token: trailer_at + SEC_TRAILER_LEN..frag,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::auth::{PFC_SUPPORT_HEADER_SIGN, auth_level, auth_type};
    use crate::wire::ndr::ByteOrder;
    use crate::wire::pdu::{
        Auth3, Bind, Body, PFC_FIRST_FRAG, PFC_LAST_FRAG, Pdu, ReplyHead, Request, Response,
        SyntaxId,
    };
    use uuid::Uuid;

    const BOTH: u8 = PFC_FIRST_FRAG | PFC_LAST_FRAG;
    const ORDERS: [ByteOrder; 2] = [ByteOrder::Little, ByteOrder::Big];

    fn request(stub: &[u8]) -> Pdu<'_> {
        Pdu::new(
            ByteOrder::Little,
            2,
            BOTH,
            Body::Request(Request::call(2, stub)),
        )
    }

    #[test]
    fn request_stubs_are_padded_to_sixteen_bytes_and_the_layout_finds_every_part() {
        for order in ORDERS {
            for n in 0..40usize {
                let stub: Vec<u8> = (0..n as u8).collect();
                let token = [0xa5u8; 16];
                let mut p = request(&stub);
                p.header.drep = crate::wire::pdu::DataRep::for_order(order);
                let p = p
                    .with_auth(
                        SecTrailer::new(auth_type::WINNT, auth_level::PKT_PRIVACY, 7),
                        &token,
                    )
                    .unwrap();
                let bytes = p.encode().unwrap();
                let l = layout(&bytes).unwrap().unwrap();
                assert_eq!(l.payload.start, 24);
                assert_eq!(l.payload.len() % 16, 0, "stub {n}");
                assert_eq!(l.payload.len(), n + usize::from(l.trailer.auth_pad_length));
                assert_eq!(&bytes[l.token.clone()], &token);
                assert_eq!(l.trailer.auth_context_id, 7);
                assert_eq!(l.signed(), 0..bytes.len() - 16);
                assert_eq!(l.trailer_at % 4, 0);
                let back = Pdu::decode(&bytes).unwrap();
                assert_eq!(back.auth.as_ref().unwrap().token, &token);
                match &back.body {
                    Body::Request(r) => assert_eq!(r.stub, &stub[..]),
                    other => panic!("{other:?}"),
                }
                assert_eq!(back.encode().unwrap(), bytes);
            }
        }
    }

    #[test]
    fn bind_and_auth3_carry_a_token_after_an_aligned_trailer() {
        for order in ORDERS {
            let bind = Bind::offer(SyntaxId::new(Uuid::from_u128(1), 3, 0), 5840);
            let token = b"NTLMSSP\0\x01\0\0\0negotiate";
            let p = Pdu::new(
                order,
                1,
                BOTH | PFC_SUPPORT_HEADER_SIGN,
                Body::Bind(bind.clone()),
            )
            .with_auth(
                SecTrailer::new(auth_type::WINNT, auth_level::CONNECT, 0),
                token,
            )
            .unwrap();
            let bytes = p.encode().unwrap();
            let back = Pdu::decode(&bytes).unwrap();
            assert_eq!(back, {
                let mut e = p.clone();
                e.header.frag_length = bytes.len() as u16;
                e.header.auth_length = token.len() as u16;
                e
            });
            assert_eq!(back.body, Body::Bind(bind));
            let l = layout(&bytes).unwrap().unwrap();
            assert!(l.payload.is_empty());
            assert_eq!(l.trailer.auth_pad_length, 0);

            let auth3 = Pdu::new(order, 1, BOTH, Body::Auth3(Auth3))
                .with_auth(
                    SecTrailer::new(auth_type::WINNT, auth_level::PKT_INTEGRITY, 0),
                    b"authenticate",
                )
                .unwrap();
            let bytes = auth3.encode().unwrap();
            // header, 4 bytes of pad, trailer, token
            assert_eq!(bytes.len(), 16 + 4 + 8 + 12);
            assert_eq!(bytes[2], ptype::AUTH3);
            let back = Pdu::decode(&bytes).unwrap();
            assert_eq!(back.body, Body::Auth3(Auth3));
            assert_eq!(back.auth.unwrap().token, b"authenticate");
        }
    }

    fn response_frame(order: ByteOrder, stub: &[u8], pad: u8, token_len: usize) -> Vec<u8> {
        let p = Pdu::new(
            order,
            3,
            BOTH,
            Body::Response(Response {
                head: ReplyHead::default(),
                stub,
            }),
        );
        let mut bytes = p.encode().unwrap();
        let mut t = SecTrailer::new(auth_type::WINNT, auth_level::PKT_INTEGRITY, 0);
        t.auth_pad_length = pad;
        bytes.extend_from_slice(&t.bytes(order));
        bytes.extend(std::iter::repeat_n(0x5a, token_len));
        let frag = bytes.len() as u16;
        bytes[8..10].copy_from_slice(&order.u16_bytes(frag));
        bytes[10..12].copy_from_slice(&order.u16_bytes(token_len as u16));
        bytes
    }

    #[test]
    fn hostile_lengths_are_refused_in_both_byte_orders() {
        for order in ORDERS {
            // Sound: 16 bytes before the trailer, the last 4 of them padding.
            let ok = response_frame(order, &[1; 16], 4, 16);
            let l = layout(&ok).unwrap().unwrap();
            assert_eq!(l.payload, 24..40);
            match Pdu::decode(&ok).unwrap().body {
                Body::Response(r) => assert_eq!(r.stub, &[1; 12]),
                other => panic!("{other:?}"),
            }
            // Padding longer than the stub.
            let e = layout(&response_frame(order, &[1; 4], 8, 16))
                .unwrap_err()
                .to_string();
            assert!(e.contains("exceeds the 4 bytes"), "{e}");
            assert!(Pdu::decode(&response_frame(order, &[1; 4], 8, 16)).is_err());
            // Padding of 16 or more.
            let e = layout(&response_frame(order, &[1; 32], 16, 16))
                .unwrap_err()
                .to_string();
            assert!(e.contains("auth_pad_length 16"), "{e}");
            // A misaligned trailer.
            let e = layout(&response_frame(order, &[1; 5], 0, 16))
                .unwrap_err()
                .to_string();
            assert!(e.contains("not 4-byte aligned"), "{e}");
            assert!(Pdu::decode(&response_frame(order, &[1; 5], 0, 16)).is_err());
            // auth_length that reaches into the response header.
            let mut f = response_frame(order, &[], 0, 16);
            let a: u16 = 20;
            f[10..12].copy_from_slice(&order.u16_bytes(a));
            assert!(layout(&f).is_err());
            assert!(Pdu::decode(&f).is_err());
            // auth_length beyond the fragment.
            let mut f = response_frame(order, &[1; 8], 0, 16);
            let a: u16 = 60_000;
            f[10..12].copy_from_slice(&order.u16_bytes(a));
            assert!(layout(&f).is_err());
            assert!(crate::wire::pdu::frame_length(&f).is_err());
        }
    }

    #[test]
    fn an_unauthenticated_frame_has_no_layout() {
        let bytes = request(&[1, 2, 3]).encode().unwrap();
        assert_eq!(layout(&bytes).unwrap(), None);
        assert!(Pdu::decode(&bytes).unwrap().auth.is_none());
    }

    #[test]
    fn pad_for_counts_from_the_stub_or_the_pdu() {
        let req = request(&[]).header;
        assert_eq!(pad_for(&req, 24), 0);
        assert_eq!(pad_for(&req, 25), 15);
        assert_eq!(pad_for(&req, 40), 0);
        let bind = Pdu::new(ByteOrder::Little, 1, BOTH, Body::Shutdown).header;
        let mut bind = bind;
        bind.ptype = ptype::BIND;
        assert_eq!(pad_for(&bind, 72), 0);
        assert_eq!(pad_for(&bind, 74), 2);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn authenticated_calls_round_trip(
                stub in prop::collection::vec(any::<u8>(), 0..600),
                token in prop::collection::vec(any::<u8>(), 1..80),
                big in any::<bool>(), level in 0u8..7, ctx in any::<u32>(),
                object in proptest::option::of(any::<u128>()), kind in 0u8..3,
            ) {
                let order = if big { ByteOrder::Big } else { ByteOrder::Little };
                let body = match kind {
                    0 => Body::Request(Request { alloc_hint: 1, context_id: 0, opnum: 2,
                        object: object.map(Uuid::from_u128), stub: &stub }),
                    1 => Body::Response(Response { head: ReplyHead { alloc_hint: 1, ..ReplyHead::default() }, stub: &stub }),
                    _ => Body::Fault(crate::wire::pdu::Fault { head: ReplyHead::default(), status: 5, stub: &stub }),
                };
                let p = Pdu::new(order, 9, BOTH, body)
                    .with_auth(SecTrailer::new(auth_type::WINNT, level, ctx), &token)
                    .unwrap();
                let bytes = p.encode().unwrap();
                prop_assert_eq!(crate::wire::pdu::frame_length(&bytes).unwrap(), Some(bytes.len()));
                let l = layout(&bytes).unwrap().unwrap();
                prop_assert_eq!(l.payload.len() % AUTH_PAD_ALIGN, 0);
                prop_assert_eq!(&bytes[l.token.clone()], &token[..]);
                let back = Pdu::decode(&bytes).unwrap();
                prop_assert_eq!(&back.body, &p.body);
                prop_assert_eq!(back.auth.as_ref().map(|a| a.trailer), p.auth.as_ref().map(|a| a.trailer));
                prop_assert_eq!(back.encode().unwrap(), bytes);
            }

            #[test]
            fn layout_never_panics_and_stays_inside_the_frame(
                bytes in prop::collection::vec(any::<u8>(), 0..200)
            ) {
                if let Ok(Some(n)) = crate::wire::pdu::frame_length(&bytes)
                    && let Ok(Some(l)) = layout(&bytes[..n])
                {
                    prop_assert!(l.payload.end <= l.trailer_at);
                    prop_assert!(l.trailer_at + SEC_TRAILER_LEN == l.token.start);
                    prop_assert_eq!(l.token.end, n);
                }
            }
        }
    }
}
