#!/bin/bash
# The workstation itself, run by start.sh once the user's identity is in place: a virtual
# display with its VNC server, a window manager and an xterm running tmux.
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
readonly password_file=$run_dir/vncpasswd
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
  for file in "$log_dir"/*.log; do
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
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then fail "$what exited during start-up"; fi
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
  kill -0 "$pid" 2>/dev/null || fail "$what exited during start-up"
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

# The X server writes its display number to -displayfd once it accepts clients: the read
# returns then, or at end of file when the server died first.
display_announced() {
  local number
  read -r number <"$display_fifo" && [ -n "$number" ]
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
rm -f "/tmp/.X$display_number-lock" "/tmp/.X11-unix/X$display_number" "$run_dir"/*.pid

password_written() { [ -s "$password_file" ]; }

# --- display + VNC, window manager, terminal -----------------------------------------
# The terminal's tmux session first, in the background: its server and shell come up while
# the X server starts, so the xterm only has to attach. Its hook tells the wait below when
# the xterm is showing it.
tmux new-session -d -s main -x 140 -y 39 -c "$workdir" \; \
  set-hook -t main client-attached 'wait-for -S nexora-terminal-attached' >>"$log_dir/tmux.log" 2>&1 &
tmux_pid=$!

readonly display_fifo=$run_dir/display.fifo
rm -f "$display_fifo"
mkfifo -m 0600 "$display_fifo" || fail "cannot make $display_fifo"
if [ "$display_server" = xvnc ]; then
  # One process is the X server and the VNC server: updates go out as X draws (no polling),
  # 10 ms from key to frame. Xvnc reads the password file at each authentication, so it may
  # start before the host has written it; until then every attempt fails. Only VncAuth is
  # offered (the default list adds TLS types). -noreset: the server outlives its first
  # client. Missing keysyms are added to the keymap, so non-ASCII text can be typed. Its
  # RFB listener is open before it announces the display. -extension GLX: nothing here
  # draws with OpenGL (Chromium runs with --disable-gpu), and loading Mesa's software
  # renderer was half of the server's start-up (≈ 0.5 s of 0.9 s on one loaded CPU).
  if [ "$vnc_auth_mode" = file ]; then
    vnc_security=(-SecurityTypes VncAuth -PasswordFile "$password_file")
  else
    vnc_security=(-SecurityTypes None)
  fi
  Xvnc "$DISPLAY" -geometry "$geometry" -depth 24 -rfbport "$vnc_port" "${vnc_security[@]}" \
    -AlwaysShared -noreset -nolisten tcp -extension GLX -desktop workstation -displayfd 3 \
    3>"$display_fifo" >"$log_dir/xvnc.log" 2>&1 &
  display_pid=$!
  vnc_pid=$display_pid
  await "Xvnc" "$display_pid" display_announced
else
  # -noreset: without it Xvfb resets when its first client disconnects.
  Xvfb "$DISPLAY" -screen 0 "${geometry}x24" -noreset -nolisten tcp -extension GLX -displayfd 3 \
    3>"$display_fifo" >"$log_dir/xvfb.log" 2>&1 &
  display_pid=$!
  await "Xvfb" "$display_pid" display_announced
fi
rm -f "$display_fifo"

fluxbox >"$log_dir/fluxbox.log" 2>&1 &
fluxbox_pid=$!

if [ "$display_server" = xvfb ]; then
  # x11vnc reads its password file as it starts: wait until the host has written it.
  if [ "$vnc_auth_mode" = file ]; then
    wait_for "the VNC password file (written by the host)" "" password_written
    vnc_auth=(-rfbauth "$password_file")
  else
    vnc_auth=(-nopw)
  fi
  # Published ports reach the container's interface, not its loopback: no -localhost.
  # -nonap: an idle x11vnc naps and stalls frames for up to 2 s.
  x11vnc -display "$DISPLAY" -rfbport "$vnc_port" "${vnc_auth[@]}" -nonap -wait 5 -defer 5 \
    -noxdamage -forever -shared -norc -quiet >"$log_dir/x11vnc.log" 2>&1 &
  vnc_pid=$!
fi

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
  kill -0 "$display_pid" 2>/dev/null || fail "the X server ($display_server) exited"
  kill -0 "$fluxbox_pid" 2>/dev/null || fail "fluxbox exited"
  kill -0 "$vnc_pid" 2>/dev/null || fail "the VNC server exited"
  if ! kill -0 "$xterm_pid" 2>/dev/null; then
    if ((SECONDS - xterm_started < 2)); then restarts=$((restarts + 1)); else restarts=0; fi
    ((restarts > 5)) && fail "the terminal keeps exiting (see $log_dir/xterm.log)"
    start_terminal
  fi
done
