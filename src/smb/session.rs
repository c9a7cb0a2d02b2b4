//! One SMB2 session over TCP: connect (445 directly, or 139 after a NetBIOS session request),
//! negotiate 2.0.2 to 3.1.1 (the 3.1.1 negotiate contexts in [`contexts`](super::contexts)), log
//! on (anonymously, or with NTLM or Kerberos through sspi), turn the session key into the
//! session's keys ([`Session::install_session_key`], [`crypto`](super::crypto)), connect to
//! `IPC$`, and
//! exchange one request and its response at a time: message ids in order, credits counted,
//! interim `STATUS_PENDING` answers waited through, every response's signature verified once
//! the session signs, and every message sealed in a transform header
//! ([`transform`](super::transform)) once the session or the share requires encryption. For
//! 3.1.1 the NEGOTIATE and SESSION_SETUP messages are folded into the preauth hash as they pass
//! through [`Session::exchange`]. Messages are capped ([`MAX_MESSAGE`]) before they are
//! buffered.
//!
//! Nothing here waits without bound on its own terms: every method is one step of a dump that
//! the caller (`epm::pipe`) runs under `tokio::time::timeout_at`, and a cancelled step leaves
//! the session unusable, which is how a timed-out dump ends anyway.

use super::crypto::{self, Preauth};
use super::header::{Command, FLAG_SIGNED, HEADER_LEN, Header, status};
use super::msg::{
    self, DIALECT_202, DIALECT_210, DIALECT_300, DIALECT_302, DIALECT_311, DIALECTS, FileId,
    SESSION_FLAG_IS_GUEST, SESSION_FLAG_IS_NULL,
};
use super::netbios::{self, Frame};
use super::signing::{SigningError, SigningKey};
use super::transform::{self, Cipher, Encryption, TransformError};
use super::{SmbWireError, contexts, ntlm_anon};
use crate::epm::auth::{AuthError, ClientAuth, Credentials, Level};
use crate::epm::kerberos::{Kdc, KrbAuth};
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The largest message accepted: a read of [`MAX_IO`] bytes and its header, with room to spare.
pub const MAX_MESSAGE: usize = MAX_IO as usize + 4096;
/// The largest frame accepted: a message of [`MAX_MESSAGE`] bytes behind a transform header.
const MAX_FRAME: usize = MAX_MESSAGE + transform::TRANSFORM_LEN;
/// The most asked of one read, write or transceive (no `CAP_LARGE_MTU`: 2.x without credits
/// charges allows 64 KiB).
pub const MAX_IO: u32 = 65536;
/// Message ids the server uses for unsolicited notifications (oplock breaks).
const UNSOLICITED: u64 = u64::MAX;

/// Why an SMB step failed. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum SmbError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("connection closed by the server")]
    Closed,
    #[error("{0}")]
    Wire(#[from] SmbWireError),
    /// The server answered `command` with an error status.
    #[error("{command}: {}", status::describe(*status))]
    Status { command: &'static str, status: u32 },
    #[error("{command}: {source}")]
    Signing {
        command: &'static str,
        source: SigningError,
    },
    #[error("the NetBIOS session request was refused: {}", netbios::negative_reason(*.0))]
    NetbiosRefused(u8),
    #[error("the NetBIOS session request was answered with a retarget, which is not followed")]
    NetbiosRetarget,
    #[error(
        "the server chose SMB dialect 0x{0:04x}, which was not offered (rpcaudit offers 2.0.2, 2.1, 3.0, 3.0.2 and 3.1.1)"
    )]
    Dialect(u16),
    /// The server refused every dialect offered (MS-SMB2 3.3.5.4: STATUS_NOT_SUPPORTED when no
    /// common dialect is found): a server that requires a dialect newer than 3.1.1, or SMB1.
    #[error(
        "{}: the server accepts none of the dialects offered, SMB 2.0.2, 2.1, 3.0, 3.0.2 and 3.1.1",
        status::describe(*.0)
    )]
    NoCommonDialect(u32),
    #[error("the server granted no credits: no request can be sent")]
    NoCredits,
    #[error("{command}: the answer is for message {got}, not {want}")]
    OutOfOrder {
        command: &'static str,
        got: u64,
        want: u64,
    },
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("IPC$ is not a pipe share (share type {0})")]
    NotPipeShare(u8),
    /// The server requires encryption (of the session, or of `IPC$`), which needs a session
    /// key: a null or guest session has none.
    #[error(
        "the server requires SMB 3 encryption, which a null or guest session cannot have (no session key): log on with credentials (--auth ntlm)"
    )]
    EncryptionRequired,
    /// The server requires encryption but agreed on no cipher rpcaudit offers.
    #[error(
        "the server requires SMB 3 encryption but agreed on no cipher rpcaudit offers (AES-128-GCM, AES-128-CCM) in dialect {}",
        msg::dialect_name(*.0)
    )]
    NoCipher(u16),
    /// A message could not be sealed, or a received one did not open.
    #[error("{command}: {source}")]
    Encryption {
        command: &'static str,
        source: TransformError,
    },
    /// The session encrypts, yet the server answered in clear.
    #[error("{0}: an unencrypted answer on a session that encrypts")]
    Unencrypted(&'static str),
    /// SMB 3.0/3.0.2: the server's signed account of the negotiate differs from its answer.
    #[error(
        "the server's signed account of the negotiate (FSCTL_VALIDATE_NEGOTIATE_INFO) differs from its NEGOTIATE answer: the negotiate was altered in transit"
    )]
    NegotiateAltered,
}

