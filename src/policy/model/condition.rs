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

use super::address::AddrMatch;
use crate::ports::{EPM_PORT, Proto};
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The service that owns TCP 135 (the endpoint mapper).
const EPM_SERVICE: &str = "rpcss";
/// The program that hosts it.
const EPM_PROGRAM: &str = "svchost.exe";
/// The program that owns the SMB and NetBIOS ports: the kernel's SMB server, which Windows
/// Firewall names `System` (Microsoft Learn, "RPC Dependency": RPC over named pipes takes
/// `lport=445 binary=System`; the built-in File and Printer Sharing rules scope TCP 139 and 445,
/// UDP 137 and 138 to `App=System`).
const SMB_PROGRAM: &str = "System";

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
    /// `LA4=`/`LA6=` (netsh `localip=`, `-LocalAddress`): the local addresses the rule covers;
    /// empty: any. Decided where the destination is known, else conditional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local: Vec<AddrMatch>,
    /// Fields rpcaudit does not model, as `Field=value`: the rule matches or not depending on
    /// them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmodelled: Vec<String>,
}

/// One owner of a local port: a service, the programs (`.exe`) it runs in, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    pub service: Option<String>,
    /// Program file names (`spoolsv.exe`); empty: not known.
    pub programs: Vec<String>,
}

/// The owners of one local port, as the caller knows them: the audit from the interfaces the
/// endpoint mapper lists on it and the interface catalogue's service and binary columns,
/// `policy explain` from `--service`/`--program`. Empty: not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners(pub Vec<Owner>);

impl Owners {
    /// One owner: a service, a program, or both.
    pub fn one(service: Option<&str>, program: Option<&str>) -> Owners {
        Owners(vec![Owner {
            service: service.map(str::to_string),
            programs: program
                .map(|p| vec![file_name(p).to_string()])
                .unwrap_or_default(),
        }])
    }

    /// Who owns `port` over `proto` whatever the host: TCP 135 is RpcSs's in svchost.exe, the
    /// SMB and NetBIOS ports are `System`'s.
    pub fn well_known(port: u16, proto: Proto) -> Option<Owners> {
        match (proto, port) {
            (Proto::Tcp, EPM_PORT) => Some(Owners::one(Some(EPM_SERVICE), Some(EPM_PROGRAM))),
            (Proto::Tcp, 139 | 445) | (Proto::Udp, 137 | 138) => {
                Some(Owners::one(None, Some(SMB_PROGRAM)))
            }
            _ => None,
        }
    }

    fn describe(&self) -> String {
        let each: Vec<String> = self
            .0
            .iter()
            .map(|o| {
                let mut parts = Vec::new();
                if let Some(s) = &o.service {
                    parts.push(format!("service {s}"));
                }
                if !o.programs.is_empty() {
                    parts.push(format!("program {}", o.programs.join("/")));
                }
                parts.join(" in ")
            })
            .collect();
        each.join(", ")
    }
}

/// What is known of the connection's local end beside its port: the address it is sent to and
/// who owns the port, when the caller knows them. Default: neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub dst: Option<IpAddr>,
    pub owners: Option<Owners>,
    /// What `LocalSubnet` stands for, when known (for `LA4=LocalSubnet`).
    pub local_subnets: Vec<IpNet>,
}

/// How a rule's condition applies to one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No condition left: the rule decides as written.
    Plain,
    /// The rule does not cover this port at all (it is scoped to a program that does not own
    /// it, or to a local address the connection is not sent to).
    NotThisPort,
    /// The rule decides only under this condition, which rpcaudit cannot check.
    Conditional(String),
}

/// Does a condition cover an owner: yes, no, or not known (a field of the owner not known)?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Covers {
    Yes,
    No,
    Unknown,
}

/// `%SystemRoot%\system32\svchost.exe` as `svchost.exe`.
fn file_name(p: &str) -> &str {
    p.trim().rsplit(['\\', '/']).next().unwrap_or_default()
}

impl Condition {
    pub fn is_empty(&self) -> bool {
        self.program.is_none()
            && self.service.is_none()
            && self.package.is_none()
            && self.local.is_empty()
            && self.unmodelled.is_empty()
    }

