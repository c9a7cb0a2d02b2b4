//! Endpoint-mapper client: connect to TCP 135, bind to the EPM interface (v3.0, NDR 2.0), then
//! page through `ept_lookup` with the context handle until the server signals the end, and turn
//! the entries into [`Endpoint`]s. One host at a time here; [`dump_many`] runs hosts
//! concurrently.
//!
//! Real servers end the list in different ways, and each must yield the complete list: a null
//! handle with status 0; an extra call answered `ept_s_not_registered` with no entries;
//! `ept_s_not_registered` together with the last entries; a null handle on a full batch.
//! Everything waits under deadlines: the whole host ([`DumpOptions::timeout`]) and each step
//! (connect, bind, every call). Entries gathered before a failure are kept (status `partial`).

use super::connection::{Connection, ConnectionError};
use super::{EPM_INTERFACE, Endpoint, HostDump, HostStatus, names};
use crate::wire::WireError;
use crate::wire::epm::{
    EPT_S_NOT_REGISTERED, EntryTower, EptEntry, LookupRequest, LookupResponse, MapRequest,
    MapResponse, OPNUM_LOOKUP, OPNUM_LOOKUP_HANDLE_FREE, OPNUM_MAP, decode_handle_free_response,
    encode_handle_free,
};
use crate::wire::ndr::{ByteOrder, ContextHandle};
use crate::wire::pdu::{
    self, Bind, Body, ContextElem, NDR20, PFC_FIRST_FRAG, PFC_LAST_FRAG, Pdu, RESULT_ACCEPTANCE,
    Request, SyntaxId,
};
use crate::wire::reassembly::{DEFAULT_MAX_STUB, Progress, Reassembler};
use crate::wire::tower::Tower;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Limits and deadlines of one dump.
#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// Bound on one host's whole dump: connect, bind and every call.
    pub timeout: Duration,
    /// Bound on establishing the TCP connection.
    pub connect_timeout: Duration,
    /// Bound on each request/response exchange (bind, each `ept_lookup`).
    pub call_timeout: Duration,
    /// Stop (status `partial`) after this many entries.
    pub max_entries: usize,
    /// `max_ents` asked for in each `ept_lookup`.
    pub page_size: u32,
    /// Largest reassembled response stub.
    pub max_stub: usize,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            call_timeout: Duration::from_secs(10),
            max_entries: 10_000,
            page_size: 500,
            max_stub: DEFAULT_MAX_STUB,
        }
    }
}

/// What stopped a dump, naming the step.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{step}: timed out{}, {bound}", stalled(*.received, *.announced))]
    Timeout {
        step: &'static str,
        bound: Bound,
        /// Bytes of an incomplete fragment that had arrived when time ran out.
        received: usize,
        /// The length that fragment's header announced, when the header had arrived.
        announced: Option<usize>,
    },
    #[error("no address to connect to")]
    NoAddress,
    #[error("{step}: {source}")]
    Connection {
        step: &'static str,
        source: ConnectionError,
    },
    #[error("{step}: {source}")]
    Wire {
        step: &'static str,
        source: WireError,
    },
    #[error("bind rejected by the endpoint mapper: {0}")]
    BindRejected(String),
    #[error("{step}: fault {status}")]
    Fault { step: &'static str, status: String },
    #[error("{step}: unexpected {got} PDU")]
    Unexpected {
        step: &'static str,
        got: &'static str,
    },
    #[error("ept_lookup: status {0}")]
    LookupStatus(String),
}

/// Which bound cut a step short: its own, or the host's whole-dump deadline (whichever is
/// nearer when the step starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// [`DumpOptions::connect_timeout`] or [`DumpOptions::call_timeout`].
    Step(Duration),
    /// [`DumpOptions::timeout`], the bound on the whole dump.
    Host(Duration),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Step(d) => write!(f, "the step's own limit of {d:?} ran out"),
            Bound::Host(d) => write!(f, "the host's whole-dump deadline of {d:?} ran out"),
        }
    }
}

/// What a stalled peer had sent of its last fragment, for a timeout message.
fn stalled(received: usize, announced: Option<usize>) -> String {
    match (received, announced) {
        (0, _) => String::new(),
        (n, Some(m)) => format!(" with {n} of the {m} bytes of a fragment received"),
        (n, None) => format!(" with {n} bytes of an incomplete fragment header received"),
    }
}

/// How a lookup loop ended without error.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    Complete,
    /// Stopped early on purpose (cap reached, the server looping); the reason.
    Stopped(String),
}

