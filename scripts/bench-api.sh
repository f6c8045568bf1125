#!/usr/bin/env bash
# Load benchmark of the portal API at a fixed request rate (hey -q), on loopback:
#   1. GET /v1/keys?limit=50 (a signed-in admin's list) at LIST_RATE req/s for DURATION s;
#   2. POST /v1/federation/verify (a partner's warm verify) at VERIFY_RATE req/s for DURATION s.
# Prints the achieved rate, p50/p99 latency and every non-2xx answer. The server is the
# `server`-profile build over a fresh PostgreSQL database and Redis (DATABASE_URL/REDIS_URL, the
# local ones, or throwaway ones started from the system binaries: see ensure_services in lib.sh),
# with a real OIDC provider issuing the admin's token. Figures, not assertions: the machine is
# shared, and the load generator runs on the same cores as the server, PostgreSQL and Redis.
#
#   scripts/bench-api.sh                     # DURATION=60 LIST_RATE=2000 VERIFY_RATE=5000
#   DURATION=10 scripts/bench-api.sh         # a quick look; WORKERS=50 for 50 connections (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/api-stack.sh

DURATION=${DURATION:-60}
LIST_RATE=${LIST_RATE:-2000}
VERIFY_RATE=${VERIFY_RATE:-5000}
WORKERS=${WORKERS:-10}

ensure_packages hey "${TOOL_PACKAGES[@]}"
say "building portal-server (profile server)"
cargo build --profile server --locked --quiet -p server
API_ENV=(PORTAL_RATE_LIMIT_PRINCIPAL="100000000/min burst 1000000")
start_api_stack target/server/portal-server

say "seeding 200 keys through the API"
for i in $(seq 200); do
  curl -sf -o "$WORK/key.json" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"name\":\"bench partner $i\"}" "$BASE/v1/keys"
done
key=$(json_field "$WORK/key.json" full_key)

report() { # name, target rate, hey output file
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
hey -n 2000 -c 20 -H "Authorization: Bearer $TOKEN" "$BASE/v1/keys?limit=50" >/dev/null
hey -n 2000 -c 20 -m POST -H "Authorization: Bearer $key" "$BASE/v1/federation/verify" >/dev/null

say "GET /v1/keys?limit=50 at $LIST_RATE req/s for $DURATION s"
hey -z "${DURATION}s" -c "$WORKERS" -q $((LIST_RATE / WORKERS)) -H "Authorization: Bearer $TOKEN" \
  "$BASE/v1/keys?limit=50" >"$WORK/list.txt"
say "POST /v1/federation/verify at $VERIFY_RATE req/s for $DURATION s"
hey -z "${DURATION}s" -c "$WORKERS" -q $((VERIFY_RATE / WORKERS)) -m POST -H "Authorization: Bearer $key" \
  "$BASE/v1/federation/verify" >"$WORK/verify.txt"

echo
echo "portal API on loopback — $(nproc) cores, Redis: $STACK_REDIS, $(date -u +%Y-%m-%dT%H:%MZ)"
report "GET /v1/keys?limit=50 (admin)" "$LIST_RATE" "$WORK/list.txt"
report "POST /v1/federation/verify (warm)" "$VERIFY_RATE" "$WORK/verify.txt"
