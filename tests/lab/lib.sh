# shellcheck shell=bash
# Shared names and addresses of the rpcaudit lab. Sourced by up.sh, down.sh, policy.sh and
# scripts/probe_vs_nmap.sh; tests/support/lab.rs repeats these values for the Rust tests (keep both
# in step). Every address is from 198.18.0.0/15 and lives inside the namespaces only: the root
# namespace gets no lab address and no route.

RPCA_NS_RT=rpca-rt          # router, IP forwarding on
RPCA_NS_SRV=rpca-srv        # server: samba-dcerpcd + nftables (the "IPsec policy")
RPCA_NS_ALLOW=rpca-allow    # client in the allowed subnet
RPCA_NS_DENY=rpca-deny      # client in the denied subnet

RPCA_SRV_IP=198.18.0.10
RPCA_SRV_GW=198.18.0.1
RPCA_SRV_NET=198.18.0.0/24
RPCA_ALLOW_IP=198.18.1.10
RPCA_ALLOW_GW=198.18.1.1
RPCA_ALLOW_NET=198.18.1.0/24
RPCA_DENY_IP=198.18.2.10
RPCA_DENY_GW=198.18.2.1
RPCA_DENY_NET=198.18.2.0/24
# The sweep subnet: every address of it is the server namespace's own (a local route), behind
# the same nftables fence, so a whole /24 of targets answers (or is dropped) like 198.18.0.10.
# Samba binds 198.18.0.10 only: on these addresses nothing listens unless a test starts it.
RPCA_SWEEP_NET=198.18.3.0/24

# The article's range: the fence in policy.sh always guards 135 plus this range.
RPCA_POLICY_RANGE=5001-5021
# Samba's dynamic range (up.sh): RPCA_RANGE=5001-5021 by default; RPCA_RANGE=default leaves
# Samba on its own default (49152-65535) for the "out-of-range" scenario.
RPCA_RANGE_DEFAULT=5001-5021

# A local Samba account for the authenticated tests (smbpasswd -a in up.sh). Lab-only test
# data: it exists in the lab's passdb and as a no-login system user, nowhere else.
RPCA_USER=rpcaudit
RPCA_PASSWORD=Lab-Audit-Pass1
RPCA_NETBIOS=RPCASRV

# Lab state (smb.conf, Samba's private/lock/state/cache dirs, logs, pid file).
RPCA_LAB_DIR=${RPCA_LAB_DIR:-/tmp/rpcaudit-lab}

RPCA_DCERPCD=${RPCA_DCERPCD:-/usr/libexec/samba/samba-dcerpcd}
# smbd serves IPC$ and the named pipes (ncacn_np) on 445 and 139; skipped when absent.
RPCA_SMBD=${RPCA_SMBD:-/usr/sbin/smbd}

# Client namespace name -> "ip gw net" (used by up.sh to wire each client to the router).
rpca_client_nets() {
    printf '%s %s %s %s\n' \
        "$RPCA_NS_SRV" "$RPCA_SRV_IP" "$RPCA_SRV_GW" "$RPCA_SRV_NET" \
        "$RPCA_NS_ALLOW" "$RPCA_ALLOW_IP" "$RPCA_ALLOW_GW" "$RPCA_ALLOW_NET" \
        "$RPCA_NS_DENY" "$RPCA_DENY_IP" "$RPCA_DENY_GW" "$RPCA_DENY_NET"
}

rpca_die() {
    echo "lab: $*" >&2
    exit 1
}

rpca_need_root() {
    [ "$(id -u)" -eq 0 ] || rpca_die "must run as root"
    command -v ip >/dev/null || rpca_die "iproute2 ('ip') not installed"
}

rpca_ns_exists() {
    ip netns list | awk '{print $1}' | grep -qx -- "$1"
}

# True when something accepts TCP connections on ADDR:PORT, seen from namespace NS.
rpca_tcp_answers() { # NS ADDR PORT
    ip netns exec "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null
}
