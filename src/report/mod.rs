//! Rendering results: the JSON contracts (serde types) and the tables people read
//! (comfy-table). Everything here is pure: results in, text out.

pub mod audit;
pub mod capacity;
pub mod diff;
pub mod dump;
pub mod table;

use crate::finding::Finding;

/// One finding as text: `  error leak (policy.cmd:12): message` and its fix on the next line.
/// Lists read better than tables for long messages, on a terminal and in a file alike.
pub fn finding_text(f: &Finding) -> String {
    let place = match (&f.file, f.line) {
        (Some(file), Some(line)) => format!(" ({file}:{line})"),
        (Some(file), None) => format!(" ({file})"),
        _ => String::new(),
    };
    let mut text = format!("  {} {}{place}: {}\n", f.severity, f.code, f.message);
    const SHOWN: usize = 4;
    for e in f.evidence.iter().take(SHOWN) {
        text.push_str(&format!("    seen: {e}\n"));
    }
    if f.evidence.len() > SHOWN {
        text.push_str(&format!(
            "    seen: ... and {} more (all in the JSON report)\n",
            f.evidence.len() - SHOWN
        ));
    }
    text.push_str(&format!("    fix: {}\n", f.fix));
    text
}
