//! Remedy's range section: capacity's recommended RPC dynamic range as the commands of a fix
//! script (rpccfg, or `reg add` for the Windows Firewall dialects, with the `.reg` content as a
//! comment). The rpccfg line and the `.reg` text are capacity's writers
//! ([`crate::audit::capacity::rpccfg_line`], [`crate::audit::capacity::reg_file`]), the same
//! that fill the recommendation.

use super::quote::{self, Line, Refusal};
use super::{Codes, FixAction, FixKind, Out, join_codes};
use crate::audit::capacity::{Recommendation, pieces, reg_file, rpccfg_line};
use crate::policy::Layer;
use crate::ports::PortRanges;

pub(super) fn render_range(out: &mut Out, rec: &Recommendation, c: &Codes) {
    // Every command is written from the range as numbers, not from the recommendation's text.
    let ranges = match PortRanges::parse(&rec.range) {
        Ok(r) if !r.is_empty() => r,
        _ => {
            out.blank();
            out.refuse(
                "the RPC dynamic range",
                &Refusal::new("range", &rec.range, "is not a list of ports"),
            );
            return;
        }
    };
    let range = ranges.to_string();
    let rpccfg = rpccfg_line(&ranges);
    out.blank();
    out.comment(&format!(
        "== Range: fixes {}: set the RPC dynamic range to {range} ({} ports). ==",
        join_codes(c),
        ranges.size()
    ));
    let (reasoning, note) = (out.shown(&rec.reasoning), out.shown(&rec.note));
    out.comment(&reasoning);
    out.comment(&note);
    let pieces = pieces(&ranges);
    let key = r"HKLM\SOFTWARE\Microsoft\Rpc\Internet";
    let does = FixAction::new(
        c,
        FixKind::Range,
        "",
        &range,
        format!("set the RPC dynamic range to {range} (restart needed)"),
    );
    let written = match out.dialect.layer() {
        Layer::Ipsec => {
            out.comment("rpccfg.exe (Windows 2000/2003 resource kit) writes Ports, PortsInternetAvailable=Y and UseInternetPorts=Y.");
            out.fix("the RPC dynamic range", does, |s| {
                let mut l = Line::new().words("rpccfg.exe -pe");
                for p in &pieces {
                    l = l.sp().token(&quote::port_list(p)?);
                }
                s.cmd(l.sp().words("-d 0"))
            })
        }
        Layer::Firewall => {
            out.comment(&format!(
                "reg.exe writes all three values (the same as: {rpccfg})."
            ));
            out.fix("the RPC dynamic range", does, |s| {
                let k = quote::token("registry key", key)?;
                let d = quote::token("Ports value", &pieces.join(r"\0"))?;
                let reg = |v: &str| Line::new().words("reg add").sp().token(&k).sp().words(v);
                s.cmd(
                    reg("/v Ports /t REG_MULTI_SZ /d")
                        .sp()
                        .token(&d)
                        .sp()
                        .raw("/f"),
                )?;
                s.cmd(reg("/v PortsInternetAvailable /t REG_SZ /d Y /f"))?;
                s.cmd(reg("/v UseInternetPorts /t REG_SZ /d Y /f"))
            })
        }
    };
    if !written {
        return;
    }
    out.comment("The same as a .reg file: save the lines below without the comment mark and import it with regedit.");
    for l in reg_file(&ranges).split("\r\n") {
        let l = l.trim_end();
        if l.is_empty() {
            out.comment("");
        } else {
            out.comment(&format!("  {l}"));
        }
    }
}
