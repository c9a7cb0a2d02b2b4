//! The script dialects: the commands an administrator writes to set the intended policy.
//! [`crate::policy::parse_text`] decodes a file into logical lines ([`crate::policy::text`]),
//! [`cmd`] expands cmd.exe `set` variables and `for` loops into commands, and each command goes
//! to its dialect: [`ipsec`] (ipsecpol/ipseccmd), [`netsh_ipsec`] (`netsh ipsec static`),
//! [`firewall`] (netsh advfirewall, PowerShell), [`registry`] (rpccfg, `reg add`, and the
//! Rpc\Internet key of a `.reg` export); apart from them, [`netsh_rpc`] reads `netsh rpc filter`
//! commands and `show filter` output into RPC filters. Each produces rules of the model
//! ([`crate::policy::model`]) and findings through its sink; the stored-configuration readers
//! ([`crate::policy::store`]) reuse the IPsec and firewall rule types defined here. No I/O.

pub mod cmd;
pub mod firewall;
pub mod groups;
pub mod ipsec;
pub mod netsh_ipsec;
pub mod netsh_rpc;
pub mod registry;
