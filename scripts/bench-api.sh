#!/usr/bin/env bash
# Load benchmark of the portal API at a fixed request rate (hey -q), on loopback:
#   1. GET /v1/keys?limit=50 (a signed-in admin's list) at LIST_RATE req/s for DURATION s;
#   2. POST /v1/federation/verify (a partner's warm verify) at VERIFY_RATE req/s for DURATION s;
#   and, as the same-run baseline, GET /healthz (a trivial route: the server's and the load
#   generator's floor on this machine right now) at each of those rates, right before each.
# Prints the achieved rate, p50/p99 latency, every non-2xx answer, and each endpoint's p99 beside
# the baseline's and as a ratio: machine noise moves both, a regression moves the ratio. The server is the
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
API_ENV=(PORTAL_RATE_LIMIT_PRINCIPAL="100000000/min burst 1000000"
  PORTAL_RATE_LIMIT_FEDERATION_KEY="100000000/min burst 1000000"
  PORTAL_RATE_LIMIT_IP="100000000/min burst 1000000")
start_api_stack target/server/portal-server

say "seeding 200 keys through the API"
for i in $(seq 200); do
  curl -sf -o "$WORK/key.json" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"name\":\"bench partner $i\"}" "$BASE/v1/keys"
done
key=$(json_field "$WORK/key.json" full_key)

report() { # name, target rate, hey output file[, baseline hey output file]
  python3 - "$1" "$2" "$3" "${4:-}" <<'PY'
import re, sys
name, target, path, base = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def parse(path):
    text = open(path).read()
    def grab(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else float("nan")
    statuses = re.findall(r"\[(\d+)\]\s+(\d+) responses", text)
    errors = re.search(r"Error distribution:(.*)", text, re.S)
    return dict(
        rps=grab(r"Requests/sec:\s+([\d.]+)"),
        p50=grab(r"50% in ([\d.]+) secs") * 1000,
        p99=grab(r"99% in ([\d.]+) secs") * 1000,
        bad=sum(int(n) for code, n in statuses if not code.startswith("2")),
        total=sum(int(n) for _, n in statuses),
        err=errors.group(1).strip().splitlines() if errors else [],
    )
r = parse(path)
line = (f"{name:34} target {target:>5} req/s  achieved {r['rps']:8.1f} req/s  p50 {r['p50']:6.2f} ms  "
        f"p99 {r['p99']:6.2f} ms  responses {r['total']}  non-2xx {r['bad']}  transport errors {len(r['err'])}")
if base:
    b = parse(base)
    line += f"\n{'':34} baseline /healthz at the same rate: achieved {b['rps']:8.1f} req/s  p50 {b['p50']:6.2f} ms  p99 {b['p99']:6.2f} ms  → p99 ratio {r['p99'] / b['p99']:.2f}×"
print(line)
for line in r["err"][:5]:
    print("    ", line.strip())
PY
}

say "warming up"
hey -n 2000 -c 20 -H "Authorization: Bearer $TOKEN" "$BASE/v1/keys?limit=50" >/dev/null
hey -n 2000 -c 20 -m POST -H "Authorization: Bearer $key" "$BASE/v1/federation/verify" >/dev/null
hey -n 2000 -c 20 "$BASE/healthz" >/dev/null

# CPU seconds used so far by each part of the stack (the whole machine's processes by name),
# so each run can say where the time went: server, PostgreSQL, Redis, the load generator.
cpu() { ps -eo comm=,cputimes= | awk '{c[$1]+=$2} END {for (k in c) print k, c[k]}' | sort; }
where_time_went() { # before file, after file, seconds
  python3 - "$1" "$2" "$3" <<'PY'
import sys
def load(p):
    return {k: float(v) for k, v in (l.split() for l in open(p) if l.strip())}
a, b, secs = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
parts = {"portal-server": "server", "postgres": "PostgreSQL", "redis-server": "Redis", "hey": "load generator (hey)"}
used = {name: (b.get(k, 0) - a.get(k, 0)) / secs for k, name in parts.items()}
other = (sum(b.values()) - sum(a.values())) / secs - sum(used.values())
print("    CPU (cores busy): " + "  ".join(f"{n} {u:.2f}" for n, u in used.items()) + f"  other {other:.2f}")
PY
}
run() { # rate, output file, hey arguments…
  local rate=$1 out=$2
  shift 2
  cpu >"$out.cpu0"
  # hey is gone before the second snapshot: its own CPU time comes from the shell's `time`.
  local TIMEFORMAT='%U %S'
  { time hey -z "${DURATION}s" -c "$WORKERS" -q $((rate / WORKERS)) "$@" >"$out" ; } 2>"$out.hey"
  cpu >"$out.cpu1"
  awk '{print "hey", $1 + $2}' "$out.hey" >>"$out.cpu1"
}
say "baseline GET /healthz at $LIST_RATE req/s for $DURATION s"
run "$LIST_RATE" "$WORK/base-list.txt" "$BASE/healthz"
say "GET /v1/keys?limit=50 at $LIST_RATE req/s for $DURATION s"
run "$LIST_RATE" "$WORK/list.txt" -H "Authorization: Bearer $TOKEN" "$BASE/v1/keys?limit=50"
say "baseline GET /healthz at $VERIFY_RATE req/s for $DURATION s"
run "$VERIFY_RATE" "$WORK/base-verify.txt" "$BASE/healthz"
say "POST /v1/federation/verify at $VERIFY_RATE req/s for $DURATION s"
run "$VERIFY_RATE" "$WORK/verify.txt" -m POST -H "Authorization: Bearer $key" "$BASE/v1/federation/verify"

echo
echo "portal API on loopback — $(nproc) cores, Redis: $STACK_REDIS, $(date -u +%Y-%m-%dT%H:%MZ)"
for f in base-list list base-verify verify; do
  where_time_went "$WORK/$f.txt.cpu0" "$WORK/$f.txt.cpu1" "$DURATION" >"$WORK/$f.where"
done
report "GET /v1/keys?limit=50 (admin)" "$LIST_RATE" "$WORK/list.txt" "$WORK/base-list.txt"
cat "$WORK/list.where"; echo "    baseline:"; cat "$WORK/base-list.where"
report "POST /v1/federation/verify (warm)" "$VERIFY_RATE" "$WORK/verify.txt" "$WORK/base-verify.txt"
cat "$WORK/verify.where"; echo "    baseline:"; cat "$WORK/base-verify.where"
