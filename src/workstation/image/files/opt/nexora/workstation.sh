#!/bin/bash
# The workstation itself, run by start.sh once the user's identity is in place: a virtual
# display with its VNC server, a window manager and an xterm running tmux.
#
# The display is not this script's: the host starts it (start-display.sh, as the uid
# nexora-display) when it delivers the VNC password, so that the password and the X server
# stay out of this uid's reach. This script waits for it, then starts the rest as the
# workspace owner. With NEXORA_VNC_AUTH=none (image tests only) it starts the display itself.
#
# Progress is written to /run/nexora/status: STARTING, then READY once X, fluxbox, the VNC
# server (port listening) and the tmux session `main` are all up, or `FAILED <reason>` when
# something does not come up within NEXORA_START_TIMEOUT seconds (the script then exits 1
# and the reason is also the last line of the container's log). SIGTERM stops everything
# and exits 0.
#
# Environment (none of it secret): DISPLAY (:1), NEXORA_GEOMETRY (1280x800), NEXORA_VNC_PORT
# (5900), NEXORA_VNC_AUTH (file: the VNC password arrives in /run/nexora/vncpasswd, written
# by the host through an exec's stdin, never through the environment; none: no password, for
# tests of the image only), NEXORA_DISPLAY_SERVER (xvnc: TigerVNC's Xvnc; xvfb: Xvfb +
# x11vnc, kept as the benchmark's peer), NEXORA_CDP_PORT (9222), NEXORA_CHROMIUM (1: start
# Chromium now), NEXORA_START_TIMEOUT (20).
set -u

started=$EPOCHREALTIME
readonly run_dir=/run/nexora
readonly log_dir=$run_dir/log
export DISPLAY=${DISPLAY:-:1}
export LANG=C.UTF-8
geometry=${NEXORA_GEOMETRY:-1280x800}
vnc_port=${NEXORA_VNC_PORT:-5900}
vnc_auth_mode=${NEXORA_VNC_AUTH:-file}
display_server=${NEXORA_DISPLAY_SERVER:-xvnc}
readonly display_dir=$run_dir/display
start_timeout=${NEXORA_START_TIMEOUT:-20}
display_number=${DISPLAY#:}
display_number=${display_number%%.*}

set_status() {
  # Written beside and renamed, so a reader never sees half a line.
  printf '%s\n' "$*" >"$run_dir/status.$$" && mv -f "$run_dir/status.$$" "$run_dir/status"
}

log() { printf 'nexora-start: %s\n' "$*"; }

# A sleep that forks nothing: a read with a timeout on a pipe no one writes to. Start-up
# runs on the one CPU the container gets, and every process a poll forks is taken from the
# programs that are starting.
exec {pause_fd}<> <(:)
pause() { read -r -t "$1" -u "$pause_fd" _ || :; }

# Whether a process exists, also one of another uid (kill -0 says EPERM for those).
alive() { [ -n "$1" ] && [ -e "/proc/$1" ]; }

# Every process this uid may signal except this script (and PID 1, which kill -1 skips).
others_alive() {
  local stat pid line state
  for stat in /proc/[0-9]*/stat; do
    pid=${stat#/proc/}
    pid=${pid%/stat}
    [ "$pid" = $$ ] || [ "$pid" = 1 ] || [ ! -O "/proc/$pid" ] && continue
    read -r line <"$stat" 2>/dev/null || continue
    # The command name (field 2) may hold spaces; the state follows its closing paren.
    state=${line##*) }
    state=${state%% *}
    [ "$state" != Z ] && return 0
  done
  return 1
}

# TERM to everything of ours, then KILL what is left after 0.8 s (Chromium can take longer
# to shut down; its profile is scratch): a stop must be prompt.
stop_everything() {
  kill -TERM -1 2>/dev/null
  local i
  for ((i = 0; i < 40; i++)); do
    others_alive || return 0
    pause 0.02
  done
  kill -KILL -1 2>/dev/null
}

on_term() {
  trap - TERM INT HUP
  set_status STOPPING
  stop_everything
  exit 0
}
trap on_term TERM INT HUP

fail() {
  local reason=$*
  set_status "FAILED $reason"
  local file
  for file in "$log_dir"/*.log "$display_dir"/*.log; do
    [ -s "$file" ] || continue
    printf -- '--- %s (last lines)\n' "${file##*/}"
    tail -n 15 "$file"
  done
  log "FAILED $reason"
  trap - TERM INT HUP
  stop_everything
  exit 1
}

# Polls until a check passes, the process it depends on dies, or the start-up deadline.
wait_for() {
  local what=$1 pid=$2
  shift 2
  until "$@"; do
    if [ -n "$pid" ] && ! alive "$pid"; then fail "$what exited during start-up"; fi
    if ((SECONDS >= deadline)); then fail "$what not up within ${start_timeout} s"; fi
    pause 0.02
  done
}

# Waits for an event instead of polling: the waiter (a command run in the background) ends
# with status 0 when the thing is up. Fails when the waiter fails, the process the step
# depends on dies first, or the start-up deadline passes.
await() {
  local what=$1 pid=$2
  shift 2
  local remaining=$((deadline - SECONDS)) waiter timer first status
  ((remaining > 0)) || fail "$what not up within ${start_timeout} s"
  alive "$pid" || fail "$what exited during start-up"
  "$@" &
  waiter=$!
  sleep "$remaining" &
  timer=$!
  wait -n -p first "$waiter" "$timer" "$pid"
  status=$?
  kill "$timer" "$waiter" 2>/dev/null
  case $first in
    "$waiter") ((status == 0)) || fail "$what did not come up (its check ended with status $status)" ;;
    "$timer") fail "$what not up within ${start_timeout} s" ;;
    *) fail "$what exited during start-up" ;;
  esac
}

