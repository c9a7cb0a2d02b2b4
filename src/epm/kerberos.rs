//! Kerberos under DCE/RPC (issue 26): the client's Kerberos context for one bind, through
//! Devolutions' `sspi` (AS, TGS and AP exchanges, keys, GSS_WrapEx; no cryptography is
//! written here), with the traffic to the KDC carried by [`Kdc`]: our own TCP client, bound by
//! deadlines and caps, that talks to the one KDC the run was given and to nothing else.
//!
//! Where it sits: `epm::client` binds with `auth_type` 16 (`RPC_C_AUTHN_GSS_KERBEROS`) in the
//! DCE style of MS-KILE 3.4.5 / MS-RPCE 3.3.1.5.2: the AP-REQ travels in the bind, the server's
//! AP-REP in the bind_ack, and the client's own AP-REP in `rpc_auth3` (the third leg). At
//! privacy every fragment is sealed with sspi's GSS_WrapEx over the same buffers NTLM uses
//! (header and trailer signed, stub sealed in place; `epm::auth::buffers`).
//!
//! Cost: one TGT per run. sspi runs the AS exchange inside every new context; [`Kdc`]
//! sends the first context's AS exchange to the KDC and answers the later contexts' AS
//! requests with the replies it kept (the TGT and its session key, sealed in the user's key:
//! sspi still derives the key and opens them each time, as it would from a credential cache).
//! Every context asks the KDC for its own service ticket (TGS). A KDC that refuses the
//! credentials (`KDC_ERR_PREAUTH_FAILED`, ...) is asked once: the refusal is kept, and every
//! later context fails at once without a packet.
//!
//! At the integrity level every fragment carries a MIC token instead (GSS_GetMIC,
//! `epm::krb_mic`): sspi 0.23's Kerberos signs only by sealing (`make_signature` is
//! unsupported), so the token is framed there and checksummed by picky-krb with the key of the
//! context sspi exposes.

use super::auth::{AuthError, Credentials, Level, Secret, buffers, verifier};
use super::krb_key::{self, LongTermKey};
use super::krb_mic::{MIC_LEN, Mic, MicError, Role};
use crate::wire::auth::{SecTrailer, auth_type};
use crate::wire::pdu::AuthLayout;
use picky_krb::constants::gss_api::ACCEPT_COMPLETE;
use picky_krb::crypto::CipherSuite;
use picky_krb::gss_api::NegTokenTarg1;
use sspi::generator::GeneratorState;
use sspi::{
    AuthIdentity, BufferType, ClientRequestFlags, CredentialUse, DataRepresentation,
    EncryptionFlags, Kerberos, KerberosConfig, KeytabIdentity, Negotiate, NegotiateConfig,
    SecurityBuffer, SecurityBufferRef, SecurityStatus, Sspi, SspiImpl, Username,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use zeroize::Zeroizing;

/// Largest KDC reply read (a TGS-REP with a large PAC stays well below this).
pub const MAX_KDC_REPLY: usize = 256 * 1024;
/// KDC requests one context may make (AS twice, a clock-skew retry, TGS).
const MAX_KDC_REQUESTS_PER_CONTEXT: usize = 6;
/// How long a TGT kept by [`Kdc`] is reused before a new AS exchange (Active Directory's
/// default ticket lifetime is 10 hours; a run that lasts longer asks again).
const TGT_REUSE: Duration = Duration::from_secs(8 * 3600);
/// Service tickets kept per run at most (one per host name; beyond it, tickets are asked for
/// and not kept, so memory stays bounded over an estate).
const MAX_KEPT_TICKETS: usize = 4096;

/// The default KDC port (RFC 4120 7.2.3).
pub const KDC_PORT: u16 = 88;

/// KRB-ERROR codes that mean the KDC refused the account or its secret (RFC 4120 7.5.9).
const KDC_ERR_C_PRINCIPAL_UNKNOWN: u32 = 6;
const KDC_ERR_CLIENT_REVOKED: u32 = 18;
const KDC_ERR_KEY_EXPIRED: u32 = 23;
const KDC_ERR_PREAUTH_FAILED: u32 = 24;

/// What a KDC refusal is called in messages.
fn kdc_error_name(code: u32) -> &'static str {
    match code {
        KDC_ERR_C_PRINCIPAL_UNKNOWN => "KDC_ERR_C_PRINCIPAL_UNKNOWN: no such account",
        KDC_ERR_CLIENT_REVOKED => "KDC_ERR_CLIENT_REVOKED: the account is disabled or locked out",
        KDC_ERR_KEY_EXPIRED => "KDC_ERR_KEY_EXPIRED: the password has expired",
        KDC_ERR_PREAUTH_FAILED => "KDC_ERR_PREAUTH_FAILED: wrong password",
        _ => "KDC error",
    }
}

/// The run's Kerberos settings and state: the realm, the one KDC, the kept AS exchange, the
/// refusal if there was one, and a count of the requests actually sent.
#[derive(Debug)]
pub struct Kdc {
    realm: String,
    addr: SocketAddr,
    /// Bound on one exchange with the KDC (connect, send, read the reply).
    step_timeout: Duration,
    sent: AtomicUsize,
    as_state: tokio::sync::Mutex<AsState>,
    /// The password's key, derived once from the kept AS exchange (`epm::krb_key`), for the
    /// user it was derived for.
    derived: std::sync::Mutex<Option<(String, Arc<LongTermKey>)>>,
    /// One lock per service principal asked for (at most [`MAX_KEPT_TICKETS`]).
    ticket_locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Default)]
enum AsState {
    #[default]
    Empty,
    /// The replies of the first AS exchange: the KRB-ERROR asking for pre-authentication (with
    /// the salt), and the AS-REP; kept until `until`.
    Kept {
        preauth_required: Vec<u8>,
        as_rep: Vec<u8>,
        until: Instant,
        /// The TGS-REPs got with this TGT, by the service principal they are for: a host
        /// named again in the run (several addresses, or `--target-name`) reuses its ticket,
        /// as a credential cache does. Encrypted in the TGT's session key (RFC 4120 key usage
        /// 8), they open for every context that holds this TGT.
        tickets: HashMap<String, Vec<u8>>,
    },
    /// The KDC refused the credentials (the error code).
    Refused(u32),
}

