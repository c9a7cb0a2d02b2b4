//! A positive and a negative case for every policy lint code, through the public API
//! (`parse_text` + `build`, the path issue 5's fix scripts take).

use rpcaudit::finding::{Code, Severity};
use rpcaudit::policy::{self, LoadOptions, OsFamily};

fn lint_with(files: &[(&str, &str)], opts: &LoadOptions) -> Vec<(Code, Severity, Option<usize>)> {
    let parsed = files
        .iter()
        .map(|(name, text)| policy::parse_text(name, text.as_bytes()))
        .collect();
    policy::build(parsed, opts)
        .findings
        .into_iter()
        .map(|f| (f.code, f.severity, f.line))
        .collect()
}

/// One file read and built with the default options.
fn load(name: &str, bytes: &[u8]) -> policy::LoadedPolicy {
    policy::build(
        vec![policy::parse_text(name, bytes)],
        &LoadOptions::default(),
    )
}

fn lint(text: &str) -> Vec<(Code, Severity, Option<usize>)> {
    lint_with(&[("t.cmd", text)], &LoadOptions::default())
}

fn has(found: &[(Code, Severity, Option<usize>)], code: Code) -> bool {
    found.iter().any(|(c, _, _)| *c == code)
}

/// For each `(text, expected)`: linting `text` finds `code`, or does not.
fn finds(code: Code, cases: &[(&str, bool)]) {
    for (text, expected) in cases {
        assert_eq!(
            has(&lint(text), code.clone()),
            *expected,
            "{code}: {text:?}"
        );
    }
}

const PORTS: &[u16] = &[
    135, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009, 5010, 5011, 5012, 5013, 5014, 5015,
    5016, 5017, 5018, 5019, 5020, 5021,
];

/// The article's script, with `pass_ports` open to 10.1.1.0/24 and `block_ports` blocked.
fn article(block_ports: &[u16], pass_ports: &[u16], assign: &str) -> String {
    let mut s = String::from("rpccfg.exe -pe 5001-5021 -d 0\r\n");
    for p in block_ports {
        s += &format!(
            "ipseccmd.exe -w REG -p \"Block RPC Ports\" -r \"Block Inbound TCP {p} Rule\" -f *=0:{p}:TCP -n BLOCK\r\n"
        );
    }
    for p in pass_ports {
        s += &format!(
            "ipseccmd.exe -w REG -p \"Block RPC Ports\" -r \"Allow Inbound TCP Port {p} from 10.1.1.0 Rule\" -f 10.1.1.0/255.255.255.0=0:{p}:TCP -n PASS\r\n"
        );
    }
    s += &format!("ipseccmd.exe -w REG -p \"Block RPC Ports\" {assign}\r\n");
    s
}

fn clean() -> String {
    article(PORTS, PORTS, "-x")
}

#[test]
fn the_articles_script_is_clean() {
    assert_eq!(lint(&clean()), vec![]);
}

#[test]
fn typographic_dash() {
    let found = lint(&article(PORTS, PORTS, "\u{2013}x"));
    assert!(found.contains(&(Code::TypographicDash, Severity::Error, Some(46))));
    // The command was refused, so the policy is not assigned either.
    assert!(has(&found, Code::PolicyUnassigned));
    assert!(!has(&lint(&clean()), Code::TypographicDash));
    // In a port range of an rpccfg line too.
    finds(
        Code::TypographicDash,
        &[("rpccfg.exe -pe 5001\u{2013}5021 -d 0\n", true)],
    );
}

#[test]
fn placeholder() {
    let text = "%IPSECTOOL% -w REG -p \"Block RPC Ports\" -r \"Block Inbound TCP 135 Rule\" -f *=0:135:TCP -n BLOCK\n";
    assert!(has(&lint(text), Code::Placeholder));
    let set = format!("set IPSECTOOL=ipseccmd.exe\n{text}");
    assert!(!has(&lint(&set), Code::Placeholder));
    let port = "ipseccmd -w REG -p \"P\" -r \"Block Inbound TCP %PORT% Rule\" -f *=0:%PORT%:TCP -n BLOCK\n";
    let found = lint(port);
    assert!(has(&found, Code::Placeholder));
    assert!(!has(&found, Code::ParseError), "{found:?}");
}

