//! A minimal registry hive (regf) writer for tests: hivex edits hives but cannot make one, and
//! a `.wfw` fixture must come from somewhere. Written from the format's public description
//! (msuhanov's "Windows registry file format specification"); every hive it writes is read back
//! by hivex, the independent reader, in tests/wfw_hive.rs.
//!
//! What it writes: the 4096-byte base block (signature, sequence numbers equal, version 1.5,
//! primary file, root cell offset, hive bins size, XOR checksum at 508), one hive bin whose
//! size is a multiple of 4096, and in it one `sk` cell (one security descriptor that every key
//! shares), an `nk` cell per key, an `lh` list per key with subkeys (sorted by upper-case
//! name, with the name hashes), a value list, a `vk` cell per value, and a data cell per value
//! larger than 4 bytes (smaller data is resident in the `vk`). The rest of the bin is one
//! free cell. Names are stored compressed (Latin-1) when ASCII, else UTF-16LE.

use std::collections::BTreeMap;

/// Where the hive bins start in the file; cell offsets count from here.
pub const BINS: usize = 4096;
const PAGE: usize = 4096;
const NONE: u32 = 0xFFFF_FFFF;

/// A value: REG_SZ or REG_DWORD, or any type as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Sz(String),
    Dword(u32),
    Raw(u32, Vec<u8>),
}

impl Value {
    pub fn kind(&self) -> u32 {
        match self {
            Value::Sz(_) => 1,
            Value::Dword(_) => 4,
            Value::Raw(t, _) => *t,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Value::Sz(s) => s
                .encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect(),
            Value::Dword(d) => d.to_le_bytes().to_vec(),
            Value::Raw(_, b) => b.clone(),
        }
    }
}

/// A key with its values (in order) and subkeys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub values: Vec<(String, Value)>,
    pub subkeys: Vec<Key>,
}

impl Key {
    pub fn new(name: &str) -> Key {
        Key {
            name: name.into(),
            ..Key::default()
        }
    }

    /// The key at `path` (names separated by `\`) below this one, created on the way.
    pub fn at(&mut self, path: &str) -> &mut Key {
        let mut k = self;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            let i = match k
                .subkeys
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(part))
            {
                Some(i) => i,
                None => {
                    k.subkeys.push(Key::new(part));
                    k.subkeys.len() - 1
                }
            };
            k = &mut k.subkeys[i];
        }
        k
    }

    /// Every key below this one (this one as ""), by path, with its values.
    pub fn flatten(&self) -> BTreeMap<String, Vec<(String, Value)>> {
        let mut out = BTreeMap::new();
        fn walk(k: &Key, path: String, out: &mut BTreeMap<String, Vec<(String, Value)>>) {
            out.insert(path.clone(), k.values.clone());
            for s in &k.subkeys {
                let p = if path.is_empty() {
                    s.name.clone()
                } else {
                    format!("{path}\\{}", s.name)
                };
                walk(s, p, out);
            }
        }
        walk(self, String::new(), &mut out);
        out
    }
}

/// A written hive and where each key's cells are (offsets from [`BINS`]), for tests that
/// damage it.
#[derive(Debug, Clone)]
pub struct Written {
    pub bytes: Vec<u8>,
    /// Path (as in [`Key::flatten`]) → (nk cell, subkey list cell or NONE, value list or NONE).
    pub cells: BTreeMap<String, (u32, u32, u32)>,
}

impl Written {
    /// The file offset of the data of the cell at `cell` (past its size field).
    pub fn data_at(cell: u32) -> usize {
        BINS + cell as usize + 4
    }

    pub fn put_u32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// Recompute the base block's checksum (after the header was changed on purpose).
    pub fn fix_checksum(&mut self) {
        let sum = checksum(&self.bytes[..508]);
        self.put_u32(508, sum);
    }
}

/// XOR of the first 127 dwords, 0 written as 1 and all-ones as all-ones less one.
pub fn checksum(header: &[u8]) -> u32 {
    let x = header.chunks_exact(4).fold(0u32, |acc, c| {
        acc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]])
    });
    match x {
        0 => 1,
        NONE => NONE - 1,
        x => x,
    }
}

