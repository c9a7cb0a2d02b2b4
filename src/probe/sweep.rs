//! A sweep: every probe of a plan runs at once, within the concurrency and rate limits, each
//! retrying unanswered attempts; one [`Observation`] per plan entry, in plan order. This is what
//! `rpcaudit probe` and the audit call.

use super::connect::{self, Outcome};
use super::{Observation, Probe, ProbeConfig, ProbeState, Proto};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Probe every `(source, target, port, protocol)` of `plan` (source None = the kernel's
/// choice) and return the observations in plan order. Must run inside a tokio runtime.
pub async fn sweep(plan: &[Probe], cfg: &ProbeConfig) -> Vec<Observation> {
    Sweeper::new(cfg).sweep(plan).await
}

/// The limits of a run's probes, shared by every sweep made through it (one per host in the
/// audit's pipeline): at most `concurrency` probes in flight and `rate` attempts per second in
/// all of them together.
#[derive(Clone)]
pub struct Sweeper {
    cfg: Arc<ProbeConfig>,
    permits: Arc<Semaphore>,
    pacer: Arc<Pacer>,
}

impl Sweeper {
    pub fn new(cfg: &ProbeConfig) -> Self {
        Sweeper {
            cfg: Arc::new(cfg.clone()),
            permits: Arc::new(Semaphore::new(cfg.concurrency.max(1))),
            pacer: Arc::new(Pacer::new(cfg.rate)),
        }
    }

    /// [`sweep`] within the shared limits.
    pub async fn sweep(&self, plan: &[Probe]) -> Vec<Observation> {
        sweep_within(plan, &self.cfg, &self.permits, &self.pacer).await
    }
}

async fn sweep_within(
    plan: &[Probe],
    cfg: &Arc<ProbeConfig>,
    permits: &Arc<Semaphore>,
    pacer: &Arc<Pacer>,
) -> Vec<Observation> {
    let mut tasks = JoinSet::new();
    for (index, &(source, target, port, proto)) in plan.iter().enumerate() {
        let (cfg, permits, pacer) = (cfg.clone(), permits.clone(), pacer.clone());
        tasks.spawn(async move {
            // The semaphore is never closed, so acquiring only fails if it were; then run anyway.
            let _permit = permits.acquire_owned().await.ok();
            (
                index,
                probe(source, target, port, proto, &cfg, &pacer).await,
            )
        });
    }
    let mut results: Vec<Option<Observation>> = vec![None; plan.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, obs)) = joined
            && let Some(slot) = results.get_mut(index)
        {
            *slot = Some(obs);
        }
    }
    results
        .into_iter()
        .zip(plan)
        .map(|(obs, &(source, target, port, protocol))| {
            obs.unwrap_or_else(|| Observation {
                source: pick_source(None, source, target),
                target,
                port,
                protocol,
                state: ProbeState::Error,
                attempts: 0,
                rtt_ms: None,
                error: Some("probe task failed".into()),
                pipes: None,
            })
        })
        .collect()
}

/// One probe: attempts until an answer or until `1 + retries` attempts went unanswered (over
/// UDP each attempt is one request datagram, so retries are bounded the same way).
async fn probe(
    source: Option<IpAddr>,
    target: IpAddr,
    port: u16,
    proto: Proto,
    cfg: &ProbeConfig,
    pacer: &Pacer,
) -> Observation {
    let max_attempts = cfg.retries.saturating_add(1);
    let addr = SocketAddr::new(target, port);
    let mut attempts = 0;
    let mut local = None;
    let (state, rtt, error) = loop {
        pacer.wait().await;
        attempts += 1;
        let a = match proto {
            Proto::Tcp => connect::attempt(source, addr, cfg.timeout).await,
            Proto::Udp => super::udp::attempt(source, addr, cfg.timeout).await,
        };
        local = a.local.or(local);
        match a.outcome {
            Outcome::Open { rtt } => break (ProbeState::Open, Some(rtt), None),
            Outcome::Closed { rtt } => break (ProbeState::Closed, Some(rtt), None),
            Outcome::Unreachable { rtt, error } => {
                break (ProbeState::Unreachable, Some(rtt), Some(error));
            }
            Outcome::LocalError(msg) => break (ProbeState::Error, None, Some(msg)),
            Outcome::NoAnswer if attempts < max_attempts => continue,
            Outcome::NoAnswer => break (ProbeState::Filtered, None, None),
        }
    };
    Observation {
        source: pick_source(local, source, target),
        target,
        port,
        protocol: proto,
        state,
        attempts,
        rtt_ms: rtt.map(|d| d.as_secs_f64() * 1000.0),
        error,
        pipes: None,
    }
}

