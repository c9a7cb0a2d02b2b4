//! Capacity: does what a host registered fit the configured RPC dynamic range? Takes one
//! [`HostDump`] (from `epm::client`) and the range (from `--range`, later from the policy's
//! rpccfg/.reg reading), counts the dynamic TCP ports in use, raises `out-of-range`,
//! `range-near-full` and `range-exhausted` findings, and recommends a range with headroom
//! together with the rpccfg line and `.reg` content that apply it ([`rpccfg_line`],
//! [`reg_file`]; the fix scripts' range section, `remedy::range`, writes them from here too).
//! Pure: no I/O.
//!
//! Counting rule: the configured range (`Rpc\Internet` `Ports`) governs the dynamic ports of
//! every IP protocol sequence (Microsoft's page on those values says so of `ncacn_ip_tcp` and
//! `ncadg_ip_udp`; `ncacn_http` listens on a TCP port the same runtime allocates, MS-RPCH 2.1).
//! TCP and UDP are two port spaces, counted apart: the dynamic TCP ports in use are the distinct
//! ports of `ncacn_ip_tcp` and `ncacn_http` endpoints, except the endpoint mapper's 135 and 593
//! and ports the administrator declared static; the dynamic UDP ports those of `ncadg_ip_udp`
//! endpoints, except 135. The findings and the recommendation follow the larger of the two
//! counts. Ports outside the range count too: after the restart the configuration asks for,
//! they move into the range and need a place there.

use crate::epm::{Endpoint, HTTP_EPM_PORT, HostDump, HostStatus};
use crate::finding::{Code, Finding, Severity};
use crate::ports::{EPM_PORT, PortRanges};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The article's range (`rpccfg.exe -pe 5001-5021 -d 0`): 21 ports.
pub const ARTICLE_RANGE: (u16, u16) = (5001, 5021);
/// `range-near-full` is raised from this share of the range in use (and below 100 %).
pub const NEAR_FULL: f64 = 0.8;
/// The lowest port a recommended range uses (0-1024 are the well-known ports).
pub const LOWEST_PORT: u16 = 1025;
/// The Vista+ default dynamic (ephemeral) range 49152-65535 that a recommendation avoids when
/// it can, so RPC servers do not compete with outbound sockets.
pub const EPHEMERAL: (u16, u16) = (49152, 65535);
/// Smallest recommended range: the article's 21 ports.
pub const MIN_RECOMMENDED: u32 = 21;

/// One dynamic port in use and what listens on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PortUse {
    pub port: u16,
    /// Whether the configured range contains the port.
    pub in_range: bool,
    /// The interfaces registered on it: the well-known name, or "UUID vMAJOR.MINOR".
    pub interfaces: Vec<String>,
    /// The protocol sequences registered on it (`ncacn_ip_tcp`, `ncacn_http`, `ncadg_ip_udp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<String>,
}

/// The dynamic UDP ports in use (`ncadg_ip_udp`), counted apart from the TCP ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UdpUse {
    /// Endpoints bound to `ncadg_ip_udp`.
    pub endpoints: usize,
    /// Dynamic UDP ports in use, ascending (135 and static ports left out).
    pub ports: Vec<PortUse>,
    pub in_use: u32,
    pub in_range: u32,
    pub out_of_range: u32,
}

