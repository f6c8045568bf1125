#!/usr/bin/env bash
# Runs Provider Admin's command line, `padmin`, on the embedded workspace (a SQLite file in
# the OS data folder). On first run it loads realistic demo data and shows an overview.
# Any arguments are passed to padmin: `scripts/run.sh keys list --status active`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
ensure_packages build-essential pkg-config
say "building padmin"
cargo build --quiet --locked -p padmin
padmin=target/debug/padmin

# The master key lives in the OS keychain. Without one (a headless server, a container), keep
# it in a file readable only by you, next to the workspace, and say so.
if [ -z "${PORTAL_MASTER_KEY:-}${PORTAL_MASTER_KEY_FILE:-}" ] && ! "$padmin" info >/dev/null 2>&1; then
  data="${PADMIN_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/dev.provider-admin}"
  export PORTAL_MASTER_KEY_FILE="$data/master.key"
  say "no OS keychain here: keeping the master key in $PORTAL_MASTER_KEY_FILE (mode 600)"
fi

if [ $# -gt 0 ]; then exec "$padmin" "$@"; fi

if [ "$("$padmin" clients list --limit 1 --json | grep -c '"id"')" = 0 ]; then
  say "first run: loading demo data"
  "$padmin" seed --demo
fi
"$padmin" info
say "federation keys (newest first)"
"$padmin" keys list --limit 10
say "keys expiring within 7 days"
"$padmin" keys list --expiring-within 7
say "integrations"
"$padmin" integrations list
say "audit trail"
"$padmin" audit list --limit 8
"$padmin" audit verify
say "more: $padmin --help   (or scripts/run.sh <command>, e.g. scripts/run.sh keys create --name partner-x)"
