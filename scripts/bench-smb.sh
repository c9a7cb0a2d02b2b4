#!/usr/bin/env bash
# Benchmark: one host's endpoint mapper read over TCP 135, over SMB \pipe\epmapper on 445 (the
# null session; FSCTL_PIPE_TRANSCEIVE) and on 139, and by impacket over 445 (rpcdump.py's loop in
# tests/lab/impacket_epm_np.py: rpcdump.py itself stops on Samba's last status),
# side by side in one run, against Samba in the lab (root; tests/lab/up.sh brings it up, and
# the lab lock is held while measuring). Each road: N sequential runs of the whole process from
# the allowed client's namespace; the mean wall time per host.
#
#   scripts/bench-smb.sh            # N=20 (impacket: N/4)
#   N=50 RPCAUDIT_BIN=target/debug/rpcaudit scripts/bench-smb.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-20}
bin=${RPCAUDIT_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet --bin rpcaudit)
    bin=$root/target/release/rpcaudit
fi
srv=198.18.0.10
exec 9>/tmp/rpcaudit-lab.lock
flock 9
"$root/tests/lab/up.sh" 9>&- >/dev/null

# mean milliseconds of N runs of "$@" in the allowed namespace; each must succeed
mean_ms() {
    local runs=$1
    shift
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do
        ip netns exec rpca-allow "$@" >/dev/null 2>&1 9>&- || { echo "failed: $*" >&2; exit 1; }
    done
    end=$(date +%s%N)
    echo $(((end - start) / runs / 1000000))
}

tcp=$(mean_ms "$n" "$bin" dump "$srv" --json)
smb=$(mean_ms "$n" "$bin" dump "$srv" --json --transport smb --smb-port 445)
nb=$(mean_ms "$n" "$bin" dump "$srv" --json --transport smb --smb-port 139)
printf '%-34s %6s ms/host (%d runs)\n' "rpcaudit dump, TCP 135" "$tcp" "$n"
printf '%-34s %6s ms/host (%d runs)\n' "rpcaudit dump, SMB 445 (pipe)" "$smb" "$n"
printf '%-34s %6s ms/host (%d runs)\n' "rpcaudit dump, SMB 139 (NetBIOS)" "$nb" "$n"
if python3 -c 'import impacket' 2>/dev/null; then
    m=$(( (n + 3) / 4 ))
    imp=$(mean_ms "$m" python3 "$root/tests/lab/impacket_epm_np.py" "$srv" 445)
    printf '%-34s %6s ms/host (%d runs)\n' "impacket (rpcdump.py's loop), 445" "$imp" "$m"
fi
echo "SMB 445 / TCP 135: $(awk -v a="$smb" -v b="$tcp" 'BEGIN { printf "%.2f", a / b }')x"
