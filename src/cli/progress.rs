//! The progress bar of a scan (`dump`, `capacity`, `audit`): an indicatif bar on stderr with
//! hosts done/total, probes, errors, rate and ETA, fed by the per-host pipeline as each host is
//! emitted. Nothing is drawn when stderr is not a terminal or with `--quiet`. The only host
//! text it shows, the last target, goes through [`inert::cell`] first.

use crate::inert;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress bar for the rest of the run.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether a bar is drawn: on a terminal, without `--quiet`, for more than one host.
pub fn wanted(terminal: bool, quiet: bool, hosts: usize) -> bool {
    terminal && !quiet && hosts > 1
}

/// The bar and its counters.
pub struct Progress {
    bar: indicatif::ProgressBar,
    probes: usize,
    errors: usize,
}

impl Progress {
    /// A bar for `hosts` hosts, drawn only when [`wanted`].
    pub fn new(hosts: usize) -> Self {
        use std::io::IsTerminal;
        let shown = wanted(
            std::io::stderr().is_terminal(),
            QUIET.load(Ordering::Relaxed),
            hosts,
        );
        let p = Progress::with_target(
            hosts,
            if shown {
                indicatif::ProgressDrawTarget::stderr()
            } else {
                indicatif::ProgressDrawTarget::hidden()
            },
        );
        if shown {
            // Redrawn while a slow host holds everything up, so rate and ETA stay current.
            p.bar
                .enable_steady_tick(std::time::Duration::from_millis(250));
        }
        p
    }

    fn with_target(hosts: usize, target: indicatif::ProgressDrawTarget) -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(Some(hosts as u64), target);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} hosts  {msg}  {per_sec}  ETA {eta}",
        ) {
            bar.set_style(style);
        }
        Progress {
            bar,
            probes: 0,
            errors: 0,
        }
    }

    /// One host done: `target` as given (untrusted text), whether it failed, its probes.
    pub fn host_done(&mut self, target: &str, failed: bool, probes: usize) {
        self.probes += probes;
        self.errors += usize::from(failed);
        self.bar.set_message(self.message(target));
        self.bar.inc(1);
    }

    fn message(&self, target: &str) -> String {
        format!(
            "{} probes, {} errors, last {}",
            self.probes,
            self.errors,
            inert::cell(target)
        )
    }

    /// Remove the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_only_on_a_terminal_without_quiet() {
        assert!(wanted(true, false, 2));
        assert!(!wanted(false, false, 2));
        assert!(!wanted(true, true, 2));
        assert!(!wanted(true, false, 1));
    }

    #[test]
    fn host_text_is_inert_in_the_message() {
        let mut p = Progress::with_target(3, indicatif::ProgressDrawTarget::hidden());
        p.host_done("a", false, 22);
        p.host_done("evil\x1b]0;pwned\x07\u{202e}", true, 1);
        let m = p.message("evil\x1b]0;pwned\x07\u{202e}");
        assert!(m.starts_with("23 probes, 1 errors, last evil"), "{m}");
        assert!(!m.contains(['\x1b', '\x07', '\u{202e}']), "{m:?}");
        assert_eq!(p.bar.position(), 2);
    }
}
