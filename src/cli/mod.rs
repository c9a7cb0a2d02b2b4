//! Command-line definition and dispatch: the outermost layer of the flow. Each subcommand lives
//! in a file of its own with its `clap::Args` and a `run` that returns `Result<`[`Exit`]`,`
//! [`Error`]`>`; [`main`] prints the error, the one place that does; flags are documented once,
//! here and in those `Args` structs.
//!
//! Everything this binary prints leaves through [`out`]/[`outln`] (stdout), [`errln`]
//! (stderr) or the log writer [`InertStderr`], and each passes its text through
//! [`inert::terminal`], the backstop that lets no control character but LF and TAB, and no
//! escape sequence but our own colours, reach a terminal. Untrusted strings are escaped one by
//! one before that, where they are rendered ([`inert::field`], [`inert::cell`]).

use crate::inert;
use clap::{Parser, Subcommand};

pub mod audit;
pub mod capacity;
pub mod demo;
pub mod dump;
pub mod error;
pub mod files;
pub mod generate;
pub mod interfaces;
pub mod lab;
pub mod policy;
pub mod probe;
pub mod progress;
pub mod report;
pub mod stream;
pub mod targets;
pub mod values;

pub use error::Error;

/// How a run ended, as the exit-code contract of docs/DESIGN.md says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: compliant, nothing wrong.
    Ok,
    /// 1: at least one finding of severity error.
    Findings,
    /// 2: bad input or usage.
    Usage,
    /// 3: incomplete: a target could not be fully examined.
    Incomplete,
}

