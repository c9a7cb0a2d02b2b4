//! Output of `rpcaudit dump`: the `{"hosts":[...]}` JSON document and an rpcdump-like table
//! per host (interfaces grouped with their bindings) followed by a summary.

use crate::epm::{Endpoint, HostDump, HostStatus};
use crate::jsonl::SummaryMark;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use uuid::Uuid;

/// The JSON document `rpcaudit dump --json` prints.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DumpReport {
    pub hosts: Vec<HostDump>,
}

/// The last line of `rpcaudit dump --json-lines`, after one [`HostDump`] per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DumpLinesSummary {
    /// Always `summary`.
    pub record: SummaryMark,
    pub schema_version: u32,
    /// Host lines written before this one.
    pub hosts: usize,
    pub ok: usize,
    pub partial: usize,
    pub error: usize,
    /// Endpoints in all host lines together.
    pub entries: usize,
    /// Every host `ok` and the run not interrupted.
    pub complete: bool,
    /// The run was cut short (Ctrl-C): targets not started have no line.
    pub interrupted: bool,
}

/// One line of `rpcaudit dump --json-lines`: the schema of `schema/dump-lines.schema.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DumpLine {
    Summary(DumpLinesSummary),
    Host(HostDump),
}

/// The JSON Schema of one line of `dump --json-lines`.
pub fn lines_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(DumpLine)).unwrap_or_default()
}

/// Counts kept while hosts stream past, for the summary line: constant memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DumpTally {
    pub hosts: usize,
    pub ok: usize,
    pub partial: usize,
    pub error: usize,
    pub entries: usize,
}

impl DumpTally {
    pub fn add(&mut self, h: &HostDump) {
        self.hosts += 1;
        self.entries += h.endpoints.len();
        match h.status {
            HostStatus::Ok => self.ok += 1,
            HostStatus::Partial => self.partial += 1,
            HostStatus::Error => self.error += 1,
        }
    }

    pub fn summary(&self, interrupted: bool) -> DumpLinesSummary {
        DumpLinesSummary {
            record: SummaryMark::Summary,
            schema_version: crate::jsonl::SCHEMA_VERSION,
            hosts: self.hosts,
            ok: self.ok,
            partial: self.partial,
            error: self.error,
            entries: self.entries,
            complete: !interrupted && self.ok == self.hosts,
            interrupted,
        }
    }
}

/// Counts that summarise one host's dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DumpSummary {
    pub entries: usize,
    pub tcp_endpoints: usize,
    pub distinct_tcp_ports: usize,
}

pub fn summarize(host: &HostDump) -> DumpSummary {
    DumpSummary {
        entries: host.endpoints.len(),
        tcp_endpoints: host.tcp_endpoints().count(),
        distinct_tcp_ports: host.tcp_ports().len(),
    }
}

/// Endpoints grouped by (interface, version, object), in first-seen order; linear in the
/// number of endpoints.
fn groups(endpoints: &[Endpoint]) -> Vec<Vec<&Endpoint>> {
    let mut index: HashMap<(&Uuid, &str, &Uuid), usize> = HashMap::new();
    let mut out: Vec<Vec<&Endpoint>> = Vec::new();
    for e in endpoints {
        let key = (&e.interface, e.version.as_str(), &e.object);
        match index.get(&key).and_then(|&k| out.get_mut(k)) {
            Some(g) => g.push(e),
            None => {
                index.insert(key, out.len());
                out.push(vec![e]);
            }
        }
    }
    out
}