/// The hash an `lh` list stores for a name: `h = h * 37 + c` over its upper-case characters.
pub fn name_hash(name: &str) -> u32 {
    name.to_uppercase()
        .encode_utf16()
        .fold(0u32, |h, c| h.wrapping_mul(37).wrapping_add(u32::from(c)))
}

/// A name as stored, and whether it is compressed.
fn name_bytes(name: &str) -> (Vec<u8>, bool) {
    if name.is_ascii() {
        (name.as_bytes().to_vec(), true)
    } else {
        (
            name.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            false,
        )
    }
}

struct Bin {
    data: Vec<u8>,
}

impl Bin {
    /// A new allocated cell holding `body`: its offset from [`BINS`].
    fn cell(&mut self, body: &[u8]) -> u32 {
        let size = (body.len() + 4).div_ceil(8) * 8;
        let off = self.data.len() as u32;
        self.data.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.data.extend_from_slice(body);
        self.data.resize(off as usize + size, 0);
        off
    }

    fn patch(&mut self, cell: u32, at: usize, v: u32) {
        let p = cell as usize + 4 + at;
        self.data[p..p + 4].copy_from_slice(&v.to_le_bytes());
    }
}

fn u16le(v: usize) -> [u8; 2] {
    (v as u16).to_le_bytes()
}

