//! The crate's own source read as the structure tests need it (`tests/no_circles.rs`,
//! `tests/design_modules.rs`): the library's files by module path, each file's code without
//! comments, literals and `#[cfg(test)]` items, the paths it names (`use` trees expanded, and
//! `crate::`/`super::`/`self::` paths in code) with the module each is named from, and the
//! items it defines. A small lexer, not a Rust parser: enough for `src/`, which is
//! rustfmt-formatted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The library's source directory.
pub fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every file of the library under `src`, by module path (`["report", "audit"]`; `lib.rs` is
/// `[]`). `main.rs` is the binary's own crate and is left out.
pub fn files(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            if p.extension().and_then(|x| x.to_str()) != Some("rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut segs: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            match segs.as_slice() {
                [only] if only == "main" => continue,
                [only] if only == "lib" => segs.clear(),
                [.., last] if last == "mod" => {
                    segs.pop();
                }
                _ => {}
            }
            out.insert(segs, p);
        }
    }
    out
}

/// `text` with comments, string and character literals blanked, then every `#[cfg(test)]`
/// item blanked too.
pub fn code_of(text: &str) -> String {
    without_test_items(&without_literals(text))
}

/// `text` with comments blanked and string and character literals emptied.
pub fn without_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if at(i) == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(i) == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if at(i) == 'r'
            && (i == 0 || !ident(at(i - 1)) || (at(i - 1) == 'b' && (i < 2 || !ident(at(i - 2)))))
            && (at(i + 1) == '"' || at(i + 1) == '#')
        {
            // A raw string: r"..." or r#"..."#.
            let mut k = i + 1;
            let mut hashes = 0;
            while at(k) == '#' {
                hashes += 1;
                k += 1;
            }
            if at(k) != '"' {
                out.push(c[i]);
                i += 1;
                continue;
            }
            k += 1;
            loop {
                if k >= c.len() {
                    break;
                }
                if c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#') {
                    k += 1 + hashes;
                    break;
                }
                k += 1;
            }
            out.push_str("\"\"");
            i = k;
        } else if at(i) == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if at(i) == '\'' && (at(i + 1) == '\\' || (at(i + 2) == '\'' && at(i + 1) != '\'')) {
            // A character literal; a lifetime ('a) is kept.
            i += 1;
            if at(i) == '\\' {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
            } else {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Blank every item marked `#[cfg(test)]`: its attributes, then up to its `;` or the end of
/// its `{ ... }` block.
fn without_test_items(code: &str) -> String {
    let mut c: Vec<char> = code.chars().collect();
    let mark: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + mark.len() <= c.len() {
        if c[i..i + mark.len()] != mark[..] {
            i += 1;
            continue;
        }
        let start = i;
        let mut k = i;
        let mut depth = 0i32;
        let mut opened = false;
        while k < c.len() {
            match c[k] {
                '[' | '(' if !opened => depth += 1,
                ']' | ')' if !opened => depth -= 1,
                '{' => {
                    opened = true;
                    depth += 1;
                }
                '}' => {
                    depth -= 1;
                    if opened && depth == 0 {
                        k += 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    k += 1;
                    break;
                }
                _ => {}
            }
            k += 1;
        }
        let end = k.min(c.len());
        for ch in &mut c[start..end] {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
        i = k;
    }
    c.into_iter().collect()
}

/// One path a file names, with the module it is named from (inline `mod x { }` blocks
/// included), and whether it came from a `use`.
#[derive(Debug, Clone)]
pub struct Named {
    pub from: Vec<String>,
    pub path: Vec<String>,
    pub used: bool,
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The identifier that starts at `i`, if one does.
fn word_at(c: &[char], i: usize) -> Option<String> {
    if i > 0 && is_ident(c[i - 1]) {
        return None;
    }
    let mut k = i;
    while k < c.len() && is_ident(c[k]) {
        k += 1;
    }
    (k > i).then(|| c[i..k].iter().collect())
}

/// Expand a `use` tree (`a::{b, c::{d as e}}`) into its paths, aliases dropped.
pub fn expand_use(tree: &str) -> Vec<Vec<String>> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = tree.trim().trim_start_matches("::");
    let Some(open) = tree.find('{') else {
        let plain = tree.split(" as ").next().unwrap_or("").trim();
        return vec![
            plain
                .split("::")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        ];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut cur) = (0, String::new());
    for ch in inner.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    parts.push(cur);
    let mut out = Vec::new();
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        for tail in expand_use(p) {
            let mut full = prefix.clone();
            // `a::{self, b}`: `self` is `a` itself.
            full.extend(tail.into_iter().filter(|s| s != "self"));
            out.push(full);
        }
    }
    out
}

/// The paths `code` (from [`code_of`]) names, `file` being its module path: every `use` tree,
/// and every path in code that starts `crate::`, `super::` or `self::`.
pub fn named(file: &[String], code: &str) -> Vec<Named> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    // Inline modules: (path, brace depth inside them).
    let mut stack: Vec<(Vec<String>, i32)> = vec![(file.to_vec(), 0)];
    let mut depth = 0i32;
    let mut pending_mod: Option<String> = None;
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '{' => {
                depth += 1;
                if let Some(m) = pending_mod.take() {
                    let mut p = stack.last().map(|s| s.0.clone()).unwrap_or_default();
                    p.push(m);
                    stack.push((p, depth));
                }
                i += 1;
                continue;
            }
            '}' => {
                if stack.len() > 1 && stack.last().is_some_and(|s| s.1 == depth) {
                    stack.pop();
                }
                depth -= 1;
                i += 1;
                continue;
            }
            ';' => pending_mod = None,
            _ => {}
        }
        let Some(w) = word_at(&c, i) else {
            i += 1;
            continue;
        };
        let from = stack.last().map(|s| s.0.clone()).unwrap_or_default();
        let after = i + w.chars().count();
        if w == "mod" {
            let mut k = after;
            while k < c.len() && c[k].is_whitespace() {
                k += 1;
            }
            pending_mod = word_at(&c, k);
            i = after;
        } else if w == "use" && c.get(after).is_some_and(|ch| ch.is_whitespace()) {
            let mut k = after;
            let mut d = 0;
            while k < c.len() && !(c[k] == ';' && d == 0) {
                match c[k] {
                    '{' => d += 1,
                    '}' => d -= 1,
                    _ => {}
                }
                k += 1;
            }
            let tree: String = c[after..k].iter().collect();
            for path in expand_use(&tree) {
                out.push(Named {
                    from: from.clone(),
                    path,
                    used: true,
                });
            }
            i = k;
        } else if (w == "crate" || w == "super" || w == "self")
            && c.get(after) == Some(&':')
            && c.get(after + 1) == Some(&':')
        {
            let mut path = vec![w.clone()];
            let mut k = after;
            while c.get(k) == Some(&':') && c.get(k + 1) == Some(&':') {
                match word_at(&c, k + 2) {
                    Some(seg) => {
                        k += 2 + seg.chars().count();
                        path.push(seg);
                    }
                    None => break,
                }
            }
            out.push(Named {
                from,
                path,
                used: false,
            });
            i = k;
        } else {
            i = after;
        }
    }
    out
}

