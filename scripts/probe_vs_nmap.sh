#!/usr/bin/env bash
# Benchmark: `rpcaudit probe` (release build, default settings) against `nmap -sT -Pn` on the 22
# ports the article fences (135 + 5001-5021), all filtered: the lab's `correct` scenario, probed
# from the denied namespace. Needs root; brings the lab up itself (tests/lab/up.sh).
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

echo "== timing, $runs runs each"
if [ "${BENCH_LOOP:-0}" != 1 ] && command -v hyperfine >/dev/null; then
    hyperfine --runs "$runs" --warmup 1 -N \
        --command-name "rpcaudit probe (defaults)" "$probe_cmd" \
        --command-name "nmap -sT -Pn -n" "$nmap_cmd"
else
    for name in probe nmap; do
        cmd=$probe_cmd
        [ "$name" = nmap ] && cmd=$nmap_cmd
        times=()
        for _ in $(seq "$runs"); do
            t0=$(date +%s.%N)
            $cmd >/dev/null
            t1=$(date +%s.%N)
            times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
        done
        printf '%s\n' "${times[@]}" | sort -n | awk -v n="$name" '
            { v[NR] = $1; s += $1 }
            END { printf "%-6s runs %d  mean %.3f s  min %.3f s  max %.3f s\n", n, NR, s / NR, v[1], v[NR] }'
    done
fi