/// Shows the state, never the kept replies (a TGT is a secret of this run).
impl std::fmt::Debug for AsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AsState::Empty => f.write_str("Empty"),
            AsState::Kept { .. } => f.write_str("Kept { tgt: <redacted> }"),
            AsState::Refused(code) => f.debug_tuple("Refused").field(code).finish(),
        }
    }
}

/// Why the KDC could not be used. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KdcError {
    #[error("KDC {addr}: {detail}")]
    Io { addr: SocketAddr, detail: String },
    #[error("KDC {addr}: no reply within {0:?}", .timeout)]
    Timeout { addr: SocketAddr, timeout: Duration },
    #[error("KDC {addr}: a reply of {len} bytes is larger than the {MAX_KDC_REPLY} allowed")]
    TooLarge { addr: SocketAddr, len: usize },
    #[error(
        "sspi asked to reach a KDC at {asked}, not the one configured ({addr}); only the run's KDC is contacted (cross-realm referrals are not followed)"
    )]
    Elsewhere { addr: SocketAddr, asked: String },
    #[error("only TCP is used to reach the KDC; sspi asked for {0}")]
    Protocol(String),
    #[error("more than {MAX_KDC_REQUESTS_PER_CONTEXT} KDC requests for one bind")]
    TooMany,
}

impl Kdc {
    /// The run's KDC for `realm` (upper-cased, as Active Directory writes realms) at `addr`.
    pub fn new(realm: &str, addr: SocketAddr, step_timeout: Duration) -> Self {
        Kdc {
            realm: realm.to_ascii_uppercase(),
            addr,
            step_timeout,
            sent: AtomicUsize::new(0),
            derived: std::sync::Mutex::new(None),
            ticket_locks: std::sync::Mutex::new(HashMap::new()),
            as_state: tokio::sync::Mutex::new(AsState::Empty),
        }
    }

    /// The long-term key of `creds`' password, derived once from the kept AS exchange and
    /// checked against it (later contexts give it to sspi instead of the password, skipping
    /// its string-to-key); `None` before the first TGT, or when no key derived here opens it.
    async fn password_key(&self, creds: &Credentials) -> Option<Arc<LongTermKey>> {
        let Secret::Password(password) = &creds.secret else {
            return None;
        };
        let derived = || {
            let d = self.derived.lock().ok()?;
            let (user, key) = d.as_ref()?;
            (*user == creds.user).then(|| key.clone())
        };
        if let Some(key) = derived() {
            return Some(key);
        }
        // Under the AS state's lock: hosts starting at once derive it once between them.
        let state = self.as_state.lock().await;
        if let Some(key) = derived() {
            return Some(key);
        }
        let (as_rep, preauth) = match &*state {
            AsState::Kept {
                preauth_required,
                as_rep,
                until,
                ..
            } if Instant::now() < *until => (as_rep, preauth_required),
            _ => return None,
        };
        let key = Arc::new(krb_key::from_password(
            as_rep.get(4..)?,
            preauth.get(4..),
            password.expose(),
        )?);
        tracing::debug!(
            kdc = %self.addr,
            "the password's key derived once for this run (later tickets skip the derivation)"
        );
        if let Ok(mut d) = self.derived.lock() {
            *d = Some((creds.user.clone(), key.clone()));
        }
        Some(key)
    }

    /// The lock of the TGS requests for `service`; `None` past [`MAX_KEPT_TICKETS`] names
    /// (such a request goes unserialized, and its ticket is not kept).
    fn ticket_lock(&self, service: &str) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let mut locks = self.ticket_locks.lock().ok()?;
        if let Some(l) = locks.get(service) {
            return Some(l.clone());
        }
        if locks.len() >= MAX_KEPT_TICKETS {
            return None;
        }
        let l = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(service.to_string(), l.clone());
        Some(l)
    }

    /// How reports name `creds`' principal in this realm: `user@REALM`.
    pub fn principal(&self, creds: &Credentials) -> String {
        format!("{}@{}", creds.user, self.realm)
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests sent to the KDC so far in this run (AS and TGS).
    pub fn requests_sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// The KDC's refusal of the credentials, when it refused them earlier in the run.
    pub fn refused(&self) -> Option<String> {
        match self.as_state.try_lock().ok().as_deref() {
            Some(AsState::Refused(code)) => Some(kdc_error_name(*code).to_string()),
            _ => None,
        }
    }

    /// One request and its reply over TCP (RFC 4120 7.2.2: a 4-byte big-endian length before
    /// each message), within the step bound. `request` already carries its length.
    async fn exchange(&self, request: &[u8]) -> Result<Vec<u8>, KdcError> {
        let by = Instant::now() + self.step_timeout;
        let addr = self.addr;
        let io = |e: std::io::Error| KdcError::Io {
            addr,
            detail: e.to_string(),
        };
        let work = async {
            let mut s = TcpStream::connect(addr).await.map_err(io)?;
            self.sent.fetch_add(1, Ordering::Relaxed);
            s.write_all(request).await.map_err(io)?;
            let mut len = [0u8; 4];
            s.read_exact(&mut len).await.map_err(io)?;
            let n = u32::from_be_bytes(len) as usize;
            if n > MAX_KDC_REPLY {
                return Err(KdcError::TooLarge { addr, len: n });
            }
            let mut reply = Vec::with_capacity(4 + n);
            reply.extend_from_slice(&len);
            reply.resize(4 + n, 0);
            s.read_exact(&mut reply[4..]).await.map_err(io)?;
            Ok(reply)
        };
        match timeout_at(by, work).await {
            Ok(r) => r,
            Err(_) => Err(KdcError::Timeout {
                addr,
                timeout: self.step_timeout,
            }),
        }
    }
}

/// The ASN.1 application tag that starts a Kerberos message (after the TCP length).
fn message_tag(framed: &[u8]) -> Option<u8> {
    framed.get(4).copied()
}
const TAG_AS_REQ: u8 = 0x6a;
const TAG_AS_REP: u8 = 0x6b;
const TAG_KRB_ERROR: u8 = 0x7e;
const TAG_TGS_REQ: u8 = 0x6c;
const TAG_TGS_REP: u8 = 0x6d;

