//! SMB 3.1.1 negotiate contexts (MS-SMB2 2.2.3.1, 2.2.4): what the client offers after its
//! NEGOTIATE request's dialects, and what the server chose, read from its response. Pure.
//!
//! ```text
//! context       ContextType(2) DataLength(2) Reserved(4) Data; each one 8-byte aligned
//! PREAUTH (1)   HashAlgorithmCount(2) SaltLength(2) HashAlgorithms[] Salt
//! ENCRYPT (2)   CipherCount(2) Ciphers[]
//! SIGNING (8)   SigningAlgorithmCount(2) SigningAlgorithms[]
//! ```
//!
//! The client offers SHA-512 with a 32-byte random salt, AES-128-GCM then AES-128-CCM, and
//! AES-GMAC then AES-CMAC. The server must answer one preauth context naming SHA-512 once; it may answer an
//! encryption context with one cipher of those offered (or 0, none) and a signing context with
//! one algorithm offered; a context named twice, a count other than one, an algorithm not
//! offered, or a length outside the message is an error. Contexts of other types are skipped.

use super::SmbWireError;
use super::codec::{Put, Reader};

pub const PREAUTH_INTEGRITY: u16 = 0x0001;
pub const ENCRYPTION: u16 = 0x0002;
pub const SIGNING: u16 = 0x0008;

pub const HASH_SHA512: u16 = 0x0001;
pub const CIPHER_AES128_CCM: u16 = 0x0001;
pub const CIPHER_AES128_GCM: u16 = 0x0002;
pub const SIGNING_AES_CMAC: u16 = 0x0001;
pub const SIGNING_AES_GMAC: u16 = 0x0002;

/// The ciphers offered, the client's preference first.
pub const CIPHERS: [u16; 2] = [CIPHER_AES128_GCM, CIPHER_AES128_CCM];
/// The signing algorithms offered, the client's preference first (as Windows 11 offers them).
pub const SIGNING_ALGORITHMS: [u16; 2] = [SIGNING_AES_GMAC, SIGNING_AES_CMAC];

const WHAT: &str = "negotiate contexts";
/// More contexts than any server sends (MS-SMB2 defines eight types).
const MAX_CONTEXTS: u16 = 32;

/// `n` rounded up to a multiple of 8.
pub fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The contexts of a NEGOTIATE request, as one buffer whose first byte must lie 8-byte aligned
/// in the message; and how many there are.
pub fn request(salt: &[u8; 32]) -> (Vec<u8>, u16) {
    let mut preauth = Vec::new();
    preauth.u16le(1);
    preauth.u16le(salt.len() as u16);
    preauth.u16le(HASH_SHA512);
    preauth.extend_from_slice(salt);
    let mut encryption = Vec::new();
    encryption.u16le(CIPHERS.len() as u16);
    for c in CIPHERS {
        encryption.u16le(c);
    }
    let mut signing = Vec::new();
    signing.u16le(SIGNING_ALGORITHMS.len() as u16);
    for a in SIGNING_ALGORITHMS {
        signing.u16le(a);
    }
    let list = [
        (PREAUTH_INTEGRITY, preauth),
        (ENCRYPTION, encryption),
        (SIGNING, signing),
    ];
    let mut out = Vec::new();
    for (i, (kind, data)) in list.iter().enumerate() {
        if i > 0 {
            out.resize(align8(out.len()), 0);
        }
        out.u16le(*kind);
        out.u16le(data.len() as u16);
        out.u32le(0);
        out.extend_from_slice(data);
    }
    (out, list.len() as u16)
}

/// What the server chose in its NEGOTIATE response's contexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The salt's length (the salt itself is only hashed, with the whole message).
    pub salt_len: u16,
    /// The cipher, when the server answered an encryption context naming one.
    pub cipher: Option<u16>,
    /// The signing algorithm, when the server answered a signing context (else AES-CMAC).
    pub signing: Option<u16>,
}

/// The one u16 of a list a response must hold exactly once.
fn one_of(r: &mut Reader<'_>, what: &str, offered: &[u16]) -> Result<u16, SmbWireError> {
    let count = r.u16()?;
    if count != 1 {
        return Err(SmbWireError::invalid(
            WHAT,
            format!("the server's {what} context lists {count} entries, not the one chosen"),
        ));
    }
    let v = r.u16()?;
    if !offered.contains(&v) {
        return Err(SmbWireError::invalid(
            WHAT,
            format!("the server chose {what} 0x{v:04x}, which was not offered"),
        ));
    }
    Ok(v)
}

