//! Target specifications from the command line: addresses, host names, CIDR blocks, address
//! ranges (`a-b`, nmap's `198.18.0.1-254`), @files, and the exclusions (`--exclude`).
//!
//! First step of the flow for `dump`, `capacity`, `probe` and `audit`: [`expand_within`] turns
//! the TARGET arguments into a list of [`Target`]s without any I/O other than reading `@file`s,
//! so garbage gives a clear error and never a DNS query, and a scope larger than `--max-hosts`
//! is refused before anything is sent. [`resolve`] is the only network step, used at run time by
//! the callers just before they connect.

use crate::inert::excerpt;
use ipnet::IpNet;
use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// Default of `--max-hosts`: most targets one invocation may expand to (all arguments and files
/// together, after `--exclude`, counted before duplicates are removed).
pub const MAX_TARGETS: usize = 65_536;
/// Largest `@file` read, in bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most separate address ranges the exclusions may hold, after merging adjacent ones.
pub const MAX_EXCLUDE_RANGES: usize = 1 << 16;
/// Longest host name (RFC 1123, without a trailing dot).
const MAX_NAME_LEN: usize = 253;
/// Longest label of a host name.
const MAX_LABEL_LEN: usize = 63;

/// One host to examine: an address, or a name still to be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Addr(IpAddr),
    /// A syntactically valid host name, lowercased, without a trailing dot.
    Name(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Addr(ip) => write!(f, "{ip}"),
            Target::Name(name) => f.write_str(name),
        }
    }
}

/// Why target arguments could not be expanded or a target not resolved.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `at` is "target `x`" for an argument or "file:line: target `x`" for a line of a file.
    #[error("{at}: {reason}")]
    Invalid { at: String, reason: InvalidTarget },
    #[error(
        "{at}: expanding it would exceed the limit of {limit} targets in total (raise it with --max-hosts, or narrow the scope with --exclude)"
    )]
    TooMany { at: String, limit: usize },
    #[error("{at}: the exclusions would hold more than {limit} separate address ranges")]
    TooManyExclusions { at: String, limit: usize },
    #[error("{file}: cannot read target file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: target file is larger than the limit of {limit} bytes")]
    FileTooLarge { file: String, limit: u64 },
    #[error("{file}:{line}: target file is not valid UTF-8 text")]
    NotText { file: String, line: usize },
    #[error("{file}: target file lists no targets")]
    EmptyFile { file: String },
    #[error("target `{target}`: name resolution did not finish within {deadline:?}")]
    ResolveTimeout { target: String, deadline: Duration },
    #[error("target `{target}`: cannot resolve name: {source}")]
    Resolve {
        target: String,
        #[source]
        source: std::io::Error,
    },
    #[error("target `{target}`: name resolved to no addresses")]
    NoAddresses { target: String },
    /// A literal address, or one inside a range, that is not one host's.
    #[error(
        "{at}: {addr} is not a host address ({why}); rpcaudit sends nothing to it (give the hosts' own unicast addresses)"
    )]
    NotAHost {
        at: String,
        addr: IpAddr,
        why: &'static str,
    },
    /// A name that resolved to an address that is not one host's.
    #[error(
        "target `{target}`: the name resolves to {addr}, which is not a host address ({why}); refused before anything was sent to it"
    )]
    ResolvesToNonHost {
        target: String,
        addr: IpAddr,
        why: &'static str,
    },
}

/// Why `ip` is not one host's address, if it is not: unspecified (`0.0.0.0`, `::`, which
/// reaches the scanning machine itself), multicast, or the IPv4 broadcast address, in either
/// form (an IPv4-mapped IPv6 address is judged as the IPv4 address it maps). The one rule for
/// targets, resolved names and `--from` sources.
pub fn not_a_host(ip: IpAddr) -> Option<&'static str> {
    let ip = ip.to_canonical();
    match ip {
        _ if ip.is_unspecified() => Some("unspecified"),
        _ if ip.is_multicast() => Some("multicast"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("broadcast"),
        _ => None,
    }
}

/// Why a token is not a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTarget {
    #[error("empty target")]
    Empty,
    #[error("`@` must be followed by a file name")]
    EmptyFileName,
    #[error("ports are not part of a target; use the port option")]
    HasPort,
    #[error("unclosed `[`")]
    UnclosedBracket,
    #[error("brackets must enclose an IPv6 address")]
    BracketsNotIpv6,
    #[error("not a valid CIDR block (expected e.g. 192.0.2.0/24)")]
    BadCidr,
    #[error("not a valid IPv6 address")]
    BadIpv6,
    #[error("not a valid IP address")]
    BadAddress,
    #[error(
        "not a valid address range (expected e.g. 192.0.2.1-192.0.2.9, 192.0.2.1-254 or 192.0.2-3.1-254)"
    )]
    BadRange,
    #[error("the range ends before it starts")]
    RangeBackwards,
    #[error("the range mixes IPv4 and IPv6")]
    RangeFamilies,
    #[error("not a host name")]
    NotAHostName,
    #[error("host name longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    #[error("host name has an empty label")]
    EmptyLabel,
    #[error("host name label longer than {MAX_LABEL_LEN} characters")]
    LabelTooLong,
    #[error(
        "not an IP address, range, CIDR block or host name (letters, digits, `-` and `.` only)"
    )]
    BadCharacters,
    #[error("host name label starts or ends with `-`")]
    LabelHyphen,
    #[error("a target file may not name another @file")]
    NestedFile,
    #[error("one target per line expected")]
    SeveralOnALine,
}