/// The human-readable rendering of a dump. Every string from the endpoint mapper or the target
/// list is shown through [`inert`](crate::inert): cells cut, control and bidi characters
/// escaped, so an annotation can neither forge a row nor reach the terminal raw.
pub fn render_table(hosts: &[HostDump]) -> String {
    use crate::inert::{cell, field};
    let mut out = String::new();
    for host in hosts {
        let status = host.status.table_label();
        out.push_str(&format!(
            "Host {} ({}){}{}\n",
            field(&host.target),
            status,
            host.address
                .map(|a| format!(" via {a}"))
                .unwrap_or_default(),
            host.auth
                .as_ref()
                .map(|a| format!(
                    ", {} at {} as {}",
                    field(&a.mechanism).to_uppercase(),
                    a.level.name(),
                    field(&a.user)
                ))
                .unwrap_or_default()
        ));
        if let Some(e) = &host.error {
            out.push_str(&format!("  error: {}\n", field(e)));
        }
        for w in &host.warnings {
            out.push_str(&format!("  warning: {}\n", field(w)));
        }
        if let Some(tries) = &host.survey {
            out.push_str(&format!(
                "  auth survey: {}\n",
                crate::epm::survey::summary(tries)
            ));
        }
        if !host.endpoints.is_empty() {
            let mut t = crate::report::table::new_table();
            t.set_header(vec![
                "Interface",
                "Version",
                "Name",
                "Annotation",
                "Bindings",
            ]);
            for g in groups(&host.endpoints) {
                let Some(first) = g.first() else { continue };
                let mut iface = first.interface.to_string();
                if !first.object.is_nil() {
                    iface.push_str(&format!("\nobject {}", first.object));
                }
                // One binding per line: each cut and escaped on its own, joined by our own LF.
                let bindings: Vec<Cow<str>> = g.iter().map(|e| cell(&e.binding)).collect();
                t.add_row(vec![
                    iface,
                    cell(&first.version).into_owned(),
                    name_cell(first),
                    cell(&first.annotation).into_owned(),
                    bindings.join("\n"),
                ]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
        }
        let s = summarize(host);
        out.push_str(&format!(
            "{} entries, {} TCP-bound endpoints, {} distinct TCP ports{}\n\n",
            s.entries,
            s.tcp_endpoints,
            s.distinct_tcp_ports,
            if s.distinct_tcp_ports > 0 {
                format!(" ({})", port_list(&host.tcp_ports()))
            } else {
                String::new()
            }
        ));
    }
    out
}

/// The Name cell of an interface: the name from [`crate::epm::names`] when the UUID is known;
/// otherwise the endpoint mapper's annotation in double quotes, so that it cannot pass for a name
/// from the table (the annotation is whatever the server registered); empty when there is
/// neither. Both go through [`cell`](crate::inert::cell). The JSON keeps `name` null for an
/// unknown UUID; the quoted fallback is only for the table.
fn name_cell(e: &Endpoint) -> String {
    use crate::inert::cell;
    let name = match e.name.as_deref() {
        Some(name) => cell(name).into_owned(),
        None if !e.annotation.is_empty() => format!("\"{}\"", cell(&e.annotation)),
        None => String::new(),
    };
    match tag_list(&e.tags) {
        Some(tags) => format!("{name} [{tags}]"),
        None => name,
    }
}

/// "coercion, credentials": the catalogue's tags of an interface, for tables and pages; `None`
/// when it has none. The tags are our own words, not input.
pub fn tag_list(tags: &[crate::epm::catalogue::Tag]) -> Option<String> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// "135,5001-5003,49664" from a sorted list of ports.
pub fn port_list(ports: &[u16]) -> String {
    crate::ports::PortRanges::from_ranges(ports.iter().map(|&p| (p, p))).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::testing::{dump, tcp_endpoint};

    fn ep(port: u16, iface: u128) -> Endpoint {
        Endpoint {
            name: Some("MS-SAMR samr".into()),
            ..tcp_endpoint("127.0.0.1", port, iface)
        }
    }

    #[test]
    fn groups_bindings_under_their_interface_and_counts() {
        let host = dump("h", None, vec![ep(5001, 1), ep(5002, 2), ep(5003, 1)]);
        let text = render_table(std::slice::from_ref(&host));
        assert!(
            text.contains("3 entries, 3 TCP-bound endpoints, 3 distinct TCP ports (5001-5003)")
        );
        assert_eq!(groups(&host.endpoints).len(), 2);
        assert_eq!(text.matches("MS-SAMR samr").count(), 2);
    }

    #[test]
    fn the_host_line_says_how_the_lookup_authenticated() {
        let mut host = dump("h", Some("127.0.0.1:135".parse().unwrap()), vec![]);
        let anonymous = render_table(std::slice::from_ref(&host));
        assert!(
            anonymous.starts_with("Host h (ok) via 127.0.0.1:135\n"),
            "{anonymous}"
        );
        host.auth = Some(crate::epm::auth::AuthInfo {
            mechanism: "ntlm".into(),
            level: crate::epm::auth::Level::Privacy,
            user: "LAB\\audit".into(),
        });
        let signed = render_table(std::slice::from_ref(&host));
        assert!(
            signed.starts_with("Host h (ok) via 127.0.0.1:135, NTLM at privacy as LAB\\audit\n"),
            "{signed}"
        );
    }

    #[test]
    fn the_name_cell_carries_the_catalogue_tags() {
        use crate::epm::catalogue::Tag;
        let mut efs = ep(5001, 1);
        efs.name = Some("MS-EFSR efsrpc".into());
        efs.tags = vec![Tag::Coercion];
        assert_eq!(name_cell(&efs), "MS-EFSR efsrpc [coercion]");
        let mut drs = ep(5002, 2);
        drs.tags = vec![Tag::Credentials, Tag::DomainReplication];
        assert_eq!(
            name_cell(&drs),
            "MS-SAMR samr [credentials, domain-replication]"
        );
        assert_eq!(name_cell(&ep(5003, 3)), "MS-SAMR samr");
    }

    #[test]
    fn name_falls_back_to_the_quoted_annotation() {
        let mut known = ep(5001, 1);
        known.annotation = "Samr annotation".into();
        let mut unknown = ep(5002, 2);
        unknown.name = None;
        unknown.annotation = "Fw APIs".into();
        let mut bare = ep(5003, 3);
        bare.name = None;
        assert_eq!(name_cell(&known), "MS-SAMR samr");
        assert_eq!(name_cell(&unknown), "\"Fw APIs\"");
        assert_eq!(name_cell(&bare), "");
        // A hostile annotation in the fallback is escaped like any other cell.
        let mut hostile = ep(5004, 4);
        hostile.name = None;
        hostile.annotation = "MS-SAMR samr\n\x1b[2J".into();
        assert_eq!(name_cell(&hostile), "\"MS-SAMR samr\\x0a\\x1b[2J\"");
        let host = dump("h", None, vec![known, unknown, bare, hostile]);
        let text = render_table(std::slice::from_ref(&host));
        let row = |port: u16| {
            text.lines()
                .find(|l| l.contains(&format!("[{port}]")))
                .unwrap_or_else(|| panic!("no row for {port} in\n{text}"))
                .to_string()
        };
        assert!(!row(5001).contains('"'), "{}", row(5001));
        assert!(row(5002).contains("\"Fw APIs\""), "{}", row(5002));
        assert_eq!(row(5003).matches('"').count(), 0, "{}", row(5003));
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn huge_hostile_values_are_cut_and_escaped_in_the_table() {
        // A megabyte of hostile text in one annotation and one binding: the table shows 200
        // characters of each, escaped, and stays small (the whole values are in the JSON).
        let huge = "\x1b]0;pwned\x07\n".repeat(70_000);
        let mut e = ep(5001, 1);
        e.annotation = huge.clone();
        e.binding = huge.clone();
        let host = HostDump {
            error: Some(huge.clone()),
            ..dump("h", None, vec![e])
        };
        let text = render_table(std::slice::from_ref(&host));
        assert!(!text.contains('\x1b') && !text.contains('\x07'));
        assert!(text.contains("\\x1b]0;pwned\\x07\\x0a"));
        assert!(text.contains('…'));
        // The error line is escaped whole (one line), the cells are cut.
        assert!(text.len() < huge.len() * 2 + 4_000, "{}", text.len());
        let table_rows: Vec<&str> = text.lines().filter(|l| l.starts_with('│')).collect();
        assert_eq!(table_rows.len(), 2, "header and one row");
        assert!(table_rows.iter().all(|l| l.chars().count() < 600));
    }
}
