//! The HTML report's interface × source view (`audit --interfaces --html`): per host, a table
//! whose rows are the interfaces probed (name, version, tags, road) and whose columns are the
//! sources the probes left from; each cell holds the anonymous and the authenticated verdict.
//! A cell is marked `exposed` when it is what `audit::exposure` makes an `interface-exposed`
//! finding of: a coercion or credentials interface callable anonymously, or callable at all
//! from a source the intended policy blocks on that port (the matrix's expected `block`).
//! Pure: probes in, markup out; every string from the network passes [`inert::field`] and
//! maud's escaping, as in the rest of `report::html`, which calls [`view`].

use crate::epm::reach::{InterfaceProbes, InterfaceReach, Probe, Verdict};
use crate::inert;
use maud::{Markup, html};
use std::net::IpAddr;

/// How a source is named in a column head: the address, or the kernel's choice.
fn source_label(s: Option<IpAddr>) -> String {
    s.map_or_else(|| "kernel's choice".into(), |a| a.to_string())
}

/// One verdict as a cell line: its word, with the evidence as the title.
fn verdict(label: &str, p: &Probe) -> Markup {
    html! {
        span.(format!("iv iv-{}", p.verdict.as_str())) title=(inert::field(&p.evidence)) {
            (label) " " (p.verdict.as_str())
        }
    }
}

/// A row of the table: one interface on one road (UUID, version, road).
type RowKey<'a> = (&'a uuid::Uuid, &'a str, &'a str);

fn row_key(i: &InterfaceReach) -> RowKey<'_> {
    (&i.interface, i.version.as_str(), i.road.as_str())
}

/// Whether `i` is an `interface-exposed` cell (the rule of `audit::exposure`), `blocked`
/// saying whether the intended policy blocks its source on its port.
fn exposed(i: &InterfaceReach, blocked: bool) -> bool {
    i.tags.iter().any(|t| t.is_severe())
        && (i.anonymous.verdict == Verdict::Callable || (blocked && i.callable()))
}

