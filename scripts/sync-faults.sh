#!/usr/bin/env bash
# The offline-sync fault harness (issue 11): `scripts/sync-faults.sh [RUNS] [SEED]` (default 50
# runs from seed 1). Five devices, each a replica with its own outbox, edit the same incidents
# through fault-injecting proxies (drops, delays, duplicates, reordering, cut connections) while
# devices and the real `portal-server` (on PostgreSQL) are killed and restarted at random; then,
# faults off and everyone synced, every acknowledged edit must be applied once or shown as
# rejected/conflict, nothing duplicated, every replica equal to the server. Seeded: the same
# SEED replays the same decisions (SYNC_FAULT_RUN=k replays run k alone). The last line is
# `sync-faults: RUNS runs, L lost, D duplicated, C diverged`; the exit status is non-zero unless
# all three are 0. More than 100 runs are built and run in release.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=${1:-50}
SEED=${2:-1}
case $RUNS$SEED in *[!0-9]*) say "usage: scripts/sync-faults.sh [RUNS] [SEED] (whole numbers)"; exit 2 ;; esac

ensure_rust
ensure_services
PROFILE=()
if [ "$RUNS" -gt 100 ]; then PROFILE=(--release); fi
say "building portal-server ${PROFILE[*]}"
cargo build --quiet --locked -p server --bin portal-server "${PROFILE[@]}"
say "building the harness"
# Built, then run directly: its summary stays the last line, also when it fails.
HARNESS=$(cargo test --quiet --locked -p stories --test sync_faults --no-run --message-format=json "${PROFILE[@]}" |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "sync_faults" and m.get("executable"):
        print(m["executable"])')
[ -n "$HARNESS" ] || { say "the sync_faults harness was not built"; exit 1; }
say "sync-faults: $RUNS runs from seed $SEED"
SYNC_FAULT_RUNS=$RUNS SYNC_FAULT_SEED=$SEED "$HARNESS"
