//! SMB 3.x encryption: the SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41) and the AEAD that seals a
//! whole message behind it (MS-SMB2 3.1.4.3), AES-128-GCM or AES-128-CCM through RustCrypto's
//! `aes-gcm` and `ccm`. Pure.
//!
//! ```text
//! ProtocolId "\xfdSMB" | Signature (16): the AEAD tag | Nonce (16): 12 bytes (GCM) or 11 (CCM)
//! then zeros | OriginalMessageSize (u32) | Reserved (u16) | Flags (u16) = 1 (encrypted)
//! | SessionId (u64)                                                         52 bytes, then
//! the encrypted message, OriginalMessageSize bytes
//! ```
//!
//! The associated data is the header from the nonce on (32 bytes). Nonces are never reused
//! under one key: a per-session random prefix and a counter. A received message is decrypted
//! only after its lengths, flags and session agree, and used only after its tag verifies.

use super::SmbWireError;
use super::codec::{Put, Reader};
use super::contexts::{CIPHER_AES128_CCM, CIPHER_AES128_GCM};
use aes::Aes128;
use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, KeyInit};
use ccm::Ccm;
use ccm::consts::{U11, U16};
use zeroize::Zeroizing;

type Aes128Ccm = Ccm<Aes128, U16, U11>;

pub const TRANSFORM_ID: [u8; 4] = *b"\xfdSMB";
/// The compression transform (MS-SMB2 2.2.42), never negotiated here.
pub const COMPRESSION_ID: [u8; 4] = *b"\xfcSMB";
pub const TRANSFORM_LEN: usize = 52;
/// The one Flags value of an encrypted message (SMB2_TRANSFORM_HEADER Flags/EncryptionAlgorithm).
const FLAG_ENCRYPTED: u16 = 0x0001;
const WHAT: &str = "SMB2 transform header";

/// Why a message could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error("{0}")]
    Wire(#[from] SmbWireError),
    #[error(
        "the encrypted message does not authenticate: it was altered or not sent by the authenticated server"
    )]
    Tag,
    #[error("the encrypted message is for session 0x{got:016x}, not 0x{want:016x}")]
    Session { got: u64, want: u64 },
    #[error("the nonces of this session are used up")]
    NoncesExhausted,
    #[error("the cipher could not seal the message")]
    Seal,
}

/// A negotiated cipher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Aes128Ccm,
    Aes128Gcm,
}

impl Cipher {
    /// The cipher a negotiate context or a 3.0.x dialect names.
    pub fn from_id(id: u16) -> Option<Cipher> {
        match id {
            CIPHER_AES128_CCM => Some(Cipher::Aes128Ccm),
            CIPHER_AES128_GCM => Some(Cipher::Aes128Gcm),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Cipher::Aes128Ccm => "AES-128-CCM",
            Cipher::Aes128Gcm => "AES-128-GCM",
        }
    }

    /// How many bytes of the 16-byte nonce field the cipher uses.
    fn nonce_len(self) -> usize {
        match self {
            Cipher::Aes128Ccm => 11,
            Cipher::Aes128Gcm => 12,
        }
    }
}

/// A transform header, as read or to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformHeader {
    pub signature: [u8; 16],
    pub nonce: [u8; 16],
    pub original_size: u32,
    pub flags: u16,
    pub session_id: u64,
}

impl TransformHeader {
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&TRANSFORM_ID);
        out.extend_from_slice(&self.signature);
        self.encode_aad(out);
    }

    /// The 32 bytes from the nonce on: the AEAD's associated data.
    fn encode_aad(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.nonce);
        out.u32le(self.original_size);
        out.u16le(0);
        out.u16le(self.flags);
        out.u64le(self.session_id);
    }
}

/// Whether `msg` starts with a transform header's protocol id.
pub fn is_transform(msg: &[u8]) -> bool {
    msg.get(..4) == Some(&TRANSFORM_ID[..])
}

