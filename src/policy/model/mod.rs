//! The model and its checks: the room every reader of `policy` hands its rules to. The
//! dialects ([`crate::policy::dialect`]) and the store readers ([`crate::policy::store`])
//! produce [`Rule`]s and report through [`sink`] (findings capped per code, located by
//! file:line and column); a value they cannot take is a [`error::ValueError`]; addresses are
//! [`address`]'s; once the files are combined, [`lint`] checks the whole policy and [`diff`]
//! compares a script with a store. This file is the model itself.
//!
//! The intended policy as one model, whatever dialect it was written in: inbound rules with
//! their layer, and `decide(src, port, proto)` with each layer's own precedence. The dialect
//! parsers produce [`Rule`]s; lints, `rpcaudit policy explain` and the audit ask this model.
//!
//! Precedence, as Microsoft documents it:
//! - IPsec (ipsecpol/ipseccmd, `netsh ipsec static`): the IPsec driver orders all filters of
//!   the assigned policy from most to least specific and the first match decides; there is no
//!   rule order an administrator can set ("The Cable Guy - February 2005: IPsec Filter
//!   Ordering", learn.microsoft.com/previous-versions/bb877982). We order by address
//!   specificity (fixed bits of source plus destination), then a named protocol, then a named
//!   port; among equally specific filters block comes before negotiate before permit.
//! - Windows Firewall (`netsh advfirewall`, `New-NetFirewallRule`): "Allow-bypass rules take
//!   precedence over block rules, and block rules take precedence over allow rules"
//!   ([MS-FASP] 2.2.34 FW_RULE_ACTION). Specificity plays no part. Allow-bypass (and allow
//!   rules that require authentication) only apply to IPsec-authenticated traffic.
//!
//! Layers combine like the packet path: a connection must pass both, so a block from any
//! layer wins; then a `conditional` answer (a firewall rule that passes only under a
//! condition rpcaudit cannot check, [`condition`]); otherwise a pass from any layer passes;
//! `none` means no rule of any layer matched and no store gave the firewall's default.

pub mod address;
pub mod condition;
pub mod diff;
pub mod error;
pub mod lint;
pub mod rpc_filter;
pub mod sink;

use crate::ports::PortRanges;
use address::AddrMatch;
use condition::{Condition, Scope, Target};
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// The transport protocol of a query (it lives beside the ports, which `probe` shares).
pub use crate::ports::{Proto, UnknownProto};

/// The protocol a rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProtoMatch {
    Any,
    Number(u8),
}

impl ProtoMatch {
    pub fn matches(self, p: Proto) -> bool {
        match self {
            ProtoMatch::Any => true,
            ProtoMatch::Number(n) => n == p.number(),
        }
    }

    /// Parse `TCP`, `UDP`, `ICMP`, `ICMPv4`, `ICMPv6`, `RAW`/`ANY`, or a number 0-255.
    pub fn parse(s: &str) -> Option<ProtoMatch> {
        match s.trim().to_ascii_lowercase().as_str() {
            "any" | "" => Some(ProtoMatch::Any),
            "tcp" => Some(ProtoMatch::Number(6)),
            "udp" => Some(ProtoMatch::Number(17)),
            "icmp" | "icmpv4" => Some(ProtoMatch::Number(1)),
            "icmpv6" => Some(ProtoMatch::Number(58)),
            "raw" => Some(ProtoMatch::Number(255)),
            n => n.parse::<u8>().ok().map(ProtoMatch::Number),
        }
    }
}

/// The decision for a query. `conditional`: pass or not depending on a condition rpcaudit
/// cannot check (the program or service that owns the port, a field not modelled), never a
/// plain pass; the decision carries the condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Pass,
    Block,
    None,
    // Described in the enum's comment, so the schema stays one flat enum.
    Conditional,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Pass => "pass",
            Action::Block => "block",
            Action::None => "none",
            Action::Conditional => "conditional",
        })
    }
}

/// The enforcement layer a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    Ipsec,
    Firewall,
}

