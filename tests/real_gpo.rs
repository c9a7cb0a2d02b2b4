//! Real GPO backups' `Registry.pol` files (`../shared/real/nsa-shb-*.pol`, the NSA's Windows
//! Secure Host Baseline; SOURCES.md there), read by rpcaudit's `preg` reader and checked
//! against Samba's python `preg` parser (`samba.dcerpc.preg`, Debian's `python3-samba`), an
//! independent reader: the number of records, and for every firewall profile setting and RPC
//! restriction rpcaudit reads, the value and the record number it cites (1 is the first).

mod support;

use rpcaudit::policy::preg;
use rpcaudit::policy::sink::Sink;
use support::real;

/// Samba's reading: `[number, key, value, type, data]` for every record, and the count.
const SAMBA: &str = r#"
import sys, json
from samba.dcerpc import preg
from samba.ndr import ndr_unpack
f = ndr_unpack(preg.file, open(sys.argv[1], 'rb').read())
out = []
for n, e in enumerate(f.entries, 1):
    data = e.data if isinstance(e.data, int) else str(e.data)
    out.append([n, e.keyname, e.valuename, e.type, data])
print(json.dumps({'count': f.num_entries, 'records': out}))
"#;

/// Debian's python, where `python3-samba` installs (a PATH `python3` may be another).
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

#[test]
fn real_gpos_settings_and_record_numbers_are_samba_s() {
    if !real::reader(
        "Samba's python preg (python3-samba)",
        DEBIAN_PYTHON,
        &["-c", "import samba.dcerpc.preg"],
    ) {
        return;
    }
    let mut compared = 0;
    for name in [
        "nsa-shb-WindowsFirewall-registry.pol",
        "nsa-shb-Windows-registry.pol",
    ] {
        let Some(path) = real::artifact(name) else {
            continue;
        };
        let bytes = std::fs::read(&path).unwrap();
        let mut sink = Sink::new(name);
        let ours = preg::parse(&bytes, &mut sink).expect("a Registry.pol");
        let samba: serde_json::Value = serde_json::from_str(&real::stdout_of(
            DEBIAN_PYTHON,
            &["-c", SAMBA, path.to_str().unwrap()],
        ))
        .unwrap();
        assert_eq!(samba["count"], ours.records, "{name}: records");
        for r in samba["records"].as_array().unwrap() {
            let number = r[0].as_u64().unwrap() as usize;
            let key = r[1].as_str().unwrap().to_ascii_lowercase();
            let value = r[2].as_str().unwrap().to_ascii_lowercase();
            let Some(dword) = r[4].as_u64() else {
                continue;
            };
            let want = Some((dword != 0, number));
            let profile = ["domainprofile", "privateprofile", "publicprofile"]
                .iter()
                .position(|p| key == format!(r"software\policies\microsoft\windowsfirewall\{p}"));
            if let Some(p) = profile {
                let s = &ours.firewall.settings[1][p];
                let got = match value.as_str() {
                    "enablefirewall" => s.enable_firewall,
                    "defaultinboundaction" => s.default_inbound_block,
                    "allowlocalpolicymerge" => s.allow_local_policy_merge,
                    _ => continue,
                };
                assert_eq!(got.map(|s| (s.on, s.line)), want, "{name}: {key}\\{value}");
                compared += 1;
            }
            if key == r"software\policies\microsoft\windows nt\rpc"
                && value == "restrictremoteclients"
            {
                assert_eq!(
                    ours.restrictions
                        .restrict_remote_clients
                        .as_ref()
                        .map(|s| (s.value, s.line, s.record)),
                    Some((dword as u32, number, true)),
                    "{name}: RestrictRemoteClients"
                );
                compared += 1;
            }
        }
    }
    if compared > 0 {
        // 3 profiles x 2 settings and the public profile's AllowLocalPolicyMerge, and one
        // RestrictRemoteClients.
        assert_eq!(compared, 8);
    }
}

/// A record's data: REG_DWORD or REG_SZ.
enum Data<'a> {
    Dword(u32),
    Sz(&'a str),
}

/// A Registry.pol of `(key, value, data)` records, written as MS-GPREG lays it out.
fn pol_of(records: &[(&str, &str, Data)]) -> Vec<u8> {
    let utf16z = |s: &str| -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    };
    let ch = |c: char| (c as u16).to_le_bytes();
    let mut b = b"PReg".to_vec();
    b.extend(1u32.to_le_bytes());
    for (key, value, data) in records {
        let (ty, bytes) = match data {
            Data::Dword(d) => (4u32, d.to_le_bytes().to_vec()),
            Data::Sz(s) => (1u32, utf16z(s)),
        };
        b.extend(ch('['));
        b.extend(utf16z(key));
        b.extend(ch(';'));
        b.extend(utf16z(value));
        b.extend(ch(';'));
        b.extend(ty.to_le_bytes());
        b.extend(ch(';'));
        b.extend((bytes.len() as u32).to_le_bytes());
        b.extend(ch(';'));
        b.extend(bytes);
        b.extend(ch(']'));
    }
    b
}

