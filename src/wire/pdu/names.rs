//! Readable names for packet types and status codes, for messages and reports. Pure lookups.

use super::ptype;

/// A readable name for a packet type, for messages.
pub fn ptype_name(ptype: u8) -> &'static str {
    match ptype {
        ptype::REQUEST => "request",
        ptype::RESPONSE => "response",
        ptype::FAULT => "fault",
        ptype::BIND => "bind",
        ptype::BIND_ACK => "bind_ack",
        ptype::BIND_NAK => "bind_nak",
        ptype::ALTER_CONTEXT => "alter_context",
        ptype::ALTER_CONTEXT_RESP => "alter_context_resp",
        ptype::AUTH3 => "auth3",
        ptype::SHUTDOWN => "shutdown",
        ptype::CO_CANCEL => "co_cancel",
        ptype::ORPHANED => "orphaned",
        _ => "PDU of unknown type",
    }
}

/// A readable name for common fault and reject status codes (C706 appendix E, MS-RPCE 3.1.1.5.5).
pub fn status_name(status: u32) -> Option<&'static str> {
    Some(match status {
        0x1c01_0001 => "nca_s_comm_failure",
        0x1c01_0002 => "nca_s_op_rng_error",
        0x1c01_0003 => "nca_s_unk_if",
        0x1c01_0006 => "nca_s_wrong_boot_time",
        0x1c01_0009 => "nca_s_you_crashed",
        0x1c01_000b => "nca_s_proto_error",
        0x1c01_0013 => "nca_s_out_args_too_big",
        0x1c01_0014 => "nca_s_server_too_busy",
        0x1c01_0017 => "nca_s_unsupported_type",
        0x1c00_0001 => "nca_s_fault_int_div_by_zero",
        0x1c00_0011 => "nca_s_fault_remote_no_memory",
        0x1c00_001c => "nca_s_fault_context_mismatch",
        0x1c00_001e => "nca_s_fault_ndr",
        0x0000_0005 => "rpc_s_access_denied",
        0x0000_06f7 => "rpc_x_bad_stub_data",
        0x0000_06d1 => "rpc_s_procnum_out_of_range",
        0x16c9_a0d6 => "ept_s_not_registered",
        0x16c9_a116 => "ept_s_cant_perform_op",
        _ => return None,
    })
}

/// "0x1c010002 (nca_s_op_rng_error)" or just the hex code.
pub fn describe_status(status: u32) -> String {
    match status_name(status) {
        Some(n) => format!("0x{status:08x} ({n})"),
        None => format!("0x{status:08x}"),
    }
}
