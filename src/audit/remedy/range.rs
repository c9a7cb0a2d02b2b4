//! Remedy's range writers: the RPC dynamic range as `rpccfg.exe` writes it, as the
//! `HKLM\SOFTWARE\Microsoft\Rpc\Internet` values of a `.reg` file, and as the range section
//! of a fix script (rpccfg, or `reg add` for the Windows Firewall dialects, with the `.reg`
//! content as a comment). Capacity's recommendation carries the rpccfg line and `.reg` text
//! written here.

use super::quote::{self, Line, Refusal};
use super::{Codes, FixAction, FixKind, Out, join_codes};
use crate::audit::capacity::Recommendation;
use crate::policy::Layer;
use crate::ports::PortRanges;

/// The pieces of a range as rpccfg and the `Ports` value write them: "5001-5021", "6000".
pub fn pieces(ranges: &PortRanges) -> Vec<String> {
    ranges
        .ranges()
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect()
}

/// `rpccfg.exe -pe 5001-5021 -d 0`: the ranges are internet-available, and processes using the
/// default get internet ports.
pub fn rpccfg_line(ranges: &PortRanges) -> String {
    format!("rpccfg.exe -pe {} -d 0", pieces(ranges).join(" "))
}

/// REG_MULTI_SZ as a `.reg` file writes it: `hex(7):` then the UTF-16LE bytes of each string
/// with its NUL, and a final NUL, as comma-separated lowercase hex pairs.
pub fn reg_multi_sz_hex(strings: &[String]) -> String {
    let mut bytes: Vec<u8> = Vec::new();
    for s in strings {
        for unit in s.encode_utf16().chain([0]) {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&[0, 0]);
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("hex(7):{}", hex.join(","))
}

/// `.reg` content (CRLF line ends) setting HKLM\SOFTWARE\Microsoft\Rpc\Internet to `ranges`.
pub fn reg_file(ranges: &PortRanges) -> String {
    [
        "Windows Registry Editor Version 5.00".to_string(),
        String::new(),
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]".to_string(),
        format!("\"Ports\"={}", reg_multi_sz_hex(&pieces(ranges))),
        "\"PortsInternetAvailable\"=\"Y\"".to_string(),
        "\"UseInternetPorts\"=\"Y\"".to_string(),
        String::new(),
    ]
    .join("\r\n")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpccfg_lists_each_piece() {
        let two = PortRanges::parse("5001-5010,6000").unwrap();
        assert_eq!(rpccfg_line(&two), "rpccfg.exe -pe 5001-5010 6000 -d 0");
    }

    #[test]
    fn reg_multi_sz_for_the_articles_range_byte_by_byte() {
        let hex = reg_multi_sz_hex(&["5001-5021".to_string()]);
        let body = hex.strip_prefix("hex(7):").unwrap();
        let bytes: Vec<u8> = body
            .split(',')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
        let expected: [u8; 22] = [
            b'5', 0, b'0', 0, b'0', 0, b'1', 0, b'-', 0, b'5', 0, b'0', 0, b'2', 0, b'1', 0, 0, 0,
            0, 0,
        ];
        assert_eq!(bytes, expected);
        assert_eq!(
            hex,
            "hex(7):35,00,30,00,30,00,31,00,2d,00,35,00,30,00,32,00,31,00,00,00,00,00"
        );
        // Two strings: each NUL-terminated, then the list's final NUL.
        let two = reg_multi_sz_hex(&["1".to_string(), "2".to_string()]);
        assert_eq!(two, "hex(7):31,00,00,00,32,00,00,00,00,00");
    }

    #[test]
    fn reg_file_content() {
        let reg = reg_file(&PortRanges::from_ranges([(5001, 5021)]));
        let lines: Vec<&str> = reg.split("\r\n").collect();
        assert_eq!(lines[0], "Windows Registry Editor Version 5.00");
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Rpc\\Internet]"
        );
        assert!(lines[3].starts_with("\"Ports\"=hex(7):35,00,30,00"));
        assert_eq!(lines[4], "\"PortsInternetAvailable\"=\"Y\"");
        assert_eq!(lines[5], "\"UseInternetPorts\"=\"Y\"");
        assert!(reg.ends_with("\r\n"));
        assert!(!reg.replace("\r\n", "").contains('\n'));
    }
}
