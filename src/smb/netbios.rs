//! NetBIOS session service framing (RFC 1002 4.3), as SMB uses it. On TCP 445 ("direct
//! hosting", MS-SMB2 2.1) every SMB2 message is preceded by four bytes: a zero type byte and a
//! 24-bit big-endian length. On TCP 139 a session request (called and calling names) comes
//! first and must be answered positively; then messages are framed the same way (type 0, the
//! length's 17th bit in the flags byte, a superset of which the 24-bit reading covers), and the
//! server may send keep-alives (type 0x85), which carry nothing. Pure.

use super::SmbWireError;

/// Length of the frame header.
pub const FRAME_HEADER: usize = 4;
// RFC 1002's packet types; msg.rs's constants, which look alike, are MS-SMB2's.
/// Type of a session message.
const SESSION_MESSAGE: u8 = 0x00;
const SESSION_REQUEST: u8 = 0x81;
const POSITIVE_RESPONSE: u8 = 0x82;
const NEGATIVE_RESPONSE: u8 = 0x83;
const RETARGET_RESPONSE: u8 = 0x84;
const KEEP_ALIVE: u8 = 0x85;
/// The called name every Windows server answers to when its own is not known.
pub const ANY_SERVER: &str = "*SMBSERVER";

/// `msg` with its four-byte frame header.
pub fn frame(msg: &[u8]) -> Result<Vec<u8>, SmbWireError> {
    if msg.len() > 0x00ff_ffff {
        return Err(SmbWireError::TooLarge {
            what: "NetBIOS frame",
            size: msg.len(),
            limit: 0x00ff_ffff,
        });
    }
    let len = msg.len() as u32;
    let mut out = Vec::with_capacity(FRAME_HEADER + msg.len());
    out.push(SESSION_MESSAGE);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(msg);
    Ok(out)
}

/// What the start of the receive buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Not yet a whole frame header.
    NeedHeader,
    /// A session message of `len` bytes after the header (maybe not all there yet).
    Message { len: usize },
    /// A keep-alive: four bytes to drop.
    KeepAlive,
}

/// Read the frame header at the start of `buf`; a message longer than `cap` is refused before
/// any of it is buffered.
pub fn frame_header(buf: &[u8], cap: usize) -> Result<Frame, SmbWireError> {
    let Some(h) = buf.get(..FRAME_HEADER) else {
        return Ok(Frame::NeedHeader);
    };
    let len = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
    match h[0] {
        SESSION_MESSAGE if len > cap => Err(SmbWireError::TooLarge {
            what: "SMB message",
            size: len,
            limit: cap,
        }),
        SESSION_MESSAGE => Ok(Frame::Message { len }),
        KEEP_ALIVE if len == 0 => Ok(Frame::KeepAlive),
        t => Err(SmbWireError::invalid(
            "NetBIOS frame",
            format!(
                "type 0x{t:02x} (length {len}) where a session message was expected: not an SMB server?"
            ),
        )),
    }
}

/// The first-level encoding of a NetBIOS name (RFC 1001 14.1): up to 15 characters,
/// upper-cased and padded with blanks, then the `suffix` byte; each half-byte as a letter from
/// 'A'; with the length byte before and the empty scope after.
fn encode_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    for (slot, b) in raw.iter_mut().zip(name.bytes().take(15)) {
        *slot = b.to_ascii_uppercase();
    }
    raw[15] = suffix;
    let mut out = Vec::with_capacity(34);
    out.push(32);
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
    out
}

/// A name fit to be sent: printable ASCII without blanks or dots, at most 15 characters; else
/// the name every server answers to.
pub fn called_name(host: &str) -> &str {
    let fits = !host.is_empty()
        && host.len() <= 15
        && host.bytes().all(|b| b.is_ascii_graphic() && b != b'.');
    if fits { host } else { ANY_SERVER }
}

