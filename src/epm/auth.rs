//! Authenticated endpoint-mapper sessions: credentials whose secret never prints, the auth
//! levels, and a small adapter that puts NTLM (Devolutions' `sspi` crate: NTLMv2, MIC,
//! session keys, signing and sealing; no cryptography is written here) under DCE/RPC.
//!
//! What the adapter does, and only this: it runs the three legs (NEGOTIATE in the bind,
//! CHALLENGE in the bind_ack, AUTHENTICATE in `rpc_auth3`), and for each fragment after that
//! hands the provider exactly the bytes MS-RPCE and Samba sign and seal, located by
//! [`crate::wire::pdu::layout`]:
//!
//! - integrity (`RPC_C_AUTHN_LEVEL_PKT_INTEGRITY`): the NTLM signature covers the whole PDU up
//!   to the token (header, body, stub, padding and `sec_trailer`), with header signing
//!   (`PFC_SUPPORT_HEADER_SIGN`) proposed in the bind;
//! - privacy (`PKT_PRIVACY`): the stub and its padding are sealed in place, and the signature
//!   covers the same bytes as at integrity, in clear;
//! - connect: NTLM authenticates the connection; requests and responses carry no verifier.
//!
//! A response fragment whose signature or sequence number does not verify is an error, never
//! data.

use crate::wire::auth::{SecTrailer, auth_level, auth_type};
use crate::wire::pdu::{AuthLayout, layout};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation,
    EncryptionFlags, Ntlm, SecurityBuffer, SecurityBufferFlags, SecurityBufferRef, SecurityStatus,
    ServerRequestFlags, Sspi, SspiImpl, Username,
};
use zeroize::Zeroizing;

/// Length of an NTLM signature (version, checksum, sequence number).
pub const NTLM_SIGNATURE_LEN: usize = 16;

/// How much protection an authenticated session asks for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "AuthLevel")]
pub enum Level {
    /// Authenticate the connection only; calls are neither signed nor sealed.
    Connect,
    /// Every request is signed and every response's signature verified.
    Integrity,
    /// Integrity, and the stubs are encrypted.
    Privacy,
}

impl Level {
    /// The `auth_level` value on the wire.
    pub fn wire(self) -> u8 {
        match self {
            Level::Connect => auth_level::CONNECT,
            Level::Integrity => auth_level::PKT_INTEGRITY,
            Level::Privacy => auth_level::PKT_PRIVACY,
        }
    }

    pub fn from_wire(level: u8) -> Option<Level> {
        match level {
            auth_level::CONNECT => Some(Level::Connect),
            auth_level::PKT_INTEGRITY => Some(Level::Integrity),
            auth_level::PKT_PRIVACY => Some(Level::Privacy),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Connect => "connect",
            Level::Integrity => "integrity",
            Level::Privacy => "privacy",
        }
    }

    /// Whether calls carry a verifier at this level.
    pub fn protects_calls(self) -> bool {
        self != Level::Connect
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the report says about a host's authentication: never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuthInfo {
    /// The security provider: "ntlm".
    pub mechanism: String,
    /// The auth level the session ran at.
    pub level: Level,
    /// The account, as `DOMAIN\name` (or `name` without a domain).
    pub user: String,
}

/// A secret that does not print: Debug and Display show `<redacted>`, and the memory is
/// zeroed on drop.
#[derive(Clone)]
pub struct Redacted<T: zeroize::Zeroize>(Zeroizing<T>);

impl<T: zeroize::Zeroize> Redacted<T> {
    pub fn new(value: T) -> Self {
        Redacted(Zeroizing::new(value))
    }
    /// The secret itself, for the security provider alone.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: zeroize::Zeroize> std::fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: zeroize::Zeroize> std::fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a user name or an NT hash was refused. Never quotes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The text given as an NT hash; the count of characters, never the text.
    #[error("an NT hash is 32 hexadecimal digits; got {0} characters (not shown)")]
    NtHashFormat(usize),
    /// `--domain` with a user that already names its domain (the form it was given in).
    #[error("--domain conflicts with a user given as {0}")]
    DomainConflict(&'static str),
    #[error("the user name is empty")]
    EmptyUser,
    #[error("give the user as DOMAIN\\name, name@domain, or name with --domain")]
    UserForm,
    #[error("the user name or domain holds a control character")]
    ControlCharacter,
}

/// The secret half of [`Credentials`].
#[derive(Debug, Clone)]
pub enum Secret {
    Password(Redacted<String>),
    /// The NT hash (MD4 of the UTF-16LE password), as Windows tools accept instead.
    NtHash(Redacted<[u8; 16]>),
    /// A Kerberos long-term key from a keytab (`--keytab`): its enctype (17 AES-128, 18
    /// AES-256) and the key. Kerberos only.
    KerberosKey {
        enctype: u16,
        key: Redacted<Vec<u8>>,
    },
}

impl Secret {
    /// Parse 32 hexadecimal digits (surrounding blanks ignored). The error never quotes the
    /// input.
    pub fn nt_hash_from_hex(text: &str) -> Result<Secret, CredentialError> {
        let t = text.trim();
        let malformed = || CredentialError::NtHashFormat(t.chars().count());
        if t.len() != 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let mut h = [0u8; 16];
        for (k, byte) in h.iter_mut().enumerate() {
            let digits = t.get(2 * k..2 * k + 2).ok_or_else(malformed)?;
            *byte = u8::from_str_radix(digits, 16).map_err(|_| malformed())?;
        }
        Ok(Secret::NtHash(Redacted::new(h)))
    }

