#!/usr/bin/env python3
"""Which named pipes open on an anonymous (null) SMB session, or on a session logged on as
DOMAIN\\USER (NTLM; the password in the environment variable LAB_PASSWORD), with impacket's own
SMB client: one "open NAME" or "closed NAME STATUS" line per pipe, in the order given. The
reference for the pipes rpcaudit's audit says a source could open (tests/lab_roads.rs).

usage: impacket_pipes.py HOST PORT NAME,NAME,... [DOMAIN\\USER]
       (PORT 445, or 139 with a NetBIOS session)
"""
import os
import sys

from impacket.smbconnection import SMBConnection, SessionError


def main():
    host, port, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    remote = "*SMBSERVER" if port == 139 else host
    conn = SMBConnection(remote, host, sess_port=port)
    if len(sys.argv) > 4:
        domain, _, user = sys.argv[4].rpartition("\\")
        conn.login(user, os.environ["LAB_PASSWORD"], domain)
    else:
        conn.login("", "")
    tid = conn.connectTree("IPC$")
    for name in names:
        try:
            fid = conn.openFile(tid, "\\" + name)
        except SessionError as e:
            print("closed %s 0x%08x" % (name, e.getErrorCode()))
            continue
        conn.closeFile(tid, fid)
        print("open %s" % name)
    conn.logoff()


if __name__ == "__main__":
    main()
