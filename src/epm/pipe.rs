//! The endpoint mapper over `ncacn_np`: the named pipe `\pipe\epmapper` on `IPC$`, over SMB2 on
//! TCP 445 (or 139 after a NetBIOS session request). The SMB session is logged on anonymously
//! (the null session) or with the run's credentials, under the same `--auth` rules and
//! [`LogonGate`](super::client::LogonGate) as the TCP binds (`dump --transport smb` through
//! [`super::dump::dump_host`], or [`dump_host_over_smb`] with other [`SmbOptions`]); the
//! DCE/RPC bind on the pipe is then unauthenticated, as Windows' own clients do it (the pipe
//! is the SMB session's). Over the pipe run the same bind and `ept_lookup` loop as over TCP
//! ([`EpmSession::over`]), and the result is the same [`HostDump`].
//!
//! Each SMB step (connect, negotiate, session setup, tree connect, create) has the same bounds
//! as a TCP step: its own limit and the host's whole-dump deadline, whichever is nearer.

use super::HostDump;
use super::auth::{AuthError, AuthInfo, Credentials, Level};
use super::client::{
    Bound, DumpError, DumpOptions, EpmSession, KDC_STEP, Road, dump_with, kerberos_spn,
};
use super::connection::{ConnectionError, Fragments, pending_in};
use crate::smb::header::status;
use crate::smb::pipe::Pipe;
use crate::smb::session::{Logon, MAX_IO, Session, SmbError};
use crate::wire::pdu;
use std::net::SocketAddr;
use tokio::time::{Instant, timeout_at};

/// The endpoint mapper's pipe, relative to `IPC$`.
pub const EPMAPPER_PIPE: &str = "epmapper";
/// SMB over TCP ("direct hosting").
pub const SMB_PORT: u16 = 445;
/// SMB over NetBIOS over TCP.
pub const NETBIOS_PORT: u16 = 139;

/// How to reach SMB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmbOptions {
    /// 445, or 139 (then a NetBIOS session request comes first).
    pub port: u16,
    /// The NetBIOS name called on 139; the target's name when it fits one, else `*SMBSERVER`.
    pub netbios_name: Option<String>,
    /// Send each request and read its answer in one `FSCTL_PIPE_TRANSCEIVE` (one round trip);
    /// off: a write, then reads.
    pub transceive: bool,
    /// The local address the SMB connection leaves from (None: the kernel's choice).
    pub source: Option<std::net::IpAddr>,
}

impl Default for SmbOptions {
    fn default() -> Self {
        SmbOptions {
            port: SMB_PORT,
            netbios_name: None,
            transceive: true,
            source: None,
        }
    }
}

/// Dump `target`'s endpoint mapper over `\pipe\epmapper`. `addrs` are the target's addresses
/// (their ports are replaced by `smb.port`), tried in turn. Never fails: problems are in the
/// returned status and error, as with [`super::dump::dump_host`].
pub async fn dump_host_over_smb(
    target: &str,
    addrs: &[SocketAddr],
    opts: &DumpOptions,
    smb: &SmbOptions,
) -> HostDump {
    let addrs: Vec<SocketAddr> = addrs
        .iter()
        .map(|a| SocketAddr::new(a.ip(), smb.port))
        .collect();
    let road = SmbRoad {
        target,
        addrs: &addrs,
        opts,
        smb,
    };
    dump_with(target, opts, &road).await
}

/// The SMB road of [`super::dump::dump_host`] (`--transport smb`): the addresses already on
/// the SMB port.
pub(crate) struct SmbRoad<'r> {
    target: &'r str,
    addrs: &'r [SocketAddr],
    opts: &'r DumpOptions,
    smb: &'r SmbOptions,
}

