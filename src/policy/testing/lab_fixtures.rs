//! The lab's fence (`fixtures/lab/ipsec-correct.cmd`: TCP 135 and 5001-5021 blocked for
//! everyone, passed for 198.18.1.0/24) as a Windows host or GPO would hold it, in every format
//! the store readers take, written by test-only encoders so that no byte of a fixture is made
//! by hand: the local and Group Policy firewall stores as `reg export` writes them, the GPO's
//! `Registry.pol` ([`crate::policy::store::preg`]'s record writer), the IPsec policy store
//! ([`crate::policy::store::ipsec_store::export`]), and the netsh and `Get-NetFirewallRule` listings. Built-in
//! Windows rules are mixed in where a host has them. Each fixture decides like the script for
//! every connection the script decides (tested here); `tests/lab_audit.rs` checks that it
//! gives the script's `audit` verdicts in the lab. `RPCAUDIT_WRITE_FIXTURES=1 cargo test --lib
//! lab_fixtures` writes the files again. Test-only.

use crate::policy::store::ipsec_store::export as ipsec_export;
use crate::policy::store::preg::tests::{dword, pol, sz};
use std::net::Ipv4Addr;

/// One firewall rule as the store, netsh and PowerShell each show it.
struct Fw {
    /// The rule ID: the value name in the store, `Name` in PowerShell.
    id: &'static str,
    /// `Name=` in the store (indirect for built-in rules).
    name: String,
    /// What the listings show (the indirect name resolved).
    display: String,
    desc: &'static str,
    desc_ref: &'static str,
    group: &'static str,
    group_ref: &'static str,
    active: bool,
    inbound: bool,
    /// 6 TCP, 17 UDP.
    proto: u8,
    /// `Profile=` values; none means all three.
    profiles: &'static [&'static str],
    /// `LPort=` tokens as the store writes them (`RPC-EPMap` and `RPC` included).
    lport: Vec<String>,
    rport: &'static [&'static str],
    /// `RA4=` tokens as each format writes them: (store, netsh, PowerShell).
    ra4: Vec<(String, String, String)>,
    app: &'static str,
    svc: &'static str,
    allow: bool,
}

impl Fw {
    /// An active inbound TCP allow for any port and address, with no names: what the rules
    /// below start from.
    fn active_tcp_in() -> Fw {
        Fw {
            id: "",
            name: String::new(),
            display: String::new(),
            desc: "",
            desc_ref: "",
            group: "",
            group_ref: "",
            active: true,
            inbound: true,
            proto: 6,
            profiles: &[],
            lport: Vec::new(),
            rport: &[],
            ra4: Vec::new(),
            app: "",
            svc: "",
            allow: true,
        }
    }

    /// MS-GPFAS §2.2.2.19: the rule string of a store.
    fn rule_string(&self) -> String {
        let mut s = format!(
            "v2.30|Action={}|Active={}|Dir={}|Protocol={}|",
            if self.allow { "Allow" } else { "Block" },
            if self.active { "TRUE" } else { "FALSE" },
            if self.inbound { "In" } else { "Out" },
            self.proto
        );
        for p in self.profiles {
            s += &format!("Profile={p}|");
        }
        for p in &self.lport {
            s += &format!("LPort={p}|");
        }
        for p in self.rport {
            s += &format!("RPort={p}|");
        }
        for (a, _, _) in &self.ra4 {
            s += &format!("RA4={a}|");
        }
        if self.ra4.iter().any(|(a, _, _)| a == "LocalSubnet") {
            s += "RA6=LocalSubnet|";
        }
        for (k, v) in [("App", self.app), ("Svc", self.svc)] {
            if !v.is_empty() {
                s += &format!("{k}={v}|");
            }
        }
        s += &format!("Name={}|", self.name);
        for (k, v) in [("Desc", self.desc_ref), ("EmbedCtxt", self.group_ref)] {
            if !v.is_empty() {
                s += &format!("{k}={v}|");
            }
        }
        s
    }

