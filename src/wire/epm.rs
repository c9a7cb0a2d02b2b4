//! The endpoint mapper's stubs (C706 appendix O, `ept.idl`; MS-RPCE 2.2.1.2): NDR 2.0 bodies of
//! `ept_lookup` (opnum 2), `ept_map` (opnum 3) and `ept_lookup_handle_free` (opnum 4), requests
//! and responses, decoded and encoded in either byte order. The client encodes requests and
//! decodes responses; the fixture server does the reverse.
//!
//! Counts from the wire are checked against the bytes that remain before anything is reserved,
//! annotations are held to their IDL size, and towers to [`MAX_TOWER_LEN`].

use super::WireError;
use super::ndr::{ContextHandle, NdrReader, NdrWriter, Stub};
use super::tower::{MAX_TOWER_LEN, Tower};
use nom::IResult;
use uuid::Uuid;

pub const OPNUM_LOOKUP: u16 = 2;
pub const OPNUM_MAP: u16 = 3;
pub const OPNUM_LOOKUP_HANDLE_FREE: u16 = 4;

/// `ept_s_not_registered`: no (more) elements match the inquiry.
pub const EPT_S_NOT_REGISTERED: u32 = 0x16c9_a0d6;
/// `rpc_c_ep_all_elts`: return every element.
pub const INQUIRY_ALL_ELEMENTS: u32 = 0;
/// `rpc_c_vers_all`.
pub const VERS_ALL: u32 = 1;
/// Size of `ept_entry_t.annotation` in the IDL (`ept_max_annotation_size`).
pub const MAX_ANNOTATION: usize = 64;
/// Smallest encoding of one `ept_entry_t` (object, tower pointer, annotation offset and count).
const MIN_ENTRY_LEN: usize = 16 + 4 + 8;

/// An interface identifier with version, as `rpc_if_id_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterfaceId {
    pub uuid: Uuid,
    pub major: u16,
    pub minor: u16,
}

/// `ept_lookup` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRequest {
    pub inquiry_type: u32,
    pub object: Option<Uuid>,
    pub interface: Option<InterfaceId>,
    pub vers_option: u32,
    pub handle: ContextHandle,
    pub max_ents: u32,
}

impl LookupRequest {
    /// The request that lists everything, continuing from `handle`.
    pub fn all(handle: ContextHandle, max_ents: u32) -> Self {
        LookupRequest {
            inquiry_type: INQUIRY_ALL_ELEMENTS,
            object: None,
            interface: None,
            vers_option: VERS_ALL,
            handle,
            max_ents,
        }
    }
}

/// The tower of an entry: absent (null pointer), decoded, or present but malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryTower {
    Null,
    Decoded(Tower),
    Malformed(WireError),
}

/// One `ept_entry_t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EptEntry {
    pub object: Uuid,
    pub tower: EntryTower,
    pub annotation: String,
}

/// `ept_lookup` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResponse {
    pub handle: ContextHandle,
    /// The entry array's conformance (`max_count`): the request's `max_ents`. Encoding
    /// writes at least the number of entries.
    pub max_count: u32,
    pub entries: Vec<EptEntry>,
    pub status: u32,
}

/// `ept_map` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRequest {
    pub object: Option<Uuid>,
    pub tower: Option<Tower>,
    pub handle: ContextHandle,
    pub max_towers: u32,
}

/// `ept_map` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapResponse {
    pub handle: ContextHandle,
    /// The tower array's conformance (`max_count`): the request's `max_towers`. Encoding
    /// writes at least the number of towers.
    pub max_count: u32,
    pub towers: Vec<EntryTower>,
    pub status: u32,
}

/// `ept_lookup_handle_free` request: the handle to release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleFreeRequest {
    pub handle: ContextHandle,
}

/// `ept_lookup_handle_free` response: the (now null) handle and a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleFreeResponse {
    pub handle: ContextHandle,
    pub status: u32,
}

type Res<'a, T> = IResult<&'a [u8], T>;