const CALL_BIND: u32 = 1;
const MAX_XMIT: u16 = 5840;

/// An endpoint-mapper session on one connection.
pub struct EpmSession {
    conn: Connection<TcpStream>,
    call_id: u32,
    max_stub: usize,
    call_timeout: Duration,
    deadline: Instant,
    host_timeout: Duration,
    peer: SocketAddr,
}

impl EpmSession {
    /// Connect to `addr` and bind to the endpoint mapper, within `deadline`.
    pub async fn connect(
        addr: SocketAddr,
        opts: &DumpOptions,
        deadline: Instant,
    ) -> Result<Self, DumpError> {
        let connect_by = deadline.min(Instant::now() + opts.connect_timeout);
        let stream = timeout_at(connect_by, TcpStream::connect(addr))
            .await
            .map_err(|_| DumpError::Timeout {
                step: "connect",
                bound: if connect_by == deadline {
                    Bound::Host(opts.timeout)
                } else {
                    Bound::Step(opts.connect_timeout)
                },
                received: 0,
                announced: None,
            })?
            .map_err(|source| DumpError::Connect { addr, source })?;
        let _ = stream.set_nodelay(true);
        let mut s = EpmSession {
            conn: Connection::new(stream),
            call_id: CALL_BIND,
            max_stub: opts.max_stub,
            call_timeout: opts.call_timeout,
            deadline,
            host_timeout: opts.timeout,
            peer: addr,
        };
        s.bind().await?;
        Ok(s)
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// When an exchange starting now must be over: once per exchange, not per fragment, so
    /// a peer that sends each fragment just in time cannot stretch the call.
    fn step_deadline(&self) -> Instant {
        self.deadline.min(Instant::now() + self.call_timeout)
    }

    fn timed_out(&self, step: &'static str, by: Instant) -> DumpError {
        let (received, announced) = self.conn.pending();
        DumpError::Timeout {
            step,
            bound: if by == self.deadline {
                Bound::Host(self.host_timeout)
            } else {
                Bound::Step(self.call_timeout)
            },
            received,
            announced,
        }
    }

    async fn read(&mut self, step: &'static str, by: Instant) -> Result<Vec<u8>, DumpError> {
        match timeout_at(by, self.conn.read_fragment()).await {
            Ok(r) => r.map_err(|source| DumpError::Connection { step, source }),
            Err(_) => Err(self.timed_out(step, by)),
        }
    }

    async fn write(
        &mut self,
        step: &'static str,
        by: Instant,
        bytes: &[u8],
    ) -> Result<(), DumpError> {
        match timeout_at(by, self.conn.write_all(bytes)).await {
            Ok(r) => r.map_err(|source| DumpError::Connection { step, source }),
            Err(_) => Err(self.timed_out(step, by)),
        }
    }

    async fn bind(&mut self) -> Result<(), DumpError> {
        let step = "bind";
        let bind = Pdu::new(
            ByteOrder::Little,
            CALL_BIND,
            PFC_FIRST_FRAG | PFC_LAST_FRAG,
            Body::Bind(Bind {
                max_xmit_frag: MAX_XMIT,
                max_recv_frag: MAX_XMIT,
                assoc_group_id: 0,
                contexts: vec![ContextElem {
                    context_id: 0,
                    abstract_syntax: SyntaxId::new(EPM_INTERFACE, 3, 0),
                    transfer_syntaxes: vec![NDR20],
                }],
            }),
        );
        let bytes = bind
            .encode()
            .map_err(|source| DumpError::Wire { step, source })?;
        let by = self.step_deadline();
        self.write(step, by, &bytes).await?;
        let frame = self.read(step, by).await?;
        let pdu = Pdu::decode(&frame).map_err(|source| DumpError::Wire { step, source })?;
        match pdu.body {
            Body::BindAck(ack) => match ack.results.first() {
                Some(r) if r.result == RESULT_ACCEPTANCE => Ok(()),
                Some(r) => Err(DumpError::BindRejected(format!(
                    "presentation context result {} reason {}",
                    r.result, r.reason
                ))),
                None => Err(DumpError::BindRejected(
                    "bind_ack without a result".to_string(),
                )),
            },
            Body::BindNak(nak) => Err(DumpError::BindRejected(format!(
                "bind_nak, reason {} ({})",
                nak.reject_reason,
                bind_nak_reason(nak.reject_reason)
            ))),
            Body::Fault(f) => Err(DumpError::Fault {
                step,
                status: pdu::describe_status(f.status),
            }),
            _ => Err(DumpError::Unexpected {
                step,
                got: pdu::ptype_name(pdu.header.ptype),
            }),
        }
    }

    /// Send one request and reassemble its response; returns the stub and its byte order.
    async fn call(
        &mut self,
        step: &'static str,
        opnum: u16,
        stub: &[u8],
    ) -> Result<(Vec<u8>, ByteOrder), DumpError> {
        self.call_id = self.call_id.wrapping_add(1);
        let call_id = self.call_id;
        let req = Pdu::new(
            ByteOrder::Little,
            call_id,
            PFC_FIRST_FRAG | PFC_LAST_FRAG,
            Body::Request(Request {
                alloc_hint: u32::try_from(stub.len()).unwrap_or(u32::MAX),
                context_id: 0,
                opnum,
                object: None,
                stub,
            }),
        );
        let bytes = req
            .encode()
            .map_err(|source| DumpError::Wire { step, source })?;
        let by = self.step_deadline();
        self.write(step, by, &bytes).await?;
        let mut reassembler = Reassembler::new(self.max_stub);
        let mut order = None;
        loop {
            let frame = self.read(step, by).await?;
            let pdu = Pdu::decode(&frame).map_err(|source| DumpError::Wire { step, source })?;
            match pdu.body {
                Body::Response(r) => {
                    if pdu.header.call_id != call_id {
                        return Err(DumpError::Wire {
                            step,
                            source: WireError::Invalid {
                                what: "response",
                                detail: format!(
                                    "answers call {} but call {call_id} was asked",
                                    pdu.header.call_id
                                ),
                            },
                        });
                    }
                    let order = *order.get_or_insert(pdu.header.byte_order());
                    match reassembler
                        .push(&pdu.header, r.alloc_hint, r.stub)
                        .map_err(|source| DumpError::Wire { step, source })?
                    {
                        Progress::More => continue,
                        Progress::Complete => return Ok((reassembler.into_stub(), order)),
                    }
                }
                Body::Fault(f) => {
                    return Err(DumpError::Fault {
                        step,
                        status: pdu::describe_status(f.status),
                    });
                }
                _ => {
                    return Err(DumpError::Unexpected {
                        step,
                        got: pdu::ptype_name(pdu.header.ptype),
                    });
                }
            }
        }
    }

    /// One `ept_lookup` page.
    pub async fn lookup(
        &mut self,
        handle: ContextHandle,
        max_ents: u32,
    ) -> Result<LookupResponse, DumpError> {
        let step = "ept_lookup";
        let stub = LookupRequest::all(handle, max_ents).encode(ByteOrder::Little);
        let (resp, order) = self.call(step, OPNUM_LOOKUP, &stub).await?;
        LookupResponse::decode(&resp, order).map_err(|source| DumpError::Wire { step, source })
    }

    /// `ept_map` for one interface over `ncacn_ip_tcp`: the towers the server maps it to.
    pub async fn map_tcp(
        &mut self,
        interface: uuid::Uuid,
        major: u16,
        minor: u16,
    ) -> Result<Vec<Tower>, DumpError> {
        let step = "ept_map";
        let (_, binding) = crate::wire::tower::Binding::parse("ncacn_ip_tcp:0.0.0.0[0]")
            .map_err(|source| DumpError::Wire { step, source })?;
        let tower = Tower::for_binding(interface, major, minor, &binding)
            .map_err(|source| DumpError::Wire { step, source })?;
        let stub = MapRequest {
            object: None,
            tower: Some(tower),
            handle: ContextHandle::NULL,
            max_towers: 16,
        }
        .encode(ByteOrder::Little)
        .map_err(|source| DumpError::Wire { step, source })?;
        let (resp, order) = self.call(step, OPNUM_MAP, &stub).await?;
        let resp =
            MapResponse::decode(&resp, order).map_err(|source| DumpError::Wire { step, source })?;
        if resp.status != 0 && resp.status != EPT_S_NOT_REGISTERED {
            return Err(DumpError::LookupStatus(pdu::describe_status(resp.status)));
        }
        Ok(resp
            .towers
            .into_iter()
            .filter_map(|t| match t {
                EntryTower::Decoded(t) => Some(t),
                _ => None,
            })
            .collect())
    }

    /// Release a live lookup handle (best effort, bounded by the call deadline).
    pub async fn free_handle(&mut self, handle: ContextHandle) -> Result<(), DumpError> {
        let step = "ept_lookup_handle_free";
        let stub = encode_handle_free(&handle, ByteOrder::Little);
        let (resp, order) = self.call(step, OPNUM_LOOKUP_HANDLE_FREE, &stub).await?;
        decode_handle_free_response(&resp, order)
            .map(|_| ())
            .map_err(|source| DumpError::Wire { step, source })
    }

    /// Page through every element, appending endpoints to `out` as they arrive (so a
    /// deadline that cancels this future leaves what was gathered).
    async fn lookup_all(
        &mut self,
        opts: &DumpOptions,
        out: &mut Vec<Endpoint>,
        warnings: &mut Vec<String>,
    ) -> Result<Ending, DumpError> {
        let mut handle = ContextHandle::NULL;
        let mut previous: Option<Vec<EptEntry>> = None;
        let mut seen = 0usize;
        loop {
            let page = self.lookup(handle, opts.page_size).await?;
            let status = page.status;
            if status != 0 && status != EPT_S_NOT_REGISTERED {
                return Err(DumpError::LookupStatus(pdu::describe_status(status)));
            }
            if !page.handle.is_null()
                && !page.entries.is_empty()
                && previous.as_ref() == Some(&page.entries)
            {
                let _ = self.free_handle(page.handle).await;
                return Ok(Ending::Stopped(
                    "the endpoint mapper sent the same page twice; stopped to avoid an endless loop"
                        .to_string(),
                ));
            }
            let empty = page.entries.is_empty();
            for entry in &page.entries {
                seen += 1;
                if out.len() >= opts.max_entries {
                    break;
                }
                match to_endpoint(entry) {
                    Ok(e) => out.push(e),
                    Err(w) => warnings.push(format!("entry {seen}: {w}")),
                }
            }
            if out.len() >= opts.max_entries
                && (seen > opts.max_entries || (status == 0 && !page.handle.is_null()))
            {
                if !page.handle.is_null() {
                    let _ = self.free_handle(page.handle).await;
                }
                return Ok(Ending::Stopped(format!(
                    "stopped at the cap of {} entries",
                    opts.max_entries
                )));
            }
            if status == EPT_S_NOT_REGISTERED || page.handle.is_null() {
                return Ok(Ending::Complete);
            }
            if empty {
                // A live handle with nothing in it: treat as the end rather than ask forever.
                warnings.push("the endpoint mapper returned an empty page with a live handle; taken as the end".to_string());
                let _ = self.free_handle(page.handle).await;
                return Ok(Ending::Complete);
            }
            handle = page.handle;
            previous = Some(page.entries);
        }
    }
}

fn bind_nak_reason(reason: u16) -> &'static str {
    match reason {
        0 => "reason not specified",
        1 => "temporary congestion",
        2 => "local limit exceeded",
        3 => "called paddr unknown",
        4 => "protocol version not supported",
        5 => "default context not supported",
        6 => "user data not readable",
        7 => "no psap available",
        8 => "authentication type not recognized",
        9 => "invalid checksum",
        _ => "unknown reason",
    }
}