port_listening() {
  local hex
  printf -v hex '%04X' "$1"
  grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# start-display.sh writes the X server's pid (and the VNC server's, when another process)
# once the server accepts clients.
display_started() {
  [ -s "$display_dir/display.pid" ] || return 1
  { read -r display_pid && read -r vnc_pid; } <"$display_dir/display.pid"
  [ -n "$display_pid" ] || return 1
  vnc_pid=${vnc_pid:-$display_pid}
}

# The window manager sets _NET_SUPPORTING_WM_CHECK on the root window when it manages the
# screen; xprop -spy prints the root's properties now and at every change. (Named, it
# would ignore an atom that does not exist yet, and this one does not before fluxbox.)
window_manager_announced() {
  local line spy_fd spy_pid
  exec {spy_fd}< <(exec xprop -root -spy 2>/dev/null)
  spy_pid=$!
  while read -r -u "$spy_fd" line; do
    [[ $line == _NET_SUPPORTING_WM_CHECK*'window id'* ]] || continue
    kill "$spy_pid" 2>/dev/null
    return 0
  done
  return 1
}

# The session's client-attached hook signals this channel when the xterm's tmux client
# attaches; a signal sent before anyone waits is kept until the wait.
terminal_attached() { tmux wait-for nexora-terminal-attached; }

# --- checks and identity ------------------------------------------------------------
deadline=$((SECONDS + start_timeout))

[[ $geometry =~ ^[0-9]{3,5}x[0-9]{3,5}$ ]] || fail "NEXORA_GEOMETRY must look like 1280x800, not '$geometry'"
[[ $vnc_port =~ ^[0-9]{1,5}$ ]] && ((vnc_port > 0 && vnc_port < 65536)) || fail "NEXORA_VNC_PORT must be a port number, not '$vnc_port'"
[[ $display_number =~ ^[0-9]+$ ]] || fail "DISPLAY must look like :1, not '$DISPLAY'"
[[ $start_timeout =~ ^[0-9]+$ ]] || fail "NEXORA_START_TIMEOUT must be whole seconds, not '$start_timeout'"
[[ $vnc_auth_mode =~ ^(file|none)$ ]] || fail "NEXORA_VNC_AUTH must be file or none, not '$vnc_auth_mode'"
[[ $display_server =~ ^(xvnc|xvfb)$ ]] || fail "NEXORA_DISPLAY_SERVER must be xvnc or xvfb, not '$display_server'"

uid=$UID

# HOME is usually a fresh tmpfs that hides the image's copy: fill it from the skeleton.
export HOME=${HOME:-/home/nexora}
if [ ! -w "$HOME" ]; then
  HOME=/tmp/nexora-home-$uid
  mkdir -p "$HOME"
fi
cp -R -n --preserve=mode /etc/nexora/skel/. "$HOME"/ 2>/dev/null
export USER=$(id -un 2>/dev/null || echo nexora) SHELL=${SHELL:-/bin/bash}
[ -n "${SCREENDIR:-}" ] && mkdir -p -m 0700 "$SCREENDIR" 2>/dev/null
workdir=/workspace
[ -d "$workdir" ] || workdir=$HOME
cd "$workdir" || cd "$HOME" || fail "cannot enter $workdir or $HOME"

# A restarted container keeps /tmp and /run/nexora when they are not tmpfs: stale X locks
# stop the X server, and stale pid files could name unrelated processes.
# (start-display.sh clears the X server's own.)
rm -f "$run_dir"/*.pid

# --- display + VNC, window manager, terminal -----------------------------------------
# The terminal's tmux session first, in the background: its server and shell come up while
# the X server starts, so the xterm only has to attach. Its hook tells the wait below when
# the xterm is showing it.
# The host reads the terminal through a tmux control client that runs as nexora-observer
# with this uid's primary group as its group: the server lets that uid in (server-access;
# -r would change nothing, since tmux applies read-only to keys and a client's first
# command, not to a control client's command lines), and the socket's directory lets the
# group pass (0710: tmux refuses only modes open to others). No other uid has that group.
socket_dir=${TMUX_TMPDIR:-/tmp}/tmux-$uid
mkdir -m 0710 "$socket_dir" 2>/dev/null || chmod 0710 "$socket_dir" || fail "cannot open $socket_dir to the terminal's observer"
tmux new-session -d -s main -x 140 -y 39 -c "$workdir" \; \
  set-hook -t main client-attached 'wait-for -S nexora-terminal-attached' \; \
  server-access -a nexora-observer >>"$log_dir/tmux.log" 2>&1 &
tmux_pid=$!

if [ "$vnc_auth_mode" = none ]; then
  /opt/nexora/start-display.sh </dev/null >>"$log_dir/start-display.log" 2>&1 &
fi
wait_for "the display (started by the host as it delivers the VNC password; see $display_dir/*.log)" "" display_started

fluxbox >"$log_dir/fluxbox.log" 2>&1 &
fluxbox_pid=$!

# The display is another uid's process: not a child, so a watcher ends (and wakes the
# supervisor's wait) when it exits. tail --pid polls once a second and forks nothing.
watch_display() {
  tail --pid="$display_pid" -f /dev/null &
  if [ "$vnc_pid" != "$display_pid" ]; then tail --pid="$vnc_pid" -f /dev/null & fi
}
watch_display

# new-session -A attaches to the session when it exists, and makes a new one when the
# shell of the last has exited (the supervisor below restarts the terminal then).
start_terminal() {
  xterm -geometry 140x39+0+0 -fa 'DejaVu Sans Mono' -fs 11 -title main \
    -xrm 'XTerm*termName: xterm-256color' -xrm 'XTerm*metaSendsEscape: true' \
    -xrm 'XTerm*cursorBlink: false' -xrm 'XTerm*locale: true' \
    -bg '#101010' -fg '#e0e0e0' -cr '#e0e0e0' \
    -e tmux new-session -A -s main -c "$workdir" >>"$log_dir/xterm.log" 2>&1 &
  xterm_pid=$!
  xterm_started=$SECONDS
}

# The session must exist before the xterm asks for it, or both would make one.
wait "$tmux_pid" || fail "tmux could not start its session (see $log_dir/tmux.log)"
# fluxbox adopts windows mapped before it is ready: no need to wait for it first.
start_terminal
await "fluxbox" "$fluxbox_pid" window_manager_announced
wait_for "the VNC server on port $vnc_port" "$vnc_pid" port_listening "$vnc_port"
await "the terminal (xterm attached to tmux session main)" "$xterm_pid" terminal_attached
tmux set-hook -u -t main client-attached 2>/dev/null

if [ "${NEXORA_CHROMIUM:-0}" = 1 ]; then
  NEXORA_START_TIMEOUT=$((deadline - SECONDS > 1 ? deadline - SECONDS : 1)) \
    /opt/nexora/start-chromium.sh >>"$log_dir/start-chromium.log" 2>&1 || fail "Chromium did not answer on its DevTools port"
fi

set_status READY
log "READY in $(((${EPOCHREALTIME/./} - ${started/./}) / 1000)) ms (display $DISPLAY ${geometry}, $display_server, VNC port $vnc_port)"

# --- supervise -------------------------------------------------------------------
# The terminal comes back when its shell exits (tmux then ends its session); the display,
# window manager and VNC server are the workstation itself, so losing one is a failure.
restarts=0
while :; do
  wait -n 2>/dev/null
  alive "$display_pid" || fail "the X server ($display_server) exited"
  kill -0 "$fluxbox_pid" 2>/dev/null || fail "fluxbox exited"
  alive "$vnc_pid" || fail "the VNC server exited"
  if ! kill -0 "$xterm_pid" 2>/dev/null; then
    if ((SECONDS - xterm_started < 2)); then restarts=$((restarts + 1)); else restarts=0; fi
    ((restarts > 5)) && fail "the terminal keeps exiting (see $log_dir/xterm.log)"
    start_terminal
  fi
done
