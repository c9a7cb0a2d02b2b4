//! `rpcaudit dump`: list what each target's endpoint mapper has registered, like rpcdump.

use super::progress::Progress;
use super::stream::{Form, Output, until_interrupted};
use super::{Error, Exit};
use crate::epm::HostStatus;
use crate::epm::auth::{CredentialError, Credentials, Redacted, Secret};
use crate::epm::client::{AuthOptions, DumpOptions, Roads};
use crate::epm::dump::dump_each;
use crate::report::dump::{DumpReport, DumpTally, render_table};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub targets: super::targets::TargetArgs,
    #[command(flatten)]
    pub epm: EpmArgs,
    #[command(flatten)]
    pub output: super::stream::HostsOutput,
}

/// Flags shared by every command that dumps endpoint mappers.
#[derive(Debug, Clone, clap::Args)]
pub struct EpmArgs {
    /// TCP port of the endpoint mapper.
    #[arg(long, default_value_t = crate::ports::EPM_PORT)]
    pub port: u16,
    /// The road to the endpoint mapper; `auto` takes the next road only when the one before
    /// is refused or filtered, and each host says which answered.
    #[arg(long, value_enum, default_value_t = super::values::TransportArg::Tcp)]
    pub transport: super::values::TransportArg,
    /// TCP port of the endpoint mapper over ncacn_http (RPC over HTTP v1).
    #[arg(long, value_name = "PORT", default_value_t = crate::epm::HTTP_EPM_PORT)]
    pub http_port: u16,
    /// UDP port of the endpoint mapper over ncadg_ip_udp.
    #[arg(long, value_name = "PORT", default_value_t = crate::ports::EPM_PORT)]
    pub udp_port: u16,
    /// TCP port of SMB for ncacn_np (`\pipe\epmapper`); 139 is SMB over NetBIOS (a session
    /// request first).
    #[arg(long, value_name = "PORT", default_value_t = crate::epm::pipe::SMB_PORT)]
    pub smb_port: u16,
    /// Bound, in seconds, on one host's whole dump (connect, bind and every call).
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub timeout: f64,
    /// How many hosts are examined at once (default: derived from the file-descriptor limit,
    /// at most 256; `-v` shows it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub concurrency: Option<u32>,
    /// Stop a host's dump after this many entries (the host is then `partial`).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_entries: usize,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// Credentials for endpoint mappers that refuse anonymous lookups (RestrictRemoteClients).
/// There is no password flag: a command line is visible to every user of the machine.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// Account for NTLM: DOMAIN\name, name@domain, or name (with --domain, or a local
    /// account). The password comes from RPCAUDIT_PASSWORD, --password-file, or a prompt
    /// without echo when stdin is a terminal; an NT hash from --nt-hash-file or
    /// RPCAUDIT_NT_HASH instead.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Domain of a --user given without one.
    #[arg(long, value_name = "DOMAIN", requires = "user")]
    pub domain: Option<String>,
    /// Read the password from the first line of FILE.
    #[arg(
        long,
        value_name = "FILE",
        requires = "user",
        conflicts_with = "nt_hash_file"
    )]
    pub password_file: Option<std::path::PathBuf>,
    /// Read an NT hash (32 hexadecimal digits) from the first line of FILE instead of a
    /// password.
    #[arg(long, value_name = "FILE", requires = "user")]
    pub nt_hash_file: Option<std::path::PathBuf>,
    /// Kerberos: log on with the AES key of a keytab FILE (MIT format, as ktutil,
    /// samba-tool domain exportkeytab or ktpass write it) instead of a password; the key of
    /// --user (or of the keytab's one principal), AES-256 first, the highest key version.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["password_file", "nt_hash_file"])]
    pub keytab: Option<std::path::PathBuf>,
    /// none: anonymous only; ntlm: NTLM only; kerberos: Kerberos only (--realm, --kdc, and the
    /// host's name); negotiate: Kerberos inside SPNEGO, the same needs; auto: anonymous, and
    /// when the endpoint mapper refuses an anonymous lookup and --user was given, once more
    /// with Kerberos inside SPNEGO (when --kdc or --realm is given) and then NTLM (unless
    /// --no-ntlm).
    #[arg(long = "auth", value_enum, default_value_t = super::values::Auth::Auto)]
    pub mode: super::values::Auth,
    /// connect: authenticate only; integrity: sign every request and verify every response;
    /// privacy: integrity and encrypted stubs. Default: integrity, privacy with Kerberos.
    #[arg(long, value_enum)]
    pub auth_level: Option<super::values::AuthLevel>,
    /// Kerberos realm (e.g. CORP.EXAMPLE.COM); default: the domain of a --user given as
    /// name@realm.
    #[arg(long, value_name = "REALM")]
    pub realm: Option<String>,
    /// The KDC (a domain controller) as ADDRESS or ADDRESS:PORT (port 88 by default). Only
    /// this KDC is contacted.
    #[arg(long, value_name = "ADDRESS[:PORT]")]
    pub kdc: Option<String>,
    /// Without --kdc: the DNS server asked for the realm's _kerberos._tcp SRV records (when
    /// krb5.conf names no KDC for the realm); default: the system's resolvers.
    #[arg(long, value_name = "ADDRESS[:PORT]")]
    pub dns: Option<String>,
    /// The host's DNS name for Kerberos, when the target is given as an address: the ticket is
    /// asked for host/NAME (or NAME itself when it holds a '/').
    #[arg(long, value_name = "FQDN")]
    pub target_name: Option<String>,
    /// After each host's dump, try the endpoint mapper anonymously, with NTLM and with Kerberos
    /// (when --realm and --kdc are given), and record which it accepted at which levels.
    #[arg(long)]
    pub auth_survey: bool,
    /// With --auth auto: never fall back to NTLM (a Kerberos-only estate); a host that refuses
    /// anonymous lookups is read with Kerberos or not at all.
    #[arg(long)]
    pub no_ntlm: bool,
}

