//! What a firewall rule holds that the model cannot check for a connection: the program,
//! service or package it is scoped to (`App=`, `Svc=`, `AppPkgId=` in a store), and the
//! fields rpcaudit does not model (`RA42=IntrAnet`, an unknown `LPort2_10` keyword, a field of
//! a later grammar). Such a rule passes only under its condition, so its decision is
//! `conditional`, shown with the condition, never a plain pass (docs/guide/policy.md).
//!
//! Windows Firewall applies an application or service condition to the sockets of that
//! program or service only: the Windows Filtering Platform matches inbound connections at the
//! ALE layers, at the listening socket's accept(), where the application's path and package
//! are fields of the match ("ALE Layers", learn.microsoft.com/windows/win32/fwp/ale-layers;
//! `FWPS_FIELD_ALE_AUTH_RECV_ACCEPT_V4_ALE_APP_ID`); a rule's service name `*` means "a
//! service, not an application" (INetFwRule::get_ServiceName); `New-NetFirewallRule
//! -Program/-Service/-Package` set these conditions. The one owner rpcaudit
//! knows is TCP 135: the endpoint mapper, the RpcSs service in `svchost.exe`.

use crate::ports::{EPM_PORT, Proto};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The service that owns TCP 135 (the endpoint mapper).
const EPM_SERVICE: &str = "rpcss";
/// The program that hosts it.
const EPM_PROGRAM: &str = "svchost.exe";

/// What a rule requires beside its ports, addresses and protocol. Empty: nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    /// `App=`: the program whose sockets the rule covers, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// `Svc=`: the service whose sockets the rule covers (`*`: any service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `AppPkgId=`: the app container package whose sockets the rule covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Fields rpcaudit does not model, as `Field=value`: the rule matches or not depending on
    /// them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmodelled: Vec<String>,
}

/// How a rule's condition applies to one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No condition left: the rule decides as written.
    Plain,
    /// The rule does not cover this port at all (it is scoped to a program that does not own
    /// it).
    NotThisPort,
    /// The rule decides only under this condition, which rpcaudit cannot check.
    Conditional(String),
}

impl Condition {
    pub fn is_empty(&self) -> bool {
        self.program.is_none()
            && self.service.is_none()
            && self.package.is_none()
            && self.unmodelled.is_empty()
    }

    fn scoped(&self) -> bool {
        self.program.is_some() || self.service.is_some() || self.package.is_some()
    }

    /// Does the owner condition name the endpoint mapper: `Svc=RpcSs`, with no program or
    /// with svchost.exe, and no package?
    fn names_the_endpoint_mapper(&self) -> bool {
        // `*`: any service, RpcSs among them.
        let service = self.service.as_deref().is_some_and(|s| {
            let s = s.trim();
            s == "*" || s.eq_ignore_ascii_case(EPM_SERVICE)
        });
        let program = self.program.as_deref().is_none_or(|p| {
            let file = p.trim().rsplit(['\\', '/']).next().unwrap_or_default();
            file.eq_ignore_ascii_case(EPM_PROGRAM)
        });
        service && program && self.package.is_none()
    }

    /// How this condition applies to local `port` over `proto`: TCP 135 belongs to RpcSs, so
    /// a rule scoped to RpcSs covers it plainly and a rule scoped to another owner not at all;
    /// the owner of any other port is not known here, so a scoped rule is conditional there.
    /// Fields not modelled make the rule conditional on every port.
    pub fn scope(&self, port: u16, proto: Proto) -> Scope {
        let mut parts = Vec::new();
        if self.scoped() {
            if port == EPM_PORT && proto == Proto::Tcp {
                if !self.names_the_endpoint_mapper() {
                    return Scope::NotThisPort;
                }
            } else {
                parts.push(self.owner_text());
            }
        }
        if !self.unmodelled.is_empty() {
            parts.push(format!(
                "depends on {}, not modelled",
                self.unmodelled.join(", ")
            ));
        }
        if parts.is_empty() {
            Scope::Plain
        } else {
            Scope::Conditional(parts.join("; "))
        }
    }

    /// "only for program X, service Y": whose sockets the rule covers.
    fn owner_text(&self) -> String {
        let mut who = Vec::new();
        if let Some(p) = &self.program {
            who.push(format!("program {p}"));
        }
        if let Some(s) = &self.service {
            if s.trim() == "*" {
                who.push("any service".to_string());
            } else {
                who.push(format!("service {s}"));
            }
        }
        if let Some(p) = &self.package {
            who.push(format!("package {p}"));
        }
        format!("only for {}", who.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(s: &str) -> Condition {
        Condition {
            service: Some(s.into()),
            ..Condition::default()
        }
    }

    #[test]
    fn rpcss_owns_tcp_135() {
        assert_eq!(svc("RpcSs").scope(135, Proto::Tcp), Scope::Plain);
        let with_svchost = Condition {
            program: Some(r"%SystemRoot%\system32\svchost.exe".into()),
            ..svc("rpcss")
        };
        assert_eq!(with_svchost.scope(135, Proto::Tcp), Scope::Plain);
        assert_eq!(svc("*").scope(135, Proto::Tcp), Scope::Plain);
        // On another port RpcSs's rule is conditional: rpcaudit does not know the owner.
        assert_eq!(
            svc("RpcSs").scope(49152, Proto::Tcp),
            Scope::Conditional("only for service RpcSs".into())
        );
    }

    #[test]
    fn another_owner_does_not_decide_135() {
        let app = Condition {
            program: Some(r"%SystemRoot%\system32\proximityuxhost.exe".into()),
            ..Condition::default()
        };
        assert_eq!(app.scope(135, Proto::Tcp), Scope::NotThisPort);
        assert_eq!(
            svc("termservice").scope(135, Proto::Tcp),
            Scope::NotThisPort
        );
        let other_program = Condition {
            program: Some(r"C:\tools\evil.exe".into()),
            ..svc("RpcSs")
        };
        assert_eq!(other_program.scope(135, Proto::Tcp), Scope::NotThisPort);
        assert_eq!(
            app.scope(49152, Proto::Tcp),
            Scope::Conditional(
                r"only for program %SystemRoot%\system32\proximityuxhost.exe".into()
            )
        );
    }

    #[test]
    fn fields_not_modelled_make_every_port_conditional() {
        let c = Condition {
            unmodelled: vec!["RA42=IntrAnet".into()],
            ..Condition::default()
        };
        assert_eq!(
            c.scope(135, Proto::Tcp),
            Scope::Conditional("depends on RA42=IntrAnet, not modelled".into())
        );
        assert_eq!(Condition::default().scope(135, Proto::Tcp), Scope::Plain);
        assert!(Condition::default().is_empty());
    }
}