    fn proto_name(&self) -> &'static str {
        match self.proto {
            6 => "TCP",
            17 => "UDP",
            _ => "Any",
        }
    }

    /// One rule of `netsh advfirewall firewall show rule name=all verbose`.
    fn netsh(&self) -> String {
        let line = |label: &str, value: &str| -> String {
            if value.is_empty() {
                format!("{label}:\r\n")
            } else {
                format!("{:<38}{value}\r\n", format!("{label}:"))
            }
        };
        let any = |v: String| if v.is_empty() { "Any".to_string() } else { v };
        let ports = |p: &[String]| any(p.join(","));
        let profiles = if self.profiles.is_empty() {
            "Domain,Private,Public".to_string()
        } else {
            self.profiles.join(",")
        };
        let rport: Vec<String> = self.rport.iter().map(|s| s.to_string()).collect();
        let mut s = String::from("\r\n");
        s += &line("Rule Name", &self.display);
        s += &format!("{}\r\n", "-".repeat(70));
        s += &line("Description", self.desc);
        s += &line("Enabled", if self.active { "Yes" } else { "No" });
        s += &line("Direction", if self.inbound { "In" } else { "Out" });
        s += &line("Profiles", &profiles);
        s += &line("Grouping", self.group);
        s += &line("LocalIP", "Any");
        let remote: Vec<String> = self.ra4.iter().map(|(_, n, _)| n.clone()).collect();
        s += &line("RemoteIP", &any(remote.join(",")));
        s += &line("Protocol", self.proto_name());
        s += &line("LocalPort", &ports(&self.lport));
        s += &line("RemotePort", &ports(&rport));
        s += &line("Edge traversal", "No");
        s += &line("Program", &any(self.app.to_string()));
        s += &line("Service", &any(self.svc.to_string()));
        s += &line("InterfaceTypes", "Any");
        s += &line("Security", "NotRequired");
        s += &line("Rule source", "Local Setting");
        s += &line("Action", if self.allow { "Allow" } else { "Block" });
        s
    }

    /// One object of `Get-NetFirewallRule` joined with its filters, as Windows PowerShell 5.1's
    /// `ConvertTo-Json` writes it (enums as numbers, four-space indents, two spaces after the
    /// colon, arrays for lists of more than one item).
    fn json(&self) -> String {
        let q = |s: &str| serde_json::Value::from(s).to_string();
        let list = |items: Vec<String>| -> String {
            match items.as_slice() {
                [] => q("Any"),
                [one] => q(one),
                many => {
                    let pad = " ".repeat(26);
                    let inner: Vec<String> =
                        many.iter().map(|i| format!("{pad}{}", q(i))).collect();
                    format!("[\r\n{}\r\n{}]", inner.join(",\r\n"), " ".repeat(22))
                }
            }
        };
        // PowerShell names the endpoint mapper's keyword without its hyphen.
        let lport: Vec<String> = self
            .lport
            .iter()
            .map(|p| p.replace("RPC-EPMap", "RPCEPMap"))
            .collect();
        let profile: u32 = self
            .profiles
            .iter()
            .map(|p| match *p {
                "Domain" => 1,
                "Private" => 2,
                _ => 4,
            })
            .sum();
        let fields = [
            ("Name", q(self.id)),
            ("DisplayName", q(&self.display)),
            ("Enabled", if self.active { "1" } else { "2" }.to_string()),
            (
                "Direction",
                if self.inbound { "1" } else { "2" }.to_string(),
            ),
            ("Action", if self.allow { "2" } else { "4" }.to_string()),
            ("OverrideBlockRules", "false".to_string()),
            ("Profile", profile.to_string()),
            ("Protocol", q(self.proto_name())),
            ("LocalPort", list(lport)),
            (
                "RemoteAddress",
                list(self.ra4.iter().map(|(_, _, p)| p.clone()).collect()),
            ),
        ];
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("        \"{k}\":  {v}"))
            .collect();
        format!("    {{\r\n{}\r\n    }}", body.join(",\r\n"))
    }
}

/// A remote-address token that is the same in every format.
fn same(s: &str) -> (String, String, String) {
    (s.to_string(), s.to_string(), s.to_string())
}