/// The language a rule or range was written in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// ipsecpol.exe (Windows 2000) / ipseccmd.exe (XP, 2003): same syntax.
    Ipseccmd,
    /// `netsh ipsec static ...`
    NetshIpsec,
    /// `netsh advfirewall firewall ...`
    NetshAdvfirewall,
    /// PowerShell `New-NetFirewallRule ...`
    Powershell,
    /// rpccfg.exe command lines.
    Rpccfg,
    /// regedit `.reg` exports.
    Reg,
    /// A Windows Firewall rule store (local or GPO) as `reg export` writes it.
    FirewallStore,
    /// The IPsec policy store (`...\IPSec\Policy\Local`) as `reg export` writes it.
    IpsecStore,
    /// A Windows Firewall listing: `netsh advfirewall firewall show rule name=all verbose`, or
    /// `Get-NetFirewallRule` with its filters as JSON.
    FirewallListing,
}

impl Dialect {
    pub fn layer(self) -> Option<Layer> {
        match self {
            Dialect::Ipseccmd | Dialect::NetshIpsec | Dialect::IpsecStore => Some(Layer::Ipsec),
            Dialect::NetshAdvfirewall
            | Dialect::Powershell
            | Dialect::FirewallStore
            | Dialect::FirewallListing => Some(Layer::Firewall),
            Dialect::Rpccfg | Dialect::Reg => None,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Ipseccmd => "ipseccmd",
            Dialect::NetshIpsec => "netsh-ipsec",
            Dialect::NetshAdvfirewall => "netsh-advfirewall",
            Dialect::Powershell => "powershell",
            Dialect::Rpccfg => "rpccfg",
            Dialect::Reg => "reg",
            Dialect::FirewallStore => "firewall-store",
            Dialect::IpsecStore => "ipsec-store",
            Dialect::FirewallListing => "firewall-listing",
        })
    }
}

/// Which local ports a rule covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum PortMatch {
    Any,
    Ports(PortRanges),
    /// Windows Firewall `RPC`: the ports RPC hands out dynamically (we use the effective RPC
    /// dynamic range).
    RpcDynamic,
    /// A keyword we cannot map to ports (`IPHTTPS`, `Teredo`, ...): matches nothing.
    Keyword(String),
}

impl PortMatch {
    pub fn contains(&self, port: u16, rpc_dynamic: &PortRanges) -> bool {
        match self {
            PortMatch::Any => true,
            PortMatch::Ports(p) => p.contains(port),
            PortMatch::RpcDynamic => rpc_dynamic.contains(port),
            PortMatch::Keyword(_) => false,
        }
    }

    /// The ports as a set, when they are a plain list.
    pub fn as_ranges(&self) -> Option<&PortRanges> {
        match self {
            PortMatch::Ports(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for PortMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortMatch::Any => f.write_str("any"),
            PortMatch::Ports(p) => write!(f, "{p}"),
            PortMatch::RpcDynamic => f.write_str("RPC (dynamic range)"),
            PortMatch::Keyword(k) => f.write_str(k),
        }
    }
}

/// What a rule does with matching traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RuleAction {
    /// IPsec permit / firewall allow.
    Pass,
    Block,
    /// IPsec negotiate security: only IPsec peers get through, unless it falls back to clear
    /// (`-soft`, `soft=yes`) or accepts clear inbound (`INPASS`, `inpass=yes`).
    Negotiate {
        clear_inbound: bool,
    },
    /// Firewall allow that requires authentication (`security=authenticate`,
    /// `-Authentication Required`): applies only to authenticated traffic.
    AllowSecure,
    /// Firewall allow-bypass (`action=bypass`, `-OverrideBlockRules $true`): authenticated
    /// traffic only, beats block rules.
    Bypass,
}

/// Where a rule comes from: what `explain` prints and findings cite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RuleRef {
    pub file: String,
    pub line: usize,
    pub name: String,
    pub dialect: Dialect,
    /// The IPsec policy holding the rule (none for firewall rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The filter as written, for IPsec rules with several filters; for firewall rules, how
    /// their RPC port keywords were read (`LPort=RPC (the RPC dynamic range)`,
    /// `LPort=RPC-EPMap (TCP 135)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} \"{}\"", self.file, self.line, self.name)?;
        if let Some(p) = &self.policy {
            write!(f, " in policy \"{p}\"")?;
        }
        Ok(())
    }
}

