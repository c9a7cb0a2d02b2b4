//! What every JSON-lines output of rpcaudit shares (`dump`, `capacity`, `probe` and `audit
//! --json-lines`): the schema version, the marks of host and summary records, telling lines
//! from a JSON document, and reading lines back up to their summary ([`read`]). `report` (the
//! contracts) and `probe` (observation files) both use it, so neither needs the other for it.

use crate::inert::excerpt;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The version of rpcaudit's JSON contracts (the report, and every JSON-lines output).
pub const SCHEMA_VERSION: u32 = 1;

/// What marks the summary object of a JSON-lines output (`"record": "summary"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SummaryMark {
    Summary,
}

/// What marks a host line where the host's object is not the bare object of a document's
/// array (`audit` and `probe --json-lines`: `"record": "host"`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HostMark {
    Host,
}

/// Whether `text` looks like JSON lines: its first non-blank line is a whole JSON object with
/// a `record` key (a document's first line is `{` alone, or a whole report without `record`).
pub fn is_lines(text: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Marked {
        record: Option<serde_json::Value>,
    }
    text.split(|&b| b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .and_then(|l| serde_json::from_slice::<Marked>(l).ok())
        .is_some_and(|m| m.record.is_some())
}

/// Why JSON lines could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinesError {
    /// `message`: serde_json's, the value it quotes cut short.
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("no summary line (`\"record\":\"summary\"`): the output was cut short")]
    NoSummary,
    #[error("line {line}: a line after the summary")]
    AfterSummary { line: usize },
}

/// Read `text` line by line as `T`s (blank lines skipped), handing each to `each`, which says
/// whether it was the summary. The summary must come, and last: lines without it were cut
/// short and are refused, not read as "fewer hosts".
pub fn read<T: DeserializeOwned>(
    text: &[u8],
    mut each: impl FnMut(T) -> bool,
) -> Result<(), LinesError> {
    let mut summary = false;
    for (k, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = k + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if summary {
            return Err(LinesError::AfterSummary { line });
        }
        let value = serde_json::from_slice::<T>(raw).map_err(|e| LinesError::Line {
            line,
            message: excerpt(&e.to_string()).into_owned(),
        })?;
        summary = each(value);
    }
    if summary {
        Ok(())
    } else {
        Err(LinesError::NoSummary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_told_from_documents() {
        assert!(is_lines(
            b"\n{\"record\":\"host\"}\n{\"record\":\"summary\"}\n"
        ));
        assert!(!is_lines(b"{\n  \"hosts\": []\n}\n"));
        assert!(!is_lines(b"{\"hosts\":[]}"));
        assert!(!is_lines(b""));
    }

    #[test]
    fn reading_needs_the_summary_last() {
        let read_all = |text: &str| {
            let mut got = Vec::new();
            read::<serde_json::Value>(text.as_bytes(), |v| {
                let summary = v["record"] == "summary";
                got.push(v);
                summary
            })
            .map(|()| got.len())
        };
        assert_eq!(read_all("{\"a\":1}\n\n{\"record\":\"summary\"}\n"), Ok(2));
        assert_eq!(read_all("{\"a\":1}\n"), Err(LinesError::NoSummary));
        assert_eq!(
            read_all("{\"record\":\"summary\"}\n{\"a\":1}\n"),
            Err(LinesError::AfterSummary { line: 2 })
        );
        let long = format!("{{\"a\":1}}\n{}\n", "x".repeat(10_000));
        match read_all(&long) {
            Err(LinesError::Line { line: 2, message }) => assert!(message.len() < 1_000),
            other => panic!("{other:?}"),
        }
    }
}
