//! `rpcaudit lab serve`: run the fixture endpoint mapper (for the lab, tests and by hand).

use super::{Error, Exit};
use crate::epm::auth::{Acceptor, CredentialError, Credentials};
use crate::epm::server::{FixtureConfig, Listeners, serve_roads};
use crate::ports::PortRanges;
use crate::wire::ndr::ByteOrder;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum LabCommand {
    /// Serve a fixture endpoint mapper until interrupted. Prints `listening ADDR` on stdout
    /// once it accepts connections, then `listening-http ADDR` and `listening-udp ADDR` for
    /// the other roads it serves.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one. `0.0.0.0:135` inside a network namespace
    /// answers for every address there.
    #[arg(long, default_value = "127.0.0.1:13500", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Also serve ncacn_http (RPC over HTTP v1: the `ncacn_http/1.0` banner, then the same
    /// connection-oriented handling) on this TCP address, e.g. `0.0.0.0:593`; port 0 picks a
    /// free one.
    #[arg(long, value_name = "ADDR:PORT")]
    pub http_listen: Option<SocketAddr>,
    /// Also serve ncadg_ip_udp (connectionless DCE/RPC) on this UDP address, e.g.
    /// `0.0.0.0:135`; port 0 picks a free one.
    #[arg(long, value_name = "ADDR:PORT")]
    pub udp_listen: Option<SocketAddr>,
    /// Number of ncacn_ip_tcp registrations.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub tcp_endpoints: usize,
    /// Ports the TCP registrations are spread over, round-robin.
    #[arg(long, default_value = "5001-5021", value_name = "SPEC")]
    pub tcp_ports: PortRanges,
    /// Number of ncacn_np (named pipe) registrations.
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub pipes: usize,
    /// Number of ncalrpc registrations.
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub lrpc: usize,
    /// NetBIOS name in the named-pipe bindings.
    #[arg(long, default_value = "FIXTURE01")]
    pub host_name: String,
    /// Most entries per ept_lookup page.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub page_size: usize,
    /// How the end of the list is signalled.
    #[arg(long, value_enum, default_value_t = super::values::EndStyle::Windows)]
    pub end_style: super::values::EndStyle,
    /// Speak big-endian (NDR data representation 0x00).
    #[arg(long)]
    pub big_endian: bool,
    /// Largest fragment to send, in bytes.
    #[arg(long, default_value_t = 5840, value_name = "BYTES")]
    pub max_frag: u16,
    /// Break the protocol on purpose, to test clients.
    #[arg(long, value_enum)]
    pub misbehave: Option<super::values::Misbehave>,
    /// Act as a host that restricts unauthenticated RPC clients: refuse anonymous calls with
    /// fault 5 (rpc_s_access_denied) and accept NTLM for this account (DOMAIN\\name or name)
    /// at every auth level. A fixture for tests and demos: the password is on this command
    /// line, which the client never accepts.
    #[arg(long, value_name = "USER:PASSWORD")]
    pub require_auth: Option<String>,
    /// Register every endpoint with this annotation (at most 63 bytes, the IDL's size), e.g.
    /// markup, to test what renders it.
    #[arg(long, value_name = "TEXT")]
    pub annotation: Option<String>,
    /// Accept binds to the registered interfaces too (not only the endpoint mapper's) and
    /// answer every call to them with fault nca_s_op_rng_error: the fixture implements none of
    /// their methods. For `rpcaudit interfaces`; give --tcp-ports the --listen port so the
    /// registrations name this server.
    #[arg(long)]
    pub serve_interfaces: bool,
    /// With --serve-interfaces: refuse calls to this interface with fault rpc_s_access_denied,
    /// as an RPC filter's block is taken to (repeatable).
    #[arg(long, value_name = "UUID", requires = "serve_interfaces")]
    pub refuse_calls: Vec<uuid::Uuid>,
    /// With --serve-interfaces: refuse calls to this interface from this client address with
    /// fault rpc_s_access_denied, as an RPC filter scoped by remote address is taken to
    /// (UUID@ADDR, repeatable).
    #[arg(long, value_name = "UUID@ADDR", requires = "serve_interfaces",
          value_parser = parse_refusal_from)]
    pub refuse_calls_from: Vec<(uuid::Uuid, std::net::IpAddr)>,
    /// With --serve-interfaces: refuse binds to this interface with a bind_nak (repeatable).
    #[arg(long, value_name = "UUID", requires = "serve_interfaces")]
    pub refuse_binds: Vec<uuid::Uuid>,
    /// With --serve-interfaces: serve this interface (as v1.0) without registering it, so only
    /// the management interface's rpc_mgmt_inq_if_ids names it (repeatable).
    #[arg(long, value_name = "UUID", requires = "serve_interfaces")]
    pub serve_unregistered: Vec<uuid::Uuid>,
}

