//! Fuzz property: every SMB decoder of `smb` on arbitrary bytes, as a session feeds them: the
//! NetBIOS frame header and session reply, the SMB2 header, each response body a named pipe
//! reads (negotiate, session setup, tree connect, create, close, write, read, ioctl), the
//! NTLMSSP CHALLENGE of an anonymous logon, and a signature check. None may panic; what they
//! return must lie inside the input and within what was asked; a decoded header encodes back to
//! the same 64 bytes.
//!
//! Shared by `fuzz_targets/smb_decode.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/smb_decode/` (SMB2 messages captured from Samba in the lab, NetBIOS framing
//! stripped) and `fuzz/regressions/smb_decode/` in plain `cargo test`.
use rpcaudit::smb::header::{HEADER_LEN, Header};
use rpcaudit::smb::msg;
use rpcaudit::smb::netbios::{self, Frame};
use rpcaudit::smb::ntlm_anon;
use rpcaudit::smb::signing::SigningKey;

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    if let Ok(Frame::Message { len }) = netbios::frame_header(data, 4096) {
        assert!(len <= 4096);
    }
    if let Some(n) = netbios::session_reply_length(data)
        && let Some(reply) = data.get(..n)
    {
        let _ = netbios::session_reply(reply);
    }
    let _ = ntlm_anon::challenge_flags(data);
    let _ = SigningKey::smb2(&[1; 16]).verify(data);

    let Ok(h) = Header::decode(data) else { return };
    let mut again = Vec::new();
    h.encode(&mut again);
    assert_eq!(
        again,
        data[..HEADER_LEN],
        "a header re-encodes byte for byte"
    );

    // Each decoder on the whole message, whatever command the header names.
    if let Ok(n) = msg::negotiate_response(data) {
        assert!(n.security_blob.len() <= data.len());
    }
    if let Ok(s) = msg::session_setup_response(data) {
        assert!(s.token.len() <= data.len());
    }
    let _ = msg::tree_connect_response(data);
    let _ = msg::create_response(data);
    let _ = msg::close_response(data);
    let _ = msg::write_response(data);
    for asked in [0, 16, 4280, u32::MAX] {
        if let Ok(d) = msg::read_response(data, asked) {
            assert!(d.len() as u64 <= u64::from(asked) && d.len() <= data.len());
        }
        if let Ok(d) = msg::ioctl_response(data, msg::FSCTL_PIPE_TRANSCEIVE, asked) {
            assert!(d.len() as u64 <= u64::from(asked) && d.len() <= data.len());
        }
    }
}
