//! The SMB2 client a DCE/RPC named pipe (`ncacn_np`) needs, and nothing more: negotiate
//! (dialects 2.0.2 to 3.1.1), session setup (anonymous or NTLM), tree connect to `IPC$`, create,
//! write, read, ioctl `FSCTL_PIPE_TRANSCEIVE`, close; signed, and sealed where the server
//! requires SMB 3 encryption. `docs/DESIGN.md` ("Named pipes: a small SMB2 client") says why it
//! is written here rather than taken from a crate.
//!
//! The flow: [`epm::pipe`](crate::epm::pipe) opens a [`session::Session`] (TCP 445, or 139 after
//! a NetBIOS session request), which frames messages with [`netbios`], builds and reads them with
//! [`header`], [`msg`] and (3.1.1) [`contexts`], logs on with [`ntlm_anon`] or NTLM through sspi,
//! derives the session's keys with [`crypto`], signs with [`signing`], seals with
//! [`transform`], and opens a [`pipe::Pipe`] that carries DCE/RPC fragments.
//!
//! [`codec`], [`netbios`], [`header`], [`msg`], [`contexts`], [`ntlm_anon`], [`crypto`],
//! [`signing`] and [`transform`] are pure (bytes in, typed values out, and back; no I/O) and
//! fuzzed; [`session`] and [`pipe`] do the I/O, every wait under a deadline.

pub mod codec;
pub mod contexts;
pub mod crypto;
pub mod header;
pub mod msg;
pub mod netbios;
pub mod ntlm_anon;
pub mod pipe;
pub mod session;
pub mod signing;
pub mod transform;

/// Why SMB bytes could not be decoded or encoded. Every variant says what was being read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmbWireError {
    #[error("{what}: truncated or malformed at byte {offset}")]
    Malformed { what: &'static str, offset: usize },
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    #[error("{what}: {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
}

impl SmbWireError {
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        SmbWireError::Invalid {
            what,
            detail: detail.into(),
        }
    }
}
