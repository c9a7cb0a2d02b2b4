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
    /// that decides; with --interface, what RPC filters do with one call to an interface.
    Explain(ExplainArgs),
    /// Show the effective RPC dynamic port range (Rpc\Internet) and its findings.
    Range(RangeArgs),
    /// Write a `netsh -f` script of RPC filters that blocks calls to interfaces except from
    /// chosen addresses (read back before it is written).
    RpcFilterScript(RpcFilterScriptArgs),
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
    #[arg(
        long,
        required_unless_present = "interface",
        conflicts_with = "interface"
    )]
    pub port: Option<u16>,
    /// An RPC interface UUID: the files are then RPC filters (`netsh rpc filter` commands or
    /// `show filter` output) and the answer is what they do with a call to it.
    #[arg(long, value_name = "UUID", conflicts_with_all = ["authenticated", "range"])]
    pub interface: Option<uuid::Uuid>,
    /// With --interface: the call comes over this named pipe (`\pipe\efsrpc`), not TCP.
    #[arg(long, value_name = "NAME", requires = "interface")]
    pub pipe: Option<String>,
    /// With --interface: the call's authentication level, 1 (none, anonymous) to 6 (privacy);
    /// not given, a filter on it makes the answer conditional.
    #[arg(long, value_name = "LEVEL", requires = "interface",
          value_parser = clap::value_parser!(u8).range(1..=6))]
    pub auth_level: Option<u8>,
    /// Transport protocol.
    #[arg(long, default_value_t = Proto::Tcp)]
    pub proto: Proto,
    /// The client authenticates with IPsec (meets allow-bypass and negotiate rules).
    #[arg(long)]
    pub authenticated: bool,
    /// Assume this RPC dynamic range (what the firewall keyword RPC stands for).
    #[arg(long, value_name = "PORTS")]
    pub range: Option<PortRanges>,
    /// The service that owns the port (for rules scoped to a service); without it or
    /// --program a scoped rule is conditional on a port whose owner rpcaudit does not know.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// The program that owns the port (for rules scoped to a program).
    #[arg(long, value_name = "PATH")]
    pub program: Option<String>,
    /// The address the connection is sent to (for rules with local addresses, LA4/LA6).
    #[arg(long, value_name = "ADDR")]
    pub dst: Option<IpAddr>,
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

#[derive(Debug, clap::Args)]
pub struct RpcFilterScriptArgs {
    /// An interface to block (UUID, repeatable), e.g. MS-EFSR's
    /// c681d488-d850-11d0-8c52-00c04fd90f7e and df1941c5-fe89-4e79-bf10-463657acf44d.
    #[arg(long = "block", value_name = "UUID", required = true)]
    pub block: Vec<String>,
    /// An address or subnet still allowed to call them (repeatable; one permit filter per
    /// address, at most 256).
    #[arg(long = "permit-from", value_name = "ADDR")]
    pub permit_from: Vec<String>,
    /// Write the script to this file (created new) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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

/// `policy explain --interface --json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InterfaceExplainOutput {
    #[schemars(with = "String")]
    pub interface: uuid::Uuid,
    #[schemars(with = "String")]
    pub src: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipe: Option<String>,
    #[serde(flatten)]
    pub decision: crate::policy::rpc_filter::RpcDecision,
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
        PolicyCommand::RpcFilterScript(a) => rpc_filter_script(a),
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
    let port = match (a.port, a.interface) {
        (Some(port), _) => port,
        (None, Some(interface)) => return explain_interface(a, interface),
        (None, None) => {
            return Err(Error::Clap(clap::Error::raw(
                clap::error::ErrorKind::MissingRequiredArgument,
                "give --port or --interface\n",
            )));
        }
    };
    let lp = load(&a.common, a.range)?;
    let owners = (a.service.is_some() || a.program.is_some())
        .then(|| policy::model::condition::Owners::one(a.service.as_deref(), a.program.as_deref()));
    let target = policy::model::condition::Target {
        dst: a.dst,
        owners,
        local_subnets: Vec::new(),
    };
    let d = lp.policy.decide_at(
        Query {
            src: a.src,
            port,
            proto: a.proto,
            authenticated: a.authenticated,
        },
        &target,
    );
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
    let conn = format!("{} → {}/{}", a.src, port, a.proto);
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

/// `policy explain FILE --interface UUID --src ADDR`: the RPC filters' decision for one call.
fn explain_interface(a: ExplainArgs, interface: uuid::Uuid) -> Result<Exit, Error> {
    use crate::inert::cell;
    use crate::policy::rpc_filter::Call;
    let filters = policy::load_rpc_filters(&a.common.files)?.filters;
    let call = Call {
        interface,
        src: a.src,
        pipe: a.pipe.clone(),
        auth_level: a.auth_level,
        // Level 1 is an anonymous call, whose auth type is none (0); otherwise not known.
        auth_type: (a.auth_level == Some(1)).then_some(0),
        opnum: None,
    };
    let out = InterfaceExplainOutput {
        interface,
        src: a.src,
        pipe: a.pipe.clone(),
        decision: filters.decide(&call),
    };
    if a.common.json {
        super::print_json(&out)?;
        return Ok(Exit::Ok);
    }
    let mut t = crate::report::table::new_table();
    t.set_header(["call", "decision", "filter", "why"]);
    let road = match &out.pipe {
        Some(p) => format!("over {}", cell(p)),
        None => "over TCP".into(),
    };
    let mut why = out.decision.reasons.join("; ");
    if out.decision.address_over_pipe {
        why.push_str(
            " (a filter scoped by remote address does not hold over named pipes before \
             Windows 11 25H2)",
        );
    }
    t.add_row([
        format!("{} → {interface} {road}", a.src),
        out.decision.verdict.to_string(),
        out.decision.filter.as_deref().map_or_else(
            || "(no filter decides)".to_string(),
            |f| cell(f).into_owned(),
        ),
        crate::inert::prose(&why).into_owned(),
    ]);
    super::outln(t.to_string());
    Ok(Exit::Ok)
}

fn rpc_filter_script(a: RpcFilterScriptArgs) -> Result<Exit, Error> {
    let block: Vec<&str> = a.block.iter().map(String::as_str).collect();
    let permit: Vec<&str> = a.permit_from.iter().map(String::as_str).collect();
    let text = crate::audit::remedy::rpc_filter::script(&block, &permit)
        .map_err(|r| Error::ScriptRefused(r.to_string()))?;
    match &a.output {
        Some(path) => super::files::write_atomically(path, text.as_bytes()).map_err(|source| {
            Error::WriteReport {
                path: path.display().to_string(),
                source,
            }
        })?,
        // The file keeps Windows line ends; the terminal shows plain lines.
        None => super::out(text.replace("\r\n", "\n")),
    }
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
