//! Well-known RPC interfaces by UUID, read from the interface catalogue ([`super::catalogue`],
//! `data/interfaces.tsv`).
//!
//! Used when a dump is turned into [`Endpoint`](super::Endpoint)s: each registered interface UUID
//! is looked up so reports can say "MS-SAMR samr" instead of a bare UUID, and carry the
//! catalogue's risk tags. Nothing in the audit depends on a UUID being known. A UUID that is not
//! catalogued stays unnamed (`Endpoint::name` is `None`) and the dump table shows the endpoint
//! mapper's annotation in its place (see `report::dump`).
//!
//! `fixtures/epm/` holds the interfaces observed on a real domain controller and a non-DC
//! Windows Server (from published rpcdump.py outputs); the catalogue's tests check that at least
//! 95 % of each are catalogued.

use super::catalogue::{self, Interface, Tag};
use uuid::Uuid;

/// The catalogued interface with this UUID, if any (none when the catalogue cannot be read,
/// which its tests rule out for the shipped file).
pub fn lookup(uuid: &Uuid) -> Option<&'static Interface> {
    catalogue::get().ok()?.lookup(uuid)
}

/// "MS-SAMR samr" style label for a catalogued interface.
pub fn label(uuid: &Uuid) -> Option<String> {
    lookup(uuid).map(Interface::label)
}

/// The risk tags of a catalogued interface (empty when unknown or untagged).
pub fn tags(uuid: &Uuid) -> Vec<Tag> {
    lookup(uuid).map(|i| i.tags.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name column as the old table spelled it: Windows-internal interfaces are named after
    /// their module.
    const UNDOCUMENTED: &str = "-";

    fn uuid(s: &str) -> Uuid {
        Uuid::parse_str(s).unwrap()
    }

    #[test]
    // A table of cases; target.rs's test of refused addresses has the same shape, of other facts.
    fn spot_checks() {
        let cases = [
            ("12345778-1234-abcd-ef00-0123456789ac", "samr", "MS-SAMR"),
            ("12345778-1234-abcd-ef00-0123456789ab", "lsarpc", "MS-LSAD"),
            ("e1af8308-5d1f-11c9-91a4-08002b14a0fa", "epmapper", "C706"),
            (
                "12345678-1234-abcd-ef00-01234567cffb",
                "netlogon",
                "MS-NRPC",
            ),
            ("e3514235-4b06-11d1-ab04-00c04fc2dcd2", "drsuapi", "MS-DRSR"),
            ("367abb81-9844-35f1-ad32-98f038001003", "svcctl", "MS-SCMR"),
            ("338cd001-2244-31f1-aaaa-900038001003", "winreg", "MS-RRP"),
            ("4b324fc8-1670-01d3-1278-5a47bf6ee188", "srvsvc", "MS-SRVS"),
            ("6bffd098-a112-3610-9833-46c3f87e345a", "wkssvc", "MS-WKST"),
            (
                "86d35949-83c9-4044-b424-db363231fd0c",
                "ITaskSchedulerService",
                "MS-TSCH",
            ),
            (
                "99fcfec4-5260-101b-bbcb-00aa0021347a",
                "IObjectExporter",
                "MS-DCOM",
            ),
            (
                "000001a0-0000-0000-c000-000000000046",
                "IRemoteSCMActivator",
                "MS-DCOM",
            ),
            (
                "f309ad18-d86a-11d0-a075-00c04fb68820",
                "IWbemLevel1Login",
                "MS-WMI",
            ),
            (
                "12345678-1234-abcd-ef00-0123456789ab",
                "winspool",
                "MS-RPRN",
            ),
            (
                "f6beaff7-1e19-4fbb-9f8f-b89e2018337c",
                "IEventService",
                "MS-EVEN6",
            ),
            // Added from the domain controller and member server fixtures.
            (
                "50abc2a4-574d-40b3-9d66-ee4fd5fba076",
                "DnsServer",
                "MS-DNSP",
            ),
            (
                "6b5bdd1e-528c-422c-af8c-a4079be4fe48",
                "RemoteFW",
                "MS-FASP",
            ),
            (
                "906b0ce0-c70b-1067-b317-00dd010662da",
                "IXnRemote",
                "MS-CMPO",
            ),
            (
                "2fb92682-6599-42dc-ae13-bd2ca89bd11c",
                "mpssvc.dll",
                UNDOCUMENTED,
            ),
            (
                "dd490425-5325-4565-b774-7e27d6c09c24",
                "bfe.dll",
                UNDOCUMENTED,
            ),
            (
                "3c4728c5-f0ab-448b-bda1-6ce01eb0a6d5",
                "dhcpcsvc.dll",
                UNDOCUMENTED,
            ),
            (
                "0d3c7f20-1c8d-4654-a1b3-51563b298bda",
                "usermgr.dll",
                UNDOCUMENTED,
            ),
            (
                "2eb08e3e-639f-4fba-97b1-14f878961076",
                "gpsvc.dll",
                UNDOCUMENTED,
            ),
            (
                "7f1343fe-50a9-4927-a778-0c5859517bac",
                "wkssvc.dll",
                UNDOCUMENTED,
            ),
            (
                "a398e520-d59a-4bdd-aa7a-3c1e0303a511",
                "ikeext.dll",
                UNDOCUMENTED,
            ),
            (
                "3473dd4d-2e88-4006-9cba-22570909dd10",
                "winhttp.dll",
                UNDOCUMENTED,
            ),
            (
                "b25a52bf-e5dd-4f4a-aea6-8ca7272a0e86",
                "keyiso.dll",
                UNDOCUMENTED,
            ),
            (
                "4c9dbf19-d39e-4bb9-90ee-8f7179b20283",
                "diagtrack.dll",
                UNDOCUMENTED,
            ),
        ];
        for (id, name, document) in cases {
            let known = lookup(&uuid(id)).unwrap_or_else(|| panic!("{id} not found"));
            assert_eq!(known.name, Some(name), "{id}");
            assert_eq!(known.document.unwrap_or(UNDOCUMENTED), document, "{id}");
        }
    }

    #[test]
    fn epm_constant_is_known() {
        assert_eq!(
            label(&crate::epm::EPM_INTERFACE).as_deref(),
            Some("C706 epmapper")
        );
    }

    #[test]
    fn label_format() {
        assert_eq!(
            label(&uuid("12345778-1234-abcd-ef00-0123456789ac")).as_deref(),
            Some("MS-SAMR samr")
        );
        assert_eq!(
            label(&uuid("2eb08e3e-639f-4fba-97b1-14f878961076")).as_deref(),
            Some("gpsvc.dll")
        );
    }

    #[test]
    fn tags_of_known_and_unknown() {
        assert_eq!(
            tags(&uuid("df1941c5-fe89-4e79-bf10-463657acf44d")),
            [Tag::Coercion]
        );
        assert!(tags(&uuid("2eb08e3e-639f-4fba-97b1-14f878961076")).is_empty());
        assert!(tags(&Uuid::nil()).is_empty());
    }

    #[test]
    fn unknown_is_none() {
        assert!(lookup(&Uuid::nil()).is_none());
        assert!(lookup(&uuid("01234567-89ab-cdef-0123-456789abcdef")).is_none());
        assert!(lookup(&Uuid::from_u128(u128::MAX)).is_none());
        assert!(label(&uuid("deadbeef-0000-0000-0000-000000000000")).is_none());
    }
}