impl AuthArgs {
    /// The auth level: as given, else integrity (privacy with Kerberos).
    pub fn level(&self) -> crate::epm::auth::Level {
        match (self.auth_level, self.mode) {
            (Some(l), _) => l.into(),
            (None, super::values::Auth::Kerberos | super::values::Auth::Negotiate) => {
                crate::epm::auth::Level::Privacy
            }
            (None, _) => crate::epm::auth::Level::Integrity,
        }
    }

    /// The run's KDC for `--auth kerberos` (none otherwise), from --realm (or the user's
    /// domain) and --kdc.
    pub fn kdc(
        &self,
        creds: Option<&Credentials>,
        step_timeout: Duration,
    ) -> Result<Option<std::sync::Arc<crate::epm::kerberos::Kdc>>, CredentialsError> {
        use super::values::Auth;
        if self.no_ntlm && self.mode != Auth::Auto {
            return Err(CredentialsError::NoNtlmWithout);
        }
        if !matches!(self.mode, Auth::Kerberos | Auth::Negotiate) {
            let any = self.realm.is_some() || self.kdc.is_some() || self.target_name.is_some();
            if !self.auth_survey && self.mode != Auth::Auto && any {
                return Err(CredentialsError::KerberosFlagsWithout);
            }
            if !any {
                return Ok(None);
            }
        }
        let realm = match (&self.realm, creds) {
            (Some(r), _) if !r.trim().is_empty() => r.trim().to_string(),
            (_, Some(c)) if c.domain.contains('.') => c.domain.clone(),
            _ => return Err(CredentialsError::NoRealm),
        };
        let addr = match self.kdc.as_deref() {
            Some(text) => text
                .parse::<std::net::SocketAddr>()
                .or_else(|_| {
                    text.parse::<std::net::IpAddr>()
                        .map(|ip| std::net::SocketAddr::new(ip, crate::epm::kerberos::KDC_PORT))
                })
                .map_err(|_| CredentialsError::BadKdc(crate::inert::field(text).into_owned()))?,
            None => {
                // No --kdc: krb5.conf [realms], then DNS SRV (--dns or the system's resolvers).
                use crate::krb::locate;
                let dns = match self.dns.as_deref() {
                    Some(d) => Some(
                        d.parse::<std::net::SocketAddr>()
                            .or_else(|_| {
                                d.parse::<std::net::IpAddr>()
                                    .map(|ip| std::net::SocketAddr::new(ip, 53))
                            })
                            .map_err(|_| {
                                CredentialsError::BadDns(crate::inert::field(d).into_owned())
                            })?,
                    ),
                    None => None,
                };
                let conf = locate::conf_paths(std::env::var("KRB5_CONFIG").ok().as_deref());
                let found = locate::locate(&realm, &conf, dns, step_timeout)
                    .map_err(|e| CredentialsError::NoKdc(e.to_string()))?;
                tracing::info!(kdc = %found.addr, "the KDC of {realm}: from {}", found.how);
                found.addr
            }
        };
        Ok(Some(std::sync::Arc::new(crate::epm::kerberos::Kdc::new(
            &realm,
            addr,
            step_timeout,
        ))))
    }