/// Why an `ept_entry_t` cannot be shown as an endpoint (a warning of its host's dump).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("entry without a tower")]
    NoTower,
    #[error("malformed tower: {0}")]
    MalformedTower(crate::wire::WireError),
    #[error("tower does not start with an interface floor")]
    NoInterface,
}

/// Turn one `ept_entry_t` into an [`Endpoint`], or say why it cannot be shown.
pub fn to_endpoint(entry: &EptEntry) -> Result<Endpoint, EntryError> {
    let tower = match &entry.tower {
        EntryTower::Decoded(t) => t,
        EntryTower::Null => return Err(EntryError::NoTower),
        EntryTower::Malformed(e) => return Err(EntryError::MalformedTower(e.clone())),
    };
    let Some((interface, major, minor)) = tower.interface() else {
        return Err(EntryError::NoInterface);
    };
    let b = tower.binding();
    Ok(Endpoint {
        interface,
        version: format!("{major}.{minor}"),
        name: names::label(&interface),
        object: entry.object,
        annotation: entry.annotation.clone(),
        protocol: b.protseq.clone(),
        address: b.address.clone(),
        port: b.port,
        binding: b.to_string(),
    })
}

/// Dump one host's endpoint mapper. `target` labels the result; `addrs` are tried in turn
/// until one connects. Never fails: problems are in the returned status and error.
pub async fn dump_host(target: &str, addrs: &[SocketAddr], opts: &DumpOptions) -> HostDump {
    let deadline = Instant::now() + opts.timeout;
    let mut dump = HostDump {
        target: target.to_string(),
        address: None,
        status: HostStatus::Error,
        error: None,
        warnings: Vec::new(),
        endpoints: Vec::new(),
    };
    let result = {
        let HostDump {
            address,
            endpoints,
            warnings,
            ..
        } = &mut dump;
        let work = async {
            let mut last_err = None;
            for addr in addrs {
                match EpmSession::connect(*addr, opts, deadline).await {
                    Ok(mut s) => {
                        *address = Some(s.peer());
                        return s.lookup_all(opts, endpoints, warnings).await;
                    }
                    Err(e) => last_err = Some(e),
                }
            }
            Err(last_err.unwrap_or(DumpError::NoAddress))
        };
        timeout_at(deadline, work).await
    };
    let (status, error) = match result {
        Ok(Ok(Ending::Complete)) => (HostStatus::Ok, None),
        Ok(Ok(Ending::Stopped(why))) => (HostStatus::Partial, Some(why)),
        Ok(Err(e)) => (HostStatus::Error, Some(e.to_string())),
        Err(_) => (
            HostStatus::Error,
            Some(format!(
                "the whole dump exceeded its deadline of {:?}",
                opts.timeout
            )),
        ),
    };
    dump.status = if status == HostStatus::Error && !dump.endpoints.is_empty() {
        HostStatus::Partial
    } else {
        status
    };
    dump.error = error.map(|e| format!("{target}: {e}"));
    dump
}

