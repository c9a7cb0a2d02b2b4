//! The presentation-context PDUs of C706 §12.6.4: bind and alter_context (one body, `Bind`),
//! bind_ack and alter_context_resp (`BindAck`), and bind_nak. Their bodies, the nom parsers
//! [`super::Pdu::decode`] calls for them, and their encoders for [`super::Pdu::encode`].

use super::{Enc, HEADER_LEN, SyntaxId, clamp_u8, syntax_id};
use crate::wire::WireError;
use nom::IResult;
use nom::number::Endianness;
use nom::number::complete as num;

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

pub(super) fn parse_bind(e: Endianness, i: &[u8]) -> IResult<&[u8], Bind> {
    let (i, max_xmit_frag) = num::u16(e)(i)?;
    let (i, max_recv_frag) = num::u16(e)(i)?;
    let (i, assoc_group_id) = num::u32(e)(i)?;
    let (i, n) = num::u8(i)?;
    let (mut i, _) = nom::bytes::complete::take(3usize)(i)?;
    // Each context is at least 44 bytes: never reserve more than the input can hold.
    let mut contexts = Vec::with_capacity(usize::from(n).min(i.len() / 44).min(MAX_CONTEXTS));
    for _ in 0..n {
        let (r, context_id) = num::u16(e)(i)?;
        let (r, n_ts) = num::u8(r)?;
        let (r, _) = num::u8(r)?;
        let (r, abstract_syntax) = syntax_id(e)(r)?;
        let mut transfer_syntaxes = Vec::with_capacity(usize::from(n_ts).min(r.len() / 20));
        let mut r = r;
        for _ in 0..n_ts {
            let (r2, ts) = syntax_id(e)(r)?;
            transfer_syntaxes.push(ts);
            r = r2;
        }
        contexts.push(ContextElem {
            context_id,
            abstract_syntax,
            transfer_syntaxes,
        });
        i = r;
    }
    Ok((
        i,
        Bind {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            contexts,
        },
    ))
}

pub(super) fn parse_bind_ack(e: Endianness, i: &[u8]) -> IResult<&[u8], BindAck> {
    let start = i.len() + HEADER_LEN;
    let (i, max_xmit_frag) = num::u16(e)(i)?;
    let (i, max_recv_frag) = num::u16(e)(i)?;
    let (i, assoc_group_id) = num::u32(e)(i)?;
    let (i, addr_len) = num::u16(e)(i)?;
    let (i, addr) = nom::bytes::complete::take(addr_len)(i)?;
    // Pad to a 4-byte boundary measured from the start of the PDU.
    let consumed = start - i.len();
    let (i, _) = nom::bytes::complete::take((4 - consumed % 4) % 4)(i)?;
    let (i, n) = num::u8(i)?;
    let (mut i, _) = nom::bytes::complete::take(3usize)(i)?;
    let mut results = Vec::with_capacity(usize::from(n).min(i.len() / 24));
    for _ in 0..n {
        let (r, result) = num::u16(e)(i)?;
        let (r, reason) = num::u16(e)(r)?;
        let (r, transfer_syntax) = syntax_id(e)(r)?;
        results.push(ContextResult {
            result,
            reason,
            transfer_syntax,
        });
        i = r;
    }
    let secondary_address = String::from_utf8_lossy(addr)
        .trim_end_matches('\0')
        .to_string();
    Ok((
        i,
        BindAck {
            max_xmit_frag,
            max_recv_frag,
            assoc_group_id,
            secondary_address,
            results,
        },
    ))
}

pub(super) fn parse_bind_nak(e: Endianness, i: &[u8]) -> IResult<&[u8], BindNak> {
    let (i, reject_reason) = num::u16(e)(i)?;
    // The version list is optional in practice: Windows sends it, some peers stop here.
    if i.is_empty() {
        return Ok((
            i,
            BindNak {
                reject_reason,
                versions: Vec::new(),
            },
        ));
    }
    let (mut i, n) = num::u8(i)?;
    let mut versions = Vec::with_capacity(usize::from(n).min(i.len() / 2));
    for _ in 0..n {
        let (r, major) = num::u8(i)?;
        let (r, minor) = num::u8(r)?;
        versions.push((major, minor));
        i = r;
    }
    Ok((
        i,
        BindNak {
            reject_reason,
            versions,
        },
    ))
}

pub(super) fn encode_bind(w: &mut Enc, b: &Bind) -> Result<(), WireError> {
    w.u16(b.max_xmit_frag);
    w.u16(b.max_recv_frag);
    w.u32(b.assoc_group_id);
    w.buf.push(clamp_u8(b.contexts.len(), "bind contexts")?);
    w.buf.extend_from_slice(&[0, 0, 0]);
    for c in &b.contexts {
        w.u16(c.context_id);
        w.buf
            .push(clamp_u8(c.transfer_syntaxes.len(), "transfer syntaxes")?);
        w.buf.push(0);
        w.syntax(&c.abstract_syntax);
        for t in &c.transfer_syntaxes {
            w.syntax(t);
        }
    }
    Ok(())
}

pub(super) fn encode_bind_ack(w: &mut Enc, b: &BindAck) -> Result<(), WireError> {
    w.u16(b.max_xmit_frag);
    w.u16(b.max_recv_frag);
    w.u32(b.assoc_group_id);
    let addr_len = if b.secondary_address.is_empty() {
        0
    } else {
        b.secondary_address.len() + 1
    };
    w.u16(
        u16::try_from(addr_len)
            .map_err(|_| WireError::invalid("bind_ack", "secondary address too long"))?,
    );
    if addr_len > 0 {
        w.buf.extend_from_slice(b.secondary_address.as_bytes());
        w.buf.push(0);
    }
    while !w.buf.len().is_multiple_of(4) {
        w.buf.push(0);
    }
    w.buf.push(clamp_u8(b.results.len(), "bind_ack results")?);
    w.buf.extend_from_slice(&[0, 0, 0]);
    for r in &b.results {
        w.u16(r.result);
        w.u16(r.reason);
        w.syntax(&r.transfer_syntax);
    }
    Ok(())
}

pub(super) fn encode_bind_nak(w: &mut Enc, n: &BindNak) -> Result<(), WireError> {
    w.u16(n.reject_reason);
    w.buf.push(clamp_u8(n.versions.len(), "bind_nak versions")?);
    for (a, b) in &n.versions {
        w.buf.push(*a);
        w.buf.push(*b);
    }
    Ok(())
}
