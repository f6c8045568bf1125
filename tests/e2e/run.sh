#!/usr/bin/env bash
# Runs the desktop end-to-end suite: the real binary under Xvfb, driven over WebDriver by
# tauri-driver + WebKitWebDriver, with a private HOME, data folder, D-Bus session and Secret
# Service (GNOME Keyring) — the user's keychain and app data are never touched. With PostgreSQL
# (DATABASE_URL, the local one, or a throwaway cluster) it also runs the direct-PostgreSQL
# scenario and, when target/debug/portal-server is built, the portal-API one against a real OIDC
# provider. Everything it starts is stopped on every exit path (success, failure, Ctrl-C).
#
# Screenshots of every page go to target/e2e-screenshots/; UPDATE_SCREENSHOTS=1 writes them to
# docs/screenshots/ instead (scripts/screenshots.sh does that deliberately). Failures leave a
# screenshot, the page source and the logs in target/e2e-artifacts/.
# Usage: tests/e2e/run.sh [path/to/provider-admin]   (default: target/debug/provider-admin)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

app=$(realpath "${1:-target/debug/provider-admin}")
[ -x "$app" ] || { say "build the app first: cargo build -p provider-admin"; exit 1; }
ensure_packages "${TOOL_PACKAGES[@]}" "${E2E_PACKAGES[@]}"
ensure_node
if ! command -v tauri-driver >/dev/null; then
  ensure_rust
  say "installing tauri-driver"
  cargo install tauri-driver@2.1.0 --locked --quiet
fi
npm_ci tests/e2e
npm_ci tests/oidc
ensure_services

work=$(mktemp -d)
artifacts="$PWD/target/e2e-artifacts"
if [ "${UPDATE_SCREENSHOTS:-0}" = 1 ]; then
  shots="$PWD/docs/screenshots"
else
  shots="$PWD/target/e2e-screenshots"; rm -rf "$shots"
fi
rm -rf "$artifacts"; mkdir -p "$artifacts" "$shots" "$work/export"
DRIVER_PORT=$(free_port); NATIVE_PORT=$(free_port)
export DRIVER_PORT NATIVE_PORT
export APP="$app" SHOTS_DIR="$shots" ARTIFACTS_DIR="$artifacts" PADMIN_E2E_EXPORT_DIR="$work/export"