impl Road for SmbRoad<'_> {
    async fn attempt<'a>(
        &'a self,
        deadline: Instant,
        auth: Option<(&'a Credentials, Level)>,
        d: &'a mut HostDump,
    ) -> Result<super::client::Ending, DumpError> {
        let creds = auth.map(|(c, _)| c);
        let mut last_err = None;
        for addr in self.addrs {
            match self.open(*addr, deadline, creds).await {
                Ok((pipe, logon)) => {
                    d.address = Some(*addr);
                    d.transport = Some(super::Transport::Smb);
                    // A sealed session (SMB 3 encryption) protects like the privacy level.
                    let sealed = pipe.session().encrypts().is_some();
                    let protected = if sealed {
                        Level::Privacy
                    } else {
                        Level::Integrity
                    };
                    d.auth = match (logon, creds) {
                        (Logon::Kerberos, Some(c)) => Some(AuthInfo {
                            mechanism: "kerberos".into(),
                            level: protected,
                            user: self
                                .opts
                                .auth
                                .kdc
                                .as_deref()
                                .map_or_else(|| c.display_user(), |k| k.principal(c)),
                        }),
                        (Logon::Ntlm { signed }, Some(c)) => Some(AuthInfo {
                            mechanism: "ntlm".into(),
                            level: if signed || sealed {
                                protected
                            } else {
                                Level::Connect
                            },
                            user: c.display_user(),
                        }),
                        _ => None,
                    };
                    if logon == Logon::Guest {
                        d.warnings.push(format!(
                            "{}: the SMB server logged the credentials on as guest; the map was read without them, unsigned",
                            self.target
                        ));
                    }
                    let frags = PipeFragments::new(pipe, self.smb.transceive);
                    let mut s =
                        EpmSession::over(frags, *addr, self.opts, deadline, None, None).await?;
                    return super::client::lookup_all(
                        &mut s,
                        self.opts,
                        &mut d.endpoints,
                        &mut d.warnings,
                    )
                    .await;
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or(DumpError::NoAddress))
    }
}

impl<'r> SmbRoad<'r> {
    pub(crate) fn new(
        target: &'r str,
        addrs: &'r [SocketAddr],
        opts: &'r DumpOptions,
        smb: &'r SmbOptions,
    ) -> Self {
        SmbRoad {
            target,
            addrs,
            opts,
            smb,
        }
    }

    fn bound(&self, by: Instant, deadline: Instant, own: std::time::Duration) -> Bound {
        if by == deadline {
            Bound::Host(self.opts.timeout)
        } else {
            Bound::Step(own)
        }
    }

    /// Connect, negotiate, log on, connect to `IPC$` and open `\pipe\epmapper`, each step
    /// bounded.
    async fn open(
        &self,
        addr: SocketAddr,
        deadline: Instant,
        creds: Option<&Credentials>,
    ) -> Result<(Pipe, Logon), DumpError> {
        self.open_pipe(addr, deadline, creds, EPMAPPER_PIPE).await
    }

    /// [`SmbRoad::open`] for the pipe `name` (relative to `IPC$`, without `\pipe\`).
    async fn open_pipe(
        &self,
        addr: SocketAddr,
        deadline: Instant,
        creds: Option<&Credentials>,
        name: &str,
    ) -> Result<(Pipe, Logon), DumpError> {
        let o = self.opts;
        let by = deadline.min(Instant::now() + o.connect_timeout);
        let timeout = |step, by| DumpError::Timeout {
            step,
            bound: self.bound(by, deadline, o.call_timeout),
            received: 0,
            announced: None,
        };
        let netbios = (self.smb.port == NETBIOS_PORT).then(|| {
            self.smb
                .netbios_name
                .clone()
                .unwrap_or_else(|| self.target.to_string())
        });
        let mut session = match timeout_at(
            by,
            Session::connect_from(addr, self.smb.source, netbios.as_deref()),
        )
        .await
        {
            Err(_) => {
                return Err(DumpError::Timeout {
                    step: "connect",
                    bound: self.bound(by, deadline, o.connect_timeout),
                    received: 0,
                    announced: None,
                });
            }
            Ok(Err(SmbError::Io(source))) => return Err(DumpError::Connect { addr, source }),
            Ok(Err(source)) => {
                return Err(DumpError::Smb {
                    step: "smb connect",
                    source,
                });
            }
            Ok(Ok(s)) => s,
        };
        let step = "smb negotiate";
        let by = deadline.min(Instant::now() + o.call_timeout);
        timeout_at(by, session.negotiate())
            .await
            .map_err(|_| timeout(step, by))?
            .map_err(|source| DumpError::Smb { step, source })?;

        let step = "smb session setup";
        let by = deadline.min(Instant::now() + o.call_timeout);
        let logon = match creds {
            None => timeout_at(by, session.logon_anonymous()).await,
            Some(c) if o.auth.mode.is_kerberos() => {
                let spn = smb_spn(self.target, o)
                    .ok_or_else(|| DumpError::NoHostName(self.target.to_string()))?;
                let kdc = o.auth.kdc.as_deref().ok_or(DumpError::Auth {
                    step,
                    source: AuthError::Kerberos("no KDC: give --realm (and --kdc)".into()),
                })?;
                timeout_at(by, session.logon_kerberos(kdc, c, &spn)).await
            }
            Some(c) => timeout_at(by, session.logon_ntlm(c)).await,
        }
        .map_err(|_| timeout(step, by))?
        .map_err(|source| refusal(step, source, creds))?;

        let step = "smb tree connect IPC$";
        let by = deadline.min(Instant::now() + o.call_timeout);
        timeout_at(by, session.connect_ipc(&server_name(self.target, addr)))
            .await
            .map_err(|_| timeout(step, by))?
            .map_err(|source| refusal(step, source, creds))?;

        let step = if name == EPMAPPER_PIPE {
            "smb create \\pipe\\epmapper"
        } else {
            "smb create pipe"
        };
        let by = deadline.min(Instant::now() + o.call_timeout);
        let pipe = timeout_at(by, Pipe::open(session, name))
            .await
            .map_err(|_| timeout(step, by))?
            .map_err(|source| refusal(step, source, creds))?;
        Ok((pipe, logon))
    }
}

/// Most named pipes one probe tries to open.
pub const MAX_PIPES_PROBED: usize = 32;

/// The pipes Windows serves its RPC interfaces on, tried when the map could not be read.
pub const WELL_KNOWN_PIPES: [&str; 12] = [
    EPMAPPER_PIPE,
    "lsarpc",
    "samr",
    "netlogon",
    "spoolss",
    "svcctl",
    "efsrpc",
    "winreg",
    "srvsvc",
    "wkssvc",
    "eventlog",
    "atsvc",
];

/// The pipe of an `ncacn_np` binding (`ncacn_np:\\HOST[\pipe\lsarpc]` → `lsarpc`), when its
/// name is plain (letters, digits, `_ . $ -`, at most 64 characters): a name read from the
/// network goes into an SMB request only then.
pub fn pipe_name(binding: &str) -> Option<String> {
    let inner = binding.rsplit_once('[')?.1.strip_suffix(']')?;
    let lower = inner.to_ascii_lowercase();
    let name = lower.strip_prefix("\\pipe\\")?;
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.$-".contains(&b));
    plain.then(|| name.to_string())
}

/// The pipes to try on a host: `epmapper` and those its map registers on `ncacn_np`, each once,
/// at most [`MAX_PIPES_PROBED`]; the well-known ones when the map was not read whole; none
/// when the map was read and registers no named pipe.
pub fn pipes_to_probe(dump: &HostDump) -> Vec<String> {
    if dump.status != super::HostStatus::Ok {
        return WELL_KNOWN_PIPES.iter().map(|p| p.to_string()).collect();
    }
    let mut out: Vec<String> = Vec::new();
    for name in dump
        .endpoints
        .iter()
        .filter(|e| e.protocol == "ncacn_np")
        .filter_map(|e| pipe_name(&e.binding))
    {
        if out.is_empty() {
            out.push(EPMAPPER_PIPE.to_string());
        }
        if !out.contains(&name) && out.len() < MAX_PIPES_PROBED {
            out.push(name);
        }
    }
    out
}

/// Which named pipes opened from one source over one SMB port, on an anonymous (null) session
/// or logged on with the run's credentials (`user`). In the audit report, each host's
/// `pipe_opens`.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct PipeAccess {
    pub source: std::net::IpAddr,
    pub port: u16,
    /// The account the session was logged on with (`DOMAIN\user`); absent: the null session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The pipes that opened, in the order tried.
    pub opened: Vec<String>,
    /// The pipes the server refused, each as `[pipe, status]` (`0xc0000034`: no such pipe;
    /// `0xc0000022`: access denied).
    pub refused: Vec<(String, String)>,
    /// Why the session itself could not be set up (connect, negotiate, session setup, `IPC$`),
    /// or what ended the tries early.
    pub error: Option<String>,
}