#[test]
fn name_filter_mismatch() {
    let bad = clean().replace(
        "-r \"Block Inbound TCP 5002 Rule\" -f *=0:5002:TCP",
        "-r \"Block Inbound TCP 5002 Rule\" -f *=0:5003:TCP",
    );
    let found = lint(&bad);
    assert!(found.contains(&(Code::NameFilterMismatch, Severity::Warning, Some(4))));
    assert!(!has(&lint(&clean()), Code::NameFilterMismatch));
}

#[test]
fn range_port_unblocked() {
    let found = lint(&article(&PORTS[..21], PORTS, "-x"));
    assert!(has(&found, Code::RangePortUnblocked), "{found:?}");
    let no135 = lint(&article(&PORTS[1..], PORTS, "-x"));
    assert!(has(&no135, Code::RangePortUnblocked));
    assert!(!has(&lint(&clean()), Code::RangePortUnblocked));
}

#[test]
fn hang_hazard() {
    // 10.1.1.0 may reach 135 but only half the range: clients hang.
    let found = lint(&article(PORTS, &PORTS[..11], "-x"));
    assert!(
        found
            .iter()
            .any(|(c, s, _)| *c == Code::HangHazard && *s == Severity::Error)
    );
    // The reverse: the range without 135.
    let found = lint(&article(PORTS, &PORTS[1..], "-x"));
    assert!(
        found
            .iter()
            .any(|(c, s, _)| *c == Code::HangHazard && *s == Severity::Warning)
    );
    assert!(!has(&lint(&clean()), Code::HangHazard));
    // 135 passed plainly, the range passed only for one service's program (conditional): the
    // range is not known to be denied, so no hazard is claimed; the same range blocked is one.
    let scoped = "rpccfg.exe -pe 5001-5021 -d 0\r\n\
        netsh advfirewall firewall add rule name=\"EPM\" dir=in action=allow protocol=TCP localport=135\r\n\
        netsh advfirewall firewall add rule name=\"RPC for one service\" dir=in action=allow protocol=TCP localport=5001-5021 program=%SystemRoot%\\system32\\svchost.exe service=Dnscache\r\n";
    assert!(!has(&lint(scoped), Code::HangHazard), "{:?}", lint(scoped));
    let blocked = scoped.replace(
        "action=allow protocol=TCP localport=5001-5021 program=%SystemRoot%\\system32\\svchost.exe service=Dnscache",
        "action=block protocol=TCP localport=5001-5021",
    );
    assert_ne!(blocked, scoped);
    assert!(has(&lint(&blocked), Code::HangHazard));
}

#[test]
fn allow_shadowed_in_both_dialects() {
    let naive = "netsh advfirewall firewall add rule name=\"Block RPC\" dir=in action=block protocol=TCP localport=135,5001-5021 remoteip=any\nnetsh advfirewall firewall add rule name=\"Allow RPC from 10.1.1.0\" dir=in action=allow protocol=TCP localport=135,5001-5021 remoteip=10.1.1.0/24\n";
    let found = lint(naive);
    assert!(found.contains(&(Code::AllowShadowed, Severity::Error, Some(2))));
    let fixed = naive.replace(
        "remoteip=any",
        "remoteip=0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255",
    );
    assert!(!has(&lint(&fixed), Code::AllowShadowed));
    // IPsec: a block exactly as specific as the pass wins the tie.
    let ipsec = format!(
        "{}ipseccmd.exe -w REG -p \"Block RPC Ports\" -r \"Block 135 from 10.1.1.0\" -f 10.1.1.0/24=0:135:TCP -n BLOCK -x\n",
        clean()
    );
    assert!(has(&lint(&ipsec), Code::AllowShadowed));
    assert!(!has(&lint(&clean()), Code::AllowShadowed));
}

