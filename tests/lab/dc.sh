#!/usr/bin/env bash
# The Kerberos lab (issue 26): a Samba Active Directory domain controller in its own network
# namespace, and a client namespace beside it, joined by one veth pair. Separate from the main
# lab (rpca-*, 198.18.0.0/22): its own names (rpck-*) and addresses (198.18.16.0/20, inside the
# namespaces only; the root namespace gets no address and no route).
#
#   rpck-cli 198.18.17.10/20 ── veth ── rpck-dc 198.18.16.10/20 (and .11, .12): samba (AD DC):
#                                        KDC on 88, endpoint mapper on 135, SMB on 445, LDAP
#
#   dc.sh up [ntlm|no-ntlm]   provision (once, cached under $RPCK_DIR), start samba in rpck-dc
#                             with "ntlm auth" enabled (default) or disabled, and return when
#                             the KDC (88) and the endpoint mapper (135) answer from rpck-cli.
#                             Run again with the other mode, it restarts samba.
#   dc.sh down                stop samba (by its PID), delete both namespaces.
#
# The domain and its user are lab-only test data: tests/lab_kerberos.rs repeats these values.
set -euo pipefail

RPCK_NS_DC=rpck-dc
RPCK_NS_CLI=rpck-cli
RPCK_DC_IP=198.18.16.10
# Two more addresses of the same DC: several targets in one run (one TGT, a ticket each).
RPCK_DC_MORE="198.18.16.11 198.18.16.12"
RPCK_CLI_IP=198.18.17.10
RPCK_PREFIX=20
RPCK_REALM=RPCAUDIT.LAB
RPCK_DOMAIN=RPCK
RPCK_HOST=dc1
RPCK_USER=auditor
RPCK_PASSWORD=Krb-Audit-Pass1
RPCK_ADMIN_PASSWORD=Krb-Admin-Pass1
RPCK_DIR=${RPCK_DIR:-/tmp/rpcaudit-krb-lab}

die() { echo "dc.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
command -v ip >/dev/null || die "iproute2 ('ip') not installed"

ns_exists() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }
answers() { # PORT: something accepts TCP on the DC, seen from the client namespace
    ip netns exec "$RPCK_NS_CLI" timeout 1 bash -c "exec 3<>/dev/tcp/$RPCK_DC_IP/$1" 2>/dev/null
}
pidfile=$RPCK_DIR/samba.pid

running_pid() {
    [ -f "$pidfile" ] || return 1
    local pid
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(ip netns identify "$pid" 2>/dev/null)" = "$RPCK_NS_DC" ] || return 1
    echo "$pid"
}

stop_samba() {
    local pid
    if pid=$(running_pid); then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    # samba's children exit with their parent; anything left in our namespace is ours
    if ns_exists "$RPCK_NS_DC"; then
        local left
        left=$(ip netns pids "$RPCK_NS_DC" 2>/dev/null || true)
        # shellcheck disable=SC2086
        [ -z "$left" ] || kill -9 $left 2>/dev/null || true
    fi
}

net_up() {
    for ns in "$RPCK_NS_DC" "$RPCK_NS_CLI"; do
        ns_exists "$ns" || ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    if ! ip -n "$RPCK_NS_DC" link show eth0 >/dev/null 2>&1; then
        ip -n "$RPCK_NS_CLI" link del eth0 2>/dev/null || true
        ip -n "$RPCK_NS_DC" link add eth0 type veth peer name eth0 netns "$RPCK_NS_CLI"
    fi
    ip -n "$RPCK_NS_DC" addr replace "$RPCK_DC_IP/$RPCK_PREFIX" dev eth0
    for a in $RPCK_DC_MORE; do ip -n "$RPCK_NS_DC" addr replace "$a/$RPCK_PREFIX" dev eth0; done
    ip -n "$RPCK_NS_CLI" addr replace "$RPCK_CLI_IP/$RPCK_PREFIX" dev eth0
    ip -n "$RPCK_NS_DC" link set eth0 up
    ip -n "$RPCK_NS_CLI" link set eth0 up
}

