#!/usr/bin/env bash
# Builds and opens Provider Admin, the desktop app, on the embedded workspace (a SQLite file in
# the OS data folder). On first start the app offers demo data or an empty start.
# With arguments, runs the command line instead: `scripts/run.sh keys list --status active`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
ensure_packages "${DESKTOP_PACKAGES[@]}"
build_ui
say "building the app and padmin"
cargo build --quiet --locked -p provider-admin -p padmin

if [ $# -gt 0 ]; then exec target/debug/padmin "$@"; fi

# The master key lives in the OS keychain. Without one (a headless or minimal session), keep it
# in a file readable only by you, next to the workspace, and say so.
if [ -z "${PORTAL_MASTER_KEY:-}${PORTAL_MASTER_KEY_FILE:-}" ] && ! target/debug/padmin info >/dev/null 2>&1; then
  data="${PADMIN_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/dev.provider-admin}"
  export PORTAL_MASTER_KEY_FILE="$data/master.key"
  say "no OS keychain is reachable: keeping the master key in $PORTAL_MASTER_KEY_FILE (mode 600)"
fi

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  say "no display: run this from a desktop session (or under Xvfb: xvfb-run -a scripts/run.sh)"
  exit 1
fi
say "opening Provider Admin"
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-run-session >/dev/null; then
  exec dbus-run-session -- target/debug/provider-admin
fi
exec target/debug/provider-admin
