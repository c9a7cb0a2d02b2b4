//! The endpoint mapper's stubs (C706 appendix O, `ept.idl`; MS-RPCE 2.2.1.2): NDR 2.0 bodies of
//! `ept_lookup` (opnum 2), `ept_map` (opnum 3) and `ept_lookup_handle_free` (opnum 4), requests
//! and responses, decoded and encoded in either byte order. The client encodes requests and
//! decodes responses; the fixture server does the reverse.
//!
//! Counts from the wire are checked against the bytes that remain before anything is reserved,
//! annotations are held to their IDL size, and towers to [`MAX_TOWER_LEN`].

use super::WireError;
use super::ndr::{Codec, ContextHandle, NdrReader, NdrWriter, Stub};
use super::pdu::SyntaxId;
use super::tower::{MAX_TOWER_LEN, Tower};
use uuid::Uuid;

/// The endpoint mapper's own interface: e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0.
pub const EPM_INTERFACE: Uuid = Uuid::from_u128(0xe1af8308_5d1f_11c9_91a4_08002b14a0fa);
/// Its abstract syntax, as a bind offers it.
pub const EPM_SYNTAX: SyntaxId = SyntaxId::new(EPM_INTERFACE, 3, 0);

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

impl Stub for LookupRequest {
    const WHAT: &'static str = "ept_lookup request";
}

impl<'a> Codec<'a> for LookupRequest {
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

    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let inquiry_type = r.u32()?;
        let object = unique_uuid(r)?;
        let interface = if r.u32()? != 0 {
            let uuid = r.uuid()?;
            let major = r.u16()?;
            let minor = r.u16()?;
            Some(InterfaceId { uuid, major, minor })
        } else {
            None
        };
        Ok(LookupRequest {
            inquiry_type,
            object,
            interface,
            vers_option: r.u32()?,
            handle: r.context_handle()?,
            max_ents: r.u32()?,
        })
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

fn unique_uuid(r: &mut NdrReader<'_>) -> Result<Option<Uuid>, WireError> {
    if r.u32()? == 0 {
        return Ok(None);
    }
    r.uuid().map(Some)
}

/// The array of a response (`ept_lookup`'s entries, `ept_map`'s towers): the count the
/// operation returns, then the conformant varying array's `max_count`, `offset` and
/// `actual_count`, which must agree with it.
struct ArrayOf {
    /// Names the array in size errors.
    what: &'static str,
    /// The operation's count, as the IDL names it.
    count: &'static str,
    one: &'static str,
    many: &'static str,
    /// The fewest bytes one element takes before its deferred tower.
    min_len: usize,
}

const ENTRIES: ArrayOf = ArrayOf {
    what: "ept_lookup entries",
    count: "num_ents",
    one: "entry",
    many: "entries",
    min_len: MIN_ENTRY_LEN,
};

const TOWERS: ArrayOf = ArrayOf {
    what: "ept_map towers",
    count: "num_towers",
    one: "tower",
    many: "towers",
    min_len: 4,
};

impl ArrayOf {
    /// Write the count and the array's header for `n` elements; the conformance is at least
    /// `n`. Returns `n` as the u32 it was written as.
    fn write(&self, w: &mut NdrWriter, n: usize, max_count: u32) -> Result<u32, WireError> {
        let n32 = u32::try_from(n).map_err(|_| WireError::TooLarge {
            what: self.what,
            size: n,
            limit: u32::MAX as usize,
        })?;
        w.u32(n32);
        w.u32(max_count.max(n32));
        w.u32(0);
        w.u32(n32);
        Ok(n32)
    }

