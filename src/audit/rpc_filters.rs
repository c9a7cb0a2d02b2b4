//! RPC filters against the interface probes (`rpcaudit interfaces --rpc-filter`): what the
//! filters given ([`RpcFilters`], read by `policy::netsh_rpc`) decide for each probe's call,
//! against what the probe saw. Pure: a host's probes and the filters in, findings out.
//!
//! - `rpc-filter-not-in-force` (error): the filters block the call (anonymous, or with the
//!   dump's credentials) from the probing source, and the probe was `callable`.
//! - `rpc-filter-permit-refused` (warning): a permit filter decides for the call, and the probe
//!   was `refused`: something the files do not hold refuses it. A refusal where no filter
//!   matches makes no finding (RestrictRemoteClients and the interfaces' own checks refuse
//!   anonymous calls every day).
//!
//! A `conditional` decision (a field not modelled, an auth level not known, a filter scoped
//! by remote address for a call over a named pipe) makes no finding: the probe neither
//! confirms nor contradicts it. The probe's call is opnum 65535 ([`PROBE_OPNUM`]), anonymous
//! calls carry auth level 1 and auth type 0; an authenticated probe's level and type are not
//! recorded, so filters on them are conditional for it.

use crate::epm::reach::{HostInterfaces, InterfaceReach, PROBE_OPNUM, Probe, Verdict};
use crate::finding::{Code, Finding, Severity};
use crate::policy::rpc_filter::{Call, RpcFilters, RpcVerdict};
use std::net::{IpAddr, Ipv4Addr};

/// The named pipe of an `ncacn_np` road (`ncacn_np:[\pipe\efsrpc]`), `None` for other roads.
pub fn pipe_of(road: &str) -> Option<String> {
    let rest = road.strip_prefix("ncacn_np:")?;
    let inner = rest.split_once('[')?.1.split_once(']')?.0;
    Some(inner.to_string())
}

/// The findings about one host's probes judged by `filters`.
pub fn findings(host: &HostInterfaces, filters: &RpcFilters) -> Vec<Finding> {
    findings_about(&host.target, &host.interfaces, host.source, filters)
}

/// The findings about `interfaces` probed on `target` (from `source` where a probe does not
/// name its own), judged by `filters`: what `findings` and `audit --interfaces --rpc-filter`
/// share.
pub fn findings_about(
    target: &str,
    interfaces: &[InterfaceReach],
    source: Option<IpAddr>,
    filters: &RpcFilters,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for i in interfaces {
        // Each probe's own source (`--from`), else the host's; without one, only filters that
        // do not look at the address can be asked.
        let src = match i.source.or(source) {
            Some(s) => s,
            None if filters.scoped_by_address().next().is_none() => {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            }
            None => continue,
        };
        let pipe = pipe_of(&i.road);
        let anonymous = Call::anonymous(i.interface, src, pipe.clone(), PROBE_OPNUM);
        let authenticated = Call {
            auth_level: None,
            auth_type: None,
            ..anonymous.clone()
        };
        let probes = std::iter::once(("anonymously", &i.anonymous, anonymous)).chain(
            i.authenticated
                .as_ref()
                .map(|p| ("authenticated", p, authenticated)),
        );
        for (how, probe, call) in probes {
            if let Some(f) = judge(target, source, i, how, probe, &call, filters) {
                out.push(f);
            }
        }
    }
    out
}

