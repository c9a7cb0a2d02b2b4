//! The other roads to RPC: KB908472's fence closes TCP 135 and the dynamic range, but the same
//! interfaces answer on SMB named pipes (TCP 445, and 139 through NetBIOS), the endpoint
//! mapper answers over RPC over HTTP (TCP 593) and over connectionless RPC (UDP 135), and
//! `ncadg_ip_udp` servers on UDP ports of their own. The audit probes these ports beside the
//! fence's (`audit::probe_plan`), and this module judges the matrix rows about them: a source
//! the policy denies TCP 135 that reaches one of these roads has the fence bypassed
//! (`fence-bypass`). Pure: no I/O.

use super::verify::{Action, MatrixRow};
use crate::epm::HostDump;
use crate::epm::pipe::PipeAccess;
use crate::finding::{Code, Finding, Severity};
use crate::ports::Proto;
use crate::probe::ProbeState;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// SMB over TCP (direct hosting): named pipes, `\pipe\epmapper` among them.
pub const SMB_PORT: u16 = 445;
/// SMB over the NetBIOS session service: the same named pipes.
pub const NETBIOS_SESSION_PORT: u16 = 139;
/// `ncacn_http`'s endpoint mapper (`http-rpc-epmap`), where `dump --transport http` reads it.
pub use crate::epm::HTTP_EPM_PORT;

/// One road to RPC besides TCP 135 and the dynamic range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Road {
    pub port: u16,
    /// The IP protocol of `port`.
    pub proto: Proto,
    /// What carries RPC there, as a finding says it.
    pub transport: &'static str,
    /// The protocol sequence of the endpoints reachable that way.
    pub protocol: &'static str,
}

/// Every road the audit probes, at the well-known ports, in the order findings name them.
pub const ROADS: [Road; 4] = [
    Road {
        port: SMB_PORT,
        proto: Proto::Tcp,
        transport: "SMB named pipes",
        protocol: "ncacn_np",
    },
    Road {
        port: NETBIOS_SESSION_PORT,
        proto: Proto::Tcp,
        transport: "SMB named pipes over NetBIOS",
        protocol: "ncacn_np",
    },
    Road {
        port: HTTP_EPM_PORT,
        proto: Proto::Tcp,
        transport: "RPC over HTTP (the endpoint mapper on ncacn_http)",
        protocol: "ncacn_http",
    },
    Road {
        port: crate::ports::EPM_PORT,
        proto: Proto::Udp,
        transport: "connectionless RPC (the endpoint mapper on ncadg_ip_udp)",
        protocol: "ncadg_ip_udp",
    },
];

/// Any other UDP port where an RPC server answered (an `ncadg_ip_udp` registration's port):
/// judged whenever a UDP road is, since the fence of TCP 135 and the range does not cover it.
/// Its `port` is not used.
pub const UDP_SERVER: Road = Road {
    port: 0,
    proto: Proto::Udp,
    transport: "connectionless RPC (ncadg_ip_udp)",
    protocol: "ncadg_ip_udp",
};

/// [`ROADS`] with RPC over HTTP at `http_port` and the connectionless endpoint mapper at
/// `udp_port`: where `--http-port` and `--udp-port` say the endpoint mapper answers.
pub fn at(http_port: u16, udp_port: u16) -> Vec<Road> {
    ROADS
        .iter()
        .map(|r| match (r.protocol, r.proto) {
            ("ncacn_http", _) => Road {
                port: http_port,
                ..*r
            },
            (_, Proto::Udp) => Road {
                port: udp_port,
                ..*r
            },
            _ => *r,
        })
        .collect()
}

/// What a host's map says about the interfaces a road reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reached {
    /// The map was read: these interfaces (names, or UUID and version) are registered on the
    /// road's protocol sequence; empty when none is.
    Known(Vec<String>),
    /// The map could not be read from here.
    Unknown,
}

/// The interfaces `dump` registers on `protocol`, each named once, in the map's order.
pub fn interfaces_on(dump: &HostDump, protocol: &str) -> Reached {
    interfaces_where(dump, |e| e.protocol == protocol)
}

