//! Who owns each port the endpoint mapper lists, for the firewall rules scoped to a program or
//! service ([`crate::policy::model::condition`]). Pure: a host's dump in, owners out; read by
//! [`super::run::assess_host`], which decides each matrix row at the port's owners.
//!
//! A listening port belongs to one process, the one that registered the interfaces the map lists
//! on it; the interface catalogue (`data/interfaces.tsv`) names the service and the binaries
//! that host each interface it knows. A port's owners are the services and programs (`.exe`
//! binaries) of the interfaces on it; when an interface on the port is not in the catalogue, or
//! the catalogue names neither its service nor a program, the port's owners are not known and
//! the decision stays conditional.

use crate::epm::HostDump;
use crate::epm::catalogue;
use crate::policy::model::condition::{Owner, Owners};
use crate::ports::Proto;
use std::collections::BTreeMap;

/// The owners of every TCP and UDP port in `dump` whose owners are known.
pub fn port_owners(dump: &HostDump) -> BTreeMap<(u16, Proto), Owners> {
    let Ok(cat) = catalogue::get() else {
        return BTreeMap::new();
    };
    // `None`: an interface on the port has no known owner, so the port's owners are not known.
    let mut ports: BTreeMap<(u16, Proto), Option<Vec<Owner>>> = BTreeMap::new();
    for e in &dump.endpoints {
        let proto = match e.protocol.as_str() {
            "ncacn_ip_tcp" => Proto::Tcp,
            "ncadg_ip_udp" => Proto::Udp,
            _ => continue,
        };
        let Some(port) = e.port else { continue };
        let owner = cat.lookup(&e.interface).and_then(|row| {
            let programs: Vec<String> = row
                .binaries
                .iter()
                .filter(|b| b.to_ascii_lowercase().ends_with(".exe"))
                .map(|b| b.to_string())
                .collect();
            (row.service.is_some() || !programs.is_empty()).then(|| Owner {
                service: row.service.map(str::to_string),
                programs,
            })
        });
        let slot = ports
            .entry((port, proto))
            .or_insert_with(|| Some(Vec::new()));
        match (slot.as_mut(), owner) {
            (Some(list), Some(o)) => {
                if !list.contains(&o) {
                    list.push(o);
                }
            }
            (Some(_), None) => *slot = None,
            (None, _) => {}
        }
    }
    ports
        .into_iter()
        .filter_map(|(k, v)| v.filter(|o| !o.is_empty()).map(|o| (k, Owners(o))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::{Endpoint, HostStatus};
    use uuid::Uuid;

    fn ep(uuid: &str, protocol: &str, port: u16) -> Endpoint {
        Endpoint {
            interface: Uuid::parse_str(uuid).unwrap(),
            version: "1.0".into(),
            name: None,
            tags: Vec::new(),
            object: Uuid::nil(),
            annotation: String::new(),
            protocol: protocol.into(),
            address: None,
            port: Some(port),
            binding: String::new(),
            unread_floors: Vec::new(),
        }
    }

    #[test]
    fn owners_come_from_the_catalogue_and_unknown_interfaces_unknow_the_port() {
        let mut dump = HostDump {
            target: "t".into(),
            address: None,
            status: HostStatus::Ok,
            transport: None,
            error: None,
            warnings: Vec::new(),
            endpoints: vec![
                // MS-RPRN winspool: Spooler in spoolsv.exe.
                ep(
                    "12345678-1234-abcd-ef00-0123456789ab",
                    "ncacn_ip_tcp",
                    49700,
                ),
                // MS-EVEN6 IEventService: EventLog, a DLL (no program).
                ep(
                    "f6beaff7-1e19-4fbb-9f8f-b89e2018337c",
                    "ncacn_ip_tcp",
                    49701,
                ),
                // Not in the catalogue, beside a known one.
                ep(
                    "82273fdc-e32a-18c3-3f78-827929dc23ea",
                    "ncacn_ip_tcp",
                    49702,
                ),
                ep(
                    "00000000-1111-2222-3333-444444444444",
                    "ncacn_ip_tcp",
                    49702,
                ),
                ep("12345678-1234-abcd-ef00-0123456789ab", "ncacn_np", 445),
            ],
            auth: None,
            survey: None,
        };
        let o = port_owners(&dump);
        assert_eq!(
            o.get(&(49700, Proto::Tcp)),
            Some(&Owners::one(Some("Spooler"), Some("spoolsv.exe")))
        );
        let ev = o.get(&(49701, Proto::Tcp)).unwrap();
        assert_eq!(
            (ev.0[0].service.as_deref(), ev.0[0].programs.len()),
            (Some("EventLog"), 0)
        );
        assert_eq!(o.get(&(49702, Proto::Tcp)), None);
        assert_eq!(o.len(), 2);
        dump.endpoints.clear();
        assert!(port_owners(&dump).is_empty());
    }
}