impl PipeAccess {
    /// How the session was logged on, as a finding says it: "anonymous" or "as USER".
    pub fn logon(&self) -> String {
        match &self.user {
            None => "anonymous".to_string(),
            Some(u) => format!("as {u}"),
        }
    }
}

/// Whether an SMB session setup refused the credentials themselves: what the run's
/// [`LogonGate`](super::client::LogonGate) counts.
/// The SPN of the SMB server on `target`: `cifs/NAME`, the service class SMB clients ask
/// tickets for (Active Directory maps `cifs` onto the computer's `host/` SPN through its
/// `sPNMappings`), NAME from `--target-name` or the target's own name; `None` for an address
/// without a name.
fn smb_spn(target: &str, opts: &DumpOptions) -> Option<String> {
    let spn = kerberos_spn(target, opts)?;
    let host = spn.split_once('/').map_or(spn.as_str(), |(_, h)| h);
    Some(format!("cifs/{host}"))
}

fn is_logon_failure(e: &SmbError) -> bool {
    matches!(
        e.status(),
        Some(
            status::LOGON_FAILURE
                | status::ACCOUNT_RESTRICTION
                | status::ACCOUNT_DISABLED
                | status::ACCOUNT_LOCKED_OUT
                | status::PASSWORD_EXPIRED
        )
    )
}

