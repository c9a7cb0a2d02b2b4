#!/usr/bin/env bash
# Every test rpcaudit has, the network lab included. Run as root on Debian (CI does): it installs
# what the tests need when it is missing (samba, smbclient, smbpasswd, useradd, nftables,
# iproute2, samba-ad-dc, samba-ad-provision, winbind, krb5-user (the Kerberos lab's domain
# controller; dnsmasq-base, its DNS SRV records for --keytab and the KDC lookup), openssh-server (sshd for the Ansible lab test), nmap, tshark, python3-samba (the GPO test's independent reader), GNU time, chromium,
# man-db and groff-base (the man-page test), bash-completion (the completion test) from Debian's
# packages; impacket and ansible-core from PyPI), then
# runs the unit and integration tests and
# the lab tests (#[ignore]d in plain `cargo test`), and takes the lab down afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "test-all: run as root (the lab uses network namespaces; missing packages are installed)" >&2
    exit 2
fi

missing=()
[ -x /usr/libexec/samba/samba-dcerpcd ] || missing+=(samba)
command -v rpcclient >/dev/null || missing+=(smbclient)
command -v smbpasswd >/dev/null || missing+=(samba-common-bin)
command -v useradd >/dev/null || missing+=(passwd)
command -v nft >/dev/null || missing+=(nftables)
command -v ip >/dev/null || missing+=(iproute2)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v nmap >/dev/null || missing+=(nmap)
command -v tshark >/dev/null || missing+=(tshark)
# Samba's python preg parser, the independent reader of tests/real_gpo.rs (Debian's python).
/usr/bin/python3 -c 'import samba.dcerpc.preg' 2>/dev/null || missing+=(python3-samba)
# hivex's python binding, the independent reader of the .wfw hives tests/wfw_hive.rs writes.
/usr/bin/python3 -c 'import hivex' 2>/dev/null || missing+=(python3-hivex)
[ -x /usr/bin/time ] || missing+=(time)
command -v chromium >/dev/null || missing+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)
command -v man >/dev/null || missing+=(man-db)
command -v groff >/dev/null || missing+=(groff-base)
[ -f /usr/share/bash-completion/bash_completion ] || missing+=(bash-completion)
# The Kerberos lab (tests/lab/dc.sh): a Samba AD domain controller.
command -v samba >/dev/null || missing+=(samba-ad-dc)
command -v samba-tool >/dev/null || missing+=(samba-ad-provision)
[ -d /usr/share/samba/setup ] || missing+=(samba-ad-provision)
command -v wbinfo >/dev/null || missing+=(winbind)
command -v kinit >/dev/null || missing+=(krb5-user)
command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test-all: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import impacket' 2>/dev/null || ! command -v rpcdump.py >/dev/null; then
    echo "test-all: installing impacket" >&2
    python3 -m pip install -q impacket
    command -v pyenv >/dev/null && pyenv rehash || true
fi
if ! command -v ansible-playbook >/dev/null; then
    echo "test-all: installing ansible-core" >&2
    python3 -m pip install -q ansible-core
    command -v pyenv >/dev/null && pyenv rehash || true
fi

# The lab tests (and the browser, man-page and completion tests) fail instead of skipping when
# something they need is missing.
export RPCAUDIT_LAB_REQUIRED=1
trap 'tests/lab/down.sh >/dev/null 2>&1 || true; tests/lab/dc.sh down >/dev/null 2>&1 || true' EXIT

log=$(mktemp)
cargo test --locked 2>&1 | tee "$log"
cargo test --locked -- --ignored --test-threads=1 2>&1 | tee -a "$log"

# One closing line over both runs (each test binary prints its own "test result" line).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
