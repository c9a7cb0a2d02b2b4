#!/usr/bin/env bash
# Benchmark: `rpcaudit probe` (release build, default settings) against `nmap -sT -Pn` on the 22
# ports the article fences (135 + 5001-5021), all filtered: the lab's `correct` scenario, probed
# from the denied namespace. Needs root; brings the lab up itself (tests/lab/up.sh).
#   1. one host, 198.18.0.10: rpcaudit and `nmap -sT -Pn -n`, RUNS runs each;
#   2. a whole /24, the lab's sweep subnet 198.18.3.0/24 (254 hosts × 22 ports = 5,588 probes,
#      all dropped): rpcaudit RUNS runs, `nmap -sT -Pn -n -T4` NMAP24_RUNS runs (default 1: it
#      takes minutes). SWEEP=0 skips it.
#
#   sudo scripts/probe_vs_nmap.sh            # RUNS=5 runs each (hyperfine when installed)
#   RUNS=10 RPCAUDIT_BIN=target/release/rpcaudit sudo -E scripts/probe_vs_nmap.sh
#   BENCH_LOOP=1 ...                      # plain bash timing loop instead of hyperfine
#
# nmap gets -n (no reverse DNS: the lab has no resolver, lookups would only add waiting).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/lab/lib.sh
. "$root/tests/lab/lib.sh"
rpca_need_root
command -v nmap >/dev/null || rpca_die "nmap not installed (apt-get install nmap)"
runs=${RUNS:-5}
ports="135,$RPCA_POLICY_RANGE"

bin=${RPCAUDIT_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet --bin rpcaudit)
    bin=$root/target/release/rpcaudit
fi
[ -x "$bin" ] || rpca_die "no rpcaudit binary at $bin"

"$root/tests/lab/up.sh" >/dev/null
"$root/tests/lab/policy.sh" correct >/dev/null

probe_cmd="ip netns exec $RPCA_NS_DENY $bin probe $RPCA_SRV_IP --ports $ports"
nmap_cmd="ip netns exec $RPCA_NS_DENY nmap -n -sT -Pn -p $ports $RPCA_SRV_IP"

echo "== sanity: states seen from $RPCA_NS_DENY ($RPCA_DENY_IP), scenario correct"
ours=$($probe_cmd --json | grep -c '"state": "filtered"' || true)
theirs=$($nmap_cmd -oG - | grep -o '/filtered/' | wc -l)
echo "rpcaudit probe: $ours of 22 filtered; nmap -sT: $theirs of 22 filtered"
[ "$ours" = 22 ] && [ "$theirs" = 22 ] || rpca_die "expected 22 filtered ports from both tools"

# time_loop NAME RUNS CMD...: wall time of each run, then mean, min and max
time_loop() {
    local name=$1 n=$2
    shift 2
    local times=() t0 t1
    for _ in $(seq "$n"); do
        t0=$(date +%s.%N)
        "$@" >/dev/null
        t1=$(date +%s.%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v n="$name" '
        { v[NR] = $1; s += $1 }
        END { printf "%-28s runs %d  mean %.3f s  min %.3f s  max %.3f s\n", n, NR, s / NR, v[1], v[NR] }'
}

echo "== timing, $runs runs each"
if [ "${BENCH_LOOP:-0}" != 1 ] && command -v hyperfine >/dev/null; then
    hyperfine --runs "$runs" --warmup 1 -N \
        --command-name "rpcaudit probe (defaults)" "$probe_cmd" \
        --command-name "nmap -sT -Pn -n" "$nmap_cmd"
else
    # shellcheck disable=SC2086
    time_loop "rpcaudit probe (defaults)" "$runs" $probe_cmd
    # shellcheck disable=SC2086
    time_loop "nmap -sT -Pn -n" "$runs" $nmap_cmd
fi

[ "${SWEEP:-1}" = 0 ] && exit 0
nmap_runs=${NMAP24_RUNS:-1}
sweep_probe="ip netns exec $RPCA_NS_DENY $bin probe $RPCA_SWEEP_NET --ports $ports"
sweep_nmap="ip netns exec $RPCA_NS_DENY nmap -n -sT -Pn -T4 -p $ports $RPCA_SWEEP_NET"
echo "== sanity: a /24 ($RPCA_SWEEP_NET, every address the server's) from $RPCA_NS_DENY"
v=$($bin --version 2>/dev/null || true)
ours=$($sweep_probe -v --json-lines 2>/tmp/rpcaudit-sweep.log | tail -n 1)
grep -o 'file descriptors:.*' /tmp/rpcaudit-sweep.log || true
echo "rpcaudit probe ($v): $ours"
case $ours in
*'"probes":5588,"states":{"open":0,"closed":0,"filtered":5588'*) ;;
*) rpca_die "expected 5,588 filtered probes from rpcaudit" ;;
esac
echo "== timing of the /24: rpcaudit $runs runs, nmap -T4 $nmap_runs run(s)"
# shellcheck disable=SC2086
time_loop "rpcaudit probe /24 (defaults)" "$runs" $sweep_probe
t0=$(date +%s.%N)
theirs=$($sweep_nmap -oG - | grep -o '/filtered/' | wc -l)
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$theirs" 'BEGIN { printf "%-28s run 1  %.3f s  (%d filtered port states; nmap also probes .0 and .255)\n", "nmap -sT -Pn -n -T4 /24", b - a, n }'
if [ "$nmap_runs" -gt 1 ]; then
    # shellcheck disable=SC2086
    time_loop "nmap -sT -Pn -n -T4 /24" "$((nmap_runs - 1))" $sweep_nmap
fi
