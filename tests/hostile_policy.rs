//! Hostile policy files of the largest size rpcaudit reads (16 MiB), each built to make a
//! naive reader spend gigabytes or hours: a million bad lines, a hundred thousand distinct
//! allow rules, one 16 MiB line, 400,000 continuation lines, `set` variables that double at
//! every line, a `for` loop over a 60 KB body, binary noise. Through the real binary under GNU
//! time, each must end with a bounded, honest answer (findings capped, unreadable files
//! refused) in under 256 MiB of peak memory. Timings go in BENCHMARKS.md; the deadline here
//! only catches a run that hangs.

mod support;

use std::path::Path;
use std::time::Duration;
use support::run_measured;

const FILE_BYTES: usize = 16 * 1024 * 1024 - 4096;
const PEAK_KIB: u64 = 256 * 1024;
/// A hang detector for unoptimised builds on a loaded 2-core machine, not a speed target.
const DEADLINE: Duration = Duration::from_secs(120);

/// `bytes` written to `dir/name`; its path.
fn written(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

/// `unit` repeated to (nearly) 16 MiB, written to `dir/name`.
fn repeated(dir: &Path, name: &str, unit: &[u8]) -> String {
    written(dir, name, &unit.repeat(FILE_BYTES / unit.len()))
}

fn lint(file: &str) -> support::Measured {
    let m = run_measured(&["policy", "lint", file, "--json"]);
    assert!(
        m.peak_kib < PEAK_KIB,
        "{file}: peak RSS {} KiB (limit {PEAK_KIB})",
        m.peak_kib
    );
    assert!(m.elapsed < DEADLINE, "{file}: took {:?}", m.elapsed);
    m
}

/// `policy lint` on `unit` repeated to (nearly) 16 MiB in a file `name`.
fn lint_repeated(name: &str, unit: &[u8]) -> support::Measured {
    let dir = tempfile::tempdir().unwrap();
    lint(&repeated(dir.path(), name, unit))
}

/// Exit 1 (findings), and the findings say `said`.
fn findings_say(m: &support::Measured, said: &str) {
    assert_eq!(m.code, 1, "{}", m.stderr);
    assert!(m.stdout.contains(said), "{}", m.stdout);
}

/// Exit 2 (refused), and the error says `said`.
fn refused_saying(m: &support::Measured, said: &str) {
    assert_eq!(m.code, 2, "{}", m.stdout);
    assert!(m.stderr.contains(said), "{}", m.stderr);
}

fn codes(m: &support::Measured) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&m.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", m.stdout, m.stderr));
    support::finding_codes(&v)
}

#[test]
fn a_million_bad_lines_give_a_hundred_findings_and_a_count() {
    let m = lint_repeated(
        "bad.cmd",
        b"ipseccmd -w REG -p P -r R -f bogus -n BLOCK\r\n",
    );
    assert_eq!(m.code, 1, "{}", m.stderr);
    let c = codes(&m);
    let parse = c.iter().filter(|c| *c == "parse-error").count();
    // 100 listed and one that counts the rest.
    assert_eq!(parse, 101, "{c:?}");
    assert!(
        m.stdout
            .contains("more parse-error findings are not listed")
    );
}

#[test]
fn a_hundred_thousand_allow_rules_are_checked_or_refused_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    // Distinct sources, so no answer can be reused.
    let mut text = String::from("rpccfg.exe -pe 5001-5021 -d 0\r\n");
    let mut i = 0u32;
    while text.len() < FILE_BYTES - 200 {
        text += &format!(
            "New-NetFirewallRule -DisplayName A{i} -Direction Inbound -Action Allow -Protocol TCP -LocalPort 135,5001-5021 -RemoteAddress 10.{}.{}.{}\r\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
        i += 1;
    }
    let m = lint(&written(dir.path(), "allows.ps1", text.as_bytes()));
    assert_eq!(m.code, 1, "{}", m.stderr);
    let c = codes(&m);
    assert!(c.iter().any(|c| c == "lint-skipped"), "{c:?}");
    assert!(c.len() < 1000, "{} findings", c.len());
}

