#!/bin/bash
# Starts the workstation's display: TigerVNC's Xvnc (the X server and the VNC server in one
# process), or Xvfb + x11vnc (NEXORA_DISPLAY_SERVER=xvfb, the benchmark's peer). Returns once
# the X server accepts clients; its pid is then in /run/nexora/display/display.pid (the VNC
# server's, when another process, on the second line).
#
# Sessions run it through a docker exec as nexora-display, a uid of its own, with the VNC
# password file's content (8 bytes) on stdin: the password file is then readable by that uid
# only, and the workstation's processes (the workspace owner's uid) can neither read it nor
# ptrace the server or open its descriptors through /proc. Run again, it replaces the
# password (read at each authentication) and leaves the running server alone. With
# NEXORA_VNC_AUTH=none (image tests only) workstation.sh runs it itself, with no password.
set -u

readonly display_dir=/run/nexora/display
readonly password_file=$display_dir/vncpasswd
readonly pid_file=$display_dir/display.pid
export DISPLAY=${DISPLAY:-:1}
geometry=${NEXORA_GEOMETRY:-1280x800}
vnc_port=${NEXORA_VNC_PORT:-5900}
vnc_auth_mode=${NEXORA_VNC_AUTH:-file}
display_server=${NEXORA_DISPLAY_SERVER:-xvnc}
timeout=${NEXORA_START_TIMEOUT:-20}
display_number=${DISPLAY#:}
display_number=${display_number%%.*}

fail() {
  printf 'start-display: %s\n' "$*" >&2
  local file
  for file in "$display_dir"/*.log; do [ -s "$file" ] && tail -n 15 "$file" >&2; done
  exit 1
}

[[ $timeout =~ ^[0-9]+$ ]] || fail "NEXORA_START_TIMEOUT must be whole seconds, not '$timeout'"
[[ $display_number =~ ^[0-9]+$ ]] || fail "DISPLAY must look like :1, not '$DISPLAY'"

# Ours alone to write; others may reach the pid file and the logs by name (0711), never the
# password. A directory someone else made first is refused, not used.
if [ -e "$display_dir" ] || [ -L "$display_dir" ]; then
  [ -d "$display_dir" ] && [ ! -L "$display_dir" ] && [ -O "$display_dir" ] || fail "$display_dir exists and is not this uid's directory"
else
  mkdir -m 0711 "$display_dir" || fail "cannot make $display_dir (is /run/nexora a tmpfs?)"
fi
chmod 0711 "$display_dir" || fail "cannot set the mode of $display_dir"

if [ "$vnc_auth_mode" = file ]; then
  # Written beside and renamed, so the server never reads half a file.
  (umask 077 && cat >"$password_file.new" && mv -f "$password_file.new" "$password_file") || fail "cannot write $password_file"
fi

alive() { [ -n "$1" ] && [ -e "/proc/$1" ]; }
if [ -s "$pid_file" ]; then
  read -r running <"$pid_file"
  if alive "$running"; then
    echo "running $DISPLAY"
    exit 0
  fi
fi

# A restarted container keeps /tmp when it is not a tmpfs: a stale lock stops the X server.
rm -f "/tmp/.X$display_number-lock" "/tmp/.X11-unix/X$display_number" "$pid_file"

readonly display_fifo=$display_dir/display.fifo
rm -f "$display_fifo"
mkfifo -m 0600 "$display_fifo" || fail "cannot make $display_fifo"
# What the X server and the VNC server must not leave to the workstation's processes:
#  - RECORD (-extension RECORD) would let any X client log every key a person types during
#    take-over. The X server switches XTEST with the same flag, so input injection by X
#    clients (xdotool key/type/click) goes too: Nexora types through VNC, never XTEST.
#  - -UseBlacklist=0: TigerVNC blacklists a source address for 10 s (doubling) after 5
#    failed logins, and every client behind Docker's published port shares one address, so
#    any local user could lock the real client out with five bad passwords. The blacklist
#    buys nothing here: the password is 8 random characters of 57 (≈ 2^46.7), guessed
#    online through a port published on the host's 127.0.0.1 only, at most a few thousand
#    tries a second — centuries on average.
# GLX is off: nothing draws with OpenGL (Chromium runs with --disable-gpu), and loading
# Mesa's software renderer was half of the server's start-up. -noreset: the server outlives
# its first client. Only VncAuth is offered (the default list adds TLS types). Missing
# keysyms are added to the keymap, so non-ASCII text can be typed. The RFB listener is open
# before the display is announced on -displayfd.
if [ "$display_server" = xvnc ]; then
  if [ "$vnc_auth_mode" = file ]; then
    vnc_security=(-SecurityTypes VncAuth -PasswordFile "$password_file")
  else
    vnc_security=(-SecurityTypes None)
  fi
  Xvnc "$DISPLAY" -geometry "$geometry" -depth 24 -rfbport "$vnc_port" "${vnc_security[@]}" -UseBlacklist=0 \
    -AlwaysShared -noreset -nolisten tcp -extension GLX -extension RECORD -desktop workstation -displayfd 3 \
    3>"$display_fifo" </dev/null >"$display_dir/xvnc.log" 2>&1 &
else
  # -noreset: without it Xvfb resets when its first client disconnects.
  Xvfb "$DISPLAY" -screen 0 "${geometry}x24" -noreset -nolisten tcp -extension GLX -extension RECORD -displayfd 3 \
    3>"$display_fifo" </dev/null >"$display_dir/xvfb.log" 2>&1 &
fi
display_pid=$!
# The read returns once the server writes its display number, or at end of file when it
# died first; a server that hangs is given up at the deadline.
read -r -t "$timeout" number <"$display_fifo"
rm -f "$display_fifo"
[ -n "${number:-}" ] && alive "$display_pid" || fail "the X server ($display_server) did not come up within ${timeout} s"

vnc_pid=
if [ "$display_server" = xvfb ]; then
  if [ "$vnc_auth_mode" = file ]; then vnc_auth=(-rfbauth "$password_file"); else vnc_auth=(-nopw); fi
  # Published ports reach the container's interface, not its loopback: no -localhost.
  # -nonap: an idle x11vnc naps and stalls frames for up to 2 s.
  x11vnc -display "$DISPLAY" -rfbport "$vnc_port" "${vnc_auth[@]}" -nonap -wait 5 -defer 5 \
    -noxdamage -forever -shared -norc -quiet </dev/null >"$display_dir/x11vnc.log" 2>&1 &
  vnc_pid=$!
fi

(umask 022 && printf '%s\n' "$display_pid" $vnc_pid >"$pid_file.new" && mv -f "$pid_file.new" "$pid_file") || fail "cannot write $pid_file"
echo "started $DISPLAY"