    /// The credentials, reading the secret from the file, the environment or the terminal.
    /// Errors name the source, never its content.
    pub fn credentials(&self) -> Result<Option<Credentials>, CredentialsError> {
        self.credentials_from(&|k| std::env::var(k).ok(), &|prompt| {
            use std::io::IsTerminal;
            if !std::io::stdin().is_terminal() {
                return None;
            }
            ask_without_echo(prompt)
        })
    }

    fn credentials_from(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
        prompt: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Credentials>, CredentialsError> {
        if let Some(path) = &self.keytab {
            return self.keytab_credentials(path).map(Some);
        }
        let Some(user) = &self.user else {
            if matches!(
                self.mode,
                super::values::Auth::Ntlm
                    | super::values::Auth::Kerberos
                    | super::values::Auth::Negotiate
            ) {
                return Err(CredentialsError::NoUser);
            }
            return Ok(None);
        };
        let (name, domain) = Credentials::parse_user(user, self.domain.as_deref())
            .map_err(CredentialsError::User)?;
        let shown = if domain.is_empty() {
            name.clone()
        } else {
            format!("{domain}\\{name}")
        };
        let secret = if let Some(f) = &self.nt_hash_file {
            let line = first_line(f, "--nt-hash-file")?;
            Secret::nt_hash_from_hex(line.expose()).map_err(|source| CredentialsError::NtHash {
                origin: format!("--nt-hash-file {}", f.display()),
                source,
            })?
        } else if let Some(f) = &self.password_file {
            Secret::Password(first_line(f, "--password-file")?)
        } else {
            match (env("RPCAUDIT_NT_HASH"), env("RPCAUDIT_PASSWORD")) {
                (Some(_), Some(_)) => return Err(CredentialsError::BothInEnvironment),
                (Some(h), None) => {
                    let h = Redacted::new(h);
                    Secret::nt_hash_from_hex(h.expose()).map_err(|source| {
                        CredentialsError::NtHash {
                            origin: "RPCAUDIT_NT_HASH".into(),
                            source,
                        }
                    })?
                }
                (None, Some(p)) if !p.is_empty() => Secret::Password(Redacted::new(p)),
                (None, Some(_)) => return Err(CredentialsError::EmptyEnvironmentPassword),
                (None, None) => match prompt(&format!("Password for {shown}: ")) {
                    Some(p) if !p.is_empty() => Secret::Password(Redacted::new(p)),
                    Some(_) => return Err(CredentialsError::EmptyPrompt),
                    None => return Err(CredentialsError::NoPassword(shown)),
                },
            }
        };
        Ok(Some(Credentials {
            user: name,
            domain,
            secret,
        }))
    }
}

impl AuthArgs {
    /// `--keytab`: the key of --user (or of the keytab's one principal) in the realm given or
    /// implied. Errors name the file and principals, never a key.
    fn keytab_credentials(&self, path: &Path) -> Result<Credentials, CredentialsError> {
        use crate::krb::keytab;
        if self.mode == super::values::Auth::Ntlm {
            return Err(CredentialsError::KeytabWithNtlm);
        }
        let flag = "--keytab";
        let raw = read_secret_file(path, flag, keytab::MAX_KEYTAB)?;
        let raw = Redacted::new(raw);
        warn_if_shared(path, flag);
        let bad = |detail: String| CredentialsError::Keytab {
            path: path.to_path_buf(),
            detail,
        };
        let entries = keytab::parse(raw.expose()).map_err(|e| bad(e.to_string()))?;
        let (name, domain) = match &self.user {
            Some(u) => {
                let (n, d) = Credentials::parse_user(u, self.domain.as_deref())
                    .map_err(CredentialsError::User)?;
                (Some(n), d)
            }
            None => (None, String::new()),
        };
        let realm = match &self.realm {
            Some(r) if !r.trim().is_empty() => Some(r.trim().to_string()),
            _ => Some(domain.clone()).filter(|d| d.contains('.')),
        };
        let e = keytab::choose(&entries, name.as_deref(), realm.as_deref())
            .map_err(|e| bad(e.to_string()))?;
        let user = e.components.first().cloned().unwrap_or_default();
        tracing::debug!(
            principal = %crate::inert::field(&e.principal()),
            kvno = e.kvno,
            enctype = e.enctype,
            "the key of a keytab entry is used"
        );
        Ok(Credentials {
            user,
            domain: e.realm.clone(),
            secret: Secret::KerberosKey {
                enctype: e.enctype,
                key: Redacted::new(e.key().to_vec()),
            },
        })
    }
}

/// Warn when a secret file is readable by others than its owner.
fn warn_if_shared(path: &Path, flag: &str) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "{flag} {}: readable by other users than its owner (chmod 600 it)",
                path.display()
            );
        }
    }
}

