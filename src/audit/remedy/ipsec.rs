//! Remedy's IPsec writers: the plan as ipseccmd/ipsecpol commands or `netsh ipsec static`
//! commands, where the more specific filter wins.

use super::check::Expect;
use super::interval::{Iv, everything, intervals_all, normalize, ports_of};
use super::plan::{Allowed, Codes, Plan, matches_query, pass_like};
use super::quote::{Line, Quoted, Refusal, Token};
use super::{
    DEFAULT_POLICY, FixAction, FixDialect, FixKind, Out, Step, allowed_on, group_runs, join_codes,
    list_labels, quote,
};
use crate::policy::address::AddrMatch;
use crate::policy::model::RuleAction;
use crate::policy::{Action, Layer, LoadedPolicy, Proto, Query, Rule};
use crate::ports::PortRanges;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

/// The in-force IPsec policy the fix writes to, its store, and whether the files define it.
pub(super) fn ipsec_target(lp: &LoadedPolicy) -> (String, String, bool, bool) {
    match lp.ipsec_policies.iter().find(|p| p.in_force) {
        Some(p) => (p.name.clone(), p.store.clone(), true, true),
        None => {
            let exists = lp
                .ipsec_policies
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(DEFAULT_POLICY));
            (DEFAULT_POLICY.to_string(), "REG".to_string(), false, exists)
        }
    }
}

/// `name`, or `name (rpcaudit)` when the policy already has a rule so named that does
/// something else (re-adding a name replaces that rule, which could drop one of its blocks).
pub(super) fn ipsec_rule_name(
    lp: &LoadedPolicy,
    policy: &str,
    name: &str,
    action: RuleAction,
    src: &[Iv],
    ports: &PortRanges,
) -> String {
    let clash = lp.policy.rules.iter().any(|r| {
        r.layer == Layer::Ipsec
            && r.origin
                .policy
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(policy))
            && r.origin.name.eq_ignore_ascii_case(name)
            && !(r.action == action
                && r.ports.as_ranges() == Some(ports)
                && intervals_all(&r.src).is_some_and(|s| s == normalize(src.to_vec())))
    });
    if clash {
        format!("{name} (rpcaudit)")
    } else {
        name.to_string()
    }
}

pub(super) fn ipsec_pass_weight(a: &Allowed) -> u32 {
    Rule::ipsec_weight(
        &a.m,
        &AddrMatch::Me,
        crate::policy::model::ProtoMatch::Number(6),
        true,
    )
}

/// Why an IPsec PASS for `a` on `port` would not help, if it would not.
pub(super) fn ipsec_pass_blocked(lp: &LoadedPolicy, a: &Allowed, port: u16) -> Option<String> {
    let q = Query {
        src: a.sample,
        port,
        proto: Proto::Tcp,
        authenticated: false,
    };
    let fw = lp.policy.decide_layer(Layer::Firewall, q);
    if fw.action == Action::Block {
        return Some(format!(
            "{} is blocked on port {port} by the Windows Firewall rule {}; an IPsec PASS cannot lift it: use --fix-dialect netsh or powershell",
            a.label(),
            fw.rule.map(|r| r.to_string()).unwrap_or_default()
        ));
    }
    let ours = ipsec_pass_weight(a);
    let stronger = lp.policy.rules.iter().find(|r| {
        r.layer == Layer::Ipsec
            && matches!(
                r.action,
                RuleAction::Block
                    | RuleAction::Negotiate {
                        clear_inbound: false
                    }
            )
            && r.weight >= ours
            && matches_query(r, a.sample, port, lp)
    });
    stronger.map(|r| {
        format!(
            "{} is blocked on port {port} by {}, a filter at least as specific as a PASS for the subnet; remove or change that rule by hand if the block is not deliberate",
            a.label(),
            r.origin
        )
    })
}

/// The policy and store every IPsec command names, checked once.
pub(super) struct IpsecTarget {
    pub(super) pol: String,
    pub(super) polq: Quoted,
    /// As read (`REG`, `DS:corp.example`).
    pub(super) store: String,
    /// For `ipseccmd -w`; netsh ipsec static works on the store `set store` chose.
    pub(super) storet: Option<Token>,
}

fn ipsec_target_checked(pol: &str, store: &str, netsh: bool) -> Result<IpsecTarget, Refusal> {
    let polq = if netsh {
        quote::cmd_quoted("IPsec policy name", pol)?
    } else {
        quote::ipseccmd_policy(pol)?
    };
    let storet = if netsh {
        None
    } else {
        Some(quote::ipseccmd_store(store)?)
    };
    Ok(IpsecTarget {
        pol: pol.to_string(),
        polq,
        store: store.to_string(),
        storet,
    })
}