/// The interfaces `dump` registers on `protocol` at `port`.
pub fn interfaces_at(dump: &HostDump, protocol: &str, port: u16) -> Reached {
    interfaces_where(dump, |e| e.protocol == protocol && e.port == Some(port))
}

fn interfaces_where(dump: &HostDump, keep: impl Fn(&crate::epm::Endpoint) -> bool) -> Reached {
    if dump.status != crate::epm::HostStatus::Ok {
        return Reached::Unknown;
    }
    let mut seen = std::collections::HashSet::new();
    let names = dump
        .endpoints
        .iter()
        .filter(|e| keep(e))
        .map(|e| match &e.name {
            Some(n) => n.clone(),
            None => format!("{} v{}", e.interface, e.version),
        })
        .filter(|n| seen.insert(n.clone()))
        .collect();
    Reached::Known(names)
}

/// What a finding says of the pipes tried from one source on one session: " Pipes that opened
/// from S (anonymous): lsarpc, samr." (or "(as DOMAIN\user)" on a session logged on with the
/// run's credentials), those that did not open with the server's status (0xc0000034: no such
/// pipe; 0xc0000022: access denied), or why no session could be set up.
fn pipes_said(a: &PipeAccess) -> String {
    let mut out = String::new();
    let logon = a.logon();
    if !a.opened.is_empty() {
        out.push_str(&format!(
            " Pipes that opened from {} ({logon}): {}.",
            a.source,
            name_list(&a.opened)
        ));
    }
    if !a.refused.is_empty() {
        let refused: Vec<String> = a
            .refused
            .iter()
            .map(|(name, why)| format!("{name} ({why})"))
            .collect();
        match &a.user {
            None => out.push_str(&format!(" Did not open: {}.", name_list(&refused))),
            Some(_) => out.push_str(&format!(" Did not open {logon}: {}.", name_list(&refused))),
        }
    }
    match &a.error {
        Some(e) if a.opened.is_empty() && a.refused.is_empty() => match &a.user {
            None => out.push_str(&format!(
                " No anonymous pipe could be opened from {}: {}.",
                a.source,
                crate::inert::excerpt(e)
            )),
            Some(_) => out.push_str(&format!(
                " No pipe could be opened from {} {logon}: {}.",
                a.source,
                crate::inert::excerpt(e)
            )),
        },
        Some(e) => out.push_str(&format!(" Then: {}.", crate::inert::excerpt(e))),
        None => {}
    }
    out
}

/// Most interface names a finding lists before "and N more".
const MAX_NAMED: usize = 12;

fn name_list(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(MAX_NAMED).map(String::as_str).collect();
    let more = names.len().saturating_sub(MAX_NAMED);
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{}, and {more} more", shown.join(", "))
    }
}

/// The rows in which a source whose TCP `epm_port` the policy blocks (the matrix row's expected
/// decision) finds one of `roads` open (its port over its protocol), each with its road, by
/// target, source and road: what a `fence-bypass` is about and what its fix closes
/// (`audit::remedy`). When `roads` has a UDP road, any other UDP port open to such a source is
/// one too ([`UDP_SERVER`]: an RPC server answered there). Sources allowed to TCP 135, and
/// pairs with no row about it, are not judged.
pub fn open_to_fenced<'a>(
    rows: &'a [MatrixRow],
    epm_port: u16,
    roads: &'a [Road],
) -> Vec<(&'a Road, &'a MatrixRow)> {
    let mut by_pair: BTreeMap<(IpAddr, IpAddr), Vec<&MatrixRow>> = BTreeMap::new();
    for r in rows {
        by_pair.entry((r.target, r.source)).or_default().push(r);
    }
    let mut out = Vec::new();
    for group in by_pair.values() {
        let fenced = group
            .iter()
            .any(|r| r.port == epm_port && r.protocol == Proto::Tcp && r.expected == Action::Block);
        if !fenced {
            continue;
        }
        for road in roads {
            if let Some(row) = group.iter().find(|r| {
                r.port == road.port && r.protocol == road.proto && r.observed == ProbeState::Open
            }) {
                out.push((road, *row));
            }
        }
        if roads.iter().any(|r| r.proto == Proto::Udp) {
            let mut others: Vec<&MatrixRow> = group
                .iter()
                .copied()
                .filter(|r| {
                    r.protocol == Proto::Udp
                        && r.observed == ProbeState::Open
                        && !roads
                            .iter()
                            .any(|road| road.proto == Proto::Udp && road.port == r.port)
                })
                .collect();
            others.sort_by_key(|r| r.port);
            others.dedup_by_key(|r| r.port);
            out.extend(others.into_iter().map(|r| (&UDP_SERVER, r)));
        }
    }
    out
}

