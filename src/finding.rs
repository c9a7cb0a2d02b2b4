//! Findings: the common currency of policy lints, capacity checks and verification verdicts.
//! Every producer (policy, audit) emits these; report renders them and cli maps their worst
//! severity to the exit code.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding. `code` is a stable kebab-case string listed in the README.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    /// The file the finding is about, if it comes from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
    /// A concrete fix, in words or as a command.
    pub fix: String,
    /// What was seen that supports the finding: matrix cells, endpoint bindings, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Finding {
    pub fn new(
        code: &str,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            code: code.to_string(),
            severity,
            file: None,
            line: None,
            message: message.into(),
            fix: fix.into(),
            evidence: Vec::new(),
        }
    }

    /// Attach the observations the finding rests on.
    pub fn with_evidence(mut self, evidence: impl IntoIterator<Item = String>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    /// Attach the file the finding is about, with no line.
    pub fn at_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self.line = None;
        self
    }

    /// Attach the file and 1-based line the finding points at.
    pub fn at(mut self, file: impl Into<String>, line: usize) -> Self {
        self.file = Some(file.into());
        self.line = Some(line);
        self
    }
}

/// The worst severity among `findings`, if any.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

/// Most findings of one code (per file) a report lists; the rest are counted in one closing
/// finding, so a hostile file of a million bad lines costs a hundred findings, not a million.
pub const MAX_FINDINGS_PER_CODE: usize = 100;

/// The closing finding that counts the `n` findings of `code` left out past the cap.
pub fn left_out(code: &str, severity: Severity, n: usize) -> Finding {
    Finding::new(
        code,
        severity,
        format!("{n} more {code} findings are not listed (the first {MAX_FINDINGS_PER_CODE} are)"),
        "fix the ones listed and run again",
    )
}

/// `findings` with at most [`MAX_FINDINGS_PER_CODE`] per (file, code, severity), the rest
/// counted in a closing finding of each, in the order the findings came.
pub fn cap_per_code(findings: Vec<Finding>) -> Vec<Finding> {
    use std::collections::HashMap;
    /// What a cap counts by: file, code, severity.
    type Key = (Option<String>, String, Severity);
    let mut listed: HashMap<Key, usize> = HashMap::new();
    let mut out = Vec::new();
    let mut dropped: Vec<(Key, usize)> = Vec::new();
    for f in findings {
        let key = (f.file.clone(), f.code.clone(), f.severity);
        let n = listed.entry(key.clone()).or_default();
        if *n < MAX_FINDINGS_PER_CODE {
            *n += 1;
            out.push(f);
        } else {
            match dropped.iter_mut().find(|(k, _)| *k == key) {
                Some((_, d)) => *d += 1,
                None => dropped.push((key, 1)),
            }
        }
    }
    for ((file, code, severity), n) in dropped {
        let mut f = left_out(&code, severity, n);
        f.file = file;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_capped_per_file_and_code() {
        let mut all = Vec::new();
        for i in 0..130 {
            all.push(
                Finding::new("allow-shadowed", Severity::Error, format!("m{i}"), "f")
                    .at("a.cmd", i),
            );
            all.push(Finding::new("allow-shadowed", Severity::Error, "m", "f").at("b.cmd", i));
        }
        all.push(Finding::new("leak", Severity::Error, "m", "f"));
        let capped = cap_per_code(all);
        assert_eq!(capped.len(), 2 * MAX_FINDINGS_PER_CODE + 1 + 2);
        let closing: Vec<_> = capped
            .iter()
            .filter(|f| f.message.starts_with("30 more allow-shadowed"))
            .collect();
        assert_eq!(closing.len(), 2);
        assert_eq!(closing[0].file.as_deref(), Some("a.cmd"));
        assert_eq!(closing[1].file.as_deref(), Some("b.cmd"));
        // Order kept: the first listed is the first given.
        assert_eq!(capped[0].message, "m0");
    }
}
