//! The little of Markdown the documentation tests read (`docs_*.rs`): fenced code blocks set
//! apart, headings as the anchors GitHub gives them, links, and inline code spans. Only what
//! README.md and `docs/` use; no general CommonMark parser.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One Markdown file of the repository: its path relative to the repository and its text.
pub struct Page {
    pub path: PathBuf,
    pub text: String,
}

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Read `rel` (relative to the repository) as a page.
pub fn page(rel: impl AsRef<Path>) -> Page {
    let rel = rel.as_ref();
    let text = std::fs::read_to_string(root().join(rel))
        .unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
    Page {
        path: rel.to_path_buf(),
        text,
    }
}

/// README.md and every `*.md` under `docs/` (recursively), in a stable order.
pub fn documentation() -> Vec<Page> {
    let mut found = vec![PathBuf::from("README.md")];
    collect_md(Path::new("docs"), &mut found);
    found.sort();
    found.into_iter().map(page).collect()
}

/// The guide's pages: every `*.md` in `docs/guide/`.
pub fn guide() -> Vec<Page> {
    let mut found = Vec::new();
    collect_md(Path::new("docs/guide"), &mut found);
    assert!(!found.is_empty(), "docs/guide/ has no page");
    found.sort();
    found.into_iter().map(page).collect()
}

fn collect_md(rel: &Path, found: &mut Vec<PathBuf>) {
    let dir = root().join(rel);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.unwrap();
        let rel = rel.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            collect_md(&rel, found);
        } else if rel.extension().is_some_and(|x| x == "md") {
            found.push(rel);
        }
    }
}

/// Each line of `text` with whether it lies inside a fenced code block (the fences count as
/// inside).
pub fn lines_with_fences(text: &str) -> Vec<(usize, &str, bool)> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => {
                fence = Some(m);
                out.push((i + 1, line, true));
            }
            (Some(open), Some(m)) if open == m && trimmed.trim_end() == m => {
                fence = None;
                out.push((i + 1, line, true));
            }
            (inside, _) => out.push((i + 1, line, inside.is_some())),
        }
    }
    out
}

/// The prose of `text`: every line outside fenced code blocks, with its line number.
pub fn prose(text: &str) -> impl Iterator<Item = (usize, &str)> {
    lines_with_fences(text)
        .into_iter()
        .filter(|(_, _, fenced)| !fenced)
        .map(|(n, line, _)| (n, line))
}

/// The anchor GitHub gives a heading: lower case, code marks and punctuation dropped, spaces
/// as hyphens (`Script against store: \`policy diff\`` → `script-against-store-policy-diff`).
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The headings of `text` (ATX, `#` to `######`, outside code blocks), in order.
pub fn headings(text: &str) -> Vec<String> {
    prose(text)
        .filter_map(|(_, line)| {
            let hashes = line.chars().take_while(|c| *c == '#').count();
            let rest = line.get(hashes..)?;
            ((1..=6).contains(&hashes) && rest.starts_with(' ')).then(|| rest.trim().to_string())
        })
        .collect()
}

/// Every anchor of `text`: each heading's slug, a repeated one numbered `-1`, `-2`, ... as
/// GitHub numbers them.
pub fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let mut out = BTreeSet::new();
    for h in headings(text) {
        let base = slug(&h);
        let n = seen.entry(base.clone()).or_default();
        out.insert(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// The paragraphs of `text` outside fenced code blocks: runs of non-blank lines, joined with
/// `\n`, each with the number of its first line. A code span or a link may cross a line
/// break inside a paragraph, never a paragraph's end.
pub fn paragraphs(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for (n, line, fenced) in lines_with_fences(text) {
        if fenced || line.trim().is_empty() {
            open = false;
            continue;
        }
        match out.last_mut() {
            Some((_, para)) if open => {
                para.push('\n');
                para.push_str(line);
            }
            _ => out.push((n, line.to_string())),
        }
        open = true;
    }
    out
}

/// The inline code spans of a paragraph, each with the number of the line it starts on
/// (counted from the paragraph's first line, 0), its content trimmed and its line breaks made
/// spaces. Runs of backticks open and close spans of the same length, as CommonMark says.
pub fn code_spans(paragraph: &str) -> Vec<(usize, String)> {
    span_ranges(paragraph)
        .into_iter()
        .map(|(inner, whole)| {
            let line = paragraph[..whole.start].matches('\n').count();
            (line, paragraph[inner].replace('\n', " ").trim().to_string())
        })
        .collect()
}

/// Where each code span of `text` is: its content, and the whole span with its backticks.
fn span_ranges(text: &str) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find('`') {
        let start = at + found;
        let ticks = text[start..].chars().take_while(|c| *c == '`').count();
        let inner = start + ticks;
        // The closing run has exactly as many backticks.
        let mut search = inner;
        let mut close = None;
        while let Some(f) = text[search..].find('`') {
            let s = search + f;
            let run = text[s..].chars().take_while(|c| *c == '`').count();
            if run == ticks {
                close = Some(s);
                break;
            }
            search = s + run;
        }
        let Some(end) = close else {
            // No closing run: the backticks are literal.
            at = inner;
            continue;
        };
        out.push((inner..end, start..end + ticks));
        at = end + ticks;
    }
    out
}

/// The text with its code spans blanked out (line breaks kept), so what they hold is not read
/// as a link.
fn without_code_spans(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (_, whole) in span_ranges(text) {
        out.push_str(&text[at..whole.start]);
        out.extend(
            text[whole.clone()]
                .chars()
                .map(|c| if c == '\n' { c } else { ' ' }),
        );
        at = whole.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The link targets of `text` outside code: `[text](target)` and `![alt](target)`, with the
/// number of the line their `](` is on.
pub fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (first, para) in paragraphs(text) {
        let para = without_code_spans(&para);
        let mut at = 0;
        while let Some(i) = para[at..].find("](") {
            let start = at + i + 2;
            let Some(end) = para[start..].find(')') else {
                break;
            };
            // `[text](target "title")`: the target is the first word.
            let target = para[start..start + end]
                .split_whitespace()
                .next()
                .unwrap_or("");
            let line = first + para[..start].matches('\n').count();
            out.push((line, target.to_string()));
            at = start + end;
        }
    }
    out
}
