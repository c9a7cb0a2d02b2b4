//! Reachability per interface (`rpcaudit interfaces`): after a host's endpoint mapper is
//! dumped ([`super::dump::dump_host`]), each interface it registers on `ncacn_ip_tcp` is
//! bound to on its port and called at [`PROBE_OPNUM`], an opnum beyond every dispatch table,
//! so that no method runs. How the server answers says whether calls from here reach the
//! interface ([`classify`]):
//!
//! - fault `nca_s_op_rng_error` (0x1c010002): the bind and every access check before dispatch
//!   passed; the call reached the interface, whose dispatch table has no such opnum;
//! - fault `rpc_s_access_denied` (5), or a `bind_nak`: refused (RestrictRemoteClients, an
//!   interface security descriptor or security callback, an RPC filter);
//! - the presentation context rejected, or fault `nca_s_unk_if`: the interface is not offered
//!   on that port;
//! - anything else (another fault, a closed connection, no answer in time): undetermined, never
//!   "callable" and never "refused".
//!
//! Where the checks happen, in the order Windows makes them, is Akamai's flowchart
//! (github.com/akamai/akamai-security-research rpc_toolkit/msrpc_security_flowchart.png, commit
//! a8ed272d): every check comes before the call reaches the server routine. That the opnum
//! range is checked at dispatch, after them, is assumed (as impacket's rpcmap.py reads
//! `nca_s_op_rng_error`); `docs/guide/interfaces.md` says so.
//!
//! Authenticated probes are made only when the host's dump itself authenticated with the same
//! credentials, so the account is known to be good there and no probe can add a logon failure
//! (the `LogonGate`'s rule); a refusal then is the interface's. A per-host cap
//! ([`ReachOptions::max_interfaces`]) and a pause between connections
//! ([`ReachOptions::interval`]) bound what one host receives; each probe has the dump's
//! connect and call deadlines, the whole host the [`ReachOptions::host_timeout`].

use super::catalogue::Tag;
use super::client::{DumpError, DumpOptions, EpmSession, failed, kerberos_spn};
use super::dump::dump_host;
use super::{EPM_INTERFACE, HostDump, HostStatus, Transport, names};
use crate::wire::pdu::SyntaxId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

/// The opnum every probe calls: the highest a request header can carry, beyond the dispatch
/// table of every interface in the catalogue (a unit test checks it against their counts).
pub const PROBE_OPNUM: u16 = u16::MAX;

/// nca_s_op_rng_error: the call reached the interface; no method has this opnum.
pub const STATUS_OP_RNG_ERROR: u32 = 0x1c01_0002;
/// nca_s_unk_if: the server does not know the interface.
pub const STATUS_UNK_IF: u32 = 0x1c01_0003;
/// rpc_s_access_denied.
pub const STATUS_ACCESS_DENIED: u32 = 5;

/// Limits of the probes of one run.
#[derive(Debug, Clone)]
pub struct ReachOptions {
    /// The dump's options (deadlines, credentials, road to the endpoint mapper).
    pub dump: DumpOptions,
    /// At most this many interfaces probed per host; the rest are counted as skipped.
    pub max_interfaces: usize,
    /// Pause between two connections to the same host.
    pub interval: Duration,
    /// Bound on all the probes of one host (after its dump).
    pub host_timeout: Duration,
    /// Probe the interfaces registered on named pipes too (`ncacn_np`, an anonymous SMB
    /// session on 445 per probe).
    pub pipes: bool,
    /// The local addresses every probe is made from, one after another (`--from`); empty:
    /// the kernel's choice, once.
    pub sources: Vec<IpAddr>,
}

/// What one probe concluded.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
// Named apart from the audit matrix's Verdict in the report's schema, whose name stays.
#[schemars(rename = "InterfaceVerdict")]
pub enum Verdict {
    /// The call reached the interface (fault nca_s_op_rng_error).
    Callable,
    /// The bind or the call was refused (rpc_s_access_denied, bind_nak).
    Refused,
    /// The port does not offer the interface (context rejected, nca_s_unk_if).
    NotOffered,
    /// The port could not be reached.
    Unreachable,
    /// Any other answer, or none: neither callable nor refused.
    Undetermined,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Callable => "callable",
            Verdict::Refused => "refused",
            Verdict::NotOffered => "not-offered",
            Verdict::Unreachable => "unreachable",
            Verdict::Undetermined => "undetermined",
        }
    }
}

/// One probe: the verdict and what the wire showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Probe {
    pub verdict: Verdict,
    /// What was seen, e.g. "fault 0x1c010002 (nca_s_op_rng_error)", "bind_nak, reason 0".
    pub evidence: String,
}

