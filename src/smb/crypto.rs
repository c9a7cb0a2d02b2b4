//! The keys of an SMB 3.x session (MS-SMB2 3.2.5.3.1) and the 3.1.1 pre-authentication
//! integrity hash (MS-SMB2 3.2.5.2, 3.2.5.3.1). Pure.
//!
//! Keys come from the session key (the GSS key, first 16 bytes, zero-padded when shorter)
//! through SP800-108's KDF in counter mode with HMAC-SHA256, one block, L = 128:
//! `HMAC(Ki, 00000001 || Label || 00 || Context || 00000080)`, its first 16 bytes; labels and
//! contexts carry their terminating NUL.
//!
//! ```text
//!                3.0 / 3.0.2 (label, context)    3.1.1 (label; context: the preauth hash)
//! signing        "SMB2AESCMAC", "SmbSign"         "SMBSigningKey"
//! client→server  "SMB2AESCCM",  "ServerIn "       "SMBC2SCipherKey"
//! server→client  "SMB2AESCCM",  "ServerOut"       "SMBS2CCipherKey"
//! ```
//!
//! The preauth hash starts as 64 zero bytes and becomes `SHA-512(hash || message)` for the
//! NEGOTIATE request and response and then every SESSION_SETUP request and every response but
//! the final one (those answered `STATUS_MORE_PROCESSING_REQUIRED`); messages as sent, without
//! their NetBIOS framing.

use hmac::{Hmac, KeyInit, Mac};
use sha2_smb::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// SP800-108 counter-mode KDF with HMAC-SHA256, one 128-bit output (MS-SMB2 3.1.4.2).
pub fn kdf(key: &[u8], label: &[u8], context: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut out = Zeroizing::new([0u8; 16]);
    // HMAC takes a key of any length: this cannot fail. Were it ever to, the key stays zero
    // and nothing verifies, which is an error, never a silent success.
    if let Ok(mut mac) = HmacSha256::new_from_slice(key) {
        mac.update(&1u32.to_be_bytes());
        mac.update(label);
        mac.update(&[0]);
        mac.update(context);
        mac.update(&128u32.to_be_bytes());
        out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
    }
    out
}

/// The running pre-authentication integrity hash of a 3.1.1 connection and its session.
#[derive(Clone)]
pub struct Preauth([u8; 64]);

impl std::fmt::Debug for Preauth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Preauth(..)")
    }
}

impl Default for Preauth {
    fn default() -> Self {
        Preauth([0; 64])
    }
}

impl Preauth {
    /// Fold one whole message into the hash.
    pub fn update(&mut self, message: &[u8]) {
        let mut h = Sha512::new();
        h.update(self.0);
        h.update(message);
        self.0.copy_from_slice(&h.finalize());
    }

    pub fn value(&self) -> &[u8; 64] {
        &self.0
    }
}

/// The keys of one 3.x session; zeroed on drop, never shown.
pub struct SessionKeys {
    pub signing: Zeroizing<[u8; 16]>,
    /// What the client encrypts with.
    pub client_to_server: Zeroizing<[u8; 16]>,
    /// What the client decrypts with.
    pub server_to_client: Zeroizing<[u8; 16]>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}

/// The first 16 bytes of the GSS session key, zero-padded when it is shorter.
fn ki(session_key: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut k = Zeroizing::new([0u8; 16]);
    let n = session_key.len().min(16);
    k[..n].copy_from_slice(&session_key[..n]);
    k
}

/// The keys of a 3.0 or 3.0.2 session.
pub fn keys_30(session_key: &[u8]) -> SessionKeys {
    let k = ki(session_key);
    SessionKeys {
        signing: kdf(&*k, b"SMB2AESCMAC\0", b"SmbSign\0"),
        client_to_server: kdf(&*k, b"SMB2AESCCM\0", b"ServerIn \0"),
        server_to_client: kdf(&*k, b"SMB2AESCCM\0", b"ServerOut\0"),
    }
}

