#!/usr/bin/env bash
# Regenerate docs/report.png, the guide's picture of the HTML report (docs/guide/reports.md): `rpcaudit demo --html`
# rendered by headless chromium (Debian package chromium) at 1280×900. Run from anywhere; it
# builds the binary first. The demo's fixed loopback ports are shared with the tests, so the
# demo runs under their lock.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v chromium >/dev/null || { echo "screenshot: install chromium (apt-get install chromium)" >&2; exit 2; }
cargo build --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flock "${TMPDIR:-/tmp}/rpcaudit-demo.lock" target/debug/rpcaudit demo --html "$work/report.html" >/dev/null
chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --window-size=1280,900 \
    --screenshot="$work/report.png" "file://$work/report.html" 2>/dev/null
mv "$work/report.png" docs/report.png
echo "screenshot: wrote docs/report.png"
