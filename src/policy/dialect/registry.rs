//! The configured RPC dynamic port range: `HKLM\SOFTWARE\Microsoft\Rpc\Internet` as rpccfg.exe
//! command lines, `reg add` lines and regedit `.reg` exports set it, folded into the effective
//! range with the documented meaning of its three values:
//! - `Ports` (REG_MULTI_SZ): ports and `first-last` ranges;
//! - `PortsInternetAvailable` (Y/N): Y, the listed ports are the internet-available ones; N,
//!   they are the ones that are not;
//! - `UseInternetPorts` (Y/N): Y, dynamic endpoints get internet-available ports; N,
//!   intranet ports.
//!
//! So the dynamic range is the list when the two flags agree and everything else when they
//! differ. "If a key is missing or contains an invalid value, then the entire configuration is
//! marked as invalid and all RpcServerUseProtseq(ncacn_ip_tcp) calls will fail" (RPC_POLICY,
//! Win32 RPC reference). rpccfg: `-pe LIST` writes Ports and PortsInternetAvailable=Y, `-pi`
//! the same with N, `-d 0` UseInternetPorts=Y, `-d 1` UseInternetPorts=N (KB908472 runs
//! `rpccfg.exe -pe 5001-5021 -d 0`).

use crate::finding::{Code, Finding, Severity};
use crate::inert::excerpt;
use crate::policy::model::sink::Sink;
use crate::policy::store::reg_export::{self, KeyReader, RawValue, RegData, ValueLine};
use crate::policy::text::{dash_name, is_typographic_dash};
use crate::ports::PortRanges;

/// The key rpccfg.exe writes.
pub const KEY: &str = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Rpc\Internet";

/// One setting, with the file and line that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: RegData,
    pub file: String,
    pub line: usize,
}

impl Setting {
    /// A value RPC rejects (`range-invalid`), at the line that set it.
    fn invalid(&self, message: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding::new(Code::RangeInvalid, Severity::Error, message, fix)
            .at(self.file.clone(), self.line)
    }
}

/// The Rpc\Internet key as a sequence of files leaves it. `None`: value absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeState {
    /// Some line touched the key (set a value or deleted it).
    pub touched: bool,
    pub ports: Option<Setting>,
    pub internet_available: Option<Setting>,
    pub use_internet: Option<Setting>,
    /// What was done, in order, so later files can be replayed on earlier ones.
    ops: Vec<RangeOp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RangeOp {
    Set(String, Option<Setting>),
    ClearKey,
}

impl RangeState {
    fn set(&mut self, name: &str, value: Option<RegData>, file: &str, line: usize) -> bool {
        let setting = value.map(|value| Setting {
            value,
            file: file.to_string(),
            line,
        });
        self.set_setting(name, setting)
    }

    fn set_setting(&mut self, name: &str, setting: Option<Setting>) -> bool {
        let slot = match name.to_ascii_lowercase().as_str() {
            "ports" => &mut self.ports,
            "portsinternetavailable" => &mut self.internet_available,
            "useinternetports" => &mut self.use_internet,
            _ => return false,
        };
        *slot = setting.clone();
        self.touched = true;
        self.ops.push(RangeOp::Set(name.to_string(), setting));
        true
    }

    /// The key was deleted (or rpccfg -r): back to the OS default range.
    pub fn clear(&mut self) {
        self.ports = None;
        self.internet_available = None;
        self.use_internet = None;
        self.touched = true;
        self.ops.push(RangeOp::ClearKey);
    }

    /// Replay what a later file did on top of this state.
    pub fn merge(&mut self, later: &RangeState) {
        for op in &later.ops {
            match op {
                RangeOp::Set(name, setting) => {
                    self.set_setting(name, setting.clone());
                }
                RangeOp::ClearKey => self.clear(),
            }
        }
    }
}

