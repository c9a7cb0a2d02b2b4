//! The baseline comparison of `audit --json-lines --baseline`: this run's hosts stream past
//! one at a time, so each is compared with the baseline as it comes ([`LinesDiff::host`], the
//! `changes` of its line), and what is left of the baseline once the run ends — targets no host
//! matched, cells of addresses not probed, findings no longer seen — is compared at the end
//! ([`LinesDiff::finish`], the `changes` of the summary line). The identities and rules are
//! [`super::diff`]'s, so the two forms of the report say the same. Memory: an index of the
//! baseline (a file of at most [`super::diff::MAX_BASELINE_BYTES`]) and one flag per baseline
//! target, address and finding, never anything of this run's hosts once they are written.

use super::audit::AuditReport;
use super::changes::{Changes, HostChanges};
use super::diff::{FindingKey, baseline_info, compare_host, finding_key, verdict_changes};
use crate::audit::verify::MatrixRow;
use crate::epm::HostDump;
use crate::finding::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The baseline, indexed for comparing hosts one at a time.
#[derive(Debug)]
pub struct LinesDiff<'a> {
    old: &'a AuditReport,
    path: String,
    /// Each baseline target's first dump, and whether a host of this run matched it.
    hosts: BTreeMap<&'a str, (&'a HostDump, bool)>,
    /// The baseline's matrix rows by target address.
    rows: BTreeMap<IpAddr, Vec<&'a MatrixRow>>,
    /// Addresses whose rows a host of this run was compared with.
    rows_compared: BTreeSet<IpAddr>,
    /// Each baseline finding's identity, and its place in `seen`.
    findings: BTreeMap<FindingKey<'a>, usize>,
    /// Whether this run has the finding too.
    seen: Vec<bool>,
}