/// `path` (as named from module `from`) made absolute: `crate::` dropped, `super::` and
/// `self::` applied. `None` for paths into other crates or relative ones (a module naming its
/// own children, `std::`, ...).
pub fn absolute(from: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base = match path.first().map(String::as_str) {
        Some("crate") => return Some(path[1..].to_vec()),
        Some("super") | Some("self") => from.to_vec(),
        _ => return None,
    };
    let mut rest = path;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "super" => {
                base.pop();
            }
            "self" => {}
            _ => break,
        }
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file an absolute path lands in: the longest prefix that is a file's module.
pub fn file_of<'a>(
    files: &'a BTreeMap<Vec<String>, PathBuf>,
    path: &[String],
) -> Option<&'a Vec<String>> {
    (0..=path.len())
        .rev()
        .find_map(|k| files.get_key_value(&path[..k]).map(|(key, _)| key))
}

/// Module paths of the library: its files and the inline `mod x { }` blocks outside tests.
pub fn modules(files: &BTreeMap<Vec<String>, PathBuf>) -> BTreeSet<Vec<String>> {
    let mut out: BTreeSet<Vec<String>> = files.keys().cloned().collect();
    for (m, p) in files {
        let code = code_of(&std::fs::read_to_string(p).unwrap());
        let c: Vec<char> = code.chars().collect();
        let mut i = 0;
        while i < c.len() {
            if let Some(w) = word_at(&c, i) {
                let after = i + w.chars().count();
                if w == "mod" {
                    let mut k = after;
                    while k < c.len() && c[k].is_whitespace() {
                        k += 1;
                    }
                    if let Some(name) = word_at(&c, k) {
                        let mut j = k + name.chars().count();
                        while j < c.len() && c[j].is_whitespace() {
                            j += 1;
                        }
                        if c.get(j) == Some(&'{') {
                            let mut full = m.clone();
                            full.push(name);
                            out.insert(full);
                        }
                    }
                }
                i = after;
            } else {
                i += 1;
            }
        }
    }
    out
}

/// The names `code` defines or imports: items after `fn`, `struct`, `enum`, `const`,
/// `static`, `trait`, `type`, `mod` and `macro_rules!`, and the last segment of every `use`.
pub fn defined(code: &str) -> BTreeSet<String> {
    let c: Vec<char> = code.chars().collect();
    let mut out = BTreeSet::new();
    const KEYWORDS: [&str; 9] = [
        "fn",
        "struct",
        "enum",
        "const",
        "static",
        "trait",
        "type",
        "mod",
        "macro_rules",
    ];
    let mut i = 0;
    while i < c.len() {
        let Some(w) = word_at(&c, i) else {
            i += 1;
            continue;
        };
        let after = i + w.chars().count();
        if KEYWORDS.contains(&w.as_str()) {
            let mut k = after;
            while k < c.len() && (c[k].is_whitespace() || c[k] == '!') {
                k += 1;
            }
            if let Some(name) = word_at(&c, k) {
                out.insert(name);
            }
        }
        i = after;
    }
    for n in named(&[], code).into_iter().filter(|n| n.used) {
        if let Some(last) = n.path.last() {
            out.insert(last.clone());
        }
    }
    out
}
