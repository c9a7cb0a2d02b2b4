//! Rendering results: the JSON contracts (serde types) and the tables people read
//! (comfy-table). Everything here is pure: results in, text out. Every string read from the
//! network or a file goes through [`inert`](crate::inert) on its way into a table, a finding or an error.

pub mod audit;
pub mod capacity;
pub mod changes;
pub mod diff;
pub mod diff_lines;
pub mod dump;
pub mod html;
pub mod html_interfaces;
pub mod interfaces;
pub mod lines;
pub mod sarif;
pub mod table;

use crate::finding::Finding;

/// One finding as text: `  error leak (policy.cmd:12): message` and its fix on the next line.
/// Lists read better than tables for long messages, on a terminal and in a file alike.
/// Every string of the finding is shown through [`inert::field`](crate::inert::field); evidence items, which are
/// single values (a binding, a matrix cell), through [`inert::cell`](crate::inert::cell).
pub fn finding_text(f: &Finding) -> String {
    use crate::inert::{cell, field};
    let place = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!(" ({}:{line})", field(file)),
        (Some(file), None) => format!(" ({})", field(file)),
        _ => String::new(),
    };
    let mut text = format!(
        "  {} {}{place}: {}\n",
        f.severity,
        field(f.code.as_str()),
        field(&f.message)
    );
    const SHOWN: usize = 4;
    for e in f.evidence.iter().take(SHOWN) {
        text.push_str(&format!("    seen: {}\n", cell(e)));
    }
    if f.evidence.len() > SHOWN {
        text.push_str(&format!(
            "    seen: ... and {} more (all in the JSON report)\n",
            f.evidence.len() - SHOWN
        ));
    }
    text.push_str(&format!("    fix: {}\n", field(&f.fix)));
    text
}
