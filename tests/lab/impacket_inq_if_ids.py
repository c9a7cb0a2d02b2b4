#!/usr/bin/env python3
"""The interfaces one TCP endpoint serves, by impacket's client of the management interface:
an anonymous bind to afa8bd80-7d8a-11c9-bef4-08002b102989 v1.0 and rpc_mgmt_inq_if_ids (opnum
0), one "UUID MAJOR.MINOR" line per interface id, in the order of the answer. The reference for
what rpcaudit's inquiries read (tests/lab_interfaces.rs, tests/interfaces_cli.rs).

usage: impacket_inq_if_ids.py HOST PORT
"""
import sys

from impacket.dcerpc.v5 import mgmt, transport
from impacket.uuid import bin_to_string


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    rpc = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (host, port))
    rpc.set_connect_timeout(10)
    dce = rpc.get_dce_rpc()
    dce.connect()
    dce.bind(mgmt.MSRPC_UUID_MGMT)
    resp = mgmt.hinq_if_ids(dce)
    for item in resp["if_id_vector"]["if_id"]:
        data = item["Data"]
        print("%s %d.%d" % (bin_to_string(data["Uuid"]).lower(), data["VersMajor"], data["VersMinor"]))
    dce.disconnect()


if __name__ == "__main__":
    main()
