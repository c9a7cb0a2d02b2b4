//! Where a realm's KDC is when `--kdc` is not given (I/O, bounded by a deadline): the first
//! `kdc` of the realm in krb5.conf's `[realms]` (the files `KRB5_CONFIG` names, else
//! `/etc/krb5.conf`; [`super::conf`] reads them), else DNS SRV `_kerberos._tcp.REALM` (RFC 4120
//! 7.2.3.2; asked of `--dns SERVER` or the system's resolvers, through hickory-resolver). The
//! answer says which was used, for the verbose log. Only the one KDC found is ever contacted
//! afterwards.

use super::conf::{ConfError, realm_kdcs};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The KDC port when none is given (RFC 4120 7.2.3).
const KDC_PORT: u16 = 88;
/// Largest krb5.conf read.
const MAX_CONF: u64 = 1024 * 1024;

/// A KDC found, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub addr: SocketAddr,
    /// `krb5.conf FILE`, or `DNS SRV _kerberos._tcp.REALM`, with the host it named.
    pub how: String,
}

/// Why no KDC was found. Names files, names and servers; no secret is involved.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Conf {
        path: PathBuf,
        #[source]
        source: ConfError,
    },
    #[error("the KDC {host} named by {how}: {detail}")]
    Resolve {
        host: String,
        how: String,
        detail: String,
    },
    #[error(
        "no KDC for {realm}: not in krb5.conf [realms] ({conf}), and DNS SRV _kerberos._tcp.{realm}: {srv}; give --kdc ADDRESS[:PORT]"
    )]
    NotFound {
        realm: String,
        conf: String,
        srv: String,
    },
}

/// The krb5.conf files to read: `KRB5_CONFIG` (a `:`-separated list) or `/etc/krb5.conf`;
/// those that do not exist are skipped, as MIT krb5 skips them.
pub fn conf_paths(krb5_config: Option<&str>) -> Vec<PathBuf> {
    match krb5_config {
        Some(list) if !list.is_empty() => list
            .split(':')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        _ => vec![PathBuf::from("/etc/krb5.conf")],
    }
}

/// Find the KDC of `realm`: krb5.conf first, then DNS SRV (asked of `dns` when given), all
/// within `timeout`. Runs on its own thread and runtime, so it may be called from anywhere.
pub fn locate(
    realm: &str,
    conf: &[PathBuf],
    dns: Option<SocketAddr>,
    timeout: Duration,
) -> Result<Located, LocateError> {
    let realm = realm.to_string();
    let conf = conf.to_vec();
    let work = move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LocateError::Resolve {
                host: realm.clone(),
                how: "a runtime".into(),
                detail: e.to_string(),
            })?;
        rt.block_on(locate_async(&realm, &conf, dns, timeout))
    };
    std::thread::spawn(work).join().unwrap_or_else(|_| {
        Err(LocateError::Resolve {
            host: String::new(),
            how: "the KDC lookup".into(),
            detail: "the lookup thread failed".into(),
        })
    })
}

async fn locate_async(
    realm: &str,
    conf: &[PathBuf],
    dns: Option<SocketAddr>,
    timeout: Duration,
) -> Result<Located, LocateError> {
    let mut conf_said = Vec::new();
    for path in conf {
        let Some(kdcs) = read_conf(path, realm)? else {
            conf_said.push(format!("{}: absent", path.display()));
            continue;
        };
        if let Some(k) = kdcs.kdcs.first() {
            let how = format!("krb5.conf {}", path.display());
            let port = k.port.unwrap_or(KDC_PORT);
            let addr = match tokio::time::timeout(timeout, resolve(&k.host, port, &how)).await {
                Ok(a) => a?,
                Err(_) => {
                    return Err(LocateError::Resolve {
                        host: crate::inert::field(&k.host).into_owned(),
                        how,
                        detail: format!("no address within {timeout:?}"),
                    });
                }
            };
            return Ok(Located {
                addr,
                how: format!("{how} (kdc = {})", crate::inert::field(&k.host)),
            });
        }
        conf_said.push(if kdcs.includes {
            format!(
                "{}: no kdc for the realm (its include lines are not followed)",
                path.display()
            )
        } else {
            format!("{}: no kdc for the realm", path.display())
        });
    }
    let found = match tokio::time::timeout(timeout, srv(realm, dns, timeout)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {timeout:?}")),
    };
    match found {
        Ok(l) => Ok(l),
        Err(srv) => Err(LocateError::NotFound {
            realm: realm.to_string(),
            conf: conf_said.join("; "),
            srv,
        }),
    }
}

