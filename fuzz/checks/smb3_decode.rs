//! Fuzz property: the SMB 3.x decoders of `smb` on arbitrary bytes: the 3.1.1 negotiate
//! contexts (through the NEGOTIATE response, and at offsets the input names), the SMB2
//! TRANSFORM_HEADER, and opening a sealed message (AES-128-GCM and AES-128-CCM).
//!
//! 1. `msg::negotiate_response` and `contexts::response`: no panic; what they return lies
//!    within the input and names only what the client offers (SHA-512; AES-128-GCM or -CCM;
//!    AES-CMAC).
//! 2. `transform::decode`: no panic; the encrypted bytes are exactly OriginalMessageSize and
//!    the header re-encodes to the input's first 52 bytes. `Encryption::open` of the raw input
//!    under fixed keys: an error (no input forges a tag), never a panic.
//! 3. The input (padded to an SMB2 header's length), sealed under fixed keys with each cipher,
//!    opens to itself; the sealed bytes altered at the position and with the XOR its first
//!    three bytes name never open.
//!
//! Shared by `fuzz_targets/smb3_decode.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/smb3_decode/` (Microsoft's published 3.1.1 negotiate response, and Samba 4.17's
//! 3.1.1 negotiate response and encrypted messages captured on loopback) in `cargo test`.
use rpcaudit::smb::contexts::{self, CIPHERS, SIGNING_ALGORITHMS};
use rpcaudit::smb::header::HEADER_LEN;
use rpcaudit::smb::msg;
use rpcaudit::smb::transform::{self, Cipher, Encryption, TRANSFORM_LEN};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let chosen = |c: &contexts::Chosen| {
        assert!(usize::from(c.salt_len) <= data.len());
        assert!(c.cipher.is_none_or(|x| CIPHERS.contains(&x)));
        assert!(c.signing.is_none_or(|x| SIGNING_ALGORITHMS.contains(&x)));
    };
    if let Ok(n) = msg::negotiate_response(data) {
        assert_eq!(n.contexts.is_some(), n.dialect == msg::DIALECT_311);
        if let Some(c) = &n.contexts {
            chosen(c);
        }
    }
    // Offsets and counts named by the input itself (where a NEGOTIATE response keeps them).
    let at = |i: usize| {
        data.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let count = data
        .get(70..72)
        .map_or(1, |b| u16::from_le_bytes([b[0], b[1]]));
    for off in [at(124).unwrap_or(0) as usize, 0, 8, 128] {
        if let Ok(c) = contexts::response(data, off, count) {
            chosen(&c);
        }
    }

    if let Ok((h, payload)) = transform::decode(data) {
        assert_eq!(payload.len(), h.original_size as usize);
        assert!(payload.len() >= HEADER_LEN);
        let mut again = Vec::new();
        h.encode(&mut again);
        assert_eq!(
            again,
            data[..TRANSFORM_LEN],
            "a transform header re-encodes"
        );
    }
    for cipher in [Cipher::Aes128Gcm, Cipher::Aes128Ccm] {
        let (mut client, server) = pair(cipher);
        assert!(server.open(7, data).is_err(), "an input forged a tag");

        let mut m = data.to_vec();
        m.resize(m.len().max(HEADER_LEN), 0);
        let sealed = client.seal(7, &m).expect("seal");
        assert_eq!(server.open(7, &sealed).expect("open what was sealed"), m);
        if let [a, b, x, ..] = *data {
            let pos = usize::from(u16::from_le_bytes([a, b])) % sealed.len();
            let mut altered = sealed.clone();
            altered[pos] ^= x.max(1);
            assert!(
                server.open(7, &altered).is_err(),
                "{cipher:?}: byte {pos} altered, yet the message opened"
            );
        }
    }
}

/// A client and the server's view of the same session keys.
fn pair(cipher: Cipher) -> (Encryption, Encryption) {
    let c2s = [0x11; 16];
    let s2c = [0x22; 16];
    (
        Encryption::new(cipher, &c2s, &s2c, [1, 2, 3, 4]),
        Encryption::new(cipher, &s2c, &c2s, [5, 6, 7, 8]),
    )
}
