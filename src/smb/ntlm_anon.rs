//! The NTLMSSP messages of an anonymous (null session) logon, MS-NLMP 2.2.1 and 3.2.5.1.2: a
//! NEGOTIATE, a check that the server's answer is a CHALLENGE, and an AUTHENTICATE with an
//! empty user, domain and NT response and a one-byte LM response, flagged
//! `NTLMSSP_NEGOTIATE_ANONYMOUS`. No key is derived and nothing is signed, so there is no
//! cryptography here; credentialed logons go through sspi (`epm::auth::ClientAuth`). Pure.
//!
//! ```text
//! NEGOTIATE     "NTLMSSP\0" 1(u32) Flags(u32) DomainFields(8) WorkstationFields(8)
//! CHALLENGE     "NTLMSSP\0" 2(u32) TargetNameFields(8) Flags(u32) ServerChallenge(8) ...
//! AUTHENTICATE  "NTLMSSP\0" 3(u32) Lm(8) Nt(8) Domain(8) User(8) Workstation(8)
//!               EncryptedRandomSessionKey(8) Flags(u32) Payload
//! fields: Len(u16) MaxLen(u16) Offset(u32)
//! ```

use super::SmbWireError;
use super::codec::{Put, Reader};

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
const UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NTLM: u32 = 0x0000_0200;
const ANONYMOUS: u32 = 0x0000_0800;
const ALWAYS_SIGN: u32 = 0x0000_8000;
const EXTENDED_SESSION_SECURITY: u32 = 0x0008_0000;
const N128: u32 = 0x2000_0000;
const N56: u32 = 0x8000_0000;

const OFFERED: u32 =
    UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSION_SECURITY | N128 | N56;

/// The NEGOTIATE message.
pub fn negotiate() -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.extend_from_slice(SIGNATURE);
    m.u32le(1);
    m.u32le(OFFERED);
    m.extend_from_slice(&[0; 16]); // no domain, no workstation
    m
}

/// Check that `token` is a CHALLENGE; its flags.
pub fn challenge_flags(token: &[u8]) -> Result<u32, SmbWireError> {
    let what = "NTLMSSP CHALLENGE";
    let mut r = Reader::new(token, what);
    if r.take(8)? != SIGNATURE {
        return Err(SmbWireError::invalid(what, "no NTLMSSP signature"));
    }
    let kind = r.u32()?;
    if kind != 2 {
        return Err(SmbWireError::invalid(
            what,
            format!("message type {kind}, not 2"),
        ));
    }
    r.skip(8)?;
    let flags = r.u32()?;
    r.skip(8)?; // the server challenge, unused by an anonymous answer
    Ok(flags)
}

/// The anonymous AUTHENTICATE answering a CHALLENGE with `server_flags`.
pub fn authenticate(server_flags: u32) -> Vec<u8> {
    const PAYLOAD: u32 = 64;
    let flags = (OFFERED & server_flags) | ANONYMOUS | UNICODE | NTLM;
    let mut m = Vec::with_capacity(65);
    m.extend_from_slice(SIGNATURE);
    m.u32le(3);
    // LmChallengeResponse: Z(1)
    m.u16le(1);
    m.u16le(1);
    m.u32le(PAYLOAD);
    // NtChallengeResponse, DomainName, UserName, Workstation, EncryptedRandomSessionKey: empty
    for _ in 0..5 {
        m.u16le(0);
        m.u16le(0);
        m.u32le(PAYLOAD + 1);
    }
    m.u32le(flags);
    m.push(0);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_layout() {
        let n = negotiate();
        assert_eq!(n.len(), 32);
        assert_eq!(&n[..12], b"NTLMSSP\0\x01\0\0\0");
    }

    #[test]
    fn authenticate_is_anonymous_and_its_fields_lie_inside() {
        let a = authenticate(0xe2_8a_82_15);
        assert_eq!(&a[8..12], &3u32.to_le_bytes());
        let r = Reader::new(&a, "t");
        // the LM response: one zero byte at 64
        assert_eq!(r.field(64, 1).unwrap(), &[0]);
        let flags = u32::from_le_bytes([a[60], a[61], a[62], a[63]]);
        assert_ne!(flags & ANONYMOUS, 0);
        assert_eq!(flags & 0x10, 0, "no signing asked of an anonymous session");
    }

    #[test]
    fn only_a_challenge_is_accepted() {
        let mut c = Vec::from(&SIGNATURE[..]);
        c.u32le(2);
        c.extend_from_slice(&[0; 8]);
        c.u32le(OFFERED);
        c.extend_from_slice(&[1; 8]);
        assert_eq!(challenge_flags(&c), Ok(OFFERED));
        assert!(challenge_flags(&negotiate()).is_err());
        assert!(challenge_flags(&c[..20]).is_err());
        assert!(challenge_flags(b"NTLMSSQ\0\x02\0\0\0").is_err());
    }
}