/// Ask on the terminal with echo off. Echo is turned off before the prompt is shown, so even
/// input typed (or pasted) the instant the prompt appears is never echoed (rpassword prints
/// its prompt first, which leaves that window open). The terminal's modes are restored on
/// every path.
#[cfg(unix)]
fn ask_without_echo(prompt: &str) -> Option<String> {
    use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};
    use std::io::{BufRead, Write};

    struct Restore<'a>(&'a std::fs::File, Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = tcsetattr(self.0, OptionalActions::Now, &self.1);
        }
    }

    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let saved = tcgetattr(&tty).ok()?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&tty, OptionalActions::Now, &quiet).ok()?;
    let _restore = Restore(&tty, saved);
    (&tty).write_all(prompt.as_bytes()).ok()?;
    (&tty).flush().ok()?;
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::BufReader::new(&tty).read_line(&mut line).ok()?;
    Some(line.trim_end_matches(['\r', '\n']).to_string())
}

#[cfg(not(unix))]
fn ask_without_echo(prompt: &str) -> Option<String> {
    rpassword::prompt_password(prompt).ok()
}

/// Why no credentials could be put together. Names the flag, file or variable the secret
/// came from, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("--auth ntlm and --auth kerberos need credentials: give --user")]
    NoUser,
    #[error("Kerberos needs the realm: give --realm REALM, or --user as name@realm")]
    NoRealm,
    #[error("Kerberos needs the KDC: {0}")]
    NoKdc(String),
    #[error("--dns {0}: not an address or address:port")]
    BadDns(String),
    #[error("--kdc {0}: not an address or address:port (give the domain controller's IP address)")]
    BadKdc(String),
    #[error(
        "--realm, --kdc and --target-name are for --auth kerberos, negotiate or auto (or --auth-survey)"
    )]
    KerberosFlagsWithout,
    #[error("--no-ntlm is for --auth auto (--auth kerberos never uses NTLM)")]
    NoNtlmWithout,
    #[error("--keytab holds Kerberos keys: it is for --auth kerberos, negotiate or auto")]
    KeytabWithNtlm,
    #[error("--keytab {}: {detail}", path.display())]
    Keytab { path: PathBuf, detail: String },
    #[error("--user: {0}")]
    User(#[source] CredentialError),
    /// `origin` is the flag and file, or the variable, the hash came from.
    #[error("{origin}: {source}")]
    NtHash {
        origin: String,
        #[source]
        source: CredentialError,
    },
    #[error("both RPCAUDIT_NT_HASH and RPCAUDIT_PASSWORD are set; unset one")]
    BothInEnvironment,
    #[error("RPCAUDIT_PASSWORD is empty")]
    EmptyEnvironmentPassword,
    #[error("empty password")]
    EmptyPrompt,
    /// No secret from any source; the account as shown.
    #[error(
        "no password for {0}: set RPCAUDIT_PASSWORD, give --password-file FILE or --nt-hash-file FILE, or run on a terminal to be asked"
    )]
    NoPassword(String),
    #[error("{flag} {}: {source}", path.display())]
    Read {
        flag: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{flag} {}: larger than the {limit} bytes a secret file may have", path.display())]
    TooLarge {
        flag: &'static str,
        path: PathBuf,
        limit: u64,
    },
    #[error("{flag} {}: not UTF-8 text", path.display())]
    NotUtf8 { flag: &'static str, path: PathBuf },
    #[error("{flag} {}: the first line is empty", path.display())]
    EmptyFirstLine { flag: &'static str, path: PathBuf },
}

/// Largest password or NT-hash file read (its first line is the secret).
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// A file of secrets (`flag`'s), at most `limit` bytes; errors name the file, never quote it.
fn read_secret_file(
    path: &Path,
    flag: &'static str,
    limit: u64,
) -> Result<Vec<u8>, CredentialsError> {
    crate::input::read_capped_or(
        path,
        limit,
        |source| CredentialsError::Read {
            flag,
            path: path.to_path_buf(),
            source,
        },
        |limit| CredentialsError::TooLarge {
            flag,
            path: path.to_path_buf(),
            limit,
        },
    )
}

/// The first line of a secret file, without its line ending. Errors never quote the file.
fn first_line(path: &Path, flag: &'static str) -> Result<Redacted<String>, CredentialsError> {
    let raw = read_secret_file(path, flag, MAX_SECRET_FILE)?;
    warn_if_shared(path, flag);
    let raw = Redacted::new(raw);
    let text = std::str::from_utf8(raw.expose()).map_err(|_| CredentialsError::NotUtf8 {
        flag,
        path: path.to_path_buf(),
    })?;
    let line = text.split('\n').next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(CredentialsError::EmptyFirstLine {
            flag,
            path: path.to_path_buf(),
        });
    }
    Ok(Redacted::new(line.to_string()))
}

impl EpmArgs {
    /// Hosts in flight at once: `--concurrency`, else the file-descriptor budget's.
    pub fn hosts_in_flight(&self) -> usize {
        self.concurrency
            .map_or_else(|| super::fd_budget().hosts, |n| n as usize)
    }

    pub fn options(&self) -> Result<DumpOptions, Error> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(Error::DumpTimeout(self.timeout));
        }
        let total = Duration::from_secs_f64(self.timeout);
        let defaults = DumpOptions::default();
        let credentials = self.auth.credentials()?.map(std::sync::Arc::new);
        let kdc = self
            .auth
            .kdc(credentials.as_deref(), defaults.call_timeout.min(total))?;
        Ok(DumpOptions {
            timeout: total,
            connect_timeout: defaults.connect_timeout.min(total),
            call_timeout: defaults.call_timeout.min(total),
            max_entries: self.max_entries.max(1),
            auth: AuthOptions {
                mode: self.auth.mode.into(),
                level: self.auth.level(),
                credentials,
                kdc,
                target_name: self.auth.target_name.clone(),
                survey: self.auth.auth_survey,
                no_ntlm: self.auth.no_ntlm,
                ..defaults.auth.clone()
            },
            roads: Roads {
                choice: self.transport.into(),
                http_port: self.http_port,
                udp_port: self.udp_port,
                smb_port: self.smb_port,
            },
            ..defaults
        })
    }
}

