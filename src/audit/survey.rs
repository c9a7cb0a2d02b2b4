//! What each host accepted (`--auth-survey`, [`crate::epm::survey`]) against the configured
//! authentication restrictions (`--store`, [`crate::policy::restrictions`]): a host whose
//! configuration restricts unauthenticated RPC clients (`RestrictRemoteClients` 1 or 2) and that
//! answered an anonymous lookup is `rpc-restriction-not-in-force`; one whose configuration
//! refuses incoming NTLM (`RestrictReceivingNTLMTraffic` 2, or 1 for a domain account) and that
//! accepted an NTLM bind is `ntlm-accepted`. Each finding cites the file and line (or
//! `Registry.pol` record) of the setting. A try that failed or was not tried gives no verdict:
//! an `unverified` warning says so and the host is incomplete, never compliant. Pure.

use crate::epm::survey::{SurveyMechanism, SurveyOutcome, SurveyTry};
use crate::finding::{Code, Finding, Severity};
use crate::policy::restrictions::{AuthRestrictions, Setting};

/// The findings about `target` from its survey (`None`: no `--auth-survey`, so nothing is
/// compared) against `configured`, and whether a configured restriction went unchecked (the
/// host is then incomplete). `domain_account`: the survey's account was given with a domain
/// (`DOMAIN\name`, `name@realm`), which `RestrictReceivingNTLMTraffic=1` denies.
pub fn against(
    target: &str,
    configured: &AuthRestrictions,
    survey: Option<&[SurveyTry]>,
    domain_account: bool,
) -> (Vec<Finding>, bool) {
    let Some(tries) = survey else {
        return (Vec::new(), false);
    };
    let mut out = Vec::new();
    let mut unchecked = false;
    if let Some(s) = configured
        .restrict_remote_clients
        .as_ref()
        .filter(|s| s.value >= 1)
    {
        let what = format!(
            "RestrictRemoteClients={} ({}, {})",
            s.value,
            if s.value == 1 {
                "Authenticated"
            } else {
                "Authenticated without exceptions"
            },
            s.cited()
        );
        let anonymous: Vec<&SurveyTry> = of(tries, SurveyMechanism::Anonymous).collect();
        match verdict(&anonymous) {
            Verdict::Accepted(_) => out.push(
                Finding::new(
                    Code::RpcRestrictionNotInForce,
                    Severity::Error,
                    format!(
                        "{target}: the configuration restricts unauthenticated RPC clients with {what}, yet the endpoint mapper answered an anonymous lookup: the restriction is not in force"
                    ),
                    "apply the GPO to the host (gpupdate /force) and restart it (RPC reads RestrictRemoteClients when it starts), then re-run the audit with --auth-survey",
                )
                .at(&s.file, s.line)
                .with_evidence(["auth survey: anonymous lookup accepted".to_string()]),
            ),
            Verdict::Refused => {}
            Verdict::Unknown(why) => {
                out.push(unverified(target, &what, "anonymous", &why, s));
                unchecked = true;
            }
        }
    }
    if let Some(s) = configured
        .restrict_receiving_ntlm
        .as_ref()
        .filter(|s| s.value >= 1)
    {
        let what = format!(
            "RestrictReceivingNTLMTraffic={} ({}, {})",
            s.value,
            if s.value == 1 {
                "Deny all domain accounts"
            } else {
                "Deny all accounts"
            },
            s.cited()
        );
        let ntlm: Vec<&SurveyTry> = of(tries, SurveyMechanism::Ntlm).collect();
        if s.value == 1 && !domain_account {
            out.push(unverified(
                target,
                &what,
                "NTLM",
                "the survey's account was given without a domain, and this value denies domain accounts only",
                s,
            ));
            unchecked = true;
        } else {
            match verdict(&ntlm) {
                Verdict::Accepted(levels) => out.push(
                    Finding::new(
                        Code::NtlmAccepted,
                        Severity::Error,
                        format!(
                            "{target}: the configuration refuses incoming NTLM with {what}, yet the endpoint mapper accepted an NTLM bind (at {}): the restriction is not in force",
                            levels.join(", ")
                        ),
                        "apply the NTLM restriction to the host (the GPO's security option \"Network security: Restrict NTLM: Incoming NTLM traffic\", gpupdate /force), then re-run the audit with --auth-survey",
                    )
                    .at(&s.file, s.line)
                    .with_evidence(
                        levels
                            .iter()
                            .map(|l| format!("auth survey: NTLM bind accepted at {l}")),
                    ),
                ),
                Verdict::Refused => {}
                Verdict::Unknown(why) => {
                    out.push(unverified(target, &what, "NTLM", &why, s));
                    unchecked = true;
                }
            }
        }
    }
    (out, unchecked)
}