#[test]
fn policy_unassigned() {
    let found = lint(&article(PORTS, PORTS, ""));
    assert!(found.contains(&(Code::PolicyUnassigned, Severity::Error, Some(2))));
    let unassigned_later =
        article(PORTS, PORTS, "-x") + "ipseccmd.exe -w REG -p \"Block RPC Ports\" -y\n";
    assert!(has(&lint(&unassigned_later), Code::PolicyUnassigned));
    assert!(!has(&lint(&clean()), Code::PolicyUnassigned));
    let netsh = "netsh ipsec static add policy name=P\nnetsh ipsec static add filteraction name=B action=block\nnetsh ipsec static add filter filterlist=L srcaddr=any dstaddr=me protocol=TCP dstport=135\nnetsh ipsec static add rule name=R policy=P filterlist=L filteraction=B\n";
    assert!(has(&lint(netsh), Code::PolicyUnassigned));
    let assigned = format!("{netsh}netsh ipsec static set policy name=P assign=yes\n");
    assert!(!has(&lint(&assigned), Code::PolicyUnassigned));
}

#[test]
fn subnet_misaligned_and_mask_noncontiguous() {
    let misaligned = clean().replace(
        "10.1.1.0/255.255.255.0=0:135:",
        "10.1.1.5/255.255.255.0=0:135:",
    );
    assert!(has(&lint(&misaligned), Code::SubnetMisaligned));
    let holes = clean().replace(
        "10.1.1.0/255.255.255.0=0:135:",
        "10.0.1.0/255.0.255.0=0:135:",
    );
    let found = lint(&holes);
    assert!(has(&found, Code::MaskNoncontiguous));
    assert!(!has(&found, Code::SubnetMisaligned));
    let clean = lint(&clean());
    assert!(!has(&clean, Code::SubnetMisaligned) && !has(&clean, Code::MaskNoncontiguous));
}

#[test]
fn range_overlaps_ephemeral_per_os() {
    let vista = LoadOptions::default();
    let legacy = LoadOptions {
        os: OsFamily::Legacy,
        ..LoadOptions::default()
    };
    let high = [("r.cmd", "rpccfg.exe -pe 49152-49300 -d 0\n")];
    let low = [("r.cmd", "rpccfg.exe -pe 4000-4100 -d 0\n")];
    let article = [("r.cmd", "rpccfg.exe -pe 5001-5021 -d 0\n")];
    assert!(has(&lint_with(&high, &vista), Code::RangeOverlapsEphemeral));
    assert!(!has(
        &lint_with(&high, &legacy),
        Code::RangeOverlapsEphemeral
    ));
    assert!(has(&lint_with(&low, &legacy), Code::RangeOverlapsEphemeral));
    assert!(!has(&lint_with(&low, &vista), Code::RangeOverlapsEphemeral));
    for opts in [&vista, &legacy] {
        assert!(!has(
            &lint_with(&article, opts),
            Code::RangeOverlapsEphemeral
        ));
    }
    let parsed = vec![policy::parse_text("r.cmd", high[0].1.as_bytes())];
    let lp = policy::build(parsed, &vista);
    assert!(lp.findings[0].message.contains("Vista"));
}

#[test]
fn range_too_small() {
    finds(
        Code::RangeTooSmall,
        &[
            ("rpccfg.exe -pe 5001-5010 -d 0\n", true),
            // 5001-5021 is 21 ports: enough by the article's own threshold.
            ("rpccfg.exe -pe 5001-5021 -d 0\n", false),
        ],
    );
    let overridden = lint_with(
        &[("r.cmd", "rpccfg.exe -pe 5001-5021 -d 0\n")],
        &LoadOptions {
            range_override: Some("5001-5005".parse().unwrap()),
            ..LoadOptions::default()
        },
    );
    assert!(has(&overridden, Code::RangeTooSmall));
}

