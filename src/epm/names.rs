//! Well-known RPC interfaces by UUID.
//!
//! Used when a dump is turned into [`Endpoint`](super::Endpoint)s: each registered interface UUID
//! is looked up here so reports can say "MS-SAMR samr" instead of a bare UUID. The table only
//! names interfaces; nothing in the audit depends on a UUID being known.
//!
//! Every UUID below is the one the named public protocol document assigns to the interface
//! (Microsoft Open Specifications "[MS-xxxx]" documents, sections "Standards Assignments",
//! "Transport" or the interface section and the full IDL appendix; The Open Group C706 for the
//! DCE endpoint mapper and management interfaces). DCOM interface IDs (IIDs) are included: they
//! are RPC interface UUIDs on the wire even though the endpoint mapper rarely lists them.

use uuid::Uuid;

/// One well-known interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownInterface {
    pub uuid: Uuid,
    /// Short interface name as the protocol document spells it, e.g. "samr".
    pub name: &'static str,
    /// The document that specifies it, e.g. "MS-SAMR".
    pub document: &'static str,
    /// The document's title, e.g. "Security Account Manager (SAM) Remote Protocol".
    pub description: &'static str,
}

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
    }
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
    k(
        0x07e5c822_f00c_47a1_8fce_b244da56fd06,
        "IVdsDisk",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x0818a8ef_9ba9_40d8_a6f9_e22833cc771e,
        "IVdsService",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
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
    k(
        0x10c5e575_7984_4e81_a56b_431f5f92ae42,
        "IVdsProvider",
        "MS-VDS",
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
    k(
        0x12345778_1234_abcd_ef00_0123456789ab,
        "lsarpc",
        "MS-LSAD",
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
    k(
        0x15fc031c_0652_4306_b2c3_f558b8f837e2,
        "IVdsServiceSw",
        "MS-VDS",
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
    k(
        0x1a9134dd_7b39_45ba_ad88_44d01ca47f28,
        "RemoteRead",
        "MS-MQRR",
        "Message Queuing (MSMQ): Queue Manager Remote Read Protocol",
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
    k(
        0x214a0f28_b737_4026_b847_4f9e37d79529,
        "IVssDifferentialSoftwareSnapshotMgmt",
        "MS-SCMP",
        "Shadow Copy Management Protocol",
    ),
    k(
        0x21546ae8_4da5_445e_987f_627fea39c5e8,
        "IWRMConfig",
        "MS-WSRM",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x2931c32c_f731_4c56_9feb_3d5f1c5e72bf,
        "IClusterNetwork2",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
    ),
    k(
        0x2a3eb639_d134_422d_90d8_aaa1b5216202,
        "IResourceManager2",
        "MS-WSRM",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x2c9273e0_1dc3_11d3_b364_00105a1f8177,
        "IWbemRefreshingServices",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0x300f3532_38cc_11d0_a3f0_0020af6b0add,
        "trkwks",
        "MS-DLTW",
        "Distributed Link Tracking: Workstation Protocol",
    ),
    k(
        0x338cd001_2244_31f1_aaaa_900038001003,
        "winreg",
        "MS-RRP",
        "Windows Remote Registry Protocol",
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
    k(
        0x3b69d7f5_9d94_4648_91ca_79939ba263bf,
        "IVdsPack",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
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
    k(
        0x4afc3636_db01_4052_80c3_03bbcb8d3c69,
        "IVdsServiceInitialization",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x4b324fc8_1670_01d3_1278_5a47bf6ee188,
        "srvsvc",
        "MS-SRVS",
        "Server Service Remote Protocol",
    ),
    k(
        0x4d9f4ab8_7d1c_11cf_861e_0020af6e7c57,
        "IActivation",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    k(
        0x4dbcee9a_6343_4651_b85f_5e75d74d983c,
        "IVdsVolumeMF2",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x4f7ca01c_a9e5_45b6_b142_2332a1339c1d,
        "IWRMAccounting",
        "MS-WSRM",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x4fc742e0_4a10_11cf_8273_00aa004ae673,
        "netdfs",
        "MS-DFSNM",
        "Distributed File System (DFS): Namespace Management Protocol",
    ),
    k(
        0x5261574a_4572_206e_b268_6b199213b4e4,
        "asyncemsmdb",
        "MS-OXCRPC",
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
    k(
        0x5422fd3a_d4b8_4cef_a12e_e87d4ca22e90,
        "ICertRequestD2",
        "MS-WCCE",
        "Windows Client Certificate Enrollment Protocol",
    ),
    k(
        0x59602eb6_57b0_4fd8_aa4b_ebf06971fe15,
        "IWRMPolicy",
        "MS-WSRM",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0x5a7b91f8_ff00_11d0_a9b2_00c04fb6e6fc,
        "msgsvcsend",
        "MS-MSRP",
        "Messenger Service Remote Protocol",
    ),
    k(
        0x5b821720_f63b_11d0_aad2_00c04fc324db,
        "dhcpsrv2",
        "MS-DHCPM",
        "Microsoft DHCP Server Management Protocol, dhcpsrv2",
    ),
    k(
        0x5ca4a760_ebb1_11cf_8611_00a0245420ed,
        "IcaApi",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    k(
        0x6788faf9_214e_4b85_ba59_266953616e09,
        "IVdsVolumeMF3",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x6bffd098_a112_3610_9833_46c3f874532d,
        "dhcpsrv",
        "MS-DHCPM",
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
    k(
        0x6e6f6b40_977c_4069_bddd_ac710059f8c0,
        "IVdsAdvancedDisk",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x72ae6713_dcbb_4a03_b36b_371f6ac6b53d,
        "IVdsVolume2",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x76f03f96_cdfd_44fc_a22c_64950a001209,
        "IRemoteWinspool",
        "MS-PAR",
        "Print System Asynchronous Remote Protocol",
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
    k(
        0x7f43b400_1a0e_4d57_bbc9_6b0c65f7a889,
        "IAlternateLaunch",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
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
    k(
        0x8326cd1d_cf59_4936_b786_5efc08798e25,
        "IVdsAdviseSink",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x83bfb87f_43fb_4903_baa6_127f01029eec,
        "IVdsSubSystemImportTarget",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
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
    k(
        0x88143fd0_c28d_4b2b_8fef_8d882f6a9390,
        "TermSrvEnumeration",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
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
    k(
        0x90681b1d_6a7f_48e8_9061_31b7aa125322,
        "IVdsDiskOnline",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x91ae6020_9e3c_11cf_8d7c_00aa00c091be,
        "ICertPassage",
        "MS-ICPR",
        "ICertPassage Remote Protocol",
    ),
    k(
        0x943991a5_b3fe_41fa_9696_7f7b656ee34b,
        "IWRMMachineGroup",
        "MS-WSRM",
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
    k(
        0x9882f547_cfc3_420b_9750_00dfbec50662,
        "IVdsCreatePartitionEx",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0x99fcfec4_5260_101b_bbcb_00aa0021347a,
        "IObjectExporter",
        "MS-DCOM",
        "Distributed Component Object Model (DCOM) Remote Protocol",
    ),
    k(
        0x9aa58360_ce33_4f92_b658_ed24b14425b8,
        "IVdsSwProvider",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0xa359dec5_e813_4834_8a2a_ba7f1d777d76,
        "IWbemBackupRestoreEx",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0xa4f1db00_ca47_1067_b31f_00dd010662da,
        "emsmdb",
        "MS-OXCRPC",
        "Exchange Server Wire Format Protocol (EMSMDB)",
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
    k(
        0xb481498c_8354_45f9_84a0_0bdd2832a91f,
        "IVdsVdProvider",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
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
    k(
        0xbde95fdf_eee0_45de_9e12_e5a61cd0d4fe,
        "RCMPublic",
        "MS-TSTS",
        "Terminal Services Terminal Server Runtime Interface Protocol",
    ),
    k(
        0xc2be6970_df9e_11d1_8b87_00c04fd7a924,
        "IImport",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
    ),
    k(
        0xc49e32c7_bc8b_11d2_85d4_00105a1f8304,
        "IWbemBackupRestore",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0xc5cebee2_9df5_4cdd_a08c_c2471bc144b4,
        "IResourceManager",
        "MS-WSRM",
        "Windows System Resource Manager (WSRM) Protocol",
    ),
    k(
        0xc681d488_d850_11d0_8c52_00c04fd90f7e,
        "efsrpc",
        "MS-EFSR",
        "Encrypting File System Remote (EFSRPC) Protocol, \\pipe\\lsarpc binding",
    ),
    k(
        0xc726744e_5735_4f08_8286_c510ee638fb6,
        "ICatalogUtils2",
        "MS-COMA",
        "Component Object Model Plus (COM+) Remote Administration Protocol",
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
    k(
        0xd4781cd6_e5d3_44df_ad94_930efe48a887,
        "IWbemLoginClientID",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0xd5d23b6d_5a55_4492_9889_397a3c2d2dbc,
        "IVdsAsync",
        "MS-VDS",
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
    k(
        0xd99bdaae_b13a_4178_9fdb_e27f16b4603e,
        "IVdsHwProvider",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0xd99e6e70_fc88_11d0_b498_00a0c90312f3,
        "ICertRequestD",
        "MS-WCCE",
        "Windows Client Certificate Enrollment Protocol",
    ),
    k(
        0xda5a86c5_12c2_4943_ab30_7f74a813d853,
        "PerflibV2",
        "MS-PCQ",
        "Performance Counter Query Protocol",
    ),
    k(
        0xdf1941c5_fe89_4e79_bf10_463657acf44d,
        "efsrpc",
        "MS-EFSR",
        "Encrypting File System Remote (EFSRPC) Protocol",
    ),
    k(
        0xe0393303_90d4_4a97_ab71_e9b671ee2729,
        "IVdsServiceLoader",
        "MS-VDS",
        "Virtual Disk Service (VDS) Remote Protocol",
    ),
    k(
        0xe1af8308_5d1f_11c9_91a4_08002b14a0fa,
        "epmapper",
        "C706",
        "DCE 1.1 RPC endpoint mapper (MS-RPCE section 2.1)",
    ),
    k(
        0xe33c0cc4_0482_101a_bc0c_02608c6ba218,
        "LocToLoc",
        "MS-RPCL",
        "Remote Procedure Call Location Services Extensions",
    ),
    k(
        0xe3514235_4b06_11d1_ab04_00c04fc2dcd2,
        "drsuapi",
        "MS-DRSR",
        "Directory Replication Service (DRS) Remote Protocol",
    ),
    k(
        0xe3c9b851_c442_432b_8fc6_a7faafc09d3b,
        "IClusterUpdate",
        "MS-CSVP",
        "Failover Cluster: Setup and Validation Protocol (ClusPrep)",
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
    k(
        0xf309ad18_d86a_11d0_a075_00c04fb68820,
        "IWbemLevel1Login",
        "MS-WMI",
        "Windows Management Instrumentation Remote Protocol",
    ),
    k(
        0xf31931a9_832d_481c_9503_887a0e6a79f0,
        "IWRMProtocol",
        "MS-WSRM",
        "Windows System Resource Manager (WSRM) Protocol",
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
            assert!(
                known.document.starts_with("MS-") || known.document == "C706",
                "{}",
                known.document
            );
            assert!(!known.description.is_empty(), "{}", known.uuid);
        }
        let documents: HashSet<_> = all().iter().map(|k| k.document).collect();
        assert!(documents.len() >= 40, "{} documents", documents.len());
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
}
