//! `rpcaudit man`: one man page (section 1) for the whole binary, from the clap definition:
//! the top command's NAME, SYNOPSIS, DESCRIPTION and OPTIONS as clap_mangen renders them, then
//! COMMANDS, where every command (`rpcaudit policy lint` and the other nested ones too) has its
//! description, synopsis and options, then EXIT STATUS, ENVIRONMENT and SEE ALSO. One page
//! rather than one per command, so `rpcaudit man > rpcaudit.1` installs all of it.

use crate::cli::{Error, Exit, out};
use clap_mangen::Man;
use roff::{Roff, bold, roman};

#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// What each exit code means, as the README's table says it.
pub const EXIT_STATUS: &[(Exit, &str)] = &[
    (Exit::Ok, "compliant, nothing wrong"),
    (Exit::Findings, "at least one finding of severity error"),
    (
        Exit::Usage,
        "bad input or usage (the message names the argument, file or line)",
    ),
    (
        Exit::Incomplete,
        "incomplete: a target could not be fully examined, or the run was interrupted",
    ),
];

/// The environment variables rpcaudit reads, and what for.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "RPCAUDIT_PASSWORD",
        "the password of --user, when no --password-file or --nt-hash-file is given",
    ),
    (
        "RPCAUDIT_NT_HASH",
        "an NT hash for --user instead of a password",
    ),
    (
        "RUST_LOG",
        "log levels of rpcaudit's own events (as -v, -vv, -vvv); other crates' events are never shown",
    ),
    ("NO_COLOR", "no colours, even on a terminal"),
];

pub fn run(_: ManArgs) -> Result<Exit, Error> {
    out(page()?);
    Ok(Exit::Ok)
}

/// The whole page, as roff.
pub fn page() -> Result<String, Error> {
    let top = super::command().disable_help_subcommand(true);
    let man = Man::new(top.clone());
    let mut page = rendered(|w| man.render_title(w))?;
    let mut add = |text: String| page.push_str(without_preamble(&text));
    add(rendered(|w| man.render_name_section(w))?);
    add(rendered(|w| man.render_synopsis_section(w))?);
    add(rendered(|w| man.render_description_section(w))?);
    add(rendered(|w| man.render_options_section(w))?);
    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    commands.text([roman(
        "Each command with its own flags; the global flags above apply to every one.",
    )]);
    add(rendered(|w| commands.to_writer(w))?);
    for cmd in leaves(&top) {
        let mut heading = Roff::new();
        heading.control("SS", [cmd.get_bin_name().unwrap_or(cmd.get_name())]);
        add(rendered(|w| heading.to_writer(w))?);
        // The global flags and --help are on the page once, under OPTIONS.
        let sub = Man::new(cmd.clone().mut_args(|a| {
            let shared = a.is_global_set() || a.get_id() == "help";
            a.hide(shared)
        }));
        add(as_paragraphs(&rendered(|w| {
            sub.render_description_section(w)
        })?));
        add(as_paragraphs(&rendered(|w| {
            sub.render_synopsis_section(w)
        })?));
        add(as_paragraphs(&rendered(|w| sub.render_options_section(w))?));
    }
    add(rendered(|w| closing_sections().to_writer(w))?);
    add(rendered(|w| man.render_version_section(w))?);
    Ok(page)
}

/// What one renderer writes, as text.
fn rendered(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result<String, Error> {
    let mut buf = Vec::new();
    render(&mut buf).map_err(|e| Error::Generate {
        what: "man page",
        reason: e.to_string(),
    })?;
    super::text(buf, "man page")
}

/// The commands that do something (`rpcaudit audit`, `rpcaudit policy lint`): every command
/// without subcommands of its own, in the order `--help` lists them.
fn leaves(cmd: &clap::Command) -> Vec<&clap::Command> {
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .collect();
    if subs.is_empty() {
        return vec![cmd];
    }
    subs.into_iter().flat_map(leaves).collect()
}

/// EXIT STATUS, ENVIRONMENT and SEE ALSO.
fn closing_sections() -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (exit, meaning) in EXIT_STATUS {
        roff.control("TP", []);
        roff.text([bold(exit.code().to_string())]);
        roff.text([roman(*meaning)]);
    }
    roff.control("PP", []);
    roff.text([roman(
        "A run both incomplete and with error findings exits 3. Output that could not be \
         written (stdout, a report file) ends the run with 2.",
    )]);
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, what) in ENVIRONMENT {
        roff.control("TP", []);
        roff.text([bold(*name)]);
        roff.text([roman(*what)]);
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([
        bold("rpcaudit help"),
        roman(
            " COMMAND; the guide, docs/guide/ in rpcaudit's source (its README links every page).",
        ),
    ]);
    roff
}

/// `text` without roff's preamble (the definition of the apostrophe string), which every
/// rendered part repeats; the page keeps the title's.
fn without_preamble(text: &str) -> &str {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    text.strip_prefix(PREAMBLE).unwrap_or(text)
}

/// A section clap_mangen renders for a whole page, set as paragraphs under the command's
/// heading: its `.SH` line becomes a paragraph break.
fn as_paragraphs(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.starts_with(".SH ") {
                ".PP"
            } else {
                line
            }
        })
        .fold(String::new(), |mut out, line| {
            out.push_str(line);
            out.push('\n');
            out
        })
}
