//! Remedy's Windows Firewall writers: the plan as `netsh advfirewall` or PowerShell commands,
//! where a block beats every allow, so blocks name every address but the allowed ones and blocks
//! that cover an allowed subnet are narrowed.

use super::check::Expect;
use super::interval::{
    Iv, concrete, covers, everything, format_iv, intervals_all, minus, normalize, subtract,
};
use super::ipsec::has_pass;
use super::plan::{Codes, Plan, matches_query};
use super::quote::{Line, Refusal};
use super::{
    FixAction, FixDialect, FixKind, Out, Step, allowed_on, group_runs, join_codes, list_labels,
    quote,
};
use crate::policy::model::RuleAction;
use crate::policy::{Action, Layer, LoadedPolicy, Proto, Query, Rule};
use crate::ports::PortRanges;
use std::collections::{BTreeMap, BTreeSet};

/// The addresses as a firewall address list.
pub(super) fn fw_remote(ivs: &[Iv]) -> String {
    if normalize(ivs.to_vec()) == everything() {
        return "any".into();
    }
    ivs.iter()
        .map(|iv| format_iv(*iv))
        .collect::<Vec<_>>()
        .join(",")
}

/// Add (or replace) an inbound TCP or UDP rule, idempotently: `name` and `remote` are checked
/// by the dialect's rules, every line is read back.
pub(super) fn fw_add(
    s: &mut Step,
    lp: &LoadedPolicy,
    name: &str,
    block: bool,
    (ports, proto): (&PortRanges, Proto),
    remote: &str,
) -> Result<(), Refusal> {
    if fw_name_taken(lp, name, block, ports) {
        return Err(Refusal::new(
            quote::FW_RULE_NAME,
            name,
            "is already the name of a rule of the policy that does something else; deleting or updating rules by this name would drop that rule",
        ));
    }
    let expect = Expect::FwAdd {
        name,
        block,
        ports,
        proto,
    };
    match s.dialect {
        FixDialect::Powershell => {
            let q = quote::ps_quoted(quote::FW_RULE_NAME, name)?;
            let params = |mut l: Line| -> Result<Line, Refusal> {
                l = l
                    .sp()
                    .words("-Direction Inbound -Action")
                    .sp()
                    .raw(if block { "Block" } else { "Allow" })
                    .sp()
                    .words("-Protocol")
                    .sp()
                    .raw(proto.upper())
                    .sp()
                    .words("-LocalPort");
                for (i, x) in ports.to_string().split(',').enumerate() {
                    let t = quote::port_list(x)?;
                    l = if i == 0 { l.sp() } else { l.raw(",").sp() };
                    l = if x.contains('-') {
                        l.quoted(&quote::ps_quoted("port range", t.as_str())?)
                    } else {
                        l.token(&t)
                    };
                }
                l = l.sp().raw("-RemoteAddress").sp();
                if remote == "any" {
                    l = l.raw("Any");
                } else {
                    let list = quote::fw_addresses(remote)?;
                    for (i, a) in list.as_str().split(',').enumerate() {
                        if i > 0 {
                            l = l.raw(",").sp();
                        }
                        l = l.quoted(&quote::ps_quoted("remote address", a)?);
                    }
                }
                Ok(l.sp().words("-Enabled True"))
            };
            s.comment("Updated when it exists (from an earlier run), created otherwise.");
            s.cmd(
                edit_by_name(FixDialect::Powershell, "if (Get-NetFirewallRule", name)?
                    .sp()
                    .words("-ErrorAction SilentlyContinue) {"),
            )?;
            let set = params(edit_by_name(
                FixDialect::Powershell,
                "Set-NetFirewallRule",
                name,
            )?)?;
            s.indented(set, &Expect::FwEdit { name })?;
            s.fixed("} else {")?;
            let new = params(
                Line::new()
                    .words("New-NetFirewallRule -DisplayName")
                    .sp()
                    .quoted(&q),
            )?;
            s.indented(new, &expect)?;
            s.fixed("}")
        }
        _ => {
            let q = quote::netsh_rule_name(name)?;
            let remote = quote::fw_addresses(remote)?;
            s.comment("Deleting the rule first makes the script safe to run again ('No rules match' on the first run is harmless).");
            s.cmd_expect(
                Line::new()
                    .words("netsh advfirewall firewall delete rule")
                    .sp()
                    .raw("name=")
                    .quoted(&q),
                &Expect::FwEdit { name },
            )?;
            s.cmd_expect(
                Line::new()
                    .words("netsh advfirewall firewall add rule")
                    .sp()
                    .raw("name=")
                    .quoted(&q)
                    .sp()
                    .words("dir=in action=")
                    .raw(if block { "block" } else { "allow" })
                    .sp()
                    .raw("protocol=")
                    .raw(proto.upper())
                    .sp()
                    .raw("localport=")
                    .token(&quote::port_list(&ports.to_string())?)
                    .sp()
                    .raw("remoteip=")
                    .token(&remote),
                &expect,
            )
        }
    }
}

