#!/bin/sh
# The host's tmux control client: `tmux -C` attached to session main of the workspace owner's
# tmux server. The host runs it through a docker exec as nexora-observer, with the owner's
# primary group (which lets it through the socket's 0710 directory) and NEXORA_TERMINAL_UID
# naming the owner's uid (whose server socket is /tmp/tmux-UID/default). A uid of its own
# keeps the workstation's processes from ptracing it or opening its descriptors through
# /proc. What the server sends it stays untrusted: the server is the owner's process.
uid=${NEXORA_TERMINAL_UID:-}
case $uid in
  '' | *[!0-9]*) echo "observe-terminal: NEXORA_TERMINAL_UID must be the workspace owner's numeric uid, not '$uid'" >&2; exit 2 ;;
esac
exec tmux -S "${TMUX_TMPDIR:-/tmp}/tmux-$uid/default" -C attach-session -t main