/// One inbound rule seen from this computer: traffic from `src` to local `ports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    pub layer: Layer,
    /// Any of these sources matches.
    pub src: Vec<AddrMatch>,
    pub ports: PortMatch,
    pub proto: ProtoMatch,
    pub action: RuleAction,
    /// IPsec filter weight (higher is more specific); 0 for firewall rules.
    pub weight: u32,
    pub origin: RuleRef,
    /// What the rule requires beside ports, addresses and protocol (a program, a service,
    /// fields not modelled); empty for most rules.
    #[serde(default, skip_serializing_if = "Condition::is_empty")]
    pub condition: Condition,
}

impl Rule {
    /// IPsec specificity weight from the inbound view of a filter: fixed address bits of source
    /// and destination first, then a named protocol, then named ports.
    pub fn ipsec_weight(
        src: &AddrMatch,
        dst: &AddrMatch,
        proto: ProtoMatch,
        port_named: bool,
    ) -> u32 {
        let addr = u32::from(src.specificity()) + u32::from(dst.specificity());
        let proto = u32::from(proto != ProtoMatch::Any);
        addr * 4 + proto * 2 + u32::from(port_named)
    }

    fn src_matches(&self, src: IpAddr, local: &[IpNet]) -> bool {
        self.src
            .iter()
            .any(|m| m.contains(src, local) == Some(true))
    }
}

/// A question to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub src: IpAddr,
    pub port: u16,
    pub proto: Proto,
    /// The client authenticates with IPsec (a probe from rpcaudit never does).
    pub authenticated: bool,
}

/// The answer: an action and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    pub action: Action,
    pub rule: Option<RuleRef>,
    /// For a `conditional` decision: the condition the pass depends on ("only for service
    /// termservice", "depends on RA42=IntrAnet, not modelled").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

impl Decision {
    pub fn none() -> Self {
        Decision {
            action: Action::None,
            rule: None,
            condition: None,
        }
    }

    /// A plain decision by `rule`.
    pub fn by(action: Action, rule: &RuleRef) -> Self {
        Decision {
            action,
            rule: Some(rule.clone()),
            condition: None,
        }
    }

    /// A conditional decision by `rule`, under `condition`.
    pub fn conditional(rule: &RuleRef, condition: String) -> Self {
        Decision {
            action: Action::Conditional,
            rule: Some(rule.clone()),
            condition: Some(condition),
        }
    }
}

/// What Windows Firewall does with inbound traffic that none of its rules matches, as a
/// firewall store says (its profiles' `DefaultInboundAction`): the firewall layer's answer
/// when no rule of it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DefaultInbound {
    /// `Block` (`DefaultInboundAction=1`, or not set: Windows' default) or `Pass` (`=0`).
    pub action: Action,
    /// The setting, cited as a rule: file, line, `DefaultInboundAction=...`.
    pub origin: RuleRef,
    /// The setting came from the Group Policy store, which overrides a local store's.
    pub from_gpo: bool,
}

/// Every rule in force, from every file, and what the model needs to match them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Policy {
    pub rules: Vec<Rule>,
    /// What the firewall keyword `RPC` stands for: the effective RPC dynamic range.
    pub rpc_dynamic: PortRanges,
    /// What the firewall keyword `LocalSubnet` stands for, when known.
    #[schemars(with = "Vec<String>")]
    pub local_subnets: Vec<IpNet>,
    /// What the firewall does where none of its rules matches, when a store says (scripts
    /// do not: then an unmatched port has no decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall_default: Option<DefaultInbound>,
}

impl Policy {
    /// What [`decide`](Policy::decide) does with the traffic, without the rule: for tests
    /// that check many cells of a policy.
    #[cfg(test)]
    pub(crate) fn action(&self, src: impl Into<IpAddr>, port: u16, proto: Proto) -> Action {
        self.decide(src.into(), port, proto).action
    }

    /// Decide for unauthenticated traffic (what an ordinary client or a probe sends).
    pub fn decide(&self, src: IpAddr, port: u16, proto: Proto) -> Decision {
        self.decide_query(Query {
            src,
            port,
            proto,
            authenticated: false,
        })
    }

