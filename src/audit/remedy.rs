//! Remedy: fix scripts in the administrator's dialect (`--fix-dialect`), the audit's last step
//! before `report`. From the loaded policy, the verification matrix, the findings of the run
//! and capacity's recommendation, [`remediate`] writes commented commands that fix:
//! - `leak`, `range-port-unblocked`: the missing block for those ports, for every source but
//!   the allowed ones;
//! - `overblock`, `hang-hazard`, and `allow-shadowed` in Windows Firewall: the missing pass
//!   for the allowed subnet (IPsec: a more specific PASS filter; Windows Firewall, where a
//!   block beats any allow: the block narrowed so it no longer names the subnet);
//! - range findings (`out-of-range`, `range-exhausted`, `range-near-full`, `range-invalid`,
//!   ...): the range as rpccfg / `reg add` / `.reg`, and the fence extended to new ports.
//!
//! No command removes a block for a source outside the allowed sources, and an allowed source
//! is only let through to ports it is meant to reach. Pure: text in, text out. The tests read
//! every script back with [`crate::policy::parse_text`] and check the combined policy.
//!
//! Values from the files (policy, rule and store names) are untrusted: every command is built
//! by [`quote`] from values its dialect's rule accepts, and is read back ([`quote::Line`], then
//! `check` with the policy reader) before it joins the script; a value that cannot be written
//! safely drops that fix, with a comment and a note saying what to do by hand.
//!
//! This file holds the public types and the script writer; `plan` decides what must change,
//! `ipsec` and `firewall` write it in their dialects, [`range`] writes the RPC dynamic range
//! (rpccfg, `reg add`, `.reg`; capacity's recommendation uses it too), `quote` holds each
//! dialect's quoting rule, `check` the second reading, `interval` does the address and port
//! arithmetic. Each child names what it uses from the others: no glob imports.

use super::capacity::Recommendation;
use super::verify::MatrixRow;
use crate::finding::{Code, Finding};
use crate::policy::{Layer, LoadedPolicy};
use crate::ports::PortRanges;
use check::{Expect, reparse};
use firewall::render_firewall;
use interval::ports_of;
use ipsec::render_ipsec;
use plan::{Allowed, Codes, Plan, plan};
use range::render_range;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod check;
mod firewall;
mod interval;
mod ipsec;
mod plan;
pub mod range;
pub mod rpc_filter;
/// Each dialect's quoting rules live in [`crate::script::quote`], below `policy`, so that the
/// fixes of policy lints are written by the same rules.
pub use crate::script::quote;

use quote::{Line, Refusal, comment_line, comment_value};

/// Most ports one script fences; more means the range itself is wrong (fix it first).
pub const MAX_FIX_PORTS: u32 = 4096;
/// The policy name KB908472 uses, for a host without an assigned IPsec policy.
pub const DEFAULT_POLICY: &str = "Block RPC Ports";

/// Range findings the recommendation answers.
const RANGE_CODES: &[Code] = &[
    Code::OutOfRange,
    Code::RangeExhausted,
    Code::RangeNearFull,
    Code::RangeInvalid,
    Code::RangeInverted,
    Code::RangeTooSmall,
    Code::RangeOverlapsEphemeral,
];

/// The language of the fix script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[derive(strum::IntoStaticStr, strum::Display, strum::EnumIter)]
#[strum(serialize_all = "kebab-case")]
pub enum FixDialect {
    /// ipseccmd.exe (Windows XP/2003; ipsecpol.exe on Windows 2000 takes the same switches).
    Ipseccmd,
    /// `netsh ipsec static` (Windows Server 2003).
    NetshIpsec,
    /// `netsh advfirewall firewall` (Windows Vista / Server 2008 and later).
    Netsh,
    /// PowerShell NetSecurity cmdlets (Windows 8 / Server 2012 and later).
    Powershell,
}

impl FixDialect {
    /// Every dialect, in the order `--fix-dialect` lists them.
    pub const ALL: [FixDialect; 4] = [
        FixDialect::Ipseccmd,
        FixDialect::NetshIpsec,
        FixDialect::Netsh,
        FixDialect::Powershell,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The layer the dialect's rules live in.
    pub fn layer(self) -> Layer {
        match self {
            FixDialect::Ipseccmd | FixDialect::NetshIpsec => Layer::Ipsec,
            FixDialect::Netsh | FixDialect::Powershell => Layer::Firewall,
        }
    }

    fn comment(self) -> &'static str {
        match self {
            FixDialect::Powershell => "#",
            _ => "rem",
        }
    }
}