fn judge(
    target: &str,
    host_source: Option<IpAddr>,
    i: &InterfaceReach,
    how: &str,
    probe: &Probe,
    call: &Call,
    filters: &RpcFilters,
) -> Option<Finding> {
    let d = filters.decide(call);
    let filter = d.filter.clone()?;
    let name = i.name.clone().unwrap_or_else(|| i.interface.to_string());
    let source = i
        .source
        .or(host_source)
        .map_or_else(|| "this vantage point".to_string(), |s| s.to_string());
    let (code, severity, what, fix) = match (d.verdict, probe.verdict) {
        (RpcVerdict::Block, Verdict::Callable) => (
            Code::RpcFilterNotInForce,
            Severity::Error,
            format!(
                "the RPC filter {filter} blocks calls {how} from {source}, and the call got through"
            ),
            "add the filters on the host (netsh -f FILE as an administrator; `rpcaudit policy rpc-filter-script` writes them) and check them with netsh rpc filter show filter",
        ),
        (RpcVerdict::Allow, Verdict::Refused) => (
            Code::RpcFilterPermitRefused,
            Severity::Warning,
            format!(
                "the RPC filter {filter} permits calls {how} from {source}, and the call was refused"
            ),
            "compare netsh rpc filter show filter on the host with the files given; RestrictRemoteClients or the interface's own checks may refuse it",
        ),
        _ => return None,
    };
    Some(
        Finding::new(
            code,
            severity,
            format!("{}: {name} ({}) on {}: {what}", target, i.interface, i.road),
            fix,
        )
        .with_evidence([format!(
            "{} v{} on {} from {source}, {how}: {}",
            i.interface, i.version, i.road, probe.evidence
        )]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::HostStatus;
    use uuid::Uuid;

    const EFSR: &str = "df1941c5-fe89-4e79-bf10-463657acf44d";

    fn reach(road: &str, verdict: Verdict) -> InterfaceReach {
        InterfaceReach {
            interface: Uuid::parse_str(EFSR).unwrap(),
            version: "1.0".into(),
            name: Some("MS-EFSR efsrpc".into()),
            tags: vec![],
            road: road.into(),
            port: 49667,
            anonymous: Probe {
                verdict,
                evidence: "fault 0x1c010002 (nca_s_op_rng_error)".into(),
            },
            authenticated: None,
            source: None,
            unregistered: false,
        }
    }

    fn host(interfaces: Vec<InterfaceReach>, source: Option<&str>) -> HostInterfaces {
        HostInterfaces {
            target: "dc01".into(),
            status: HostStatus::Ok,
            error: None,
            dump: crate::epm::testing::dump("dc01", None, vec![]),
            interfaces,
            skipped: 0,
            source: source.map(|s| s.parse().unwrap()),
            inquiries: vec![],
        }
    }

    fn filters(text: &str) -> RpcFilters {
        crate::policy::netsh_rpc::parse("f.txt", text.as_bytes()).unwrap()
    }

    const EXCEPT_ADMINS: &str = "rpc filter\n\
        add rule layer=um actiontype=permit\n\
        add condition field=if_uuid matchtype=equal data=df1941c5-fe89-4e79-bf10-463657acf44d\n\
        add condition field=remote_addr_v4 matchtype=equal data=10.0.9.5\n\
        add filter\n\
        add rule layer=um actiontype=block\n\
        add condition field=if_uuid matchtype=equal data=df1941c5-fe89-4e79-bf10-463657acf44d\n\
        add filter\n";

    #[test]
    fn a_callable_probe_the_filters_block_is_not_in_force() {
        let tcp = "ncacn_ip_tcp:10.0.0.10[49667]";
        let f = filters(EXCEPT_ADMINS);
        let got = findings(
            &host(vec![reach(tcp, Verdict::Callable)], Some("10.0.1.7")),
            &f,
        );
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0].code, Code::RpcFilterNotInForce);
        assert_eq!(got[0].severity, Severity::Error);
        assert!(got[0].message.contains("f.txt:6"), "{}", got[0].message);
        assert!(
            got[0].message.contains("from 10.0.1.7"),
            "{}",
            got[0].message
        );
        // Refused as the filter says: nothing. From the admin address: allowed and callable.
        assert!(
            findings(
                &host(vec![reach(tcp, Verdict::Refused)], Some("10.0.1.7")),
                &f
            )
            .is_empty()
        );
        assert!(
            findings(
                &host(vec![reach(tcp, Verdict::Callable)], Some("10.0.9.5")),
                &f
            )
            .is_empty()
        );
        // The admin refused although a permit filter decides: a warning.
        let w = findings(
            &host(vec![reach(tcp, Verdict::Refused)], Some("10.0.9.5")),
            &f,
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, Code::RpcFilterPermitRefused);
        assert_eq!(w[0].severity, Severity::Warning);
        // Over a named pipe the address condition cannot be told: no finding either way.
        let np = "ncacn_np:[\\pipe\\efsrpc]";
        assert!(
            findings(
                &host(vec![reach(np, Verdict::Callable)], Some("10.0.1.7")),
                &f
            )
            .is_empty()
        );
        // Without a source, filters scoped by address are not asked.
        assert!(findings(&host(vec![reach(tcp, Verdict::Callable)], None), &f).is_empty());
    }

    #[test]
    fn a_block_without_address_holds_for_authenticated_probes_and_pipes_too() {
        let f = filters(
            "netsh rpc filter add rule layer=um actiontype=block\n\
             netsh rpc filter add condition field=if_uuid matchtype=equal data=df1941c5-fe89-4e79-bf10-463657acf44d\n\
             netsh rpc filter add filter\n",
        );
        let mut r = reach("ncacn_np:[\\pipe\\efsrpc]", Verdict::Refused);
        r.authenticated = Some(Probe {
            verdict: Verdict::Callable,
            evidence: "fault 0x1c010002 (nca_s_op_rng_error)".into(),
        });
        let got = findings(&host(vec![r], None), &f);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].message.contains("blocks calls authenticated"),
            "{}",
            got[0].message
        );
        assert_eq!(
            pipe_of("ncacn_np:[\\pipe\\efsrpc]").as_deref(),
            Some("\\pipe\\efsrpc")
        );
        assert_eq!(pipe_of("ncacn_ip_tcp:10.0.0.1[135]"), None);
    }
}
