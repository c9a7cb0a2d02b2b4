//! krb5.conf (`KRB5_CONFIG`, else `/etc/krb5.conf`): the KDCs of a realm from `[realms]`, for
//! `--realm` without `--kdc`. Pure: text in, the realm's `kdc` values out. Only what rpcaudit
//! needs is read; the rest of the file is skipped, but its shape is checked, and a line not
//! understood is an error naming it (a KDC taken from a half-understood file could be the
//! wrong one).
//!
//! Grammar (MIT krb5, krb5.conf(5)):
//! ```text
//! file     = *( blank | comment | section | relation | "include" path | "includedir" path )
//! comment  = ("#" | ";") text
//! section  = "[" name "]"
//! relation = tag ["*"] "=" value | tag ["*"] "=" "{" *relation "}"
//! ```
//! In `[realms]`, `REALM = { kdc = host[:port] ... }`; a host is a name, an IPv4 address, or
//! an IPv6 address in brackets when a port follows. `kdc` values may be prefixed `tcp/` or
//! `udp/` (MIT 1.13+; rpcaudit always uses TCP); `https://` KDC proxies (MS-KKDCP) are not
//! used. `include` and `includedir` are not followed (a message says so when the realm is
//! not found).

/// Most `kdc` values kept for one realm.
const MAX_KDCS: usize = 32;
/// Deepest nesting of `{ }` accepted.
const MAX_DEPTH: usize = 8;

/// One `kdc = ...` value: a host name or address, and its port when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcHost {
    pub host: String,
    pub port: Option<u16>,
}

/// Why krb5.conf could not be read. `line` counts from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    #[error("line {line}: {what}")]
    Line { line: usize, what: String },
}

/// What krb5.conf says of one realm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RealmKdcs {
    /// The realm's `kdc` values, in file order.
    pub kdcs: Vec<KdcHost>,
    /// Whether the file has `include` or `includedir` lines (not followed).
    pub includes: bool,
    /// Values skipped (an `https://` proxy), with their line.
    pub skipped: Vec<String>,
}

/// The `kdc` values of `realm` (compared without regard to case) in `[realms]`.
pub fn realm_kdcs(text: &str, realm: &str) -> Result<RealmKdcs, ConfError> {
    let mut out = RealmKdcs::default();
    let mut section = String::new();
    // The stack of open `{`: the tag that opened each.
    let mut open: Vec<String> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let err = |what: String| ConfError::Line { line, what };
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if l.chars().any(|c| c.is_control() && c != '\t') {
            return Err(err("a control character".into()));
        }
        if open.is_empty()
            && let Some(rest) = l
                .strip_prefix("include ")
                .or_else(|| l.strip_prefix("includedir "))
        {
            let _ = rest;
            out.includes = true;
            continue;
        }
        if let Some(name) = l.strip_prefix('[') {
            if !open.is_empty() {
                return Err(err("a section inside { }".into()));
            }
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| err("a section name without ']'".into()))?;
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        if l == "}" {
            if open.pop().is_none() {
                return Err(err("'}' without '{'".into()));
            }
            continue;
        }
        let (tag, value) = l
            .split_once('=')
            .ok_or_else(|| err("neither a section, a relation (tag = value) nor '}'".into()))?;
        let tag = tag.trim().trim_end_matches('*').trim();
        let value = value.trim();
        if tag.is_empty() || tag.contains(char::is_whitespace) {
            return Err(err("a relation without a tag, or a tag with blanks".into()));
        }
        if section.is_empty() {
            return Err(err("a relation before any [section]".into()));
        }
        if value == "{" {
            if open.len() == MAX_DEPTH {
                return Err(err(format!("nested deeper than {MAX_DEPTH}")));
            }
            open.push(tag.to_string());
            continue;
        }
        let in_realm = section == "realms"
            && open.len() == 1
            && open.first().is_some_and(|r| r.eq_ignore_ascii_case(realm));
        if in_realm && tag.eq_ignore_ascii_case("kdc") {
            let v = value.split_whitespace().next().unwrap_or_default();
            if v.starts_with("https://") || v.starts_with("http://") {
                out.skipped.push(format!(
                    "line {line}: {} (a KDC proxy, not used)",
                    crate::inert::field(v)
                ));
                continue;
            }
            if out.kdcs.len() == MAX_KDCS {
                return Err(err(format!("more than {MAX_KDCS} kdc values for {realm}")));
            }
            out.kdcs.push(kdc_host(v).map_err(err)?);
        }
    }
    if !open.is_empty() {
        return Err(ConfError::Line {
            line: text.lines().count(),
            what: format!(
                "'{{' of {} not closed",
                crate::inert::field(&open.join(", "))
            ),
        });
    }
    Ok(out)
}