/// How the effective range was reached.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RangeKind {
    /// The flags agree: the range is the list.
    Listed,
    /// The flags differ: the range is every port except the list.
    Inverted,
    /// RPC rejects the configuration: no dynamic port at all.
    Invalid,
    /// Given on the command line with `--range`.
    Override,
}

/// The effective range and what it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub ports: PortRanges,
    pub kind: RangeKind,
    /// `file:line` of the Ports value.
    pub source: String,
    /// The Ports list as written (the complement of `ports` when inverted).
    pub listed: PortRanges,
}

fn yes_no(s: &Setting, name: &str, sink: &mut Vec<crate::finding::Finding>) -> Option<bool> {
    let bad = |why: String, sink: &mut Vec<crate::finding::Finding>| {
        sink.push(s.invalid(
            format!("{name} {why}; RPC then rejects the whole Rpc\\Internet configuration and every ncacn_ip_tcp registration fails"),
            format!("set {name} to the REG_SZ \"Y\" or \"N\""),
        ));
        None
    };
    match &s.value {
        RegData::Sz(v) => match v.trim() {
            "Y" | "y" => Some(true),
            "N" | "n" => Some(false),
            other => bad(format!("is \"{}\", not Y or N", excerpt(other)), sink),
        },
        other => bad(format!("has type {}, not REG_SZ", other.type_name()), sink),
    }
}

/// Fold the state into the effective range. `Ok(None)` when the key was never configured
/// (the OS default range applies). Findings: range-invalid, range-inverted.
pub fn resolve(state: &RangeState) -> (Option<Resolved>, Vec<crate::finding::Finding>) {
    let mut findings = Vec::new();
    if !state.touched
        || (state.ports.is_none()
            && state.internet_available.is_none()
            && state.use_internet.is_none())
    {
        return (None, findings);
    }
    let anchor = [&state.ports, &state.internet_available, &state.use_internet]
        .into_iter()
        .flatten()
        .next()
        .map(|s| (s.file.clone(), s.line))
        .unwrap_or_default();
    let invalid = |source: String| Resolved {
        ports: PortRanges::default(),
        kind: RangeKind::Invalid,
        source,
        listed: PortRanges::default(),
    };
    let mut missing = Vec::new();
    for (v, name) in [
        (&state.ports, "Ports"),
        (&state.internet_available, "PortsInternetAvailable"),
        (&state.use_internet, "UseInternetPorts"),
    ] {
        if v.is_none() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        findings.push(
            crate::finding::Finding::new(
                Code::RangeInvalid,
                Severity::Error,
                format!(
                    "Rpc\\Internet is configured but {} missing (unless already set on the machine): RPC then rejects the whole configuration and every ncacn_ip_tcp registration fails",
                    if missing.len() == 1 { format!("{} is", missing[0]) } else { format!("{} are", missing.join(" and ")) }
                ),
                "set all three values, e.g. rpccfg.exe -pe 5001-5021 -d 0 (Ports, PortsInternetAvailable=Y, UseInternetPorts=Y)",
            )
            .at(anchor.0.clone(), anchor.1),
        );
    }
    let ia = state
        .internet_available
        .as_ref()
        .and_then(|s| yes_no(s, "PortsInternetAvailable", &mut findings));
    let ui = state
        .use_internet
        .as_ref()
        .and_then(|s| yes_no(s, "UseInternetPorts", &mut findings));
    let listed = state.ports.as_ref().and_then(|s| {
        let strings: Vec<String> = match &s.value {
            RegData::MultiSz(v) => v.clone(),
            RegData::Sz(v) => {
                findings.push(s.invalid(
                    format!("Ports is a REG_SZ (\"{}\"); RPC reads it as a REG_MULTI_SZ and rejects the configuration", excerpt(v)),
                    "write Ports as REG_MULTI_SZ (hex(7): in .reg, /t REG_MULTI_SZ with reg add), one range per string",
                ));
                return None;
            }
            other => {
                findings.push(s.invalid(
                    format!("Ports has type {}; RPC needs a REG_MULTI_SZ and rejects the configuration", other.type_name()),
                    "write Ports as REG_MULTI_SZ, one range per string, e.g. 5001-5021",
                ));
                return None;
            }
        };
        let mut ranges = Vec::new();
        for item in strings.iter().filter(|x| !x.trim().is_empty()) {
            match PortRanges::parse(item.trim()) {
                Ok(r) => ranges.extend_from_slice(r.ranges()),
                Err(e) => {
                    let dash = item.chars().find(|&c| is_typographic_dash(c));
                    let why = match dash {
                        Some(c) => format!("contains an {} instead of '-'", dash_name(c)),
                        None => e.to_string(),
                    };
                    findings.push(s.invalid(
                        format!("Ports entry \"{}\" {why}; RPC rejects the whole configuration and every ncacn_ip_tcp registration fails", excerpt(item)),
                        "write each entry as a port 0-65535 or first-last with an ASCII '-', e.g. 5001-5021",
                    ));
                    return None;
                }
            }
        }
        if ranges.is_empty() {
            findings.push(s.invalid(
                "Ports is empty; RPC rejects the configuration",
                "list at least the ports of the range, e.g. 5001-5021",
            ));
            return None;
        }
        Some((PortRanges::from_ranges(ranges), format!("{}:{}", s.file, s.line)))
    });
    let (Some((listed, source)), Some(ia), Some(ui)) = (listed, ia, ui) else {
        let source = state
            .ports
            .as_ref()
            .map(|s| format!("{}:{}", s.file, s.line))
            .unwrap_or_else(|| format!("{}:{}", anchor.0, anchor.1));
        return (Some(invalid(source)), findings);
    };
    if ia == ui {
        return (
            Some(Resolved {
                ports: listed.clone(),
                kind: RangeKind::Listed,
                source,
                listed,
            }),
            findings,
        );
    }
    let ports = complement(&listed);
    let (file, line) = state
        .ports
        .as_ref()
        .map(|s| (s.file.clone(), s.line))
        .unwrap_or_default();
    findings.push(
        crate::finding::Finding::new(
            Code::RangeInverted,
            Severity::Error,
            format!(
                "PortsInternetAvailable={} with UseInternetPorts={}: the dynamic range is every port except {listed} ({} ports), not the list",
                if ia { "Y" } else { "N" },
                if ui { "Y" } else { "N" },
                ports.size()
            ),
            "set PortsInternetAvailable=Y and UseInternetPorts=Y (rpccfg.exe -pe LIST -d 0) so the list is the range",
        )
        .at(file, line),
    );
    (
        Some(Resolved {
            ports,
            kind: RangeKind::Inverted,
            source,
            listed,
        }),
        findings,
    )
}

