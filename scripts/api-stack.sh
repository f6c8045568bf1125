# Sourced by the API scripts (bench, fuzz): starts a throwaway portal stack on loopback — a fresh
# PostgreSQL database, the test OIDC provider (tests/oidc) and the portal-server binary given —
# and signs in as the provider admin `alice`. Sets BASE, ISSUER, TOKEN and WORK; everything is
# stopped and dropped on exit. Extra server settings: the array API_ENV (e.g. budgets).

start_api_stack() {
  local server_bin=$1
  ensure_packages curl "${SERVICE_PACKAGES[@]}"
  ensure_node
  [ -d tests/oidc/node_modules ] || (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
  WORK=$(mktemp -d)
  STACK_PIDS=()
  STACK_ADMIN=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
  STACK_DB="padmin_stack_$(date +%s)_$$"
  trap stop_api_stack EXIT
  psql "$STACK_ADMIN" -qc "create database $STACK_DB" >/dev/null
  STACK_REDIS=${REDIS_URL:-redis://127.0.0.1:6379}
  redis-cli -u "$STACK_REDIS" ping >/dev/null 2>&1 || { say "no Redis at $STACK_REDIS: limits stay in-process"; STACK_REDIS=""; }
  OIDC_ACCESS_TTL=3600 node tests/oidc/provider.mjs >"$WORK/provider.json" 2>/dev/null &
  STACK_PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/provider.json" ] && break; sleep 0.1; done
  ISSUER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["issuer"])' "$WORK/provider.json")
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  BASE="http://127.0.0.1:$port"
  env DATABASE_URL="${STACK_ADMIN%/*}/$STACK_DB" REDIS_URL="$STACK_REDIS" OIDC_ISSUER="$ISSUER" \
    OIDC_AUDIENCE=portal-api OIDC_SCOPES=portal PORTAL_LISTEN="127.0.0.1:$port" PORTAL_LOG=warn \
    PORTAL_MASTER_KEY="1:$(head -c 32 /dev/urandom | base64)" PORTAL_REDIS_PREFIX="stack$$" \
    "${API_ENV[@]}" "$server_bin" >"$WORK/server.log" 2>&1 &
  STACK_PIDS+=($!)
  for _ in $(seq 150); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.2; done
  curl -sf "$BASE/readyz" >/dev/null || { cat "$WORK/server.log"; return 1; }
  TOKEN=$(node tests/oidc/signin.mjs token "$ISSUER" alice)
}

stop_api_stack() {
  for p in "${STACK_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  psql "$STACK_ADMIN" -qc "drop database if exists $STACK_DB with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
