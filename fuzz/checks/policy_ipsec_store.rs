//! The IPsec policy store: `ipsecData` blobs decoded by `policy::ipsec_blob`, and whole
//! `.reg` exports of the store through `policy::parse_text`, then `build` and a decision.
//!
//! Input: byte 0 picks what the rest is: 0 a filter blob (legacy and version-2 filters), 1 a
//! negotiation-policy blob (both decode or fail with an error, never panic, and a decoded
//! blob's filters fit in it; the filters in force are at most those decoded), 2 a
//! whole export (UTF-16LE or not); anything else puts the bytes as the `ipsecData` of the
//! filter list a rule of an assigned policy uses, so the decoder is reached through the
//! store reader, and a blob that does not decode is a parse error naming the filter list.
//!
//! Shared by `fuzz_targets/policy_ipsec_store.rs` (libFuzzer) and `tests/fuzz_seeds.rs`.
use rpcaudit::finding::Code;
use rpcaudit::policy::{self, LoadOptions, ipsec_blob, ipsec_filters};

const LOCAL: &str = r"SOFTWARE\\Policies\\Microsoft\\Windows\\IPSec\\Policy\\Local";

fn export_with(blob: &[u8]) -> String {
    let hex: Vec<String> = blob.iter().map(|b| format!("{b:02x}")).collect();
    let key = LOCAL.replace("\\\\", "\\");
    format!(
        "Windows Registry Editor Version 5.00\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\{key}]\r\n\"ActivePolicy\"=\"{LOCAL}\\\\ipsecPolicy{{1}}\"\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\{key}\\ipsecPolicy{{1}}]\r\n\"ipsecName\"=\"P\"\r\n\
         \"ipsecNFAReference\"=\"{LOCAL}\\\\ipsecNFA{{2}}\"\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\{key}\\ipsecNFA{{2}}]\r\n\"ipsecName\"=\"R\"\r\n\
         \"ipsecFilterReference\"=\"{LOCAL}\\\\ipsecFilter{{3}}\"\r\n\
         \"ipsecNegotiationPolicyReference\"=\"{LOCAL}\\\\ipsecNegotiationPolicy{{4}}\"\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\{key}\\ipsecNegotiationPolicy{{4}}]\r\n\
         \"ipsecNegotiationPolicyAction\"=\"{{3f91a819-7647-11d1-864d-d46a00000000}}\"\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\{key}\\ipsecFilter{{3}}]\r\n\"ipsecData\"=hex:{}\r\n",
        hex.join(",")
    )
}

fn decide(pf: policy::ParsedFile) {
    let lp = policy::build(vec![pf], &LoadOptions::default());
    let outsider = std::net::Ipv4Addr::new(10, 9, 9, 9).into();
    let _ = lp.policy.decide(outsider, 135, policy::Proto::Tcp);
}

/// The property, for one input: panics when it does not hold.
pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    match sel {
        0 => {
            if let Ok(list) = ipsec_filters::decode(rest) {
                // Each legacy filter takes at least 64 bytes of the blob, each V2 filter 136.
                assert!(list.legacy.len() * 64 + list.v2.len() * 136 <= rest.len());
                assert!(list.in_force().len() <= list.legacy.len() + list.v2.len());
                assert!(list.in_force().len() >= list.v2.len());
            }
        }
        1 => {
            if let Ok(offers) = ipsec_blob::decode_offers(rest) {
                assert!(offers.len() * 56 <= rest.len());
                assert!(offers.iter().all(|o| o.transforms.len() <= 3));
            }
        }
        2 => decide(policy::parse_text("ipsec.reg", rest)),
        _ => {
            let pf = policy::parse_text("ipsec.reg", export_with(rest).as_bytes());
            let decoded = ipsec_filters::decode(rest).is_ok();
            let named = pf.findings.iter().any(|f| {
                f.code == Code::ParseError
                    && f.file.as_deref() == Some("ipsec.reg")
                    && f.line.is_some()
                    && f.message.contains("ipsecFilter{3}")
            });
            assert_eq!(
                !decoded, named,
                "a blob that does not decode is a parse error naming the filter list: {:?}",
                pf.findings
            );
            decide(pf);
        }
    }
}
