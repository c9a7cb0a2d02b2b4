//! Well-known RPC interfaces by UUID.
//!
//! Used when a dump is turned into [`Endpoint`](super::Endpoint)s: each registered interface UUID
//! is looked up here so reports can say "MS-SAMR samr" instead of a bare UUID. The table only
//! names interfaces; nothing in the audit depends on a UUID being known. A UUID that is not here
//! stays unnamed (`Endpoint::name` is `None`) and the dump table shows the endpoint mapper's
//! annotation in its place (see `report::dump`).
//!
//! Two kinds of entry, told apart by [`Source`]:
//!
//! - **Documented interfaces.** The UUID is the one a public protocol document assigns
//!   (Microsoft Open Specifications "[MS-xxxx]" documents, sections "Standards Assignments",
//!   "Transport" or the interface section and the full IDL appendix; The Open Group C706 for the
//!   DCE endpoint mapper and management interfaces). DCOM interface IDs (IIDs) are included:
//!   they are RPC interface UUIDs on the wire even though the endpoint mapper rarely lists them.
//! - **Windows-internal interfaces** with no published specification (firewall, DHCP client,
//!   user manager, group policy, background tasks, ...), which make up most of what a real
//!   Windows Server registers. For these the table records which public catalogues list the UUID
//!   and which server module (DLL or EXE) each names ([`Catalogue`]); the entry's name is that
//!   module, because the catalogues give no interface name. The descriptions are ours.
//!
//! `fixtures/epm/` holds the interfaces observed on a real domain controller and a non-DC
//! Windows Server (from published rpcdump.py outputs); a test checks that at least 90 % of each
//! are named here.

use uuid::Uuid;

/// One well-known interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownInterface {
    pub uuid: Uuid,
    /// Short interface name: as the protocol document spells it, e.g. "samr"; for a
    /// Windows-internal interface, the server module the catalogues name, e.g. "mpssvc.dll".
    pub name: &'static str,
    /// The document that specifies it, e.g. "MS-SAMR", or [`UNDOCUMENTED`].
    pub document: &'static str,
    /// The document's title, e.g. "Security Account Manager (SAM) Remote Protocol", or a short
    /// description of our own for a Windows-internal interface.
    pub description: &'static str,
    /// Where the UUID and name come from.
    pub source: Source,
}

/// [`KnownInterface::document`] of a Windows-internal interface no public document specifies.
pub const UNDOCUMENTED: &str = "Windows (undocumented)";

/// Where a table entry comes from, precise enough for a reader to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The protocol document named in [`KnownInterface::document`] assigns the UUID; `section`
    /// is the section that lists it, where this table records one (e.g. "1.9", Standards
    /// Assignments).
    Document { section: Option<&'static str> },
    /// Not in any protocol document: the public catalogues that list the UUID, each with the
    /// server module it gives.
    Catalogue(&'static [Listing]),
}

/// One catalogue's entry for a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    pub catalogue: Catalogue,
    /// The server module (DLL or EXE) the catalogue names for the UUID, as it spells it.
    pub module: &'static str,
}

/// Published interface catalogues the Windows-internal entries come from. Each maps interface
/// UUIDs to the module that serves them; only those facts are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalogue {
    /// impacket's endpoint-mapper module, `impacket/dcerpc/v5/epm.py`, table `KNOWN_UUIDS` (the
    /// source of rpcdump.py's "Provider:" column).
    ImpacketEpm,
    /// Akamai's RPC toolkit scrape of the RPC servers in Windows Server 2022's system files,
    /// `rpc_toolkit/rpc_interface_lists/server22_raw_output.json` (entries not marked "client").
    AkamaiServer2022,
    /// The same scrape for Windows Server 2012, `server12_raw_output.json`.
    AkamaiServer2012,
}

impl Catalogue {
    /// Where to find the catalogue: repository, file and the commit that was read.
    pub fn citation(self) -> &'static str {
        match self {
            Catalogue::ImpacketEpm => {
                "github.com/fortra/impacket impacket/dcerpc/v5/epm.py KNOWN_UUIDS \
                 (commit f133bb889e21f5359136d519cd6933a78ca44996)"
            }
            Catalogue::AkamaiServer2022 => {
                "github.com/akamai/akamai-security-research \
                 rpc_toolkit/rpc_interface_lists/server22_raw_output.json \
                 (commit a8ed272d06eb06d21308c11e1b91d0292123da34)"
            }
            Catalogue::AkamaiServer2012 => {
                "github.com/akamai/akamai-security-research \
                 rpc_toolkit/rpc_interface_lists/server12_raw_output.json \
                 (commit a8ed272d06eb06d21308c11e1b91d0292123da34)"
            }
        }
    }
}

impl Catalogue {
    /// A short name for one-line citations.
    pub fn short_name(self) -> &'static str {
        match self {
            Catalogue::ImpacketEpm => "impacket epm.py KNOWN_UUIDS",
            Catalogue::AkamaiServer2022 => "Akamai rpc_toolkit server22",
            Catalogue::AkamaiServer2012 => "Akamai rpc_toolkit server12",
        }
    }
}

