//! The HTML audit report (`audit --html`, `demo --html`, `report render`): one self-contained
//! page rendered from an [`AuditReport`], for people who read evidence in a browser or attach
//! it to a change ticket. It sits beside the table and the JSON at the end of the flow: a report
//! in, one `String` out, no I/O.
//!
//! Safety by construction: every string goes through maud's escaping (text and attribute
//! values alike); the only unescaped text is this module's own style sheet. Untrusted strings
//! first pass [`inert::field`], so control and bidi characters show as escapes here too. The page holds no
//! script at all, and its Content-Security-Policy forbids any, so even markup that escaped
//! escaping could not run or load anything. Collapsing host sections is `<details>`; the filter
//! by verdict is radio buttons and sibling selectors in CSS.
//!
//! Sections: the verdict and summary; per host the verification matrix as a heat map (sources
//! × ports, one cell per matrix row, `data-cell`), range use as a gauge and the endpoints;
//! findings by severity (`data-finding`, one per finding of the report) with their evidence;
//! the fix script; changes since the baseline. Everything is grouped in one pass over the
//! matrix (hash maps, then sorts), so 1,000 hosts cost 1,000 times one host.

use super::audit::AuditReport;
use super::changes::{Changes, verdict_runs};
use crate::audit::capacity::HostCapacity;
use crate::audit::verify::{MatrixRow, Verdict};
use crate::epm::HostStatus;
use crate::epm::survey::{SurveyMechanism, SurveyOutcome, SurveyTry};
use crate::finding::{Finding, Severity};
use crate::inert;
use crate::policy::SourceFile;
use crate::ports::PortRanges;
use crate::ports::Proto;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::collections::HashMap;
use std::net::IpAddr;

/// The page's Content-Security-Policy: nothing may load or run; inline styles and data: images
/// only.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Hosts up to this many are shown expanded; past it every host section starts collapsed.
pub const EXPANDED_HOSTS: usize = 12;

/// Evidence items shown per finding; the rest are counted (all are in the JSON report).
pub const EVIDENCE_SHOWN: usize = 50;

/// The verdicts, in the order the legend and the filter show them.
const VERDICTS: [Verdict; 5] = [
    Verdict::Leak,
    Verdict::Overblock,
    Verdict::Inconclusive,
    Verdict::PassAsExpected,
    Verdict::BlockAsExpected,
];

/// The host filter: (id suffix, label, tag a host section carries to stay visible).
const FILTERS: [(&str, &str); 6] = [
    ("leak", "with leaks"),
    ("overblock", "with overblocking"),
    ("inconclusive", "inconclusive"),
    ("incomplete", "not fully examined"),
    ("clean", "clean"),
    ("problem", "anything wrong"),
];

/// Render `report` as one self-contained HTML page.
pub fn render(report: &AuditReport) -> String {
    let sections = host_sections(report);
    let expanded = sections.len() <= EXPANDED_HOSTS;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "rpcaudit report — " (verdict_text(report)) }
                style { (PreEscaped(STYLE)) (PreEscaped(super::html_interfaces::STYLE)) }
            }
            body {
                // The filter's state: siblings of <main>, so CSS can hide host sections.
                input.f type="radio" name="filter" id="f-all" checked;
                @for (id, _) in FILTERS {
                    input.f type="radio" name="filter" id=(format!("f-{id}"));
                }
                main {
                    (summary(report))
                    (hosts(report, &sections, expanded))
                    (findings(&report.findings))
                    (remediation(report))
                    @if let Some(c) = &report.changes { (changes(c)) }
                    footer {
                        "Made by " (t(&report.tool.name)) " " (t(&report.tool.version)) " at "
                        (t(&report.generated_at)) "; report schema_version "
                        (report.schema_version) ". The JSON report holds everything shown here."
                    }
                }
            }
        }
    };
    page.into_string()
}

/// An untrusted string as the page shows it: control and bidirectional-text characters written
/// as visible escapes ([`inert::field`], as on a terminal, so a U+202E cannot reorder what is
/// read), then HTML-escaped by maud like every other value.
fn t(s: &str) -> std::borrow::Cow<'_, str> {
    inert::field(s)
}

/// The fix script as the page shows it: each line through [`t`], LF line ends.
fn script_text(script: &str) -> String {
    script
        .lines()
        .map(|l| t(l.trim_end_matches('\r')).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The headline: COMPLIANT, NOT COMPLIANT, INCOMPLETE or INTERRUPTED.
fn verdict_text(report: &AuditReport) -> &'static str {
    if report.summary.compliant {
        "COMPLIANT"
    } else if report.interrupted {
        "INTERRUPTED (partial report)"
    } else if !report.complete {
        "INCOMPLETE"
    } else {
        "NOT COMPLIANT"
    }
}

fn verdict_class(report: &AuditReport) -> &'static str {
    if report.summary.compliant {
        "ok"
    } else if !report.complete {
        "partial"
    } else {
        "bad"
    }
}

fn count_of(s: &crate::audit::verify::MatrixSummary, v: Verdict) -> usize {
    match v {
        Verdict::PassAsExpected => s.pass_as_expected,
        Verdict::BlockAsExpected => s.block_as_expected,
        Verdict::Leak => s.leak,
        Verdict::Overblock => s.overblock,
        Verdict::Inconclusive => s.inconclusive,
    }
}