/// What one token stands for, before expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    Addr(IpAddr),
    Net(IpNet),
    /// Every address from the first to the last, inclusive; same family, in order.
    Range(IpAddr, IpAddr),
    /// nmap's form: each IPv4 octet a value or an inclusive range (`198.18.0-3.1-254`).
    Octets([(u8, u8); 4]),
    Name(String),
    File(String),
}

/// An address family, for interval arithmetic on addresses as `u128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

fn to_key(ip: IpAddr) -> (Family, u128) {
    match ip {
        IpAddr::V4(a) => (Family::V4, u128::from(u32::from(a))),
        IpAddr::V6(a) => (Family::V6, u128::from(a)),
    }
}

fn from_key(family: Family, v: u128) -> IpAddr {
    match family {
        // Values of the V4 family come from u32s and stay within them.
        Family::V4 => IpAddr::V4(Ipv4Addr::from(u32::try_from(v).unwrap_or(u32::MAX))),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

/// Call `f` with each interval of addresses `spec` stands for, in order. An IPv4 block stands
/// for its hosts (no network and broadcast address, except /31 and /32) unless `whole`.
fn for_each_interval<E>(
    spec: &Spec,
    whole: bool,
    f: &mut dyn FnMut(Family, u128, u128) -> Result<(), E>,
) -> Result<(), E> {
    match spec {
        Spec::Addr(ip) => {
            let (fam, v) = to_key(*ip);
            f(fam, v, v)
        }
        Spec::Net(IpNet::V4(n)) => {
            let lo = u128::from(u32::from(n.network()));
            let hi = u128::from(u32::from(n.broadcast()));
            if whole || n.prefix_len() >= 31 {
                f(Family::V4, lo, hi)
            } else {
                f(Family::V4, lo + 1, hi - 1)
            }
        }
        Spec::Net(IpNet::V6(n)) => f(
            Family::V6,
            u128::from(n.network()),
            u128::from(n.broadcast()),
        ),
        Spec::Range(a, b) => {
            let (fam, lo) = to_key(*a);
            let (_, hi) = to_key(*b);
            f(fam, lo, hi)
        }
        Spec::Octets(o) => {
            // Octets after the last partial one are whole (0-255): each combination of the
            // octets before it is one interval.
            let last = o
                .iter()
                .rposition(|&(a, b)| (a, b) != (0, 255))
                .unwrap_or(0);
            let shift = 8 * (3 - last as u32);
            let tail = (1u128 << shift) - 1;
            let mut prefix = [0u8; 4];
            octet_combinations(o, 0, last, &mut prefix, &mut |p| {
                let base = p
                    .iter()
                    .take(last)
                    .fold(0u128, |acc, &x| (acc << 8) | u128::from(x));
                let lo = ((base << 8) | u128::from(o[last].0)) << shift;
                let hi = (((base << 8) | u128::from(o[last].1)) << shift) | tail;
                f(Family::V4, lo, hi)
            })
        }
        // Names and files are not address intervals; the callers handle them.
        Spec::Name(_) | Spec::File(_) => Ok(()),
    }
}

/// Each combination of octets `0..last` of `o` in order, written into `prefix`.
fn octet_combinations<E>(
    o: &[(u8, u8); 4],
    i: usize,
    last: usize,
    prefix: &mut [u8; 4],
    f: &mut dyn FnMut(&[u8; 4]) -> Result<(), E>,
) -> Result<(), E> {
    if i >= last {
        return f(prefix);
    }
    for v in o[i].0..=o[i].1 {
        prefix[i] = v;
        octet_combinations(o, i + 1, last, prefix, f)?;
    }
    Ok(())
}

/// Addresses and names to leave out of the scope (`--exclude`, `--exclude-file`): the same
/// forms as targets, held as merged, sorted intervals so that a check is a binary search.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
    names: HashSet<String>,
}

impl Exclusions {
    /// Read `--exclude` arguments (which may be `@file`s) and `--exclude-file` files. Errors
    /// name the argument or the file and line, as for targets.
    pub fn parse(args: &[String], files: &[std::path::PathBuf]) -> Result<Self, TargetError> {
        let mut out = Exclusions::default();
        let mut add = |spec: Spec, at: &str| -> Result<(), TargetError> {
            match spec {
                Spec::Name(n) => {
                    out.names.insert(n);
                    Ok(())
                }
                Spec::File(_) => Err(TargetError::Invalid {
                    at: at.to_string(),
                    reason: InvalidTarget::NestedFile,
                }),
                spec => for_each_interval(&spec, true, &mut |fam, lo, hi| {
                    let list = match fam {
                        Family::V4 => &mut out.v4,
                        Family::V6 => &mut out.v6,
                    };
                    push_merged(list, lo, hi);
                    if list.len() > MAX_EXCLUDE_RANGES {
                        normalize(list);
                        if list.len() > MAX_EXCLUDE_RANGES {
                            return Err(TargetError::TooManyExclusions {
                                at: at.to_string(),
                                limit: MAX_EXCLUDE_RANGES,
                            });
                        }
                    }
                    Ok(())
                }),
            }
        };
        walk(args, &mut add)?;
        for file in files {
            walk_file(&file.display().to_string(), &mut add)?;
        }
        normalize(&mut out.v4);
        normalize(&mut out.v6);
        Ok(out)
    }

    /// Nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty() && self.names.is_empty()
    }

    /// `[lo, hi]` of `family` without the excluded addresses, as the intervals that remain.
    fn subtract(&self, family: Family, lo: u128, hi: u128) -> Vec<(u128, u128)> {
        let list = match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        };
        // The first interval that ends at or after `lo`.
        let start = list.partition_point(|&(_, b)| b < lo);
        let mut out = Vec::new();
        let mut next = lo;
        for &(a, b) in &list[start..] {
            if a > hi {
                break;
            }
            if a > next {
                out.push((next, a - 1));
            }
            match b.checked_add(1) {
                Some(n) => next = next.max(n),
                None => return out,
            }
            if next > hi {
                return out;
            }
        }
        out.push((next, hi));
        out
    }
}

