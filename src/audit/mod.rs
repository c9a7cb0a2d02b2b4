//! Comparing what is registered, what was meant and what was observed.
//!
//! The audit flow (the `rpcaudit audit` command wires it):
//! 1. `epm::client` dumps each target's endpoint mapper → [`HostDump`]s.
//! 2. [`capacity::assess`] counts each host's dynamic TCP ports against the configured range
//!    (`--range`, or the policy's rpccfg/.reg) → `out-of-range`, `range-near-full`,
//!    `range-exhausted` and a recommended range with the commands that apply it.
//! 3. [`probe_plan`] lists what to probe: the endpoint mapper's port, the range, every TCP
//!    port the dumps discovered and the other roads to RPC ([`roads`]: SMB on 445 and 139, RPC
//!    over HTTP on 593, connectionless RPC on UDP 135 and every discovered `ncadg_ip_udp`
//!    port), from each source to each target; `probe::sweep` runs it, and observation files
//!    made at other vantage points are merged in.
//! 4. [`verify::build_matrix`] gives each (source, target, port) the policy's expected action
//!    and a verdict; [`verify::matrix_findings`] turns the matrix into `leak`, `overblock` and
//!    `hang-hazard` findings, [`roads::fence_bypasses`] into `fence-bypass` ones.
//!    With `--store` and `--auth-survey`, [`survey::against`] sets what each host accepted beside
//!    the configured authentication restrictions (`rpc-restriction-not-in-force`,
//!    `ntlm-accepted`).
//! 5. [`remedy::remediate`] writes the commands that fix the findings in the administrator's
//!    dialect (`--fix-dialect`).
//! 6. `report` renders the findings and the matrix; the CLI maps the worst severity to the exit
//!    code.

pub mod capacity;
pub mod exposure;
pub mod interface_imports;
pub mod owners;
pub mod remedy;
pub mod roads;
pub mod rpc_filters;
pub mod run;
pub mod survey;
pub mod verify;

use crate::epm::HostDump;
use crate::ports::{PortRanges, Proto};

use std::net::IpAddr;

/// The probe plan of an audit: for each target, the TCP ports `epm_port` ∪ `range` ∪ every TCP
/// port the dump of that target discovered (`ncacn_ip_tcp` and `ncacn_http`) ∪ the TCP ports of
/// `roads` (the other roads to RPC), then, when `roads` has a UDP road, the UDP ports of
/// `roads` ∪ every `ncadg_ip_udp` port the dump discovered, from each of
/// [`crate::probe::vantage_points`] of `sources`. A dump belongs to a target when the address
/// it connected to, or else the target it was given as, is that IP address. Nesting: target,
/// protocol (TCP first), source, port ascending; suitable for `probe::sweep`.
pub fn probe_plan(
    targets: &[IpAddr],
    sources: &[IpAddr],
    epm_port: u16,
    range: &PortRanges,
    roads: &[roads::Road],
    dumps: &[HostDump],
) -> Vec<crate::probe::Probe> {
    let mut plan = Vec::new();
    for &target in targets {
        let mine = || dumps.iter().filter(|d| dump_ip(d) == Some(target));
        let discovered = mine().flat_map(|d| d.rpc_tcp_ports()).map(|p| (p, p));
        let on = |proto: Proto| {
            roads
                .iter()
                .filter(move |r| r.proto == proto)
                .map(|r| (r.port, r.port))
        };
        let ports = range.union(&PortRanges::from_ranges(
            discovered
                .chain([(epm_port, epm_port)])
                .chain(on(Proto::Tcp)),
        ));
        plan.extend(crate::probe::plan(&[target], sources, &ports));
        if roads.iter().any(|r| r.proto == Proto::Udp) {
            let udp = PortRanges::from_ranges(
                on(Proto::Udp).chain(mine().flat_map(|d| d.rpc_udp_ports()).map(|p| (p, p))),
            );
            plan.extend(crate::probe::plan_over(
                &[target],
                sources,
                &udp,
                Proto::Udp,
            ));
        }
    }
    plan
}