/// Built-in rules a Windows Server holds in its local store (some inactive, one outbound, one
/// per profile), from the English names and indirect strings of FirewallAPI.dll.
fn built_in() -> Vec<Fw> {
    let base = Fw::active_tcp_in;
    let ports = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        Fw {
            id: "RemoteDesktop-UserMode-In-TCP",
            name: "@FirewallAPI.dll,-28775".into(),
            display: "Remote Desktop - User Mode (TCP-In)".into(),
            desc: "Inbound rule for the Remote Desktop service to allow RDP traffic. [TCP 3389]",
            desc_ref: "@FirewallAPI.dll,-28756",
            group: "Remote Desktop",
            group_ref: "@FirewallAPI.dll,-28752",
            lport: ports(&["3389"]),
            app: r"%SystemRoot%\system32\svchost.exe",
            svc: "termservice",
            ..base()
        },
        Fw {
            id: "RemoteTask-RPCSS-In-TCP",
            name: "@FirewallAPI.dll,-33257".into(),
            display: "Remote Scheduled Tasks Management (RPC-EPMAP)".into(),
            desc: "Inbound rule for the RPCSS service to allow RPC/TCP traffic for the Task Scheduler service.",
            desc_ref: "@FirewallAPI.dll,-33260",
            group: "Remote Scheduled Tasks Management",
            group_ref: "@FirewallAPI.dll,-33252",
            active: false,
            lport: ports(&["RPC-EPMap"]),
            app: r"%SystemRoot%\system32\svchost.exe",
            svc: "RPCSS",
            ..base()
        },
        Fw {
            id: "RemoteTask-In-TCP",
            name: "@FirewallAPI.dll,-33253".into(),
            display: "Remote Scheduled Tasks Management (RPC)".into(),
            desc: "Inbound rule for the Task Scheduler service to be remotely managed via RPC/TCP.",
            desc_ref: "@FirewallAPI.dll,-33256",
            group: "Remote Scheduled Tasks Management",
            group_ref: "@FirewallAPI.dll,-33252",
            active: false,
            lport: ports(&["RPC"]),
            app: r"%SystemRoot%\system32\svchost.exe",
            svc: "schedule",
            ..base()
        },
        Fw {
            id: "CoreNet-DHCP-In",
            name: "@FirewallAPI.dll,-25301".into(),
            display: "Core Networking - Dynamic Host Configuration Protocol (DHCP-In)".into(),
            desc: "Allows DHCP (Dynamic Host Configuration Protocol) messages for stateful auto-configuration.",
            desc_ref: "@FirewallAPI.dll,-25303",
            group: "Core Networking",
            group_ref: "@FirewallAPI.dll,-25000",
            proto: 17,
            lport: ports(&["68"]),
            rport: &["67"],
            app: r"%SystemRoot%\system32\svchost.exe",
            svc: "dhcp",
            ..base()
        },
        Fw {
            id: "CoreNet-DNS-Out-UDP",
            name: "@FirewallAPI.dll,-25405".into(),
            display: "Core Networking - DNS (UDP-Out)".into(),
            desc: "Outbound rule to allow DNS requests.",
            desc_ref: "@FirewallAPI.dll,-25406",
            group: "Core Networking",
            group_ref: "@FirewallAPI.dll,-25000",
            inbound: false,
            proto: 17,
            rport: &["53"],
            app: r"%SystemRoot%\system32\svchost.exe",
            svc: "dnscache",
            ..base()
        },
        Fw {
            id: "FPS-SMB-In-TCP",
            name: "@FirewallAPI.dll,-28502".into(),
            display: "File and Printer Sharing (SMB-In)".into(),
            desc: "Inbound rule for File and Printer Sharing to allow Server Message Block transmission and reception via Named Pipes. [TCP 445]",
            desc_ref: "@FirewallAPI.dll,-28503",
            group: "File and Printer Sharing",
            group_ref: "@FirewallAPI.dll,-28502",
            profiles: &["Domain"],
            lport: ports(&["445"]),
            app: "System",
            ..base()
        },
        Fw {
            id: "FPS-NB_Name-In-UDP",
            name: "@FirewallAPI.dll,-28519".into(),
            display: "File and Printer Sharing (NB-Name-In)".into(),
            desc: "Inbound rule for File and Printer Sharing to allow NetBIOS Name Resolution. [UDP 137]",
            desc_ref: "@FirewallAPI.dll,-28522",
            group: "File and Printer Sharing",
            group_ref: "@FirewallAPI.dll,-28502",
            proto: 17,
            profiles: &["Private"],
            lport: ports(&["137"]),
            ra4: vec![same("LocalSubnet")],
            app: "System",
            ..base()
        },
        Fw {
            id: "WMI-RPCSS-In-TCP",
            name: "@FirewallAPI.dll,-34002".into(),
            display: "Windows Management Instrumentation (DCOM-In)".into(),
            desc: "Inbound rule to allow DCOM traffic for remote Windows Management Instrumentation. [TCP 135]",
            desc_ref: "@FirewallAPI.dll,-34003",
            group: "Windows Management Instrumentation (WMI)",
            group_ref: "@FirewallAPI.dll,-34001",
            active: false,
            lport: ports(&["135"]),
            app: r"%SystemRoot%\system32\svchost.exe",
            svc: "RPCSS",
            ..base()
        },
    ]
}