/// Append `[lo, hi]`, merging it into the last interval when it touches it.
fn push_merged(list: &mut Vec<(u128, u128)>, lo: u128, hi: u128) {
    if let Some(last) = list.last_mut()
        && lo >= last.0
        && lo <= last.1.saturating_add(1)
    {
        last.1 = last.1.max(hi);
        return;
    }
    list.push((lo, hi));
}

/// Sort and merge overlapping or adjacent intervals.
fn normalize(list: &mut Vec<(u128, u128)>) {
    list.sort_unstable();
    let mut merged: Vec<(u128, u128)> = Vec::with_capacity(list.len());
    for &(lo, hi) in list.iter() {
        push_merged(&mut merged, lo, hi);
    }
    *list = merged;
}

/// Expand TARGET arguments into targets, in order, each first occurrence kept, with nothing
/// excluded and the default limit of [`MAX_TARGETS`]. See [`expand_within`].
pub fn expand(args: &[String]) -> Result<Vec<Target>, TargetError> {
    expand_within(args, &Exclusions::default(), MAX_TARGETS)
}

/// Expand TARGET arguments into targets, in order, each first occurrence kept, leaving out
/// what `exclude` names.
///
/// Accepted forms: `192.0.2.7`, `2001:db8::7`, `[2001:db8::7]`, `host.example`, `192.0.2.0/24`
/// (IPv4 blocks lose their network and broadcast addresses, except /31 and /32; IPv6 blocks keep
/// every address), ranges `192.0.2.1-192.0.2.9` and `2001:db8::1-2001:db8::9` (every address,
/// both ends included), nmap's octet ranges `192.0.2.1-254` and `192.0.2-3.1-254`, and `@file`
/// with one target per line (blank lines and `#` comments ignored, no nested `@`). More than
/// `max_hosts` in total (after exclusions, before duplicates are removed) is an error naming
/// the argument or line that crossed the limit, found by counting, before a huge block is
/// listed.
pub fn expand_within(
    args: &[String],
    exclude: &Exclusions,
    max_hosts: usize,
) -> Result<Vec<Target>, TargetError> {
    let mut out = Expansion {
        targets: Vec::new(),
        seen: HashSet::new(),
        produced: 0,
        limit: max_hosts,
        exclude,
    };
    walk(args, &mut |spec, at| out.add(spec, at))?;
    Ok(out.targets)
}

/// Each token of `args` with where it came from, reading `@file`s line by line.
fn walk(
    args: &[String],
    f: &mut dyn FnMut(Spec, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    for arg in args {
        let at = format!("target `{}`", excerpt(arg));
        match parse_token(arg).map_err(|reason| TargetError::Invalid {
            at: at.clone(),
            reason,
        })? {
            Spec::File(path) => walk_file(&path, f)?,
            spec => f(spec, &at)?,
        }
    }
    Ok(())
}

/// Targets gathered so far, with the count used for the limit and the set used for dedup.
struct Expansion<'a> {
    targets: Vec<Target>,
    seen: HashSet<Target>,
    produced: usize,
    limit: usize,
    exclude: &'a Exclusions,
}

impl Expansion<'_> {
    fn add(&mut self, spec: Spec, at: &str) -> Result<(), TargetError> {
        let limit = self.limit;
        let too_many = || TargetError::TooMany {
            at: at.to_string(),
            limit,
        };
        match spec {
            Spec::Name(name) => {
                if self.exclude.names.contains(&name) {
                    return Ok(());
                }
                if self.produced >= self.limit {
                    return Err(too_many());
                }
                self.push(Target::Name(name));
            }
            Spec::File(_) => {
                return Err(TargetError::Invalid {
                    at: at.to_string(),
                    reason: InvalidTarget::NestedFile,
                });
            }
            spec => {
                let exclude = self.exclude;
                let mut remaining: Vec<(Family, u128, u128)> = Vec::new();
                let mut refused: Option<(IpAddr, &'static str)> = None;
                for_each_interval(&spec, false, &mut |fam, lo, hi| {
                    for (a, b) in exclude.subtract(fam, lo, hi) {
                        // Count first so that a huge block is refused without listing it.
                        let n = (b - a).saturating_add(1);
                        let budget = limit.saturating_sub(self.produced) as u128;
                        if n > budget {
                            return Err(());
                        }
                        self.produced += n as usize;
                        remaining.push((fam, a, b));
                    }
                    // Listing as we go keeps `remaining` short for specs of many intervals.
                    for (fam, a, b) in remaining.drain(..) {
                        for v in a..=b {
                            let ip = from_key(fam, v);
                            if let Some(why) = not_a_host(ip) {
                                refused = Some((ip, why));
                                return Err(());
                            }
                            let t = Target::Addr(ip);
                            if self.seen.insert(t.clone()) {
                                self.targets.push(t);
                            }
                        }
                    }
                    Ok(())
                })
                .map_err(|()| match refused {
                    Some((addr, why)) => TargetError::NotAHost {
                        at: at.to_string(),
                        addr,
                        why,
                    },
                    None => too_many(),
                })?;
            }
        }
        Ok(())
    }

    fn push(&mut self, t: Target) {
        self.produced += 1;
        if self.seen.insert(t.clone()) {
            self.targets.push(t);
        }
    }
}

