//! Reachability probes from chosen source addresses, over TCP and UDP: what the network actually
//! lets through. [`sweep`] runs a plan of (source, target, port, protocol) probes at once within
//! concurrency and rate limits and returns one [`Observation`] each; [`connect`] holds a single
//! TCP attempt, [`udp`] a single UDP one (a connectionless endpoint-mapper request).
//! Observations feed `audit::verify` (directly, or through an `--observations` file written by
//! `rpcaudit probe --json` or `--json-lines` elsewhere and read back with
//! [`observations_from_json`]); [`lines`] holds the JSON-lines contract.

pub mod connect;
pub mod lines;
pub mod sweep;
pub mod udp;

pub use sweep::sweep;

use crate::inert::excerpt;
use crate::ports::PortRanges;
pub use crate::ports::Proto;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// What one probe saw.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display, strum::EnumIter)]
#[strum(serialize_all = "lowercase")]
pub enum ProbeState {
    /// The TCP handshake completed; over UDP, an RPC answer came back.
    Open,
    /// The target answered with a reset (connection refused); over UDP, ICMP port unreachable.
    Closed,
    /// No answer at all after every attempt (dropped, as an IPsec BLOCK filter does). Over UDP
    /// silence is also what a port with no listener says when ICMP is not sent back.
    Filtered,
    /// An ICMP error came back (host or network unreachable, administratively prohibited).
    Unreachable,
    /// A local failure (e.g. the source address cannot be bound); nothing was learned.
    Error,
}

impl ProbeState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The result of probing one (source, target, port).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Observation {
    /// The local address actually used (getsockname); for probes that never got that far, the
    /// bound source or the address the kernel would pick for the target.
    pub source: IpAddr,
    pub target: IpAddr,
    pub port: u16,
    /// The protocol probed: `udp` for a connectionless endpoint-mapper request; absent for TCP
    /// (and in files of versions that probed TCP only).
    #[serde(default, skip_serializing_if = "Proto::is_tcp")]
    pub protocol: Proto,
    pub state: ProbeState,
    /// Attempts made (1 + retries used): connections over TCP, request datagrams over UDP.
    pub attempts: u32,
    /// Time from connect to the answer of the last attempt (open, closed, unreachable).
    pub rtt_ms: Option<f64>,
    /// What went wrong, for `error` (and the ICMP error for `unreachable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For an open TCP 445 or 139 probed with `probe --pipes`: which named pipes opened on an
    /// anonymous SMB session from this source; absent when none was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipes: Option<PipeOpens>,
}

/// Which named pipes opened on an anonymous (null) SMB session from an observation's source
/// (`probe --pipes`), as `audit --observations` reads them for its `fence-bypass` findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PipeOpens {
    /// The pipes that opened, in the order tried.
    pub opened: Vec<String>,
    /// The pipes the server refused, each as `[pipe, status]`.
    pub refused: Vec<(String, String)>,
    /// Why no session could be set up, or what ended the tries early.
    pub error: Option<String>,
}

impl Observation {
    /// A probe of `target:port` from `source` answered in `state` at its first attempt, with no
    /// round-trip time or error recorded: what an observation stated by hand, or made by
    /// another tool, says.
    pub fn new(source: IpAddr, target: IpAddr, port: u16, state: ProbeState) -> Observation {
        Observation {
            source,
            target,
            port,
            protocol: Proto::Tcp,
            state,
            attempts: 1,
            rtt_ms: None,
            error: None,
            pipes: None,
        }
    }

    /// [`Observation::new`] over UDP.
    pub fn udp(source: IpAddr, target: IpAddr, port: u16, state: ProbeState) -> Observation {
        Observation {
            protocol: Proto::Udp,
            ..Observation::new(source, target, port, state)
        }
    }
}

/// How a sweep runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeConfig {
    /// How long one attempt waits for an answer.
    pub timeout: Duration,
    /// Further attempts after an attempt that got no answer.
    pub retries: u32,
    /// Probes in flight at once.
    pub concurrency: usize,
    /// Connection attempts started per second, at most; None = no limit.
    pub rate: Option<f64>,
}

/// Defaults: 500 ms × 2 attempts. In the lab a SYN-ACK or RST comes back in well under a
/// millisecond and nmap -sT agrees on every port; a fully filtered sweep of 22 ports, all in
/// flight at once, ends after about 1 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
pub const DEFAULT_RETRIES: u32 = 1;
pub const DEFAULT_CONCURRENCY: usize = 256;

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            concurrency: DEFAULT_CONCURRENCY,
            rate: None,
        }
    }
}

/// One probe to make: from `source` (None: the address the OS picks) to `target`:`port` over
/// the protocol.
pub type Probe = (Option<IpAddr>, IpAddr, u16, Proto);

