//! Fuzz property: `wire::tower::Tower::decode` on arbitrary bytes. A decoded tower encodes, its
//! encoding decodes to the same tower, and `interface()`, `binding()` and the binding's string
//! form never panic.
//!
//! Shared by `fuzz_targets/tower.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/tower/` and `fuzz/regressions/tower/` in plain `cargo test`.
use rpcaudit::wire::tower::{Binding, MAX_FLOORS, Tower};

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Ok(tower) = Tower::decode(data) else {
        return;
    };
    assert!(tower.floors.len() <= MAX_FLOORS);
    let _ = tower.interface();
    let binding = tower.binding();
    let text = binding.to_string();
    let _ = Binding::parse(&text);
    if let Ok(bytes) = tower.encode() {
        let back = Tower::decode(&bytes).expect("an encoded tower must decode");
        assert_eq!(back, tower);
        assert_eq!(back.encode().expect("re-encode"), bytes);
    }
}
