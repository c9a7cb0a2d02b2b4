//! RPC over HTTP v1 (MS-RPCH), as far as the endpoint mapper on TCP 593 needs it: as soon as a
//! client connects, an `ncacn_http` server sends the 14 bytes `ncacn_http/1.0` (the "legacy
//! server response", MS-RPCH 2.1.2.2.1), with no terminator; after it, the connection carries
//! ordinary connection-oriented PDUs ([`super::pdu`]). Pure: [`check_banner`] judges the bytes
//! read so far, so the reader can stop at the first wrong byte and never reads past the banner.

use crate::inert;

/// The legacy server response of an `ncacn_http` server.
pub const BANNER: &[u8] = b"ncacn_http/1.0";

/// What the bytes read so far make of the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BannerProgress {
    /// The whole banner arrived.
    Complete,
    /// A correct prefix; this many bytes are still missing.
    More(usize),
}

/// Why the first bytes of a connection are not the `ncacn_http/1.0` banner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BannerError {
    /// The peer sent something else; `got` is what arrived, made inert.
    #[error(
        "not an ncacn_http endpoint mapper: the peer sent {got:?} where the banner \"ncacn_http/1.0\" was expected"
    )]
    Wrong { got: String },
    /// The peer closed the connection inside the banner.
    #[error(
        "connection closed by the peer after {0} of the 14 bytes of the \"ncacn_http/1.0\" banner"
    )]
    Closed(usize),
}

/// Judge `read`, the first bytes of the connection (at most [`BANNER`]'s length are ever
/// needed): complete, a correct prefix, or wrong at its first differing byte.
pub fn check_banner(read: &[u8]) -> Result<BannerProgress, BannerError> {
    let n = read.len().min(BANNER.len());
    if read.get(..n) != BANNER.get(..n) || read.len() > BANNER.len() {
        return Err(BannerError::Wrong { got: shown(read) });
    }
    Ok(if n == BANNER.len() {
        BannerProgress::Complete
    } else {
        BannerProgress::More(BANNER.len() - n)
    })
}

/// The bytes a peer sent, as inert text for a message (lossy UTF-8, quoted in excerpt).
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    inert::excerpt(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_is_taken_whole_or_as_a_correct_prefix() {
        assert_eq!(check_banner(BANNER), Ok(BannerProgress::Complete));
        assert_eq!(check_banner(b""), Ok(BannerProgress::More(14)));
        assert_eq!(check_banner(b"ncacn_"), Ok(BannerProgress::More(8)));
    }

    #[test]
    fn anything_else_is_refused_at_the_first_wrong_byte() {
        let e = check_banner(b"HTTP/1.1 400").unwrap_err();
        assert!(e.to_string().contains("\"HTTP/1.1 400\""), "{e}");
        assert!(matches!(
            check_banner(b"ncacn_ip"),
            Err(BannerError::Wrong { .. })
        ));
        // A DCE/RPC header where the banner belongs (a server that skipped it).
        assert!(check_banner(&[5, 0, 12, 3]).is_err());
        // More than the banner: the reader never asks, and the check refuses.
        assert!(check_banner(b"ncacn_http/1.0x").is_err());
    }

    #[test]
    fn what_the_peer_sent_is_quoted_inert() {
        let e = check_banner(b"\x1b]0;pwned\x07").unwrap_err().to_string();
        assert!(!e.contains('\x1b') && !e.contains('\x07'), "{e:?}");
    }
}
