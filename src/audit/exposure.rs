//! Findings from the interface probes (`rpcaudit interfaces`): the one rule that makes an
//! interface's reachability an error. Pure: a host's probes in, findings out.
//!
//! `interface-exposed`: an interface the catalogue tags `coercion` or `credentials`
//! ([`Tag::is_severe`]) answered an anonymous call, or answered any call (anonymous or
//! authenticated) from a source the intended policy blocks on that port (`--policy`: the
//! source is the address the probes left from). Only a `callable` verdict counts: refused, not
//! offered, unreachable and undetermined probes make no finding (an incomplete host still
//! exits 3 through its status).

use crate::epm::catalogue::Tag;
use crate::epm::reach::{HostInterfaces, InterfaceReach, Verdict};
use crate::finding::{Code, Finding, Severity};
use crate::policy::{Action, Policy, Proto};
use std::net::IpAddr;

/// The findings about one host's probes; with `policy`, the intended policy the source is
/// judged by.
pub fn findings(host: &HostInterfaces, policy: Option<&Policy>) -> Vec<Finding> {
    findings_about(&host.target, &host.interfaces, host.source, policy)
}

/// The findings about the probes of `target` (`audit --interfaces` calls this with the probes
/// from every vantage point); each probe is judged by its own source, else by `source`.
pub fn findings_about(
    target: &str,
    interfaces: &[InterfaceReach],
    source: Option<IpAddr>,
    policy: Option<&Policy>,
) -> Vec<Finding> {
    interfaces
        .iter()
        .filter_map(|i| {
            let anonymous = i.anonymous.verdict == Verdict::Callable;
            let from = i.source.or(source);
            // The rule of the policy that blocks this source on the interface's port.
            let denied_by = match (policy, from) {
                (Some(p), Some(src)) if i.callable() => {
                    let d = p.decide(src, i.port, Proto::Tcp);
                    (d.action == Action::Block).then(|| {
                        d.rule
                            .map(|r| r.to_string())
                            .unwrap_or_else(|| "the policy".into())
                    })
                }
                _ => None,
            };
            if !anonymous && denied_by.is_none() {
                return None;
            }
            let severe: Vec<&str> = i
                .tags
                .iter()
                .filter(|t| t.is_severe())
                .map(|t| Tag::as_str(*t))
                .collect();
            if severe.is_empty() {
                return None;
            }
            let name = i
                .name
                .clone()
                .unwrap_or_else(|| i.interface.to_string());
            let source = from.map_or_else(|| "this vantage point".to_string(), |s| s.to_string());
            let how = match (&denied_by, anonymous) {
                (Some(rule), true) => format!(
                    "answers anonymous calls from {source}, a source {rule} blocks on port {}",
                    i.port
                ),
                (Some(rule), false) => format!(
                    "answers authenticated calls from {source}, a source {rule} blocks on port {}",
                    i.port
                ),
                (None, _) => format!("answers anonymous calls from {source}"),
            };
            Some(
                Finding::new(
                    Code::InterfaceExposed,
                    Severity::Error,
                    format!(
                        "{}: {name} ({}) {how} on {}{} (tagged {})",
                        target,
                        i.interface,
                        i.road,
                        if i.unregistered {
                            ", where the endpoint map does not register it (rpc_mgmt_inq_if_ids on that port named it)"
                        } else {
                            ""
                        },
                        severe.join(", ")
                    ),
                    "stop its service where it is not needed, or refuse unauthenticated calls to it (RestrictRemoteClients, an RPC filter), or block its port from the sources that do not need it",
                )
                .with_evidence(
                    std::iter::once(format!(
                        "{} v{} on {} from {source}, anonymously: {}",
                        i.interface, i.version, i.road, i.anonymous.evidence
                    ))
                    .chain(i.authenticated.as_ref().map(|p| {
                        format!(
                            "{} v{} on {} from {source}, authenticated: {}",
                            i.interface, i.version, i.road, p.evidence
                        )
                    })),
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::HostStatus;
    use crate::epm::reach::Probe;
    use uuid::Uuid;

    fn reach(tags: Vec<Tag>, anonymous: Verdict) -> InterfaceReach {
        InterfaceReach {
            interface: Uuid::from_u128(7),
            version: "1.0".into(),
            name: Some("MS-EFSR efsrpc".into()),
            tags,
            road: "ncacn_ip_tcp:198.18.0.10[49667]".into(),
            port: 49667,
            anonymous: Probe {
                verdict: anonymous,
                evidence: "fault 0x1c010002 (nca_s_op_rng_error)".into(),
            },
            authenticated: None,
            source: None,
            unregistered: false,
        }
    }

    fn host(interfaces: Vec<InterfaceReach>) -> HostInterfaces {
        HostInterfaces {
            target: "dc01".into(),
            status: HostStatus::Ok,
            error: None,
            dump: crate::epm::testing::dump("dc01", None, vec![]),
            interfaces,
            skipped: 0,
            source: None,
            inquiries: Vec::new(),
        }
    }

    #[test]
    fn only_severe_tags_callable_anonymously_are_findings() {
        let f = findings(
            &host(vec![
                reach(vec![Tag::Coercion], Verdict::Callable),
                reach(
                    vec![Tag::Credentials, Tag::DomainReplication],
                    Verdict::Callable,
                ),
                reach(vec![Tag::Coercion], Verdict::Refused),
                reach(vec![Tag::Coercion], Verdict::Undetermined),
                reach(vec![Tag::Reconnaissance], Verdict::Callable),
                reach(vec![], Verdict::Callable),
            ]),
            None,
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f.iter()
                .all(|f| f.code == Code::InterfaceExposed && f.severity == Severity::Error)
        );
        assert!(f[0].message.contains("MS-EFSR efsrpc"), "{}", f[0].message);
        assert!(f[0].message.contains("ncacn_ip_tcp:198.18.0.10[49667]"));
        assert!(f[0].message.contains("tagged coercion"));
        assert!(
            f[1].message.contains("tagged credentials"),
            "{}",
            f[1].message
        );
        assert!(f[0].evidence[0].contains("nca_s_op_rng_error"));
    }

    #[test]
    fn an_authenticated_call_from_a_source_the_policy_blocks_is_a_finding() {
        let policy_text = "netsh advfirewall firewall add rule name=\"Block RPC\" dir=in action=block protocol=TCP localport=49667\r\n";
        let loaded = crate::policy::build(
            vec![crate::policy::parse_text("p.cmd", policy_text.as_bytes())],
            &crate::policy::LoadOptions {
                range_override: None,
                os: Default::default(),
                local_subnets: Vec::new(),
            },
        );
        let mut refused_anonymously = reach(vec![Tag::Credentials], Verdict::Refused);
        refused_anonymously.authenticated = Some(Probe {
            verdict: Verdict::Callable,
            evidence: "fault 0x1c010002 (nca_s_op_rng_error)".into(),
        });
        let mut h = host(vec![refused_anonymously]);
        // Without a source or a policy: refused anonymously, so no finding.
        assert!(findings(&h, Some(&loaded.policy)).is_empty());
        h.source = Some("198.18.2.10".parse().unwrap());
        assert!(findings(&h, None).is_empty());
        let f = findings(&h, Some(&loaded.policy));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .contains("answers authenticated calls from 198.18.2.10, a source p.cmd:1"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence.len(), 2);
        // A port the policy does not block: nothing.
        h.interfaces[0].port = 5001;
        assert!(findings(&h, Some(&loaded.policy)).is_empty());
    }
}