/// Log `s` on with `creds` (Kerberos for `cifs/` on `target` with `--auth kerberos|negotiate`,
/// else NTLM), under the run's logon gate: the credentials are not sent once the run's limit
/// of logon failures is reached, and a logon failure here (the host's, or the KDC's) counts
/// toward it, as a refused bind does. A guest logon is no logon with the credentials.
async fn logon_gated(
    s: &mut Session,
    (target, creds): (&str, &Credentials),
    opts: &DumpOptions,
    by: Instant,
) -> Result<(), String> {
    let kerberos = opts.auth.mode.is_kerberos();
    let what = if kerberos {
        "smb session setup (Kerberos)"
    } else {
        "smb session setup (NTLM)"
    };
    let gate = &opts.auth.gate;
    let Some(permit) = gate.acquire().await else {
        return Err(format!(
            "{what}: not sent, {} logon failures in this run",
            gate.failures()
        ));
    };
    let logon = if kerberos {
        let (Some(kdc), Some(spn)) = (opts.auth.kdc.as_deref(), smb_spn(target, opts)) else {
            return Err(format!(
                "{what}: not sent, no KDC or no host name for {target} (--realm, --kdc, --target-name)"
            ));
        };
        timeout_at(by, s.logon_kerberos(kdc, creds, &spn)).await
    } else {
        timeout_at(by, s.logon_ntlm(creds)).await
    };
    match logon {
        Err(_) => Err(format!("{what}: timed out")),
        Ok(Ok(Logon::Ntlm { .. } | Logon::Kerberos)) => {
            permit.accepted();
            Ok(())
        }
        Ok(Ok(_)) => Err(format!(
            "{what}: the server logged the credentials on as guest"
        )),
        Ok(Err(e)) => {
            if is_logon_failure(&e) || matches!(e, SmbError::Auth(AuthError::LogonFailure(_))) {
                permit.logon_failure();
            }
            Err(format!("{what}: {e}"))
        }
    }
}

