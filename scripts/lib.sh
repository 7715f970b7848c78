# Shared set-up steps for scripts/demo.sh and scripts/test.sh. Each step installs what is
# missing and only that, and says what it is doing.
set -euo pipefail

NEXORA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$NEXORA_ROOT"

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "this step needs root: run as root or install sudo (it ran: $*)"
  fi
}

require_platform() {
  [ "$(uname -s)" = Linux ] || fail "automatic set-up supports Debian and Ubuntu only. On $(uname -s), install Node.js 20+, a Docker engine and mmdebstrap by hand, then run: npm ci && npm run build"
  command -v apt-get >/dev/null 2>&1 || fail "automatic set-up needs apt-get (Debian or Ubuntu). Install by hand: Node.js 20+, a Docker engine (docker.io), mmdebstrap, and for the tests PostgreSQL; then run: npm ci && npm run build"
  command -v node >/dev/null 2>&1 || fail "Node.js 20 or newer is required: install it (https://nodejs.org or your distribution's nodejs package) and run this again"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || fail "Node.js $major is too old: Nexora needs Node.js 20 or newer"
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing ${missing[*]} from the distribution's packages"
  if [ "$APT_UPDATED" = 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_node_modules() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing npm packages (the versions package-lock.json pins)"
    # `npm ci` installs exactly the lock. It refuses a lock that is out of step with
    # package.json (an edit not yet followed by `npm install`); then `npm install` brings
    # the lock up to date with the same pinned versions where they still fit.
    if ! npm ci --no-audit --no-fund --loglevel=error; then
      say "npm ci refused package-lock.json (out of step with package.json?): running npm install instead"
      npm install --no-audit --no-fund --loglevel=error
    fi
  fi
}

ensure_build() {
  say "building the CLI"
  npm run --silent build
}

docker_answers() {
  # The Engine API's _ping through whatever DOCKER_HOST names (or the default socket).
  node -e '
    const Docker = require("dockerode");
    new Docker().ping().then(() => process.exit(0), () => process.exit(1));
    setTimeout(() => process.exit(1), 5000).unref();
  ' 2>/dev/null
}

ensure_docker() {
  if docker_answers; then
    say "Docker engine answers${DOCKER_HOST:+ at $DOCKER_HOST}"
    return 0
  fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
    fail "DOCKER_HOST is $DOCKER_HOST but no Docker engine answers there. Start that engine, or unset DOCKER_HOST to use a local one"
  fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  if pgrep -x dockerd >/dev/null 2>&1; then
    say "dockerd is running but not answering yet; waiting"
  else
    say "starting dockerd in the background (log: /var/log/nexora-dockerd.log)"
    as_root sh -c 'nohup setsid dockerd >/var/log/nexora-dockerd.log 2>&1 </dev/null &'
  fi
  for _ in $(seq 1 120); do
    if docker_answers; then say "Docker engine is up"; return 0; fi
    sleep 0.5
  done
  fail "dockerd did not come up within 60 s: see /var/log/nexora-dockerd.log"
}

ensure_image_tools() {
  # The keyring lets mmdebstrap verify Debian's packages on an Ubuntu host too.
  apt_install mmdebstrap debian-archive-keyring
}

ensure_postgres() {
  apt_install postgresql
  local version
  version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    say "starting PostgreSQL $version"
    as_root pg_ctlcluster "$version" main start
  fi
  # A role and database for the tests, reached over loopback with a password.
  as_root su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='nexora_test'\"" | grep -q 1 ||
    as_root su postgres -c "psql -qc \"CREATE ROLE nexora_test LOGIN SUPERUSER PASSWORD 'nexora_test'\""
  as_root su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='nexora_test'\"" | grep -q 1 ||
    as_root su postgres -c "createdb -O nexora_test nexora_test"
  export NEXORA_TEST_DATABASE_URL="${NEXORA_TEST_DATABASE_URL:-postgres://nexora_test:nexora_test@127.0.0.1:5432/nexora_test}"
}

ensure_test_tools() {
  # tmux and python3 drive the terminal and command-server suites on the host; Chromium
  # (Debian's package) is the browser the web-view suite drives; zsh and fish load the
  # completion scripts `nexora completion` prints. The Swarm suite builds its nodes with
  # network namespaces (iproute2, util-linux) on a loop-mounted ext4 file (e2fsprogs, mount).
  apt_install tmux python3 chromium zsh fish iproute2 util-linux e2fsprogs mount
}

ensure_image() {
  say "building the workstation image (a no-op when it is current)"
  node bin/nexora.js image build
}

# Everything a workstation needs on this machine: Node packages, the build, a Docker engine,
# and the tools that build the image.
setup_core() {
  require_platform
  ensure_node_modules
  ensure_build
  ensure_docker
  ensure_image_tools
}