    /// Decide across layers: a block from any layer wins; then a conditional one (the
    /// connection must pass both layers, so a layer that passes only under a condition makes
    /// the whole answer conditional); then a pass; else none.
    pub fn decide_query(&self, q: Query) -> Decision {
        self.decide_at(q, &Target::default())
    }

    /// Decide for a query whose local end is known as far as `target` says: the address it
    /// is sent to (for rules with local addresses) and the owners of the port (for rules
    /// scoped to a program or service; [`condition::Owners`]).
    pub fn decide_at(&self, q: Query, target: &Target) -> Decision {
        let mut pass: Option<Decision> = None;
        let mut conditional: Option<Decision> = None;
        for layer in [Layer::Ipsec, Layer::Firewall] {
            let d = self.decide_layer_at(layer, q, target);
            match d.action {
                Action::Block => return d,
                Action::Conditional if conditional.is_none() => conditional = Some(d),
                Action::Pass if pass.is_none() => pass = Some(d),
                _ => {}
            }
        }
        conditional.or(pass).unwrap_or_else(Decision::none)
    }

    /// Does any rule of this layer exist?
    pub fn has_layer(&self, layer: Layer) -> bool {
        self.rules.iter().any(|r| r.layer == layer)
    }

    /// Decide within one layer using that layer's precedence.
    pub fn decide_layer(&self, layer: Layer, q: Query) -> Decision {
        self.decide_layer_at(layer, q, &Target::default())
    }

    /// [`decide_layer`](Policy::decide_layer) at a known local end ([`decide_at`](Policy::decide_at)).
    pub fn decide_layer_at(&self, layer: Layer, q: Query, target: &Target) -> Decision {
        let matching = self.rules.iter().filter(|r| {
            r.layer == layer
                && r.proto.matches(q.proto)
                && r.ports.contains(q.port, &self.rpc_dynamic)
                && r.src_matches(q.src, &self.local_subnets)
        });
        match layer {
            Layer::Ipsec => {
                // Most specific first; ties: block, negotiate, permit; then file order.
                let best = matching
                    .enumerate()
                    .max_by_key(|(i, r)| (r.weight, ipsec_tie_rank(r.action), usize::MAX - i));
                match best {
                    None => Decision::none(),
                    Some((_, r)) => {
                        let action = match r.action {
                            RuleAction::Block => Action::Block,
                            RuleAction::Negotiate { clear_inbound } => {
                                if clear_inbound || q.authenticated {
                                    Action::Pass
                                } else {
                                    Action::Block
                                }
                            }
                            RuleAction::Pass | RuleAction::AllowSecure | RuleAction::Bypass => {
                                Action::Pass
                            }
                        };
                        Decision::by(action, &r.origin)
                    }
                }
            }
            Layer::Firewall => self.decide_firewall(matching, q, target),
        }
    }