/// The capacity assessment of one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostCapacity {
    /// The target as given.
    pub target: String,
    /// How far the dump got; with `partial` the counts are lower bounds, with `error` nothing
    /// was counted.
    pub status: HostStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The configured range the host was compared with.
    pub range: String,
    pub range_size: u32,
    /// Endpoints bound to `ncacn_ip_tcp` (all of them, 135 and static ports included).
    pub tcp_endpoints: usize,
    /// Endpoints bound to `ncacn_http` (their TCP ports are counted with the TCP ones).
    #[serde(default)]
    pub http_endpoints: usize,
    /// The UDP side, when the host registered `ncadg_ip_udp` endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<UdpUse>,
    /// Declared static ports that the host has endpoints on (left out of the count).
    pub static_ports: Vec<u16>,
    /// Dynamic TCP ports in use (`ncacn_ip_tcp` and `ncacn_http`), ascending.
    pub dynamic_ports: Vec<PortUse>,
    /// Number of dynamic TCP ports in use (in or out of the range).
    pub in_use: u32,
    /// How many of them the range contains.
    pub in_range: u32,
    /// How many lie outside it.
    pub out_of_range: u32,
    /// `in_use / range_size` (1.0 = full); null when the range is empty.
    pub utilisation: Option<f64>,
    pub findings: Vec<Finding>,
    /// Absent only when the dump failed (status `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
}

/// A range with headroom and how to apply it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    /// False when the configured range already has the headroom (the commands then restate
    /// the configured range, e.g. to re-apply it after `out-of-range`).
    pub change: bool,
    /// The recommended range, e.g. "5001-5042".
    pub range: String,
    pub size: u32,
    /// The reasoning, in words.
    pub reasoning: String,
    /// The rpccfg.exe line, e.g. `rpccfg.exe -pe 5001-5042 -d 0`.
    pub rpccfg: String,
    /// `.reg` file content (CRLF line ends) that writes HKLM\SOFTWARE\Microsoft\Rpc\Internet.
    pub reg: String,
    /// What must happen after applying it.
    pub note: String,
}

/// Assess `host` against the configured `range`; `static_ports` are ports the administrator
/// gave services on purpose (excluded from the count, like 135).
pub fn assess(host: &HostDump, range: &PortRanges, static_ports: &[u16]) -> HostCapacity {
    let range_size = range.size();
    let mut statics_seen: Vec<u16> = Vec::new();
    let tcp: Vec<&Endpoint> = host
        .endpoints
        .iter()
        .filter(|e| e.uses_dynamic_tcp_port())
        .collect();
    let dynamic = port_uses(
        &tcp,
        &[EPM_PORT, HTTP_EPM_PORT],
        range,
        static_ports,
        &mut statics_seen,
    );
    let udp_endpoints: Vec<&Endpoint> = host
        .endpoints
        .iter()
        .filter(|e| e.uses_dynamic_udp_port())
        .collect();
    let udp = (!udp_endpoints.is_empty()).then(|| {
        let ports = port_uses(
            &udp_endpoints,
            &[EPM_PORT],
            range,
            static_ports,
            &mut statics_seen,
        );
        let in_use = count(ports.len());
        let in_range = count(ports.iter().filter(|p| p.in_range).count());
        UdpUse {
            endpoints: udp_endpoints.len(),
            ports,
            in_use,
            in_range,
            out_of_range: in_use - in_range,
        }
    });
    statics_seen.sort_unstable();
    statics_seen.dedup();
    let in_use = count(dynamic.len());
    let in_range = count(dynamic.iter().filter(|p| p.in_range).count());
    let out_of_range = in_use - in_range;
    let utilisation = (range_size > 0).then(|| f64::from(in_use) / f64::from(range_size));

    let mut cap = HostCapacity {
        target: host.target.clone(),
        status: host.status,
        error: host.error.clone(),
        range: range.to_string(),
        range_size,
        tcp_endpoints: host.tcp_endpoints().count(),
        http_endpoints: tcp.iter().filter(|e| e.protocol == "ncacn_http").count(),
        udp,
        static_ports: statics_seen,
        dynamic_ports: dynamic,
        in_use,
        in_range,
        out_of_range,
        utilisation,
        findings: Vec::new(),
        recommendation: None,
    };
    if host.status == HostStatus::Error {
        return cap;
    }
    let rec = recommend(range, in_use.max(cap.udp.as_ref().map_or(0, |u| u.in_use)));
    cap.findings = findings(&cap, range, &rec);
    // The registrations behind an out-of-range finding, as the endpoint mapper listed them.
    for f in cap
        .findings
        .iter_mut()
        .filter(|f| f.code == Code::OutOfRange)
    {
        f.evidence = tcp
            .iter()
            .filter(|e| {
                e.port
                    .is_some_and(|p| cap.dynamic_ports.iter().any(|u| u.port == p && !u.in_range))
            })
            .map(|e| format!("{} {}", e.binding, interface_label(e)))
            .collect();
    }
    cap.recommendation = Some(rec);
    cap
}