/// The error code of a framed KRB-ERROR, read with picky-krb's decoder.
fn krb_error_code(framed: &[u8]) -> Option<u32> {
    let body = framed.get(4..)?;
    let e: picky_krb::messages::KrbError = picky_asn1_der::from_bytes(body).ok()?;
    Some(e.0.error_code.0)
}

/// The service principal a framed TGS-REQ asks a ticket for (`name/parts@REALM`), read with
/// picky-krb's decoder; `None` when it does not read.
fn tgs_service(framed: &[u8]) -> Option<String> {
    let req: picky_krb::messages::TgsReq = picky_asn1_der::from_bytes(framed.get(4..)?).ok()?;
    let body = &req.0.req_body.0;
    let sname = body.sname.0.as_ref()?;
    let parts: Vec<String> = sname
        .0
        .name_string
        .0
        .0
        .iter()
        .map(|p| p.to_string())
        .collect();
    Some(format!("{}@{}", parts.join("/"), body.realm.0.0.as_utf8()))
}

/// One context's view of the KDC: the run's [`Kdc`], the AS requests this context made, and
/// the run's AS lock while this context is the one asking the KDC for the TGT.
struct KdcSession<'k> {
    kdc: &'k Kdc,
    as_seen: usize,
    requests: usize,
    /// Held from the first AS request sent to the KDC to its end, so concurrent hosts wait for
    /// the one TGT instead of each asking.
    asking: Option<tokio::sync::MutexGuard<'k, AsState>>,
    /// The first reply of an AS exchange this context is making itself.
    preauth_required: Option<Vec<u8>>,
}

impl<'k> KdcSession<'k> {
    fn new(kdc: &'k Kdc) -> Self {
        KdcSession {
            kdc,
            as_seen: 0,
            requests: 0,
            asking: None,
            preauth_required: None,
        }
    }

    /// A TGS request: the ticket kept for its service principal with this run's TGT, or the
    /// KDC's answer, kept when it is a ticket. One request at a time per service principal
    /// (hosts of one name starting at once ask once); other names go on in parallel.
    async fn ticket(&mut self, data: &[u8]) -> Result<Vec<u8>, AuthError> {
        let Some(service) = tgs_service(data) else {
            return self.kdc.exchange(data).await.map_err(kdc_err);
        };
        let name_lock = self.kdc.ticket_lock(&service);
        let _asking = match &name_lock {
            Some(l) => Some(l.lock().await),
            None => None,
        };
        if let AsState::Kept { tickets, until, .. } = &*self.kdc.as_state.lock().await
            && Instant::now() < *until
            && let Some(reply) = tickets.get(&service)
        {
            tracing::debug!(kdc = %self.kdc.addr, "service ticket reused from this run");
            return Ok(reply.clone());
        }
        let reply = self.kdc.exchange(data).await.map_err(kdc_err)?;
        if message_tag(&reply) == Some(TAG_TGS_REP)
            && let AsState::Kept { tickets, .. } = &mut *self.kdc.as_state.lock().await
            && tickets.len() < MAX_KEPT_TICKETS
        {
            tickets.insert(service, reply.clone());
        }
        Ok(reply)
    }

    /// Answer one request sspi made: from the kept AS exchange, or from the KDC.
    async fn answer(
        &mut self,
        req: &sspi::generator::NetworkRequest,
    ) -> Result<Vec<u8>, AuthError> {
        use sspi::network_client::NetworkProtocol;
        if req.protocol != NetworkProtocol::Tcp {
            return Err(kdc_err(KdcError::Protocol(format!("{:?}", req.protocol))));
        }
        let host = req.url.host_str().unwrap_or_default();
        let port = req.url.port().unwrap_or(KDC_PORT);
        self.answer_tcp(host, port, &req.data).await
    }

    /// [`KdcSession::answer`] for a TCP request to `host`:`port`, which must be the run's KDC.
    async fn answer_tcp(
        &mut self,
        host: &str,
        port: u16,
        data: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        let ours = self.kdc.addr;
        let same = host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip == ours.ip() && port == ours.port());
        if !same {
            return Err(kdc_err(KdcError::Elsewhere {
                addr: ours,
                asked: crate::inert::field(&format!("{host}:{port}")).into_owned(),
            }));
        }
        self.requests += 1;
        if self.requests > MAX_KDC_REQUESTS_PER_CONTEXT {
            return Err(kdc_err(KdcError::TooMany));
        }
        if message_tag(data) == Some(TAG_TGS_REQ) && self.asking.is_none() {
            return self.ticket(data).await;
        }
        if message_tag(data) != Some(TAG_AS_REQ) {
            return self.kdc.exchange(data).await.map_err(kdc_err);
        }
        self.as_seen += 1;
        if self.asking.is_none() {
            let state = self.kdc.as_state.lock().await;
            match &*state {
                AsState::Refused(code) => return Err(refusal(*code, false)),
                AsState::Kept {
                    preauth_required,
                    as_rep,
                    until,
                    ..
                } if Instant::now() < *until => {
                    // sspi's AS exchange: first without pre-authentication (answered with the
                    // KRB-ERROR that carries the salt), then with it (the AS-REP).
                    return Ok(if self.as_seen == 1 {
                        preauth_required.clone()
                    } else {
                        as_rep.clone()
                    });
                }
                _ => self.asking = Some(state),
            }
        }
        let reply = self.kdc.exchange(data).await.map_err(kdc_err)?;
        match message_tag(&reply) {
            Some(TAG_KRB_ERROR) => {
                let code = krb_error_code(&reply);
                match code {
                    Some(
                        c @ (KDC_ERR_C_PRINCIPAL_UNKNOWN
                        | KDC_ERR_CLIENT_REVOKED
                        | KDC_ERR_KEY_EXPIRED
                        | KDC_ERR_PREAUTH_FAILED),
                    ) => {
                        if let Some(mut s) = self.asking.take() {
                            *s = AsState::Refused(c);
                        }
                        tracing::warn!(
                            kdc = %self.kdc.addr,
                            "the KDC refused the credentials ({}): they are not sent again in this run",
                            kdc_error_name(c)
                        );
                        return Err(refusal(c, true));
                    }
                    _ if self.preauth_required.is_none() => {
                        self.preauth_required = Some(reply.clone());
                    }
                    _ => {}
                }
            }
            Some(TAG_AS_REP) => {
                if let (Some(mut s), Some(first)) =
                    (self.asking.take(), self.preauth_required.take())
                {
                    *s = AsState::Kept {
                        preauth_required: first,
                        as_rep: reply.clone(),
                        until: Instant::now() + TGT_REUSE,
                        tickets: HashMap::new(),
                    };
                    tracing::debug!(kdc = %self.kdc.addr, "TGT obtained; kept for this run");
                }
            }
            _ => {}
        }
        Ok(reply)
    }
}