/// What [`resolver`] gives for one target.
pub type Resolved = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<Vec<std::net::SocketAddr>, crate::target::TargetError>,
            > + Send,
    >,
>;

/// The one resolver of a scan ([`crate::target::resolve`]) on `port`, within `deadline`.
pub fn resolver(
    port: u16,
    deadline: Duration,
) -> impl Fn(crate::target::Target) -> Resolved + Clone + Send + 'static {
    move |target| Box::pin(async move { crate::target::resolve(&target, port, deadline).await })
}

pub fn run(args: DumpArgs) -> Result<Exit, Error> {
    let targets = args.targets.expand()?;
    let opts = args.epm.options()?;
    let form = args.output.form();
    let in_flight = args.epm.hosts_in_flight();
    let rt = super::runtime()?;
    let mut bar = Progress::new(targets.len());
    let mut tally = DumpTally::default();
    let mut table_hosts = Vec::new();
    let mut out = Output::start(form, &DumpReport { hosts: Vec::new() }, "hosts")?;
    let emit = |_, d: crate::epm::HostDump| {
        bar.host_done(&d.target, d.status == HostStatus::Error, 0);
        tally.add(&d);
        if !out.host(&d, [&d]) {
            table_hosts.push(d);
        }
    };
    let resolve = resolver(args.epm.port, opts.connect_timeout);
    let interrupted = until_interrupted(
        rt,
        dump_each(&targets, resolve, &opts, in_flight, form.order(), emit),
    );
    bar.finish();
    out.finish(|| tally.summary(interrupted))?;
    if form == Form::Table {
        super::out(render_table(&table_hosts));
    }
    Ok(if interrupted || tally.ok != tally.hosts {
        Exit::Incomplete
    } else {
        Exit::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(user: Option<&str>) -> AuthArgs {
        AuthArgs {
            user: user.map(str::to_string),
            domain: None,
            password_file: None,
            nt_hash_file: None,
            keytab: None,
            mode: crate::cli::values::Auth::Auto,
            auth_level: None,
            realm: None,
            kdc: None,
            dns: None,
            target_name: None,
            auth_survey: false,
            no_ntlm: false,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }
    fn no_prompt(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn secrets_come_from_files_the_environment_or_a_prompt_and_never_show() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "Very-Secret-1\r\nsecond line\n").unwrap();
        let mut a = args(Some("LAB\\audit"));
        a.password_file = Some(pw.clone());
        let c = a.credentials_from(&no_env, &no_prompt).unwrap().unwrap();
        assert_eq!(c.display_user(), "LAB\\audit");
        match &c.secret {
            Secret::Password(p) => assert_eq!(p.expose(), "Very-Secret-1"),
            other => panic!("{other:?}"),
        }
        assert!(!format!("{c:?}").contains("Very-Secret"));

        let env = |k: &str| (k == "RPCAUDIT_PASSWORD").then(|| "From-Env-2".to_string());
        let c = args(Some("audit@lab"))
            .credentials_from(&env, &no_prompt)
            .unwrap()
            .unwrap();
        assert_eq!(c.display_user(), "lab\\audit");

        let asked = |p: &str| {
            assert_eq!(p, "Password for audit: ");
            Some("Typed-3".to_string())
        };
        let c = args(Some("audit"))
            .credentials_from(&no_env, &asked)
            .unwrap()
            .unwrap();
        assert!(matches!(&c.secret, Secret::Password(p) if p.expose() == "Typed-3"));

        let e = args(Some("audit"))
            .credentials_from(&no_env, &no_prompt)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("RPCAUDIT_PASSWORD") && e.contains("--password-file"),
            "{e}"
        );

        let hash = dir.path().join("hash");
        std::fs::write(&hash, "8846f7eaee8fb117ad06bdd830b7586c\n").unwrap();
        let mut a = args(Some("LAB\\audit"));
        a.nt_hash_file = Some(hash);
        let c = a.credentials_from(&no_env, &no_prompt).unwrap().unwrap();
        assert!(matches!(c.secret, Secret::NtHash(_)));

        let bad = dir.path().join("bad");
        std::fs::write(&bad, "Not-A-Hash-At-All\n").unwrap();
        let mut a = args(Some("LAB\\audit"));
        a.nt_hash_file = Some(bad);
        let e = a
            .credentials_from(&no_env, &no_prompt)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("Not-A-Hash"), "{e}");

        let both = |_: &str| Some("x".to_string());
        assert!(args(Some("a")).credentials_from(&both, &no_prompt).is_err());

        let mut a = args(None);
        assert!(a.credentials_from(&no_env, &no_prompt).unwrap().is_none());
        a.mode = crate::cli::values::Auth::Ntlm;
        assert!(
            a.credentials_from(&no_env, &no_prompt)
                .unwrap_err()
                .to_string()
                .contains("--user")
        );
    }

    #[test]
    fn a_keytab_gives_the_users_aes_key_and_never_shows_it() {
        let kt =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/krb/ktutil.keytab");
        let mut a = args(Some("audit@rpcaudit.lab"));
        a.keytab = Some(kt.clone());
        a.mode = crate::cli::values::Auth::Kerberos;
        let c = a.credentials_from(&no_env, &no_prompt).unwrap().unwrap();
        assert_eq!(
            (c.user.as_str(), c.domain.as_str()),
            ("audit", "RPCAUDIT.LAB")
        );
        match &c.secret {
            Secret::KerberosKey { enctype, key } => {
                assert_eq!(*enctype, crate::krb::keytab::AES256);
                assert_eq!(key.expose()[..4], [0xa1, 0xb2, 0xc3, 0xd4]);
            }
            other => panic!("{other:?}"),
        }
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("161") && !shown.to_lowercase().contains("a1b2"),
            "{shown}"
        );
        // The realm implied by --realm; no --user: the keytab holds two principals.
        let mut b = args(None);
        b.keytab = Some(kt.clone());
        let e = b.credentials_from(&no_env, &no_prompt).unwrap_err();
        assert!(e.to_string().contains("give --user"), "{e}");
        let mut n = args(Some("audit"));
        n.keytab = Some(kt.clone());
        n.mode = crate::cli::values::Auth::Ntlm;
        assert!(matches!(
            n.credentials_from(&no_env, &no_prompt),
            Err(CredentialsError::KeytabWithNtlm)
        ));
        // Not a keytab: the file is named, nothing of it quoted.
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "Very-Secret-1\n").unwrap();
        let mut j = args(Some("audit"));
        j.keytab = Some(junk);
        let e = j
            .credentials_from(&no_env, &no_prompt)
            .unwrap_err()
            .to_string();
        assert!(e.contains("junk") && e.contains("not a keytab"), "{e}");
        assert!(!e.contains("Very-Secret"), "{e}");
    }
}
