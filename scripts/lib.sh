# Shared helpers of the project scripts (sourced, not run).

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; return 1; fi
}

# Installs the Debian/Ubuntu packages given, skipping those already present.
ensure_packages() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing system packages: ${missing[*]}"
  local cache; cache=$(mktemp -d); mkdir -p "$cache/partial"
  as_root apt-get update -qq
  # A private archive cache avoids clean-up hooks deleting packages mid-install.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dir::Cache::Archives="$cache/" "${missing[@]}" >/dev/null
  rm -rf "$cache"
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    say "Rust is required: install it with rustup (https://rustup.rs), then run this again"; exit 1
  fi
}

# The system libraries of the desktop app (Tauri on WebKitGTK) and of its end-to-end tests.
DESKTOP_PACKAGES=(libwebkit2gtk-4.1-dev build-essential libxdo-dev libssl-dev libayatana-appindicator3-dev
  librsvg2-dev pkg-config)
# The services the tests talk to (started throwaway when none answers).
SERVICE_PACKAGES=(postgresql postgresql-client redis-server redis-tools)
E2E_PACKAGES=(curl xvfb xauth webkit2gtk-driver imagemagick dbus dbus-x11 gnome-keyring libsecret-tools)

ensure_node() {
  if ! command -v npm >/dev/null; then ensure_packages nodejs npm; fi
}

# Builds the UI into ui/dist (the desktop binary embeds it).
build_ui() {
  ensure_node
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    say "installing the UI's packages (npm ci)"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  fi
  say "building the UI"
  (cd ui && npm run --silent build >/dev/null)
}
