//! Message signing (MS-SMB2 3.1.4.1): over the whole message with its signature field zeroed, a
//! signed message having `SMB2_FLAGS_SIGNED`. SMB 2.0.2 and 2.1: the first 16 bytes of
//! HMAC-SHA256 keyed with the session key; SMB 3.0, 3.0.2 and 3.1.1: AES-128-CMAC keyed with the
//! derived signing key ([`crypto`](super::crypto) derives it), or AES-128-GMAC where a 3.1.1
//! server chose it (the GCM tag of an empty plaintext with the message as associated data; the
//! nonce the MessageId, then a bit for a response and one for a CANCEL). RustCrypto's
//! `hmac`/`sha2`, `cmac`/`aes` and `aes-gcm` compute them; they are compared in constant time.
//! Pure.

use super::header::{FLAG_SERVER_TO_REDIR, FLAG_SIGNED, HEADER_LEN, SIGNATURE};

/// SMB2 CANCEL's command code: its GMAC nonce is marked apart.
const CANCEL: u16 = 0x000c;
use aes::Aes128;
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::AeadInOut;
use cmac::Cmac;
use hmac::{Hmac, KeyInit, Mac};
use sha2_smb::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;
type AesCmac = Cmac<Aes128>;

/// Why a message could not be signed or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("the message is shorter than an SMB2 header")]
    Short,
    #[error("the message is not signed, but the session requires signing")]
    Unsigned,
    #[error(
        "the signature does not verify: the message was altered or not sent by the authenticated server"
    )]
    Mismatch,
}

/// The signing key of a session and its algorithm; zeroed on drop, never shown.
pub struct SigningKey {
    key: Zeroizing<Vec<u8>>,
    algorithm: Algorithm,
}

/// How a message is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SMB 2.0.2 and 2.1.
    HmacSha256,
    /// SMB 3.x.
    AesCmac,
    /// SMB 3.1.1, when the server's signing context names it.
    AesGmac,
}

/// One MAC under way.
enum Running {
    Hmac(HmacSha256),
    Cmac(Box<AesCmac>),
    /// GCM over an empty plaintext: the associated data (the message) is gathered first.
    Gmac {
        cipher: Box<Aes128Gcm>,
        nonce: [u8; 12],
        aad: Vec<u8>,
    },
}

impl Running {
    fn update(&mut self, data: &[u8]) {
        match self {
            Running::Hmac(m) => m.update(data),
            Running::Cmac(m) => m.update(data),
            Running::Gmac { aad, .. } => aad.extend_from_slice(data),
        }
    }

    /// The 16 bytes of the signature.
    fn tag(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        match self {
            Running::Hmac(m) => out.copy_from_slice(&m.finalize().into_bytes()[..16]),
            Running::Cmac(m) => out.copy_from_slice(&m.finalize().into_bytes()),
            Running::Gmac { cipher, nonce, aad } => {
                // Sealing nothing cannot fail for a 12-byte nonce and a short message; were it
                // ever to, the zero tag verifies nothing.
                if let Ok(tag) =
                    cipher.encrypt_inout_detached((&nonce).into(), &aad, (&mut [][..]).into())
                {
                    out.copy_from_slice(&tag);
                }
            }
        }
        out
    }

