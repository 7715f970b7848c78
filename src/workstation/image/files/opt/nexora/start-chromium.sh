#!/bin/bash
# Starts Chromium on the workstation's display with its DevTools protocol reachable on
# NEXORA_CDP_PORT (default 9222) from outside the container, and returns once
# /json/version answers there. Does nothing when it already answers. Exits 1 with the
# reason when Chromium does not answer within NEXORA_START_TIMEOUT seconds (default 20).
#
# Chromium binds DevTools to loopback only (--remote-debugging-address is ignored outside
# headless mode), and published ports reach the container's interface, not its loopback:
# so Chromium listens on an internal loopback port and socat forwards NEXORA_CDP_PORT to it.
# Chromium builds webSocketDebuggerUrl from the request's Host header, so the URLs it
# returns name the port the client used.
set -u

readonly run_dir=/run/nexora
readonly log_dir=$run_dir/log
export DISPLAY=${DISPLAY:-:1}
cdp_port=${NEXORA_CDP_PORT:-9222}
vnc_port=${NEXORA_VNC_PORT:-5900}
timeout=${NEXORA_START_TIMEOUT:-20}
internal_port=39222
[ "$internal_port" = "$cdp_port" ] || [ "$internal_port" = "$vnc_port" ] && internal_port=39223
profile=/tmp/nexora-chromium

fail() {
  printf 'start-chromium: %s\n' "$*" >&2
  [ -s "$log_dir/chromium.log" ] && tail -n 15 "$log_dir/chromium.log" >&2
  exit 1
}

[[ $cdp_port =~ ^[0-9]{1,5}$ ]] && ((cdp_port > 0 && cdp_port < 65536)) || fail "NEXORA_CDP_PORT must be a port number, not '$cdp_port'"
[[ $timeout =~ ^[0-9]+$ ]] || fail "NEXORA_START_TIMEOUT must be whole seconds, not '$timeout'"

answers() { curl -fsS --max-time 1 -o /dev/null "http://127.0.0.1:$1/json/version" 2>/dev/null; }
alive() { [ -s "$1" ] && kill -0 "$(<"$1")" 2>/dev/null; }

mkdir -p "$log_dir" || fail "$run_dir is not writable"
# One start at a time: a second caller waits for the first, then finds it answering. (What
# this script starts must not inherit the lock's descriptor: `9>&-` below.)
exec 9>"$run_dir/chromium.lock"
flock -w "$timeout" 9 || fail "another start-chromium.sh holds $run_dir/chromium.lock"

if answers "$cdp_port"; then
  echo "Chromium already answers on port $cdp_port"
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
    --user-data-dir="$profile" --remote-debugging-port="$internal_port" \
    --window-position=0,0 --window-size="${width:-1280},${height:-800}" \
    about:blank </dev/null >"$log_dir/chromium.log" 2>&1 9>&- &
  echo $! >"$run_dir/chromium.pid"
fi
if ! alive "$run_dir/cdp-forward.pid"; then
  setsid socat "TCP-LISTEN:$cdp_port,fork,reuseaddr" "TCP:127.0.0.1:$internal_port" \
    </dev/null >"$log_dir/cdp-forward.log" 2>&1 9>&- &
  echo $! >"$run_dir/cdp-forward.pid"
fi

until answers "$cdp_port"; do
  alive "$run_dir/chromium.pid" || fail "Chromium exited during start-up"
  alive "$run_dir/cdp-forward.pid" || fail "the DevTools forwarder (socat) exited: is port $cdp_port taken?"
  ((SECONDS >= deadline)) && fail "Chromium did not answer /json/version on port $cdp_port within ${timeout} s"
  sleep 0.05
done
echo "Chromium answers on port $cdp_port"