/// IPsec filters the fix writes, one per port and source address: BLOCKs for any source or for
/// one host, PASSes for an allowed subnet. Named as KB908472 names them ("Block Inbound TCP
/// 5001 Rule", "Allow Inbound TCP Port 5001 from 10.1.1.0 Rule").
struct Filters {
    action: RuleAction,
    /// TCP, or UDP for connectionless RPC.
    proto: Proto,
    /// What follows the ports in every name: "", " from 10.1.1.66", " from 10.1.1.0".
    from: String,
    /// Each source address as netsh writes it (`srcaddr=any`, `srcaddr=N srcmask=M`) and as
    /// ipseccmd does (`*`, `N/M`).
    sources: Vec<(String, String)>,
    /// The same sources as intervals, to tell a rule of the policy with our name from ours.
    ivs: Vec<Iv>,
}

impl Filters {
    fn block_any() -> Self {
        Filters {
            action: RuleAction::Block,
            proto: Proto::Tcp,
            from: String::new(),
            sources: vec![("srcaddr=any".to_string(), "*".to_string())],
            ivs: everything(),
        }
    }

    fn block_host(v4: Ipv4Addr) -> Self {
        let at = u128::from(u32::from(v4));
        Filters {
            action: RuleAction::Block,
            proto: Proto::Tcp,
            from: format!(" from {v4}"),
            sources: vec![host_mask(v4, Ipv4Addr::BROADCAST)],
            ivs: vec![Iv {
                v6: false,
                lo: at,
                hi: at,
            }],
        }
    }

    fn pass(a: &Allowed, addrs: &[(Ipv4Addr, Ipv4Addr)]) -> Self {
        Filters {
            action: RuleAction::Pass,
            proto: Proto::Tcp,
            from: format!(" from {}", a.name_part()),
            sources: addrs
                .iter()
                .map(|&(net, mask)| host_mask(net, mask))
                .collect(),
            ivs: a.ivs.clone().unwrap_or_default(),
        }
    }

    /// The same filters over `proto`.
    fn over(self, proto: Proto) -> Self {
        Filters { proto, ..self }
    }

    /// The filters on `ports`: one netsh filter list (a filter per port and source), or one
    /// ipseccmd rule per port.
    fn write(
        &self,
        s: &mut Step,
        lp: &LoadedPolicy,
        t: &IpsecTarget,
        netsh: bool,
        ports: &PortRanges,
    ) -> Result<(), Refusal> {
        let from = &self.from;
        let proto = self.proto.upper();
        let (verb, filter_action, rule) = match self.action {
            RuleAction::Block => ("Block", "rpcaudit Block", format!("Block Inbound {proto}")),
            _ => (
                "Allow",
                "rpcaudit Permit",
                format!("Allow Inbound {proto} Port"),
            ),
        };
        if netsh {
            let list = format!("rpcaudit {verb} Inbound {proto} {ports}{from}");
            return netsh_rule(s, t, &list, filter_action, |s, lq| {
                for p in ports.iter() {
                    for (src, _) in &self.sources {
                        s.cmd(
                            netsh_filter(lq)
                                .sp()
                                .words(&format!("{src} dstaddr=me protocol={proto} dstport={p}")),
                        )?;
                    }
                }
                Ok(())
            });
        }
        for p in ports.iter() {
            let name = ipsec_rule_name(
                lp,
                &t.pol,
                &format!("{rule} {p}{from} Rule"),
                self.action,
                &self.ivs,
                &ports_of([p]),
            );
            let filters: Vec<String> = self
                .sources
                .iter()
                .map(|(_, src)| format!("{src}=0:{p}:{proto}"))
                .collect();
            ipseccmd_rule(s, t, &name, &filters, self.action)?;
        }
        Ok(())
    }
}

