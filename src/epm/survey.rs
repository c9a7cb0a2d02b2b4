//! `--auth-survey` (issue 26): which authentication each host's endpoint mapper accepts, and
//! at which levels. After a host's dump, the survey reads the same endpoint mapper over TCP
//! once per way in: anonymously; with NTLM at integrity, then (when that was accepted) at
//! privacy and connect; with Kerberos the same way. Every credentialed try goes
//! through `client`'s `with_auth`, so under the run's `LogonGate` and its one-TGT KDC: a refusal
//! at the first level is not repeated at the others. The result is data ([`SurveyTry`]) in the
//! host's dump; `audit::survey` sets it beside the configured restrictions.

use super::auth::Level;
use super::client::{AuthMode, AuthOptions, DumpError, DumpOptions, with_auth_over_tcp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// A way in that was tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SurveyMechanism {
    Anonymous,
    Ntlm,
    Kerberos,
}

/// What the endpoint mapper made of one try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SurveyOutcome {
    /// The lookup was answered.
    Accepted,
    /// The host refused it: access denied to an anonymous lookup, a logon failure, a bind
    /// refused for its authentication.
    Refused,
    /// Something else went wrong (unreachable, timed out, a KDC that could not be reached):
    /// nothing is known of this way in.
    Failed,
    /// Not tried: no credentials or no KDC given, the credentials no longer used, or refused
    /// at an earlier level of the same mechanism.
    NotTried,
}

/// One try of the survey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SurveyTry {
    pub mechanism: SurveyMechanism,
    /// The auth level asked for; absent for anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    pub outcome: SurveyOutcome,
    /// Why, when not accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn classify(r: &Result<(), DumpError>) -> (SurveyOutcome, Option<String>) {
    use super::auth::AuthError;
    let Err(e) = r else {
        return (SurveyOutcome::Accepted, None);
    };
    let outcome = match e {
        DumpError::LogonFailure { .. }
        | DumpError::AnonymousRefused { .. }
        | DumpError::BindRejected(_) => SurveyOutcome::Refused,
        DumpError::CredentialsRetired(_)
        | DumpError::NoHostName(_)
        | DumpError::Auth {
            source: AuthError::Withheld(_),
            ..
        } => SurveyOutcome::NotTried,
        _ => SurveyOutcome::Failed,
    };
    (outcome, Some(e.to_string()))
}

/// Survey `target` at `addrs` (TCP, the endpoint mapper's port) with the run's credentials
/// and KDC in `opts`.
pub async fn survey(target: &str, addrs: &[SocketAddr], opts: &DumpOptions) -> Vec<SurveyTry> {
    let mut out = Vec::new();
    let anon = with_mode(opts, AuthMode::None, opts.auth.level);
    let r = with_auth_over_tcp(target, addrs, &anon).await;
    let (outcome, detail) = classify(&r);
    out.push(SurveyTry {
        mechanism: SurveyMechanism::Anonymous,
        level: None,
        outcome,
        detail,
    });
    let plans = [
        (
            SurveyMechanism::Ntlm,
            AuthMode::Ntlm,
            &[Level::Integrity, Level::Privacy, Level::Connect][..],
            opts.auth
                .credentials
                .is_none()
                .then_some("no credentials (--user)"),
        ),
        (
            SurveyMechanism::Kerberos,
            AuthMode::Kerberos,
            &[Level::Integrity, Level::Privacy, Level::Connect][..],
            if opts.auth.credentials.is_none() {
                Some("no credentials (--user)")
            } else if opts.auth.kdc.is_none() {
                Some("no KDC (--realm, --kdc)")
            } else {
                None
            },
        ),
    ];
    for (mechanism, mode, levels, missing) in plans {
        let mut stop: Option<String> = missing.map(str::to_string);
        for &level in levels {
            if let Some(why) = &stop {
                out.push(SurveyTry {
                    mechanism,
                    level: Some(level),
                    outcome: SurveyOutcome::NotTried,
                    detail: Some(why.clone()),
                });
                continue;
            }
            let o = with_mode(opts, mode, level);
            let r = with_auth_over_tcp(target, addrs, &o).await;
            let (outcome, detail) = classify(&r);
            if outcome != SurveyOutcome::Accepted {
                stop = Some(format!("not accepted at {level}"));
            }
            out.push(SurveyTry {
                mechanism,
                level: Some(level),
                outcome,
                detail,
            });
        }
    }
    out
}

