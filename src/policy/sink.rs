//! Where the dialect parsers put what they notice while reading one file: findings tied to the
//! file and line. Collected into the file's [`super::ParsedFile`].

use crate::finding::{Code, Finding, Severity};

pub use crate::finding::MAX_FINDINGS_PER_CODE;
/// Longest message or fix a finding keeps (in characters): messages quote the input, and a
/// quoted 16 MiB word must not become a 16 MiB finding.
pub const MAX_FINDING_TEXT: usize = 400;

/// Findings for one file.
#[derive(Debug, Clone, Default)]
pub struct Sink {
    pub file: String,
    pub findings: Vec<Finding>,
    /// Findings listed per code (a handful of codes: a short list is the fastest map).
    listed: Vec<(Code, usize)>,
    /// Findings left out per (code, severity), past [`MAX_FINDINGS_PER_CODE`].
    left_out: Vec<(Code, Severity, usize)>,
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
            Code::TypographicDash,
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
            listed: Vec::new(),
            left_out: Vec::new(),
        }
    }

    /// The findings, each code's overflow summed up in one closing finding of that code.
    pub fn into_findings(mut self) -> Vec<Finding> {
        for (code, severity, n) in std::mem::take(&mut self.left_out) {
            self.findings
                .push(crate::finding::left_out(code, severity, n).at_file(self.file.clone()));
        }
        self.findings
    }

    pub fn push(
        &mut self,
        code: Code,
        severity: Severity,
        line: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let listed = match self.listed.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => n,
            None => {
                self.listed.push((code.clone(), 0));
                let last = self.listed.len() - 1;
                &mut self.listed[last].1
            }
        };
        if *listed >= MAX_FINDINGS_PER_CODE {
            match self
                .left_out
                .iter_mut()
                .find(|(c, s, _)| *c == code && *s == severity)
            {
                Some((_, _, n)) => *n += 1,
                None => self.left_out.push((code, severity, 1)),
            }
            return;
        }
        *listed += 1;
        let message = cut(message.into(), MAX_FINDING_TEXT);
        let fix = cut(fix.into(), MAX_FINDING_TEXT);
        self.findings
            .push(Finding::new(code, severity, message, fix).at(self.file.clone(), line));
    }

    /// How many findings were left out past the cap.
    pub fn left_out(&self) -> usize {
        self.left_out.iter().map(|(_, _, n)| n).sum()
    }

    pub fn parse_error(&mut self, line: usize, message: impl Into<String>, fix: impl Into<String>) {
        self.push(Code::ParseError, Severity::Error, line, message, fix);
    }
}

/// `text` cut to at most `max` characters, with `…` when something was cut.
fn cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_of_one_code_are_capped_and_the_rest_counted() {
        let mut sink = Sink::new("bad.cmd");
        for line in 1..=250 {
            sink.parse_error(line, "bad", "fix it");
        }
        sink.push(Code::Placeholder, Severity::Error, 7, "p", "f");
        assert_eq!(sink.left_out(), 150);
        let findings = sink.into_findings();
        assert_eq!(findings.len(), MAX_FINDINGS_PER_CODE + 2);
        let parse: Vec<_> = findings
            .iter()
            .filter(|f| f.code == Code::ParseError)
            .collect();
        assert_eq!(parse.len(), MAX_FINDINGS_PER_CODE + 1);
        assert_eq!(parse[99].line, Some(100));
        let last = findings.last().unwrap();
        assert_eq!(last.code, Code::ParseError);
        assert!(
            last.message.starts_with("150 more parse-error findings"),
            "{}",
            last.message
        );
        assert_eq!(last.file.as_deref(), Some("bad.cmd"));
        assert_eq!(last.line, None);
    }

    #[test]
    fn long_messages_are_cut() {
        let mut sink = Sink::new("f.cmd");
        let word = "é".repeat(10_000);
        sink.parse_error(1, format!("'{word}' is not a switch"), word.clone());
        let f = &sink.findings[0];
        assert_eq!(f.message.chars().count(), MAX_FINDING_TEXT + 1);
        assert!(f.message.ends_with('…'));
        assert_eq!(f.fix.chars().count(), MAX_FINDING_TEXT + 1);
        assert_eq!(cut("short".into(), 10), "short");
    }
}
