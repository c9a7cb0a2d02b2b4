//! The fixture endpoint mapper: a real DCE/RPC server for the EPM interface on TCP, and on the
//! other roads when asked ([`Listeners`]: `ncacn_http` on TCP 593, the `ncacn_http/1.0` banner
//! and then the same connection-oriented handling; connectionless `ncadg_ip_udp` on UDP 135,
//! through [`datagram`], its part over UDP), used by `rpcaudit demo`, `rpcaudit lab serve`, the
//! tests and the benches. It answers bind and
//! alter_context, pages `ept_lookup` with a context handle, answers `ept_map` and
//! `ept_lookup_handle_free`, fragments its responses to the negotiated size, and can speak
//! big-endian, end its list in each of the ways real servers do, or misbehave on purpose
//! ([`Misbehave`]) so the client's defences can be tested.

pub(crate) mod datagram;

use super::EPM_INTERFACE;
use super::auth::{Acceptor, AuthError, Level, NTLM_SIGNATURE_LEN, ServerAuth};
use super::connection::Connection;
use crate::ports::PortRanges;
use crate::wire::WireError;
use crate::wire::auth::{PFC_SUPPORT_HEADER_SIGN, auth_type};
use crate::wire::epm::EPM_SYNTAX;
use crate::wire::epm::{
    EPT_S_NOT_REGISTERED, EntryTower, EptEntry, HandleFreeRequest, HandleFreeResponse,
    LookupRequest, LookupResponse, MapRequest, MapResponse, OPNUM_LOOKUP, OPNUM_LOOKUP_HANDLE_FREE,
    OPNUM_MAP,
};
use crate::wire::ndr::{ByteOrder, ContextHandle, NdrWriter, Stub};
use crate::wire::pdu::reject_reason;
use crate::wire::pdu::{
    self, Bind, BindAck, BindNak, Body, ContextResult, Fault, NDR20, PFC_FIRST_FRAG, PFC_LAST_FRAG,
    Pdu, REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED, REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED,
    RESULT_ACCEPTANCE, RESULT_PROVIDER_REJECTION, ReplyHead, Response, SyntaxId,
};
use crate::wire::reassembly::{Progress, Reassembler};
use crate::wire::tower::{Binding, Tower};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use uuid::Uuid;

/// The fixture's choices, [`EndStyle`] and [`Misbehave`], each variant with its doc comment,
/// written once: `choices!(then)` hands each enum's list to the macro `then`. This module
/// declares the enums from it (`plain_enum`), and `cli::values` the command line's names for
/// `lab serve --end-style` and `--misbehave` (each doc comment its line in `--help`), so a way
/// to misbehave added here is on the command line too.
macro_rules! choices {
    ($then:ident) => {
        $then! {
            /// How the server tells the client that the list is over.
            EndStyle {
                /// As Windows does: a short last page comes with a null handle; a full one
                /// keeps the handle live, and the next call is answered
                /// `ept_s_not_registered` with no entries.
                Windows,
                /// The last page comes with a null handle and status 0, even a full one (a
                /// client that asks one entry at a time then starts over).
                NullHandle,
                /// The last page keeps a live handle; one more call is answered
                /// `ept_s_not_registered` with no entries.
                ExtraCall,
                /// The last page carries its entries and `ept_s_not_registered` together.
                WithLast,
            }
        }
        $then! {
            /// Ways the fixture breaks the protocol on purpose.
            Misbehave {
                /// Accept the connection, then never answer.
                Silent,
                /// Answer the bind with bytes that are not DCE/RPC.
                Garbage,
                /// Announce a fragment longer than what follows, then go silent.
                ShortFragment,
                /// Answer `ept_lookup` with a fault PDU (access denied).
                Fault,
                /// Refuse the bind with bind_nak.
                BindNak,
                /// Reset the connection in the middle of the first response.
                Reset,
                /// Send every response one byte at a time, slowly.
                Drip,
                /// Answer every `ept_lookup` with the same page and the same live handle,
                /// forever.
                SameHandle,
                /// Invent new entries on every page, forever.
                Endless,
                /// Towers whose lengths overrun the stub.
                TowerOverrun,
                /// An `alloc_hint` of 4 GiB on small fragments of an otherwise valid response.
                HugeAllocHint,
                /// Entry counts and pointers that promise far more than the stub holds.
                NdrTricks,
                /// A valid endpoint list whose annotations, pipe, host and local endpoint
                /// names hold terminal escapes (OSC, CSI, BEL, CR, BS, LF, C1) and bidi
                /// overrides.
                HostileText,
                /// With `--require-auth`: sign (or seal) every response, then alter one byte
                /// of its signature, as a peer in the middle would.
                TamperSignature,
            }
        }
    };
}
pub(crate) use choices;

/// An enum of the library from one of the lists of [`choices!`].
macro_rules! plain_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }
    };
}
choices!(plain_enum);

/// The flags of fragment `k` of `count`: `PFC_FIRST_FRAG` on the first, `PFC_LAST_FRAG` on
/// the last (both on a lone one).
pub(crate) fn fragment_flags(k: usize, count: usize) -> u8 {
    let mut flags = 0;
    if k == 0 {
        flags |= PFC_FIRST_FRAG;
    }
    if k + 1 == count {
        flags |= PFC_LAST_FRAG;
    }
    flags
}

/// The strings [`Misbehave::HostileText`] serves, each within its wire limit (an annotation is
/// at most 63 bytes before its NUL): OSC window-title and hyperlink sequences, CSI clear-screen
/// and colour, BEL, CR, BS, an LF that would forge a table row, C1 CSI (U+009B), bidi
/// override, isolates and marks.
pub mod hostile_text {
    /// Annotation of the first hostile TCP registration.
    pub const ANNOTATION: &str = "\x1b]0;pwned\x07DRS\x1b[2J\r\x08\u{202e}exe.gnp\u{9b}31m";
    /// Annotation of the second: an LF and box characters that imitate a table row.
    pub const ANNOTATION_ROW: &str = "x\n│ fake-row ┆ 9.9 ┆ \u{2066}iso\u{2069} \u{200f}│";
    /// Pipe name of the hostile ncacn_np registration.
    pub const PIPE: &str = "\\PIPE\\\x1b]0;pwned\x07\x1b[2J\u{202e}lsass";
    /// NetBIOS host name in that registration's tower.
    pub const HOST: &str = "EVIL\x1b[2J\r\x08\u{202e}HOST";
    /// Endpoint of the hostile ncalrpc registration (an OSC 8 hyperlink, a colour, a mark).
    pub const LRPC: &str = "LRPC-\x1b]8;;http://x/\x07link\x1b]8;;\x07\x1b[31m\u{200e}\u{61c}";
    /// TCP ports of the two hostile TCP registrations (inside the article's range).
    pub const TCP_PORTS: [u16; 2] = [5001, 5002];
}

impl FixtureConfig {
    /// The registrations [`Misbehave::HostileText`] serves before the configured ones.
    fn hostile_text_endpoints() -> Vec<FixtureEndpoint> {
        use hostile_text::*;
        let ep = |iface: u128,
                  annotation: &str,
                  protseq: &str,
                  address: Option<&str>,
                  endpoint: &str,
                  port: Option<u16>| FixtureEndpoint {
            interface: Uuid::from_u128(iface),
            major: 1,
            minor: 0,
            object: Uuid::nil(),
            annotation: annotation.to_string(),
            binding: Binding {
                protseq: protseq.into(),
                address: address.map(str::to_string),
                endpoint: Some(endpoint.to_string()),
                port,
            },
        };
        let [p1, p2] = TCP_PORTS;
        vec![
            ep(
                0x0bad_7e47_0000_4000_8000_0000_0000_0001,
                ANNOTATION,
                "ncacn_ip_tcp",
                None,
                &p1.to_string(),
                Some(p1),
            ),
            ep(
                0x0bad_7e47_0000_4000_8000_0000_0000_0002,
                ANNOTATION_ROW,
                "ncacn_ip_tcp",
                None,
                &p2.to_string(),
                Some(p2),
            ),
            ep(
                0x0bad_7e47_0000_4000_8000_0000_0000_0003,
                ANNOTATION,
                "ncacn_np",
                Some(HOST),
                PIPE,
                None,
            ),
            ep(
                0x0bad_7e47_0000_4000_8000_0000_0000_0004,
                ANNOTATION_ROW,
                "ncalrpc",
                None,
                LRPC,
                None,
            ),
        ]
    }
}

