//! Where the dialect parsers put what they notice while reading one file: findings tied to the
//! file and line, and to the offending word where there is one ([`Sink::about`]); once the
//! file is read, [`Sink::locate_words`] turns those words into columns of the text as written.
//! Collected into the file's [`crate::policy::ParsedFile`].

use crate::finding::{Code, Finding, Severity};
use crate::inert::excerpt;

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
    /// The word the next finding is about, set by [`Sink::about`].
    subject: Option<String>,
    /// Listed findings (by index) and the word each is about, to be located in the text.
    subjects: Vec<(usize, String)>,
}

impl Sink {
    /// A switch typed with a typographic dash (copied from a web page, as the article's `–x`):
    /// report `typographic-dash` at `line`, saying what the tool does with it
    /// (`consequence`), and return true; false for an ordinary word.
    pub fn typographic_switch(&mut self, line: usize, word: &str, consequence: &str) -> bool {
        let Some(c) = word
            .chars()
            .next()
            .filter(|&c| crate::policy::text::is_typographic_dash(c))
        else {
            return false;
        };
        let fixed: String = std::iter::once('-').chain(word.chars().skip(1)).collect();
        self.about(word).push(
            Code::TypographicDash,
            crate::finding::Severity::Error,
            line,
            format!(
                "'{word}' starts with an {} instead of '-': {consequence}",
                crate::policy::text::dash_name(c),
                word = excerpt(word)
            ),
            format!(
                "replace '{word}' with '{fixed}'",
                word = excerpt(word),
                fixed = excerpt(&fixed)
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
            subject: None,
            subjects: Vec::new(),
        }
    }

    /// Say that the finding pushed next is about `word` (a switch, a value, a placeholder), so
    /// that [`Sink::locate_words`] can give it a column: `sink.about(w).parse_error(...)`.
    pub fn about(&mut self, word: &str) -> &mut Self {
        self.subject = Some(word.to_string());
        self
    }

    /// Give each finding made [`about`](Sink::about) a word the column where that word stands
    /// in `source` (the file's decoded text): on the finding's line or, when that line goes on
    /// (a trailing `^`, `` ` `` or `\`), on the lines that continue it, whose number the
    /// finding then takes. A word that does not stand in the text as written (it came from a
    /// variable's expansion, or quotes were taken off it) keeps no column.
    pub fn locate_words(&mut self, source: &str) {
        if self.subjects.is_empty() {
            return;
        }
        // Numbered as `text::logical_lines` numbers them.
        let normalized = source.replace("\r\n", "\n").replace('\r', "\n");
        let lines: Vec<&str> = normalized.split('\n').collect();
        for (index, word) in std::mem::take(&mut self.subjects) {
            let Some(finding) = self.findings.get_mut(index) else {
                continue;
            };
            let Some(first) = finding.line else {
                continue;
            };
            if let Some((line, column)) = locate(&lines, first, &word) {
                finding.line = Some(line);
                finding.column = Some(column);
            }
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
        let subject = self.subject.take();
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
        if let Some(word) = subject {
            self.subjects.push((self.findings.len(), word));
        }
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

/// Where `word` first stands, at a word's start, on line `first` of `lines` (1-based) or on
/// the lines continuing it: the line number and the 1-based character column.
fn locate(lines: &[&str], first: usize, word: &str) -> Option<(usize, usize)> {
    if word.is_empty() {
        return None;
    }
    let word = word.to_ascii_lowercase();
    let mut number = first;
    loop {
        let line = *lines.get(number.checked_sub(1)?)?;
        // ASCII case folding keeps byte offsets; cmd, netsh and PowerShell ignore ASCII case.
        let folded = line.to_ascii_lowercase();
        let starts = folded.match_indices(&word).map(|(at, _)| at);
        let at_word_start = starts.into_iter().find(|&at| {
            line[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_')
        });
        if let Some(at) = at_word_start {
            return Some((number, line[..at].chars().count() + 1));
        }
        let goes_on = line
            .trim_end()
            .chars()
            .next_back()
            .is_some_and(|c| matches!(c, '^' | '`' | '\\'));
        if !goes_on {
            return None;
        }
        number += 1;
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
    fn a_word_is_located_on_its_line_or_the_lines_that_continue_it() {
        let text = "ipseccmd -w REG \u{2013}x\r\nnetsh a ^\r\n  LocalPort=1\r\nipseccmd %W% -x\r\nxab ab\n";
        let mut sink = Sink::new("a.cmd");
        sink.typographic_switch(1, "\u{2013}x", "refused");
        sink.about("localport")
            .parse_error(2, "bad localport", "fix");
        sink.about("REG").parse_error(4, "expanded from %W%", "fix");
        sink.about("ab").parse_error(5, "a word of its own", "fix");
        sink.parse_error(1, "about no word", "fix");
        sink.locate_words(text);
        let at: Vec<_> = sink.findings.iter().map(|f| (f.line, f.column)).collect();
        assert_eq!(
            at,
            [
                // after 16 characters of "ipseccmd -w REG "
                (Some(1), Some(17)),
                // found on the continuation line, which the finding then names
                (Some(3), Some(3)),
                // not in the text as written: no column, the line unchanged
                (Some(4), None),
                // "xab" does not start the word "ab"
                (Some(5), Some(5)),
                (Some(1), None),
            ]
        );
    }

    #[test]
    fn a_finding_past_the_cap_leaves_no_word_behind_for_the_next() {
        let mut sink = Sink::new("a.cmd");
        for _ in 0..MAX_FINDINGS_PER_CODE {
            sink.parse_error(1, "bad", "fix");
        }
        sink.about("zzz").parse_error(1, "left out", "fix");
        sink.push(Code::Placeholder, Severity::Error, 1, "p", "f");
        sink.locate_words("zzz zzz");
        assert!(sink.findings.iter().all(|f| f.column.is_none()));
    }

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