/// The sources of a sweep: each `--from` address, or, when none is given, the OS's choice
/// (`None`: the socket is not bound, the kernel picks the address it routes from).
pub fn vantage_points(from: &[IpAddr]) -> Vec<Option<IpAddr>> {
    if from.is_empty() {
        vec![None]
    } else {
        from.iter().copied().map(Some).collect()
    }
}

/// Every target × vantage point ([`vantage_points`] of `from`) × TCP port, in that nesting
/// order.
pub fn plan(targets: &[IpAddr], from: &[IpAddr], ports: &PortRanges) -> Vec<Probe> {
    plan_over(targets, from, ports, Proto::Tcp)
}

/// [`plan`] over `proto`.
pub fn plan_over(
    targets: &[IpAddr],
    from: &[IpAddr],
    ports: &PortRanges,
    proto: Proto,
) -> Vec<Probe> {
    let sources = vantage_points(from);
    let mut plan = Vec::new();
    for &target in targets {
        for &source in &sources {
            plan.extend(ports.iter().map(|port| (source, target, port, proto)));
        }
    }
    plan
}

/// The file format of `rpcaudit probe --json` and of `--observations` files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ObservationsFile {
    pub observations: Vec<Observation>,
}

/// Why an observations file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObservationsError {
    #[error("line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("JSON lines of `rpcaudit probe --json-lines`: {0}")]
    Lines(#[from] crate::jsonl::LinesError),
}

/// Read `{"observations":[...]}` (the output of `rpcaudit probe --json`), or the JSON lines
/// of `rpcaudit probe --json-lines` (its summary line included).
pub fn observations_from_json(bytes: &[u8]) -> Result<Vec<Observation>, ObservationsError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if crate::jsonl::is_lines(bytes) {
        return Ok(lines::observations_from_lines(bytes)?);
    }
    serde_json::from_slice::<ObservationsFile>(bytes)
        .map(|f| f.observations)
        .map_err(|e| ObservationsError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
}

/// Why an observations file could not be read: the file, and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {cause}")]
pub struct ObservationsFileError {
    pub file: String,
    pub cause: ObservationsCause,
}

#[derive(Debug, thiserror::Error)]
pub enum ObservationsCause {
    #[error(transparent)]
    Read(crate::input::ReadError),
    #[error("larger than the {0} bytes an observations file may have")]
    TooLarge(u64),
    #[error(transparent)]
    Json(ObservationsError),
}

/// Read an observations file; the error names the file, line and column.
pub fn read_observations(
    path: &std::path::Path,
) -> Result<Vec<Observation>, ObservationsFileError> {
    read_observations_capped(path, MAX_OBSERVATIONS_BYTES)
}

fn read_observations_capped(
    path: &std::path::Path,
    limit: u64,
) -> Result<Vec<Observation>, ObservationsFileError> {
    let fail = |cause| ObservationsFileError {
        file: path.display().to_string(),
        cause,
    };
    let bytes = crate::input::read_capped(path, limit).map_err(|e| {
        fail(match e {
            crate::input::ReadError::TooLarge { limit } => ObservationsCause::TooLarge(limit),
            other => ObservationsCause::Read(other),
        })
    })?;
    observations_from_json(&bytes).map_err(|e| fail(ObservationsCause::Json(e)))
}

/// Why an address cannot be a probe's source (`--from`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SourceError {
    #[error("'{0}' is not an IP address")]
    NotAnAddress(String),
    #[error("{0} is not a unicast address ({1}); give one of this host's own addresses")]
    NotUnicast(IpAddr, &'static str),
}

/// A `--from` source address: one unicast address, refused before anything is sent when it is
/// unspecified (0.0.0.0, ::), multicast or the broadcast address.
pub fn parse_source(text: &str) -> Result<IpAddr, SourceError> {
    let ip: IpAddr = text
        .trim()
        .parse()
        .map_err(|_| SourceError::NotAnAddress(excerpt(text).into_owned()))?;
    match crate::target::not_a_host(ip) {
        Some(why) => Err(SourceError::NotUnicast(ip, why)),
        None => Ok(ip),
    }
}

