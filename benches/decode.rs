//! Decoding speed of the wire format: a 300-entry `ept_lookup` response stub (what one page
//! of a busy server's endpoint mapper looks like), in both byte orders, and its conversion to
//! endpoints. Run with `cargo bench --bench decode`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

fn bench(c: &mut Criterion) {
    let resp = response(300);
    let mut g = c.benchmark_group("ept_lookup_300");
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let stub = resp.encode(order).expect("encode");
        g.throughput(Throughput::Bytes(stub.len() as u64));
        g.bench_function(format!("decode_{order:?}"), |b| {
            b.iter(|| LookupResponse::decode(black_box(&stub), order).expect("decode"))
        });
    }
    let stub = resp.encode(ByteOrder::Little).expect("encode");
    g.bench_function("decode_and_to_endpoints", |b| {
        b.iter(|| {
            let r = LookupResponse::decode(black_box(&stub), ByteOrder::Little).expect("decode");
            r.entries.iter().filter_map(|e| to_endpoint(e).ok()).count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