fn kdc_err(e: KdcError) -> AuthError {
    AuthError::Kerberos(e.to_string())
}

/// A refusal of the credentials: the KDC's answer now (`now`: a logon failure, counted), or
/// one kept from earlier (withheld: nothing was sent, so nothing is counted).
fn refusal(code: u32, now: bool) -> AuthError {
    if now {
        AuthError::LogonFailure(kdc_error_name(code).to_string())
    } else {
        AuthError::Withheld(format!(
            "not sent: the KDC refused the credentials earlier in this run ({})",
            kdc_error_name(code)
        ))
    }
}

fn krb_err(e: sspi::Error) -> AuthError {
    AuthError::Kerberos(format!("{:?}: {}", e.error_type, e.description))
}

/// The service principal name of the endpoint mapper on the host called `name`: `host/NAME`
/// (the `host` service class every Windows computer account registers, RFC 4120 6.2.1
/// NT-SRV-HST form `service/hostname`), or `name` itself when it already names a service.
pub fn spn_for(name: &str) -> String {
    if name.contains('/') {
        name.to_string()
    } else {
        format!("host/{}", name.trim_end_matches('.').to_ascii_lowercase())
    }
}

/// Whether `token` is a SPNEGO NegTokenResp (RFC 4178 4.2.2) that says accept-completed and
/// carries neither a mechanism token nor a mechListMIC.
fn accept_completed_without_mic(token: &[u8]) -> bool {
    let Ok(targ) = picky_asn1_der::from_bytes::<NegTokenTarg1>(token) else {
        return false;
    };
    let targ = targ.0;
    let completed = targ
        .neg_result
        .0
        .as_ref()
        .is_some_and(|r| r.0.0 == ACCEPT_COMPLETE);
    completed && targ.mech_list_mic.0.is_none() && targ.response_token.0.is_none()
}

/// The sspi package of a context: Kerberos itself (`auth_type` 16), or Kerberos inside SPNEGO
/// (Negotiate, `auth_type` 9, with NTLM switched off in its package list).
enum Pkg {
    Kerberos(Box<Kerberos>),
    Negotiate(Box<Negotiate>),
}

/// `body` with `$p` bound to the package, whichever it is.
macro_rules! on_pkg {
    ($pkg:expr, $p:ident => $body:expr) => {
        match $pkg {
            Pkg::Kerberos($p) => $body,
            Pkg::Negotiate($p) => $body,
        }
    };
}

/// The client's Kerberos context for one connection.
pub struct KrbAuth {
    pkg: Pkg,
    creds: Option<sspi::CredentialsBuffers>,
    level: Level,
    context_id: u32,
    spn: String,
    established: bool,
    /// At the integrity level, the MICs of this context (made when it is complete).
    mic: Option<Mic>,
    /// The DCE style of RPC binds (three legs, tokens without the GSS-API framing, MS-KILE
    /// 3.4.5.1), or plain GSS-API as an SMB session setup carries it (AP-REQ, AP-REP).
    dce: bool,
}

impl std::fmt::Debug for KrbAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KrbAuth")
            .field("level", &self.level)
            .field("spn", &self.spn)
            .field("established", &self.established)
            .finish_non_exhaustive()
    }
}

/// sspi's credentials for a long-term key of `enctype` (an AES one), used as it is.
fn key_credentials(
    principal: Username,
    enctype: u16,
    key: Vec<u8>,
) -> Result<sspi::Credentials, AuthError> {
    let key_enctype = CipherSuite::try_from(usize::from(enctype))
        .map_err(|_| AuthError::Kerberos(format!("a key of enctype {enctype}, not AES")))?;
    Ok(sspi::Credentials::Keytab(KeytabIdentity {
        principal,
        key: key.into(),
        key_enctype,
    }))
}

/// The sspi flags for a level: mutual authentication always, the DCE style for RPC binds;
/// integrity and confidentiality where calls are protected.
fn flags(level: Level, dce: bool) -> ClientRequestFlags {
    let mut base = ClientRequestFlags::ALLOCATE_MEMORY
        | ClientRequestFlags::MUTUAL_AUTH
        | ClientRequestFlags::REPLAY_DETECT
        | ClientRequestFlags::SEQUENCE_DETECT;
    if dce {
        base |= ClientRequestFlags::USE_DCE_STYLE;
    }
    match level {
        Level::Connect => base,
        Level::Integrity => base | ClientRequestFlags::INTEGRITY,
        Level::Privacy => {
            base | ClientRequestFlags::INTEGRITY | ClientRequestFlags::CONFIDENTIALITY
        }
    }
}

impl KrbAuth {
    /// Start Kerberos for `creds` towards `spn` at `level`: the context and the AP-REQ for the
    /// bind, after the TGT (kept or asked for) and the service ticket (asked for).
    /// With `spnego`, Kerberos inside SPNEGO (`auth_type` 9) and the NegTokenInit.
    pub async fn start(
        kdc: &Kdc,
        creds: &Credentials,
        spn: &str,
        level: Level,
        context_id: u32,
        spnego: bool,
    ) -> Result<(Self, Vec<u8>), AuthError> {
        Self::start_styled(kdc, creds, spn, level, context_id, spnego, true).await
    }

