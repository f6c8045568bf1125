#!/usr/bin/env bash
# Desktop figures, next to a minimal Tauri app built the same way in the same run:
# stripped release binary size, time from launch to the first rendered page, and idle RSS of the
# whole process tree (app + WebKit processes) 10 s after launch. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_packages "${DESKTOP_PACKAGES[@]}" "${E2E_PACKAGES[@]}" bc
build_ui

say "release build of Provider Admin"
cargo build --quiet --locked --release -p provider-admin
app=target/release/provider-admin

# The baseline: a minimal Tauri app (one page that reports when it is rendered), same Tauri
# version, same release profile as the workspace's, built in its own folder.
base=target/bench-minimal
mkdir -p "$base/src" "$base/dist"
cat > "$base/Cargo.toml" <<TOML
[package]
name = "minimal-tauri"
version = "0.1.0"
edition = "2021"
[dependencies]
tauri = { version = "=2.12.5", features = ["custom-protocol"] }
[build-dependencies]
tauri-build = "=2.7.4"
[profile.release]
strip = true
lto = true
codegen-units = 1
opt-level = "s"
panic = "abort"
[workspace]
TOML
cat > "$base/build.rs" <<'RS'
fn main() { tauri_build::build() }
RS
cat > "$base/src/main.rs" <<'RS'
use std::time::Instant;
static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
#[tauri::command]
fn ui_ready() { println!("first-page-ms {}", START.get().unwrap().elapsed().as_millis()); }
fn main() {
    START.get_or_init(Instant::now);
    tauri::Builder::default().invoke_handler(tauri::generate_handler![ui_ready]).run(tauri::generate_context!()).unwrap();
}
RS
cat > "$base/dist/index.html" <<'HTML'
<!doctype html><html><body><h1>Hello</h1><script>
requestAnimationFrame(() => window.__TAURI_INTERNALS__.invoke("ui_ready"));
</script></body></html>
HTML
cat > "$base/tauri.conf.json" <<'JSON'
{ "productName": "minimal", "version": "0.1.0", "identifier": "dev.provider-admin.bench-minimal",
  "build": { "frontendDist": "dist" }, "app": { "withGlobalTauri": false, "windows": [{ "title": "minimal", "width": 1280, "height": 800 }] },
  "bundle": { "active": false, "icon": ["../../icons/icon.png"] } }
JSON
mkdir -p "$base/capabilities"
echo '{"identifier":"default","windows":["main"],"permissions":["core:default"]}' > "$base/capabilities/default.json"
say "release build of the minimal Tauri app"
(cd "$base" && CARGO_TARGET_DIR="$PWD/../bench-minimal-target" cargo build --quiet --release)
minimal="target/bench-minimal-target/release/minimal-tauri"

tree_rss_kb() { # RSS of a process and all its descendants, in kB
  local total=0 pids=("$1") p
  while [ ${#pids[@]} -gt 0 ]; do
    p=${pids[0]}; pids=("${pids[@]:1}")
    total=$((total + $(awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)))
    for c in $(cat /proc/$p/task/*/children 2>/dev/null); do pids+=("$c"); done
  done
  echo $total
}

measure() { # name binary → prints size, first page, idle RSS
  local name=$1 bin=$2 work; work=$(mktemp -d)
  local size; size=$(stat -c %s "$bin")
  local out="$work/out"
  PADMIN_BENCH=1 PADMIN_DATA_DIR="$work/data" PORTAL_MASTER_KEY_FILE="$work/master.key" HOME="$work" \
    xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$bin" >"$out" 2>/dev/null &
  local wrapper=$!
  sleep 10
  local pid; pid=$(pgrep -n -f "^$(realpath "$bin")$" || pgrep -n -f "$(basename "$bin")$" || true)
  local rss=0; [ -n "$pid" ] && rss=$(tree_rss_kb "$pid")
  local first; first=$(awk '/first-page-ms/ {print $2; exit}' "$out")
  kill "$pid" 2>/dev/null || true; wait $wrapper 2>/dev/null || true
  printf '  %-16s binary %6.1f MB   first page %6s ms   idle RSS (process tree) %6.1f MB\n' \
    "$name" "$(echo "$size/1048576" | bc -l)" "${first:-?}" "$(echo "$rss/1024" | bc -l)"
  echo "$size ${first:-0} $rss" > "target/bench-results/$name.txt"
  rm -rf "$work"
}

mkdir -p target/bench-results
say "measuring (10 s each)"
measure minimal "$minimal"
measure provider-admin "$app"
read -r bs _ br < target/bench-results/minimal.txt
read -r as _ ar < target/bench-results/provider-admin.txt
printf '\n  ratios vs minimal: binary %.2f×, idle RSS %.2f×   (targets: binary ≤ 15 MB, first page ≤ 1000 ms, RSS ≤ 1.3×)\n' \
  "$(echo "$as/$bs" | bc -l)" "$(echo "$ar/$br" | bc -l)"
