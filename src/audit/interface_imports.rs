//! `audit --interface-observations FILE`: the interface probes a vantage host made
//! (`rpcaudit interfaces --json` run there), read from the document's bytes, checked and keyed
//! by the address probed, so that `audit::run` sets each beside the local probes of the same
//! target, judged from its own `source`. Pure: the CLI reads the file. What is not understood
//! fails closed: a wrong schema version or probe opnum, a host whose address is not an IP, a
//! probe without a source, a road that is not a plain TCP or named-pipe road. The names and
//! tags come from the catalogue, never from the document.

use crate::epm::HostStatus;
use crate::epm::reach::{HostInterfaces, InterfaceReach, PROBE_OPNUM};
use crate::inert::cut_escaped;
use std::net::IpAddr;

/// What is read of the document (`report::interfaces::InterfacesReport`; each host's findings
/// are left out: they are judged again here).
#[derive(serde::Deserialize)]
struct Document {
    schema_version: u32,
    probe_opnum: u16,
    hosts: Vec<HostInterfaces>,
}

/// The probes of one host in one imported document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedHost {
    /// The address the vantage host probed.
    pub target: IpAddr,
    /// `ok`, or `partial`/`error` when the vantage host could not probe it whole.
    pub status: HostStatus,
    pub interfaces: Vec<InterfaceReach>,
}

/// Why a document cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not an `rpcaudit interfaces --json` document: {0}")]
    Json(#[from] serde_json::Error),
    #[error("schema_version {found}, this rpcaudit reads {expected}")]
    SchemaVersion { found: u32, expected: u32 },
    #[error("probe_opnum {0}: this rpcaudit's probes call {PROBE_OPNUM}, verdicts not comparable")]
    ProbeOpnum(u16),
    #[error("host '{0}': not an IP address (the audit matches hosts to targets by address)")]
    NotAnAddress(String),
    #[error("host {0}: a probe without a source address")]
    NoSource(IpAddr),
    #[error("host {host}: road '{road}' is not an ncacn_ip_tcp or ncacn_np road")]
    Road { host: IpAddr, road: String },
    #[error("more than {MAX_PROBES} probes")]
    TooMany,
}

/// At most this many probes per document.
pub const MAX_PROBES: usize = 200_000;
/// Longest road and evidence kept.
const MAX_ROAD: usize = 200;
const MAX_EVIDENCE: usize = 300;

/// A road as `epm::reach` writes them: `ncacn_ip_tcp:ADDR[PORT]` or `ncacn_np:HOST[\pipe\NAME]`,
/// printable ASCII without spaces.
fn plain_road(road: &str) -> bool {
    (road.starts_with("ncacn_ip_tcp:") || road.starts_with("ncacn_np:"))
        && road.len() <= MAX_ROAD
        && road.bytes().all(|b| b.is_ascii_graphic())
}

/// The hosts of an `interfaces --json` document of schema version `expected`, checked.
pub fn parse(bytes: &[u8], expected: u32) -> Result<Vec<ImportedHost>, ImportError> {
    let doc: Document = serde_json::from_slice(bytes)?;
    if doc.schema_version != expected {
        return Err(ImportError::SchemaVersion {
            found: doc.schema_version,
            expected,
        });
    }
    if doc.probe_opnum != PROBE_OPNUM {
        return Err(ImportError::ProbeOpnum(doc.probe_opnum));
    }
    let total: usize = doc.hosts.iter().map(|h| h.interfaces.len()).sum();
    if total > MAX_PROBES {
        return Err(ImportError::TooMany);
    }
    let mut out = Vec::with_capacity(doc.hosts.len());
    for h in doc.hosts {
        let target: IpAddr = h
            .target
            .trim()
            .parse()
            .map_err(|_| ImportError::NotAnAddress(cut_escaped(&h.target, 80).into_owned()))?;
        let mut interfaces = Vec::with_capacity(h.interfaces.len());
        for mut i in h.interfaces {
            i.source = Some(i.source.or(h.source).ok_or(ImportError::NoSource(target))?);
            if !plain_road(&i.road) {
                return Err(ImportError::Road {
                    host: target,
                    road: cut_escaped(&i.road, 80).into_owned(),
                });
            }
            i.name = crate::epm::names::label(&i.interface);
            i.tags = crate::epm::names::tags(&i.interface);
            for p in std::iter::once(&mut i.anonymous).chain(i.authenticated.as_mut()) {
                p.evidence = cut_escaped(&p.evidence, MAX_EVIDENCE).into_owned();
            }
            interfaces.push(i);
        }
        out.push(ImportedHost {
            target,
            status: h.status,
            interfaces,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(target: &str, road: &str, source: Option<&str>, version: u32) -> String {
        let source = source.map_or(String::new(), |s| format!(r#","source":"{s}""#));
        format!(
            r#"{{"schema_version":{version},"probe_opnum":65535,"hosts":[{{"target":"{target}","status":"ok",
            "dump":{{"target":"{target}","status":"ok","endpoints":[]}},"skipped":0{source},
            "interfaces":[{{"interface":"4fc742e0-4a10-11cf-8273-00aa004ae673","version":"3.0",
            "name":"evil\u001b[31m","road":"{road}","port":5001,
            "anonymous":{{"verdict":"callable","evidence":"fault\u0007 x"}}}}]}}]}}"#
        )
    }

    fn version() -> u32 {
        1
    }

    #[test]
    fn a_document_is_read_with_the_catalogue_names_and_the_hosts_source() {
        let d = doc(
            "198.51.100.7",
            "ncacn_ip_tcp:198.51.100.7[5001]",
            Some("192.0.2.9"),
            version(),
        );
        let hosts = parse(d.as_bytes(), version()).unwrap_or_else(|e| panic!("{e}: {d}"));
        assert_eq!(hosts.len(), 1);
        let i = &hosts[0].interfaces[0];
        assert_eq!(i.source, Some("192.0.2.9".parse().unwrap()));
        assert_eq!(i.name.as_deref(), Some("MS-DFSNM netdfs"));
        assert!(!i.anonymous.evidence.contains('\u{7}'), "{:?}", i.anonymous);
    }

    #[test]
    fn what_is_not_understood_is_refused() {
        let cases = [
            doc("198.51.100.7", "ncacn_ip_tcp:x[1]", Some("192.0.2.9"), 999),
            doc("dc1", "ncacn_ip_tcp:x[1]", Some("192.0.2.9"), version()),
            doc("198.51.100.7", "ncacn_ip_tcp:x[1]", None, version()),
            doc(
                "198.51.100.7",
                "ncacn_http:x\\u001b[1]",
                Some("192.0.2.9"),
                version(),
            ),
            "{".to_string(),
        ];
        for d in cases {
            let e = parse(d.as_bytes(), version()).expect_err(&d).to_string();
            assert!(!e.contains('\u{1b}'), "{e:?}");
        }
    }
}