/// One registration the fixture serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureEndpoint {
    pub interface: Uuid,
    pub major: u16,
    pub minor: u16,
    pub object: Uuid,
    pub annotation: String,
    /// For IP protocol sequences an absent address means "the address the client reached".
    pub binding: Binding,
}

/// What the fixture serves and how.
#[derive(Debug, Clone)]
pub struct FixtureConfig {
    pub endpoints: Vec<FixtureEndpoint>,
    /// Most entries per `ept_lookup` page (the smaller of this and the client's `max_ents`).
    pub page_size: usize,
    pub end_style: EndStyle,
    pub byte_order: ByteOrder,
    /// Largest fragment the fixture sends (also bounded by what the client accepts).
    pub max_xmit_frag: u16,
    pub misbehave: Option<Misbehave>,
    /// How long an idle connection is kept.
    pub idle_timeout: Duration,
    /// Refuse unauthenticated calls with fault 5 (rpc_s_access_denied) on the request, as a
    /// Windows host with RestrictRemoteClients does, and accept NTLM for this account at
    /// every level.
    pub require_auth: Option<Acceptor>,
    /// Whether binds to the registered interfaces are served, and which are refused.
    pub interfaces: InterfaceRules,
}

/// How the fixture answers binds and calls to the interfaces it registers, beyond the endpoint
/// mapper (`rpcaudit interfaces` probes them). Off by default: only the EPM is bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceRules {
    /// Accept binds to every registered interface (UUID and major version); every call then
    /// faults `nca_s_op_rng_error`, since the fixture implements no method of them.
    pub serve: bool,
    /// Calls to these are refused with fault `rpc_s_access_denied` (5): what an RPC filter's
    /// block, a security callback or an interface's security descriptor is taken to send
    /// (assumed, see `docs/guide/interfaces.md`).
    pub refuse_calls: Vec<Uuid>,
    /// Binds to these are refused with a bind_nak (reason 0, not specified).
    pub refuse_binds: Vec<Uuid>,
    /// Calls to the interface from that client address are refused with fault 5, as an RPC
    /// filter scoped by remote address would (`lab serve --refuse-calls-from UUID@ADDR`).
    pub refuse_calls_from: Vec<(Uuid, std::net::IpAddr)>,
    /// Interfaces served (as v1.0) on every port but not registered in the endpoint map: only
    /// the management interface's `rpc_mgmt_inq_if_ids` names them, which the fixture answers
    /// (with `serve`) with every interface it registers and these.
    pub unregistered: Vec<Uuid>,
}

impl InterfaceRules {
    /// The rules for one connection from `peer`, when some refusal is scoped to it.
    pub fn for_peer(&self, peer: std::net::IpAddr) -> Option<InterfaceRules> {
        let extra: Vec<Uuid> = self
            .refuse_calls_from
            .iter()
            .filter(|(_, from)| *from == peer)
            .map(|(u, _)| *u)
            .collect();
        (!extra.is_empty()).then(|| {
            let mut rules = self.clone();
            rules.refuse_calls.extend(extra);
            rules
        })
    }

    /// The `rpc_mgmt_inq_if_ids` answer of a fixture registering `endpoints`: each distinct
    /// interface and version, then the unregistered ones.
    fn if_ids(&self, endpoints: &[FixtureEndpoint]) -> crate::wire::mgmt::InqIfIdsResponse {
        use crate::wire::mgmt::IfId;
        let mut ids: Vec<Option<IfId>> = Vec::new();
        let registered = endpoints.iter().map(|e| IfId {
            uuid: e.interface,
            major: e.major,
            minor: e.minor,
        });
        let unregistered = self.unregistered.iter().map(|u| IfId {
            uuid: *u,
            major: 1,
            minor: 0,
        });
        for id in registered.chain(unregistered) {
            if !ids.contains(&Some(id)) {
                ids.push(Some(id));
            }
        }
        crate::wire::mgmt::InqIfIdsResponse {
            ids: Some(ids),
            status: 0,
        }
    }
}

// The interfaces of the tables below, one constant each (the UUIDs as the protocols
// specify them).
const SAMR: u128 = 0x12345778_1234_abcd_ef00_0123456789ac;
const LSARPC: u128 = 0x12345778_1234_abcd_ef00_0123456789ab;
const NETLOGON: u128 = 0x12345678_1234_abcd_ef00_01234567cffb;
const DRSUAPI: u128 = 0xe3514235_4b06_11d1_ab04_00c04fc2dcd2;
const SVCCTL: u128 = 0x367abb81_9844_35f1_ad32_98f038001003;
const TASK_SCHEDULER: u128 = 0x86d35949_83c9_4044_b424_db363231fd0c;
const EVENTLOG6: u128 = 0xf6beaff7_1e19_4fbb_9f8f_b89e2018337c;
const SPOOLSS: u128 = 0x12345678_1234_abcd_ef00_0123456789ab;
const REMOTE_WINSPOOL: u128 = 0x76f03f96_cdfd_44fc_a22c_64950a001209;
const DNS_SERVER: u128 = 0x50abc2a4_574d_40b3_9d66_ee4fd5fba076;
const FRS2: u128 = 0x897e2e5f_93f3_4376_9c9c_fd2277495c27;
const FASP: u128 = 0x6b5bdd1e_528c_422c_af8c_a4079be4fe48;
const DSSETUP: u128 = 0x3919286a_b10c_11d0_9ba8_00c04fd92ef5;
const NETDFS: u128 = 0x4fc742e0_4a10_11cf_8273_00aa004ae673;
const WINDOWS_SHUTDOWN: u128 = 0xd95afe70_a6d5_4259_822e_2c84da1ddb0d;
const CERT_PASSAGE: u128 = 0x91ae6020_9e3c_11cf_8d7c_00aa00c091be;

/// Interfaces a Windows server commonly registers on TCP, with version and annotation.
const TCP_INTERFACES: &[(u128, u16, u16, &str)] = &[
    (SAMR, 1, 0, ""),
    (LSARPC, 0, 0, ""),
    (NETLOGON, 1, 0, ""),
    (DRSUAPI, 4, 0, "MS NT Directory DRS Interface"),
    (SVCCTL, 2, 0, ""),
    (TASK_SCHEDULER, 1, 0, ""),
    (EVENTLOG6, 1, 0, "Event log TCPIP"),
    (SPOOLSS, 1, 0, ""),
    (REMOTE_WINSPOOL, 1, 0, ""),
    (DNS_SERVER, 5, 0, ""),
    (FRS2, 1, 0, "Frs2 Service"),
    (FASP, 1, 0, "Remote Fw APIs"),
    (DSSETUP, 0, 0, ""),
    (NETDFS, 3, 0, ""),
    (WINDOWS_SHUTDOWN, 1, 0, ""),
    (CERT_PASSAGE, 0, 0, ""),
];

/// Named pipes commonly registered, with the interfaces behind them.
const PIPES: &[(u128, u16, &str)] = &[
    (SAMR, 1, "\\pipe\\lsass"),
    (LSARPC, 0, "\\pipe\\lsass"),
    (NETLOGON, 1, "\\pipe\\lsass"),
    (SVCCTL, 2, "\\PIPE\\svcctl"),
    (TASK_SCHEDULER, 1, "\\PIPE\\atsvc"),
    (SPOOLSS, 1, "\\PIPE\\spoolss"),
];

