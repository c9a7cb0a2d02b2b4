//! The cmd.exe part of reading a script: `set NAME=value` variables, `%NAME%` expansion and
//! `for` loops (`for /L %%p in (start,step,end) do ...`, `for %%p in (a b c) do ...`), as the
//! article's scripts use them. [`Interpreter::commands`] turns one logical line into the
//! commands it stands for, which `policy` hands to the dialect readers; every expansion is
//! bounded (command length, variable bytes, commands and bytes per file) and a line past a
//! bound is a `parse-error` finding, never a panic or an unbounded allocation. No I/O.

use crate::inert::excerpt;
use crate::policy::model::sink::Sink;
use crate::policy::text::Line;

/// Most commands a file may expand to through `for` loops.
pub const MAX_EXPANDED_COMMANDS: usize = 100_000;
/// Most bytes the commands of one file may take once loops and variables are expanded.
pub const MAX_EXPANDED_BYTES: usize = 64 * 1024 * 1024;
/// Longest command once its `%variables%` are expanded (cmd.exe's own limit is 8,191
/// characters).
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;
/// Most bytes the `set` variables of one file may hold in all.
pub const MAX_VARIABLE_BYTES: usize = 1024 * 1024;

/// What one line of a script stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to run: a `set`, or a line refused with a finding.
    Skip,
    /// The file expands to more commands than it may; the rest of it is not read.
    Stop,
    /// The commands to read, in order (several for a `for` loop).
    Run(Vec<String>),
}

/// The state of one file's cmd interpreter: its variables and what its loops have expanded to.
#[derive(Default)]
pub struct Interpreter {
    vars: Vars,
    expanded: usize,
    expanded_bytes: usize,
}

impl Interpreter {
    /// The commands `line` stands for; findings about it go to `sink`.
    pub fn commands(&mut self, line: &Line, sink: &mut Sink) -> Step {
        if line.text.len() > MAX_COMMAND_BYTES {
            sink.parse_error(
                line.number,
                format!(
                    "the command is {} bytes long, more than the {MAX_COMMAND_BYTES} rpcaudit reads (cmd.exe itself takes 8,191 characters); it is not read",
                    line.text.len()
                ),
                "split the command, or check that the file is the script you meant",
            );
            return Step::Skip;
        }
        let t = match self.vars.expand(&line.text) {
            Ok(t) => t,
            Err(e) => {
                sink.parse_error(
                    line.number,
                    format!("the command is {e}"),
                    "write the values out",
                );
                return Step::Skip;
            }
        };
        if let Some((k, v)) = parse_set(&t) {
            if let Err(e) = self.vars.set(&k, v) {
                sink.parse_error(line.number, e.to_string(), "set fewer or shorter variables");
            }
            return Step::Skip;
        }
        let commands = match expand_for(&t, MAX_EXPANDED_BYTES.saturating_sub(self.expanded_bytes))
        {
            ForExpansion::NotALoop => vec![t],
            ForExpansion::Commands(c) => c,
            ForExpansion::Error(e) => {
                sink.parse_error(
                    line.number,
                    e,
                    "write for /L %%p in (5001,1,5021) do ... or list the commands one by one",
                );
                return Step::Skip;
            }
        };
        self.expanded += commands.len();
        self.expanded_bytes += commands.iter().map(String::len).sum::<usize>();
        if self.expanded > MAX_EXPANDED_COMMANDS {
            sink.parse_error(
                line.number,
                format!("more than {MAX_EXPANDED_COMMANDS} commands after expanding loops; the rest of the file is not read"),
                "split the script",
            );
            return Step::Stop;
        }
        Step::Run(commands)
    }
}

/// `set NAME=value` / `set "NAME=value"` (not `set /a`, `set /p`).
fn parse_set(t: &str) -> Option<(String, String)> {
    let rest = strip_word(t, "set")?;
    if rest.starts_with('/') {
        return None;
    }
    let rest = rest.trim();
    let rest = rest
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(rest);
    let (k, v) = rest.split_once('=')?;
    let k = k.trim();
    if k.is_empty() || k.contains(char::is_whitespace) {
        return None;
    }
    Some((k.to_string(), v.to_string()))
}

fn strip_word<'a>(t: &'a str, word: &str) -> Option<&'a str> {
    let head = t.get(..word.len())?;
    let rest = t.get(word.len()..)?;
    (head.eq_ignore_ascii_case(word) && rest.starts_with(char::is_whitespace))
        .then(|| rest.trim_start())
}

/// Why a cmd variable could not be set or expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum ExpandError {
    #[error("set {name}: the file's variables would hold more than {MAX_VARIABLE_BYTES} bytes")]
    TooManyVariables { name: String },
    #[error(
        "the command is longer than {MAX_COMMAND_BYTES} bytes once its %variables% are expanded"
    )]
    CommandTooLong,
}

/// cmd `set` variables of one file, by upper-cased name, with the bytes they hold in all.
#[derive(Default)]
struct Vars {
    values: std::collections::HashMap<String, String>,
    bytes: usize,
}

impl Vars {
    /// Set `name`; refused when the file's variables would hold more than
    /// [`MAX_VARIABLE_BYTES`].
    fn set(&mut self, name: &str, value: String) -> Result<(), ExpandError> {
        let key = name.to_ascii_uppercase();
        let old = self.values.get(&key).map_or(0, |v| key.len() + v.len());
        let new = self.bytes - old + key.len() + value.len();
        if new > MAX_VARIABLE_BYTES {
            return Err(ExpandError::TooManyVariables {
                name: name.to_string(),
            });
        }
        self.bytes = new;
        self.values.insert(key, value);
        Ok(())
    }