/// Read the `count` contexts at `offset` (from the start of the message) of a 3.1.1 NEGOTIATE
/// response.
pub fn response(msg: &[u8], offset: usize, count: u16) -> Result<Chosen, SmbWireError> {
    if count == 0 || count > MAX_CONTEXTS {
        return Err(SmbWireError::invalid(
            WHAT,
            format!("{count} contexts (a 3.1.1 answer holds 1 to {MAX_CONTEXTS})"),
        ));
    }
    if !offset.is_multiple_of(8) {
        return Err(SmbWireError::invalid(
            WHAT,
            format!("the first context at offset {offset}, not 8-byte aligned"),
        ));
    }
    let mut pos = offset;
    let mut preauth = None;
    let mut cipher = None;
    let mut signing = None;
    for i in 0..count {
        if i > 0 {
            pos = align8(pos);
        }
        let mut r = Reader::at(msg, pos, WHAT);
        let kind = r.u16()?;
        let len = usize::from(r.u16()?);
        r.skip(4)?;
        let data = r.take(len)?;
        pos = r.pos();
        let mut d = Reader::new(data, WHAT);
        let twice = || SmbWireError::invalid(WHAT, format!("context type {kind} sent twice"));
        match kind {
            PREAUTH_INTEGRITY => {
                if preauth.is_some() {
                    return Err(twice());
                }
                // HashAlgorithmCount, SaltLength, HashAlgorithms[], Salt.
                let n = d.u16()?;
                let salt_len = d.u16()?;
                if n != 1 {
                    return Err(SmbWireError::invalid(
                        WHAT,
                        format!(
                            "the server's preauth context lists {n} hash algorithms, not the one chosen"
                        ),
                    ));
                }
                let alg = d.u16()?;
                if alg != HASH_SHA512 {
                    return Err(SmbWireError::invalid(
                        WHAT,
                        format!("the server chose preauth hash 0x{alg:04x}, which was not offered"),
                    ));
                }
                d.take(usize::from(salt_len))?;
                preauth = Some(salt_len);
            }
            ENCRYPTION => {
                if cipher.is_some() {
                    return Err(twice());
                }
                let mut offered = CIPHERS.to_vec();
                offered.push(0); // no common cipher
                cipher = Some(one_of(&mut d, "cipher", &offered)?);
            }
            SIGNING => {
                if signing.is_some() {
                    return Err(twice());
                }
                signing = Some(one_of(&mut d, "signing algorithm", &SIGNING_ALGORITHMS)?);
            }
            _ => {} // a context this client does not read
        }
    }
    let Some(salt_len) = preauth else {
        return Err(SmbWireError::invalid(
            WHAT,
            "no preauth integrity context: a 3.1.1 answer must hold one",
        ));
    };
    Ok(Chosen {
        salt_len,
        cipher: cipher.filter(|c| *c != 0),
        signing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smb::crypto::vectors::{NEGOTIATE_REQUEST, NEGOTIATE_RESPONSE, hex};
    use proptest::prelude::*;

    /// A response message with `contexts` at byte 128 (a stand-in header and body before).
    fn message(contexts: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; 128];
        m.extend_from_slice(contexts);
        m
    }

    fn context(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut c = Vec::new();
        c.u16le(kind);
        c.u16le(data.len() as u16);
        c.u32le(0);
        c.extend_from_slice(data);
        c
    }

    fn list(items: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, c) in items.iter().enumerate() {
            if i > 0 {
                out.resize(align8(out.len()), 0);
            }
            out.extend_from_slice(c);
        }
        out
    }

    fn preauth(salt: usize) -> Vec<u8> {
        let mut d = Vec::new();
        d.u16le(1);
        d.u16le(salt as u16);
        d.u16le(HASH_SHA512);
        d.extend(std::iter::repeat_n(7u8, salt));
        context(PREAUTH_INTEGRITY, &d)
    }

    fn one(kind: u16, v: u16) -> Vec<u8> {
        let mut d = Vec::new();
        d.u16le(1);
        d.u16le(v);
        context(kind, &d)
    }

    #[test]
    fn microsofts_example_response_is_read() {
        // Windows' answer (the KDF example): preauth SHA-512 with a 32-byte salt, AES-128-GCM.
        let m = hex(NEGOTIATE_RESPONSE);
        let count = u16::from_le_bytes([m[70], m[71]]);
        let off = u32::from_le_bytes([m[124], m[125], m[126], m[127]]) as usize;
        assert_eq!(count, 2);
        let c = response(&m, off, count).unwrap();
        assert_eq!(
            c,
            Chosen {
                salt_len: 32,
                cipher: Some(CIPHER_AES128_GCM),
                signing: None
            }
        );
        // Cut anywhere inside the contexts: an error, never a read past the end.
        for cut in off..m.len() {
            assert!(response(&m[..cut], off, count).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn our_request_contexts_are_laid_out_as_windows_lays_out_its_own() {
        // Windows' request carries the same first two contexts, salt aside.
        let theirs = hex(NEGOTIATE_REQUEST);
        let (ours, n) = request(&[0xfa; 32]);
        assert_eq!(n, 3);
        let start = 112;
        assert_eq!(&ours[..8], &theirs[start..start + 8]);
        assert_eq!(&ours[46..62], &theirs[start + 46..]);
        // Then the signing context, 8-byte aligned, AES-GMAC and AES-CMAC.
        assert_eq!(
            &ours[62..],
            &[0, 0, 8, 0, 6, 0, 0, 0, 0, 0, 2, 0, 2, 0, 1, 0]
        );
        // A server reading ours the way we read theirs finds every context inside.
        let m = message(&ours);
        let mut pos = 128;
        for _ in 0..n {
            pos = align8(pos);
            let len = usize::from(u16::from_le_bytes([m[pos + 2], m[pos + 3]]));
            pos += 8 + len;
        }
        assert_eq!(pos, m.len());
    }

    #[test]
    fn hostile_contexts_are_refused() {
        let ok = [
            preauth(32),
            one(ENCRYPTION, CIPHER_AES128_CCM),
            one(SIGNING, 1),
        ];
        let c = response(&message(&list(&ok)), 128, 3).unwrap();
        assert_eq!(c.cipher, Some(CIPHER_AES128_CCM));
        assert_eq!(c.signing, Some(SIGNING_AES_CMAC));
        // Unknown contexts are skipped; a cipher of 0 is none.
        let c = response(
            &message(&list(&[
                context(0x100, b"posix"),
                preauth(0),
                one(ENCRYPTION, 0),
            ])),
            128,
            3,
        )
        .unwrap();
        assert_eq!(c.cipher, None);
        let bad: Vec<(Vec<Vec<u8>>, u16, &str)> = vec![
            (vec![one(ENCRYPTION, 2)], 1, "no preauth"),
            (vec![preauth(32), preauth(32)], 2, "twice"),
            (vec![preauth(32), one(ENCRYPTION, 3)], 2, "not offered"),
            (vec![preauth(32), one(SIGNING, 3)], 2, "not offered"),
            (vec![preauth(32), one(SIGNING, 0)], 2, "not offered"),
            (vec![preauth(32)], 2, "truncated"),
            (vec![preauth(32)], 0, "0 contexts"),
            (vec![preauth(32)], 1000, "1000 contexts"),
        ];
        for (items, count, says) in bad {
            let e = response(&message(&list(&items)), 128, count)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e} (expected: {says})");
        }
        // Two hash algorithms, a salt longer than the data, a misaligned offset.
        let mut two = Vec::new();
        two.u16le(2);
        two.u16le(0);
        two.u16le(1);
        two.u16le(2);
        assert!(response(&message(&context(1, &two)), 128, 1).is_err());
        let mut long_salt = Vec::new();
        long_salt.u16le(1);
        long_salt.u16le(40);
        long_salt.u16le(1);
        long_salt.extend_from_slice(&[0; 8]);
        assert!(response(&message(&context(1, &long_salt)), 128, 1).is_err());
        let mut m = vec![0u8; 4];
        m.extend_from_slice(&message(&preauth(8)));
        assert!(response(&m, 132, 1).is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_without_panic(
            data in proptest::collection::vec(any::<u8>(), 0..300),
            off in 0usize..320,
            count in 0u16..40,
        ) {
            let _ = response(&data, off, count);
        }

        #[test]
        fn a_well_formed_answer_reads_back(
            salt in 0usize..64,
            cipher in prop_oneof![Just(0u16), Just(1u16), Just(2u16)],
            sign in any::<bool>(),
            junk in proptest::collection::vec(any::<u8>(), 0..20),
            order in any::<bool>(),
        ) {
            let mut items = vec![preauth(salt), one(ENCRYPTION, cipher), context(0x7, &junk)];
            if sign {
                items.push(one(SIGNING, SIGNING_AES_CMAC));
            }
            if order {
                items.reverse();
            }
            let n = items.len() as u16;
            let c = response(&message(&list(&items)), 128, n).unwrap();
            prop_assert_eq!(c.salt_len as usize, salt);
            prop_assert_eq!(c.cipher, (cipher != 0).then_some(cipher));
            prop_assert_eq!(c.signing, sign.then_some(SIGNING_AES_CMAC));
        }
    }
}
