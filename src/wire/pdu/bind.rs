//! The presentation-context PDUs of C706 §12.6.4: bind and alter_context (one body, `Bind`),
//! bind_ack and alter_context_resp (`BindAck`), and bind_nak. Their bodies and their
//! [`Codec`]s, which [`super::Pdu::decode`] and [`super::Pdu::encode`] call.

use super::{NDR20, SyntaxId, clamp_u8};
use crate::wire::WireError;
use crate::wire::ndr::{Codec, NdrReader, NdrWriter};

/// One presentation context offered in a bind or alter_context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextElem {
    pub context_id: u16,
    pub abstract_syntax: SyntaxId,
    pub transfer_syntaxes: Vec<SyntaxId>,
}

/// bind and alter_context bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    pub contexts: Vec<ContextElem>,
}

/// Result of one presentation context in a bind_ack: 0 acceptance, 1 user rejection,
/// 2 provider rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextResult {
    pub result: u16,
    pub reason: u16,
    pub transfer_syntax: SyntaxId,
}

pub const RESULT_ACCEPTANCE: u16 = 0;
pub const RESULT_PROVIDER_REJECTION: u16 = 2;
pub const REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED: u16 = 1;
pub const REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED: u16 = 2;

/// A bind_nak's `provider_reject_reason` (C706 §12.6.3.4; 8 and 9 from MS-RPCE 2.2.2.5).
pub mod reject_reason {
    pub const NOT_SPECIFIED: u16 = 0;
    pub const TEMPORARY_CONGESTION: u16 = 1;
    pub const LOCAL_LIMIT_EXCEEDED: u16 = 2;
    pub const CALLED_PADDR_UNKNOWN: u16 = 3;
    pub const PROTOCOL_VERSION_NOT_SUPPORTED: u16 = 4;
    pub const DEFAULT_CONTEXT_NOT_SUPPORTED: u16 = 5;
    pub const USER_DATA_NOT_READABLE: u16 = 6;
    pub const NO_PSAP_AVAILABLE: u16 = 7;
    pub const AUTHENTICATION_TYPE_NOT_RECOGNIZED: u16 = 8;
    pub const INVALID_CHECKSUM: u16 = 9;
}

/// bind_ack and alter_context_resp bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindAck {
    pub max_xmit_frag: u16,
    pub max_recv_frag: u16,
    pub assoc_group_id: u32,
    /// The secondary address (the server's port as a string, e.g. "135"), without its NUL.
    pub secondary_address: String,
    pub results: Vec<ContextResult>,
}

/// bind_nak body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindNak {
    pub reject_reason: u16,
    pub versions: Vec<(u8, u8)>,
}

/// The most presentation contexts or results a bind may carry (n is a u8 on the wire).
const MAX_CONTEXTS: usize = 255;

/// How bind and bind_ack bodies (and alter_context's) begin: max_xmit_frag, max_recv_frag
/// and assoc_group_id.
fn read_association(r: &mut NdrReader<'_>) -> Result<(u16, u16, u32), WireError> {
    Ok((r.u16()?, r.u16()?, r.u32()?))
}

fn write_association(w: &mut NdrWriter, max_xmit_frag: u16, max_recv_frag: u16, group: u32) {
    w.u16(max_xmit_frag);
    w.u16(max_recv_frag);
    w.u32(group);
}

impl Bind {
    /// A bind offering one presentation context (id 0): `abstract_syntax` in NDR 2.0, with
    /// fragments of up to `max_frag` bytes both ways.
    pub fn offer(abstract_syntax: SyntaxId, max_frag: u16) -> Self {
        Bind {
            max_xmit_frag: max_frag,
            max_recv_frag: max_frag,
            assoc_group_id: 0,
            contexts: vec![ContextElem {
                context_id: 0,
                abstract_syntax,
                transfer_syntaxes: vec![NDR20],
            }],
        }
    }
}

