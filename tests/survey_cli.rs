//! `audit --auth-survey --store` on loopback: what each host accepted set beside the configured
//! authentication restrictions of a `.reg` export. A fixture that answers anonymously under a
//! configured RestrictRemoteClients is `rpc-restriction-not-in-force`; a fixture that refuses
//! anonymous lookups but accepts NTLM (`lab serve --require-auth`) under a configured
//! RestrictReceivingNTLMTraffic=2 is `ntlm-accepted`; a restriction the survey could not try
//! is `unverified` and the exit is 3, never compliant. Only loopback is contacted.

mod support;

use std::process::Command;
use support::{Fixture, bin};

const PASSWORD: &str = "Survey-Pa55-Opal";
const ACCOUNT: &str = "LAB\\audit";

const RESTRICT: &str = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Rpc]\r\n\
\"RestrictRemoteClients\"=dword:00000001\r\n";

const NO_NTLM: &str = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\r\n\
\"RestrictReceivingNTLMTraffic\"=dword:00000002\r\n";

fn audit(port: &str, store: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = support::audit_args(
        port,
        &[
            "--json",
            "--auth-survey",
            "--store",
            store.to_str().unwrap(),
        ],
    );
    args.extend_from_slice(extra);
    let out = Command::new(bin())
        .args(&args)
        .env_remove("RPCAUDIT_NT_HASH")
        .env_remove("RUST_LOG")
        .env("RPCAUDIT_PASSWORD", PASSWORD)
        .output()
        .expect("run rpcaudit");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn an_anonymous_answer_under_restrict_remote_clients_is_not_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let store = write(&dir, "restrict.reg", RESTRICT);
    let f = Fixture::start(&[]);
    let (code, v, err) = audit(&f.port(), &store, &[]);
    assert_eq!(code, 1, "{err}");
    support::assert_valid_report(&v);
    let hit = support::findings_with(&v, "rpc-restriction-not-in-force");
    assert_eq!(hit.len(), 1, "{:?}", support::finding_codes(&v));
    assert_eq!(hit[0]["severity"], "error");
    assert_eq!(hit[0]["line"], 4);
    assert!(
        hit[0]["file"].as_str().unwrap().ends_with("restrict.reg"),
        "{}",
        hit[0]
    );
    assert!(
        hit[0]["message"]
            .as_str()
            .unwrap()
            .contains("RestrictRemoteClients=1"),
        "{}",
        hit[0]
    );
    // A store of authentication restrictions alone says nothing of the fence: it is not
    // compared with the script.
    assert!(support::findings_with(&v, "store-disagrees").is_empty());
    assert!(support::findings_with(&v, "ntlm-accepted").is_empty());
    // SARIF carries it as a result of its own rule, located at the setting's line.
    let sarif = dir.path().join("audit.sarif");
    let (code, _, err) = audit(&f.port(), &store, &["--sarif", sarif.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let run = &log["runs"][0];
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "rpc-restriction-not-in-force")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(result["level"], "error");
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["region"]["startLine"], 4, "{result}");
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("restrict.reg"),
        "{result}"
    );
    let rule = &run["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "rpc-restriction-not-in-force");
}

#[test]
fn an_ntlm_bind_accepted_under_deny_all_is_ntlm_accepted_and_a_refusal_is_in_force() {
    let dir = tempfile::tempdir().unwrap();
    // RestrictRemoteClients on line 4, RestrictReceivingNTLMTraffic on line 7.
    let both = write(
        &dir,
        "both.reg",
        &format!(
            "{RESTRICT}\r\n{}",
            NO_NTLM.split_once("\r\n\r\n").unwrap().1
        ),
    );
    let spec = format!("{ACCOUNT}:{PASSWORD}");
    let f = Fixture::start(&["--require-auth", &spec]);
    let (code, v, err) = audit(&f.port(), &both, &["--user", ACCOUNT]);
    assert_eq!(code, 1, "{err}");
    let codes = support::finding_codes(&v);
    // Anonymous refused: RestrictRemoteClients is in force.
    assert!(
        support::findings_with(&v, "rpc-restriction-not-in-force").is_empty(),
        "{codes:?}"
    );
    let hit = support::findings_with(&v, "ntlm-accepted");
    assert_eq!(hit.len(), 1, "{codes:?}");
    assert_eq!(hit[0]["line"], 7, "{}", hit[0]);
    let msg = hit[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("RestrictReceivingNTLMTraffic=2") && msg.contains("integrity"),
        "{msg}"
    );
    let out = serde_json::to_string(&v).unwrap();
    assert!(!out.contains(PASSWORD));
}

#[test]
fn a_restriction_the_survey_could_not_try_is_unverified_never_compliant() {
    let dir = tempfile::tempdir().unwrap();
    let store = write(&dir, "no-ntlm.reg", NO_NTLM);
    let f = Fixture::start(&[]);
    // No --user: NTLM is not tried, so the restriction is not checked.
    let (code, v, err) = audit(&f.port(), &store, &[]);
    assert_eq!(code, 3, "{err}");
    let un: Vec<_> = support::findings_with(&v, "unverified")
        .into_iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("RestrictReceivingNTLMTraffic")
        })
        .collect();
    assert_eq!(un.len(), 1, "{:?}", support::finding_codes(&v));
    assert_eq!(un[0]["severity"], "warning");
    assert!(support::findings_with(&v, "ntlm-accepted").is_empty());
}