/// A `.wfw` hive (`netsh advfirewall export`) of distinct allow rules, near 16 MiB: read
/// through the hive crate and checked like any store, in bounded time and memory; the same
/// file with its bins cut is refused.
#[test]
fn a_sixteen_mebibyte_wfw_hive_of_allow_rules_is_bounded() {
    use support::hive::{self, Key, Value};
    let dir = tempfile::tempdir().unwrap();
    let mut root = Key::new("{00000000-0000-4000-8000-000000000000}");
    root.at("DomainProfile")
        .values
        .push(("EnableFirewall".into(), Value::Dword(1)));
    let rules = root.at("FirewallRules");
    let mut i = 0u32;
    // About 260 bytes a rule: the string in UTF-16, its value cell and its list entry.
    while (i as usize) < FILE_BYTES / 270 {
        rules.values.push((
            format!("{{A{i:08}}}"),
            Value::Sz(format!(
                "v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=135|LPort=5001-5021|RA4=10.{}.{}.{}|Name=A{i}|",
                (i >> 16) & 255,
                (i >> 8) & 255,
                i & 255
            )),
        ));
        i += 1;
    }
    let bytes = hive::write(&root).bytes;
    assert!(bytes.len() <= FILE_BYTES + 4096, "{}", bytes.len());
    let m = lint(&written(dir.path(), "allows.wfw", &bytes));
    eprintln!(
        "allows.wfw: {i} rules, {} bytes: {:?}, peak {} KiB",
        bytes.len(),
        m.elapsed,
        m.peak_kib
    );
    assert_eq!(m.code, 1, "{}", m.stderr);
    let c = codes(&m);
    assert!(c.len() < 1000, "{} findings", c.len());
    let cut = &bytes[..bytes.len() / 2];
    refused_saying(
        &lint(&written(dir.path(), "cut.wfw", cut)),
        "cut.wfw: nothing could be read from it: a registry hive (regf)",
    );
}

#[test]
fn identical_block_rules_by_the_hundred_thousand() {
    let m = lint_repeated(
        "blocks.cmd",
        b"netsh advfirewall firewall add rule name=\"B\" dir=in action=block protocol=TCP localport=135 remoteip=10.0.0.1\r\n",
    );
    assert!(m.code == 0 || m.code == 1, "{}", m.stderr);
    codes(&m);
}

#[test]
fn one_sixteen_mebibyte_line_and_endless_continuations_are_refused_in_words() {
    refused_saying(
        &lint_repeated("one.cmd", b"A"),
        "one.cmd: nothing could be read",
    );
    // A command rpcaudit reads, continued with `^` over 400,000 lines.
    let mut text = b"ipseccmd -w REG -p P -r R -f *=0:135:TCP -n BLOCK\r\n".to_vec();
    text.extend(b"netsh advfirewall firewall add rule ^\r\n".repeat(400_000));
    let dir = tempfile::tempdir().unwrap();
    let m = lint(&written(dir.path(), "caret.cmd", &text));
    findings_say(&m, "more than the 65536 rpcaudit reads");
}

#[test]
fn doubling_variables_and_huge_loops_stop_at_their_caps() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"set A=xx\r\n".to_vec();
    text.extend(b"set A=%A%%A%\r\n".repeat(60));
    text.extend(b"ipseccmd -w REG -p \"%A%\" -r R -f *=0:135:TCP -n BLOCK\r\n");
    text.extend(b"ipseccmd -w REG -p P -r R -f *=0:135:TCP -n BLOCK\r\n");
    let m = lint(&written(dir.path(), "bomb.cmd", &text));
    findings_say(&m, "once its %variables% are expanded");

    let mut text = b"for /L %%p in (1,1,100000) do ipseccmd -w REG -p \"".to_vec();
    text.extend(b"X".repeat(60_000));
    text.extend(
        b"\" -r R -f *=0:%%p:TCP -n BLOCK\r\nipseccmd -w REG -p P -r R -f *=0:135:TCP -n BLOCK\r\n",
    );
    let m = lint(&written(dir.path(), "loop.cmd", &text));
    findings_say(&m, "bytes a file may expand to");
}

#[test]
fn binary_noise_is_refused() {
    let noise: Vec<u8> = (0..=255u8).collect();
    refused_saying(
        &lint_repeated("noise.bin", &noise),
        "noise.bin: nothing could be read from it: the file is binary",
    );
}

#[test]
fn an_audit_with_a_hostile_policy_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let f = repeated(
        dir.path(),
        "bad.cmd",
        b"ipseccmd -w REG -p P -r R -f bogus -n BLOCK\r\nipseccmd -w REG -p P -r R -f *=0:135:TCP -n BLOCK\r\n",
    );
    let obs = dir.path().join("obs.json");
    std::fs::write(
        &obs,
        r#"{"observations":[{"source":"127.0.0.9","target":"127.0.0.1","port":135,"state":"filtered","attempts":2,"rtt_ms":null}]}"#,
    )
    .unwrap();
    // Nothing listens on port 9 of loopback: the dump fails at once.
    let m = run_measured(&[
        "audit",
        "127.0.0.1",
        "--port",
        "9",
        "--timeout",
        "2",
        "--no-probe",
        "--observations",
        obs.to_str().unwrap(),
        "--policy",
        &f,
    ]);
    assert!(m.peak_kib < PEAK_KIB, "peak RSS {} KiB", m.peak_kib);
    assert!(m.elapsed < DEADLINE, "took {:?}", m.elapsed);
    assert!(m.code == 1 || m.code == 3, "{}\n{}", m.stdout, m.stderr);
    assert!(
        m.stdout
            .contains("more parse-error findings are not listed"),
        "{}",
        m.stdout
    );
}