/// The allowed subnet of the lab (tests/lab/lib.sh, `RPCA_ALLOW_NET`).
const ALLOWED: [u8; 4] = [198, 18, 1, 0];

/// The lab's fence as a block and an allow (a block beats an allow in Windows Firewall, so the
/// block names every address but the allowed subnet): `lport` the ports both name,
/// `allowed` the allowed subnet in (store, netsh, PowerShell) form; `ids` the two rule IDs.
fn fence(
    ids: [&'static str; 2],
    what: &'static str,
    lport: &[&str],
    allowed: (&str, &str, &str),
) -> Vec<Fw> {
    let net = Ipv4Addr::from(ALLOWED);
    let below = Ipv4Addr::from(u32::from(net) - 1);
    let above = Ipv4Addr::from(u32::from(net) + 256);
    let base = || Fw {
        desc: "KB908472",
        desc_ref: "KB908472",
        lport: lport.iter().map(|s| s.to_string()).collect(),
        ..Fw::active_tcp_in()
    };
    let block_name = format!("Block {what} outside {net}");
    let allow_name = format!("Allow {what} from {net}");
    vec![
        Fw {
            id: ids[0],
            name: block_name.clone(),
            display: block_name,
            ra4: vec![
                same(&format!("0.0.0.0-{below}")),
                same(&format!("{above}-255.255.255.255")),
            ],
            allow: false,
            ..base()
        },
        Fw {
            id: ids[1],
            name: allow_name.clone(),
            display: allow_name,
            ra4: vec![(
                allowed.0.to_string(),
                allowed.1.to_string(),
                allowed.2.to_string(),
            )],
            ..base()
        },
    ]
}

/// The fence as an administrator writes it by hand: both ports in one rule, dotted mask.
fn fence_by_hand() -> Vec<Fw> {
    fence(
        [
            "{7A1C3E5B-2D4F-4A6B-8C9D-0E1F2A3B4C01}",
            "{7A1C3E5B-2D4F-4A6B-8C9D-0E1F2A3B4C02}",
        ],
        "RPC 135,5001-5021",
        &["135", "5001-5021"],
        (
            "198.18.1.0/255.255.255.0",
            "198.18.1.0/24",
            "198.18.1.0/255.255.255.0",
        ),
    )
}

/// The fence as a GPO writes it with the keywords: one pair of rules for the endpoint mapper
/// (`RPC-EPMap`, TCP 135) and one for the dynamic range (`RPC`, the range Rpc\Internet sets),
/// the allowed subnet as a prefix.
fn fence_with_keywords() -> Vec<Fw> {
    let subnet = ("198.18.1.0/24", "198.18.1.0/24", "198.18.1.0/24");
    let mut rules = fence(
        [
            "{7A1C3E5B-2D4F-4A6B-8C9D-0E1F2A3B4C11}",
            "{7A1C3E5B-2D4F-4A6B-8C9D-0E1F2A3B4C12}",
        ],
        "RPC endpoint mapper",
        &["RPC-EPMap"],
        subnet,
    );
    rules.extend(fence(
        [
            "{7A1C3E5B-2D4F-4A6B-8C9D-0E1F2A3B4C13}",
            "{7A1C3E5B-2D4F-4A6B-8C9D-0E1F2A3B4C14}",
        ],
        "RPC dynamic ports",
        &["RPC"],
        subnet,
    ));
    rules
}

const LOCAL: &str =
    r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy";
const GPO: &str = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\WindowsFirewall";

/// The firewall profile keys of a store with their settings, as `reg export` writes them.
fn profile_keys(root: &str, profiles: &[&str], values: &[(&str, u32)]) -> String {
    let mut out = String::new();
    for p in profiles {
        out += &format!("[{root}\\{p}]\r\n");
        for (name, v) in values {
            out += &format!("\"{name}\"=dword:{v:08x}\r\n");
        }
        out += "\r\n";
    }
    out
}

/// A store's FirewallRules key holding `rules`.
fn rules_key(root: &str, rules: &[Fw]) -> String {
    let mut out = format!("[{root}\\FirewallRules]\r\n");
    for r in rules {
        out += &ipsec_export::sz(r.id, &r.rule_string());
    }
    out + "\r\n"
}

const HEADER: &str = "Windows Registry Editor Version 5.00\r\n\r\n";

/// The local store with its profile settings (`reg export "HKLM\SYSTEM\...\FirewallPolicy"`):
/// the built-in rules with the fence written by hand among them.
fn fw_local() -> Vec<u8> {
    let mut rules = built_in();
    let fence = fence_by_hand();
    let mut fence = fence.into_iter();
    // regedit lists values in the order they were created: the fence came after some built-ins.
    let tail = rules.split_off(5);
    rules.extend(fence.next());
    rules.extend(tail);
    rules.extend(fence);
    let settings = [
        ("EnableFirewall", 1),
        ("DefaultInboundAction", 1),
        ("DefaultOutboundAction", 0),
    ];
    let text = format!(
        "{HEADER}{}{}",
        profile_keys(
            LOCAL,
            &["DomainProfile", "PublicProfile", "StandardProfile"],
            &settings
        ),
        rules_key(LOCAL, &rules)
    );
    ipsec_export::utf16(&text)
}

/// The Group Policy store as applied on a host (`reg export "HKLM\SOFTWARE\Policies\Microsoft\
/// WindowsFirewall"`): the GPO's profile settings and the fence written with the keywords.
fn fw_gpo() -> Vec<u8> {
    let settings = [("EnableFirewall", 1), ("DefaultInboundAction", 1)];
    let text = format!(
        "{HEADER}{}{}",
        profile_keys(
            GPO,
            &["DomainProfile", "PrivateProfile", "PublicProfile"],
            &settings
        ),
        rules_key(GPO, &fence_with_keywords())
    );
    ipsec_export::utf16(&text)
}

/// The same GPO as its `Registry.pol` holds it: keys created, settings, `**delvals.` before the
/// rules (the Group Policy editor replaces the whole list), then the rules.
fn gpo_pol() -> Vec<u8> {
    let base = r"Software\Policies\Microsoft\WindowsFirewall";
    let mut records: Vec<(String, String, u32, Vec<u8>)> = Vec::new();
    for p in ["DomainProfile", "PrivateProfile", "PublicProfile"] {
        let key = format!(r"{base}\{p}");
        records.push((key.clone(), String::new(), 0, Vec::new()));
        records.push((key.clone(), "EnableFirewall".into(), 4, dword(1)));
        records.push((key, "DefaultInboundAction".into(), 4, dword(1)));
    }
    let rules = format!(r"{base}\FirewallRules");
    records.push((rules.clone(), "**delvals.".into(), 1, sz(" ")));
    for r in fence_with_keywords() {
        records.push((rules.clone(), r.id.into(), 1, sz(&r.rule_string())));
    }
    let borrowed: Vec<(&str, &str, u32, Vec<u8>)> = records
        .iter()
        .map(|(k, v, t, d)| (k.as_str(), v.as_str(), *t, d.clone()))
        .collect();
    pol(&borrowed)
}

/// The IPsec policy store `ipseccmd -w REG` leaves after the lab's script, with the built-in
/// policy every store holds.
fn ipsec_local() -> Vec<u8> {
    ipsec_export::utf16(&ipsec_export::text(
        &[
            ipsec_export::kb908472(ALLOWED),
            ipsec_export::server_request_security(),
        ],
        Some(0),
    ))
}

/// Every rule of the local store with the fence, as a listing shows them.
fn listed() -> Vec<Fw> {
    let mut rules = built_in();
    rules.extend(fence_by_hand());
    rules
}

/// `netsh advfirewall firewall show rule name=all verbose > fw-rules.txt` in PowerShell
/// (UTF-16LE with a BOM).
fn netsh_listing() -> Vec<u8> {
    let mut text = String::new();
    for r in listed() {
        text += &r.netsh();
    }
    text += "\r\nOk.\r\n\r\n";
    ipsec_export::utf16(&text)
}

/// The README's `Get-NetFirewallRule` command (`Out-File -Encoding utf8`: UTF-8 with a BOM).
fn json_listing() -> Vec<u8> {
    let objects: Vec<String> = listed().iter().map(Fw::json).collect();
    let text = format!("\u{feff}[\r\n{}\r\n]\r\n", objects.join(",\r\n"));
    text.into_bytes()
}

/// Each fixture's file name under `fixtures/lab/` and its bytes.
fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("store-fw-local.reg", fw_local()),
        ("store-fw-gpo.reg", fw_gpo()),
        ("store-gpo-Registry.pol", gpo_pol()),
        ("store-ipsec-local.reg", ipsec_local()),
        ("listing-netsh.txt", netsh_listing()),
        ("listing-Get-NetFirewallRule.json", json_listing()),
    ]
}