/// `[tcp/|udp/]host[:port]`, `[v6]:port` or a bare IPv6 address.
fn kdc_host(v: &str) -> Result<KdcHost, String> {
    let v = v
        .strip_prefix("tcp/")
        .or_else(|| v.strip_prefix("udp/"))
        .unwrap_or(v);
    let bad = || format!("kdc = {}: not host[:port]", crate::inert::field(v));
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad);
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (h, None),
            _ => (h, Some(port(after.strip_prefix(':').ok_or_else(bad)?)?)),
        }
    } else if v.parse::<std::net::Ipv6Addr>().is_ok() {
        (v, None)
    } else {
        match v.split_once(':') {
            Some((h, p)) => (h, Some(port(p)?)),
            None => (v, None),
        }
    };
    let name_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !name_ok {
        return Err(bad());
    }
    Ok(KdcHost {
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "\
# written by hand
[libdefaults]
\tdefault_realm = RPCAUDIT.LAB
\tdns_lookup_kdc = false

[realms]
  OTHER.LAB = {
    kdc = 192.0.2.9
  }
  RPCAUDIT.LAB = {
    kdc = 198.18.16.2
    kdc* = dc1.rpcaudit.lab:8888
    kdc = tcp/[2001:db8::5]:88
    kdc = 2001:db8::6
    kdc = https://proxy.example/KdcProxy
    admin_server = dc1.rpcaudit.lab
    auth_to_local = RULE:[1:$1@$0](.*@RPCAUDIT\\.LAB)s/@.*//
    v4_name_convert = {
        host = {
            rcmd = host
        }
    }
  }
; a comment
[domain_realm]
  .rpcaudit.lab = RPCAUDIT.LAB
include /etc/krb5.conf.d/extra
";

    #[test]
    fn the_realms_kdcs_are_read_in_file_order() {
        let r = realm_kdcs(CONF, "rpcaudit.lab").unwrap();
        let kdcs: Vec<(String, Option<u16>)> =
            r.kdcs.into_iter().map(|k| (k.host, k.port)).collect();
        assert_eq!(
            kdcs,
            [
                ("198.18.16.2".into(), None),
                ("dc1.rpcaudit.lab".into(), Some(8888)),
                ("2001:db8::5".into(), Some(88)),
                ("2001:db8::6".into(), None),
            ]
        );
        assert!(r.includes);
        assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
        let o = realm_kdcs(CONF, "OTHER.LAB").unwrap();
        assert_eq!(o.kdcs.len(), 1);
        assert!(realm_kdcs(CONF, "NONE.LAB").unwrap().kdcs.is_empty());
    }

    #[test]
    fn a_real_krb5_conf_reads() {
        // Debian's krb5-config ships this file; skipped where it is absent.
        let Ok(text) = std::fs::read_to_string("/etc/krb5.conf") else {
            eprintln!("skipped: no /etc/krb5.conf");
            return;
        };
        realm_kdcs(&text, "ATHENA.MIT.EDU").unwrap();
    }

    #[test]
    fn hostile_files_are_errors_naming_the_line() {
        for (text, line) in [
            ("[realms]\n R = {\n kdc = 1.2.3.4\n", 3),
            ("[realms]\n}\n", 2),
            ("kdc = 1.2.3.4\n", 1),
            ("[realms\n", 1),
            ("[realms]\n R = {\n kdc = host:0\n }\n", 3),
            ("[realms]\n R = {\n kdc = host:99999\n }\n", 3),
            ("[realms]\n R = {\n kdc = ho st\x1b\n }\n", 3),
            ("[realms]\n R = {\n kdc = [::1\n }\n", 3),
            ("[realms]\n R = {\n kdc = a/b\n }\n", 3),
            ("[realms]\n R = {\n just words\n }\n", 3),
            ("[realms]\n R = {\n [x]\n }\n", 3),
        ] {
            match realm_kdcs(text, "R") {
                Err(ConfError::Line { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let deep = format!("[realms]\n{}", "a = {\n".repeat(MAX_DEPTH + 1));
        assert!(realm_kdcs(&deep, "R").is_err());
        let many = format!(
            "[realms]\nR = {{\n{}}}\n",
            "kdc = 1.2.3.4\n".repeat(MAX_KDCS + 1)
        );
        assert!(realm_kdcs(&many, "R").is_err());
        // Large but well formed: bounded work, no error.
        let big = "# x\n".repeat(100_000);
        assert!(realm_kdcs(&big, "R").unwrap().kdcs.is_empty());
    }
}
