//! Fuzz property: `epm::client::to_endpoint`, which turns each `ept_lookup` entry into the
//! `Endpoint` the audit and report consume. Entries come from `LookupResponse::decode` of the
//! input (byte order from its first byte), plus one entry whose tower is the raw input. The
//! conversion never panics, and what it reports agrees with the tower it came from.
//!
//! Shared by `fuzz_targets/epm_entries.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/epm_entries/` and `fuzz/regressions/epm_entries/` in plain `cargo test`.
use rpcaudit::epm::client::to_endpoint;
use rpcaudit::wire::epm::{EntryTower, EptEntry, LookupResponse};
use rpcaudit::wire::ndr::{ByteOrder, Stub};
use rpcaudit::wire::tower::{Binding, Tower};
use uuid::Uuid;

fn check_entry(entry: &EptEntry) {
    let result = to_endpoint(entry);
    let EntryTower::Decoded(tower) = &entry.tower else {
        assert!(result.is_err());
        return;
    };
    let Ok(ep) = result else {
        assert!(tower.interface().is_none());
        return;
    };
    let (uuid, major, minor) = tower.interface().expect("an endpoint has an interface");
    assert_eq!(ep.interface, uuid);
    assert_eq!(ep.version, format!("{major}.{minor}"));
    assert_eq!(ep.object, entry.object);
    let b = tower.binding();
    assert_eq!(ep.protocol, b.protseq);
    assert_eq!(ep.port, b.port);
    assert!(ep.binding.starts_with(&format!("{}:", ep.protocol)));
    if ep.is_tcp() {
        assert!(ep.port.is_some(), "a TCP endpoint without a port");
    }
    // IP bindings carry only a dotted address and a number: their text parses back.
    if matches!(
        ep.protocol.as_str(),
        "ncacn_ip_tcp" | "ncadg_ip_udp" | "ncacn_http"
    ) {
        assert_eq!(Binding::parse(&ep.binding), Ok((None, b)), "{}", ep.binding);
    }
}

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let order = if sel & 1 == 0 {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    };
    if let Ok(resp) = LookupResponse::decode(rest, order) {
        for e in &resp.entries {
            check_entry(e);
        }
    }
    let tower = match Tower::decode(rest) {
        Ok(t) => EntryTower::Decoded(t),
        Err(e) => EntryTower::Malformed(e),
    };
    check_entry(&EptEntry {
        object: Uuid::nil(),
        tower,
        annotation: String::from_utf8_lossy(rest).into_owned(),
    });
}