/// Each target line of the file at `path`, with its file:line location.
fn walk_file(
    path: &str,
    f: &mut dyn FnMut(Spec, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let text = read_target_file(Path::new(path))?;
    let mut lines_with_targets = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let at = format!("{path}:{line}: target `{}`", excerpt(content));
        if content.split_whitespace().nth(1).is_some() {
            return Err(TargetError::Invalid {
                at,
                reason: InvalidTarget::SeveralOnALine,
            });
        }
        let spec = parse_token(content).map_err(|reason| TargetError::Invalid {
            at: at.clone(),
            reason,
        })?;
        lines_with_targets += 1;
        f(spec, &at)?;
    }
    if lines_with_targets == 0 {
        return Err(TargetError::EmptyFile {
            file: path.to_string(),
        });
    }
    Ok(())
}

fn read_target_file(path: &Path) -> Result<String, TargetError> {
    let file = path.display().to_string();
    let bytes = crate::input::read_capped_or(
        path,
        MAX_FILE_BYTES,
        |source| TargetError::Read {
            file: file.clone(),
            source,
        },
        |limit| TargetError::FileTooLarge {
            file: file.clone(),
            limit,
        },
    )?;
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..'\u{feff}'.len_utf8());
            }
            Ok(s)
        }
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            Err(TargetError::NotText { file, line })
        }
    }
}

/// Classify one token; the error is the reason only, the caller adds where it came from.
fn parse_token(raw: &str) -> Result<Spec, InvalidTarget> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(InvalidTarget::Empty);
    }
    if let Some(path) = s.strip_prefix('@') {
        if path.is_empty() {
            return Err(InvalidTarget::EmptyFileName);
        }
        return Ok(Spec::File(path.to_string()));
    }
    if let Some(inner) = s.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return Err(if inner.contains("]:") {
                InvalidTarget::HasPort
            } else {
                InvalidTarget::UnclosedBracket
            });
        };
        return match inner.parse::<Ipv6Addr>() {
            Ok(ip) => Ok(Spec::Addr(IpAddr::V6(ip))),
            Err(_) => Err(InvalidTarget::BracketsNotIpv6),
        };
    }
    if s.contains('/') {
        return match s.parse::<IpNet>() {
            Ok(net) => Ok(Spec::Net(net.trunc())),
            Err(_) => Err(InvalidTarget::BadCidr),
        };
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Spec::Addr(ip));
    }
    if s.contains('-') {
        // Digits, dots and dashes only: an IPv4 range; with a colon: an IPv6 range (no host
        // name has a colon). Anything else with a dash is left to the host-name check.
        let v4_like = s.contains('.')
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
        if v4_like || s.contains(':') {
            return parse_range(s);
        }
    }
    if s.contains(':') {
        return Err(if s.matches(':').count() == 1 {
            InvalidTarget::HasPort
        } else {
            InvalidTarget::BadIpv6
        });
    }
    validate_host_name(s).map(Spec::Name)
}

/// `first-last` (two whole addresses) or nmap's octet form (`192.0.2.1-254`, `10.0-3.0.1`).
fn parse_range(s: &str) -> Result<Spec, InvalidTarget> {
    if let Some((a, b)) = s.split_once('-')
        && let (Ok(a), Ok(b)) = (a.parse::<IpAddr>(), b.parse::<IpAddr>())
    {
        if a.is_ipv4() != b.is_ipv4() {
            return Err(InvalidTarget::RangeFamilies);
        }
        if to_key(b).1 < to_key(a).1 {
            return Err(InvalidTarget::RangeBackwards);
        }
        return Ok(Spec::Range(a, b));
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return Err(InvalidTarget::BadRange);
    }
    let mut octets = [(0u8, 0u8); 4];
    for (slot, part) in octets.iter_mut().zip(&parts) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let octet = |t: &str| {
            if t.is_empty() || t.len() > 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidTarget::BadRange);
            }
            t.parse::<u8>().map_err(|_| InvalidTarget::BadRange)
        };
        let (lo, hi) = (octet(lo)?, octet(hi)?);
        if hi < lo {
            return Err(InvalidTarget::RangeBackwards);
        }
        *slot = (lo, hi);
    }
    Ok(Spec::Octets(octets))
}

/// RFC 1123 host name check; returns the name lowercased without a trailing dot.
fn validate_host_name(s: &str) -> Result<String, InvalidTarget> {
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Err(InvalidTarget::NotAHostName);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(InvalidTarget::NameTooLong);
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(InvalidTarget::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(InvalidTarget::LabelTooLong);
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(InvalidTarget::BadCharacters);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(InvalidTarget::LabelHyphen);
        }
    }
    // An all-numeric last label is a mistyped address ("10.0.0.256"), not a name.
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(InvalidTarget::BadAddress);
    }
    Ok(name.to_ascii_lowercase())
}

