# shellcheck shell=bash
# Shared helpers of the project scripts (sourced, not run).

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; return 1; fi
}

# Clean-up that runs on every exit path (success, failure, Ctrl-C, kill): `on_exit CMD…` adds a
# command; they run in reverse order of registration, so what was started last stops first, and
# can read the script's exit status in EXIT_STATUS. Scripts use this instead of `trap … EXIT`, so
# the helpers below can add their own.
EXIT_HOOKS=()
on_exit() {
  EXIT_HOOKS+=("$*")
  trap run_exit_hooks EXIT
  trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
}
run_exit_hooks() {
  EXIT_STATUS=$?
  local i
  trap - EXIT HUP INT TERM
  set +e
  for ((i = ${#EXIT_HOOKS[@]} - 1; i >= 0; i--)); do eval "${EXIT_HOOKS[i]}"; done
  exit "$EXIT_STATUS"
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
# The tools the scripts and tests call: python3 (free ports, JSON, benchmark reports), curl and
# pdftotext (the PDF tests read what a report says).
TOOL_PACKAGES=(python3 curl poppler-utils)
# The services the tests talk to (started throwaway when none answers: see ensure_services).
SERVICE_PACKAGES=(postgresql postgresql-client redis-server redis-tools)
E2E_PACKAGES=(xvfb xauth webkit2gtk-driver imagemagick dbus dbus-x11 gnome-keyring libsecret-tools)

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# One top-level field of a JSON file: json_field FILE KEY.
json_field() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# Node.js and npm, in a version the UI's build accepts. The range is the one the locked Vite
# declares (ui/package-lock.json, `engines.node`); Debian 12's own nodejs (18.x) is too old.
ensure_node() {
  if ! command -v npm >/dev/null; then ensure_packages nodejs npm; fi
  local verdict
  verdict=$(node -e '
    let range = "?";
    try { range = require("./ui/package-lock.json").packages["node_modules/vite"].engines.node; } catch {}
    const have = process.versions.node.split(".").map(Number);
    const cmp = (a, b) => { for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i]; return 0; };
    // The forms Vite uses: "^X.Y.Z || >=X.Y.Z" (and ">= X"); anything else is reported, not guessed.
    const ok = range.split("||").some((alt) => {
      const m = alt.trim().match(/^(\^|>=)\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/);
      if (!m) { console.log("unknown " + range); process.exit(0); }
      const want = [Number(m[2]), Number(m[3] || 0), Number(m[4] || 0)];
      return m[1] === "^" ? have[0] === want[0] && cmp(have, want) >= 0 : cmp(have, want) >= 0;
    });
    console.log((ok ? "ok " : "old ") + range);
  ' 2>&1) || verdict="old (node failed: $verdict)"
  case $verdict in
    ok*) ;;
    unknown*) say "cannot read the Node.js range '${verdict#unknown }' of the UI's Vite: check it by hand" ;;
    *)
      say "Node.js $(node --version 2>/dev/null || echo '(unusable)') cannot build the UI: its Vite needs Node.js ${verdict#old }."
      say "Install Node.js 22 LTS (or 20.19+) and put it first on PATH, then run this again — for example"
      say "with nvm (\`nvm install 22\`), NodeSource's nodejs Debian package, or the official Linux binaries"
      say "from the Node.js download page. Debian 12's own nodejs package (18.x) is too old."
      exit 1 ;;
  esac
}

# `npm ci` in DIR when its packages are missing or its lockfile is newer than the installed tree
# (npm writes node_modules/.package-lock.json at the end of every install).
npm_ci() {
  local dir=$1
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing the packages of $dir (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# Builds the UI into ui/dist (the desktop binary embeds it).
build_ui() {
  ensure_node
  npm_ci ui
  say "building the UI"
  (cd ui && npm run --silent build >/dev/null)
}

# PostgreSQL and Redis for tests, benchmarks and fuzzing. Exports DATABASE_URL and REDIS_URL:
# those already set are kept; else the local servers (127.0.0.1:5432, :6379) when they answer;
# else throwaway ones started from the system binaries in a temp folder, stopped on exit.
# THROWAWAY_PG=1 / THROWAWAY_REDIS=1 force the throwaway ones (to test this path).
ensure_services() {
  ensure_packages "${TOOL_PACKAGES[@]}" "${SERVICE_PACKAGES[@]}"
  SERVICES_DIR=$(mktemp -d)
  chmod 755 "$SERVICES_DIR"
  on_exit stop_services
  if [ -z "${DATABASE_URL:-}" ]; then
    local local_pg="postgres://postgres@127.0.0.1:5432/postgres"
    if [ "${THROWAWAY_PG:-0}" != 1 ] && psql "$local_pg" -Atqc 'select 1' >/dev/null 2>&1; then
      export DATABASE_URL=$local_pg
    else
      start_throwaway_pg
    fi
  fi
  say "PostgreSQL: ${DATABASE_URL%%@*}@…"
  if [ -z "${REDIS_URL:-}" ]; then
    if [ "${THROWAWAY_REDIS:-0}" != 1 ] && redis-cli -u redis://127.0.0.1:6379 ping 2>/dev/null | grep -q PONG; then
      export REDIS_URL="redis://127.0.0.1:6379"
    else
      start_throwaway_redis
    fi
  fi
  say "Redis: $REDIS_URL"
}

start_throwaway_pg() {
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PGDATA_TMP="$SERVICES_DIR/pg"
  local port; port=$(free_port)
  say "no PostgreSQL answers: starting a throwaway cluster on port $port"
  mkdir -p "$PGDATA_TMP"
  # initdb refuses to run as root: as root, the cluster belongs to the postgres user.
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$SERVICES_DIR"; fi
  as_pg "$PGBIN/initdb" -D "$PGDATA_TMP" -U postgres --auth=trust >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA_TMP" -l "$SERVICES_DIR/pg.log" -w \
    -o "-p $port -k $SERVICES_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

start_throwaway_redis() {
  REDIS_TMP_PORT=$(free_port)
  say "no Redis answers: starting a throwaway server on port $REDIS_TMP_PORT"
  redis-server --port "$REDIS_TMP_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$SERVICES_DIR" --daemonize yes --logfile "$SERVICES_DIR/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_TMP_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  export REDIS_URL="redis://127.0.0.1:$REDIS_TMP_PORT"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_services() {
  if [ -n "${REDIS_TMP_PORT:-}" ]; then
    redis-cli -p "$REDIS_TMP_PORT" shutdown nosave >/dev/null 2>&1 || true
    REDIS_TMP_PORT=""
  fi
  if [ -n "${PGDATA_TMP:-}" ]; then
    say "stopping the throwaway PostgreSQL"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_TMP" -m fast stop >/dev/null 2>&1 || true
    PGDATA_TMP=""
  fi
  rm -rf "${SERVICES_DIR:?}"
}