impl Stub for LookupRequest {
    const WHAT: &'static str = "ept_lookup request";

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.u32(self.inquiry_type);
        put_unique_uuid(w, self.object.as_ref(), 1);
        match &self.interface {
            Some(i) => {
                w.u32(2);
                w.uuid(&i.uuid);
                w.u16(i.major);
                w.u16(i.minor);
            }
            None => w.u32(0),
        }
        w.u32(self.vers_option);
        w.context_handle(&self.handle);
        w.u32(self.max_ents);
        Ok(())
    }

    fn read<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], Self), WireError> {
        let parse = |i| -> Res<'_, LookupRequest> {
            let (i, inquiry_type) = r.u32(i)?;
            let (i, object) = unique_uuid(r, i)?;
            let (i, iface_ptr) = r.u32(i)?;
            let (i, interface) = if iface_ptr != 0 {
                let (i, uuid) = r.uuid(i)?;
                let (i, major) = r.u16(i)?;
                let (i, minor) = r.u16(i)?;
                (i, Some(InterfaceId { uuid, major, minor }))
            } else {
                (i, None)
            };
            let (i, vers_option) = r.u32(i)?;
            let (i, handle) = r.context_handle(i)?;
            let (i, max_ents) = r.u32(i)?;
            Ok((
                i,
                LookupRequest {
                    inquiry_type,
                    object,
                    interface,
                    vers_option,
                    handle,
                    max_ents,
                },
            ))
        };
        r.finish(parse(i))
    }
}

fn put_unique_uuid(w: &mut NdrWriter, uuid: Option<&Uuid>, referent: u32) {
    match uuid {
        Some(u) => {
            w.u32(referent);
            w.uuid(u);
        }
        None => w.u32(0),
    }
}

fn unique_uuid<'a>(r: &NdrReader, i: &'a [u8]) -> Res<'a, Option<Uuid>> {
    let (i, ptr) = r.u32(i)?;
    if ptr == 0 {
        return Ok((i, None));
    }
    let (i, u) = r.uuid(i)?;
    Ok((i, Some(u)))
}

/// Read one deferred `twr_t` (conformance, length, octets). A length beyond the stub or the
/// tower limit fails the whole stub; a tower whose floors do not parse fails only its entry.
fn twr<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], EntryTower), WireError> {
    let (i, max_count) = r.finish(r.u32(i))?;
    let (i, length) = r.finish(r.u32(i))?;
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if length > MAX_TOWER_LEN {
        return Err(WireError::TooLarge {
            what: "tower",
            size: length,
            limit: MAX_TOWER_LEN,
        });
    }
    if u64::from(max_count) < length as u64 {
        return Err(WireError::invalid(
            "tower",
            format!("length {length} exceeds its conformance {max_count}"),
        ));
    }
    if length > i.len() {
        return Err(WireError::invalid(
            "tower",
            format!(
                "length {length} at byte {} runs past the stub's end",
                r.offset(i)
            ),
        ));
    }
    let (i, bytes) = r.finish(r.bytes(length, i))?;
    let tower = match Tower::decode(bytes) {
        Ok(t) => EntryTower::Decoded(t),
        Err(e) => EntryTower::Malformed(e),
    };
    Ok((i, tower))
}

fn put_twr(w: &mut NdrWriter, tower: &EntryTower) -> Result<(), WireError> {
    let bytes = match tower {
        EntryTower::Decoded(t) => t.encode()?,
        _ => Vec::new(),
    };
    let len = u32::try_from(bytes.len()).map_err(|_| WireError::TooLarge {
        what: "tower",
        size: bytes.len(),
        limit: MAX_TOWER_LEN,
    })?;
    w.u32(len);
    w.u32(len);
    w.bytes(&bytes);
    w.align(4);
    Ok(())
}

/// Full pointers may alias: a referent id seen before points at the tower already read.
struct Referents {
    seen: Vec<(u32, usize)>,
}