    /// The password field sspi takes: the password, or `$NTLM$:` and the hash in hex; none
    /// for a Kerberos key.
    fn for_sspi(&self) -> Option<Zeroizing<String>> {
        Some(match self {
            Secret::KerberosKey { .. } => return None,
            Secret::Password(p) => Zeroizing::new(p.expose().clone()),
            Secret::NtHash(h) => {
                let mut s = Zeroizing::new(String::with_capacity(39));
                s.push_str(sspi::NTLM_HASH_PREFIX);
                for b in h.expose().iter() {
                    use std::fmt::Write;
                    let _ = write!(s, "{b:02x}");
                }
                s
            }
        })
    }
}

/// An account and its secret. Debug shows the account and `<redacted>`.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    /// NetBIOS or DNS domain; empty for a local account given without one.
    pub domain: String,
    pub secret: Secret,
}

impl Credentials {
    /// `domain\user` with a password.
    pub fn password(user: &str, domain: &str, password: &str) -> Self {
        Credentials {
            user: user.into(),
            domain: domain.into(),
            secret: Secret::Password(Redacted::new(password.into())),
        }
    }

    /// Parse `DOMAIN\name`, `name@domain` or `name` (then `domain`, which may be empty).
    pub fn parse_user(
        user: &str,
        domain: Option<&str>,
    ) -> Result<(String, String), CredentialError> {
        let (name, dom) = if let Some((d, n)) = user.split_once('\\') {
            if domain.is_some() {
                return Err(CredentialError::DomainConflict("DOMAIN\\name"));
            }
            (n, d)
        } else if let Some((n, d)) = user.rsplit_once('@') {
            if domain.is_some() {
                return Err(CredentialError::DomainConflict("name@domain"));
            }
            (n, d)
        } else {
            (user, domain.unwrap_or(""))
        };
        if name.is_empty() {
            return Err(CredentialError::EmptyUser);
        }
        if name.contains(['\\', '@']) || dom.contains('\\') {
            return Err(CredentialError::UserForm);
        }
        if name.chars().chain(dom.chars()).any(char::is_control) {
            return Err(CredentialError::ControlCharacter);
        }
        Ok((name.to_string(), dom.to_string()))
    }

    /// `DOMAIN\name`, or `name` without a domain: what the report and messages show.
    pub fn display_user(&self) -> String {
        if self.domain.is_empty() {
            self.user.clone()
        } else {
            format!("{}\\{}", self.domain, self.user)
        }
    }

