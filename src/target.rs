//! Target specifications from the command line: addresses, host names, CIDR blocks, @files.
//!
//! First step of the flow for `dump`, `probe` and `audit`: [`expand`] turns the TARGET arguments
//! into a list of [`Target`]s without any I/O other than reading `@file`s, so garbage gives a
//! clear error and never a DNS query. [`resolve`] is the only network step, used at run time by
//! the callers just before they connect.

use ipnet::IpNet;
use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// Most targets one invocation may expand to (all arguments and files together, counted
/// before duplicates are removed).
pub const MAX_TARGETS: usize = 65_536;
/// Largest `@file` read, in bytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
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
    #[error("{at}: expanding it would exceed the limit of {limit} targets in total")]
    TooMany { at: String, limit: usize },
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
    #[error("not a host name")]
    NotAHostName,
    #[error("host name longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    #[error("host name has an empty label")]
    EmptyLabel,
    #[error("host name label longer than {MAX_LABEL_LEN} characters")]
    LabelTooLong,
    #[error("not an IP address, CIDR block or host name (letters, digits, `-` and `.` only)")]
    BadCharacters,
    #[error("host name label starts or ends with `-`")]
    LabelHyphen,
    #[error("a target file may not name another @file")]
    NestedFile,
    #[error("one target per line expected")]
    SeveralOnALine,
    #[error("one host expected (an IP address or a host name), not a CIDR block or @file")]
    NotOneHost,
}

/// What one token stands for, before expansion.
enum Spec {
    Addr(IpAddr),
    Net(IpNet),
    Name(String),
    File(String),
}

/// Expand TARGET arguments into targets, in order, each first occurrence kept.
///
/// Accepted forms: `192.0.2.7`, `2001:db8::7`, `[2001:db8::7]`, `host.example`, `192.0.2.0/24`
/// (IPv4 blocks lose their network and broadcast addresses, except /31 and /32; IPv6 blocks keep
/// every address), and `@file` with one target per line (blank lines and `#` comments ignored,
/// no nested `@`). More than [`MAX_TARGETS`] in total is an error naming the argument or line
/// that crossed the limit.
pub fn expand(args: &[String]) -> Result<Vec<Target>, TargetError> {
    let mut out = Expansion::default();
    for arg in args {
        let at = format!("target `{}`", crate::report::inert::excerpt(arg));
        match parse_token(arg).map_err(|reason| TargetError::Invalid {
            at: at.clone(),
            reason,
        })? {
            Spec::File(path) => expand_file(&path, &mut out)?,
            spec => out.add(spec, &at)?,
        }
    }
    Ok(out.targets)
}

/// Each TARGET argument as one host, in order: an address or a host name, as [`expand`] reads
/// them; a CIDR block or an `@file` is refused. For commands that take hosts only (`probe`).
pub fn hosts(args: &[String]) -> Result<Vec<Target>, TargetError> {
    args.iter()
        .map(|arg| {
            let host = match parse_token(arg) {
                Ok(Spec::Addr(ip)) => Ok(Target::Addr(ip)),
                Ok(Spec::Name(name)) => Ok(Target::Name(name)),
                Ok(Spec::Net(_) | Spec::File(_)) => Err(InvalidTarget::NotOneHost),
                Err(reason) => Err(reason),
            };
            host.map_err(|reason| TargetError::Invalid {
                at: format!("target `{}`", crate::report::inert::excerpt(arg)),
                reason,
            })
        })
        .collect()
}

/// Targets gathered so far, with the count used for the limit and the set used for dedup.
#[derive(Default)]
struct Expansion {
    targets: Vec<Target>,
    seen: HashSet<Target>,
    produced: usize,
}

impl Expansion {
    fn add(&mut self, spec: Spec, at: &str) -> Result<(), TargetError> {
        let too_many = || TargetError::TooMany {
            at: at.to_string(),
            limit: MAX_TARGETS,
        };
        let budget = MAX_TARGETS - self.produced;
        match spec {
            Spec::Addr(ip) => {
                if budget == 0 {
                    return Err(too_many());
                }
                self.push(Target::Addr(ip));
            }
            Spec::Name(name) => {
                if budget == 0 {
                    return Err(too_many());
                }
                self.push(Target::Name(name));
            }
            Spec::Net(net) => {
                // Count first so that a huge block is refused without iterating over it.
                let count = host_count(&net);
                if count > budget as u128 {
                    return Err(too_many());
                }
                match net {
                    // Ipv4Net::hosts skips network and broadcast except for /31 and /32.
                    IpNet::V4(n) => n.hosts().for_each(|a| self.push(Target::Addr(a.into()))),
                    IpNet::V6(n) => {
                        let first = u128::from(n.network());
                        (0..count)
                            .for_each(|i| self.push(Target::Addr(Ipv6Addr::from(first + i).into())))
                    }
                }
            }
            Spec::File(_) => {
                return Err(TargetError::Invalid {
                    at: at.to_string(),
                    reason: InvalidTarget::NestedFile,
                });
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

/// Addresses [`Expansion::add`] yields for a block; saturates for blocks of 2^128 addresses.
fn host_count(net: &IpNet) -> u128 {
    match net {
        IpNet::V4(n) => {
            let bits = 32 - u32::from(n.prefix_len());
            let all = 1u128 << bits;
            if bits <= 1 { all } else { all - 2 }
        }
        IpNet::V6(n) => {
            let bits = 128 - u32::from(n.prefix_len());
            1u128.checked_shl(bits).unwrap_or(u128::MAX)
        }
    }
}

fn expand_file(path: &str, out: &mut Expansion) -> Result<(), TargetError> {
    let text = read_target_file(Path::new(path))?;
    let before = out.produced;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let at = format!(
            "{path}:{line}: target `{}`",
            crate::report::inert::excerpt(content)
        );
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
        out.add(spec, &at)?;
    }
    if out.produced == before {
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
    if s.contains(':') {
        return Err(if s.matches(':').count() == 1 {
            InvalidTarget::HasPort
        } else {
            InvalidTarget::BadIpv6
        });
    }
    validate_host_name(s).map(Spec::Name)
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

    fn err_text(list: &[&str]) -> String {
        match expand(&args(list)) {
            Ok(ts) => panic!("expected an error, got {} targets", ts.len()),
            Err(e) => e.to_string(),
        }
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
            vec![
                v4(192, 0, 2, 7),
                Target::Addr("2001:db8::7".parse().unwrap()),
                Target::Addr("::1".parse().unwrap()),
                Target::Name("dc01.example.com".to_string()),
                Target::Name("localhost".to_string()),
            ]
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
        assert_eq!(
            got,
            vec![
                v4(192, 0, 2, 2),
                v4(192, 0, 2, 1),
                Target::Name("host-a".to_string())
            ]
        );
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
            vec![
                v4(192, 0, 2, 9),
                v4(192, 0, 2, 1),
                Target::Name("srv-2.example".to_string()),
                v4(192, 0, 2, 0),
            ]
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