/// The session request of TCP 139: the server's name (`called`, suffix 0x20, the server
/// service) and ours (`calling`, suffix 0x00).
pub fn session_request(called: &str, calling: &str) -> Vec<u8> {
    let mut body = encode_name(called, 0x20);
    body.extend_from_slice(&encode_name(calling, 0x00));
    let mut out = vec![SESSION_REQUEST, 0];
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// The server's answer to a session request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionReply {
    Positive,
    /// Refused, with RFC 1002's error code (0x80 not listening on the called name, 0x82 called
    /// name not present, ...).
    Negative(u8),
    /// Sent elsewhere (address and port); not followed.
    Retarget,
}

/// How many bytes the answer to a session request takes, once its header is there.
pub fn session_reply_length(buf: &[u8]) -> Option<usize> {
    let h = buf.get(..FRAME_HEADER)?;
    Some(FRAME_HEADER + usize::from(u16::from_be_bytes([h[2], h[3]])))
}

/// Read the answer to a session request (a whole one, [`session_reply_length`] bytes).
pub fn session_reply(buf: &[u8]) -> Result<SessionReply, SmbWireError> {
    let what = "NetBIOS session reply";
    let malformed = SmbWireError::Malformed { what, offset: 0 };
    let h = buf.get(..FRAME_HEADER).ok_or(malformed.clone())?;
    let body = &buf[FRAME_HEADER..];
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if body.len() != len {
        return Err(malformed);
    }
    match (h[0], len) {
        (POSITIVE_RESPONSE, 0) => Ok(SessionReply::Positive),
        (NEGATIVE_RESPONSE, 1) => Ok(SessionReply::Negative(body[0])),
        (RETARGET_RESPONSE, 6) => Ok(SessionReply::Retarget),
        (t, n) => Err(SmbWireError::invalid(
            what,
            format!("type 0x{t:02x} with {n} bytes: not a NetBIOS session service?"),
        )),
    }
}

/// What RFC 1002 4.3.4 says a negative response's code means.
pub fn negative_reason(code: u8) -> &'static str {
    match code {
        0x80 => "not listening on the called name",
        0x81 => "not listening for the calling name",
        0x82 => "called name not present",
        0x83 => "called name present, but insufficient resources",
        _ => "unspecified error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_are_capped() {
        let f = frame(&[1, 2, 3]).unwrap();
        assert_eq!(f, [0, 0, 0, 3, 1, 2, 3]);
        assert_eq!(frame_header(&f, 3), Ok(Frame::Message { len: 3 }));
        assert_eq!(frame_header(&f[..3], 3), Ok(Frame::NeedHeader));
        assert!(matches!(
            frame_header(&f, 2),
            Err(SmbWireError::TooLarge { size: 3, .. })
        ));
        assert_eq!(frame_header(&[0x85, 0, 0, 0], 9), Ok(Frame::KeepAlive));
        assert!(frame_header(b"HTTP/1.1 400", 9).is_err());
    }

    #[test]
    fn names_are_encoded_as_rfc_1001_shows() {
        // RFC 1001 14.1's example: "FRED" padded with blanks.
        let e = encode_name("Fred", 0x20);
        assert_eq!(&e[..1], &[32]);
        assert_eq!(&e[1..9], b"EGFCEFEE");
        assert_eq!(&e[9..31], b"CACACACACACACACACACACA");
        assert_eq!(&e[31..], b"CA\0");
        assert_eq!(session_request("SRV", "RPCAUDIT").len(), 4 + 68);
    }

    #[test]
    fn called_names_fall_back_to_the_wildcard() {
        assert_eq!(called_name("RPCASRV"), "RPCASRV");
        assert_eq!(called_name("198.18.0.10"), ANY_SERVER);
        assert_eq!(called_name("averyveryverylongname"), ANY_SERVER);
    }

    #[test]
    fn session_replies() {
        assert_eq!(session_reply(&[0x82, 0, 0, 0]), Ok(SessionReply::Positive));
        assert_eq!(
            session_reply(&[0x83, 0, 0, 1, 0x82]),
            Ok(SessionReply::Negative(0x82))
        );
        assert!(session_reply(&[0x83, 0, 0, 1]).is_err());
        assert!(session_reply(&[0x00, 0, 0, 0]).is_err());
        assert_eq!(session_reply_length(&[0x83, 0, 0, 1]), Some(5));
    }
}