/// Every port 1-65535 not in `listed` (port 0 is never handed out).
pub fn complement(listed: &PortRanges) -> PortRanges {
    let mut out = Vec::new();
    let mut next: u32 = 1;
    for &(a, b) in listed.ranges() {
        if u32::from(a) > next {
            out.push((next as u16, a - 1));
        }
        next = next.max(u32::from(b) + 1);
    }
    if next <= 65535 {
        out.push((next as u16, 65535));
    }
    PortRanges::from_ranges(out)
}

/// An rpccfg.exe command line (words after the program name).
pub fn apply_rpccfg(state: &mut RangeState, sink: &mut Sink, line: usize, words: &[String]) {
    let mut i = 0;
    let mut sets: Vec<(&str, RegData)> = Vec::new();
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if sink.typographic_switch(
            line,
            w,
            "rpccfg does not recognise the switch and changes nothing",
        ) {
            return;
        }
        let sw = w.trim_start_matches(['-', '/']).to_ascii_lowercase();
        let mut values = Vec::new();
        while i < words.len()
            && !words[i].starts_with(['-', '/'])
            && !words[i].starts_with(is_typographic_dash)
        {
            values.push(words[i].clone());
            i += 1;
        }
        match sw.as_str() {
            "pe" | "pi" => {
                if values.is_empty() {
                    sink.about(w).parse_error(
                        line,
                        format!("rpccfg {w} needs a port list"),
                        "write e.g. rpccfg.exe -pe 5001-5021 -d 0",
                    );
                    return;
                }
                if let Some((v, c)) = values
                    .iter()
                    .find_map(|v| v.chars().find(|&c| is_typographic_dash(c)).map(|c| (v, c)))
                {
                    sink.about(v).push(
                        Code::TypographicDash,
                        Severity::Error,
                        line,
                        format!(
                            "the port range '{}' uses an {} instead of '-'",
                            excerpt(&values.join(" ")),
                            dash_name(c)
                        ),
                        format!(
                            "write '{}'",
                            excerpt(&crate::policy::text::ascii_dashes(&values.join(" ")))
                        ),
                    );
                }
                sets.push(("Ports", RegData::MultiSz(values)));
                sets.push((
                    "PortsInternetAvailable",
                    RegData::Sz(if sw == "pe" { "Y" } else { "N" }.into()),
                ));
            }
            "d" => match values.first().map(String::as_str) {
                Some("0") => sets.push(("UseInternetPorts", RegData::Sz("Y".into()))),
                Some("1") => sets.push(("UseInternetPorts", RegData::Sz("N".into()))),
                _ => {
                    sink.about(values.first().map_or(w.as_str(), String::as_str))
                        .parse_error(
                            line,
                            format!(
                                "rpccfg -d takes 0 (internet) or 1 (intranet), not '{}'",
                                excerpt(&values.join(" "))
                            ),
                            "write -d 0",
                        );
                    return;
                }
            },
            "r" => {
                // Remove the settings: RPC goes back to the default range.
                state.clear();
            }
            "l" | "q" | "?" | "h" | "a" => {}
            _ => {
                sink.about(w).parse_error(
                    line,
                    format!("'{w}' is not an rpccfg switch", w = excerpt(w)),
                    "use -pe, -pi and -d as KB908472 shows",
                );
                return;
            }
        }
    }
    for (name, v) in sets {
        state.set(name, Some(v), &sink.file, line);
    }
}