#[test]
fn range_inverted() {
    finds(
        Code::RangeInverted,
        &[
            ("rpccfg.exe -pi 5001-5021 -d 0\n", true),
            ("rpccfg.exe -pi 5001-5021 -d 1\n", false),
            ("rpccfg.exe -pe 5001-5021 -d 0\n", false),
        ],
    );
}

#[test]
fn range_invalid() {
    finds(
        Code::RangeInvalid,
        &[
            ("rpccfg.exe -pe 5001-5021\n", true),
            (
                "reg add HKLM\\SOFTWARE\\Microsoft\\Rpc\\Internet /v Ports /t REG_MULTI_SZ /d 5001-70000 /f\nrpccfg -d 0\n",
                true,
            ),
            ("rpccfg.exe -pe 5001-5021 -d 0\n", false),
        ],
    );
}

#[test]
fn parse_error() {
    let found = lint("ipseccmd -w REG -p \"P\" -r \"R\" -f *=0:135:TCP -n BLOKC -x\n");
    assert!(found.contains(&(Code::ParseError, Severity::Error, Some(1))));
    assert!(!has(&lint(&clean()), Code::ParseError));
    // Unrelated commands are not errors.
    assert_eq!(lint("echo Done\npause\nnet stop rpcss\n"), vec![]);
}

#[test]
fn dns_unresolved() {
    let t = "ipseccmd -w REG -p \"P\" -r \"Allow 135 from admin\" -f admin.contoso.com=0:135:TCP -n PASS -x\n";
    assert!(has(&lint(t), Code::DnsUnresolved));
    assert!(!has(&lint(&clean()), Code::DnsUnresolved));
}

#[test]
fn every_code_is_tested_here() {
    let src = include_str!("policy_lints.rs");
    for code in Code::ALL.iter().filter(|c| c.from_policy()) {
        let variant = format!("{code:?}");
        assert!(
            src.contains(&format!("Code::{variant}")),
            "no test for {code}"
        );
    }
}

