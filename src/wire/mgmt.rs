//! The remote management interface's `rpc_mgmt_inq_if_ids` (C706 appendix Q, the `mgmt`
//! interface afa8bd80-7d8a-11c9-bef4-08002b102989 v1.0, opnum 0): which interfaces the server
//! behind an endpoint serves, registered in the endpoint mapper or not. `epm::reach` asks each
//! TCP endpoint, as impacket's rpcmap does. Pure: bytes in, typed values out, and back.
//!
//! Grammar (C706 `mgmt.idl`; Samba's `librpc/idl/mgmt.idl` and impacket's `mgmt.py` agree):
//!
//! ```text
//! request:  (empty: the handle is the binding)
//! response: rpc_if_id_vector_p_t *if_id_vector   unique pointer: referent id, 0 when null
//!             u32 count (conformance)             the conformant struct's size_is(count),
//!             u32 count                           hoisted before the struct, then the field
//!             u32 referent[count]                 rpc_if_id_p_t if_id[count], unique pointers
//!             rpc_if_id_t[each non-null]          deferred: uuid (NDR GUID), u16 vers_major,
//!                                                 u16 vers_minor
//!           u32 status                            error_status_t
//! ```
//!
//! Samba's IDL spells the version as one `uint32 if_version` (major in the low half): the same
//! bytes little-endian; big-endian, C706's two `u16`s are what is read here. Counts are checked
//! against the bytes that follow before anything is reserved, and capped at [`MAX_IF_IDS`].

use super::WireError;
use super::ndr::{Codec, NdrReader, NdrWriter, Stub};
use super::pdu::SyntaxId;
use uuid::Uuid;

/// The remote management interface.
pub const MGMT_INTERFACE: Uuid = Uuid::from_u128(0xafa8bd80_7d8a_11c9_bef4_08002b102989);
/// Its syntax, v1.0.
pub const MGMT_SYNTAX: SyntaxId = SyntaxId::new(MGMT_INTERFACE, 1, 0);
/// `rpc_mgmt_inq_if_ids`.
pub const OPNUM_INQ_IF_IDS: u16 = 0;
/// At most this many interface ids are read from one answer.
pub const MAX_IF_IDS: usize = 4096;

/// The bytes of one `rpc_if_id_t`: a GUID and two u16.
const IF_ID_LEN: usize = 20;

/// `rpc_if_id_t`: one interface and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IfId {
    pub uuid: Uuid,
    pub major: u16,
    pub minor: u16,
}

/// The request: an empty stub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InqIfIdsRequest;

/// The response: the vector (None: a null pointer) and the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InqIfIdsResponse {
    /// Each element of the vector, None where its pointer is null.
    pub ids: Option<Vec<Option<IfId>>>,
    pub status: u32,
}

impl InqIfIdsResponse {
    /// The interface ids the answer names (null elements aside).
    pub fn if_ids(&self) -> impl Iterator<Item = IfId> + '_ {
        self.ids.iter().flatten().flatten().copied()
    }
}

impl Stub for InqIfIdsRequest {
    const WHAT: &'static str = "rpc_mgmt_inq_if_ids request";
}

impl<'a> Codec<'a> for InqIfIdsRequest {
    fn write(&self, _: &mut NdrWriter) -> Result<(), WireError> {
        Ok(())
    }

    fn read(_: &mut NdrReader<'a>) -> Result<Self, WireError> {
        Ok(InqIfIdsRequest)
    }
}

impl Stub for InqIfIdsResponse {
    const WHAT: &'static str = "rpc_mgmt_inq_if_ids response";
}

/// The first referent id written (as Windows numbers them: 0x00020000, then steps of 4).
const REFERENT: u32 = 0x0002_0000;