impl Stub for LookupResponse {
    const WHAT: &'static str = "ept_lookup response";

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        let n = u32::try_from(self.entries.len()).map_err(|_| WireError::TooLarge {
            what: "ept_lookup entries",
            size: self.entries.len(),
            limit: u32::MAX as usize,
        })?;
        w.u32(n);
        w.u32(self.max_count.max(n));
        w.u32(0);
        w.u32(n);
        for (k, e) in self.entries.iter().enumerate() {
            w.uuid(&e.object);
            let referent = match e.tower {
                EntryTower::Null => 0,
                _ => 3 + k as u32,
            };
            w.u32(referent);
            let mut ann: Vec<u8> = e.annotation.bytes().take(MAX_ANNOTATION - 1).collect();
            ann.push(0);
            w.u32(0);
            w.u32(ann.len() as u32);
            w.bytes(&ann);
        }
        for e in &self.entries {
            if e.tower != EntryTower::Null {
                w.align(4);
                put_twr(w, &e.tower)?;
            }
        }
        w.u32(self.status);
        Ok(())
    }

    fn read<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], Self), WireError> {
        let (i, handle) = r.finish(r.context_handle(i))?;
        let (i, num_ents) = r.finish(r.u32(i))?;
        let (i, max_count) = r.finish(r.u32(i))?;
        let (i, offset) = r.finish(r.u32(i))?;
        let (mut i, actual) = r.finish(r.u32(i))?;
        if offset != 0 || actual > max_count || actual != num_ents {
            return Err(WireError::invalid(
                "ept_lookup response",
                format!(
                    "inconsistent entry counts: num_ents {num_ents}, max {max_count}, offset {offset}, actual {actual}"
                ),
            ));
        }
        let actual = usize::try_from(actual).unwrap_or(usize::MAX);
        if actual.saturating_mul(MIN_ENTRY_LEN) > i.len() {
            return Err(WireError::invalid(
                "ept_lookup response",
                format!(
                    "{actual} entries announced but only {} bytes follow",
                    i.len()
                ),
            ));
        }
        let mut heads = Vec::with_capacity(actual);
        for _ in 0..actual {
            let (rest, object) = r.finish(r.uuid(i))?;
            let (rest, referent) = r.finish(r.u32(rest))?;
            let (rest, ann_offset) = r.finish(r.u32(rest))?;
            let (rest, ann_len) = r.finish(r.u32(rest))?;
            let ann_len = usize::try_from(ann_len).unwrap_or(usize::MAX);
            if ann_offset != 0 || ann_len > MAX_ANNOTATION {
                return Err(WireError::invalid(
                    "ept_lookup response",
                    format!(
                        "annotation at byte {} has offset {ann_offset} and length {ann_len} (at most {MAX_ANNOTATION})",
                        r.offset(rest)
                    ),
                ));
            }
            let (rest, ann) = r.finish(r.bytes(ann_len, rest))?;
            let end = ann.iter().position(|&c| c == 0).unwrap_or(ann.len());
            let annotation = String::from_utf8_lossy(&ann[..end]).into_owned();
            heads.push((object, referent, annotation));
            i = rest;
        }
        let mut refs = Referents { seen: Vec::new() };
        let mut towers: Vec<EntryTower> = Vec::with_capacity(actual);
        for (_, referent, _) in &heads {
            if *referent == 0 {
                towers.push(EntryTower::Null);
                continue;
            }
            if let Some(&(_, k)) = refs.seen.iter().find(|(id, _)| id == referent) {
                let t = towers.get(k).cloned().unwrap_or(EntryTower::Null);
                towers.push(t);
                continue;
            }
            let (rest, _) = r.finish(r.align(4, i))?;
            let (rest, t) = twr(r, rest)?;
            refs.seen.push((*referent, towers.len()));
            towers.push(t);
            i = rest;
        }
        let (i, status) = r.finish(r.u32(i))?;
        let entries = heads
            .into_iter()
            .zip(towers)
            .map(|((object, _, annotation), tower)| EptEntry {
                object,
                tower,
                annotation,
            })
            .collect();
        Ok((
            i,
            LookupResponse {
                handle,
                max_count,
                entries,
                status,
            },
        ))
    }
}

impl Stub for MapRequest {
    const WHAT: &'static str = "ept_map request";

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        put_unique_uuid(w, self.object.as_ref(), 1);
        match &self.tower {
            Some(t) => {
                w.u32(2);
                put_twr(w, &EntryTower::Decoded(t.clone()))?;
            }
            None => w.u32(0),
        }
        w.context_handle(&self.handle);
        w.u32(self.max_towers);
        Ok(())
    }

    fn read<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], Self), WireError> {
        let (i, object) = r.finish(unique_uuid(r, i))?;
        let (i, tower_ptr) = r.finish(r.u32(i))?;
        let (i, tower) = if tower_ptr != 0 {
            let (i, t) = twr(r, i)?;
            match t {
                EntryTower::Decoded(t) => (i, Some(t)),
                EntryTower::Malformed(e) => return Err(e),
                EntryTower::Null => (i, None),
            }
        } else {
            (i, None)
        };
        let (i, handle) = r.finish(r.context_handle(i))?;
        let (i, max_towers) = r.finish(r.u32(i))?;
        Ok((
            i,
            MapRequest {
                object,
                tower,
                handle,
                max_towers,
            },
        ))
    }
}

