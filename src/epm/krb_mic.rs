//! Kerberos MIC tokens (RFC 4121 4.2.6.1, GSS_GetMIC / GSS_VerifyMIC) for DCE/RPC at the
//! integrity level (`RPC_C_AUTHN_LEVEL_PKT_INTEGRITY`, auth level 5): each request fragment
//! carries a MIC over the header, the stub with its padding and the sec_trailer (header
//! signing, MS-RPCE 2.2.2.12), and each response's MIC is verified before its stub is read.
//!
//! Where it sits: `epm::kerberos` builds one [`Mic`] when a context at the integrity level is
//! complete, from the key sspi exposes (`query_context_session_key`: the acceptor's subkey from
//! the AP-REP, which the DCE style always carries, MS-KILE 3.4.5.1), because sspi 0.23's
//! Kerberos has no `make_signature` and its own MIC code is sealed inside the crate.
//!
//! No cryptography is written here: this file frames the token (the 16-byte header: TOK_ID
//! 04 04, the flags, five 0xFF, the 8-byte sequence number; RFC 4121 4.2.6.1) with
//! picky-krb's `MicToken`, and the checksum is picky-krb's checksum of the key's enctype
//! (hmac-sha1-96-aes256 or -aes128, RFC 3962) over the data and that header, with key usage
//! 25 for the initiator's tokens and 23 for the acceptor's (RFC 4121 2).

use picky_krb::constants::key_usages::{ACCEPTOR_SIGN, INITIATOR_SIGN};
use picky_krb::crypto::ChecksumSuite;
use picky_krb::gss_api::MicToken;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// RFC 4121 4.2.2 flags.
const SENT_BY_ACCEPTOR: u8 = 0x01;
const SEALED: u8 = 0x02;
const ACCEPTOR_SUBKEY: u8 = 0x04;

/// The MIC's header length (RFC 4121 4.2.6.1).
const HEADER_LEN: usize = 16;
/// hmac-sha1-96: 12 bytes (RFC 3962 for both AES enctypes).
const CHECKSUM_LEN: usize = 12;
/// The length of every MIC token this module makes and accepts.
pub const MIC_LEN: usize = HEADER_LEN + CHECKSUM_LEN;

/// Which side of the context a token comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Initiator,
    Acceptor,
}

impl Role {
    fn usage(self) -> i32 {
        match self {
            Role::Initiator => INITIATOR_SIGN,
            Role::Acceptor => ACCEPTOR_SIGN,
        }
    }
    fn peer(self) -> Role {
        match self {
            Role::Initiator => Role::Acceptor,
            Role::Acceptor => Role::Initiator,
        }
    }
}

/// Why a MIC could not be made or did not verify. Never holds a key or a checksum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MicError {
    #[error("a key of {0} bytes is not an AES key (only aes256- and aes128-cts-hmac-sha1-96 sign)")]
    KeyType(usize),
    #[error("a MIC token of {0} bytes, not {MIC_LEN}")]
    Length(usize),
    #[error("not a MIC token: {0}")]
    Header(String),
    #[error("flags {got:#04x}, not the {want:#04x} of the peer's MIC")]
    Flags { got: u8, want: u8 },
    #[error("sequence number {got}, not {want}: a token replayed, lost or reordered")]
    Sequence { got: u64, want: u64 },
    #[error("the checksum does not verify")]
    Checksum,
    #[error("checksum: {0}")]
    Crypto(String),
}

/// One side's signing state: the key (zeroed on drop, never printed), its checksum, the flags,
/// and both sequence numbers.
pub struct Mic {
    key: Zeroizing<Vec<u8>>,
    suite: ChecksumSuite,
    me: Role,
    /// Whether the key is the acceptor's subkey (RFC 4121 4.2.2 AcceptorSubkey).
    acceptor_subkey: bool,
    send_seq: u64,
    /// The peer's next sequence number, once its first token was seen.
    recv_seq: Option<u64>,
}

/// Shows the role and the counters, never the key.
impl std::fmt::Debug for Mic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mic")
            .field("me", &self.me)
            .field("acceptor_subkey", &self.acceptor_subkey)
            .field("send_seq", &self.send_seq)
            .field("recv_seq", &self.recv_seq)
            .finish_non_exhaustive()
    }
}