fn summary(report: &AuditReport) -> Markup {
    let s = &report.summary;
    let i = &report.inputs;
    html! {
        header.verdict.(verdict_class(report)) {
            h1 { (verdict_text(report)) }
            p {
                (s.hosts) " host(s) · " (s.findings.error) " error(s) · "
                (s.findings.warning) " warning(s) · " (s.findings.info) " info · "
                (report.matrix.len()) " matrix cell(s)"
            }
            @if !s.incomplete_hosts.is_empty() {
                p { "Not fully examined: "
                    @for (n, h) in s.incomplete_hosts.iter().enumerate() {
                        @if n > 0 { ", " } code { (t(h)) }
                    }
                }
            }
        }
        section #summary {
            h2 { "Summary" }
            ul.legend {
                @for v in VERDICTS {
                    li { span.(format!("sw v-{v}")) {} (v) ": " b { (count_of(&s.verdicts, v)) } }
                }
                @if !i.store_files.is_empty() {
                    li { span.sw.nif {} "framed: observed contradicts the configured store: " b { (report.matrix.iter().filter(|r| not_in_force(r)).count()) } }
                }
            }
            dl.inputs {
                dt { "Range" } dd { code { (range_text(&i.range)) } " (" (i.range.size()) " ports), from " (t(&i.range_source)) }
                dt { "Default for uncovered ports" } dd { (i.default_action) }
                dt { "Endpoint mapper port" } dd { (i.epm_port) }
                @if !i.stand_ins.is_empty() {
                    dt { "Stand-ins (probed in place of the well-known ports)" } dd { (super::audit::stand_ins_text(&i.stand_ins)) }
                }
                dt { "Targets" } dd { (i.targets.len()) ": " (list_excerpt(&i.targets, 20)) }
                dt { "Vantage points" } dd {
                    @if i.vantage_points.is_empty() { "none" }
                    @for (n, v) in i.vantage_points.iter().enumerate() { @if n > 0 { ", " } code { (v) } }
                }
                dt { "Policy files" } dd {
                    @if i.policy_files.is_empty() { "none" }
                    (files_list(&i.policy_files))
                }
                @if !i.store_files.is_empty() {
                    dt { "Configured (--store)" } dd { (files_list(&i.store_files)) }
                }
                @if !i.observation_files.is_empty() {
                    dt { "Observation files" } dd { (list_excerpt(&i.observation_files, 20)) }
                }
                @if !i.rpc_filter_files.is_empty() {
                    dt { "RPC filters (--rpc-filter)" } dd {
                        ul {
                            @for f in &i.rpc_filter_files {
                                li { code { (t(&f.path)) } " (SHA-256 " code.hash { (t(&f.sha256)) } ")" }
                            }
                        }
                    }
                }
                @if !i.interface_observation_files.is_empty() {
                    dt { "Interface observation files" } dd { (list_excerpt(&i.interface_observation_files, 20)) }
                }
                dt { "Generated" } dd { (t(&report.generated_at)) }
            }
        }
    }
}

/// Files read, each with its encoding and SHA-256.
fn files_list(files: &[SourceFile]) -> Markup {
    html! {
        ul {
            @for f in files {
                li { code { (t(&f.path)) } " (" (t(&f.encoding)) ", SHA-256 " code.hash { (t(&f.sha256)) } ")" }
            }
        }
    }
}

fn range_text(r: &PortRanges) -> String {
    if r.is_empty() {
        "(none)".to_string()
    } else {
        r.to_string()
    }
}

/// The first `n` of `items` joined, and how many more.
fn list_excerpt(items: &[String], n: usize) -> Markup {
    html! {
        @for (k, item) in items.iter().take(n).enumerate() { @if k > 0 { ", " } code { (t(item)) } }
        @if items.len() > n { " … and " (items.len() - n) " more" }
    }
}

/// One host section: a dumped host (with its capacity) and the matrix rows of its address, or
/// matrix rows of an address no dumped host has (observations imported from elsewhere).
struct Section<'a> {
    /// The target as given, or the address.
    title: String,
    host: Option<(&'a super::audit::HostReport, Option<&'a HostCapacity>)>,
    rows: Vec<&'a MatrixRow>,
}

/// Every matrix row lands in exactly one section: the first host whose address it probed, or a
/// section of its own target address.
fn host_sections(report: &AuditReport) -> Vec<Section<'_>> {
    let mut order: Vec<IpAddr> = Vec::new();
    let mut by_target: HashMap<IpAddr, Vec<&MatrixRow>> = HashMap::new();
    for r in &report.matrix {
        by_target
            .entry(r.target)
            .or_insert_with(|| {
                order.push(r.target);
                Vec::new()
            })
            .push(r);
    }
    let mut sections = Vec::with_capacity(report.hosts.len());
    for (n, h) in report.hosts.iter().enumerate() {
        let ip = h
            .dump
            .address
            .map(|a| a.ip())
            .or_else(|| h.dump.target.parse().ok());
        let rows = ip.and_then(|ip| by_target.remove(&ip)).unwrap_or_default();
        sections.push(Section {
            title: h.dump.target.clone(),
            host: Some((h, report.capacity.get(n))),
            rows,
        });
    }
    for ip in order {
        if let Some(rows) = by_target.remove(&ip) {
            sections.push(Section {
                title: ip.to_string(),
                host: None,
                rows,
            });
        }
    }
    sections
}