    /// `t` with `%NAME%` replaced for names set earlier in the file, in one pass as cmd does
    /// (a value is not expanded again; `%%p` is a for-loop variable and stays). Refused when
    /// the result would be longer than [`MAX_COMMAND_BYTES`].
    fn expand(&self, t: &str) -> Result<String, ExpandError> {
        if self.values.is_empty() || !t.contains('%') {
            return Ok(t.to_string());
        }
        let mut out = String::with_capacity(t.len());
        let mut rest = t;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(tail) = after.strip_prefix('%') {
                out.push_str("%%");
                rest = tail;
            } else if let Some(end) = after.find('%')
                && let Some(value) = self.values.get(&after[..end].to_ascii_uppercase())
            {
                out.push_str(value);
                rest = &after[end + 1..];
            } else {
                out.push('%');
                rest = after;
            }
            if out.len() > MAX_COMMAND_BYTES {
                return Err(ExpandError::CommandTooLong);
            }
        }
        out.push_str(rest);
        if out.len() > MAX_COMMAND_BYTES {
            return Err(ExpandError::CommandTooLong);
        }
        Ok(out)
    }
}

enum ForExpansion {
    NotALoop,
    Commands(Vec<String>),
    Error(String),
}

/// `for /L %%p in (start,step,end) do CMD` and `for %%p in (a b c) do CMD`, refused when
/// the commands would take more than `budget` bytes.
fn expand_for(t: &str, budget: usize) -> ForExpansion {
    let Some(rest) = strip_word(t, "for") else {
        return ForExpansion::NotALoop;
    };
    let (numeric, rest) = match strip_word(rest, "/l") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let Some((var, rest)) = rest.split_once(char::is_whitespace) else {
        return ForExpansion::Error("for: expected a %%variable".into());
    };
    let name = var.trim_start_matches('%');
    if !var.starts_with('%') || name.is_empty() {
        return ForExpansion::Error(format!("for: '{}' is not a %%variable", excerpt(var)));
    }
    let Some(rest) = strip_word(rest.trim_start(), "in") else {
        return ForExpansion::Error("for: expected 'in (...)'".into());
    };
    let Some((set, body)) = rest.strip_prefix('(').and_then(|r| r.split_once(')')) else {
        return ForExpansion::Error("for: expected '(' set ')'".into());
    };
    let Some(body) = strip_word(body.trim_start(), "do") else {
        return ForExpansion::Error("for: expected 'do' after the set".into());
    };
    let items: Vec<String> = if numeric {
        let nums: Vec<Option<i64>> = set
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().parse().ok())
            .collect();
        let [Some(start), Some(step), Some(end)] = nums.as_slice() else {
            return ForExpansion::Error(format!(
                "for /L: '({})' is not (start,step,end)",
                excerpt(set)
            ));
        };
        if *step == 0 {
            return ForExpansion::Error("for /L: step 0 never ends".into());
        }
        // i128: no overflow whatever i64 values the file holds.
        let (start, step, end) = (i128::from(*start), i128::from(*step), i128::from(*end));
        let count = (end - start) / step + 1;
        if count > MAX_EXPANDED_COMMANDS as i128 {
            return ForExpansion::Error(format!("for /L: {count} iterations is too many"));
        }
        (0..count.max(0))
            .map(|i| (start + i * step).to_string())
            .collect()
    } else {
        set.split([',', ' ', ';'])
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let longest_item = items.iter().map(String::len).max().unwrap_or(0);
    let size = items.len().saturating_mul(
        body.len()
            .saturating_add(longest_item.saturating_mul(body.matches('%').count())),
    );
    if size > budget {
        return ForExpansion::Error(format!(
            "for: {} commands of {} bytes would take more than the {MAX_EXPANDED_BYTES} bytes a file may expand to",
            items.len(),
            body.len()
        ));
    }
    let vars = [format!("%%{name}"), format!("%{name}")];
    ForExpansion::Commands(
        items
            .iter()
            .map(|v| body.replace(&vars[0], v).replace(&vars[1], v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ef(t: &str) -> ForExpansion {
        expand_for(t, MAX_EXPANDED_BYTES)
    }

    #[test]
    fn for_loop_errors() {
        assert!(matches!(
            ef("for /L %%p in (1,0,5) do x"),
            ForExpansion::Error(_)
        ));
        assert!(matches!(
            ef("for /L %%p in (a) do x"),
            ForExpansion::Error(_)
        ));
        assert!(matches!(ef("format c:"), ForExpansion::NotALoop));
        assert!(matches!(
            ef("for /L %%p in (-9223372036854775808,1,9223372036854775807) do x"),
            ForExpansion::Error(_)
        ));
        match ef("for /L %%p in (5021,-10,5001) do echo %%p") {
            ForExpansion::Commands(c) => assert_eq!(c, vec!["echo 5021", "echo 5011", "echo 5001"]),
            _ => panic!("not expanded"),
        }
        match ef("for %%p in (135 139) do echo %%p") {
            ForExpansion::Commands(c) => assert_eq!(c, vec!["echo 135", "echo 139"]),
            _ => panic!("not expanded"),
        }
    }
}
