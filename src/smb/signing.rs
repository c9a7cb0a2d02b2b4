//! Message signing of SMB 2.0.2 and 2.1 (MS-SMB2 3.1.4.1): the signature is the first 16 bytes
//! of HMAC-SHA256, keyed with the session key, over the whole message with its signature field
//! zeroed; a signed message has `SMB2_FLAGS_SIGNED`. RustCrypto's `hmac` and `sha2` compute it
//! and compare in constant time. Pure.

use super::header::{FLAG_SIGNED, HEADER_LEN, SIGNATURE};
use hmac::{Hmac, KeyInit, Mac};
use sha2_smb::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

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

/// The signing key of a session (the NTLM session key for 2.x); zeroed on drop, never shown.
pub struct SigningKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// The key of a 2.0.2/2.1 session: the session key, up to its first 16 bytes.
    pub fn smb2(session_key: &[u8]) -> SigningKey {
        let n = session_key.len().min(16);
        SigningKey(Zeroizing::new(session_key[..n].to_vec()))
    }

    fn mac(&self, msg: &[u8]) -> Result<HmacSha256, SigningError> {
        if msg.len() < HEADER_LEN {
            return Err(SigningError::Short);
        }
        // HMAC takes a key of any length; this cannot fail, and is not unwrapped.
        let mut mac = HmacSha256::new_from_slice(&self.0).map_err(|_| SigningError::Short)?;
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
        let tag = self.mac(msg)?.finalize().into_bytes();
        msg[SIGNATURE].copy_from_slice(&tag[..16]);
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
        self.mac(msg)?
            .verify_truncated_left(&msg[SIGNATURE])
            .map_err(|_| SigningError::Mismatch)
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
        let tag = key.mac(&zeroed).unwrap().finalize().into_bytes();
        assert_eq!(
            tag[..16],
            [
                0x2c, 0x04, 0x01, 0x33, 0xcb, 0x2a, 0xcb, 0xc9, 0x89, 0xb8, 0x87, 0xb2, 0x48, 0x33,
                0x22, 0x23
            ]
        );
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