    /// Start Kerberos for an SMB session setup (MS-SMB2 3.2.5.3.1 takes the GSS-API token as
    /// it is): the AP-REQ in its GSS-API framing (RFC 4121 4.1), mutual authentication, no DCE
    /// style; the server's AP-REP completes it ([`KrbAuth::next`]) and
    /// [`KrbAuth::session_key`] is then the session's key.
    pub async fn start_for_smb(
        kdc: &Kdc,
        creds: &Credentials,
        spn: &str,
    ) -> Result<(Self, Vec<u8>), AuthError> {
        Self::start_styled(kdc, creds, spn, Level::Integrity, 0, false, false).await
    }

    /// The key both sides hold once the context is complete (sspi's
    /// `query_context_session_key`: the acceptor's subkey when the AP-REP carries one). Never
    /// shown; zeroed on drop.
    pub fn session_key(&self) -> Result<Zeroizing<Vec<u8>>, AuthError> {
        if !self.established {
            return Err(AuthError::Kerberos(
                "no session key before the context is complete".into(),
            ));
        }
        let keys = on_pkg!(&self.pkg, p => p.query_context_session_key()).map_err(krb_err)?;
        Ok(Zeroizing::new(keys.session_key.as_ref().to_vec()))
    }

    async fn start_styled(
        kdc: &Kdc,
        creds: &Credentials,
        spn: &str,
        level: Level,
        context_id: u32,
        spnego: bool,
        dce: bool,
    ) -> Result<(Self, Vec<u8>), AuthError> {
        if let Secret::NtHash(_) = &creds.secret {
            return Err(AuthError::Kerberos(
                "Kerberos with an NT hash (RC4 key) is not supported: give the password or --keytab"
                    .into(),
            ));
        }
        let config = KerberosConfig::new_with_kdc_url(
            &format!("tcp://{}", kdc.addr),
            "RPCAUDIT".to_string(),
        );
        let mut pkg = if spnego {
            let n = Negotiate::new_client(NegotiateConfig::new(
                Box::new(config),
                Some("kerberos".to_string()),
                "RPCAUDIT".to_string(),
            ))
            .map_err(krb_err)?;
            Pkg::Negotiate(Box::new(n))
        } else {
            Pkg::Kerberos(Box::new(
                Kerberos::new_client_from_config(config).map_err(krb_err)?,
            ))
        };
        // The realm is the principal's domain for sspi: name@REALM.
        let username = Username::new(&creds.user, Some(kdc.realm()))
            .map_err(|e| AuthError::Kerberos(format!("user name: {e}")))?;
        let auth_data: sspi::Credentials = match &creds.secret {
            // The key itself (from a keytab): sspi skips the derivation from a password.
            Secret::KerberosKey { enctype, key } => {
                key_credentials(username, *enctype, key.expose().to_vec())?
            }
            Secret::Password(password) => match kdc.password_key(creds).await {
                // The key derived once this run: sspi skips PBKDF2 for this context too.
                Some(k) => key_credentials(username, u16::from(k.enctype), k.key.to_vec())?,
                None => AuthIdentity {
                    username,
                    password: password.expose().clone().into(),
                }
                .into(),
            },
            Secret::NtHash(_) => {
                return Err(AuthError::Kerberos(
                    "an NT hash is not a Kerberos key".into(),
                ));
            }
        };
        let handle = on_pkg!(&mut pkg, p => {
            let p = p.as_mut();
            p.acquire_credentials_handle()
                .with_credential_use(CredentialUse::Outbound)
                .with_auth_data(&auth_data)
                .execute(p)
                .map_err(krb_err)?
                .credentials_handle
        });
        drop(auth_data);
        let mut me = KrbAuth {
            pkg,
            creds: handle,
            level,
            context_id,
            spn: spn.to_string(),
            established: false,
            mic: None,
            dce,
        };
        let mut session = KdcSession::new(kdc);
        let (token, _) = me.step(None, &mut session).await?;
        Ok((me, token))
    }

    /// One leg: run sspi's state machine, answering each KDC request it makes through
    /// `session`; the token it produced, and whether the context is complete.
    async fn step(
        &mut self,
        input: Option<&[u8]>,
        session: &mut KdcSession<'_>,
    ) -> Result<(Vec<u8>, bool), AuthError> {
        let mut output = vec![SecurityBuffer::new(Vec::new(), BufferType::Token)];
        // sspi reads an input buffer on the first leg too (empty: nothing from the server yet).
        let mut input_bufs = vec![SecurityBuffer::new(
            input.unwrap_or_default().to_vec(),
            BufferType::Token,
        )];
        let spn = self.spn.clone();
        let flags = flags(self.level, self.dce);
        let creds = &mut self.creds;
        let result = on_pkg!(&mut self.pkg, p => {
            let p = p.as_mut();
            let mut builder = p
                .initialize_security_context()
                .with_credentials_handle(creds)
                .with_context_requirements(flags)
                .with_target_data_representation(DataRepresentation::Native)
                .with_target_name(&spn)
                .with_output(&mut output)
                .with_input(&mut input_bufs);
            let mut generator = p
                .initialize_security_context_impl(&mut builder)
                .map_err(krb_err)?;
            let mut state = generator.start();
            loop {
                match state {
                    GeneratorState::Suspended(request) => {
                        // A refusal or transport failure ends the exchange here, with our
                        // error (sspi's would only repeat it less clearly).
                        let reply = session.answer(&request).await?;
                        state = generator.resume(Ok(reply));
                    }
                    GeneratorState::Completed(r) => break r,
                }
            }
        });
        let result = result.map_err(krb_err)?;
        let complete = result.status == SecurityStatus::Ok;
        if complete {
            self.established = true;
        }
        let token = output
            .into_iter()
            .next()
            .map(|b| b.buffer)
            .unwrap_or_default();
        Ok((token, complete))
    }