/// `fence-bypass` findings for one host: per source whose TCP `epm_port` the policy blocks
/// (the matrix row's expected decision), each of `roads` observed open from that source, when the
/// host registers interfaces on the road's protocol sequence or its map could not be read
/// (a host whose readable map holds no named pipe has only file sharing on 445). A road that
/// is closed (nothing listens) or filtered is no bypass; sources allowed to 135 are not judged.
/// Over SMB the finding also says which named pipes opened from that source (`pipes`, the
/// anonymous sessions the audit opened from its own vantage points), when it tried.
pub fn fence_bypasses(
    rows: &[MatrixRow],
    epm_port: u16,
    roads: &[Road],
    dump: &HostDump,
    pipes: &[PipeAccess],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (road, row) in open_to_fenced(rows, epm_port, roads) {
        let (target, source) = (row.target, row.source);
        let port = row.port;
        let probed = row.probed_port.unwrap_or(port);
        let proto = row.protocol.upper();
        // Probed through a stand-in (the demo's fixture): said, never passed off as `port`.
        let stand_in = match row.probed_port {
            Some(p) => format!(" (probed on its stand-in, {proto} {p})"),
            None => String::new(),
        };
        let reached = if std::ptr::eq(road, &UDP_SERVER) {
            interfaces_at(dump, road.protocol, port)
        } else {
            interfaces_on(dump, road.protocol)
        };
        let what = match reached {
            Reached::Known(names) if names.is_empty() && road.protocol == "ncacn_np" => {
                continue;
            }
            Reached::Known(names) if names.is_empty() && std::ptr::eq(road, &UDP_SERVER) => {
                "an RPC server the map does not list".to_string()
            }
            Reached::Known(names) if names.is_empty() => "the endpoint mapper".to_string(),
            Reached::Known(names) => format!(
                "{} {}: {}",
                names.len(),
                if names.len() == 1 {
                    "interface"
                } else {
                    "interfaces"
                },
                name_list(&names)
            ),
            Reached::Unknown => format!(
                "the interfaces the host registers on {} (its map could not be read from here)",
                road.protocol
            ),
        };
        let policy_says = match &row.rule {
            Some(rule) => format!("the policy passes it ({rule})"),
            None if row.expected == Action::Block => "the default blocks it".to_string(),
            None => "no rule of the policy covers it".to_string(),
        };
        let smb_note = if road.protocol == "ncacn_np" {
            " If SMB must stay open for file sharing, close the named-pipe interfaces with RPC filters (netsh rpc filter): RestrictRemoteClients does not help, it counts a named-pipe client as authenticated."
        } else {
            ""
        };
        // The anonymous session's pipes, then those of the session with the credentials.
        let opened: String = pipes
            .iter()
            .filter(|a| a.source == source && a.port == probed && road.protocol == "ncacn_np")
            .map(pipes_said)
            .collect();
        out.push(
            Finding::new(
                Code::FenceBypass,
                Severity::Error,
                format!(
                    "{target}: from {source}, which the fence denies TCP {epm_port}, RPC is reachable over {} on {proto} {port}{stand_in} ({policy_says}): {what}.{opened}",
                    road.transport
                ),
                format!("Block {proto} {port} from {source} as TCP {epm_port} is blocked.{smb_note}"),
            )
            .with_evidence([format!(
                "{source} -> {target}:{probed}{} {}",
                super::verify::udp_mark(row.protocol),
                row.observed.as_str()
            )]),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::verify::build_matrix;
    use crate::epm::testing;
    use crate::probe::Observation;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn obs(source: &str, port: u16, state: ProbeState) -> Observation {
        Observation::new(ip(source), ip("198.18.0.10"), port, state)
    }

    /// KB908472's fence: 135 and 5001-5021 pass from 198.18.1.0/24, blocked from others;
    /// nothing about 445, 139 or 593 (the `--default` pass decides).
    fn rows(observations: &[Observation]) -> Vec<MatrixRow> {
        build_matrix(observations, Action::Pass, |src, port, proto| {
            let fenced = proto == Proto::Tcp && (port == 135 || (5001..=5021).contains(&port));
            let allowed = src.to_string().starts_with("198.18.1.");
            match (fenced, allowed) {
                (true, true) => {
                    super::super::verify::Expected::new(Action::Pass, Some("policy.cmd:3".into()))
                }
                (true, false) => {
                    super::super::verify::Expected::new(Action::Block, Some("policy.cmd:2".into()))
                }
                (false, _) => super::super::verify::Expected::uncovered(),
            }
        })
    }

    fn dc_dump() -> HostDump {
        let mut np = testing::tcp_endpoint("198.18.0.10", 5001, 1);
        np.protocol = "ncacn_np".into();
        np.port = None;
        np.name = Some("MS-LSAD lsarpc".into());
        let mut np2 = np.clone();
        np2.name = Some("MS-SAMR samr".into());
        let dup = np.clone();
        let tcp = testing::tcp_endpoint("198.18.0.10", 5001, 2);
        testing::dump(
            "198.18.0.10",
            Some("198.18.0.10:135".parse().unwrap()),
            vec![np, np2, dup, tcp],
        )
    }

    #[test]
    fn a_denied_source_that_reaches_445_bypasses_the_fence() {
        let m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            obs("198.18.2.5", 5001, ProbeState::Filtered),
            obs("198.18.2.5", 445, ProbeState::Open),
            obs("198.18.2.5", 139, ProbeState::Filtered),
            obs("198.18.2.5", 593, ProbeState::Closed),
            // The allowed subnet reaches everything: no bypass there.
            obs("198.18.1.5", 135, ProbeState::Open),
            obs("198.18.1.5", 445, ProbeState::Open),
        ]);
        let f = fence_bypasses(&m, 135, &ROADS, &dc_dump(), &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].code, Code::FenceBypass);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(
            f[0].message,
            "198.18.0.10: from 198.18.2.5, which the fence denies TCP 135, RPC is reachable over SMB named pipes on TCP 445 (no rule of the policy covers it): 2 interfaces: MS-LSAD lsarpc, MS-SAMR samr."
        );
        assert!(
            f[0].fix.starts_with("Block TCP 445 from 198.18.2.5"),
            "{}",
            f[0].fix
        );
    }

    #[test]
    fn every_open_road_is_named_and_an_unread_map_is_said() {
        let m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            obs("198.18.2.5", 445, ProbeState::Open),
            obs("198.18.2.5", 139, ProbeState::Open),
            obs("198.18.2.5", 593, ProbeState::Open),
        ]);
        let failed = crate::epm::client::failed("198.18.0.10", "timed out".into());
        let f = fence_bypasses(&m, 135, &ROADS, &failed, &[]);
        assert_eq!(f.len(), 3, "{f:#?}");
        for (finding, port) in f.iter().zip([445, 139, 593]) {
            assert!(
                finding.message.contains(&format!("on TCP {port} ")),
                "{}",
                finding.message
            );
            assert!(
                finding
                    .message
                    .contains("its map could not be read from here")
            );
        }
    }

    #[test]
    fn no_bypass_without_a_fence_an_open_road_or_pipes() {
        // 445 open but the host registers no named pipe: file sharing only.
        let tcp_only = testing::dump(
            "198.18.0.10",
            Some("198.18.0.10:135".parse().unwrap()),
            vec![testing::tcp_endpoint("198.18.0.10", 5001, 2)],
        );
        let m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            obs("198.18.2.5", 445, ProbeState::Open),
        ]);
        assert!(fence_bypasses(&m, 135, &ROADS, &tcp_only, &[]).is_empty());
        // 593 open with no ncacn_http registration: the endpoint mapper itself answers there.
        let m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            obs("198.18.2.5", 593, ProbeState::Open),
        ]);
        let f = fence_bypasses(&m, 135, &ROADS, &tcp_only, &[]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("RPC over HTTP (the endpoint mapper on ncacn_http) on TCP 593"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.ends_with(": the endpoint mapper."),
            "{}",
            f[0].message
        );
        // No row about 135 from the source: not judged.
        let m = rows(&[obs("198.18.2.5", 445, ProbeState::Open)]);
        assert!(fence_bypasses(&m, 135, &ROADS, &dc_dump(), &[]).is_empty());
        // Closed and filtered roads are no bypass.
        let m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            obs("198.18.2.5", 445, ProbeState::Closed),
            obs("198.18.2.5", 139, ProbeState::Filtered),
        ]);
        assert!(fence_bypasses(&m, 135, &ROADS, &dc_dump(), &[]).is_empty());
    }

    #[test]
    fn udp_135_and_ncadg_ports_open_to_a_denied_source_bypass_the_fence() {
        let mut d = dc_dump();
        let mut cl = testing::tcp_endpoint("198.18.0.10", 49700, 7);
        cl.protocol = "ncadg_ip_udp".into();
        cl.name = Some("MS-RPRN spoolss".into());
        d.endpoints.push(cl);
        let udp = |source: &str, port, state| {
            Observation::udp(ip(source), ip("198.18.0.10"), port, state)
        };
        let m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            udp("198.18.2.5", 135, ProbeState::Open),
            udp("198.18.2.5", 49700, ProbeState::Open),
            udp("198.18.2.5", 49701, ProbeState::Filtered),
            // Allowed to TCP 135: not judged.
            obs("198.18.1.5", 135, ProbeState::Open),
            udp("198.18.1.5", 135, ProbeState::Open),
        ]);
        let f = fence_bypasses(&m, 135, &ROADS, &d, &[]);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!(
            f[0].message,
            "198.18.0.10: from 198.18.2.5, which the fence denies TCP 135, RPC is reachable over connectionless RPC (the endpoint mapper on ncadg_ip_udp) on UDP 135 (no rule of the policy covers it): 1 interface: MS-RPRN spoolss."
        );
        assert_eq!(f[0].evidence, ["198.18.2.5 -> 198.18.0.10:135/udp open"]);
        assert!(
            f[0].fix.starts_with("Block UDP 135 from 198.18.2.5"),
            "{}",
            f[0].fix
        );
        assert!(!f[0].fix.contains("SMB"), "{}", f[0].fix);
        assert!(
            f[1].message
                .contains("over connectionless RPC (ncadg_ip_udp) on UDP 49700")
                && f[1].message.ends_with(": 1 interface: MS-RPRN spoolss."),
            "{}",
            f[1].message
        );
        // Without a UDP road nothing over UDP is judged; a UDP 135 row the policy blocks is no
        // fence of TCP 135.
        assert!(fence_bypasses(&m, 135, &ROADS[..3], &d, &[]).is_empty());
        let only_udp_fenced = build_matrix(
            &[
                obs("198.18.2.5", 135, ProbeState::Open),
                udp("198.18.2.5", 135, ProbeState::Filtered),
                obs("198.18.2.5", 445, ProbeState::Open),
            ],
            Action::Pass,
            |_, _, proto| match proto {
                Proto::Udp => {
                    super::super::verify::Expected::new(Action::Block, Some("x:1".into()))
                }
                Proto::Tcp => super::super::verify::Expected::uncovered(),
            },
        );
        assert!(fence_bypasses(&only_udp_fenced, 135, &ROADS, &d, &[]).is_empty());
    }

    #[test]
    fn an_smb_bypass_says_which_pipes_opened_from_that_source() {
        let m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            obs("198.18.2.5", 445, ProbeState::Open),
            obs("198.18.2.5", 139, ProbeState::Open),
        ]);
        let pipes = [
            PipeAccess {
                source: ip("198.18.2.5"),
                port: 445,
                user: None,
                opened: vec!["epmapper".into(), "lsarpc".into(), "samr".into()],
                refused: vec![("spoolss".into(), "0xc0000034".into())],
                error: None,
            },
            PipeAccess {
                source: ip("198.18.2.5"),
                port: 139,
                user: None,
                opened: vec![],
                refused: vec![],
                error: Some("smb session setup (null session): access denied".into()),
            },
        ];
        let f = fence_bypasses(&m, 135, &ROADS, &dc_dump(), &pipes);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f[0].message.ends_with(
                "2 interfaces: MS-LSAD lsarpc, MS-SAMR samr. Pipes that opened from 198.18.2.5 (anonymous): epmapper, lsarpc, samr. Did not open: spoolss (0xc0000034)."
            ),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message.ends_with(
                " No anonymous pipe could be opened from 198.18.2.5: smb session setup (null session): access denied."
            ),
            "{}",
            f[1].message
        );
        // A session logged on with the credentials is said after the anonymous one.
        let mut with_user = pipes.to_vec();
        with_user.insert(
            1,
            PipeAccess {
                source: ip("198.18.2.5"),
                port: 445,
                user: Some("LAB\\audit".into()),
                opened: vec![
                    "epmapper".into(),
                    "lsarpc".into(),
                    "samr".into(),
                    "spoolss".into(),
                ],
                refused: vec![("efsrpc".into(), "0xc0000034".into())],
                error: None,
            },
        );
        with_user.push(PipeAccess {
            source: ip("198.18.2.5"),
            port: 139,
            user: Some("LAB\\audit".into()),
            opened: vec![],
            refused: vec![],
            error: Some("smb session setup (NTLM): not sent, 3 logon failures in this run".into()),
        });
        let f = fence_bypasses(&m, 135, &ROADS, &dc_dump(), &with_user);
        assert!(
            f[0].message.ends_with(
                "Pipes that opened from 198.18.2.5 (anonymous): epmapper, lsarpc, samr. Did not open: spoolss (0xc0000034). Pipes that opened from 198.18.2.5 (as LAB\\audit): epmapper, lsarpc, samr, spoolss. Did not open as LAB\\audit: efsrpc (0xc0000034)."
            ),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message.ends_with(
                " No pipe could be opened from 198.18.2.5 as LAB\\audit: smb session setup (NTLM): not sent, 3 logon failures in this run."
            ),
            "{}",
            f[1].message
        );
        // Another source's pipes are not this one's.
        let f = fence_bypasses(&m, 135, &ROADS, &dc_dump(), &pipes[..0]);
        assert!(f.iter().all(|f| !f.message.contains("Pipes")));
    }

    #[test]
    fn a_road_probed_on_a_stand_in_names_both_ports() {
        let mut m = rows(&[
            obs("198.18.2.5", 135, ProbeState::Filtered),
            obs("198.18.2.5", 593, ProbeState::Open),
        ]);
        m[1].probed_port = Some(40593);
        let f = fence_bypasses(&m, 135, &ROADS, &dc_dump(), &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .contains(" on TCP 593 (probed on its stand-in, TCP 40593) (no rule"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence, ["198.18.2.5 -> 198.18.0.10:40593 open"]);
        assert!(f[0].fix.starts_with("Block TCP 593 from 198.18.2.5"));
    }

    #[test]
    fn roads_at_moves_http_and_udp_only() {
        let r = at(8593, 40135);
        let ports: Vec<(u16, Proto)> = r.iter().map(|r| (r.port, r.proto)).collect();
        assert_eq!(
            ports,
            [
                (445, Proto::Tcp),
                (139, Proto::Tcp),
                (8593, Proto::Tcp),
                (40135, Proto::Udp)
            ]
        );
    }

    #[test]
    fn a_long_list_of_interfaces_is_cut() {
        let names: Vec<String> = (0..20).map(|k| format!("if{k}")).collect();
        let shown = name_list(&names);
        assert!(shown.ends_with("if11, and 8 more"), "{shown}");
    }
}
