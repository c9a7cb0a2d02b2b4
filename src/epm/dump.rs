//! Dumping hosts: [`dump_host`] reads one host's endpoint mapper over the roads `--transport`
//! names (TCP 135, RPC over HTTP, UDP through [`super::datagram`], a named pipe through
//! [`super::pipe`]; with `auto`, the next road only when the one before could not be reached),
//! then runs `--auth-survey` ([`super::survey`]); [`dump_each`] and [`dump_many`] run hosts
//! concurrently through [`crate::pipeline`]. Above the roads: each road's session, binds and
//! lookup loop are [`super::client`]'s, which knows nothing of this file.

use super::client::{
    AuthMode, CoRoad, DumpError, DumpOptions, Ending, auto_with_kerberos, empty_dump, failed,
    settle, with_auth,
};
use super::{HostDump, Transport, datagram, pipe, survey};
use std::net::SocketAddr;
use tokio::time::{Instant, timeout_at};

/// Dump one host's endpoint mapper over the roads `opts.roads` names (TCP 135 by default;
/// with `auto`, the next road only when the one before could not be reached). `target` labels
/// the result; `addrs` are tried in turn until one connects. Never fails: problems are in the
/// returned status and error.
pub async fn dump_host(target: &str, addrs: &[SocketAddr], opts: &DumpOptions) -> HostDump {
    let deadline = Instant::now() + opts.timeout;
    let mut dump = empty_dump(target);
    let roads = opts.roads.tried();
    let tcp_port = addrs
        .first()
        .map_or(crate::ports::EPM_PORT, SocketAddr::port);
    // The roads that could not be reached before the one that answered, each with why.
    let mut missed: Vec<String> = Vec::new();
    let mut result = Ok(Err(DumpError::NoAddress));
    for (k, &road) in roads.iter().enumerate() {
        let road_addrs = opts.roads.addrs_for(road, addrs);
        result = timeout_at(
            deadline,
            read_road(target, road, &road_addrs, opts, deadline, &mut dump),
        )
        .await;
        let more = k + 1 < roads.len();
        match &result {
            Ok(Err(e)) if more && e.is_unreachable() => {
                let port = opts.roads.port(road, tcp_port);
                missed.push(format!("{road} {port}: {e}"));
                dump.address = None;
                dump.transport = None;
                dump.auth = None;
                dump.endpoints.clear();
                dump.warnings.clear();
            }
            _ => break,
        }
    }
    let error = settle(&mut dump, result, opts.timeout);
    if opts.auth.survey {
        let tcp = opts.roads.addrs_for(Transport::Tcp, addrs);
        dump.survey = Some(survey::survey(target, &tcp, opts).await);
    }
    if let Some(road) = dump.transport.filter(|_| !missed.is_empty()) {
        let port = opts.roads.port(road, tcp_port);
        dump.warnings.insert(
            0,
            format!(
                "read over {road} {port} ({}); not reached first: {}",
                road.protseq(),
                missed.join("; ")
            ),
        );
    }
    dump.error = error.map(|e| {
        if dump.transport.is_none() && !missed.is_empty() {
            let road = roads.get(missed.len()).copied().unwrap_or(Transport::Tcp);
            let port = opts.roads.port(road, tcp_port);
            format!("{target}: {}; {road} {port}: {e}", missed.join("; "))
        } else {
            format!("{target}: {e}")
        }
    });
    dump
}

/// Read the endpoint mapper over `road` at `addrs` (already on the road's port), with the
/// run's authentication choices, filling `d`.
async fn read_road(
    target: &str,
    road: Transport,
    addrs: &[SocketAddr],
    opts: &DumpOptions,
    deadline: Instant,
    d: &mut HostDump,
) -> Result<Ending, DumpError> {
    if opts.auth.mode.is_kerberos() && road == Transport::Udp {
        return Err(DumpError::KerberosUnsupported(road));
    }
    if road == Transport::Udp {
        if opts.auth.mode == AuthMode::Ntlm {
            return Err(DumpError::AuthUnsupported(road));
        }
        return datagram::attempt(addrs, opts, deadline, d).await;
    }
    if road == Transport::Smb {
        let smb = pipe::SmbOptions {
            port: opts.roads.smb_port,
            ..Default::default()
        };
        let pipe = pipe::SmbRoad::new(target, addrs, opts, &smb);
        return with_auth(target, opts, deadline, &pipe, d).await;
    }
    if let (AuthMode::Auto, Some(_), Some(creds)) = (
        opts.auth.mode,
        &opts.auth.kdc,
        opts.auth.credentials.as_deref(),
    ) {
        return auto_with_kerberos(target, road, addrs, opts, deadline, creds, d).await;
    }
    with_auth(target, opts, deadline, &CoRoad { road, addrs, opts }, d).await
}

/// Dump many hosts, at most `concurrency` at once; results in the order given. `resolve`
/// turns a target into socket addresses (its time counts against the host's deadline through
/// the connect timeout); a target it cannot resolve is reported as an error like any other.
/// Holds every result until the end: for many hosts, use [`dump_each`].
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
    let mut out = Vec::with_capacity(targets.len());
    dump_each(
        &targets,
        resolve,
        opts,
        concurrency,
        crate::pipeline::Order::Targets,
        |_, d| {
            on_done(&d);
            out.push(d);
        },
    )
    .await;
    out
}

/// Dump each target, at most `concurrency` at once, and hand each [`HostDump`] to `emit` (with
/// the target's index) as soon as `order` allows ([`crate::pipeline::run_each`]): memory is
/// bounded by `concurrency`, not by the number of targets. A dump task that ends abnormally
/// still gives its host, as an error.
pub async fn dump_each<T, F, E, Fut>(
    targets: &[T],
    resolve: F,
    opts: &DumpOptions,
    concurrency: usize,
    order: crate::pipeline::Order,
    emit: impl FnMut(usize, HostDump),
) where
    T: std::fmt::Display + Clone + Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    E: std::fmt::Display + Send,
    Fut: std::future::Future<Output = Result<Vec<SocketAddr>, E>> + Send,
{
    let opts = std::sync::Arc::new(opts.clone());
    crate::pipeline::run_each_resolved(
        targets,
        resolve,
        move |label: String, addrs: Vec<SocketAddr>| {
            let opts = opts.clone();
            async move { dump_host(&label, &addrs, &opts).await }
        },
        failed,
        "the dump task ended abnormally",
        concurrency,
        order,
        emit,
    )
    .await;
}
