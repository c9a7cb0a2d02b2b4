//! Port lists and ranges as administrators write them ("135,5001-5021"): the one parser shared
//! by `--ports`, `--range`, rpccfg lines and the Rpc\Internet `Ports` value.

use crate::inert::excerpt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The endpoint mapper's well-known TCP port (ncacn_ip_tcp), fenced together with the RPC
/// dynamic range.
pub const EPM_PORT: u16 = 135;

/// The transport protocol of a port: what a policy rule, a probe and a matrix row are about.
/// In JSON `tcp` or `udp`; where the field is absent (files of versions before UDP was
/// probed) it is TCP.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    #[default]
    Tcp,
    Udp,
}

impl Proto {
    /// True for TCP, the protocol an absent field means (serde's `skip_serializing_if`).
    pub fn is_tcp(&self) -> bool {
        *self == Proto::Tcp
    }

    /// `TCP` or `UDP`, as messages and fix scripts write it.
    pub fn upper(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
        }
    }

    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }
}

/// A port probed in place of a well-known one: the demo's fixture endpoint mapper listens on a
/// free loopback port instead of TCP 135, and its RPC over HTTP on another instead of TCP 593
/// (binding those needs root). The policy is asked about `stands_for`, the matrix row and the
/// findings name it, and the report's inputs list every stand-in, so a report never says a
/// well-known port was probed when its stand-in was. `rpcaudit audit` has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StandIn {
    /// The port that was probed.
    pub port: u16,
    /// The well-known port it stands in for.
    pub stands_for: u16,
    #[serde(default, skip_serializing_if = "Proto::is_tcp")]
    pub protocol: Proto,
}

impl StandIn {
    /// The well-known port `port` over `proto` stands in for, or `port` itself.
    pub fn resolve(stand_ins: &[StandIn], port: u16, proto: Proto) -> u16 {
        stand_ins
            .iter()
            .find(|s| s.port == port && s.protocol == proto)
            .map_or(port, |s| s.stands_for)
    }
}

/// A protocol name that is neither TCP nor UDP (quoted cut short).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol '{}' (tcp or udp)", excerpt(.0))]
pub struct UnknownProto(String);

impl std::str::FromStr for Proto {
    type Err = UnknownProto;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" | "6" => Ok(Proto::Tcp),
            "udp" | "17" => Ok(Proto::Udp),
            other => Err(UnknownProto(other.to_string())),
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// A set of TCP/UDP ports kept as sorted, merged, inclusive `[first, last]` ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct PortRanges(Vec<(u16, u16)>);

/// Why a port list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSpecError {
    #[error("empty port list")]
    Empty,
    #[error("'{}' is not a port number (0-65535)", excerpt(.0))]
    BadPort(String),
    #[error("range '{}' ends before it starts", excerpt(.0))]
    Reversed(String),
}

impl PortRanges {
    /// Build from possibly overlapping, unsorted inclusive ranges.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u16, u16)>) -> Self {
        let mut v: Vec<(u16, u16)> = ranges
            .into_iter()
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        v.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match merged.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        PortRanges(merged)
    }

    /// Parse "135", "5001-5021", "135,5001-5021 6000" (commas, spaces or semicolons separate).
    pub fn parse(spec: &str) -> Result<Self, PortSpecError> {
        let mut ranges = Vec::new();
        for item in spec
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let (a, b) = match item.split_once('-') {
                Some((a, b)) => (parse_port(a, item)?, parse_port(b, item)?),
                None => {
                    let p = parse_port(item, item)?;
                    (p, p)
                }
            };
            if b < a {
                return Err(PortSpecError::Reversed(item.to_string()));
            }
            ranges.push((a, b));
        }
        if ranges.is_empty() {
            return Err(PortSpecError::Empty);
        }
        Ok(Self::from_ranges(ranges))
    }

    /// The merged ranges, sorted.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// Number of ports in the set.
    pub fn size(&self) -> u32 {
        self.0
            .iter()
            .map(|&(a, b)| u32::from(b) - u32::from(a) + 1)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(a, b)| a <= port && port <= b)
    }

    /// Every port, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().flat_map(|&(a, b)| a..=b)
    }

    /// The union of two sets.
    pub fn union(&self, other: &PortRanges) -> PortRanges {
        Self::from_ranges(self.0.iter().chain(other.0.iter()).copied())
    }
}

fn parse_port(text: &str, item: &str) -> Result<u16, PortSpecError> {
    text.trim()
        .parse::<u16>()
        .map_err(|_| PortSpecError::BadPort(item.to_string()))
}

impl fmt::Display for PortRanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(a, b)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}-{b}")?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for PortRanges {
    type Err = PortSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stand_in_resolves_to_its_well_known_port_over_its_protocol_only() {
        let s = [StandIn {
            port: 40135,
            stands_for: EPM_PORT,
            protocol: Proto::Tcp,
        }];
        assert_eq!(StandIn::resolve(&s, 40135, Proto::Tcp), 135);
        assert_eq!(StandIn::resolve(&s, 40135, Proto::Udp), 40135);
        assert_eq!(StandIn::resolve(&s, 5001, Proto::Tcp), 5001);
        assert_eq!(StandIn::resolve(&[], 40135, Proto::Tcp), 40135);
    }
    use proptest::prelude::*;

    #[test]
    fn parses_the_articles_range() {
        let r = PortRanges::parse("5001-5021").unwrap();
        assert_eq!(r.ranges(), &[(5001, 5021)]);
        assert_eq!(r.size(), 21);
        assert!(r.contains(5001) && r.contains(5021) && !r.contains(5022));
    }

    #[test]
    fn merges_lists_and_overlaps() {
        let r = PortRanges::parse("135, 5001-5010;5011-5021 5005").unwrap();
        assert_eq!(r.ranges(), &[(135, 135), (5001, 5021)]);
        assert_eq!(r.to_string(), "135,5001-5021");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(PortRanges::parse(""), Err(PortSpecError::Empty));
        assert!(matches!(
            PortRanges::parse("70000"),
            Err(PortSpecError::BadPort(_))
        ));
        assert!(matches!(
            PortRanges::parse("5021-5001"),
            Err(PortSpecError::Reversed(_))
        ));
        assert!(matches!(
            PortRanges::parse("a-b"),
            Err(PortSpecError::BadPort(_))
        ));
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(ranges in proptest::collection::vec((any::<u16>(), any::<u16>()), 1..20)) {
            let r = PortRanges::from_ranges(ranges.clone());
            let back = PortRanges::parse(&r.to_string()).unwrap();
            prop_assert_eq!(&back, &r);
            for (a, b) in ranges {
                prop_assert!(r.contains(a) && r.contains(b));
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = PortRanges::parse(&s);
        }
    }
}
