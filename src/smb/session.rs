//! One SMB2 session over TCP: connect (445 directly, or 139 after a NetBIOS session request),
//! negotiate 2.0.2/2.1, log on (anonymously, or with NTLM or Kerberos through sspi), connect to `IPC$`, and
//! exchange one request and its response at a time: message ids in order, credits counted,
//! interim `STATUS_PENDING` answers waited through, every response's signature verified once
//! the session signs. Messages are capped ([`MAX_MESSAGE`]) before they are buffered.
//!
//! Nothing here waits without bound on its own terms: every method is one step of a dump that
//! the caller (`epm::pipe`) runs under `tokio::time::timeout_at`, and a cancelled step leaves
//! the session unusable, which is how a timed-out dump ends anyway.

use super::header::{Command, FLAG_SIGNED, HEADER_LEN, Header, status};
use super::msg::{self, DIALECTS, FileId, SESSION_FLAG_IS_GUEST, SESSION_FLAG_IS_NULL};
use super::netbios::{self, Frame};
use super::signing::{SigningError, SigningKey};
use super::{SmbWireError, ntlm_anon};
use crate::epm::auth::{AuthError, ClientAuth, Credentials, Level};
use crate::epm::kerberos::{Kdc, KrbAuth};
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The largest message accepted: a read of [`MAX_IO`] bytes and its header, with room to spare.
pub const MAX_MESSAGE: usize = MAX_IO as usize + 4096;
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
        "the server chose SMB dialect 0x{0:04x}; rpcaudit offers 2.0.2 and 2.1 only (SMB 3 is not read yet)"
    )]
    Dialect(u16),
    /// The server refused every dialect offered (MS-SMB2 3.3.5.4: STATUS_NOT_SUPPORTED when no
    /// common dialect is found): a server that requires SMB 3.x (`server min protocol = SMB3`).
    #[error(
        "{}: the server accepts none of the dialects offered, SMB 2.0.2 and 2.1; it requires SMB 3.x (3.0, 3.0.2 or 3.1.1), which rpcaudit does not read yet",
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
    #[error("the server requires encryption of the session (SMB 3), which is not supported")]
    EncryptionRequired,
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
        let want = chunk.len().min(
            (MAX_MESSAGE + netbios::FRAME_HEADER + chunk.len()).saturating_sub(self.buf.len()),
        );
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
            match netbios::frame_header(&self.buf, MAX_MESSAGE)? {
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
        if let Some(key) = &self.signing {
            key.sign(&mut m).map_err(|source| SmbError::Signing {
                command: name,
                source,
            })?;
        }
        let framed = netbios::frame(&m)?;
        self.stream.write_all(&framed).await?;
        loop {
            let reply = self.read_message().await?;
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
            if let Some(key) = &self.signing {
                key.verify(&reply).map_err(|source| SmbError::Signing {
                    command: name,
                    source,
                })?;
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

    /// NEGOTIATE 2.0.2/2.1, signing enabled.
    pub async fn negotiate(&mut self) -> Result<(), SmbError> {
        let body = msg::negotiate_request(&DIALECTS, msg::SIGNING_ENABLED, client_guid());
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
        self.sign_with(&sec.session_key()?, &last)?;
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
        self.sign_with(&sec.session_key()?, &last)?;
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

    /// Sign every message from here on with the key of `session_key`, checking the final
    /// session setup answer `last` with it first when the server signed it.
    fn sign_with(&mut self, session_key: &[u8], last: &[u8]) -> Result<(), SmbError> {
        let key = SigningKey::smb2(session_key);
        if last
            .get(16)
            .is_some_and(|f| u32::from(*f) & FLAG_SIGNED != 0)
        {
            key.verify(last).map_err(|source| SmbError::Signing {
                command: "session setup",
                source,
            })?;
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
        if r.session_flags & msg::SESSION_FLAG_ENCRYPT_DATA != 0 {
            return Err(SmbError::EncryptionRequired);
        }
        Ok((h, r.token))
    }

    /// The last leg: the session flags and the whole final message.
    async fn setup_final(&mut self, token: &[u8]) -> Result<(u16, Vec<u8>), SmbError> {
        let body = msg::session_setup_request(msg::SIGNING_ENABLED as u8, token)?;
        let (h, reply) = self.exchange(Command::SessionSetup, &body, &[]).await?;
        // A one-leg logon (Kerberos) learns its session id here.
        self.session_id = h.session_id;
        let r = msg::session_setup_response(&reply)?;
        if r.session_flags & msg::SESSION_FLAG_ENCRYPT_DATA != 0 {
            return Err(SmbError::EncryptionRequired);
        }
        Ok((r.session_flags, reply))
    }

    /// TREE_CONNECT to `\\server\IPC$`.
    pub async fn connect_ipc(&mut self, server: &str) -> Result<(), SmbError> {
        let body = msg::tree_connect_request(&format!(r"\\{server}\IPC$"))?;
        let (h, reply) = self.exchange(Command::TreeConnect, &body, &[]).await?;
        let t = msg::tree_connect_response(&reply)?;
        if t.share_type != msg::SHARE_TYPE_PIPE {
            return Err(SmbError::NotPipeShare(t.share_type));
        }
        self.tree_id = h.tree_id();
        Ok(())
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
                vec![framed(&negotiate_reply(0, 0x0311, 0, 0))],
                "dialect 0x0311",
            ),
            (
                // What a server that requires SMB 3.x answers (Samba with `server min protocol =
                // SMB3`, Windows alike): no common dialect.
                vec![framed(&negotiate_reply(0, 0, status::NOT_SUPPORTED, 0)[..HEADER_LEN + 9])],
                "0xc00000bb (STATUS_NOT_SUPPORTED): the server accepts none of the dialects offered, SMB 2.0.2 and 2.1;",
            ),
            (
                vec![framed(&negotiate_reply(0, 0, status::NOT_SUPPORTED, 0)[..HEADER_LEN + 9])],
                "it requires SMB 3.x (3.0, 3.0.2 or 3.1.1), which rpcaudit does not read yet",
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