/// The address to report as source: what getsockname said, else the bound source, else what
/// the kernel would pick for the target, else the unspecified address of the target's family.
fn pick_source(local: Option<IpAddr>, source: Option<IpAddr>, target: IpAddr) -> IpAddr {
    local
        .or(source)
        .or_else(|| connect::route_source(target))
        .unwrap_or(match target {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        })
}

/// Spaces connection attempts `1/rate` apart (no limit when rate is None).
struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    fn new(rate: Option<f64>) -> Self {
        let interval = rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64((1.0 / r).min(3600.0)));
        Pacer {
            interval,
            next: Mutex::new(None),
        }
    }

    async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn sweep_keeps_plan_order_and_states() {
        let open = TcpListener::bind((LO, 0)).unwrap();
        let open_port = open.local_addr().unwrap().port();
        let gone = TcpListener::bind((LO, 0)).unwrap();
        let closed_port = gone.local_addr().unwrap().port();
        drop(gone);
        let bad_src: IpAddr = "198.18.255.254".parse().unwrap();
        let tcp = Proto::Tcp;
        let plan = vec![
            (None, LO, closed_port, tcp),
            (None, LO, open_port, tcp),
            (Some(bad_src), LO, open_port, tcp),
            (Some("127.0.0.3".parse().unwrap()), LO, open_port, tcp),
            // Over UDP nothing listens on the port just freed: ICMP port unreachable.
            (None, LO, closed_port, Proto::Udp),
        ];
        let obs = sweep(&plan, &ProbeConfig::default()).await;
        let states: Vec<ProbeState> = obs.iter().map(|o| o.state).collect();
        assert_eq!(
            states,
            [
                ProbeState::Closed,
                ProbeState::Open,
                ProbeState::Error,
                ProbeState::Open,
                ProbeState::Closed
            ]
        );
        assert_eq!(obs[4].protocol, Proto::Udp);
        assert_eq!(obs[0].protocol, Proto::Tcp);
        assert_eq!(obs[0].port, closed_port);
        assert_eq!(obs[1].port, open_port);
        assert_eq!(obs[0].source, LO);
        assert_eq!(obs[2].source, bad_src);
        assert_eq!(obs[3].source, "127.0.0.3".parse::<IpAddr>().unwrap());
        assert!(obs[1].rtt_ms.is_some() && obs[1].attempts == 1);
        assert!(obs[2].error.as_deref().unwrap().contains("198.18.255.254"));
        assert!(obs.iter().all(|o| o.target == LO));
    }

    #[tokio::test]
    async fn rate_spaces_attempts() {
        let open = TcpListener::bind((LO, 0)).unwrap();
        let port = open.local_addr().unwrap().port();
        let plan = vec![(None, LO, port, Proto::Tcp); 5];
        let cfg = ProbeConfig {
            rate: Some(50.0),
            ..ProbeConfig::default()
        };
        let start = std::time::Instant::now();
        let obs = sweep(&plan, &cfg).await;
        // 5 attempts at 50/s: the last starts 4 × 20 ms after the first.
        assert!(
            start.elapsed() >= Duration::from_millis(75),
            "{:?}",
            start.elapsed()
        );
        assert!(obs.iter().all(|o| o.state == ProbeState::Open));
    }

    #[tokio::test]
    async fn concurrency_one_still_completes_everything() {
        let open = TcpListener::bind((LO, 0)).unwrap();
        let port = open.local_addr().unwrap().port();
        let plan = vec![(None, LO, port, Proto::Tcp); 3];
        let cfg = ProbeConfig {
            concurrency: 1,
            ..ProbeConfig::default()
        };
        let obs = sweep(&plan, &cfg).await;
        assert_eq!(obs.len(), 3);
        assert!(obs.iter().all(|o| o.state == ProbeState::Open));
    }

    #[test]
    fn pacer_ignores_nonsense_rates() {
        assert!(Pacer::new(Some(0.0)).interval.is_none());
        assert!(Pacer::new(Some(f64::NAN)).interval.is_none());
        assert!(Pacer::new(Some(-3.0)).interval.is_none());
        assert_eq!(
            Pacer::new(Some(4.0)).interval,
            Some(Duration::from_millis(250))
        );
    }
}
