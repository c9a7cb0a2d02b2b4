//! The command line's names for library values (`--os`, `--fix-dialect`, `--default`, `--auth`,
//! `--auth-level`, `lab serve --end-style` and `--misbehave`): clap
//! value enums that map onto the library's types, so that no module below `cli` depends on
//! clap. Each variant's doc comment is its line in `--help`.

use crate::audit::remedy::FixDialect;
use crate::policy::{Action, OsFamily};

/// `--os`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Os {
    Legacy,
    Vista,
}

impl From<Os> for OsFamily {
    fn from(os: Os) -> OsFamily {
        match os {
            Os::Legacy => OsFamily::Legacy,
            Os::Vista => OsFamily::Vista,
        }
    }
}

/// `--fix-dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// ipseccmd.exe (Windows XP/2003; ipsecpol.exe on Windows 2000 takes the same switches).
    Ipseccmd,
    /// `netsh ipsec static` (Windows Server 2003).
    NetshIpsec,
    /// `netsh advfirewall firewall` (Windows Vista / Server 2008 and later).
    Netsh,
    /// PowerShell NetSecurity cmdlets (Windows 8 / Server 2012 and later).
    Powershell,
}

impl From<Dialect> for FixDialect {
    fn from(d: Dialect) -> FixDialect {
        match d {
            Dialect::Ipseccmd => FixDialect::Ipseccmd,
            Dialect::NetshIpsec => FixDialect::NetshIpsec,
            Dialect::Netsh => FixDialect::Netsh,
            Dialect::Powershell => FixDialect::Powershell,
        }
    }
}

/// `audit --default`: what a port no policy rule covers is expected to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DefaultAction {
    Pass,
    Block,
}

impl From<DefaultAction> for Action {
    fn from(d: DefaultAction) -> Action {
        match d {
            DefaultAction::Pass => Action::Pass,
            DefaultAction::Block => Action::Block,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// The name on the command line is the library's own name (its serde name too).
    #[test]
    fn names_on_the_command_line_are_the_library_names() {
        for d in Dialect::value_variants() {
            let name = d.to_possible_value().unwrap().get_name().to_string();
            let lib = FixDialect::from(*d);
            assert_eq!(name, lib.as_str());
            assert_eq!(serde_json::to_value(lib).unwrap(), name.as_str());
        }
        let dialects: Vec<FixDialect> = Dialect::value_variants()
            .iter()
            .map(|&d| d.into())
            .collect();
        assert_eq!(dialects, FixDialect::ALL);
        for os in Os::value_variants() {
            let name = os.to_possible_value().unwrap().get_name().to_string();
            let lib = OsFamily::from(*os);
            assert_eq!(serde_json::to_value(lib).unwrap(), name.as_str());
        }
    }
}

/// `--auth`: whether the endpoint mapper is asked anonymously, with NTLM, or anonymously
/// first and with NTLM when it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Auth {
    /// Anonymous only.
    None,
    /// NTLM only (credentials required).
    Ntlm,
    /// Anonymous; once more with NTLM when the endpoint mapper refuses an anonymous lookup
    /// and credentials were given.
    Auto,
}

impl From<Auth> for crate::epm::client::AuthMode {
    fn from(a: Auth) -> Self {
        use crate::epm::client::AuthMode;
        match a {
            Auth::None => AuthMode::None,
            Auth::Ntlm => AuthMode::Ntlm,
            Auth::Auto => AuthMode::Auto,
        }
    }
}

/// `--auth-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthLevel {
    /// Authenticate the connection only; calls are neither signed nor sealed.
    Connect,
    /// Every request is signed and every response's signature verified.
    Integrity,
    /// Integrity, and the stubs are encrypted.
    Privacy,
}

impl From<AuthLevel> for crate::epm::auth::Level {
    fn from(l: AuthLevel) -> Self {
        use crate::epm::auth::Level;
        match l {
            AuthLevel::Connect => Level::Connect,
            AuthLevel::Integrity => Level::Integrity,
            AuthLevel::Privacy => Level::Privacy,
        }
    }
}

/// `lab serve --end-style`: how the fixture tells the client that the list is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EndStyle {
    /// The last page comes with a null handle and status 0 (also on a full last page).
    NullHandle,
    /// The last page keeps a live handle; one more call is answered `ept_s_not_registered`
    /// with no entries.
    ExtraCall,
    /// The last page carries its entries and `ept_s_not_registered` together.
    WithLast,
}

impl From<EndStyle> for crate::epm::server::EndStyle {
    fn from(e: EndStyle) -> Self {
        use crate::epm::server::EndStyle as E;
        match e {
            EndStyle::NullHandle => E::NullHandle,
            EndStyle::ExtraCall => E::ExtraCall,
            EndStyle::WithLast => E::WithLast,
        }
    }
}

/// `lab serve --misbehave`: ways the fixture breaks the protocol on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Misbehave {
    /// Accept the connection, then never answer.
    Silent,
    /// Answer the bind with bytes that are not DCE/RPC.
    Garbage,
    /// Announce a fragment longer than what follows, then go silent.
    ShortFragment,
    /// Answer `ept_lookup` with a fault PDU (access denied).
    Fault,
    /// Refuse the bind with bind_nak.
    BindNak,
    /// Reset the connection in the middle of the first response.
    Reset,
    /// Send every response one byte at a time, slowly.
    Drip,
    /// Answer every `ept_lookup` with the same page and the same live handle, forever.
    SameHandle,
    /// Invent new entries on every page, forever.
    Endless,
    /// Towers whose lengths overrun the stub.
    TowerOverrun,
    /// An `alloc_hint` of 4 GiB on small fragments of an otherwise valid response.
    HugeAllocHint,
    /// Entry counts and pointers that promise far more than the stub holds.
    NdrTricks,
    /// A valid endpoint list whose annotations, pipe, host and local endpoint names hold
    /// terminal escapes (OSC, CSI, BEL, CR, BS, LF, C1) and bidi overrides.
    HostileText,
    /// With `--require-auth`: sign (or seal) every response, then alter one byte of its
    /// signature, as a peer in the middle would.
    TamperSignature,
}

impl From<Misbehave> for crate::epm::server::Misbehave {
    fn from(m: Misbehave) -> Self {
        use crate::epm::server::Misbehave as M;
        match m {
            Misbehave::Silent => M::Silent,
            Misbehave::Garbage => M::Garbage,
            Misbehave::ShortFragment => M::ShortFragment,
            Misbehave::Fault => M::Fault,
            Misbehave::BindNak => M::BindNak,
            Misbehave::Reset => M::Reset,
            Misbehave::Drip => M::Drip,
            Misbehave::SameHandle => M::SameHandle,
            Misbehave::Endless => M::Endless,
            Misbehave::TowerOverrun => M::TowerOverrun,
            Misbehave::HugeAllocHint => M::HugeAllocHint,
            Misbehave::NdrTricks => M::NdrTricks,
            Misbehave::HostileText => M::HostileText,
            Misbehave::TamperSignature => M::TamperSignature,
        }
    }
}
