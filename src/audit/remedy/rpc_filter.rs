//! The `netsh rpc filter` fix dialect: a `netsh -f` script that blocks calls to chosen RPC
//! interfaces in the `um` layer except from chosen addresses (e.g. MS-EFSR's two interfaces
//! except from the admin subnet). `rpcaudit policy rpc-filter-script` writes it.
//!
//! Shape (learn.microsoft.com, "netsh rpc": `add rule`, `add condition`, `add filter`, in that
//! order, in the `rpc filter` context): for each interface, one permit filter per allowed
//! address (`if_uuid` equal and `remote_addr_v4`/`_v6` equal: the RPC layer takes one address
//! per condition, which is why MichaelGrafnetter/RPCFilterManager's README writes one permit
//! per replication partner), then one block filter on `if_uuid` alone. No weight is given:
//! the permits carry one condition more than the block, and the model assumes BFE's automatic
//! weight ranks them above it (`policy::rpc_filter`). Over named pipes the permits do not hold
//! before Windows 11 25H2 (the RPC layer does not see the client's address there), so the
//! allowed addresses are blocked over pipes too: the script fails closed and says so.
//!
//! Every value goes through [`crate::script::quote`]: a UUID must read as one (8-4-4-4-12
//! hex digits) and is written as a [`quote::token`]; an address or subnet must read as one and
//! is expanded to single addresses ([`MAX_PERMIT_ADDRESSES`] at most); each line is checked
//! by [`Line::finish_cmd`], and the whole script is read back by the `netsh rpc filter` reader
//! and must decide block from outside and allow from each allowed address for every
//! interface, or nothing is written.

use super::quote::{self, Line, Refusal};
use crate::policy::netsh_rpc;
use crate::policy::rpc_filter::{Call, RpcVerdict};
use ipnet::IpNet;
use std::net::IpAddr;
use uuid::Uuid;

/// Most single addresses the permits may name (one filter each, per interface).
pub const MAX_PERMIT_ADDRESSES: usize = 256;
/// Most interfaces one script blocks.
pub const MAX_INTERFACES: usize = 64;

/// An interface UUID as written by the administrator: 8-4-4-4-12 hex digits, nothing else.
fn interface(s: &str) -> Result<Uuid, Refusal> {
    let well_formed = s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    match well_formed.then(|| Uuid::try_parse(s).ok()).flatten() {
        Some(u) => Ok(u),
        None => Err(Refusal::new(
            "interface UUID",
            s,
            "is not an interface UUID (8-4-4-4-12 hex digits)",
        )),
    }
}

/// An address or subnet, as the single addresses the permits name.
fn addresses(s: &str) -> Result<Vec<IpAddr>, Refusal> {
    if let Ok(a) = s.parse::<IpAddr>() {
        return Ok(vec![a]);
    }
    let net: IpNet = s.parse().map_err(|_| {
        Refusal::new(
            "allowed source",
            s,
            "is not an address or a subnet (10.0.9.0/24)",
        )
    })?;
    let mut out = Vec::new();
    let hosts: Box<dyn Iterator<Item = IpAddr>> = match net {
        IpNet::V4(n) => Box::new(n.hosts().map(IpAddr::V4)),
        IpNet::V6(n) => Box::new(n.hosts().map(IpAddr::V6)),
    };
    for a in hosts {
        if out.len() >= MAX_PERMIT_ADDRESSES {
            return Err(Refusal::new(
                "allowed source",
                s,
                format!(
                    "holds more than {MAX_PERMIT_ADDRESSES} addresses, and an RPC filter names one address per condition"
                ),
            ));
        }
        out.push(a);
    }
    Ok(out)
}

/// A comment line of ours (`#` starts a comment in a netsh script, as `netsh dump` writes).
fn comment_line(s: &str) -> String {
    format!("# {}", quote::comment_line(s))
}

fn condition(field: &str, data: &str) -> Result<String, Refusal> {
    let t = quote::token("condition value", data)?;
    Line::new()
        .words("add condition")
        .sp()
        .raw("field=")
        .raw(field)
        .sp()
        .raw("matchtype=equal")
        .sp()
        .raw("data=")
        .token(&t)
        .finish_cmd()
}