impl<'a> Codec<'a> for InqIfIdsResponse {
    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        match &self.ids {
            None => w.u32(0),
            Some(ids) => {
                let n = u32::try_from(ids.len())
                    .ok()
                    .filter(|_| ids.len() <= MAX_IF_IDS)
                    .ok_or(WireError::TooLarge {
                        what: Self::WHAT,
                        size: ids.len(),
                        limit: MAX_IF_IDS,
                    })?;
                w.u32(REFERENT);
                w.u32(n);
                w.u32(n);
                for (k, id) in ids.iter().enumerate() {
                    w.u32(match id {
                        Some(_) => REFERENT + 4 * (k as u32 + 1),
                        None => 0,
                    });
                }
                for id in ids.iter().flatten() {
                    w.align(4);
                    w.uuid(&id.uuid);
                    w.u16(id.major);
                    w.u16(id.minor);
                }
            }
        }
        w.align(4);
        w.u32(self.status);
        Ok(())
    }

    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let ids = if r.u32()? == 0 {
            None
        } else {
            let conformance = r.u32()?;
            let count = r.u32()?;
            if conformance != count {
                return Err(WireError::invalid(
                    r.what(),
                    format!("count {count} differs from its conformance {conformance}"),
                ));
            }
            let n = usize::try_from(count).unwrap_or(usize::MAX);
            if n > MAX_IF_IDS {
                return Err(WireError::TooLarge {
                    what: r.what(),
                    size: n,
                    limit: MAX_IF_IDS,
                });
            }
            if n.saturating_mul(4) > r.remaining() {
                return Err(WireError::invalid(
                    r.what(),
                    format!(
                        "{n} interface ids announced but only {} bytes follow",
                        r.remaining()
                    ),
                ));
            }
            let mut referents = Vec::with_capacity(n);
            for _ in 0..n {
                referents.push(r.u32()?);
            }
            let present = referents.iter().filter(|p| **p != 0).count();
            if present.saturating_mul(IF_ID_LEN) > r.remaining() {
                return Err(WireError::invalid(
                    r.what(),
                    format!(
                        "{present} interface ids to follow but only {} bytes do",
                        r.remaining()
                    ),
                ));
            }
            let mut ids = Vec::with_capacity(n);
            for p in referents {
                ids.push(if p == 0 {
                    None
                } else {
                    r.align(4)?;
                    Some(IfId {
                        uuid: r.uuid()?,
                        major: r.u16()?,
                        minor: r.u16()?,
                    })
                });
            }
            Some(ids)
        };
        r.align(4)?;
        Ok(InqIfIdsResponse {
            ids,
            status: r.u32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ndr::ByteOrder;

    const LSARPC: Uuid = Uuid::from_u128(0x12345778_1234_abcd_ef00_0123456789ab);

    /// The answer of a server serving lsarpc v0.0 and the endpoint mapper v3.0, written by hand
    /// after the grammar above in `order`.
    fn by_hand(order: ByteOrder) -> Vec<u8> {
        let u32b = |v: u32| order.u32_bytes(v).to_vec();
        let u16b = |v: u16| order.u16_bytes(v).to_vec();
        let guid = |u: Uuid| {
            let (a, b, c, d) = u.as_fields();
            [u32b(a), u16b(b), u16b(c), d.to_vec()].concat()
        };
        [
            u32b(0x0002_0000),
            u32b(2),
            u32b(2),
            u32b(0x0002_0004),
            u32b(0x0002_0008),
            guid(LSARPC),
            u16b(0),
            u16b(0),
            guid(crate::wire::epm::EPM_INTERFACE),
            u16b(3),
            u16b(0),
            u32b(0),
        ]
        .concat()
    }

    #[test]
    fn a_hand_written_answer_decodes_in_both_byte_orders_and_round_trips() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let bytes = by_hand(order);
            let resp = InqIfIdsResponse::decode(&bytes, order).unwrap();
            let ids: Vec<IfId> = resp.if_ids().collect();
            assert_eq!(
                ids,
                [
                    IfId {
                        uuid: LSARPC,
                        major: 0,
                        minor: 0
                    },
                    IfId {
                        uuid: crate::wire::epm::EPM_INTERFACE,
                        major: 3,
                        minor: 0
                    }
                ],
                "{order:?}"
            );
            assert_eq!(resp.status, 0);
            assert_eq!(resp.encode(order).unwrap(), bytes, "{order:?}");
        }
        // The two orders differ on the wire.
        assert_ne!(by_hand(ByteOrder::Little), by_hand(ByteOrder::Big));
    }

    #[test]
    fn a_null_vector_and_null_elements_are_kept() {
        let refused = InqIfIdsResponse {
            ids: None,
            status: 5,
        };
        let bytes = refused.encode(ByteOrder::Little).unwrap();
        assert_eq!(bytes, [0, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(
            InqIfIdsResponse::decode(&bytes, ByteOrder::Little).unwrap(),
            refused
        );
        let holes = InqIfIdsResponse {
            ids: Some(vec![
                None,
                Some(IfId {
                    uuid: LSARPC,
                    major: 0,
                    minor: 0,
                }),
            ]),
            status: 0,
        };
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let b = holes.encode(order).unwrap();
            assert_eq!(InqIfIdsResponse::decode(&b, order).unwrap(), holes);
        }
    }

    #[test]
    fn counts_beyond_the_bytes_or_the_cap_and_trailing_bytes_are_errors() {
        let mut big = by_hand(ByteOrder::Little);
        big[4..8].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        big[8..12].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        assert!(matches!(
            InqIfIdsResponse::decode(&big, ByteOrder::Little),
            Err(WireError::TooLarge { .. })
        ));
        let mut over = by_hand(ByteOrder::Little);
        over[4..8].copy_from_slice(&4000u32.to_le_bytes());
        over[8..12].copy_from_slice(&4000u32.to_le_bytes());
        assert!(InqIfIdsResponse::decode(&over, ByteOrder::Little).is_err());
        let mut skew = by_hand(ByteOrder::Little);
        skew[4..8].copy_from_slice(&3u32.to_le_bytes());
        assert!(InqIfIdsResponse::decode(&skew, ByteOrder::Little).is_err());
        let whole = by_hand(ByteOrder::Little);
        for cut in 0..whole.len() {
            assert!(
                InqIfIdsResponse::decode(&whole[..cut], ByteOrder::Little).is_err(),
                "{cut}"
            );
        }
        let mut trailing = whole.clone();
        trailing.extend_from_slice(&[1, 2, 3, 4]);
        assert!(InqIfIdsResponse::decode(&trailing, ByteOrder::Little).is_err());
        assert_eq!(
            InqIfIdsRequest.encode(ByteOrder::Little).unwrap(),
            Vec::<u8>::new()
        );
    }
}