fn with_mode(opts: &DumpOptions, mode: AuthMode, level: Level) -> DumpOptions {
    DumpOptions {
        auth: AuthOptions {
            mode,
            level,
            ..opts.auth.clone()
        },
        ..opts.clone()
    }
}

/// One line for the table: each mechanism and the levels it was accepted at.
pub fn summary(tries: &[SurveyTry]) -> String {
    let mut parts = Vec::new();
    for m in [
        SurveyMechanism::Anonymous,
        SurveyMechanism::Ntlm,
        SurveyMechanism::Kerberos,
    ] {
        let of: Vec<&SurveyTry> = tries.iter().filter(|t| t.mechanism == m).collect();
        if of.is_empty() {
            continue;
        }
        let name = match m {
            SurveyMechanism::Anonymous => "anonymous",
            SurveyMechanism::Ntlm => "NTLM",
            SurveyMechanism::Kerberos => "Kerberos",
        };
        let accepted: Vec<String> = of
            .iter()
            .filter(|t| t.outcome == SurveyOutcome::Accepted)
            .map(|t| t.level.map_or_else(String::new, |l| l.to_string()))
            .collect();
        let text = if !accepted.is_empty() {
            let levels: Vec<&str> = accepted
                .iter()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .collect();
            if levels.is_empty() {
                "accepted".to_string()
            } else {
                format!("accepted ({})", levels.join(", "))
            }
        } else if of.iter().any(|t| t.outcome == SurveyOutcome::Refused) {
            "refused".to_string()
        } else if of.iter().any(|t| t.outcome == SurveyOutcome::Failed) {
            "failed".to_string()
        } else {
            "not tried".to_string()
        };
        parts.push(format!("{name} {text}"));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(m: SurveyMechanism, l: Option<Level>, o: SurveyOutcome) -> SurveyTry {
        SurveyTry {
            mechanism: m,
            level: l,
            outcome: o,
            detail: None,
        }
    }

    #[test]
    fn the_summary_names_each_mechanism_and_its_levels() {
        use SurveyMechanism::*;
        use SurveyOutcome::*;
        let tries = [
            t(Anonymous, None, Refused),
            t(Ntlm, Some(Level::Integrity), Refused),
            t(Ntlm, Some(Level::Privacy), NotTried),
            t(Kerberos, Some(Level::Privacy), Accepted),
            t(Kerberos, Some(Level::Connect), Accepted),
        ];
        assert_eq!(
            summary(&tries),
            "anonymous refused; NTLM refused; Kerberos accepted (privacy, connect)"
        );
        assert_eq!(
            summary(&[t(Anonymous, None, Accepted)]),
            "anonymous accepted"
        );
    }

    #[test]
    fn refusals_and_withheld_tries_are_told_apart() {
        let refused = Err(DumpError::AnonymousRefused {
            step: "ept_lookup",
            creds_unused: false,
        });
        assert_eq!(classify(&refused).0, SurveyOutcome::Refused);
        assert_eq!(classify(&Ok(())).0, SurveyOutcome::Accepted);
        assert_eq!(
            classify(&Err(DumpError::CredentialsRetired(3))).0,
            SurveyOutcome::NotTried
        );
        assert_eq!(
            classify(&Err(DumpError::NoAddress)).0,
            SurveyOutcome::Failed
        );
    }
}
