//! Kerberos files and settings read outside a bind: [`keytab`] (a keytab's keys, for
//! `--keytab`) and [`conf`] (krb5.conf's `[realms]` KDCs, for `--realm` without `--kdc`). Pure:
//! bytes or text in, typed values out; `cli` reads the files and hands the result to
//! `epm::kerberos`, which does not import this module.

pub mod conf;
pub mod keytab;
