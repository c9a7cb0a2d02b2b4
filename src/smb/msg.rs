//! The SMB2 message bodies a named pipe needs (MS-SMB2 2.2.3-2.2.32): requests are encoded
//! after a [`Header`](super::header::Header), responses decoded from a whole message (header
//! included, since their offsets count from the header's first byte). Every offset and length
//! the server sends is checked against the bytes received ([`Reader::field`]) and against what
//! was asked for. Pure.
//!
//! ```text
//! NEGOTIATE       req 36: DialectCount SecurityMode Reserved Capabilities ClientGuid(16)
//!                         ContextOffset ContextCount(2) Reserved2(2) Dialects[] (pad to 8)
//!                         Contexts (3.1.1, `contexts`; ClientStartTime(8) when none)
//!                 resp 65: SecurityMode Dialect ContextCount(2) ServerGuid(16) Capabilities
//!                         MaxTransact MaxRead MaxWrite SystemTime StartTime SecBufOffset(2)
//!                         SecBufLength(2) ContextOffset(4) Buffer (pad to 8) Contexts
//! SESSION_SETUP   req 25: Flags(1) SecurityMode(1) Capabilities Channel SecBufOffset(2)
//!                         SecBufLength(2) PreviousSessionId(8) Buffer
//!                 resp 9: SessionFlags(2) SecBufOffset(2) SecBufLength(2) Buffer
//! TREE_CONNECT    req 9: Reserved(2) PathOffset(2) PathLength(2) Buffer
//!                 resp 16: ShareType(1) Reserved(1) ShareFlags Capabilities MaximalAccess
//! CREATE          req 57 (56 fixed bytes, then the name); resp 89 (FileId at byte 64 of the body)
//! CLOSE           req 24: Flags(2) Reserved(4) FileId(16); resp 60
//! WRITE           req 49: DataOffset(2) Length Offset(8) FileId(16) Channel Remaining
//!                         ChannelInfoOffset(2) ChannelInfoLength(2) Flags Buffer; resp 17
//! READ            req 49: Padding(1) Flags(1) Length Offset(8) FileId(16) MinimumCount Channel
//!                         Remaining ChannelInfoOffset(2) ChannelInfoLength(2) Buffer(1)
//!                 resp 17: DataOffset(1) Reserved(1) DataLength DataRemaining Reserved2 Buffer
//! IOCTL           req 57: Reserved(2) CtlCode FileId(16) InputOffset InputCount MaxInputResponse
//!                         OutputOffset OutputCount MaxOutputResponse Flags Reserved2 Buffer
//!                 resp 49: Reserved(2) CtlCode FileId(16) InputOffset InputCount OutputOffset
//!                         OutputCount Flags Reserved2 Buffer
//! ```
//! (Fields are u32 unless marked.)

use super::SmbWireError;
use super::codec::{Put, Reader};
use super::header::HEADER_LEN;

pub const DIALECT_202: u16 = 0x0202;
pub const DIALECT_210: u16 = 0x0210;
pub const DIALECT_300: u16 = 0x0300;
pub const DIALECT_302: u16 = 0x0302;
pub const DIALECT_311: u16 = 0x0311;
/// The dialects offered, oldest first.
pub const DIALECTS: [u16; 5] = [
    DIALECT_202,
    DIALECT_210,
    DIALECT_300,
    DIALECT_302,
    DIALECT_311,
];

/// A dialect as people write it ("3.1.1").
pub fn dialect_name(d: u16) -> String {
    match d {
        DIALECT_202 => "2.0.2".into(),
        DIALECT_210 => "2.1".into(),
        DIALECT_300 => "3.0".into(),
        DIALECT_302 => "3.0.2".into(),
        DIALECT_311 => "3.1.1".into(),
        _ => format!("0x{d:04x}"),
    }
}

/// SMB2_GLOBAL_CAP_ENCRYPTION: the 3.0/3.0.2 client and server can encrypt (AES-128-CCM).
pub const CAP_ENCRYPTION: u32 = 0x40;
/// SMB2_SHAREFLAG_ENCRYPT_DATA: the share requires its messages encrypted.
pub const SHAREFLAG_ENCRYPT_DATA: u32 = 0x8000;