/// The UDP blocks (`Plan::block_udp`): a BLOCK filter for any source, and a PASS filter per
/// allowed subnet the fence lets reach TCP 135 (the more specific filter wins), so that what
/// those subnets could do over UDP stays as it was.
fn render_ipsec_udp_blocks(
    out: &mut Out,
    lp: &LoadedPolicy,
    plan: &Plan,
    t: &IpsecTarget,
    netsh: bool,
) {
    let keep = allowed_on(plan, crate::ports::EPM_PORT);
    let groups = group_runs(plan.block_udp.iter().map(|(&p, c)| (p, c.clone())));
    for (c, ports) in &groups {
        out.blank();
        let except = if keep.is_empty() {
            String::new()
        } else {
            format!(" except {}", list_labels(&plan.allowed, &keep))
        };
        let except = out.shown(&except);
        out.comment(&format!(
            "Fixes {}: UDP {ports} (connectionless RPC) must be blocked for every source{except}.",
            join_codes(c)
        ));
        let does = FixAction::new(
            c,
            FixKind::Block,
            "any",
            ports,
            format!(
                "BLOCK filter for any source on UDP {ports} in IPsec policy \"{}\"",
                t.pol
            ),
        )
        .over(Proto::Udp);
        out.fix(&format!("the BLOCK filters for UDP {ports}"), does, |s| {
            Filters::block_any()
                .over(Proto::Udp)
                .write(s, lp, t, netsh, ports)
        });
        for &i in &keep {
            let a = &plan.allowed[i];
            let Some(addrs) = a.ipsec_addrs() else {
                out.notes.push(format!(
                    "{}: {} cannot be written as IPv4 address/mask filters; add its PASS filters for UDP {ports} by hand if it needs them",
                    join_codes(c),
                    a.label()
                ));
                continue;
            };
            let does = FixAction::new(
                c,
                FixKind::Pass,
                a.label(),
                ports,
                format!(
                    "PASS filter for {} on UDP {ports} in IPsec policy \"{}\"",
                    a.label(),
                    t.pol
                ),
            )
            .over(Proto::Udp);
            out.fix(
                &format!("the PASS filters for {} on UDP {ports}", a.label()),
                does,
                |s| {
                    Filters::pass(a, &addrs)
                        .over(Proto::Udp)
                        .write(s, lp, t, netsh, ports)
                },
            );
        }
    }
}

/// A source address and mask, as netsh and as ipseccmd write it.
fn host_mask(net: Ipv4Addr, mask: Ipv4Addr) -> (String, String) {
    (
        format!("srcaddr={net} srcmask={mask}"),
        format!("{net}/{mask}"),
    )
}

/// `ipseccmd.exe -w STORE -p "POLICY"`, the start of every ipseccmd command.
fn ipseccmd_head(t: &IpsecTarget) -> Result<Line, Refusal> {
    let store = t
        .storet
        .as_ref()
        .ok_or_else(|| Refusal::new("IPsec policy store", &t.store, "is not an ipseccmd store"))?;
    Ok(Line::new()
        .words("ipseccmd.exe -w")
        .sp()
        .token(store)
        .sp()
        .raw("-p")
        .sp()
        .quoted(&t.polq))
}

/// One ipseccmd rule: `-r "NAME" -f FILTERS -n ACTION`, read back as exactly that.
fn ipseccmd_rule(
    s: &mut Step,
    t: &IpsecTarget,
    name: &str,
    filters: &[String],
    action: RuleAction,
) -> Result<(), Refusal> {
    let rq = quote::cmd_quoted("IPsec rule name", name)?;
    let mut l = ipseccmd_head(t)?
        .sp()
        .raw("-r")
        .sp()
        .quoted(&rq)
        .sp()
        .raw("-f");
    for f in filters {
        l = l.sp().token(&quote::token("IPsec filter", f)?);
    }
    let n = match action {
        RuleAction::Block => "BLOCK",
        _ => "PASS",
    };
    let l = l.sp().raw("-n").sp().raw(n);
    s.cmd_expect(
        l,
        &Expect::IpsecRule {
            policy: &t.pol,
            store: &t.store,
            rule: name,
            filters,
            action,
        },
    )
}

