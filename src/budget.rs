//! The file-descriptor budget: how many sockets a run may hold open at once, and how they are
//! shared between endpoint-mapper dumps (one socket per host in flight) and probes (one socket
//! per probe in flight). The first step of every scanning command: [`raise_nofile`] lifts the
//! soft `RLIMIT_NOFILE` to the hard limit (as nmap and RustScan do), and [`derive()`], a pure
//! function, turns the limit in force into the default concurrencies; `cli` reports the choice
//! at `-v`.

/// Descriptors kept back for stdio, log and report files, the runtime and the resolver.
pub const RESERVED_FDS: u64 = 64;
/// Most hosts dumped at once by default, however many descriptors there are: each dump also
/// costs decoding time, and 256 keeps a slow host from holding many others back.
pub const MAX_HOSTS_IN_FLIGHT: usize = 256;
/// Most probes in flight at once by default: enough for a /24 with 22 filtered ports (5,588
/// probes) to be in flight together, so such a sweep ends after one timeout budget.
pub const MAX_PROBES_IN_FLIGHT: usize = 8192;

/// The default concurrencies for a soft limit of `nofile` descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The soft `RLIMIT_NOFILE` the defaults were derived from.
    pub nofile: u64,
    /// Hosts whose endpoint mapper is dumped at once.
    pub hosts: usize,
    /// Probes in flight at once.
    pub probes: usize,
}

/// Share `nofile` descriptors out: [`RESERVED_FDS`] kept back, a sixteenth of the rest for
/// hosts (at most [`MAX_HOSTS_IN_FLIGHT`]), what remains for probes (at most
/// [`MAX_PROBES_IN_FLIGHT`]); at least one of each, and never more than the limit allows in
/// total when it allows more than the reserve and two.
pub fn derive(nofile: u64) -> Budget {
    let usable = nofile.saturating_sub(RESERVED_FDS).max(2);
    let hosts = (usable / 16).clamp(1, MAX_HOSTS_IN_FLIGHT as u64);
    let probes = (usable - hosts).clamp(1, MAX_PROBES_IN_FLIGHT as u64);
    Budget {
        nofile,
        hosts: usize::try_from(hosts).unwrap_or(1),
        probes: usize::try_from(probes).unwrap_or(1),
    }
}

/// The soft limit before and after raising it to the hard limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    pub before: u64,
    pub after: u64,
}

/// Raise the soft `RLIMIT_NOFILE` to the hard limit. On systems without rlimits, or when the
/// limit cannot be read, the error says why; the caller then assumes a conservative limit.
pub fn raise_nofile() -> std::io::Result<Raised> {
    #[cfg(unix)]
    {
        let (before, _hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
        let after = rlimit::increase_nofile_limit(u64::MAX)?;
        Ok(Raised { before, after })
    }
    #[cfg(not(unix))]
    {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no RLIMIT_NOFILE on this system",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_limits() {
        // Debian's default soft limit.
        assert_eq!(
            derive(1024),
            Budget {
                nofile: 1024,
                hosts: 60,
                probes: 900
            }
        );
        // A hard limit of 20,000 or 1,048,576: both caps reached.
        for n in [20_000, 1 << 20] {
            let b = derive(n);
            assert_eq!(
                (b.hosts, b.probes),
                (MAX_HOSTS_IN_FLIGHT, MAX_PROBES_IN_FLIGHT)
            );
        }
        // Just enough for everything: 64 + 256 × 16.
        let b = derive(64 + 4096);
        assert_eq!((b.hosts, b.probes), (256, 3840));
    }

    #[test]
    fn tiny_or_absurd_limits_still_allow_one_of_each() {
        for n in [0, 1, 64, 65, 66, 80] {
            let b = derive(n);
            assert!(b.hosts >= 1 && b.probes >= 1, "{n}: {b:?}");
        }
        let b = derive(u64::MAX);
        assert_eq!(
            (b.hosts, b.probes),
            (MAX_HOSTS_IN_FLIGHT, MAX_PROBES_IN_FLIGHT)
        );
    }

    #[test]
    fn never_more_than_the_limit_leaves_after_the_reserve() {
        for n in (66..20_000).step_by(37) {
            let b = derive(n);
            assert!(
                (b.hosts + b.probes) as u64 <= n - RESERVED_FDS,
                "{n}: {b:?}"
            );
        }
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        if let Ok(r) = raise_nofile() {
            assert!(r.after >= r.before, "{r:?}");
        }
    }
}