/// The filter tags of a section: its verdicts, `incomplete`, `clean` or `problem`.
fn tags(s: &Section<'_>) -> Vec<&'static str> {
    let mut t = Vec::new();
    let has = |v: Verdict| s.rows.iter().any(|r| r.verdict == v);
    for (v, tag) in [
        (Verdict::Leak, "leak"),
        (Verdict::Overblock, "overblock"),
        (Verdict::Inconclusive, "inconclusive"),
    ] {
        if has(v) {
            t.push(tag);
        }
    }
    if s.host.is_some_and(|(h, _)| h.dump.status != HostStatus::Ok) {
        t.push("incomplete");
    }
    if t.is_empty() {
        t.push("clean");
    } else {
        t.push("problem");
    }
    t
}

fn hosts(report: &AuditReport, sections: &[Section<'_>], expanded: bool) -> Markup {
    let tagged: Vec<Vec<&'static str>> = sections.iter().map(tags).collect();
    let count = |tag: &str| tagged.iter().filter(|t| t.contains(&tag)).count();
    html! {
        section #hosts {
            h2 { "Hosts (" (sections.len()) ")" }
            @if sections.is_empty() {
                p.none { "No host was examined." }
            } @else {
                nav.filters aria-label="Filter hosts by verdict" {
                    "Show: "
                    label for="f-all" { "all (" (sections.len()) ")" }
                    @for (id, label) in FILTERS {
                        label for=(format!("f-{id}")) { (label) " (" (count(id)) ")" }
                    }
                }
                @for (s, t) in sections.iter().zip(&tagged) {
                    (host_section(report, s, &t.join(" "), expanded))
                }
            }
        }
    }
}

fn host_section(report: &AuditReport, s: &Section<'_>, tags: &str, expanded: bool) -> Markup {
    let status = s.host.map(|(h, _)| h.dump.status);
    let leaks = s.rows.iter().filter(|r| r.verdict == Verdict::Leak).count();
    let over = s
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Overblock)
        .count();
    html! {
        details.host data-tags=(tags) open[expanded] {
            summary {
                span.hname { (t(&s.title)) }
                @match status {
                    Some(HostStatus::Ok) => span.badge.ok { "dumped" },
                    Some(HostStatus::Partial) => span.badge.partial { "partial dump" },
                    Some(HostStatus::Error) => span.badge.bad { "not dumped" },
                    None => span.badge { "probed only" },
                }
                @if leaks > 0 { span.badge.bad { (leaks) " leak" } }
                @if over > 0 { span.badge.partial { (over) " overblock" } }
                span.cells { (s.rows.len()) " cells" }
            }
            @if let Some((h, cap)) = s.host {
                @if let Some(e) = &h.dump.error { p.error { (t(e)) } }
                @if !h.dump.warnings.is_empty() {
                    ul.warnings { @for w in &h.dump.warnings { li { (t(w)) } } }
                }
                @if let Some(c) = cap { (gauge(c, &report.inputs.range)) }
                @if let Some(tries) = &h.dump.survey { (survey(tries)) }
                @if !h.pipe_opens.is_empty() { (pipe_opens(&h.pipe_opens)) }
            }
            (heat_map(&s.rows))
            @if let Some(probes) = s.host.and_then(|(h, _)| h.interfaces.as_ref()) {
                (super::html_interfaces::view(probes, |src, port| blocked(&s.rows, src, port)))
            }
            @if let Some((h, _)) = s.host { (endpoints(h)) }
        }
    }
}

/// Whether the intended policy blocks `source` on TCP `port`, as the section's matrix rows
/// record it (a source not known is judged by nothing, as `audit::exposure` judges it).
fn blocked(rows: &[&MatrixRow], source: Option<IpAddr>, port: u16) -> bool {
    rows.iter().any(|r| {
        r.port == port
            && r.protocol == Proto::Tcp
            && Some(r.source) == source
            && r.expected == crate::policy::Action::Block
    })
}

/// `--auth-survey`: each way in that was tried, its level, what the endpoint mapper made of it
/// and why (the detail is text from the host or the KDC's refusal: through [`t`]).
fn survey(tries: &[SurveyTry]) -> Markup {
    html! {
        details.survey open {
            summary { "Authentication survey: " (t(&crate::epm::survey::summary(tries))) }
            table.list {
                thead { tr { th { "way in" } th { "level" } th { "outcome" } th { "detail" } } }
                tbody {
                    @for s in tries {
                        @let outcome = match s.outcome {
                            SurveyOutcome::Accepted => "accepted",
                            SurveyOutcome::Refused => "refused",
                            SurveyOutcome::Failed => "failed",
                            SurveyOutcome::NotTried => "not tried",
                        };
                        tr {
                            td { (match s.mechanism {
                                SurveyMechanism::Anonymous => "anonymous",
                                SurveyMechanism::Ntlm => "NTLM",
                                SurveyMechanism::Kerberos => "Kerberos",
                            }) }
                            td { (s.level.map(|l| l.to_string()).unwrap_or_default()) }
                            td { (outcome) }
                            td { (t(s.detail.as_deref().unwrap_or_default())) }
                        }
                    }
                }
            }
        }
    }
}

/// Which named pipes opened over SMB from each source, on the null session and with the run's
/// credentials (names and statuses from the host: through [`t`]).
fn pipe_opens(opens: &[crate::epm::pipe::PipeAccess]) -> Markup {
    html! {
        details.pipes open {
            summary { "Named pipes opened over SMB" }
            table.list {
                thead { tr { th { "source" } th { "port" } th { "session" } th { "opened" } th { "did not open" } th { "error" } } }
                tbody {
                    @for a in opens {
                        tr {
                            td { code { (a.source) } }
                            td { (a.port) }
                            td { (t(&a.logon())) }
                            td { (t(&a.opened.join(", "))) }
                            td { (t(&a.refused.iter().map(|(n, why)| format!("{n} ({why})")).collect::<Vec<_>>().join(", "))) }
                            td { (t(a.error.as_deref().unwrap_or_default())) }
                        }
                    }
                }
            }
        }
    }
}