/// Open each of `names` on `IPC$` of `addr` (445, or 139 with a NetBIOS session request to
/// `target`) from `source`, on an anonymous session or, with `creds`, logged on with them
/// (NTLM or Kerberos, under the run's logon gate), closing each again; every step within the dump's step
/// limits and all of it before `deadline`. Never fails: what went wrong is in the result.
pub async fn open_pipes_from(
    target: &str,
    addr: SocketAddr,
    source: std::net::IpAddr,
    names: &[String],
    (opts, creds): (&DumpOptions, Option<&Credentials>),
    deadline: Instant,
) -> PipeAccess {
    let mut access = PipeAccess {
        source,
        port: addr.port(),
        user: creds.map(Credentials::display_user),
        opened: Vec::new(),
        refused: Vec::new(),
        error: None,
    };
    if creds.is_some() && opts.auth.gate.closed() {
        // Credentials the run no longer uses: not even a connection.
        access.error = Some(format!(
            "smb session setup (NTLM): not sent, {} logon failures in this run",
            opts.auth.gate.failures()
        ));
        return access;
    }
    let netbios = (addr.port() == NETBIOS_PORT).then(|| target.to_string());
    let within = |limit| deadline.min(Instant::now() + limit);
    let session = async {
        let timed_out = |what: &str| format!("{what}: timed out");
        let mut s = timeout_at(
            within(opts.connect_timeout),
            Session::connect_from(addr, Some(source), netbios.as_deref()),
        )
        .await
        .map_err(|_| timed_out("smb connect"))?
        .map_err(|e| format!("smb connect: {e}"))?;
        let what = "smb negotiate";
        timeout_at(within(opts.call_timeout), s.negotiate())
            .await
            .map_err(|_| timed_out(what))?
            .map_err(|e| format!("{what}: {e}"))?;
        match creds {
            None => {
                let what = "smb session setup (null session)";
                timeout_at(within(opts.call_timeout), s.logon_anonymous())
                    .await
                    .map_err(|_| timed_out(what))?
                    .map_err(|e| format!("{what}: {e}"))?;
            }
            Some(c) => logon_gated(&mut s, (target, c), opts, within(opts.call_timeout)).await?,
        }
        let what = "smb tree connect IPC$";
        timeout_at(
            within(opts.call_timeout),
            s.connect_ipc(&server_name(target, addr)),
        )
        .await
        .map_err(|_| timed_out(what))?
        .map_err(|e| format!("{what}: {e}"))?;
        Ok::<Session, String>(s)
    };
    let mut s = match session.await {
        Ok(s) => s,
        Err(e) => {
            access.error = Some(e);
            return access;
        }
    };
    for name in names.iter().take(MAX_PIPES_PROBED) {
        let by = within(opts.call_timeout);
        match timeout_at(by, s.open(name)).await {
            Err(_) => {
                access.error = Some(format!("smb create {name}: timed out"));
                break;
            }
            Ok(Ok(file)) => {
                access.opened.push(name.clone());
                let by = within(opts.call_timeout);
                if !matches!(timeout_at(by, s.close_file(file)).await, Ok(Ok(()))) {
                    access.error = Some(format!("smb close {name}: no clean answer"));
                    break;
                }
            }
            Ok(Err(e)) => {
                let why = match e.status() {
                    Some(code) => format!("0x{code:08x}"),
                    None => e.to_string(),
                };
                access.refused.push((name.clone(), why));
                if e.status().is_none() {
                    // Not a refusal of this pipe: the session broke.
                    access.error = Some(format!("smb create {name}: {e}"));
                    break;
                }
            }
        }
    }
    access
}