impl Mic {
    /// Signing for `me` with `key` (its enctype told by its length, as sspi tells it: 32 bytes
    /// AES-256, 16 AES-128), the first own sequence number `first_seq`. `acceptor_subkey`:
    /// the key is the acceptor's subkey (the DCE style's AP-REP always carries one).
    pub fn new(
        key: &[u8],
        me: Role,
        acceptor_subkey: bool,
        first_seq: u64,
    ) -> Result<Self, MicError> {
        let suite = match key.len() {
            32 => ChecksumSuite::HmacSha196Aes256,
            16 => ChecksumSuite::HmacSha196Aes128,
            n => return Err(MicError::KeyType(n)),
        };
        Ok(Mic {
            key: Zeroizing::new(key.to_vec()),
            suite,
            me,
            acceptor_subkey,
            send_seq: first_seq,
            recv_seq: None,
        })
    }

    fn flags(&self, sender: Role) -> u8 {
        let mut f = 0;
        if sender == Role::Acceptor {
            f |= SENT_BY_ACCEPTOR;
        }
        if self.acceptor_subkey {
            f |= ACCEPTOR_SUBKEY;
        }
        f
    }

    /// The checksum of `data` followed by the token's header (RFC 4121 4.2.4).
    fn checksum(&self, sender: Role, data: &[u8], header: &[u8; 16]) -> Result<Vec<u8>, MicError> {
        let mut input = Zeroizing::new(Vec::with_capacity(data.len() + HEADER_LEN));
        input.extend_from_slice(data);
        input.extend_from_slice(header);
        self.suite
            .hasher()
            .checksum(&self.key, sender.usage(), &input)
            .map_err(|e| MicError::Crypto(e.to_string()))
    }

    /// The next MIC token over `data` ([`MIC_LEN`] bytes).
    pub fn sign(&mut self, data: &[u8]) -> Result<Vec<u8>, MicError> {
        let mut token = MicToken {
            flags: self.flags(self.me),
            seq_num: self.send_seq,
            payload: None,
            checksum: Vec::new(),
        };
        let sum = self.checksum(self.me, data, &token.header())?;
        token.set_checksum(sum);
        let mut out = Vec::with_capacity(MIC_LEN);
        token
            .encode(&mut out)
            .map_err(|e| MicError::Header(e.to_string()))?;
        if out.len() != MIC_LEN {
            return Err(MicError::Length(out.len()));
        }
        self.send_seq = self.send_seq.wrapping_add(1);
        Ok(out)
    }

    /// Verify the peer's `token` over `data`: the header, the flags (sent by the peer, with
    /// the same subkey flag), the sequence (the first token's number is taken as the start,
    /// every later one must follow it by one) and the checksum, compared in constant time.
    pub fn verify(&mut self, data: &[u8], token: &[u8]) -> Result<(), MicError> {
        if token.len() != MIC_LEN {
            return Err(MicError::Length(token.len()));
        }
        let t = MicToken::decode(token).map_err(|e| MicError::Header(e.to_string()))?;
        let peer = self.me.peer();
        let want = self.flags(peer);
        if t.flags & SEALED != 0 || t.flags != want {
            return Err(MicError::Flags { got: t.flags, want });
        }
        if let Some(next) = self.recv_seq
            && t.seq_num != next
        {
            return Err(MicError::Sequence {
                got: t.seq_num,
                want: next,
            });
        }
        let sum = self.checksum(peer, data, &t.header())?;
        if !bool::from(sum.as_slice().ct_eq(t.checksum.as_slice())) {
            return Err(MicError::Checksum);
        }
        self.recv_seq = Some(t.seq_num.wrapping_add(1));
        Ok(())
    }

