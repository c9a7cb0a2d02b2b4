//! The authentication verifier of connection-oriented PDUs (C706 §13.2.6, MS-RPCE
//! §2.2.2.11-2.2.2.13): the 8-byte `sec_trailer` and the security provider's token after it,
//! the auth types and levels, the auth padding's alignment. Where each part of an
//! authenticated fragment lies depends on the PDU's header and body, so it is read beside the
//! PDUs ([`crate::wire::pdu::layout`]); this file uses nothing of them.

use super::WireError;
use super::ndr::ByteOrder;

/// Length of the `sec_trailer`.
pub const SEC_TRAILER_LEN: usize = 8;
/// Auth padding aligns the stub to this many bytes (what Windows and Samba do).
pub const AUTH_PAD_ALIGN: usize = 16;
/// `PFC_SUPPORT_HEADER_SIGN` (MS-RPCE §2.2.2.3): in bind and bind_ack, the same bit as
/// `PFC_PENDING_CANCEL` in requests.
pub const PFC_SUPPORT_HEADER_SIGN: u8 = 0x04;

/// `auth_type` values (MS-RPCE §2.2.1.1.7).
pub mod auth_type {
    pub const NONE: u8 = 0;
    pub const GSS_NEGOTIATE: u8 = 9;
    /// NTLMSSP ("RPC_C_AUTHN_WINNT").
    pub const WINNT: u8 = 10;
    pub const GSS_SCHANNEL: u8 = 14;
    pub const GSS_KERBEROS: u8 = 16;
    pub const NETLOGON: u8 = 68;
    pub const DEFAULT: u8 = 0xff;
}

/// `auth_level` values (MS-RPCE §2.2.1.1.8).
pub mod auth_level {
    pub const DEFAULT: u8 = 0;
    pub const NONE: u8 = 1;
    pub const CONNECT: u8 = 2;
    pub const CALL: u8 = 3;
    pub const PKT: u8 = 4;
    pub const PKT_INTEGRITY: u8 = 5;
    pub const PKT_PRIVACY: u8 = 6;
}

/// A readable name of an `auth_type`, for messages.
pub fn auth_type_name(t: u8) -> &'static str {
    match t {
        auth_type::NONE => "none",
        auth_type::GSS_NEGOTIATE => "negotiate",
        auth_type::WINNT => "NTLMSSP",
        auth_type::GSS_SCHANNEL => "schannel",
        auth_type::GSS_KERBEROS => "kerberos",
        auth_type::NETLOGON => "netlogon",
        _ => "unknown",
    }
}

/// A readable name of an `auth_level`, for messages.
pub fn auth_level_name(l: u8) -> &'static str {
    match l {
        auth_level::DEFAULT => "default",
        auth_level::NONE => "none",
        auth_level::CONNECT => "connect",
        auth_level::CALL => "call",
        auth_level::PKT => "packet",
        auth_level::PKT_INTEGRITY => "integrity",
        auth_level::PKT_PRIVACY => "privacy",
        _ => "unknown",
    }
}

/// The `sec_trailer`: type, level, padding before it, a reserved byte and the context id
/// (in the PDU's byte order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecTrailer {
    pub auth_type: u8,
    pub auth_level: u8,
    pub auth_pad_length: u8,
    pub auth_reserved: u8,
    pub auth_context_id: u32,
}

impl SecTrailer {
    pub fn new(auth_type: u8, auth_level: u8, auth_context_id: u32) -> Self {
        SecTrailer {
            auth_type,
            auth_level,
            auth_pad_length: 0,
            auth_reserved: 0,
            auth_context_id,
        }
    }

    pub fn decode(b: &[u8], order: ByteOrder) -> Result<Self, WireError> {
        let t = b
            .first_chunk::<SEC_TRAILER_LEN>()
            .ok_or(WireError::Malformed {
                what: "sec_trailer",
                offset: b.len(),
            })?;
        Ok(SecTrailer {
            auth_type: t[0],
            auth_level: t[1],
            auth_pad_length: t[2],
            auth_reserved: t[3],
            auth_context_id: order.u32_from([t[4], t[5], t[6], t[7]]),
        })
    }

    /// The trailer's 8 bytes in `order`.
    pub fn bytes(&self, order: ByteOrder) -> [u8; SEC_TRAILER_LEN] {
        let [i0, i1, i2, i3] = order.u32_bytes(self.auth_context_id);
        [
            self.auth_type,
            self.auth_level,
            self.auth_pad_length,
            self.auth_reserved,
            i0,
            i1,
            i2,
            i3,
        ]
    }
}

/// The authentication verifier of one PDU: its trailer and the token (`auth_length` bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthVerifier<'a> {
    pub trailer: SecTrailer,
    pub token: &'a [u8],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec_trailer_codec_in_both_byte_orders() {
        let t = SecTrailer {
            auth_type: auth_type::WINNT,
            auth_level: auth_level::PKT_PRIVACY,
            auth_pad_length: 12,
            auth_reserved: 0,
            auth_context_id: 0x0102_0304,
        };
        let le = t.bytes(ByteOrder::Little);
        assert_eq!(le, [10, 6, 12, 0, 4, 3, 2, 1]);
        let be = t.bytes(ByteOrder::Big);
        assert_eq!(be, [10, 6, 12, 0, 1, 2, 3, 4]);
        assert_eq!(SecTrailer::decode(&le, ByteOrder::Little).unwrap(), t);
        assert_eq!(SecTrailer::decode(&be, ByteOrder::Big).unwrap(), t);
        assert!(SecTrailer::decode(&be[..7], ByteOrder::Big).is_err());
    }
}
