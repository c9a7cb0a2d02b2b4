//! Every fuzz seed (`fuzz/seeds/TARGET/`) and every input that once broke a property
//! (`fuzz/regressions/TARGET/`) replayed through the same property the fuzz target checks
//! (`fuzz/checks/TARGET.rs`), in plain `cargo test`: a regression shows here without
//! nightly Rust or libFuzzer. The policy fixtures (`fixtures/`) are seeds of `policy_parse_text`
//! too, replayed from where the tests read them.

use std::path::{Path, PathBuf};

#[path = "../fuzz/checks/mod.rs"]
mod checks;

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        /// Each target's name and property.
        const TARGETS: &[(&str, fn(&[u8]))] = &[$((stringify!($name), checks::$name::check as fn(&[u8]))),*];
    };
}

targets!(
    auth_response,
    cl_datagram,
    epm_entries,
    ept_lookup_stub,
    mgmt_inq_if_ids,
    pdu_decode,
    policy_address,
    policy_fwstore,
    policy_ipsec_store,
    policy_ipseccmd,
    policy_listing,
    policy_netsh_powershell,
    policy_netsh_rpc,
    policy_parse_text,
    policy_preg,
    policy_wfw,
    policy_registry,
    reassembly,
    smb3_decode,
    smb_decode,
    string_binding,
    tower,
);

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_seeds_and_every_seed_folder_a_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, _) in TARGETS {
        assert!(
            !inputs(&fuzz.join("seeds").join(name)).is_empty(),
            "fuzz/seeds/{name} is empty"
        );
        assert!(
            fuzz.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .exists(),
            "no fuzz target {name}"
        );
    }
    for dir in ["seeds", "regressions"] {
        for e in std::fs::read_dir(fuzz.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    TARGETS.iter().any(|(t, _)| *t == n),
                    "fuzz/{dir}/{n} belongs to no target"
                );
            }
        }
    }
    let targets = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .unwrap()
        .count();
    assert_eq!(
        targets,
        TARGETS.len(),
        "a fuzz target is missing from this file"
    );
}

#[test]
fn seeds_and_past_findings_hold_every_property() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for (name, check) in TARGETS {
        for dir in ["seeds", "regressions"] {
            for file in inputs(&fuzz.join(dir).join(name)) {
                let data = std::fs::read(&file).unwrap();
                let outcome = std::panic::catch_unwind(|| check(&data));
                assert!(
                    outcome.is_ok(),
                    "{name}: {} breaks the property",
                    file.display()
                );
                replayed += 1;
            }
        }
    }
    assert!(replayed > 100, "only {replayed} inputs replayed");
}

#[test]
fn every_policy_fixture_holds_the_policy_parse_text_property() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut replayed = 0;
    for dir in ["policy", "lab"] {
        for file in inputs(&fixtures.join(dir)) {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| checks::policy_parse_text::check(&data));
            assert!(outcome.is_ok(), "{} breaks the property", file.display());
            replayed += 1;
        }
    }
    assert!(replayed >= 10, "only {replayed} fixtures replayed");
}