/// The IP address a dump is about: the connected socket address, else the target string.
fn dump_ip(d: &HostDump) -> Option<IpAddr> {
    if let Some(addr) = d.address {
        return Some(addr.ip());
    }
    let t = d.target.trim();
    let bare = t
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(t);
    bare.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::testing::{self, tcp_endpoint};

    fn dump(target: &str, address: Option<&str>, ports: &[u16]) -> HostDump {
        testing::dump(
            target,
            address.map(|a| a.parse().unwrap()),
            ports.iter().map(|&p| tcp_endpoint(target, p, 0)).collect(),
        )
    }

    #[test]
    fn ncacn_http_ports_are_probed_like_tcp_ones() {
        let t: IpAddr = "198.18.0.10".parse().unwrap();
        let mut d = dump("dc01", Some("198.18.0.10:135"), &[5001]);
        let mut http = tcp_endpoint("dc01", 49670, 1);
        http.protocol = "ncacn_http".into();
        let mut udp = tcp_endpoint("dc01", 49671, 2);
        udp.protocol = "ncadg_ip_udp".into();
        d.endpoints.extend([http, udp]);
        let plan = probe_plan(&[t], &[], 135, &PortRanges::default(), &[], &[d.clone()]);
        let ports: Vec<u16> = plan.iter().map(|p| p.2).collect();
        assert_eq!(ports, [135, 5001, 49670], "UDP ports are no TCP probe");
        // With the UDP road, UDP 135 and the ncadg_ip_udp port are probed over UDP.
        let plan = probe_plan(&[t], &[], 135, &PortRanges::default(), &roads::ROADS, &[d]);
        let udp: Vec<u16> = plan
            .iter()
            .filter(|p| p.3 == Proto::Udp)
            .map(|p| p.2)
            .collect();
        assert_eq!(udp, [135, 49671]);
        assert!(
            plan.iter()
                .filter(|p| p.3 == Proto::Tcp)
                .all(|p| p.2 != 49671)
        );
    }

    #[test]
    fn plan_is_epm_range_and_discovered_ports_per_source_and_target() {
        let t1: IpAddr = "198.18.0.10".parse().unwrap();
        let t2: IpAddr = "::1".parse().unwrap();
        let s: Vec<IpAddr> = vec![
            "198.18.1.10".parse().unwrap(),
            "198.18.2.10".parse().unwrap(),
        ];
        let range = PortRanges::parse("5001-5003").unwrap();
        let dumps = [
            dump("dc01", Some("198.18.0.10:135"), &[5001, 49664, 49665]),
            dump("[::1]", None, &[6000]),
        ];
        let plan = probe_plan(&[t1, t2], &s, 135, &range, &roads::ROADS, &dumps);
        let t1_ports: Vec<u16> = plan
            .iter()
            .filter(|p| p.1 == t1 && p.0 == Some(s[0]) && p.3 == Proto::Tcp)
            .map(|p| p.2)
            .collect();
        assert_eq!(
            t1_ports,
            [135, 139, 445, 593, 5001, 5002, 5003, 49664, 49665]
        );
        let t2_ports: Vec<u16> = plan
            .iter()
            .filter(|p| p.1 == t2 && p.0 == Some(s[1]) && p.3 == Proto::Tcp)
            .map(|p| p.2)
            .collect();
        assert_eq!(t2_ports, [135, 139, 445, 593, 5001, 5002, 5003, 6000]);
        // UDP 135 from each source to each target besides.
        assert_eq!(plan.len(), 2 * 9 + 2 * 8 + 2 * 2);
        assert_eq!(plan[0], (Some(s[0]), t1, 135, Proto::Tcp));
        assert_eq!(plan[9], (Some(s[1]), t1, 135, Proto::Tcp));
        assert_eq!(plan[18], (Some(s[0]), t1, 135, Proto::Udp));
        // No sources: the kernel chooses.
        let plan = probe_plan(&[t1], &[], 13500, &range, &roads::ROADS, &[]);
        let tcp = Proto::Tcp;
        assert_eq!(
            plan,
            [
                (None, t1, 139, tcp),
                (None, t1, 445, tcp),
                (None, t1, 593, tcp),
                (None, t1, 5001, tcp),
                (None, t1, 5002, tcp),
                (None, t1, 5003, tcp),
                (None, t1, 13500, tcp),
                (None, t1, 135, Proto::Udp)
            ]
        );
    }
}
