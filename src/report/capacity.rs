//! Output of `rpcaudit capacity`: the `{"range","static_ports","hosts":[...]}` JSON document,
//! the table of ports in use per host, the findings with their fixes and the recommended range
//! with the commands that apply it (also shown by `rpcaudit audit`), and the JSON lines of
//! `capacity --json-lines` (one host's assessment per line, then a summary).

use super::finding_text;
use crate::audit::capacity::{HostCapacity, Recommendation};
use crate::epm::HostStatus;
use crate::finding::SeverityCounts;
use crate::jsonl::SummaryMark;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The JSON document `rpcaudit capacity --json` prints.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CapacityReport {
    /// The configured range the hosts were compared with.
    pub range: String,
    /// Ports declared static with `--static-port`.
    pub static_ports: Vec<u16>,
    pub hosts: Vec<HostCapacity>,
}

/// The last line of `rpcaudit capacity --json-lines`, after one [`HostCapacity`] per line (the
/// object `--json` puts in `hosts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CapacityLinesSummary {
    /// Always `summary`.
    pub record: SummaryMark,
    pub schema_version: u32,
    /// The configured range the hosts were compared with.
    pub range: String,
    /// Ports declared static with `--static-port`.
    pub static_ports: Vec<u16>,
    /// Host lines written before this one.
    pub hosts: usize,
    pub ok: usize,
    pub partial: usize,
    pub error: usize,
    /// Findings in all host lines together, by severity.
    pub findings: SeverityCounts,
    /// Every host `ok` and the run not interrupted.
    pub complete: bool,
    /// The run was cut short (Ctrl-C): targets not finished have no line.
    pub interrupted: bool,
}

/// One line of `rpcaudit capacity --json-lines`: the schema of
/// `schema/capacity-lines.schema.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CapacityLine {
    Summary(CapacityLinesSummary),
    Host(Box<HostCapacity>),
}

/// The JSON Schema of one line of `capacity --json-lines`.
pub fn lines_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(CapacityLine)).unwrap_or_default()
}

/// Counts kept while hosts stream past: constant memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapacityTally {
    pub hosts: usize,
    pub ok: usize,
    pub partial: usize,
    pub error: usize,
    pub findings: SeverityCounts,
}

impl CapacityTally {
    pub fn add(&mut self, h: &HostCapacity) {
        self.hosts += 1;
        match h.status {
            HostStatus::Ok => self.ok += 1,
            HostStatus::Partial => self.partial += 1,
            HostStatus::Error => self.error += 1,
        }
        self.findings.add(&h.findings);
    }

    /// Every host examined in full.
    pub fn complete(&self) -> bool {
        self.ok == self.hosts
    }

    pub fn summary(&self, report: &CapacityReport, interrupted: bool) -> CapacityLinesSummary {
        CapacityLinesSummary {
            record: SummaryMark::Summary,
            schema_version: crate::jsonl::SCHEMA_VERSION,
            range: report.range.clone(),
            static_ports: report.static_ports.clone(),
            hosts: self.hosts,
            ok: self.ok,
            partial: self.partial,
            error: self.error,
            findings: self.findings,
            complete: !interrupted && self.complete(),
            interrupted,
        }
    }
}

/// The table and the text that follow it (strings from the network or a file through
/// [`inert`](crate::inert)).
pub fn render(report: &CapacityReport) -> String {
    use crate::inert::{cell, field};
    let mut t = crate::report::table::new_table();
    t.set_header([
        "host",
        "status",
        "TCP endpoints",
        "dynamic ports",
        "in range",
        "outside",
        "range",
        "used",
    ]);
    for h in &report.hosts {
        let status = h.status.table_label();
        let used = h
            .utilisation
            .map(|u| format!("{:.0} %", u * 100.0))
            .unwrap_or_else(|| "-".into());
        if h.status == HostStatus::Error {
            t.add_row([&*cell(&h.target), status, "-", "-", "-", "-", &h.range, "-"]);
        } else {
            t.add_row([
                cell(&h.target).into_owned(),
                status.to_string(),
                h.tcp_endpoints.to_string(),
                h.in_use.to_string(),
                h.in_range.to_string(),
                h.out_of_range.to_string(),
                format!("{} ({} ports)", h.range, h.range_size),
                used,
            ]);
        }
    }
    let mut out = format!("{t}\n");
    if !report.static_ports.is_empty() {
        let list: Vec<String> = report.static_ports.iter().map(u16::to_string).collect();
        out.push_str(&format!(
            "Static ports left out of the count: {}\n",
            list.join(", ")
        ));
    }
    for h in &report.hosts {
        out.push('\n');
        out.push_str(&format!("Host {}\n", field(&h.target)));
        if let Some(e) = &h.error {
            out.push_str(&format!("  {}: {}\n", label(h.status), field(e)));
        }
        out.push_str(&port_spaces_text(h));
        if h.status != HostStatus::Error && h.findings.is_empty() {
            out.push_str("  no capacity findings\n");
        }
        for f in &h.findings {
            out.push_str(&finding_text(f));
        }
        if let Some(rec) = &h.recommendation {
            out.push_str(&recommendation_text(rec));
        }
    }
    out
}

