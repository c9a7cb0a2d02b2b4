//! `.wfw` firewall exports (registry hives, as `netsh advfirewall export` writes them), read by
//! `policy::wfw`: hives written by the test writer (`support::hive`) are first confirmed key by
//! key by hivex (Debian's `python3-hivex`), the independent reader; then a store written both
//! as a `.reg` export and as a `.wfw` hive gives the same answers through the real binary
//! (`policy explain`, `lint`, `diff`, `audit --store`), in both layouts the reader accepts; and
//! hostile hives (truncated, garbage, bad checksum, offsets out of range, huge counts, loops in
//! subkey lists) are refused with an error naming the file, quickly, without a panic.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rpcaudit::policy::{self, wfw};
use serde_json::Value as Json;
use support::hive::{self, Key, Value, Written};
use support::{real, run};

/// The local store's key below HKLM, which a `.reg` export names.
const FIREWALL_POLICY: &str =
    r"SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy";

/// A store: (key below FirewallPolicy, its values), as the `.reg` and the hive both hold it.
type Store = Vec<(&'static str, Vec<(&'static str, Value)>)>;

fn dword(name: &'static str, v: u32) -> (&'static str, Value) {
    (name, Value::Dword(v))
}

fn sz(name: &'static str, v: &str) -> (&'static str, Value) {
    (name, Value::Sz(v.to_string()))
}

/// The rules every variant holds: address-scoped allows, a block, the RPC keywords, app- and
/// service-scoped rules without a port, a rule with a field not modelled, a profile-scoped one.
fn rules() -> Vec<(&'static str, Value)> {
    vec![
        sz(
            "{A1}",
            r"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|RA4=10.1.1.0/255.255.255.0|Name=EPM from admins|",
        ),
        sz(
            "{A2}",
            r"v2.30|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=445|Name=No SMB|",
        ),
        sz(
            "{A3}",
            r"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=RPC|RA4=10.1.0.0/255.255.0.0|Name=RPC dynamic|",
        ),
        sz(
            "{A4}",
            r"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5001-5021|RA4=10.1.1.0/255.255.255.0|Name=Fixed range|",
        ),
        sz(
            "{A5}",
            r"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|App=%SystemRoot%\system32\svchost.exe|Svc=RpcSs|Name=RpcSs any port|",
        ),
        sz(
            "{A6}",
            r"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|App=%SystemRoot%\system32\proximityuxhost.exe|Name=ProximityUxHost-Sharing-In-TCP-NoScope|",
        ),
        sz(
            "{A7}",
            r"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=17|LPort=135|RA42=IntrAnet|Name=UDP EPM intranet|",
        ),
        sz(
            "{A8}",
            r"v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Public|LPort=49152|Name=Public only|",
        ),
        sz(
            "{A9}",
            r"v2.30|Action=Allow|Active=FALSE|Dir=In|Protocol=6|LPort=445|Name=Inactive SMB|",
        ),
    ]
}

