#!/usr/bin/env bash
# Fuzzes the portal API from its own OpenAPI document with schemathesis: every operation, with
# generated valid and invalid input, signed in as a provider admin. Fails on any 5xx, any
# response that breaks the document (status, content type, schema), or any accepted input the
# schema forbids. MAX_TIME (default 300 s) bounds the run. PostgreSQL and Redis: DATABASE_URL/
# REDIS_URL, the local ones, or throwaway ones (see ensure_services in lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/api-stack.sh

MAX_TIME=${MAX_TIME:-300}
ensure_packages "${TOOL_PACKAGES[@]}" python3-venv
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  say "installing schemathesis (PyPI) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis==4.32.5
fi
say "building portal-server"
cargo build --locked --quiet -p server
API_ENV=(PORTAL_RATE_LIMIT_PRINCIPAL="100000000/min burst 1000000")
start_api_stack target/debug/portal-server
say "fuzzing $BASE/openapi.json for at most $MAX_TIME s"
"$venv/bin/schemathesis" run "$BASE/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
  --max-time "$MAX_TIME" --seed "${SEED:-1}" --no-color \
  --report junit --report-dir "$WORK/report" | tee "$WORK/fuzz.txt"