/// `rpcaudit policy explain FILE --src SRC --port PORT --json`: (action, cited line, name).
fn explain(file: &std::path::Path, port: &str) -> (String, u64, String) {
    let (code, out, err) = support::run(&[
        "policy",
        "explain",
        file.to_str().unwrap(),
        "--src",
        "198.18.2.10",
        "--port",
        port,
        "--json",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e} (exit {code}): {err}"));
    (
        v["action"].as_str().unwrap().to_string(),
        v["rule"]["line"].as_u64().unwrap_or(0),
        v["rule"]["name"].as_str().unwrap_or("").to_string(),
    )
}

const GPO: &str = r"SOFTWARE\Policies\Microsoft\WindowsFirewall";

/// A GPO's firewall off in every profile: Windows lets everything in, so `explain` passes,
/// citing the record (it said `none`, and only the warning told). A GPO that shields every
/// profile (`DoNotAllowExceptions=1`, set in real baseline GPOs): its allow rule passes
/// nothing, and `explain` blocks, citing that record.
#[test]
fn firewall_off_passes_and_do_not_allow_exceptions_blocks_cited() {
    let dir = tempfile::tempdir().unwrap();
    let profiles =
        ["DomainProfile", "PrivateProfile", "PublicProfile"].map(|p| format!("{GPO}\\{p}"));
    let off = dir.path().join("off.pol");
    let records: Vec<_> = profiles
        .iter()
        .map(|k| (k.as_str(), "EnableFirewall", Data::Dword(0)))
        .collect();
    std::fs::write(&off, pol_of(&records)).unwrap();
    let (action, line, name) = explain(&off, "135");
    assert_eq!(action, "pass", "{name}");
    assert_eq!(line, 1);
    assert!(name.starts_with("EnableFirewall=0"), "{name}");

    let shielded = dir.path().join("shielded.pol");
    let rules = format!("{GPO}\\FirewallRules");
    let mut records = vec![(
        rules.as_str(),
        "Allow-EPM",
        Data::Sz("v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|"),
    )];
    for k in &profiles {
        records.push((k.as_str(), "EnableFirewall", Data::Dword(1)));
        records.push((k.as_str(), "DoNotAllowExceptions", Data::Dword(1)));
    }
    std::fs::write(&shielded, pol_of(&records)).unwrap();
    let (action, line, name) = explain(&shielded, "135");
    assert_eq!(action, "block", "{name}");
    assert_eq!(line, 3, "the first DoNotAllowExceptions record");
    assert!(name.starts_with("DoNotAllowExceptions=1"), "{name}");
}

/// The `rpc-restricted` advice names flags that `dump` and `audit` have today (it used to say
/// authenticated lookups were not supported, and point to an import that does not exist).
#[test]
fn the_rpc_restricted_advice_names_todays_flags() {
    let dir = tempfile::tempdir().unwrap();
    let pol = dir.path().join("Registry.pol");
    std::fs::write(
        &pol,
        pol_of(&[(
            r"Software\Policies\Microsoft\Windows NT\Rpc",
            "RestrictRemoteClients",
            Data::Dword(1),
        )]),
    )
    .unwrap();
    let (_, out, err) = support::run(&["policy", "lint", pol.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let found = support::findings_with(&v, "rpc-restricted");
    let fix = found[0]["fix"].as_str().unwrap();
    assert!(!fix.contains("not supported"), "{fix}");
    assert!(!fix.contains("exported endpoint lists"), "{fix}");
    let flags: Vec<&str> = fix
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ';')
        .filter(|w| w.starts_with("--"))
        .collect();
    assert!(flags.contains(&"--user"), "{fix}");
    for command in ["dump", "audit"] {
        let (_, help, _) = support::run(&[command, "--help"]);
        for flag in &flags {
            assert!(
                help.contains(&format!("{flag} ")),
                "{command} has no {flag}: {fix}"
            );
        }
    }
}

/// A GPO's `AllowLocalPolicyMerge=0`, in a Registry.pol, read beside a local store's `.reg`
/// export: the local allow rule is out of force whatever the file formats, so `explain` does
/// not pass by it, and `lint` says why, citing the GPO's record.
#[test]
fn a_gpo_without_local_merge_takes_local_rules_of_another_file_out() {
    let dir = tempfile::tempdir().unwrap();
    let gpo = dir.path().join("Registry.pol");
    let profiles =
        ["DomainProfile", "PrivateProfile", "PublicProfile"].map(|p| format!("{GPO}\\{p}"));
    let records: Vec<_> = profiles
        .iter()
        .map(|k| (k.as_str(), "AllowLocalPolicyMerge", Data::Dword(0)))
        .collect();
    std::fs::write(&gpo, pol_of(&records)).unwrap();
    let local = dir.path().join("local.reg");
    std::fs::write(
        &local,
        "Windows Registry Editor Version 5.00\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules]\r\n\
         \"Allow-EPM\"=\"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|Name=allow 135|\"\r\n",
    )
    .unwrap();
    let (alone, _, name) = explain(&local, "135");
    assert_eq!(alone, "pass", "{name}");
    for files in [[&gpo, &local], [&local, &gpo]] {
        let (code, out, err) = support::run(&[
            "policy",
            "explain",
            files[0].to_str().unwrap(),
            files[1].to_str().unwrap(),
            "--src",
            "198.18.2.10",
            "--port",
            "135",
            "--json",
        ]);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e} (exit {code}): {err}"));
        assert_ne!(v["action"], "pass", "{v:#}");
        assert_ne!(v["rule"]["name"], "allow 135", "{v:#}");
    }
    let (_, out, err) = support::run(&[
        "policy",
        "lint",
        gpo.to_str().unwrap(),
        local.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let ignored = support::findings_with(&v, "local-rules-ignored");
    assert_eq!(ignored.len(), 1, "{v:#}");
    assert_eq!(ignored[0]["line"], 1);
    assert!(
        ignored[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("Registry.pol"),
        "{v:#}"
    );
}
