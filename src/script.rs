//! What rpcaudit writes for an administrator to run, and the one rule per shell for how a
//! value read from a file may appear in it: [`words`] splits command lines as cmd.exe and
//! PowerShell do (the policy reader reads scripts with it), [`quote`] writes values and
//! checks whole command lines. Everything that can be run, the fix scripts of
//! `audit::remedy` and the fix texts of `policy::lint`, is built here, so this module sits
//! below both and uses only `inert`-level leaves. What it writes is ASCII: a name with other
//! characters is written in the shell's escape form (PowerShell) or refused (cmd.exe, which
//! has none), so a script reads the same in every code page.

pub mod quote;
pub mod words;