/// One interface on one road, probed anonymously and, when the dump authenticated, with
/// those credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InterfaceReach {
    pub interface: Uuid,
    /// "major.minor", as registered.
    pub version: String,
    /// The catalogue's label, if known.
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The road: protocol sequence, address and port, e.g. `ncacn_ip_tcp:198.18.0.10[49667]`.
    pub road: String,
    pub port: u16,
    pub anonymous: Probe,
    /// Absent when the dump did not authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated: Option<Probe>,
    /// The address this interface's probes left from (the source the host saw, or the
    /// `--from` address asked for when none connected); absent when not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub source: Option<IpAddr>,
    /// Not registered in the endpoint map on this port: `rpc_mgmt_inq_if_ids` named it
    /// (only the catalogue's coercion and credentials interfaces are probed so).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unregistered: bool,
}

/// What one TCP endpoint answered to `rpc_mgmt_inq_if_ids`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Inquiry {
    pub port: u16,
    /// The address the inquiry left from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub source: Option<IpAddr>,
    /// Whether the inquiry was made with the dump's credentials (after an anonymous refusal).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub authenticated: bool,
    /// The interfaces the endpoint says it serves (at most `wire::mgmt::MAX_IF_IDS`).
    pub served: Vec<Served>,
    /// Why no list was read (a fault, a refusal, no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One interface an endpoint serves, by `rpc_mgmt_inq_if_ids`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Served {
    pub interface: Uuid,
    /// "major.minor".
    pub version: String,
    /// The catalogue's label, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the endpoint map registers it on this port.
    pub registered: bool,
}

impl InterfaceReach {
    /// Callable anonymously, or with the credentials.
    pub fn callable(&self) -> bool {
        self.anonymous.verdict == Verdict::Callable
            || self
                .authenticated
                .as_ref()
                .is_some_and(|p| p.verdict == Verdict::Callable)
    }
}

/// The interface probes of one host after its dump: what `audit --interfaces` reports beside
/// the dump, and what [`HostInterfaces`] is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InterfaceProbes {
    /// `ok` when every selected interface was probed from every source and each probe ended
    /// in a verdict; `partial` when the cap or the deadline cut them short or a probe ended
    /// undetermined; `error` when there was no endpoint map to probe from.
    pub status: HostStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// One entry per interface, road and source.
    pub interfaces: Vec<InterfaceReach>,
    /// Interfaces selected but not probed: over the cap, or out of time.
    pub skipped: usize,
    /// What each TCP endpoint answered to `rpc_mgmt_inq_if_ids`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inquiries: Vec<Inquiry>,
}

/// One host: its dump and each interface's reachability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostInterfaces {
    pub target: String,
    /// `ok` when the dump was whole and every selected interface was probed.
    pub status: HostStatus,
    /// What went wrong (the dump's error, or why probing stopped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The dump the interfaces come from.
    pub dump: HostDump,
    pub interfaces: Vec<InterfaceReach>,
    /// Interfaces registered on TCP but not probed: over the cap, or out of time.
    pub skipped: usize,
    /// The address the probes left from (the source the host saw), when one connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub source: Option<IpAddr>,
    /// What each TCP endpoint answered to `rpc_mgmt_inq_if_ids`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inquiries: Vec<Inquiry>,
}

/// Classify what a probe over a pipe logged on with the credentials ended with: a logon
/// failure there is the SMB server refusing the credentials, not the interface refusing the
/// call, so it is undetermined (the probes are then not whole), never `refused`.
fn classify_smb_logon(result: &Result<usize, DumpError>) -> Probe {
    match result {
        Err(e @ (DumpError::LogonFailure { .. } | DumpError::CredentialsRetired(_))) => Probe {
            verdict: Verdict::Undetermined,
            evidence: e.to_string(),
        },
        r => classify(r),
    }
}

/// Classify what a probe session ended with: the verdict and the evidence.
pub fn classify(result: &Result<usize, DumpError>) -> Probe {
    let probe = |verdict, evidence: String| Probe { verdict, evidence };
    match result {
        Ok(len) => probe(
            // A method answered at an opnum no catalogued interface has: the call reached
            // the interface, and the server says so in its own way.
            Verdict::Callable,
            format!("a response ({len} stub bytes) at opnum {PROBE_OPNUM}"),
        ),
        Err(e) => classify_error(e),
    }
}