/// Write `root` as a hive whose root key is `root`.
pub fn write(root: &Key) -> Written {
    // The hive bin's 32-byte header comes first.
    let mut bin = Bin { data: vec![0; 32] };
    // One security descriptor, self-relative, no owner, group or ACLs.
    let sd: [u8; 20] = [
        1, 0, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut sk = b"sk\0\0".to_vec();
    sk.extend([0u8; 12]);
    sk.extend((sd.len() as u32).to_le_bytes());
    sk.extend(sd);
    let sk_off = bin.cell(&sk);
    let mut cells = BTreeMap::new();
    let mut keys = 0u32;
    let root_off = emit(
        root,
        NONE,
        String::new(),
        sk_off,
        &mut bin,
        &mut cells,
        &mut keys,
    );
    // The security cell: a list of one, used by every key.
    bin.patch(sk_off, 4, sk_off);
    bin.patch(sk_off, 8, sk_off);
    bin.patch(sk_off, 12, keys);
    // The rest of the bin is one free cell.
    let size = (bin.data.len() + 8).div_ceil(PAGE) * PAGE;
    let free = size - bin.data.len();
    let at = bin.data.len();
    bin.data.resize(size, 0);
    bin.data[at..at + 4].copy_from_slice(&(free as i32).to_le_bytes());
    bin.data[..4].copy_from_slice(b"hbin");
    bin.data[4..8].copy_from_slice(&0u32.to_le_bytes());
    bin.data[8..12].copy_from_slice(&(size as u32).to_le_bytes());

    let mut bytes = vec![0u8; BINS];
    bytes[..4].copy_from_slice(b"regf");
    bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    bytes[20..24].copy_from_slice(&1u32.to_le_bytes());
    bytes[24..28].copy_from_slice(&5u32.to_le_bytes());
    bytes[28..32].copy_from_slice(&0u32.to_le_bytes());
    bytes[32..36].copy_from_slice(&1u32.to_le_bytes());
    bytes[36..40].copy_from_slice(&root_off.to_le_bytes());
    bytes[40..44].copy_from_slice(&(size as u32).to_le_bytes());
    bytes[44..48].copy_from_slice(&1u32.to_le_bytes());
    let file_name: Vec<u8> = "\\rpcaudit-test.wfw"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes[48..48 + file_name.len()].copy_from_slice(&file_name);
    let sum = checksum(&bytes[..508]);
    bytes[508..512].copy_from_slice(&sum.to_le_bytes());
    bytes.extend(bin.data);
    Written { bytes, cells }
}

/// Write key `k` and everything below it; its nk cell's offset.
fn emit(
    k: &Key,
    parent: u32,
    path: String,
    sk: u32,
    bin: &mut Bin,
    cells: &mut BTreeMap<String, (u32, u32, u32)>,
    keys: &mut u32,
) -> u32 {
    *keys += 1;
    let (name, compressed) = name_bytes(&k.name);
    let mut nk = vec![0u8; 76];
    nk[..2].copy_from_slice(b"nk");
    let mut flags = if compressed { 0x20u16 } else { 0 };
    if parent == NONE {
        flags |= 0x04 | 0x08; // the hive's entry, not to be deleted
    }
    nk[2..4].copy_from_slice(&flags.to_le_bytes());
    nk[72..74].copy_from_slice(&u16le(name.len()));
    nk.extend(&name);
    let nk_off = bin.cell(&nk);

    // Values: data cells, vk cells, then the list.
    let mut vks = Vec::new();
    let (mut max_name, mut max_data) = (0usize, 0usize);
    for (vname, v) in &k.values {
        let data = v.bytes();
        let (vn, vcomp) = name_bytes(vname);
        max_name = max_name.max(vn.len() * if vcomp { 2 } else { 1 });
        max_data = max_data.max(data.len());
        let (size, offset) = if data.len() <= 4 {
            let mut d = [0u8; 4];
            d[..data.len()].copy_from_slice(&data);
            (0x8000_0000 | data.len() as u32, u32::from_le_bytes(d))
        } else {
            (data.len() as u32, bin.cell(&data))
        };
        let mut vk = b"vk".to_vec();
        vk.extend(u16le(vn.len()));
        vk.extend(size.to_le_bytes());
        vk.extend(offset.to_le_bytes());
        vk.extend(v.kind().to_le_bytes());
        vk.extend(u16::from(vcomp).to_le_bytes());
        vk.extend([0, 0]);
        vk.extend(&vn);
        vks.push(bin.cell(&vk));
    }
    let values_list = if vks.is_empty() {
        NONE
    } else {
        let list: Vec<u8> = vks.iter().flat_map(|o| o.to_le_bytes()).collect();
        bin.cell(&list)
    };

    // Subkeys, sorted as Windows sorts them (upper-case names), then their lh list.
    let mut subs: Vec<&Key> = k.subkeys.iter().collect();
    subs.sort_by_key(|s| s.name.to_uppercase().encode_utf16().collect::<Vec<_>>());
    let mut entries = Vec::new();
    let mut max_sub = 0usize;
    for s in &subs {
        let p = if path.is_empty() {
            s.name.clone()
        } else {
            format!("{path}\\{}", s.name)
        };
        let off = emit(s, nk_off, p, sk, bin, cells, keys);
        let (n, c) = name_bytes(&s.name);
        max_sub = max_sub.max(n.len() * if c { 2 } else { 1 });
        entries.push((off, name_hash(&s.name)));
    }
    let subkey_list = if entries.is_empty() {
        NONE
    } else {
        assert!(entries.len() <= 0xFFFF, "an lh list counts in 16 bits");
        let mut lh = b"lh".to_vec();
        lh.extend(u16le(entries.len()));
        for (off, hash) in &entries {
            lh.extend(off.to_le_bytes());
            lh.extend(hash.to_le_bytes());
        }
        bin.cell(&lh)
    };

    bin.patch(nk_off, 16, parent);
    bin.patch(nk_off, 20, entries.len() as u32);
    bin.patch(nk_off, 28, subkey_list);
    bin.patch(nk_off, 32, NONE);
    bin.patch(nk_off, 36, vks.len() as u32);
    bin.patch(nk_off, 40, values_list);
    bin.patch(nk_off, 44, sk);
    bin.patch(nk_off, 48, NONE);
    bin.patch(nk_off, 52, max_sub as u32);
    bin.patch(nk_off, 60, max_name as u32);
    bin.patch(nk_off, 64, max_data as u32);
    cells.insert(path, (nk_off, subkey_list, values_list));
    nk_off
}
