//! The report contract: `schema/report.schema.json` is generated from the Rust types, and this
//! test fails when they drift apart (regenerate with `UPDATE_SCHEMA=1 cargo test --test
//! report_schema`). Sample reports must validate against the committed schema.

mod support;

use serde_json::Value;
use std::path::PathBuf;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json")
}

#[test]
fn committed_schema_matches_the_types() {
    let generated =
        serde_json::to_string_pretty(&rpcaudit::report::audit::json_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(schema_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "schema/report.schema.json differs from the report types; if the change is intended (additive, or with schema_version bumped), run: UPDATE_SCHEMA=1 cargo test --test report_schema"
    );
}

/// The JSON-lines contracts (`dump`, `audit`, `capacity` and `probe --json-lines`), generated and checked
/// the same way.
#[test]
fn committed_lines_schemas_match_the_types() {
    for (name, value) in [
        (
            "dump-lines.schema.json",
            rpcaudit::report::dump::lines_schema(),
        ),
        (
            "audit-lines.schema.json",
            rpcaudit::report::lines::lines_schema(),
        ),
        (
            "capacity-lines.schema.json",
            rpcaudit::report::capacity::lines_schema(),
        ),
        (
            "probe-lines.schema.json",
            rpcaudit::probe::lines::lines_schema(),
        ),
        (
            "interfaces.schema.json",
            rpcaudit::report::interfaces::schema(),
        ),
        (
            "interfaces-lines.schema.json",
            rpcaudit::report::interfaces::lines_schema(),
        ),
    ] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("schema")
            .join(name);
        let generated = serde_json::to_string_pretty(&value).unwrap() + "\n";
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "schema/{name} differs from the types; if the change is intended, run: UPDATE_SCHEMA=1 cargo test --test report_schema"
        );
    }
}

#[test]
fn the_schema_requires_the_contract_fields() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in [
        "schema_version",
        "tool",
        "generated_at",
        "inputs",
        "hosts",
        "capacity",
        "matrix",
        "findings",
        "summary",
    ] {
        assert!(
            required.contains(&field),
            "{field} not required: {required:?}"
        );
    }
}

#[test]
fn the_demo_report_validates() {
    let report = support::demo_json();
    assert_eq!(report["schema_version"], 1);
    // And a broken one does not.
    let mut broken = report.clone();
    broken["matrix"][0]["verdict"] = Value::from("maybe");
    assert!(support::report_errors(&broken).is_some());
}

#[test]
fn a_host_may_carry_its_auth_and_nothing_but_mechanism_level_and_user() {
    let _demo = support::demo_lock();
    let (code, report, err) = support::run_json(&["demo", "--json"]);
    assert_eq!(code, 0, "{err}");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    let auth = &schema["$defs"]["AuthInfo"];
    let mut props: Vec<&str> = auth["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    props.sort_unstable();
    assert_eq!(props, ["level", "mechanism", "user"]);
    let mut with_auth = report.clone();
    with_auth["hosts"][0]["auth"] =
        serde_json::json!({"mechanism": "ntlm", "level": "integrity", "user": "LAB\\audit"});
    support::assert_valid_report(&with_auth);
    for level in ["connect", "privacy"] {
        with_auth["hosts"][0]["auth"]["level"] = Value::from(level);
        support::assert_valid_report(&with_auth);
    }
    let mut bad = with_auth.clone();
    bad["hosts"][0]["auth"]["level"] = Value::from("kerberos");
    assert!(support::report_errors(&bad).is_some());
    let mut bad = with_auth;
    bad["hosts"][0]["auth"]
        .as_object_mut()
        .unwrap()
        .remove("user");
    assert!(support::report_errors(&bad).is_some());
}
