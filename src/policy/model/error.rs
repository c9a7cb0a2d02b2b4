//! Why one value of a policy command was not understood. The dialect readers return a
//! [`ValueError`] from their value parsers and turn it into a finding where the command is
//! read: `typographic-dash` for [`ValueError::TypographicDash`], `parse-error` for the rest,
//! with the error's text as the message.

use super::address::AddrError;
use crate::inert::excerpt;
use crate::ports::PortSpecError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Values quoted in these errors are cut to a short prefix ([`excerpt`]).
pub enum ValueError {
    /// A value written with a typographic dash (copied from a web page) where `-` belongs.
    #[error("'{value}' uses an {dash} instead of '-'")]
    TypographicDash { value: String, dash: &'static str },
    /// A list (of ports, of addresses) with no item in it.
    #[error("empty {0} list")]
    EmptyList(&'static str),
    #[error(transparent)]
    Ports(#[from] PortSpecError),
    #[error(transparent)]
    Address(#[from] AddrError),
    /// A word that is none of the values the parameter takes: `{what} '{value}' {expected}`
    /// (`what` may be empty).
    #[error("{}", not_one_of(.what, .value, .expected))]
    NotOneOf {
        what: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A parameter the command requires is missing.
    #[error("{0}")]
    Missing(&'static str),
    /// A netsh parameter without `=`.
    #[error("'{0}': expected key=value")]
    NotKeyValue(String),
    /// A `.reg` string value without its closing quote.
    #[error("unterminated string")]
    Unterminated,
    /// A `.reg` hex list item that is not a byte.
    #[error("'{0}' is not a hex byte")]
    NotHexByte(String),
    /// A `.reg` value of none of the forms regedit writes.
    #[error("'{0}' is not a .reg value (\"text\", hex(7):..., dword:...)")]
    NotRegValue(String),
}

impl ValueError {
    /// `value` if it holds a typographic dash, as the error that says so.
    pub fn dash_in(value: &str) -> Result<(), ValueError> {
        match value
            .chars()
            .find(|&c| crate::policy::text::is_typographic_dash(c))
        {
            Some(c) => Err(ValueError::TypographicDash {
                value: excerpt(value).into_owned(),
                dash: crate::policy::text::dash_name(c),
            }),
            None => Ok(()),
        }
    }

    pub fn not_one_of(what: &'static str, value: &str, expected: &'static str) -> ValueError {
        ValueError::NotOneOf {
            what,
            value: excerpt(value).into_owned(),
            expected,
        }
    }
}

fn not_one_of(what: &str, value: &str, expected: &str) -> String {
    if what.is_empty() {
        format!("'{value}' {expected}")
    } else {
        format!("{what} '{value}' {expected}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            ValueError::dash_in("5001–5021").unwrap_err().to_string(),
            "'5001–5021' uses an en dash (U+2013) instead of '-'"
        );
        assert!(ValueError::dash_in("5001-5021").is_ok());
        assert_eq!(
            ValueError::not_one_of("direction", "up", "is not in/out").to_string(),
            "direction 'up' is not in/out"
        );
        assert_eq!(
            ValueError::not_one_of("", "maybe", "is not yes/no").to_string(),
            "'maybe' is not yes/no"
        );
        assert_eq!(ValueError::EmptyList("port").to_string(), "empty port list");
    }
}