    /// Read the server's token (the AP-REP, or SPNEGO's answer around it, from the bind_ack or
    /// an alter_context_resp) and return the client's next token (its AP-REP in the DCE style,
    /// MS-KILE 3.4.5.1) and whether the context is complete.
    pub async fn next(&mut self, kdc: &Kdc, token: &[u8]) -> Result<(Vec<u8>, bool), AuthError> {
        if self.established {
            return Err(AuthError::Kerberos(
                "a token after the context was complete".into(),
            ));
        }
        let mut session = KdcSession::new(kdc);
        let (out, mut complete) = self.step(Some(token), &mut session).await?;
        if !complete && out.is_empty() && self.spnego_done_without_mic(token) {
            // SPNEGO at the connect level: sspi has checked the AP-REP (its Kerberos context is
            // complete, which is why it sent its mechListMIC) and now waits for the acceptor's
            // mechListMIC. Samba's last NegTokenResp is accept-completed without one: RFC 4178
            // 5 makes the MICs optional when the mechanism chosen is the initiator's first
            // (Kerberos is the only one offered, so no list could have been downgraded), and
            // at connect nothing later is signed that the MIC's key would protect. The
            // acceptor has said the exchange is over: it is.
            tracing::debug!("SPNEGO: accept-completed without a mechListMIC at connect");
            self.established = true;
            complete = true;
        }
        if complete && self.level == Level::Integrity {
            self.mic = Some(self.start_mic()?);
        }
        Ok((out, complete))
    }

    /// Whether `token` is SPNEGO's final answer, accept-completed without a mechListMIC, to a
    /// Negotiate context at the connect level (the one case [`KrbAuth::next`] completes
    /// itself).
    fn spnego_done_without_mic(&self, token: &[u8]) -> bool {
        matches!(self.pkg, Pkg::Negotiate(_))
            && self.level == Level::Connect
            && accept_completed_without_mic(token)
    }

    /// The MIC state of a complete context at the integrity level: sspi's key of the context
    /// (`query_context_session_key`: the acceptor's subkey from the AP-REP, RFC 4121 4.2.2
    /// AcceptorSubkey) and the initiator's next sequence number. sspi keeps that number to
    /// itself; one wrap token made and thrown away shows it in the clear header (RFC 4121
    /// 4.2.6.2, bytes 8 to 15), which is what its own next token would have carried.
    fn start_mic(&mut self) -> Result<Mic, AuthError> {
        let keys = on_pkg!(&self.pkg, p => p.query_context_session_key()).map_err(krb_err)?;
        let len = self.wrap_len()?;
        let mut token = Zeroizing::new(vec![0u8; len]);
        let mut data = Zeroizing::new(vec![0u8; 16]);
        {
            let mut bufs = vec![
                SecurityBufferRef::token_buf(token.as_mut_slice()),
                SecurityBufferRef::data_buf(data.as_mut_slice()),
            ];
            on_pkg!(&mut self.pkg, p => p.encrypt_message(EncryptionFlags::empty(), &mut bufs))
                .map_err(krb_err)?;
        }
        let seq = match token.get(..16) {
            Some(h) if h[..2] == [0x05, 0x04] => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&h[8..16]);
                u64::from_be_bytes(b)
            }
            _ => {
                return Err(AuthError::Kerberos(
                    "sspi's wrap token has no RFC 4121 header: the sequence number is unknown"
                        .into(),
                ));
            }
        };
        Mic::new(keys.session_key.as_ref(), Role::Initiator, true, seq)
            .map_err(|e| AuthError::Kerberos(format!("integrity: {e}")))
    }

    /// The length of sspi's wrap token (header and trailer, MS-KILE 3.4.5.4.1).
    fn wrap_len(&mut self) -> Result<usize, AuthError> {
        let sizes = on_pkg!(&mut self.pkg, p => p.query_context_sizes()).map_err(krb_err)?;
        Ok(sizes.security_trailer as usize)
    }

    /// `auth_type` on the wire: 16 (Kerberos) or 9 (SPNEGO).
    pub fn auth_type(&self) -> u8 {
        match self.pkg {
            Pkg::Kerberos(_) => auth_type::GSS_KERBEROS,
            Pkg::Negotiate(_) => auth_type::GSS_NEGOTIATE,
        }
    }

    /// The mechanism as the report names it.
    pub fn mechanism(&self) -> &'static str {
        match self.pkg {
            Pkg::Kerberos(_) => "kerberos",
            Pkg::Negotiate(_) => "negotiate",
        }
    }

    pub fn level(&self) -> Level {
        self.level
    }

    pub fn trailer(&self) -> SecTrailer {
        SecTrailer::new(self.auth_type(), self.level.wire(), self.context_id)
    }

    /// The length of the verifier a protected fragment carries: at privacy the GSS wrap
    /// token's header and trailer (60 bytes and the extra count, MS-KILE 3.4.5.4.1), at
    /// integrity a MIC token (28 bytes with an AES key, RFC 4121 4.2.6.1).
    pub fn token_len(&mut self) -> Result<usize, AuthError> {
        if self.level == Level::Integrity {
            return Ok(MIC_LEN);
        }
        self.wrap_len()
    }

    /// The MIC state, which a complete context at the integrity level has.
    fn mic(&mut self, what: &'static str) -> Result<&mut Mic, AuthError> {
        self.mic.as_mut().ok_or(AuthError::BadVerifier {
            what,
            detail: "the Kerberos context is not complete".into(),
        })
    }

    /// Seal one encoded request fragment in place (built with [`KrbAuth::trailer`] and a token
    /// of [`KrbAuth::token_len`] zero bytes).
    pub fn protect(&mut self, frame: &mut [u8]) -> Result<(), AuthError> {
        let what = "request";
        let l = verifier(frame, what)?.ok_or(AuthError::Missing {
            what,
            level: self.level,
        })?;
        let want = self.token_len()?;
        if l.token.len() != want {
            return Err(AuthError::BadVerifier {
                what,
                detail: format!("token of {} bytes, not {want}", l.token.len()),
            });
        }
        if self.level == Level::Integrity {
            // GSS_GetMIC over the whole fragment up to the token (header signing).
            let token = self
                .mic(what)?
                .sign(&frame[l.signed()])
                .map_err(|e| AuthError::Kerberos(format!("integrity: {e}")))?;
            frame[l.token.clone()].copy_from_slice(&token);
            return Ok(());
        }
        let mut bufs = buffers(frame, &l, true);
        on_pkg!(&mut self.pkg, p => p.encrypt_message(EncryptionFlags::empty(), &mut bufs))
            .map_err(krb_err)?;
        Ok(())
    }

    /// Check and unseal one received fragment in place. Faults pass without a verifier (they
    /// carry no data and are errors anyway); at the connect level no verifier is expected.
    pub fn unprotect(&mut self, frame: &mut [u8], what: &'static str) -> Result<(), AuthError> {
        let Some(l) = verifier(frame, what)? else {
            if !self.level.protects_calls() || what == "fault" {
                return Ok(());
            }
            return Err(AuthError::Missing {
                what,
                level: self.level,
            });
        };
        self.check_trailer(&l, what)?;
        if !self.level.protects_calls() {
            return Ok(());
        }
        if self.level == Level::Integrity {
            let (signed, token) = (&frame[l.signed()], &frame[l.token.clone()]);
            return self.mic(what)?.verify(signed, token).map_err(|e| match e {
                MicError::Checksum | MicError::Sequence { .. } | MicError::Flags { .. } => {
                    AuthError::BadSignature {
                        what,
                        detail: e.to_string(),
                    }
                }
                e => AuthError::BadVerifier {
                    what,
                    detail: e.to_string(),
                },
            });
        }
        if l.payload.is_empty() {
            return Err(AuthError::BadVerifier {
                what,
                detail: "a sealed fragment without a stub".into(),
            });
        }
        let len = l.payload.len();
        let mut bufs = buffers(frame, &l, true);
        match on_pkg!(&mut self.pkg, p => p.decrypt_message(&mut bufs)) {
            Ok(_) => {}
            Err(e) if e.error_type == sspi::ErrorKind::MessageAltered => {
                return Err(AuthError::BadSignature {
                    what,
                    detail: e.description,
                });
            }
            Err(e) => return Err(krb_err(e)),
        }
        // The same check as NTLM's unseal in epm::auth: each mechanism keeps its own sspi context and
        // buffers, so each checks what its own unseal wrote.
        let clear = bufs.get(1).map(|b| b.data().len()).unwrap_or_default();
        if clear != len {
            return Err(AuthError::BadVerifier {
                what,
                detail: "unsealed stub changed length".into(),
            });
        }
        Ok(())
    }

    fn check_trailer(&self, l: &AuthLayout, what: &'static str) -> Result<(), AuthError> {
        let t = l.trailer;
        if t.auth_type != self.auth_type()
            || t.auth_level != self.level.wire()
            || t.auth_context_id != self.context_id
        {
            return Err(AuthError::BadVerifier {
                what,
                detail: format!(
                    "auth type {} level {} context {}, not the session's {} at {} context {}",
                    t.auth_type,
                    t.auth_level,
                    t.auth_context_id,
                    self.auth_type(),
                    self.level,
                    self.context_id
                ),
            });
        }
        Ok(())
    }
}