pub const SIGNING_ENABLED: u16 = 0x1;
pub const SIGNING_REQUIRED: u16 = 0x2;

pub const SESSION_FLAG_IS_GUEST: u16 = 0x1;
pub const SESSION_FLAG_IS_NULL: u16 = 0x2;
pub const SESSION_FLAG_ENCRYPT_DATA: u16 = 0x4;

pub const SHARE_TYPE_PIPE: u8 = 0x02;

/// FSCTL_PIPE_TRANSCEIVE (MS-FSCC 2.3.49): write a message to the pipe and read one back.
pub const FSCTL_PIPE_TRANSCEIVE: u32 = 0x0011_C017;
/// FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 2.2.31.4): the 3.0/3.0.2 check of the negotiate.
pub const FSCTL_VALIDATE_NEGOTIATE_INFO: u32 = 0x0014_0204;
const IOCTL_IS_FSCTL: u32 = 0x1;

/// A pipe's access: read, write and append data, EAs and attributes, READ_CONTROL, SYNCHRONIZE
/// (what Windows' own RPC runtime asks for a pipe).
const PIPE_ACCESS: u32 = 0x0012_019f;
const SHARE_READ_WRITE: u32 = 0x3;
const FILE_OPEN: u32 = 0x1;
const FILE_NON_DIRECTORY_FILE: u32 = 0x40;
const IMPERSONATION: u32 = 0x2;

/// The handle of an open file or pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileId {
    pub persistent: u64,
    pub volatile: u64,
}

impl FileId {
    fn put(&self, out: &mut Vec<u8>) {
        out.u64le(self.persistent);
        out.u64le(self.volatile);
    }
    fn read(r: &mut Reader<'_>) -> Result<FileId, SmbWireError> {
        Ok(FileId {
            persistent: r.u64()?,
            volatile: r.u64()?,
        })
    }
}

fn offset(fixed: usize) -> u16 {
    (HEADER_LEN + fixed) as u16
}

fn len16(what: &'static str, n: usize) -> Result<u16, SmbWireError> {
    u16::try_from(n).map_err(|_| SmbWireError::TooLarge {
        what,
        size: n,
        limit: usize::from(u16::MAX),
    })
}

fn len32(what: &'static str, n: usize) -> Result<u32, SmbWireError> {
    u32::try_from(n).map_err(|_| SmbWireError::TooLarge {
        what,
        size: n,
        limit: u32::MAX as usize,
    })
}

/// NEGOTIATE request offering `dialects`, then `count` negotiate `contexts` (3.1.1;
/// [`contexts::request`](super::contexts::request)) 8-byte aligned, when there are any.
pub fn negotiate_request(
    dialects: &[u16],
    security_mode: u16,
    capabilities: u32,
    client_guid: [u8; 16],
    contexts: &[u8],
    count: u16,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(36 + 2 * dialects.len() + 8 + contexts.len());
    b.u16le(36);
    b.u16le(dialects.len() as u16);
    b.u16le(security_mode);
    b.u16le(0);
    b.u32le(capabilities);
    b.extend_from_slice(&client_guid);
    let at = b.len();
    b.u64le(0); // ClientStartTime, or the contexts' offset and count
    for d in dialects {
        b.u16le(*d);
    }
    if count > 0 {
        let start = super::contexts::align8(HEADER_LEN + b.len());
        b.resize(start - HEADER_LEN, 0);
        b[at..at + 4].copy_from_slice(&(start as u32).to_le_bytes());
        b[at + 4..at + 6].copy_from_slice(&count.to_le_bytes());
        b.extend_from_slice(contexts);
    }
    b
}