/// The realm's KDCs in one krb5.conf; `None` when the file does not exist.
fn read_conf(path: &Path, realm: &str) -> Result<Option<super::conf::RealmKdcs>, LocateError> {
    let raw = match crate::input::read_capped(path, MAX_CONF) {
        Ok(r) => r,
        Err(crate::input::ReadError::Open(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => {
            return Err(LocateError::Read {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            });
        }
    };
    let text = String::from_utf8_lossy(&raw);
    realm_kdcs(&text, realm)
        .map(Some)
        .map_err(|source| LocateError::Conf {
            path: path.to_path_buf(),
            source,
        })
}

/// An address, or a name looked up by the system resolver.
async fn resolve(host: &str, port: u16, how: &str) -> Result<SocketAddr, LocateError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let err = |detail: String| LocateError::Resolve {
        host: crate::inert::field(host).into_owned(),
        how: how.to_string(),
        detail,
    };
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| err(e.to_string()))?
        .next()
        .ok_or_else(|| err("no address".into()))
}

/// DNS SRV `_kerberos._tcp.REALM.`: the record of the lowest priority (the highest weight
/// among equals), its target's first address. The error is a sentence for `NotFound`.
async fn srv(realm: &str, dns: Option<SocketAddr>, timeout: Duration) -> Result<Located, String> {
    use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
    use hickory_resolver::name_server::TokioConnectionProvider;
    use hickory_resolver::{Resolver, TokioResolver};
    let mut builder = match dns {
        Some(s) => Resolver::builder_with_config(
            ResolverConfig::from_parts(
                None,
                vec![],
                NameServerConfigGroup::from_ips_clear(&[s.ip()], s.port(), true),
            ),
            TokioConnectionProvider::default(),
        ),
        None => TokioResolver::builder_tokio().map_err(|e| format!("no resolver: {e}"))?,
    };
    builder.options_mut().attempts = 1;
    builder.options_mut().timeout = timeout.min(Duration::from_secs(3));
    let resolver = builder.build();
    let name = format!("_kerberos._tcp.{}.", realm.to_ascii_lowercase());
    let found = resolver
        .srv_lookup(name.as_str())
        .await
        .map_err(|e| crate::inert::field(&e.to_string()).into_owned())?;
    let mut records: Vec<_> = found.iter().collect();
    records.sort_by_key(|r| (r.priority(), std::cmp::Reverse(r.weight())));
    let best = records.first().ok_or("no record")?;
    let target = best.target().to_utf8();
    let target = target.trim_end_matches('.');
    if target.is_empty() {
        return Err("the record says the service is not offered (target \".\")".into());
    }
    let ips = resolver
        .lookup_ip(format!("{target}."))
        .await
        .map_err(|e| format!("{}: {}", crate::inert::field(target), e))?;
    let ip = ips
        .iter()
        .next()
        .ok_or_else(|| format!("{}: no address", crate::inert::field(target)))?;
    Ok(Located {
        addr: SocketAddr::new(ip, best.port()),
        how: format!(
            "DNS SRV {} ({}:{}){}",
            crate::inert::field(name.trim_end_matches('.')),
            crate::inert::field(target),
            best.port(),
            dns.map(|d| format!(" asked of {d}")).unwrap_or_default()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn krb5_config_lists_files_and_defaults_to_etc() {
        assert_eq!(conf_paths(None), [PathBuf::from("/etc/krb5.conf")]);
        assert_eq!(conf_paths(Some("")), [PathBuf::from("/etc/krb5.conf")]);
        assert_eq!(
            conf_paths(Some("/a.conf::/b.conf")),
            [PathBuf::from("/a.conf"), PathBuf::from("/b.conf")]
        );
    }

    #[test]
    fn the_first_kdc_of_the_first_file_naming_the_realm_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.conf");
        let b = dir.path().join("b.conf");
        std::fs::write(&a, "[realms]\nOTHER = {\n kdc = 127.0.0.9\n}\n").unwrap();
        std::fs::write(
            &b,
            "[realms]\nLAB.TEST = {\n kdc = 127.0.0.7:8888\n kdc = 127.0.0.8\n}\n",
        )
        .unwrap();
        let absent = dir.path().join("none.conf");
        let l = locate(
            "lab.test",
            &[absent, a.clone(), b.clone()],
            None,
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(l.addr, "127.0.0.7:8888".parse().unwrap());
        assert!(l.how.contains("b.conf"), "{}", l.how);
        // A bad file is an error naming it and the line, not a skip.
        std::fs::write(&a, "[realms]\nLAB.TEST = {\n nonsense\n}\n").unwrap();
        let e = locate("lab.test", &[a, b], None, Duration::from_secs(5)).unwrap_err();
        assert!(e.to_string().contains("a.conf: line 3"), "{e}");
    }

    #[test]
    fn without_krb5_conf_or_srv_the_error_says_what_was_tried() {
        // A DNS server on loopback that never answers: the SRV lookup fails in bounded time.
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dns = silent.local_addr().unwrap();
        let t = std::time::Instant::now();
        let e = locate(
            "lab.test",
            &[PathBuf::from("/nonexistent/krb5.conf")],
            Some(dns),
            Duration::from_secs(3),
        )
        .unwrap_err()
        .to_string();
        assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
        assert!(
            e.contains("no KDC for lab.test") && e.contains("absent") && e.contains("--kdc"),
            "{e}"
        );
    }
}