impl KnownInterface {
    /// The entry's source as one line a reader can check: "MS-LSAD §1.9", "MS-SAMR", or
    /// "impacket epm.py KNOWN_UUIDS: gpsvc.dll; Akamai rpc_toolkit server22: gpsvc.dll".
    pub fn cite(&self) -> String {
        match self.source {
            Source::Document { section: Some(s) } => format!("{} §{s}", self.document),
            Source::Document { section: None } => self.document.to_string(),
            Source::Catalogue(listings) => listings
                .iter()
                .map(|l| format!("{}: {}", l.catalogue.short_name(), l.module))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// A documented interface; the table does not record the section.
const fn k(
    uuid: u128,
    name: &'static str,
    document: &'static str,
    description: &'static str,
) -> KnownInterface {
    KnownInterface {
        uuid: Uuid::from_u128(uuid),
        name,
        document,
        description,
        source: Source::Document { section: None },
    }
}

/// A documented interface with the section of the document that lists its UUID.
const fn ks(
    uuid: u128,
    name: &'static str,
    document: &'static str,
    section: &'static str,
    description: &'static str,
) -> KnownInterface {
    KnownInterface {
        uuid: Uuid::from_u128(uuid),
        name,
        document,
        description,
        source: Source::Document {
            section: Some(section),
        },
    }
}

/// A Windows-internal interface, named after its server module, with the catalogues listing it.
const fn w(
    uuid: u128,
    name: &'static str,
    description: &'static str,
    listings: &'static [Listing],
) -> KnownInterface {
    KnownInterface {
        uuid: Uuid::from_u128(uuid),
        name,
        document: UNDOCUMENTED,
        description,
        source: Source::Catalogue(listings),
    }
}

/// `listed!(ImpacketEpm "gpsvc.dll", AkamaiServer2022 "gpsvc.dll")`: the catalogue listings of
/// one entry.
macro_rules! listed {
    ($($catalogue:ident $module:literal),+ $(,)?) => {
        &[$(Listing { catalogue: Catalogue::$catalogue, module: $module }),+]
    };
}

/// The table, sorted by UUID (as `u128`, which is also `Uuid`'s order) with no duplicates; a
/// test checks both, which is what makes [`lookup`]'s binary search correct.
static KNOWN: &[KnownInterface] = &[
    k(
        0x00000000_0000_0000_c000_000000000046,
        "IUnknown",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    k(
        0x00000131_0000_0000_c000_000000000046,
        "IRemUnknown",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    k(
        0x00000143_0000_0000_c000_000000000046,
        "IRemUnknown2",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    k(
        0x000001a0_0000_0000_c000_000000000046,
        "IRemoteSCMActivator",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    k(
        0x01954e6b_9254_4e6e_808c_c9e05d007696,
        "IVssEnumMgmtObject",
        "MS-SCMP",
        "Shadow Copy Management Protocol",
    ),
    k(
        0x027947e1_d731_11ce_a357_000000000001,
        "IEnumWbemClassObject",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0x038374ff_098b_11d8_9414_505054503030,
        "IDataCollector",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x03837506_098b_11d8_9414_505054503030,
        "IPerformanceCounterDataCollector",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x0383750b_098b_11d8_9414_505054503030,
        "ITraceDataCollector",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x03837514_098b_11d8_9414_505054503030,
        "IConfigurationDataCollector",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x03837516_098b_11d8_9414_505054503030,
        "IAlertDataCollector",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x03837520_098b_11d8_9414_505054503030,
        "IDataCollectorSet",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x03837541_098b_11d8_9414_505054503030,
        "IDataManager",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x03837543_098b_11d8_9414_505054503030,
        "IFolderAction",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    k(
        0x03837544_098b_11d8_9414_505054503030,
        "IFolderActionCollection",
        "MS-PLA",
        "Performance Logs and Alerts Protocol",
    ),
    w(
        0x04eeb297_cbf4_466b_8a2a_bfd6a2f10bba,
        "efssvc.dll",
        "Encrypting File System service",
        listed!(ImpacketEpm "efssvc.dll", AkamaiServer2022 "efssvc.dll"),
    ),
    w(
        0x0767a036_0d22_48aa_ba69_b619480f38cb,
        "pcasvc.dll",
        "Program Compatibility Assistant service",
        listed!(ImpacketEpm "pcasvc.dll", AkamaiServer2022 "pcasvc.dll"),
    ),
    ks(
        0x07e5c822_f00c_47a1_8fce_b244da56fd06,
        "IVdsDisk",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    ks(
        0x0818a8ef_9ba9_40d8_a6f9_e22833cc771e,
        "IVdsService",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    w(
        0x085b0334_e454_4d91_9b8c_4134f9e793f3,
        "psmsrv.dll",
        "Background Tasks Infrastructure service, psmsrv module",
        listed!(AkamaiServer2022 "psmsrv.dll"),
    ),
    w(
        0x0a74ef1c_41a4_4e06_83ae_dc74fb1cdd53,
        "schedsvc.dll",
        "Task Scheduler service, internal interface",
        listed!(ImpacketEpm "schedsvc.dll", AkamaiServer2022 "schedsvc.dll"),
    ),
    k(
        0x0b1c2170_5732_4e0e_8cd3_d9b16f3b84d7,
        "authzr",
        "MS-RAA",
        "Remote Authorization API Protocol",
    ),
    k(
        0x0b6edbfa_4a24_4fc6_8a23_942b1eca65d1,
        "IRPCAsyncNotify",
        "MS-PAN",
        "Print System Asynchronous Notification Protocol",
    ),
    w(
        0x0d3c7f20_1c8d_4654_a1b3_51563b298bda,
        "usermgr.dll",
        "User Manager service",
        listed!(AkamaiServer2022 "usermgr.dll"),
    ),
    w(
        0x0d3e2735_cea0_4ecc_a9e2_41a2d81aed4e,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    k(
        0x0e3d6630_b46b_11d1_9d2d_006008b0e5ca,
        "ICatalogTableRead",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x0e3d6631_b46b_11d1_9d2d_006008b0e5ca,
        "ICatalogTableWrite",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x1088a980_eae5_11d0_8d9b_00a02453c337,
        "qm2qm",
        "MS-MQQP",
        "Message Queuing (MSMQ): Queue Manager to Queue Manager Protocol",
    ),
    ks(
        0x10c5e575_7984_4e81_a56b_431f5f92ae42,
        "IVdsProvider",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x11899a43_2b68_4a76_92e3_a3d6ad8c26ce,
        "TermSrvNotification",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    k(
        0x11942d87_a1de_4e7f_83fb_a840d9c5928d,
        "IClusterStorage3",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    k(
        0x12108a88_6858_4467_b92f_e6cf4568dfb6,
        "IClusterStorage2",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    k(
        0x12345678_1234_abcd_ef00_0123456789ab,
        "winspool",
        "MS-RPRN",
        "Print System Remote Protocol",
    ),
    k(
        0x12345678_1234_abcd_ef00_01234567cffb,
        "netlogon",
        "MS-NRPC",
        "Netlogon Remote Protocol",
    ),
    ks(
        0x12345778_1234_abcd_ef00_0123456789ab,
        "lsarpc",
        "MS-LSAD",
        "1.9",
        "Local Security Authority (Domain Policy) Remote Protocol",
    ),
    k(
        0x12345778_1234_abcd_ef00_0123456789ac,
        "samr",
        "MS-SAMR",
        "Security Account Manager (SAM) Remote Protocol",
    ),
    k(
        0x1257b580_ce2f_4109_82d6_a9459d0bf6bc,
        "SessEnvPublicRpc",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    k(
        0x1544f5e0_613c_11d1_93df_00c04fd7bd09,
        "rfri",
        "MS-OXABREF",
        "Address Book Name Service Provider Interface (NSPI) Referral Protocol",
    ),
    ks(
        0x15fc031c_0652_4306_b2c3_f558b8f837e2,
        "IVdsServiceSw",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x17fdd703_1827_4e34_79d4_24a55c53bb37,
        "msgsvc",
        "MS-MSRP",
        "Messenger Service Remote Protocol",
    ),
    k(
        0x182c40fa_32e4_11d0_818b_00a0c9231c29,
        "ICatalogSession",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    w(
        0x1832bcf6_cab8_41d4_85d2_c9410764f75a,
        "psmserviceexthost.dll",
        "Background Tasks Infrastructure service, extension host",
        listed!(AkamaiServer2022 "PsmServiceExtHost.dll"),
    ),
    w(
        0x1a0d010f_1c33_432c_b0f5_8cf4e8053099,
        "srvsvc.dll",
        "Server service, internal interface",
        listed!(AkamaiServer2022 "srvsvc.dll"),
    ),
    k(
        0x1a9134dd_7b39_45ba_ad88_44d01ca47f28,
        "RemoteRead",
        "MS-MQRR",
        "Message Queuing (MSMQ): Queue Manager Remote Read Protocol",
    ),
    w(
        0x1b37ca91_76b1_4f5e_a3c7_2abfc61f2bb0,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    k(
        0x1be2275a_b315_4f70_9e44_879b3a2a53f2,
        "IVdsVolumeOnline",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x1c1c45ee_4395_11d2_b60b_00104b703efd,
        "IWbemFetchSmartEnum",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0x1d118904_94b3_4a64_9fa6_ed432666a7b9,
        "ICatalog64BitSupport",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x1e062b84_e5e6_4b4b_8a25_67b81e8f13e8,
        "IVdsVDisk",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x1f7b1697_ecb2_4cbb_8a0e_75c427f4a6f0,
        "IImport2",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x1ff70682_0a51_30e8_076d_740be8cee98b,
        "atsvc",
        "MS-TSCH",
        "Task Scheduler Service Remoting Protocol",
    ),
    w(
        0x20c40295_8dba_48e6_aebf_3e78ef3bb144,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    k(
        0x214a0f28_b737_4026_b847_4f9e37d79529,
        "IVssDifferentialSoftwareSnapshotMgmt",
        "MS-SCMP",
        "Shadow Copy Management Protocol",
    ),
    ks(
        0x21546ae8_4da5_445e_987f_627fea39c5e8,
        "IWRMConfig",
        "MS-WSRM",
        "1.9",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    w(
        0x2513bcbe_6cd4_4348_855e_7efb3c336dd3,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    k(
        0x2931c32c_f731_4c56_9feb_3d5f1c5e72bf,
        "IClusterNetwork2",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    ks(
        0x2a3eb639_d134_422d_90d8_aaa1b5216202,
        "IResourceManager2",
        "MS-WSRM",
        "1.9",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    w(
        0x2c7fd9ce_e706_4b40_b412_953107ef9bb0,
        "psmserviceexthost.dll",
        "Background Tasks Infrastructure service, extension host",
        listed!(AkamaiServer2022 "PsmServiceExtHost.dll"),
    ),
    k(
        0x2c9273e0_1dc3_11d3_b364_00105a1f8177,
        "IWbemRefreshingServices",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    w(
        0x2d98a740_581d_41b9_aa0d_a88b9d5ce938,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    w(
        0x2e6035b2_e8f1_41a7_a044_656b439c4c34,
        "httpprxm.dll",
        "HTTP proxy manager",
        listed!(AkamaiServer2022 "httpprxm.dll"),
    ),
    w(
        0x2eb08e3e_639f_4fba_97b1_14f878961076,
        "gpsvc.dll",
        "Group Policy client service",
        listed!(ImpacketEpm "gpsvc.dll", AkamaiServer2022 "gpsvc.dll"),
    ),
    w(
        0x2fb92682_6599_42dc_ae13_bd2ca89bd11c,
        "mpssvc.dll",
        "Windows Defender Firewall service (MpsSvc)",
        listed!(ImpacketEpm "MPSSVC.dll", AkamaiServer2022 "MPSSVC.dll"),
    ),
    ks(
        0x300f3532_38cc_11d0_a3f0_0020af6b0add,
        "trkwks",
        "MS-DLTW",
        "1.9",
        "Distributed Link Tracking: Workstation Protocol",
    ),
    w(
        0x30adc50c_5cbc_46ce_9a0e_91914789e23c,
        "nrpsrv.dll",
        "DNS Client service, name resolution policy server",
        listed!(ImpacketEpm "nrpsrv.dll", AkamaiServer2022 "dnsrslvr.dll"),
    ),
    k(
        0x338cd001_2244_31f1_aaaa_900038001003,
        "winreg",
        "MS-RRP",
        "Windows Remote Registry Protocol",
    ),
    w(
        0x3473dd4d_2e88_4006_9cba_22570909dd10,
        "winhttp.dll",
        "WinHTTP Web Proxy Auto-Discovery service",
        listed!(ImpacketEpm "winhttp.dll", AkamaiServer2022 "winhttp.dll"),
    ),
    k(
        0x367abb81_9844_35f1_ad32_98f038001003,
        "svcctl",
        "MS-SCMR",
        "Service Control Manager Remote Protocol",
    ),
    k(
        0x378e52b0_c0a9_11cf_822d_00aa0051e40f,
        "SASec",
        "MS-TSCH",
        "Task Scheduler Service Remoting Protocol",
    ),
    k(
        0x3858c0d5_0f35_4bf5_9714_69874963bc36,
        "IVdsAdvancedDisk3",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x3919286a_b10c_11d0_9ba8_00c04fd92ef5,
        "dssetup",
        "MS-DSSP",
        "Directory Services Setup Remote Protocol",
    ),
    w(
        0x3a9ef155_691d_4449_8d05_09ad57031823,
        "schedsvc.dll",
        "Task Scheduler service, internal interface",
        listed!(AkamaiServer2022 "schedsvc.dll"),
    ),
    w(
        0x3b338d89_6cfa_44b8_847e_531531bc9992,
        "psmsrv.dll",
        "Background Tasks Infrastructure service, psmsrv module",
        listed!(AkamaiServer2022 "psmsrv.dll"),
    ),
    ks(
        0x3b69d7f5_9d94_4648_91ca_79939ba263bf,
        "IVdsPack",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    w(
        0x3c4728c5_f0ab_448b_bda1_6ce01eb0a6d5,
        "dhcpcsvc.dll",
        "DHCP client service",
        listed!(ImpacketEpm "dhcpcsvc.dll", AkamaiServer2022 "dhcpcore.dll"),
    ),
    w(
        0x3c4728c5_f0ab_448b_bda1_6ce01eb0a6d6,
        "dhcpcsvc6.dll",
        "DHCPv6 client service",
        listed!(ImpacketEpm "dhcpcsvc6.dll", AkamaiServer2022 "dhcpcore6.dll"),
    ),
    k(
        0x3dde7c30_165d_11d1_ab8f_00805f14db40,
        "BackupKey",
        "MS-BKRP",
        "BackupKey Remote Protocol",
    ),
    k(
        0x3f3b1b86_dbbe_11d1_9da6_00805f85cfe3,
        "IContainerControl",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x40f73c8b_687d_4a13_8d96_3d7f2e683936,
        "IVdsDisk2",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x423ec01e_2e35_11d2_b604_00104b703efd,
        "IWbemWCOSmartEnum",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0x44aca675_e8fc_11d0_a07c_00c04fb68820,
        "IWbemCallResult",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0x456129e2_1078_11d2_b0f9_00805fc73204,
        "ICatalogUtils",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x45f52c28_7f9f_101a_b52b_08002b2efabe,
        "winsif",
        "MS-RAIW",
        "Remote Administrative Interface: WINS",
    ),
    k(
        0x47cde9a1_0bf6_11d2_8016_00c04fb9988e,
        "ICapabilitySupport",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x481e06cf_ab04_4498_8ffe_124a0a34296d,
        "IWRMCalendar",
        "MS-WSRM",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x484809d6_4239_471b_b5bc_61df8c23ac48,
        "TermSrvSession",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    k(
        0x491260b5_05c9_40d9_b7f2_1f7bdae0927f,
        "IClusterSetup",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    k(
        0x497d95a6_2d27_4bf5_9bbd_a6046957133c,
        "RCMListener",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    w(
        0x4a452661_8290_4b36_8fbe_7f4093a94978,
        "spoolsv.exe",
        "Print Spooler, internal interface",
        listed!(ImpacketEpm "spoolsv.exe", AkamaiServer2022 "spoolsv.exe"),
    ),
    ks(
        0x4afc3636_db01_4052_80c3_03bbcb8d3c69,
        "IVdsServiceInitialization",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x4b324fc8_1670_01d3_1278_5a47bf6ee188,
        "srvsvc",
        "MS-SRVS",
        "Server Service Remote Protocol",
    ),
    w(
        0x4be96a0f_9f52_4729_a51d_c70610f118b0,
        "wbiosrvc.dll",
        "Windows Biometric service",
        listed!(ImpacketEpm "wbiosrvc.dll", AkamaiServer2022 "wbiosrvc.dll"),
    ),
    w(
        0x4bec6bb8_b5c2_4b6f_b2c1_5da5cf92d0d9,
        "psmsrv.dll",
        "Background Tasks Infrastructure service, psmsrv module",
        listed!(AkamaiServer2022 "psmsrv.dll"),
    ),
    w(
        0x4c9dbf19_d39e_4bb9_90ee_8f7179b20283,
        "diagtrack.dll",
        "Connected User Experiences and Telemetry service (DiagTrack)",
        listed!(AkamaiServer2022 "diagtrack.dll", AkamaiServer2022 "tellib.dll"),
    ),
    k(
        0x4d9f4ab8_7d1c_11cf_861e_0020af6e7c57,
        "IActivation",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    w(
        0x4dace966_a243_4450_ae3f_9b7bcb5315b8,
        "psmserviceexthost.dll",
        "Background Tasks Infrastructure service, extension host",
        listed!(AkamaiServer2022 "PsmServiceExtHost.dll"),
    ),
    k(
        0x4dbcee9a_6343_4651_b85f_5e75d74d983c,
        "IVdsVolumeMF2",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    ks(
        0x4f7ca01c_a9e5_45b6_b142_2332a1339c1d,
        "IWRMAccounting",
        "MS-WSRM",
        "1.9",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x4fc742e0_4a10_11cf_8273_00aa004ae673,
        "netdfs",
        "MS-DFSNM",
        "Distributed File System (DFS): Namespace Management Protocol",
    ),
    k(
        0x50abc2a4_574d_40b3_9d66_ee4fd5fba076,
        "DnsServer",
        "MS-DNSP",
        "Domain Name Service (DNS) Server Management Protocol",
    ),
    w(
        0x51a227ae_825b_41f2_b4a9_1ac9557a1018,
        "keyiso.dll",
        "CNG Key Isolation service",
        listed!(AkamaiServer2022 "keyiso.dll"),
    ),
    w(
        0x5222821f_d5e2_4885_84f1_5f6185a0ec41,
        "ncbservice.dll",
        "Network Connection Broker service",
        listed!(AkamaiServer2022 "ncbservice.dll"),
    ),
    ks(
        0x5261574a_4572_206e_b268_6b199213b4e4,
        "asyncemsmdb",
        "MS-OXCRPC",
        "1.9",
        "Exchange Server Wire Format Protocol (EMSMDB)",
    ),
    k(
        0x53b46b02_c73b_4a3e_8dee_b16b80672fc0,
        "TSVIPPublic",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    k(
        0x541679ab_2e5f_11d3_b34e_00104bcc4b4a,
        "IWbemLoginHelper",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    ks(
        0x5422fd3a_d4b8_4cef_a12e_e87d4ca22e90,
        "ICertRequestD2",
        "MS-WCCE",
        "1.9",
        "Windows Client Certificate Enrollment Protocol",
    ),
    w(
        0x552d076a_cb29_4e44_8b6a_d15e59e2c0af,
        "iphlpsvc.dll",
        "IP Helper service",
        listed!(ImpacketEpm "iphlpsvc.dll", AkamaiServer2022 "iphlpsvc.dll"),
    ),
    w(
        0x55e6b932_1979_45d6_90c5_7f6270724112,
        "resourcepolicyserver.dll",
        "Resource policy server",
        listed!(AkamaiServer2022 "ResourcePolicyServer.dll"),
    ),
    w(
        0x572e35b4_1344_4565_96a1_f5df3bfa89bb,
        "wlidsvc.dll",
        "Microsoft Account Sign-in Assistant service",
        listed!(AkamaiServer2022 "wlidsvc.dll"),
    ),
    w(
        0x5824833b_3c1a_4ad2_bdfd_c31d19e23ed2,
        "psmsrv.dll",
        "Background Tasks Infrastructure service, psmsrv module",
        listed!(AkamaiServer2022 "psmsrv.dll"),
    ),
    ks(
        0x59602eb6_57b0_4fd8_aa4b_ebf06971fe15,
        "IWRMPolicy",
        "MS-WSRM",
        "1.9",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x5a7b91f8_ff00_11d0_a9b2_00c04fb6e6fc,
        "msgsvcsend",
        "MS-MSRP",
        "Messenger Service Remote Protocol",
    ),
    ks(
        0x5b821720_f63b_11d0_aad2_00c04fc324db,
        "dhcpsrv2",
        "MS-DHCPM",
        "2.1",
        "Microsoft DHCP Server Management Protocol, dhcpsrv2",
    ),
    w(
        0x5c9a4cd7_ba75_45d2_9898_1773b3d1e5f1,
        "umpnpmgr.dll",
        "Plug and Play service, device installation",
        listed!(AkamaiServer2022 "umpnpmgr.dll"),
    ),
    k(
        0x5ca4a760_ebb1_11cf_8611_00a0245420ed,
        "IcaApi",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    w(
        0x64d1d045_f675_460b_8a94_570246b36dab,
        "clipsvc.dll",
        "Client License Service (ClipSVC)",
        listed!(AkamaiServer2022 "ClipSVC.dll"),
    ),
    k(
        0x6788faf9_214e_4b85_ba59_266953616e09,
        "IVdsVolumeMF3",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    w(
        0x697dcda9_3ba9_4eb2_9247_e11f1901b0d2,
        "systemeventsbrokerserver.dll",
        "System Events Broker",
        listed!(AkamaiServer2022 "SystemEventsBrokerServer.dll"),
    ),
    k(
        0x6b5bdd1e_528c_422c_af8c_a4079be4fe48,
        "RemoteFW",
        "MS-FASP",
        "Firewall and Advanced Security Protocol",
    ),
    ks(
        0x6bffd098_a112_3610_9833_46c3f874532d,
        "dhcpsrv",
        "MS-DHCPM",
        "2.1",
        "Microsoft DHCP Server Management Protocol",
    ),
    k(
        0x6bffd098_a112_3610_9833_46c3f87e345a,
        "wkssvc",
        "MS-WKST",
        "Workstation Service Remote Protocol",
    ),
    k(
        0x6c935649_30a6_4211_8687_c4c83e5fe1c7,
        "IContainerControl2",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    ks(
        0x6e6f6b40_977c_4069_bddd_ac710059f8c0,
        "IVdsAdvancedDisk",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x72ae6713_dcbb_4a03_b36b_371f6ac6b53d,
        "IVdsVolume2",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    w(
        0x76c217bc_c8b4_4201_a745_373ad9032b1a,
        "resourcepolicyserver.dll",
        "Resource policy server",
        listed!(AkamaiServer2022 "ResourcePolicyServer.dll"),
    ),
    ks(
        0x76f03f96_cdfd_44fc_a22c_64950a001209,
        "IRemoteWinspool",
        "MS-PAR",
        "3.1",
        "Print System Asynchronous Remote Protocol",
    ),
    w(
        0x76f226c3_ec14_4325_8a99_6a46348418af,
        "winlogon.exe",
        "Windows logon process",
        listed!(ImpacketEpm "winlogon.exe", AkamaiServer2022 "wininit.exe"),
    ),
    w(
        0x7aeb6705_3ae6_471a_882d_f39c109edc12,
        "wcmsvc.dll",
        "Windows Connection Manager service",
        listed!(AkamaiServer2012 "wcmsvc.dll"),
    ),
    k(
        0x7c44d7d4_31d5_424c_bd5e_2b3e1f323d22,
        "dsaop",
        "MS-DRSR",
        "Directory Replication Service (DRS) Remote Protocol",
    ),
    k(
        0x7c857801_7381_11cf_884d_00aa004b2e24,
        "IWbemObjectSink",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    w(
        0x7ea70bcf_48af_4f6a_8968_6a440754d5fa,
        "nsisvc.dll",
        "Network Store Interface service",
        listed!(ImpacketEpm "nsisvc.dll", AkamaiServer2022 "nsisvc.dll"),
    ),
    w(
        0x7f1343fe_50a9_4927_a778_0c5859517bac,
        "wkssvc.dll",
        "Workstation service, internal interface",
        listed!(AkamaiServer2022 "wkssvc.dll"),
    ),
    k(
        0x7f43b400_1a0e_4d57_bbc9_6b0c65f7a889,
        "IAlternateLaunch",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    w(
        0x7f9d11bf_7fb9_436b_a812_b2d50c5d4c03,
        "mpssvc.dll",
        "Windows Defender Firewall service (MpsSvc)",
        listed!(ImpacketEpm "MPSSVC.dll", AkamaiServer2022 "MPSSVC.dll"),
    ),
    k(
        0x811109bf_a4e1_11d1_ab54_00a0c91e9b45,
        "winsi2",
        "MS-RAIW",
        "Remote Administrative Interface: WINS",
    ),
    k(
        0x82273fdc_e32a_18c3_3f78_827929dc23ea,
        "eventlog",
        "MS-EVEN",
        "EventLog Remoting Protocol",
    ),
    ks(
        0x8326cd1d_cf59_4936_b786_5efc08798e25,
        "IVdsAdviseSink",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    ks(
        0x83bfb87f_43fb_4903_baa6_127f01029eec,
        "IVdsSubSystemImportTarget",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    w(
        0x857fb1be_084f_4fb5_b59c_4b2c4be5f0cf,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    k(
        0x85923ca7_1b6b_4e83_a2e4_f5ba3bfbb8a3,
        "IClusterLog",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    k(
        0x86d35949_83c9_4044_b424_db363231fd0c,
        "ITaskSchedulerService",
        "MS-TSCH",
        "Task Scheduler Service Remoting Protocol",
    ),
    w(
        0x8782d3b9_ebbd_4644_a3d8_e8725381919b,
        "psmsrv.dll",
        "Background Tasks Infrastructure service, psmsrv module",
        listed!(AkamaiServer2022 "psmsrv.dll"),
    ),
    w(
        0x880fd55e_43b9_11e0_b1a8_cf4edfd72085,
        "ncbservice.dll",
        "Network Connection Broker service",
        listed!(AkamaiServer2022 "ncbservice.dll"),
    ),
    k(
        0x88143fd0_c28d_4b2b_8fef_8d882f6a9390,
        "TermSrvEnumeration",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    w(
        0x88abcbc3_34ea_76ae_8215_767520655a23,
        "resourcepolicyserver.dll",
        "Resource policy server",
        listed!(AkamaiServer2022 "ResourcePolicyServer.dll"),
    ),
    k(
        0x894de0c0_0d55_11d3_a322_00c04fa321a1,
        "InitShutdown",
        "MS-RSP",
        "Remote Shutdown Protocol",
    ),
    k(
        0x897e2e5f_93f3_4376_9c9c_fd2277495c27,
        "FrsTransport",
        "MS-FRS2",
        "Distributed File System Replication Protocol",
    ),
    w(
        0x8bfc3be1_6def_4e2d_af74_7c47cd0ade4a,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    k(
        0x8db2180e_bd29_11d1_8b7e_00c04fd7a924,
        "IRegister",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x8f4b2f5d_ec15_4357_992f_473ef10975b9,
        "IVdsDisk3",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x8fb6d884_2388_11d0_8c35_00c04fda2795,
        "W32Time",
        "MS-W32T",
        "W32Time Remote Protocol",
    ),
    w(
        0x8fb74744_b2ff_4c00_be0d_9ef9a191fe1b,
        "keyiso.dll",
        "CNG Key Isolation service",
        listed!(AkamaiServer2022 "keyiso.dll"),
    ),
    k(
        0x90681b1d_6a7f_48e8_9061_31b7aa125322,
        "IVdsDiskOnline",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x906b0ce0_c70b_1067_b317_00dd010662da,
        "IXnRemote",
        "MS-CMPO",
        "MSDTC Connection Manager: OleTx Transports Protocol",
    ),
    k(
        0x91ae6020_9e3c_11cf_8d7c_00aa00c091be,
        "ICertPassage",
        "MS-ICPR",
        "ICertPassage Remote Protocol",
    ),
    ks(
        0x943991a5_b3fe_41fa_9696_7f7b656ee34b,
        "IWRMMachineGroup",
        "MS-WSRM",
        "1.9",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x9556dc99_828c_11cf_a37e_00aa003240c7,
        "IWbemServices",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0x971668dc_c3fe_4ea1_9643_0c7230f494a1,
        "IRegister2",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0x98315903_7be5_11d2_adc1_00a02463d6e7,
        "IReplicationUtil",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    w(
        0x98716d03_89ac_44c7_bb8c_285824e51c4a,
        "srvsvc.dll",
        "Server service, internal interface",
        listed!(ImpacketEpm "srvsvc.dll", AkamaiServer2022 "srvsvc.dll"),
    ),
    ks(
        0x9882f547_cfc3_420b_9750_00dfbec50662,
        "IVdsCreatePartitionEx",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x99fcfec4_5260_101b_bbcb_00aa0021347a,
        "IObjectExporter",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    ks(
        0x9aa58360_ce33_4f92_b658_ed24b14425b8,
        "IVdsSwProvider",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    w(
        0x9b008953_f195_4bf9_bde0_4471971e58ed,
        "systemeventsbrokerserver.dll",
        "System Events Broker",
        listed!(AkamaiServer2022 "SystemEventsBrokerServer.dll"),
    ),
    w(
        0xa111f1c5_5923_47c0_9a68_d0bafb577901,
        "netsetupsvc.dll",
        "Network Setup service",
        listed!(AkamaiServer2022 "NetSetupSvc.dll"),
    ),
    k(
        0xa359dec5_e813_4834_8a2a_ba7f1d777d76,
        "IWbemBackupRestoreEx",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    w(
        0xa398e520_d59a_4bdd_aa7a_3c1e0303a511,
        "ikeext.dll",
        "IKE and AuthIP IPsec keying modules service",
        listed!(ImpacketEpm "IKEEXT.DLL", AkamaiServer2012 "IKEEXT.DLL"),
    ),
    ks(
        0xa4f1db00_ca47_1067_b31f_00dd010662da,
        "emsmdb",
        "MS-OXCRPC",
        "1.9",
        "Exchange Server Wire Format Protocol (EMSMDB)",
    ),
    w(
        0xa500d4c6_0dd1_4543_bc0c_d5f93486eaf8,
        "timebrokerserver.dll",
        "Time Broker (time-triggered background tasks)",
        listed!(AkamaiServer2022 "TimeBrokerServer.dll"),
    ),
    k(
        0xa8927a41_d3ce_11d1_8472_006008b0e5ca,
        "ICatalogTableInfo",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0xa8e0653c_2744_4389_a61d_7373df8b2292,
        "FileServerVssAgent",
        "MS-FSRVP",
        "File Server Remote VSS Protocol",
    ),
    w(
        0xabfb6ca3_0c5e_4734_9285_0aee72fe8d1c,
        "wcmsvc.dll",
        "Windows Connection Manager service",
        listed!(AkamaiServer2022 "wcmsvc.dll"),
    ),
    k(
        0xae1c7110_2f60_11d3_8a39_00c04f72d8e3,
        "IVssEnumObject",
        "MS-SCMP",
        "Shadow Copy Management Protocol",
    ),
    k(
        0xae33069b_a2a8_46ee_a235_ddfd339be281,
        "IRPCRemoteObject",
        "MS-PAN",
        "Print System Asynchronous Notification Protocol",
    ),
    k(
        0xafa8bd80_7d8a_11c9_bef4_08002b102989,
        "mgmt",
        "C706",
        "DCE 1.1 RPC remote management interface",
    ),
    k(
        0xafc07e2e_311c_4435_808c_c483ffeec7c9,
        "lsacap",
        "MS-CAPR",
        "Central Access Policy Identifier (ID) Retrieval Protocol",
    ),
    w(
        0xb18fbab6_56f8_4702_84e0_41053293a869,
        "usermgr.dll",
        "User Manager service",
        listed!(AkamaiServer2022 "usermgr.dll"),
    ),
    w(
        0xb25a52bf_e5dd_4f4a_aea6_8ca7272a0e86,
        "keyiso.dll",
        "CNG Key Isolation service",
        listed!(ImpacketEpm "keyiso.dll", AkamaiServer2022 "keyiso.dll"),
    ),
    w(
        0xb3781086_6a54_489b_91c8_51d067172ab7,
        "wcmsvc.dll",
        "Windows Connection Manager service",
        listed!(AkamaiServer2012 "wcmsvc.dll"),
    ),
    w(
        0xb37f900a_eae4_4304_a2ab_12bb668c0188,
        "wcmsvc.dll",
        "Windows Connection Manager service",
        listed!(AkamaiServer2022 "wcmsvc.dll"),
    ),
    k(
        0xb481498c_8354_45f9_84a0_0bdd2832a91f,
        "IVdsVdProvider",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    w(
        0xb8cadbaf_e84b_46b9_84f2_6f71c03f9e55,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2012 "bisrv.dll"),
    ),
    k(
        0xb9785960_524f_11df_8b6d_83dcded72085,
        "ISDKey",
        "MS-GKDI",
        "Group Key Distribution Protocol",
    ),
    k(
        0xbd7c23c2_c805_457c_8f86_d17fe6b9d19f,
        "IClusterLogEx",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    w(
        0xbdaa0970_413b_4a3e_9e5d_f6dc9d7e0760,
        "psmsrv.dll",
        "Background Tasks Infrastructure service, psmsrv module",
        listed!(AkamaiServer2022 "psmsrv.dll"),
    ),
    k(
        0xbde95fdf_eee0_45de_9e12_e5a61cd0d4fe,
        "RCMPublic",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    w(
        0xc0e9671e_33c6_4438_9464_56b2e1b1c7b4,
        "wbiosrvc.dll",
        "Windows Biometric service",
        listed!(ImpacketEpm "wbiosrvc.dll", AkamaiServer2022 "wbiosrvc.dll"),
    ),
    k(
        0xc2be6970_df9e_11d1_8b87_00c04fd7a924,
        "IImport",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    w(
        0xc36be077_e14b_4fe9_8abc_e856ef4f048b,
        "httpprxm.dll",
        "HTTP proxy manager",
        listed!(AkamaiServer2022 "httpprxm.dll"),
    ),
    w(
        0xc49a5a70_8a7f_4e70_ba16_1e8f1f193ef1,
        "adhsvc.dll",
        "Service module adhsvc.dll (purpose not published)",
        listed!(AkamaiServer2022 "adhsvc.dll"),
    ),
    k(
        0xc49e32c7_bc8b_11d2_85d4_00105a1f8304,
        "IWbemBackupRestore",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    w(
        0xc521facf_09a9_42c5_b155_72388595cbf0,
        "psmserviceexthost.dll",
        "Background Tasks Infrastructure service, extension host",
        listed!(AkamaiServer2022 "PsmServiceExtHost.dll"),
    ),
    ks(
        0xc5cebee2_9df5_4cdd_a08c_c2471bc144b4,
        "IResourceManager",
        "MS-WSRM",
        "1.9",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    w(
        0xc605f9fb_f0a3_4e2a_a073_73560f8d9e3e,
        "bisrv.dll",
        "Background Tasks Infrastructure service, bisrv module",
        listed!(AkamaiServer2022 "bisrv.dll"),
    ),
    ks(
        0xc681d488_d850_11d0_8c52_00c04fd90f7e,
        "efsrpc",
        "MS-EFSR",
        "1.9",
        "Encrypting File System Remote (EFSRPC) Protocol, \\pipe\\lsarpc binding",
    ),
    k(
        0xc726744e_5735_4f08_8286_c510ee638fb6,
        "ICatalogUtils2",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    w(
        0xc9ac6db5_82b7_4e55_ae8a_e464ed7b4277,
        "sysntfy.dll",
        "System event notification support (sysntfy)",
        listed!(ImpacketEpm "sysntfy.dll", AkamaiServer2022 "sysntfy.dll"),
    ),
    w(
        0xcc105610_da03_467e_bc73_5b9e2937458d,
        "wlidsvc.dll",
        "Microsoft Account Sign-in Assistant service",
        listed!(AkamaiServer2022 "wlidsvc.dll"),
    ),
    k(
        0xccd8c074_d0e5_4a40_92b4_d074faa6ba28,
        "Witness",
        "MS-SWN",
        "Service Witness Protocol",
    ),
    k(
        0xcfadac84_e12c_11d1_b34c_00c04f990d54,
        "IExport",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0xd049b186_814f_11d1_9a3c_00c04fc9b232,
        "NtFrsApi",
        "MS-FRS1",
        "File Replication Service Protocol",
    ),
    w(
        0xd09bdeb5_6171_4a34_bfe2_06fa82652568,
        "brokerlib.dll",
        "Broker infrastructure library (BrokerLib)",
        listed!(AkamaiServer2022 "BrokerLib.dll"),
    ),
    k(
        0xd4781cd6_e5d3_44df_ad94_930efe48a887,
        "IWbemLoginClientID",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    ks(
        0xd5d23b6d_5a55_4492_9889_397a3c2d2dbc,
        "IVdsAsync",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0xd6105110_8917_41a5_aa32_8e0aa2933dc9,
        "IClusterCleanup",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    k(
        0xd95afe70_a6d5_4259_822e_2c84da1ddb0d,
        "WindowsShutdown",
        "MS-RSP",
        "Remote Shutdown Protocol",
    ),
    ks(
        0xd99bdaae_b13a_4178_9fdb_e27f16b4603e,
        "IVdsHwProvider",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    ks(
        0xd99e6e70_fc88_11d0_b498_00a0c90312f3,
        "ICertRequestD",
        "MS-WCCE",
        "1.9",
        "Windows Client Certificate Enrollment Protocol",
    ),
    k(
        0xda5a86c5_12c2_4943_ab30_7f74a813d853,
        "PerflibV2",
        "MS-PCQ",
        "Performance Counter Query Protocol",
    ),
    w(
        0xdd490425_5325_4565_b774_7e27d6c09c24,
        "bfe.dll",
        "Base Filtering Engine service",
        listed!(ImpacketEpm "BFE.DLL", AkamaiServer2012 "BFE.DLL"),
    ),
    ks(
        0xdf1941c5_fe89_4e79_bf10_463657acf44d,
        "efsrpc",
        "MS-EFSR",
        "1.9",
        "Encrypting File System Remote (EFSRPC) Protocol",
    ),
    ks(
        0xe0393303_90d4_4a97_ab71_e9b671ee2729,
        "IVdsServiceLoader",
        "MS-VDS",
        "1.9",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0xe1af8308_5d1f_11c9_91a4_08002b14a0fa,
        "epmapper",
        "C706",
        "DCE 1.1 RPC endpoint mapper (MS-RPCE section 2.1)",
    ),
    ks(
        0xe33c0cc4_0482_101a_bc0c_02608c6ba218,
        "LocToLoc",
        "MS-RPCL",
        "1.9",
        "Remote Procedure Call Location Services Extensions",
    ),
    k(
        0xe3514235_4b06_11d1_ab04_00c04fc2dcd2,
        "drsuapi",
        "MS-DRSR",
        "Directory Replication Service (DRS) Remote Protocol",
    ),
    w(
        0xe38f5360_8572_473e_b696_1b46873beeab,
        "diagtrack.dll",
        "Connected User Experiences and Telemetry service (DiagTrack)",
        listed!(AkamaiServer2022 "diagtrack.dll", AkamaiServer2022 "tellib.dll"),
    ),
    k(
        0xe3c9b851_c442_432b_8fc6_a7faafc09d3b,
        "IClusterUpdate",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    w(
        0xe40f7b57_7a25_4cd3_a135_7f7d3df9d16b,
        "ncbservice.dll",
        "Network Connection Broker service",
        listed!(AkamaiServer2022 "ncbservice.dll"),
    ),
    w(
        0xe7f76134_9ef5_4949_a2d6_3368cc0988f3,
        "wcmsvc.dll",
        "Windows Connection Manager service",
        listed!(AkamaiServer2012 "wcmsvc.dll"),
    ),
    w(
        0xeb081a0d_10ee_478a_a1dd_50995283e7a8,
        "wkssvc.dll",
        "Workstation service, internal interface",
        listed!(AkamaiServer2022 "wkssvc.dll"),
    ),
    k(
        0xf131ea3e_b7be_480e_a60d_51cb2785779e,
        "IExport2",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0xf1d6c29c_8fbe_4691_8724_f6d8deaeafc8,
        "IClusterFirewall",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    k(
        0xf1e9c5b2_f59b_11d2_b362_00105a1f8177,
        "IWbemRemoteRefresher",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    w(
        0xf2c9b409_c1c9_4100_8639_d8ab1486694a,
        "wkssvc.dll",
        "Workstation service, internal interface",
        listed!(AkamaiServer2022 "wkssvc.dll"),
    ),
    k(
        0xf309ad18_d86a_11d0_a075_00c04fb68820,
        "IWbemLevel1Login",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    ks(
        0xf31931a9_832d_481c_9503_887a0e6a79f0,
        "IWRMProtocol",
        "MS-WSRM",
        "1.9",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    w(
        0xf3f09ffd_fbcf_4291_944d_70ad6e0e73bb,
        "logoncontroller.dll",
        "Logon controller",
        listed!(AkamaiServer2022 "LogonController.dll"),
    ),
    w(
        0xf47433c3_3e9d_4157_aad4_83aa1f5c2d4c,
        "mpssvc.dll",
        "Windows Defender Firewall service (MpsSvc)",
        listed!(AkamaiServer2022 "MPSSVC.dll"),
    ),
    k(
        0xf5cc59b4_4264_101a_8c59_08002b2f8426,
        "frsrpc",
        "MS-FRS1",
        "File Replication Service Protocol",
    ),
    k(
        0xf5cc5a18_4264_101a_8c59_08002b2f8426,
        "nspi",
        "MS-NSPI",
        "Name Service Provider Interface (NSPI) Protocol",
    ),
    k(
        0xf6beaff7_1e19_4fbb_9f8f_b89e2018337c,
        "IEventService",
        "MS-EVEN6",
        "EventLog Remoting Protocol Version 6.0",
    ),
    k(
        0xfa7df749_66e7_4986_a27f_e2f04ae53772,
        "IVssSnapshotMgmt",
        "MS-SCMP",
        "Shadow Copy Management Protocol",
    ),
    w(
        0xfaf2447b_b348_4feb_8dbe_beee5b7f7778,
        "wlidsvc.dll",
        "Microsoft Account Sign-in Assistant service",
        listed!(AkamaiServer2022 "wlidsvc.dll"),
    ),
];

/// The known interface with this UUID, if any.
pub fn lookup(uuid: &Uuid) -> Option<&'static KnownInterface> {
    KNOWN
        .binary_search_by(|known| known.uuid.cmp(uuid))
        .ok()
        .and_then(|i| KNOWN.get(i))
}

/// Every known interface, sorted by UUID.
pub fn all() -> &'static [KnownInterface] {
    KNOWN
}

/// "MS-SAMR samr" style label for a known interface.
pub fn label(uuid: &Uuid) -> Option<String> {
    lookup(uuid).map(|known| format!("{} {}", known.document, known.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn uuid(s: &str) -> Uuid {
        Uuid::parse_str(s).unwrap()
    }

    #[test]
    fn sorted_and_unique() {
        for pair in KNOWN.windows(2) {
            assert!(
                pair[0].uuid < pair[1].uuid,
                "{} must sort before {}",
                pair[0].uuid,
                pair[1].uuid
            );
        }
    }

    #[test]
    fn at_least_150_entries() {
        assert!(all().len() >= 150, "only {} entries", all().len());
    }

    #[test]
    fn fields_are_filled_and_tidy() {
        for known in all() {
            assert!(!known.name.is_empty(), "{}", known.uuid);
            assert!(!known.name.contains(char::is_whitespace), "{}", known.name);
            assert!(!known.description.is_empty(), "{}", known.uuid);
            match known.source {
                Source::Document { section } => {
                    assert!(
                        known.document.starts_with("MS-") || known.document == "C706",
                        "{}: {}",
                        known.uuid,
                        known.document
                    );
                    if let Some(s) = section {
                        assert!(
                            !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.'),
                            "{}: section {s:?}",
                            known.uuid
                        );
                    }
                }
                Source::Catalogue(listings) => {
                    assert_eq!(known.document, UNDOCUMENTED, "{}", known.uuid);
                    assert!(!listings.is_empty(), "{}", known.uuid);
                    // The name is the module the first catalogue gives, lower-cased.
                    assert_eq!(
                        known.name,
                        listings[0].module.to_ascii_lowercase(),
                        "{}",
                        known.uuid
                    );
                    for l in listings {
                        let m = l.module.to_ascii_lowercase();
                        assert!(m.ends_with(".dll") || m.ends_with(".exe"), "{}", l.module);
                    }
                }
            }
        }
        let documents: HashSet<_> = all().iter().map(|k| k.document).collect();
        assert!(documents.len() >= 40, "{} documents", documents.len());
        let undocumented = all().iter().filter(|k| k.document == UNDOCUMENTED).count();
        assert!(
            undocumented >= 70,
            "{undocumented} Windows-internal entries"
        );
    }

    #[test]
    fn citations() {
        let cite = |id: &str| lookup(&uuid(id)).map(KnownInterface::cite);
        assert_eq!(
            cite("12345778-1234-abcd-ef00-0123456789ab").as_deref(),
            Some("MS-LSAD §1.9")
        );
        assert_eq!(
            cite("12345778-1234-abcd-ef00-0123456789ac").as_deref(),
            Some("MS-SAMR")
        );
        assert_eq!(
            cite("2eb08e3e-639f-4fba-97b1-14f878961076").as_deref(),
            Some("impacket epm.py KNOWN_UUIDS: gpsvc.dll; Akamai rpc_toolkit server22: gpsvc.dll")
        );
        for c in [
            Catalogue::ImpacketEpm,
            Catalogue::AkamaiServer2022,
            Catalogue::AkamaiServer2012,
        ] {
            assert!(c.citation().starts_with("github.com/"), "{c:?}");
            assert!(c.citation().contains("(commit "), "{c:?}");
        }
    }

    #[test]
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
            assert_eq!(known.name, name, "{id}");
            assert_eq!(known.document, document, "{id}");
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
    }

    #[test]
    fn unknown_is_none() {
        assert!(lookup(&Uuid::nil()).is_none());
        assert!(lookup(&uuid("01234567-89ab-cdef-0123-456789abcdef")).is_none());
        assert!(lookup(&Uuid::from_u128(u128::MAX)).is_none());
        assert!(label(&uuid("deadbeef-0000-0000-0000-000000000000")).is_none());
    }

    #[test]
    fn every_entry_is_found_by_lookup() {
        for known in all() {
            assert_eq!(lookup(&known.uuid), Some(known));
        }
    }

    /// The UUIDs of a `fixtures/epm/*.txt` list: the first word of every line that is neither
    /// blank nor a `#` comment.
    fn fixture_uuids(file: &str) -> Vec<Uuid> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/epm")
            .join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let word = line.split_whitespace().next().unwrap_or_default();
            let id =
                Uuid::parse_str(word).unwrap_or_else(|e| panic!("{file}:{}: {word:?}: {e}", n + 1));
            assert!(seen.insert(id), "{file}:{}: {id} listed twice", n + 1);
            out.push(id);
        }
        out
    }

    /// At least 90 % of the interfaces seen on a real host are named; the message lists the
    /// others.
    fn assert_covers(file: &str, at_least: usize) {
        let ids = fixture_uuids(file);
        assert!(
            ids.len() >= at_least,
            "{file}: only {} interfaces",
            ids.len()
        );
        let unnamed: Vec<String> = ids
            .iter()
            .filter(|id| lookup(id).is_none())
            .map(Uuid::to_string)
            .collect();
        let named = ids.len() - unnamed.len();
        assert!(
            named * 10 >= ids.len() * 9,
            "{file}: {named} of {} interfaces named (< 90 %); unnamed: {}",
            ids.len(),
            unnamed.join(", ")
        );
    }

    #[test]
    fn names_most_of_a_domain_controller() {
        assert_covers("windows-dc.txt", 45);
    }

    #[test]
    fn names_most_of_a_member_server() {
        assert_covers("windows-member.txt", 80);
    }
}