/// The view of one host's probes; `blocked(source, port)` says whether the intended policy
/// blocks that source on that TCP port.
pub fn view(probes: &InterfaceProbes, blocked: impl Fn(Option<IpAddr>, u16) -> bool) -> Markup {
    let mut sources: Vec<Option<IpAddr>> = Vec::new();
    let mut rows: Vec<(RowKey<'_>, &InterfaceReach)> = Vec::new();
    for i in &probes.interfaces {
        if !sources.contains(&i.source) {
            sources.push(i.source);
        }
        if !rows.iter().any(|(k, _)| *k == row_key(i)) {
            rows.push((row_key(i), i));
        }
    }
    let exposures = probes
        .interfaces
        .iter()
        .filter(|i| exposed(i, blocked(i.source, i.port)))
        .count();
    html! {
        details.interfaces open {
            summary {
                "Interfaces (" (rows.len()) " probed from " (sources.len()) " source"
                @if sources.len() != 1 { "s" }
                @if probes.skipped > 0 { "; " (probes.skipped) " not probed" }
                ")"
                @if exposures > 0 { " " span.badge.bad { (exposures) " exposed" } }
            }
            @if let Some(e) = &probes.error { p.error { (inert::field(e)) } }
            @if rows.is_empty() {
                p.none { "No interface was probed." }
            } @else {
                table.list.iface {
                    thead {
                        tr {
                            th { "interface" } th { "name" } th { "tags" } th { "road" }
                            @for s in &sources { th.src { (source_label(*s)) } }
                        }
                    }
                    tbody {
                        @for (key, first) in &rows {
                            tr {
                                td { code { (key.0) } " v" (inert::field(key.1)) }
                                td { (inert::field(first.name.as_deref().unwrap_or_default())) }
                                td.tags { (crate::report::dump::tag_list(&first.tags).unwrap_or_default()) }
                                td {
                                    code { (inert::field(key.2)) }
                                    @if first.unregistered { " (unregistered)" }
                                }
                                @for s in &sources {
                                    @let cell = probes.interfaces.iter()
                                        .find(|i| row_key(i) == *key && i.source == *s);
                                    @match cell {
                                        Some(i) => {
                                            @let bad = exposed(i, blocked(i.source, i.port));
                                            td.(if bad { "ic exposed" } else { "ic" })
                                                data-iface-cell=(if bad { "exposed" } else { i.anonymous.verdict.as_str() }) {
                                                (verdict("anonymous", &i.anonymous))
                                                @if let Some(a) = &i.authenticated {
                                                    br; (verdict("authenticated", a))
                                                }
                                                @if bad { br; b.exposed { "exposed" } }
                                            }
                                        },
                                        None => td.ic { "-" },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The view's rules for the page's style sheet.
pub const STYLE: &str = "
table.iface td.ic{white-space:nowrap}table.iface td.exposed{background:color-mix(in srgb,var(--bad) 18%,transparent)}
.iv{display:inline-block;font-size:12px}.iv-callable{color:var(--leak);font-weight:600}.iv-refused{color:var(--ok)}
.iv-not-offered,.iv-unreachable{color:var(--muted)}.iv-undetermined{color:var(--inc)}b.exposed{color:var(--bad)}
details.interfaces{margin:6px 0 12px}details.interfaces>summary{cursor:pointer;color:var(--muted)}
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::HostStatus;
    use crate::epm::catalogue::Tag;

    fn reach(source: &str, anonymous: Verdict, tags: Vec<Tag>, name: &str) -> InterfaceReach {
        InterfaceReach {
            interface: uuid::Uuid::from_u128(9),
            version: "1.0".into(),
            name: Some(name.into()),
            tags,
            road: "ncacn_ip_tcp:198.18.0.10[49667]".into(),
            port: 49667,
            anonymous: Probe {
                verdict: anonymous,
                evidence: "fault <x>".into(),
            },
            authenticated: Some(Probe {
                verdict: Verdict::Callable,
                evidence: "fault 0x1c010002 (nca_s_op_rng_error)".into(),
            }),
            source: Some(source.parse().unwrap()),
            unregistered: false,
        }
    }

    #[test]
    fn a_row_per_interface_a_column_per_source_and_exposure_marked() {
        let hostile = "<script>alert(1)</script>\u{202e}";
        let probes = InterfaceProbes {
            status: HostStatus::Ok,
            error: None,
            interfaces: vec![
                reach(
                    "198.18.1.10",
                    Verdict::Refused,
                    vec![Tag::Coercion],
                    hostile,
                ),
                reach(
                    "198.18.2.10",
                    Verdict::Refused,
                    vec![Tag::Coercion],
                    hostile,
                ),
            ],
            skipped: 0,
            inquiries: Vec::new(),
        };
        let blocked = |s: Option<IpAddr>, _| s == Some("198.18.2.10".parse().unwrap());
        let html = view(&probes, blocked).into_string();
        assert_eq!(html.matches("<tr>").count(), 2, "{html}");
        assert!(
            html.contains("<th class=\"src\">198.18.1.10</th>"),
            "{html}"
        );
        assert!(
            html.contains("<th class=\"src\">198.18.2.10</th>"),
            "{html}"
        );
        // Refused anonymously from both; the authenticated call gets through from the source
        // the policy blocks: that cell alone is exposed.
        assert_eq!(html.matches("data-iface-cell=\"exposed\"").count(), 1);
        assert_eq!(html.matches("data-iface-cell=\"refused\"").count(), 1);
        assert!(html.contains("1 exposed"));
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains('\u{202e}'), "{html}");
        // Without a block the same probes expose nothing.
        let none = view(&probes, |_, _| false).into_string();
        assert!(!none.contains("exposed\""), "{none}");
        // Callable anonymously is exposed whatever the policy says.
        let anon = InterfaceProbes {
            interfaces: vec![reach(
                "198.18.1.10",
                Verdict::Callable,
                vec![Tag::Credentials],
                "MS-NRPC netlogon",
            )],
            ..probes
        };
        assert!(
            view(&anon, |_, _| false)
                .into_string()
                .contains("data-iface-cell=\"exposed\"")
        );
    }
}