pub(super) fn render_ipsec(out: &mut Out, lp: &LoadedPolicy, plan: &Plan) {
    let (pol, store, in_force, exists) = ipsec_target(lp);
    let netsh = out.dialect == FixDialect::NetshIpsec;
    let tool = "ipseccmd.exe";
    let start = out.actions.len();
    let mut covered: BTreeSet<(usize, u16)> = BTreeSet::new();

    out.blank();
    let shown = out.shown(&pol);
    out.comment(&format!(
        "IPsec policy \"{shown}\" ({}).",
        if in_force {
            "the policy in force"
        } else {
            "no IPsec policy is in force; this one is assigned at the end"
        }
    ));
    // Every command names the policy (and ipseccmd its store): if they cannot be written
    // safely, no IPsec command is.
    let t = match ipsec_target_checked(&pol, &store, netsh) {
        Ok(t) => t,
        Err(r) => {
            if !(plan.block.is_empty()
                && plan.block_udp.is_empty()
                && plan.host_block.is_empty()
                && plan.pass.is_empty())
            {
                out.refuse("every IPsec filter of this script", &r);
            }
            return;
        }
    };
    if netsh {
        if !store.eq_ignore_ascii_case("REG") {
            out.notes.push(format!(
                "the policy in force is in store {store}; netsh ipsec static works on the local store unless 'netsh ipsec static set store location=domain' comes first"
            ));
        }
        out.comment(
            "Filter actions (netsh reports 'already exists' on a second run; that is harmless).",
        );
        let ok = out.step("the policy and its filter actions", |s| {
            for (name, action) in [("rpcaudit Block", "block"), ("rpcaudit Permit", "permit")] {
                s.cmd(
                    Line::new()
                        .words("netsh ipsec static add filteraction")
                        .sp()
                        .raw("name=")
                        .quoted(&quote::cmd_quoted("IPsec filter action", name)?)
                        .sp()
                        .raw("action=")
                        .raw(action),
                )?;
            }
            if !exists {
                s.cmd(
                    Line::new()
                        .words("netsh ipsec static add policy")
                        .sp()
                        .raw("name=")
                        .quoted(&t.polq)
                        .sp()
                        .raw("description=")
                        .quoted(&quote::cmd_quoted("description", "KB908472")?)
                        .sp()
                        .raw("assign=no"),
                )?;
            }
            Ok(())
        });
        if !ok {
            return;
        }
    } else {
        out.comment(&format!(
            "{tool} (ipsecpol.exe on Windows 2000 takes the same switches). Assumption: naming an existing rule again (-r) replaces its filter and action, so running this script twice changes nothing."
        ));
    }

    // Blocks for everyone, with a PASS for each allowed subnet (the more specific filter wins).
    let groups = group_runs(
        plan.block
            .iter()
            .map(|(&p, c)| (p, (c.clone(), allowed_on(plan, p)))),
    );
    for ((c, allowed_idx), ports) in &groups {
        out.blank();
        let except = if allowed_idx.is_empty() {
            String::new()
        } else {
            format!(" except {}", list_labels(&plan.allowed, allowed_idx))
        };
        let except = out.shown(&except);
        out.comment(&format!(
            "Fixes {}: TCP {ports} must be blocked for every source{except}.",
            join_codes(c)
        ));
        out.comment("A BLOCK filter for any source (*), and a PASS filter per allowed subnet: in an IPsec policy the more specific filter wins.");
        let does = FixAction::new(
            c,
            FixKind::Block,
            "any",
            ports,
            format!("BLOCK filter for any source on TCP {ports} in IPsec policy \"{pol}\""),
        );
        out.fix(&format!("the BLOCK filters for TCP {ports}"), does, |s| {
            Filters::block_any().write(s, lp, &t, netsh, ports)
        });
        for &i in allowed_idx {
            let a = &plan.allowed[i];
            if render_ipsec_pass(out, lp, &t, a, ports, c) {
                covered.extend(ports.iter().map(|p| (i, p)));
            }
        }
    }

    render_ipsec_udp_blocks(out, lp, plan, &t, netsh);

    // Hosts inside an allowed subnet that must stay blocked: a host filter is more specific.
    let hosts = group_runs(
        plan.host_block
            .iter()
            .map(|(&(ip, p), c)| (p, (ip, c.clone()))),
    );
    for ((ip, c), ports) in &hosts {
        let IpAddr::V4(v4) = ip else {
            out.notes.push(format!(
                "{}: {ip} leaks on TCP {ports}, but IPsec filters here are IPv4 only; block it in Windows Firewall",
                join_codes(c)
            ));
            continue;
        };
        out.blank();
        out.comment(&format!(
            "Fixes {}: {ip} reaches TCP {ports} although the policy blocks it inside its allowed subnet; a filter for the single host is more specific than the subnet's PASS.",
            join_codes(c)
        ));
        let does = FixAction::new(
            c,
            FixKind::Block,
            ip.to_string(),
            ports,
            format!("BLOCK filter for the host {ip} on TCP {ports}"),
        );
        out.fix(
            &format!("the BLOCK filters for {ip} on TCP {ports}"),
            does,
            |s| Filters::block_host(*v4).write(s, lp, &t, netsh, ports),
        );
    }

    // Missing passes for allowed subnets.
    let mut per_source: BTreeMap<usize, Vec<(u16, Codes)>> = BTreeMap::new();
    for (&(i, p), c) in &plan.pass {
        if covered.contains(&(i, p)) {
            continue;
        }
        let Some(a) = plan.allowed.get(i) else {
            continue;
        };
        if let Some(why) = ipsec_pass_blocked(lp, a, p) {
            out.notes.push(format!("{}: {why}", join_codes(c)));
            continue;
        }
        per_source.entry(i).or_default().push((p, c.clone()));
    }
    for (i, items) in per_source {
        let a = &plan.allowed[i];
        for (c, ports) in group_runs(items) {
            out.blank();
            let label = out.shown(&a.label());
            out.comment(&format!(
                "Fixes {}: {label} must reach TCP {ports} (135 and every port of the range alike).",
                join_codes(&c),
            ));
            out.comment(
                "A PASS filter for the subnet, more specific than the BLOCK for any source.",
            );
            render_ipsec_pass(out, lp, &t, a, &ports, &c);
        }
    }

    if out.actions.len() > start {
        out.blank();
        if in_force {
            out.comment("Assign the policy again so the change is in force (IPsec changes act at once, no restart).");
        } else {
            out.comment("Assign the policy: without an assigned policy none of its filters apply.");
            out.notes.push(format!(
                "no IPsec policy was in force; the script assigns \"{pol}\"{}",
                if exists {
                    ", which the policy files define but leave unassigned: its other rules come into force too"
                } else {
                    ""
                }
            ));
        }
        out.step("assigning the IPsec policy", |s| {
            if netsh {
                s.cmd(
                    Line::new()
                        .words("netsh ipsec static set policy")
                        .sp()
                        .raw("name=")
                        .quoted(&t.polq)
                        .sp()
                        .raw("assign=yes"),
                )
            } else {
                s.cmd_expect(
                    ipseccmd_head(&t)?.sp().raw("-x"),
                    &Expect::IpsecAssign {
                        policy: &t.pol,
                        store: &t.store,
                    },
                )
            }
        });
    }
}