/// A KDC shared by the hosts of a run.
pub type SharedKdc = Arc<Kdc>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::net::TcpListener;

    const PREAUTH_REQUIRED: &[u8] =
        include_bytes!("../../fixtures/krb/krb_error_preauth_required.bin");
    const PREAUTH_FAILED: &[u8] = include_bytes!("../../fixtures/krb/krb_error_preauth_failed.bin");
    /// Stand-ins for what these tests do not open: only their tags matter here.
    const AS_REP: &[u8] = &[0, 0, 0, 3, TAG_AS_REP, 0xaa, 0xbb];
    const TGS_REP: &[u8] = &[0, 0, 0, 2, 0x6d, 0xcc];
    const AS_REQ: &[u8] = &[0, 0, 0, 2, TAG_AS_REQ, 1];
    const TGS_REQ: &[u8] = &[0, 0, 0, 2, 0x6c, 2];

    /// A KDC on loopback answering `reply(how many AS-REQs so far, request)`; what it received.
    async fn fake_kdc(
        reply: impl Fn(usize, &[u8]) -> Vec<u8> + Send + Sync + 'static,
    ) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            let mut as_reqs = 0;
            while let Ok((mut s, _)) = l.accept().await {
                let mut len = [0u8; 4];
                if s.read_exact(&mut len).await.is_err() {
                    continue;
                }
                let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
                if s.read_exact(&mut body).await.is_err() {
                    continue;
                }
                let mut req = len.to_vec();
                req.extend_from_slice(&body);
                if req.get(4) == Some(&TAG_AS_REQ) {
                    as_reqs += 1;
                }
                log.lock().unwrap().push(req.clone());
                let _ = s.write_all(&reply(as_reqs, &req)).await;
            }
        });
        (addr, seen)
    }

    fn kdc(addr: SocketAddr) -> Kdc {
        Kdc::new("rpcaudit.lab", addr, Duration::from_secs(2))
    }

    async fn ask(
        s: &mut KdcSession<'_>,
        addr: SocketAddr,
        req: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        s.answer_tcp(&addr.ip().to_string(), addr.port(), req).await
    }

    #[tokio::test]
    async fn the_first_as_exchange_is_kept_and_each_context_asks_only_for_its_ticket() {
        let (addr, seen) = fake_kdc(|n, req| match (req[4], n) {
            (TAG_AS_REQ, 1) => PREAUTH_REQUIRED.to_vec(),
            (TAG_AS_REQ, _) => AS_REP.to_vec(),
            _ => TGS_REP.to_vec(),
        })
        .await;
        let kdc = kdc(addr);
        for _host in 0..3 {
            let mut s = KdcSession::new(&kdc);
            assert_eq!(ask(&mut s, addr, AS_REQ).await.unwrap(), PREAUTH_REQUIRED);
            assert_eq!(ask(&mut s, addr, AS_REQ).await.unwrap(), AS_REP);
            assert_eq!(ask(&mut s, addr, TGS_REQ).await.unwrap(), TGS_REP);
        }
        let tags: Vec<u8> = seen.lock().unwrap().iter().map(|r| r[4]).collect();
        assert_eq!(tags, [TAG_AS_REQ, TAG_AS_REQ, 0x6c, 0x6c, 0x6c]);
        assert_eq!(kdc.requests_sent(), 5);
        assert_eq!(kdc.refused(), None);
        // The kept TGT never prints (DumpOptions, which holds the KDC, derives Debug).
        let shown = format!("{kdc:?}");
        assert!(
            shown.contains("Kept") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!shown.contains('['), "bytes shown: {shown}");
        assert_eq!(kdc.realm(), "RPCAUDIT.LAB");
    }

    #[tokio::test]
    async fn a_refusal_is_asked_once_and_withheld_after() {
        let (addr, seen) = fake_kdc(|n, _| {
            if n == 1 {
                PREAUTH_REQUIRED.to_vec()
            } else {
                PREAUTH_FAILED.to_vec()
            }
        })
        .await;
        let kdc = kdc(addr);
        let mut s = KdcSession::new(&kdc);
        ask(&mut s, addr, AS_REQ).await.unwrap();
        let e = ask(&mut s, addr, AS_REQ).await.unwrap_err();
        assert!(
            matches!(&e, AuthError::LogonFailure(d) if d.contains("KDC_ERR_PREAUTH_FAILED")),
            "{e}"
        );
        drop(s);
        for _ in 0..3 {
            let mut s = KdcSession::new(&kdc);
            let e = ask(&mut s, addr, AS_REQ).await.unwrap_err();
            assert!(
                matches!(&e, AuthError::Withheld(d) if d.contains("not sent")),
                "{e}"
            );
        }
        assert_eq!(seen.lock().unwrap().len(), 2);
        assert!(kdc.refused().unwrap().contains("wrong password"));
    }

    #[tokio::test]
    async fn only_the_configured_kdc_is_contacted() {
        let (addr, seen) = fake_kdc(|_, _| TGS_REP.to_vec()).await;
        let kdc = kdc(addr);
        let mut s = KdcSession::new(&kdc);
        for (host, port) in [
            ("192.0.2.1", addr.port()),
            ("127.0.0.1", 88),
            ("kdc.example", addr.port()),
        ] {
            let e = s.answer_tcp(host, port, TGS_REQ).await.unwrap_err();
            assert!(e.to_string().contains("not the one configured"), "{e}");
        }
        assert!(seen.lock().unwrap().is_empty());
        assert_eq!(kdc.requests_sent(), 0);
    }

    #[tokio::test]
    async fn a_huge_or_silent_kdc_is_an_error_in_bounded_time() {
        let (addr, _) = fake_kdc(|_, _| vec![0x7f, 0xff, 0xff, 0xff, 0x6d]).await;
        let e = kdc(addr).exchange(TGS_REQ).await.unwrap_err();
        assert!(matches!(e, KdcError::TooLarge { .. }), "{e}");
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        let quiet = Kdc::new("LAB", addr, Duration::from_millis(300));
        let t = std::time::Instant::now();
        let e = quiet.exchange(TGS_REQ).await.unwrap_err();
        assert!(matches!(e, KdcError::Timeout { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(2));
        drop(silent);
    }

    #[test]
    fn the_kdc_error_code_is_read_from_the_reply() {
        assert_eq!(krb_error_code(PREAUTH_FAILED), Some(KDC_ERR_PREAUTH_FAILED));
        assert_eq!(krb_error_code(PREAUTH_REQUIRED), Some(25));
        assert_eq!(krb_error_code(&PREAUTH_FAILED[..40]), None);
        assert_eq!(krb_error_code(&[]), None);
    }

    #[test]
    fn spns_name_the_host_service() {
        assert_eq!(spn_for("DC1.RpcAudit.Lab."), "host/dc1.rpcaudit.lab");
        assert_eq!(spn_for("RPCSS/dc1"), "RPCSS/dc1");
    }

    #[test]
    fn spnego_ends_at_connect_on_accept_completed_without_a_mic_only() {
        use picky_asn1::wrapper::{
            ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2, ExplicitContextTag3,
            OctetStringAsn1, Optional,
        };
        use picky_asn1_der::Asn1RawDer;
        use picky_krb::constants::gss_api::ACCEPT_INCOMPLETE;
        use picky_krb::gss_api::NegTokenTarg;
        let token = |result: [u8; 3], response: bool, mic: bool| {
            let t = ExplicitContextTag1::from(NegTokenTarg {
                neg_result: Optional::from(Some(ExplicitContextTag0::from(Asn1RawDer(
                    result.to_vec(),
                )))),
                supported_mech: Optional::from(None),
                response_token: Optional::from(
                    response.then(|| ExplicitContextTag2::from(OctetStringAsn1::from(vec![1]))),
                ),
                mech_list_mic: Optional::from(
                    mic.then(|| ExplicitContextTag3::from(OctetStringAsn1::from(vec![2; 28]))),
                ),
            });
            picky_asn1_der::to_vec(&t).unwrap()
        };
        assert!(accept_completed_without_mic(&token(
            ACCEPT_COMPLETE,
            false,
            false
        )));
        // A MIC, a token still to read, or an exchange not over: sspi decides.
        assert!(!accept_completed_without_mic(&token(
            ACCEPT_COMPLETE,
            false,
            true
        )));
        assert!(!accept_completed_without_mic(&token(
            ACCEPT_COMPLETE,
            true,
            false
        )));
        assert!(!accept_completed_without_mic(&token(
            ACCEPT_INCOMPLETE,
            false,
            false
        )));
        assert!(!accept_completed_without_mic(b"not DER"));
        assert!(!accept_completed_without_mic(&[]));
    }

    #[test]
    fn integrity_uses_mic_tokens_of_28_bytes_and_asks_for_integrity_only() {
        assert!(flags(Level::Integrity, true).contains(ClientRequestFlags::INTEGRITY));
        assert!(!flags(Level::Integrity, true).contains(ClientRequestFlags::CONFIDENTIALITY));
        assert!(flags(Level::Privacy, true).contains(ClientRequestFlags::CONFIDENTIALITY));
        assert_eq!(MIC_LEN, 28);
    }

    #[test]
    fn the_dce_style_is_asked_for_rpc_binds_only() {
        // sspi frames the AP-REQ in GSS-API (RFC 4121 4.1) and waits for no third leg
        // without it: what an SMB session setup carries.
        assert!(flags(Level::Connect, true).contains(ClientRequestFlags::USE_DCE_STYLE));
        assert!(!flags(Level::Integrity, false).contains(ClientRequestFlags::USE_DCE_STYLE));
        assert!(flags(Level::Integrity, false).contains(ClientRequestFlags::MUTUAL_AUTH));
    }
}