/// A rule of the policy is called `name` (netsh and PowerShell compare names without regard
/// to case) and is not the rule we write: replacing rules by that name would drop it.
fn fw_name_taken(lp: &LoadedPolicy, name: &str, block: bool, ports: &PortRanges) -> bool {
    lp.policy.rules.iter().any(|r| {
        r.layer == Layer::Firewall
            && r.origin.name.eq_ignore_ascii_case(name)
            && !((r.action == RuleAction::Block) == block
                && concrete(&r.ports, &lp.policy.rpc_dynamic).as_ref() == Some(ports))
    })
}

/// One rule the fix adds: the step that writes it and the action the report records for it.
struct NewRule<'a> {
    codes: &'a Codes,
    block: bool,
    /// Who the rule is about, as the report's action names it.
    source: String,
    ports: &'a PortRanges,
    proto: Proto,
    /// What the rule is, for the report's action: "block rule for the host ... on TCP ...".
    detail: String,
    /// The step as a refusal or a note names it: "the block rule for ...".
    step: String,
    /// The rule's name in the store.
    name: String,
    /// Remote addresses, as a firewall address list.
    remote: &'a str,
}

/// Write `rule` with [`fw_add`]; false when a value was refused (the step then says why).
fn add_rule(out: &mut Out, lp: &LoadedPolicy, rule: NewRule) -> bool {
    let kind = if rule.block {
        FixKind::Block
    } else {
        FixKind::Pass
    };
    let does =
        FixAction::new(rule.codes, kind, rule.source, rule.ports, rule.detail).over(rule.proto);
    out.fix(&rule.step, does, |s| {
        fw_add(
            s,
            lp,
            &rule.name,
            rule.block,
            (rule.ports, rule.proto),
            rule.remote,
        )
    })
}

/// The UDP blocks (`Plan::block_udp`): every address except the allowed subnets the fence lets
/// reach TCP 135, which this leaves as they are (no allow rule is added for them: the policy
/// passes them nothing over UDP).
// Alike the TCP blocks of `render` in shape, but not the same rule: UDP leaves out only the
// subnets allowed to TCP 135 and adds no allow rule for them (the policy passes them nothing over
// UDP), where TCP groups ports by the sources allowed on each.
fn render_udp_blocks(out: &mut Out, lp: &LoadedPolicy, plan: &Plan) {
    let except_idx = super::allowed_on(plan, crate::ports::EPM_PORT);
    let groups = group_runs(plan.block_udp.iter().map(|(&p, c)| (p, c.clone())));
    for (c, ports) in &groups {
        let mut remote = everything();
        let mut excluded: Vec<String> = Vec::new();
        for &i in &except_idx {
            let a = &plan.allowed[i];
            match &a.ivs {
                Some(v) => {
                    remote = subtract(&remote, v);
                    excluded.push(a.label());
                }
                None => out.notes.push(format!(
                    "{}: {} cannot be left out of a block by address (keyword or DNS name); the block for UDP {ports} covers it too",
                    join_codes(c),
                    a.label()
                )),
            }
        }
        if remote.is_empty() {
            out.notes.push(format!(
                "{}: the allowed sources cover every address, so there is nobody to block on UDP {ports}",
                join_codes(c)
            ));
            continue;
        }
        let except = if excluded.is_empty() {
            String::new()
        } else {
            format!(" except {}", excluded.join(", "))
        };
        out.blank();
        let shown = out.shown(&except);
        out.comment(&format!(
            "Fixes {}: UDP {ports} (connectionless RPC) must be blocked for every source{shown}.",
            join_codes(c)
        ));
        let remote = fw_remote(&remote);
        add_rule(
            out,
            lp,
            NewRule {
                codes: c,
                block: true,
                source: format!("any{except}"),
                ports,
                proto: Proto::Udp,
                detail: format!("block rule for UDP {ports}, remote addresses {remote}"),
                step: format!("the block rule for UDP {ports}"),
                name: format!("Block Inbound UDP {ports} (rpcaudit)"),
                remote: &remote,
            },
        );
    }
}