    fn identity(&self) -> Result<AuthIdentity, AuthError> {
        let username = Username::new(
            &self.user,
            Some(self.domain.as_str()).filter(|d| !d.is_empty()),
        )
        .map_err(|e| AuthError::Setup(format!("user name: {e}")))?;
        Ok(AuthIdentity {
            username,
            password: self
                .secret
                .for_sspi()
                .ok_or_else(|| {
                    AuthError::Setup(
                        "a keytab key serves Kerberos only: NTLM needs the password or the NT hash"
                            .into(),
                    )
                })?
                .to_string()
                .into(),
        })
    }
}

/// Why authentication or a protected call failed. Messages never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("NTLM: {0}")]
    Setup(String),
    #[error("NTLM: {0}")]
    Ntlm(String),
    #[error("Kerberos: {0}")]
    Kerberos(String),
    /// The credentials were not sent: an earlier refusal stands for this run.
    #[error("{0}")]
    Withheld(String),
    /// The server refused the credentials.
    #[error("logon failure: {0}")]
    LogonFailure(String),
    #[error("{what} without an auth verifier at auth level {level}")]
    Missing { what: &'static str, level: Level },
    #[error("{what}'s auth verifier: {detail}")]
    BadVerifier { what: &'static str, detail: String },
    #[error(
        "{what}'s signature does not verify ({detail}): the message was altered or not sent by the authenticated peer"
    )]
    BadSignature { what: &'static str, detail: String },
}

fn ntlm_err(e: sspi::Error) -> AuthError {
    // The description is the provider's; it names no secret (it has none of ours to name).
    AuthError::Ntlm(format!("{:?}: {}", e.error_type, e.description))
}

/// The sspi flags for a level. Integrity and privacy request both signing and sealing
/// (key exchange), as Windows' RPC runtime does for NTLM; only privacy seals stubs.
fn client_flags(level: Level) -> ClientRequestFlags {
    let base = ClientRequestFlags::ALLOCATE_MEMORY;
    match level {
        Level::Connect => base,
        Level::Integrity | Level::Privacy => {
            base | ClientRequestFlags::INTEGRITY | ClientRequestFlags::CONFIDENTIALITY
        }
    }
}

/// Where the verifier of `frame` (a fragment of type `what`) lies, if it has one.
pub(crate) fn verifier(frame: &[u8], what: &'static str) -> Result<Option<AuthLayout>, AuthError> {
    layout(frame).map_err(|e| AuthError::BadVerifier {
        what,
        detail: e.to_string(),
    })
}

/// The buffers NTLM signs and verifies over `frame` as `l` lays it out: the header and body,
/// the stub with its padding (sealed or unsealed in place when `seal`, else only covered by
/// the signature), the sec_trailer, and the signature itself.
pub(crate) fn buffers<'f>(
    frame: &'f mut [u8],
    l: &AuthLayout,
    seal: bool,
) -> Vec<SecurityBufferRef<'f>> {
    let (head, rest) = frame.split_at_mut(l.payload.start);
    let (payload, rest) = rest.split_at_mut(l.payload.len());
    let (trailer, token) = rest.split_at_mut(l.token.start - l.payload.end);
    let ro = SecurityBufferFlags::SECBUFFER_READONLY_WITH_CHECKSUM;
    vec![
        SecurityBufferRef::data_buf(head).with_flags(ro),
        if seal {
            SecurityBufferRef::data_buf(payload)
        } else {
            SecurityBufferRef::data_buf(payload).with_flags(ro)
        },
        SecurityBufferRef::data_buf(trailer).with_flags(ro),
        SecurityBufferRef::token_buf(token),
    ]
}

/// The per-fragment half shared by client and server: sign, verify, seal, unseal.
struct Protection {
    ntlm: Ntlm,
    level: Level,
    context_id: u32,
}

impl Protection {
    /// A fresh NTLM context at `level` with `creds` acquired for `usage` (outbound for the
    /// client, inbound for the fixture server), and the credentials handle its legs use.
    fn new(
        creds: &Credentials,
        usage: CredentialUse,
        level: Level,
        context_id: u32,
    ) -> Result<(Self, Option<sspi::AuthIdentityBuffers>), AuthError> {
        let mut ntlm = Ntlm::new();
        let identity = creds.identity()?;
        let acquired = ntlm
            .acquire_credentials_handle()
            .with_credential_use(usage)
            .with_auth_data(&identity)
            .execute(&mut ntlm)
            .map_err(ntlm_err)?;
        drop(identity);
        let me = Protection {
            ntlm,
            level,
            context_id,
        };
        Ok((me, acquired.credentials_handle))
    }

