#!/usr/bin/env bash
# Tear the rpcaudit lab down (idempotent: succeeds when nothing is up). Stops samba-dcerpcd and
# its helpers in the server namespace, deletes the four namespaces (their veth pairs go with
# them). The state directory is kept for its logs unless RPCA_LAB_CLEAN=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rpca_need_root

for ns in "$RPCA_NS_SRV" "$RPCA_NS_ALLOW" "$RPCA_NS_DENY" "$RPCA_NS_RT"; do
    rpca_ns_exists "$ns" || continue
    # processes started in the lab namespace (samba-dcerpcd, rpcd_* helpers, test leftovers)
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
        for _ in $(seq 30); do
            [ -z "$(ip netns pids "$ns" 2>/dev/null || true)" ] && break
            sleep 0.1
        done
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    fi
    ip netns del "$ns"
done
rm -f "$RPCA_LAB_DIR/run/samba-dcerpcd.pid" "$RPCA_LAB_DIR/run/smbd.pid"
[ "${RPCA_LAB_CLEAN:-0}" = 1 ] && rm -rf "$RPCA_LAB_DIR"
echo "lab down"
