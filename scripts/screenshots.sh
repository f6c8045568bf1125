#!/usr/bin/env bash
# Refreshes docs/screenshots/ on purpose: builds the UI, the desktop app and the API server, then
# runs the desktop end-to-end suite with UPDATE_SCREENSHOTS=1, which writes a screenshot of every
# page there once every scenario has passed. (Test runs, CI included, write them to
# target/e2e-screenshots/ and leave the committed ones alone.) Look at the pictures and at
# `git status docs/screenshots` before committing them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
ensure_packages "${DESKTOP_PACKAGES[@]}" "${TOOL_PACKAGES[@]}" "${E2E_PACKAGES[@]}" "${SERVICE_PACKAGES[@]}"
build_ui
say "building the app and portal-server"
cargo build --quiet --locked -p provider-admin -p server
UPDATE_SCREENSHOTS=1 tests/e2e/run.sh target/debug/provider-admin
say "docs/screenshots refreshed:"
git status --short docs/screenshots >&2