/// Probe one interface over the named pipe `name` (without `\\pipe\\`) on `addr` (the SMB
/// port): an anonymous SMB session, or with `creds` one logged on with them (NTLM or Kerberos
/// as `--auth` says, under the run's logon gate), then an unauthenticated bind to `syntax` on the pipe, as over TCP (the
/// server sees the session's user), and one call at `opnum` (`epm::reach` picks one beyond
/// every dispatch table), from the local address `source` when one is given.
pub(crate) async fn probe_pipe(
    target: &str,
    addr: SocketAddr,
    name: &str,
    syntax: crate::wire::pdu::SyntaxId,
    opnum: u16,
    opts: &DumpOptions,
    (source, deadline, creds): (Option<std::net::IpAddr>, Instant, Option<&Credentials>),
) -> Result<usize, DumpError> {
    let smb = SmbOptions {
        source,
        ..SmbOptions::default()
    };
    let addrs = [addr];
    let road = SmbRoad::new(target, &addrs, opts, &smb);
    let (pipe, _) = match creds {
        None => road.open_pipe(addr, deadline, None, name).await?,
        // Logged on with the credentials (NTLM or Kerberos), under the run's logon gate: not sent once the
        // run's limit of logon failures is reached, and a logon failure here counts.
        Some(c) => {
            let gate = &opts.auth.gate;
            let Some(permit) = gate.acquire().await else {
                return Err(DumpError::CredentialsRetired(gate.failures()));
            };
            let r = road.open_pipe(addr, deadline, Some(c), name).await;
            match &r {
                Ok(_) => permit.accepted(),
                Err(DumpError::LogonFailure { .. }) => permit.logon_failure(),
                Err(_) => drop(permit),
            }
            r?
        }
    };
    let frags = PipeFragments::new(pipe, smb.transceive);
    let mut s = EpmSession::over_for(frags, addr, opts, deadline, None, None, syntax).await?;
    s.probe_call(opnum).await
}

/// The server part of `\\server\IPC$`: the target as given when it is a name, else the address.
fn server_name(target: &str, addr: SocketAddr) -> String {
    if target.parse::<std::net::IpAddr>().is_ok()
        || target.is_empty()
        || target.contains(['\\', '/'])
    {
        match addr.ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        }
    } else {
        target.to_string()
    }
}

/// What an SMB failure at `step` means for the `--auth` rules: a refused null session, a logon
/// failure the run's gate counts, or just an error.
fn refusal(step: &'static str, source: SmbError, creds: Option<&Credentials>) -> DumpError {
    let refused = matches!(
        source.status(),
        Some(status::ACCESS_DENIED | status::LOGON_FAILURE | status::ACCOUNT_RESTRICTION)
    );
    match (creds, source) {
        // The KDC refused the credentials: one logon failure for the run (the account's
        // lockout counter is the domain's), before anything reached the host.
        (Some(c), SmbError::Auth(AuthError::LogonFailure(detail))) => DumpError::LogonFailure {
            step: KDC_STEP,
            user: c.display_user(),
            detail,
        },
        (creds, source) => refusal_by_host(step, source, creds, refused),
    }
}

fn refusal_by_host(
    step: &'static str,
    source: SmbError,
    creds: Option<&Credentials>,
    refused: bool,
) -> DumpError {
    match creds {
        None if refused => DumpError::SmbAnonymousRefused {
            step,
            detail: source.to_string(),
            creds_unused: false,
        },
        Some(c) if step == "smb session setup" && is_logon_failure(&source) => {
            DumpError::LogonFailure {
                step,
                user: c.display_user(),
                detail: source.to_string(),
            }
        }
        _ => DumpError::Smb { step, source },
    }
}

