//! ipseccmd/ipsecpol command lines: switches, filters, actions, for loops and variables.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rpcaudit::policy::{self, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        let _ = policy::ipsec::parse_filter(line);
    }
    let script = format!("set IPSECTOOL=ipseccmd.exe\r\nipseccmd.exe {text}\r\n");
    let pf = policy::parse_text("fuzz.cmd", script.as_bytes());
    let _ = policy::build(vec![pf], &LoadOptions::default());
});
