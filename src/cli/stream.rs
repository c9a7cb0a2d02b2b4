//! How the scanning commands (`dump`, `capacity`, `probe`, `audit --json-lines`) write results
//! that arrive one host at a time: the output [`Form`] `--json`/`--json-lines` choose, a JSON
//! document whose last array is written as it fills ([`StreamedDocument`]), and a run that
//! Ctrl-C may cut short, keeping what was written ([`until_interrupted`]).

use super::Error;
use crate::inert;
use crate::pipeline::Order;

/// How a scanning command writes its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Tables for people, at the end.
    Table,
    /// One JSON document, its hosts written as they fill, in target order.
    Document,
    /// One JSON object per host as soon as it is done, then a summary object.
    Lines,
}

impl Form {
    /// The form `--json` and `--json-lines` ask for (clap makes them exclusive).
    pub fn of(json: bool, json_lines: bool) -> Form {
        match (json, json_lines) {
            (_, true) => Form::Lines,
            (true, false) => Form::Document,
            (false, false) => Form::Table,
        }
    }

    /// Lines go out as hosts finish; documents and tables keep the targets' order.
    pub fn order(self) -> Order {
        match self {
            Form::Lines => Order::Completion,
            Form::Document | Form::Table => Order::Targets,
        }
    }
}

/// `--json` and `--json-lines` of the commands whose result is a list of hosts (`dump`,
/// `capacity`).
#[derive(Debug, Clone, clap::Args)]
pub struct HostsOutput {
    /// Print JSON (a document whose last field is the hosts array) instead of tables. The
    /// hosts array is written as it fills, in target order.
    #[arg(long, conflicts_with = "json_lines")]
    pub json: bool,
    /// Print one JSON object per host as soon as it is done (the object --json puts in its
    /// hosts array), then one summary object ({"record":"summary",...}); memory stays flat
    /// however many hosts there are.
    #[arg(long)]
    pub json_lines: bool,
}

impl HostsOutput {
    pub fn form(&self) -> Form {
        Form::of(self.json, self.json_lines)
    }
}

/// Where a scanning command's results go as its hosts end: a line each, or items of a streamed
/// document, or (for a table) back to the caller, who keeps what the table needs.
#[derive(Debug)]
pub struct Output {
    form: Form,
    document: Option<StreamedDocument>,
    /// The first result that could not be encoded; the run goes on and ends with it.
    failed: Option<serde_json::Error>,
}

impl Output {
    /// Start writing in `form`; a document's head is `shell`, whose last field `key` is the
    /// array the hosts fill.
    pub fn start<T: serde::Serialize>(form: Form, shell: &T, key: &str) -> Result<Output, Error> {
        let document = match form {
            Form::Document => Some(StreamedDocument::start(shell, key)?),
            Form::Table | Form::Lines => None,
        };
        Ok(Output {
            form,
            document,
            failed: None,
        })
    }

    /// One host's result: its `line` (JSON lines), or its `items` of the document's array.
    /// False for a table: nothing was written, the caller keeps the result.
    pub fn host<L, I>(&mut self, line: &L, items: impl IntoIterator<Item = I>) -> bool
    where
        L: serde::Serialize,
        I: serde::Serialize,
    {
        let written = match (self.form, self.document.as_mut()) {
            (Form::Lines, _) => inert::to_json_line(line).map(super::outln),
            (_, Some(doc)) => items.into_iter().try_for_each(|i| doc.item(&i)),
            _ => return false,
        };
        if let Err(e) = written {
            self.failed.get_or_insert(e);
        }
        true
    }

    /// The end: the summary line (`summary` is only asked for JSON lines) or the document's
    /// close; an error when a result could not be encoded.
    pub fn finish<S: serde::Serialize>(self, summary: impl FnOnce() -> S) -> Result<(), Error> {
        match (self.form, self.document) {
            (Form::Lines, _) => {
                super::outln(inert::to_json_line(&summary()).map_err(Error::Json)?);
            }
            (_, Some(doc)) => doc.finish(),
            _ => {}
        }
        self.failed.map_or(Ok(()), |e| Err(Error::Json(e)))
    }
}