impl FixtureConfig {
    /// A server shaped like a Windows domain controller: `tcp_endpoints` TCP registrations
    /// spread round-robin over the ports of `tcp_ports` (several interfaces share a process's
    /// port, as lsass does), `pipes` named-pipe and `lrpc` local registrations.
    pub fn windows_like(
        tcp_endpoints: usize,
        tcp_ports: &PortRanges,
        pipes: usize,
        lrpc: usize,
        host_name: &str,
    ) -> Self {
        let ports: Vec<u16> = tcp_ports.iter().take(65_536).collect();
        let mut endpoints = Vec::with_capacity(tcp_endpoints + pipes + lrpc);
        for k in 0..tcp_endpoints {
            let (uuid, major, minor, ann) = TCP_INTERFACES[k % TCP_INTERFACES.len()];
            let port = ports.get(k % ports.len().max(1)).copied().unwrap_or(5001);
            // Beyond the table's length, vary the object UUID so registrations stay distinct.
            let object = if k < TCP_INTERFACES.len() {
                Uuid::nil()
            } else {
                Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | k as u128)
            };
            endpoints.push(FixtureEndpoint {
                interface: Uuid::from_u128(uuid),
                major,
                minor,
                object,
                annotation: ann.to_string(),
                binding: Binding {
                    protseq: "ncacn_ip_tcp".into(),
                    address: None,
                    endpoint: Some(port.to_string()),
                    port: Some(port),
                },
            });
        }
        for k in 0..pipes {
            let (uuid, major, pipe) = PIPES[k % PIPES.len()];
            endpoints.push(FixtureEndpoint {
                interface: Uuid::from_u128(uuid),
                major,
                minor: 0,
                object: Uuid::nil(),
                annotation: String::new(),
                binding: Binding {
                    protseq: "ncacn_np".into(),
                    address: Some(host_name.to_string()),
                    endpoint: Some(pipe.to_string()),
                    port: None,
                },
            });
        }
        for k in 0..lrpc {
            let (uuid, major, minor, _) = TCP_INTERFACES[k % TCP_INTERFACES.len()];
            endpoints.push(FixtureEndpoint {
                interface: Uuid::from_u128(uuid),
                major,
                minor,
                object: Uuid::nil(),
                annotation: String::new(),
                binding: Binding {
                    protseq: "ncalrpc".into(),
                    address: None,
                    endpoint: Some(format!("LRPC-{:020x}", 0x5eed_0000_u64 + k as u64)),
                    port: None,
                },
            });
        }
        FixtureConfig {
            endpoints,
            page_size: 100,
            end_style: EndStyle::Windows,
            byte_order: ByteOrder::Little,
            max_xmit_frag: 5840,
            misbehave: None,
            idle_timeout: Duration::from_secs(60),
            require_auth: None,
            interfaces: InterfaceRules::default(),
        }
    }
}

/// What the fixture has seen, for tests that check a client's manners.
#[derive(Debug)]
pub struct FixtureStats {
    /// The next lookup handle to hand out.
    next_handle: AtomicU64,
    /// `ept_lookup_handle_free` calls received.
    pub handles_freed: AtomicU64,
    /// `ept_lookup` calls received.
    pub lookups: AtomicU64,
    /// rpc_auth3 PDUs received (NTLM logons tried).
    pub logons: AtomicU64,
}

impl Default for FixtureStats {
    fn default() -> Self {
        FixtureStats {
            next_handle: AtomicU64::new(1),
            handles_freed: AtomicU64::new(0),
            lookups: AtomicU64::new(0),
            logons: AtomicU64::new(0),
        }
    }
}

/// A running fixture; stops when [`FixtureServer::stop`] is called or it is dropped.
pub struct FixtureServer {
    addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    udp_addr: Option<SocketAddr>,
    stats: Arc<FixtureStats>,
    task: tokio::task::JoinHandle<()>,
}

/// The sockets a fixture serves: TCP always, the other roads when bound.
#[derive(Debug)]
pub struct Listeners {
    /// `ncacn_ip_tcp` (135).
    pub tcp: TcpListener,
    /// `ncacn_http` (593): the banner, then the same handling as TCP.
    pub http: Option<TcpListener>,
    /// `ncadg_ip_udp` (135).
    pub udp: Option<tokio::net::UdpSocket>,
}

impl Listeners {
    /// Bind `tcp`, and `http` and `udp` when given (port 0: a free one).
    pub async fn bind(
        tcp: SocketAddr,
        http: Option<SocketAddr>,
        udp: Option<SocketAddr>,
    ) -> std::io::Result<Self> {
        let tcp = TcpListener::bind(tcp).await?;
        let http = match http {
            Some(a) => Some(TcpListener::bind(a).await?),
            None => None,
        };
        let udp = match udp {
            Some(a) => Some(tokio::net::UdpSocket::bind(a).await?),
            None => None,
        };
        Ok(Listeners { tcp, http, udp })
    }
}

impl FixtureServer {
    /// Bind `listen` and serve `config` in the background.
    pub async fn start(listen: SocketAddr, config: FixtureConfig) -> std::io::Result<Self> {
        Self::start_on(Listeners::bind(listen, None, None).await?, config)
    }