#[test]
fn lint_skipped() {
    // Twenty thousand allows from distinct hosts: asking the model about each of them on
    // every port would cost hundreds of millions of rule evaluations. The checks that cannot
    // afford it say so with an error instead of running for hours or passing silently.
    let mut t = String::from("rpccfg.exe -pe 5001-5021 -d 0\r\n");
    for i in 0..20_000u32 {
        t += &format!(
            "netsh advfirewall firewall add rule name=\"A{i}\" dir=in action=allow protocol=TCP localport=135,5001-5021 remoteip=10.{}.{}.{}\r\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        );
    }
    let found = lint(&t);
    let skipped: Vec<_> = found
        .iter()
        .filter(|(c, _, _)| *c == Code::LintSkipped)
        .collect();
    assert!(!skipped.is_empty(), "{found:?}");
    assert!(skipped.iter().all(|(_, s, _)| *s == Severity::Error));
    assert!(!has(&lint(&clean()), Code::LintSkipped));
}

/// A firewall store export (`reg export`) with `keys` after the header.
fn store(keys: &str) -> Vec<(Code, Severity, Option<usize>)> {
    let text = format!("Windows Registry Editor Version 5.00\r\n\r\n{keys}");
    lint_with(&[("fw.reg", text.as_str())], &LoadOptions::default())
}

const LOCAL_RULES: &str = r"[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules]";
const GPO: &str = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\WindowsFirewall";

#[test]
fn unknown_field() {
    let found = store(&format!(
        "{LOCAL_RULES}\r\n\"R\"=\"v2.33|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|NewField=1|\"\r\n"
    ));
    assert!(found.contains(&(Code::UnknownField, Severity::Warning, Some(4))));
    let found = store(&format!(
        "{LOCAL_RULES}\r\n\"R\"=\"v2.33|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=135|App=System|\"\r\n"
    ));
    assert!(!has(&found, Code::UnknownField), "{found:?}");
}

#[test]
fn local_rules_ignored() {
    let rule = "\"L\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|\"";
    let merge_off = format!(
        "[{GPO}\\DomainProfile]\r\n\"AllowLocalPolicyMerge\"=dword:00000000\r\n\
         [{GPO}\\PrivateProfile]\r\n\"AllowLocalPolicyMerge\"=dword:00000000\r\n\
         [{GPO}\\PublicProfile]\r\n\"AllowLocalPolicyMerge\"=dword:00000000\r\n"
    );
    let found = store(&format!("{merge_off}{LOCAL_RULES}\r\n{rule}\r\n"));
    assert!(found.contains(&(Code::LocalRulesIgnored, Severity::Info, Some(10))));
    // Merge allowed: the local rule stays in force, nothing to say.
    let found = store(&format!("{LOCAL_RULES}\r\n{rule}\r\n"));
    assert!(!has(&found, Code::LocalRulesIgnored));
}

/// `value`=0 in a GPO's `profile` is a `code` warning on its line; `value`=1 is nothing.
fn zero_in_a_profile_warns(profile: &str, value: &str, code: Code) {
    let set = |n: u32| {
        store(&format!(
            "[{GPO}\\{profile}]\r\n\"{value}\"=dword:{n:08x}\r\n"
        ))
    };
    assert!(set(0).contains(&(code.clone(), Severity::Warning, Some(4))));
    assert!(!has(&set(1), code));
}

#[test]
fn firewall_off() {
    zero_in_a_profile_warns("PublicProfile", "EnableFirewall", Code::FirewallOff);
}

#[test]
fn default_inbound_allow() {
    zero_in_a_profile_warns(
        "DomainProfile",
        "DefaultInboundAction",
        Code::DefaultInboundAllow,
    );
}

#[test]
fn rpc_restricted() {
    // RestrictRemoteClients=1 in a GPO's Registry.pol (record 1).
    let w = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut pol = b"PReg\x01\0\0\0".to_vec();
    for part in [
        w("["),
        w(r"Software\Policies\Microsoft\Windows NT\Rpc"),
        vec![0, 0],
        w(";"),
        w("RestrictRemoteClients"),
        vec![0, 0],
        w(";"),
        4u32.to_le_bytes().to_vec(),
        w(";"),
        4u32.to_le_bytes().to_vec(),
        w(";"),
        1u32.to_le_bytes().to_vec(),
        w("]"),
    ] {
        pol.extend(part);
    }
    let found: Vec<_> = load("Registry.pol", &pol)
        .findings
        .iter()
        .map(|f| (f.code.clone(), f.severity, f.line))
        .collect();
    assert!(
        found.contains(&(Code::RpcRestricted, Severity::Info, Some(1))),
        "{found:?}"
    );
    assert!(!has(&lint(&clean()), Code::RpcRestricted));
}

#[test]
fn policy_assigned() {
    // An IPsec store export names its assigned policy; a script does not get the finding.
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/policy/ipsec-store-kb908472.reg"),
    )
    .unwrap();
    let lp = load("ipsec.reg", &bytes);
    let found: Vec<_> = lp
        .findings
        .iter()
        .filter(|f| f.code == Code::PolicyAssigned)
        .collect();
    assert_eq!(found.len(), 1, "{:?}", lp.findings);
    assert_eq!(found[0].severity, Severity::Info);
    assert!(found[0].message.contains("Block RPC Ports"));
    // The built-in policy the store does not assign is not reported as unassigned.
    assert!(!lp.findings.iter().any(|f| f.code == Code::PolicyUnassigned));
    assert!(!has(&lint(&clean()), Code::PolicyAssigned));
}

#[test]
fn store_disagrees() {
    let script = "ipseccmd -w REG -p P -r \"Block 135\" -f *=0:135:TCP -n BLOCK -x\n";
    let a = load("a.cmd", script.as_bytes());
    let b = load("b.cmd", b"rpccfg -pe 5001-5021 -d 0\n");
    let found = policy::diff::diff(&a, &b);
    assert!(
        found
            .iter()
            .any(|f| f.code == Code::StoreDisagrees && f.severity == Severity::Error)
    );
    assert!(policy::diff::diff(&a, &a).is_empty());
}