/// Read the transform header of `msg` and the encrypted message after it, whose length must be
/// the header's OriginalMessageSize exactly.
pub fn decode(msg: &[u8]) -> Result<(TransformHeader, &[u8]), SmbWireError> {
    let mut r = Reader::new(msg, WHAT);
    let id: [u8; 4] = r.array()?;
    if id != TRANSFORM_ID {
        return Err(SmbWireError::invalid(
            WHAT,
            format!("protocol id {id:02x?}, not \\xfdSMB"),
        ));
    }
    let h = TransformHeader {
        signature: r.array()?,
        nonce: r.array()?,
        original_size: r.u32()?,
        flags: {
            let reserved = r.u16()?;
            if reserved != 0 {
                return Err(SmbWireError::invalid(
                    WHAT,
                    format!("reserved 0x{reserved:04x}, not zero"),
                ));
            }
            r.u16()?
        },
        session_id: r.u64()?,
    };
    if h.flags != FLAG_ENCRYPTED {
        return Err(SmbWireError::invalid(
            WHAT,
            format!("flags 0x{:04x}, not 0x0001 (encrypted)", h.flags),
        ));
    }
    let payload = &msg[TRANSFORM_LEN..];
    if payload.len() != h.original_size as usize {
        return Err(SmbWireError::invalid(
            WHAT,
            format!(
                "an original message size of {} bytes, but {} follow the header",
                h.original_size,
                payload.len()
            ),
        ));
    }
    if payload.len() < super::header::HEADER_LEN {
        return Err(SmbWireError::invalid(
            WHAT,
            format!(
                "{} encrypted bytes: shorter than an SMB2 header",
                payload.len()
            ),
        ));
    }
    Ok((h, payload))
}

/// The keys and nonce state of an encrypting session; zeroed on drop, never shown.
pub struct Encryption {
    cipher: Cipher,
    seal_key: Zeroizing<[u8; 16]>,
    open_key: Zeroizing<[u8; 16]>,
    /// The nonce bytes after the counter: random, per session.
    prefix: [u8; 4],
    counter: u64,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Encryption({}, <redacted>)", self.cipher.name())
    }
}

impl Encryption {
    /// `seal_key` encrypts what the client sends, `open_key` decrypts what it receives;
    /// `prefix` fills the nonce bytes after the 8-byte counter (random for a live session).
    pub fn new(
        cipher: Cipher,
        seal_key: &[u8; 16],
        open_key: &[u8; 16],
        prefix: [u8; 4],
    ) -> Encryption {
        Encryption {
            cipher,
            seal_key: Zeroizing::new(*seal_key),
            open_key: Zeroizing::new(*open_key),
            prefix,
            counter: 0,
        }
    }

    pub fn cipher(&self) -> Cipher {
        self.cipher
    }

    fn next_nonce(&mut self) -> Result<[u8; 16], TransformError> {
        let n = self.counter;
        self.counter = n.checked_add(1).ok_or(TransformError::NoncesExhausted)?;
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&n.to_le_bytes());
        let used = self.cipher.nonce_len();
        nonce[8..used].copy_from_slice(&self.prefix[..used - 8]);
        Ok(nonce)
    }

    /// `msg` (a whole SMB2 message) behind a transform header for `session_id`.
    pub fn seal(&mut self, session_id: u64, msg: &[u8]) -> Result<Vec<u8>, TransformError> {
        let original_size = u32::try_from(msg.len()).map_err(|_| SmbWireError::TooLarge {
            what: WHAT,
            size: msg.len(),
            limit: u32::MAX as usize,
        })?;
        let mut h = TransformHeader {
            signature: [0; 16],
            nonce: self.next_nonce()?,
            original_size,
            flags: FLAG_ENCRYPTED,
            session_id,
        };
        let mut aad = Vec::with_capacity(32);
        h.encode_aad(&mut aad);
        let mut body = msg.to_vec();
        let nonce = &h.nonce[..self.cipher.nonce_len()];
        let tag = match self.cipher {
            Cipher::Aes128Gcm => seal_with::<Aes128Gcm>(&*self.seal_key, nonce, &aad, &mut body),
            Cipher::Aes128Ccm => seal_with::<Aes128Ccm>(&*self.seal_key, nonce, &aad, &mut body),
        }
        .ok_or(TransformError::Seal)?;
        h.signature.copy_from_slice(&tag);
        let mut out = Vec::with_capacity(TRANSFORM_LEN + body.len());
        h.encode(&mut out);
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// The SMB2 message inside `msg` (a whole transform), which must be for `session_id` and
    /// authenticate under the session's key.
    pub fn open(&self, session_id: u64, msg: &[u8]) -> Result<Vec<u8>, TransformError> {
        let (h, payload) = decode(msg)?;
        if h.session_id != session_id {
            return Err(TransformError::Session {
                got: h.session_id,
                want: session_id,
            });
        }
        let used = self.cipher.nonce_len();
        if h.nonce[used..].iter().any(|b| *b != 0) {
            return Err(SmbWireError::invalid(
                WHAT,
                format!(
                    "the nonce's bytes after the {used} {} uses are not zero",
                    self.cipher.name()
                ),
            )
            .into());
        }
        let mut aad = Vec::with_capacity(32);
        h.encode_aad(&mut aad);
        let mut body = payload.to_vec();
        let nonce = &h.nonce[..used];
        let ok = match self.cipher {
            Cipher::Aes128Gcm => {
                open_with::<Aes128Gcm>(&*self.open_key, nonce, &aad, &mut body, &h.signature)
            }
            Cipher::Aes128Ccm => {
                open_with::<Aes128Ccm>(&*self.open_key, nonce, &aad, &mut body, &h.signature)
            }
        };
        if !ok {
            return Err(TransformError::Tag);
        }
        Ok(body)
    }
}

