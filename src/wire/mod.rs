//! The DCE/RPC wire formats (C706 chapter 12, MS-RPCE, MS-RPCH) and the endpoint mapper's
//! stubs. Pure: bytes in, typed values out, and back; no I/O. Everything read from the
//! wire is checked here, at the decode boundary, before the rest of the program sees it.
//!
//! - [`pdu`]: the 16-byte common header and the PDU bodies (bind, bind_ack, request, ...);
//!   [`pdu::frame_length`] tells the connection when a whole fragment is buffered.
//! - [`auth`]: the sec_trailer and auth verifier of authenticated PDUs, their padding, and
//!   where the signed and sealed bytes of a fragment lie.
//! - [`reassembly`]: joins the stubs of a fragmented response under a size cap.
//! - [`ndr`]: NDR 2.0 primitives in either byte order, with alignment relative to the buffer:
//!   the one reader and writer every stub, PDU and tower goes through, and the codec traits.
//! - [`epm`]: `ept_lookup`, `ept_map` and `ept_lookup_handle_free` requests and responses.
//! - [`mgmt`]: the management interface's `rpc_mgmt_inq_if_ids` response.
//! - [`tower`]: protocol towers and their floors, and string bindings.
//! - [`cl`]: connectionless PDUs (`ncadg_ip_udp`, UDP 135): the 80-byte header in either byte
//!   order, fault/reject statuses, fack, and fragment reassembly under caps.
//! - [`http`]: the `ncacn_http/1.0` banner of RPC over HTTP v1 (TCP 593), before CO PDUs.

pub mod auth;
pub mod cl;
pub mod epm;
pub mod http;
pub mod mgmt;
pub mod ndr;
pub mod pdu;
pub mod reassembly;
pub mod tower;

/// Why bytes could not be decoded. Every variant says what was being read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("{what}: truncated or malformed at byte {offset}")]
    Malformed { what: &'static str, offset: usize },
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    /// Bytes after the last field of a stub that are not alignment padding.
    #[error("{what}: {len} unexpected bytes after the last field, at byte {offset}")]
    Trailing {
        what: &'static str,
        offset: usize,
        len: usize,
    },
    #[error("{what}: {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
}

impl WireError {
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        WireError::Invalid {
            what,
            detail: detail.into(),
        }
    }
}