/// `reg add HKLM\SOFTWARE\Microsoft\Rpc\Internet /v NAME /t TYPE /d DATA /f` and
/// `reg delete ... [/v NAME] /f` (words after `reg`).
pub fn apply_reg_command(state: &mut RangeState, sink: &mut Sink, line: usize, words: &[String]) {
    let Some(verb) = words.first().map(|w| w.to_ascii_lowercase()) else {
        return;
    };
    let Some(key) = words.get(1) else { return };
    if !is_rpc_internet_key(key) {
        return;
    }
    let mut name = None;
    // reg add writes a REG_SZ when /t is not given.
    let mut ty = "REG_SZ".to_string();
    let mut data = None;
    let mut i = 2;
    while i < words.len() {
        match words[i].to_ascii_lowercase().as_str() {
            "/v" => {
                name = words.get(i + 1).cloned();
                i += 1;
            }
            "/t" => {
                ty = words
                    .get(i + 1)
                    .cloned()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                i += 1;
            }
            "/d" => {
                data = words.get(i + 1).cloned();
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let file = &sink.file;
    match (verb.as_str(), name) {
        ("delete", None) => state.clear(),
        ("delete", Some(n)) => {
            state.set(&n, None, file, line);
        }
        ("add", Some(n)) => {
            let data = data.unwrap_or_default();
            let value = match ty.as_str() {
                "REG_MULTI_SZ" => RegData::MultiSz(data.split("\\0").map(str::to_string).collect()),
                "REG_SZ" => RegData::Sz(data),
                other => RegData::Other(other.to_string()),
            };
            state.set(&n, Some(value), file, line);
        }
        ("add", None) => {}
        _ => {}
    }
}

fn is_rpc_internet_key(key: &str) -> bool {
    reg_export::below_hklm(key)
        .is_some_and(|k| k.eq_ignore_ascii_case(r"SOFTWARE\Microsoft\Rpc\Internet"))
}

/// Reads `HKLM\SOFTWARE\Microsoft\Rpc\Internet` from a `.reg` export into a [`RangeState`].
pub(in crate::policy) struct RangeReader<'a>(pub(in crate::policy) &'a mut RangeState);

impl KeyReader for RangeReader<'_> {
    fn key(&mut self, _line: usize, path: &str) -> bool {
        is_rpc_internet_key(path)
    }

    fn deleted_key(&mut self, path: &str) {
        if is_rpc_internet_key(path) {
            self.0.clear();
        }
    }

    fn value(&mut self, sink: &mut Sink, line: usize, name: &str, value: RawValue<'_>) {
        let fix = || "export the key again with regedit or write the value as regedit does".into();
        let data = match value.read(sink, line, name, fix) {
            ValueLine::Sets(data) => Some(data),
            ValueLine::Deletes => None,
            // An unreadable value is an invalid value for RPC too.
            ValueLine::Unreadable => Some(RegData::Other("unreadable".into())),
        };
        self.0.set(name, data, &sink.file, line);
    }

    fn export_again(&self) -> String {
        format!("write values as \"Ports\"=hex(7):... under [{KEY}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::text::{Continuation, logical_lines, split_words};

    fn words(s: &str) -> Vec<String> {
        split_words(s)[1..].to_vec()
    }

    /// A `.reg` text, as `r.reg`, read into a fresh state.
    fn reg_export_alone(text: &str) -> (RangeState, Sink) {
        let lines = logical_lines(text, &[Continuation::Backslash]);
        let mut st = RangeState::default();
        let mut sink = Sink::new("r.reg");
        crate::policy::reg_export::read(&lines, &mut sink, &mut [&mut RangeReader(&mut st)]);
        (st, sink)
    }

    /// One rpccfg command, as line `line` of `a.cmd`, applied to a fresh state.
    fn rpccfg_alone(line: usize, command: &str) -> (RangeState, Sink) {
        let mut st = RangeState::default();
        let mut sink = Sink::new("a.cmd");
        apply_rpccfg(&mut st, &mut sink, line, &words(command));
        (st, sink)
    }

    #[test]
    fn rpccfg_article_line() {
        let (st, sink) = rpccfg_alone(3, "rpccfg.exe -pe 5001-5021 -d 0");
        assert!(sink.findings.is_empty());
        let (r, f) = resolve(&st);
        assert!(f.is_empty(), "{f:?}");
        let r = r.unwrap();
        assert_eq!(r.ports.to_string(), "5001-5021");
        assert_eq!(r.kind, RangeKind::Listed);
        assert_eq!(r.source, "a.cmd:3");
    }

    #[test]
    fn rpccfg_intranet_list_with_internet_default_is_inverted() {
        let (st, _) = rpccfg_alone(1, "rpccfg -pi 5001-5021 -d 0");
        let (r, f) = resolve(&st);
        let r = r.unwrap();
        assert_eq!(r.kind, RangeKind::Inverted);
        assert_eq!(r.ports.to_string(), "1-5000,5022-65535");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, Code::RangeInverted);
        // -pi with -d 1: the intranet list is used, as intended.
        let (st, _) = rpccfg_alone(1, "rpccfg -pi 5001-5021 -d 1");
        assert_eq!(resolve(&st).0.unwrap().kind, RangeKind::Listed);
    }

    #[test]
    fn missing_value_invalidates_everything() {
        let (st, _) = rpccfg_alone(1, "rpccfg -pe 5001-5021");
        let (r, f) = resolve(&st);
        assert_eq!(r.unwrap().kind, RangeKind::Invalid);
        assert_eq!(f[0].code, Code::RangeInvalid);
        assert!(f[0].message.contains("UseInternetPorts"));
    }

    #[test]
    fn reads_reg_export_utf16_multi_sz() {
        let text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\r\n\"Ports\"=hex(7):35,00,30,00,30,00,31,00,2d,00,35,00,30,00,32,00,31,00,00,00,\\\r\n  00,00\r\n\"PortsInternetAvailable\"=\"Y\"\r\n\"UseInternetPorts\"=\"Y\"\r\n";
        let (st, sink) = reg_export_alone(text);
        assert!(sink.findings.is_empty(), "{:?}", sink.findings);
        let (r, f) = resolve(&st);
        assert!(f.is_empty());
        let r = r.unwrap();
        assert_eq!(r.ports.to_string(), "5001-5021");
        assert_eq!(r.source, "r.reg:4");
    }

    #[test]
    fn invalid_values_are_range_invalid() {
        let text = "REGEDIT4\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\n\"Ports\"=hex(7):37,30,30,30,30,00,00\n\"PortsInternetAvailable\"=\"Yes\"\n\"UseInternetPorts\"=dword:00000001\n";
        let (st, _) = reg_export_alone(text);
        let (r, f) = resolve(&st);
        assert_eq!(r.unwrap().kind, RangeKind::Invalid);
        let codes: Vec<_> = f
            .iter()
            .map(|f| (f.code.as_str(), f.line.unwrap()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("range-invalid", 4),
                ("range-invalid", 5),
                ("range-invalid", 3)
            ]
        );
    }

    #[test]
    fn reg_add_lines_and_key_deletion() {
        let mut st = RangeState::default();
        let mut sink = Sink::new("a.cmd");
        apply_reg_command(
            &mut st,
            &mut sink,
            1,
            &words(
                r"reg add HKLM\SOFTWARE\Microsoft\Rpc\Internet /v Ports /t REG_MULTI_SZ /d 5001-5021\06000 /f",
            ),
        );
        apply_reg_command(
            &mut st,
            &mut sink,
            2,
            &words(
                r"reg add HKLM\SOFTWARE\Microsoft\Rpc\Internet /v PortsInternetAvailable /t REG_SZ /d Y /f",
            ),
        );
        apply_reg_command(
            &mut st,
            &mut sink,
            3,
            &words(r"reg add HKLM\SOFTWARE\Microsoft\Rpc\Internet /v UseInternetPorts /d Y /f"),
        );
        // Without /t, reg add writes a REG_SZ: UseInternetPorts is a good "Y".
        let (r, f) = resolve(&st);
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(r.unwrap().ports.to_string(), "5001-5021,6000");
        apply_reg_command(
            &mut st,
            &mut sink,
            4,
            &words(r"reg delete HKLM\SOFTWARE\Microsoft\Rpc\Internet /f"),
        );
        assert_eq!(resolve(&st).0, None);
    }

    proptest::proptest! {
        #[test]
        fn rpccfg_ranges_resolve_to_the_list(ranges in proptest::collection::vec((1u16..=65535, 1u16..=65535), 1..8)) {
            let listed = PortRanges::from_ranges(ranges);
            let mut st = RangeState::default();
            let mut sink = Sink::new("p.cmd");
            let words: Vec<String> = ["-pe".to_string()].into_iter()
                .chain(listed.to_string().split(',').map(str::to_string))
                .chain(["-d".to_string(), "0".to_string()]).collect();
            apply_rpccfg(&mut st, &mut sink, 1, &words);
            let r = resolve(&st).0.unwrap();
            proptest::prop_assert_eq!(&r.ports, &listed);
            // The inverted reading is exactly the complement (port 0 is never handed out).
            let c = complement(&listed);
            proptest::prop_assert_eq!(c.size() + listed.size(), 65535);
            proptest::prop_assert_eq!(complement(&c), listed);
        }
    }

    #[test]
    fn complement_edges() {
        assert_eq!(
            complement(&PortRanges::parse("1-65535").unwrap()).to_string(),
            ""
        );
        assert_eq!(
            complement(&PortRanges::parse("0-10,65535").unwrap()).to_string(),
            "11-65534"
        );
    }
}
