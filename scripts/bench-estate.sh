#!/usr/bin/env bash
# Benchmark: whole estates on loopback, no root and no namespaces. The fixture endpoint mapper
# (`rpcaudit lab serve --tcp-endpoints 40`) listens on 0.0.0.0, so every 127.x address answers;
# no packet leaves loopback. Peak RSS and wall time from GNU time (Debian package `time`).
#
#   scripts/bench-estate.sh                 # dump of 127.1.0.0/16, audit of 127.2.0.0/20
#   NET16=127.1.0.0/24 scripts/bench-estate.sh   # a quicker run
#   RPCDUMP=1 scripts/bench-estate.sh       # also one host against impacket's rpcdump.py
#   AUDIT16=127.3.0.0/16 scripts/bench-estate.sh  # also the audit of a /16 (--json-lines)
#
# The summary line of the JSON-lines dump says whether it is complete: every host `ok`, 52
# entries each (40 TCP endpoints and the fixture's default 6 pipes and 6 local endpoints).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
net16=${NET16:-127.1.0.0/16}
net20=${NET20:-127.2.0.0/20}
time_bin=/usr/bin/time
[ -x "$time_bin" ] || { echo "GNU time missing: apt-get install time" >&2; exit 2; }
bin=${RPCAUDIT_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet --bin rpcaudit)
    bin=$root/target/release/rpcaudit
fi
out=$(mktemp -d)
servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true; rm -rf "$out"' EXIT

# A fixture endpoint mapper with 40 TCP endpoints listening on $1: its PID joins $servers
# (stopped on exit), the address it listens on is left in $addr.
serve() {
    local fifo=$out/serve${#servers[@]}.out word
    mkfifo "$fifo"
    "$bin" lab serve --listen "$1" --tcp-endpoints 40 >"$fifo" 2>/dev/null &
    servers+=("$!")
    read -r word addr <"$fifo"
    [ "$word" = listening ] || { echo "unexpected: $word $addr" >&2; exit 1; }
}

serve 0.0.0.0:0
port=${addr##*:}
echo "fixture endpoint mapper on 0.0.0.0:$port (pid ${servers[0]})"

measure() { # label, output file, command...
    local label=$1 file=$2
    shift 2
    local code=0
    "$time_bin" -f '%e %M' -o "$out/time" "$@" >"$file" 2>"$out/stderr" || code=$?
    secs=$(tail -1 "$out/time" | cut -d' ' -f1)
    kib=$(tail -1 "$out/time" | cut -d' ' -f2)
    echo "$label: exit $code, ${secs} s, peak RSS $((kib / 1024)) MiB ($kib KiB)"
}

measure "dump $net16 --json-lines" "$out/dump.jsonl" \
    "$bin" dump "$net16" --port "$port" --timeout 30 --json-lines
lines=$(wc -l <"$out/dump.jsonl")
summary=$(tail -1 "$out/dump.jsonl")
echo "  $lines lines; summary: $summary"

measure "dump $net16 --json" "$out/dump.json" \
    "$bin" dump "$net16" --port "$port" --timeout 30 --json
echo "  $(grep -c '"status": "ok"' "$out/dump.json") hosts ok in the document ($(du -m "$out/dump.json" | cut -f1) MiB)"

measure "audit $net20 --json-lines" "$out/audit.jsonl" \
    "$bin" audit "$net20" --policy "$root/fixtures/policy/kb908472.cmd" --port "$port" --json-lines
echo "  $(wc -l <"$out/audit.jsonl") lines; summary: $(tail -1 "$out/audit.jsonl" | cut -c1-160)..."

measure "audit $net20 --json" "$out/audit.json" \
    "$bin" audit "$net20" --policy "$root/fixtures/policy/kb908472.cmd" --port "$port" --json
echo "  document $(du -m "$out/audit.json" | cut -f1) MiB"

if [ -n "${AUDIT16:-}" ]; then
    # The audit of a whole /16 in its streamed form only (a document of a /16 would need GBs).
    measure "audit $AUDIT16 --json-lines" "$out/audit16.jsonl" \
        "$bin" audit "$AUDIT16" --policy "$root/fixtures/policy/kb908472.cmd" --port "$port" --json-lines
    echo "  $(wc -l <"$out/audit16.jsonl") lines; summary: $(tail -1 "$out/audit16.jsonl" | cut -c1-160)..."
fi

if [ "${RPCDUMP:-0}" = 1 ]; then
    # impacket's rpcdump.py only connects to port 135: a second fixture on 127.0.0.77:135.
    command -v rpcdump.py >/dev/null || { echo "rpcdump.py (impacket) not installed" >&2; exit 2; }
    serve 127.0.0.77:135
    for run in 1 2 3; do
        measure "run $run: rpcaudit dump 127.0.0.77" "$out/one.txt" "$bin" dump 127.0.0.77
        measure "run $run: rpcdump.py 127.0.0.77" "$out/one-impacket.txt" rpcdump.py 127.0.0.77
    done
    echo "  rpcaudit: $(grep -c 'ncacn_ip_tcp:' "$out/one.txt") TCP bindings; rpcdump.py: $(grep -c 'ncacn_ip_tcp:' "$out/one-impacket.txt") TCP bindings"
fi
