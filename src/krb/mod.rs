//! Kerberos files and settings read outside a bind: [`keytab`] (a keytab's keys, for
//! `--keytab`) and [`conf`] (krb5.conf's `[realms]` KDCs), both pure: bytes or text in, typed
//! values out; and [`locate`] (I/O under a deadline: the KDC of a realm without `--kdc`, from
//! krb5.conf, then DNS SRV). `cli` uses them and hands the result to `epm::kerberos`, which does
//! not import this module.

pub mod conf;
pub mod keytab;
pub mod locate;