/// [`classify`] of a session that ended with `e`.
fn classify_error(e: &DumpError) -> Probe {
    let probe = |verdict, evidence: String| Probe { verdict, evidence };
    match e {
        DumpError::Fault { code, status, .. } => match *code {
            STATUS_OP_RNG_ERROR => probe(Verdict::Callable, format!("fault {status}")),
            STATUS_ACCESS_DENIED => probe(Verdict::Refused, format!("fault {status}")),
            STATUS_UNK_IF => probe(Verdict::NotOffered, format!("fault {status}")),
            _ => probe(Verdict::Undetermined, format!("fault {status}")),
        },
        DumpError::AnonymousRefused { .. } => probe(
            Verdict::Refused,
            "fault 0x00000005 (rpc_s_access_denied)".into(),
        ),
        // The dump authenticated with these credentials: a refusal after the authentication
        // is this interface's (Samba's servers that ask for a higher auth level answer so),
        // not a logon failure.
        DumpError::LogonFailure { detail, .. } => probe(Verdict::Refused, detail.clone()),
        DumpError::BindNak { reason, name } => probe(
            Verdict::Refused,
            format!("bind_nak, reason {reason} ({name})"),
        ),
        DumpError::BindRejected(detail) => probe(Verdict::NotOffered, detail.clone()),
        e if e.is_unreachable() => probe(Verdict::Unreachable, e.to_string()),
        e => probe(Verdict::Undetermined, e.to_string()),
    }
}

/// Bind to `syntax` at `addr` and call [`PROBE_OPNUM`], anonymously or with the dump's
/// credentials.
async fn probe_one(
    (from, addr): (Option<IpAddr>, SocketAddr),
    syntax: SyntaxId,
    opts: &DumpOptions,
    deadline: Instant,
    authenticated: bool,
    spn: Option<&str>,
) -> (Probe, Option<IpAddr>) {
    let creds = opts.auth.credentials.as_deref();
    let auth = match (authenticated, creds) {
        (true, Some(c)) => Some((c, opts.auth.level)),
        (true, None) => {
            return (
                Probe {
                    verdict: Verdict::Undetermined,
                    evidence: "no credentials".into(),
                },
                from,
            );
        }
        (false, _) => None,
    };
    let mut source = from;
    // The session the dump's binds build (client::EpmSession::connect_over), bound to the interface
    // probed instead of the endpoint mapper.
    let result = match EpmSession::connect_for(
        Transport::Tcp,
        (from, addr),
        opts,
        deadline,
        auth,
        spn,
        syntax,
    )
    .await
    {
        Ok(mut s) => {
            source = s.local_addr().map(|a| a.ip()).or(from);
            s.probe_call(PROBE_OPNUM).await
        }
        Err(e) => Err(e),
    };
    (classify(&result), source)
}

/// The pipe of an `ncacn_np` binding (`ncacn_np:HOST[\\pipe\\lsarpc]`), without `\\pipe\\`,
/// when it is a plain name (letters, digits, `_`, `-`, `$`, `.`, at most 64): a name from the
/// network goes into an SMB request only then.
fn pipe_name(binding: &str) -> Option<String> {
    let inner = binding.get(binding.find('[')? + 1..binding.rfind(']')?)?;
    let lower = inner.to_ascii_lowercase();
    let name = lower
        .strip_prefix("\\pipe\\")
        .map(|_| inner.get(6..).unwrap_or_default())?;
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | '.'));
    plain.then(|| name.to_string())
}

/// Parse "major.minor" as registered.
fn version(v: &str) -> Option<(u16, u16)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Dump `target`, then probe each interface it registers on TCP ([`reach_dump`]).
pub async fn reach_host(target: &str, addrs: &[SocketAddr], opts: &ReachOptions) -> HostInterfaces {
    let dump = dump_host(target, addrs, &opts.dump).await;
    if dump.address.is_none() {
        return HostInterfaces {
            target: target.to_string(),
            status: dump.status,
            error: dump.error.clone(),
            dump,
            interfaces: Vec::new(),
            skipped: 0,
            source: None,
            inquiries: Vec::new(),
        };
    }
    let probes = reach_dump(target, &dump, opts).await;
    // The dump's state first: a partial dump stays partial, and its error is the one shown.
    let status = match dump.status {
        HostStatus::Ok => probes.status,
        other => other,
    };
    HostInterfaces {
        target: target.to_string(),
        status,
        error: dump.error.clone().or(probes.error),
        source: probes.interfaces.iter().find_map(|i| i.source),
        dump,
        interfaces: probes.interfaces,
        skipped: probes.skipped,
        inquiries: probes.inquiries,
    }
}

/// One interface chosen for probing.
#[derive(Debug, Clone)]
struct Selected {
    uuid: Uuid,
    version: String,
    port: u16,
    /// The registration's binding, or for one found by `rpc_mgmt_inq_if_ids` the endpoint's.
    road: String,
    /// The pipe name, for `ncacn_np`.
    pipe: Option<String>,
    /// Found by `rpc_mgmt_inq_if_ids`, not in the endpoint map.
    unregistered: bool,
}

impl Selected {
    fn same(&self, uuid: &Uuid, version: &str, port: u16, pipe: &Option<String>) -> bool {
        self.uuid == *uuid && self.version == version && self.port == port && self.pipe == *pipe
    }
}

