//! Decoding speed of the wire format: a 300-entry `ept_lookup` response stub (what one page
//! of a busy server's endpoint mapper looks like), in both byte orders, and its conversion to
//! endpoints. Run with `cargo bench --bench decode`.
//!
//! `DECODE_PROFILE=ROW DECODE_ITERS=N` runs one row's body N times without criterion (ROW is
//! `decode_Little`, `decode_Big` or `decode_and_to_endpoints`), for an instruction count that
//! does not depend on the machine's load:
//! `valgrind --tool=callgrind` on the bench binary with N and with 0 iterations, the difference
//! divided by N (BENCHMARKS.md has the command).

use criterion::{Criterion, Throughput, criterion_group};
use rpcaudit::epm::client::to_endpoint;
use rpcaudit::wire::epm::{EntryTower, EptEntry, LookupResponse};
use rpcaudit::wire::ndr::{ByteOrder, ContextHandle, Stub};
use rpcaudit::wire::tower::{Binding, Tower};
use std::hint::black_box;
use uuid::Uuid;

fn response(n: usize) -> LookupResponse {
    let entries = (0..n)
        .map(|k| {
            let (_, b) = Binding::parse(&format!("ncacn_ip_tcp:198.18.0.10[{}]", 5001 + k % 21))
                .expect("binding");
            EptEntry {
                object: Uuid::nil(),
                tower: EntryTower::Decoded(
                    Tower::for_binding(
                        Uuid::from_u128(0x12345778_1234_abcd_ef00_0123456789ac + k as u128),
                        1,
                        0,
                        &b,
                    )
                    .expect("tower"),
                ),
                annotation: if k % 3 == 0 {
                    "Event log TCPIP".into()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    LookupResponse {
        max_count: 500,
        handle: ContextHandle::NULL,
        entries,
        status: 0,
    }
}

/// The body of `decode_*`.
fn decode(stub: &[u8], order: ByteOrder) -> LookupResponse {
    LookupResponse::decode(black_box(stub), order).expect("decode")
}

/// The body of `decode_and_to_endpoints`.
fn decode_and_convert(stub: &[u8]) -> usize {
    let r = decode(stub, ByteOrder::Little);
    r.entries.iter().filter_map(|e| to_endpoint(e).ok()).count()
}

fn bench(c: &mut Criterion) {
    let resp = response(300);
    let mut g = c.benchmark_group("ept_lookup_300");
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let stub = resp.encode(order).expect("encode");
        g.throughput(Throughput::Bytes(stub.len() as u64));
        g.bench_function(format!("decode_{order:?}"), |b| {
            b.iter(|| decode(&stub, order))
        });
    }
    let stub = resp.encode(ByteOrder::Little).expect("encode");
    g.bench_function("decode_and_to_endpoints", |b| {
        b.iter(|| decode_and_convert(&stub))
    });
    g.finish();
}

/// One row's body `iters` times, outside criterion.
fn profile(row: &str, iters: usize) {
    let resp = response(300);
    let (order, convert) = match row {
        "decode_Little" => (ByteOrder::Little, false),
        "decode_Big" => (ByteOrder::Big, false),
        "decode_and_to_endpoints" => (ByteOrder::Little, true),
        other => panic!("DECODE_PROFILE: no row {other}"),
    };
    let stub = resp.encode(order).expect("encode");
    for _ in 0..iters {
        if convert {
            black_box(decode_and_convert(&stub));
        } else {
            black_box(decode(&stub, order));
        }
    }
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(row) = std::env::var("DECODE_PROFILE") {
        let iters = std::env::var("DECODE_ITERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1000);
        profile(&row, iters);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