/// What the table's TCP columns hold besides `ncacn_ip_tcp`, and the UDP ports counted apart
/// (nothing for a host with neither).
fn port_spaces_text(h: &HostCapacity) -> String {
    let mut out = String::new();
    if h.http_endpoints > 0 {
        out.push_str(&format!(
            "  ncacn_http: {} {}, counted with the TCP ports above (593 is the endpoint mapper's)\n",
            h.http_endpoints,
            if h.http_endpoints == 1 { "endpoint" } else { "endpoints" }
        ));
    }
    if let Some(u) = &h.udp {
        out.push_str(&format!(
            "  UDP (ncadg_ip_udp): {} {} on {} dynamic {}, {} in range, {} outside\n",
            u.endpoints,
            if u.endpoints == 1 {
                "endpoint"
            } else {
                "endpoints"
            },
            u.in_use,
            if u.in_use == 1 { "port" } else { "ports" },
            u.in_range,
            u.out_of_range
        ));
    }
    out
}

fn label(status: HostStatus) -> &'static str {
    match status {
        HostStatus::Ok => "ok",
        HostStatus::Partial => "incomplete",
        HostStatus::Error => "not examined",
    }
}

/// The recommended range, its reasoning, and the rpccfg line and .reg file that apply it.
pub fn recommendation_text(rec: &Recommendation) -> String {
    let mut out = String::new();
    if rec.change {
        out.push_str(&format!(
            "  Recommended range: {} ({} ports)\n",
            rec.range, rec.size
        ));
    } else {
        out.push_str(&format!("  Range {} is large enough\n", rec.range));
    }
    out.push_str(&format!("    {}\n", rec.reasoning));
    out.push_str(&format!("    apply: {}\n", rec.rpccfg));
    out.push_str("    or import this .reg file:\n");
    for line in rec.reg.lines() {
        out.push_str(&format!("      {}\n", line.trim_end_matches('\r')));
    }
    out.push_str(&format!("    {}\n", rec.note));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::capacity::testing::host;
    #[test]
    fn render_shows_counts_findings_and_recommendation() {
        let report = CapacityReport {
            range: "5001-5021".into(),
            static_ports: vec![],
            hosts: vec![
                host(HostStatus::Ok, &[5001, 49664]),
                host(HostStatus::Error, &[]),
            ],
        };
        let text = render(&report);
        assert!(text.contains("5001-5021 (21 ports)"), "{text}");
        assert!(
            text.contains("error out-of-range: h: 1 dynamic TCP port outside"),
            "{text}"
        );
        assert!(text.contains("fix: Check HKLM"), "{text}");
        assert!(
            text.contains("apply: rpccfg.exe -pe 5001-5021 -d 0"),
            "{text}"
        );
        assert!(text.contains("\"UseInternetPorts\"=\"Y\""), "{text}");
        assert!(!text.contains('\r'));
        assert!(text.contains("not examined: h: connect: refused"), "{text}");
    }

    #[test]
    fn render_says_what_the_tcp_count_holds_and_the_udp_ports_apart() {
        let mut h = host(HostStatus::Ok, &[5001, 49664]);
        assert_eq!(port_spaces_text(&h), "", "nothing to say for TCP alone");
        h.http_endpoints = 3;
        h.udp = Some(crate::audit::capacity::UdpUse {
            endpoints: 2,
            ports: Vec::new(),
            in_use: 2,
            in_range: 1,
            out_of_range: 1,
        });
        let text = render(&CapacityReport {
            range: "5001-5021".into(),
            static_ports: vec![],
            hosts: vec![h],
        });
        assert!(
            text.contains("  ncacn_http: 3 endpoints, counted with the TCP ports above"),
            "{text}"
        );
        assert!(
            text.contains(
                "  UDP (ncadg_ip_udp): 2 endpoints on 2 dynamic ports, 1 in range, 1 outside"
            ),
            "{text}"
        );
    }
}
