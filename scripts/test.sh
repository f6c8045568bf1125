#!/usr/bin/env bash
# Runs every check and test of the workspace: formatting, lints, unit, conformance and CLI
# acceptance tests against SQLite and a real PostgreSQL, and the OS-keychain test on a private
# Secret Service. Installs missing system packages and starts a throwaway PostgreSQL and Redis
# from the system binaries when none is reachable (set DATABASE_URL / REDIS_URL to use your own).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
ensure_packages "${DESKTOP_PACKAGES[@]}" "${TOOL_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${SERVICE_PACKAGES[@]}"
build_ui
npm_ci tests/oidc
ensure_services
# Test databases are dropped by each test; on every exit, remove any a crashed test left behind.
drop_leftover_test_databases() {
  for db in $(psql "$DATABASE_URL" -Atqc "select datname from pg_database where datname like 'padmin_t_%'" 2>/dev/null); do
    psql "$DATABASE_URL" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  done
}
on_exit drop_leftover_test_databases

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
say "cargo test (unit, conformance × {SQLite, PostgreSQL, API server}, auth matrix, CLI acceptance, keychain, TS bindings, OpenAPI)"
cargo test --workspace --locked
say "desktop end-to-end (WebDriver)"
cargo build --quiet --locked -p provider-admin -p server -p padmin
tests/e2e/run.sh target/debug/provider-admin
say "all tests passed"
