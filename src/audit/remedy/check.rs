//! Remedy's second reading: a command, once written and once its words read back (see
//! [`super::quote::Line`]), is read again by the policy reader itself
//! ([`crate::policy::parse_text`] on that one line) and must give the fields the writer
//! meant: the policy, store, rule name, filters and action of an ipseccmd rule, the name,
//! action and ports of a firewall rule, the name a `set`/`delete`/`Set-` command addresses. A
//! mismatch (an ipseccmd policy name ending in `:digits`, which ipseccmd reads as a polling
//! interval, say) refuses the command.

use super::quote::Refusal;
use super::quote::ps_wildcard_escape;
use crate::finding::Code;
use crate::policy::firewall::{FwAction, FwEdit};
use crate::policy::model::{ProtoMatch, RuleAction};
use crate::ports::{PortRanges, Proto};

/// What the policy reader must get from a command.
pub(super) enum Expect<'a> {
    /// Only the words (the line checks them itself).
    Words,
    /// `ipseccmd -w STORE -p POLICY -r RULE -f FILTERS -n ACTION`.
    IpsecRule {
        policy: &'a str,
        store: &'a str,
        rule: &'a str,
        filters: &'a [String],
        action: RuleAction,
    },
    /// `ipseccmd -w STORE -p POLICY -x`.
    IpsecAssign { policy: &'a str, store: &'a str },
    /// A firewall rule added (`add rule`, `New-NetFirewallRule`).
    FwAdd {
        name: &'a str,
        block: bool,
        ports: &'a PortRanges,
        proto: Proto,
    },
    /// A firewall rule changed or removed by name (`set rule`, `delete rule`, `Set-`,
    /// `Disable-NetFirewallRule`).
    FwEdit { name: &'a str },
}

pub(super) fn reparse(line: &str, expect: &Expect) -> Result<(), Refusal> {
    if matches!(expect, Expect::Words) {
        return Ok(());
    }
    let fail = |why: &str| {
        Err(Refusal::new(
            "command",
            line,
            format!("reads back with {why} in the policy reader"),
        ))
    };
    let pf = crate::policy::parse_text("check", line.trim_start().as_bytes());
    if pf.findings.iter().any(|f| f.code == Code::ParseError) {
        return fail("a parse error");
    }
    match expect {
        Expect::Words => Ok(()),
        Expect::IpsecRule {
            policy,
            store,
            rule,
            filters,
            action,
        } => {
            let [p] = pf.ipsec.policies.as_slice() else {
                return fail("no policy or several");
            };
            if p.name != *policy || !p.store.eq_ignore_ascii_case(store) {
                return fail("another policy name or store");
            }
            let [r] = p.rules.as_slice() else {
                return fail("no rule or several");
            };
            let texts: Vec<&str> = r.filters.iter().map(|f| f.text.as_str()).collect();
            let want: Vec<&str> = filters.iter().map(String::as_str).collect();
            if r.name != *rule || r.action != *action || texts != want {
                return fail("another rule name, filter or action");
            }
            Ok(())
        }
        Expect::IpsecAssign { policy, store } => match pf.ipsec.policies.as_slice() {
            [p] if p.name == *policy
                && p.store.eq_ignore_ascii_case(store)
                && p.assigned.is_some() =>
            {
                Ok(())
            }
            _ => fail("another policy assigned"),
        },
        Expect::FwAdd {
            name,
            block,
            ports,
            proto,
        } => {
            let [r] = pf.firewall.as_slice() else {
                return fail("no firewall rule or several");
            };
            let label = if r.display.is_empty() {
                &r.name
            } else {
                &r.display
            };
            let action = if *block {
                FwAction::Block
            } else {
                FwAction::Allow
            };
            if label != name
                || r.terms.action != action
                || r.terms.ports.as_ranges() != Some(*ports)
                || r.terms.proto != ProtoMatch::Number(proto.number())
            {
                return fail("another rule name, action, protocol or ports");
            }
            Ok(())
        }
        Expect::FwEdit { name } => {
            let addressed = match pf.firewall_edits.as_slice() {
                [FwEdit::Netsh { words, .. }] => words.iter().find_map(|w| {
                    w.split_once('=')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("name"))
                        .map(|(_, v)| v.to_string())
                }),
                [FwEdit::Powershell { words, .. }] => words
                    .iter()
                    .position(|w| w.eq_ignore_ascii_case("-DisplayName"))
                    .and_then(|i| words.get(i + 1))
                    .map(|v| {
                        // The pattern must be the name with every wildcard escaped.
                        if *v == ps_wildcard_escape(name) {
                            name.to_string()
                        } else {
                            v.clone()
                        }
                    }),
                _ => None,
            };
            match addressed {
                Some(n) if n == *name => Ok(()),
                _ => fail("another rule addressed"),
            }
        }
    }
}