    fn scoped(&self) -> bool {
        self.program.is_some() || self.service.is_some() || self.package.is_some()
    }

    /// A script's `program=`/`-Program`, `service=`/`-Service`, `-Package`: the same condition
    /// as a store's `App=`, `Svc=`, `AppPkgId=`, where `Any` (netsh, PowerShell) is no condition.
    pub fn owner_from_script(value: &str) -> Option<String> {
        let v = value.trim();
        (!v.is_empty() && !v.eq_ignore_ascii_case("any")).then(|| v.to_string())
    }

    /// Does the owner condition cover `owner`? A package condition never covers a service or
    /// a program the audit knows (those run outside app containers).
    fn covers(&self, owner: &Owner) -> Covers {
        if self.package.is_some() {
            return Covers::No;
        }
        // The kernel (`System`) runs no service: a service condition never covers it.
        let kernel = owner.programs.iter().any(|p| p == SMB_PROGRAM);
        let service = match (&self.service, &owner.service) {
            (None, _) => Covers::Yes,
            (Some(_), None) if kernel => Covers::No,
            (Some(s), Some(o)) if s.trim() == "*" || s.trim().eq_ignore_ascii_case(o) => {
                Covers::Yes
            }
            (Some(_), Some(_)) => Covers::No,
            (Some(_), None) => Covers::Unknown,
        };
        let program = match &self.program {
            None => Covers::Yes,
            Some(_) if owner.programs.is_empty() => Covers::Unknown,
            Some(p) => {
                let f = file_name(p);
                if owner.programs.iter().any(|o| o.eq_ignore_ascii_case(f)) {
                    Covers::Yes
                } else {
                    Covers::No
                }
            }
        };
        match (service, program) {
            (Covers::No, _) | (_, Covers::No) => Covers::No,
            (Covers::Yes, Covers::Yes) => Covers::Yes,
            _ => Covers::Unknown,
        }
    }

    /// How this condition applies to local `port` over `proto`, with nothing known of the
    /// connection's local end beyond the well-known owners ([`Owners::well_known`]).
    pub fn scope(&self, port: u16, proto: Proto) -> Scope {
        self.scope_at(port, proto, &Target::default())
    }

