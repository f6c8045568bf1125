#!/usr/bin/env bash
# Runs the desktop end-to-end suite: the real binary under Xvfb, driven over WebDriver by
# tauri-driver + WebKitWebDriver, with a private HOME, data folder, D-Bus session and Secret
# Service (GNOME Keyring) — the user's keychain and app data are never touched.
# Usage: tests/e2e/run.sh [path/to/provider-admin]   (default: target/debug/provider-admin)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

app=$(realpath "${1:-target/debug/provider-admin}")
[ -x "$app" ] || { say "build the app first: cargo build -p provider-admin"; exit 1; }
if ! command -v tauri-driver >/dev/null; then
  say "installing tauri-driver"
  cargo install tauri-driver@2.1.0 --locked --quiet
fi
[ -d tests/e2e/node_modules ] || (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)

work=$(mktemp -d)
artifacts="$PWD/target/e2e-artifacts"
rm -rf "$artifacts"; mkdir -p "$artifacts" docs/screenshots "$work/export"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export DRIVER_PORT=$(free_port) NATIVE_PORT=$(free_port)
export APP="$app" SHOTS_DIR="$PWD/docs/screenshots" ARTIFACTS_DIR="$artifacts" PADMIN_E2E_EXPORT_DIR="$work/export"

# A fresh PostgreSQL database for the direct-profile scenario (dropped at the end).
pg_db=""
portal_db=""
server_pid=""
provider_pid=""
if [ -n "${DATABASE_URL:-}" ]; then
  pg_db="padmin_e2e_$(date +%s)_$$"
  psql "$DATABASE_URL" -qc "create database $pg_db" >/dev/null
  export E2E_PG_URL="${DATABASE_URL%/*}/$pg_db"
fi

# The portal-profile scenario: a real OIDC provider and the portal API server on loopback,
# over their own fresh database and the Redis of REDIS_URL.
server_bin="$PWD/target/debug/portal-server"
if [ -n "${DATABASE_URL:-}" ] && [ -x "$server_bin" ] && [ -d tests/oidc/node_modules ]; then
  portal_db="padmin_e2e_api_$(date +%s)_$$"
  psql "$DATABASE_URL" -qc "create database $portal_db" >/dev/null
  node tests/oidc/provider.mjs >"$work/provider.json" 2>"$work/provider.log" &
  provider_pid=$!
  for _ in $(seq 100); do [ -s "$work/provider.json" ] && break; sleep 0.1; done
  issuer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["issuer"])' "$work/provider.json")
  api_port=$(free_port)
  DATABASE_URL="${DATABASE_URL%/*}/$portal_db" REDIS_URL="${REDIS_URL:-}" OIDC_ISSUER="$issuer" \
    OIDC_AUDIENCE=portal-api OIDC_SCOPES=portal PORTAL_LISTEN="127.0.0.1:$api_port" \
    PORTAL_MASTER_KEY="1:$(head -c 32 /dev/urandom | base64)" PORTAL_REDIS_PREFIX="e2e$$" \
    "$server_bin" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$api_port/readyz" >/dev/null && break; sleep 0.2; done
  export E2E_PORTAL_URL="http://127.0.0.1:$api_port" E2E_SIGNIN_URL_FILE="$work/signin-url"
  # The app's "system browser": records the sign-in address for the test to play the user.
  printf '#!/bin/sh\nprintf "%%s" "$1" > "%s.tmp" && mv "%s.tmp" "%s"\n' "$E2E_SIGNIN_URL_FILE" "$E2E_SIGNIN_URL_FILE" "$E2E_SIGNIN_URL_FILE" >"$work/browser.sh"
  chmod +x "$work/browser.sh"
  export BROWSER="$work/browser.sh"
fi

say "end-to-end: $app"
set +e
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
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
'
status=$?
set -e
[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
[ -n "$provider_pid" ] && kill "$provider_pid" 2>/dev/null
if [ $status -ne 0 ]; then
  cp "$work/driver.log" "$work/server.log" "$work/provider.log" "$artifacts/" 2>/dev/null || true
  say "end-to-end FAILED: screenshots and page sources in $artifacts"
fi
[ -n "$pg_db" ] && psql "$DATABASE_URL" -qc "drop database if exists $pg_db with (force)" >/dev/null 2>&1
[ -n "$portal_db" ] && psql "$DATABASE_URL" -qc "drop database if exists $portal_db with (force)" >/dev/null 2>&1
rm -rf "$work"
exit $status
