//! The 64-byte SMB2 header (MS-SMB2 2.2.1), the commands a pipe uses, and the NTSTATUS values
//! the client acts on. Pure.
//!
//! ```text
//! ProtocolId "\xfeSMB" | StructureSize 64 (u16) | CreditCharge (u16) | Status (u32)
//! Command (u16) | Credits (u16) | Flags (u32) | NextCommand (u32) | MessageId (u64)
//! sync: Reserved (u32) TreeId (u32) / async: AsyncId (u64) | SessionId (u64) | Signature (16)
//! ```

use super::SmbWireError;
use super::codec::{Put, Reader};

pub const HEADER_LEN: usize = 64;
pub const PROTOCOL_ID: [u8; 4] = *b"\xfeSMB";
/// Where the signature lies in a message.
pub const SIGNATURE: std::ops::Range<usize> = 48..64;

pub const FLAG_SERVER_TO_REDIR: u32 = 0x1;
pub const FLAG_ASYNC_COMMAND: u32 = 0x2;
pub const FLAG_SIGNED: u32 = 0x8;

/// The commands this client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Command {
    Negotiate = 0,
    SessionSetup = 1,
    Logoff = 2,
    TreeConnect = 3,
    TreeDisconnect = 4,
    Create = 5,
    Close = 6,
    Read = 8,
    Write = 9,
    Ioctl = 11,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Negotiate => "negotiate",
            Command::SessionSetup => "session setup",
            Command::Logoff => "logoff",
            Command::TreeConnect => "tree connect",
            Command::TreeDisconnect => "tree disconnect",
            Command::Create => "create",
            Command::Close => "close",
            Command::Read => "read",
            Command::Write => "write",
            Command::Ioctl => "ioctl",
        }
    }
}

/// NTSTATUS values the client tells apart (MS-ERREF 2.3.1).
pub mod status {
    pub const SUCCESS: u32 = 0;
    pub const PENDING: u32 = 0x0000_0103;
    pub const BUFFER_OVERFLOW: u32 = 0x8000_0005;
    pub const MORE_PROCESSING_REQUIRED: u32 = 0xC000_0016;
    pub const ACCESS_DENIED: u32 = 0xC000_0022;
    pub const OBJECT_NAME_NOT_FOUND: u32 = 0xC000_0034;
    pub const LOGON_FAILURE: u32 = 0xC000_006D;
    pub const ACCOUNT_RESTRICTION: u32 = 0xC000_006E;
    pub const PASSWORD_EXPIRED: u32 = 0xC000_0071;
    pub const ACCOUNT_DISABLED: u32 = 0xC000_0072;
    pub const ACCOUNT_LOCKED_OUT: u32 = 0xC000_0234;
    pub const BAD_NETWORK_NAME: u32 = 0xC000_00CC;
    pub const NOT_SUPPORTED: u32 = 0xC000_00BB;
    pub const INVALID_DEVICE_REQUEST: u32 = 0xC000_0010;
    pub const PIPE_NOT_AVAILABLE: u32 = 0xC000_00AC;
    pub const PIPE_BROKEN: u32 = 0xC000_014B;
    pub const PIPE_DISCONNECTED: u32 = 0xC000_00B0;
    pub const USER_SESSION_DELETED: u32 = 0xC000_0203;

    /// The status in hex, with its name when it is one of the above.
    pub fn describe(s: u32) -> String {
        let name = match s {
            SUCCESS => "STATUS_SUCCESS",
            PENDING => "STATUS_PENDING",
            BUFFER_OVERFLOW => "STATUS_BUFFER_OVERFLOW",
            MORE_PROCESSING_REQUIRED => "STATUS_MORE_PROCESSING_REQUIRED",
            ACCESS_DENIED => "STATUS_ACCESS_DENIED",
            OBJECT_NAME_NOT_FOUND => "STATUS_OBJECT_NAME_NOT_FOUND",
            LOGON_FAILURE => "STATUS_LOGON_FAILURE",
            ACCOUNT_RESTRICTION => "STATUS_ACCOUNT_RESTRICTION",
            PASSWORD_EXPIRED => "STATUS_PASSWORD_EXPIRED",
            ACCOUNT_DISABLED => "STATUS_ACCOUNT_DISABLED",
            ACCOUNT_LOCKED_OUT => "STATUS_ACCOUNT_LOCKED_OUT",
            BAD_NETWORK_NAME => "STATUS_BAD_NETWORK_NAME",
            NOT_SUPPORTED => "STATUS_NOT_SUPPORTED",
            INVALID_DEVICE_REQUEST => "STATUS_INVALID_DEVICE_REQUEST",
            PIPE_NOT_AVAILABLE => "STATUS_PIPE_NOT_AVAILABLE",
            PIPE_BROKEN => "STATUS_PIPE_BROKEN",
            PIPE_DISCONNECTED => "STATUS_PIPE_DISCONNECTED",
            USER_SESSION_DELETED => "STATUS_USER_SESSION_DELETED",
            _ => return format!("0x{s:08x}"),
        };
        format!("0x{s:08x} ({name})")
    }
}