/// What a step of the script does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    /// Adds a block (IPsec BLOCK filter, firewall block rule).
    Block,
    /// Adds a pass (IPsec PASS filter, firewall allow rule).
    Pass,
    /// Narrows an existing firewall block rule so it no longer covers allowed sources.
    NarrowBlock,
    /// Sets the RPC dynamic port range.
    Range,
}

/// One step of the script and what it fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FixAction {
    /// The finding codes the step fixes, e.g. `["leak", "range-port-unblocked"]`.
    #[schemars(with = "Vec<String>")]
    pub codes: Vec<Code>,
    pub kind: FixKind,
    /// The sources concerned: `any`, `any except 10.1.1.0/24`, `10.1.1.0/24`, `10.1.1.66`.
    pub source: String,
    /// Ports, e.g. `5003` or `135,5001-5021` (for `range`: the new range); TCP unless
    /// `protocol` says otherwise.
    pub ports: String,
    /// `udp` for a step about UDP ports (connectionless RPC); absent for TCP.
    #[serde(default, skip_serializing_if = "crate::ports::Proto::is_tcp")]
    pub protocol: crate::ports::Proto,
    /// What the step does, in words.
    pub detail: String,
}

/// The fix script and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Remediation {
    pub dialect: FixDialect,
    /// The commands, commented (`rem` / `#` lines), CRLF line ends for cmd, LF for PowerShell.
    pub script: String,
    pub actions: Vec<FixAction>,
    /// What the script cannot fix, and assumptions to check before running it.
    pub notes: Vec<String>,
}

impl Remediation {
    /// True when the script changes nothing.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering.

/// The script being written, with its actions and notes.
struct Out {
    dialect: FixDialect,
    lines: Vec<String>,
    actions: Vec<FixAction>,
    notes: Vec<String>,
}

impl Out {
    fn comment(&mut self, text: &str) {
        let c = self.dialect.comment();
        if text.is_empty() {
            self.lines.push(c.to_string());
        } else {
            self.lines.push(format!("{c} {}", comment_line(text)));
        }
    }

    fn blank(&mut self) {
        self.lines.push(String::new());
    }

    /// Untrusted text (a name from a policy file) as a comment shows it.
    fn shown(&self, value: &str) -> String {
        comment_value(self.dialect != FixDialect::Powershell, value)
    }

    /// Write one fix with `f`. When every command passes its dialect's checks its lines join
    /// the script and the result is true; otherwise nothing of it is written: a comment and a
    /// note say what was refused and why, and the result is false.
    fn step(&mut self, what: &str, f: impl FnOnce(&mut Step) -> Result<(), Refusal>) -> bool {
        let mut s = Step {
            dialect: self.dialect,
            lines: Vec::new(),
        };
        match f(&mut s) {
            Ok(()) => {
                self.lines.extend(s.lines);
                true
            }
            Err(r) => {
                self.refuse(what, &r);
                false
            }
        }
    }

    /// Say in the script and in the notes that `what` is not written, and why.
    fn refuse(&mut self, what: &str, r: &Refusal) {
        let what_shown = self.shown(what);
        let shown = r.for_comment(self.dialect != FixDialect::Powershell);
        self.comment(&format!(
            "Refused: {what_shown}: {shown}. The command is left out: do this by hand."
        ));
        self.notes.push(format!(
            "refused: {what}: {r}; the script leaves the command out, do it by hand"
        ));
    }

    /// Write one fix with `f`, as [`Out::step`] does, and when it is written, record what it
    /// does: an action is in the report only when its commands are in the script.
    fn fix(
        &mut self,
        what: &str,
        does: FixAction,
        f: impl FnOnce(&mut Step) -> Result<(), Refusal>,
    ) -> bool {
        let written = self.step(what, f);
        if written {
            self.actions.push(does);
        }
        written
    }
}

impl FixAction {
    fn new(
        codes: &Codes,
        kind: FixKind,
        source: impl Into<String>,
        ports: &impl std::fmt::Display,
        detail: String,
    ) -> Self {
        FixAction {
            codes: codes.iter().cloned().collect(),
            kind,
            source: source.into(),
            ports: ports.to_string(),
            protocol: crate::ports::Proto::Tcp,
            detail,
        }
    }

    /// The same step, about `proto` ports.
    fn over(self, proto: crate::ports::Proto) -> Self {
        FixAction {
            protocol: proto,
            ..self
        }
    }
}

/// The commands of one fix, written only when all of them pass.
struct Step {
    dialect: FixDialect,
    lines: Vec<String>,
}

impl Step {
    fn comment(&mut self, text: &str) {
        self.lines
            .push(format!("{} {}", self.dialect.comment(), comment_line(text)));
    }