/// A store with these profile settings for (domain, private (Standard), public).
fn store(profiles: [Vec<(&'static str, Value)>; 3]) -> Store {
    let [domain, private, public] = profiles;
    vec![
        (
            "",
            vec![
                dword("PolicyVersion", 0x21a),
                dword("DisableStatefulFTP", 0),
            ],
        ),
        ("DomainProfile", domain),
        (
            "DomainProfile\\Logging",
            vec![dword("LogDroppedPackets", 1)],
        ),
        ("FirewallRules", rules()),
        ("PublicProfile", public),
        ("StandardProfile", private),
    ]
}

fn settings(enable: u32, default_inbound: u32, shield: u32) -> Vec<(&'static str, Value)> {
    vec![
        dword("EnableFirewall", enable),
        dword("DefaultInboundAction", default_inbound),
        dword("DoNotAllowExceptions", shield),
        dword("AllowLocalPolicyMerge", 1),
        dword("DisableNotifications", 1),
    ]
}

/// Variants of the profile settings, each deciding differently where no rule does.
fn variants() -> Vec<(&'static str, Store)> {
    let each = |e, d, s| [settings(e, d, s), settings(e, d, s), settings(e, d, s)];
    vec![
        ("on-block", store(each(1, 1, 0))),
        ("on-allow", store(each(1, 0, 0))),
        ("off", store(each(0, 1, 0))),
        ("shielded", store(each(1, 1, 1))),
        (
            "mixed",
            store([settings(1, 1, 0), settings(1, 0, 0), settings(0, 1, 1)]),
        ),
    ]
}

/// The store as `reg export` of FirewallPolicy writes it (`"` and `\` escaped).
fn reg_text(store: &Store) -> String {
    let mut out = String::from("Windows Registry Editor Version 5.00\r\n");
    for (key, values) in store {
        let path = if key.is_empty() {
            FIREWALL_POLICY.to_string()
        } else {
            format!("{FIREWALL_POLICY}\\{key}")
        };
        out.push_str(&format!("\r\n[HKEY_LOCAL_MACHINE\\{path}]\r\n"));
        for (name, v) in values {
            let v = match v {
                Value::Sz(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
                Value::Dword(d) => format!("dword:{d:08x}"),
                Value::Raw(..) => unreachable!("the stores here hold REG_SZ and REG_DWORD"),
            };
            out.push_str(&format!("\"{name}\"={v}\r\n"));
        }
    }
    out
}

/// The store as a hive: `root` is FirewallPolicy itself (what a real export holds), or the
/// hive holds the full path from SYSTEM down.
fn hive_of(store: &Store, full_path: bool) -> Written {
    let mut root = Key::new("{75FC3BF7-0000-4000-8000-000000000000}");
    let base = if full_path {
        FIREWALL_POLICY.to_string()
    } else {
        String::new()
    };
    for (key, values) in store {
        let path = [base.as_str(), key]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\\");
        let k = root.at(&path);
        k.values
            .extend(values.iter().map(|(n, v)| (n.to_string(), v.clone())));
    }
    hive::write(&root)
}

fn tree_of(store: &Store) -> Key {
    let mut root = Key::new("{75FC3BF7-0000-4000-8000-000000000000}");
    for (key, values) in store {
        root.at(key)
            .values
            .extend(values.iter().map(|(n, v)| (n.to_string(), v.clone())));
    }
    root
}

/// hivex's reading of a hive: every key by path below the root, with its values as
/// `[name, type, hex data]`, in the hive's order.
const HIVEX: &str = r#"
import sys, json, hivex
h = hivex.Hivex(sys.argv[1])
out = {}
def walk(node, path):
    vals = []
    for v in h.node_values(node):
        t, data = h.value_value(v)
        vals.append([h.value_key(v), t, data.hex()])
    out[path] = vals
    for c in h.node_children(node):
        walk(c, (path + "\\" if path else "") + h.node_name(c))
walk(h.root(), "")
print(json.dumps({"root": h.node_name(h.root()), "keys": out}))
"#;

const DEBIAN_PYTHON: &str = "/usr/bin/python3";

fn hivex_available() -> bool {
    real::reader(
        "hivex (python3-hivex)",
        DEBIAN_PYTHON,
        &["-c", "import hivex"],
    )
}

fn hivex_read(path: &Path) -> Json {
    serde_json::from_str(&real::stdout_of(
        DEBIAN_PYTHON,
        &["-c", HIVEX, path.to_str().unwrap()],
    ))
    .unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every hive the tests use is what hivex reads, key by key and value by value; and rpcaudit's
/// walk of it (`wfw::values`) gives the same values under the key paths a `.reg` names.
#[test]
fn hivex_reads_the_written_hives_key_by_key() {
    if !hivex_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for (name, store) in variants() {
        for full_path in [false, true] {
            let w = hive_of(&store, full_path);
            let path = dir.path().join(format!("{name}-{full_path}.wfw"));
            std::fs::write(&path, &w.bytes).unwrap();
            let hx = hivex_read(&path);
            // What the writer was asked to write, by path.
            let mut want_tree = tree_of(&store);
            if full_path {
                let mut root = Key::new(&want_tree.name);
                want_tree.name = "FirewallPolicy".into();
                *root.at(FIREWALL_POLICY) = std::mem::take(&mut want_tree);
                want_tree = root;
            }
            let want = want_tree.flatten();
            let keys = hx["keys"].as_object().unwrap();
            let mut got_keys: Vec<String> = keys.keys().cloned().collect();
            got_keys.sort();
            assert_eq!(
                got_keys,
                want.keys().cloned().collect::<Vec<_>>(),
                "{name}: the keys"
            );
            for (path, values) in &want {
                let got: Vec<(String, u64, String)> = keys[path]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| {
                        (
                            v[0].as_str().unwrap().to_string(),
                            v[1].as_u64().unwrap(),
                            v[2].as_str().unwrap().to_string(),
                        )
                    })
                    .collect();
                let expected: Vec<(String, u64, String)> = values
                    .iter()
                    .map(|(n, v)| (n.clone(), u64::from(v.kind()), hex(&v.bytes())))
                    .collect();
                assert_eq!(got, expected, "{name}: values of {path:?}");
                compared += 1;
            }
            // rpcaudit's walk: the same values, where a .reg export would name them.
            let ours = wfw::values(&w.bytes).unwrap();
            assert_eq!(ours.keys, want.len());
            let mut number = 0;
            for (path, values) in &want {
                let below = path
                    .split('\\')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>();
                for (n, v) in values {
                    let found = ours
                        .values
                        .iter()
                        .find(|o| &o.name == n && o.key == wfw::below_hklm(&below))
                        .unwrap_or_else(|| panic!("{name}: {path}\\{n} not read"));
                    let same = match (v, &found.data) {
                        (Value::Sz(a), policy::reg_export::RegData::Sz(b)) => a == b,
                        (Value::Dword(a), policy::reg_export::RegData::Dword(b)) => a == b,
                        _ => false,
                    };
                    assert!(same, "{name}: {path}\\{n}: {:?}", found.data);
                    number += 1;
                }
            }
            assert_eq!(ours.values.len(), number);
        }
    }
    assert!(compared >= 30, "only {compared} keys compared");
}

/// `rpcaudit policy ARGS FILE... --json`: exit code and JSON.
fn policy_json(args: &[&str], files: &[&Path]) -> (i32, Json) {
    let mut a = vec!["policy"];
    a.extend_from_slice(args);
    let files: Vec<&str> = files.iter().map(|f| f.to_str().unwrap()).collect();
    a.extend(files);
    a.push("--json");
    let (code, out, err) = run(&a);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{a:?}: not JSON ({e}): {out}\nstderr: {err}"));
    (code, v)
}

/// An answer without what names the file and the line (or value number) it cites: the
/// `file` and `line` fields, and `FILE:N` in messages, for every file given (the store's
/// file names differ only in their extensions).
fn without_citation(mut v: Json) -> Json {
    /// `DIR/NAME.EXT:N` (the test files are in a temporary directory) as `FILE:N`.
    fn uncite(s: &str) -> String {
        let tmp = std::env::temp_dir();
        let tmp = tmp.to_str().unwrap();
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(tmp) {
            out.push_str(&rest[..i]);
            let after = &rest[i..];
            let end = after
                .find(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == ')')
                .unwrap_or(after.len());
            let cited = &after[..end];
            out.push_str("FILE");
            if cited
                .rsplit_once(':')
                .is_some_and(|(_, n)| !n.is_empty() && n.chars().all(|d| d.is_ascii_digit()))
            {
                out.push_str(":N");
            }
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    }
    fn strip(v: &mut Json) {
        match v {
            Json::String(s) => *s = uncite(s),
            Json::Object(m) => {
                m.remove("file");
                m.remove("line");
                m.remove("column");
                m.remove("rtt_ms");
                for x in m.values_mut() {
                    strip(x);
                }
            }
            Json::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

const SOURCES: [&str; 4] = ["10.1.1.5", "10.1.9.9", "10.2.0.1", "192.0.2.7"];
const PORTS: [(&str, &str); 5] = [
    ("135", "tcp"),
    ("445", "tcp"),
    ("5001", "tcp"),
    ("49152", "tcp"),
    ("135", "udp"),
];

fn explain_all(files: &[&Path]) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    for src in SOURCES {
        for (port, proto) in PORTS {
            let (code, v) = policy_json(
                &["explain", "--src", src, "--port", port, "--proto", proto],
                files,
            );
            assert_eq!(code, 0, "{files:?} {src} {proto}/{port}: {v}");
            out.push((format!("{src} {proto}/{port}"), without_citation(v)));
        }
    }
    out
}

/// The issue's acceptance: a `.wfw` and the `.reg` export of the same store give identical
/// `explain` answers (but for the file and line they cite), for every port and source, in
/// every variant of the profile settings, in both layouts; `lint` gives the same findings.
#[test]
fn a_wfw_and_the_reg_export_of_the_same_store_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let mut actions = std::collections::BTreeSet::new();
    for (name, store) in variants() {
        let reg = dir.path().join(format!("{name}.reg"));
        std::fs::write(&reg, reg_text(&store)).unwrap();
        let want = explain_all(&[&reg]);
        for (_, v) in &want {
            actions.insert(v["action"].as_str().unwrap().to_string());
        }
        let (_, lint_reg) = policy_json(&["lint"], &[&reg]);
        for full_path in [false, true] {
            let wfw = dir.path().join(format!("{name}-{full_path}.wfw"));
            std::fs::write(&wfw, hive_of(&store, full_path).bytes).unwrap();
            let got = explain_all(&[&wfw]);
            for ((what, w), (_, g)) in want.iter().zip(&got) {
                assert_eq!(g, w, "{name} (full path {full_path}): {what}");
            }
            let (_, lint_wfw) = policy_json(&["lint"], &[&wfw]);
            assert_eq!(
                without_citation(lint_wfw)["findings"],
                without_citation(lint_reg.clone())["findings"],
                "{name}: lint"
            );
        }
    }
    // The variants decide every way there is, so the comparison could fail on each.
    for a in ["pass", "block", "conditional"] {
        assert!(actions.contains(a), "no {a} among {actions:?}");
    }
}

/// A finding cites the value's number in the walk; `explain` cites the rule's.
#[test]
fn citations_name_the_value_number() {
    let (_, store) = variants().remove(0);
    let w = hive_of(&store, false);
    let walk = wfw::values(&w.bytes).unwrap();
    let number = walk
        .values
        .iter()
        .find(|v| v.name == "{A1}")
        .unwrap()
        .number;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.wfw");
    std::fs::write(&path, &w.bytes).unwrap();
    let (_, v) = policy_json(&["explain", "--src", "10.1.1.5", "--port", "135"], &[&path]);
    assert_eq!(v["action"], "pass", "{v}");
    assert_eq!(v["rule"]["name"], "EPM from admins", "{v}");
    assert_eq!(v["rule"]["line"], number, "{v}");
    assert_eq!(v["rule"]["file"], path.to_str().unwrap(), "{v}");
}

/// A GPO's `AllowLocalPolicyMerge=0` takes the local rules of a `.wfw` out of force as it
/// does a `.reg` export's; `policy diff` and `audit --store` take a `.wfw` where they take a
/// `.reg` store, and say the same.
#[test]
fn diff_audit_and_the_gpo_merge_take_a_wfw_as_a_reg() {
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = variants().remove(0);
    let reg = dir.path().join("local.reg");
    std::fs::write(&reg, reg_text(&store)).unwrap();
    let wfw = dir.path().join("local.wfw");
    std::fs::write(&wfw, hive_of(&store, false).bytes).unwrap();
    let gpo = dir.path().join("gpo.reg");
    std::fs::write(
        &gpo,
        "Windows Registry Editor Version 5.00\r\n\r\n\
         [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\DomainProfile]\r\n\
         \"AllowLocalPolicyMerge\"=dword:00000000\r\n\"DefaultInboundAction\"=dword:00000001\r\n\
         [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\PrivateProfile]\r\n\
         \"AllowLocalPolicyMerge\"=dword:00000000\r\n\"DefaultInboundAction\"=dword:00000001\r\n\
         [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\PublicProfile]\r\n\
         \"AllowLocalPolicyMerge\"=dword:00000000\r\n\"DefaultInboundAction\"=dword:00000001\r\n",
    )
    .unwrap();
    let merged_reg = explain_all(&[&gpo, &reg]);
    let merged_wfw = explain_all(&[&gpo, &wfw]);
    assert_eq!(merged_wfw, merged_reg);
    // The local allow of 135 from 10.1.1.0/24 is out of force: the GPO's default blocks.
    let (_, v) = policy_json(
        &["explain", "--src", "10.1.1.5", "--port", "135"],
        &[&gpo, &wfw],
    );
    assert_eq!(v["action"], "block", "{v}");
    assert_eq!(
        v["rule"]["file"],
        gpo.to_str().unwrap(),
        "the GPO's default decides: {v}"
    );

    // policy diff: the article's script against either form of the store.
    let script = support::article_policy();
    let diff = |store: &Path| {
        let (code, out, err) = run(&[
            "policy",
            "diff",
            script,
            "--store",
            store.to_str().unwrap(),
            "--json",
        ]);
        let v: Json = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("diff: not JSON ({e}): {out}\n{err}"));
        (code, without_citation(v))
    };
    let (code_reg, diff_reg) = diff(&reg);
    let (code_wfw, diff_wfw) = diff(&wfw);
    assert_eq!((code_wfw, &diff_wfw), (code_reg, &diff_reg));
    assert!(
        !diff_reg["findings"].as_array().unwrap().is_empty(),
        "the store and the article's script disagree: {diff_reg}"
    );

    // audit --store against the fixture endpoint mapper: the same matrix and findings.
    let f = support::Fixture::start(&["--tcp-endpoints", "4", "--tcp-ports", "5001-5002"]);
    let port = f.port();
    let audit = |store: &Path| {
        let (code, v, err) = support::run_json(&support::audit_args(
            &port,
            &["--json", "--store", store.to_str().unwrap()],
        ));
        assert!(!err.contains("nothing could be read"), "{err}");
        (code, v)
    };
    let (code_reg, a_reg) = audit(&reg);
    let (code_wfw, a_wfw) = audit(&wfw);
    assert_eq!(code_wfw, code_reg);
    assert_eq!(
        a_wfw["inputs"]["store_files"][0]["dialects"],
        serde_json::json!(["firewall-store"])
    );
    assert_eq!(a_wfw["inputs"]["store_files"][0]["encoding"], "regf");
    assert_eq!(
        without_citation(a_wfw["matrix"].clone()),
        without_citation(a_reg["matrix"].clone())
    );
    let codes = |v: &Json| support::finding_codes(v);
    assert_eq!(codes(&a_wfw), codes(&a_reg));
}

/// Hostile hives: each is refused with an error naming the file (exit 2), by every command,
/// within a second, and the library says why without panicking.
#[test]
fn hostile_hives_are_refused_naming_the_file() {
    let (_, store) = variants().remove(0);
    let good = hive_of(&store, false);
    let rules = good.cells["FirewallRules"];
    let root = good.cells[""];
    let domain = good.cells["DomainProfile"];
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    // Truncated: within the header, within the bin.
    cases.push(("header-cut", good.bytes[..300].to_vec(), "cannot be read"));
    cases.push((
        "bin-cut",
        good.bytes[..good.bytes.len() - 1000].to_vec(),
        "cannot be read",
    ));
    // Garbage after the signature.
    let mut garbage = b"regf".to_vec();
    garbage.extend((0..9000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    cases.push(("garbage", garbage, "cannot be read"));
    // A header changed without its checksum.
    let mut bad = good.clone();
    bad.bytes[60] ^= 0x55;
    cases.push(("checksum", bad.bytes, "checksum does not match"));
    // The root cell offset out of range.
    let mut bad = good.clone();
    bad.put_u32(36, 0x7fff_fff0);
    bad.fix_checksum();
    cases.push(("root-offset", bad.bytes, "cannot be read"));
    // A value list pointing past the end.
    let mut bad = good.clone();
    bad.put_u32(Written::data_at(rules.2), 0x00ff_0000);
    cases.push(("value-offset", bad.bytes, "cannot be read"));
    // Huge counts: values and subkeys.
    let mut bad = good.clone();
    bad.put_u32(Written::data_at(rules.0) + 36, 0x7fff_ffff);
    cases.push(("value-count", bad.bytes, "cannot be read"));
    let mut bad = good.clone();
    bad.put_u32(Written::data_at(root.0) + 20, 0xffff_fff0);
    cases.push(("subkey-count", bad.bytes, "cannot be read"));
    // Loops: the root's subkey list names the root; a subkey's list names its parent.
    let mut bad = good.clone();
    bad.put_u32(Written::data_at(root.1) + 4, root.0);
    cases.push(("loop-to-root", bad.bytes, "cannot be read"));
    let mut bad = good.clone();
    // DomainProfile's list (of Logging) names the root instead, with the root's hash.
    bad.put_u32(Written::data_at(domain.1) + 4, root.0);
    bad.put_u32(
        Written::data_at(domain.1) + 8,
        hive::name_hash("{75FC3BF7-0000-4000-8000-000000000000}"),
    );
    cases.push(("loop-to-ancestor", bad.bytes, "cannot be read"));
    // Sequence numbers that differ: not written to the end.
    let mut bad = good.clone();
    bad.put_u32(4, 2);
    bad.fix_checksum();
    cases.push(("unfinished", bad.bytes, "not written to the end"));

    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, why) in &cases {
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| wfw::values(bytes));
        let err = match outcome {
            Ok(Err(e)) => e.to_string(),
            Ok(Ok(h)) => panic!("{name}: read as {} values", h.values.len()),
            Err(_) => panic!("{name}: the reader panicked"),
        };
        assert!(started.elapsed() < Duration::from_secs(1), "{name}: slow");
        let path: PathBuf = dir.path().join(format!("{name}.wfw"));
        std::fs::write(&path, bytes).unwrap();
        let file = path.to_str().unwrap();
        for args in [
            vec!["policy", "lint", file],
            vec![
                "policy", "explain", file, "--src", "10.1.1.5", "--port", "135",
            ],
            vec!["policy", "diff", support::article_policy(), "--store", file],
        ] {
            let started = Instant::now();
            let (code, out, stderr) = run(&args);
            assert_eq!(code, 2, "{name} {args:?}: {out}\n{stderr}");
            assert!(
                stderr.contains(&format!(
                    "{file}: nothing could be read from it: a registry hive (regf)"
                )) && stderr.contains(why),
                "{name} {args:?}: {stderr} (library: {err})"
            );
            assert!(started.elapsed() < Duration::from_secs(10), "{name}: slow");
        }
    }
    // A hive with no firewall key is refused for that, not read as an empty store.
    let mut other = Key::new("root");
    other
        .at("Software\\Other")
        .values
        .push(("X".into(), Value::Dword(1)));
    let path = dir.path().join("other.wfw");
    std::fs::write(&path, hive::write(&other).bytes).unwrap();
    let (code, _, stderr) = run(&["policy", "lint", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no firewall key rpcaudit reads"),
        "{stderr}"
    );
}

/// Random damage to a good hive never panics the reader and never takes long.
#[test]
fn damaged_hives_never_panic() {
    let (_, store) = variants().remove(0);
    let good = hive_of(&store, false).bytes;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let started = Instant::now();
    let mut refused = 0;
    for i in 0..2000 {
        let mut b = good.clone();
        for _ in 0..(1 + i % 6) {
            let at = (next() as usize) % b.len();
            b[at] = next() as u8;
        }
        if i % 5 == 0 {
            let cut = (next() as usize) % b.len();
            b.truncate(cut);
        }
        let outcome = std::panic::catch_unwind(|| {
            let mut sink = policy::sink::Sink::new("x.wfw");
            wfw::read(&b, &mut sink).is_err()
        });
        refused += usize::from(outcome.expect("the reader panicked"));
    }
    assert!(
        refused > 100,
        "only {refused} of 2000 damaged hives refused"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// The fuzz seed of `policy_wfw` is the writer's hive of the first variant
/// (`UPDATE_SEEDS=1 cargo test --test wfw_hive` writes it again).
#[test]
fn the_fuzz_seed_is_a_written_hive() {
    let (_, store) = variants().remove(0);
    let bytes = hive_of(&store, false).bytes;
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/policy_wfw/store.wfw");
    if std::env::var_os("UPDATE_SEEDS").is_some() {
        std::fs::write(&seed, &bytes).unwrap();
    }
    assert_eq!(std::fs::read(&seed).unwrap(), bytes, "{}", seed.display());
}

/// The caps: keys nested deeper than a firewall export could be, and more keys than one holds,
/// are refused, quickly.
#[test]
fn hives_over_the_caps_are_refused() {
    let mut deep = Key::new("root");
    let path = (0..=wfw::MAX_DEPTH)
        .map(|i| format!("k{i}"))
        .collect::<Vec<_>>();
    deep.at(&path.join("\\"));
    let err = wfw::values(&hive::write(&deep).bytes).unwrap_err();
    assert_eq!(err, wfw::WfwError::TooDeep(wfw::MAX_DEPTH));
    // One level less is read.
    let mut ok = Key::new("root");
    ok.at(&path[..wfw::MAX_DEPTH].join("\\"));
    assert_eq!(
        wfw::values(&hive::write(&ok).bytes).unwrap().keys,
        wfw::MAX_DEPTH + 1
    );

    // Four keys of a quarter of the cap each (an lh list counts in 16 bits).
    let mut wide = Key::new("root");
    wide.subkeys = (0..4)
        .map(|g| Key {
            subkeys: (0..wfw::MAX_KEYS / 4)
                .map(|i| Key::new(&format!("k{i:06}")))
                .collect(),
            ..Key::new(&format!("g{g}"))
        })
        .collect();
    let bytes = hive::write(&wide).bytes;
    assert!(
        bytes.len() as u64 <= policy::MAX_FILE_BYTES,
        "{}",
        bytes.len()
    );
    let started = Instant::now();
    let err = wfw::values(&bytes).unwrap_err();
    assert_eq!(
        err,
        wfw::WfwError::TooMany {
            what: "keys",
            max: wfw::MAX_KEYS
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}