impl<'a> LinesDiff<'a> {
    /// Index `old`, the baseline read from `path`.
    pub fn new(old: &'a AuditReport, path: &str) -> LinesDiff<'a> {
        let mut hosts = BTreeMap::new();
        for h in &old.hosts {
            hosts
                .entry(h.dump.target.as_str())
                .or_insert((&h.dump, false));
        }
        let mut rows: BTreeMap<IpAddr, Vec<&MatrixRow>> = BTreeMap::new();
        for r in &old.matrix {
            rows.entry(r.target).or_default().push(r);
        }
        LinesDiff {
            old,
            path: path.to_string(),
            hosts,
            rows,
            rows_compared: BTreeSet::new(),
            findings: old
                .findings
                .iter()
                .enumerate()
                .map(|(k, f)| (finding_key(f), k))
                .collect(),
            seen: vec![false; old.findings.len()],
        }
    }

    /// What changed on one host of this run: its dump, the address it was probed at, its
    /// matrix rows and findings.
    pub fn host(
        &mut self,
        dump: &HostDump,
        ip: Option<IpAddr>,
        matrix: &[MatrixRow],
        findings: &[Finding],
    ) -> HostChanges {
        let before = match self.hosts.get_mut(dump.target.as_str()) {
            Some((before, matched)) => {
                *matched = true;
                Some(*before)
            }
            None => None,
        };
        let (endpoints, not_compared) = match compare_host(&dump.target, before, Some(dump)) {
            Ok(changes) => (changes, None),
            Err(skipped) => ((Vec::new(), Vec::new()), Some(skipped.reason)),
        };
        // The host's cells against the baseline's cells of the same address (an address probed
        // twice in one run is compared once, with the first host that has it).
        let old_rows: &[&MatrixRow] = match ip {
            Some(ip) if self.rows_compared.insert(ip) => {
                self.rows.get(&ip).map_or(&[], Vec::as_slice)
            }
            _ => &[],
        };
        let verdicts_changed = verdict_changes(old_rows.iter().copied(), matrix);
        HostChanges {
            endpoints_appeared: endpoints.0,
            endpoints_disappeared: endpoints.1,
            not_compared,
            verdicts_changed,
            findings_new: self.new_findings(findings),
        }
    }

    /// The run's own findings that the baseline does not have (each once), marking those it
    /// has as seen.
    fn new_findings(&mut self, findings: &[Finding]) -> Vec<Finding> {
        let mut fresh = BTreeSet::new();
        findings
            .iter()
            .filter(|f| {
                let key = finding_key(f);
                // A shared map is covariant: looked up with this call's shorter lifetime.
                let index: &BTreeMap<FindingKey<'_>, usize> = &self.findings;
                match index.get(&key) {
                    Some(&k) => {
                        if let Some(seen) = self.seen.get_mut(k) {
                            *seen = true;
                        }
                        false
                    }
                    None => fresh.insert(key),
                }
            })
            .cloned()
            .collect()
    }

    /// What is left once every host is in: `run_findings` (the policy's own) compared, the
    /// baseline's targets no host matched, the cells of addresses this run did not probe, and
    /// the baseline findings this run no longer has.
    pub fn finish(mut self, run_findings: &[Finding]) -> Changes {
        let findings_new = self.new_findings(run_findings);
        let hosts_not_compared = self
            .hosts
            .iter()
            .filter(|(_, (_, matched))| !matched)
            .filter_map(|(target, (before, _))| compare_host(target, Some(before), None).err())
            .collect();
        let left: Vec<&MatrixRow> = self
            .rows
            .iter()
            .filter(|(ip, _)| !self.rows_compared.contains(ip))
            .flat_map(|(_, rows)| rows.iter().copied())
            .collect();
        let mut resolved = BTreeSet::new();
        let findings_resolved = self
            .old
            .findings
            .iter()
            .filter(|f| {
                let key = finding_key(f);
                let seen = self
                    .findings
                    .get(&key)
                    .and_then(|&k| self.seen.get(k).copied())
                    .unwrap_or(false);
                !seen && resolved.insert(key)
            })
            .cloned()
            .collect();
        Changes {
            baseline: baseline_info(self.old, &self.path),
            endpoints_appeared: Vec::new(),
            endpoints_disappeared: Vec::new(),
            hosts_not_compared,
            verdicts_changed: verdict_changes(left, []),
            findings_new,
            findings_resolved,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::diff::diff;
    use super::super::diff::tests::{LSA, SAMR, T, ep, finding, host, report, row};
    use super::*;

    /// Every change of the document's diff, and nothing else, once the hosts' changes and the
    /// summary's are put together.
    #[test]
    fn host_by_host_says_what_the_document_diff_says() {
        let old = report(
            vec![
                host(T, "ok", vec![ep(135, LSA), ep(5001, SAMR), ep(5002, LSA)]),
                host("198.18.0.11", "ok", vec![ep(5001, SAMR)]),
                host("198.18.0.13", "partial", vec![ep(5001, SAMR)]),
            ],
            vec![
                row(135, "block", "filtered", "block-as-expected"),
                row(5001, "block", "filtered", "block-as-expected"),
                row(5002, "block", "filtered", "block-as-expected"),
            ],
            vec![
                finding("leak", "gone by now"),
                finding("hang-hazard", "still here"),
                finding("hang-hazard", "still here"),
            ],
        );
        // Written out whole rather than built from `old`: each host, row and finding of `new`
        // stands under its counterpart above, so the changes can be read off line by line.
        let new = report(
            vec![
                host(T, "ok", vec![ep(135, LSA), ep(5003, SAMR), ep(5002, LSA)]),
                host("198.18.0.12", "ok", vec![ep(5001, SAMR)]),
                host("198.18.0.13", "ok", vec![ep(5001, SAMR)]),
            ],
            vec![
                row(135, "block", "filtered", "block-as-expected"),
                row(5001, "block", "open", "leak"),
                row(5003, "pass", "closed", "pass-as-expected"),
            ],
            vec![
                finding("hang-hazard", "still here"),
                finding("leak", "new one"),
            ],
        );
        let whole = diff(&old, &new, "old.json");

        let mut lines = LinesDiff::new(&old, "old.json");
        let ip: IpAddr = T.parse().unwrap();
        let mut per_host = Vec::new();
        for h in &new.hosts {
            // The matrix rows are all about T; the findings are the run's, given at the end.
            let (ip, rows) = if h.dump.target == T {
                (Some(ip), new.matrix.as_slice())
            } else {
                (None, &[][..])
            };
            per_host.push((h.dump.target.clone(), lines.host(&h.dump, ip, rows, &[])));
        }
        let mut streamed = lines.finish(&new.findings);
        assert!(streamed.endpoints_appeared.is_empty(), "all on host lines");
        streamed.absorb(per_host);

        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let eps = |v: &[super::super::changes::EndpointChange]| {
            sorted(
                v.iter()
                    .map(|e| format!("{} {}", e.target, e.binding))
                    .collect(),
            )
        };
        assert_eq!(
            eps(&streamed.endpoints_appeared),
            eps(&whole.endpoints_appeared)
        );
        assert_eq!(
            eps(&streamed.endpoints_disappeared),
            eps(&whole.endpoints_disappeared)
        );
        assert_eq!(eps(&whole.endpoints_appeared).len(), 1);
        let skipped = |c: &Changes| {
            sorted(
                c.hosts_not_compared
                    .iter()
                    .map(|h| format!("{}: {}", h.target, h.reason))
                    .collect(),
            )
        };
        assert_eq!(skipped(&streamed), skipped(&whole));
        assert_eq!(skipped(&whole).len(), 3, "{:?}", skipped(&whole));
        assert_eq!(streamed.verdicts_changed, whole.verdicts_changed);
        assert_eq!(whole.verdicts_changed.len(), 3);
        assert_eq!(streamed.findings_new, whole.findings_new);
        assert_eq!(streamed.findings_resolved, whole.findings_resolved);
        assert_eq!(whole.findings_new.len(), 1);
        assert_eq!(whole.findings_resolved.len(), 1);
        assert_eq!(streamed.baseline, whole.baseline);
    }

    #[test]
    fn cells_of_addresses_this_run_did_not_probe_changed_to_nothing() {
        let old = report(
            vec![host(T, "ok", vec![])],
            vec![row(135, "block", "filtered", "block-as-expected")],
            vec![],
        );
        let new = report(vec![host(T, "error", vec![])], vec![], vec![]);
        let mut lines = LinesDiff::new(&old, "old.json");
        // The host was not probed (its address unknown): its old cells are left to the end.
        let on_line = lines.host(&new.hosts[0].dump, None, &[], &[]);
        assert_eq!(
            on_line.not_compared.as_deref(),
            Some("dump failed in this run")
        );
        assert!(on_line.verdicts_changed.is_empty());
        let rest = lines.finish(&[]);
        assert_eq!(rest.verdicts_changed.len(), 1);
        assert_eq!(rest.verdicts_changed[0].after, None);
        assert!(
            rest.hosts_not_compared.is_empty(),
            "the host was in this run"
        );
    }
}
