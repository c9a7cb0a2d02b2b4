//! Both precedence models, written in the dialects administrators use.
//!
//! - IPsec: "The Cable Guy - February 2005: IPsec Filter Ordering" (Microsoft TechNet,
//!   learn.microsoft.com/previous-versions/bb877982): Windows orders the filters of the assigned
//!   policy from most to least specific; the order of the rules in the script does not matter.
//!   KB908472 step 3 relies on it ("the more specific PASS filter wins").
//! - Windows Firewall: [MS-FASP] 2.2.34 FW_RULE_ACTION (learn.microsoft.com/openspecs/
//!   windows_protocols/ms-fasp/702e3c23-c9d8-43db-8380-b4c670dd7f7d): "Allow-bypass rules take
//!   precedence over block rules, and block rules take precedence over allow rules."

use rpcaudit::policy::{self, Action, LoadOptions, Proto, Query};
use std::net::IpAddr;

fn load(name: &str, text: &str) -> policy::LoadedPolicy {
    policy::build(
        vec![policy::parse_text(name, text.as_bytes())],
        &LoadOptions::default(),
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn ipsec_most_specific_filter_wins_whatever_the_order() {
    let pass_first = "ipseccmd -w REG -p P -r \"Allow 135 from 10.1.1.0\" -f 10.1.1.0/255.255.255.0=0:135:TCP -n PASS\r\n\
                      ipseccmd -w REG -p P -r \"Block 135\" -f *=0:135:TCP -n BLOCK\r\n\
                      ipseccmd -w REG -p P -r \"Block 135 from 10.1.1.66\" -f 10.1.1.66=0:135:TCP -n BLOCK -x\r\n";
    let lines: Vec<&str> = pass_first.split_inclusive("\r\n").collect();
    let block_first = format!("{}{}{}", lines[1], lines[0], lines[2]);
    for text in [pass_first.to_string(), block_first] {
        let lp = load("o.cmd", &text);
        let d = lp.policy.decide(ip("10.1.1.5"), 135, Proto::Tcp);
        assert_eq!(
            (d.action, d.rule.unwrap().name.as_str()),
            (Action::Pass, "Allow 135 from 10.1.1.0")
        );
        // A single host (32 bits) is more specific than the /24 pass.
        let d = lp.policy.decide(ip("10.1.1.66"), 135, Proto::Tcp);
        assert_eq!(
            (d.action, d.rule.unwrap().name.as_str()),
            (Action::Block, "Block 135 from 10.1.1.66")
        );
        let d = lp.policy.decide(ip("10.2.0.1"), 135, Proto::Tcp);
        assert_eq!(
            (d.action, d.rule.unwrap().name.as_str()),
            (Action::Block, "Block 135")
        );
    }
}

#[test]
fn ipsec_named_port_and_protocol_are_more_specific_than_any() {
    let text = "ipseccmd -w REG -p P -r \"Block all from 10.1.1.0\" -f 10.1.1.0/24=0 -n BLOCK\r\n\
                ipseccmd -w REG -p P -r \"Allow 135 from 10.1.1.0\" -f 10.1.1.0/24=0:135:TCP -n PASS -x\r\n";
    let lp = load("p.cmd", text);
    assert_eq!(
        lp.policy.decide(ip("10.1.1.5"), 135, Proto::Tcp).action,
        Action::Pass
    );
    assert_eq!(
        lp.policy.decide(ip("10.1.1.5"), 445, Proto::Tcp).action,
        Action::Block
    );
}

#[test]
fn firewall_block_beats_allow_whatever_the_specificity_or_order() {
    let text = "New-NetFirewallRule -DisplayName 'Allow 135 from one host' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135 -RemoteAddress 10.1.1.5\n\
                New-NetFirewallRule -DisplayName 'Block 135' -Direction Inbound -Action Block -Protocol TCP -LocalPort 135 -RemoteAddress Any\n\
                New-NetFirewallRule -DisplayName 'Bypass 135 for 10.1.1.0' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135 -RemoteAddress 10.1.1.0/24 -Authentication Required -OverrideBlockRules $true\n";
    let lp = load("f.ps1", text);
    let d = lp.policy.decide(ip("10.1.1.5"), 135, Proto::Tcp);
    assert_eq!(
        (d.action, d.rule.unwrap().name.as_str()),
        (Action::Block, "Block 135")
    );
    // Only authenticated traffic meets the allow-bypass rule, and then it overrides the block.
    let d = lp.policy.decide_query(Query {
        src: ip("10.1.1.5"),
        port: 135,
        proto: Proto::Tcp,
        authenticated: true,
    });
    assert_eq!(
        (d.action, d.rule.unwrap().name.as_str()),
        (Action::Pass, "Bypass 135 for 10.1.1.0")
    );
}

#[test]
fn disabled_and_outbound_firewall_rules_do_not_count() {
    let text = "netsh advfirewall firewall add rule name=\"Block 135\" dir=in action=block protocol=TCP localport=135 enable=no\n\
                netsh advfirewall firewall add rule name=\"Block 135 out\" dir=out action=block protocol=TCP localport=135\n\
                netsh advfirewall firewall add rule name=\"Allow 135\" dir=in action=allow protocol=TCP localport=135\n";
    let lp = load("d.cmd", text);
    let d = lp.policy.decide(ip("10.1.1.5"), 135, Proto::Tcp);
    assert_eq!(
        (d.action, d.rule.unwrap().name.as_str()),
        (Action::Pass, "Allow 135")
    );
}
