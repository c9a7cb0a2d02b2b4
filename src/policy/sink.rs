//! Where the dialect parsers put what they notice while reading one file: findings tied to the
//! file and line. Collected into the file's [`super::ParsedFile`].

use crate::finding::{Finding, Severity};

/// Finding codes, stable strings listed in the README.
pub mod codes {
    pub const TYPOGRAPHIC_DASH: &str = "typographic-dash";
    pub const PLACEHOLDER: &str = "placeholder";
    pub const NAME_FILTER_MISMATCH: &str = "name-filter-mismatch";
    pub const RANGE_PORT_UNBLOCKED: &str = "range-port-unblocked";
    pub const HANG_HAZARD: &str = "hang-hazard";
    pub const ALLOW_SHADOWED: &str = "allow-shadowed";
    pub const POLICY_UNASSIGNED: &str = "policy-unassigned";
    pub const SUBNET_MISALIGNED: &str = "subnet-misaligned";
    pub const MASK_NONCONTIGUOUS: &str = "mask-noncontiguous";
    pub const RANGE_OVERLAPS_EPHEMERAL: &str = "range-overlaps-ephemeral";
    pub const RANGE_TOO_SMALL: &str = "range-too-small";
    pub const RANGE_INVERTED: &str = "range-inverted";
    pub const RANGE_INVALID: &str = "range-invalid";
    pub const PARSE_ERROR: &str = "parse-error";
    /// A DNS name in a filter: Windows resolves it once, when the filter is created; we do
    /// not resolve it, so it matches nothing in the model.
    pub const DNS_UNRESOLVED: &str = "dns-unresolved";

    /// Every code, for docs and tests.
    pub const ALL: &[&str] = &[
        TYPOGRAPHIC_DASH,
        PLACEHOLDER,
        NAME_FILTER_MISMATCH,
        RANGE_PORT_UNBLOCKED,
        HANG_HAZARD,
        ALLOW_SHADOWED,
        POLICY_UNASSIGNED,
        SUBNET_MISALIGNED,
        MASK_NONCONTIGUOUS,
        RANGE_OVERLAPS_EPHEMERAL,
        RANGE_TOO_SMALL,
        RANGE_INVERTED,
        RANGE_INVALID,
        PARSE_ERROR,
        DNS_UNRESOLVED,
    ];
}

/// Findings for one file.
#[derive(Debug, Clone, Default)]
pub struct Sink {
    pub file: String,
    pub findings: Vec<Finding>,
}

impl Sink {
    /// A switch typed with a typographic dash (copied from a web page, as the article's `–x`):
    /// report `typographic-dash` at `line`, saying what the tool does with it
    /// (`consequence`), and return true; false for an ordinary word.
    pub fn typographic_switch(&mut self, line: usize, word: &str, consequence: &str) -> bool {
        let Some(c) = word
            .chars()
            .next()
            .filter(|&c| super::text::is_typographic_dash(c))
        else {
            return false;
        };
        let fixed: String = std::iter::once('-').chain(word.chars().skip(1)).collect();
        self.push(
            codes::TYPOGRAPHIC_DASH,
            crate::finding::Severity::Error,
            line,
            format!(
                "'{word}' starts with an {} instead of '-': {consequence}",
                super::text::dash_name(c),
                word = crate::report::inert::excerpt(word)
            ),
            format!(
                "replace '{word}' with '{fixed}'",
                word = crate::report::inert::excerpt(word),
                fixed = crate::report::inert::excerpt(&fixed)
            ),
        );
        true
    }

    pub fn new(file: &str) -> Self {
        Sink {
            file: file.to_string(),
            findings: Vec::new(),
        }
    }

    pub fn push(
        &mut self,
        code: &str,
        severity: Severity,
        line: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.findings
            .push(Finding::new(code, severity, message, fix).at(self.file.clone(), line));
    }

    pub fn parse_error(&mut self, line: usize, message: impl Into<String>, fix: impl Into<String>) {
        self.push(codes::PARSE_ERROR, Severity::Error, line, message, fix);
    }
}