    /// Read the count and the array's header: the conformance (`max_count`) and the number of
    /// elements, checked against the bytes that follow before anything is reserved.
    fn read(&self, r: &mut NdrReader<'_>) -> Result<(u32, usize), WireError> {
        let num = r.u32()?;
        let max_count = r.u32()?;
        let offset = r.u32()?;
        let actual = r.u32()?;
        if offset != 0 || actual > max_count || actual != num {
            return Err(WireError::invalid(
                r.what(),
                format!(
                    "inconsistent {} counts: {} {num}, max {max_count}, offset {offset}, actual {actual}",
                    self.one, self.count
                ),
            ));
        }
        let actual = usize::try_from(actual).unwrap_or(usize::MAX);
        if actual.saturating_mul(self.min_len) > r.remaining() {
            return Err(WireError::invalid(
                r.what(),
                format!(
                    "{actual} {} announced but only {} bytes follow",
                    self.many,
                    r.remaining()
                ),
            ));
        }
        Ok((max_count, actual))
    }
}

/// Read one deferred `twr_t` (conformance, length, octets): its octets. A length beyond the
/// stub or the tower limit fails the whole stub.
fn twr<'a>(r: &mut NdrReader<'a>) -> Result<&'a [u8], WireError> {
    let max_count = r.u32()?;
    let length = r.u32()?;
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
    if length > r.remaining() {
        return Err(WireError::invalid(
            "tower",
            format!(
                "length {length} at byte {} runs past the stub's end",
                r.offset()
            ),
        ));
    }
    r.bytes(length)
}

impl EntryTower {
    /// The tower of these octets; floors that do not parse fail only this entry.
    fn from_octets(bytes: &[u8]) -> Self {
        match Tower::decode(bytes) {
            Ok(t) => EntryTower::Decoded(t),
            Err(e) => EntryTower::Malformed(e),
        }
    }
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

/// The referent id of the `k`th tower pointer of an array (0 for null).
fn tower_referent(tower: &EntryTower, k: usize) -> u32 {
    match tower {
        EntryTower::Null => 0,
        _ => 3u32.wrapping_add(k as u32),
    }
}

/// Fill in the towers the pointers `referents` point at (`tower` finds the slot of each in
/// `items`, which start out [`EntryTower::Null`]), read in order after the array. Full pointers
/// may alias: a referent id seen before points at the tower already read for it, and is not
/// marshalled again. The copies together may hold no more tower bytes than the stub itself: a
/// few bytes of repeated ids cannot make many copies of a large tower.
fn deferred_towers<T>(
    r: &mut NdrReader<'_>,
    referents: &[u32],
    items: &mut [T],
    tower: fn(&mut T) -> &mut EntryTower,
) -> Result<(), WireError> {
    let Some(firsts) = first_of_each(referents) else {
        // No id repeats: the tower of every non-null pointer follows, in order.
        for (&referent, item) in referents.iter().zip(items.iter_mut()) {
            if referent != 0 {
                *tower(item) = EntryTower::from_octets(twr(r)?);
            }
        }
        return Ok(());
    };
    let limit = r.offset() + r.remaining();
    let mut copied = 0usize;
    let mut lengths = vec![0usize; referents.len()];
    for (k, (&referent, &first)) in referents.iter().zip(&firsts).enumerate() {
        if referent == 0 {
            continue;
        }
        if first < k {
            let length = lengths.get(first).copied().unwrap_or_default();
            copied = copied.saturating_add(length);
            if copied > limit {
                return Err(WireError::TooLarge {
                    what: "copies of aliased towers",
                    size: copied,
                    limit,
                });
            }
            let copy = items.get_mut(first).map(|i| tower(i).clone());
            if let (Some(copy), Some(item), Some(l)) = (copy, items.get_mut(k), lengths.get_mut(k))
            {
                *tower(item) = copy;
                *l = length;
            }
        } else {
            let bytes = twr(r)?;
            if let (Some(item), Some(l)) = (items.get_mut(k), lengths.get_mut(k)) {
                *tower(item) = EntryTower::from_octets(bytes);
                *l = bytes.len();
            }
        }
    }
    Ok(())
}

/// For each pointer, the index of the first pointer with the same non-zero referent id;
/// `None` when no id can repeat (ids that only grow, as NDR engines assign them).
fn first_of_each(referents: &[u32]) -> Option<Vec<usize>> {
    if referents
        .iter()
        .filter(|&&id| id != 0)
        .is_sorted_by(|a, b| a < b)
    {
        return None;
    }
    let mut by_id: Vec<(u32, usize)> = referents
        .iter()
        .copied()
        .zip(0..)
        .filter(|&(id, _)| id != 0)
        .collect();
    by_id.sort_unstable();
    let mut firsts: Vec<usize> = (0..referents.len()).collect();
    for same in by_id.chunk_by(|a, b| a.0 == b.0) {
        if let Some(&(_, first)) = same.first() {
            for &(_, k) in same {
                if let Some(f) = firsts.get_mut(k) {
                    *f = first;
                }
            }
        }
    }
    Some(firsts)
}

/// An entry's annotation: offset and length of a varying string of at most
/// [`MAX_ANNOTATION`] bytes, NUL-terminated; read lossily up to the first NUL.
fn annotation(r: &mut NdrReader<'_>) -> Result<String, WireError> {
    let offset = r.u32()?;
    let len = usize::try_from(r.u32()?).unwrap_or(usize::MAX);
    if offset != 0 || len > MAX_ANNOTATION {
        return Err(WireError::invalid(
            r.what(),
            format!(
                "annotation at byte {} has offset {offset} and length {len} (at most {MAX_ANNOTATION})",
                r.offset()
            ),
        ));
    }
    let bytes = r.bytes(len)?;
    let text = bytes.split(|&c| c == 0).next().unwrap_or_default();
    Ok(String::from_utf8_lossy(text).into_owned())
}

fn put_annotation(w: &mut NdrWriter, annotation: &str) {
    let text = annotation.as_bytes();
    let text = text.get(..MAX_ANNOTATION - 1).unwrap_or(text);
    w.u32(0);
    w.u32(text.len() as u32 + 1);
    w.bytes(text);
    w.u8(0);
}

impl Stub for LookupResponse {
    const WHAT: &'static str = "ept_lookup response";
}

impl<'a> Codec<'a> for LookupResponse {
    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        ENTRIES.write(w, self.entries.len(), self.max_count)?;
        for (k, e) in self.entries.iter().enumerate() {
            w.uuid(&e.object);
            w.u32(tower_referent(&e.tower, k));
            put_annotation(w, &e.annotation);
        }
        for e in &self.entries {
            if e.tower != EntryTower::Null {
                put_twr(w, &e.tower)?;
            }
        }
        w.u32(self.status);
        Ok(())
    }

    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let handle = r.context_handle()?;
        let (max_count, n) = ENTRIES.read(r)?;
        let mut entries = Vec::with_capacity(n);
        let mut referents = Vec::with_capacity(n);
        for _ in 0..n {
            let object = r.uuid()?;
            referents.push(r.u32()?);
            entries.push(EptEntry {
                object,
                tower: EntryTower::Null,
                annotation: annotation(r)?,
            });
        }
        deferred_towers(r, &referents, &mut entries, |e| &mut e.tower)?;
        Ok(LookupResponse {
            handle,
            max_count,
            entries,
            status: r.u32()?,
        })
    }
}

