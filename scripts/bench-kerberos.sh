#!/usr/bin/env bash
# Benchmark (issue 26): what Kerberos costs a dump, against the Samba AD DC of the Kerberos lab
# (root; tests/lab/dc.sh brings it up with NTLM on, and the lab lock is held while measuring).
# In one run of this script, from the client namespace rpck-cli, one host at a time
# (--concurrency 1), release build:
#   - N runs of `dump` of the DC's first address, and N of its three addresses, anonymously;
#   - the same with --auth kerberos at privacy (--target-name dc1.rpcaudit.lab for all three);
#   - the same with the account's keytab (--keytab, exported by samba-tool) instead of the password;
# and a tshark capture of TCP 88 over all the Kerberos runs, whose KDC messages are counted:
# one AS exchange per run (an AS-REQ answered KDC_ERR_PREAUTH_REQUIRED, then one with
# pre-authentication) and one TGS-REQ per host name (the three addresses share one name, so
# one per run: the later binds reuse the run's ticket).
#
# What one more host costs with Kerberos beyond the anonymous dump is the marginal cost:
#   ((kerberos 3 hosts - kerberos 1 host) - (anonymous 3 hosts - anonymous 1 host)) / 2
# and what a run pays once (the AS exchange, the key derived from the password) is
#   (kerberos 1 host - anonymous 1 host) - marginal.
#
#   scripts/bench-kerberos.sh            # N=20
#   N=5 RPCAUDIT_BIN=target/debug/rpcaudit scripts/bench-kerberos.sh
#   KEEP_DC=1 scripts/bench-kerberos.sh  # leave the DC running afterwards
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-20}
bin=${RPCAUDIT_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet --bin rpcaudit)
    bin=$root/target/release/rpcaudit
fi
command -v tshark >/dev/null || { echo "tshark missing: apt-get install tshark" >&2; exit 2; }
ns=rpck-cli
dc=198.18.16.10
three="$dc 198.18.16.11 198.18.16.12"
krb=(--auth kerberos --user auditor --realm RPCAUDIT.LAB --kdc "$dc"
    --target-name dc1.rpcaudit.lab --auth-level privacy)
export RPCAUDIT_PASSWORD=Krb-Audit-Pass1 # the lab's own test account (tests/lab/dc.sh)

exec 9>/tmp/rpcaudit-lab.lock
flock 9
"$root/tests/lab/dc.sh" up ntlm 9>&- >/dev/null
out=$(mktemp -d)
chmod 755 "$out"
tshark_pid=
cleanup() {
    [ -z "$tshark_pid" ] || kill "$tshark_pid" 2>/dev/null || true
    rm -rf "$out"
    [ -n "${KEEP_DC:-}" ] || "$root/tests/lab/dc.sh" down 9>&- >/dev/null || true
}
trap cleanup EXIT

# mean milliseconds of N runs of rpcaudit "$@" in the client namespace; each must exit 0
mean_ms() {
    local runs=$1
    shift
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do
        # shellcheck disable=SC2068
        ip netns exec "$ns" "$bin" dump --json --concurrency 1 $@ >"$out/last.json" 2>"$out/last.err" 9>&- ||
            { echo "failed: rpcaudit dump $*" >&2; cat "$out/last.err" >&2; exit 1; }
    done
    end=$(date +%s%N)
    echo $(((end - start) / runs / 1000000))
}

a1=$(mean_ms "$n" --auth none "$dc")
a3=$(mean_ms "$n" --auth none "$three")

# The capture: tshark in the client namespace, stopped by its PID once the runs are done.
ip netns exec "$ns" tshark -i eth0 -f "tcp port 88" -w "$out/kdc.pcap" 9>&- 2>"$out/tshark.log" &
tshark_pid=$!
for _ in $(seq 100); do
    grep -q "Capturing on" "$out/tshark.log" 2>/dev/null && break
    sleep 0.1
done
k1=$(mean_ms "$n" "${krb[@]}" "$dc")
k3=$(mean_ms "$n" "${krb[@]}" "$three")
grep -Eq '"mechanism": ?"kerberos"' "$out/last.json" || { echo "the last run did not use Kerberos" >&2; exit 1; }
sleep 1
kill -INT "$tshark_pid"
wait "$tshark_pid" 2>/dev/null || true
tshark_pid=
# msg-type of each KDC message: 10 AS-REQ, 11 AS-REP, 12 TGS-REQ, 13 TGS-REP, 30 KRB-ERROR
tshark -r "$out/kdc.pcap" -Y kerberos -T fields -e kerberos.msg_type 2>/dev/null |
    cut -d, -f1 >"$out/types"
count() { grep -cx "$1" "$out/types" || true; }
# The same Kerberos runs with the account's key from a keytab (--keytab): no password, so no
# derivation of the key from it (PBKDF2) in any bind; same run, after the capture.
rpck_dir=${RPCK_DIR:-/tmp/rpcaudit-krb-lab}
samba-tool domain exportkeytab "$out/auditor.keytab" --principal=auditor@RPCAUDIT.LAB \
    -s "$rpck_dir/prov/etc/smb.conf" >/dev/null 9>&-
chmod 600 "$out/auditor.keytab"
t1=$(mean_ms "$n" "${krb[@]}" --keytab "$out/auditor.keytab" "$dc")
t3=$(mean_ms "$n" "${krb[@]}" --keytab "$out/auditor.keytab" "$three")
runs=$((2 * n))
hosts=$((4 * n))

printf '%-40s %6s ms/run (%d runs)\n' "anonymous, 1 host" "$a1" "$n"
printf '%-40s %6s ms/run (%d runs)\n' "anonymous, 3 hosts" "$a3" "$n"
printf '%-40s %6s ms/run (%d runs)\n' "kerberos privacy, 1 host" "$k1" "$n"
printf '%-40s %6s ms/run (%d runs)\n' "kerberos privacy, 3 hosts" "$k3" "$n"
printf '%-40s %6s ms/run (%d runs)\n' "kerberos privacy keytab, 1 host" "$t1" "$n"
printf '%-40s %6s ms/run (%d runs)\n' "kerberos privacy keytab, 3 hosts" "$t3" "$n"
awk -v a1="$a1" -v a3="$a3" -v k1="$k1" -v k3="$k3" -v t1="$t1" -v t3="$t3" 'BEGIN {
    m = ((k3 - k1) - (a3 - a1)) / 2
    printf "%-40s %6.1f ms\n", "kerberos, each further host (marginal)", m
    printf "%-40s %6.1f ms\n", "kerberos, once per run", (k1 - a1) - m
    mt = ((t3 - t1) - (a3 - a1)) / 2
    printf "%-40s %6.1f ms\n", "keytab, each further host (marginal)", mt
    printf "%-40s %6.1f ms\n", "keytab, once per run", (t1 - a1) - mt
}'
echo "KDC messages over the $runs Kerberos runs ($hosts host dumps):" \
    "AS-REQ $(count 10) (expected $((2 * runs))), AS-REP $(count 11) (expected $runs)," \
    "TGS-REQ $(count 12) (expected $runs: one per host name, and the three addresses share one), TGS-REP $(count 13), KRB-ERROR $(count 30)"