/// The keys of a 3.1.1 session whose pre-authentication hash is `preauth`.
pub fn keys_311(session_key: &[u8], preauth: &Preauth) -> SessionKeys {
    let k = ki(session_key);
    let ctx = preauth.value();
    SessionKeys {
        signing: kdf(&*k, b"SMBSigningKey\0", ctx),
        client_to_server: kdf(&*k, b"SMBC2SCipherKey\0", ctx),
        server_to_client: kdf(&*k, b"SMBS2CCipherKey\0", ctx),
    }
}

#[cfg(test)]
pub(crate) mod vectors {
    //! Microsoft's published example of a 3.1.1 logon (the Open Specifications blog, "SMB 2 and
    //! SMB 3 security in Windows 10: the anatomy of signing and cryptographic keys", appendix
    //! "Key derivation example for SMB 3.1.1 multichannel", first channel): the four messages
    //! the preauth hash covers, the final SESSION_SETUP response signed with the derived key,
    //! and the keys; and the 3.0 example's keys.

    pub fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    pub const NEGOTIATE_REQUEST: &str = "
        FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000
        00000000000000000000000000000000000000000000000024000500000000003F000000ECD86F32
        6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000000000
        010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32FF0000
        0200060000000000020002000100";
    pub const HASH_AFTER_NEGOTIATE_REQUEST: &str = "
        DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C7362B8C47122594CDE0
        CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426";
    pub const NEGOTIATE_RESPONSE: &str = "
        FE534D4240000100000000000000010001000000000000000100000000000000FFFE000000000000
        000000000000000000000000000000000000000000000000410001001103020039CBCAF329714942
        BDCE5D60F09AB3FB2F000000000080000000800000008000D8DAE5ADCBAED00109094AB095AED001
        80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182
        3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000000000
        60000000700000007C7CC0FD06D6362D02DDE1CF343BFE292900F49750B4AA97934D9C4296B26E51
        FD370471B235E15A50DAE15BD5489C87000000000000000060000000010000000000000000000000
        5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000
        7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058000000
        3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720507562
        6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67205075
        626C6963204B6579010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3AC74C4
        83CA5B65385A251117BEB30712E50000020004000000000001000200";
    pub const HASH_AFTER_NEGOTIATE: &str = "
        324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE3C94A79F36011E99
        7E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513";
    pub const SETUP_REQUEST_1: &str = "
        FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000000000
        00000000000000000000000000000000000000000000000019000001010000000000000058004A00
        0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A
        04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000
        000F";
    pub const SETUP_RESPONSE_1: &str = "
        FE534D4240000100160000C00100010001000000000000000200000000000000FFFE000000000000
        190000000010000000000000000000000000000000000000090000004800B300A181B03081ADA003
        0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038
        00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53
        005500540033003100310002000C0053005500540033003100310001000C00530055005400330031
        00310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1
        A1F5ADCBAED00100000000";
    pub const SETUP_REQUEST_2: &str = "
        FE534D4240000100000000000100800000000000000000000300000000000000FFFE000000000000
        1900000000100000000000000000000000000000000000001900000101000000000000005800CF01
        0000000000000000A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000030000
        001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000
        001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055
        005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049
        0056004500520033003100310000000000000000000000000000000000000000000000000063078E
        B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000
        0002000C0053005500540033003100310001000C0053005500540033003100310004000C00530055
        00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001060004
        00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B
        8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016
        0063006900660073002F005300550054003300310031000000000000000000000000003B9BDFF38F
        5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000";
    pub const HASH_FINAL: &str = "
        0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB7928622DDDAD522D97
        51640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01";
    /// Signed with the derived signing key (signature EBE146DA...).
    pub const SETUP_RESPONSE_FINAL: &str = "
        FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000
        1900000000100000EBE146DA120BA25FC3376A49DFE31BC10900000048001D00A11B3019A0030A01
        00A3120410010000003B453CDC3524164200000000";
    pub const SESSION_KEY_311: &str = "270E1BA896585EEB7AF3472D3B4C75A7";
    pub const SIGNING_KEY_311: &str = "73FE7A9A77BEF0BDE49C650D8CCB5F76";
    /// The blog's "EncryptionKey" and "DecryptionKey" are the client's: what it encrypts with
    /// (client to server) and decrypts with (server to client).
    pub const ENCRYPTION_KEY_311: &str = "629BCBC54422A0F572B97F45989B6073";
    pub const DECRYPTION_KEY_311: &str = "E2AF0DCEFAC68DA71A0DFBD0D1350D74";