/// Resolve a target to socket addresses on `port`, giving up after `deadline`.
///
/// An address needs no lookup; a name goes through the system resolver. Duplicates are removed,
/// order kept.
pub async fn resolve(
    target: &Target,
    port: u16,
    deadline: Duration,
) -> Result<Vec<SocketAddr>, TargetError> {
    let name = match target {
        Target::Addr(ip) => return Ok(vec![SocketAddr::new(*ip, port)]),
        Target::Name(name) => name.as_str(),
    };
    let found = tokio::time::timeout(deadline, tokio::net::lookup_host((name, port)))
        .await
        .map_err(|_| TargetError::ResolveTimeout {
            target: name.to_string(),
            deadline,
        })?
        .map_err(|source| TargetError::Resolve {
            target: name.to_string(),
            source,
        })?;
    let mut seen = HashSet::new();
    let addrs: Vec<SocketAddr> = found.filter(|a| seen.insert(*a)).collect();
    if addrs.is_empty() {
        return Err(TargetError::NoAddresses {
            target: name.to_string(),
        });
    }
    // A name that points at 0.0.0.0 (a sinkhole, or a hostile DNS answer) would audit the
    // scanning machine itself under the name's banner: the whole name is refused.
    if let Some((addr, why)) = addrs
        .iter()
        .find_map(|a| not_a_host(a.ip()).map(|why| (a.ip(), why)))
    {
        return Err(TargetError::ResolvesToNonHost {
            target: name.to_string(),
            addr,
            why,
        });
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;
    use std::net::Ipv4Addr;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> Target {
        Target::Addr(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
    }

    /// These targets: addresses where the text is one, names otherwise.
    fn targets(list: &[&str]) -> Vec<Target> {
        list.iter()
            .map(|t| match t.parse() {
                Ok(ip) => Target::Addr(ip),
                Err(_) => Target::Name(t.to_string()),
            })
            .collect()
    }

    fn err_text(list: &[&str]) -> String {
        match expand(&args(list)) {
            Ok(ts) => panic!("expected an error, got {} targets", ts.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    // A table of cases like epm::names' spot checks, of other facts: each refused address.
    fn addresses_that_are_not_one_hosts_are_refused_in_every_form() {
        for (token, addr, why) in [
            ("0.0.0.0", "0.0.0.0", "unspecified"),
            ("::", "::", "unspecified"),
            ("::ffff:0.0.0.0", "::ffff:0.0.0.0", "unspecified"),
            ("[::ffff:0.0.0.0]", "::ffff:0.0.0.0", "unspecified"),
            ("255.255.255.255", "255.255.255.255", "broadcast"),
            (
                "::ffff:255.255.255.255",
                "::ffff:255.255.255.255",
                "broadcast",
            ),
            ("224.0.0.1", "224.0.0.1", "multicast"),
            ("::ffff:224.0.0.1", "::ffff:224.0.0.1", "multicast"),
            ("ff02::1", "ff02::1", "multicast"),
            ("224.0.0.0/30", "224.0.0.1", "multicast"),
            ("223.255.255.254-224.0.0.3", "224.0.0.0", "multicast"),
            ("255.255.255.250-255", "255.255.255.255", "broadcast"),
            ("0.0.0.0/32", "0.0.0.0", "unspecified"),
            ("239.1-2.0.1", "239.1.0.1", "multicast"),
        ] {
            let e = err_text(&["192.0.2.1", token]);
            assert!(
                e.contains(&format!("{addr} is not a host address ({why})")),
                "{token}: {e}"
            );
            assert!(e.contains(&format!("`{token}`")), "{token}: {e}");
        }
        // Their neighbours are hosts.
        assert_eq!(
            expand(&args(&[
                "0.0.0.1",
                "223.255.255.255",
                "255.255.255.254",
                "fe80::1"
            ]))
            .unwrap()
            .len(),
            4
        );
        assert_eq!(not_a_host("127.0.0.1".parse().unwrap()), None);
    }

    fn temp_file(content: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content).unwrap();
        f.flush().unwrap();
        f
    }

    #[test]
    fn addresses_names_and_brackets() {
        let got = expand(&args(&[
            "192.0.2.7",
            "2001:db8::7",
            "[::1]",
            "DC01.Example.COM.",
            "localhost",
        ]))
        .unwrap();
        assert_eq!(
            got,
            targets(&[
                "192.0.2.7",
                "2001:db8::7",
                "::1",
                "dc01.example.com",
                "localhost"
            ])
        );
        assert_eq!(got[1].to_string(), "2001:db8::7");
        assert_eq!(got[3].to_string(), "dc01.example.com");
    }

    #[test]
    fn ipv4_blocks_skip_network_and_broadcast() {
        let got = expand(&args(&["192.0.2.0/30"])).unwrap();
        assert_eq!(got, vec![v4(192, 0, 2, 1), v4(192, 0, 2, 2)]);
        let got = expand(&args(&["192.0.2.9/29"])).unwrap();
        assert_eq!(got.len(), 6, "host bits are dropped: 192.0.2.8/29");
        assert_eq!(got[0], v4(192, 0, 2, 9));
    }

    #[test]
    fn ipv4_slash_31_and_32_keep_all() {
        assert_eq!(
            expand(&args(&["192.0.2.4/31"])).unwrap(),
            vec![v4(192, 0, 2, 4), v4(192, 0, 2, 5)]
        );
        assert_eq!(
            expand(&args(&["192.0.2.4/32"])).unwrap(),
            vec![v4(192, 0, 2, 4)]
        );
    }

    #[test]
    fn ipv6_blocks_keep_all() {
        let got = expand(&args(&["2001:db8::/126"])).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], Target::Addr("2001:db8::".parse().unwrap()));
        assert_eq!(got[3], Target::Addr("2001:db8::3".parse().unwrap()));
    }

    #[test]
    fn order_kept_and_duplicates_removed() {
        let got = expand(&args(&[
            "192.0.2.2",
            "192.0.2.0/30",
            "host-a",
            "HOST-A",
            "192.0.2.1",
        ]))
        .unwrap();
        assert_eq!(got, targets(&["192.0.2.2", "192.0.2.1", "host-a"]));
    }

    #[test]
    fn limit_allows_a_slash_16_and_names_the_argument_beyond_it() {
        assert_eq!(expand(&args(&["10.0.0.0/16"])).unwrap().len(), 65_534);
        // 65,534 + 2 is exactly the limit; one more address is too many.
        assert_eq!(
            expand(&args(&["10.0.0.0/16", "10.1.0.0/30"]))
                .unwrap()
                .len(),
            65_536
        );
        let e = err_text(&["10.0.0.0/16", "10.1.0.0/29"]);
        assert!(e.contains("`10.1.0.0/29`") && e.contains("65536"), "{e}");
        let e = err_text(&["10.0.0.0/8"]);
        assert!(e.contains("`10.0.0.0/8`"), "{e}");
        let e = err_text(&["::/0"]);
        assert!(e.contains("`::/0`"), "{e}");
    }

    #[test]
    fn limit_counts_single_addresses_too() {
        let e = err_text(&["10.0.0.0/16", "10.2.0.0/31", "192.0.2.1"]);
        assert!(e.contains("`192.0.2.1`"), "{e}");
    }

    #[test]
    fn garbage_is_rejected_with_the_argument_named() {
        for bad in [
            "",
            "   ",
            "10.0.0.256",
            "1.2.3",
            "host_name",
            "-host",
            "host-",
            "a..b",
            "exa mple",
            "10.0.0.0/33",
            "10.0.0.0/",
            "[::1",
            "[10.0.0.1]",
            "fe80::1%eth0",
            "@",
            "ünïcode.example",
        ] {
            let e = expand(&args(&[bad])).unwrap_err();
            assert!(
                matches!(e, TargetError::Invalid { .. }),
                "{bad:?} gave {e:?}"
            );
            assert!(e.to_string().contains(&format!("`{bad}`")), "{e}");
        }
    }

    #[test]
    fn ports_get_a_hint() {
        assert!(err_text(&["host:135"]).contains("port option"));
        assert!(err_text(&["[::1]:135"]).contains("port option"));
    }

    #[test]
    fn host_name_lengths() {
        let label63 = "a".repeat(63);
        assert!(expand(&args(&[&label63])).is_ok());
        assert!(err_text(&[&"a".repeat(64)]).contains("label longer"));
        // 4 labels of 63 plus 3 dots = 255 > 253.
        let long = [label63.as_str(); 4].join(".");
        assert!(err_text(&[&long]).contains("longer than 253"));
        let ok = format!("{}.{}.{}.{}", label63, label63, label63, "a".repeat(61));
        assert_eq!(ok.len(), 253);
        assert!(expand(&args(&[&ok])).is_ok());
    }

    #[test]
    fn file_with_comments_blank_lines_and_crlf() {
        let f = temp_file(
            b"\xef\xbb\xbf# lab hosts\r\n\r\n192.0.2.1   # dc\r\n  srv-2.example\r\n192.0.2.0/31\n",
        );
        let arg = format!("@{}", f.path().display());
        let got = expand(&args(&["192.0.2.9", &arg, "192.0.2.1"])).unwrap();
        assert_eq!(
            got,
            targets(&["192.0.2.9", "192.0.2.1", "srv-2.example", "192.0.2.0"])
        );
    }

    #[test]
    fn file_errors_name_file_and_line() {
        let f = temp_file(b"192.0.2.1\n\nbad_name\n");
        let path = f.path().display().to_string();
        let e = err_text(&[&format!("@{path}")]);
        assert!(
            e.starts_with(&format!("{path}:3: target `bad_name`")),
            "{e}"
        );

        let f = temp_file(b"# comment\n@/etc/hosts\n");
        let path = f.path().display().to_string();
        let e = err_text(&[&format!("@{path}")]);
        assert!(e.starts_with(&format!("{path}:2:")), "{e}");
        assert!(e.contains("another @file"), "{e}");

        let f = temp_file(b"192.0.2.1 192.0.2.2\n");
        let path = f.path().display().to_string();
        let e = err_text(&[&format!("@{path}")]);
        assert!(
            e.contains(":1:") && e.contains("one target per line"),
            "{e}"
        );

        let f = temp_file(b"10.0.0.0/16\n10.9.0.0/16\n");
        let path = f.path().display().to_string();
        let e = expand(&args(&[&format!("@{path}")])).unwrap_err();
        assert!(matches!(e, TargetError::TooMany { .. }));
        assert!(e.to_string().starts_with(&format!("{path}:2:")), "{e}");
    }

    #[test]
    fn file_not_text_names_line() {
        let f = temp_file(b"192.0.2.1\nok\n\xff\xfe\n");
        let e = expand(&args(&[&format!("@{}", f.path().display())])).unwrap_err();
        assert!(matches!(e, TargetError::NotText { line: 3, .. }), "{e:?}");
    }

    #[test]
    fn file_empty_missing_or_too_large() {
        let f = temp_file(b"# nothing here\n\n");
        let e = expand(&args(&[&format!("@{}", f.path().display())])).unwrap_err();
        assert!(matches!(e, TargetError::EmptyFile { .. }), "{e:?}");

        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.txt");
        let e = expand(&args(&[&format!("@{}", missing.display())])).unwrap_err();
        assert!(matches!(e, TargetError::Read { .. }), "{e:?}");
        assert!(e.to_string().contains("nope.txt"), "{e}");

        let big = vec![b'#'; MAX_FILE_BYTES as usize + 1];
        let f = temp_file(&big);
        let e = expand(&args(&[&format!("@{}", f.path().display())])).unwrap_err();
        assert!(matches!(e, TargetError::FileTooLarge { .. }), "{e:?}");

        let exact = vec![b'#'; MAX_FILE_BYTES as usize];
        let f = temp_file(&exact);
        let e = expand(&args(&[&format!("@{}", f.path().display())])).unwrap_err();
        assert!(matches!(e, TargetError::EmptyFile { .. }), "{e:?}");
    }

    fn within(list: &[&str], exclude: &[&str], max: usize) -> Result<Vec<Target>, TargetError> {
        let ex = Exclusions::parse(&args(exclude), &[])?;
        expand_within(&args(list), &ex, max)
    }

    #[test]
    fn full_ranges_include_both_ends() {
        assert_eq!(
            expand(&args(&["192.0.2.254-192.0.3.1"])).unwrap(),
            targets(&["192.0.2.254", "192.0.2.255", "192.0.3.0", "192.0.3.1"])
        );
        let got = expand(&args(&["2001:db8::fe-2001:db8::101"])).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[3], Target::Addr("2001:db8::101".parse().unwrap()));
        assert_eq!(expand(&args(&["192.0.2.7-192.0.2.7"])).unwrap().len(), 1);
    }

    #[test]
    fn nmap_octet_ranges() {
        let got = expand(&args(&["198.18.0.1-254"])).unwrap();
        assert_eq!(got.len(), 254);
        assert_eq!(got[0], v4(198, 18, 0, 1));
        assert_eq!(got[253], v4(198, 18, 0, 254));
        assert_eq!(
            expand(&args(&["198.18.0-1.7-8"])).unwrap(),
            targets(&["198.18.0.7", "198.18.0.8", "198.18.1.7", "198.18.1.8"])
        );
        // Whole trailing octets: one interval, listed in order.
        let got = expand(&args(&["10.1.0-255.0-255"])).unwrap();
        assert_eq!(got.len(), 65_536);
        assert_eq!(
            (got[0].clone(), got[65_535].clone()),
            (v4(10, 1, 0, 0), v4(10, 1, 255, 255))
        );
        // A partial last octet: one interval per combination of the octets before it.
        let got = expand(&args(&["10.1-2.0-255.0-127"])).unwrap();
        assert_eq!(got.len(), 65_536);
        assert_eq!(
            (got[127].clone(), got[128].clone()),
            (v4(10, 1, 0, 127), v4(10, 1, 1, 0))
        );
        assert_eq!(got[32_768], v4(10, 2, 0, 0));
    }

    #[test]
    fn range_errors_are_named() {
        for (bad, why) in [
            ("192.0.2.9-192.0.2.1", "ends before"),
            ("192.0.2.9-1", "ends before"),
            ("192.0.2.1-2001:db8::1", "mixes"),
            ("192.0.2.1-256", "address range"),
            ("192.0.2-.1", "address range"),
            ("192.0.2.1-", "address range"),
            ("192.0.2.1-2-3", "address range"),
            ("2001:db8::1-zz", "address range"),
        ] {
            let e = err_text(&[bad]);
            assert!(
                e.contains(&format!("`{bad}`")) && e.contains(why),
                "{bad}: {e}"
            );
        }
        // Dashes in names are still names.
        assert_eq!(
            expand(&args(&["cafe-01", "srv-2.example"])).unwrap(),
            targets(&["cafe-01", "srv-2.example"])
        );
    }

    #[test]
    fn exclusions_remove_addresses_blocks_ranges_and_names() {
        let got = within(
            &["192.0.2.0/29", "host-a", "host-b"],
            &["192.0.2.2", "192.0.2.4-192.0.2.5", "HOST-B"],
            MAX_TARGETS,
        )
        .unwrap();
        assert_eq!(
            got,
            targets(&["192.0.2.1", "192.0.2.3", "192.0.2.6", "host-a"])
        );
        // A block excluded whole, network and broadcast included; nmap form in exclusions.
        let got = within(
            &["198.18.0.0/16"],
            &["198.18.0.0/17", "198.18.128-255.0-255"],
            10,
        )
        .unwrap();
        assert!(got.is_empty());
        let got = within(&["2001:db8::/126"], &["2001:db8::1-2001:db8::2"], 10).unwrap();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn exclusions_count_against_the_limit_before_listing() {
        // A /8 less all but 10.0.255.0-255 fits a limit of 256 ...
        let ex = ["10.0.0.0-10.0.254.255", "10.1.0.0-10.255.255.255"];
        let got = within(&["10.0.0.0/8"], &ex, 256).unwrap();
        assert_eq!(got.len(), 256);
        assert_eq!(got[0], v4(10, 0, 255, 0));
        // ... and not one of 255.
        let e = within(&["10.0.0.0/8"], &ex, 255).unwrap_err();
        assert!(matches!(e, TargetError::TooMany { limit: 255, .. }), "{e}");
        assert!(e.to_string().contains("--max-hosts"), "{e}");
    }

    #[test]
    fn max_hosts_refuses_an_oversized_scope_naming_where() {
        let e = within(&["192.0.2.0/24"], &[], 100).unwrap_err();
        assert!(e.to_string().contains("`192.0.2.0/24`") && e.to_string().contains("100"));
        let e = within(&["192.0.2.1", "host-a", "host-b"], &[], 2).unwrap_err();
        assert!(e.to_string().contains("`host-b`"), "{e}");
        let e = within(&["198.0-255.0-255.0-255"], &[], MAX_TARGETS).unwrap_err();
        assert!(matches!(e, TargetError::TooMany { .. }));
        assert_eq!(within(&["192.0.2.0/24"], &[], 254).unwrap().len(), 254);
    }

    #[test]
    fn exclusion_files_and_their_errors() {
        let f = temp_file(b"# keep out\n192.0.2.1\n192.0.2.3-4\n");
        let ex = Exclusions::parse(&[], &[f.path().to_path_buf()]).unwrap();
        assert!(!ex.is_empty());
        let got = expand_within(&args(&["192.0.2.0/29"]), &ex, 100).unwrap();
        assert_eq!(
            got,
            vec![v4(192, 0, 2, 2), v4(192, 0, 2, 5), v4(192, 0, 2, 6)]
        );
        let f = temp_file(b"192.0.2.1\nnot_a_host\n");
        let path = f.path().display().to_string();
        let e = Exclusions::parse(&[], &[f.path().to_path_buf()]).unwrap_err();
        assert!(e.to_string().starts_with(&format!("{path}:2:")), "{e}");
        let e = Exclusions::parse(&args(&[&format!("@{path}")]), &[]).unwrap_err();
        assert!(e.to_string().starts_with(&format!("{path}:2:")), "{e}");
    }

    #[test]
    fn subtract_and_merge() {
        let ex = Exclusions {
            v4: vec![(2, 3), (5, 5), (9, 20)],
            ..Exclusions::default()
        };
        assert_eq!(ex.subtract(Family::V4, 0, 10), vec![(0, 1), (4, 4), (6, 8)]);
        assert_eq!(ex.subtract(Family::V4, 3, 3), vec![]);
        assert_eq!(ex.subtract(Family::V4, 21, 30), vec![(21, 30)]);
        assert_eq!(ex.subtract(Family::V6, 2, 3), vec![(2, 3)]);
        let mut l = vec![(5, 9), (1, 2), (3, 4), (20, 30), (25, 26)];
        normalize(&mut l);
        assert_eq!(l, vec![(1, 9), (20, 30)]);
        let full = Exclusions {
            v6: vec![(0, u128::MAX)],
            ..Exclusions::default()
        };
        assert_eq!(full.subtract(Family::V6, 7, 9), vec![]);
    }

    #[tokio::test]
    async fn resolve_address_needs_no_lookup() {
        let t = Target::Addr("::1".parse().unwrap());
        let got = resolve(&t, 135, Duration::from_secs(1)).await.unwrap();
        assert_eq!(got, vec!["[::1]:135".parse::<SocketAddr>().unwrap()]);
    }

    #[tokio::test]
    async fn resolve_localhost_gives_loopback() {
        let t = Target::Name("localhost".to_string());
        let got = resolve(&t, 135, Duration::from_secs(5)).await.unwrap();
        assert!(!got.is_empty());
        assert!(got.iter().all(|a| a.ip().is_loopback() && a.port() == 135));
    }

    #[tokio::test]
    async fn resolve_zero_deadline_times_out_or_resolves() {
        // A zero deadline must yield a clean error (or a result if the lookup was instant),
        // never a panic or a hang.
        let t = Target::Name("localhost".to_string());
        match resolve(&t, 135, Duration::ZERO).await {
            Ok(addrs) => assert!(!addrs.is_empty()),
            Err(e) => assert!(e.to_string().contains("localhost"), "{e}"),
        }
    }

    proptest! {
        #[test]
        fn expand_never_panics(s in any::<String>()) {
            // Strings starting with '@' would read arbitrary paths; files are tested above.
            prop_assume!(!s.trim_start().starts_with('@'));
            let _ = expand(&[s]);
        }

        #[test]
        fn expand_never_panics_on_address_like_text(s in "[0-9a-fA-F:./\\[\\]%-]{0,48}") {
            prop_assume!(!s.trim_start().starts_with('@'));
            if let Ok(ts) = expand(&[s]) {
                prop_assert!(ts.len() <= MAX_TARGETS);
            }
        }
    }
}
