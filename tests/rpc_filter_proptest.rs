//! Issue 27 item 4: arbitrary text as the interfaces and allowed sources of the `netsh rpc
//! filter` fix script (`audit::remedy::rpc_filter::script`). The script is either refused or
//! every line is a comment or one command whose words, split as cmd.exe and the C runtime
//! split them (`support::remedy_models`), are exactly the dialect's vocabulary and values that
//! read back as the UUIDs and addresses given; a well-formed UUID is always written, and one
//! with any character added never is; the script reads back through the reader to the
//! intended decisions.

mod support;

use proptest::prelude::*;
use rpcaudit::audit::remedy::rpc_filter::script;
use rpcaudit::policy::netsh_rpc;
use rpcaudit::policy::rpc_filter::{Call, RpcVerdict};
use std::net::IpAddr;
use support::remedy_models::{argv, cmd_line};
use uuid::Uuid;

/// Each line of `text`: a `#` comment, or one command of the dialect. Returns the UUIDs and
/// addresses its `data=` values name.
fn check_lines(text: &str) -> Result<(Vec<Uuid>, Vec<IpAddr>), String> {
    if !text.is_ascii() {
        return Err("not ASCII".into());
    }
    let (mut uuids, mut addrs) = (Vec::new(), Vec::new());
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if let Some(c) = line.chars().find(|c| c.is_control()) {
            return Err(format!("control U+{:04X} in {line:?}", u32::from(c)));
        }
        if line.starts_with("# ") {
            continue;
        }
        let commands = cmd_line(line)?;
        if commands.len() != 1 {
            return Err(format!("{line:?} is {} commands", commands.len()));
        }
        let words = argv(line);
        if words != commands[0] {
            return Err(format!("{line:?} splits differently"));
        }
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["rpc"] | ["filter"] | ["quit"] | ["add", "filter"] => {}
            ["add", "rule", "layer=um", a]
                if ["actiontype=permit", "actiontype=block"].contains(a) => {}
            ["add", "condition", field, "matchtype=equal", data] => {
                let v = data
                    .strip_prefix("data=")
                    .ok_or_else(|| format!("{line:?}: no data="))?;
                match *field {
                    "field=if_uuid" => {
                        uuids.push(Uuid::parse_str(v).map_err(|e| format!("{line:?}: {e}"))?)
                    }
                    "field=remote_addr_v4" | "field=remote_addr_v6" => {
                        addrs.push(v.parse::<IpAddr>().map_err(|e| format!("{line:?}: {e}"))?)
                    }
                    _ => return Err(format!("{line:?}: field")),
                }
            }
            _ => return Err(format!("{line:?} is not a command of the dialect")),
        }
    }
    Ok((uuids, addrs))
}

fn uuid_text() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|n| Uuid::from_u128(n).hyphenated().to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_as_an_interface_is_written_as_that_uuid_or_refused(s in "\\PC*") {
        match script(&[&s], &[]) {
            Err(_) => {}
            Ok(text) => {
                let (uuids, addrs) = check_lines(&text).map_err(TestCaseError::fail)?;
                let want = Uuid::parse_str(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(s.len(), 36);
                prop_assert!(uuids.iter().all(|u| *u == want));
                prop_assert!(addrs.is_empty());
            }
        }
    }

    #[test]
    fn a_uuid_with_any_character_added_is_refused(
        u in uuid_text(), at in 0usize..37, c in any::<char>()
    ) {
        let mut s: Vec<char> = u.chars().collect();
        s.insert(at.min(s.len()), c);
        let s: String = s.into_iter().collect();
        prop_assert!(script(&[&s], &[]).is_err(), "{:?} was written", s);
    }

    #[test]
    fn well_formed_values_are_written_and_read_back_as_meant(
        ifaces in proptest::collection::vec(uuid_text(), 1..4),
        hosts in proptest::collection::vec(any::<u32>(), 0..4),
        upper in any::<bool>(),
        junk in "\\PC*",
    ) {
        let ifaces: Vec<String> = ifaces
            .into_iter()
            .map(|u| if upper { u.to_ascii_uppercase() } else { u })
            .collect();
        let hosts: Vec<String> = hosts
            .iter()
            .map(|h| std::net::Ipv4Addr::from(*h).to_string())
            .filter(|h| h != "192.0.2.1")
            .collect();
        let i: Vec<&str> = ifaces.iter().map(String::as_str).collect();
        let h: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let text = script(&i, &h).map_err(|r| TestCaseError::fail(r.to_string()))?;
        let (uuids, addrs) = check_lines(&text).map_err(TestCaseError::fail)?;
        for u in &ifaces {
            prop_assert!(uuids.contains(&Uuid::parse_str(u).unwrap()));
        }
        for a in &hosts {
            prop_assert!(addrs.contains(&a.parse().unwrap()));
        }
        let filters = netsh_rpc::parse("fix.txt", text.as_bytes())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for u in &ifaces {
            let u = Uuid::parse_str(u).unwrap();
            let from = |a: &str| filters.decide(&Call::anonymous(u, a.parse().unwrap(), None, 65535)).verdict;
            prop_assert_eq!(from("192.0.2.1"), RpcVerdict::Block);
            for a in &hosts {
                prop_assert_eq!(from(a), RpcVerdict::Allow);
            }
        }
        // Junk beside them among the allowed sources: refused, or it was an address.
        let mut with_junk = h.clone();
        with_junk.push(&junk);
        if script(&i, &with_junk).is_ok() {
            prop_assert!(junk.parse::<IpAddr>().is_ok() || junk.parse::<ipnet::IpNet>().is_ok(), "{:?}", junk);
        }
    }
}