    /// Windows Firewall's precedence over the matching rules: allow-bypass (authenticated
    /// traffic only) beats block, block beats allow ([MS-FASP] 2.2.34); a rule whose
    /// condition rpcaudit cannot check ([`Condition::scope`]) decides only under it: a
    /// conditional allow never overrides a block, a plain allow beats a conditional one, and
    /// where nothing else decides the conditional rule is the answer rather than a blocking
    /// default (a default that passes passes either way).
    /// A rule scoped to another program than the port's owner does not match.
    fn decide_firewall<'a>(
        &self,
        matching: impl Iterator<Item = &'a Rule>,
        q: Query,
        target: &Target,
    ) -> Decision {
        let target = Target {
            local_subnets: self.local_subnets.clone(),
            ..target.clone()
        };
        #[derive(Default)]
        struct Slots<'a> {
            plain: Option<&'a Rule>,
            conditional: Vec<(&'a Rule, String)>,
        }
        impl Slots<'_> {
            /// The conditional rules as one answer: the rule cited is the first that names
            /// its ports (the RDP rule on 3389 rather than an app rule on every port), the
            /// condition is each rule's, "or" between them.
            fn conditional(&self) -> Option<(&Rule, String)> {
                const SHOWN: usize = 3;
                let cited = self
                    .conditional
                    .iter()
                    .find(|(r, _)| r.ports != PortMatch::Any)
                    .or(self.conditional.first())?;
                let mut conditions = vec![cited.1.as_str()];
                for (_, c) in &self.conditional {
                    if !conditions.contains(&c.as_str()) {
                        conditions.push(c);
                    }
                }
                let more = conditions.len().saturating_sub(SHOWN);
                conditions.truncate(SHOWN);
                let mut text = conditions.join(", or ");
                if more > 0 {
                    text.push_str(&format!(", or {more} more condition(s)"));
                }
                Some((cited.0, text))
            }
        }
        let mut bypass = Slots::default();
        let mut block = Slots::default();
        let mut allow = Slots::default();
        for r in matching {
            let slots = match r.action {
                RuleAction::Bypass if q.authenticated => &mut bypass,
                RuleAction::AllowSecure if q.authenticated => &mut allow,
                RuleAction::Block => &mut block,
                RuleAction::Pass => &mut allow,
                // Negotiate does not occur in firewall rules; unauthenticated
                // traffic does not meet bypass/secure rules.
                _ => continue,
            };
            match r.condition.scope_at(q.port, q.proto, &target) {
                Scope::NotThisPort => {}
                Scope::Plain => {
                    if slots.plain.is_none() {
                        slots.plain = Some(r);
                    }
                }
                Scope::Conditional(c) => slots.conditional.push((r, c)),
            }
        }
        if let Some(r) = bypass.plain {
            return Decision::by(Action::Pass, &r.origin);
        }
        // Below allow-bypass: block, then allow, then the default.
        let rest = if let Some(r) = block.plain {
            Decision::by(Action::Block, &r.origin)
        } else {
            let default = self.firewall_default.as_ref();
            let below = match (allow.plain, allow.conditional(), default) {
                (Some(r), _, _) => Decision::by(Action::Pass, &r.origin),
                // Unmatched traffic passes anyway (DefaultInboundAction=0, firewall off):
                // the condition does not change the answer.
                (None, _, Some(d)) if d.action == Action::Pass => Decision::by(d.action, &d.origin),
                (None, Some((r, c)), _) => Decision::conditional(&r.origin, c),
                (None, None, Some(d)) => Decision::by(d.action, &d.origin),
                (None, None, None) => Decision::none(),
            };
            match block.conditional() {
                // A block under a condition: blocked when it holds, else what is below.
                Some((r, c)) if below.action != Action::Block => Decision::conditional(
                    &r.origin,
                    format!("blocked {c}, otherwise {}", below.action),
                ),
                _ => below,
            }
        };
        match bypass.conditional() {
            Some((r, c)) if rest.action != Action::Pass => Decision::conditional(&r.origin, c),
            _ => rest,
        }
    }
}

