//! What changed since a baseline report: the [`Changes`] an audit report carries in `changes`
//! (endpoints that appeared or disappeared, verdicts and findings that changed), and
//! [`render_changes`], the section the audit table shows first. [`super::diff`] computes them
//! from two reports; this module knows nothing of the report they sit in.

use crate::audit::verify::Verdict;
use crate::epm::Endpoint;
use crate::finding::Finding;
use crate::ports::PortRanges;
use crate::probe::ProbeState;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use uuid::Uuid;

/// What changed since the baseline report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Changes {
    pub baseline: BaselineInfo,
    /// Endpoints registered now that the baseline did not have.
    pub endpoints_appeared: Vec<EndpointChange>,
    /// Endpoints of the baseline that are no longer registered.
    pub endpoints_disappeared: Vec<EndpointChange>,
    /// Targets whose endpoints were not compared (not in both reports, or not dumped
    /// completely in one of them). Not a change in itself: it says where the diff is blind.
    pub hosts_not_compared: Vec<HostNotCompared>,
    /// Matrix cells whose verdict changed, one per (source, target, port), sorted.
    pub verdicts_changed: Vec<VerdictChange>,
    /// Findings of this run the baseline did not have.
    pub findings_new: Vec<Finding>,
    /// Findings of the baseline this run no longer has.
    pub findings_resolved: Vec<Finding>,
}

impl Changes {
    /// True when nothing appeared, disappeared or changed. Hosts that could not be compared
    /// do not count as changes.
    pub fn is_empty(&self) -> bool {
        self.endpoints_appeared.is_empty()
            && self.endpoints_disappeared.is_empty()
            && self.verdicts_changed.is_empty()
            && self.findings_new.is_empty()
            && self.findings_resolved.is_empty()
    }
}

/// What changed on one host since the baseline: on its line of `audit --json-lines
/// --baseline`. What the baseline has that no host of the run matched (targets, cells and
/// findings) is in the summary line's [`Changes`]; [`Changes::absorb`] puts them together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostChanges {
    /// Endpoints registered now that the baseline did not have.
    pub endpoints_appeared: Vec<EndpointChange>,
    /// Endpoints of the baseline that are no longer registered.
    pub endpoints_disappeared: Vec<EndpointChange>,
    /// Why the host's endpoints were not compared (not in the baseline, or not dumped
    /// completely in one of the two runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
    /// The host's matrix cells whose verdict changed, sorted.
    pub verdicts_changed: Vec<VerdictChange>,
    /// The host's findings the baseline did not have.
    pub findings_new: Vec<Finding>,
}

impl Changes {
    /// Add each host's changes (with its target) to the run's; the verdicts stay sorted.
    pub fn absorb(&mut self, hosts: impl IntoIterator<Item = (String, HostChanges)>) {
        for (target, host) in hosts {
            self.endpoints_appeared.extend(host.endpoints_appeared);
            self.endpoints_disappeared
                .extend(host.endpoints_disappeared);
            if let Some(reason) = host.not_compared {
                self.hosts_not_compared
                    .push(HostNotCompared { target, reason });
            }
            self.verdicts_changed.extend(host.verdicts_changed);
            self.findings_new.extend(host.findings_new);
        }
        self.verdicts_changed
            .sort_by_key(|c| (c.source, c.target, c.protocol, c.port));
    }
}

/// Which report the run was compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineInfo {
    /// The baseline file as given on the command line.
    pub path: String,
    /// When the baseline report was made, RFC 3339.
    pub generated_at: String,
    /// The rpcaudit version that made it.
    pub tool_version: String,
    pub schema_version: u32,
    /// False when the baseline run itself was incomplete or interrupted.
    pub complete: bool,
}

/// One endpoint that appeared or disappeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EndpointChange {
    /// The target as given.
    pub target: String,
    pub interface: Uuid,
    /// Interface version, "major.minor".
    pub version: String,
    /// Short name of a well-known interface, if known.
    pub name: Option<String>,
    /// Object UUID (nil for most registrations).
    pub object: Uuid,
    /// Protocol sequence, e.g. "ncacn_ip_tcp".
    pub protocol: String,
    /// TCP or UDP port, when the protocol has one.
    pub port: Option<u16>,
    /// The string binding, e.g. `ncacn_ip_tcp:198.18.0.10[5001]`.
    pub binding: String,
}

impl EndpointChange {
    pub(super) fn of(target: &str, e: &Endpoint) -> Self {
        EndpointChange {
            target: target.to_string(),
            interface: e.interface,
            version: e.version.clone(),
            name: e.name.clone(),
            object: e.object,
            protocol: e.protocol.clone(),
            port: e.port,
            binding: e.binding.clone(),
        }
    }
}

/// A target whose endpoints were not compared, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostNotCompared {
    pub target: String,
    /// E.g. "not in the baseline", "dump partial in this run".
    pub reason: String,
}

/// One matrix cell whose verdict changed. `before` null: the baseline did not probe the cell;
/// `after` null: this run did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VerdictChange {
    pub source: IpAddr,
    pub target: IpAddr,
    pub port: u16,
    /// `udp` for a UDP cell; absent for TCP.
    #[serde(default, skip_serializing_if = "crate::ports::Proto::is_tcp")]
    pub protocol: crate::ports::Proto,
    pub before: Option<Verdict>,
    pub after: Option<Verdict>,
    pub before_observed: Option<ProbeState>,
    pub after_observed: Option<ProbeState>,
}