/// DCE/RPC fragments over an open pipe. With `transceive`, a fragment written is held until
/// the next read, and then sent with it in one `FSCTL_PIPE_TRANSCEIVE` (or written alone when
/// another write comes first, as after `rpc_auth3`).
struct PipeFragments {
    pipe: Pipe,
    buf: Vec<u8>,
    queued: Option<Vec<u8>>,
    transceive: bool,
}

impl PipeFragments {
    fn new(pipe: Pipe, transceive: bool) -> Self {
        PipeFragments {
            pipe,
            buf: Vec::new(),
            queued: None,
            transceive,
        }
    }
}

impl Fragments for PipeFragments {
    async fn read_fragment(&mut self) -> Result<Vec<u8>, ConnectionError> {
        loop {
            if let Some(len) = pdu::frame_length(&self.buf)? {
                let rest = self.buf.split_off(len);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            // At most one fragment (64 KiB by its header's field) plus one read is held.
            let chunk = match self.queued.take() {
                Some(q) => self.pipe.transceive(&q, MAX_IO).await?,
                None => self.pipe.read(MAX_IO).await?,
            };
            if chunk.data.is_empty() && !chunk.more {
                return Err(if self.buf.is_empty() {
                    ConnectionError::Closed
                } else {
                    ConnectionError::ClosedMidFrame(self.buf.len())
                });
            }
            self.buf.extend_from_slice(&chunk.data);
        }
    }

    async fn write_fragment(&mut self, bytes: &[u8]) -> Result<(), ConnectionError> {
        if let Some(q) = self.queued.take() {
            self.pipe.write(&q).await?;
        }
        if self.transceive {
            self.queued = Some(bytes.to_vec());
        } else {
            self.pipe.write(bytes).await?;
        }
        Ok(())
    }

    fn pending(&self) -> (usize, Option<usize>) {
        pending_in(&self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Credentials the run no longer uses (its logon-failure limit reached) are not sent for a
    /// pipe open: no connection is even made, and the result says why.
    #[tokio::test]
    async fn retired_credentials_open_no_session() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut opts = DumpOptions::default();
        opts.auth.gate = std::sync::Arc::new(super::super::client::LogonGate::new(1));
        opts.auth
            .gate
            .acquire()
            .await
            .expect("a first permit")
            .logon_failure();
        let creds = Credentials::password("audit", "LAB", "pw");
        let a = open_pipes_from(
            "srv",
            addr,
            addr.ip(),
            &[EPMAPPER_PIPE.to_string()],
            (&opts, Some(&creds)),
            Instant::now() + std::time::Duration::from_secs(2),
        )
        .await;
        assert_eq!(a.user.as_deref(), Some("LAB\\audit"));
        assert_eq!(
            a.error.as_deref(),
            Some("smb session setup (NTLM): not sent, 1 logon failures in this run")
        );
        assert!(a.opened.is_empty() && a.refused.is_empty());
        let accepted =
            tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "a connection was made");
    }

    #[tokio::test]
    async fn a_silent_smb_server_times_out_on_the_step_bound_and_the_host_deadline() {
        for (host, step, says) in [
            (
                20_000,
                300,
                "quiet: smb negotiate: timed out, the step's own limit of 300ms ran out",
            ),
            (
                400,
                10_000,
                "quiet: smb negotiate: timed out, the host's whole-dump deadline of 400ms ran out",
            ),
        ] {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            tokio::spawn(async move {
                let (s, _) = l.accept().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                drop(s);
            });
            let opts = DumpOptions {
                timeout: std::time::Duration::from_millis(host),
                call_timeout: std::time::Duration::from_millis(step),
                ..DumpOptions::default()
            };
            let smb = SmbOptions {
                port: addr.port(),
                ..SmbOptions::default()
            };
            let started = std::time::Instant::now();
            let d = dump_host_over_smb("quiet", &[addr], &opts, &smb).await;
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
            assert_eq!(d.status, super::super::HostStatus::Error);
            assert_eq!(d.error.as_deref(), Some(says));
        }
    }

    #[test]
    fn the_share_path_names_the_target_or_its_address() {
        let a: SocketAddr = "198.18.0.10:445".parse().unwrap();
        assert_eq!(server_name("RPCASRV", a), "RPCASRV");
        assert_eq!(server_name("198.18.0.10", a), "198.18.0.10");
        let v6: SocketAddr = "[::1]:445".parse().unwrap();
        assert_eq!(server_name("::1", v6), "[::1]");
    }

    #[test]
    fn an_anonymous_refusal_is_told_from_a_logon_failure() {
        let denied = || SmbError::Status {
            command: "session setup",
            status: status::ACCESS_DENIED,
        };
        let failed = || SmbError::Status {
            command: "session setup",
            status: status::LOGON_FAILURE,
        };
        assert!(matches!(
            refusal("smb session setup", denied(), None),
            DumpError::SmbAnonymousRefused { .. }
        ));
        let c = Credentials::password("u", "D", "p");
        assert!(matches!(
            refusal("smb session setup", failed(), Some(&c)),
            DumpError::LogonFailure { .. }
        ));
        assert!(matches!(
            refusal("smb tree connect IPC$", denied(), Some(&c)),
            DumpError::Smb { .. }
        ));
    }

    #[test]
    fn pipe_names_come_from_bindings_and_only_plain_ones() {
        assert_eq!(
            pipe_name("ncacn_np:\\\\SRV01[\\pipe\\lsarpc]").as_deref(),
            Some("lsarpc")
        );
        assert_eq!(
            pipe_name("ncacn_np:\\\\SRV01[\\PIPE\\Spoolss]").as_deref(),
            Some("spoolss")
        );
        for bad in [
            "ncacn_np:\\\\SRV01[\\pipe\\]",
            "ncacn_np:\\\\SRV01[\\pipe\\a\\..\\b]",
            "ncacn_np:\\\\SRV01[lsarpc]",
            "ncacn_np:\\\\SRV01[\\pipe\\x\u{1b}]",
            "ncacn_ip_tcp:10.0.0.1[5001]",
        ] {
            assert_eq!(pipe_name(bad), None, "{bad}");
        }
        let long = format!("ncacn_np:\\\\S[\\pipe\\{}]", "a".repeat(65));
        assert_eq!(pipe_name(&long), None);
    }

    #[test]
    fn the_pipes_probed_are_the_maps_or_the_well_known_ones() {
        use crate::epm::testing;
        let np = |pipe: &str| {
            let mut e = testing::tcp_endpoint("h", 1, 1);
            e.protocol = "ncacn_np".into();
            e.port = None;
            e.binding = format!("ncacn_np:\\\\H[\\pipe\\{pipe}]");
            e
        };
        let d = testing::dump(
            "h",
            None,
            vec![
                np("lsass"),
                np("lsass"),
                np("spoolss"),
                testing::tcp_endpoint("h", 5001, 2),
            ],
        );
        assert_eq!(pipes_to_probe(&d), ["epmapper", "lsass", "spoolss"]);
        let many = testing::dump("h", None, (0..100).map(|k| np(&format!("p{k}"))).collect());
        assert_eq!(pipes_to_probe(&many).len(), MAX_PIPES_PROBED);
        let tcp_only = testing::dump("h", None, vec![testing::tcp_endpoint("h", 5001, 2)]);
        assert!(pipes_to_probe(&tcp_only).is_empty());
        let failed = crate::epm::client::failed("h", "timed out".into());
        assert_eq!(pipes_to_probe(&failed), WELL_KNOWN_PIPES);
    }
}