/// The `netsh -f` script that blocks `interfaces` except from `permit_from`, read back before
/// it is returned.
pub fn script(interfaces: &[&str], permit_from: &[&str]) -> Result<String, Refusal> {
    if interfaces.is_empty() || interfaces.len() > MAX_INTERFACES {
        return Err(Refusal::new(
            "interfaces",
            &interfaces.len().to_string(),
            format!("must be 1 to {MAX_INTERFACES}"),
        ));
    }
    let uuids: Vec<Uuid> = interfaces
        .iter()
        .map(|s| interface(s))
        .collect::<Result<_, _>>()?;
    let mut allowed: Vec<IpAddr> = Vec::new();
    for s in permit_from {
        for a in addresses(s)? {
            if !allowed.contains(&a) {
                allowed.push(a);
            }
        }
        if allowed.len() > MAX_PERMIT_ADDRESSES {
            return Err(Refusal::new(
                "allowed sources",
                s,
                format!("hold more than {MAX_PERMIT_ADDRESSES} addresses together"),
            ));
        }
    }
    let mut lines = vec![
        comment_line(
            "rpcaudit: RPC filters in the um layer. Run as an administrator: netsh -f THIS_FILE",
        ),
        comment_line("Check afterwards with: netsh rpc filter show filter"),
        comment_line(
            "The permits rank above the blocks by BFE's automatic weight (one condition more; assumed).",
        ),
        comment_line(
            "Before Windows 11 25H2 the RPC layer does not see the client's address over named pipes: there the allowed addresses are blocked too.",
        ),
        Line::new().raw("rpc").finish_cmd()?,
        Line::new().raw("filter").finish_cmd()?,
    ];
    for u in &uuids {
        let id = u.hyphenated().to_string();
        lines.push(comment_line(&format!(
            "interface {id}: permit from {} address(es), block from any other",
            allowed.len()
        )));
        for a in &allowed {
            lines.push(
                Line::new()
                    .words("add rule layer=um actiontype=permit")
                    .finish_cmd()?,
            );
            lines.push(condition("if_uuid", &id)?);
            let field = if a.is_ipv4() {
                "remote_addr_v4"
            } else {
                "remote_addr_v6"
            };
            lines.push(condition(field, &a.to_string())?);
            lines.push(Line::new().words("add filter").finish_cmd()?);
        }
        lines.push(
            Line::new()
                .words("add rule layer=um actiontype=block")
                .finish_cmd()?,
        );
        lines.push(condition("if_uuid", &id)?);
        lines.push(Line::new().words("add filter").finish_cmd()?);
    }
    lines.push(Line::new().raw("quit").finish_cmd()?);
    let text = lines.join("\r\n") + "\r\n";
    check(&text, &uuids, &allowed)?;
    Ok(text)
}

/// The script read back with the reader: every interface blocked from outside and allowed
/// from each allowed address, over TCP.
fn check(text: &str, uuids: &[Uuid], allowed: &[IpAddr]) -> Result<(), Refusal> {
    let fail = |why: String| Refusal::new("script", "netsh rpc filter script", why);
    let filters = netsh_rpc::parse("fix.txt", text.as_bytes())
        .map_err(|e| fail(format!("does not read back: {e}")))?;
    let outside = ["192.0.2.1", "2001:db8::1", "198.51.100.7", "2001:db8::7"]
        .iter()
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .find(|a| !allowed.contains(a))
        .ok_or_else(|| fail("no address outside the allowed ones to check with".into()))?;
    for u in uuids {
        let from = |src: IpAddr| filters.decide(&Call::anonymous(*u, src, None, 0)).verdict;
        if from(outside) != RpcVerdict::Block {
            return Err(fail(format!("does not read back as blocking {u}")));
        }
        if let Some(a) = allowed.iter().find(|a| from(**a) != RpcVerdict::Allow) {
            return Err(fail(format!("does not read back as allowing {u} from {a}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EFSR_LSA: &str = "c681d488-d850-11d0-8c52-00c04fd90f7e";
    const EFSR: &str = "df1941c5-fe89-4e79-bf10-463657acf44d";

    #[test]
    fn efsr_blocked_except_from_the_admin_subnet_reads_back_as_meant() {
        let s = script(&[EFSR_LSA, EFSR], &["10.0.9.0/30", "2001:db8:9::5"]).unwrap();
        assert!(s.is_ascii());
        let f = netsh_rpc::parse("fix.txt", s.as_bytes()).unwrap();
        // Two hosts of the /30 and one IPv6 address: three permits and one block each.
        assert_eq!(f.filters.len(), 8, "{s}");
        for iface in [EFSR_LSA, EFSR] {
            let u = Uuid::parse_str(iface).unwrap();
            let d = |src: &str, pipe: Option<&str>| {
                f.decide(&Call::anonymous(
                    u,
                    src.parse().unwrap(),
                    pipe.map(Into::into),
                    65535,
                ))
                .verdict
            };
            assert_eq!(d("10.0.9.1", None), RpcVerdict::Allow);
            assert_eq!(d("10.0.9.2", None), RpcVerdict::Allow);
            assert_eq!(d("2001:db8:9::5", None), RpcVerdict::Allow);
            assert_eq!(d("10.0.9.3", None), RpcVerdict::Block);
            assert_eq!(d("10.0.1.7", None), RpcVerdict::Block);
            // Over a pipe the admin's permit cannot be told: never an allow.
            assert_eq!(
                d("10.0.9.1", Some("\\pipe\\efsrpc")),
                RpcVerdict::Conditional
            );
        }
        // Another interface is untouched.
        let other = Uuid::from_u128(5);
        assert_eq!(
            f.decide(&Call::anonymous(
                other,
                "10.0.1.7".parse().unwrap(),
                None,
                0
            ))
            .verdict,
            RpcVerdict::Allow
        );
    }

    #[test]
    fn hostile_values_are_refused_not_written() {
        for bad in [
            "c681d488-d850-11d0-8c52-00c04fd90f7e & del *",
            "c681d488-d850-11d0-8c52-00c04fd90f7e\r\nadd filter",
            "{c681d488-d850-11d0-8c52-00c04fd90f7e}",
            "c681d488d85011d08c5200c04fd90f7e",
            "\"c681d488-d850-11d0-8c52-00c04fd90f7e\"",
            "",
        ] {
            assert!(script(&[bad], &[]).is_err(), "{bad:?}");
        }
        for bad in ["10.0.9.0/24 & del", "10.0.0.0/16", "admins", "10.0.9.1\n"] {
            assert!(script(&[EFSR], &[bad]).is_err(), "{bad:?}");
        }
        assert!(script(&[], &[]).is_err());
        // Without allowed sources: one block per interface.
        let s = script(&[EFSR], &[]).unwrap();
        assert_eq!(
            netsh_rpc::parse("x", s.as_bytes()).unwrap().filters.len(),
            1
        );
    }
}
