# shellcheck shell=bash
# Sourced by the API scripts (bench, fuzz): starts a throwaway portal stack on loopback — a fresh
# PostgreSQL database (on DATABASE_URL's server, the local one, or a throwaway cluster: see
# ensure_services in lib.sh), Redis likewise, the test OIDC provider (tests/oidc) and the
# portal-server binary given — and signs in as the provider admin `alice`. Sets BASE, ISSUER,
# TOKEN and WORK; everything is stopped and dropped on exit. Extra server settings: the array
# API_ENV (e.g. budgets).

start_api_stack() {
  local server_bin=$1
  ensure_node
  npm_ci tests/oidc
  ensure_services
  WORK=$(mktemp -d)
  STACK_PIDS=()
  STACK_DB="padmin_stack_$(date +%s)_$$"
  on_exit stop_api_stack
  psql "$DATABASE_URL" -qc "create database $STACK_DB" >/dev/null
  STACK_REDIS=$REDIS_URL
  OIDC_ACCESS_TTL=3600 node tests/oidc/provider.mjs >"$WORK/provider.json" 2>"$WORK/provider.log" &
  STACK_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/provider.json" ] && break; sleep 0.1; done
  ISSUER=$(json_field "$WORK/provider.json" issuer)
  local port; port=$(free_port)
  BASE="http://127.0.0.1:$port"
  env DATABASE_URL="${DATABASE_URL%/*}/$STACK_DB" REDIS_URL="$STACK_REDIS" OIDC_ISSUER="$ISSUER" \
    OIDC_AUDIENCE=portal-api OIDC_SCOPES=portal PORTAL_LISTEN="127.0.0.1:$port" PORTAL_LOG=warn \
    PORTAL_MASTER_KEY="1:$(head -c 32 /dev/urandom | base64)" PORTAL_REDIS_PREFIX="stack$$" \
    "${API_ENV[@]}" "$server_bin" >"$WORK/server.log" 2>&1 &
  STACK_PIDS+=($!)
  for _ in $(seq 150); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.2; done
  curl -sf "$BASE/readyz" >/dev/null || { cat "$WORK/server.log"; return 1; }
  TOKEN=$(node tests/oidc/signin.mjs token "$ISSUER" alice)
}

stop_api_stack() {
  local p
  for p in "${STACK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${STACK_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$DATABASE_URL" -qc "drop database if exists $STACK_DB with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