/// What the server chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateResponse {
    pub security_mode: u16,
    pub dialect: u16,
    pub server_guid: [u8; 16],
    pub capabilities: u32,
    pub max_transact: u32,
    pub max_read: u32,
    pub max_write: u32,
    /// The server's first GSS token (SPNEGO hints), possibly empty.
    pub security_blob: Vec<u8>,
    /// What a 3.1.1 server chose in its negotiate contexts (None for other dialects).
    pub contexts: Option<super::contexts::Chosen>,
}

pub fn negotiate_response(msg: &[u8]) -> Result<NegotiateResponse, SmbWireError> {
    let mut r = Reader::at(msg, HEADER_LEN, "negotiate response");
    r.structure_size(65)?;
    let security_mode = r.u16()?;
    let dialect = r.u16()?;
    let context_count = r.u16()?;
    let server_guid = r.array()?;
    let capabilities = r.u32()?;
    let max_transact = r.u32()?;
    let max_read = r.u32()?;
    let max_write = r.u32()?;
    r.skip(16)?;
    let off = usize::from(r.u16()?);
    let len = usize::from(r.u16()?);
    let context_offset = r.u32()? as usize;
    let contexts = if dialect == DIALECT_311 {
        Some(super::contexts::response(
            msg,
            context_offset,
            context_count,
        )?)
    } else {
        None
    };
    Ok(NegotiateResponse {
        security_mode,
        dialect,
        server_guid,
        capabilities,
        max_transact,
        max_read,
        max_write,
        security_blob: r.field(off, len)?.to_vec(),
        contexts,
    })
}

