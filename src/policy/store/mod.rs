//! The stored-configuration readers: what a host or a GPO holds, as Windows exports or lists
//! it, rather than the script that set it. [`reg_export`] is the `.reg` grammar the export
//! readers share (read in one pass by [`fwstore`], [`ipsec_store`] and the Rpc\Internet reader
//! of [`crate::policy::registry`] together); [`ipsec_store`] decodes the IPsec policy store
//! with [`ipsec_blob`] (its `ipsecData` blobs) and [`ipsec_filters`] (filter lists); [`preg`]
//! reads a GPO's `Registry.pol` and [`wfw`] a `.wfw` hive (`netsh advfirewall export`) into the
//! same firewall store; [`listing`] reads netsh
//! `show rule` output and `Get-NetFirewallRule` JSON; [`restrictions`] reads the configured
//! authentication restrictions (RestrictRemoteClients, RestrictReceivingNTLMTraffic) from
//! `.reg` exports and, through [`preg`], from `Registry.pol`. They produce the dialects' rule types
//! ([`crate::policy::dialect`]) and the model's rules ([`crate::policy::model`]); used for the
//! intended policy and for `--store` (compared by [`crate::policy::diff`]). No I/O.

pub mod fwstore;
pub mod ipsec_blob;
pub mod ipsec_filters;
pub mod ipsec_store;
pub mod listing;
pub mod preg;
pub mod reg_export;
pub mod restrictions;
pub mod wfw;
