//! A real browser for the HTML report tests: Debian's `chromium`, headless. [`open`] loads a
//! page and returns the DOM Chromium built from it (`--dump-dom`) and every console message it
//! logged (`--enable-logging=stderr`: lines with `:CONSOLE`, which include Content-Security-
//! Policy violations); [`screenshot`] writes a PNG. [`check_report_page`] holds a rendered
//! report to its JSON: as many matrix cells and findings in the DOM, no console message.
//! Without chromium the tests skip, unless `RPCAUDIT_LAB_REQUIRED` is set (the README's test
//! command sets it and installs chromium): then they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one chromium run may take.
const DEADLINE: Duration = Duration::from_secs(120);

/// The chromium binary on PATH; None (the test skips) when it is missing and not required.
pub fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("RPCAUDIT_LAB_REQUIRED").is_none(),
            "chromium is required but not installed (Debian package chromium)"
        );
        eprintln!("SKIPPED: chromium is not installed (Debian package chromium)");
    }
    found
}

/// What chromium made of a page.
pub struct Page {
    /// The serialised DOM after loading.
    pub dom: String,
    /// Console messages (script errors, CSP violations, console.* calls).
    pub console: Vec<String>,
}

/// Run chromium headless with `args` and `url` under [`DEADLINE`]; returns (stdout, stderr).
fn run(chromium: &Path, args: &[&str], url: &str) -> (String, String) {
    let profile = tempfile::tempdir().expect("a chromium profile directory");
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let output = super::wait_with_deadline(child, DEADLINE)
        .expect("wait for chromium")
        .unwrap_or_else(|| panic!("chromium did not finish within {DEADLINE:?} on {url}"));
    // (Text that is not UTF-8 reads as nothing, as read_to_string left it.)
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap_or_default();
    let (out, err) = (text(output.stdout), text(output.stderr));
    let status = output.status;
    assert!(status.success(), "chromium {args:?} {url}: {status}\n{err}");
    (out, err)
}

fn url_of(html: &Path) -> String {
    let abs = std::fs::canonicalize(html).expect("the page exists");
    format!("file://{}", abs.display())
}

/// Load `html` and return its DOM and console messages.
pub fn open(chromium: &Path, html: &Path) -> Page {
    let (dom, err) = run(chromium, &["--dump-dom"], &url_of(html));
    let console = err
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Page { dom, console }
}

/// Write a 1280×900 screenshot of `html` to `png`.
pub fn screenshot(chromium: &Path, html: &Path, png: &Path) {
    if let Some(dir) = png.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let _ = std::fs::remove_file(png);
    run(
        chromium,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,900",
            "--hide-scrollbars",
        ],
        &url_of(html),
    );
    let bytes = std::fs::read(png).expect("chromium wrote the screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 900), "screenshot size");
}

/// Where the tests put their screenshots (under `target/`, for people to look at).
pub fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("html-report")
        .join(format!("{name}.png"))
}

/// Open `html` (rendered from `report`), hold it to the report and take its screenshot as
/// `name`; returns the page for further checks.
pub fn check_report_page(
    chromium: &Path,
    html: &Path,
    report: &serde_json::Value,
    name: &str,
) -> Page {
    let page = open(chromium, html);
    assert!(
        page.console.is_empty(),
        "{name}: console messages:\n{}",
        page.console.join("\n")
    );
    let cells = report["matrix"].as_array().expect("matrix").len();
    let findings = report["findings"].as_array().expect("findings").len();
    assert_eq!(
        page.dom.matches(" data-cell=\"").count(),
        cells,
        "{name}: matrix cells in the DOM"
    );
    assert_eq!(
        page.dom.matches(" data-finding=\"").count(),
        findings,
        "{name}: findings in the DOM"
    );
    // The report's own content made it into the DOM (the page was not blank).
    assert!(
        page.dom.contains("COMPLIANT") || page.dom.contains("INCOMPLETE"),
        "{name}: no verdict in the DOM"
    );
    assert!(
        !page.dom.contains("<script") && !page.dom.contains("<img"),
        "{name}: the DOM holds a script or an image element"
    );
    let png = screenshot_path(name);
    screenshot(chromium, html, &png);
    eprintln!("{name}: screenshot at {}", png.display());
    page
}