impl SmbError {
    /// The NTSTATUS the server answered with, when that is what failed.
    pub fn status(&self) -> Option<u32> {
        match self {
            SmbError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// How a session was logged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logon {
    /// The null session.
    Anonymous,
    /// NTLM with the credentials given; `signed` when the session signs its messages.
    Ntlm { signed: bool },
    /// Kerberos with the credentials given; the session signs its messages.
    Kerberos,
    /// Credentials given, but the server logged the session on as guest (no key, no signing).
    Guest,
}

/// One SMB2 connection and its session.
#[derive(Debug)]
pub struct Session {
    stream: TcpStream,
    buf: Vec<u8>,
    next_id: u64,
    credits: u32,
    session_id: u64,
    tree_id: u32,
    signing: Option<SigningKey>,
    signing_required: bool,
    dialect: u16,
    /// The 3.1.1 preauth hash, while the negotiate and the session setup run.
    preauth: Option<Preauth>,
    /// The cipher the negotiate agreed on (3.x), if any.
    cipher: Option<Cipher>,
    /// A 3.1.1 server chose AES-GMAC signing (else AES-CMAC for 3.x).
    gmac: bool,
    /// What the NEGOTIATE answer said, for the 3.0/3.0.2 validation after the logon.
    negotiated: Option<msg::ValidateNegotiate>,
    /// The session's encryption keys, once installed with a cipher agreed.
    encryption: Option<Encryption>,
    /// The server flagged the session SESSION_FLAG_ENCRYPT_DATA.
    encrypt_required: bool,
    /// Every message is sealed from here on (the session or the share requires it).
    encrypting: bool,
    max_read: u32,
    max_write: u32,
    max_transact: u32,
    peer: SocketAddr,
}

/// A TCP connection to `addr` from the local address `source` (bound before connecting;
/// None: the kernel's choice), without Nagle: how an SMB session and an interface probe
/// (`epm::client::EpmSession::connect_for`) leave from a chosen vantage point.
pub async fn tcp_connect_from(
    addr: SocketAddr,
    source: Option<IpAddr>,
) -> std::io::Result<TcpStream> {
    let stream = match source {
        None => TcpStream::connect(addr).await?,
        Some(src) => {
            let socket = if addr.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            socket.bind(SocketAddr::new(src, 0))?;
            socket.connect(addr).await?
        }
    };
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

impl Session {
    /// Connect to `addr`; on 139 (`netbios_name` given) send the session request first.
    pub async fn connect(addr: SocketAddr, netbios_name: Option<&str>) -> Result<Self, SmbError> {
        Self::connect_from(addr, None, netbios_name).await
    }

    /// [`Session::connect`] from the local address `source` (bound before connecting; None:
    /// the kernel's choice), as a probe from a vantage point connects.
    pub async fn connect_from(
        addr: SocketAddr,
        source: Option<IpAddr>,
        netbios_name: Option<&str>,
    ) -> Result<Self, SmbError> {
        let stream = tcp_connect_from(addr, source).await?;
        let mut s = Session {
            stream,
            buf: Vec::with_capacity(8 * 1024),
            next_id: 0,
            credits: 1,
            session_id: 0,
            tree_id: 0,
            signing: None,
            signing_required: false,
            dialect: 0,
            preauth: None,
            cipher: None,
            gmac: false,
            negotiated: None,
            encryption: None,
            encrypt_required: false,
            encrypting: false,
            max_read: MAX_IO,
            max_write: MAX_IO,
            max_transact: MAX_IO,
            peer: addr,
        };
        if let Some(name) = netbios_name {
            s.netbios_session(name).await?;
        }
        Ok(s)
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub fn dialect(&self) -> u16 {
        self.dialect
    }

    /// Whether messages are signed and verified.
    pub fn signs(&self) -> bool {
        self.signing.is_some()
    }

    /// Whether every message is sealed (SMB 3 encryption), and with what.
    pub fn encrypts(&self) -> Option<Cipher> {
        self.encryption
            .as_ref()
            .filter(|_| self.encrypting)
            .map(Encryption::cipher)
    }

    /// Whether the server said it requires signing.
    pub fn signing_required(&self) -> bool {
        self.signing_required
    }

    /// The most one read or transceive may ask for.
    pub fn max_read(&self) -> u32 {
        self.max_read.min(self.max_transact).min(MAX_IO)
    }

    pub fn max_write(&self) -> u32 {
        self.max_write.min(self.max_transact).min(MAX_IO)
    }

    async fn netbios_session(&mut self, called: &str) -> Result<(), SmbError> {
        let req = netbios::session_request(netbios::called_name(called), "RPCAUDIT");
        self.stream.write_all(&req).await?;
        loop {
            if let Some(n) = netbios::session_reply_length(&self.buf)
                && self.buf.len() >= n
            {
                let rest = self.buf.split_off(n);
                let reply = std::mem::replace(&mut self.buf, rest);
                return match netbios::session_reply(&reply)? {
                    netbios::SessionReply::Positive => Ok(()),
                    netbios::SessionReply::Negative(code) => Err(SmbError::NetbiosRefused(code)),
                    netbios::SessionReply::Retarget => Err(SmbError::NetbiosRetarget),
                };
            }
            if self.buf.len() > 64 {
                return Err(SmbWireError::invalid(
                    "NetBIOS session reply",
                    "longer than any answer to a session request",
                )
                .into());
            }
            self.fill().await?;
        }
    }

    /// Read more bytes into the buffer (at most one message plus one read held).
    async fn fill(&mut self) -> Result<(), SmbError> {
        let mut chunk = [0u8; 8 * 1024];
        let want = chunk
            .len()
            .min((MAX_FRAME + netbios::FRAME_HEADER + chunk.len()).saturating_sub(self.buf.len()));
        let n = self.stream.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Err(SmbError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// The next whole SMB2 message (keep-alives dropped).
    async fn read_message(&mut self) -> Result<Vec<u8>, SmbError> {
        loop {
            match netbios::frame_header(&self.buf, MAX_FRAME)? {
                Frame::KeepAlive => {
                    self.buf.drain(..netbios::FRAME_HEADER);
                    continue;
                }
                Frame::Message { len } if self.buf.len() >= netbios::FRAME_HEADER + len => {
                    let rest = self.buf.split_off(netbios::FRAME_HEADER + len);
                    let mut m = std::mem::replace(&mut self.buf, rest);
                    m.drain(..netbios::FRAME_HEADER);
                    return Ok(m);
                }
                _ => self.fill().await?,
            }
        }
    }

    /// Send `body` as `command` and return the final response (header and whole message);
    /// an error status other than those `accept` lists is an error.
    pub async fn exchange(
        &mut self,
        command: Command,
        body: &[u8],
        accept: &[u32],
    ) -> Result<(Header, Vec<u8>), SmbError> {
        let name = command.name();
        if self.credits == 0 {
            return Err(SmbError::NoCredits);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.credits -= 1;
        let mut m = Vec::with_capacity(HEADER_LEN + body.len());
        Header::request(command, id, self.tree_id, self.session_id).encode(&mut m);
        m.extend_from_slice(body);
        // The preauth hash of 3.1.1 covers the negotiate and the session setup, both ways.
        let hashing = matches!(command, Command::Negotiate | Command::SessionSetup);
        if self.encrypting {
            // A sealed message is not signed (MS-SMB2 3.2.4.1.1): the AEAD tag covers it.
            let enc = self
                .encryption
                .as_mut()
                .ok_or(SmbError::EncryptionRequired)?;
            m = enc
                .seal(self.session_id, &m)
                .map_err(|source| SmbError::Encryption {
                    command: name,
                    source,
                })?;
        } else if let Some(key) = &self.signing {
            key.sign(&mut m).map_err(|source| SmbError::Signing {
                command: name,
                source,
            })?;
        }
        if hashing && let Some(p) = &mut self.preauth {
            p.update(&m);
        }
        let framed = netbios::frame(&m)?;
        self.stream.write_all(&framed).await?;
        loop {
            let raw = self.read_message().await?;
            let (reply, sealed) = self.unseal(raw, name)?;
            let h = Header::decode(&reply)?;
            if !h.is_response() || h.command != command as u16 {
                return Err(SmbWireError::invalid(
                    "SMB2 header",
                    format!(
                        "command {} where the answer to {name} was expected",
                        h.command
                    ),
                )
                .into());
            }
            if h.message_id == UNSOLICITED {
                continue;
            }
            if h.message_id != id {
                return Err(SmbError::OutOfOrder {
                    command: name,
                    got: h.message_id,
                    want: id,
                });
            }
            self.credits = self.credits.saturating_add(u32::from(h.credits)).min(512);
            if h.status == status::PENDING && h.is_async() {
                continue; // the interim answer: the final one follows
            }
            if let Some(key) = &self.signing
                && !sealed
            {
                key.verify(&reply).map_err(|source| SmbError::Signing {
                    command: name,
                    source,
                })?;
            }
            if hashing
                && (command == Command::Negotiate || h.status == status::MORE_PROCESSING_REQUIRED)
                && let Some(p) = &mut self.preauth
            {
                p.update(&reply);
            }
            if h.status != status::SUCCESS && !accept.contains(&h.status) {
                return Err(SmbError::Status {
                    command: name,
                    status: h.status,
                });
            }
            return Ok((h, reply));
        }
    }

    /// A received message in clear: opened when it came sealed (and whether it did). Once the
    /// session encrypts, an answer in clear is an error.
    fn unseal(&self, raw: Vec<u8>, command: &'static str) -> Result<(Vec<u8>, bool), SmbError> {
        if transform::is_transform(&raw) {
            let Some(enc) = &self.encryption else {
                return Err(SmbWireError::invalid(
                    "SMB2 transform header",
                    "an encrypted message on a session without encryption keys",
                )
                .into());
            };
            let m = enc
                .open(self.session_id, &raw)
                .map_err(|source| SmbError::Encryption { command, source })?;
            return Ok((m, true));
        }
        if raw.get(..4) == Some(&transform::COMPRESSION_ID[..]) {
            return Err(SmbWireError::invalid(
                "SMB2 header",
                "a compressed message, though compression was never negotiated",
            )
            .into());
        }
        if self.encrypting {
            return Err(SmbError::Unencrypted(command));
        }
        Ok((raw, false))
    }

    /// NEGOTIATE 2.0.2 to 3.1.1, signing enabled; for 3.1.1 the preauth, encryption and
    /// signing contexts (a random salt; AES-128-GCM or -CCM; AES-GMAC or AES-CMAC).
    pub async fn negotiate(&mut self) -> Result<(), SmbError> {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| std::io::Error::other(e.to_string()))?;
        let (ctx, count) = contexts::request(&salt);
        let body = msg::negotiate_request(
            &DIALECTS,
            msg::SIGNING_ENABLED,
            msg::CAP_ENCRYPTION,
            client_guid(),
            &ctx,
            count,
        );
        self.preauth = Some(Preauth::default());
        let (_, reply) = match self.exchange(Command::Negotiate, &body, &[]).await {
            Err(SmbError::Status {
                status: status::NOT_SUPPORTED,
                ..
            }) => return Err(SmbError::NoCommonDialect(status::NOT_SUPPORTED)),
            other => other?,
        };
        let n = msg::negotiate_response(&reply)?;
        if !DIALECTS.contains(&n.dialect) {
            return Err(SmbError::Dialect(n.dialect));
        }
        self.dialect = n.dialect;
        self.cipher = match (n.dialect, &n.contexts) {
            (DIALECT_311, Some(c)) => c.cipher.and_then(Cipher::from_id),
            (DIALECT_300 | DIALECT_302, _) if n.capabilities & msg::CAP_ENCRYPTION != 0 => {
                Some(Cipher::Aes128Ccm)
            }
            _ => None,
        };
        self.negotiated = Some(msg::ValidateNegotiate {
            capabilities: n.capabilities,
            server_guid: n.server_guid,
            security_mode: n.security_mode,
            dialect: n.dialect,
        });
        self.gmac = n
            .contexts
            .as_ref()
            .is_some_and(|c| c.signing == Some(contexts::SIGNING_AES_GMAC));
        if n.dialect != DIALECT_311 {
            self.preauth = None;
        }
        self.signing_required = n.security_mode & msg::SIGNING_REQUIRED != 0;
        self.max_read = n.max_read;
        self.max_write = n.max_write;
        self.max_transact = n.max_transact;
        Ok(())
    }

    /// Log on as the null session.
    pub async fn logon_anonymous(&mut self) -> Result<Logon, SmbError> {
        let (_, challenge) = self.setup_leg(&ntlm_anon::negotiate(), true).await?;
        let flags = ntlm_anon::challenge_flags(&challenge)?;
        self.setup_leg(&ntlm_anon::authenticate(flags), false)
            .await?;
        Ok(Logon::Anonymous)
    }

    /// Log on with NTLM (sspi). The session signs every message from here on when it has a
    /// key (any NTLM session that is neither guest nor null): what a server requiring signing
    /// demands, and an integrity check on the map everywhere else.
    pub async fn logon_ntlm(&mut self, creds: &Credentials) -> Result<Logon, SmbError> {
        let (mut sec, negotiate) = ClientAuth::start(creds, Level::Integrity, 0)?;
        let (_, challenge) = self.setup_leg(&negotiate, true).await?;
        let authenticate = sec.challenge(&challenge)?;
        let (flags, last) = self.setup_final(&authenticate).await?;
        if self.logged_on_as_guest(flags)? {
            return Ok(Logon::Guest);
        }
        self.install_session_key(&sec.session_key()?, &last)?;
        Ok(Logon::Ntlm { signed: true })
    }

    /// Log on with Kerberos (sspi, its KDC traffic through `kdc`): the AP-REQ for `spn` in
    /// one SESSION_SETUP, the AP-REP of the answer checked (mutual authentication: the server
    /// holds the service key), and from there on the session signs with the context's key.
    pub async fn logon_kerberos(
        &mut self,
        kdc: &Kdc,
        creds: &Credentials,
        spn: &str,
    ) -> Result<Logon, SmbError> {
        let (mut sec, ap_req) = KrbAuth::start_for_smb(kdc, creds, spn).await?;
        let (flags, last) = self.setup_final(&ap_req).await?;
        if self.logged_on_as_guest(flags)? {
            return Ok(Logon::Guest);
        }
        let ap_rep = msg::session_setup_response(&last)?.token;
        if ap_rep.is_empty() {
            return Err(AuthError::Kerberos(
                "the server logged the session on without an AP-REP (no mutual authentication)"
                    .into(),
            )
            .into());
        }
        let (_, complete) = sec.next(kdc, &ap_rep).await?;
        if !complete {
            return Err(AuthError::Kerberos(
                "the server's AP-REP did not complete the Kerberos exchange".into(),
            )
            .into());
        }
        self.install_session_key(&sec.session_key()?, &last)?;
        Ok(Logon::Kerberos)
    }

    /// Whether the final answer's `flags` say guest or null session (no key, no signing): an
    /// error where the server requires signing.
    fn logged_on_as_guest(&self, flags: u16) -> Result<bool, SmbError> {
        if flags & (SESSION_FLAG_IS_GUEST | SESSION_FLAG_IS_NULL) == 0 {
            return Ok(false);
        }
        if self.signing_required {
            return Err(SmbError::Signing {
                command: "session setup",
                source: SigningError::Unsigned,
            });
        }
        Ok(true)
    }

    /// Turn the session key of a logon (NTLM, Kerberos) into the session's keys, by dialect:
    /// the signing key (HMAC-SHA256 for 2.x, AES-CMAC from the KDF for 3.x, with the preauth
    /// hash for 3.1.1) and, for 3.x with a cipher agreed, the encryption keys. The final
    /// SESSION_SETUP response (`final_response`, the whole message) must verify under the new
    /// signing key: always for 3.1.1, when flagged signed otherwise. From here on every message
    /// is signed, or sealed when the server flagged the session SESSION_FLAG_ENCRYPT_DATA.
    pub fn install_session_key(
        &mut self,
        session_key: &[u8],
        final_response: &[u8],
    ) -> Result<(), SmbError> {
        let flags = msg::session_setup_response(final_response)?.session_flags;
        let (key, keys) = match self.dialect {
            DIALECT_202 | DIALECT_210 => (SigningKey::smb2(session_key), None),
            DIALECT_300 | DIALECT_302 => {
                let k = crypto::keys_30(session_key);
                (SigningKey::aes_cmac(&k.signing), Some(k))
            }
            DIALECT_311 => {
                let p = self.preauth.take().ok_or_else(|| {
                    SmbWireError::invalid(
                        "session setup",
                        "a 3.1.1 session key without the negotiate's preauth hash",
                    )
                })?;
                let k = crypto::keys_311(session_key, &p);
                let key = if self.gmac {
                    SigningKey::aes_gmac(&k.signing)
                } else {
                    SigningKey::aes_cmac(&k.signing)
                };
                (key, Some(k))
            }
            d => return Err(SmbError::Dialect(d)),
        };
        self.preauth = None;
        // 3.1.1 signs the final answer always (it proves the preauth hash both sides hold);
        // older dialects when the server signs.
        let flagged = final_response
            .get(16)
            .is_some_and(|f| u32::from(*f) & FLAG_SIGNED != 0);
        if flagged || self.dialect == DIALECT_311 {
            key.verify(final_response)
                .map_err(|source| SmbError::Signing {
                    command: "session setup",
                    source,
                })?;
        }
        if let (Some(cipher), Some(k)) = (self.cipher, &keys) {
            let mut prefix = [0u8; 4];
            getrandom::fill(&mut prefix).map_err(|e| std::io::Error::other(e.to_string()))?;
            self.encryption = Some(Encryption::new(
                cipher,
                &k.client_to_server,
                &k.server_to_client,
                prefix,
            ));
        }
        self.encrypt_required |= flags & msg::SESSION_FLAG_ENCRYPT_DATA != 0;
        if self.encrypt_required {
            if self.encryption.is_none() {
                return Err(SmbError::NoCipher(self.dialect));
            }
            self.encrypting = true;
        }
        self.signing = Some(key);
        Ok(())
    }

    /// One SESSION_SETUP leg that must be answered `STATUS_MORE_PROCESSING_REQUIRED` (`more`)
    /// or success; the server's token.
    async fn setup_leg(&mut self, token: &[u8], more: bool) -> Result<(Header, Vec<u8>), SmbError> {
        let body = msg::session_setup_request(msg::SIGNING_ENABLED as u8, token)?;
        let accept: &[u32] = if more {
            &[status::MORE_PROCESSING_REQUIRED]
        } else {
            &[]
        };
        let (h, reply) = self.exchange(Command::SessionSetup, &body, accept).await?;
        if more && h.status != status::MORE_PROCESSING_REQUIRED {
            return Err(SmbWireError::invalid(
                "session setup response",
                "logged on before the NTLM exchange was complete",
            )
            .into());
        }
        self.session_id = h.session_id;
        let r = msg::session_setup_response(&reply)?;
        // Acted on once keys exist (install_session_key) or when IPC$ is reached without any.
        self.encrypt_required |= r.session_flags & msg::SESSION_FLAG_ENCRYPT_DATA != 0;
        Ok((h, r.token))
    }

    /// The last leg: the session flags and the whole final message.
    async fn setup_final(&mut self, token: &[u8]) -> Result<(u16, Vec<u8>), SmbError> {
        let body = msg::session_setup_request(msg::SIGNING_ENABLED as u8, token)?;
        let (h, reply) = self.exchange(Command::SessionSetup, &body, &[]).await?;
        // A one-leg logon (Kerberos) learns its session id here.
        self.session_id = h.session_id;
        let r = msg::session_setup_response(&reply)?;
        self.encrypt_required |= r.session_flags & msg::SESSION_FLAG_ENCRYPT_DATA != 0;
        Ok((r.session_flags, reply))
    }

    /// TREE_CONNECT to `\\server\IPC$`; from here on every message is sealed when the share
    /// requires encryption (SMB2_SHAREFLAG_ENCRYPT_DATA).
    pub async fn connect_ipc(&mut self, server: &str) -> Result<(), SmbError> {
        // The logon is over (a null or guest session never installed keys): no more hashing.
        self.preauth = None;
        self.encryption_possible()?;
        let body = msg::tree_connect_request(&format!(r"\\{server}\IPC$"))?;
        let (h, reply) = self.exchange(Command::TreeConnect, &body, &[]).await?;
        let t = msg::tree_connect_response(&reply)?;
        if t.share_type != msg::SHARE_TYPE_PIPE {
            return Err(SmbError::NotPipeShare(t.share_type));
        }
        self.tree_id = h.tree_id();
        if t.share_flags & msg::SHAREFLAG_ENCRYPT_DATA != 0 {
            self.encrypt_required = true;
            self.encryption_possible()?;
            self.encrypting = true;
        }
        if matches!(self.dialect, DIALECT_300 | DIALECT_302) && self.signing.is_some() {
            self.validate_negotiate().await?;
        }
        Ok(())
    }

    /// SMB 3.0 and 3.0.2's secure dialect negotiation (MS-SMB2 3.2.5.5, 3.3.5.15.12): tell the
    /// server, signed, what the NEGOTIATE offered, and compare its signed account of what it
    /// chose with its NEGOTIATE answer, which nothing protected (3.1.1's preauth hash covers
    /// the negotiate instead). A signed refusal (STATUS_NOT_SUPPORTED,
    /// STATUS_INVALID_DEVICE_REQUEST) is a server that does not implement it.
    async fn validate_negotiate(&mut self) -> Result<(), SmbError> {
        let body = msg::validate_negotiate_request(
            msg::CAP_ENCRYPTION,
            client_guid(),
            msg::SIGNING_ENABLED,
            &DIALECTS,
        )?;
        let (h, reply) = self
            .exchange(
                Command::Ioctl,
                &body,
                &[status::NOT_SUPPORTED, status::INVALID_DEVICE_REQUEST],
            )
            .await?;
        if h.status != status::SUCCESS {
            return Ok(());
        }
        let got = msg::validate_negotiate_response(&reply)?;
        if self.negotiated.as_ref() != Some(&got) {
            return Err(SmbError::NegotiateAltered);
        }
        Ok(())
    }

    /// When the server requires encryption, whether this session can: keys and a cipher.
    fn encryption_possible(&self) -> Result<(), SmbError> {
        if !self.encrypt_required || self.encryption.is_some() {
            return Ok(());
        }
        if self.signing.is_none() {
            return Err(SmbError::EncryptionRequired);
        }
        Err(SmbError::NoCipher(self.dialect))
    }

    /// CREATE: open the pipe `name` (e.g. `epmapper`) on `IPC$`.
    pub async fn open(&mut self, name: &str) -> Result<FileId, SmbError> {
        let body = msg::create_request(name)?;
        let (_, reply) = self.exchange(Command::Create, &body, &[]).await?;
        Ok(msg::create_response(&reply)?)
    }

    /// CLOSE a file [`Session::open`] opened, leaving the session as it was.
    pub async fn close_file(&mut self, file: FileId) -> Result<(), SmbError> {
        let (_, reply) = self
            .exchange(Command::Close, &msg::close_request(file), &[])
            .await?;
        msg::close_response(&reply)?;
        Ok(())
    }
}

/// The client GUID of the negotiate: any value will do for a client that never reconnects;
/// this one is fixed so captures compare.
fn client_guid() -> [u8; 16] {
    *b"rpcaudit-ncacnnp"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smb::codec::Put;
    use crate::smb::header::FLAG_SERVER_TO_REDIR;
    use tokio::net::TcpListener;

    /// A negotiate response choosing `dialect`, as message `id`, with `status` and `flags`.
    fn negotiate_reply(id: u64, dialect: u16, status: u32, flags: u32) -> Vec<u8> {
        let mut h = Header::request(Command::Negotiate, id, 0, 0);
        h.status = status;
        h.flags = FLAG_SERVER_TO_REDIR | flags;
        h.credits = 1;
        let mut m = Vec::new();
        h.encode(&mut m);
        m.u16le(65);
        m.u16le(msg::SIGNING_ENABLED);
        m.u16le(dialect);
        m.u16le(0);
        m.extend_from_slice(&[0; 16]);
        m.u32le(0);
        for _ in 0..3 {
            m.u32le(65536);
        }
        m.extend_from_slice(&[0; 16]);
        m.u16le(0);
        m.u16le(0);
        m.u32le(0);
        m
    }

    /// A server on loopback that reads one request and answers with `replies`, raw.
    async fn server(replies: Vec<Vec<u8>>) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            for r in replies {
                if s.write_all(&r).await.is_err() {
                    return;
                }
            }
            // then hang up: a client still waiting for bytes sees the end
        });
        addr
    }

    /// Connect and negotiate, bounded (a hang fails the test rather than stalling it).
    async fn negotiate_with(replies: Vec<Vec<u8>>) -> Result<Session, SmbError> {
        let work = async {
            let mut s = Session::connect(server(replies).await, None).await?;
            s.negotiate().await?;
            Ok(s)
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), work)
            .await
            .expect("the exchange ended")
    }

    fn framed(m: &[u8]) -> Vec<u8> {
        netbios::frame(m).unwrap()
    }

    #[tokio::test]
    async fn a_plain_negotiate_chooses_2_1() {
        let s = negotiate_with(vec![framed(&negotiate_reply(0, msg::DIALECT_210, 0, 0))])
            .await
            .unwrap();
        assert_eq!(s.dialect(), msg::DIALECT_210);
        assert!(!s.signing_required());
    }

    #[tokio::test]
    async fn interim_pending_answers_and_keep_alives_are_waited_through() {
        let pending = negotiate_reply(
            0,
            0,
            status::PENDING,
            crate::smb::header::FLAG_ASYNC_COMMAND,
        );
        let s = negotiate_with(vec![
            vec![0x85, 0, 0, 0],
            framed(&pending[..HEADER_LEN]),
            framed(&negotiate_reply(0, msg::DIALECT_202, 0, 0)),
        ])
        .await
        .unwrap();
        assert_eq!(s.dialect(), msg::DIALECT_202);
    }

    #[tokio::test]
    async fn hostile_answers_are_errors() {
        let cases: Vec<(Vec<Vec<u8>>, &str)> = vec![
            (vec![b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()], "NetBIOS frame: type 0x53"),
            (vec![vec![0, 0xff, 0xff, 0xff]], "exceeds the limit"),
            (
                vec![framed(&negotiate_reply(5, msg::DIALECT_210, 0, 0))],
                "the answer is for message 5, not 0",
            ),
            (
                vec![framed(&negotiate_reply(0, 0x0399, 0, 0))],
                "dialect 0x0399, which was not offered",
            ),
            (
                // 3.1.1 without its contexts.
                vec![framed(&negotiate_reply(0, msg::DIALECT_311, 0, 0))],
                "negotiate contexts: 0 contexts",
            ),
            (
                // What a server that accepts none of the dialects answers: no common dialect.
                vec![framed(&negotiate_reply(0, 0, status::NOT_SUPPORTED, 0)[..HEADER_LEN + 9])],
                "0xc00000bb (STATUS_NOT_SUPPORTED): the server accepts none of the dialects offered, SMB 2.0.2, 2.1, 3.0, 3.0.2 and 3.1.1",
            ),
            (
                vec![framed(b"\xffSMBr\0\0\0\0\x98\x53\xc8\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff\xfe\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")],
                "SMB1",
            ),
            (vec![framed(&negotiate_reply(0, msg::DIALECT_210, 0, 0)[..80])], "negotiate response"),
            (vec![vec![0, 0, 0, 200, 1, 2]], "connection closed"),
        ];
        for (replies, says) in cases {
            let e = negotiate_with(replies).await.expect_err("an error");
            assert!(e.to_string().contains(says), "{e} (expected: {says})");
        }
    }

    #[tokio::test]
    async fn a_signing_session_refuses_unsigned_and_altered_answers() {
        for alter in [false, true] {
            let mut s = Session::connect(
                server(vec![framed(&{
                    let mut m = negotiate_reply(0, msg::DIALECT_210, 0, 0);
                    if alter {
                        SigningKey::smb2(&[9; 16]).sign(&mut m).unwrap();
                        let last = m.len() - 1;
                        m[last] ^= 1;
                    }
                    m
                })])
                .await,
                None,
            )
            .await
            .unwrap();
            s.signing = Some(SigningKey::smb2(&[9; 16]));
            let e = s.negotiate().await.unwrap_err();
            let want = if alter {
                SigningError::Mismatch
            } else {
                SigningError::Unsigned
            };
            assert!(
                matches!(&e, SmbError::Signing { source, .. } if *source == want),
                "{e}"
            );
        }
    }

    /// A server on loopback that reads one request, hands it over (framing stripped) and
    /// answers with what `reply` makes of it.
    async fn server_seeing(
        reply: impl FnOnce(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
    ) -> (SocketAddr, tokio::sync::oneshot::Receiver<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut head = [0u8; 4];
            s.read_exact(&mut head).await.unwrap();
            let len = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
            let mut m = vec![0u8; len];
            s.read_exact(&mut m).await.unwrap();
            for r in reply(&m) {
                if s.write_all(&r).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(m);
        });
        (addr, rx)
    }

    async fn bounded<T>(work: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(std::time::Duration::from_secs(5), work)
            .await
            .expect("the exchange ended")
    }

    #[tokio::test]
    async fn a_311_negotiate_keeps_the_preauth_hash_of_what_crossed_the_wire() {
        use crate::smb::crypto::vectors::{NEGOTIATE_RESPONSE, hex};
        // Windows' answer from Microsoft's example (3.1.1, AES-128-GCM), as message 0.
        let mut answer = hex(NEGOTIATE_RESPONSE);
        answer[24..32].fill(0);
        let sent = answer.clone();
        let (addr, request) = server_seeing(move |_| vec![framed(&sent)]).await;
        let s = bounded(async {
            let mut s = Session::connect(addr, None).await.unwrap();
            s.negotiate().await.unwrap();
            s
        })
        .await;
        let request = request.await.unwrap();
        assert_eq!(s.dialect(), msg::DIALECT_311);
        assert_eq!(s.cipher, Some(Cipher::Aes128Gcm));
        // Five dialects and three contexts went out; the hash covers both messages as sent.
        let body = &request[HEADER_LEN..];
        assert_eq!(u16::from_le_bytes([body[2], body[3]]), 5);
        assert_eq!(u16::from_le_bytes([body[32], body[33]]), 3);
        let mut want = Preauth::default();
        want.update(&request);
        want.update(&answer);
        assert_eq!(s.preauth.as_ref().unwrap().value(), want.value());
    }

    #[tokio::test]
    async fn a_21_negotiate_keeps_no_preauth_hash_and_no_cipher() {
        let (addr, _) =
            server_seeing(|_| vec![framed(&negotiate_reply(0, msg::DIALECT_210, 0, 0))]).await;
        let s = bounded(async {
            let mut s = Session::connect(addr, None).await.unwrap();
            s.negotiate().await.unwrap();
            s
        })
        .await;
        assert!(s.preauth.is_none() && s.cipher.is_none());
    }

    /// A 3.1.1 session at the end of Microsoft's example logon, the final response not yet read.
    async fn session_311(cipher: Option<Cipher>) -> Session {
        use crate::smb::crypto::vectors::*;
        let (addr, _) = server_seeing(|_| Vec::new()).await;
        let mut s = Session::connect(addr, None).await.unwrap();
        s.dialect = msg::DIALECT_311;
        s.cipher = cipher;
        let mut p = Preauth::default();
        for m in [
            NEGOTIATE_REQUEST,
            NEGOTIATE_RESPONSE,
            SETUP_REQUEST_1,
            SETUP_RESPONSE_1,
            SETUP_REQUEST_2,
        ] {
            p.update(&hex(m));
        }
        s.preauth = Some(p);
        s
    }

    #[tokio::test]
    async fn install_session_key_verifies_the_final_311_response() {
        use crate::smb::crypto::vectors::*;
        let key = hex(SESSION_KEY_311);
        let last = hex(SETUP_RESPONSE_FINAL);
        let mut s = session_311(Some(Cipher::Aes128Gcm)).await;
        s.install_session_key(&key, &last).unwrap();
        assert!(s.signs() && s.preauth.is_none());
        assert_eq!(
            s.signing.as_ref().unwrap().algorithm(),
            crate::smb::signing::Algorithm::AesCmac
        );
        // Keys for encryption exist, but neither the session nor a share asked for it.
        assert!(s.encryption.is_some() && s.encrypts().is_none());

        // Altered, unsigned, or with another session key: the logon fails.
        let mut altered = last.clone();
        altered[HEADER_LEN + 10] ^= 1;
        let mut unsigned = last.clone();
        unsigned[16] &= !(FLAG_SIGNED as u8);
        unsigned[48..64].fill(0);
        for (key, m, want) in [
            (&key[..], &altered, SigningError::Mismatch),
            (&key[..], &unsigned, SigningError::Unsigned),
            (&[7u8; 16][..], &last, SigningError::Mismatch),
        ] {
            let mut s = session_311(None).await;
            let e = s.install_session_key(key, m).unwrap_err();
            assert!(
                matches!(&e, SmbError::Signing { source, .. } if *source == want),
                "{e}"
            );
            assert!(!s.signs());
        }

        // The session flagged ENCRYPT_DATA: sealed from here on, or an error without a cipher.
        let mut flagged = last.clone();
        flagged[HEADER_LEN + 2] |= msg::SESSION_FLAG_ENCRYPT_DATA as u8;
        let mut s = session_311(Some(Cipher::Aes128Ccm)).await;
        // (The flag changes the signed bytes: re-sign with the key the session will derive.)
        let k = crypto::keys_311(&key, s.preauth.as_ref().unwrap());
        SigningKey::aes_cmac(&k.signing).sign(&mut flagged).unwrap();
        s.install_session_key(&key, &flagged).unwrap();
        assert_eq!(s.encrypts(), Some(Cipher::Aes128Ccm));
        let mut s = session_311(None).await;
        let e = s.install_session_key(&key, &flagged).unwrap_err();
        assert!(matches!(e, SmbError::NoCipher(msg::DIALECT_311)), "{e}");
    }

    #[tokio::test]
    async fn an_encrypting_session_seals_its_requests_and_opens_only_sealed_answers() {
        // What each answer is made of, given the server's keys and the request it received.
        type Answer = fn(&mut Encryption, &[u8]) -> Vec<u8>;
        let c2s = [3u8; 16];
        let s2c = [4u8; 16];
        let reply = || negotiate_reply(0, msg::DIALECT_210, 0, 0);
        let cases: Vec<(Answer, Option<&str>)> = vec![
            (
                |e, _| {
                    e.seal(9, &negotiate_reply(0, msg::DIALECT_210, 0, 0))
                        .unwrap()
                },
                None,
            ),
            (
                |e, _| {
                    let mut m = e
                        .seal(9, &negotiate_reply(0, msg::DIALECT_210, 0, 0))
                        .unwrap();
                    let last = m.len() - 1;
                    m[last] ^= 1;
                    m
                },
                Some("does not authenticate"),
            ),
            (
                |e, _| {
                    e.seal(10, &negotiate_reply(0, msg::DIALECT_210, 0, 0))
                        .unwrap()
                },
                Some("for session 0x000000000000000a, not 0x0000000000000009"),
            ),
            (
                |_, _| negotiate_reply(0, msg::DIALECT_210, 0, 0),
                Some("an unencrypted answer on a session that encrypts"),
            ),
        ];
        for (answer, says) in cases {
            let (addr, request) = server_seeing(move |req| {
                let mut server = Encryption::new(Cipher::Aes128Gcm, &s2c, &c2s, [0; 4]);
                // The request came sealed, and opens under the client-to-server key.
                let inner = server.open(9, req).expect("a sealed request");
                assert_eq!(Header::decode(&inner).unwrap().session_id, 9);
                assert_eq!(inner[16] & FLAG_SIGNED as u8, 0, "sealed, not signed");
                vec![framed(&answer(&mut server, req))]
            })
            .await;
            let mut s = Session::connect(addr, None).await.unwrap();
            s.session_id = 9;
            s.signing = Some(SigningKey::aes_cmac(&[5; 16]));
            s.encryption = Some(Encryption::new(Cipher::Aes128Gcm, &c2s, &s2c, [1; 4]));
            s.encrypting = true;
            let got = bounded(s.exchange(Command::Negotiate, &[], &[])).await;
            match says {
                None => {
                    let (_, m) = got.unwrap();
                    assert_eq!(m, reply());
                }
                Some(says) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(says), "{e} (expected: {says})");
                }
            }
            assert!(transform::is_transform(&request.await.unwrap()));
        }
    }

