//! Findings from the interface probes (`rpcaudit interfaces`): the one rule that makes an
//! interface's reachability an error. Pure: a host's probes in, findings out.
//!
//! `interface-exposed`: an interface the catalogue tags `coercion` or `credentials`
//! ([`Tag::is_severe`]) answered an anonymous call. Only a `callable` verdict counts: refused,
//! not offered, unreachable and undetermined probes make no finding (and an undetermined one
//! keeps the host from passing for complete only through its status, not here).

use crate::epm::catalogue::Tag;
use crate::epm::reach::{HostInterfaces, Verdict};
use crate::finding::{Code, Finding, Severity};

/// The findings about one host's probes.
pub fn findings(host: &HostInterfaces) -> Vec<Finding> {
    host.interfaces
        .iter()
        .filter(|i| i.anonymous.verdict == Verdict::Callable)
        .filter_map(|i| {
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
            Some(
                Finding::new(
                    Code::InterfaceExposed,
                    Severity::Error,
                    format!(
                        "{}: {name} ({}) answers anonymous calls on {} (tagged {})",
                        host.target,
                        i.interface,
                        i.road,
                        severe.join(", ")
                    ),
                    "stop its service where it is not needed, or refuse unauthenticated calls to it (RestrictRemoteClients, an RPC filter), or block its port from the sources that do not need it",
                )
                .with_evidence([format!(
                    "{} v{} on {} from this vantage point, anonymously: {}",
                    i.interface, i.version, i.road, i.anonymous.evidence
                )]),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::HostStatus;
    use crate::epm::reach::{InterfaceReach, Probe};
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
        }
    }

    #[test]
    fn only_severe_tags_callable_anonymously_are_findings() {
        let f = findings(&host(vec![
            reach(vec![Tag::Coercion], Verdict::Callable),
            reach(
                vec![Tag::Credentials, Tag::DomainReplication],
                Verdict::Callable,
            ),
            reach(vec![Tag::Coercion], Verdict::Refused),
            reach(vec![Tag::Coercion], Verdict::Undetermined),
            reach(vec![Tag::Reconnaissance], Verdict::Callable),
            reach(vec![], Verdict::Callable),
        ]));
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
}
