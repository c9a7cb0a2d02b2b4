//! Output of `rpcaudit interfaces`: the `{"schema_version":..,"hosts":[...]}` JSON document
//! (schema in `schema/interfaces.schema.json`), its JSON lines, and a table per host of each
//! interface's verdicts, anonymous and authenticated. Every string from the network reaches the
//! table through [`inert`](crate::inert).

use crate::epm::HostStatus;
use crate::epm::reach::{HostInterfaces, Probe, Verdict};
use crate::finding::{Finding, Severity};
use crate::jsonl::SummaryMark;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON document of `rpcaudit interfaces --json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InterfacesReport {
    pub schema_version: u32,
    /// The opnum every probe called (beyond every interface's last method).
    pub probe_opnum: u16,
    pub hosts: Vec<HostReport>,
}

/// One host of the document or one JSON line: its probes and the findings they make
/// (`audit::exposure`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostReport {
    #[serde(flatten)]
    pub host: HostInterfaces,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

impl HostReport {
    /// The host's findings, judged with the intended `policy` when one was given.
    pub fn new(host: HostInterfaces, policy: Option<&crate::policy::Policy>) -> Self {
        let findings = crate::audit::exposure::findings(&host, policy);
        HostReport { host, findings }
    }
}

// Counts like DumpLinesSummary's (report::dump): each command's summary line is its own JSON
// contract with its own schema, so each keeps its fields.
/// The last line of `rpcaudit interfaces --json-lines`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InterfacesLinesSummary {
    pub record: SummaryMark,
    pub schema_version: u32,
    pub hosts: usize,
    pub ok: usize,
    pub partial: usize,
    pub error: usize,
    /// Interface probes made (anonymous and authenticated together), and how they ended.
    pub probes: usize,
    pub callable: usize,
    pub refused: usize,
    /// Findings of severity error (`interface-exposed`).
    pub errors: usize,
    pub complete: bool,
    pub interrupted: bool,
}

/// One line of `--json-lines`: a host (the object the document's `hosts` holds), or the
/// summary, which comes last.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum InterfacesLine {
    Summary(InterfacesLinesSummary),
    Host(Box<HostReport>),
}

/// The JSON Schema of `--json-lines`' lines.
pub fn lines_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(InterfacesLine)).unwrap_or_default()
}

/// The JSON Schema of the document.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(InterfacesReport)).unwrap_or_default()
}

// The counts InterfacesLinesSummary is made from, without its record, version and completion
// fields: the tally is kept while the run goes, the summary written once at its end.
/// Counts over the hosts of a run, for the summary and the exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterfacesTally {
    pub hosts: usize,
    pub ok: usize,
    pub partial: usize,
    pub error: usize,
    pub probes: usize,
    pub callable: usize,
    pub refused: usize,
    pub errors: usize,
}

impl InterfacesTally {
    pub fn add(&mut self, r: &HostReport) {
        self.errors += r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let h = &r.host;
        self.hosts += 1;
        match h.status {
            HostStatus::Ok => self.ok += 1,
            HostStatus::Partial => self.partial += 1,
            HostStatus::Error => self.error += 1,
        }
        for i in &h.interfaces {
            for p in std::iter::once(&i.anonymous).chain(i.authenticated.as_ref()) {
                self.probes += 1;
                match p.verdict {
                    Verdict::Callable => self.callable += 1,
                    Verdict::Refused => self.refused += 1,
                    _ => {}
                }
            }
        }
    }

    pub fn summary(&self, interrupted: bool) -> InterfacesLinesSummary {
        InterfacesLinesSummary {
            record: SummaryMark::Summary,
            schema_version: crate::report::audit::SCHEMA_VERSION,
            hosts: self.hosts,
            ok: self.ok,
            partial: self.partial,
            error: self.error,
            probes: self.probes,
            callable: self.callable,
            refused: self.refused,
            errors: self.errors,
            complete: !interrupted && self.ok == self.hosts,
            interrupted,
        }
    }
}

fn verdict_cell(p: &Probe) -> String {
    format!(
        "{} ({})",
        p.verdict.as_str(),
        crate::inert::cell(&p.evidence)
    )
}

/// The table of `rpcaudit interfaces`.
pub fn render_table(hosts: &[HostReport]) -> String {
    use crate::inert::{cell, field};
    let mut out = String::new();
    for report in hosts {
        let host = &report.host;
        let status = host.status.table_label();
        out.push_str(&format!(
            "Host {} ({}){}\n",
            field(&host.target),
            status,
            host.dump
                .address
                .map(|a| format!(" via {a}"))
                .unwrap_or_default()
        ));
        if let Some(e) = &host.error {
            out.push_str(&format!("  error: {}\n", field(e)));
        }
        if host.skipped > 0 {
            out.push_str(&format!("  not probed: {} interfaces\n", host.skipped));
        }
        if !host.interfaces.is_empty() {
            // A column of sources when the probes left from more than one (`--from`).
            let mut sources: Vec<Option<std::net::IpAddr>> =
                host.interfaces.iter().map(|i| i.source).collect();
            sources.sort_unstable();
            sources.dedup();
            let per_source = sources.len() > 1;
            let mut t = crate::report::table::new_table();
            let mut header = vec!["Interface", "Version", "Name", "Road"];
            if per_source {
                header.push("Source");
            }
            header.extend(["Anonymous", "Authenticated"]);
            t.set_header(header);
            for i in &host.interfaces {
                let name = cell(i.name.as_deref().unwrap_or_default()).into_owned();
                let name = match crate::report::dump::tag_list(&i.tags) {
                    Some(tags) => format!("{name} [{tags}]"),
                    None => name,
                };
                let mut row = vec![
                    i.interface.to_string(),
                    cell(&i.version).into_owned(),
                    name,
                    if i.unregistered {
                        format!("{} (unregistered)", cell(&i.road))
                    } else {
                        cell(&i.road).into_owned()
                    },
                ];
                if per_source {
                    row.push(
                        i.source
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into()),
                    );
                }
                row.extend([
                    verdict_cell(&i.anonymous),
                    i.authenticated
                        .as_ref()
                        .map(verdict_cell)
                        .unwrap_or_else(|| "-".into()),
                ]);
                t.add_row(row);
            }
            out.push_str(&t.to_string());
            out.push('\n');
        }
        for f in &report.findings {
            let severity = match f.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "WARNING",
                Severity::Info => "INFO",
            };
            out.push_str(&format!("  {severity} {}: {}\n", f.code, field(&f.message)));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::catalogue::Tag;
    use crate::epm::reach::InterfaceReach;
    use crate::epm::testing::dump;
    use uuid::Uuid;

    fn host() -> HostReport {
        HostReport::new(host_interfaces(), None)
    }

    fn host_interfaces() -> HostInterfaces {
        let probe = |verdict, evidence: &str| Probe {
            verdict,
            evidence: evidence.into(),
        };
        HostInterfaces {
            target: "dc01".into(),
            status: HostStatus::Ok,
            error: None,
            dump: dump("dc01", Some("198.18.0.10:135".parse().unwrap()), vec![]),
            interfaces: vec![
                InterfaceReach {
                    interface: Uuid::from_u128(1),
                    version: "1.0".into(),
                    name: Some("MS-EFSR efsrpc".into()),
                    tags: vec![Tag::Coercion],
                    road: "ncacn_ip_tcp:198.18.0.10[49667]".into(),
                    port: 49667,
                    anonymous: probe(Verdict::Callable, "fault 0x1c010002 (nca_s_op_rng_error)"),
                    authenticated: None,
                    source: None,
                    unregistered: false,
                },
                InterfaceReach {
                    interface: Uuid::from_u128(2),
                    version: "1.0".into(),
                    name: None,
                    tags: vec![],
                    road: "ncacn_ip_tcp:198.18.0.10[49668]".into(),
                    port: 49668,
                    anonymous: probe(Verdict::Refused, "evil\x1b[2J\nrow"),
                    authenticated: Some(probe(Verdict::Callable, "fault x")),
                    source: None,
                    unregistered: false,
                },
            ],
            skipped: 0,
            source: None,
            inquiries: Vec::new(),
        }
    }

    #[test]
    fn the_table_shows_verdicts_tags_and_escapes_evidence() {
        let text = render_table(&[host()]);
        assert!(
            text.starts_with("Host dc01 (ok) via 198.18.0.10:135\n"),
            "{text}"
        );
        assert!(text.contains("MS-EFSR efsrpc [coercion]"), "{text}");
        assert!(text.contains("callable (fault 0x1c010002"), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("refused (evil\\x1b[2J"), "{text}");
        assert!(
            text.contains("ERROR interface-exposed: dc01: MS-EFSR efsrpc"),
            "{text}"
        );
    }

    #[test]
    fn the_tally_counts_every_probe() {
        let mut t = InterfacesTally::default();
        t.add(&host());
        assert_eq!(
            (t.hosts, t.ok, t.probes, t.callable, t.refused, t.errors),
            (1, 1, 3, 2, 1, 1)
        );
        let s = t.summary(false);
        assert!(s.complete);
        assert!(!t.summary(true).complete);
    }
}