    #[tokio::test]
    async fn ipc_requiring_encryption_without_keys_is_an_error_that_asks_for_credentials() {
        // A null session the server flagged ENCRYPT_DATA: no tree connect is even sent.
        let (addr, _) = server_seeing(|_| Vec::new()).await;
        let mut s = Session::connect(addr, None).await.unwrap();
        s.dialect = msg::DIALECT_311;
        s.encrypt_required = true;
        let e = bounded(s.connect_ipc("srv")).await.unwrap_err();
        assert!(matches!(e, SmbError::EncryptionRequired), "{e}");
        assert!(e.to_string().contains("log on with credentials"), "{e}");
    }

    /// A VALIDATE_NEGOTIATE_INFO answer (message 0) with `status`, saying `dialect`.
    fn validate_reply(status: u32, dialect: u16) -> Vec<u8> {
        let mut h = Header::request(Command::Ioctl, 0, 1, 9);
        h.status = status;
        h.flags = FLAG_SERVER_TO_REDIR;
        h.credits = 1;
        let mut m = Vec::new();
        h.encode(&mut m);
        if status != 0 {
            m.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0, 0]);
            return m;
        }
        m.u16le(49);
        m.u16le(0);
        m.u32le(msg::FSCTL_VALIDATE_NEGOTIATE_INFO);
        m.extend_from_slice(&[0xff; 16]);
        m.u32le(0);
        m.u32le(0);
        m.u32le(112);
        m.u32le(24);
        m.u32le(0);
        m.u32le(0);
        m.u32le(msg::CAP_ENCRYPTION);
        m.extend_from_slice(&[6; 16]);
        m.u16le(msg::SIGNING_ENABLED);
        m.u16le(dialect);
        m
    }

    #[tokio::test]
    async fn a_30_negotiate_the_server_accounts_for_otherwise_is_an_error() {
        for (reply, fails) in [
            (validate_reply(0, msg::DIALECT_302), None),
            (validate_reply(status::NOT_SUPPORTED, 0), None),
            (validate_reply(status::INVALID_DEVICE_REQUEST, 0), None),
            // The NEGOTIATE answer said 3.0.2; the server's own account says 3.0.
            (
                validate_reply(0, msg::DIALECT_300),
                Some("the negotiate was altered in transit"),
            ),
            (
                validate_reply(status::ACCESS_DENIED, 0),
                Some("STATUS_ACCESS_DENIED"),
            ),
        ] {
            let (addr, request) = server_seeing(move |_| vec![framed(&reply)]).await;
            let mut s = Session::connect(addr, None).await.unwrap();
            s.negotiated = Some(msg::ValidateNegotiate {
                capabilities: msg::CAP_ENCRYPTION,
                server_guid: [6; 16],
                security_mode: msg::SIGNING_ENABLED,
                dialect: msg::DIALECT_302,
            });
            let got = bounded(s.validate_negotiate()).await;
            match fails {
                None => assert!(got.is_ok(), "{got:?}"),
                Some(says) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(says), "{e} (expected: {says})");
                }
            }
            // What went out: the validation, with the five dialects offered.
            let req = request.await.unwrap();
            assert_eq!(Header::decode(&req).unwrap().command, Command::Ioctl as u16);
            assert_eq!(
                &req[req.len() - 10..],
                &[2, 2, 0x10, 2, 0, 3, 2, 3, 0x11, 3]
            );
        }
    }

    #[tokio::test]
    async fn a_negative_netbios_answer_on_139_is_named() {
        let e = Session::connect(server(vec![vec![0x83, 0, 0, 1, 0x82]]).await, Some("SRV"))
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the NetBIOS session request was refused: called name not present"
        );
    }
}