/// Range use: in-range ports in use against the range size, free ports, and ports outside.
fn gauge(c: &HostCapacity, range: &PortRanges) -> Markup {
    let size = f64::from(c.range_size.max(1));
    let used = f64::from(c.in_range.min(c.range_size)) / size * 100.0;
    let free = c.range_size.saturating_sub(c.in_range);
    let level = match c.utilisation {
        Some(u) if u >= 1.0 => "bad",
        Some(u) if u >= crate::audit::capacity::NEAR_FULL => "partial",
        _ => "ok",
    };
    html! {
        div.gauge {
            h3 { "Range use" }
            @if c.status == HostStatus::Error {
                p { "Not counted: the endpoint mapper could not be dumped." }
            } @else {
                div.bar role="img" aria-label=(format!("{} of {} ports of the range in use", c.in_range, c.range_size)) {
                    span.(format!("used {level}")) style=(format!("width:{used:.1}%")) {}
                }
                p {
                    b { (c.in_range) } " of " (c.range_size) " ports of " code { (range_text(range)) } " in use"
                    @if let Some(u) = c.utilisation { " (" (format!("{:.0}", u * 100.0)) " %)" }
                    " · " b { (free) } " free · " b.(if c.out_of_range > 0 { "outside" } else { "" }) { (c.out_of_range) } " outside the range"
                    " · " (c.tcp_endpoints) " TCP endpoints"
                }
                @let outside: Vec<u16> = c.dynamic_ports.iter().filter(|p| !p.in_range).map(|p| p.port).collect();
                @if !outside.is_empty() {
                    p { "Outside the range: " code { (PortRanges::from_ranges(outside.iter().map(|p| (*p, *p)))) } }
                }
                @if let Some(r) = c.recommendation.as_ref().filter(|r| r.change) {
                    p.rec { "Recommended range: " code { (t(&r.range)) } " (" (r.size) " ports)" }
                }
            }
        }
    }
}

/// The `title` of one cell: where, expected (and the rule), observed, verdict, RTT.
fn cell_title(r: &MatrixRow) -> String {
    let rule = match &r.rule {
        Some(rule) => t(rule).into_owned(),
        None => format!("no rule (--default {})", r.expected),
    };
    let rtt = match r.rtt_ms {
        Some(ms) => format!("{ms:.2} ms"),
        None => "none".to_string(),
    };
    // A conditional decision is shown with its condition.
    let when = |c: Option<&String>| c.map_or_else(String::new, |c| format!(" if {}", t(c)));
    // With --store: what the store decides, and whether the observation contradicts it.
    let configured = match &r.configured {
        Some(c) => format!(
            "\nconfigured {}{} ({}){}",
            c.action,
            when(c.condition.as_ref()),
            c.rule
                .as_deref()
                .map_or_else(|| "no rule of the store".into(), t),
            if not_in_force(r) {
                ": not in force"
            } else {
                ""
            }
        ),
        None => String::new(),
    };
    format!(
        "{} → {}:{}{}\nexpected {}{} ({rule}){configured}\nobserved {}\nverdict {}\nRTT {rtt}",
        r.source,
        r.target,
        r.port,
        crate::audit::verify::udp_mark(r.protocol),
        r.expected,
        when(r.condition.as_ref()),
        r.observed,
        r.verdict
    )
}

/// The observation contradicts the configured store (`store-not-in-force`).
fn not_in_force(r: &MatrixRow) -> bool {
    matches!(
        crate::audit::verify::configured_verdict(r),
        Some(Verdict::Leak | Verdict::Overblock)
    )
}

/// A heat map column's label: the port, with "/udp" for a UDP one.
fn column_label((proto, port): (Proto, u16)) -> String {
    format!("{port}{}", crate::audit::verify::udp_mark(proto))
}