/// The interfaces of `dump` to probe: distinct (interface, version, port or pipe) on
/// `ncacn_ip_tcp`, and on `ncacn_np` when asked, the endpoint mapper itself aside. The second
/// value counts pipe registrations whose name is not plain (not probed).
fn select(dump: &HostDump, pipes: bool) -> (Vec<Selected>, usize) {
    let mut skipped = 0;
    let mut selected: Vec<Selected> = Vec::new();
    for e in &dump.endpoints {
        let (port, pipe) = match (e.protocol.as_str(), e.port) {
            ("ncacn_ip_tcp", Some(port)) => (port, None),
            ("ncacn_np", _) if pipes => match pipe_name(&e.binding) {
                Some(name) => (super::pipe::SMB_PORT, Some(name.to_ascii_lowercase())),
                None => {
                    skipped += 1;
                    continue;
                }
            },
            _ => continue,
        };
        if e.interface == EPM_INTERFACE
            || selected
                .iter()
                .any(|s| s.same(&e.interface, &e.version, port, &pipe))
        {
            continue;
        }
        selected.push(Selected {
            uuid: e.interface,
            version: e.version.clone(),
            port,
            road: e.binding.clone(),
            pipe,
            unregistered: false,
        });
    }
    (selected, skipped)
}

/// Bind to the management interface at `addr` and ask `rpc_mgmt_inq_if_ids`, anonymously or
/// with the dump's credentials.
async fn inquire(
    (from, addr): (Option<IpAddr>, SocketAddr),
    opts: &DumpOptions,
    deadline: Instant,
    authenticated: bool,
    spn: Option<&str>,
) -> (
    Result<crate::wire::mgmt::InqIfIdsResponse, DumpError>,
    Option<IpAddr>,
) {
    let auth = match (authenticated, opts.auth.credentials.as_deref()) {
        (true, Some(c)) => Some((c, opts.auth.level)),
        _ => None,
    };
    match EpmSession::connect_for(
        Transport::Tcp,
        (from, addr),
        opts,
        deadline,
        auth,
        spn,
        crate::wire::mgmt::MGMT_SYNTAX,
    )
    .await
    {
        Ok(mut s) => {
            let source = s.local_addr().map(|a| a.ip()).or(from);
            (s.inq_if_ids().await, source)
        }
        Err(e) => (Err(e), from),
    }
}