    /// Compare with `sig` in constant time.
    fn verify(self, sig: &[u8]) -> Result<(), SigningError> {
        match self {
            Running::Hmac(m) => m.verify_truncated_left(sig),
            Running::Cmac(m) => m.verify_slice(sig),
            gmac @ Running::Gmac { .. } => {
                let tag = gmac.tag();
                return if bool::from(tag[..].ct_eq(sig)) {
                    Ok(())
                } else {
                    Err(SigningError::Mismatch)
                };
            }
        }
        .map_err(|_| SigningError::Mismatch)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// The key of a 2.0.2/2.1 session: the session key, up to its first 16 bytes.
    pub fn smb2(session_key: &[u8]) -> SigningKey {
        let n = session_key.len().min(16);
        SigningKey {
            key: Zeroizing::new(session_key[..n].to_vec()),
            algorithm: Algorithm::HmacSha256,
        }
    }

    /// The AES-128-CMAC key of a 3.x session (the derived signing key).
    pub fn aes_cmac(signing_key: &[u8; 16]) -> SigningKey {
        SigningKey {
            key: Zeroizing::new(signing_key.to_vec()),
            algorithm: Algorithm::AesCmac,
        }
    }

    /// The AES-128-GMAC key of a 3.1.1 session whose server chose it.
    pub fn aes_gmac(signing_key: &[u8; 16]) -> SigningKey {
        SigningKey {
            key: Zeroizing::new(signing_key.to_vec()),
            algorithm: Algorithm::AesGmac,
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn mac(&self, msg: &[u8]) -> Result<Running, SigningError> {
        if msg.len() < HEADER_LEN {
            return Err(SigningError::Short);
        }
        // HMAC takes a key of any length and the CMAC key is 16 bytes by construction: neither
        // can fail, and neither is unwrapped.
        let mut mac = match self.algorithm {
            Algorithm::HmacSha256 => Running::Hmac(
                HmacSha256::new_from_slice(&self.key).map_err(|_| SigningError::Short)?,
            ),
            Algorithm::AesCmac => Running::Cmac(Box::new(
                AesCmac::new_from_slice(&self.key).map_err(|_| SigningError::Short)?,
            )),
            Algorithm::AesGmac => {
                // MessageId, then bit 0 for a response (SMB2_FLAGS_SERVER_TO_REDIR) and bit 1
                // for a CANCEL request (MS-SMB2 3.1.4.1).
                let mut nonce = [0u8; 12];
                nonce[..8].copy_from_slice(&msg[24..32]);
                let flags = u32::from_le_bytes([msg[16], msg[17], msg[18], msg[19]]);
                let command = u16::from_le_bytes([msg[12], msg[13]]);
                let mut role = 0u32;
                if flags & FLAG_SERVER_TO_REDIR != 0 {
                    role |= 1;
                }
                if command == CANCEL {
                    role |= 2;
                }
                nonce[8..].copy_from_slice(&role.to_le_bytes());
                Running::Gmac {
                    cipher: Box::new(
                        Aes128Gcm::new_from_slice(&self.key).map_err(|_| SigningError::Short)?,
                    ),
                    nonce,
                    aad: Vec::with_capacity(msg.len()),
                }
            }
        };
        mac.update(&msg[..SIGNATURE.start]);
        mac.update(&[0u8; 16]);
        mac.update(&msg[SIGNATURE.end..]);
        Ok(mac)
    }

    /// Set the signed flag and write the signature into `msg` (a whole message).
    pub fn sign(&self, msg: &mut [u8]) -> Result<(), SigningError> {
        if msg.len() < HEADER_LEN {
            return Err(SigningError::Short);
        }
        let flags = u32::from_le_bytes([msg[16], msg[17], msg[18], msg[19]]) | FLAG_SIGNED;
        msg[16..20].copy_from_slice(&flags.to_le_bytes());
        let tag = self.mac(msg)?.tag();
        msg[SIGNATURE].copy_from_slice(&tag);
        Ok(())
    }

    /// Verify a received message's signature.
    pub fn verify(&self, msg: &[u8]) -> Result<(), SigningError> {
        if msg.len() < HEADER_LEN {
            return Err(SigningError::Short);
        }
        let flags = u32::from_le_bytes([msg[16], msg[17], msg[18], msg[19]]);
        if flags & FLAG_SIGNED == 0 {
            return Err(SigningError::Unsigned);
        }
        self.mac(msg)?.verify(&msg[SIGNATURE])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Vec<u8> {
        let mut m = b"\xfeSMB".to_vec();
        m.extend(0u8..60);
        m.extend_from_slice(b"body");
        m
    }

    #[test]
    fn known_answer() {
        // Python's hmac/hashlib over the same bytes (signature zeroed, flags as they were):
        // hmac.new(bytes(range(16)), msg, sha256).hexdigest()[:32]
        let key = SigningKey::smb2(&(0u8..16).collect::<Vec<_>>());
        let m = message();
        let mut zeroed = m.clone();
        zeroed[48..64].fill(0);
        let tag = key.mac(&zeroed).unwrap().tag();
        assert_eq!(
            tag,
            [
                0x2c, 0x04, 0x01, 0x33, 0xcb, 0x2a, 0xcb, 0xc9, 0x89, 0xb8, 0x87, 0xb2, 0x48, 0x33,
                0x22, 0x23
            ]
        );
    }

    fn hex16(s: &str) -> [u8; 16] {
        core::array::from_fn(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
    }

    #[test]
    fn known_answers_of_aes_cmac_and_aes_gmac() {
        // Python's `cryptography` (OpenSSL) over the same message, signed flag set, signature
        // zeroed: CMAC(AES(key)) and AESGCM(key).encrypt(nonce, b"", msg), the nonce being
        // bytes 24..32 (MessageId) then the role as a u32 (1: a response).
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        for (signer, response, want) in [
            (
                SigningKey::aes_cmac(&key),
                false,
                "76813339f22afdc5f31c3efdfaf2ad32",
            ),
            (
                SigningKey::aes_gmac(&key),
                false,
                "8e46875e96b1dc69aca6d3b6c735ba0e",
            ),
            (
                SigningKey::aes_gmac(&key),
                true,
                "5d1d29cb7be9f5379dc446cc70db8834",
            ),
        ] {
            let mut m = message();
            if response {
                m[16] |= FLAG_SERVER_TO_REDIR as u8;
            }
            signer.sign(&mut m).unwrap();
            assert_eq!(m[SIGNATURE], hex16(want), "{:?}", signer.algorithm());
            assert_eq!(signer.verify(&m), Ok(()));
            let mut altered = m.clone();
            altered[30] ^= 1; // the MessageId: the GMAC nonce, and signed bytes
            assert_eq!(signer.verify(&altered), Err(SigningError::Mismatch));
            let mut role = m.clone();
            role[16] ^= FLAG_SERVER_TO_REDIR as u8;
            assert_eq!(signer.verify(&role), Err(SigningError::Mismatch));
        }
    }

    #[test]
    fn signed_messages_verify_and_altered_ones_do_not() {
        let key = SigningKey::smb2(&[7; 16]);
        let mut m = message();
        key.sign(&mut m).unwrap();
        assert_eq!(key.verify(&m), Ok(()));
        let mut altered = m.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(key.verify(&altered), Err(SigningError::Mismatch));
        assert_eq!(
            SigningKey::smb2(&[8; 16]).verify(&m),
            Err(SigningError::Mismatch)
        );
        let mut unsigned = m.clone();
        unsigned[16] &= !(FLAG_SIGNED as u8);
        assert_eq!(key.verify(&unsigned), Err(SigningError::Unsigned));
        assert_eq!(key.verify(&m[..10]), Err(SigningError::Short));
    }
}
