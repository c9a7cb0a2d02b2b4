//! The JSON-lines contract of `rpcaudit probe --json-lines` (`schema/probe-lines.schema.json`):
//! one [`ProbeHostLine`] per target, written as soon as every probe of that target has ended
//! (its address and observations, or why it could not be probed), then one
//! [`ProbeSummaryLine`] (`"record": "summary"`). [`ProbeTally`] keeps the summary's counts in
//! constant memory while the targets stream past; [`observations_from_lines`] reads such an
//! output back for `audit --observations`, so the document and the lines serve alike.

use super::{Observation, ProbeState};
use crate::jsonl::{HostMark, LinesError, SummaryMark};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One target of `probe --json-lines`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeHostLine {
    /// Always `host`.
    pub record: HostMark,
    /// The target as given (an address, or a name).
    pub target: String,
    /// The address probed (a name's first address); null when it did not resolve.
    pub address: Option<IpAddr>,
    /// Why the target was not probed (its name did not resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every (source, port) probe of the target, sources in `--from` order, ports ascending.
    pub observations: Vec<Observation>,
}

/// How many probes ended in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StateCounts {
    pub open: usize,
    pub closed: usize,
    pub filtered: usize,
    pub unreachable: usize,
    pub error: usize,
}

/// The last line of `probe --json-lines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeSummaryLine {
    /// Always `summary`.
    pub record: SummaryMark,
    pub schema_version: u32,
    /// Host lines written before this one.
    pub targets: usize,
    /// Targets that were not probed (their line has an `error`).
    pub unresolved: usize,
    /// Observations in all host lines together.
    pub probes: usize,
    pub states: StateCounts,
    /// Every target probed, no probe in state `error`, and the run not interrupted.
    pub complete: bool,
    /// The run was cut short (Ctrl-C): targets not finished have no line.
    pub interrupted: bool,
}

/// One line of `probe --json-lines`: the schema of `schema/probe-lines.schema.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ProbeLine {
    Summary(ProbeSummaryLine),
    Host(ProbeHostLine),
}

/// The JSON Schema of one line of `probe --json-lines`.
pub fn lines_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ProbeLine)).unwrap_or_default()
}

/// Counts kept while targets stream past: constant memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeTally {
    pub targets: usize,
    pub unresolved: usize,
    pub states: StateCounts,
}

impl ProbeTally {
    pub fn add(&mut self, line: &ProbeHostLine) {
        self.targets += 1;
        if line.error.is_some() {
            self.unresolved += 1;
        }
        for o in &line.observations {
            let s = &mut self.states;
            match o.state {
                ProbeState::Open => s.open += 1,
                ProbeState::Closed => s.closed += 1,
                ProbeState::Filtered => s.filtered += 1,
                ProbeState::Unreachable => s.unreachable += 1,
                ProbeState::Error => s.error += 1,
            }
        }
    }

    /// Every target probed and no probe that could not be carried out.
    pub fn complete(&self) -> bool {
        self.unresolved == 0 && self.states.error == 0
    }

    pub fn summary(&self, interrupted: bool) -> ProbeSummaryLine {
        let s = self.states;
        ProbeSummaryLine {
            record: SummaryMark::Summary,
            schema_version: crate::jsonl::SCHEMA_VERSION,
            targets: self.targets,
            unresolved: self.unresolved,
            probes: s.open + s.closed + s.filtered + s.unreachable + s.error,
            states: s,
            complete: !interrupted && self.complete(),
            interrupted,
        }
    }
}

/// The observations of every host line, in line order. The summary line must be there (an
/// output without it was cut short and is refused, not read as "fewer probes").
pub fn observations_from_lines(text: &[u8]) -> Result<Vec<Observation>, LinesError> {
    let mut out = Vec::new();
    crate::jsonl::read::<ProbeLine>(text, |l| match l {
        ProbeLine::Host(h) => {
            out.extend(h.observations);
            false
        }
        ProbeLine::Summary(_) => true,
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(port: u16, state: ProbeState) -> Observation {
        let ip = |s: &str| s.parse().unwrap();
        Observation::new(ip("198.18.1.10"), ip("198.18.0.10"), port, state)
    }

    fn host(target: &str, observations: Vec<Observation>) -> ProbeHostLine {
        ProbeHostLine {
            record: HostMark::Host,
            target: target.into(),
            address: target.parse().ok(),
            error: None,
            observations,
        }
    }

    fn text(lines: &[String]) -> Vec<u8> {
        (lines.join("\n") + "\n").into_bytes()
    }

    #[test]
    fn tally_counts_states_and_unresolved_targets() {
        let mut t = ProbeTally::default();
        t.add(&host(
            "198.18.0.10",
            vec![obs(135, ProbeState::Filtered), obs(5001, ProbeState::Open)],
        ));
        let mut failed = host("dc1.example", vec![]);
        failed.error = Some("no such name".into());
        t.add(&failed);
        let s = t.summary(false);
        assert_eq!((s.targets, s.unresolved, s.probes), (2, 1, 2));
        assert_eq!((s.states.filtered, s.states.open), (1, 1));
        assert!(
            !s.complete,
            "an unresolved target leaves the run incomplete"
        );
        let mut t = ProbeTally::default();
        t.add(&host("198.18.0.10", vec![obs(135, ProbeState::Closed)]));
        assert!(t.summary(false).complete);
        assert!(!t.summary(true).complete, "interrupted is never complete");
    }

    #[test]
    fn lines_read_back_into_observations_and_need_their_summary() {
        let mut t = ProbeTally::default();
        let a = host("198.18.0.10", vec![obs(135, ProbeState::Filtered)]);
        let b = host("198.18.0.11", vec![obs(5001, ProbeState::Open)]);
        t.add(&a);
        t.add(&b);
        let mut lines: Vec<String> = [&a, &b]
            .iter()
            .map(|h| serde_json::to_string(h).unwrap())
            .collect();
        lines.push(serde_json::to_string(&t.summary(false)).unwrap());
        let got = observations_from_lines(&text(&lines)).unwrap();
        assert_eq!(
            got,
            vec![obs(135, ProbeState::Filtered), obs(5001, ProbeState::Open)]
        );

        let cut = &lines[..2];
        assert_eq!(
            observations_from_lines(&text(cut)),
            Err(LinesError::NoSummary)
        );
        let mut after = lines.clone();
        after.push(lines[0].clone());
        assert_eq!(
            observations_from_lines(&text(&after)),
            Err(LinesError::AfterSummary { line: 4 })
        );
        let mut bad = lines.clone();
        bad[1] = r#"{"record":"host","target":"x"}"#.into();
        assert!(matches!(
            observations_from_lines(&text(&bad)),
            Err(LinesError::Line { line: 2, .. })
        ));
    }
}