    /// Serve `config` on every road in `listeners`, in the background.
    pub fn start_on(listeners: Listeners, config: FixtureConfig) -> std::io::Result<Self> {
        let addr = listeners.tcp.local_addr()?;
        let http_addr = listeners
            .http
            .as_ref()
            .map(|l| l.local_addr())
            .transpose()?;
        let udp_addr = listeners.udp.as_ref().map(|l| l.local_addr()).transpose()?;
        let stats = Arc::new(FixtureStats::default());
        let task = tokio::spawn(serve_roads(listeners, Arc::new(config), stats.clone()));
        Ok(FixtureServer {
            addr,
            http_addr,
            udp_addr,
            stats,
            task,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `ncacn_http` is served, when it is.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Where `ncadg_ip_udp` is served, when it is.
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp_addr
    }

    pub fn stats(&self) -> &FixtureStats {
        &self.stats
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accept connections forever; each is served in a task that ends with this future.
pub async fn serve(listener: TcpListener, config: Arc<FixtureConfig>) {
    serve_counting(listener, config, Arc::new(FixtureStats::default())).await
}

/// [`serve`], counting what clients do in `stats`.
pub async fn serve_counting(
    listener: TcpListener,
    config: Arc<FixtureConfig>,
    handles: Arc<FixtureStats>,
) {
    let roads = Listeners {
        tcp: listener,
        http: None,
        udp: None,
    };
    serve_roads(roads, config, handles).await
}

/// Accept on every road of `listeners` forever, counting what clients do in `stats`.
pub async fn serve_roads(
    listeners: Listeners,
    config: Arc<FixtureConfig>,
    handles: Arc<FixtureStats>,
) {
    let Listeners {
        tcp: listener,
        http,
        udp,
    } = listeners;
    let config = if config.misbehave == Some(Misbehave::HostileText) {
        let mut c = (*config).clone();
        let mut endpoints = FixtureConfig::hostile_text_endpoints();
        endpoints.append(&mut c.endpoints);
        c.endpoints = endpoints;
        Arc::new(c)
    } else {
        config
    };
    let mut conns = JoinSet::new();
    if let Some(socket) = udp {
        let config = config.clone();
        let handles = handles.clone();
        conns.spawn(async move {
            if let Err(e) = datagram::serve(socket, &config, &handles).await {
                tracing::debug!("fixture: UDP: {e}");
            }
        });
    }
    let http_accept = async |l: &Option<TcpListener>| match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    };
    loop {
        let (accepted, banner) = tokio::select! {
            accepted = listener.accept() => (accepted, false),
            accepted = http_accept(&http) => (accepted, true),
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let Ok((stream, peer)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let config = match config.interfaces.for_peer(peer.ip()) {
            Some(rules) => {
                let mut c = (*config).clone();
                c.interfaces = rules;
                Arc::new(c)
            }
            None => config.clone(),
        };
        let handles = handles.clone();
        conns.spawn(async move {
            let served = async {
                let mut stream = stream;
                if banner {
                    send_banner(&mut stream, &config).await?;
                }
                serve_connection(stream, &config, &handles).await
            };
            if let Err(e) = served.await {
                tracing::debug!("fixture: connection from {peer}: {e}");
            }
        });
    }
}

/// The `ncacn_http/1.0` banner an `ncacn_http` server sends first; none when silent, and
/// one byte at a time when dripping.
async fn send_banner(stream: &mut TcpStream, config: &FixtureConfig) -> Result<(), ServeError> {
    match config.misbehave {
        Some(Misbehave::Silent) => Ok(()),
        Some(Misbehave::Drip) => {
            for b in crate::wire::http::BANNER {
                stream.write_all(std::slice::from_ref(b)).await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(())
        }
        _ => Ok(stream.write_all(crate::wire::http::BANNER).await?),
    }
}

#[derive(Debug, thiserror::Error)]
enum ServeError {
    #[error("{0}")]
    Connection(#[from] super::connection::ConnectionError),
    #[error("{0}")]
    Wire(#[from] WireError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("idle")]
    Idle,
    #[error("{0}")]
    Auth(#[from] AuthError),
}

struct Session<'a> {
    config: &'a FixtureConfig,
    conn: Connection<TcpStream>,
    order: ByteOrder,
    max_xmit: u16,
    accepted_context: Option<u16>,
    /// Contexts bound to a registered interface other than the EPM ([`InterfaceRules`]).
    interface_contexts: HashMap<u16, Uuid>,
    stats: &'a FixtureStats,
    /// What the calls are answered with.
    answers: Answers<'a>,
    /// The NTLM context, once a client sent an authenticated bind.
    auth: Option<ServerAuth>,
}

/// The endpoint mapper's answers to its calls, whatever the road: what one connection (or one
/// connectionless activity) has been handed so far.
pub(crate) struct Answers<'a> {
    config: &'a FixtureConfig,
    stats: &'a FixtureStats,
    /// The address the client reached, for towers registered without one.
    local_ip: Option<std::net::Ipv4Addr>,
    order: ByteOrder,
    /// Live lookup handles and where each continues.
    handles: HashMap<Uuid, usize>,
    endless_next: usize,
}

/// What a call is answered with.
pub(crate) enum Answer {
    /// A response stub.
    Stub(Vec<u8>),
    /// A fault with this status.
    Fault(u32),
}

/// nca_s_fault_ndr: a request stub that does not decode.
const FAULT_NDR: u32 = 0x1c00_001e;
/// nca_s_op_rng_error.
const FAULT_OP_RANGE: u32 = 0x1c01_0002;
/// rpc_s_access_denied.
pub(crate) const FAULT_ACCESS_DENIED: u32 = 0x0000_0005;

/// The IPv4 address a socket was reached at (an IPv4-mapped IPv6 one too).
pub(crate) fn reached_ipv4(local: SocketAddr) -> Option<std::net::Ipv4Addr> {
    match local.ip() {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(a) => a.to_ipv4_mapped(),
    }
}

async fn serve_connection(
    stream: TcpStream,
    config: &FixtureConfig,
    stats: &FixtureStats,
) -> Result<(), ServeError> {
    let local_ip = reached_ipv4(stream.local_addr()?);
    let mut s = Session {
        config,
        conn: Connection::new(stream),
        order: config.byte_order,
        max_xmit: config.max_xmit_frag,
        accepted_context: None,
        interface_contexts: HashMap::new(),
        stats,
        answers: Answers::new(config, stats, local_ip),
        auth: None,
    };
    let mut request = None::<(u32, u16, u16, Reassembler)>;
    loop {
        let mut frame = tokio::time::timeout(config.idle_timeout, s.conn.read_fragment())
            .await
            .map_err(|_| ServeError::Idle)??;
        if config.misbehave == Some(Misbehave::Silent) {
            continue;
        }
        let header = pdu::parse_header(&frame)?;
        if header.ptype == pdu::ptype::REQUEST
            && let Some(a) = s.auth.as_mut()
            && a.established()
            && a.level().protects_calls()
            && let Err(e) = a.unprotect(&mut frame)
        {
            // A request that does not verify: refuse it and hang up.
            let _ = s.fault(header.call_id, 0, 0x0000_0005).await;
            return Err(e.into());
        }
        let pdu = Pdu::decode(&frame)?;
        let call_id = pdu.header.call_id;
        match pdu.body {
            Body::Bind(ref b) => s.on_bind(call_id, &pdu, b, false).await?,
            Body::AlterContext(ref b) => s.on_bind(call_id, &pdu, b, true).await?,
            Body::Auth3(_) => s.on_auth3(&pdu),
            Body::Request(r) => {
                let (opnum, context_id, mut re) = match request.take() {
                    Some((id, opnum, ctx, re)) if id == call_id => (opnum, ctx, re),
                    _ => (r.opnum, r.context_id, Reassembler::new(64 * 1024)),
                };
                match re.push(&pdu.header, r.alloc_hint, r.stub)? {
                    Progress::More => request = Some((call_id, opnum, context_id, re)),
                    Progress::Complete => {
                        let order = pdu.header.byte_order();
                        s.on_request(call_id, context_id, opnum, &re.into_stub(), order)
                            .await?
                    }
                }
            }
            Body::Shutdown => return Ok(()),
            _ => {}
        }
    }
}

impl Session<'_> {
    async fn send(&mut self, pdu: Pdu<'_>) -> Result<(), ServeError> {
        let bytes = pdu.encode()?;
        self.send_bytes(&bytes).await
    }

    /// A bind_nak with `reason`, offering protocol version 5.0.
    async fn send_bind_nak(&mut self, call_id: u32, reason: u16) -> Result<(), ServeError> {
        let nak = BindNak {
            reject_reason: reason,
            versions: vec![(5, 0)],
        };
        self.send(Pdu::new(
            self.order,
            call_id,
            PFC_FIRST_FRAG | PFC_LAST_FRAG,
            Body::BindNak(nak),
        ))
        .await
    }

    async fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), ServeError> {
        if self.config.misbehave == Some(Misbehave::Drip) {
            for b in bytes {
                self.conn.write_all(std::slice::from_ref(b)).await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return Ok(());
        }
        self.conn.write_all(bytes).await?;
        Ok(())
    }

    /// The AUTHENTICATE leg. No answer either way: a logon failure shows on the next call.
    fn on_auth3(&mut self, pdu: &Pdu<'_>) {
        self.stats.logons.fetch_add(1, Ordering::Relaxed);
        let (Some(a), Some(v)) = (self.auth.as_mut(), pdu.auth.as_ref()) else {
            return;
        };
        if let Err(e) = a.authenticate(v.token) {
            tracing::debug!("fixture: {e}");
        }
    }

    /// Start NTLM for an authenticated bind: the challenge and the trailer for the
    /// bind_ack, or the reason to refuse it.
    fn start_auth(&mut self, pdu: &Pdu<'_>) -> Result<Option<(Vec<u8>, u8)>, u16> {
        let Some(v) = pdu.auth.as_ref() else {
            return Ok(None);
        };
        let Some(acceptor) = self.config.require_auth.as_ref() else {
            return Err(reject_reason::AUTHENTICATION_TYPE_NOT_RECOGNIZED);
        };
        let level = match (v.trailer.auth_type, Level::from_wire(v.trailer.auth_level)) {
            (auth_type::WINNT, Some(level)) => level,
            _ => return Err(reject_reason::AUTHENTICATION_TYPE_NOT_RECOGNIZED),
        };
        match ServerAuth::accept(acceptor, v.token, level, v.trailer.auth_context_id) {
            Ok((a, challenge)) => {
                self.auth = Some(a);
                Ok(Some((challenge, level.wire())))
            }
            Err(_) => Err(reject_reason::INVALID_CHECKSUM),
        }
    }

    async fn on_bind(
        &mut self,
        call_id: u32,
        pdu: &Pdu<'_>,
        bind: &Bind,
        alter: bool,
    ) -> Result<(), ServeError> {
        match self.config.misbehave {
            Some(Misbehave::Garbage) => {
                let junk: Vec<u8> = b"HTTP/1.1 400 Bad Request\r\n\r\n"
                    .iter()
                    .copied()
                    .chain((0..200u32).map(|k| (k.wrapping_mul(2_654_435_761) >> 24) as u8))
                    .collect();
                return self.send_bytes(&junk).await;
            }
            Some(Misbehave::ShortFragment) => {
                let mut hdr = Pdu::new(self.order, call_id, 3, Body::Shutdown).encode()?;
                hdr[2] = pdu::ptype::BIND_ACK;
                let len: u16 = 5000;
                hdr[8..10].copy_from_slice(&self.order.u16_bytes(len));
                hdr.extend_from_slice(&[0u8; 100]);
                self.send_bytes(&hdr).await?;
                std::future::pending::<()>().await;
                return Ok(());
            }
            Some(Misbehave::BindNak) => {
                return self
                    .send_bind_nak(call_id, reject_reason::PROTOCOL_VERSION_NOT_SUPPORTED)
                    .await;
            }
            _ => {}
        }
        let challenge = if alter {
            None
        } else {
            match self.start_auth(pdu) {
                Ok(c) => c,
                Err(reason) => {
                    return self.send_bind_nak(call_id, reason).await;
                }
            }
        };
        if !alter {
            // The fixture never sends fragments larger than the client can take.
            self.max_xmit = self.config.max_xmit_frag.min(bind.max_recv_frag.max(1024));
        }
        let rules = &self.config.interfaces;
        let served = |syntax: &SyntaxId| {
            rules.serve
                && (self
                    .config
                    .endpoints
                    .iter()
                    .any(|e| e.interface == syntax.uuid && e.major == syntax.major())
                    || *syntax == crate::wire::mgmt::MGMT_SYNTAX
                    || (rules.unregistered.contains(&syntax.uuid) && syntax.major() == 1))
        };
        if bind.contexts.iter().any(|c| {
            served(&c.abstract_syntax) && rules.refuse_binds.contains(&c.abstract_syntax.uuid)
        }) {
            return self
                .send_bind_nak(call_id, reject_reason::NOT_SPECIFIED)
                .await;
        }
        let mut results = Vec::with_capacity(bind.contexts.len());
        for c in &bind.contexts {
            let epm = c.abstract_syntax == EPM_SYNTAX;
            let ndr = c.transfer_syntaxes.contains(&NDR20);
            let r = if !epm && served(&c.abstract_syntax) && ndr {
                self.interface_contexts
                    .insert(c.context_id, c.abstract_syntax.uuid);
                ContextResult {
                    result: RESULT_ACCEPTANCE,
                    reason: 0,
                    transfer_syntax: NDR20,
                }
            } else if epm && ndr {
                self.accepted_context.get_or_insert(c.context_id);
                ContextResult {
                    result: RESULT_ACCEPTANCE,
                    reason: 0,
                    transfer_syntax: NDR20,
                }
            } else {
                ContextResult {
                    result: RESULT_PROVIDER_REJECTION,
                    reason: if epm {
                        REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED
                    } else {
                        REASON_ABSTRACT_SYNTAX_NOT_SUPPORTED
                    },
                    transfer_syntax: SyntaxId {
                        uuid: Uuid::nil(),
                        version: 0,
                    },
                }
            };
            results.push(r);
        }
        let ack = BindAck {
            max_xmit_frag: self.max_xmit,
            max_recv_frag: self.max_xmit,
            assoc_group_id: 0x0001_2f4a,
            secondary_address: if alter { String::new() } else { "135".into() },
            results,
        };
        let body = if alter {
            Body::AlterContextResp(ack)
        } else {
            Body::BindAck(ack)
        };
        let header_sign = pdu.header.flags & PFC_SUPPORT_HEADER_SIGN;
        let mut reply = Pdu::new(
            self.order,
            call_id,
            PFC_FIRST_FRAG | PFC_LAST_FRAG | if challenge.is_some() { header_sign } else { 0 },
            body,
        );
        if let (Some((token, _)), Some(a)) = (&challenge, &self.auth) {
            reply = reply.with_auth(a.trailer(), token)?;
        }
        self.send(reply).await
    }

    /// Whether calls must be refused: authentication is required and this connection has
    /// not (or not successfully) authenticated.
    fn refuses_calls(&self) -> bool {
        self.config.require_auth.is_some() && !self.auth.as_ref().is_some_and(|a| a.established())
    }

    async fn fault(
        &mut self,
        call_id: u32,
        context_id: u16,
        status: u32,
    ) -> Result<(), ServeError> {
        self.send(Pdu::new(
            self.order,
            call_id,
            PFC_FIRST_FRAG | PFC_LAST_FRAG | pdu::PFC_DID_NOT_EXECUTE,
            Body::Fault(Fault {
                head: ReplyHead {
                    context_id,
                    ..ReplyHead::default()
                },
                status,
                stub: &[],
            }),
        ))
        .await
    }

    async fn on_request(
        &mut self,
        call_id: u32,
        context_id: u16,
        opnum: u16,
        stub: &[u8],
        order: ByteOrder,
    ) -> Result<(), ServeError> {
        if let Some(uuid) = self.interface_contexts.get(&context_id) {
            let refused =
                self.refuses_calls() || self.config.interfaces.refuse_calls.contains(uuid);
            if !refused
                && *uuid == crate::wire::mgmt::MGMT_INTERFACE
                && opnum == crate::wire::mgmt::OPNUM_INQ_IF_IDS
            {
                let ids = self.config.interfaces.if_ids(&self.config.endpoints);
                let reply = ids.encode(self.order)?;
                return self.respond(call_id, context_id, &reply).await;
            }
            // rpc_s_access_denied, or nca_s_op_rng_error: no method of it is implemented here.
            let status = if refused { 0x0000_0005 } else { 0x1c01_0002 };
            return self.fault(call_id, context_id, status).await;
        }
        if self.accepted_context != Some(context_id) {
            return self.fault(call_id, context_id, 0x1c01_0003).await; // nca_s_unk_if
        }
        if self.refuses_calls() {
            return self.fault(call_id, context_id, 0x0000_0005).await; // rpc_s_access_denied
        }
        match self.answers.answer(opnum, stub, order)? {
            Answer::Stub(reply) => self.respond(call_id, context_id, &reply).await,
            Answer::Fault(status) => self.fault(call_id, context_id, status).await,
        }
    }

    /// Send `stub` as one or more response fragments of at most `max_xmit` bytes.
    async fn respond(
        &mut self,
        call_id: u32,
        context_id: u16,
        stub: &[u8],
    ) -> Result<(), ServeError> {
        let huge_hint = self.config.misbehave == Some(Misbehave::HugeAllocHint);
        let protected = self
            .auth
            .as_ref()
            .is_some_and(|a| a.level().protects_calls());
        // An authenticated fragment also holds up to 15 bytes of padding, the sec_trailer
        // and the signature.
        let overhead = if protected {
            24 + 15 + 8 + NTLM_SIGNATURE_LEN
        } else {
            24
        };
        let frag_room = if huge_hint {
            64
        } else {
            usize::from(self.max_xmit).saturating_sub(overhead).max(16) / 16 * 16
        };
        let chunks: Vec<&[u8]> = if stub.is_empty() {
            vec![stub]
        } else {
            stub.chunks(frag_room).collect()
        };
        let count = chunks.len();
        let mut sent = 0usize;
        for (k, chunk) in chunks.into_iter().enumerate() {
            let flags = fragment_flags(k, count);
            let alloc_hint = if huge_hint {
                u32::MAX
            } else {
                u32::try_from(stub.len() - sent).unwrap_or(u32::MAX)
            };
            let mut response = Pdu::new(
                self.order,
                call_id,
                flags,
                Body::Response(Response {
                    head: ReplyHead {
                        alloc_hint,
                        context_id,
                        cancel_count: 0,
                    },
                    stub: chunk,
                }),
            );
            let placeholder = [0u8; NTLM_SIGNATURE_LEN];
            if protected && let Some(a) = &self.auth {
                response = response.with_auth(a.trailer(), &placeholder)?;
            }
            let mut bytes = response.encode()?;
            if protected && let Some(a) = self.auth.as_mut() {
                a.protect(&mut bytes)?;
                if self.config.misbehave == Some(Misbehave::TamperSignature) {
                    // One bit of the checksum (bytes 4..12 of the NTLM signature).
                    let at = bytes.len() - NTLM_SIGNATURE_LEN + 6;
                    bytes[at] ^= 0x01;
                }
            }
            if self.config.misbehave == Some(Misbehave::Reset) {
                let half = bytes.get(..bytes.len() / 2).unwrap_or(&bytes);
                self.conn.write_all(half).await?;
                let _ = self.conn.get_mut().set_zero_linger();
                let _ = self.conn.get_mut().shutdown().await;
                return Err(ServeError::Idle);
            }
            self.send_bytes(&bytes).await?;
            sent += chunk.len();
        }
        Ok(())
    }
}

impl<'a> Answers<'a> {
    pub(crate) fn new(
        config: &'a FixtureConfig,
        stats: &'a FixtureStats,
        local_ip: Option<std::net::Ipv4Addr>,
    ) -> Self {
        Answers {
            config,
            stats,
            local_ip,
            order: config.byte_order,
            handles: HashMap::new(),
            endless_next: 0,
        }
    }

    /// The answer to call `opnum` with request `stub` (in `order`), in the fixture's byte
    /// order: `ept_lookup`, `ept_map`, `ept_lookup_handle_free`, or a fault.
    pub(crate) fn answer(
        &mut self,
        opnum: u16,
        stub: &[u8],
        order: ByteOrder,
    ) -> Result<Answer, WireError> {
        let reply = match opnum {
            OPNUM_LOOKUP => {
                self.stats.lookups.fetch_add(1, Ordering::Relaxed);
                if self.config.misbehave == Some(Misbehave::Fault) {
                    return Ok(Answer::Fault(FAULT_ACCESS_DENIED));
                }
                match LookupRequest::decode(stub, order) {
                    Ok(req) => self.lookup(&req)?,
                    Err(_) => return Ok(Answer::Fault(FAULT_NDR)),
                }
            }
            OPNUM_MAP => match MapRequest::decode(stub, order) {
                Ok(req) => self.map(&req)?,
                Err(_) => return Ok(Answer::Fault(FAULT_NDR)),
            },
            OPNUM_LOOKUP_HANDLE_FREE => match HandleFreeRequest::decode(stub, order) {
                Ok(req) => {
                    self.stats.handles_freed.fetch_add(1, Ordering::Relaxed);
                    self.handles.remove(&req.handle.uuid);
                    HandleFreeResponse {
                        handle: ContextHandle::NULL,
                        status: 0,
                    }
                    .encode(self.order)?
                }
                Err(_) => return Ok(Answer::Fault(FAULT_NDR)),
            },
            _ => return Ok(Answer::Fault(FAULT_OP_RANGE)),
        };
        Ok(Answer::Stub(reply))
    }

    fn new_handle(&mut self) -> ContextHandle {
        let n = self.stats.next_handle.fetch_add(1, Ordering::Relaxed);
        ContextHandle {
            attributes: 0,
            uuid: Uuid::from_u128(0x7a1e_0000_0000_4000_8000_0000_0000_0000 | u128::from(n)),
        }
    }

    fn entry(&self, e: &FixtureEndpoint) -> Result<EptEntry, WireError> {
        let mut binding = e.binding.clone();
        let ip_based = matches!(
            binding.protseq.as_str(),
            "ncacn_ip_tcp" | "ncadg_ip_udp" | "ncacn_http"
        );
        if ip_based && binding.address.is_none() {
            binding.address = Some(
                self.local_ip
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "0.0.0.0".into()),
            );
        }
        Ok(EptEntry {
            object: e.object,
            tower: EntryTower::Decoded(Tower::for_binding(
                e.interface,
                e.major,
                e.minor,
                &binding,
            )?),
            annotation: e.annotation.clone(),
        })
    }

    /// The ept_lookup response to `req`, in the connection's byte order.
    fn lookup_reply(
        &self,
        req: &LookupRequest,
        handle: ContextHandle,
        entries: Vec<EptEntry>,
        status: u32,
    ) -> Result<Vec<u8>, WireError> {
        LookupResponse {
            max_count: req.max_ents,
            handle,
            entries,
            status,
        }
        .encode(self.order)
    }

    fn lookup(&mut self, req: &LookupRequest) -> Result<Vec<u8>, WireError> {
        let cfg = self.config;
        let page = cfg
            .page_size
            .max(1)
            .min(usize::try_from(req.max_ents).unwrap_or(usize::MAX))
            .max(1);
        match cfg.misbehave {
            Some(Misbehave::SameHandle) => {
                let handle = ContextHandle {
                    attributes: 0,
                    uuid: Uuid::from_u128(0x5a3e),
                };
                let entries = cfg
                    .endpoints
                    .iter()
                    .take(page)
                    .map(|e| self.entry(e))
                    .collect::<Result<_, _>>()?;
                return self.lookup_reply(req, handle, entries, 0);
            }
            Some(Misbehave::Endless) => {
                let handle = ContextHandle {
                    attributes: 0,
                    uuid: Uuid::from_u128(0xe4d1e55),
                };
                let mut entries = Vec::with_capacity(page);
                for _ in 0..page {
                    let k = self.endless_next;
                    self.endless_next += 1;
                    let mut e = cfg
                        .endpoints
                        .first()
                        .cloned()
                        .unwrap_or_else(|| FixtureEndpoint {
                            interface: EPM_INTERFACE,
                            major: 3,
                            minor: 0,
                            object: Uuid::nil(),
                            annotation: String::new(),
                            binding: Binding {
                                protseq: "ncacn_ip_tcp".into(),
                                address: None,
                                endpoint: Some("135".into()),
                                port: Some(135),
                            },
                        });
                    e.object = Uuid::from_u128(k as u128 + 1);
                    entries.push(self.entry(&e)?);
                }
                return self.lookup_reply(req, handle, entries, 0);
            }
            Some(Misbehave::TowerOverrun) => return Ok(tower_overrun(self.order)),
            Some(Misbehave::NdrTricks) => return Ok(ndr_tricks(self.order)),
            _ => {}
        }
        let start = if req.handle.is_null() {
            0
        } else {
            match self.handles.get(&req.handle.uuid) {
                Some(&pos) => pos,
                None => {
                    // An unknown or exhausted handle: nothing more.
                    return self.lookup_reply(
                        req,
                        ContextHandle::NULL,
                        Vec::new(),
                        EPT_S_NOT_REGISTERED,
                    );
                }
            }
        };
        let total = cfg.endpoints.len();
        let end = (start + page).min(total);
        let entries = cfg
            .endpoints
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .map(|e| self.entry(e))
            .collect::<Result<Vec<_>, _>>()?;
        let done = end >= total;
        let handle = if !req.handle.is_null() {
            req.handle
        } else {
            self.new_handle()
        };
        let full = entries.len() >= page;
        let (handle, status) = match (done, cfg.end_style) {
            (true, EndStyle::Windows) if full => {
                // Windows cannot tell a full last page from a full middle one: the handle
                // stays live, and the next call finds nothing.
                self.handles.insert(handle.uuid, end);
                (handle, 0)
            }
            (true, EndStyle::Windows) => {
                self.handles.remove(&handle.uuid);
                let status = if entries.is_empty() {
                    EPT_S_NOT_REGISTERED
                } else {
                    0
                };
                (ContextHandle::NULL, status)
            }
            (false, _) => {
                self.handles.insert(handle.uuid, end);
                (handle, 0)
            }
            (true, EndStyle::NullHandle) => {
                self.handles.remove(&handle.uuid);
                (
                    ContextHandle::NULL,
                    if entries.is_empty() {
                        EPT_S_NOT_REGISTERED
                    } else {
                        0
                    },
                )
            }
            (true, EndStyle::WithLast) => {
                self.handles.remove(&handle.uuid);
                (ContextHandle::NULL, EPT_S_NOT_REGISTERED)
            }
            (true, EndStyle::ExtraCall) => {
                if entries.is_empty() {
                    self.handles.remove(&handle.uuid);
                    (ContextHandle::NULL, EPT_S_NOT_REGISTERED)
                } else {
                    // Keep the handle alive; the next call finds nothing and says so.
                    self.handles.insert(handle.uuid, end);
                    (handle, 0)
                }
            }
        };
        self.lookup_reply(req, handle, entries, status)
    }

    fn map(&mut self, req: &MapRequest) -> Result<Vec<u8>, WireError> {
        let wanted = req.tower.as_ref().and_then(|t| t.interface());
        let want_protseq = req.tower.as_ref().map(|t| t.binding().protseq);
        let mut towers = Vec::new();
        for e in &self.config.endpoints {
            let same_if = wanted.is_some_and(|(u, major, _)| u == e.interface && major == e.major);
            let same_proto = want_protseq
                .as_deref()
                .is_none_or(|p| p == e.binding.protseq);
            if same_if && same_proto && towers.len() < usize::try_from(req.max_towers).unwrap_or(0)
            {
                towers.push(self.entry(e)?.tower);
            }
        }
        let status = if towers.is_empty() {
            EPT_S_NOT_REGISTERED
        } else {
            0
        };
        MapResponse {
            max_count: req.max_towers,
            handle: ContextHandle::NULL,
            towers,
            status,
        }
        .encode(self.order)
    }
}

/// A lookup response whose first tower claims more bytes than the stub holds.
fn tower_overrun(order: ByteOrder) -> Vec<u8> {
    let mut w = NdrWriter::new(order);
    w.context_handle(&ContextHandle::NULL);
    for v in [1u32, 1, 0, 1] {
        w.u32(v);
    }
    w.uuid(&Uuid::nil());
    w.u32(3); // tower referent
    w.u32(0);
    w.u32(1);
    w.u8(0);
    w.align(4);
    w.u32(60_000); // conformance
    w.u32(60_000); // length, but only a few bytes follow
    w.bytes(&[5, 0, 19, 0, 0x0d]);
    w.into_bytes()
}

/// A lookup response that announces a million entries in a few dozen bytes.
fn ndr_tricks(order: ByteOrder) -> Vec<u8> {
    let mut w = NdrWriter::new(order);
    w.context_handle(&ContextHandle {
        attributes: 0,
        uuid: Uuid::from_u128(7),
    });
    for v in [1_000_000u32, 1_000_000, 0, 1_000_000] {
        w.u32(v);
    }
    w.uuid(&Uuid::nil());
    w.u32(3);
    w.u32(0);
    w.u32(0);
    w.u32(0);
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::HostStatus;
    use crate::epm::client::DumpOptions;
    use crate::epm::dump::dump_host;

    /// A fixture server on a free loopback port.
    async fn serve(config: FixtureConfig) -> FixtureServer {
        FixtureServer::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap()
    }

    async fn dump_with(config: FixtureConfig, opts: DumpOptions) -> crate::epm::HostDump {
        let server = serve(config).await;
        let addr = server.local_addr();
        dump_host("fixture", &[addr], &opts).await
    }

    fn config(n: usize) -> FixtureConfig {
        FixtureConfig::windows_like(n, &PortRanges::parse("5001-5021").unwrap(), 4, 3, "SRV01")
    }

    #[tokio::test]
    async fn every_end_style_and_byte_order_gives_the_complete_list() {
        for style in [
            EndStyle::Windows,
            EndStyle::NullHandle,
            EndStyle::ExtraCall,
            EndStyle::WithLast,
        ] {
            for order in [ByteOrder::Little, ByteOrder::Big] {
                // 40 + 4 + 3 = 47 entries in pages of 10; and 50 + 4 + 6 = 60, a full last page.
                for (tcp, lrpc) in [(40, 3), (50, 6)] {
                    let mut c = FixtureConfig::windows_like(
                        tcp,
                        &PortRanges::parse("5001-5021").unwrap(),
                        4,
                        lrpc,
                        "SRV01",
                    );
                    c.page_size = 10;
                    c.end_style = style;
                    c.byte_order = order;
                    let total = c.endpoints.len();
                    let d = dump_with(c, DumpOptions::default()).await;
                    assert_eq!(
                        d.status,
                        HostStatus::Ok,
                        "{style:?} {order:?}: {:?}",
                        d.error
                    );
                    assert_eq!(d.endpoints.len(), total, "{style:?} {order:?}");
                    assert_eq!(d.tcp_endpoints().count(), tcp);
                    assert_eq!(d.tcp_ports().len(), 21);
                }
            }
        }
    }

    /// The pages of one whole `ept_lookup` loop asking `max_ents` at a time: (entries,
    /// handle live, status) each.
    async fn pages(config: FixtureConfig, max_ents: u32) -> Vec<(usize, bool, u32)> {
        use crate::epm::client::EpmSession;
        let server = serve(config).await;
        let opts = DumpOptions::default();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut s = EpmSession::connect(server.local_addr(), &opts, deadline)
            .await
            .unwrap();
        let mut handle = ContextHandle::NULL;
        let mut seen = Vec::new();
        while seen.len() < 10 {
            let page = s.lookup(handle, max_ents).await.unwrap();
            seen.push((page.entries.len(), !page.handle.is_null(), page.status));
            if page.handle.is_null() {
                break;
            }
            handle = page.handle;
        }
        seen
    }

    /// Windows, the default: a short last page ends with a null handle; a full one keeps the
    /// handle, and the next call finds nothing and says `ept_s_not_registered`.
    #[tokio::test]
    async fn the_default_ends_the_list_as_windows_does() {
        let c = || FixtureConfig::windows_like(3, &PortRanges::parse("5001").unwrap(), 0, 0, "H");
        assert_eq!(c().end_style, EndStyle::Windows);
        assert_eq!(
            pages(c(), 2).await,
            [(2, true, 0), (1, false, 0)],
            "a short last page"
        );
        assert_eq!(
            pages(c(), 1).await,
            [
                (1, true, 0),
                (1, true, 0),
                (1, true, 0),
                (0, false, EPT_S_NOT_REGISTERED)
            ],
            "a full last page, as rpcclient asks"
        );
        assert_eq!(
            pages(c(), 3).await,
            [(3, true, 0), (0, false, EPT_S_NOT_REGISTERED)]
        );
        let mut empty = c();
        empty.endpoints.clear();
        assert_eq!(pages(empty, 2).await, [(0, false, EPT_S_NOT_REGISTERED)]);
    }

    #[tokio::test]
    async fn towers_carry_the_address_the_client_reached() {
        let d = dump_with(config(3), DumpOptions::default()).await;
        let tcp: Vec<_> = d.tcp_endpoints().collect();
        assert_eq!(tcp[0].binding, "ncacn_ip_tcp:127.0.0.1[5001]");
        assert_eq!(
            tcp[0].interface.to_string(),
            "12345778-1234-abcd-ef00-0123456789ac"
        );
        assert_eq!(tcp[0].version, "1.0");
        assert!(
            d.endpoints
                .iter()
                .any(|e| e.binding == "ncacn_np:\\\\SRV01[\\pipe\\lsass]")
        );
        assert!(d.endpoints.iter().any(|e| e.protocol == "ncalrpc"));
    }

    #[tokio::test]
    async fn small_fragments_are_reassembled() {
        let mut c = config(300);
        c.max_xmit_frag = 1024;
        c.page_size = 500;
        let d = dump_with(c, DumpOptions::default()).await;
        assert_eq!(d.status, HostStatus::Ok, "{:?}", d.error);
        assert_eq!(d.endpoints.len(), 307);
    }

    #[tokio::test]
    async fn the_entry_cap_makes_a_partial_dump_and_frees_the_handle() {
        let mut c = config(100);
        c.page_size = 30;
        let server = serve(c.clone()).await;
        let opts = DumpOptions {
            max_entries: 45,
            ..DumpOptions::default()
        };
        let d = dump_host("fixture", &[server.local_addr()], &opts).await;
        assert_eq!(d.status, HostStatus::Partial);
        assert_eq!(d.endpoints.len(), 45);
        assert!(d.error.unwrap().contains("cap of 45"));
        // Two pages read (30 + 30 > 45), then the live handle released.
        assert_eq!(server.stats().lookups.load(Ordering::Relaxed), 2);
        assert_eq!(server.stats().handles_freed.load(Ordering::Relaxed), 1);
        // A complete dump ends on the server's own signal and frees nothing.
        let whole = dump_host("fixture", &[server.local_addr()], &DumpOptions::default()).await;
        assert_eq!(whole.status, HostStatus::Ok);
        assert_eq!(server.stats().handles_freed.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn ept_map_answers_for_one_interface() {
        let server = serve(config(30)).await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut s = crate::epm::client::EpmSession::connect(
            server.local_addr(),
            &DumpOptions::default(),
            deadline,
        )
        .await
        .unwrap();
        let samr = Uuid::from_u128(0x12345778_1234_abcd_ef00_0123456789ac);
        let towers = s.map_tcp(samr, 1, 0).await.unwrap();
        let ports: Vec<Option<u16>> = towers.iter().map(|t| t.binding().port).collect();
        // 30 registrations over 16 interfaces: samr is the 1st and the 17th, on 5001 and 5017.
        assert_eq!(ports, [Some(5001), Some(5017)]);
        let unknown = s.map_tcp(Uuid::from_u128(42), 1, 0).await.unwrap();
        assert!(unknown.is_empty());
    }

    #[tokio::test]
    async fn hostile_text_reaches_the_client_intact() {
        let mut c = config(3);
        c.misbehave = Some(Misbehave::HostileText);
        let d = dump_with(c, DumpOptions::default()).await;
        assert_eq!(d.status, HostStatus::Ok, "{:?}", d.error);
        assert_eq!(d.endpoints.len(), 4 + 3 + 4 + 3);
        let e = &d.endpoints;
        assert_eq!(e[0].annotation, hostile_text::ANNOTATION);
        assert_eq!(e[0].binding, "ncacn_ip_tcp:127.0.0.1[5001]");
        assert_eq!(e[1].annotation, hostile_text::ANNOTATION_ROW);
        assert_eq!(e[2].address.as_deref(), Some(hostile_text::HOST));
        assert_eq!(
            e[2].binding,
            format!(
                "ncacn_np:\\\\{}[{}]",
                hostile_text::HOST,
                hostile_text::PIPE
            )
        );
        assert_eq!(e[3].binding, format!("ncalrpc:[{}]", hostile_text::LRPC));
        assert!(hostile_text::ANNOTATION.len() < crate::wire::epm::MAX_ANNOTATION);
        assert!(hostile_text::ANNOTATION_ROW.len() < crate::wire::epm::MAX_ANNOTATION);
    }

    mod authenticated {
        use super::*;
        use crate::epm::auth::{Credentials, Secret};
        use crate::epm::client::{AuthMode, AuthOptions, LogonGate};
        use crate::epm::dump::dump_many;
        use std::sync::Arc;

        fn account(pw: &str) -> Credentials {
            Credentials::password("audit", "LAB", pw)
        }

        fn restricted(n: usize) -> FixtureConfig {
            let mut c = config(n);
            c.require_auth = Some(Acceptor {
                creds: account("Lab-pass-1"),
            });
            c
        }

        fn opts(mode: AuthMode, level: Level, pw: Option<&str>) -> DumpOptions {
            DumpOptions {
                auth: AuthOptions {
                    mode,
                    level,
                    credentials: pw.map(|p| Arc::new(account(p))),
                    gate: Arc::new(LogonGate::new(3)),
                    ..AuthOptions::default()
                },
                ..DumpOptions::default()
            }
        }

        #[tokio::test]
        async fn anonymous_lookups_are_refused_with_fault_5_and_told_what_to_do() {
            for mode in [AuthMode::Auto, AuthMode::None] {
                let d = dump_with(restricted(5), opts(mode, Level::Integrity, None)).await;
                assert_eq!(d.status, HostStatus::Error);
                let e = d.error.unwrap();
                assert!(e.contains(crate::epm::client::REFUSED_ANONYMOUS), "{e}");
                assert!(
                    e.starts_with("fixture: ept_lookup: fault 0x00000005: "),
                    "{e}"
                );
                assert!(d.auth.is_none());
            }
        }

        #[tokio::test]
        async fn auto_retries_with_ntlm_at_every_level_and_byte_order_and_gets_the_whole_list() {
            for level in [Level::Connect, Level::Integrity, Level::Privacy] {
                for order in [ByteOrder::Little, ByteOrder::Big] {
                    let mut c = restricted(300);
                    c.max_xmit_frag = 1024;
                    c.page_size = 120;
                    c.byte_order = order;
                    let total = c.endpoints.len();
                    let server = serve(c).await;
                    let d = dump_host(
                        "fixture",
                        &[server.local_addr()],
                        &opts(AuthMode::Auto, level, Some("Lab-pass-1")),
                    )
                    .await;
                    assert_eq!(
                        d.status,
                        HostStatus::Ok,
                        "{level:?} {order:?}: {:?}",
                        d.error
                    );
                    assert_eq!(d.endpoints.len(), total);
                    let a = d.auth.unwrap();
                    assert_eq!(
                        (a.mechanism.as_str(), a.level, a.user.as_str()),
                        ("ntlm", level, "LAB\\audit")
                    );
                    assert_eq!(server.stats().logons.load(Ordering::Relaxed), 1);
                }
            }
        }

        #[tokio::test]
        async fn an_nt_hash_works_like_the_password() {
            use md4::{Digest, Md4};
            let utf16: Vec<u8> = "Lab-pass-1"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            let hex: String = Md4::digest(&utf16)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let mut o = opts(AuthMode::Ntlm, Level::Privacy, None);
            let mut c = account("");
            c.secret = Secret::nt_hash_from_hex(&hex).unwrap();
            o.auth.credentials = Some(Arc::new(c));
            let d = dump_with(restricted(7), o).await;
            assert_eq!(d.status, HostStatus::Ok, "{:?}", d.error);
        }

        #[tokio::test]
        async fn a_tampered_response_signature_is_an_error_for_the_host() {
            for level in [Level::Integrity, Level::Privacy] {
                let mut c = restricted(20);
                c.misbehave = Some(Misbehave::TamperSignature);
                let d = dump_with(c, opts(AuthMode::Ntlm, level, Some("Lab-pass-1"))).await;
                assert_eq!(d.status, HostStatus::Error);
                assert!(d.endpoints.is_empty());
                let e = d.error.unwrap();
                assert!(
                    e.contains("response's signature does not verify"),
                    "{level:?}: {e}"
                );
            }
        }

        #[tokio::test]
        async fn a_wrong_password_is_a_logon_failure_tried_once() {
            let server = serve(restricted(5)).await;
            let d = dump_host(
                "fixture",
                &[server.local_addr(), server.local_addr()],
                &opts(AuthMode::Auto, Level::Integrity, Some("wrong")),
            )
            .await;
            assert_eq!(d.status, HostStatus::Error);
            let e = d.error.unwrap();
            assert!(
                e.contains("logon failure") && e.contains("LAB\\audit"),
                "{e}"
            );
            assert!(!e.contains("wrong"), "{e}");
            assert_eq!(server.stats().logons.load(Ordering::Relaxed), 1);
        }

        #[tokio::test]
        async fn after_three_logon_failures_the_credentials_are_no_longer_used() {
            let server = serve(restricted(5)).await;
            let addr = server.local_addr();
            let targets: Vec<String> = (0..8).map(|k| format!("host{k}")).collect();
            let o = opts(AuthMode::Auto, Level::Integrity, Some("wrong"));
            let hosts = dump_many(
                targets,
                move |_t: String| async move { Ok::<_, std::io::Error>(vec![addr]) },
                &o,
                8,
                |_| {},
            )
            .await;
            assert_eq!(server.stats().logons.load(Ordering::Relaxed), 3);
            let errors: Vec<String> = hosts.iter().map(|h| h.error.clone().unwrap()).collect();
            let saying = |what: &str| errors.iter().filter(|e| e.contains(what)).count();
            assert_eq!(
                (
                    saying("logon failure: the host refused"),
                    saying("credentials given are no longer used")
                ),
                (3, 5),
                "{errors:#?}"
            );
        }
    }

    #[tokio::test]
    async fn an_empty_endpoint_mapper_is_complete_and_empty() {
        let c = FixtureConfig::windows_like(0, &PortRanges::parse("5001").unwrap(), 0, 0, "X");
        let d = dump_with(c, DumpOptions::default()).await;
        assert_eq!(d.status, HostStatus::Ok, "{:?}", d.error);
        assert!(d.endpoints.is_empty());
    }
}