mod tests {
    use super::*;
    use crate::policy::{self, Action, Dialect, LoadOptions, Proto};
    use crate::ports::PortRanges;
    use std::net::IpAddr;

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lab")
    }

    #[test]
    fn lab_fixtures_are_what_the_encoders_write() {
        for (name, bytes) in fixtures() {
            let path = dir().join(name);
            if std::env::var_os("RPCAUDIT_WRITE_FIXTURES").is_some() {
                std::fs::write(&path, &bytes).unwrap();
            }
            // Not assert_eq: a difference would print kilobytes of numbers.
            assert!(
                std::fs::read(&path).unwrap_or_default() == bytes,
                "fixtures/lab/{name} is not what the encoders write: run with RPCAUDIT_WRITE_FIXTURES=1"
            );
        }
    }

    /// The range the lab's rpccfg line sets, given as `--range` with a store (a store export
    /// does not hold Rpc\Internet).
    fn opts() -> LoadOptions {
        LoadOptions {
            range_override: Some(PortRanges::from_ranges([(5001, 5021)])),
            ..LoadOptions::default()
        }
    }

    #[test]
    fn every_lab_fixture_decides_like_the_script() {
        let script = std::fs::read(dir().join("ipsec-correct.cmd")).unwrap();
        let script = policy::build(
            vec![policy::parse_text("ipsec-correct.cmd", &script)],
            &LoadOptions::default(),
        );
        let sources: Vec<IpAddr> = [
            [198, 18, 1, 10],
            [198, 18, 1, 0],
            [198, 18, 1, 255],
            [198, 18, 0, 255],
            [198, 18, 0, 10],
            [198, 18, 2, 0],
            [198, 18, 2, 10],
            [10, 9, 9, 9],
            [0, 0, 0, 0],
            [255, 255, 255, 254],
        ]
        .into_iter()
        .map(|a| IpAddr::from(Ipv4Addr::from(a)))
        .collect();
        let fence: Vec<u16> = std::iter::once(135).chain(5001..=5021).collect();
        let dialects = [
            Dialect::FirewallStore,
            Dialect::FirewallStore,
            Dialect::FirewallStore,
            Dialect::IpsecStore,
            Dialect::FirewallListing,
            Dialect::FirewallListing,
        ];
        for ((name, bytes), dialect) in fixtures().into_iter().zip(dialects) {
            let pf = policy::parse_text(name, &bytes);
            assert!(pf.unreadable.is_none(), "{name}: {:?}", pf.unreadable);
            assert!(
                pf.findings
                    .iter()
                    .all(|f| f.code != crate::finding::Code::ParseError),
                "{name}: {:?}",
                pf.findings
            );
            assert_eq!(pf.dialects, vec![dialect], "{name}");
            let store = policy::build(vec![pf], &opts());
            let mut compared = 0;
            for &src in &sources {
                for port in (130..=140).chain(4999..=5023) {
                    let a = script.policy.decide(src, port, Proto::Tcp);
                    let b = store.policy.decide(src, port, Proto::Tcp);
                    if fence.contains(&port) {
                        assert_ne!(a.action, Action::None, "the script decides {src} {port}");
                    }
                    if a.action != Action::None {
                        assert_eq!(a.action, b.action, "{name}: {src} → {port}: {b:?}");
                        compared += 1;
                    }
                }
            }
            assert_eq!(compared, sources.len() * fence.len(), "{name}");
        }
    }
}