impl<'a> Codec<'a> for Bind {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let (max_xmit_frag, max_recv_frag, assoc_group_id) = read_association(r)?;
        let n = r.u8()?;
        r.bytes(3)?;
        // Each context is at least 44 bytes: never reserve more than the input can hold.
        let mut contexts =
            Vec::with_capacity(usize::from(n).min(r.remaining() / 44).min(MAX_CONTEXTS));
        for _ in 0..n {
            let context_id = r.u16()?;
            let n_ts = r.u8()?;
            r.u8()?;
            let abstract_syntax = SyntaxId::read(r)?;
            let mut transfer_syntaxes =
                Vec::with_capacity(usize::from(n_ts).min(r.remaining() / 20));
            for _ in 0..n_ts {
                transfer_syntaxes.push(SyntaxId::read(r)?);
            }
            contexts.push(ContextElem {
                context_id,
                abstract_syntax,
                transfer_syntaxes,
            });
        }
        Ok(Bind {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            contexts,
        })
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        write_association(
            w,
            self.max_xmit_frag,
            self.max_recv_frag,
            self.assoc_group_id,
        );
        w.u8(clamp_u8(self.contexts.len(), "bind contexts")?);
        w.bytes(&[0, 0, 0]);
        for c in &self.contexts {
            w.u16(c.context_id);
            w.u8(clamp_u8(c.transfer_syntaxes.len(), "transfer syntaxes")?);
            w.u8(0);
            c.abstract_syntax.write(w)?;
            for t in &c.transfer_syntaxes {
                t.write(w)?;
            }
        }
        Ok(())
    }
}

impl<'a> Codec<'a> for BindAck {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let (max_xmit_frag, max_recv_frag, assoc_group_id) = read_association(r)?;
        let addr_len = r.u16()?;
        let addr = r.bytes(usize::from(addr_len))?;
        // Padded to a 4-byte boundary from the start of the PDU.
        r.align(4)?;
        let n = r.u8()?;
        r.bytes(3)?;
        let mut results = Vec::with_capacity(usize::from(n).min(r.remaining() / 24));
        for _ in 0..n {
            results.push(ContextResult {
                result: r.u16()?,
                reason: r.u16()?,
                transfer_syntax: SyntaxId::read(r)?,
            });
        }
        let secondary_address = String::from_utf8_lossy(addr)
            .trim_end_matches('\0')
            .to_string();
        Ok(BindAck {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            secondary_address,
            results,
        })
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        write_association(
            w,
            self.max_xmit_frag,
            self.max_recv_frag,
            self.assoc_group_id,
        );
        let addr_len = if self.secondary_address.is_empty() {
            0
        } else {
            self.secondary_address.len() + 1
        };
        w.u16(
            u16::try_from(addr_len)
                .map_err(|_| WireError::invalid("bind_ack", "secondary address too long"))?,
        );
        if addr_len > 0 {
            w.bytes(self.secondary_address.as_bytes());
            w.u8(0);
        }
        w.align(4);
        w.u8(clamp_u8(self.results.len(), "bind_ack results")?);
        w.bytes(&[0, 0, 0]);
        for r in &self.results {
            w.u16(r.result);
            w.u16(r.reason);
            r.transfer_syntax.write(w)?;
        }
        Ok(())
    }
}

impl<'a> Codec<'a> for BindNak {
    fn read(r: &mut NdrReader<'a>) -> Result<Self, WireError> {
        let reject_reason = r.u16()?;
        // The version list is optional in practice: Windows sends it, some peers stop here.
        if r.remaining() == 0 {
            return Ok(BindNak {
                reject_reason,
                versions: Vec::new(),
            });
        }
        let n = r.u8()?;
        let mut versions = Vec::with_capacity(usize::from(n).min(r.remaining() / 2));
        for _ in 0..n {
            let [major, minor] = r.array()?;
            versions.push((major, minor));
        }
        Ok(BindNak {
            reject_reason,
            versions,
        })
    }

    fn write(&self, w: &mut NdrWriter) -> Result<(), WireError> {
        w.u16(self.reject_reason);
        w.u8(clamp_u8(self.versions.len(), "bind_nak versions")?);
        for &(major, minor) in &self.versions {
            w.bytes(&[major, minor]);
        }
        Ok(())
    }
}
