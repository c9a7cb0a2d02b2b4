//! The scheduler of the per-host pipeline (resolve → dump → probe → assess → emit): one task
//! per host, at most `in_flight` at once, each host's result handed to `emit` as soon as it may
//! be: in completion order ([`Order::Completion`], for JSON lines), or in target order
//! ([`Order::Targets`], for documents and tables) with at most `in_flight` finished results
//! held back behind a slow host. Memory is bounded by `in_flight`, never by the number of
//! hosts; a host that is not started yet costs nothing but its index.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use tokio::task::JoinSet;

/// In which order results reach `emit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As each host finishes.
    Completion,
    /// In the order of the targets.
    Targets,
}

/// Run `start(k)` for each `k` in `0..count`, at most `in_flight` at once, and call
/// `emit(k, result)` once for every `k`. A task that ends abnormally (a panic) is reported
/// with `lost(k)` instead, so every host is accounted for. Dropping the returned future (a
/// Ctrl-C) aborts the hosts in flight; what was emitted stays emitted.
pub async fn run_each<T, Fut>(
    count: usize,
    in_flight: usize,
    order: Order,
    mut start: impl FnMut(usize) -> Fut,
    lost: impl Fn(usize) -> T,
    mut emit: impl FnMut(usize, T),
) where
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let in_flight = in_flight.max(1);
    let mut set: JoinSet<(usize, T)> = JoinSet::new();
    let mut index_of = HashMap::new();
    let mut held: BTreeMap<usize, T> = BTreeMap::new();
    let (mut next_start, mut next_emit) = (0usize, 0usize);
    loop {
        // In target order, a host starts only within `in_flight` of the first one not yet
        // emitted, which bounds what is held back.
        while next_start < count
            && set.len() < in_flight
            && (order == Order::Completion || next_start < next_emit + in_flight)
        {
            let k = next_start;
            let fut = start(k);
            let handle = set.spawn(async move { (k, fut.await) });
            index_of.insert(handle.id(), k);
            next_start += 1;
        }
        let Some(joined) = set.join_next_with_id().await else {
            break;
        };
        let (k, value) = match joined {
            Ok((id, (k, v))) => {
                index_of.remove(&id);
                (k, v)
            }
            Err(e) => match index_of.remove(&e.id()) {
                Some(k) => (k, lost(k)),
                // Every task's id was recorded when it was spawned.
                None => continue,
            },
        };
        match order {
            Order::Completion => {
                emit(k, value);
                next_emit += 1;
            }
            Order::Targets => {
                held.insert(k, value);
                while let Some(v) = held.remove(&next_emit) {
                    emit(next_emit, v);
                    next_emit += 1;
                }
            }
        }
    }
}

/// [`run_each`] over `targets`: each target is resolved with `resolve`, then `work(label,
/// addresses)` examines it; a target that does not resolve, or whose task ends abnormally,
/// becomes `failed(label, why)` (`what` names the task in that message: "the dump task ended
/// abnormally"). What `epm::dump::dump_each` and `epm::reach::reach_each` share.
#[allow(clippy::too_many_arguments)]
pub async fn run_each_resolved<T, F, E, Fut, W, WFut, R>(
    targets: &[T],
    resolve: F,
    work: W,
    failed: impl Fn(&str, String) -> R + Clone + Send + 'static,
    what: &'static str,
    in_flight: usize,
    order: Order,
    emit: impl FnMut(usize, R),
) where
    T: std::fmt::Display + Clone + Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    E: std::fmt::Display + Send,
    Fut: Future<Output = Result<Vec<std::net::SocketAddr>, E>> + Send,
    W: Fn(String, Vec<std::net::SocketAddr>) -> WFut + Clone + Send + 'static,
    WFut: Future<Output = R> + Send,
    R: Send + 'static,
{
    let lost = failed.clone();
    run_each(
        targets.len(),
        in_flight,
        order,
        |k| {
            let target = targets.get(k).cloned();
            let (resolve, work, failed) = (resolve.clone(), work.clone(), failed.clone());
            async move {
                let Some(target) = target else {
                    return failed("?", "no such target".into());
                };
                let label = target.to_string();
                match resolve(target).await {
                    Ok(addrs) => work(label, addrs).await,
                    Err(e) => failed(&label, e.to_string()),
                }
            }
        },
        |k| {
            let label = targets.get(k).map(|t| t.to_string()).unwrap_or_default();
            lost(&label, format!("{label}: {what}"))
        },
        emit,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Host k takes (count - k) ms: later hosts finish first.
    async fn scenario(order: Order, in_flight: usize) -> (Vec<usize>, usize, usize) {
        let count = 40;
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut seen = Vec::new();
        let mut held_most = 0;
        run_each(
            count,
            in_flight,
            order,
            |k| {
                let (running, most) = (running.clone(), most.clone());
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis((count - k) as u64)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    if k == 7 {
                        panic!("host 7 fails");
                    }
                    k * 10
                }
            },
            |k| k * 10 + 1,
            |k, v| {
                assert_eq!(v / 10, k);
                seen.push(v);
                held_most = held_most.max(running.load(Ordering::SeqCst));
            },
        )
        .await;
        (seen, most.load(Ordering::SeqCst), held_most)
    }

    #[tokio::test]
    async fn target_order_is_kept_within_the_bound() {
        let (seen, most, _) = scenario(Order::Targets, 5).await;
        let want: Vec<usize> = (0..40).map(|k| if k == 7 { 71 } else { k * 10 }).collect();
        assert_eq!(seen, want);
        assert!(most <= 5, "{most} in flight");
    }

    #[tokio::test]
    async fn completion_order_emits_every_host_once() {
        let (seen, most, _) = scenario(Order::Completion, 8).await;
        assert!(most <= 8, "{most}");
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        let want: Vec<usize> = (0..40).map(|k| if k == 7 { 71 } else { k * 10 }).collect();
        assert_eq!(sorted, want);
        assert_ne!(seen, want, "later hosts finish first and are emitted first");
    }

    #[tokio::test]
    async fn nothing_to_do() {
        let mut n = 0;
        run_each(0, 4, Order::Targets, |_| async { 1 }, |_| 0, |_, _| n += 1).await;
        assert_eq!(n, 0);
    }
}