    /// How this condition applies to local `port` over `proto` at `target`: a rule scoped to a
    /// program or service covers a port whose owners it names all of plainly, one whose owners
    /// it names none of not at all, and is conditional where the owners are not known (TCP 135
    /// is RpcSs's and the SMB ports `System`'s whatever the caller says); a rule scoped to local
    /// addresses covers a known destination or not, and is conditional where it is not known.
    /// Fields not modelled make the rule conditional on every port.
    pub fn scope_at(&self, port: u16, proto: Proto, target: &Target) -> Scope {
        let mut parts = Vec::new();
        if self.scoped() {
            let owners = Owners::well_known(port, proto).or_else(|| target.owners.clone());
            match owners.filter(|o| !o.0.is_empty()) {
                None => parts.push(self.owner_text()),
                Some(owners) => {
                    let each: Vec<Covers> = owners.0.iter().map(|o| self.covers(o)).collect();
                    if each.iter().all(|c| *c == Covers::No) {
                        return Scope::NotThisPort;
                    }
                    if !each.iter().all(|c| *c == Covers::Yes) {
                        parts.push(format!(
                            "{}; the port's owners: {}",
                            self.owner_text(),
                            owners.describe()
                        ));
                    }
                }
            }
        }
        if !self.local.is_empty() {
            let text = || {
                let list: Vec<String> = self.local.iter().map(|a| a.to_string()).collect();
                format!("only for local address {}", list.join(", "))
            };
            match target.dst {
                None => parts.push(text()),
                Some(dst) => {
                    let each: Vec<Option<bool>> = self
                        .local
                        .iter()
                        .map(|a| a.contains(dst, &target.local_subnets))
                        .collect();
                    if each.iter().all(|c| *c == Some(false)) {
                        return Scope::NotThisPort;
                    }
                    if !each.contains(&Some(true)) {
                        parts.push(text());
                    }
                }
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

    fn at(owners: Option<Owners>, dst: Option<&str>) -> Target {
        Target {
            dst: dst.map(|d| d.parse().unwrap()),
            owners,
            local_subnets: Vec::new(),
        }
    }

    /// A dynamic port's owners, when the caller knows them, decide a scoped rule: it covers a
    /// port all of whose owners it names, not one none of whose owners it names, and stays
    /// conditional where they are partly or not known.
    #[test]
    fn known_owners_decide_scoped_rules_on_dynamic_ports() {
        let spooler = Condition {
            program: Some(r"%SystemRoot%\system32\spoolsv.exe".into()),
            ..svc("Spooler")
        };
        let owners = Owners::one(Some("Spooler"), Some("spoolsv.exe"));
        let t = at(Some(owners.clone()), None);
        assert_eq!(spooler.scope_at(49700, Proto::Tcp, &t), Scope::Plain);
        assert_eq!(svc("*").scope_at(49700, Proto::Tcp, &t), Scope::Plain);
        let other = Condition {
            program: Some(r"C:\tools\agent.exe".into()),
            ..Condition::default()
        };
        assert_eq!(other.scope_at(49700, Proto::Tcp, &t), Scope::NotThisPort);
        assert_eq!(
            svc("Eventlog").scope_at(49700, Proto::Tcp, &t),
            Scope::NotThisPort
        );
        // Unknown owners: conditional, as before.
        assert!(matches!(
            spooler.scope_at(49700, Proto::Tcp, &at(None, None)),
            Scope::Conditional(_)
        ));
        // A service hosted by a DLL: the program is not known, so a program condition is.
        let eventlog = Owners(vec![Owner {
            service: Some("EventLog".into()),
            programs: Vec::new(),
        }]);
        let with_svchost = Condition {
            program: Some(r"%SystemRoot%\system32\svchost.exe".into()),
            ..svc("Eventlog")
        };
        let Scope::Conditional(c) =
            with_svchost.scope_at(49701, Proto::Tcp, &at(Some(eventlog.clone()), None))
        else {
            panic!()
        };
        assert!(c.ends_with("the port's owners: service EventLog"), "{c}");
        assert_eq!(
            svc("eventlog").scope_at(49701, Proto::Tcp, &at(Some(eventlog), None)),
            Scope::Plain
        );
        // Two owners on one port, the rule names one of them: conditional.
        let both = Owners(vec![
            owners.0[0].clone(),
            Owner {
                service: Some("Schedule".into()),
                programs: Vec::new(),
            },
        ]);
        assert!(matches!(
            svc("Spooler").scope_at(49702, Proto::Tcp, &at(Some(both), None)),
            Scope::Conditional(_)
        ));
        // Whatever the caller says, 135 stays RpcSs's.
        assert_eq!(
            svc("Spooler").scope_at(135, Proto::Tcp, &at(Some(owners), None)),
            Scope::NotThisPort
        );
    }

    /// The SMB and NetBIOS ports are the kernel's (`System`).
    #[test]
    fn system_owns_the_smb_ports() {
        let system = Condition {
            program: Some("System".into()),
            ..Condition::default()
        };
        assert_eq!(system.scope(445, Proto::Tcp), Scope::Plain);
        assert_eq!(system.scope(137, Proto::Udp), Scope::Plain);
        assert_eq!(
            svc("termservice").scope(445, Proto::Tcp),
            Scope::NotThisPort
        );
        assert!(matches!(
            system.scope(3389, Proto::Tcp),
            Scope::Conditional(_)
        ));
    }

    /// Local addresses decide where the destination is known, else the rule is conditional.
    #[test]
    fn local_addresses_decide_where_the_destination_is_known() {
        let c = Condition {
            local: vec![
                crate::policy::model::address::parse_firewall("10.0.0.5")
                    .unwrap()
                    .0,
            ],
            ..Condition::default()
        };
        assert_eq!(
            c.scope_at(135, Proto::Tcp, &at(None, Some("10.0.0.5"))),
            Scope::Plain
        );
        assert_eq!(
            c.scope_at(135, Proto::Tcp, &at(None, Some("10.0.0.6"))),
            Scope::NotThisPort
        );
        assert_eq!(
            c.scope(135, Proto::Tcp),
            Scope::Conditional("only for local address 10.0.0.5".into())
        );
    }
}