/// Dump many hosts, at most `concurrency` at once; results in the order given. `resolve`
/// turns a target into socket addresses (its time counts against the host's deadline through
/// the connect timeout); a target it cannot resolve is reported as an error like any other.
pub async fn dump_many<T, F, E, Fut>(
    targets: Vec<T>,
    resolve: F,
    opts: &DumpOptions,
    concurrency: usize,
    on_done: impl Fn(&HostDump),
) -> Vec<HostDump>
where
    T: std::fmt::Display + Clone + Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    E: std::fmt::Display + Send,
    Fut: std::future::Future<Output = Result<Vec<SocketAddr>, E>> + Send,
{
    use std::sync::Arc;
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (k, target) in targets.iter().cloned().enumerate() {
        let sem = sem.clone();
        let opts = opts.clone();
        let resolve = resolve.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let label = target.to_string();
            let dump = match resolve(target).await {
                Ok(addrs) => dump_host(&label, &addrs, &opts).await,
                Err(e) => failed(&label, e.to_string()),
            };
            (k, dump)
        });
    }
    let mut results: Vec<Option<HostDump>> = targets.iter().map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        if let Ok((k, d)) = joined
            && let Some(slot) = results.get_mut(k)
        {
            on_done(&d);
            *slot = Some(d);
        }
    }
    // A task that died (it should not) still leaves its host in the report, as an error.
    results
        .into_iter()
        .zip(targets)
        .map(|(r, target)| {
            r.unwrap_or_else(|| {
                let label = target.to_string();
                failed(&label, format!("{label}: the dump task ended abnormally"))
            })
        })
        .collect()
}

