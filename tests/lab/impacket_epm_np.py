#!/usr/bin/env python3
"""The endpoint mapper read over SMB \\pipe\\epmapper with impacket's own SMB transport and EPM
structures (null session), one "UUID string-binding" line per entry, as rpcdump.py prints them.

rpcdump.py itself cannot read Samba's map: its loop raises on the ept_s_not_registered status
Samba sends together with its last entries (tests/lab_dump.rs), over 135 and over 445 alike.
This is the same loop, taking that status as the end of the list.

usage: impacket_epm_np.py HOST [PORT]     (445, or 139 with a NetBIOS session request)
"""
import sys

from impacket import uuid
from impacket.dcerpc.v5 import epm, transport
from impacket.dcerpc.v5.dtypes import NULL

EPT_S_NOT_REGISTERED = 0x16C9A0D6


def main():
    host = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 445
    t = transport.DCERPCTransportFactory(r"ncacn_np:%s[\pipe\epmapper]" % host)
    t.set_dport(port)
    if port == 139:
        t.setRemoteName("*SMBSERVER")
    t.set_credentials("", "")
    dce = t.get_dce_rpc()
    dce.connect()
    dce.bind(epm.MSRPC_UUID_PORTMAP)
    handle = epm.ept_lookup_handle_t()
    count = 0
    while True:
        req = epm.ept_lookup()
        req["inquiry_type"] = epm.RPC_C_EP_ALL_ELTS
        req["object"] = NULL
        req["Ifid"] = NULL
        req["vers_option"] = epm.RPC_C_VERS_ALL
        req["entry_handle"] = handle
        req["max_ents"] = 500
        resp = dce.request(req, checkError=False)
        for i in range(resp["num_ents"]):
            entry = resp["entries"][i]
            tower = epm.EPMTower(b"".join(entry["tower"]["tower_octet_string"]))
            iface = uuid.bin_to_string(tower["Floors"][0]["InterfaceUUID"])
            print(iface, epm.PrintStringBinding(tower["Floors"]))
            count += 1
        handle = resp["entry_handle"]
        if handle.isNull() or resp["ErrorCode"] not in (0, EPT_S_NOT_REGISTERED):
            break
        if resp["ErrorCode"] == EPT_S_NOT_REGISTERED:
            break
    dce.disconnect()
    print("Received %d endpoints." % count)


if __name__ == "__main__":
    main()
