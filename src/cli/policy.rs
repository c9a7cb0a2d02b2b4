//! `rpcaudit policy lint|explain|range|diff`: load policy files with [`crate::policy::load`] and
//! print findings, one decision, the effective RPC dynamic range, or where a store and a script
//! disagree ([`crate::policy::diff`]), as a table or as JSON.
//! Exit codes: 2 when a file cannot be read, 1 when lint/range report a finding of severity
//! error (`diff`: when store and script disagree), 0 otherwise (`explain` prints a decision, not
//! a verdict, so it exits 0).

use super::{Error, Exit};
use crate::finding::{Finding, Severity};
use crate::policy::{self, Action, LoadOptions, LoadedPolicy, OsFamily, Proto, Query, RuleRef};
use crate::ports::PortRanges;

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::Serialize;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Lint policy files: ipseccmd/ipsecpol and netsh scripts, firewall rules (netsh
    /// advfirewall, PowerShell), rpccfg lines, .reg exports. Exit 1 on an error finding.
    Lint(LintArgs),
    /// Explain what the policy does with one connection: pass, block or none, and the rule
    /// that decides.
    Explain(ExplainArgs),
    /// Show the effective RPC dynamic port range (Rpc\Internet) and its findings.
    Range(RangeArgs),
    /// Compare the intended policy (scripts) with what a host holds (store exports,
    /// listings): rules and decisions that disagree. Exit 1 when they disagree.
    Diff(DiffArgs),
}

/// Flags every policy subcommand shares.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Policy files (.cmd, .bat, .txt, .ps1, .reg; any encoding Windows writes).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Which Windows defaults apply: ephemeral ports 1024-5000 (legacy: 2000/XP/2003) or
    /// 49152-65535 (vista: Vista/2008 and later).
    #[arg(long, value_enum, default_value_t = super::values::Os::Vista)]
    pub os: super::values::Os,
    /// What the firewall keyword LocalSubnet stands for (CIDR; repeat for several).
    #[arg(long = "local-subnet", value_name = "CIDR")]
    pub local_subnets: Vec<IpNet>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub common: Common,
    /// Assume this RPC dynamic range ("5001-5021") instead of what the files configure.
    #[arg(long, value_name = "PORTS")]
    pub range: Option<PortRanges>,
    /// Print the findings as SARIF 2.1.0 instead of a table (for code-scanning uploads).
    #[arg(long, conflicts_with = "json")]
    pub sarif: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub common: Common,
    /// Source address of the connection.
    #[arg(long)]
    pub src: IpAddr,
    /// Local (destination) port on this computer.
    #[arg(long)]
    pub port: u16,
    /// Transport protocol.
    #[arg(long, default_value_t = Proto::Tcp)]
    pub proto: Proto,
    /// The client authenticates with IPsec (meets allow-bypass and negotiate rules).
    #[arg(long)]
    pub authenticated: bool,
    /// Assume this RPC dynamic range (what the firewall keyword RPC stands for).
    #[arg(long, value_name = "PORTS")]
    pub range: Option<PortRanges>,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The intended policy: scripts (and rpccfg/.reg files), read together.
    #[arg(required = true, value_name = "SCRIPT")]
    pub scripts: Vec<PathBuf>,
    /// What the host holds: store exports (.reg, .wfw, Registry.pol) or listings, read together.
    #[arg(long = "store", required = true, value_name = "STORE")]
    pub stores: Vec<PathBuf>,
    /// Which Windows defaults apply (see `policy lint`).
    #[arg(long, value_enum, default_value_t = super::values::Os::Vista)]
    pub os: super::values::Os,
    /// What the firewall keyword LocalSubnet stands for (CIDR; repeat for several).
    #[arg(long = "local-subnet", value_name = "CIDR")]
    pub local_subnets: Vec<IpNet>,
    /// Assume this RPC dynamic range on both sides (what the keyword RPC stands for).
    #[arg(long, value_name = "PORTS")]
    pub range: Option<PortRanges>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `policy diff --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffOutput {
    pub findings: Vec<Finding>,
}

#[derive(Debug, clap::Args)]
pub struct RangeArgs {
    #[command(flatten)]
    pub common: Common,
}

/// `policy lint --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LintOutput {
    pub findings: Vec<Finding>,
}

/// `policy explain --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExplainOutput {
    pub action: Action,
    pub rule: Option<RuleRef>,
    /// For `conditional`: what the pass depends on ("only for service termservice",
    /// "depends on RA42=IntrAnet, not modelled").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// `policy range --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RangeOutput {
    /// Inclusive `[first, last]` ranges.
    pub ranges: Vec<(u16, u16)>,
    pub size: u32,
    /// `file:line` of the Ports value, `--range`, or `default (--os ...)`.
    pub source: String,
    /// listed, inverted, invalid, override or default.
    pub kind: String,
    pub findings: Vec<Finding>,
}

pub fn run(cmd: PolicyCommand) -> Result<Exit, Error> {
    match cmd {
        PolicyCommand::Lint(a) => lint(a),
        PolicyCommand::Explain(a) => explain(a),
        PolicyCommand::Range(a) => range(a),
        PolicyCommand::Diff(a) => diff(a),
    }
}