impl Exit {
    /// The contract for a run that examined targets: 3 when something could not be fully
    /// examined (an incomplete answer must not pass for a complete one), else 1 when a finding
    /// has severity error, else 0.
    pub fn for_outcome(complete: bool, worst: Option<crate::finding::Severity>) -> Exit {
        if !complete {
            Exit::Incomplete
        } else if worst == Some(crate::finding::Severity::Error) {
            Exit::Findings
        } else {
            Exit::Ok
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Findings => 1,
            Exit::Usage => 2,
            Exit::Incomplete => 3,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "rpcaudit",
    version,
    about = "Verify and audit Windows RPC endpoint exposure (KB908472: RPC port range + IPsec/firewall fence)",
    long_about = None
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress bar on stderr (there is none anyway when stderr is not a terminal).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole check: dump, count, probe and compare with the intended policy.
    Audit(Box<audit::AuditArgs>),
    /// Dump the endpoint mapper of each target, like rpcdump: over TCP 135, or --transport smb, http, udp, auto.
    Dump(dump::DumpArgs),
    /// Which interfaces each target's calls reach: dump, then bind to each interface registered on TCP and call an opnum beyond its last method (nothing runs).
    Interfaces(Box<interfaces::InterfacesArgs>),
    /// Read the intended policy: lint it, explain a decision, show the RPC dynamic range.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Probe TCP ports of the targets from chosen source addresses.
    Probe(probe::ProbeArgs),
    /// Count each target's dynamic TCP endpoints against the configured RPC port range.
    Capacity(capacity::CapacityArgs),
    /// Work with saved reports: render one as a self-contained HTML page.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Run a full audit against an embedded endpoint mapper on loopback (no Windows needed).
    Demo(demo::DemoArgs),
    /// Lab helpers: serve a fixture endpoint mapper.
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    Completions(generate::completions::CompletionsArgs),
    /// Print the man page: every command and flag on one page (roff, section 1).
    Man(generate::man::ManArgs),
}

/// The whole binary: parse the command line, run the command, and print what went wrong, if
/// anything. The one place that prints errors: clap's messages (they quote the arguments, a
/// target, a file name) and the commands' [`Error`]s alike leave through [`inert::terminal`].
pub fn main() -> Exit {
    let exit = match parse().and_then(run) {
        Ok(exit) => exit,
        Err(Error::Clap(e)) => clap_output(&e),
        Err(e) => {
            errln(format!("rpcaudit: {}", inert::field(&e.to_string())));
            e.exit()
        }
    };
    // What the user asked for did not all reach stdout: whatever the result was, the run
    // did not deliver it ([`out`] said why when it happened).
    if stdout_failed() { Exit::Usage } else { exit }
}

/// Parse the command line.
pub fn parse() -> Result<Cli, Error> {
    Ok(Cli::try_parse()?)
}

/// Print clap's text, coloured as clap would colour it: help and version on stdout (exit 0),
/// errors on stderr (exit 2).
fn clap_output(e: &clap::Error) -> Exit {
    use std::io::IsTerminal;
    let terminal = if e.use_stderr() {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let styled = e.render();
    let text = if audit::color_wanted(terminal, std::env::var_os("NO_COLOR").as_deref()) {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    if e.use_stderr() {
        errln(text.trim_end_matches('\n'));
        Exit::Usage
    } else {
        out(text);
        Exit::Ok
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    init_logging(cli.verbose);
    progress::set_quiet(cli.quiet);
    match cli.command {
        Command::Audit(args) => audit::run(*args),
        Command::Dump(args) => dump::run(args),
        Command::Interfaces(args) => interfaces::run(*args),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Probe(args) => probe::run(args),
        Command::Capacity(args) => capacity::run(args),
        Command::Lab(cmd) => lab::run(cmd),
        Command::Demo(args) => demo::run(args),
        Command::Report(cmd) => report::run(cmd),
        Command::Completions(args) => generate::completions::run(args),
        Command::Man(args) => generate::man::run(args),
    }
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{EnvFilter, filter::filter_fn, fmt};
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let levels = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours in log lines only on a terminal (and never with NO_COLOR), like everything else.
    let ansi = {
        use std::io::IsTerminal;
        audit::color_wanted(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        )
    };
    let layer = fmt::layer()
        .with_writer(InertStderr)
        .with_ansi(ansi)
        .with_target(false)
        .with_filter(levels)
        .with_filter(filter_fn(|meta| is_own_log(meta.target())));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// The one log filter `RUST_LOG` cannot lift: only rpcaudit's own spans and events are
/// written. The NTLM library (`sspi`) and the crates under it log challenges, whole
/// AUTHENTICATE messages, session keys and clear stubs at debug and trace; a directive such as
/// `RUST_LOG=sspi::ntlm=trace` is more specific than any `sspi=off` added beside it, so a deny
/// directive would not hold. `RUST_LOG` still sets rpcaudit's own levels.
fn is_own_log(target: &str) -> bool {
    target == "rpcaudit" || target.starts_with("rpcaudit::")
}

/// The file-descriptor budget of this run ([`crate::budget`]): on first use, the soft
/// `RLIMIT_NOFILE` is raised to the hard limit and the default concurrencies derived from it;
/// `-v` says what was chosen. When the limit cannot be read, 1024 is assumed.
pub fn fd_budget() -> crate::budget::Budget {
    static BUDGET: std::sync::OnceLock<crate::budget::Budget> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        let nofile = match crate::budget::raise_nofile() {
            Ok(r) => {
                if r.after != r.before {
                    tracing::info!(
                        "file descriptors: soft limit raised from {} to the hard limit, {}",
                        r.before,
                        r.after
                    );
                }
                r.after
            }
            Err(e) => {
                tracing::warn!("file descriptors: cannot read or raise the limit ({e}); assuming 1024");
                1024
            }
        };
        let b = crate::budget::derive(nofile);
        tracing::info!(
            "file descriptors: limit {}; by default {} hosts and {} probes in flight at once (--concurrency sets them)",
            b.nofile,
            b.hosts,
            b.probes
        );
        b
    })
}

/// Build the multi-threaded tokio runtime the network commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}

/// Print `value` as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), Error> {
    let text = inert::to_json_pretty(value).map_err(Error::Json)?;
    outln(&text);
    Ok(())
}

/// Write a line to stderr through [`inert::terminal`]. Errors writing to stderr are ignored:
/// there is nowhere left to report them.
pub fn errln(text: impl AsRef<str>) {
    use std::io::Write;
    let safe = inert::terminal(text.as_ref());
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(safe.as_bytes())
        .and_then(|()| stderr.write_all(b"\n"));
}

/// Set once a write to stdout failed; [`main`] then exits 2.
static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a write to stdout has failed during this run.
pub fn stdout_failed() -> bool {
    STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Write a result to stdout through [`inert::terminal`]. A write that fails (a full disk, a
/// closed pipe as in `rpcaudit ... | head`) is said once on stderr, nothing more is written to
/// stdout, and the run ends with exit 2 whatever it found ([`main`]): output the user asked
/// for that did not arrive is never a success.
pub fn out(text: impl AsRef<str>) {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    if stdout_failed() {
        return;
    }
    let safe = inert::terminal(text.as_ref());
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(safe.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = written
        && !STDOUT_FAILED.swap(true, Ordering::Relaxed)
    {
        let why = if e.kind() == std::io::ErrorKind::BrokenPipe {
            "the reader closed the pipe before the whole result was written".to_string()
        } else {
            e.to_string()
        };
        errln(format!(
            "rpcaudit: cannot write the result to stdout: {why}"
        ));
    }
}

/// [`out`] with a newline.
pub fn outln(text: impl AsRef<str>) {
    out(format!("{}\n", text.as_ref()));
}

/// The log writer: stderr, each event passed through [`inert::terminal`] (the fmt layer writes
/// one event per `write` call, so an event is filtered whole).
#[derive(Debug, Clone, Copy, Default)]
pub struct InertStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for InertStderr {
    type Writer = InertWrite<std::io::Stderr>;
    fn make_writer(&'a self) -> Self::Writer {
        InertWrite(std::io::stderr())
    }
}

/// A writer that passes what it is given through [`inert::terminal`] to `W`.
#[derive(Debug)]
pub struct InertWrite<W>(pub W);

impl<W: std::io::Write> std::io::Write for InertWrite<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(inert::terminal(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A shared buffer the test reads after the subscriber wrote to it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_our_own_logs_pass_whatever_rust_log_names() {
        assert!(is_own_log("rpcaudit"));
        assert!(is_own_log("rpcaudit::epm::client"));
        for other in [
            "sspi",
            "sspi::ntlm",
            "picky_krb::messages",
            "rpcauditx",
            "tokio",
            "",
        ] {
            assert!(!is_own_log(other), "{other}");
        }
    }

    #[test]
    fn log_lines_are_filtered_by_the_backstop() {
        let buf = Shared::default();
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || InertWrite(sink.clone()))
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!("annotation {}", "a\x1b]0;pwned\x07\r\u{202e}b");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("annotation a"), "{text}");
        assert!(
            !text.contains(['\x1b', '\x07', '\r', '\u{202e}']),
            "{text:?}"
        );
        // The backstop's escapes (CR as `\x0d`), one line.
        assert!(
            text.contains("a\\x1b]0;pwned\\x07\\x0d\\u{202e}b"),
            "{text}"
        );
        assert!(
            text.ends_with('\n') && text.lines().count() == 1,
            "{text:?}"
        );
    }
}