/// Consecutive ports of one (source, target) whose verdict changed the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictRun {
    pub source: IpAddr,
    pub target: IpAddr,
    pub protocol: crate::ports::Proto,
    pub ports: PortRanges,
    pub before: Option<Verdict>,
    pub after: Option<Verdict>,
    /// The distinct observed states of the run, first seen first.
    pub before_observed: Vec<ProbeState>,
    pub after_observed: Vec<ProbeState>,
}

/// Compress verdict changes into runs of consecutive ports with the same before → after,
/// per (source, target); sorted by source, target, port.
pub fn verdict_runs(changes: &[VerdictChange]) -> Vec<VerdictRun> {
    let mut sorted: Vec<&VerdictChange> = changes.iter().collect();
    sorted.sort_by_key(|c| (c.source, c.target, c.protocol, c.port));
    // Each run with its first and last port while it grows.
    let mut runs: Vec<(VerdictRun, u16, u16)> = Vec::new();
    for c in sorted {
        match runs.last_mut() {
            Some((r, _, last))
                if r.source == c.source
                    && r.target == c.target
                    && r.protocol == c.protocol
                    && r.before == c.before
                    && r.after == c.after
                    && u32::from(c.port) == u32::from(*last) + 1 =>
            {
                *last = c.port;
                push_new(&mut r.before_observed, c.before_observed);
                push_new(&mut r.after_observed, c.after_observed);
            }
            _ => runs.push((
                VerdictRun {
                    source: c.source,
                    target: c.target,
                    protocol: c.protocol,
                    ports: PortRanges::default(),
                    before: c.before,
                    after: c.after,
                    before_observed: c.before_observed.into_iter().collect(),
                    after_observed: c.after_observed.into_iter().collect(),
                },
                c.port,
                c.port,
            )),
        }
    }
    runs.into_iter()
        .map(|(mut r, first, last)| {
            r.ports = PortRanges::from_ranges([(first, last)]);
            r
        })
        .collect()
}

fn push_new(v: &mut Vec<ProbeState>, s: Option<ProbeState>) {
    if let Some(s) = s
        && !v.contains(&s)
    {
        v.push(s);
    }
}

/// "leak (open/closed)", or "not probed".
pub(super) fn side(verdict: Option<Verdict>, observed: &[ProbeState]) -> String {
    match verdict {
        None => "not probed".to_string(),
        Some(v) if observed.is_empty() => v.to_string(),
        Some(v) => format!(
            "{v} ({})",
            observed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("/")
        ),
    }
}

/// The changes section the audit table shows first (strings from either report through
/// [`inert`](crate::inert): the baseline is a file, its contents untrusted).
pub fn render_changes(c: &Changes) -> String {
    use crate::inert::{cell, field, prose};
    let b = &c.baseline;
    let since = format!(
        "since {} ({}{})",
        field(&b.path),
        field(&b.generated_at),
        if b.complete {
            ""
        } else {
            "; that run was incomplete"
        }
    );
    let mut out = String::new();
    if c.is_empty() {
        out.push_str(&format!("No changes {since}.\n"));
    } else {
        out.push_str(&format!("Changes {since}:\n"));
    }

    if !c.endpoints_appeared.is_empty() || !c.endpoints_disappeared.is_empty() {
        let mut t = crate::report::table::new_table();
        t.set_header([
            "endpoint",
            "target",
            "port",
            "interface",
            "version",
            "name",
            "binding",
        ]);
        let rows = c
            .endpoints_appeared
            .iter()
            .map(|e| ("appeared", e))
            .chain(c.endpoints_disappeared.iter().map(|e| ("disappeared", e)));
        for (what, e) in rows {
            let mut iface = e.interface.to_string();
            if !e.object.is_nil() {
                iface.push_str(&format!("\nobject {}", e.object));
            }
            t.add_row([
                what.to_string(),
                cell(&e.target).into_owned(),
                e.port.map_or_else(|| "-".to_string(), |p| p.to_string()),
                iface,
                cell(&e.version).into_owned(),
                cell(e.name.as_deref().unwrap_or_default()).into_owned(),
                cell(&e.binding).into_owned(),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }

    if !c.verdicts_changed.is_empty() {
        let mut t = crate::report::table::new_table();
        t.set_header(["source", "target", "ports", "before", "after"]);
        for r in verdict_runs(&c.verdicts_changed) {
            t.add_row([
                r.source.to_string(),
                r.target.to_string(),
                format!("{}{}", r.ports, crate::audit::verify::udp_mark(r.protocol)),
                side(r.before, &r.before_observed),
                side(r.after, &r.after_observed),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }

    if !c.findings_new.is_empty() || !c.findings_resolved.is_empty() {
        let mut t = crate::report::table::new_table();
        t.set_header(["finding", "severity", "code", "where", "message"]);
        let rows = c
            .findings_new
            .iter()
            .map(|f| ("new", f))
            .chain(c.findings_resolved.iter().map(|f| ("resolved", f)));
        for (what, f) in rows {
            let place = match (&f.file, f.line) {
                (Some(file), Some(line)) => format!("{}:{line}", cell(file)),
                (Some(file), None) => cell(file).into_owned(),
                _ => String::new(),
            };
            t.add_row([
                what.to_string(),
                f.severity.to_string(),
                cell(f.code.as_str()).into_owned(),
                place,
                prose(&f.message).into_owned(),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }

    for h in &c.hosts_not_compared {
        out.push_str(&format!(
            "Endpoints of {} not compared: {}.\n",
            field(&h.target),
            field(&h.reason)
        ));
    }
    out
}
