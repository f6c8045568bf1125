#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, lints, unit, conformance and CLI
# acceptance tests against SQLite and a real PostgreSQL, and the OS-keychain test on a private
# Secret Service. Installs missing system packages and starts a throwaway PostgreSQL from the
# system binaries when none is reachable (set DATABASE_URL to use your own).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
ensure_packages "${DESKTOP_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${SERVICE_PACKAGES[@]}"
build_ui
if [ ! -d tests/oidc/node_modules ] || [ tests/oidc/package-lock.json -nt tests/oidc/node_modules/.package-lock.json ]; then
  say "installing the test OIDC provider (npm ci)"
  (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d)
cleanup() {
  if [ -n "${REDIS_TMP_PORT:-}" ]; then
    redis-cli -p "$REDIS_TMP_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -n "${PGDATA_TMP:-}" ]; then
    say "stopping the throwaway PostgreSQL"
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_TMP" -m fast stop >/dev/null 2>&1 ||
      "$PGBIN/pg_ctl" -D "$PGDATA_TMP" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

pg_answers() { psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

# THROWAWAY_PG=1 forces a private cluster even when one answers (to test this path).
if [ -z "${DATABASE_URL:-}" ]; then
  if [ "${THROWAWAY_PG:-0}" != 1 ] && pg_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PGDATA_TMP="$work/pg"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    say "no PostgreSQL answers: starting a throwaway cluster on port $port"
    mkdir -p "$PGDATA_TMP"
    run_pg() { if [ "$(id -u)" = 0 ]; then chown -R postgres "$work"; runuser -u postgres -- "$@"; else "$@"; fi; }
    chmod 755 "$work"
    run_pg "$PGBIN/initdb" -D "$PGDATA_TMP" -U postgres --auth=trust >/dev/null
    run_pg "$PGBIN/pg_ctl" -D "$PGDATA_TMP" -l "$work/pg.log" -w \
      -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  fi
fi
say "PostgreSQL: ${DATABASE_URL%%@*}@…"

# Redis: REDIS_URL, else the local one, else a throwaway server (THROWAWAY_REDIS=1 forces it).
if [ -z "${REDIS_URL:-}" ]; then
  if [ "${THROWAWAY_REDIS:-0}" != 1 ] && redis-cli -u redis://127.0.0.1:6379 ping 2>/dev/null | grep -q PONG; then
    export REDIS_URL="redis://127.0.0.1:6379"
  else
    REDIS_TMP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    say "no Redis answers: starting a throwaway server on port $REDIS_TMP_PORT"
    redis-server --port "$REDIS_TMP_PORT" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$work" --daemonize yes --logfile "$work/redis.log" >/dev/null
    for _ in $(seq 50); do redis-cli -p "$REDIS_TMP_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
    export REDIS_URL="redis://127.0.0.1:$REDIS_TMP_PORT"
  fi
fi
say "Redis: $REDIS_URL"

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "cargo test (unit, conformance × {SQLite, PostgreSQL, API server}, auth matrix, CLI acceptance, keychain, TS bindings, OpenAPI)"
cargo test --workspace --locked
say "desktop end-to-end (WebDriver)"
cargo build --quiet --locked -p provider-admin -p server
tests/e2e/run.sh target/debug/provider-admin

# Test databases are dropped by each test; remove any a crashed test left behind.
for db in $(psql "$DATABASE_URL" -Atqc "select datname from pg_database where datname like 'padmin_t_%'" 2>/dev/null); do
  psql "$DATABASE_URL" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
done
say "all tests passed"