    /// The token one leg of the handshake produced, completed first where the provider
    /// asks for it (`complete_err` says what a failure to complete means on this side).
    fn token(
        &mut self,
        status: SecurityStatus,
        mut output: Vec<SecurityBuffer>,
        complete_err: impl Fn(sspi::Error) -> AuthError,
    ) -> Result<Vec<u8>, AuthError> {
        if matches!(
            status,
            SecurityStatus::CompleteAndContinue | SecurityStatus::CompleteNeeded
        ) {
            self.ntlm
                .complete_auth_token(&mut output)
                .map_err(complete_err)?;
        }
        Ok(output
            .into_iter()
            .next()
            .map(|b| b.buffer)
            .unwrap_or_default())
    }

    /// The verifier a caller puts on an outgoing fragment before [`Protection::protect`]:
    /// its trailer, and a placeholder token of [`NTLM_SIGNATURE_LEN`] bytes.
    fn trailer(&self) -> SecTrailer {
        SecTrailer::new(auth_type::WINNT, self.level.wire(), self.context_id)
    }

    /// Sign (and at privacy seal) one encoded fragment in place.
    fn protect(&mut self, frame: &mut [u8], what: &'static str) -> Result<(), AuthError> {
        let l = verifier(frame, what)?.ok_or(AuthError::Missing {
            what,
            level: self.level,
        })?;
        if l.token.len() != NTLM_SIGNATURE_LEN {
            return Err(AuthError::BadVerifier {
                what,
                detail: format!("token of {} bytes, not {NTLM_SIGNATURE_LEN}", l.token.len()),
            });
        }
        let mut bufs = buffers(frame, &l, self.level == Level::Privacy);
        self.ntlm
            .encrypt_message(EncryptionFlags::empty(), &mut bufs)
            .map_err(ntlm_err)?;
        Ok(())
    }

    /// Check (and at privacy unseal, in place) one received fragment. A fragment without a
    /// verifier passes only where the level protects no calls, and for faults (which
    /// neither Windows nor Samba sign; they carry no data, and are errors anyway).
    fn unprotect(&mut self, frame: &mut [u8], what: &'static str) -> Result<(), AuthError> {
        let Some(l) = verifier(frame, what)? else {
            if !self.level.protects_calls() || what == "fault" {
                return Ok(());
            }
            return Err(AuthError::Missing {
                what,
                level: self.level,
            });
        };
        if !self.level.protects_calls() {
            // Connect level: a verifier is not expected; its trailer must still be ours.
            return self.check_trailer(&l, what);
        }
        self.check_trailer(&l, what)?;
        if l.token.len() != NTLM_SIGNATURE_LEN {
            return Err(AuthError::BadVerifier {
                what,
                detail: format!(
                    "NTLM signature of {} bytes, not {NTLM_SIGNATURE_LEN}",
                    l.token.len()
                ),
            });
        }
        let seal_payload = self.level == Level::Privacy && !l.payload.is_empty();
        let mut bufs = buffers(frame, &l, seal_payload);
        let decrypted = self.ntlm.decrypt_message(&mut bufs);
        match decrypted {
            Ok(_) => {}
            Err(e) if e.error_type == sspi::ErrorKind::MessageAltered => {
                return Err(AuthError::BadSignature {
                    what,
                    detail: e.description,
                });
            }
            Err(e) => return Err(ntlm_err(e)),
        }
        if seal_payload {
            // sspi writes the clear text into the buffer it was given: check it did.
            let clear = bufs.get(1).map(|b| b.data().len()).unwrap_or_default();
            if clear != l.payload.len() {
                return Err(AuthError::BadVerifier {
                    what,
                    detail: "unsealed stub changed length".into(),
                });
            }
        }
        Ok(())
    }

