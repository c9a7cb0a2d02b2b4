//! The command line's names for library values (`--os`, `--fix-dialect`, `--default`, `--auth`,
//! `--auth-level`, `--transport`, `lab serve --end-style` and `--misbehave`): clap
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
    /// Kerberos only (credentials, --realm, --kdc, and the host's name).
    Kerberos,
    /// Kerberos inside SPNEGO (auth type 9), NTLM not offered; what Kerberos needs.
    Negotiate,
}

impl From<Auth> for crate::epm::client::AuthMode {
    fn from(a: Auth) -> Self {
        use crate::epm::client::AuthMode;
        match a {
            Auth::None => AuthMode::None,
            Auth::Ntlm => AuthMode::Ntlm,
            Auth::Auto => AuthMode::Auto,
            Auth::Kerberos => AuthMode::Kerberos,
            Auth::Negotiate => AuthMode::Negotiate,
        }
    }
}

/// `--transport`: the road to the endpoint mapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportArg {
    /// ncacn_ip_tcp on TCP 135 (--port).
    Tcp,
    /// ncacn_http (RPC over HTTP v1) on TCP 593 (--http-port).
    Http,
    /// ncadg_ip_udp (connectionless) on UDP 135 (--udp-port).
    Udp,
    /// ncacn_np: \pipe\epmapper over SMB on TCP 445 (--smb-port; 139 is SMB over NetBIOS).
    Smb,
    /// TCP first; then SMB, HTTP and UDP, each only when the one before is refused or
    /// filtered; the report says which answered.
    Auto,
}

impl From<TransportArg> for crate::epm::client::RoadChoice {
    fn from(t: TransportArg) -> Self {
        use crate::epm::Transport;
        use crate::epm::client::RoadChoice;
        match t {
            TransportArg::Tcp => RoadChoice::Only(Transport::Tcp),
            TransportArg::Http => RoadChoice::Only(Transport::Http),
            TransportArg::Udp => RoadChoice::Only(Transport::Udp),
            TransportArg::Smb => RoadChoice::Only(Transport::Smb),
            TransportArg::Auto => RoadChoice::Auto,
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

/// The command line's names for one of the fixture's choices (`lab serve --end-style`,
/// `--misbehave`), from the list in [`crate::epm::server`], and its conversion into the
/// library's enum.
macro_rules! fixture_choice {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl From<$name> for crate::epm::server::$name {
            fn from(v: $name) -> Self {
                match v {
                    $($name::$variant => Self::$variant,)*
                }
            }
        }
    };
}
crate::epm::server::choices!(fixture_choice);
