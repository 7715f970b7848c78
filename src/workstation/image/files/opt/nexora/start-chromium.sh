#!/bin/bash
# Starts Chromium on the workstation's display with its DevTools protocol on the container's
# loopback only, and returns once /json/version answers there. Does nothing when it already
# answers. Exits 1 with the reason when Chromium does not answer within NEXORA_START_TIMEOUT
# seconds (default 20). The last line of its output names the port:
#   "started 127.0.0.1:PORT" or "running 127.0.0.1:PORT".
#
# The DevTools protocol is full control of the browser, so it is never reachable from outside
# the container: Chromium binds it to loopback (--remote-debugging-address is ignored outside
# headless mode), no port is published for it, and the host reaches it through a stream over
# the Engine API (`socat STDIO TCP:127.0.0.1:PORT` run by docker exec) behind a proxy that
# requires the session's token. See src/tools/browser/cdp-proxy.ts.
set -u

readonly run_dir=/run/nexora
readonly log_dir=$run_dir/log
export DISPLAY=${DISPLAY:-:1}
vnc_port=${NEXORA_VNC_PORT:-5900}
timeout=${NEXORA_START_TIMEOUT:-20}
internal_port=9222
[ "$internal_port" = "$vnc_port" ] && internal_port=9223
profile=/tmp/nexora-chromium

fail() {
  printf 'start-chromium: %s\n' "$*" >&2
  [ -s "$log_dir/chromium.log" ] && tail -n 15 "$log_dir/chromium.log" >&2
  exit 1
}

[[ $timeout =~ ^[0-9]+$ ]] || fail "NEXORA_START_TIMEOUT must be whole seconds, not '$timeout'"

answers() { curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:$internal_port/json/version" 2>/dev/null; }
alive() { [ -s "$1" ] && kill -0 "$(<"$1")" 2>/dev/null; }

mkdir -p "$log_dir" || fail "$run_dir is not writable"
# One start at a time: a second caller waits for the first, then finds it answering. (What
# this script starts must not inherit the lock's descriptor: `9>&-` below.)
exec 9>"$run_dir/chromium.lock"
flock -w "$timeout" 9 || fail "another start-chromium.sh holds $run_dir/chromium.lock"

if alive "$run_dir/chromium.pid" && answers; then
  echo "running 127.0.0.1:$internal_port"
  exit 0
fi

deadline=$((SECONDS + timeout))
if ! alive "$run_dir/chromium.pid"; then
  # A profile left by a Chromium that died would make the new one hand off to it and exit.
  rm -f "$profile"/Singleton*
  read -r width height < <(xdpyinfo 2>/dev/null | awk '/dimensions:/ { split($2, size, "x"); print size[1], size[2] }')
  setsid chromium \
    --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --disable-breakpad --disable-features=Translate,MediaRouter \
    --no-first-run --no-default-browser-check --password-store=basic \
    --user-data-dir="$profile" --remote-debugging-address=127.0.0.1 --remote-debugging-port="$internal_port" \
    --window-position=0,0 --window-size="${width:-1280},${height:-800}" --start-maximized \
    about:blank </dev/null >"$log_dir/chromium.log" 2>&1 9>&- &
  echo $! >"$run_dir/chromium.pid"
fi

until answers; do
  alive "$run_dir/chromium.pid" || fail "Chromium exited during start-up"
  ((SECONDS >= deadline)) && fail "Chromium did not answer /json/version on 127.0.0.1:$internal_port within ${timeout} s"
  sleep 0.05
done
echo "started 127.0.0.1:$internal_port"