/// One SMB2 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub credit_charge: u16,
    /// NTSTATUS in a response; zero in a request (ChannelSequence/Reserved).
    pub status: u32,
    pub command: u16,
    /// Credits requested (request) or granted (response).
    pub credits: u16,
    pub flags: u32,
    pub next_command: u32,
    pub message_id: u64,
    /// TreeId of a sync message, or the AsyncId of an async one (both as read).
    pub tree_or_async: u64,
    pub session_id: u64,
    pub signature: [u8; 16],
}

impl Header {
    /// A request header (sync; signature zero until signed).
    pub fn request(command: Command, message_id: u64, tree_id: u32, session_id: u64) -> Self {
        Header {
            credit_charge: 0,
            status: 0,
            command: command as u16,
            credits: 31,
            flags: 0,
            next_command: 0,
            message_id,
            tree_or_async: u64::from(tree_id) << 32,
            session_id,
            signature: [0; 16],
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&PROTOCOL_ID);
        out.u16le(HEADER_LEN as u16);
        out.u16le(self.credit_charge);
        out.u32le(self.status);
        out.u16le(self.command);
        out.u16le(self.credits);
        out.u32le(self.flags);
        out.u32le(self.next_command);
        out.u64le(self.message_id);
        out.u64le(self.tree_or_async);
        out.u64le(self.session_id);
        out.extend_from_slice(&self.signature);
    }

    /// Read the header at the start of `msg`.
    pub fn decode(msg: &[u8]) -> Result<Header, SmbWireError> {
        let mut r = Reader::new(msg, "SMB2 header");
        let id: [u8; 4] = r.array()?;
        if id != PROTOCOL_ID {
            let detail = if id == *b"\xffSMB" {
                "an SMB1 message: the server does not speak SMB2".to_string()
            } else {
                format!("protocol id {id:02x?}, not \\xfeSMB")
            };
            return Err(SmbWireError::invalid("SMB2 header", detail));
        }
        r.structure_size(HEADER_LEN as u16)?;
        Ok(Header {
            credit_charge: r.u16()?,
            status: r.u32()?,
            command: r.u16()?,
            credits: r.u16()?,
            flags: r.u32()?,
            next_command: r.u32()?,
            message_id: r.u64()?,
            tree_or_async: r.u64()?,
            session_id: r.u64()?,
            signature: r.array()?,
        })
    }

    /// The TreeId of a sync header.
    pub fn tree_id(&self) -> u32 {
        (self.tree_or_async >> 32) as u32
    }

    pub fn is_async(&self) -> bool {
        self.flags & FLAG_ASYNC_COMMAND != 0
    }

    pub fn is_response(&self) -> bool {
        self.flags & FLAG_SERVER_TO_REDIR != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips_and_keeps_its_tree_id() {
        let h = Header::request(Command::Create, 7, 0x1234_5678, 0xfeed);
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out.len(), HEADER_LEN);
        assert_eq!(&out[..4], b"\xfeSMB");
        assert_eq!(Header::decode(&out).unwrap(), h);
        assert_eq!(h.tree_id(), 0x1234_5678);
        // TreeId sits at bytes 36..40 (after the Reserved/ProcessId u32).
        assert_eq!(&out[36..40], &0x1234_5678u32.to_le_bytes());
    }

    #[test]
    fn smb1_and_short_headers_are_refused() {
        let mut out = Vec::new();
        Header::request(Command::Negotiate, 0, 0, 0).encode(&mut out);
        assert!(Header::decode(&out[..63]).is_err());
        out[0] = 0xff;
        let e = Header::decode(&out).unwrap_err().to_string();
        assert!(e.contains("SMB1"), "{e}");
    }
}