/// `body` sealed in place with the AEAD `C` (MS-SMB2 3.1.4.3) under `key`, `nonce` (the
/// cipher's length) and `aad`; the tag, or `None` when the key or nonce does not fit `C`.
fn seal_with<C: KeyInit + AeadInOut>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    body: &mut [u8],
) -> Option<Vec<u8>> {
    let c = C::new_from_slice(key).ok()?;
    let nonce = nonce.try_into().ok()?;
    let tag = c.encrypt_inout_detached(nonce, aad, body.into()).ok()?;
    Some(tag.to_vec())
}

/// Whether `body` opens in place with the AEAD `C` under `key`, `nonce` and `aad`, its tag
/// `tag` verifying (a key, nonce or tag that does not fit `C` does not open).
fn open_with<C: KeyInit + AeadInOut>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    body: &mut [u8],
    tag: &[u8],
) -> bool {
    let (Ok(c), Ok(nonce), Ok(tag)) = (C::new_from_slice(key), nonce.try_into(), tag.try_into())
    else {
        return false;
    };
    c.decrypt_inout_detached(nonce, aad, body.into(), tag)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smb::crypto::vectors::hex;
    use proptest::prelude::*;

    fn message(n: usize) -> Vec<u8> {
        let mut m = b"\xfeSMB@\0".to_vec();
        m.extend((0..n).map(|i| i as u8));
        m.resize(m.len().max(64), 0);
        m
    }

    /// The peer's view: what the client seals, a server opens with the same key, and back.
    fn pair(cipher: Cipher) -> (Encryption, Encryption) {
        let c2s = [1u8; 16];
        let s2c = [2u8; 16];
        (
            Encryption::new(cipher, &c2s, &s2c, [9, 9, 9, 9]),
            Encryption::new(cipher, &s2c, &c2s, [8, 8, 8, 8]),
        )
    }

    #[test]
    fn known_answers_from_pythons_cryptography() {
        // Python's `cryptography` (OpenSSL) over the same key, nonce, associated data and
        // message: AESGCM(key).encrypt(nonce, msg, aad) and AESCCM(key, 16).encrypt(...),
        // key bytes(range(16)), msg bytes(range(64)), aad the header from the nonce on
        // (nonce counter 0, prefix 0xa1a2a3a4 cut to the cipher's length, session 0x1122).
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let msg: Vec<u8> = (0..64).collect();
        for (cipher, want_tag, want_start) in [
            (
                Cipher::Aes128Gcm,
                "b2c647c22bab66125cd22f698dac1dd6",
                "316da6c0d45f83841ba633fdf8c9f143",
            ),
            (
                Cipher::Aes128Ccm,
                "4f187db89383c621ba6da753e250a73d",
                "8752a8df389ef877888bd42faf9b5749",
            ),
        ] {
            let mut e = Encryption::new(cipher, &key, &key, [0xa1, 0xa2, 0xa3, 0xa4]);
            let sealed = e.seal(0x1122, &msg).unwrap();
            assert_eq!(sealed[4..20].to_vec(), hex(want_tag), "{cipher:?} tag");
            assert_eq!(sealed[52..68].to_vec(), hex(want_start), "{cipher:?} start");
            assert_eq!(e.open(0x1122, &sealed).unwrap(), msg);
        }
    }

    #[test]
    fn sealed_messages_open_and_altered_ones_do_not() {
        for cipher in [Cipher::Aes128Gcm, Cipher::Aes128Ccm] {
            let (mut client, mut server) = pair(cipher);
            let m = message(100);
            let sealed = client.seal(7, &m).unwrap();
            assert_eq!(sealed.len(), TRANSFORM_LEN + m.len());
            assert_eq!(&sealed[..4], b"\xfdSMB");
            assert_ne!(&sealed[TRANSFORM_LEN..], &m[..], "encrypted");
            assert_eq!(server.open(7, &sealed).unwrap(), m);
            // The client cannot open its own message (the other direction's key).
            assert_eq!(client.open(7, &sealed), Err(TransformError::Tag));
            // Any byte altered after the protocol id: refused (tag, nonce, size, session...).
            for i in 4..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 0x10;
                assert!(
                    server.open(7, &bad).is_err(),
                    "{cipher:?}: byte {i} altered"
                );
            }
            assert!(matches!(
                server.open(8, &sealed),
                Err(TransformError::Session { got: 7, want: 8 })
            ));
            // Answers come back the same way.
            let reply = server.seal(7, &message(30)).unwrap();
            assert_eq!(client.open(7, &reply).unwrap(), message(30));
            // Nonces differ from one message to the next.
            let again = client.seal(7, &m).unwrap();
            assert_ne!(again[20..36], sealed[20..36]);
        }
    }

    #[test]
    fn hostile_headers_are_refused() {
        let (mut client, server) = pair(Cipher::Aes128Gcm);
        let sealed = client.seal(1, &message(64)).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (sealed[..51].to_vec(), "truncated"),
            (sealed[..sealed.len() - 1].to_vec(), "original message size"),
            ([&sealed[..], &[0]].concat(), "original message size"),
            (
                {
                    let mut b = sealed.clone();
                    b[42] = 2;
                    b
                },
                "flags 0x0002",
            ),
            (
                {
                    let mut b = sealed.clone();
                    b[41] = 1;
                    b
                },
                "reserved 0x0100",
            ),
            (
                {
                    let mut b = sealed.clone();
                    b[0] = 0xfe;
                    b
                },
                "not \\xfdSMB",
            ),
            (
                {
                    let mut b = sealed.clone();
                    b[34] = 1;
                    b
                },
                "not zero",
            ),
        ];
        for (bytes, says) in cases {
            let e = server.open(1, &bytes).unwrap_err().to_string();
            assert!(e.contains(says), "{e} (expected: {says})");
        }
        // A short payload is refused before any decryption.
        let mut tiny = Vec::new();
        TransformHeader {
            signature: [0; 16],
            nonce: [0; 16],
            original_size: 3,
            flags: 1,
            session_id: 1,
        }
        .encode(&mut tiny);
        tiny.extend_from_slice(&[1, 2, 3]);
        assert!(
            server
                .open(1, &tiny)
                .unwrap_err()
                .to_string()
                .contains("shorter")
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_are_refused(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok((h, payload)) = decode(&data) {
                prop_assert_eq!(payload.len(), h.original_size as usize);
                let mut again = Vec::new();
                h.encode(&mut again);
                prop_assert_eq!(&again[..], &data[..TRANSFORM_LEN]);
            }
            let (_, server) = pair(Cipher::Aes128Ccm);
            prop_assert!(server.open(0, &data).is_err());
        }

        #[test]
        fn seal_then_open_round_trips(
            body in proptest::collection::vec(any::<u8>(), 64..400),
            session in any::<u64>(),
            gcm in any::<bool>(),
        ) {
            let cipher = if gcm { Cipher::Aes128Gcm } else { Cipher::Aes128Ccm };
            let (mut client, server) = pair(cipher);
            let sealed = client.seal(session, &body).unwrap();
            let (h, _) = decode(&sealed).unwrap();
            prop_assert_eq!(h.session_id, session);
            prop_assert_eq!(h.original_size as usize, body.len());
            prop_assert_eq!(server.open(session, &sealed).unwrap(), body);
        }
    }
}
