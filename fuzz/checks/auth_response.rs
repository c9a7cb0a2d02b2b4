//! Fuzz property: the authenticated response path of the client, as `epm::client` runs it on
//! every fragment after an NTLM bind: `ClientAuth::unprotect` (layout, trailer checks, NTLM
//! signature and sequence number, unsealing at privacy), then `Pdu::decode` and the
//! `Reassembler`.
//!
//! Input: byte 0 picks the level (connect, integrity, privacy) and the byte order; the rest is
//! split in two halves. A real client/server pair is set up for each input (NTLM through the
//! `sspi` crate, fresh keys every time).
//!
//! 1. The first half, as a received fragment: no panic, whatever it holds.
//! 2. A response the server signed (or sealed) whose stub is the first half, then altered at
//!    the positions the second half names (2 bytes position, 1 byte XOR): at integrity and
//!    privacy it verifies exactly when no byte changed, and then decodes to the original stub;
//!    a changed byte is always an error, never data.
//!
//! Shared by `fuzz_targets/auth_response.rs` (libFuzzer) and `tests/fuzz_seeds.rs`.
use rpcaudit::epm::auth::{
    Acceptor, ClientAuth, Credentials, Level, NTLM_SIGNATURE_LEN, ServerAuth,
};
use rpcaudit::wire::ndr::ByteOrder;
use rpcaudit::wire::pdu::{self, Body, PFC_FIRST_FRAG, PFC_LAST_FRAG, Pdu, Response};
use rpcaudit::wire::reassembly::Reassembler;

fn account() -> Credentials {
    Credentials::password("audit", "LAB", "fuzz-Pass-1")
}

fn pair(level: Level) -> (ClientAuth, ServerAuth) {
    let acceptor = Acceptor { creds: account() };
    let (mut c, negotiate) = ClientAuth::start(&account(), level, 0).expect("NTLM negotiate");
    let (mut s, challenge) =
        ServerAuth::accept(&acceptor, &negotiate, level, 0).expect("NTLM challenge");
    let authenticate = c.challenge(&challenge).expect("NTLM authenticate");
    s.authenticate(&authenticate).expect("logon");
    (c, s)
}

/// What the client does with one received fragment: unprotect, decode, reassemble.
fn receive(c: &mut ClientAuth, frame: &mut [u8]) -> Result<Vec<u8>, String> {
    let header = pdu::parse_header(frame).map_err(|e| e.to_string())?;
    c.unprotect(frame, pdu::ptype_name(header.ptype))
        .map_err(|e| e.to_string())?;
    let p = Pdu::decode(frame).map_err(|e| e.to_string())?;
    let Body::Response(r) = p.body else {
        return Err("not a response".into());
    };
    let mut re = Reassembler::new(64 * 1024);
    re.push(&p.header, r.head.alloc_hint, r.stub)
        .map_err(|e| e.to_string())?;
    Ok(re.into_stub())
}

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let level = match sel % 3 {
        0 => Level::Connect,
        1 => Level::Integrity,
        _ => Level::Privacy,
    };
    let order = if sel & 0x80 != 0 {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let (first, second) = rest.split_at(rest.len() / 2);

    // 1. Arbitrary bytes as a received fragment.
    let (mut c, _) = pair(level);
    if let Ok(Some(n)) = pdu::frame_length(first) {
        let mut f = first[..n].to_vec();
        let _ = receive(&mut c, &mut f);
    }

    // 2. A genuine response, then altered (a fresh pair: sequence numbers from 0).
    let (mut c, mut s) = pair(level);
    let stub = &first[..first.len().min(4000)];
    let placeholder = [0u8; NTLM_SIGNATURE_LEN];
    let mut resp = Pdu::new(
        order,
        2,
        PFC_FIRST_FRAG | PFC_LAST_FRAG,
        Body::Response(Response::whole(stub)),
    );
    if level != Level::Connect {
        resp = resp
            .with_auth(s.trailer(), &placeholder)
            .expect("verifier fits");
    }
    let mut frame = resp.encode().expect("response encodes");
    if level != Level::Connect {
        s.protect(&mut frame).expect("server signs");
    }
    let original = frame.clone();
    for m in second.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([m[0], m[1]])) % frame.len();
        frame[at] ^= m[2];
    }
    let altered = frame != original;
    let got = receive(&mut c, &mut frame);
    if !altered {
        assert_eq!(
            got.as_deref(),
            Ok(stub),
            "an unaltered response must verify"
        );
    } else if level != Level::Connect {
        assert!(
            got.is_err(),
            "an altered response was accepted at {level:?}"
        );
    }
}