fn of(tries: &[SurveyTry], m: SurveyMechanism) -> impl Iterator<Item = &SurveyTry> {
    tries.iter().filter(move |t| t.mechanism == m)
}

/// What the tries of one mechanism say: accepted (at these levels), refused, or nothing known.
enum Verdict {
    Accepted(Vec<String>),
    Refused,
    Unknown(String),
}

fn verdict(tries: &[&SurveyTry]) -> Verdict {
    let accepted: Vec<String> = tries
        .iter()
        .filter(|t| t.outcome == SurveyOutcome::Accepted)
        .map(|t| {
            t.level
                .map_or_else(|| "no auth level".to_string(), |l| l.to_string())
        })
        .collect();
    if !accepted.is_empty() {
        return Verdict::Accepted(accepted);
    }
    if tries.iter().any(|t| t.outcome == SurveyOutcome::Refused) {
        return Verdict::Refused;
    }
    // A try that failed says more than one that was not tried.
    let why = tries
        .iter()
        .find(|t| t.outcome == SurveyOutcome::Failed)
        .or(tries.first())
        .map(|t| {
            let word = match t.outcome {
                SurveyOutcome::Failed => "failed",
                _ => "was not tried",
            };
            match &t.detail {
                Some(d) => format!("the try {word}: {d}"),
                None => format!("the try {word}"),
            }
        })
        .unwrap_or_else(|| "the survey has no such try".to_string());
    Verdict::Unknown(why)
}