impl Stub for MapResponse {
    const WHAT: &'static str = "ept_map response";

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        let n = u32::try_from(self.towers.len()).map_err(|_| WireError::TooLarge {
            what: "ept_map towers",
            size: self.towers.len(),
            limit: u32::MAX as usize,
        })?;
        w.u32(n);
        w.u32(self.max_count.max(n));
        w.u32(0);
        w.u32(n);
        for (k, t) in self.towers.iter().enumerate() {
            w.u32(if *t == EntryTower::Null {
                0
            } else {
                3 + k as u32
            });
        }
        for t in &self.towers {
            if *t != EntryTower::Null {
                put_twr(w, t)?;
            }
        }
        w.u32(self.status);
        Ok(())
    }

    fn read<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], Self), WireError> {
        let (i, handle) = r.finish(r.context_handle(i))?;
        let (i, num) = r.finish(r.u32(i))?;
        let (i, max_count) = r.finish(r.u32(i))?;
        let (i, offset) = r.finish(r.u32(i))?;
        let (mut i, actual) = r.finish(r.u32(i))?;
        if offset != 0 || actual > max_count || actual != num {
            return Err(WireError::invalid(
                "ept_map response",
                format!("inconsistent tower counts: num {num}, max {max_count}, actual {actual}"),
            ));
        }
        let actual = usize::try_from(actual).unwrap_or(usize::MAX);
        if actual.saturating_mul(4) > i.len() {
            return Err(WireError::invalid(
                "ept_map response",
                format!(
                    "{actual} towers announced but only {} bytes follow",
                    i.len()
                ),
            ));
        }
        let mut referents = Vec::with_capacity(actual);
        for _ in 0..actual {
            let (rest, p) = r.finish(r.u32(i))?;
            referents.push(p);
            i = rest;
        }
        let mut towers = Vec::with_capacity(actual);
        for p in referents {
            if p == 0 {
                towers.push(EntryTower::Null);
                continue;
            }
            let (rest, _) = r.finish(r.align(4, i))?;
            let (rest, t) = twr(r, rest)?;
            towers.push(t);
            i = rest;
        }
        let (i, status) = r.finish(r.u32(i))?;
        Ok((
            i,
            MapResponse {
                handle,
                max_count,
                towers,
                status,
            },
        ))
    }
}

impl Stub for HandleFreeRequest {
    const WHAT: &'static str = "ept_lookup_handle_free request";

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        Ok(())
    }

    fn read<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], Self), WireError> {
        let (i, handle) = r.finish(r.context_handle(i))?;
        Ok((i, HandleFreeRequest { handle }))
    }
}