/// A firewall block rule of the policy that must stop covering some allowed sources.
pub(super) struct Narrow {
    pub(super) name: String,
    pub(super) excl: BTreeSet<usize>,
    pub(super) codes: Codes,
}

pub(super) fn render_firewall(out: &mut Out, lp: &LoadedPolicy, plan: &Plan) {
    let mut need_allow: BTreeMap<usize, BTreeMap<u16, Codes>> = BTreeMap::new();

    // Blocks: every address except the allowed subnets, since a block beats any allow.
    let groups = group_runs(
        plan.block
            .iter()
            .map(|(&p, c)| (p, (c.clone(), allowed_on(plan, p)))),
    );
    for ((c, idx), ports) in &groups {
        let mut remote = everything();
        let mut kept_in: Vec<String> = Vec::new();
        let mut excluded: Vec<String> = Vec::new();
        for &i in idx {
            let a = &plan.allowed[i];
            match &a.ivs {
                Some(v) => {
                    remote = subtract(&remote, v);
                    excluded.push(a.label());
                }
                None => kept_in.push(a.label()),
            }
        }
        if !kept_in.is_empty() {
            out.notes.push(format!(
                "{}: {} cannot be left out of a block by address (keyword or DNS name); the block for TCP {ports} covers it too",
                join_codes(c),
                kept_in.join(", ")
            ));
        }
        if remote.is_empty() {
            out.notes.push(format!(
                "{}: the allowed sources cover every address, so there is nobody to block on TCP {ports}",
                join_codes(c)
            ));
            continue;
        }
        let except = if excluded.is_empty() {
            String::new()
        } else {
            format!(" except {}", excluded.join(", "))
        };
        out.blank();
        let shown = out.shown(&except);
        out.comment(&format!(
            "Fixes {}: TCP {ports} must be blocked for every source{shown}.",
            join_codes(c)
        ));
        if !excluded.is_empty() {
            out.comment("In Windows Firewall a block rule beats every allow rule, so the block names every address except the allowed subnets instead of any.");
        }
        let remote = fw_remote(&remote);
        let written = add_rule(
            out,
            lp,
            NewRule {
                codes: c,
                block: true,
                source: format!("any{except}"),
                ports,
                proto: Proto::Tcp,
                detail: format!("block rule for TCP {ports}, remote addresses {remote}"),
                step: format!("the block rule for TCP {ports}"),
                name: format!("Block Inbound TCP {ports} (rpcaudit)"),
                remote: &remote,
            },
        );
        if !written {
            continue;
        }
        for &i in idx {
            for p in ports.iter() {
                if !has_pass(lp, &plan.allowed[i], p) {
                    let e = need_allow.entry(i).or_default().entry(p).or_default();
                    e.extend(c.iter().cloned());
                }
            }
        }
    }

    render_udp_blocks(out, lp, plan);

    // Hosts inside an allowed subnet that must stay blocked: block beats allow.
    let hosts = group_runs(
        plan.host_block
            .iter()
            .map(|(&(ip, p), c)| (p, (ip, c.clone()))),
    );
    for ((ip, c), ports) in &hosts {
        out.blank();
        out.comment(&format!(
            "Fixes {}: {ip} reaches TCP {ports} although the policy blocks it; a block rule for the host beats the subnet's allow.",
            join_codes(c)
        ));
        add_rule(
            out,
            lp,
            NewRule {
                codes: c,
                block: true,
                source: ip.to_string(),
                ports,
                proto: Proto::Tcp,
                detail: format!("block rule for the host {ip} on TCP {ports}"),
                step: format!("the block rule for {ip} on TCP {ports}"),
                name: format!("Block Inbound TCP {ports} from {ip} (rpcaudit)"),
                remote: &ip.to_string(),
            },
        );
    }

    // Passes: narrow the blocks that cover allowed sources, then allow them where nothing does.
    let mut narrow: BTreeMap<String, Narrow> = BTreeMap::new();
    for (&(i, p), c) in &plan.pass {
        let Some(a) = plan.allowed.get(i) else {
            continue;
        };
        let q = Query {
            src: a.sample,
            port: p,
            proto: Proto::Tcp,
            authenticated: false,
        };
        let ipsec = lp.policy.decide_layer(Layer::Ipsec, q);
        if ipsec.action == Action::Block {
            out.notes.push(format!(
                "{}: {} is blocked on port {p} by the IPsec rule {}; a firewall rule cannot lift it: use --fix-dialect ipseccmd or netsh-ipsec",
                join_codes(c),
                a.label(),
                ipsec.rule.map(|r| r.to_string()).unwrap_or_default()
            ));
            continue;
        }
        for r in lp.policy.rules.iter().filter(|r| {
            r.layer == Layer::Firewall
                && r.action == RuleAction::Block
                && matches_query(r, a.sample, p, lp)
        }) {
            let n = narrow
                .entry(r.origin.name.to_ascii_lowercase())
                .or_insert_with(|| Narrow {
                    name: r.origin.name.clone(),
                    excl: BTreeSet::new(),
                    codes: Codes::new(),
                });
            n.excl.insert(i);
            n.codes.extend(c.iter().cloned());
        }
        if !has_pass(lp, a, p) {
            let e = need_allow.entry(i).or_default().entry(p).or_default();
            e.extend(c.iter().cloned());
        }
    }
    let mut keep: BTreeMap<usize, (PortRanges, Codes)> = BTreeMap::new();
    for n in narrow.values() {
        render_narrow(out, lp, plan, n, &mut keep);
    }
    for (i, (ports, c)) in &keep {
        let a = &plan.allowed[*i];
        let Some(addr) = a.fw_addr() else { continue };
        out.blank();
        let label = out.shown(&a.label());
        out.comment(&format!(
            "Keeps {label} blocked on TCP {ports}, which the narrowed block covered and it is not meant to reach."
        ));
        // The block rule for hosts above and this one go through the one writer, add_rule; only
        // what they block differs: one host's address there, an allowed set's label and address here.
        let detail = format!("block rule keeping {} out of TCP {ports}", a.label());
        add_rule(
            out,
            lp,
            NewRule {
                codes: c,
                block: true,
                source: a.label(),
                ports,
                proto: Proto::Tcp,
                step: format!("the {detail}"),
                detail,
                name: format!(
                    "Keep blocking {} outside its allowed ports (rpcaudit)",
                    a.label()
                ),
                remote: &addr,
            },
        );
    }
    for (i, per_port) in need_allow {
        let a = &plan.allowed[i];
        let Some(addr) = a.fw_addr() else {
            out.notes.push(format!(
                "{} cannot be written as a firewall address; allow it by hand",
                a.label()
            ));
            continue;
        };
        for (c, ports) in group_runs(per_port) {
            out.blank();
            let label = out.shown(&a.label());
            out.comment(&format!(
                "Fixes {}: {label} must reach TCP {ports}, and no rule lets it in.",
                join_codes(&c),
            ));
            let detail = format!("allow rule for {} on TCP {ports}", a.label());
            add_rule(
                out,
                lp,
                NewRule {
                    codes: &c,
                    block: false,
                    source: a.label(),
                    ports: &ports,
                    proto: Proto::Tcp,
                    step: format!("the {detail}"),
                    detail,
                    name: format!("Allow Inbound TCP {ports} from {} (rpcaudit)", a.label()),
                    remote: &addr,
                },
            );
        }
    }
}