/// Run `work` on `rt` to its end or until Ctrl-C, whichever comes first; true when it was
/// interrupted (then said once on stderr). A write to stdout that failed (a closed pipe, a
/// full disk) ends the work too: nobody receives the rest, and the run exits 2 anyway
/// ([`super::out`]). Tasks still in flight are abandoned, not awaited.
pub fn until_interrupted(rt: tokio::runtime::Runtime, work: impl Future<Output = ()>) -> bool {
    let interrupted = rt.block_on(async {
        tokio::select! {
            () = work => false,
            _ = tokio::signal::ctrl_c() => true,
            () = stdout_lost() => false,
        }
    });
    rt.shutdown_background();
    if interrupted {
        super::errln("rpcaudit: interrupted; the hosts done so far are written");
    }
    interrupted
}

/// Resolves once a write to stdout has failed (checked five times a second).
async fn stdout_lost() {
    while !super::stdout_failed() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A pretty JSON document whose last field is an array written item by item: what
/// [`inert::to_json_pretty`] prints for the whole document, byte for byte (`[]` when no item
/// came), without holding the items.
#[derive(Debug)]
struct StreamedDocument {
    items: usize,
}

impl StreamedDocument {
    /// Write the document's head: `shell` is the document with its last field, `key`, an empty
    /// array.
    pub fn start<T: serde::Serialize>(shell: &T, key: &str) -> Result<StreamedDocument, Error> {
        super::out(head(shell, key)?);
        Ok(StreamedDocument { items: 0 })
    }

    /// Write one item of the array.
    pub fn item<T: serde::Serialize>(&mut self, item: &T) -> Result<(), serde_json::Error> {
        let pretty = inert::to_json_pretty(item)?;
        super::out(indented(&pretty, self.items == 0));
        self.items += 1;
        Ok(())
    }

    /// Close the array and the document.
    pub fn finish(self) {
        super::out(if self.items == 0 {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
    }
}

/// The document up to the opening of its last array, `key`, which `shell` holds empty.
fn head<T: serde::Serialize>(shell: &T, key: &str) -> Result<String, Error> {
    let text = inert::to_json_pretty(shell).map_err(Error::Json)?;
    let empty = format!("  \"{key}\": []\n}}");
    match text.strip_suffix(&empty) {
        Some(head) => Ok(format!("{head}  \"{key}\": [")),
        None => Err(Error::Json(serde::ser::Error::custom(format!(
            "`{key}` is not the last field of the document"
        )))),
    }
}

/// One item of the array: its pretty JSON indented to sit in it (JSON strings hold no raw
/// newline, so indenting each line is safe), on a line of its own, after a comma unless it is
/// the first.
fn indented(pretty: &str, first: bool) -> String {
    let mut out = String::with_capacity(pretty.len() + 64);
    out.push_str(if first { "\n" } else { ",\n" });
    for (k, line) in pretty.lines().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        out.push_str("    ");
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_items_are_the_documents_array() {
        let host = |t: &str| crate::epm::client::failed(t, format!("{t}: no answer"));
        let hosts = vec![host("192.0.2.1"), host("evil\u{202e}\n")];
        let shell = crate::report::dump::DumpReport { hosts: Vec::new() };
        let mut streamed = head(&shell, "hosts").unwrap();
        for (k, h) in hosts.iter().enumerate() {
            streamed.push_str(&indented(&inert::to_json_pretty(h).unwrap(), k == 0));
        }
        streamed.push_str("\n  ]\n}");
        let whole = inert::to_json_pretty(&crate::report::dump::DumpReport { hosts }).unwrap();
        assert_eq!(streamed, whole);
        // No host: `[]`, as serde_json writes an empty array.
        let empty = head(&shell, "hosts").unwrap() + "]\n}";
        assert_eq!(empty, inert::to_json_pretty(&shell).unwrap());
        assert!(
            head(&shell, "nope").is_err(),
            "a key that is not last is refused"
        );
    }

    #[test]
    fn forms_follow_the_flags() {
        assert_eq!(Form::of(false, false), Form::Table);
        assert_eq!(Form::of(true, false), Form::Document);
        assert_eq!(Form::of(false, true), Form::Lines);
        assert_eq!(Form::Lines.order(), Order::Completion);
        assert_eq!(Form::Document.order(), Order::Targets);
    }
}
