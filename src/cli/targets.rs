//! The TARGET arguments every scanning command takes (`dump`, `capacity`, `audit`, `probe`),
//! defined once and flattened into each command's `Args`: the targets, `--exclude`,
//! `--exclude-file` and `--max-hosts`. [`TargetArgs::expand`] is the first step of each of
//! those commands, before any packet is sent.

use super::Error;
use crate::target::{Exclusions, MAX_TARGETS, Target};
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
    /// Hosts: IPv4/IPv6 addresses, host names, CIDR blocks (192.0.2.0/24), ranges
    /// (192.0.2.1-192.0.2.9, nmap's 192.0.2.1-254 and 192.0.2-3.1-254), or @FILE with one per
    /// line.
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Leave these out of the scope: the same forms as TARGET. Repeatable.
    #[arg(long, value_name = "TARGET")]
    pub exclude: Vec<String>,
    /// Leave out the targets FILE lists (one per line, as an @FILE target). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub exclude_file: Vec<PathBuf>,
    /// Refuse a scope of more than N hosts (after --exclude), before anything is sent.
    #[arg(long, value_name = "N", default_value_t = MAX_TARGETS as u64,
          value_parser = clap::value_parser!(u64).range(1..=16_777_216))]
    pub max_hosts: u64,
}

impl TargetArgs {
    /// The scope: the targets, less the exclusions, within `--max-hosts`; none at all is an
    /// error.
    pub fn expand(&self) -> Result<Vec<Target>, Error> {
        let exclude = Exclusions::parse(&self.exclude, &self.exclude_file)?;
        let targets = crate::target::expand_within(
            &self.targets,
            &exclude,
            usize::try_from(self.max_hosts).unwrap_or(usize::MAX),
        )?;
        if targets.is_empty() {
            return Err(if exclude.is_empty() {
                Error::NoTargets
            } else {
                Error::AllExcluded
            });
        }
        Ok(targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Every scanning command takes the same target flags.
    #[test]
    fn every_scanning_command_takes_the_target_flags() {
        for cmd in ["dump", "capacity", "audit", "probe"] {
            let mut argv = vec!["rpcaudit", cmd, "192.0.2.0/30", "--exclude", "192.0.2.2"];
            argv.extend(["--max-hosts", "3"]);
            if cmd == "audit" {
                argv.extend(["--policy", "p.cmd"]);
            }
            let cli = super::super::Cli::try_parse_from(&argv).unwrap();
            let t = match cli.command {
                super::super::Command::Dump(a) => a.targets,
                super::super::Command::Capacity(a) => a.targets,
                super::super::Command::Audit(a) => a.targets,
                super::super::Command::Probe(a) => a.targets,
                _ => unreachable!(),
            };
            let got: Vec<String> = t.expand().unwrap().iter().map(|t| t.to_string()).collect();
            assert_eq!(got, ["192.0.2.1"], "{cmd}");
            argv[4] = "192.0.2.1-2";
            let cli = super::super::Cli::try_parse_from(&argv).unwrap();
            if let super::super::Command::Dump(a) = cli.command {
                assert!(matches!(a.targets.expand(), Err(Error::AllExcluded)));
            }
        }
        let e = super::super::Cli::try_parse_from(["rpcaudit", "dump", "x", "--max-hosts", "0"]);
        assert!(e.is_err());
    }
}