/// The dynamic ports of `endpoints` (one port space), leaving out the endpoint mapper's
/// `well_known` ports and the declared `static_ports` (noted in `statics_seen`).
fn port_uses(
    endpoints: &[&Endpoint],
    well_known: &[u16],
    range: &PortRanges,
    static_ports: &[u16],
    statics_seen: &mut Vec<u16>,
) -> Vec<PortUse> {
    let mut ports: Vec<u16> = endpoints.iter().filter_map(|e| e.port).collect();
    ports.sort_unstable();
    ports.dedup();
    let mut out = Vec::with_capacity(ports.len());
    for port in ports {
        if well_known.contains(&port) {
            continue;
        }
        if static_ports.contains(&port) {
            statics_seen.push(port);
            continue;
        }
        let mut interfaces: Vec<String> = Vec::new();
        let mut protocols: Vec<String> = Vec::new();
        for e in endpoints.iter().filter(|e| e.port == Some(port)) {
            let label = interface_label(e);
            if !interfaces.contains(&label) {
                interfaces.push(label);
            }
            if !protocols.contains(&e.protocol) {
                protocols.push(e.protocol.clone());
            }
        }
        out.push(PortUse {
            port,
            in_range: range.contains(port),
            interfaces,
            protocols,
        });
    }
    out
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn interface_label(e: &Endpoint) -> String {
    match &e.name {
        Some(name) => name.clone(),
        None => format!("{} v{}", e.interface, e.version),
    }
}

fn findings(cap: &HostCapacity, range: &PortRanges, rec: &Recommendation) -> Vec<Finding> {
    let mut out = Vec::new();
    let host = &cap.target;
    let lower_bound = if cap.status == HostStatus::Partial {
        " (partial dump: at least)"
    } else {
        ""
    };
    let outside: Vec<&PortUse> = cap.dynamic_ports.iter().filter(|p| !p.in_range).collect();
    if !outside.is_empty() {
        let listed: Vec<String> = outside
            .iter()
            .map(|p| format!("{} ({})", p.port, p.interfaces.join(", ")))
            .collect();
        let noun = if outside.len() == 1 { "port" } else { "ports" };
        out.push(Finding::new(
            Code::OutOfRange,
            Severity::Error,
            format!(
                "{host}: {} dynamic TCP {noun} outside the configured range {}: {}. Likely causes: \
                 the range configuration did not take effect (Rpc\\Internet values missing or \
                 invalid), a restart is pending since it was changed, or a service has a fixed port.",
                outside.len(),
                cap.range,
                listed.join("; ")
            ),
            format!(
                "Check HKLM\\SOFTWARE\\Microsoft\\Rpc\\Internet (Ports, PortsInternetAvailable=Y, \
                 UseInternetPorts=Y), re-apply the configured range with `{}` if needed and \
                 restart the host; a port given to a service on purpose can be declared with \
                 --static-port PORT and must then be fenced on its own.",
                rpccfg_line(range)
            ),
        ));
    }
    if cap.range_size > 0 && cap.in_use >= cap.range_size {
        out.push(Finding::new(
            Code::RangeExhausted,
            Severity::Error,
            format!(
                "{host}: {}{lower_bound} dynamic TCP ports in use, the range {} has {}: once every \
                 port is taken, further ncacn_ip_tcp registrations fail.",
                cap.in_use, cap.range, cap.range_size
            ),
            format!(
                "Enlarge the range to {} ({} ports): `{}`, then restart.",
                rec.range, rec.size, rec.rpccfg
            ),
        ));
    } else if let Some(u) = cap.utilisation
        && u >= NEAR_FULL
    {
        out.push(Finding::new(
            Code::RangeNearFull,
            Severity::Warning,
            format!(
                "{host}: {}{lower_bound} of the {} ports of the range {} in use ({:.0} %): little \
                 room for services that start later.",
                cap.in_use,
                cap.range_size,
                cap.range,
                u * 100.0
            ),
            format!(
                "Enlarge the range to {} ({} ports): `{}`, then restart.",
                rec.range, rec.size, rec.rpccfg
            ),
        ));
    }
    if cap.range_size == 0 {
        out.push(Finding::new(
            Code::RangeExhausted,
            Severity::Error,
            format!("{host}: the configured range is empty."),
            format!("Configure a range: `{}`, then restart.", rec.rpccfg),
        ));
    }
    out
}

/// The size a range needs for `in_use` dynamic ports: twice the ports in use, at least 21
/// (the article's size), at most what 1025-65535 holds.
pub fn needed_size(in_use: u32) -> u32 {
    let max = u32::from(u16::MAX) - u32::from(LOWEST_PORT) + 1;
    in_use.saturating_mul(2).max(MIN_RECOMMENDED).min(max)
}

/// Where a new contiguous range of `size` ports goes. Rule: start at the current range's first
/// port (at least 1025); if the block would reach into the Vista+ ephemeral range 49152-65535,
/// slide it down to end at 49151; only a block larger than 1025-49151 can hold enters that
/// range, then it starts at 1025.
pub fn place(current: &PortRanges, size: u32) -> (u16, u16) {
    let low = u32::from(LOWEST_PORT);
    let eph = u32::from(EPHEMERAL.0);
    let size = size.clamp(1, u32::from(u16::MAX) - low + 1);
    let first = current
        .ranges()
        .first()
        .map_or(u32::from(ARTICLE_RANGE.0), |r| u32::from(r.0))
        .max(low);
    let start = if first + size <= eph {
        first
    } else if low + size <= eph {
        eph - size
    } else {
        low
    };
    let end = start + size - 1;
    // start >= 1025 and end <= 65535 by construction; the fallbacks are never taken.
    (
        u16::try_from(start).unwrap_or(LOWEST_PORT),
        u16::try_from(end).unwrap_or(u16::MAX),
    )
}

/// Recommend a range for `in_use` dynamic ports, given the configured `current` range.
pub fn recommend(current: &PortRanges, in_use: u32) -> Recommendation {
    let need = needed_size(in_use);
    let have = current.size();
    let rule =
        format!("rule: twice the ports in use, at least {MIN_RECOMMENDED}, the article's size");
    let (change, ranges, reasoning) = if have >= need {
        (
            false,
            current.clone(),
            format!(
                "{in_use} dynamic ports in use; the configured range {current} ({have} ports) \
                 already holds the {need} ports wanted ({rule}). Keep it."
            ),
        )
    } else {
        let (a, b) = place(current, need);
        let new = PortRanges::from_ranges([(a, b)]);
        let mut why = format!(
            "{in_use} dynamic ports in use; the configured range {current} has {have}, fewer \
             than the {need} wanted ({rule}). {new} keeps the range's first port"
        );
        let kept_start = current.ranges().first().map(|r| r.0) == Some(a);
        if !kept_start {
            let current = if current.is_empty() {
                "(none)".to_string()
            } else {
                current.to_string()
            };
            why = format!(
                "{in_use} dynamic ports in use; the configured range {current} has {have}, fewer \
                 than the {need} wanted ({rule}). {new} starts at {a} rather than at the range's \
                 first port, to stay at or above 1025 and, where the size allows, below the \
                 Vista+ ephemeral range 49152-65535"
            );
        }
        why.push_str(
            "; every port of the new range must also be added to the fence (a BLOCK for all and \
             a PASS for the allowed subnets, one filter per port).",
        );
        (true, new, why)
    };
    let size = ranges.size();
    Recommendation {
        change,
        range: ranges.to_string(),
        size,
        reasoning,
        rpccfg: rpccfg_line(&ranges),
        reg: reg_file(&ranges),
        note: "The RPC runtime reads the range at start-up: restart the host after applying it. \
               An invalid or incomplete Rpc\\Internet key makes every ncacn_ip_tcp registration \
               fail, so set all three values."
            .to_string(),
    }
}

/// The pieces of a range as rpccfg and the `Ports` value write them: "5001-5021", "6000".
pub fn pieces(ranges: &PortRanges) -> Vec<String> {
    ranges
        .ranges()
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect()
}

/// `rpccfg.exe -pe 5001-5021 -d 0`: the ranges are internet-available, and processes using the
/// default get internet ports.
pub fn rpccfg_line(ranges: &PortRanges) -> String {
    format!("rpccfg.exe -pe {} -d 0", pieces(ranges).join(" "))
}

/// REG_MULTI_SZ as a `.reg` file writes it: `hex(7):` then the UTF-16LE bytes of each string
/// with its NUL, and a final NUL, as comma-separated lowercase hex pairs.
pub fn reg_multi_sz_hex(strings: &[String]) -> String {
    let mut bytes: Vec<u8> = Vec::new();
    for s in strings {
        for unit in s.encode_utf16().chain([0]) {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&[0, 0]);
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("hex(7):{}", hex.join(","))
}

/// `.reg` content (CRLF line ends) setting HKLM\SOFTWARE\Microsoft\Rpc\Internet to `ranges`.
pub fn reg_file(ranges: &PortRanges) -> String {
    [
        "Windows Registry Editor Version 5.00".to_string(),
        String::new(),
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]".to_string(),
        format!("\"Ports\"={}", reg_multi_sz_hex(&pieces(ranges))),
        "\"PortsInternetAvailable\"=\"Y\"".to_string(),
        "\"UseInternetPorts\"=\"Y\"".to_string(),
        String::new(),
    ]
    .join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::testing::{dump, tcp_endpoint};

    fn ep(port: u16, iface: u128, name: Option<&str>) -> Endpoint {
        Endpoint {
            name: name.map(str::to_string),
            ..tcp_endpoint("198.18.0.10", port, iface)
        }
    }

    fn host(ports: impl IntoIterator<Item = u16>) -> HostDump {
        dump(
            "dc01",
            Some("198.18.0.10:135".parse().unwrap()),
            ports
                .into_iter()
                .map(|p| ep(p, 1, Some("MS-SAMR samr")))
                .collect(),
        )
    }

    /// An endpoint of `protocol` on `port` (the binding as rpcdump prints it).
    fn on(protocol: &str, port: u16, iface: u128) -> Endpoint {
        Endpoint {
            protocol: protocol.into(),
            binding: format!("{protocol}:198.18.0.10[{port}]"),
            ..crate::epm::testing::tcp_endpoint("198.18.0.10", port, iface)
        }
    }

    #[test]
    fn ncacn_http_ports_count_with_tcp_and_udp_ports_apart() {
        // A domain controller's shape: the EPM on 135 and on 593 (ncacn_http), RPC over HTTP
        // registrations on a dynamic port of their own, TCP ones, and datagram ones.
        let eps = vec![
            on("ncacn_ip_tcp", 135, 1),
            on("ncacn_http", 593, 1),
            on("ncacn_ip_tcp", 5001, 2),
            on("ncacn_ip_tcp", 5002, 3),
            on("ncacn_http", 5003, 4),
            on("ncacn_http", 5003, 5),
            on("ncacn_http", 49669, 6),
            on("ncadg_ip_udp", 135, 1),
            on("ncadg_ip_udp", 5001, 7),
            on("ncadg_ip_udp", 5004, 8),
        ];
        let c = assess(&dump("dc01", None, eps), &article(), &[]);
        let tcp: Vec<u16> = c.dynamic_ports.iter().map(|p| p.port).collect();
        assert_eq!(tcp, [5001, 5002, 5003, 49669], "593 and 135 are the EPM's");
        assert_eq!((c.in_use, c.in_range, c.out_of_range), (4, 3, 1));
        assert_eq!(c.tcp_endpoints, 3);
        assert_eq!(c.http_endpoints, 4);
        assert_eq!(c.dynamic_ports[2].protocols, ["ncacn_http"]);
        let udp = c.udp.as_ref().expect("the UDP side");
        assert_eq!(udp.endpoints, 3);
        let ports: Vec<u16> = udp.ports.iter().map(|p| p.port).collect();
        assert_eq!(
            ports,
            [5001, 5004],
            "UDP 5001 is another port than TCP 5001"
        );
        assert_eq!((udp.in_use, udp.in_range, udp.out_of_range), (2, 2, 0));
        // The ncacn_http port outside the range is an out-of-range finding with its binding.
        let f = c
            .findings
            .iter()
            .find(|f| f.code == Code::OutOfRange)
            .expect("out-of-range");
        assert!(
            f.evidence
                .iter()
                .any(|e| e.starts_with("ncacn_http:198.18.0.10[49669]"))
        );
    }

    fn article() -> PortRanges {
        PortRanges::from_ranges([ARTICLE_RANGE])
    }

    fn codes(c: &HostCapacity) -> Vec<&str> {
        c.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn counts_distinct_dynamic_ports_without_135_static_and_other_protocols() {
        let mut h = host([135, 5001, 5001, 5002, 5003, 6000]);
        let mut np = ep(0, 2, None);
        np.protocol = "ncacn_np".into();
        np.port = None;
        h.endpoints.push(np);
        let mut udp = ep(5010, 2, None);
        udp.protocol = "ncadg_ip_udp".into();
        h.endpoints.push(udp);
        let c = assess(&h, &article(), &[6000]);
        assert_eq!(c.tcp_endpoints, 6);
        assert_eq!(c.in_use, 3);
        assert_eq!(c.in_range, 3);
        assert_eq!(c.out_of_range, 0);
        assert_eq!(c.static_ports, vec![6000]);
        let ports: Vec<u16> = c.dynamic_ports.iter().map(|p| p.port).collect();
        assert_eq!(ports, [5001, 5002, 5003]);
        assert_eq!(c.utilisation, Some(3.0 / 21.0));
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        let rec = c.recommendation.unwrap();
        assert!(!rec.change);
        assert_eq!(rec.range, "5001-5021");
    }

    #[test]
    fn out_of_range_names_ports_and_interfaces() {
        let mut h = host([5001, 5002]);
        h.endpoints.push(ep(49664, 1, Some("MS-SAMR samr")));
        h.endpoints.push(ep(49664, 2, None));
        h.endpoints.push(ep(49665, 3, Some("MS-LSAD lsarpc")));
        let c = assess(&h, &article(), &[]);
        assert_eq!((c.in_use, c.in_range, c.out_of_range), (4, 2, 2));
        assert_eq!(codes(&c), ["out-of-range"]);
        let f = &c.findings[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message.starts_with("dc01: 2 dynamic TCP ports outside"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains(
                "49664 (MS-SAMR samr, 00000000-0000-0000-0000-000000000002 v1.0); 49665 (MS-LSAD lsarpc)"
            ),
            "{}",
            f.message
        );
        for cause in ["did not take effect", "restart is pending", "fixed port"] {
            assert!(f.message.contains(cause), "{}", f.message);
        }
        assert!(f.fix.contains("--static-port"), "{}", f.fix);
        assert!(
            f.fix.contains("`rpccfg.exe -pe 5001-5021 -d 0`"),
            "{}",
            f.fix
        );
        // Declared static: no longer a finding.
        let c = assess(&h, &article(), &[49664, 49665]);
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        assert_eq!(c.static_ports, [49664, 49665]);
    }

    #[test]
    fn near_full_from_80_percent_and_exhausted_at_100() {
        let c = assess(&host(5001..=5016), &article(), &[]);
        assert!(c.findings.is_empty(), "16/21 = 76 %: {:?}", c.findings);
        let c = assess(&host(5001..=5017), &article(), &[]);
        assert_eq!(codes(&c), ["range-near-full"], "17/21 = 81 %");
        let c = assess(&host(5001..=5018), &article(), &[]);
        assert_eq!(codes(&c), ["range-near-full"]);
        assert_eq!(c.findings[0].severity, Severity::Warning);
        assert!(
            c.findings[0].message.contains("18 of the 21 ports"),
            "{}",
            c.findings[0].message
        );
        assert!(c.findings[0].fix.contains("rpccfg.exe -pe 5001-5036 -d 0"));
        let c = assess(&host(5001..=5021), &article(), &[]);
        assert_eq!(codes(&c), ["range-exhausted"]);
        assert_eq!(c.findings[0].severity, Severity::Error);
        assert_eq!(c.utilisation, Some(1.0));
        // More ports needed than the range has (some of them outside it).
        let c = assess(&host((5001..=5021).chain([49664, 49665])), &article(), &[]);
        assert_eq!(codes(&c), ["out-of-range", "range-exhausted"]);
        assert!(
            c.findings[1]
                .message
                .contains("23 dynamic TCP ports in use")
        );
        let rec = c.recommendation.unwrap();
        assert!(rec.change);
        assert_eq!(rec.range, "5001-5046");
    }

    #[test]
    fn partial_dumps_say_at_least_and_failed_dumps_give_nothing() {
        let mut h = host(5001..=5021);
        h.status = HostStatus::Partial;
        let c = assess(&h, &article(), &[]);
        assert!(c.findings[0].message.contains("(partial dump: at least)"));
        let mut h = host([]);
        h.status = HostStatus::Error;
        h.error = Some("dc01: connect: refused".into());
        let c = assess(&h, &article(), &[]);
        assert!(c.findings.is_empty() && c.recommendation.is_none());
        assert_eq!(c.error.as_deref(), Some("dc01: connect: refused"));
    }

    #[test]
    fn needed_size_rule() {
        assert_eq!(needed_size(0), 21);
        assert_eq!(needed_size(10), 21);
        assert_eq!(needed_size(11), 22);
        assert_eq!(needed_size(18), 36);
        assert_eq!(needed_size(40_000), 64_511);
    }

    #[test]
    fn placement_keeps_the_start_and_avoids_the_ephemeral_range() {
        assert_eq!(place(&article(), 42), (5001, 5042));
        // A range starting too low is lifted to 1025.
        assert_eq!(
            place(&PortRanges::from_ranges([(100, 120)]), 21),
            (1025, 1045)
        );
        // Vista's default range: moved below 49152.
        let vista = PortRanges::from_ranges([EPHEMERAL]);
        assert_eq!(place(&vista, 40), (49112, 49151));
        // Near the boundary: slid down to end at 49151.
        assert_eq!(
            place(&PortRanges::from_ranges([(49140, 49150)]), 21),
            (49131, 49151)
        );
        // Too big to avoid it: from 1025.
        assert_eq!(place(&article(), 50_000), (1025, 51_024));
        assert_eq!(place(&article(), 64_511), (1025, 65535));
        assert_eq!(place(&PortRanges::default(), 21), (5001, 5021));
    }

    #[test]
    fn recommendation_words_and_commands() {
        let rec = recommend(&article(), 20);
        assert!(rec.change);
        assert_eq!((rec.range.as_str(), rec.size), ("5001-5040", 40));
        assert_eq!(rec.rpccfg, "rpccfg.exe -pe 5001-5040 -d 0");
        assert!(
            rec.reasoning.contains("20 dynamic ports in use"),
            "{}",
            rec.reasoning
        );
        assert!(
            rec.reasoning.contains("keeps the range's first port"),
            "{}",
            rec.reasoning
        );
        assert!(rec.note.contains("restart"));
        let vista = recommend(&PortRanges::from_ranges([(49152, 49160)]), 20);
        assert!(vista.reasoning.contains("below the Vista+ ephemeral range"));
    }

    #[test]
    fn an_empty_range_is_exhausted_not_a_division_by_zero() {
        let c = assess(&host([5001]), &PortRanges::default(), &[]);
        assert_eq!(c.utilisation, None);
        assert!(codes(&c).contains(&"range-exhausted"));
    }

    #[test]
    fn serialises_to_json() {
        let c = assess(&host([5001, 49664]), &article(), &[]);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["in_use"], 2);
        assert_eq!(v["dynamic_ports"][1]["in_range"], false);
        assert_eq!(
            v["recommendation"]["rpccfg"],
            "rpccfg.exe -pe 5001-5021 -d 0"
        );
        assert_eq!(v["findings"][0]["code"], "out-of-range");
        let back: HostCapacity = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn rpccfg_lists_each_piece() {
        let two = PortRanges::parse("5001-5010,6000").unwrap();
        assert_eq!(rpccfg_line(&two), "rpccfg.exe -pe 5001-5010 6000 -d 0");
    }

    #[test]
    fn reg_multi_sz_for_the_articles_range_byte_by_byte() {
        let hex = reg_multi_sz_hex(&["5001-5021".to_string()]);
        let body = hex.strip_prefix("hex(7):").unwrap();
        let bytes: Vec<u8> = body
            .split(',')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        let expected: [u8; 22] = [
            b'5', 0, b'0', 0, b'0', 0, b'1', 0, b'-', 0, b'5', 0, b'0', 0, b'2', 0, b'1', 0, 0, 0,
            0, 0,
        ];
        assert_eq!(bytes, expected);
        assert_eq!(
            hex,
            "hex(7):35,00,30,00,30,00,31,00,2d,00,35,00,30,00,32,00,31,00,00,00,00,00"
        );
        // Two strings: each NUL-terminated, then the list's final NUL.
        let two = reg_multi_sz_hex(&["1".to_string(), "2".to_string()]);
        assert_eq!(two, "hex(7):31,00,00,00,32,00,00,00,00,00");
    }

    #[test]
    fn reg_file_content() {
        let reg = reg_file(&PortRanges::from_ranges([(5001, 5021)]));
        let lines: Vec<&str> = reg.split("\r\n").collect();
        assert_eq!(lines[0], "Windows Registry Editor Version 5.00");
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]"
        );
        assert!(lines[3].starts_with("\"Ports\"=hex(7):35,00,30,00"));
        assert_eq!(lines[4], "\"PortsInternetAvailable\"=\"Y\"");
        assert_eq!(lines[5], "\"UseInternetPorts\"=\"Y\"");
        assert!(reg.ends_with("\r\n"));
        assert!(!reg.replace("\r\n", "").contains('\n'));
    }
}

/// Small builders for tests of code that renders or judges capacity results.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::epm::HostDump;
    use crate::epm::testing::{dump, tcp_endpoint};

    pub fn article_range() -> PortRanges {
        PortRanges::from_ranges([ARTICLE_RANGE])
    }

    pub fn host(status: HostStatus, ports: &[u16]) -> HostCapacity {
        let d = HostDump {
            status,
            error: (status == HostStatus::Error).then(|| "h: connect: refused".to_string()),
            ..dump(
                "h",
                None,
                ports.iter().map(|&p| tcp_endpoint("h", p, 0)).collect(),
            )
        };
        assess(&d, &article_range(), &[])
    }
}