impl Stub for MapRequest {
    const WHAT: &'static str = "ept_map request";
}

impl<'a> Codec<'a> for MapRequest {
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

    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let object = unique_uuid(r)?;
        let tower = if r.u32()? != 0 {
            match EntryTower::from_octets(twr(r)?) {
                EntryTower::Decoded(t) => Some(t),
                EntryTower::Malformed(e) => return Err(e),
                EntryTower::Null => None,
            }
        } else {
            None
        };
        Ok(MapRequest {
            object,
            tower,
            handle: r.context_handle()?,
            max_towers: r.u32()?,
        })
    }
}

impl Stub for MapResponse {
    const WHAT: &'static str = "ept_map response";
}

impl<'a> Codec<'a> for MapResponse {
    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        TOWERS.write(w, self.towers.len(), self.max_count)?;
        for (k, t) in self.towers.iter().enumerate() {
            w.u32(tower_referent(t, k));
        }
        for t in &self.towers {
            if *t != EntryTower::Null {
                put_twr(w, t)?;
            }
        }
        w.u32(self.status);
        Ok(())
    }

    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let handle = r.context_handle()?;
        let (max_count, n) = TOWERS.read(r)?;
        let mut referents = Vec::with_capacity(n);
        for _ in 0..n {
            referents.push(r.u32()?);
        }
        let mut towers = vec![EntryTower::Null; n];
        deferred_towers(r, &referents, &mut towers, |t| t)?;
        Ok(MapResponse {
            handle,
            max_count,
            towers,
            status: r.u32()?,
        })
    }
}