/// SESSION_SETUP request carrying one GSS/NTLMSSP token.
pub fn session_setup_request(security_mode: u8, token: &[u8]) -> Result<Vec<u8>, SmbWireError> {
    let mut b = Vec::with_capacity(24 + token.len());
    b.u16le(25);
    b.push(0);
    b.push(security_mode);
    b.u32le(0);
    b.u32le(0);
    b.u16le(offset(24));
    b.u16le(len16("session setup token", token.len())?);
    b.u64le(0);
    b.extend_from_slice(token);
    Ok(b)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSetupResponse {
    pub session_flags: u16,
    pub token: Vec<u8>,
}

// Each response reads its own fixed fields in MS-SMB2's order; what the responses share,
// a field at (offset, length) checked against the message, is Reader::field.
pub fn session_setup_response(msg: &[u8]) -> Result<SessionSetupResponse, SmbWireError> {
    let mut r = Reader::at(msg, HEADER_LEN, "session setup response");
    r.structure_size(9)?;
    let session_flags = r.u16()?;
    let off = usize::from(r.u16()?);
    let len = usize::from(r.u16()?);
    Ok(SessionSetupResponse {
        session_flags,
        token: r.field(off, len)?.to_vec(),
    })
}

/// TREE_CONNECT request for `path` (`\\server\IPC$`).
pub fn tree_connect_request(path: &str) -> Result<Vec<u8>, SmbWireError> {
    let p = super::codec::utf16le(path);
    let mut b = Vec::with_capacity(8 + p.len());
    b.u16le(9);
    b.u16le(0);
    b.u16le(offset(8));
    b.u16le(len16("tree connect path", p.len())?);
    b.extend_from_slice(&p);
    Ok(b)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeConnectResponse {
    pub share_type: u8,
    pub share_flags: u32,
    pub capabilities: u32,
    pub maximal_access: u32,
}

pub fn tree_connect_response(msg: &[u8]) -> Result<TreeConnectResponse, SmbWireError> {
    let mut r = Reader::at(msg, HEADER_LEN, "tree connect response");
    r.structure_size(16)?;
    let share_type = r.u8()?;
    r.skip(1)?;
    Ok(TreeConnectResponse {
        share_type,
        share_flags: r.u32()?,
        capabilities: r.u32()?,
        maximal_access: r.u32()?,
    })
}

/// CREATE request opening the pipe `name` (relative to `IPC$`, e.g. `epmapper`).
pub fn create_request(name: &str) -> Result<Vec<u8>, SmbWireError> {
    let n = super::codec::utf16le(name);
    if n.is_empty() {
        return Err(SmbWireError::invalid(
            "create request",
            "an empty pipe name",
        ));
    }
    let mut b = Vec::with_capacity(56 + n.len());
    b.u16le(57);
    b.push(0); // SecurityFlags
    b.push(0); // RequestedOplockLevel: none
    b.u32le(IMPERSONATION);
    b.u64le(0); // SmbCreateFlags
    b.u64le(0); // Reserved
    b.u32le(PIPE_ACCESS);
    b.u32le(0); // FileAttributes
    b.u32le(SHARE_READ_WRITE);
    b.u32le(FILE_OPEN);
    b.u32le(FILE_NON_DIRECTORY_FILE);
    b.u16le(offset(56));
    b.u16le(len16("pipe name", n.len())?);
    b.u32le(0); // CreateContextsOffset
    b.u32le(0); // CreateContextsLength
    b.extend_from_slice(&n);
    Ok(b)
}

pub fn create_response(msg: &[u8]) -> Result<FileId, SmbWireError> {
    let mut r = Reader::at(msg, HEADER_LEN, "create response");
    r.structure_size(89)?;
    // OplockLevel, Flags, CreateAction, four times, AllocationSize, EndofFile,
    // FileAttributes, Reserved2
    r.skip(1 + 1 + 4 + 32 + 8 + 8 + 4 + 4)?;
    let id = FileId::read(&mut r)?;
    r.skip(8)?; // create contexts: none asked for, none read
    Ok(id)
}

pub fn close_request(file: FileId) -> Vec<u8> {
    let mut b = Vec::with_capacity(24);
    b.u16le(24);
    b.u16le(0);
    b.u32le(0);
    file.put(&mut b);
    b
}

pub fn close_response(msg: &[u8]) -> Result<(), SmbWireError> {
    let mut r = Reader::at(msg, HEADER_LEN, "close response");
    r.structure_size(60)?;
    r.skip(58)
}

/// WRITE request of `data` to the pipe (offset zero: pipes have none).
pub fn write_request(file: FileId, data: &[u8]) -> Result<Vec<u8>, SmbWireError> {
    let mut b = Vec::with_capacity(48 + data.len());
    b.u16le(49);
    b.u16le(offset(48));
    b.u32le(len32("write", data.len())?);
    b.u64le(0);
    file.put(&mut b);
    b.u32le(0); // Channel
    b.u32le(0); // RemainingBytes
    b.u16le(0);
    b.u16le(0);
    b.u32le(0); // Flags
    b.extend_from_slice(data);
    Ok(b)
}

/// How many bytes the server says it wrote.
pub fn write_response(msg: &[u8]) -> Result<u32, SmbWireError> {
    let mut r = Reader::at(msg, HEADER_LEN, "write response");
    r.structure_size(17)?;
    r.skip(2)?;
    let count = r.u32()?;
    r.skip(4 + 2 + 2)?;
    Ok(count)
}

/// READ request of at most `length` bytes.
pub fn read_request(file: FileId, length: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(49);
    b.u16le(49);
    b.push(0x50); // Padding: where the data should start (header + 16)
    b.push(0);
    b.u32le(length);
    b.u64le(0);
    file.put(&mut b);
    b.u32le(0); // MinimumCount
    b.u32le(0); // Channel
    b.u32le(0); // RemainingBytes
    b.u16le(0);
    b.u16le(0);
    b.push(0); // the one byte of Buffer the request must carry
    b
}

/// The data of a READ response, at most `asked` bytes.
pub fn read_response(msg: &[u8], asked: u32) -> Result<&[u8], SmbWireError> {
    let what = "read response";
    let mut r = Reader::at(msg, HEADER_LEN, what);
    r.structure_size(17)?;
    let off = usize::from(r.u8()?);
    r.skip(1)?;
    let len = r.u32()?;
    r.skip(8)?;
    if len > asked {
        return Err(SmbWireError::invalid(
            what,
            format!("{len} bytes of data where at most {asked} were asked for"),
        ));
    }
    r.field(off, len as usize)
}

/// IOCTL `FSCTL_PIPE_TRANSCEIVE`: write `input` as one message, read at most `max_output`.
pub fn transceive_request(
    file: FileId,
    input: &[u8],
    max_output: u32,
) -> Result<Vec<u8>, SmbWireError> {
    fsctl_request(FSCTL_PIPE_TRANSCEIVE, file, input, max_output)
}

/// IOCTL `FSCTL_VALIDATE_NEGOTIATE_INFO` (MS-SMB2 2.2.31.4), on no file: what the client sent
/// in its NEGOTIATE, for the server to compare with what it received.
pub fn validate_negotiate_request(
    capabilities: u32,
    client_guid: [u8; 16],
    security_mode: u16,
    dialects: &[u16],
) -> Result<Vec<u8>, SmbWireError> {
    let mut input = Vec::with_capacity(24 + 2 * dialects.len());
    input.u32le(capabilities);
    input.extend_from_slice(&client_guid);
    input.u16le(security_mode);
    input.u16le(len16("validate negotiate dialects", dialects.len())?);
    for d in dialects {
        input.u16le(*d);
    }
    let no_file = FileId {
        persistent: u64::MAX,
        volatile: u64::MAX,
    };
    fsctl_request(FSCTL_VALIDATE_NEGOTIATE_INFO, no_file, &input, 24)
}

/// What the server says it negotiated (VALIDATE_NEGOTIATE_INFO response, 24 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateNegotiate {
    pub capabilities: u32,
    pub server_guid: [u8; 16],
    pub security_mode: u16,
    pub dialect: u16,
}

pub fn validate_negotiate_response(msg: &[u8]) -> Result<ValidateNegotiate, SmbWireError> {
    let out = ioctl_response(msg, FSCTL_VALIDATE_NEGOTIATE_INFO, 24)?;
    let mut r = Reader::new(out, "validate negotiate response");
    let v = ValidateNegotiate {
        capabilities: r.u32()?,
        server_guid: r.array()?,
        security_mode: r.u16()?,
        dialect: r.u16()?,
    };
    Ok(v)
}

fn fsctl_request(
    ctl: u32,
    file: FileId,
    input: &[u8],
    max_output: u32,
) -> Result<Vec<u8>, SmbWireError> {
    let mut b = Vec::with_capacity(56 + input.len());
    b.u16le(57);
    b.u16le(0);
    b.u32le(ctl);
    file.put(&mut b);
    b.u32le(u32::from(offset(56)));
    b.u32le(len32("ioctl input", input.len())?);
    b.u32le(0); // MaxInputResponse
    b.u32le(0); // OutputOffset: no output buffer sent
    b.u32le(0); // OutputCount
    b.u32le(max_output);
    b.u32le(IOCTL_IS_FSCTL);
    b.u32le(0);
    b.extend_from_slice(input);
    Ok(b)
}

/// The output of an IOCTL response, at most `asked` bytes, for control code `ctl`.
pub fn ioctl_response(msg: &[u8], ctl: u32, asked: u32) -> Result<&[u8], SmbWireError> {
    let what = "ioctl response";
    let mut r = Reader::at(msg, HEADER_LEN, what);
    r.structure_size(49)?;
    r.skip(2)?;
    let got = r.u32()?;
    if got != ctl {
        return Err(SmbWireError::invalid(
            what,
            format!("control code 0x{got:08x}, not the 0x{ctl:08x} asked"),
        ));
    }
    FileId::read(&mut r)?;
    r.skip(8)?; // InputOffset, InputCount
    let off = r.u32()? as usize;
    let len = r.u32()?;
    r.skip(8)?;
    if len > asked {
        return Err(SmbWireError::invalid(
            what,
            format!("{len} bytes of output where at most {asked} were asked for"),
        ));
    }
    r.field(off, len as usize)
}

/// TREE_DISCONNECT and LOGOFF requests: a structure size of 4 and two reserved bytes.
pub fn empty_request() -> Vec<u8> {
    vec![4, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smb::header::{Command, Header};

    /// A response message: a header flagged as the server's, then `body`.
    pub(crate) fn response(command: Command, status: u32, body: &[u8]) -> Vec<u8> {
        let mut h = Header::request(command, 1, 1, 1);
        h.status = status;
        h.flags = crate::smb::header::FLAG_SERVER_TO_REDIR;
        let mut m = Vec::new();
        h.encode(&mut m);
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn negotiate_request_layout() {
        let b = negotiate_request(&DIALECTS[..2], SIGNING_ENABLED, 0, [7; 16], &[], 0);
        assert_eq!(b.len(), 36 + 4);
        assert_eq!(&b[..8], &[36, 0, 2, 0, 1, 0, 0, 0]);
        assert_eq!(&b[36..], &[0x02, 0x02, 0x10, 0x02]);
    }

    #[test]
    fn a_311_negotiate_request_is_laid_out_as_windows_lays_out_its_own() {
        use crate::smb::crypto::vectors::{NEGOTIATE_REQUEST, hex};
        // Microsoft's example: five dialects, then the contexts at offset 0x70 (padded), the
        // same ClientGuid, SecurityMode 0, Capabilities 0x3f.
        let theirs = hex(NEGOTIATE_REQUEST);
        let guid: [u8; 16] = theirs[76..92].try_into().unwrap();
        let contexts = &theirs[112..];
        let ours = negotiate_request(&DIALECTS, 0, 0x3f, guid, contexts, 2);
        assert_eq!(ours, theirs[HEADER_LEN..]);
    }

    #[test]
    fn validate_negotiate_asks_on_no_file_and_reads_24_bytes() {
        let b = validate_negotiate_request(CAP_ENCRYPTION, [7; 16], SIGNING_ENABLED, &DIALECTS)
            .unwrap();
        assert_eq!(
            u32::from_le_bytes(b[4..8].try_into().unwrap()),
            FSCTL_VALIDATE_NEGOTIATE_INFO
        );
        assert_eq!(&b[8..24], &[0xff; 16], "no file");
        // Input: Capabilities, Guid, SecurityMode, DialectCount, the five dialects.
        assert_eq!(u32::from_le_bytes(b[28..32].try_into().unwrap()), 24 + 10);
        assert_eq!(
            u32::from_le_bytes(b[44..48].try_into().unwrap()),
            24,
            "max output"
        );
        let input = &b[56..];
        assert_eq!(&input[..4], &CAP_ENCRYPTION.to_le_bytes());
        assert_eq!(&input[20..24], &[1, 0, 5, 0]);
        assert_eq!(&input[24..], &[2, 2, 0x10, 2, 0, 3, 2, 3, 0x11, 3]);

        let mut body = Vec::new();
        body.u16le(49);
        body.u16le(0);
        body.u32le(FSCTL_VALIDATE_NEGOTIATE_INFO);
        body.extend_from_slice(&[0xff; 16]);
        body.u32le(0);
        body.u32le(0);
        body.u32le(112);
        body.u32le(24);
        body.u32le(0);
        body.u32le(0);
        body.u32le(0x40);
        body.extend_from_slice(&[9; 16]);
        body.u16le(SIGNING_ENABLED);
        body.u16le(DIALECT_302);
        let m = response(Command::Ioctl, 0, &body);
        assert_eq!(
            validate_negotiate_response(&m).unwrap(),
            ValidateNegotiate {
                capabilities: 0x40,
                server_guid: [9; 16],
                security_mode: SIGNING_ENABLED,
                dialect: DIALECT_302,
            }
        );
        assert!(validate_negotiate_response(&m[..m.len() - 1]).is_err());
    }

    #[test]
    fn microsofts_311_negotiate_response_is_read() {
        use crate::smb::contexts::{CIPHER_AES128_GCM, Chosen};
        use crate::smb::crypto::vectors::{NEGOTIATE_RESPONSE, hex};
        let n = negotiate_response(&hex(NEGOTIATE_RESPONSE)).unwrap();
        assert_eq!(n.dialect, DIALECT_311);
        assert_eq!(n.max_read, 0x80_0000);
        assert_eq!(n.security_blob.first(), Some(&0x60));
        assert_eq!(
            n.contexts,
            Some(Chosen {
                salt_len: 32,
                cipher: Some(CIPHER_AES128_GCM),
                signing: None
            })
        );
    }

    #[test]
    fn negotiate_response_reads_its_blob_and_refuses_one_outside() {
        let mut body = Vec::new();
        body.u16le(65);
        body.u16le(SIGNING_ENABLED | SIGNING_REQUIRED);
        body.u16le(DIALECT_210);
        body.u16le(0);
        body.extend_from_slice(&[9; 16]);
        body.u32le(0);
        body.u32le(65536);
        body.u32le(65536);
        body.u32le(65536);
        body.u64le(0);
        body.u64le(0);
        body.u16le(128);
        body.u16le(3);
        body.u32le(0);
        body.extend_from_slice(&[0xa0, 0x01, 0x00]);
        let m = response(Command::Negotiate, 0, &body);
        let n = negotiate_response(&m).unwrap();
        assert_eq!(n.dialect, DIALECT_210);
        assert_eq!(n.max_read, 65536);
        assert_eq!(n.security_blob, [0xa0, 1, 0]);
        let mut bad = m.clone();
        bad[HEADER_LEN + 58] = 4; // SecurityBufferLength 4: one byte past the end
        assert!(negotiate_response(&bad).is_err());
        assert!(negotiate_response(&m[..HEADER_LEN + 20]).is_err());
    }

    #[test]
    fn requests_point_at_their_buffers() {
        let s = session_setup_request(1, b"TOKEN").unwrap();
        assert_eq!(u16::from_le_bytes([s[12], s[13]]) as usize, HEADER_LEN + 24);
        assert_eq!(&s[24..], b"TOKEN");
        let c = create_request("epmapper").unwrap();
        assert_eq!(c.len(), 56 + 16);
        assert_eq!(u16::from_le_bytes([c[44], c[45]]) as usize, HEADER_LEN + 56);
        assert_eq!(u16::from_le_bytes([c[46], c[47]]), 16);
        let w = write_request(FileId::default(), b"abc").unwrap();
        assert_eq!(u16::from_le_bytes([w[2], w[3]]) as usize, HEADER_LEN + 48);
        assert_eq!(&w[48..], b"abc");
        assert_eq!(read_request(FileId::default(), 10).len(), 49);
        let t = transceive_request(FileId::default(), b"pdu", 4280).unwrap();
        assert_eq!(&t[4..8], &FSCTL_PIPE_TRANSCEIVE.to_le_bytes());
        assert_eq!(&t[56..], b"pdu");
    }

    #[test]
    fn read_response_is_bounded_by_the_request() {
        let mut body = Vec::new();
        body.u16le(17);
        body.push(0x50);
        body.push(0);
        body.u32le(3);
        body.u32le(0);
        body.u32le(0);
        body.extend_from_slice(b"xyz");
        let m = response(Command::Read, 0, &body);
        assert_eq!(read_response(&m, 3).unwrap(), b"xyz");
        assert!(read_response(&m, 2).is_err());
        assert!(read_response(&m[..m.len() - 1], 3).is_err());
    }

    #[test]
    fn ioctl_response_checks_code_and_bounds() {
        let mut body = Vec::new();
        body.u16le(49);
        body.u16le(0);
        body.u32le(FSCTL_PIPE_TRANSCEIVE);
        body.extend_from_slice(&[0; 16]);
        body.u32le(112);
        body.u32le(0);
        body.u32le(112);
        body.u32le(2);
        body.u32le(0);
        body.u32le(0);
        body.extend_from_slice(b"ok");
        let m = response(Command::Ioctl, 0, &body);
        assert_eq!(
            ioctl_response(&m, FSCTL_PIPE_TRANSCEIVE, 10).unwrap(),
            b"ok"
        );
        assert!(ioctl_response(&m, 0x1234, 10).is_err());
        assert!(ioctl_response(&m, FSCTL_PIPE_TRANSCEIVE, 1).is_err());
    }
}

/// The decoders against an anonymous dump of Samba 4.17's endpoint mapper over 445, captured
/// with tshark in the lab (the SMB2 messages without their NetBIOS framing; they are also the
/// `smb_decode` fuzz target's seeds).
#[cfg(test)]
mod captured {
    use super::*;
    use crate::smb::header::{Header, status};
    use crate::smb::ntlm_anon;

    macro_rules! seed {
        ($name:literal) => {
            include_bytes!(concat!("../../fuzz/seeds/smb_decode/samba_", $name))
        };
    }

    #[test]
    fn negotiate() {
        let m = seed!("negotiate_response");
        let h = Header::decode(m).unwrap();
        assert!(h.is_response() && h.status == status::SUCCESS);
        let n = negotiate_response(m).unwrap();
        assert_eq!(n.dialect, DIALECT_210);
        assert_eq!(n.security_mode & SIGNING_ENABLED, SIGNING_ENABLED);
        assert!(n.max_read >= 65536 && n.max_write >= 65536);
        // Samba's SPNEGO hints: a GSS-API InitialContextToken.
        assert_eq!(n.security_blob.first(), Some(&0x60));
    }

    #[test]
    fn negotiate_311() {
        // Samba 4.17 with `server min protocol = SMB3`, answering rpcaudit's negotiate on
        // loopback (`fuzz/seeds/smb3_decode/`).
        let m = include_bytes!("../../fuzz/seeds/smb3_decode/samba_negotiate_response_311");
        let n = negotiate_response(m).unwrap();
        assert_eq!(n.dialect, DIALECT_311);
        assert_eq!(
            n.contexts,
            Some(crate::smb::contexts::Chosen {
                salt_len: 32,
                cipher: Some(crate::smb::contexts::CIPHER_AES128_GCM),
                signing: Some(crate::smb::contexts::SIGNING_AES_CMAC),
            })
        );
        // Our request, as sent: five dialects and three contexts, 8-byte aligned.
        let req = include_bytes!("../../fuzz/seeds/smb3_decode/rpcaudit_negotiate_request_311");
        let body = &req[HEADER_LEN..];
        assert_eq!(&body[36..46], &[2, 2, 0x10, 2, 0, 3, 2, 3, 0x11, 3]);
        assert_eq!(u32::from_le_bytes(body[28..32].try_into().unwrap()), 112);
        assert_eq!(u16::from_le_bytes([body[32], body[33]]), 3);
    }

    #[test]
    fn anonymous_session_setup() {
        let m = seed!("session_setup_response_1");
        assert_eq!(
            Header::decode(m).unwrap().status,
            status::MORE_PROCESSING_REQUIRED
        );
        let r = session_setup_response(m).unwrap();
        assert!(ntlm_anon::challenge_flags(&r.token).is_ok());
        let last = session_setup_response(seed!("session_setup_response_2")).unwrap();
        // Samba 4.17 flags the null session neither IS_NULL nor IS_GUEST.
        assert_eq!(last.session_flags, 0);
        assert!(last.token.is_empty());
    }

    #[test]
    fn tree_connect_and_create() {
        let m = seed!("tree_connect_response");
        assert_eq!(
            tree_connect_response(m).unwrap().share_type,
            SHARE_TYPE_PIPE
        );
        assert_ne!(Header::decode(m).unwrap().tree_id(), 0);
        let id = create_response(seed!("create_response")).unwrap();
        assert_ne!(id, FileId::default());
        // The requests we sent decode as what they are.
        let req = seed!("create_request");
        assert_eq!(&req[HEADER_LEN..], &create_request("epmapper").unwrap()[..]);
    }

    #[test]
    fn transceive_answers_carry_whole_fragments() {
        for m in [
            &seed!("ioctl_response_1")[..],
            &seed!("ioctl_response_2")[..],
        ] {
            let out = ioctl_response(m, FSCTL_PIPE_TRANSCEIVE, 65536).unwrap();
            assert_eq!(crate::wire::pdu::frame_length(out), Ok(Some(out.len())));
        }
    }
}
