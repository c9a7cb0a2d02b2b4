//! `docs/DESIGN.md` stays true to `src/` (issue 29): every module its module table names
//! exists, and so does every code name in a row (a module below the row's, or a function,
//! type or constant defined or re-exported in the row's module), so a move or a rename
//! cannot leave the table behind silently. And no source folder holds more than 15 files
//! side by side.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use support::source::{defined, files, modules, src_dir, without_literals};

/// Words the table writes as code that are not Rust names: protocol sequences, cmd.exe
/// keywords, a JSON field.
const NOT_RUST: &[&str] = &[
    "ncacn_http",
    "ncacn_ip_tcp",
    "ncacn_np",
    "ncadg_ip_udp",
    "set",
    "for",
    "configured",
];

/// The most `.rs` files one folder of `src/` may hold side by side.
const MOST_FILES: usize = 15;

fn is_path(tok: &str) -> bool {
    !tok.is_empty()
        && tok.split("::").all(|seg| {
            seg.chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && seg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

/// The backticked words of one cell.
fn code_words(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// What each file defines or imports, by name.
fn names_by_file(
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> BTreeMap<Vec<String>, BTreeSet<String>> {
    files
        .iter()
        .map(|(m, file)| {
            let text = std::fs::read_to_string(file).unwrap();
            (m.clone(), defined(&without_literals(&text)))
        })
        .collect()
}

/// What the files below module `m` define or import, by name.
fn names_in(names: &BTreeMap<Vec<String>, BTreeSet<String>>, m: &[String], name: &str) -> bool {
    names
        .iter()
        .any(|(path, defined)| path.starts_with(m) && defined.contains(name))
}

fn split(p: &str) -> Vec<String> {
    p.split("::").map(str::to_string).collect()
}

/// What does not exist of what the module table of `design` names.
fn missing(src: &Path, design: &str) -> Vec<String> {
    let files = files(src);
    let mods = modules(&files);
    let names = names_by_file(&files);
    let mut out = Vec::new();
    let rows: Vec<&str> = design
        .lines()
        .skip_while(|l| !l.starts_with("| module |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(rows.len() > 10, "the module table was not found");
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
        let Some(&top) = code_words(cells[0]).first() else {
            out.push(format!("a row without a module: {row}"));
            continue;
        };
        let top = split(top);
        if !mods.contains(&top) {
            out.push(format!("module {}", top.join("::")));
            continue;
        }
        // What the row's module owns: names below it.
        for tok in code_words(cells.get(1).copied().unwrap_or_default()) {
            if !is_path(tok) || NOT_RUST.contains(&tok) {
                continue;
            }
            let segs = split(tok);
            let below: Vec<String> = top.iter().chain(&segs).cloned().collect();
            if mods.contains(&below) || mods.contains(&segs) {
                continue;
            }
            let (last, head) = segs.split_last().unwrap();
            let in_row = top.iter().chain(head).cloned().collect::<Vec<_>>();
            let found = [in_row, head.to_vec()]
                .iter()
                .filter(|m| mods.contains(*m))
                .any(|m| names_in(&names, m, last));
            if !found {
                out.push(format!("`{tok}` in the row of {}", top.join("::")));
            }
        }
        // What it may use: crate modules, or names in them.
        for tok in code_words(cells.get(2).copied().unwrap_or_default()) {
            if !is_path(tok) {
                continue;
            }
            let segs = split(tok);
            let (last, head) = segs.split_last().unwrap();
            let head = head.to_vec();
            let exists =
                mods.contains(&segs) || (mods.contains(&head) && names_in(&names, &head, last));
            if !exists {
                out.push(format!("`{tok}` that {} may use", top.join("::")));
            }
        }
    }
    out
}

#[test]
fn every_module_the_design_names_exists() {
    let design =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/DESIGN.md"))
            .unwrap();
    let gone = missing(&src_dir(), &design);
    assert!(
        gone.is_empty(),
        "docs/DESIGN.md names what src/ does not have:\n  {}",
        gone.join("\n  ")
    );
}

#[test]
fn a_module_or_name_the_code_lost_is_caught() {
    let design =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/DESIGN.md"))
            .unwrap();
    let drifted = design
        .replacen("| `budget` |", "| `budgets` |", 1)
        .replacen("`read_capped`", "`read_capped_now`", 1)
        .replacen("`reg_export`", "`reg_exports`", 1);
    let gone = missing(&src_dir(), &drifted);
    assert_eq!(
        gone,
        [
            "`reg_exports` in the row of policy",
            "module budgets",
            "`read_capped_now` in the row of input",
        ],
        "{gone:?}"
    );
}

#[test]
fn no_source_folder_holds_more_than_15_files() {
    let mut crowded = Vec::new();
    let mut dirs = vec![src_dir()];
    while let Some(d) = dirs.pop() {
        let mut n = 0;
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().and_then(|x| x.to_str()) == Some("rs") {
                n += 1;
            }
        }
        if n > MOST_FILES {
            crowded.push(format!("{} ({n} files)", d.display()));
        }
    }
    assert!(
        crowded.is_empty(),
        "folders of src/ with more than {MOST_FILES} files side by side: {crowded:?}"
    );
}