/// Largest `--observations` file read (some 500,000 observations).
pub const MAX_OBSERVATIONS_BYTES: u64 = 64 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_is_shown_as_its_json_name() {
        crate::testing::assert_shown_as_json_names::<ProbeState>();
        assert_eq!(ProbeState::Unreachable.as_str(), "unreachable");
    }

    #[test]
    fn plan_nests_target_source_port() {
        let t: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        let f: Vec<IpAddr> = vec!["127.0.0.2".parse().unwrap()];
        let p = PortRanges::parse("135,5001-5002").unwrap();
        let all = plan(&t, &f, &p);
        assert_eq!(all.len(), 6);
        assert_eq!(all[0], (Some(f[0]), t[0], 135, Proto::Tcp));
        assert_eq!(all[2], (Some(f[0]), t[0], 5002, Proto::Tcp));
        let udp = plan_over(&t, &f, &PortRanges::parse("135").unwrap(), Proto::Udp);
        assert_eq!(
            udp,
            [
                (Some(f[0]), t[0], 135, Proto::Udp),
                (Some(f[0]), t[1], 135, Proto::Udp)
            ]
        );
        assert_eq!(all[3].1, t[1]);
        assert_eq!(plan(&t, &[], &p)[0].0, None);
    }

    #[test]
    fn sources_must_be_unicast() {
        for bad in [
            "0.0.0.0",
            "::",
            "224.0.0.1",
            "ff02::1",
            "255.255.255.255",
            "239.1.2.3",
        ] {
            assert!(
                matches!(parse_source(bad), Err(SourceError::NotUnicast(..))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_source("host.example"),
            Err(SourceError::NotAnAddress(_))
        ));
        assert_eq!(
            parse_source("198.18.1.10").unwrap(),
            "198.18.1.10".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            parse_source("::1").unwrap(),
            "::1".parse::<IpAddr>().unwrap()
        );
        let e = parse_source("0.0.0.0").unwrap_err().to_string();
        assert!(e.contains("not a unicast address (unspecified)"), "{e}");
    }

    #[test]
    fn an_observation_carries_its_pipe_opens_and_older_files_have_none() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let o = Observation {
            pipes: Some(PipeOpens {
                opened: vec!["epmapper".into(), "lsarpc".into()],
                refused: vec![("netlogon".into(), "0xc0000034".into())],
                error: None,
            }),
            ..Observation::new(ip("198.18.2.10"), ip("198.18.0.10"), 445, ProbeState::Open)
        };
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(
            json["pipes"],
            serde_json::json!({"opened": ["epmapper", "lsarpc"], "refused": [["netlogon", "0xc0000034"]], "error": null})
        );
        let back: Observation = serde_json::from_value(json).unwrap();
        assert_eq!(back, o);
        let plain = Observation::new(ip("198.18.2.10"), ip("198.18.0.10"), 445, ProbeState::Open);
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("pipes").is_none());
        let back: Observation = serde_json::from_value(json).unwrap();
        assert_eq!(back.pipes, None);
    }

    #[test]
    fn observations_round_trip_and_format() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let obs = vec![
            Observation {
                attempts: 2,
                ..Observation::new(
                    ip("198.18.2.10"),
                    ip("198.18.0.10"),
                    135,
                    ProbeState::Filtered,
                )
            },
            Observation {
                rtt_ms: Some(0.25),
                ..Observation::new(ip("::1"), ip("::1"), 5001, ProbeState::Open)
            },
        ];
        let json = serde_json::to_string(&ObservationsFile {
            observations: obs.clone(),
        })
        .unwrap();
        assert!(json.contains(r#""state":"filtered""#), "{json}");
        assert!(json.contains(r#""rtt_ms":null"#), "{json}");
        assert!(!json.contains("error"), "{json}");
        assert!(
            !json.contains("protocol"),
            "TCP is the field's absence: {json}"
        );
        assert_eq!(observations_from_json(json.as_bytes()).unwrap(), obs);
        // UDP says so; an observation without the field is TCP.
        let udp = Observation::udp(ip("198.18.2.10"), ip("198.18.0.10"), 135, ProbeState::Open);
        let json = serde_json::to_string(&udp).unwrap();
        assert!(json.contains(r#""protocol":"udp""#), "{json}");
        assert_eq!(serde_json::from_str::<Observation>(&json).unwrap(), udp);
        let old = r#"{"source":"1.2.3.4","target":"1.2.3.5","port":135,"state":"open","attempts":1,"rtt_ms":null}"#;
        assert_eq!(
            serde_json::from_str::<Observation>(old).unwrap().protocol,
            Proto::Tcp
        );
    }

    #[test]
    fn bad_observations_name_line_and_column() {
        let text = "{\"observations\":[\n{\"source\":\"1.2.3.4\",\"target\":\"1.2.3.4\",\"port\":135,\"state\":\"ajar\",\"attempts\":1,\"rtt_ms\":null}]}";
        let err = observations_from_json(text.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("line 2,"), "{msg}");
        assert!(msg.contains("ajar"), "{msg}");
        assert!(observations_from_json(b"").is_err());
        assert!(observations_from_json(b"{\"observations\":[{\"port\":70000}]}").is_err());
    }

    #[test]
    fn read_observations_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("obs.json");
        std::fs::write(&path, "{").unwrap();
        let msg = read_observations(&path).unwrap_err().to_string();
        assert!(msg.contains("obs.json") && msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn an_observations_file_over_the_limit_is_refused_without_reading_it_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("obs.json");
        std::fs::write(&path, r#"{"observations": []}"#).unwrap();
        assert!(read_observations_capped(&path, 1024).unwrap().is_empty());
        let err = read_observations_capped(&path, 10).unwrap_err().to_string();
        assert!(
            err.contains("obs.json") && err.contains("10 bytes"),
            "{err}"
        );
    }
}