    pub const SESSION_KEY_30: &str = "7CD451825D0450D235424E44BA6E78CC";
    pub const SIGNING_KEY_30: &str = "0B7E9C5CAC36C0F6EA9AB275298CEDCE";
    pub const ENCRYPTION_KEY_30: &str = "FAD27796665B313EBB578F388632B4F7";
    pub const DECRYPTION_KEY_30: &str = "B0F0427F7CEB416D1D9DCC0CD4F99447";
}

#[cfg(test)]
mod tests {
    use super::vectors::*;
    use super::*;
    use crate::smb::signing::{SigningError, SigningKey};

    #[test]
    fn the_preauth_hash_follows_microsofts_example() {
        let mut p = Preauth::default();
        assert_eq!(p.value(), &[0; 64]);
        p.update(&hex(NEGOTIATE_REQUEST));
        assert_eq!(p.value().to_vec(), hex(HASH_AFTER_NEGOTIATE_REQUEST));
        p.update(&hex(NEGOTIATE_RESPONSE));
        assert_eq!(p.value().to_vec(), hex(HASH_AFTER_NEGOTIATE));
        p.update(&hex(SETUP_REQUEST_1));
        p.update(&hex(SETUP_RESPONSE_1));
        p.update(&hex(SETUP_REQUEST_2));
        assert_eq!(p.value().to_vec(), hex(HASH_FINAL));
    }

    #[test]
    fn keys_311_and_the_signed_final_response() {
        let mut p = Preauth::default();
        for m in [
            NEGOTIATE_REQUEST,
            NEGOTIATE_RESPONSE,
            SETUP_REQUEST_1,
            SETUP_RESPONSE_1,
            SETUP_REQUEST_2,
        ] {
            p.update(&hex(m));
        }
        let k = keys_311(&hex(SESSION_KEY_311), &p);
        assert_eq!(k.signing.to_vec(), hex(SIGNING_KEY_311));
        assert_eq!(k.client_to_server.to_vec(), hex(ENCRYPTION_KEY_311));
        assert_eq!(k.server_to_client.to_vec(), hex(DECRYPTION_KEY_311));
        let key = SigningKey::aes_cmac(&k.signing);
        let last = hex(SETUP_RESPONSE_FINAL);
        assert_eq!(key.verify(&last), Ok(()));
        let mut altered = last.clone();
        altered[70] ^= 1;
        assert_eq!(key.verify(&altered), Err(SigningError::Mismatch));
        // Signing it again gives the same signature.
        let mut again = last.clone();
        again[48..64].fill(0);
        key.sign(&mut again).unwrap();
        assert_eq!(again, last);
    }

    #[test]
    fn keys_30() {
        let k = super::keys_30(&hex(SESSION_KEY_30));
        assert_eq!(k.signing.to_vec(), hex(SIGNING_KEY_30));
        assert_eq!(k.client_to_server.to_vec(), hex(ENCRYPTION_KEY_30));
        assert_eq!(k.server_to_client.to_vec(), hex(DECRYPTION_KEY_30));
        // A short session key is zero-padded; a long one cut to 16 bytes.
        let mut long = hex(SESSION_KEY_30);
        long.extend_from_slice(&[0xaa; 16]);
        assert_eq!(super::keys_30(&long).signing.to_vec(), hex(SIGNING_KEY_30));
        let short = super::keys_30(&[1, 2, 3]);
        let padded = super::keys_30(&[1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(*short.signing, *padded.signing);
    }
}