fn unverified(target: &str, what: &str, way: &str, why: &str, s: &Setting) -> Finding {
    Finding::new(
        Code::Unverified,
        Severity::Warning,
        format!(
            "{target}: the configuration sets {what}, and whether it is in force is not known: the survey's {way} {why}"
        ),
        match way {
            "anonymous" => "re-run the audit with --auth-survey when the host's endpoint mapper (TCP 135) can be reached",
            _ => "re-run the audit with --auth-survey and --user DOMAIN\\name (a domain account), with the host's endpoint mapper (TCP 135) reachable",
        },
    )
    .at(&s.file, s.line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epm::auth::Level;
    use SurveyMechanism::*;
    use SurveyOutcome::*;

    // Like epm::survey's test helper, but every try that was not accepted carries a detail, which
    // the findings quote and these tests check.
    fn t(m: SurveyMechanism, l: Option<Level>, o: SurveyOutcome) -> SurveyTry {
        SurveyTry {
            mechanism: m,
            level: l,
            outcome: o,
            detail: (o != Accepted).then(|| format!("{o:?} here")),
        }
    }

    fn set(value: u32, line: usize, record: bool) -> Option<Setting> {
        Some(Setting {
            value,
            file: "gpo.reg".into(),
            line,
            record,
        })
    }

    fn restricting(rrc: u32, ntlm: u32) -> AuthRestrictions {
        AuthRestrictions {
            restrict_remote_clients: set(rrc, 4, false),
            enable_auth_ep_resolution: None,
            restrict_receiving_ntlm: set(ntlm, 9, true),
        }
    }

    fn codes(f: &[Finding]) -> Vec<(&str, Severity, Option<usize>)> {
        f.iter()
            .map(|f| (f.code.as_str(), f.severity, f.line))
            .collect()
    }

    #[test]
    fn an_anonymous_answer_under_a_restriction_is_an_error_citing_the_line() {
        let tries = [
            t(Anonymous, None, Accepted),
            t(Ntlm, Some(Level::Integrity), Refused),
            t(Ntlm, Some(Level::Privacy), NotTried),
        ];
        let (f, unchecked) = against("dc1", &restricting(1, 2), Some(&tries), true);
        assert_eq!(
            codes(&f),
            [("rpc-restriction-not-in-force", Severity::Error, Some(4))]
        );
        assert_eq!(f[0].file.as_deref(), Some("gpo.reg"));
        assert!(f[0].message.contains("gpo.reg:4"), "{}", f[0].message);
        assert!(!unchecked);
    }

    #[test]
    fn an_accepted_ntlm_bind_is_an_error_naming_its_levels_and_record() {
        let tries = [
            t(Anonymous, None, Refused),
            t(Ntlm, Some(Level::Integrity), Accepted),
            t(Ntlm, Some(Level::Privacy), Accepted),
            t(Ntlm, Some(Level::Connect), Refused),
        ];
        let (f, unchecked) = against("dc1", &restricting(2, 2), Some(&tries), true);
        assert_eq!(codes(&f), [("ntlm-accepted", Severity::Error, Some(9))]);
        assert!(
            f[0].message.contains("integrity, privacy"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("gpo.reg record 9"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence.len(), 2);
        assert!(!unchecked);
    }

    #[test]
    fn refusals_in_force_and_unrestricted_values_give_nothing() {
        let tries = [
            t(Anonymous, None, Refused),
            t(Ntlm, Some(Level::Integrity), Refused),
        ];
        assert_eq!(
            against("h", &restricting(1, 2), Some(&tries), true),
            (vec![], false)
        );
        let open = [
            t(Anonymous, None, Accepted),
            t(Ntlm, Some(Level::Integrity), Accepted),
        ];
        assert_eq!(
            against("h", &restricting(0, 0), Some(&open), true),
            (vec![], false)
        );
        assert_eq!(
            against("h", &AuthRestrictions::default(), Some(&open), true),
            (vec![], false)
        );
    }

    #[test]
    fn failed_or_untried_tries_give_no_verdict_and_leave_the_host_incomplete() {
        let tries = [
            t(Anonymous, None, Failed),
            t(Ntlm, Some(Level::Integrity), NotTried),
            t(Ntlm, Some(Level::Privacy), NotTried),
        ];
        let (f, unchecked) = against("h", &restricting(2, 2), Some(&tries), true);
        assert_eq!(
            codes(&f),
            [
                ("unverified", Severity::Warning, Some(4)),
                ("unverified", Severity::Warning, Some(9))
            ]
        );
        assert!(f[0].message.contains("Failed here"), "{}", f[0].message);
        assert!(f[1].message.contains("was not tried"), "{}", f[1].message);
        assert!(unchecked);
        // A survey without the try at all is not a verdict either.
        let (f, unchecked) = against("h", &restricting(1, 0), Some(&[]), true);
        assert_eq!(codes(&f), [("unverified", Severity::Warning, Some(4))]);
        assert!(unchecked);
    }

    #[test]
    fn deny_domain_accounts_needs_a_domain_account_to_be_checked() {
        let tries = [t(Ntlm, Some(Level::Integrity), Accepted)];
        let (f, unchecked) = against("h", &restricting(0, 1), Some(&tries), true);
        assert_eq!(codes(&f), [("ntlm-accepted", Severity::Error, Some(9))]);
        assert!(!unchecked);
        let (f, unchecked) = against("h", &restricting(0, 1), Some(&tries), false);
        assert_eq!(codes(&f), [("unverified", Severity::Warning, Some(9))]);
        assert!(unchecked);
    }

    #[test]
    fn without_a_survey_nothing_is_compared() {
        assert_eq!(
            against("h", &restricting(2, 2), None, true),
            (vec![], false)
        );
    }
}