/// A host that could not be examined at all.
pub fn failed(target: &str, error: String) -> HostDump {
    HostDump {
        target: target.to_string(),
        address: None,
        status: HostStatus::Error,
        error: Some(error),
        warnings: Vec::new(),
        endpoints: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::server::{FixtureConfig, FixtureServer, Misbehave};
    use crate::ports::PortRanges;
    use crate::wire::pdu::{BindAck, ContextResult, Response};
    use tokio::net::TcpListener;

    fn fixture(misbehave: Misbehave) -> FixtureConfig {
        let mut c =
            FixtureConfig::windows_like(5, &PortRanges::parse("5001").unwrap(), 0, 0, "SRV");
        c.misbehave = Some(misbehave);
        c
    }

    /// A server that binds correctly, then answers the first request with a valid, empty,
    /// final `ept_lookup` response cut into one-byte fragments sent `gap` apart.
    async fn trickling_server(gap: Duration) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut conn = Connection::new(stream);
            let bind = conn.read_fragment().await.unwrap();
            let call_id = Pdu::decode(&bind).unwrap().header.call_id;
            let ack = BindAck {
                max_xmit_frag: MAX_XMIT,
                max_recv_frag: MAX_XMIT,
                assoc_group_id: 1,
                secondary_address: "135".into(),
                results: vec![ContextResult {
                    result: RESULT_ACCEPTANCE,
                    reason: 0,
                    transfer_syntax: NDR20,
                }],
            };
            let both = PFC_FIRST_FRAG | PFC_LAST_FRAG;
            let bytes = Pdu::new(ByteOrder::Little, call_id, both, Body::BindAck(ack))
                .encode()
                .unwrap();
            conn.write_all(&bytes).await.unwrap();
            let req = conn.read_fragment().await.unwrap();
            let call_id = Pdu::decode(&req).unwrap().header.call_id;
            let stub = LookupResponse {
                handle: ContextHandle::NULL,
                entries: Vec::new(),
                status: EPT_S_NOT_REGISTERED,
            }
            .encode(ByteOrder::Little, 500)
            .unwrap();
            let last = stub.len() - 1;
            for (k, byte) in stub.iter().enumerate() {
                let mut flags = 0;
                if k == 0 {
                    flags |= PFC_FIRST_FRAG;
                }
                if k == last {
                    flags |= PFC_LAST_FRAG;
                }
                let body = Body::Response(Response {
                    alloc_hint: 0,
                    context_id: 0,
                    cancel_count: 0,
                    stub: std::slice::from_ref(byte),
                });
                let bytes = Pdu::new(ByteOrder::Little, call_id, flags, body)
                    .encode()
                    .unwrap();
                if conn.write_all(&bytes).await.is_err() {
                    return;
                }
                tokio::time::sleep(gap).await;
            }
            let _ = conn.read_fragment().await;
        });
        addr
    }

    #[tokio::test]
    async fn the_trickling_server_completes_when_time_allows() {
        // The control for the next test: the same server, a call bound it can meet.
        let addr = trickling_server(Duration::from_millis(5)).await;
        let d = dump_host("t", &[addr], &DumpOptions::default()).await;
        assert_eq!(d.status, HostStatus::Ok, "{:?}", d.error);
    }

    #[tokio::test]
    async fn the_call_bound_covers_the_whole_exchange_not_each_fragment() {
        // Each fragment comes well within the call bound, the whole response does not.
        let addr = trickling_server(Duration::from_millis(100)).await;
        let opts = DumpOptions {
            timeout: Duration::from_secs(20),
            call_timeout: Duration::from_millis(600),
            ..DumpOptions::default()
        };
        let started = std::time::Instant::now();
        let d = dump_host("t", &[addr], &opts).await;
        assert!(started.elapsed() < Duration::from_millis(1500));
        assert_eq!(d.status, HostStatus::Error);
        let e = d.error.unwrap();
        assert!(
            e.contains("ept_lookup: timed out") && e.contains("step's own limit of 600ms"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_drip_is_cut_by_the_host_deadline_and_the_message_says_so() {
        let server = FixtureServer::start("127.0.0.1:0".parse().unwrap(), fixture(Misbehave::Drip))
            .await
            .unwrap();
        let opts = DumpOptions {
            timeout: Duration::from_millis(1000),
            ..DumpOptions::default()
        };
        let started = std::time::Instant::now();
        let d = dump_host("drip", &[server.local_addr()], &opts).await;
        assert!(started.elapsed() < Duration::from_millis(1500));
        assert_eq!(d.status, HostStatus::Error);
        let e = d.error.unwrap();
        assert!(e.starts_with("drip: bind: timed out with "), "{e}");
        assert!(e.contains(" bytes of a fragment received"), "{e}");
        assert!(e.contains("whole-dump deadline of 1s"), "{e}");
    }

    #[tokio::test]
    async fn a_silent_server_times_out_on_the_step_bound_when_it_is_nearer() {
        let server =
            FixtureServer::start("127.0.0.1:0".parse().unwrap(), fixture(Misbehave::Silent))
                .await
                .unwrap();
        let opts = DumpOptions {
            timeout: Duration::from_secs(20),
            call_timeout: Duration::from_millis(300),
            ..DumpOptions::default()
        };
        let d = dump_host("quiet", &[server.local_addr()], &opts).await;
        assert_eq!(
            d.error.as_deref(),
            Some("quiet: bind: timed out, the step's own limit of 300ms ran out")
        );
    }

    #[tokio::test]
    async fn no_address_is_named_as_such() {
        let d = dump_host("nowhere", &[], &DumpOptions::default()).await;
        assert_eq!(d.status, HostStatus::Error);
        assert_eq!(
            d.error.as_deref(),
            Some("nowhere: no address to connect to")
        );
    }
}