fn load(common: &Common, range: Option<PortRanges>) -> Result<LoadedPolicy, Error> {
    let opts = LoadOptions {
        range_override: range,
        os: common.os.into(),
        local_subnets: common.local_subnets.clone(),
    };
    Ok(policy::load(&common.files, &opts)?)
}

fn exit_for(findings: &[Finding]) -> Exit {
    if crate::finding::worst(findings) == Some(Severity::Error) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

fn findings_table(findings: &[Finding]) -> comfy_table::Table {
    use crate::inert::{cell, prose};
    let mut t = crate::report::table::new_table();
    t.set_header(["severity", "code", "where", "message", "fix"]);
    for f in findings {
        let at = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!("{}:{line}", cell(file)),
            (Some(file), None) => cell(file).into_owned(),
            _ => String::new(),
        };
        t.add_row([
            f.severity.to_string(),
            cell(f.code.as_str()).into_owned(),
            at,
            prose(&f.message).into_owned(),
            prose(&f.fix).into_owned(),
        ]);
    }
    t
}

/// The findings as a table, or `when_none` when there are none.
fn print_findings(findings: &[Finding], when_none: &str) {
    if findings.is_empty() {
        super::outln(when_none);
    } else {
        super::outln(findings_table(findings).to_string());
    }
}

fn lint(a: LintArgs) -> Result<Exit, Error> {
    let lp = load(&a.common, a.range)?;
    let out = LintOutput {
        findings: lp.findings,
    };
    if a.sarif {
        super::out(super::report::sarif_text(&out.findings)?);
    } else if a.common.json {
        super::print_json(&out)?;
    } else {
        print_findings(&out.findings, "no findings");
    }
    Ok(exit_for(&out.findings))
}

fn explain(a: ExplainArgs) -> Result<Exit, Error> {
    let lp = load(&a.common, a.range)?;
    let d = lp.policy.decide_query(Query {
        src: a.src,
        port: a.port,
        proto: a.proto,
        authenticated: a.authenticated,
    });
    let out = ExplainOutput {
        action: d.action,
        rule: d.rule,
        condition: d.condition,
    };
    if a.common.json {
        super::print_json(&out)?;
        return Ok(Exit::Ok);
    }
    let mut t = crate::report::table::new_table();
    t.set_header([
        "connection",
        "action",
        "rule",
        "where",
        "dialect",
        "policy",
        "filter",
    ]);
    let conn = format!("{} → {}/{}", a.src, a.port, a.proto);
    use crate::inert::cell;
    let action = match &out.condition {
        Some(c) => format!("{} ({})", out.action, cell(c)),
        None => out.action.to_string(),
    };
    match &out.rule {
        Some(r) => t.add_row([
            conn,
            action,
            cell(&r.name).into_owned(),
            format!("{}:{}", cell(&r.file), r.line),
            r.dialect.to_string(),
            cell(r.policy.as_deref().unwrap_or_default()).into_owned(),
            cell(r.filter.as_deref().unwrap_or_default()).into_owned(),
        ]),
        None => t.add_row([
            conn,
            action,
            "(no rule matches)".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]),
    };
    super::outln(t.to_string());
    Ok(Exit::Ok)
}

fn range(a: RangeArgs) -> Result<Exit, Error> {
    let lp = load(&a.common, None)?;
    let ports = lp.effective_range();
    let (source, kind) = match &lp.range {
        Some(r) => (
            r.source.clone(),
            serde_json::to_value(r.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        ),
        None => (
            format!(
                "default (--os {})",
                match lp.os {
                    OsFamily::Legacy => "legacy",
                    OsFamily::Vista => "vista",
                }
            ),
            "default".to_string(),
        ),
    };
    let out = RangeOutput {
        ranges: ports.ranges().to_vec(),
        size: ports.size(),
        source,
        kind,
        findings: lp.range_findings(),
    };
    if a.common.json {
        super::print_json(&out)?;
    } else {
        let mut t = crate::report::table::new_table();
        t.set_header(["range", "size", "kind", "source"]);
        t.add_row([
            if ports.is_empty() {
                "(none: RPC rejects the configuration)".to_string()
            } else {
                ports.to_string()
            },
            out.size.to_string(),
            out.kind.clone(),
            crate::inert::cell(&out.source).into_owned(),
        ]);
        super::outln(t.to_string());
        if !out.findings.is_empty() {
            super::outln(findings_table(&out.findings).to_string());
        }
    }
    Ok(exit_for(&out.findings))
}

fn diff(a: DiffArgs) -> Result<Exit, Error> {
    let opts = LoadOptions {
        range_override: a.range,
        os: a.os.into(),
        local_subnets: a.local_subnets.clone(),
    };
    let script = policy::load(&a.scripts, &opts)?;
    let store = policy::diff::beside(policy::load(&a.stores, &opts)?, &script);
    let out = DiffOutput {
        findings: policy::diff::diff(&script, &store),
    };
    if a.json {
        super::print_json(&out)?;
    } else {
        print_findings(&out.findings, "the store and the script agree");
    }
    Ok(exit_for(&out.findings))
}
