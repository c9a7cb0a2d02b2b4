#!/usr/bin/env bash
# Apply a named nftables ruleset in the server namespace, standing in for the article's IPsec
# policy ("Block RPC Ports" + "Allow ... from <subnet>"). Replaces the previous scenario; running
# it twice is harmless. Blocked traffic is dropped, not rejected, so a blocked client sees
# "filtered" exactly as with an IPsec BLOCK filter.
#
#   policy.sh open         no filtering
#   policy.sh correct      135 and 5001-5021 dropped for everyone but 198.18.1.0/24 (allowed)
#   policy.sh leak PORT    as correct, but PORT has no block (the forgotten -f line)
#   policy.sh hang         the allowed subnet passes 135 only; the range is dropped for it too
#   policy.sh sealed       as correct, and the other roads to RPC too (SMB 139 and 445, RPC over
#                          HTTP 593, connectionless RPC on UDP 135): what closes a fence-bypass
#   policy.sh show         print the ruleset in force
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rpca_need_root
command -v nft >/dev/null || rpca_die "nft not installed (apt-get install nftables)"
rpca_ns_exists "$RPCA_NS_SRV" || rpca_die "namespace $RPCA_NS_SRV missing: run tests/lab/up.sh first"

scenario=${1:-}
rpc_ports="135, $RPCA_POLICY_RANGE"

case "$scenario" in
open)
    rules=""
    ;;
correct)
    rules="
        ip saddr $RPCA_ALLOW_NET tcp dport @rpc_ports accept   # PASS from the allowed subnet
        tcp dport @rpc_ports drop                            # BLOCK for everyone else"
    ;;
leak)
    port=${2:-}
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -le 65535 ] || rpca_die "usage: policy.sh leak PORT"
    rules="
        tcp dport $port accept                               # LEAK: this port lost its BLOCK
        ip saddr $RPCA_ALLOW_NET tcp dport @rpc_ports accept   # PASS from the allowed subnet
        tcp dport @rpc_ports drop                            # BLOCK for everyone else"
    ;;
sealed)
    rules="
        ip saddr $RPCA_ALLOW_NET tcp dport @rpc_ports accept   # PASS from the allowed subnet
        ip saddr $RPCA_ALLOW_NET tcp dport { 139, 445, 593 } accept
        ip saddr $RPCA_ALLOW_NET udp dport 135 accept
        tcp dport @rpc_ports drop                            # BLOCK for everyone else
        tcp dport { 139, 445, 593 } drop                     # and the other roads to RPC
        udp dport 135 drop"
    ;;
hang)
    rules="
        ip saddr $RPCA_ALLOW_NET tcp dport 135 accept          # PASS 135 only (hang hazard)
        tcp dport @rpc_ports drop                            # BLOCK the rest, range included"
    ;;
show)
    ip netns exec "$RPCA_NS_SRV" nft list ruleset
    exit 0
    ;;
*)
    rpca_die "usage: policy.sh open|correct|leak PORT|hang|sealed|show"
    ;;
esac

# "add table" + "delete table" makes the replacement work whether or not the table exists;
# nft -f applies the whole file atomically.
ip netns exec "$RPCA_NS_SRV" nft -f - <<NFT
add table inet rpca
delete table inet rpca
table inet rpca {
    comment "rpcaudit lab scenario: $scenario ${2:-}"
    set rpc_ports {
        type inet_service
        flags interval
        elements = { $rpc_ports }
    }
    chain input {
        type filter hook input priority filter; policy accept;
        iif lo accept                                        # the server talking to itself$rules
    }
}
NFT
echo "policy: $scenario ${2:-}"