# What this run starts, for cleanup(): the X/D-Bus session (its own process group), the API
# server and OIDC provider, and two databases.
session=""
server_pid=""
provider_pid=""
pg_db=""
portal_db=""
# The session's processes carry this in their environment, even those that detach from its
# process group (gnome-keyring-daemon daemonizes).
marker="XDG_RUNTIME_DIR=$work/xdg"
marked_pids() {
  grep -lzxF "$marker" /proc/[0-9]*/environ 2>/dev/null | sed 's|^/proc/\([0-9]*\)/environ$|\1|'
}
stop_session() {
  local signal pids
  for signal in TERM KILL; do
    [ -n "$session" ] && kill -"$signal" -- -"$session" 2>/dev/null
    pids=$(marked_pids)
    [ -n "$pids" ] && kill -"$signal" $pids 2>/dev/null
    for _ in $(seq 30); do
      { [ -z "$session" ] || ! kill -0 -- -"$session" 2>/dev/null; } && [ -z "$(marked_pids)" ] && return 0
      sleep 0.1
    done
  done
}
cleanup() {
  stop_session
  local p
  [ -x "$work/server-stop.sh" ] && "$work/server-stop.sh"
  for p in $provider_pid; do kill "$p" 2>/dev/null; done
  for p in $provider_pid; do wait "$p" 2>/dev/null; done
  for db in $pg_db $portal_db; do
    psql "$DATABASE_URL" -qc "drop database if exists $db with (force)" >/dev/null 2>&1
  done
  if [ "$EXIT_STATUS" -ne 0 ]; then
    cp "$work"/*.log "$artifacts/" 2>/dev/null
    say "end-to-end FAILED: screenshots, page sources and logs in $artifacts"
  fi
  rm -rf "$work"
}
on_exit cleanup

# A fresh PostgreSQL database for the direct-profile scenario.
pg_db="padmin_e2e_$(date +%s)_$$"
psql "$DATABASE_URL" -qc "create database $pg_db" >/dev/null
export E2E_PG_URL="${DATABASE_URL%/*}/$pg_db"

# The portal-profile scenario: a real OIDC provider and the portal API server on loopback,
# over their own fresh database and the Redis of REDIS_URL.
server_bin="$PWD/target/debug/portal-server"
if [ -x "$server_bin" ]; then
  portal_db="padmin_e2e_api_$(date +%s)_$$"
  psql "$DATABASE_URL" -qc "create database $portal_db" >/dev/null
  master_key="1:$(head -c 32 /dev/urandom | base64)"
  # Two organisations with an incident each; the provider's `tenant` user belongs to the first,
  # so the client-role story can check it sees that one only.
  padmin_bin="$PWD/target/debug/padmin"
  if [ -x "$padmin_bin" ]; then
    on_portal_db() { PADMIN_DB="${DATABASE_URL%/*}/$portal_db" PORTAL_MASTER_KEY="$master_key" "$padmin_bin" --json "$@"; }
    on_portal_db clients create --name "Tenant Org" --plan pro --status active >"$work/tenant.json"
    on_portal_db clients create --name "Other Org" --plan pro --status active >"$work/other.json"
    export OIDC_TENANT_ORG; OIDC_TENANT_ORG=$(json_field "$work/tenant.json" id)
    on_portal_db incidents open --title "Tenant exports fail" --severity sev2 --org "$OIDC_TENANT_ORG" >/dev/null
    on_portal_db incidents open --title "Other org outage" --severity sev1 --org "$(json_field "$work/other.json" id)" >/dev/null
  fi
  node tests/oidc/provider.mjs >"$work/provider.json" 2>"$work/provider.log" &
  provider_pid=$!
  for _ in $(seq 100); do [ -s "$work/provider.json" ] && break; sleep 0.1; done
  issuer=$(json_field "$work/provider.json" issuer)
  api_port=$(free_port)
  # The server is started and stopped by scripts the offline-triage scenario calls too (it
  # stops the portal, works offline, and starts it again).
  cat >"$work/server-start.sh" <<EOS
#!/usr/bin/env bash
DATABASE_URL="${DATABASE_URL%/*}/$portal_db" REDIS_URL="$REDIS_URL" OIDC_ISSUER="$issuer" \\
  OIDC_AUDIENCE=portal-api OIDC_SCOPES=portal PORTAL_LISTEN="127.0.0.1:$api_port" \\
  PORTAL_MASTER_KEY="$master_key" PORTAL_REDIS_PREFIX="e2e$$" \\
  nohup "$server_bin" >>"$work/server.log" 2>&1 &
echo \$! >"$work/server.pid"
for _ in \$(seq 150); do curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null && exit 0; sleep 0.2; done
echo "the portal server did not become ready" >&2; exit 1
EOS
  cat >"$work/server-stop.sh" <<EOS
#!/usr/bin/env bash
pid=\$(cat "$work/server.pid" 2>/dev/null) || exit 0
kill "\$pid" 2>/dev/null
for _ in \$(seq 100); do kill -0 "\$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "\$pid" 2>/dev/null; exit 0
EOS
  chmod +x "$work/server-start.sh" "$work/server-stop.sh"
  "$work/server-start.sh"
  export E2E_SERVER_START="$work/server-start.sh" E2E_SERVER_STOP="$work/server-stop.sh"
  if [ -x "$padmin_bin" ]; then
    # padmin as a second admin working directly on the portal's database.
    printf '#!/usr/bin/env bash\nPADMIN_DB="%s" PORTAL_MASTER_KEY="%s" exec "%s" --json "$@"\n' \
      "${DATABASE_URL%/*}/$portal_db" "$master_key" "$padmin_bin" >"$work/padmin-portal.sh"
    chmod +x "$work/padmin-portal.sh"
    export E2E_PADMIN_PORTAL="$work/padmin-portal.sh"
  fi
  export E2E_PORTAL_URL="http://127.0.0.1:$api_port" E2E_SIGNIN_URL_FILE="$work/signin-url"
  # The app's "system browser": records the sign-in address for the test to play the user.
  printf '#!/bin/sh\nprintf "%%s" "$1" > "%s.tmp" && mv "%s.tmp" "%s"\n' "$E2E_SIGNIN_URL_FILE" "$E2E_SIGNIN_URL_FILE" "$E2E_SIGNIN_URL_FILE" >"$work/browser.sh"
  chmod +x "$work/browser.sh"
  export BROWSER="$work/browser.sh"
else
  say "no $server_bin: skipping the portal-API scenario (cargo build -p server)"
fi

say "end-to-end: $app"
# setsid: the session gets its own process group, which cleanup() ends as a whole.
setsid xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  set -e
  export HOME='"$work"'/home XDG_RUNTIME_DIR='"$work"'/xdg XDG_DATA_HOME='"$work"'/data XDG_CONFIG_HOME='"$work"'/config
  export PADMIN_DATA_DIR='"$work"'/app
  mkdir -p "$PADMIN_DATA_DIR"
  mkdir -p "$HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
  echo -n e2e | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  tauri-driver --port "$DRIVER_PORT" --native-port "$NATIVE_PORT" >"'"$work"'/driver.log" 2>&1 &
  driver=$!
  trap "kill $driver 2>/dev/null || true" EXIT
  for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$DRIVER_PORT) 2>/dev/null && break; sleep 0.2; done
  cd tests/e2e && node run.mjs || { cp -r "$PADMIN_DATA_DIR/logs" "$ARTIFACTS_DIR/app-logs" 2>/dev/null; exit 1; }
' &
session=$!
wait "$session"