impl Stub for HandleFreeResponse {
    const WHAT: &'static str = "ept_lookup_handle_free response";

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        w.u32(self.status);
        Ok(())
    }

    fn read<'a>(r: &NdrReader, i: &'a [u8]) -> Result<(&'a [u8], Self), WireError> {
        let (i, handle) = r.finish(r.context_handle(i))?;
        let (i, status) = r.finish(r.u32(i))?;
        Ok((i, HandleFreeResponse { handle, status }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ndr::ByteOrder;
    use crate::wire::tower::Binding;
    use proptest::prelude::*;

    fn entry(port: u16, annotation: &str) -> EptEntry {
        let (_, b) = Binding::parse(&format!("ncacn_ip_tcp:198.18.0.10[{port}]")).unwrap();
        EptEntry {
            object: Uuid::nil(),
            tower: EntryTower::Decoded(
                Tower::for_binding(
                    Uuid::from_u128(0x12345778_1234_abcd_ef00_0123456789ac),
                    1,
                    0,
                    &b,
                )
                .unwrap(),
            ),
            annotation: annotation.into(),
        }
    }

    fn handle() -> ContextHandle {
        ContextHandle {
            attributes: 0,
            uuid: Uuid::from_u128(0xdead_beef),
        }
    }

    #[test]
    fn lookup_request_round_trips_in_both_orders() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            for req in [
                LookupRequest::all(ContextHandle::NULL, 500),
                LookupRequest {
                    inquiry_type: 1,
                    object: Some(Uuid::from_u128(7)),
                    interface: Some(InterfaceId {
                        uuid: Uuid::from_u128(9),
                        major: 3,
                        minor: 1,
                    }),
                    vers_option: 2,
                    handle: handle(),
                    max_ents: 1,
                },
            ] {
                let bytes = req.encode(order).unwrap();
                assert_eq!(LookupRequest::decode(&bytes, order).unwrap(), req);
            }
        }
    }

    #[test]
    fn the_all_elements_request_matches_the_ndr_layout() {
        let bytes = LookupRequest::all(ContextHandle::NULL, 500)
            .encode(ByteOrder::Little)
            .unwrap();
        // inquiry, object ptr, interface ptr, vers_option, 20-byte handle, max_ents.
        assert_eq!(bytes.len(), 4 + 4 + 4 + 4 + 20 + 4);
        assert_eq!(&bytes[12..16], &[1, 0, 0, 0]);
        assert_eq!(&bytes[36..40], &500u32.to_le_bytes());
    }

    #[test]
    fn lookup_response_round_trips_in_both_orders() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let resp = LookupResponse {
                max_count: 500,
                handle: handle(),
                entries: vec![
                    entry(5001, "SAM access"),
                    entry(5002, ""),
                    EptEntry {
                        object: Uuid::from_u128(1),
                        tower: EntryTower::Null,
                        annotation: "x".into(),
                    },
                ],
                status: 0,
            };
            let bytes = resp.encode(order).unwrap();
            assert_eq!(LookupResponse::decode(&bytes, order).unwrap(), resp);
        }
    }

    #[test]
    fn empty_not_registered_response() {
        let resp = LookupResponse {
            max_count: 500,
            handle: ContextHandle::NULL,
            entries: vec![],
            status: EPT_S_NOT_REGISTERED,
        };
        let bytes = resp.encode(ByteOrder::Little).unwrap();
        assert_eq!(
            LookupResponse::decode(&bytes, ByteOrder::Little).unwrap(),
            resp
        );
    }

    #[test]
    fn a_tower_with_bad_floors_spoils_only_its_entry() {
        let resp = LookupResponse {
            max_count: 2,
            handle: handle(),
            entries: vec![entry(5001, "a"), entry(5002, "b")],
            status: 0,
        };
        let mut bytes = resp.encode(ByteOrder::Little).unwrap();
        // Find the first tower's floor count (5, 0) after the array and make it 9.
        let pos = bytes.windows(4).position(|w| w == [5, 0, 19, 0]).unwrap();
        bytes[pos] = 9;
        let back = LookupResponse::decode(&bytes, ByteOrder::Little).unwrap();
        assert!(matches!(back.entries[0].tower, EntryTower::Malformed(_)));
        assert_eq!(back.entries[1], resp.entries[1]);
    }

    #[test]
    fn counts_beyond_the_bytes_are_rejected_before_allocation() {
        let mut w = NdrWriter::new(ByteOrder::Little);
        w.context_handle(&handle());
        for v in [u32::MAX, u32::MAX, 0, u32::MAX] {
            w.u32(v);
        }
        let err = LookupResponse::decode(&w.into_bytes(), ByteOrder::Little).unwrap_err();
        assert!(err.to_string().contains("entries announced"), "{err}");
    }

    #[test]
    fn oversized_tower_and_annotation_are_rejected() {
        let resp = LookupResponse {
            max_count: 1,
            handle: handle(),
            entries: vec![entry(5001, "a")],
            status: 0,
        };
        let bytes = resp.encode(ByteOrder::Little).unwrap();
        // Annotation length lives right after object (16), referent (4), offset (4): byte
        // 20 + 16 of the array, which starts at 20 + 4 + 12.
        let ann_len_at = 36 + 16 + 4 + 4;
        let mut b = bytes.clone();
        b[ann_len_at..ann_len_at + 4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(LookupResponse::decode(&b, ByteOrder::Little).is_err());
        // Tower length: find "max, len" pair of the tower and blow up both.
        let tlen = match &resp.entries[0].tower {
            EntryTower::Decoded(t) => t.encode().unwrap().len() as u32,
            _ => unreachable!(),
        };
        let mut pair = tlen.to_le_bytes().to_vec();
        pair.extend_from_slice(&tlen.to_le_bytes());
        let at = bytes.windows(8).position(|w| w == pair.as_slice()).unwrap();
        let mut b = bytes.clone();
        b[at..at + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        b[at + 4..at + 8].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        assert!(matches!(
            LookupResponse::decode(&b, ByteOrder::Little),
            Err(WireError::TooLarge { .. })
        ));
    }

    #[test]
    fn map_round_trips() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let t = match entry(0, "").tower {
                EntryTower::Decoded(t) => t,
                _ => unreachable!(),
            };
            let req = MapRequest {
                object: None,
                tower: Some(t.clone()),
                handle: ContextHandle::NULL,
                max_towers: 4,
            };
            assert_eq!(
                MapRequest::decode(&req.encode(order).unwrap(), order).unwrap(),
                req
            );
            let resp = MapResponse {
                max_count: 4,
                handle: ContextHandle::NULL,
                towers: vec![EntryTower::Decoded(t)],
                status: 0,
            };
            assert_eq!(
                MapResponse::decode(&resp.encode(order).unwrap(), order).unwrap(),
                resp
            );
        }
    }

    #[test]
    fn handle_free_round_trips() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let req = HandleFreeRequest { handle: handle() };
            let b = req.encode(order).unwrap();
            assert_eq!(HandleFreeRequest::decode(&b, order).unwrap(), req);
            let resp = HandleFreeResponse {
                handle: ContextHandle::NULL,
                status: 0,
            };
            let b = resp.encode(order).unwrap();
            assert_eq!(HandleFreeResponse::decode(&b, order).unwrap(), resp);
        }
    }

    #[test]
    fn bytes_after_the_last_field_are_refused_and_alignment_padding_is_not() {
        let resp = LookupResponse {
            max_count: 500,
            handle: handle(),
            entries: vec![entry(5001, "a")],
            status: 0,
        };
        let mut bytes = resp.encode(ByteOrder::Little).unwrap();
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            LookupResponse::decode(&bytes, ByteOrder::Little).unwrap(),
            resp
        );
        bytes.push(0x41);
        assert!(matches!(
            LookupResponse::decode(&bytes, ByteOrder::Little),
            Err(WireError::Trailing { len: 5, .. })
        ));
        let free = HandleFreeResponse {
            handle: ContextHandle::NULL,
            status: 0,
        };
        let mut b = free.encode(ByteOrder::Big).unwrap();
        b.extend_from_slice(&[0xff; 4]);
        assert!(HandleFreeResponse::decode(&b, ByteOrder::Big).is_err());
        for stub in [
            LookupRequest::all(handle(), 1).encode(ByteOrder::Little),
            MapRequest {
                object: None,
                tower: None,
                handle: handle(),
                max_towers: 1,
            }
            .encode(ByteOrder::Little),
        ] {
            let mut stub = stub.unwrap();
            stub.extend_from_slice(b"trailing data");
            assert!(
                LookupRequest::decode(&stub, ByteOrder::Little).is_err()
                    && MapRequest::decode(&stub, ByteOrder::Little).is_err()
            );
        }
    }

    proptest! {
        #[test]
        fn lookup_response_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = LookupResponse::decode(&bytes, ByteOrder::Little);
            let _ = LookupResponse::decode(&bytes, ByteOrder::Big);
            let _ = MapResponse::decode(&bytes, ByteOrder::Little);
            let _ = LookupRequest::decode(&bytes, ByteOrder::Big);
        }

        #[test]
        fn lookup_responses_round_trip(ports in prop::collection::vec(any::<u16>(), 0..30),
                                       ann in "[ -~]{0,63}", big in any::<bool>(), status in any::<u32>()) {
            let order = if big { ByteOrder::Big } else { ByteOrder::Little };
            let resp = LookupResponse {
                max_count: 500,
                handle: handle(),
                entries: ports.iter().map(|&p| entry(p, &ann)).collect(),
                status,
            };
            let bytes = resp.encode(order).unwrap();
            prop_assert_eq!(LookupResponse::decode(&bytes, order).unwrap(), resp);
        }
    }
}