    fn check_trailer(&self, l: &AuthLayout, what: &'static str) -> Result<(), AuthError> {
        let t = l.trailer;
        if t.auth_type != auth_type::WINNT {
            return Err(AuthError::BadVerifier {
                what,
                detail: format!(
                    "auth type {} ({}), not NTLMSSP (10)",
                    t.auth_type,
                    crate::wire::auth::auth_type_name(t.auth_type)
                ),
            });
        }
        if t.auth_level != self.level.wire() {
            return Err(AuthError::BadVerifier {
                what,
                detail: format!(
                    "auth level {} ({}), not the session's {} ({})",
                    t.auth_level,
                    crate::wire::auth::auth_level_name(t.auth_level),
                    self.level.wire(),
                    self.level
                ),
            });
        }
        if t.auth_context_id != self.context_id {
            return Err(AuthError::BadVerifier {
                what,
                detail: format!(
                    "auth context {}, not the session's {}",
                    t.auth_context_id, self.context_id
                ),
            });
        }
        Ok(())
    }
}

/// The client's NTLM context for one connection.
pub struct ClientAuth {
    prot: Protection,
    creds: Option<sspi::AuthIdentityBuffers>,
    established: bool,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("level", &self.prot.level)
            .field("established", &self.established)
            .finish_non_exhaustive()
    }
}

impl ClientAuth {
    /// Start NTLM for `creds` at `level`: the context and the NEGOTIATE token for the bind.
    pub fn start(
        creds: &Credentials,
        level: Level,
        context_id: u32,
    ) -> Result<(Self, Vec<u8>), AuthError> {
        let (prot, creds) = Protection::new(creds, CredentialUse::Outbound, level, context_id)?;
        let mut me = ClientAuth {
            prot,
            creds,
            established: false,
        };
        let token = me.step(None)?;
        Ok((me, token))
    }

    fn step(&mut self, input: Option<&[u8]>) -> Result<Vec<u8>, AuthError> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut input_bufs =
            input.map(|i| vec![SecurityBuffer::new(i.to_vec(), BufferType::Token)]);
        let flags = client_flags(self.prot.level);
        let ntlm = &mut self.prot.ntlm;
        let mut builder = ntlm
            .initialize_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(flags)
            .with_target_data_representation(DataRepresentation::Native)
            .with_output(&mut output);
        if let Some(i) = input_bufs.as_mut() {
            builder = builder.with_input(i);
        }
        let result = ntlm
            .initialize_security_context_impl(&mut builder)
            .map_err(ntlm_err)?
            .resolve_to_result()
            .map_err(ntlm_err)?;
        let token = self.prot.token(result.status, output, ntlm_err)?;
        if input.is_some() {
            self.established = true;
        }
        Ok(token)
    }

    /// Read the server's CHALLENGE (from the bind_ack) and return the AUTHENTICATE token
    /// for `rpc_auth3`.
    pub fn challenge(&mut self, challenge: &[u8]) -> Result<Vec<u8>, AuthError> {
        if self.established {
            return Err(AuthError::Ntlm("a second challenge".into()));
        }
        self.step(Some(challenge))
    }

    pub fn level(&self) -> Level {
        self.prot.level
    }

    /// The NTLM session key once the three legs are done: what SMB signs with
    /// (`smb::signing`). Zeroed on drop; never shown.
    pub fn session_key(&self) -> Result<Zeroizing<Vec<u8>>, AuthError> {
        let keys = self
            .prot
            .ntlm
            .query_context_session_key()
            .map_err(ntlm_err)?;
        Ok(Zeroizing::new(keys.session_key.as_ref().clone()))
    }

    pub fn trailer(&self) -> SecTrailer {
        self.prot.trailer()
    }

    /// Sign or seal one encoded request fragment (built with [`ClientAuth::trailer`] and a
    /// token of [`NTLM_SIGNATURE_LEN`] zero bytes).
    pub fn protect(&mut self, frame: &mut [u8]) -> Result<(), AuthError> {
        self.prot.protect(frame, "request")
    }

    /// Verify (and unseal) one received fragment in place; `what` names its type.
    pub fn unprotect(&mut self, frame: &mut [u8], what: &'static str) -> Result<(), AuthError> {
        self.prot.unprotect(frame, what)
    }
}

/// The accounts a fixture server accepts.
#[derive(Debug, Clone)]
pub struct Acceptor {
    pub creds: Credentials,
}

/// The server's NTLM context for one connection (the fixture's).
pub struct ServerAuth {
    prot: Protection,
    creds: Option<sspi::AuthIdentityBuffers>,
    expected_user: String,
    expected_domain: String,
    state: ServerState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    AwaitAuthenticate,
    Established,
    Failed,
}