    /// A command, once it reads back as its intended words.
    fn cmd(&mut self, line: Line) -> Result<(), Refusal> {
        self.cmd_expect(line, &Expect::Words)
    }

    /// A command, once it reads back as its intended words and the policy reader gets the
    /// intended fields from it.
    fn cmd_expect(&mut self, line: Line, expect: &Expect) -> Result<(), Refusal> {
        let text = match self.dialect {
            FixDialect::Powershell => line.finish_ps()?,
            _ => line.finish_cmd()?,
        };
        reparse(&text, expect)?;
        self.lines.push(text);
        Ok(())
    }

    /// A command inside a PowerShell block, indented by four spaces.
    fn indented(&mut self, line: Line, expect: &Expect) -> Result<(), Refusal> {
        self.cmd_expect(line, expect)?;
        if let Some(l) = self.lines.last_mut() {
            l.insert_str(0, "    ");
        }
        Ok(())
    }

    /// Our own fixed text (`} else {`), checked all the same.
    fn fixed(&mut self, text: &str) -> Result<(), Refusal> {
        let l = Line::new().words(text.trim_start());
        let t = match self.dialect {
            FixDialect::Powershell => l.finish_ps()?,
            _ => l.finish_cmd()?,
        };
        let indent = &text[..text.len() - text.trim_start().len()];
        self.lines.push(format!("{indent}{t}"));
        Ok(())
    }
}

fn join_codes(c: &Codes) -> String {
    c.iter().map(Code::as_str).collect::<Vec<_>>().join(", ")
}

fn list_labels(allowed: &[Allowed], idx: &[usize]) -> String {
    idx.iter()
        .filter_map(|&i| allowed.get(i))
        .map(Allowed::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ports of the fence that `a` is meant to reach, per the plan.
fn allowed_on(plan: &Plan, port: u16) -> Vec<usize> {
    plan.allowed
        .iter()
        .enumerate()
        .filter(|(_, a)| a.ports.contains(port))
        .map(|(i, _)| i)
        .collect()
}

/// Consecutive ports with the same value, as port sets.
fn group_runs<V: Clone + Ord>(items: impl IntoIterator<Item = (u16, V)>) -> Vec<(V, PortRanges)> {
    let mut by: BTreeMap<V, Vec<u16>> = BTreeMap::new();
    for (p, v) in items {
        by.entry(v).or_default().push(p);
    }
    let mut out: Vec<(V, PortRanges)> = by.into_iter().map(|(v, ps)| (v, ports_of(ps))).collect();
    out.sort_by_key(|(_, p)| p.ranges().first().copied());
    out
}

/// The dialect a fix should be written in when none is asked for: the language the policy's
/// rules are written in (the first file's), ipseccmd when only rpccfg/.reg lines are given.
pub fn dialect_of(policy: &LoadedPolicy) -> FixDialect {
    policy
        .files
        .iter()
        .flat_map(|f| f.dialects.iter())
        .find_map(|d| match d {
            crate::policy::Dialect::Ipseccmd | crate::policy::Dialect::IpsecStore => {
                Some(FixDialect::Ipseccmd)
            }
            crate::policy::Dialect::NetshIpsec => Some(FixDialect::NetshIpsec),
            crate::policy::Dialect::NetshAdvfirewall => Some(FixDialect::Netsh),
            crate::policy::Dialect::Powershell
            | crate::policy::Dialect::FirewallStore
            | crate::policy::Dialect::FirewallListing => Some(FixDialect::Powershell),
            crate::policy::Dialect::Rpccfg | crate::policy::Dialect::Reg => None,
        })
        .unwrap_or(FixDialect::Ipseccmd)
}

/// Produce the fix script for `dialect`.
///
/// `findings` are every finding of the run (the policy's lints, the matrix findings, capacity
/// findings): a kind of fix is written only when a finding of its code is present, and its
/// details (ports, sources) come from `policy`, `matrix` and `range` (the dynamic range the
/// audit used). `recommendation` is capacity's; without one, range findings get a range that
/// restates or repairs the configured one (at least 21 ports).
pub fn remediate(
    dialect: FixDialect,
    policy: &LoadedPolicy,
    matrix: &[MatrixRow],
    findings: &[Finding],
    range: &PortRanges,
    recommendation: Option<&Recommendation>,
) -> Remediation {
    let plan = plan(policy, matrix, findings, range, recommendation);
    let mut out = Out {
        dialect,
        lines: Vec::new(),
        actions: Vec::new(),
        notes: plan.notes.clone(),
    };
    header(&mut out, policy);
    if plan
        .block_udp
        .values()
        .any(|c| c.contains(&Code::FenceBypass))
    {
        out.comment("Note: the fence-bypass blocks on UDP close connectionless RPC (ncadg_ip_udp: the endpoint mapper on UDP 135, and the UDP ports its servers registered) to every source but the ones the fence lets reach TCP 135.");
    }
    if plan.block.values().any(|c| c.contains(&Code::FenceBypass)) {
        out.comment("Note: the fence-bypass blocks close SMB (445, 139) or RPC over HTTP (593) to every source but the allowed ones, as TCP 135 is closed. Where SMB must stay open for file sharing, leave those blocks out and close the named-pipe interfaces with RPC filters (netsh rpc filter) instead: RestrictRemoteClients does not help, it counts a named-pipe client as authenticated.");
    }
    if let Some((rec, c)) = &plan.range_fix {
        render_range(&mut out, rec, c);
    }
    match dialect.layer() {
        Layer::Ipsec => render_ipsec(&mut out, policy, &plan),
        Layer::Firewall => render_firewall(&mut out, policy, &plan),
    }
    if out.actions.is_empty() {
        out.blank();
        out.comment("Nothing to fix in this dialect.");
    }
    let nl = match dialect {
        FixDialect::Powershell => "\n",
        _ => "\r\n",
    };
    // Every line is ASCII, so the script reads the same in every code page (`quote` writes
    // commands and comments so); a line that is not is left out, never written.
    for line in out.lines.iter_mut().filter(|l| !l.is_ascii()) {
        *line = format!(
            "{} Refused: a line that is not ASCII was left out.",
            dialect.comment()
        );
    }
    let mut script = out.lines.join(nl);
    script.push_str(nl);
    let mut seen = std::collections::HashSet::new();
    let notes: Vec<String> = out
        .notes
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect();
    Remediation {
        dialect,
        script,
        actions: out.actions,
        notes,
    }
}

fn header(out: &mut Out, lp: &LoadedPolicy) {
    let d = out.dialect;
    match d {
        FixDialect::Powershell => out.lines.push("#Requires -RunAsAdministrator".into()),
        _ => out.lines.push("@echo off".into()),
    }
    out.comment(&format!(
        "rpcaudit fix script (--fix-dialect {d}): commands that fix the audit's findings."
    ));
    out.comment("Review it, then run it as an administrator on the audited host.");
    out.comment("It adds blocks and passes and narrows blocks; it never opens a port to a source outside the allowed ones.");
    let policy_layers: Vec<Layer> = [Layer::Ipsec, Layer::Firewall]
        .into_iter()
        .filter(|l| lp.policy.has_layer(*l))
        .collect();
    if !policy_layers.is_empty() && !policy_layers.contains(&d.layer()) {
        let (what, other) = match d.layer() {
            Layer::Ipsec => ("IPsec filters", "Windows Firewall rules"),
            Layer::Firewall => ("Windows Firewall rules", "IPsec filters"),
        };
        let msg = format!(
            "the policy is written as {other} and this script adds {what}: a connection must pass both layers, a block in either wins; blocks fixed here work, but a block in the other layer cannot be lifted from here"
        );
        out.comment(&format!("Note: {msg}."));
        out.notes.push(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::firewall::fw_remote;
    use super::interval::{
        Iv, bits, cidrs, covers, everything, format_iv, intervals, subtract, v4_mask,
    };
    use super::*;
    use crate::audit::capacity;
    use crate::policy::{Action, LoadOptions, build, parse_text};
    use crate::probe::ProbeState;
    use std::net::IpAddr;

    const ARTICLE: &str = include_str!("../../fixtures/policy/kb908472.cmd");

    #[test]
    fn each_dialect_is_shown_as_its_json_name() {
        crate::testing::assert_shown_as_json_names::<FixDialect>();
        assert_eq!(FixDialect::NetshIpsec.as_str(), "netsh-ipsec");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn iv(a: &str, b: &str) -> Iv {
        let (a, b) = (ip(a), ip(b));
        Iv {
            v6: a.is_ipv6(),
            lo: bits(a),
            hi: bits(b),
        }
    }

    fn load(text: &str) -> LoadedPolicy {
        build(
            vec![parse_text("policy.cmd", text.as_bytes())],
            &LoadOptions::default(),
        )
    }

    /// The article's script without the block for 5003.
    fn article_missing_5003() -> String {
        ARTICLE
            .lines()
            .filter(|l| !l.contains("\"Block Inbound TCP 5003 Rule\""))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    fn range() -> PortRanges {
        PortRanges::parse("5001-5021").unwrap()
    }

    fn fix(dialect: FixDialect, lp: &LoadedPolicy) -> Remediation {
        remediate(dialect, lp, &[], &lp.findings, &range(), None)
    }

    #[test]
    fn complement_of_the_allowed_subnet() {
        let (m, _) = crate::policy::address::parse_masked("10.1.1.0/24").unwrap();
        let rest = subtract(&everything(), &intervals(&m).unwrap());
        assert_eq!(
            fw_remote(&rest),
            "0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255,::/0"
        );
        assert_eq!(fw_remote(&everything()), "any");
        assert_eq!(format_iv(iv("10.1.1.0", "10.1.1.255")), "10.1.1.0/24");
        assert_eq!(format_iv(iv("10.1.1.7", "10.1.1.7")), "10.1.1.7");
        assert_eq!(format_iv(iv("0.0.0.0", "255.255.255.255")), "0.0.0.0/0");
        assert_eq!(format_iv(iv("10.1.1.1", "10.1.1.50")), "10.1.1.1-10.1.1.50");
        assert!(covers(&everything(), &[iv("10.1.1.0", "10.1.1.255")]));
        assert!(!covers(
            &[iv("10.1.1.66", "10.1.1.66")],
            &[iv("10.1.1.0", "10.1.1.255")]
        ));
        // A host mask and the whole IPv6 space do not overflow.
        let (h, _) = crate::policy::address::parse_masked("fe80::1/128").unwrap();
        assert_eq!(intervals(&h).unwrap()[0].lo, intervals(&h).unwrap()[0].hi);
    }

    #[test]
    fn ranges_split_into_cidr_blocks() {
        let blocks: Vec<String> = cidrs(iv("10.1.1.1", "10.1.1.50"))
            .into_iter()
            .map(|(n, p)| format!("{n}/{p}"))
            .collect();
        assert_eq!(
            blocks,
            [
                "10.1.1.1/32",
                "10.1.1.2/31",
                "10.1.1.4/30",
                "10.1.1.8/29",
                "10.1.1.16/28",
                "10.1.1.32/28",
                "10.1.1.48/31",
                "10.1.1.50/32"
            ]
        );
        assert_eq!(cidrs(iv("0.0.0.0", "255.255.255.255")).len(), 1);
        assert_eq!(
            cidrs(iv("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).len(),
            1
        );
        assert_eq!(v4_mask(24).to_string(), "255.255.255.0");
        assert_eq!(v4_mask(0).to_string(), "0.0.0.0");
    }

    #[test]
    fn article_missing_block_in_ipseccmd() {
        let lp = load(&article_missing_5003());
        assert!(
            lp.findings
                .iter()
                .any(|f| f.code == Code::RangePortUnblocked)
        );
        let r = fix(FixDialect::Ipseccmd, &lp);
        let lines: Vec<&str> = r.script.split("\r\n").collect();
        assert!(
            lines.contains(
                &r#"ipseccmd.exe -w REG -p "Block RPC Ports" -r "Block Inbound TCP 5003 Rule" -f *=0:5003:TCP -n BLOCK"#
            ),
            "{}",
            r.script
        );
        assert!(lines.contains(
            &r#"ipseccmd.exe -w REG -p "Block RPC Ports" -r "Allow Inbound TCP Port 5003 from 10.1.1.0 Rule" -f 10.1.1.0/255.255.255.0=0:5003:TCP -n PASS"#
        ));
        assert_eq!(
            lines.iter().rev().find(|l| !l.is_empty()),
            Some(&r#"ipseccmd.exe -w REG -p "Block RPC Ports" -x"#)
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("rem Fixes range-port-unblocked: TCP 5003"))
        );
        // Only 5003 is touched.
        assert_eq!(
            lines.iter().filter(|l| l.contains("-n BLOCK")).count(),
            1,
            "{}",
            r.script
        );
        assert_eq!(r.actions[0].kind, FixKind::Block);
        assert_eq!(r.actions[0].ports, "5003");
        assert_eq!(r.actions[0].codes, [Code::RangePortUnblocked]);
        assert_eq!(r.actions[1].kind, FixKind::Pass);
        assert_eq!(r.actions[1].source, "10.1.1.0/24");
    }

    /// The matrix of `obs` as `lp` decides it (default pass), and the `fence-bypass` findings of
    /// a host whose map could not be read: what the two fence-bypass tests fix.
    fn matrix_and_bypasses(
        lp: &LoadedPolicy,
        obs: &[crate::probe::Observation],
    ) -> (
        Vec<crate::audit::verify::MatrixRow>,
        Vec<crate::finding::Finding>,
    ) {
        let matrix = crate::audit::verify::build_matrix(obs, Action::Pass, |src, port, proto| {
            let d = lp.policy.decide(src, port, proto);
            crate::audit::verify::Expected::new(d.action, d.rule.map(|r| r.to_string()))
        });
        let dump = crate::epm::client::failed("10.0.0.5", "fenced".into());
        let findings = crate::audit::roads::fence_bypasses(
            &matrix,
            135,
            &crate::audit::roads::ROADS,
            &dump,
            &[],
        );
        (matrix, findings)
    }

    #[test]
    fn a_fence_bypass_is_closed_like_135_in_every_dialect() {
        // The article's policy (10.1.1.0/24 allowed); from 203.0.113.9, which it fences off,
        // 445 was open and 139 filtered.
        let lp = load(ARTICLE);
        let obs = [
            crate::probe::Observation::new(
                ip("203.0.113.9"),
                ip("10.0.0.5"),
                135,
                ProbeState::Filtered,
            ),
            crate::probe::Observation::new(
                ip("203.0.113.9"),
                ip("10.0.0.5"),
                445,
                ProbeState::Open,
            ),
            crate::probe::Observation::new(
                ip("203.0.113.9"),
                ip("10.0.0.5"),
                139,
                ProbeState::Filtered,
            ),
        ];
        let (matrix, findings) = matrix_and_bypasses(&lp, &obs);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        for dialect in FixDialect::ALL {
            let r = remediate(dialect, &lp, &matrix, &findings, &range(), None);
            let block = r
                .actions
                .iter()
                .find(|a| a.kind == FixKind::Block)
                .unwrap_or_else(|| panic!("{dialect}: {}", r.script));
            assert_eq!(block.codes, [Code::FenceBypass], "{dialect}");
            assert_eq!(block.ports, "445", "{dialect}: 139 was not reached");
            // The allowed subnet keeps the road, as it keeps 135.
            match dialect.layer() {
                Layer::Ipsec => assert!(
                    r.actions.iter().any(|a| a.kind == FixKind::Pass
                        && a.source == "10.1.1.0/24"
                        && a.ports == "445"),
                    "{dialect}: {}",
                    r.script
                ),
                Layer::Firewall => assert_eq!(block.source, "any except 10.1.1.0/24", "{dialect}"),
            }
            assert!(
                r.script
                    .contains("Fixes fence-bypass: TCP 445 must be blocked"),
                "{dialect}: {}",
                r.script
            );
            assert!(
                r.notes.iter().any(|n| n.contains("RPC filters")),
                "{dialect}: {:?}",
                r.notes
            );
            assert!(
                r.script.contains("SMB must stay open for file sharing"),
                "{dialect}: {}",
                r.script
            );
        }
    }

    #[test]
    fn a_fence_bypass_over_udp_is_closed_over_udp_in_every_dialect() {
        // The article's fence is TCP only. From 203.0.113.9, which it fences off, the
        // endpoint mapper answered on UDP 135 and a server on UDP 49700; TCP 135 was filtered.
        let lp = load(ARTICLE);
        let (src, t) = (ip("203.0.113.9"), ip("10.0.0.5"));
        let obs = [
            crate::probe::Observation::new(src, t, 135, ProbeState::Filtered),
            crate::probe::Observation::udp(src, t, 135, ProbeState::Open),
            crate::probe::Observation::udp(src, t, 49700, ProbeState::Open),
        ];
        let (matrix, findings) = matrix_and_bypasses(&lp, &obs);
        // The TCP rules say nothing of UDP: the default (pass) decides those rows.
        assert!(matrix[1].rule.is_none() && matrix[1].expected == Action::Pass);
        assert_eq!(findings.len(), 2, "{findings:#?}");
        // Checked dialect by dialect as the TCP test above checks its block; here the block is
        // UDP's, and the allowed subnet gets no pass over UDP.
        for dialect in FixDialect::ALL {
            let r = remediate(dialect, &lp, &matrix, &findings, &range(), None);
            let block = r
                .actions
                .iter()
                .find(|a| a.kind == FixKind::Block)
                .unwrap_or_else(|| panic!("{dialect}: {}", r.script));
            assert_eq!(block.codes, [Code::FenceBypass], "{dialect}");
            assert_eq!(block.protocol, crate::ports::Proto::Udp, "{dialect}");
            assert_eq!(block.ports, "135,49700", "{dialect}: {}", r.script);
            assert!(
                r.script.contains(
                    "Fixes fence-bypass: UDP 135,49700 (connectionless RPC) must be blocked"
                ),
                "{dialect}: {}",
                r.script
            );
            assert!(
                !r.actions
                    .iter()
                    .any(|a| a.protocol == crate::ports::Proto::Tcp && a.kind == FixKind::Block),
                "{dialect}: no TCP block: {}",
                r.script
            );
            assert!(!r.script.contains("SMB must stay open"), "{dialect}");
            // Read back with the policy reader beside the article: UDP 135 is blocked for the
            // fenced-off source and left to the allowed subnet; TCP is as it was.
            let name = match dialect {
                FixDialect::Powershell => "fix.ps1",
                _ => "fix.cmd",
            };
            let fixed = build(
                vec![
                    parse_text("policy.cmd", ARTICLE.as_bytes()),
                    parse_text(name, r.script.as_bytes()),
                ],
                &LoadOptions::default(),
            );
            let udp = crate::ports::Proto::Udp;
            for port in [135, 49700] {
                assert_eq!(
                    fixed.policy.decide(src, port, udp).action,
                    Action::Block,
                    "{dialect} UDP {port}: {}",
                    r.script
                );
                assert_ne!(
                    fixed.policy.decide(ip("10.1.1.5"), port, udp).action,
                    Action::Block,
                    "{dialect} UDP {port} from the allowed subnet: {}",
                    r.script
                );
            }
            assert_eq!(
                fixed
                    .policy
                    .decide(ip("10.1.1.5"), 135, crate::ports::Proto::Tcp)
                    .action,
                Action::Pass,
                "{dialect}"
            );
        }
    }

    #[test]
    fn firewall_dialects_name_the_port_and_leave_the_subnet_out() {
        let lp = load(&article_missing_5003());
        for (dialect, lines) in [
            (
                FixDialect::Netsh,
                [
                    "netsh advfirewall firewall add rule name=\"Block Inbound TCP 5003 (rpcaudit)\" dir=in action=block protocol=TCP localport=5003 remoteip=0.0.0.0-10.1.0.255,10.1.2.0-255.255.255.255,::/0\r\n",
                    "netsh advfirewall firewall delete rule name=\"Block Inbound TCP 5003 (rpcaudit)\"\r\n",
                ],
            ),
            (
                FixDialect::Powershell,
                [
                    "    New-NetFirewallRule -DisplayName 'Block Inbound TCP 5003 (rpcaudit)' -Direction Inbound -Action Block -Protocol TCP -LocalPort 5003 -RemoteAddress '0.0.0.0-10.1.0.255', '10.1.2.0-255.255.255.255', '::/0' -Enabled True\n",
                    "if (Get-NetFirewallRule -DisplayName 'Block Inbound TCP 5003 (rpcaudit)' -ErrorAction SilentlyContinue) {\n",
                ],
            ),
        ] {
            let r = fix(dialect, &lp);
            for line in lines {
                assert!(r.script.contains(line), "{}", r.script);
            }
        }
        let r = fix(FixDialect::Powershell, &lp);
        assert!(r.script.starts_with("#Requires -RunAsAdministrator\n"));
        assert!(!r.script.contains('\r'));
        assert_eq!(r.actions[0].source, "any except 10.1.1.0/24");
    }

    #[test]
    fn netsh_ipsec_adds_a_rule_to_the_policy_in_force() {
        let lp = load(&article_missing_5003());
        let r = fix(FixDialect::NetshIpsec, &lp);
        for line in [
            "netsh ipsec static add filter filterlist=\"rpcaudit Block Inbound TCP 5003\" srcaddr=any dstaddr=me protocol=TCP dstport=5003",
            "netsh ipsec static add rule name=\"rpcaudit Block Inbound TCP 5003\" policy=\"Block RPC Ports\" filterlist=\"rpcaudit Block Inbound TCP 5003\" filteraction=\"rpcaudit Block\"",
            "netsh ipsec static add filter filterlist=\"rpcaudit Allow Inbound TCP 5003 from 10.1.1.0\" srcaddr=10.1.1.0 srcmask=255.255.255.0 dstaddr=me protocol=TCP dstport=5003",
            "netsh ipsec static set policy name=\"Block RPC Ports\" assign=yes",
        ] {
            assert!(
                r.script.split("\r\n").any(|l| l == line),
                "missing {line}\n{}",
                r.script
            );
        }
        // The policy exists already: no `add policy`.
        assert!(!r.script.contains("add policy"));
    }

    #[test]
    fn a_clashing_rule_name_gets_a_suffix() {
        // "Block Inbound TCP 5003 Rule" exists but filters 5030 (the article's warning).
        let text = ARTICLE.replace("*=0:5003:TCP", "*=0:5030:TCP");
        let lp = load(&text);
        let r = fix(FixDialect::Ipseccmd, &lp);
        assert!(
            r.script.contains(
                r#"-r "Block Inbound TCP 5003 Rule (rpcaudit)" -f *=0:5003:TCP -n BLOCK"#
            ),
            "{}",
            r.script
        );
    }

    #[test]
    fn nothing_to_fix() {
        let lp = load(ARTICLE);
        for d in [
            FixDialect::Ipseccmd,
            FixDialect::NetshIpsec,
            FixDialect::Netsh,
            FixDialect::Powershell,
        ] {
            let r = fix(d, &lp);
            assert!(r.is_empty(), "{d}: {:?}", r.actions);
            assert!(r.script.contains("Nothing to fix"));
        }
    }

    #[test]
    fn range_findings_bring_rpccfg_and_reg() {
        let lp = load(ARTICLE);
        let rec = capacity::recommend(&range(), 30);
        let f = [Finding::new(
            Code::RangeExhausted,
            crate::finding::Severity::Error,
            "m",
            "f",
        )];
        let r = remediate(FixDialect::Ipseccmd, &lp, &[], &f, &range(), Some(&rec));
        assert!(
            r.script.contains("\r\nrpccfg.exe -pe 5001-5060 -d 0\r\n"),
            "{}",
            r.script
        );
        assert!(
            r.script
                .contains("\r\nrem   \"PortsInternetAvailable\"=\"Y\"\r\n")
        );
        assert!(
            r.script
                .contains("rem   Windows Registry Editor Version 5.00")
        );
        assert_eq!(r.actions[0].kind, FixKind::Range);
        // The new ports join the fence.
        assert!(
            r.script
                .contains(r#"-r "Block Inbound TCP 5060 Rule" -f *=0:5060:TCP -n BLOCK"#)
        );
        let r = remediate(FixDialect::Powershell, &lp, &[], &f, &range(), Some(&rec));
        assert!(r.script.contains(
            "\nreg add HKLM\\SOFTWARE\\Microsoft\\Rpc\\Internet /v Ports /t REG_MULTI_SZ /d 5001-5060 /f\n"
        ));
        assert!(
            r.script
                .contains("\n#   [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]\n")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in "[ -~]{0,100}", pick in 0usize..5, verdicts in proptest::collection::vec(0u8..5, 0..12)) {
            let prefix = ["ipseccmd -w REG -p P -r R -f ", "netsh advfirewall firewall add rule name=X action=block ",
                "New-NetFirewallRule -DisplayName X -Action Block ", "netsh ipsec static add filter filterlist=L ", "rpccfg.exe -pe "][pick];
            let text = format!("{}\r\n{prefix}{body}\r\n", article_missing_5003());
            let lp = load(&text);
            let states = [ProbeState::Open, ProbeState::Closed, ProbeState::Filtered, ProbeState::Unreachable, ProbeState::Error];
            let rows: Vec<MatrixRow> = verdicts.iter().enumerate().map(|(i, v)| {
                let observed = states[usize::from(*v)];
                let expected = if i % 2 == 0 { Action::Block } else { Action::Pass };
                MatrixRow {
                    source: if i % 3 == 0 { ip("10.1.1.9") } else { ip("203.0.113.5") },
                    target: ip("198.18.0.10"),
                    port: [135u16, 5001, 5003, 5021, 49664][i % 5],
                    protocol: if i % 7 == 6 { crate::ports::Proto::Udp } else { crate::ports::Proto::Tcp },
                    expected,
                    rule: None,
                    condition: None,
                    observed,
                    verdict: crate::audit::verify::verdict(expected, observed),
                    rtt_ms: None,
                    configured: None,
                    probed_port: None,
                }
            }).collect();
            let mut findings = lp.findings.clone();
            for c in [Code::Leak, Code::Overblock, Code::HangHazard, Code::AllowShadowed, Code::RangeExhausted, Code::RangeInvalid] {
                findings.push(Finding::new(c, crate::finding::Severity::Error, "m", "f"));
            }
            for d in FixDialect::ALL {
                let r = remediate(d, &lp, &rows, &findings, &range(), None);
                let back = parse_text("fix", r.script.as_bytes());
                proptest::prop_assert!(!back.findings.iter().any(|f| f.code == Code::ParseError), "{:?}\n{}", back.findings, r.script);
            }
        }
    }

    /// `ALL` is every dialect, in the order the guide and `--help` list them.
    #[test]
    fn dialect_names() {
        use strum::IntoEnumIterator;
        let names: Vec<&str> = FixDialect::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(names, ["ipseccmd", "netsh-ipsec", "netsh", "powershell"]);
        assert_eq!(FixDialect::iter().collect::<Vec<_>>(), FixDialect::ALL);
    }
}
