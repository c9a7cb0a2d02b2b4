//! Fuzz property: `wire::tower::Binding::parse` on arbitrary UTF-8. A parsed binding prints in
//! the standard form, and that form parses back to the same binding (and object UUID); a
//! binding that builds into a tower keeps its protocol sequence and port through the tower.
//!
//! Shared by `fuzz_targets/string_binding.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/string_binding/` and `fuzz/regressions/string_binding/` in plain `cargo test`.
use rpcaudit::wire::tower::{Binding, Tower};
use uuid::Uuid;

const SAMR: Uuid = Uuid::from_u128(0x12345778_1234_abcd_ef00_0123456789ac);

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((object, binding)) = Binding::parse(text) else {
        return;
    };
    let printed = binding.to_string();
    let again = Binding::parse(&printed);
    assert_eq!(again, Ok((None, binding.clone())), "printed as {printed:?}");
    if let Some(o) = object {
        let with_object = format!("{o}@{printed}");
        assert_eq!(Binding::parse(&with_object), Ok((Some(o), binding.clone())));
    }
    if let Ok(tower) = Tower::for_binding(SAMR, 1, 0, &binding) {
        let b = tower.binding();
        assert_eq!(b.protseq, binding.protseq);
        if binding.port.is_some() {
            assert_eq!(b.port, binding.port);
        }
        assert_eq!(tower.interface(), Some((SAMR, 1, 0)));
        let bytes = tower
            .encode()
            .expect("a tower built from a binding encodes");
        let back = Tower::decode(&bytes).expect("and decodes");
        // Strings in floors are NUL-terminated on the wire, so an embedded NUL cannot survive.
        if !printed.contains('\0') {
            assert_eq!(back, tower);
        }
    }
}
