//! The property of every fuzz target, one file each, as plain functions: the libFuzzer
//! targets in `../fuzz_targets/` each include their own file, and `tests/fuzz_seeds.rs`
//! includes this one to replay the seeds and past findings in `cargo test`.

pub mod auth_response;
pub mod cl_datagram;
pub mod epm_entries;
pub mod ept_lookup_stub;
pub mod mgmt_inq_if_ids;
pub mod pdu_decode;
pub mod policy_address;
pub mod policy_fwstore;
pub mod policy_ipsec_store;
pub mod policy_ipseccmd;
pub mod policy_listing;
pub mod policy_netsh_powershell;
pub mod policy_netsh_rpc;
pub mod policy_parse_text;
pub mod policy_preg;
pub mod policy_registry;
pub mod policy_wfw;
pub mod reassembly;
pub mod smb3_decode;
pub mod smb_decode;
pub mod string_binding;
pub mod tower;