/// The start of a command that finds or changes the rules named `name`: `HEAD -DisplayName
/// 'name'` in PowerShell (`ps_head`: the words before it, the cmdlet last), `netsh advfirewall
/// firewall set rule name="name" dir=in new` in netsh (where `ps_head` is not used).
fn edit_by_name(dialect: FixDialect, ps_head: &str, name: &str) -> Result<Line, Refusal> {
    Ok(match dialect {
        FixDialect::Powershell => Line::new()
            .words(ps_head)
            .sp()
            .raw("-DisplayName")
            .sp()
            .quoted(&quote::ps_pattern(quote::FW_RULE_NAME, name)?),
        _ => Line::new()
            .words("netsh advfirewall firewall set rule")
            .sp()
            .raw("name=")
            .quoted(&quote::netsh_rule_name(name)?)
            .sp()
            .words("dir=in new"),
    })
}

pub(super) fn render_narrow(
    out: &mut Out,
    lp: &LoadedPolicy,
    plan: &Plan,
    n: &Narrow,
    keep: &mut BTreeMap<usize, (PortRanges, Codes)>,
) {
    let c = join_codes(&n.codes);
    let same: Vec<&Rule> = lp
        .policy
        .rules
        .iter()
        .filter(|r| r.layer == Layer::Firewall && r.origin.name.eq_ignore_ascii_case(&n.name))
        .collect();
    let Some(first) = same.first() else { return };
    if same
        .iter()
        .any(|r| r.src != first.src || r.action != RuleAction::Block)
    {
        out.notes.push(format!(
            "{c}: several rules are named \"{}\" with different addresses or actions; changing them by name would change them all, so narrow the right one by hand",
            n.name
        ));
        return;
    }
    let Some(r_ivs) = intervals_all(&first.src) else {
        out.notes.push(format!(
            "{c}: rule \"{}\" names its remote addresses with keywords; narrow it by hand",
            n.name
        ));
        return;
    };
    let mut rports = PortRanges::default();
    for r in &same {
        match concrete(&r.ports, &lp.policy.rpc_dynamic) {
            Some(p) => rports = rports.union(&p),
            None => {
                out.notes.push(format!(
                    "{c}: rule \"{}\" names its ports with a keyword ({}); narrow it by hand",
                    n.name, r.ports
                ));
                return;
            }
        }
    }
    let mut new = r_ivs.clone();
    let mut excluded = Vec::new();
    for &i in &n.excl {
        let a = &plan.allowed[i];
        match &a.ivs {
            Some(v) if covers(&r_ivs, v) => {
                new = subtract(&new, v);
                excluded.push(i);
            }
            _ => out.notes.push(format!(
                "{c}: rule \"{}\" blocks part of {} only (a deliberate exception?); left as it is",
                n.name,
                a.label()
            )),
        }
    }
    if excluded.is_empty() {
        return;
    }
    let labels = list_labels(&plan.allowed, &excluded);
    out.blank();
    let (shown, shown_labels) = (out.shown(&n.name), out.shown(&labels));
    out.comment(&format!(
        "Fixes {c}: rule \"{shown}\" blocks {shown_labels}, which is meant to pass; in Windows Firewall a block beats every allow, so the block is narrowed to leave {shown_labels} out."
    ));
    let edit = Expect::FwEdit { name: &n.name };
    let does = FixAction::new(
        &n.codes,
        FixKind::NarrowBlock,
        format!("{} except {labels}", fw_remote(&r_ivs)),
        &rports,
        format!("block rule \"{}\" no longer covers {labels}", n.name),
    );
    let written = if new.is_empty() {
        out.comment("Every address it blocked is allowed: the rule is disabled.");
        out.fix("narrowing the block rule", does, |s| {
            let head = edit_by_name(s.dialect, "Disable-NetFirewallRule", &n.name)?;
            let l = match s.dialect {
                FixDialect::Powershell => head,
                _ => head.sp().words("enable=no"),
            };
            s.cmd_expect(l, &edit)
        })
    } else {
        let remote = fw_remote(&new);
        if out.dialect == FixDialect::Powershell {
            out.comment("Set-NetFirewallRule -DisplayName changes every rule of that display name, outbound ones and rules from outside these files too: check with Get-NetFirewallRule -DisplayName first.");
        }
        out.fix("narrowing the block rule", does, |s| {
            let list = quote::fw_addresses(&remote)?;
            let head = edit_by_name(s.dialect, "Set-NetFirewallRule", &n.name)?;
            let l = match s.dialect {
                FixDialect::Powershell => {
                    let mut l = head.sp().raw("-RemoteAddress");
                    for (i, a) in list.as_str().split(',').enumerate() {
                        l = if i == 0 { l.sp() } else { l.raw(",").sp() };
                        l = l.quoted(&quote::ps_quoted("remote address", a)?);
                    }
                    l
                }
                _ => head.sp().raw("remoteip=").token(&list),
            };
            s.cmd_expect(l, &edit)
        })
    };
    if !written {
        return;
    }
    for i in excluded {
        let k = minus(&rports, &plan.allowed[i].ports);
        if !k.is_empty() {
            let e = keep.entry(i).or_default();
            e.0 = e.0.union(&k);
            e.1.extend(n.codes.iter().cloned());
        }
    }
}