fn ipsec_tie_rank(a: RuleAction) -> u8 {
    match a {
        RuleAction::Block => 2,
        RuleAction::Negotiate { .. } => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::address::parse_masked;

    fn origin(name: &str, dialect: Dialect) -> RuleRef {
        RuleRef {
            file: "t".into(),
            line: 1,
            name: name.into(),
            dialect,
            policy: None,
            filter: None,
        }
    }

    fn rule(layer: Layer, src: AddrMatch, port: u16, action: RuleAction, name: &str) -> Rule {
        let dialect = match layer {
            Layer::Ipsec => Dialect::Ipseccmd,
            Layer::Firewall => Dialect::NetshAdvfirewall,
        };
        let weight = match layer {
            Layer::Ipsec => Rule::ipsec_weight(&src, &AddrMatch::Me, ProtoMatch::Number(6), true),
            Layer::Firewall => 0,
        };
        Rule {
            layer,
            src: vec![src],
            ports: PortMatch::Ports(PortRanges::from_ranges([(port, port)])),
            proto: ProtoMatch::Number(6),
            action,
            weight,
            origin: origin(name, dialect),
            condition: Condition::default(),
        }
    }

    fn subnet() -> AddrMatch {
        parse_masked("10.1.1.0/255.255.255.0").unwrap().0
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // "The Cable Guy - February 2005: IPsec Filter Ordering" (Microsoft): filters are ordered
    // from most to least specific, so a PASS for a subnet beats a BLOCK for any address
    // whichever is written first (KB908472 relies on this).
    #[test]
    fn ipsec_most_specific_filter_wins_in_any_order() {
        for flip in [false, true] {
            let mut rules = vec![
                rule(
                    Layer::Ipsec,
                    AddrMatch::Any,
                    135,
                    RuleAction::Block,
                    "block",
                ),
                rule(Layer::Ipsec, subnet(), 135, RuleAction::Pass, "pass"),
            ];
            if flip {
                rules.reverse();
            }
            let p = Policy {
                rules,
                ..Policy::default()
            };
            let d = p.decide(ip("10.1.1.7"), 135, Proto::Tcp);
            assert_eq!(d.action, Action::Pass);
            assert_eq!(d.rule.unwrap().name, "pass");
            let d = p.decide(ip("10.2.0.1"), 135, Proto::Tcp);
            assert_eq!(d.action, Action::Block);
            assert_eq!(p.action(ip("10.1.1.7"), 136, Proto::Tcp), Action::None);
            assert_eq!(p.action(ip("10.1.1.7"), 135, Proto::Udp), Action::None);
        }
    }

    // [MS-FASP] 2.2.34 FW_RULE_ACTION: "Allow-bypass rules take precedence over block rules,
    // and block rules take precedence over allow rules." Specificity does not matter.
    #[test]
    fn firewall_block_beats_more_specific_allow() {
        let p = Policy {
            rules: vec![
                rule(Layer::Firewall, subnet(), 135, RuleAction::Pass, "allow"),
                rule(
                    Layer::Firewall,
                    AddrMatch::Any,
                    135,
                    RuleAction::Block,
                    "block",
                ),
                rule(Layer::Firewall, subnet(), 135, RuleAction::Bypass, "bypass"),
            ],
            ..Policy::default()
        };
        let d = p.decide(ip("10.1.1.7"), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.rule.unwrap().name, "block");
        // Only authenticated traffic meets the allow-bypass rule, and then it wins.
        let d = p.decide_query(Query {
            src: ip("10.1.1.7"),
            port: 135,
            proto: Proto::Tcp,
            authenticated: true,
        });
        assert_eq!(d.action, Action::Pass);
        assert_eq!(d.rule.unwrap().name, "bypass");
    }

    #[test]
    fn a_block_in_any_layer_wins() {
        let p = Policy {
            rules: vec![
                rule(Layer::Firewall, AddrMatch::Any, 135, RuleAction::Pass, "fw"),
                rule(
                    Layer::Ipsec,
                    AddrMatch::Any,
                    135,
                    RuleAction::Block,
                    "ipsec",
                ),
            ],
            ..Policy::default()
        };
        let d = p.decide(ip("10.9.9.9"), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Block);
        assert_eq!(d.rule.unwrap().name, "ipsec");
    }

    #[test]
    fn negotiate_blocks_plain_clients_unless_clear_inbound() {
        let mut p = Policy {
            rules: vec![rule(
                Layer::Ipsec,
                AddrMatch::Any,
                135,
                RuleAction::Negotiate {
                    clear_inbound: false,
                },
                "neg",
            )],
            ..Policy::default()
        };
        assert_eq!(p.action(ip("1.2.3.4"), 135, Proto::Tcp), Action::Block);
        p.rules[0].action = RuleAction::Negotiate {
            clear_inbound: true,
        };
        assert_eq!(p.action(ip("1.2.3.4"), 135, Proto::Tcp), Action::Pass);
    }

    fn conditional(mut r: Rule, service: &str) -> Rule {
        r.condition = Condition {
            service: Some(service.into()),
            ..Condition::default()
        };
        r
    }

    fn default_block() -> Option<DefaultInbound> {
        Some(DefaultInbound {
            action: Action::Block,
            origin: origin("DefaultInboundAction=1", Dialect::FirewallStore),
            from_gpo: false,
        })
    }

    // A conditional allow never overrides a block; a plain allow beats a conditional one;
    // where nothing else decides, the conditional allow is the answer, not the default.
    #[test]
    fn conditional_rules_take_their_place_in_the_firewall_precedence() {
        let any = AddrMatch::Any;
        let cond = conditional(
            rule(Layer::Firewall, any.clone(), 3389, RuleAction::Pass, "rdp"),
            "termservice",
        );
        let mut p = Policy {
            rules: vec![cond.clone()],
            firewall_default: default_block(),
            ..Policy::default()
        };
        let d = p.decide(ip("10.9.9.9"), 3389, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional);
        assert_eq!(d.rule.unwrap().name, "rdp");
        assert_eq!(d.condition.as_deref(), Some("only for service termservice"));
        p.rules.push(rule(
            Layer::Firewall,
            any.clone(),
            3389,
            RuleAction::Pass,
            "plain",
        ));
        let d = p.decide(ip("10.9.9.9"), 3389, Proto::Tcp);
        assert_eq!(
            (d.action, d.rule.unwrap().name),
            (Action::Pass, "plain".into())
        );
        p.rules.push(rule(
            Layer::Firewall,
            any.clone(),
            3389,
            RuleAction::Block,
            "block",
        ));
        let d = p.decide(ip("10.9.9.9"), 3389, Proto::Tcp);
        assert_eq!(
            (d.action, d.rule.unwrap().name),
            (Action::Block, "block".into())
        );
        // A conditional block over a plain allow: blocked only under the condition.
        let p = Policy {
            rules: vec![
                rule(
                    Layer::Firewall,
                    any.clone(),
                    3389,
                    RuleAction::Pass,
                    "plain",
                ),
                conditional(
                    rule(
                        Layer::Firewall,
                        any.clone(),
                        3389,
                        RuleAction::Block,
                        "cblock",
                    ),
                    "x",
                ),
            ],
            ..Policy::default()
        };
        let d = p.decide(ip("10.9.9.9"), 3389, Proto::Tcp);
        assert_eq!(d.action, Action::Conditional);
        assert_eq!(d.rule.unwrap().name, "cblock");
        // Across layers both must pass: an IPsec pass and a conditional firewall allow.
        let p = Policy {
            rules: vec![
                rule(Layer::Ipsec, any.clone(), 3389, RuleAction::Pass, "ipsec"),
                cond,
            ],
            ..Policy::default()
        };
        assert_eq!(
            p.action(ip("10.9.9.9"), 3389, Proto::Tcp),
            Action::Conditional
        );
    }

    #[test]
    fn a_rule_of_another_service_does_not_decide_the_endpoint_mapper() {
        let p = Policy {
            rules: vec![
                conditional(
                    rule(
                        Layer::Firewall,
                        AddrMatch::Any,
                        135,
                        RuleAction::Pass,
                        "other",
                    ),
                    "termservice",
                ),
                conditional(
                    rule(Layer::Firewall, subnet(), 135, RuleAction::Pass, "rpcss"),
                    "RpcSs",
                ),
            ],
            firewall_default: default_block(),
            ..Policy::default()
        };
        let d = p.decide(ip("10.9.9.9"), 135, Proto::Tcp);
        assert_eq!(d.action, Action::Block, "{d:?}");
        let d = p.decide(ip("10.1.1.7"), 135, Proto::Tcp);
        assert_eq!(
            (d.action, d.rule.unwrap().name),
            (Action::Pass, "rpcss".into())
        );
        assert_eq!(d.condition, None);
    }

    #[test]
    fn rpc_keyword_uses_the_dynamic_range() {
        let mut r = rule(Layer::Firewall, AddrMatch::Any, 1, RuleAction::Pass, "rpc");
        r.ports = PortMatch::RpcDynamic;
        let p = Policy {
            rules: vec![r],
            rpc_dynamic: PortRanges::from_ranges([(5001, 5021)]),
            ..Policy::default()
        };
        assert_eq!(p.action(ip("1.2.3.4"), 5010, Proto::Tcp), Action::Pass);
        assert_eq!(p.action(ip("1.2.3.4"), 5022, Proto::Tcp), Action::None);
    }
}