/// `--refuse-calls-from UUID@ADDR`.
fn parse_refusal_from(s: &str) -> Result<(uuid::Uuid, std::net::IpAddr), String> {
    let (u, a) = s
        .split_once('@')
        .ok_or_else(|| "takes UUID@ADDR".to_string())?;
    let u = uuid::Uuid::try_parse(u).map_err(|e| format!("the UUID: {e}"))?;
    let a = a.parse().map_err(|e| format!("the address: {e}"))?;
    Ok((u, a))
}

/// Why `lab serve` options cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum LabConfigError {
    #[error("--require-auth takes USER:PASSWORD")]
    RequireAuthForm,
    #[error("--require-auth: the password is empty")]
    RequireAuthEmptyPassword,
    #[error("--require-auth: {0}")]
    User(#[source] CredentialError),
    #[error("--annotation: {len} bytes, more than the {max} an annotation holds")]
    AnnotationTooLong { len: usize, max: usize },
}

/// `--require-auth USER:PASSWORD` (split at the first colon).
fn parse_require_auth(spec: &str) -> Result<Acceptor, LabConfigError> {
    let Some((user, password)) = spec.split_once(':') else {
        return Err(LabConfigError::RequireAuthForm);
    };
    if password.is_empty() {
        return Err(LabConfigError::RequireAuthEmptyPassword);
    }
    let (user, domain) = Credentials::parse_user(user, None).map_err(LabConfigError::User)?;
    Ok(Acceptor {
        creds: Credentials::password(&user, &domain, password),
    })
}

impl ServeArgs {
    pub fn config(&self) -> Result<FixtureConfig, LabConfigError> {
        let mut c = FixtureConfig::windows_like(
            self.tcp_endpoints,
            &self.tcp_ports,
            self.pipes,
            self.lrpc,
            &self.host_name,
        );
        c.page_size = self.page_size.max(1);
        c.end_style = self.end_style.into();
        c.byte_order = if self.big_endian {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        };
        c.max_xmit_frag = self.max_frag.max(64);
        c.misbehave = self.misbehave.map(Into::into);
        if let Some(text) = &self.annotation {
            let max = crate::wire::epm::MAX_ANNOTATION - 1;
            if text.len() > max {
                return Err(LabConfigError::AnnotationTooLong {
                    len: text.len(),
                    max,
                });
            }
            for e in &mut c.endpoints {
                e.annotation = text.clone();
            }
        }
        c.interfaces = crate::epm::server::InterfaceRules {
            serve: self.serve_interfaces,
            refuse_calls: self.refuse_calls.clone(),
            refuse_binds: self.refuse_binds.clone(),
            refuse_calls_from: self.refuse_calls_from.clone(),
            unregistered: self.serve_unregistered.clone(),
        };
        c.require_auth = self
            .require_auth
            .as_deref()
            .map(parse_require_auth)
            .transpose()?;
        Ok(c)
    }
}

pub fn run(cmd: LabCommand) -> Result<Exit, Error> {
    match cmd {
        LabCommand::Serve(args) => serve_until_interrupted(args),
    }
}

fn serve_until_interrupted(args: ServeArgs) -> Result<Exit, Error> {
    let rt = super::runtime()?;
    rt.block_on(async {
        let listen_err = |addr: SocketAddr| move |source| Error::Listen { addr, source };
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(listen_err(args.listen))?;
        let http = match args.http_listen {
            Some(a) => Some(
                tokio::net::TcpListener::bind(a)
                    .await
                    .map_err(listen_err(a))?,
            ),
            None => None,
        };
        let udp = match args.udp_listen {
            Some(a) => Some(tokio::net::UdpSocket::bind(a).await.map_err(listen_err(a))?),
            None => None,
        };
        let shown = |a: std::io::Result<SocketAddr>| a.map(|a| a.to_string()).unwrap_or_default();
        let addr = shown(listener.local_addr());
        let http_addr = http.as_ref().map(|l| shown(l.local_addr()));
        let udp_addr = udp.as_ref().map(|s| shown(s.local_addr()));
        let config = args.config()?;
        super::errln(format!(
            "rpcaudit lab serve: {} registrations ({} TCP on ports {}), end style {:?}{}{}",
            config.endpoints.len(),
            args.tcp_endpoints,
            args.tcp_ports,
            args.end_style,
            args.misbehave
                .map(|m| format!(", misbehaving: {m:?}"))
                .unwrap_or_default(),
            config
                .require_auth
                .as_ref()
                .map(|a| format!(
                    ", anonymous calls refused, NTLM required for {}",
                    a.creds.display_user()
                ))
                .unwrap_or_default()
        ));
        super::outln(format!("listening {addr}"));
        if let Some(a) = http_addr {
            super::outln(format!("listening-http {a}"));
        }
        if let Some(a) = udp_addr {
            super::outln(format!("listening-udp {a}"));
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tokio::select! {
            _ = serve_roads(Listeners { tcp: listener, http, udp }, Arc::new(config), Default::default()) => {}
            _ = shutdown_signal() => {}
        }
        Ok(Exit::Ok)
    })
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}