provision() {
    [ -f "$RPCK_DIR/prov/etc/smb.conf.base" ] && return 0
    command -v samba-tool >/dev/null || die "samba-tool not found (apt-get install samba-ad-dc samba-ad-provision)"
    rm -rf "$RPCK_DIR/prov"
    mkdir -p "$RPCK_DIR/prov"
    chmod 700 "$RPCK_DIR"
    samba-tool domain provision --targetdir="$RPCK_DIR/prov" \
        --realm="$RPCK_REALM" --domain="$RPCK_DOMAIN" --host-name="$RPCK_HOST" \
        --host-ip="$RPCK_DC_IP" --server-role=dc --dns-backend=NONE \
        --adminpass="$RPCK_ADMIN_PASSWORD" \
        --option="interfaces = $RPCK_DC_IP $RPCK_DC_MORE" --option="bind interfaces only = yes" \
        --option="rpc server dynamic port range = 5001-5021" \
        --option="server services = -dns" \
        >"$RPCK_DIR/provision.log" 2>&1 || { tail -20 "$RPCK_DIR/provision.log" >&2; die "provision failed"; }
    samba-tool user create "$RPCK_USER" "$RPCK_PASSWORD" \
        -s "$RPCK_DIR/prov/etc/smb.conf" >>"$RPCK_DIR/provision.log" 2>&1 \
        || { tail -20 "$RPCK_DIR/provision.log" >&2; die "user create failed"; }
    cp "$RPCK_DIR/prov/etc/smb.conf" "$RPCK_DIR/prov/etc/smb.conf.base"
}

start_samba() { # ntlm|no-ntlm
    local conf=$RPCK_DIR/prov/etc/smb.conf
    cp "$conf.base" "$conf"
    # Every socket, pid and log path of this samba under $RPCK_DIR: the defaults (/run/samba,
    # /var/log/samba) are shared with any other Samba on the machine (the main lab's
    # samba-dcerpcd would ask this DC's winbindd to map its users, and fail).
    mkdir -p "$RPCK_DIR/run/winbindd" "$RPCK_DIR/run/ncalrpc" "$RPCK_DIR/run/ntp_signd" "$RPCK_DIR/log"
    chmod 755 "$RPCK_DIR/run/winbindd"
    chmod 750 "$RPCK_DIR/run/ntp_signd"
    local paths
    paths="\tpid directory = $RPCK_DIR/run\n\twinbindd socket directory = $RPCK_DIR/run/winbindd"
    paths="$paths\n\tncalrpc dir = $RPCK_DIR/run/ncalrpc\n\tntp signd socket directory = $RPCK_DIR/run/ntp_signd"
    paths="$paths\n\tlog file = $RPCK_DIR/log/log.%m"
    sed -i "s|^\[global\]\$|[global]\n$paths|" "$conf"
    if [ "$1" = no-ntlm ]; then
        sed -i 's/^\[global\]$/[global]\n\tntlm auth = disabled/' "$conf"
    fi
    printf '%s\n' "$1" >"$RPCK_DIR/mode"
    # smbd asks winbindd (to map the SIDs of a session to Unix ids) through libwbclient, which
    # ignores "winbindd socket directory" and always uses the built-in /run/samba/winbindd:
    # without it every SMB session setup fails with NT_STATUS_INTERNAL_ERROR. So samba runs in a
    # mount namespace of its own where $RPCK_DIR/run is /run/samba; nothing else on the machine
    # sees that mount.
    mkdir -p /run/samba
    ip netns exec "$RPCK_NS_DC" unshare --mount --propagation private \
        sh -c 'mount --bind "$1" /run/samba && shift && exec "$@"' sh "$RPCK_DIR/run" \
        samba -s "$conf" -F --debug-stdout -d 1 \
        </dev/null >"$RPCK_DIR/samba.log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 300); do
        if answers 88 && answers 135; then
            # the endpoint mapper's registrations come a moment after the socket
            sleep 1
            echo "dc up ($1): $RPCK_HOST.${RPCK_REALM,,} $RPCK_DC_IP, realm $RPCK_REALM"
            return 0
        fi
        running_pid >/dev/null || { tail -20 "$RPCK_DIR/samba.log" >&2; die "samba exited"; }
        sleep 0.1
    done
    tail -20 "$RPCK_DIR/samba.log" >&2
    die "KDC or endpoint mapper not answering after 30 s"
}

case "${1:-}" in
up)
    mode=${2:-ntlm}
    case "$mode" in ntlm|no-ntlm) ;; *) die "mode must be ntlm or no-ntlm (got '$mode')";; esac
    command -v samba >/dev/null || die "samba not found (apt-get install samba samba-ad-dc)"
    net_up
    provision
    if running_pid >/dev/null && [ "$(cat "$RPCK_DIR/mode" 2>/dev/null)" = "$mode" ] \
        && answers 88 && answers 135; then
        echo "dc up ($mode): already running"
        exit 0
    fi
    stop_samba
    start_samba "$mode"
    ;;
down)
    stop_samba
    for ns in "$RPCK_NS_DC" "$RPCK_NS_CLI"; do
        ns_exists "$ns" && ip netns del "$ns"
    done
    [ "${RPCK_CLEAN:-0}" = 1 ] && rm -rf "$RPCK_DIR"
    echo "dc down"
    ;;
*)
    die "usage: dc.sh up [ntlm|no-ntlm] | down"
    ;;
esac