/// `netsh ipsec static add filter filterlist="LIST"`, to be followed by the filter's fields.
fn netsh_filter(list: &Quoted) -> Line {
    Line::new()
        .words("netsh ipsec static add filter")
        .sp()
        .raw("filterlist=")
        .quoted(list)
}

/// Delete and re-create a netsh ipsec rule and its filter list (so a second run starts from
/// scratch), `filters` writing the `add filter` lines for the quoted list name.
pub(super) fn netsh_rule(
    s: &mut Step,
    t: &IpsecTarget,
    name: &str,
    action: &str,
    filters: impl FnOnce(&mut Step, &Quoted) -> Result<(), Refusal>,
) -> Result<(), Refusal> {
    let nq = quote::cmd_quoted("IPsec rule name", name)?;
    let aq = quote::cmd_quoted("IPsec filter action", action)?;
    let netsh = |w: &str| Line::new().words(w).sp().raw("name=").quoted(&nq);
    s.comment("Deleting the rule and its filter list first makes the script safe to run again (netsh reports a missing one; that is harmless).");
    s.cmd(
        netsh("netsh ipsec static delete rule")
            .sp()
            .raw("policy=")
            .quoted(&t.polq),
    )?;
    s.cmd(netsh("netsh ipsec static delete filterlist"))?;
    s.cmd(netsh("netsh ipsec static add filterlist"))?;
    filters(s, &nq)?;
    s.cmd(
        netsh("netsh ipsec static add rule")
            .sp()
            .raw("policy=")
            .quoted(&t.polq)
            .sp()
            .raw("filterlist=")
            .quoted(&nq)
            .sp()
            .raw("filteraction=")
            .quoted(&aq),
    )
}

/// PASS filters for `a` on `ports`; false when they are not written (the subnet cannot be
/// written as IPsec filters, or a command was refused).
pub(super) fn render_ipsec_pass(
    out: &mut Out,
    lp: &LoadedPolicy,
    t: &IpsecTarget,
    a: &Allowed,
    ports: &PortRanges,
    c: &Codes,
) -> bool {
    let Some(addrs) = a.ipsec_addrs() else {
        out.notes.push(format!(
            "{}: {} cannot be written as IPv4 address/mask filters; add its PASS filters for TCP {ports} by hand",
            join_codes(c),
            a.label()
        ));
        return false;
    };
    let netsh = out.dialect == FixDialect::NetshIpsec;
    let does = FixAction::new(
        c,
        FixKind::Pass,
        a.label(),
        ports,
        format!(
            "PASS filter for {} on TCP {ports} in IPsec policy \"{}\"",
            a.label(),
            t.pol
        ),
    );
    let filters = Filters::pass(a, &addrs);
    out.fix(
        &format!("the PASS filters for {} on TCP {ports}", a.label()),
        does,
        |s| filters.write(s, lp, t, netsh, ports),
    )
}

pub(super) fn has_pass(lp: &LoadedPolicy, a: &Allowed, port: u16) -> bool {
    lp.policy
        .rules
        .iter()
        .any(|r| pass_like(r.action) && matches_query(r, a.sample, port, lp))
}
