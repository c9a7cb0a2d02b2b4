//! `rpcaudit policy lint|explain|range` driven as a real binary on the fixtures in
//! fixtures/policy (every encoding Windows writes), plus the acceptance checks of the
//! KB908472 script through the library (every port, inside and outside the subnet).

mod support;

use assert_cmd::Command;
use rpcaudit::policy::{self, Action, LoadOptions, Proto};
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    support::fixture(&format!("policy/{name}"))
}

/// `rpcaudit policy ARGS FILES...`: exit code, stdout and stderr.
fn policy_on(args: &[&str], files: &[&Path]) -> (i32, String, String) {
    let out = Command::cargo_bin("rpcaudit")
        .unwrap()
        .arg("policy")
        .args(args)
        .args(files)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `rpcaudit policy ARGS` on fixtures: exit code and stdout.
fn rpcaudit(args: &[&str], files: &[&str]) -> (i32, String) {
    let paths: Vec<PathBuf> = files.iter().map(|f| fixture(f)).collect();
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (code, out, _) = policy_on(args, &paths);
    (code, out)
}

fn json(args: &[&str], files: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.push("--json");
    let (code, out) = rpcaudit(&a, files);
    (code, serde_json::from_str(&out).unwrap())
}

/// `policy explain --src SRC --port PORT --json FILES...`.
fn explain(src: &str, port: &str, files: &[&str]) -> (i32, Value) {
    json(&["explain", "--src", src, "--port", port], files)
}

const ARTICLE_ENCODINGS: &[&str] = &[
    "kb908472.cmd",            // ASCII, CRLF
    "kb908472-utf8bom-lf.cmd", // UTF-8 with BOM, LF
    "kb908472-utf16le.cmd",    // UTF-16LE with BOM (PowerShell redirection)
];

#[test]
fn article_script_lints_clean_in_every_encoding() {
    for f in ARTICLE_ENCODINGS {
        let (code, v) = json(&["lint"], &[f]);
        assert_eq!(code, 0, "{f}");
        assert_eq!(v["findings"], serde_json::json!([]), "{f}");
    }
}

#[test]
fn article_script_decides_every_port_in_every_encoding() {
    let ports: Vec<u16> = std::iter::once(135).chain(5001..=5021).collect();
    let inside: Vec<IpAddr> = ["10.1.1.0", "10.1.1.1", "10.1.1.77", "10.1.1.255"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let outside: Vec<IpAddr> = ["10.1.2.1", "10.1.0.255", "192.168.1.10", "203.0.113.9"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    for f in ARTICLE_ENCODINGS {
        let lp = policy::load(&[fixture(f)], &LoadOptions::default()).unwrap();
        assert_eq!(lp.range.as_ref().unwrap().ports.to_string(), "5001-5021");
        for &p in &ports {
            for &ip in &inside {
                let d = lp.policy.decide(ip, p, Proto::Tcp);
                assert_eq!(d.action, Action::Pass, "{f} {ip} {p}");
                let rule = d.rule.unwrap();
                assert_eq!(
                    rule.name,
                    format!("Allow Inbound TCP Port {p} from 10.1.1.0 Rule")
                );
            }
            for &ip in &outside {
                let d = lp.policy.decide(ip, p, Proto::Tcp);
                assert_eq!(d.action, Action::Block, "{f} {ip} {p}");
                assert_eq!(d.rule.unwrap().name, format!("Block Inbound TCP {p} Rule"));
            }
        }
        // A port outside 135 and the range: no rule.
        assert_eq!(
            lp.policy.decide(inside[1], 445, Proto::Tcp).action,
            Action::None
        );
    }
}

#[test]
fn explain_cli_json() {
    let (code, v) = explain("10.1.1.5", "5021", &["kb908472.cmd"]);
    assert_eq!(code, 0);
    assert_eq!(v["action"], "pass");
    assert_eq!(v["rule"]["line"], 52);
    assert!(
        v["rule"]["file"]
            .as_str()
            .unwrap()
            .ends_with("kb908472.cmd")
    );
    assert_eq!(v["rule"]["dialect"], "ipseccmd");
    assert_eq!(v["rule"]["policy"], "Block RPC Ports");
    let (_, v) = explain("10.9.9.9", "135", &["kb908472.cmd"]);
    assert_eq!(v["action"], "block");
    assert_eq!(v["rule"]["name"], "Block Inbound TCP 135 Rule");
    let (_, v) = json(
        &[
            "explain", "--src", "10.1.1.5", "--port", "135", "--proto", "udp",
        ],
        &["kb908472.cmd"],
    );
    assert_eq!(v["action"], "none");
    assert_eq!(v["rule"], Value::Null);
}

#[test]
fn typographic_dash_fixture_in_windows_1252() {
    let (code, v) = json(&["lint"], &["kb908472-dash-cp1252.cmd"]);
    assert_eq!(code, 1);
    let findings = v["findings"].as_array().unwrap();
    let codes = support::finding_codes(&v);
    assert_eq!(
        codes,
        vec![
            "typographic-dash",
            "policy-unassigned",
            "range-port-unblocked",
            "range-port-unblocked"
        ]
    );
    assert_eq!(findings[0]["line"], 55);
    assert_eq!(findings[0]["severity"], "error");
    assert!(findings[0]["message"].as_str().unwrap().contains("en dash"));
    assert_eq!(findings[0]["fix"], "replace '\u{2013}x' with '-x'");
    // Nothing is assigned, so nothing decides.
    let (_, v) = explain("10.9.9.9", "135", &["kb908472-dash-cp1252.cmd"]);
    assert_eq!(v["action"], "none");
}

#[test]
fn range_from_reg_exports() {
    for f in ["rpc-internet.reg", "rpc-internet-regedit4.reg"] {
        let (code, v) = json(&["range"], &[f]);
        assert_eq!(code, 0, "{f}");
        assert_eq!(v["ranges"], serde_json::json!([[5001, 5021]]));
        assert_eq!(v["size"], 21);
        assert_eq!(v["kind"], "listed");
        assert_eq!(v["findings"], serde_json::json!([]));
    }
    let (code, v) = json(&["range"], &["rpc-internet-invalid.reg"]);
    assert_eq!(code, 1);
    assert_eq!(v["size"], 0);
    assert_eq!(v["kind"], "invalid");
    assert_eq!(
        support::finding_codes(&v),
        vec!["range-invalid", "range-invalid"]
    );
    let (code, v) = json(&["range"], &["rpc-internet-inverted.reg"]);
    assert_eq!(code, 1);
    assert_eq!(v["kind"], "inverted");
    assert_eq!(v["ranges"], serde_json::json!([[1, 5000], [5022, 65535]]));
    // The article's script: the range comes from its rpccfg line.
    let (code, v) = json(&["range"], &["kb908472.cmd"]);
    assert_eq!(code, 0);
    assert_eq!(v["source"].as_str().unwrap().rsplit(':').next(), Some("4"));
    // Nothing configured: the OS default.
    let (_, v) = json(&["range", "--os", "legacy"], &["firewall-naive.cmd"]);
    assert_eq!(v["ranges"], serde_json::json!([[1024, 5000]]));
    assert_eq!(v["kind"], "default");
}

#[test]
fn firewall_fixtures_follow_block_beats_allow() {
    let (code, v) = json(&["lint", "--range", "5001-5021"], &["firewall-naive.cmd"]);
    assert_eq!(code, 1);
    assert_eq!(v["findings"][0]["code"], "allow-shadowed");
    let (_, v) = explain("10.1.1.5", "135", &["firewall-naive.cmd"]);
    assert_eq!(v["action"], "block");
    // The correct translation (UTF-16LE PowerShell with backtick continuations) is clean
    // and passes the subnet.
    let (code, v) = json(&["lint"], &["firewall-correct.ps1", "rpc-internet.reg"]);
    assert_eq!(code, 0);
    assert_eq!(v["findings"], serde_json::json!([]));
    let (_, v) = explain("10.1.1.5", "5007", &["firewall-correct.ps1"]);
    assert_eq!(v["action"], "pass");
    assert_eq!(v["rule"]["dialect"], "powershell");
    assert_eq!(v["rule"]["line"], 6);
}

#[test]
fn netsh_ipsec_fixture() {
    let (code, v) = json(&["lint"], &["netsh-ipsec.cmd"]);
    assert_eq!(code, 0);
    assert_eq!(v["findings"], serde_json::json!([]));
    let (_, v) = explain("10.1.1.5", "5021", &["netsh-ipsec.cmd"]);
    assert_eq!(v["action"], "pass");
    let (_, v) = explain("10.1.5.5", "5021", &["netsh-ipsec.cmd"]);
    assert_eq!(v["action"], "block");
    assert_eq!(v["rule"]["dialect"], "netsh-ipsec");
}

#[test]
fn layers_combine_a_block_anywhere_wins() {
    // IPsec passes the subnet; the naive firewall blocks it: packets must pass both.
    let (_, v) = explain("10.1.1.5", "135", &["kb908472.cmd", "firewall-naive.cmd"]);
    assert_eq!(v["action"], "block");
    assert_eq!(v["rule"]["dialect"], "netsh-advfirewall");
}

#[test]
fn tables_and_exit_codes() {
    let (code, out) = rpcaudit(&["lint"], &["kb908472.cmd"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "no findings");
    let (code, out) = rpcaudit(&["lint"], &["kb908472-dash-cp1252.cmd"]);
    assert_eq!(code, 1);
    assert!(out.contains("typographic-dash") && out.contains("severity"));
    let (code, out) = rpcaudit(
        &["explain", "--src", "10.1.1.5", "--port", "135"],
        &["kb908472.cmd"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("pass") && out.contains("Allow Inbound TCP Port 135 from 10.1.1.0 Rule"));
    let (code, out) = rpcaudit(&["range"], &["rpc-internet.reg"]);
    assert_eq!(code, 0);
    assert!(out.contains("5001-5021"));
    // A file that cannot be read: exit 2 and nothing on stdout.
    let (code, out) = rpcaudit(&["lint"], &["does-not-exist.cmd"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    let (code, _) = rpcaudit(
        &["explain", "--src", "not-an-ip", "--port", "135"],
        &["kb908472.cmd"],
    );
    assert_eq!(code, 2);
}

/// The KB908472 fence as a Windows Firewall rule store holds it (UTF-16LE `reg export`, CRLF,
/// built-in rules mixed in) decides as the PowerShell script that built it.
#[test]
fn firewall_store_exports_decide_as_the_script() {
    for store in [
        "firewall-store-local.reg",
        "firewall-store-gpo.reg",
        "kb908472-gpo-Registry.pol",
    ] {
        for src in ["10.1.1.5", "10.1.1.254", "10.1.0.9", "10.9.9.9"] {
            for port in ["135", "5001", "5011", "5021"] {
                let args = ["explain", "--src", src, "--port", port];
                let (_, from_store) = json(&args, &[store]);
                let (_, from_script) = json(&args, &["firewall-correct.ps1"]);
                assert_eq!(
                    from_store["action"], from_script["action"],
                    "{store} {src}:{port}"
                );
                assert_eq!(from_store["rule"]["dialect"], "firewall-store", "{store}");
            }
        }
    }
    // Inactive built-in rules (RemoteTask-RPCSS-In-TCP allows RPC-EPMap) are not in force;
    // active ones are, under their indirect names.
    // The built-in RDP rule (Svc=termservice on 3389) passes only for that service's sockets.
    let (_, v) = explain("10.9.9.9", "3389", &["firewall-store-local.reg"]);
    assert_eq!(v["action"], "conditional");
    assert_eq!(v["rule"]["name"], "@FirewallAPI.dll,-28775");
    let condition = v["condition"].as_str().unwrap_or_default();
    assert!(condition.contains("service termservice"), "{v}");
    // The store is clean but for two fields not modelled: CoreNet-DHCP-In's remote port
    // (DHCP answers come from port 67 only) and CoreNet-IPHTTPS-In's port keyword; with the
    // range it lints as the script does.
    let (code, v) = json(&["lint"], &["firewall-store-local.reg", "rpc-internet.reg"]);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{v}");
    assert!(findings.iter().all(|f| f["code"] == "unknown-field"), "{v}");
    let messages: Vec<&str> = findings
        .iter()
        .map(|f| f["message"].as_str().unwrap_or_default())
        .collect();
    assert!(
        messages[0].contains("CoreNet-DHCP-In: field 'RPort=67'"),
        "{v}"
    );
    assert!(messages[1].contains("LPort2_10=IPHTTPSIn"), "{v}");
    assert_eq!(code, 0);
    let args = [
        "explain", "--src", "10.9.9.9", "--port", "68", "--proto", "udp",
    ];
    let (_, v) = json(&args, &["firewall-store-local.reg"]);
    assert_eq!(v["action"], "conditional", "{v}");
    assert!(
        v["condition"]
            .as_str()
            .unwrap_or_default()
            .contains("RPort=67"),
        "{v}"
    );
    // In the GPO export, AllowLocalPolicyMerge=0 takes the local allow for 135 out of force.
    let (code, v) = json(&["lint"], &["firewall-store-gpo.reg"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["findings"][0]["code"], "local-rules-ignored", "{v}");
    let (_, v) = explain("10.9.9.9", "135", &["firewall-store-gpo.reg"]);
    assert_eq!(v["action"], "block");
}

/// Program- and service-scoped store rules and fields not modelled, decided as Windows does
/// (issue 28 items 4 and 5): a rule scoped to a program covers only that program's sockets, so
/// it does not pass TCP 135 (RpcSs's) and makes a port whose owner rpcaudit does not know
/// `conditional`, never a plain pass; a field not modelled makes the rule conditional.
#[test]
fn scoped_and_unmodelled_store_rules_are_conditional() {
    let scoped = "firewall-store-app-scoped.reg";
    // The app-only rule with no port (ProximityUxHost) does not pass the endpoint mapper.
    let (_, v) = explain("8.8.8.8", "135", &[scoped]);
    assert_eq!(v["action"], "none", "{v}");
    // A dynamic port, whose owner is not known: conditional on the program, named.
    let (_, v) = explain("8.8.8.8", "49152", &[scoped]);
    assert_eq!(v["action"], "conditional", "{v}");
    assert_eq!(
        v["condition"],
        r"only for program %SystemRoot%\system32\proximityuxhost.exe"
    );
    // A rule for RpcSs covers 135 plainly: pass, citing it, with no condition.
    let (_, v) = explain("8.8.8.8", "135", &[scoped, "firewall-store-rpcss.reg"]);
    assert_eq!(v["action"], "pass", "{v}");
    assert_eq!(v["rule"]["name"], "RPC Endpoint Mapper (RpcSs)", "{v}");
    assert!(v.get("condition").is_none(), "{v}");
    // RA42=IntrAnet is not modelled: conditional on it, cited, with the unknown-field warning.
    let (_, v) = explain("8.8.8.8", "593", &[scoped]);
    assert_eq!(v["action"], "conditional", "{v}");
    assert_eq!(v["rule"]["name"], "RPC over HTTP from the intranet", "{v}");
    let condition = v["condition"].as_str().unwrap_or_default();
    assert!(
        condition.starts_with("depends on RA42=IntrAnet, not modelled"),
        "{v}"
    );
    let (_, v) = json(&["lint"], &[scoped]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "unknown-field"
                && f["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("RA42=IntrAnet")),
        "{v}"
    );
    // The RDP rule: conditional for termservice, and the table says so.
    let (_, v) = explain("8.8.8.8", "3389", &[scoped]);
    assert_eq!(v["action"], "conditional", "{v}");
    assert_eq!(v["rule"]["name"], "@FirewallAPI.dll,-28775", "{v}");
    let (code, out) = rpcaudit(
        &["explain", "--src", "8.8.8.8", "--port", "3389"],
        &[scoped],
    );
    assert_eq!(code, 0);
    assert!(out.contains("conditional (only for program"), "{out}");
    assert!(out.contains("service termservice"), "{out}");
}

/// A GPO's Registry.pol (binary PReg) is read, not refused as binary; its RPC restrictions are
/// reported, and a Registry.pol with nothing rpcaudit reads is refused (exit 2).
#[test]
fn registry_pol_is_read() {
    let (code, v) = json(
        &["lint"],
        &["kb908472-gpo-Registry.pol", "rpc-internet.reg"],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        support::finding_codes(&v),
        ["rpc-restricted", "rpc-restricted"],
        "{v}"
    );
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("RestrictRemoteClients=1")
    );
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("Registry.pol");
    std::fs::write(&empty, b"PReg\x01\0\0\0").unwrap();
    let (code, _, err) = policy_on(&["lint"], &[&empty]);
    assert_eq!(code, 2);
    assert!(
        err.contains("Registry.pol") && err.contains("sets nothing rpcaudit reads"),
        "{err}"
    );
}

/// The IPsec policy store as `reg export` writes it (UTF-16LE, CRLF, the built-in "Server
/// (Request Security)" policy beside KB908472's, blobs per MS-GPIPSEC) decides every
/// connection as the ipseccmd script that built it, names the assigned policy in `lint`, and
/// shows where each decision comes from.
#[test]
fn ipsec_store_export_decides_as_the_script() {
    let store = "ipsec-store-kb908472.reg";
    let bytes = std::fs::read(fixture(store)).unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE with a BOM");
    assert!(bytes.windows(4).any(|w| w == [b'\r', 0, b'\n', 0]), "CRLF");
    for src in [
        "10.1.1.5",
        "10.1.1.254",
        "10.1.0.9",
        "10.9.9.9",
        "192.0.2.1",
    ] {
        for port in ["135", "5001", "5011", "5021", "445", "5022"] {
            let args = ["explain", "--src", src, "--port", port];
            let (code, from_store) = json(&args, &[store]);
            assert_eq!(code, 0);
            let (_, from_script) = json(&args, &["kb908472.cmd"]);
            assert_eq!(from_store["action"], from_script["action"], "{src}:{port}");
            assert_eq!(
                from_store["rule"]["name"], from_script["rule"]["name"],
                "{src}:{port}"
            );
            assert_eq!(
                from_store["rule"]["filter"], from_script["rule"]["filter"],
                "{src}:{port}"
            );
            if from_store["action"] != "none" {
                assert_eq!(from_store["rule"]["dialect"], "ipsec-store");
                assert_eq!(from_store["rule"]["policy"], "Block RPC Ports");
            }
        }
    }
    let (code, v) = json(&["lint", "--range", "5001-5021"], &[store]);
    assert_eq!(code, 0, "{v}");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{v}");
    assert_eq!(findings[0]["code"], "policy-assigned");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"Block RPC Ports\" (44 rules)"),
        "{v}"
    );
    assert_eq!(findings[0]["line"], 4, "the ActivePolicy line");
}

/// A store whose ActivePolicy is gone assigns nothing: policy-unassigned, exit 1; a store
/// with a broken blob is a parse error naming the file, the line and the object.
#[test]
fn ipsec_store_without_assignment_or_with_a_broken_blob() {
    let text = String::from_utf16(
        &std::fs::read(fixture("ipsec-store-kb908472.reg")).unwrap()[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, t: &str| {
        let p = dir.path().join(name);
        let mut b = vec![0xFF, 0xFE];
        for u in t.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(&p, b).unwrap();
        p
    };
    let unassigned: String = text
        .split("\r\n")
        .filter(|l| !l.starts_with("\"ActivePolicy\""))
        .collect::<Vec<_>>()
        .join("\r\n");
    let p = write("unassigned.reg", &unassigned);
    let (code, out, _) = policy_on(&["lint", "--json"], &[&p]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let codes = support::finding_codes(&v);
    assert!(codes.iter().any(|c| c == "policy-unassigned"), "{v}");
    let at = text.find("\"ipsecData\"=hex:b5,20,dc,80").unwrap();
    let line = text[..at].matches("\r\n").count() + 1;
    let broken = format!("{}\"ipsecData\"=hex:b5,20{}", &text[..at], &text[at + 30..]);
    let p = write("broken.reg", &broken);
    let (code, out, _) = policy_on(&["lint", "--json"], &[&p]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let e = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "parse-error")
        .unwrap_or_else(|| panic!("{v}"))
        .clone();
    assert_eq!(code, 1);
    assert_eq!(e["line"], line, "{e}");
    assert!(e["file"].as_str().unwrap().ends_with("broken.reg"));
    assert!(
        e["message"].as_str().unwrap().starts_with("ipsecFilter{"),
        "{e}"
    );
}

/// `netsh advfirewall firewall show rule name=all verbose` (UTF-16LE, as PowerShell's `>`
/// writes it) and `Get-NetFirewallRule` JSON (numbers and strings for enums) of the same
/// host decide as the PowerShell script that built the fence; built-in rules come along
/// (an inactive RPC-EPMap allow is not in force).
#[test]
fn firewall_listings_decide_as_the_script() {
    for listing in ["firewall-listing-netsh.txt", "firewall-listing.json"] {
        for src in ["10.1.1.5", "10.1.0.9", "10.9.9.9"] {
            for port in ["135", "5001", "5021", "3389"] {
                let args = ["explain", "--src", src, "--port", port];
                let (code, from_listing) = json(&args, &[listing]);
                assert_eq!(code, 0, "{listing}");
                let (_, from_script) = json(&args, &["firewall-correct.ps1"]);
                if port == "3389" {
                    // The netsh listing names the RDP rule's program and service, which scope
                    // it as a store's App=/Svc= do; the JSON command exports neither.
                    let want = if listing.ends_with(".txt") {
                        "conditional"
                    } else {
                        "pass"
                    };
                    assert_eq!(from_listing["action"], want, "{listing} {from_listing}");
                    continue;
                }
                assert_eq!(
                    from_listing["action"], from_script["action"],
                    "{listing} {src}:{port}"
                );
                assert_eq!(from_listing["rule"]["name"], from_script["rule"]["name"]);
                assert_eq!(from_listing["rule"]["dialect"], "firewall-listing");
            }
        }
        let (code, v) = json(&["lint", "--range", "5001-5021"], &[listing]);
        assert_eq!(code, 0, "{listing} {v}");
    }
    // A localised listing is refused (exit 2), naming the language and asking for a .reg.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("regeln.txt");
    std::fs::write(
        &p,
        "\r\nRegelname:                            Block RPC\r\n----\r\nAktiviert:                            Ja\r\n",
    )
    .unwrap();
    let (code, _, err) = policy_on(&["lint"], &[&p]);
    assert_eq!(code, 2);
    assert!(
        err.contains("German") && err.contains("reg export"),
        "{err}"
    );
}

fn diff(script: &str, store: &std::path::Path) -> (i32, Value) {
    let out = Command::cargo_bin("rpcaudit")
        .unwrap()
        .args(["policy", "diff", "--json"])
        .arg(fixture(script))
        .arg("--store")
        .arg(store)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

/// `policy diff SCRIPT --store STORE`: the store built from the script agrees (exit 0); a
/// store whose allow for 5010 became one for a wider subnet, that lost the block for 5021
/// and that holds a rule the script does not know disagrees (exit 1), with a finding for each
/// kind naming both sides.
#[test]
fn policy_diff_finds_each_kind_of_disagreement() {
    let (code, v) = diff("kb908472.cmd", &fixture("ipsec-store-kb908472.reg"));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["findings"], serde_json::json!([]));
    let (code, v) = diff("firewall-correct.ps1", &fixture("firewall-listing.json"));
    assert_eq!(code, 0, "built-in rules are warnings: {v}");
    assert_eq!(v["findings"][0]["severity"], "warning");
    // A host whose store drifted from the script.
    let json = std::fs::read_to_string(fixture("firewall-listing.json")).unwrap();
    let drifted = json
        .replace("\"10.1.1.0/255.255.255.0\"", "\"10.1.0.0/255.255.0.0\"")
        .replace(
            "\"Block RPC 135,5001-5021 outside 10.1.1.0\"",
            "\"Block RPC outside 10.1.1.0 (changed)\"",
        );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("host.json");
    std::fs::write(&p, drifted).unwrap();
    let (code, v) = diff("firewall-correct.ps1", &p);
    assert_eq!(code, 1, "{v}");
    let messages: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|f| assert_eq!(f["code"], "store-disagrees"))
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    let has = |s: &str| messages.iter().any(|m| m.contains(s));
    assert!(
        has("rule \"Block RPC 135,5001-5021 outside 10.1.1.0\" of the script is not in force"),
        "{messages:#?}"
    );
    assert!(
        has(
            "rule \"Block RPC outside 10.1.1.0 (changed)\" is in force in the store but not in the script"
        ),
        "{messages:#?}"
    );
    assert!(
        has("rule \"Allow RPC 135,5001-5021 from 10.1.1.0\" differs"),
        "{messages:#?}"
    );
    // A decision: 10.1.0.x is blocked by the script, let through by the widened allow (the
    // renamed block still blocks it, so no decision changes there: block beats allow).
    assert!(
        !messages
            .iter()
            .any(|m| m.contains("→") && m.contains("10.1.0.")),
        "{messages:#?}"
    );
    // The IPsec store without its assignment: every block of the script is missing there,
    // and the connections the script blocks the store lets through.
    let text = std::fs::read(fixture("ipsec-store-kb908472.reg")).unwrap();
    let units: Vec<u16> = text[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let unassigned: String = String::from_utf16(&units)
        .unwrap()
        .split("\r\n")
        .filter(|l| !l.starts_with("\"ActivePolicy\""))
        .collect::<Vec<_>>()
        .join("\r\n");
    let p = dir.path().join("unassigned.reg");
    std::fs::write(&p, unassigned).unwrap();
    let (code, v) = diff("kb908472.cmd", &p);
    assert_eq!(code, 1);
    let decision = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("→ 135/tcp"))
        .unwrap_or_else(|| panic!("{v}"));
    let m = decision["message"].as_str().unwrap();
    assert!(
        m.contains("the script decides block (ipseccmd")
            && m.contains("the store none (no rule matches)"),
        "{m}"
    );
    assert!(decision["file"].as_str().unwrap().ends_with("kb908472.cmd"));
}

/// Built-in rule groups enabled by name (issue 28 item 9), through the real binary: the
/// group's rules decide with their real scope (the `remoteip=` of the command narrowing them),
/// the endpoint mapper by the group's RPCSS rule, a dynamic port by the group's service rule
/// once `explain` is told the port's owner (`--service`/`--program`), and not at all for
/// another program's port; a group rpcaudit does not know is said and conditional.
#[test]
fn built_in_rule_groups_decide_with_their_rules() {
    let groups = "firewall-groups.cmd";
    let (_, v) = explain("10.1.1.5", "135", &[groups]);
    assert_eq!(v["action"], "pass", "{v}");
    assert_eq!(
        v["rule"]["name"], "Remote Event Log Management (RPC-EPMAP)",
        "{v}"
    );
    assert_eq!(v["rule"]["line"], 3, "{v}");
    let (_, v) = explain("10.9.9.9", "135", &[groups]);
    assert_eq!(v["action"], "none", "{v}");
    // A dynamic port: conditional on the service while its owner is not known ...
    let (_, v) = explain("10.1.1.5", "49152", &[groups]);
    assert_eq!(v["action"], "conditional", "{v}");
    assert!(
        v["condition"]
            .as_str()
            .unwrap_or_default()
            .contains("service Eventlog"),
        "{v}"
    );
    // ... decided when the owner is named: EventLog in svchost passes, another program not.
    let at = |extra: &[&str]| {
        let mut args = vec!["explain", "--src", "10.1.1.5", "--port", "49152"];
        args.extend_from_slice(extra);
        json(&args, &[groups]).1
    };
    let v = at(&[
        "--service",
        "EventLog",
        "--program",
        r"C:\Windows\system32\svchost.exe",
    ]);
    assert_eq!(v["action"], "pass", "{v}");
    assert_eq!(
        v["rule"]["name"], "Remote Event Log Management (RPC)",
        "{v}"
    );
    let v = at(&["--program", r"C:\tools\agent.exe"]);
    assert_eq!(v["action"], "none", "{v}");
    // A group not in the table: said, and the ports it could open are conditional; the COM+
    // rule enabled by its own name opens 135 for RpcSs.
    let unknown = "firewall-groups-unknown.ps1";
    let (_, v) = json(&["lint"], &[unknown]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "unknown-field"
                && f["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("'Contoso Backup Agent'")),
        "{v}"
    );
    let (_, v) = explain("10.9.9.9", "49152", &[unknown]);
    assert_eq!(v["action"], "conditional", "{v}");
    let (_, v) = explain("10.9.9.9", "135", &[unknown]);
    assert_eq!(v["action"], "pass", "{v}");
    assert_eq!(v["rule"]["name"], "COM+ Network Access (DCOM-In)", "{v}");
}

/// Store fields that were ignored (issue 28): `LA4` decides where the destination is known
/// (`--dst`) and is conditional where it is not; `RPort`, `IF` and `IFType` make the rule
/// conditional; none widens it.
#[test]
fn local_address_remote_port_and_interface_fields_never_widen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.reg");
    let key = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy";
    let text = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[{key}\\DomainProfile]\r\n\"EnableFirewall\"=dword:00000001\r\n\"DefaultInboundAction\"=dword:00000001\r\n\r\n[{key}\\StandardProfile]\r\n\"EnableFirewall\"=dword:00000001\r\n\"DefaultInboundAction\"=dword:00000001\r\n\r\n[{key}\\PublicProfile]\r\n\"EnableFirewall\"=dword:00000001\r\n\"DefaultInboundAction\"=dword:00000001\r\n\r\n[{key}\\FirewallRules]\r\n\
         \"la\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|LA4=10.0.0.5|Name=EPM on one address|\"\r\n\
         \"rport\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5000|RPort=1024-65535|Name=Remote port|\"\r\n\
         \"iftype\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5001|IFType=Wireless|Name=Wireless only|\"\r\n"
    );
    std::fs::write(&path, text).unwrap();
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.push("--json");
        let (_, out, err) = policy_on(&a, &[path.as_path()]);
        serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"))
    };
    let v = run(&["explain", "--src", "10.9.9.9", "--port", "135"]);
    assert_eq!(v["action"], "conditional", "{v}");
    assert_eq!(v["condition"], "only for local address 10.0.0.5", "{v}");
    let v = run(&[
        "explain", "--src", "10.9.9.9", "--port", "135", "--dst", "10.0.0.5",
    ]);
    assert_eq!(v["action"], "pass", "{v}");
    let v = run(&[
        "explain", "--src", "10.9.9.9", "--port", "135", "--dst", "10.0.0.6",
    ]);
    assert_eq!(v["action"], "block", "{v}");
    for (port, field) in [("5000", "RPort=1024-65535"), ("5001", "IFType=Wireless")] {
        let v = run(&["explain", "--src", "10.9.9.9", "--port", port]);
        assert_eq!(v["action"], "conditional", "{port}: {v}");
        assert!(
            v["condition"].as_str().unwrap_or_default().contains(field),
            "{port}: {v}"
        );
    }
}