impl Stub for HandleFreeRequest {
    const WHAT: &'static str = "ept_lookup_handle_free request";
}

impl<'a> Codec<'a> for HandleFreeRequest {
    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        Ok(())
    }

    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        Ok(HandleFreeRequest {
            handle: r.context_handle()?,
        })
    }
}

impl Stub for HandleFreeResponse {
    const WHAT: &'static str = "ept_lookup_handle_free response";
}

impl<'a> Codec<'a> for HandleFreeResponse {
    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.context_handle(&self.handle);
        w.u32(self.status);
        Ok(())
    }

    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        Ok(HandleFreeResponse {
            handle: r.context_handle()?,
            status: r.u32()?,
        })
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

    /// An `ept_lookup` response stub whose entries point at `referents`, followed by
    /// `towers` (the ones marshalled, in order), as a peer's NDR engine might lay it out.
    fn lookup_stub(referents: &[u32], towers: &[&Tower]) -> Vec<u8> {
        let mut w = NdrWriter::new(ByteOrder::Little);
        w.context_handle(&handle());
        let n = referents.len() as u32;
        for v in [n, n, 0, n] {
            w.u32(v);
        }
        for &referent in referents {
            w.uuid(&Uuid::nil());
            w.u32(referent);
            w.u32(0);
            w.u32(1);
            w.u8(0);
        }
        for t in towers {
            let bytes = t.encode().unwrap();
            w.u32(bytes.len() as u32);
            w.u32(bytes.len() as u32);
            w.bytes(&bytes);
        }
        w.u32(0);
        w.into_bytes()
    }

    fn tower_of(e: EptEntry) -> Tower {
        match e.tower {
            EntryTower::Decoded(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn full_pointers_that_repeat_a_referent_share_its_tower() {
        let (a, b) = (tower_of(entry(5001, "")), tower_of(entry(5002, "")));
        // Ids that only grow (the fast path), then ids out of order with repeats.
        for (referents, marshalled, expected) in [
            (vec![3, 0, 4], vec![&a, &b], vec![Some(&a), None, Some(&b)]),
            (
                vec![9, 7, 9, 0, 7],
                vec![&a, &b],
                vec![Some(&a), Some(&b), Some(&a), None, Some(&b)],
            ),
            (vec![5, 5, 5], vec![&b], vec![Some(&b), Some(&b), Some(&b)]),
        ] {
            let stub = lookup_stub(&referents, &marshalled);
            let resp = LookupResponse::decode(&stub, ByteOrder::Little).unwrap();
            let got: Vec<Option<&Tower>> = resp
                .entries
                .iter()
                .map(|e| match &e.tower {
                    EntryTower::Decoded(t) => Some(t),
                    EntryTower::Null => None,
                    EntryTower::Malformed(e) => panic!("{e}"),
                })
                .collect();
            assert_eq!(got, expected, "referents {referents:?}");
        }
        // An aliased tower is not marshalled again: a second copy is data left over.
        let stub = lookup_stub(&[9, 9], &[&a, &a]);
        assert!(matches!(
            LookupResponse::decode(&stub, ByteOrder::Little),
            Err(WireError::Trailing { .. })
        ));
    }

    #[test]
    fn copies_of_an_aliased_tower_are_bounded_by_the_stub() {
        let big = Tower {
            floors: vec![crate::wire::tower::Floor::Unknown {
                lhs: vec![0x42],
                rhs: vec![7; 1000],
            }],
        };
        // One copy of the tower's 1007 bytes: fewer than the stub's 1120 or so.
        let stub = lookup_stub(&[9; 2], &[&big]);
        let resp = LookupResponse::decode(&stub, ByteOrder::Little).unwrap();
        assert!(
            resp.entries
                .iter()
                .all(|e| e.tower == EntryTower::Decoded(big.clone()))
        );
        // A hundred entries naming it: 99 copies would hold over 20 times the stub's bytes.
        let stub = lookup_stub(&[9; 100], &[&big]);
        let err = LookupResponse::decode(&stub, ByteOrder::Little).unwrap_err();
        assert!(
            matches!(err, WireError::TooLarge { limit, .. } if limit == stub.len()),
            "{err}"
        );
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
