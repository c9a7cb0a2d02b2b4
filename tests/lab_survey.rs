//! Lab tests of `audit --auth-survey --store` against the real Active Directory domain
//! controller of tests/lab/dc.sh (root, `#[ignore]`; the README's test command runs them). The
//! DC answers anonymous endpoint-mapper lookups in both of its modes, so a store that sets
//! RestrictRemoteClients=1 is `rpc-restriction-not-in-force`; a store that denies incoming NTLM
//! (RestrictReceivingNTLMTraffic=2) is `ntlm-accepted` against the DC that accepts NTLM, and
//! gives no `ntlm-accepted` against the DC with `ntlm auth = disabled`.

mod support;

use support::dc;

const RESTRICT: &str = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Rpc]\r\n\
\"RestrictRemoteClients\"=dword:00000001\r\n";

const NO_NTLM: &str = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\MSV1_0]\r\n\
\"RestrictReceivingNTLMTraffic\"=dword:00000002\r\n";

/// `audit DC --auth-survey --store STORE` with the lab's account (given with its realm, so
/// both NTLM and Kerberos can use it) and KDC; the JSON report.
fn audit(store: &std::path::Path) -> (i32, serde_json::Value) {
    let args: Vec<String> = [
        "audit",
        dc::DC_IP,
        "--policy",
        support::article_policy(),
        "--json",
        "--timeout",
        "20",
        "--auth-survey",
        "--store",
        store.to_str().unwrap(),
        "--user",
        &format!("{}@{}", dc::USER, dc::REALM),
        "--kdc",
        dc::DC_IP,
        "--target-name",
        dc::FQDN,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let r = dc::rpcaudit(&args, Some(dc::PASSWORD), None);
    assert!(!r.stdout.contains(dc::PASSWORD) && !r.stderr.contains(dc::PASSWORD));
    (r.code, r.json())
}

fn store(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn survey(v: &serde_json::Value) -> Vec<String> {
    v["hosts"][0]["survey"]
        .as_array()
        .unwrap_or_else(|| panic!("no survey: {v}"))
        .iter()
        .map(|t| {
            format!(
                "{} {} {}",
                t["mechanism"].as_str().unwrap_or_default(),
                t["level"].as_str().unwrap_or("-"),
                t["outcome"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn against_the_dc_without_ntlm_the_restriction_is_not_in_force_and_ntlm_is_refused() {
    let Some(_dc) = dc::setup("no-ntlm") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (code, v) = audit(&store(&dir, "restrict.reg", RESTRICT));
    assert_eq!(code, 1, "{v}");
    assert!(
        survey(&v).contains(&"anonymous - accepted".to_string()),
        "{v}"
    );
    let hit = support::findings_with(&v, "rpc-restriction-not-in-force");
    assert_eq!(hit.len(), 1, "{:?}", support::finding_codes(&v));
    assert_eq!(hit[0]["line"], 4);
    assert!(
        hit[0]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}: ", dc::DC_IP)),
        "{}",
        hit[0]
    );
    // NTLM denied by the store, and refused by the DC: in force, no finding, no unverified.
    let (_, v) = audit(&store(&dir, "no-ntlm.reg", NO_NTLM));
    assert!(
        survey(&v).contains(&"ntlm integrity refused".to_string()),
        "{v}"
    );
    let codes = support::finding_codes(&v);
    assert!(
        support::findings_with(&v, "ntlm-accepted").is_empty(),
        "{codes:?}"
    );
    assert!(
        !support::findings_with(&v, "unverified")
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("NTLM")),
        "{codes:?}"
    );
}

#[test]
#[ignore = "lab: needs root, samba-ad-dc, tshark and network namespaces"]
fn against_the_dc_that_accepts_ntlm_a_store_denying_it_is_ntlm_accepted() {
    let Some(_dc) = dc::setup("ntlm") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (code, v) = audit(&store(&dir, "no-ntlm.reg", NO_NTLM));
    assert_eq!(code, 1, "{v}");
    assert!(
        survey(&v).contains(&"ntlm integrity accepted".to_string()),
        "{v}"
    );
    let hit = support::findings_with(&v, "ntlm-accepted");
    assert_eq!(hit.len(), 1, "{:?}", support::finding_codes(&v));
    assert_eq!(hit[0]["severity"], "error");
    assert_eq!(hit[0]["line"], 4);
    let msg = hit[0]["message"].as_str().unwrap();
    assert!(msg.contains("RestrictReceivingNTLMTraffic=2"), "{msg}");
    assert!(msg.contains("integrity"), "{msg}");
}
