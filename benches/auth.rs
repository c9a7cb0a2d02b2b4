//! What authentication costs a dump: one host's whole dump (connect, bind, every call) of 300
//! entries from the fixture endpoint mapper on loopback, anonymous and with NTLM at each level
//! (`lab serve --require-auth`'s configuration), 1024-byte fragments so every page is several
//! signed or sealed fragments. `cargo bench --bench auth`.

use criterion::{Criterion, criterion_group, criterion_main};
use rpcaudit::epm::auth::{Acceptor, Credentials, Level};
use rpcaudit::epm::client::{AuthMode, AuthOptions, DumpOptions, LogonGate};
use rpcaudit::epm::dump::dump_host;
use rpcaudit::epm::server::{FixtureConfig, FixtureServer};
use rpcaudit::ports::PortRanges;
use std::sync::Arc;

fn account() -> Credentials {
    Credentials::password("audit", "LAB", "Bench-Pass-1")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut cfg = FixtureConfig::windows_like(
        300,
        &PortRanges::parse("5001-5021").expect("ports"),
        0,
        0,
        "BENCH",
    );
    cfg.max_xmit_frag = 1024;
    let open = rt
        .block_on(FixtureServer::start(
            "127.0.0.1:0".parse().unwrap(),
            cfg.clone(),
        ))
        .expect("fixture");
    cfg.require_auth = Some(Acceptor { creds: account() });
    let restricted = rt
        .block_on(FixtureServer::start("127.0.0.1:0".parse().unwrap(), cfg))
        .expect("fixture");
    let mut g = c.benchmark_group("dump_300_entries");
    g.sample_size(30);
    let anon = DumpOptions::default();
    g.bench_function("anonymous", |b| {
        b.iter(|| {
            let d = rt.block_on(dump_host("b", &[open.local_addr()], &anon));
            assert_eq!(d.endpoints.len(), 300);
        })
    });
    for level in [Level::Connect, Level::Integrity, Level::Privacy] {
        let opts = DumpOptions {
            auth: AuthOptions {
                mode: AuthMode::Ntlm,
                level,
                credentials: Some(Arc::new(account())),
                gate: Arc::new(LogonGate::new(3)),
                ..AuthOptions::default()
            },
            ..DumpOptions::default()
        };
        g.bench_function(format!("ntlm_{level}"), |b| {
            b.iter(|| {
                let d = rt.block_on(dump_host("b", &[restricted.local_addr()], &opts));
                assert_eq!(d.endpoints.len(), 300, "{:?}", d.error);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