    /// The own sequence number the next token carries.
    pub fn next_send_seq(&self) -> u64 {
        self.send_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn pair(key: &[u8]) -> (Mic, Mic) {
        (
            Mic::new(key, Role::Initiator, true, 1000).unwrap(),
            Mic::new(key, Role::Acceptor, true, 77).unwrap(),
        )
    }

    #[test]
    fn the_token_is_framed_as_rfc_4121_says() {
        let (mut c, _) = pair(&KEY);
        let t = c.sign(b"request").unwrap();
        assert_eq!(t.len(), MIC_LEN);
        assert_eq!(&t[..2], &[0x04, 0x04], "TOK_ID");
        assert_eq!(t[2], ACCEPTOR_SUBKEY, "initiator, acceptor subkey");
        assert_eq!(&t[3..8], &[0xff; 5], "filler");
        assert_eq!(&t[8..16], &1000u64.to_be_bytes(), "SND_SEQ");
        let t2 = c.sign(b"request").unwrap();
        assert_eq!(&t2[8..16], &1001u64.to_be_bytes());
        assert_ne!(
            t[16..],
            t2[16..],
            "the sequence number is under the checksum"
        );
        assert_eq!(c.next_send_seq(), 1002);
    }

    #[test]
    fn each_side_verifies_the_other_and_nothing_altered() {
        for key in [&KEY[..], &KEY[..16]] {
            let (mut c, mut s) = pair(key);
            for n in 0..3u8 {
                let req = c.sign(&[n; 40]).unwrap();
                s.verify(&[n; 40], &req).unwrap();
                let resp = s.sign(&[n + 9; 7]).unwrap();
                c.verify(&[n + 9; 7], &resp).unwrap();
            }
            let resp = s.sign(b"answer").unwrap();
            // Altered data, token, header or flags; a replay; the own token reflected.
            let mut flipped = resp.clone();
            flipped[20] ^= 1;
            assert_eq!(c.verify(b"answe?", &resp), Err(MicError::Checksum));
            assert_eq!(c.verify(b"answer", &flipped), Err(MicError::Checksum));
            let mut seq = resp.clone();
            seq[15] ^= 1;
            assert!(matches!(
                c.verify(b"answer", &seq),
                Err(MicError::Sequence { .. })
            ));
            c.verify(b"answer", &resp).unwrap();
            assert!(matches!(
                c.verify(b"answer", &resp),
                Err(MicError::Sequence { .. })
            ));
            let own = c.sign(b"answer").unwrap();
            assert!(matches!(
                c.verify(b"answer", &own),
                Err(MicError::Flags { .. })
            ));
        }
    }

    #[test]
    fn the_wrong_key_or_usage_does_not_verify() {
        let mut c = Mic::new(&KEY, Role::Initiator, true, 0).unwrap();
        let mut other = Mic::new(&[8; 32], Role::Acceptor, true, 5).unwrap();
        assert_eq!(
            c.verify(b"x", &other.sign(b"x").unwrap()),
            Err(MicError::Checksum)
        );
        // A token the initiator made with the same key, its flags forged to the acceptor's:
        // usage 25 is not 23.
        let mut twin = Mic::new(&KEY, Role::Initiator, true, 0).unwrap();
        let mut forged = twin.sign(b"x").unwrap();
        forged[2] |= SENT_BY_ACCEPTOR;
        assert_eq!(c.verify(b"x", &forged), Err(MicError::Checksum));
    }

    #[test]
    fn hostile_tokens_are_errors() {
        let (mut c, _) = pair(&KEY);
        for t in [&[][..], &[4, 4, 5], &[0u8; MIC_LEN], &[0u8; MIC_LEN + 1]] {
            assert!(c.verify(b"x", t).is_err(), "{t:?}");
        }
        let mut wrap = [0u8; MIC_LEN];
        wrap[..2].copy_from_slice(&[5, 4]);
        assert!(matches!(c.verify(b"x", &wrap), Err(MicError::Header(_))));
        let mut filler = [0xffu8; MIC_LEN];
        filler[..3].copy_from_slice(&[4, 4, 5]);
        filler[5] = 0;
        assert!(matches!(c.verify(b"x", &filler), Err(MicError::Header(_))));
        let mut sealed = [0xffu8; MIC_LEN];
        sealed[..3].copy_from_slice(&[4, 4, 0x07]);
        assert!(matches!(
            c.verify(b"x", &sealed),
            Err(MicError::Flags { .. })
        ));
        assert_eq!(
            Mic::new(&[0; 24], Role::Initiator, true, 0).err(),
            Some(MicError::KeyType(24))
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("7, 7"), "{shown}");
    }
}