impl ServerAuth {
    /// Read the client's NEGOTIATE (from a bind) at the level it asked for; return the
    /// context and the CHALLENGE for the bind_ack.
    pub fn accept(
        acceptor: &Acceptor,
        negotiate: &[u8],
        level: Level,
        context_id: u32,
    ) -> Result<(Self, Vec<u8>), AuthError> {
        let (prot, creds) =
            Protection::new(&acceptor.creds, CredentialUse::Inbound, level, context_id)?;
        let mut me = ServerAuth {
            prot,
            creds,
            expected_user: acceptor.creds.user.clone(),
            expected_domain: acceptor.creds.domain.clone(),
            state: ServerState::AwaitAuthenticate,
        };
        let challenge = me.step(negotiate)?;
        Ok((me, challenge))
    }

    fn step(&mut self, input: &[u8]) -> Result<Vec<u8>, AuthError> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        let mut input_bufs = vec![SecurityBuffer::new(input.to_vec(), BufferType::Token)];
        let ntlm = &mut self.prot.ntlm;
        let builder = ntlm
            .accept_security_context()
            .with_credentials_handle(&mut self.creds)
            .with_context_requirements(ServerRequestFlags::ALLOCATE_MEMORY)
            .with_target_data_representation(DataRepresentation::Native)
            .with_input(&mut input_bufs)
            .with_output(&mut output);
        let result = ntlm
            .accept_security_context_impl(builder)
            .map_err(ntlm_err)?
            .resolve_to_result()
            .map_err(ntlm_err)?;
        self.prot.token(result.status, output, |e| {
            AuthError::LogonFailure(format!("{:?}", e.error_type))
        })
    }

    /// Read the AUTHENTICATE token from `rpc_auth3`. On a logon failure the context stays
    /// failed: every later request is refused.
    pub fn authenticate(&mut self, token: &[u8]) -> Result<(), AuthError> {
        if self.state != ServerState::AwaitAuthenticate {
            return Err(AuthError::Ntlm("AUTHENTICATE out of sequence".into()));
        }
        self.state = ServerState::Failed;
        self.step(token)?;
        // sspi checks the proof (MIC) against the password; the account name is ours to check.
        let names = self.prot.ntlm.query_context_names().map_err(ntlm_err)?;
        let (user, domain) = match names.username.parts() {
            sspi::UsernameParts::DownLevelLogonName(p) => (
                p.account_name().to_string(),
                p.netbios_domain().unwrap_or_default().to_string(),
            ),
            sspi::UsernameParts::UserPrincipalName(p) => {
                (p.account_name().to_string(), p.suffix().to_string())
            }
        };
        let same_user = user.eq_ignore_ascii_case(&self.expected_user);
        let same_domain =
            self.expected_domain.is_empty() || domain.eq_ignore_ascii_case(&self.expected_domain);
        if !(same_user && same_domain) {
            return Err(AuthError::LogonFailure("unknown user".into()));
        }
        self.state = ServerState::Established;
        Ok(())
    }

    pub fn established(&self) -> bool {
        self.state == ServerState::Established
    }

    pub fn level(&self) -> Level {
        self.prot.level
    }

    pub fn trailer(&self) -> SecTrailer {
        self.prot.trailer()
    }

    /// Sign or seal one encoded response fragment.
    pub fn protect(&mut self, frame: &mut [u8]) -> Result<(), AuthError> {
        self.prot.protect(frame, "response")
    }

    /// Verify (and unseal) one request fragment in place.
    pub fn unprotect(&mut self, frame: &mut [u8]) -> Result<(), AuthError> {
        self.prot.unprotect(frame, "request")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ndr::ByteOrder;
    use crate::wire::pdu::{
        Body, PFC_FIRST_FRAG, PFC_LAST_FRAG, Pdu, ReplyHead, Request, Response,
    };

    const BOTH: u8 = PFC_FIRST_FRAG | PFC_LAST_FRAG;

    fn creds(pw: &str) -> Credentials {
        Credentials::password("audit", "LAB", pw)
    }

    fn pair(level: Level, client_pw: &str) -> (ClientAuth, Result<ServerAuth, AuthError>) {
        let acceptor = Acceptor {
            creds: creds("Secr3t-pass"),
        };
        let (mut c, negotiate) = ClientAuth::start(&creds(client_pw), level, 0).unwrap();
        let (mut s, challenge) = ServerAuth::accept(&acceptor, &negotiate, level, 0).unwrap();
        let authenticate = c.challenge(&challenge).unwrap();
        let r = s.authenticate(&authenticate).map(|()| s);
        (c, r)
    }

    fn request_frame(c: &ClientAuth, stub: &[u8], order: ByteOrder) -> Vec<u8> {
        let token = [0u8; NTLM_SIGNATURE_LEN];
        Pdu::new(order, 2, BOTH, Body::Request(Request::call(2, stub)))
            .with_auth(c.trailer(), &token)
            .unwrap()
            .encode()
            .unwrap()
    }

    fn response_frame(s: &ServerAuth, stub: &[u8], order: ByteOrder) -> Vec<u8> {
        let token = [0u8; NTLM_SIGNATURE_LEN];
        Pdu::new(order, 2, BOTH, Body::Response(Response::whole(stub)))
            .with_auth(s.trailer(), &token)
            .unwrap()
            .encode()
            .unwrap()
    }

    fn stub_of(frame: &[u8]) -> Vec<u8> {
        match Pdu::decode(frame).unwrap().body {
            Body::Request(r) => r.stub.to_vec(),
            Body::Response(r) => r.stub.to_vec(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_session_key_smb_signs_with_is_the_one_both_ends_hold() {
        let (c0, _) = ClientAuth::start(&creds("Secr3t-pass"), Level::Integrity, 0).unwrap();
        assert!(c0.session_key().is_err(), "no key before the exchange");
        let (c, s) = pair(Level::Integrity, "Secr3t-pass");
        let s = s.unwrap();
        let theirs = s.prot.ntlm.query_context_session_key().unwrap();
        let ours = c.session_key().unwrap();
        assert_eq!(ours.len(), 16);
        assert_eq!(&ours[..], &theirs.session_key.as_ref()[..]);
    }

    #[test]
    fn integrity_and_privacy_round_trip_both_ways_in_both_byte_orders() {
        for level in [Level::Integrity, Level::Privacy] {
            for order in [ByteOrder::Little, ByteOrder::Big] {
                let (mut c, s) = pair(level, "Secr3t-pass");
                let mut s = s.unwrap();
                for k in 0..3u8 {
                    let stub: Vec<u8> = (0..37 + k).collect();
                    let mut req = request_frame(&c, &stub, order);
                    c.protect(&mut req).unwrap();
                    let in_clear = req.windows(stub.len()).any(|w| w == stub);
                    assert_eq!(in_clear, level == Level::Integrity, "{level:?}");
                    s.unprotect(&mut req).unwrap();
                    assert_eq!(stub_of(&req), stub);

                    let mut resp = response_frame(&s, &stub, order);
                    s.protect(&mut resp).unwrap();
                    c.unprotect(&mut resp, "response").unwrap();
                    assert_eq!(stub_of(&resp), stub);
                }
            }
        }
    }

    #[test]
    fn any_altered_byte_is_a_bad_signature() {
        for level in [Level::Integrity, Level::Privacy] {
            let (c, s) = pair(level, "Secr3t-pass");
            let mut s = s.unwrap();
            let stub = b"0123456789abcdef-endpoint-list".to_vec();
            let mut good = response_frame(&s, &stub, ByteOrder::Little);
            s.protect(&mut good).unwrap();
            // Header bytes (call id), the stub, the trailer's context id, the signature.
            for at in [12, 30, good.len() - 20, good.len() - 5] {
                let mut c2 = pair_client_copy(&c);
                let mut bad = good.clone();
                bad[at] ^= 0x01;
                let e = c2.unprotect(&mut bad, "response").unwrap_err();
                assert!(
                    matches!(
                        e,
                        AuthError::BadSignature { .. } | AuthError::BadVerifier { .. }
                    ),
                    "byte {at}: {e}"
                );
            }
        }
    }

    /// A client whose receive state is that of `c` before any response.
    fn pair_client_copy(c: &ClientAuth) -> ClientAuth {
        ClientAuth {
            prot: Protection {
                ntlm: c.prot.ntlm.clone(),
                level: c.prot.level,
                context_id: c.prot.context_id,
            },
            creds: None,
            established: true,
        }
    }

    #[test]
    fn a_replayed_response_is_refused() {
        let (mut c, s) = pair(Level::Integrity, "Secr3t-pass");
        let mut s = s.unwrap();
        let mut resp = response_frame(&s, b"stub", ByteOrder::Little);
        s.protect(&mut resp).unwrap();
        let copy = resp.clone();
        c.unprotect(&mut resp, "response").unwrap();
        let mut again = copy;
        let e = c.unprotect(&mut again, "response").unwrap_err();
        assert!(matches!(e, AuthError::BadSignature { .. }), "{e}");
    }

    #[test]
    fn a_missing_verifier_is_refused_where_calls_are_protected() {
        let (mut c, _) = pair(Level::Integrity, "Secr3t-pass");
        let mut plain = Pdu::new(
            ByteOrder::Little,
            2,
            3,
            Body::Response(Response {
                head: ReplyHead::default(),
                stub: b"data",
            }),
        )
        .encode()
        .unwrap();
        let e = c.unprotect(&mut plain, "response").unwrap_err();
        assert!(e.to_string().contains("without an auth verifier"), "{e}");
    }

    #[test]
    fn a_wrong_password_is_a_logon_failure() {
        let (_, s) = pair(Level::Connect, "wrong");
        assert!(
            matches!(s, Err(AuthError::LogonFailure(_))),
            "{:?}",
            s.err()
        );
    }

    #[test]
    fn an_nt_hash_logs_on_like_its_password() {
        // MD4 of UTF-16LE "Secr3t-pass", computed by the same crate's primitives.
        let acceptor = Acceptor {
            creds: creds("Secr3t-pass"),
        };
        use md4_hash::nt_hash;
        let hash = nt_hash("Secr3t-pass");
        let hex: String = hash.iter().map(|b| format!("{b:02X}")).collect();
        let mut hc = creds("");
        hc.secret = Secret::nt_hash_from_hex(&hex).unwrap();
        let (mut c, negotiate) = ClientAuth::start(&hc, Level::Integrity, 0).unwrap();
        let (mut s, challenge) =
            ServerAuth::accept(&acceptor, &negotiate, Level::Integrity, 0).unwrap();
        let authenticate = c.challenge(&challenge).unwrap();
        s.authenticate(&authenticate).unwrap();
        assert!(s.established());
    }

    mod md4_hash {
        /// The NT hash, through sspi's own hash (it accepts the password or the hash, so
        /// the hash of a password is what the password logs on with).
        pub fn nt_hash(password: &str) -> [u8; 16] {
            use md4::{Digest, Md4};
            let utf16: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
            Md4::digest(&utf16).into()
        }
    }

    #[test]
    fn secrets_never_print() {
        let c = creds("Secr3t-pass");
        let text = format!("{c:?} {}", Redacted::new(String::from("Secr3t-pass")));
        assert!(!text.contains("Secr3t"), "{text}");
        assert!(text.contains("<redacted>"));
        let h = Secret::nt_hash_from_hex("8846F7EAEE8FB117AD06BDD830B7586C").unwrap();
        let text = format!("{h:?}");
        assert!(!text.to_lowercase().contains("8846f7"), "{text}");
        let e = Secret::nt_hash_from_hex("8846F7EAEE8FB117AD06BDD830B7586")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("8846"), "{e}");
    }

    #[test]
    fn user_forms() {
        let p = |u: &str, d: Option<&str>| Credentials::parse_user(u, d);
        assert_eq!(
            p("LAB\\audit", None).unwrap(),
            ("audit".into(), "LAB".into())
        );
        assert_eq!(
            p("audit@lab.example", None).unwrap(),
            ("audit".into(), "lab.example".into())
        );
        assert_eq!(
            p("audit", Some("LAB")).unwrap(),
            ("audit".into(), "LAB".into())
        );
        assert_eq!(p("audit", None).unwrap(), ("audit".into(), String::new()));
        assert!(p("LAB\\audit", Some("X")).is_err());
        assert!(p("", None).is_err());
        assert!(p("LAB\\", None).is_err());
        assert!(p("a\\b\\c", None).is_err());
    }
}