/// Probe each interface `dump` registers on TCP (and on named pipes with
/// [`ReachOptions::pipes`]) from each of [`ReachOptions::sources`], anonymously and, when the
/// dump authenticated, with its credentials; first, each TCP endpoint is asked which
/// interfaces it serves (`rpc_mgmt_inq_if_ids`, from the first source), and the catalogue's
/// coercion and credentials interfaces it serves without registering them there are probed
/// too. All within the cap (inquiries and interfaces each), the pause and the host's deadline.
pub async fn reach_dump(target: &str, dump: &HostDump, opts: &ReachOptions) -> InterfaceProbes {
    let mut out = InterfaceProbes {
        status: HostStatus::Ok,
        error: None,
        interfaces: Vec::new(),
        skipped: 0,
        inquiries: Vec::new(),
    };
    let Some(peer) = dump.address else {
        out.status = HostStatus::Error;
        out.error = Some(format!(
            "{target}: the endpoint map was not read, so no interface was probed"
        ));
        return out;
    };
    // The service name a Kerberos bind asks a ticket for, as the dump's binds do.
    let spn = kerberos_spn(target, &opts.dump);
    let authenticated = dump.auth.is_some();
    // Each --from source in turn, or the kernel's choice (as probe::vantage_points plans).
    let sources: Vec<Option<IpAddr>> = if opts.sources.is_empty() {
        vec![None]
    } else {
        opts.sources.iter().copied().map(Some).collect()
    };
    let (mut selected, unplain) = select(dump, opts.pipes);
    out.skipped = unplain;
    let deadline = Instant::now() + opts.host_timeout;
    let mut first = true;
    let pause = |first: &mut bool| {
        let wait = if *first {
            Duration::ZERO
        } else {
            opts.interval
        };
        *first = false;
        tokio::time::sleep_until((Instant::now() + wait).min(deadline))
    };

    // rpc_mgmt_inq_if_ids on each distinct TCP port of the map, as rpcmap asks.
    let mut ports: Vec<u16> = selected
        .iter()
        .filter(|s| s.pipe.is_none())
        .map(|s| s.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    // The inquiries leave from the first source.
    let first_source = sources.first().copied().flatten();
    for port in ports.into_iter().take(opts.max_interfaces) {
        if Instant::now() >= deadline {
            break;
        }
        let addr = SocketAddr::new(peer.ip(), port);
        pause(&mut first).await;
        let (mut answer, mut source) =
            inquire((first_source, addr), &opts.dump, deadline, false, None).await;
        let mut with_creds = false;
        if authenticated && classify_inquiry(&answer) == Verdict::Refused {
            pause(&mut first).await;
            (answer, source) = inquire(
                (first_source, addr),
                &opts.dump,
                deadline,
                true,
                spn.as_deref(),
            )
            .await;
            with_creds = true;
        }
        let mut inquiry = Inquiry {
            port,
            source,
            authenticated: with_creds,
            served: Vec::new(),
            error: None,
        };
        match answer {
            Ok(resp) if resp.status == 0 => {
                for id in resp.if_ids() {
                    let version = format!("{}.{}", id.major, id.minor);
                    let registered = dump.endpoints.iter().any(|e| {
                        e.protocol == "ncacn_ip_tcp"
                            && e.port == Some(port)
                            && e.interface == id.uuid
                            && e.version == version
                    });
                    let severe = names::tags(&id.uuid).iter().any(|t| t.is_severe());
                    if !registered
                        && severe
                        && !selected
                            .iter()
                            .any(|s| s.same(&id.uuid, &version, port, &None))
                    {
                        selected.push(Selected {
                            uuid: id.uuid,
                            version: version.clone(),
                            port,
                            road: format!("ncacn_ip_tcp:{}[{port}]", peer.ip()),
                            pipe: None,
                            unregistered: true,
                        });
                    }
                    inquiry.served.push(Served {
                        interface: id.uuid,
                        version,
                        name: names::label(&id.uuid),
                        registered,
                    });
                }
            }
            Ok(resp) => {
                inquiry.error = Some(format!(
                    "status {}",
                    crate::wire::pdu::describe_status(resp.status)
                ))
            }
            Err(e) => inquiry.error = Some(e.to_string()),
        }
        out.inquiries.push(inquiry);
    }
    // The interfaces the catalogue tags come first, so a cap keeps them.
    selected.sort_by_key(|s| (names::tags(&s.uuid).is_empty(), s.port, s.uuid));

    for (k, sel) in selected.iter().enumerate() {
        if k >= opts.max_interfaces || Instant::now() >= deadline {
            out.skipped += selected.len() - k;
            out.status = HostStatus::Partial;
            out.error = Some(if k >= opts.max_interfaces {
                format!(
                    "{target}: {k} of {} interfaces probed (--max-interfaces)",
                    selected.len()
                )
            } else {
                format!(
                    "{target}: {k} of {} interfaces probed before the host's deadline",
                    selected.len()
                )
            });
            break;
        }
        let Some((major, minor)) = version(&sel.version) else {
            out.skipped += 1;
            continue;
        };
        let syntax = SyntaxId::new(sel.uuid, major, minor);
        let addr = SocketAddr::new(peer.ip(), sel.port);
        for &from in &sources {
            let reach = |anonymous, authenticated, source| InterfaceReach {
                interface: sel.uuid,
                version: sel.version.clone(),
                name: names::label(&sel.uuid),
                tags: names::tags(&sel.uuid),
                road: sel.road.clone(),
                port: sel.port,
                anonymous,
                authenticated,
                source,
                unregistered: sel.unregistered,
            };
            pause(&mut first).await;
            if let Some(name) = &sel.pipe {
                // Over the pipe: an anonymous SMB session, then, when the dump authenticated,
                // a session logged on with the credentials (NTLM or Kerberos, as --auth says).
                let probe = |creds| {
                    super::pipe::probe_pipe(
                        target,
                        addr,
                        name,
                        syntax,
                        PROBE_OPNUM,
                        &opts.dump,
                        (from, deadline, creds),
                    )
                };
                let anonymous = classify(&probe(None).await);
                let smb_creds = opts.dump.auth.smb_credentials().filter(|_| authenticated);
                let logged_on = match smb_creds {
                    Some(c) => {
                        pause(&mut first).await;
                        Some(classify_smb_logon(&probe(Some(c)).await))
                    }
                    None => None,
                };
                out.interfaces.push(reach(anonymous, logged_on, from));
                continue;
            }
            let (anonymous, source) =
                probe_one((from, addr), syntax, &opts.dump, deadline, false, None).await;
            let (authenticated, source) = if authenticated {
                pause(&mut first).await;
                let (probe, again) = probe_one(
                    (from, addr),
                    syntax,
                    &opts.dump,
                    deadline,
                    true,
                    spn.as_deref(),
                )
                .await;
                (Some(probe), source.or(again))
            } else {
                (None, source)
            };
            out.interfaces.push(reach(anonymous, authenticated, source));
        }
    }
    // An interface whose answer could not be read is not known to be refused: the probes are
    // not whole (fail closed), and say which.
    let undetermined = out
        .interfaces
        .iter()
        .flat_map(|i| std::iter::once(&i.anonymous).chain(i.authenticated.as_ref()))
        .filter(|p| p.verdict == Verdict::Undetermined)
        .count();
    if undetermined > 0 && out.status == HostStatus::Ok {
        out.status = HostStatus::Partial;
        out.error = Some(format!(
            "{target}: {undetermined} interface probes ended undetermined (neither callable nor refused)"
        ));
    }
    out
}

/// The verdict an inquiry's answer would have as a probe: a refusal there is retried with the
/// dump's credentials.
fn classify_inquiry(answer: &Result<crate::wire::mgmt::InqIfIdsResponse, DumpError>) -> Verdict {
    match answer {
        Ok(r) if r.status == STATUS_ACCESS_DENIED => Verdict::Refused,
        Ok(_) => Verdict::Callable,
        Err(e) => classify_error(e).verdict,
    }
}

/// [`reach_host`] for every target, at most `concurrency` at once, each handed to `emit` as
/// it is done (in `order`).
pub async fn reach_each<T, F, E, Fut>(
    targets: &[T],
    resolve: F,
    opts: &ReachOptions,
    concurrency: usize,
    order: crate::pipeline::Order,
    emit: impl FnMut(usize, HostInterfaces),
) where
    T: std::fmt::Display + Clone + Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    E: std::fmt::Display + Send,
    Fut: std::future::Future<Output = Result<Vec<SocketAddr>, E>> + Send,
{
    let opts = std::sync::Arc::new(opts.clone());
    let failed_host = |label: &str, error: String| {
        let dump = failed(label, error.clone());
        HostInterfaces {
            target: label.to_string(),
            status: HostStatus::Error,
            error: Some(error),
            dump,
            interfaces: Vec::new(),
            skipped: 0,
            source: None,
            inquiries: Vec::new(),
        }
    };
    // The same call as epm::dump::dump_each's, with reach_host for dump_host: what the two share is
    // pipeline::run_each_resolved itself.
    crate::pipeline::run_each_resolved(
        targets,
        resolve,
        move |label: String, addrs: Vec<SocketAddr>| {
            let opts = opts.clone();
            async move { reach_host(&label, &addrs, &opts).await }
        },
        failed_host,
        "the probe task ended abnormally",
        concurrency,
        order,
        emit,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Over a pipe logged on with the credentials, an SMB logon failure (or credentials the
    /// run no longer sends) is not the interface refusing the call: undetermined, so the
    /// host's probes are not whole; a fault after the logon is classified as over TCP.
    #[test]
    fn an_smb_logon_failure_is_not_a_refusal_of_the_interface() {
        let failure: Result<usize, DumpError> = Err(DumpError::LogonFailure {
            step: "smb session setup",
            user: "LAB\\audit".into(),
            detail: "0xc000006d (STATUS_LOGON_FAILURE)".into(),
        });
        assert_eq!(classify_smb_logon(&failure).verdict, Verdict::Undetermined);
        assert_eq!(classify(&failure).verdict, Verdict::Refused);
        let retired: Result<usize, DumpError> = Err(DumpError::CredentialsRetired(3));
        assert_eq!(classify_smb_logon(&retired).verdict, Verdict::Undetermined);
        let fault: Result<usize, DumpError> = Err(DumpError::Fault {
            code: STATUS_ACCESS_DENIED,
            status: "0x00000005 (rpc_s_access_denied)".into(),
            step: "request",
        });
        assert_eq!(classify_smb_logon(&fault).verdict, Verdict::Refused);
    }

    fn fault(code: u32) -> Result<usize, DumpError> {
        Err(DumpError::Fault {
            step: "probe call",
            status: crate::wire::pdu::describe_status(code),
            code,
        })
    }

    use crate::epm::auth::{Acceptor, Credentials, Level};
    use crate::epm::client::{AuthMode, AuthOptions, LogonGate};
    use crate::epm::server::{FixtureConfig, FixtureServer, InterfaceRules, Listeners};
    use std::sync::Arc;

    const SAMR: Uuid = Uuid::from_u128(0x12345778_1234_abcd_ef00_0123456789ac);
    const SVCCTL: Uuid = Uuid::from_u128(0x367abb81_9844_35f1_ad32_98f038001003);
    const SPOOLSS: Uuid = Uuid::from_u128(0x12345678_1234_abcd_ef00_0123456789ab);

    /// A fixture on loopback whose 16 TCP registrations all name its own port, serving them
    /// with `rules`, requiring NTLM when `password` is given.
    async fn fixture(rules: InterfaceRules, password: Option<&str>) -> FixtureServer {
        let listeners = Listeners::bind("127.0.0.1:0".parse().unwrap(), None, None)
            .await
            .unwrap();
        let port = listeners.tcp.local_addr().unwrap().port();
        let ports = crate::ports::PortRanges::from_ranges([(port, port)]);
        let mut c = FixtureConfig::windows_like(16, &ports, 0, 0, "FIXTURE");
        c.interfaces = rules;
        c.require_auth = password.map(|p| Acceptor {
            creds: Credentials::password("audit", "LAB", p),
        });
        FixtureServer::start_on(listeners, c).unwrap()
    }

    fn options(mode: AuthMode, password: Option<&str>, max: usize) -> ReachOptions {
        ReachOptions {
            dump: DumpOptions {
                auth: AuthOptions {
                    mode,
                    level: Level::Integrity,
                    credentials: password
                        .map(|p| Arc::new(Credentials::password("audit", "LAB", p))),
                    gate: Arc::new(LogonGate::new(3)),
                    ..AuthOptions::default()
                },
                ..DumpOptions::default()
            },
            max_interfaces: max,
            interval: Duration::from_millis(1),
            host_timeout: Duration::from_secs(20),
            pipes: false,
            sources: Vec::new(),
        }
    }

    fn verdict(host: &HostInterfaces, uuid: Uuid) -> &InterfaceReach {
        host.interfaces
            .iter()
            .find(|i| i.interface == uuid)
            .unwrap_or_else(|| panic!("{uuid} not probed: {host:#?}"))
    }

    #[tokio::test]
    async fn every_registered_interface_is_classified_as_the_fixture_answers() {
        let server = fixture(
            InterfaceRules {
                serve: true,
                refuse_calls: vec![SVCCTL],
                refuse_binds: vec![SPOOLSS],
                ..InterfaceRules::default()
            },
            None,
        )
        .await;
        let host = reach_host(
            "fixture",
            &[server.local_addr()],
            &options(AuthMode::None, None, 64),
        )
        .await;
        assert_eq!(host.status, HostStatus::Ok, "{host:#?}");
        assert_eq!(host.interfaces.len(), 16);
        let samr = verdict(&host, SAMR);
        assert_eq!(samr.anonymous.verdict, Verdict::Callable);
        assert!(samr.anonymous.evidence.contains("nca_s_op_rng_error"));
        assert_eq!(samr.name.as_deref(), Some("MS-SAMR samr"));
        assert!(samr.authenticated.is_none());
        assert_eq!(verdict(&host, SVCCTL).anonymous.verdict, Verdict::Refused);
        assert!(
            verdict(&host, SVCCTL)
                .anonymous
                .evidence
                .contains("rpc_s_access_denied")
        );
        assert_eq!(verdict(&host, SPOOLSS).anonymous.verdict, Verdict::Refused);
        assert!(
            verdict(&host, SPOOLSS)
                .anonymous
                .evidence
                .contains("bind_nak")
        );
        // Tagged interfaces come first.
        assert!(!host.interfaces[0].tags.is_empty());
    }

    #[tokio::test]
    async fn inq_if_ids_finds_a_severe_interface_the_map_does_not_register() {
        // MS-EFSR's efsrpc UUID (coercion), served on the fixture's port, registered nowhere.
        const EFSR: Uuid = Uuid::from_u128(0xc681d488_d850_11d0_8c52_00c04fd90f7e);
        let server = fixture(
            InterfaceRules {
                serve: true,
                unregistered: vec![EFSR],
                ..InterfaceRules::default()
            },
            None,
        )
        .await;
        let port = server.local_addr().port();
        let host = reach_host(
            "fixture",
            &[server.local_addr()],
            &options(AuthMode::None, None, 64),
        )
        .await;
        assert_eq!(host.status, HostStatus::Ok, "{host:#?}");
        // One inquiry (every registration names the one port), listing the 16 registered
        // interfaces and the unregistered one.
        assert_eq!(host.inquiries.len(), 1, "{host:#?}");
        let inq = &host.inquiries[0];
        assert_eq!(inq.port, port);
        assert!(inq.error.is_none(), "{inq:?}");
        assert_eq!(inq.served.iter().filter(|s| s.registered).count(), 16);
        let efsr = inq.served.iter().find(|s| s.interface == EFSR).unwrap();
        assert!(!efsr.registered);
        assert_eq!(efsr.version, "1.0");
        // It is probed too, marked unregistered, and found callable: exposed.
        assert_eq!(host.interfaces.len(), 17);
        let probed = verdict(&host, EFSR);
        assert!(probed.unregistered);
        assert_eq!(probed.anonymous.verdict, Verdict::Callable);
        assert_eq!(probed.road, format!("ncacn_ip_tcp:127.0.0.1[{port}]"));
        let findings = crate::audit::exposure::findings(&host, None);
        assert!(
            findings
                .iter()
                .any(|f| f.message.contains("MS-EFSR") && f.message.contains("rpc_mgmt_inq_if_ids")),
            "{findings:#?}"
        );
    }

    #[tokio::test]
    async fn an_endpoint_mapper_that_serves_nothing_else_is_not_offered_and_the_cap_holds() {
        let server = fixture(InterfaceRules::default(), None).await;
        let host = reach_host(
            "fixture",
            &[server.local_addr()],
            &options(AuthMode::None, None, 3),
        )
        .await;
        assert_eq!(host.interfaces.len(), 3);
        assert_eq!(host.skipped, 13);
        assert_eq!(host.status, HostStatus::Partial);
        assert!(host.error.as_deref().unwrap().contains("3 of 16"));
        for i in &host.interfaces {
            assert_eq!(i.anonymous.verdict, Verdict::NotOffered, "{i:?}");
        }
    }

    #[tokio::test]
    async fn anonymous_is_refused_where_authenticated_calls_get_through() {
        let server = fixture(
            InterfaceRules {
                serve: true,
                ..InterfaceRules::default()
            },
            Some("Lab-pass-1"),
        )
        .await;
        let host = reach_host(
            "fixture",
            &[server.local_addr()],
            &options(AuthMode::Auto, Some("Lab-pass-1"), 64),
        )
        .await;
        assert_eq!(host.status, HostStatus::Ok, "{host:#?}");
        let samr = verdict(&host, SAMR);
        assert_eq!(samr.anonymous.verdict, Verdict::Refused);
        assert_eq!(
            samr.authenticated.as_ref().map(|p| p.verdict),
            Some(Verdict::Callable)
        );
    }

    #[tokio::test]
    async fn a_port_that_hangs_up_is_undetermined_and_the_host_not_whole() {
        // Registrations on a port that accepts and hangs up at once.
        let bad = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let bad_port = bad.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((s, _)) = bad.accept().await {
                drop(s);
            }
        });
        let ports = crate::ports::PortRanges::from_ranges([(bad_port, bad_port)]);
        let c = FixtureConfig::windows_like(2, &ports, 0, 0, "FIXTURE");
        let server = FixtureServer::start("127.0.0.1:0".parse().unwrap(), c)
            .await
            .unwrap();
        let host = reach_host(
            "fixture",
            &[server.local_addr()],
            &options(AuthMode::None, None, 64),
        )
        .await;
        assert_eq!(host.interfaces.len(), 2);
        for i in &host.interfaces {
            assert_eq!(i.anonymous.verdict, Verdict::Undetermined, "{i:?}");
        }
        assert_eq!(host.status, HostStatus::Partial);
        assert!(
            host.error
                .as_deref()
                .unwrap()
                .contains("2 interface probes ended undetermined")
        );
    }

    #[test]
    fn the_probe_opnum_is_beyond_every_catalogued_dispatch_table() {
        let c = crate::epm::catalogue::get().unwrap();
        let most = c.rows().iter().filter_map(|r| r.opnums).max().unwrap();
        assert!(most > 10, "the catalogue should know some counts");
        // Far beyond, so a later Windows that adds methods does not reach it either.
        assert!(
            u32::from(PROBE_OPNUM) > 16 * u32::from(most),
            "{PROBE_OPNUM} is too close to {most}"
        );
    }

    #[test]
    fn only_plain_pipe_names_are_taken_from_a_binding() {
        assert_eq!(
            pipe_name("ncacn_np:[\\pipe\\lsarpc]").as_deref(),
            Some("lsarpc")
        );
        assert_eq!(
            pipe_name("ncacn_np:\\\\DC01[\\PIPE\\InitShutdown]").as_deref(),
            Some("InitShutdown")
        );
        for hostile in [
            "ncacn_np:[\\pipe\\a\\..\\b]",
            "ncacn_np:[\\pipe\\\x1b[2J]",
            "ncacn_np:[\\pipe\\]",
            "ncacn_np:[lsarpc]",
            "ncacn_np:",
        ] {
            assert_eq!(pipe_name(hostile), None, "{hostile:?}");
        }
        let long = format!("ncacn_np:[\\pipe\\{}]", "a".repeat(65));
        assert_eq!(pipe_name(&long), None);
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(&fault(0x1c01_0002)).verdict, Verdict::Callable);
        assert!(
            classify(&fault(0x1c01_0002))
                .evidence
                .contains("nca_s_op_rng_error")
        );
        assert_eq!(classify(&fault(5)).verdict, Verdict::Refused);
        assert_eq!(classify(&fault(0x1c01_0003)).verdict, Verdict::NotOffered);
        assert_eq!(classify(&fault(0x1c01_000b)).verdict, Verdict::Undetermined);
        let nak = Err(DumpError::BindNak {
            reason: 0,
            name: "reason_not_specified",
        });
        assert_eq!(classify(&nak).verdict, Verdict::Refused);
        assert_eq!(
            classify(&Err(DumpError::BindRejected("context".into()))).verdict,
            Verdict::NotOffered
        );
        assert_eq!(
            classify(&Err(DumpError::AnonymousRefused {
                step: "probe call",
                creds_unused: false
            }))
            .verdict,
            Verdict::Refused
        );
        assert_eq!(classify(&Ok(0)).verdict, Verdict::Callable);
        assert_eq!(
            classify(&Err(DumpError::NoAddress)).verdict,
            Verdict::Unreachable
        );
    }
}
