//! The documentation stays true where a test can tell: README.md stays short and keeps its
//! two quick-start commands (the one `.ci/run` runs), and every relative link of README.md and
//! `docs/` leads to a file, and its `#anchor` to a heading there. The flags are checked against
//! `--help` in `docs_flags.rs`.

mod support;

use std::path::{Component, Path, PathBuf};
use support::markdown::{self, Page};

/// "At most about 15 KB" (issue 29): the README says what rpcaudit is and where to read more;
/// the rest belongs in the guide.
const README_MAX_BYTES: usize = 15 * 1024;

#[test]
fn the_readme_is_short() {
    let readme = markdown::page("README.md");
    assert!(
        readme.text.len() <= README_MAX_BYTES,
        "README.md is {} bytes, more than {README_MAX_BYTES}: move the detail into docs/guide/",
        readme.text.len()
    );
}

/// The fenced commands of the section under `heading` (`## heading`).
fn commands_under(page: &Page, heading: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for (_, line, fenced) in markdown::lines_with_fences(&page.text) {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.trim() == heading;
        } else if inside && fenced && !line.trim_start().starts_with("```") {
            out.push(line.trim().to_string());
        }
    }
    out
}

#[test]
fn quick_start_is_two_commands_and_ci_runs_the_second() {
    let readme = markdown::page("README.md");
    assert_eq!(
        commands_under(&readme, "Quick start"),
        ["cargo run --release -- demo"],
        "the Quick start builds and runs the main job in one command"
    );
    assert_eq!(
        commands_under(&readme, "Test"),
        ["scripts/test-all.sh"],
        "the Test section runs every test in one command"
    );
    let ci = markdown::page(".ci/run");
    let run: Vec<&str> = ci
        .text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with("set ") && !l.starts_with("cd "))
        .collect();
    assert_eq!(
        run,
        ["scripts/test-all.sh"],
        ".ci/run runs exactly the README's test command"
    );
}

/// `target` of a link in `from`, as a path inside the repository, or why it is not one.
fn resolve(from: &Path, target: &str) -> Result<PathBuf, String> {
    let base = from.parent().unwrap_or(Path::new(""));
    let mut out = PathBuf::new();
    for part in base.join(target).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err("leaves the repository".into());
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err("is absolute; link relatively".into());
            }
        }
    }
    Ok(out)
}

/// Every broken relative link of `pages`, as `file:line: target: why`.
fn broken_links(pages: &[Page]) -> Vec<String> {
    let mut broken = Vec::new();
    for page in pages {
        for (line, target) in markdown::links(&page.text) {
            let at = format!("{}:{line}: {target}", page.path.display());
            // A scheme (https:, mailto:) is not a file of this repository.
            if target
                .split_once(':')
                .is_some_and(|(s, _)| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()))
            {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            if file.is_empty() {
                // An anchor into this page.
                if let Some(anchor) = anchor.filter(|a| !markdown::anchors(&page.text).contains(*a))
                {
                    broken.push(format!("{at}: no heading {anchor} on this page"));
                }
                continue;
            }
            let path = match resolve(&page.path, file) {
                Ok(p) => p,
                Err(why) => {
                    broken.push(format!("{at}: {why}"));
                    continue;
                }
            };
            let full = markdown::root().join(&path);
            if !full.exists() {
                broken.push(format!("{at}: no such file {}", path.display()));
                continue;
            }
            let Some(anchor) = anchor else { continue };
            if path.extension().is_none_or(|x| x != "md") {
                broken.push(format!("{at}: an anchor into a file that is not Markdown"));
                continue;
            }
            let text = std::fs::read_to_string(&full).unwrap();
            if !markdown::anchors(&text).contains(anchor) {
                broken.push(format!("{at}: no heading {anchor} in {}", path.display()));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_leads_to_a_file_and_a_heading() {
    let pages = markdown::documentation();
    assert!(
        pages
            .iter()
            .any(|p| p.path == Path::new("docs/guide/README.md")),
        "the guide's index is read"
    );
    let links: usize = pages.iter().map(|p| markdown::links(&p.text).len()).sum();
    assert!(links > 50, "only {links} links read: the reader is broken");
    let broken = broken_links(&pages);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_broken_link_or_anchor_is_found() {
    let page = |text: &str| Page {
        path: PathBuf::from("docs/guide/x.md"),
        text: text.to_string(),
    };
    let good = page(
        "# Top\n[a](audit.md#what-audit-does) [b](../DESIGN.md) [c](#top) [d](https://example.org/x)\n",
    );
    assert_eq!(broken_links(&[good]), Vec::<String>::new());
    let bad = page(
        "[a](nowhere.md)\n[b](audit.md#no-such-heading)\n[c](#nor-here)\n[d](/etc/passwd)\n[e](../../../x.md)\n",
    );
    let found = broken_links(&[bad]);
    assert_eq!(found.len(), 5, "{found:#?}");
}

#[test]
fn markdown_reading_skips_code_and_numbers_repeated_headings() {
    let text = "# A\n[x](a.md#b) `[no](c.md)`\n```sh\n# not a heading\n[no](d.md)\n```\n## A\n\
                `a span\n[across](e.md) lines` and [a link\nacross](f.md) lines; `` ` `` [g](g.md)\n";
    assert_eq!(
        markdown::links(text),
        [(2, "a.md#b"), (10, "f.md"), (10, "g.md")].map(|(n, t)| (n, t.to_string()))
    );
    assert_eq!(
        markdown::code_spans("`a`, `` ` ``, `b\nc` and ``` `` ``` or ` unclosed"),
        [(0, "a"), (0, "`"), (0, "b c"), (1, "``")].map(|(n, s)| (n, s.to_string()))
    );
    assert_eq!(
        markdown::anchors(text).into_iter().collect::<Vec<_>>(),
        ["a", "a-1"]
    );
    assert_eq!(
        markdown::slug("Script against store: `policy diff`"),
        "script-against-store-policy-diff"
    );
    assert_eq!(
        markdown::slug("Vantage points in many subnets (Ansible)"),
        "vantage-points-in-many-subnets-ansible"
    );
}
