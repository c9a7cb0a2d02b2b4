//! Windows Firewall listings: `netsh advfirewall firewall show rule name=all verbose` text and
//! `Get-NetFirewallRule` JSON, through `policy::listing` directly and through
//! `policy::parse_text`, then `build` and a decision.
//!
//! Shared by `fuzz_targets/policy_listing.rs` (libFuzzer) and `tests/fuzz_seeds.rs`, which replays
//! `fuzz/seeds/policy_listing/` and `fuzz/regressions/policy_listing/` in plain `cargo test`.
use rpcaudit::policy::{self, LoadOptions, listing, sink::Sink, text};

/// The first rule of a netsh listing, so that other inputs are read as one.
const NETSH_HEAD: &[u8] = b"\r\nRule Name:                            Fuzz\r\n\
----------------------------------------------------------------------\r\n";
/// An open rule object of a JSON listing, so that other inputs reach its fields.
const JSON_HEAD: &[u8] =
    b"[{\"Name\": \"{1}\", \"DisplayName\": \"Fuzz\", \"Enabled\": 1, \"Direction\": 1, ";

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let bytes = match sel % 3 {
        0 => [NETSH_HEAD, rest].concat(),
        1 => rest.to_vec(),
        _ => [JSON_HEAD, rest].concat(),
    };
    let decoded = text::decode(&bytes);
    if listing::is_json_listing(&decoded.text) {
        json(&decoded.text);
    } else {
        netsh(&decoded.text);
    }
    let pf = policy::parse_text("fuzz.txt", &bytes);
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let outsider = std::net::Ipv4Addr::new(10, 9, 9, 9).into();
    let _ = lp.policy.decide(outsider, 135, policy::Proto::Tcp);
}

/// Every `Rule Name:` line starts one rule, in order, at its own line; nothing else does.
fn netsh(t: &str) {
    let lines = text::logical_lines(t, &[]);
    let mut sink = Sink::new("fuzz.txt");
    let rules = listing::parse_netsh(&mut sink, &lines);
    let heads: Vec<usize> = lines
        .iter()
        .filter(|l| {
            let t = l.text.trim();
            !t.starts_with("---")
                && t.split_once(':')
                    .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("rule name"))
        })
        .map(|l| l.number)
        .collect();
    let starts: Vec<usize> = rules.iter().map(|r| r.line).collect();
    assert_eq!(starts, heads, "one rule per Rule Name line");
}

/// Read exactly when the text is a JSON object or array; at most one rule per object, each
/// on a line of the text.
fn json(t: &str) {
    let mut sink = Sink::new("fuzz.json");
    let read = listing::parse_json(&mut sink, t);
    let parsed: Option<serde_json::Value> =
        serde_json::from_str(t.trim_start_matches('\u{feff}')).ok();
    let objects = match &parsed {
        Some(serde_json::Value::Array(a)) => Some(a.iter().filter(|v| v.is_object()).count()),
        Some(serde_json::Value::Object(_)) => Some(1),
        _ => None,
    };
    match (read, objects) {
        (Ok(rules), Some(n)) => {
            assert!(rules.len() <= n, "{} rules from {n} objects", rules.len());
            let last = t.lines().count().max(1);
            assert!(rules.iter().all(|r| r.line >= 1 && r.line <= last));
        }
        (Err(_), None) => {}
        (Ok(_), None) => panic!("read text that is not a JSON object or array"),
        (Err(e), Some(_)) => panic!("refused a JSON listing: {e}"),
    }
}
