#!/usr/bin/env bash
# Load benchmark of the portal API at a fixed request rate (hey -q), on loopback:
#   1. GET /v1/keys?limit=50 (a signed-in admin's list) at LIST_RATE req/s for DURATION s;
#   2. POST /v1/federation/verify (a partner's warm verify) at VERIFY_RATE req/s for DURATION s.
# Prints the achieved rate, p50/p99 latency and every non-2xx answer. The server is the release
# build over a fresh PostgreSQL database and Redis (REDIS_URL, or the local one), with a real
# OIDC provider issuing the admin's token. Figures, not assertions: the machine is shared.
#
#   scripts/bench-api.sh                     # DURATION=60 LIST_RATE=2000 VERIFY_RATE=5000
#   DURATION=10 scripts/bench-api.sh         # a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DURATION=${DURATION:-60}
LIST_RATE=${LIST_RATE:-2000}
VERIFY_RATE=${VERIFY_RATE:-5000}
WORKERS=${WORKERS:-50}

ensure_packages hey curl "${SERVICE_PACKAGES[@]}"
ensure_node
[ -d tests/oidc/node_modules ] || (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
say "building portal-server (release)"
cargo build --release --locked --quiet -p server

work=$(mktemp -d)
pids=()
admin_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="padmin_bench_$(date +%s)_$$"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  psql "$admin_url" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql "$admin_url" -qc "create database $db" >/dev/null
redis=${REDIS_URL:-redis://127.0.0.1:6379}
redis-cli -u "$redis" ping >/dev/null 2>&1 || { say "no Redis at $redis: rate limits stay in-process"; redis=""; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

OIDC_ACCESS_TTL=3600 node tests/oidc/provider.mjs >"$work/provider.json" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/provider.json" ] && break; sleep 0.1; done
issuer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["issuer"])' "$work/provider.json")

port=$(free_port)
base="http://127.0.0.1:$port"
DATABASE_URL="${admin_url%/*}/$db" REDIS_URL="$redis" OIDC_ISSUER="$issuer" OIDC_AUDIENCE=portal-api \
  OIDC_SCOPES=portal PORTAL_LISTEN="127.0.0.1:$port" PORTAL_LOG=warn \
  PORTAL_MASTER_KEY="1:$(head -c 32 /dev/urandom | base64)" PORTAL_REDIS_PREFIX="bench$$" \
  PORTAL_RATE_LIMIT_PRINCIPAL="100000000/min burst 1000000" \
  target/release/portal-server >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "$base/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }

token=$(node tests/oidc/signin.mjs token "$issuer" alice)
say "seeding 200 keys through the API"
for i in $(seq 200); do
  curl -sf -o "$work/key.json" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d "{\"name\":\"bench partner $i\"}" "$base/v1/keys"
done
key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["full_key"])' "$work/key.json")

report() { # name, rate, hey output file
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
name, target, path = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
def grab(pattern):
    m = re.search(pattern, text)
    return float(m.group(1)) if m else float("nan")
rps = grab(r"Requests/sec:\s+([\d.]+)")
p50 = grab(r"50% in ([\d.]+) secs") * 1000
p99 = grab(r"99% in ([\d.]+) secs") * 1000
statuses = re.findall(r"\[(\d+)\]\s+(\d+) responses", text)
errors = re.search(r"Error distribution:(.*)", text, re.S)
bad = sum(int(n) for code, n in statuses if not code.startswith("2"))
total = sum(int(n) for _, n in statuses)
err = errors.group(1).strip().splitlines() if errors else []
print(f"{name:34} target {target:>5} req/s  achieved {rps:8.1f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
      f"responses {total}  non-2xx {bad}  transport errors {len(err)}")
for line in err[:5]:
    print("    ", line.strip())
PY
}

say "warming up"
hey -n 2000 -c 20 -H "Authorization: Bearer $token" "$base/v1/keys?limit=50" >/dev/null
hey -n 2000 -c 20 -m POST -H "Authorization: Bearer $key" "$base/v1/federation/verify" >/dev/null

say "GET /v1/keys?limit=50 at $LIST_RATE req/s for $DURATION s"
hey -z "${DURATION}s" -c "$WORKERS" -q $((LIST_RATE / WORKERS)) -H "Authorization: Bearer $token" \
  "$base/v1/keys?limit=50" >"$work/list.txt"
say "POST /v1/federation/verify at $VERIFY_RATE req/s for $DURATION s"
hey -z "${DURATION}s" -c "$WORKERS" -q $((VERIFY_RATE / WORKERS)) -m POST -H "Authorization: Bearer $key" \
  "$base/v1/federation/verify" >"$work/verify.txt"

echo
echo "portal API on loopback — $(nproc) cores, Redis: ${redis:-none}, $(date -u +%Y-%m-%dT%H:%MZ)"
report "GET /v1/keys?limit=50 (admin)" "$LIST_RATE" "$work/list.txt"
report "POST /v1/federation/verify (warm)" "$VERIFY_RATE" "$work/verify.txt"