/// The heat map of one section: a row per source, a column per port probed (TCP ports, then
/// UDP ones), a cell per matrix row; below it each source's runs of equal verdicts as port
/// ranges.
fn heat_map(rows: &[&MatrixRow]) -> Markup {
    if rows.is_empty() {
        return html! { p.none { "No probe results for this host." } };
    }
    let mut ports: Vec<(Proto, u16)> = rows.iter().map(|r| (r.protocol, r.port)).collect();
    ports.sort_unstable();
    ports.dedup();
    let column: HashMap<(Proto, u16), usize> =
        ports.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let mut sources: Vec<IpAddr> = rows.iter().map(|r| r.source).collect();
    sources.sort_unstable();
    sources.dedup();
    // Per source, per column, the rows there (more than one only when observations repeat).
    let mut grid: HashMap<IpAddr, Vec<Vec<&MatrixRow>>> = HashMap::new();
    for r in rows {
        let line = grid
            .entry(r.source)
            .or_insert_with(|| vec![Vec::new(); ports.len()]);
        if let Some(slot) = column
            .get(&(r.protocol, r.port))
            .and_then(|c| line.get_mut(*c))
        {
            slot.push(*r);
        }
    }
    html! {
        div.heat {
            table.heat {
                thead {
                    tr {
                        th.src scope="col" { "source \\ port" }
                        @for p in &ports { th.port scope="col" { span { (column_label(*p)) } } }
                    }
                }
                tbody {
                    @for s in &sources {
                        tr {
                            th.src scope="row" { (s) }
                            @if let Some(line) = grid.get(s) {
                                @for (i, slot) in line.iter().enumerate() {
                                    @let prev = i.checked_sub(1).and_then(|j| line.get(j)).and_then(|l| l.first()).map(|r| r.verdict);
                                    @let start = slot.first().is_some_and(|r| Some(r.verdict) != prev);
                                    td.rs[start] {
                                        @for r in slot {
                                            span.(format!("c v-{}", r.verdict)).nif[not_in_force(r)] data-cell=(column_label((r.protocol, r.port))) data-verdict=(r.verdict) data-configured=[r.configured.as_ref().map(|c| c.action)] title=(cell_title(r)) {}
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            ul.runs {
                @for s in &sources {
                    @if let Some(line) = grid.get(s) {
                        li { code { (s) } ": " (runs_of(line)) }
                    }
                }
            }
        }
    }
}

/// One source's cells as runs of adjacent ports with the same verdict ("5001-5006
/// block-as-expected · 5007 leak").
fn runs_of(line: &[Vec<&MatrixRow>]) -> Markup {
    let mut runs: Vec<(u16, u16, Proto, Verdict)> = Vec::new();
    for r in line.iter().filter_map(|slot| slot.first()) {
        match runs.last_mut() {
            Some((_, last, p, v))
                if *v == r.verdict
                    && *p == r.protocol
                    && u32::from(*last) + 1 == u32::from(r.port) =>
            {
                *last = r.port;
            }
            _ => runs.push((r.port, r.port, r.protocol, r.verdict)),
        }
    }
    html! {
        @for (n, (a, b, p, v)) in runs.iter().enumerate() {
            @if n > 0 { " · " }
            span.(format!("run v-{v}")) {
                @if a == b { (a) } @else { (a) "–" (b) }
                (crate::audit::verify::udp_mark(*p))
                " " (v)
            }
        }
    }
}

fn endpoints(h: &super::audit::HostReport) -> Markup {
    let d = &h.dump;
    html! {
        details.endpoints {
            summary { "Endpoints (" (h.summary.entries) "; " (h.summary.tcp_endpoints) " on TCP, "
                (h.summary.distinct_tcp_ports) " distinct TCP ports)" }
            @if d.endpoints.is_empty() {
                p.none { "None." }
            } @else {
                table.list {
                    thead { tr { th { "interface" } th { "name" } th { "tags" } th { "annotation" } th { "binding" } } }
                    tbody {
                        @for e in &d.endpoints {
                            tr {
                                td { code { (e.interface) } " v" (t(&e.version)) }
                                td { (t(e.name.as_deref().unwrap_or_default())) }
                                td.tags { (crate::report::dump::tag_list(&e.tags).unwrap_or_default()) }
                                td.annotation { (t(&e.annotation)) }
                                td { code { (t(&e.binding)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn severity_heading(s: Severity) -> &'static str {
    match s {
        Severity::Error => "Errors",
        Severity::Warning => "Warnings",
        Severity::Info => "Information",
    }
}

fn findings(all: &[Finding]) -> Markup {
    html! {
        section #findings {
            h2 { "Findings (" (all.len()) ")" }
            @if all.is_empty() { p.none { "No findings." } }
            @for sev in [Severity::Error, Severity::Warning, Severity::Info] {
                @let group: Vec<(usize, &Finding)> = all.iter().enumerate().filter(|(_, f)| f.severity == sev).collect();
                @if !group.is_empty() {
                    h3 { (severity_heading(sev)) " (" (group.len()) ")" }
                    @for (n, f) in group { (finding(n, f)) }
                }
            }
        }
    }
}

fn place(f: &Finding) -> Option<String> {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => Some(format!("{file}:{line}")),
        (Some(file), None) => Some(file.clone()),
        _ => None,
    }
}

fn finding(n: usize, f: &Finding) -> Markup {
    html! {
        article.(format!("finding sev-{}", f.severity)) data-finding=(n) data-code=(t(f.code.as_str())) {
            h4 {
                span.(format!("badge sev-{}", f.severity)) { (f.severity) }
                " " code.code { (t(f.code.as_str())) }
                @if let Some(p) = place(f) { " " span.place { (t(&p)) } }
            }
            p.message { (t(&f.message)) }
            p.fix { b { "Fix: " } (t(&f.fix)) }
            @if !f.evidence.is_empty() {
                details.evidence {
                    summary { "Evidence (" (f.evidence.len()) ")" }
                    ul {
                        @for e in f.evidence.iter().take(EVIDENCE_SHOWN) { li { code { (t(e)) } } }
                        @if f.evidence.len() > EVIDENCE_SHOWN {
                            li { "… and " (f.evidence.len() - EVIDENCE_SHOWN) " more (all in the JSON report)" }
                        }
                    }
                }
            }
        }
    }
}

fn remediation(report: &AuditReport) -> Markup {
    html! {
        section #fix {
            h2 { "Fix script" }
            @match &report.remediation {
                None => p.none { "Nothing to fix." },
                Some(r) => {
                    p { "In " (r.dialect) "; review before running it. The exact script is in the JSON report." }
                    pre.script { code { (script_text(&r.script)) } }
                    @if !r.notes.is_empty() {
                        h3 { "Notes" }
                        ul { @for note in &r.notes { li { (t(note)) } } }
                    }
                }
            }
        }
    }
}

fn opt_verdict(v: Option<Verdict>) -> String {
    v.map_or_else(|| "(not probed)".to_string(), |v| v.to_string())
}

fn changes(c: &Changes) -> Markup {
    let runs = verdict_runs(&c.verdicts_changed);
    html! {
        section #changes {
            h2 { "Changes since the baseline" }
            p { "Compared with " code { (t(&c.baseline.path)) } ", made " (t(&c.baseline.generated_at))
                " by rpcaudit " (t(&c.baseline.tool_version))
                @if !c.baseline.complete { " (that run was incomplete)" } "." }
            @if c.is_empty() { p.none { "Nothing changed." } }
            @if !c.endpoints_appeared.is_empty() || !c.endpoints_disappeared.is_empty() {
                table.list {
                    thead { tr { th { "" } th { "target" } th { "interface" } th { "binding" } } }
                    tbody {
                        @for (sign, list) in [("appeared", &c.endpoints_appeared), ("disappeared", &c.endpoints_disappeared)] {
                            @for e in list {
                                tr.(sign) {
                                    td { (sign) }
                                    td { (t(&e.target)) }
                                    td { code { (e.interface) } " v" (t(&e.version)) " " (t(e.name.as_deref().unwrap_or_default())) }
                                    td { code { (t(&e.binding)) } }
                                }
                            }
                        }
                    }
                }
            }
            @if !runs.is_empty() {
                h3 { "Verdicts changed" }
                ul {
                    @for r in &runs {
                        li { code { (r.source) " → " (r.target) ":" (r.ports) } ": "
                            (opt_verdict(r.before)) " → " b { (opt_verdict(r.after)) } }
                    }
                }
            }
            @for (what, list) in [("New findings", &c.findings_new), ("Resolved findings", &c.findings_resolved)] {
                @if !list.is_empty() {
                    h3 { (what) " (" (list.len()) ")" }
                    ul {
                        @for f in list {
                            li.change { span.(format!("badge sev-{}", f.severity)) { (f.severity) } " "
                                code { (t(f.code.as_str())) } " " (t(&f.message)) }
                        }
                    }
                }
            }
            @if !c.hosts_not_compared.is_empty() {
                h3 { "Not compared" }
                ul { @for h in &c.hosts_not_compared { li { code { (t(&h.target)) } ": " (t(&h.reason)) } } }
            }
        }
    }
}

/// The page's style sheet: light and dark schemes, the verdict colours, the filter, print.
const STYLE: &str = r#"
:root{--bg:#fff;--fg:#1b1f24;--muted:#5b636e;--line:#d5dae0;--card:#f6f8fa;
--pass:#2da44e;--block:#8c959f;--leak:#cf222e;--over:#bf8700;--inc:#a371f7;--ok:#1a7f37;--bad:#cf222e;--partial:#9a6700}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--card:#161b22;
--pass:#3fb950;--block:#6e7681;--leak:#f85149;--over:#d29922;--inc:#bc8cff;--ok:#3fb950;--bad:#f85149;--partial:#d29922}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:1240px;margin:0 auto;padding:16px 20px 40px}
h1{margin:0;font-size:28px;letter-spacing:.02em}h2{margin:28px 0 8px;font-size:20px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{margin:16px 0 6px;font-size:15px}h4{margin:0 0 4px;font-size:14px;font-weight:600}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.verdict{border-radius:8px;padding:14px 18px;color:#fff}.verdict p{margin:4px 0 0}.verdict code{color:inherit}
.verdict.ok{background:var(--ok)}.verdict.bad{background:var(--bad)}.verdict.partial{background:var(--partial)}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;list-style:none;padding:0;margin:8px 0}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.inputs{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:8px 0}.inputs dt{color:var(--muted)}.inputs dd{margin:0}
.inputs ul{margin:0;padding-left:18px}.hash{font-size:11px;color:var(--muted)}
.v-pass-as-expected{background:var(--pass)}.v-block-as-expected{background:var(--block)}.v-leak{background:var(--leak)}
.v-overblock{background:var(--over)}.v-inconclusive{background:repeating-linear-gradient(45deg,var(--inc) 0 3px,transparent 3px 6px);outline:1px solid var(--inc);outline-offset:-1px}
.filters{margin:8px 0 12px;display:flex;flex-wrap:wrap;gap:6px;align-items:center;color:var(--muted)}
.filters label{border:1px solid var(--line);border-radius:14px;padding:2px 10px;cursor:pointer;color:var(--fg);background:var(--card)}
input.f{position:absolute;opacity:0;pointer-events:none}
#f-all:checked~main label[for=f-all],#f-leak:checked~main label[for=f-leak],#f-overblock:checked~main label[for=f-overblock],
#f-inconclusive:checked~main label[for=f-inconclusive],#f-incomplete:checked~main label[for=f-incomplete],
#f-clean:checked~main label[for=f-clean],#f-problem:checked~main label[for=f-problem]{background:var(--fg);color:var(--bg);border-color:var(--fg)}
#f-leak:checked~main .host:not([data-tags~=leak]),#f-overblock:checked~main .host:not([data-tags~=overblock]),
#f-inconclusive:checked~main .host:not([data-tags~=inconclusive]),#f-incomplete:checked~main .host:not([data-tags~=incomplete]),
#f-clean:checked~main .host:not([data-tags~=clean]),#f-problem:checked~main .host:not([data-tags~=problem]){display:none}
details.host{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:var(--card)}
details.host>summary{padding:8px 12px;cursor:pointer;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
details.host>:not(summary){margin-left:12px;margin-right:12px}
details.host>summary::before{content:"▸";color:var(--muted)}details.host[open]>summary::before{content:"▾"}
.hname{font-weight:600;overflow-wrap:anywhere}.cells{color:var(--muted);margin-left:auto}
.badge{border-radius:10px;padding:0 8px;font-size:12px;border:1px solid var(--line)}
.badge.ok{color:var(--ok);border-color:var(--ok)}.badge.bad,.badge.sev-error{color:var(--bad);border-color:var(--bad)}
.badge.partial,.badge.sev-warning{color:var(--partial);border-color:var(--partial)}.badge.sev-info{color:var(--muted)}
.error{color:var(--bad)}.none{color:var(--muted)}
.gauge .bar{height:14px;border-radius:7px;background:var(--line);overflow:hidden;max-width:560px}
.gauge .used{display:block;height:100%}.gauge .used.ok{background:var(--ok)}.gauge .used.partial{background:var(--partial)}.gauge .used.bad{background:var(--bad)}
.gauge p{margin:6px 0}b.outside{color:var(--bad)}
div.heat{overflow-x:auto;margin:10px 0}
table.heat{border-collapse:separate;border-spacing:2px 3px}
table.heat th.src{text-align:right;font:12px ui-monospace,monospace;padding-right:8px;white-space:nowrap;color:var(--muted)}
table.heat th.port{vertical-align:bottom;padding:0}
table.heat th.port span{writing-mode:vertical-rl;transform:rotate(180deg);font:10px ui-monospace,monospace;color:var(--muted)}
table.heat td{padding:0;width:16px;height:18px}
table.heat td.rs>.c:first-child{box-shadow:inset 3px 0 0 var(--bg)}
.c{display:block;width:16px;height:18px;border-radius:2px}.nif{outline:2px solid var(--fg);outline-offset:-2px}
ul.runs{list-style:none;padding:0;margin:4px 0 10px;font-size:12.5px}
.run{background:none!important;outline:none!important}.run.v-leak{color:var(--leak);font-weight:600}.run.v-overblock{color:var(--over);font-weight:600}
.run.v-inconclusive{color:var(--inc)}
details.endpoints{margin:6px 0 12px}details.endpoints>summary{cursor:pointer;color:var(--muted)}
table.list{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
table.list th,table.list td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
.annotation{white-space:pre-wrap}
.finding{border-left:4px solid var(--line);padding:6px 12px;margin:8px 0;background:var(--card);border-radius:0 6px 6px 0}
.finding.sev-error{border-left-color:var(--bad)}.finding.sev-warning{border-left-color:var(--partial)}
.finding p{margin:3px 0;white-space:pre-wrap;overflow-wrap:anywhere}.place{color:var(--muted);font-weight:400}
.evidence summary{cursor:pointer;color:var(--muted)}.evidence ul{margin:2px 0;padding-left:18px}
pre.script{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px;overflow-x:auto;white-space:pre}
tr.appeared td:first-child{color:var(--bad)}tr.disappeared td:first-child{color:var(--ok)}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{background:#fff;color:#000;font-size:11px}main{max-width:none;padding:0}
.filters,input.f{display:none}.host{display:block!important;break-inside:avoid-page}
details::details-content{content-visibility:visible;display:block}
details>summary{list-style:none}pre.script{white-space:pre-wrap}div.heat{overflow:visible}
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::run::{AuditResult, HostResult};
    use crate::audit::verify::{Expected, build_matrix};
    use crate::epm::testing::{self, tcp_endpoint};
    use crate::epm::{Endpoint, HostDump};
    use crate::finding::Code;
    use crate::policy::Action;
    use crate::probe::{Observation, ProbeState};
    use crate::report::audit::testing::context;

    const SCRIPT: &str = "<script>alert(1)</script>";
    const IMG: &str = "<img src=x onerror=alert(1)>";
    const QUOTE: &str = "x\" onmouseover=\"alert(1)";

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn dump(target: &str, annotation: &str) -> HostDump {
        let endpoint = Endpoint {
            annotation: annotation.into(),
            ..tcp_endpoint(target, 5001, 0)
        };
        testing::dump(
            target,
            Some(std::net::SocketAddr::new(ip(target), 135)),
            vec![endpoint],
        )
    }

    /// `hosts` hosts 10.0.x.y, each probed from two sources on 135 and 5001-5021 (5007
    /// leaks), with `rule` as the blocking rule's name and `annotation` on every endpoint.
    fn report(hosts: usize, rule: &str, annotation: &str) -> AuditReport {
        let rule = format!("policy.cmd:3 {rule}");
        let range = PortRanges::from_ranges([(5001, 5021)]);
        let hosts = (0..hosts)
            .map(|h| {
                let target = format!("10.{}.{}.{}", h / 65536, (h / 256) % 256, h % 256);
                let mut observations = Vec::new();
                for source in ["198.18.2.10", "198.18.3.10"] {
                    for port in std::iter::once(135).chain(5001..=5021) {
                        let state = if port == 5007 {
                            ProbeState::Closed
                        } else {
                            ProbeState::Filtered
                        };
                        observations.push(Observation {
                            rtt_ms: (port == 5007).then_some(0.25),
                            ..Observation::new(ip(source), ip(&target), port, state)
                        });
                    }
                }
                let matrix = build_matrix(&observations, Action::Pass, |_, _, _| {
                    Expected::new(Action::Block, Some(rule.clone()))
                });
                let findings = crate::audit::verify::matrix_findings(&matrix, &range, 135);
                let dump = dump(&target, annotation);
                HostResult {
                    pipes: Vec::new(),
                    interfaces: None,
                    capacity: crate::audit::capacity::assess(&dump, &range, &[]),
                    dump,
                    ip: Some(ip(&target)),
                    observations,
                    matrix,
                    findings,
                    incomplete: false,
                }
            })
            .collect();
        let shadowed = Finding::new(
            Code::AllowShadowed,
            Severity::Warning,
            format!("rule {rule} shadows"),
            "move it",
        )
        .at(format!("{IMG}.cmd"), 3)
        .with_evidence([SCRIPT.to_string()]);
        let result = AuditResult {
            run_findings: vec![shadowed],
            hosts,
            interrupted: false,
        };
        let range_source = format!("{SCRIPT}:1");
        let ctx = context("10.0.0.0/16", &range_source, "2026-12-02T00:00:00Z");
        AuditReport::new(ctx, result)
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        for hostile in [SCRIPT, IMG, QUOTE] {
            let r = report(2, hostile, hostile);
            let page = render(&r);
            assert!(!page.contains("<script"), "a script element in the page");
            assert!(!page.contains("<img"), "an img element in the page");
            assert!(!page.contains("\" onmouseover"), "an attribute was forged");
            assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
            assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        }
        // Control and bidi characters are shown as escapes, as on a terminal.
        let page = render(&report(1, "RPC \u{202e}exe.txt\x1b[2J", "a\u{202e}b\rc"));
        assert!(!page.contains(['\u{202e}', '\x1b', '\r']));
        assert!(page.contains("RPC \\u{202e}exe.txt\\x1b[2J"), "{page}");
        assert!(page.contains("a\\u{202e}b\\x0dc"), "{page}");
        let page = render(&report(1, QUOTE, QUOTE));
        assert!(
            page.contains("x&quot; onmouseover=&quot;alert(1)"),
            "{page}"
        );
        // Nothing can load or run: the policy is in the page, and no script element exists.
        assert!(page.contains(&format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        )));
        assert!(!page.contains("<script") && !page.contains("javascript:"));
        assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    }

    #[test]
    fn the_survey_shows_each_try_with_its_detail_escaped() {
        use crate::epm::auth::Level;
        let mut r = report(1, "Block RPC", "");
        let try_ = |mechanism, level, outcome, detail: Option<&str>| SurveyTry {
            mechanism,
            level,
            outcome,
            detail: detail.map(str::to_string),
        };
        r.hosts[0].dump.survey = Some(vec![
            try_(
                SurveyMechanism::Anonymous,
                None,
                SurveyOutcome::Accepted,
                None,
            ),
            try_(
                SurveyMechanism::Ntlm,
                Some(Level::Integrity),
                SurveyOutcome::Refused,
                Some(SCRIPT),
            ),
            try_(
                SurveyMechanism::Kerberos,
                Some(Level::Privacy),
                SurveyOutcome::NotTried,
                Some("no KDC (--realm, --kdc)"),
            ),
        ]);
        let page = render(&r);
        assert!(
            page.contains(
                "Authentication survey: anonymous accepted; NTLM refused; Kerberos not tried"
            ),
            "{page}"
        );
        assert!(
            page.contains("<td>integrity</td><td>refused</td>"),
            "{page}"
        );
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script"));
        // Without --auth-survey there is no survey section.
        assert!(!render(&report(1, "Block RPC", "")).contains("Authentication survey"));
    }

    #[test]
    fn a_store_shows_in_each_cell_and_frames_the_contradictions() {
        let mut r = report(1, "Block RPC", "");
        // The store passes 5007 (observed closed: agrees) and blocks the rest (filtered).
        crate::audit::verify::add_configured(&mut r.matrix, |_, p, _| {
            let action = if p == 5007 {
                Action::Pass
            } else {
                Action::Block
            };
            Expected::new(action, Some(format!("fw.reg:9 {SCRIPT}")))
        });
        r.matrix[0].observed = ProbeState::Open;
        r.inputs.store_files = vec![SourceFile {
            path: format!("{IMG}.reg"),
            sha256: "00".repeat(32),
            encoding: "utf-16le".into(),
            dialects: vec![],
        }];
        let page = render(&r);
        assert!(!page.contains("<script") && !page.contains("<img"));
        assert_eq!(
            page.matches(" data-configured=\"block\"").count(),
            r.matrix.len() - 2
        );
        assert_eq!(page.matches(" data-configured=\"pass\"").count(), 2);
        // Only the row the store blocks that was seen open is framed.
        assert_eq!(page.matches("c v-").count(), r.matrix.len());
        assert_eq!(page.matches(" nif\" data-cell=").count(), 1, "{page}");
        assert!(page.contains("framed: observed contradicts the configured store: <b>1</b>"));
        assert!(
            page.contains(
                "configured block (fw.reg:9 &lt;script&gt;alert(1)&lt;/script&gt;): not in force"
            ),
            "{page}"
        );
        assert!(page.contains("Configured (--store)"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.reg"));
        // Without a store: no configured attribute, no frame, no store line.
        let page = render(&report(1, "Block RPC", ""));
        assert!(!page.contains("data-configured") && !page.contains(" nif\""));
        assert!(!page.contains("Configured (--store)"));
    }

    #[test]
    fn one_cell_per_matrix_row_and_one_article_per_finding() {
        let r = report(3, "Block RPC", "");
        let page = render(&r);
        assert_eq!(page.matches(" data-cell=\"").count(), r.matrix.len());
        assert_eq!(r.matrix.len(), 3 * 2 * 22);
        assert_eq!(page.matches(" data-finding=\"").count(), r.findings.len());
        assert_eq!(
            page.matches(" data-verdict=\"leak\"").count(),
            r.summary.verdicts.leak
        );
        assert_eq!(page.matches("<details class=\"host\"").count(), 3);
        assert_eq!(
            page.matches("\" open>").count(),
            3,
            "a few hosts are shown open"
        );
        // Each host carries the tags the CSS filter selects on.
        assert_eq!(
            page.matches("<details class=\"host\" data-tags=\"leak problem\" open>")
                .count(),
            3
        );
        assert!(STYLE.contains("#f-leak:checked~main .host:not([data-tags~=leak])"));
        // The leak's cell says where, what was expected by which rule, what was seen, the RTT.
        assert!(page.contains(
            "title=\"198.18.2.10 → 10.0.0.0:5007\nexpected block (policy.cmd:3 Block RPC)\nobserved closed\nverdict leak\nRTT 0.25 ms\""
        ), "{page}");
        // Runs are named: 135, 5001-5006, 5007 leak, 5008-5021.
        assert!(page.contains("5001–5006 block-as-expected"), "{page}");
        assert!(page.contains("5007 leak"));
    }

    #[test]
    fn a_row_of_an_address_no_host_has_gets_a_section_of_its_own() {
        let mut r = report(1, "Block", "");
        let mut extra = r.matrix[0].clone();
        extra.target = ip("192.0.2.7");
        r.matrix.push(extra);
        let page = render(&r);
        assert_eq!(page.matches(" data-cell=\"").count(), r.matrix.len());
        assert!(page.contains("probed only"));
    }

    #[test]
    fn an_empty_report_renders() {
        let r = report(0, "", "");
        assert!(r.matrix.is_empty() && r.hosts.is_empty());
        let mut r = r;
        r.findings.clear();
        let page = render(&r);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("No host was examined."));
        assert!(page.contains("No findings."));
        assert!(page.contains("Nothing to fix."));
        assert_eq!(page.matches(" data-cell=\"").count(), 0);
        assert_eq!(page.matches(" data-finding=\"").count(), 0);
    }

    #[test]
    fn a_thousand_hosts_render_in_linear_size_and_collapsed() {
        let small = render(&report(100, "Block RPC", "annotation"));
        let started = std::time::Instant::now();
        let big_report = report(1000, "Block RPC", "annotation");
        let big = render(&big_report);
        let took = started.elapsed();
        assert_eq!(big.matches(" data-cell=\"").count(), 1000 * 44);
        // Ten times the hosts, about ten times the bytes (no quadratic term), and bounded per
        // cell.
        assert!(
            big.len() < small.len() * 11,
            "{} vs {}",
            big.len(),
            small.len()
        );
        assert!(
            big.len() < 400 * big_report.matrix.len() + 4096 * 1000,
            "{} bytes",
            big.len()
        );
        // Collapsed: no host section is open past EXPANDED_HOSTS.
        assert_eq!(
            big.matches("<details class=\"host\" data-tags=").count(),
            1000
        );
        assert_eq!(big.matches("\" open>").count(), 0);
        assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    }
}
