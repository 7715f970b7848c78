#!/bin/sh
# Puts the workstation's own files and its user into a root filesystem.
#   install-files.sh ROOT FILES
# ROOT is the root filesystem (/ in the Dockerfile, mmdebstrap's chroot directory in its
# customize hook), FILES this folder. Runs as root; idempotent.
set -eu
root=$1
files=$2
in_root() { chroot "$root" "$@"; }

# uid/gid 1000 is `nexora` (Ubuntu's images already have a uid-1000 `ubuntu`: it goes).
existing=$(in_root getent passwd 1000 | cut -d: -f1 || true)
if [ -n "$existing" ] && [ "$existing" != nexora ]; then in_root userdel --remove "$existing" 2>/dev/null || in_root userdel "$existing"; fi
existing_group=$(in_root getent group 1000 | cut -d: -f1 || true)
if [ -n "$existing_group" ] && [ "$existing_group" != nexora ]; then in_root groupdel "$existing_group"; fi
in_root getent group nexora >/dev/null || in_root groupadd --gid 1000 nexora
in_root getent passwd nexora >/dev/null || in_root useradd --uid 1000 --gid 1000 --no-create-home --home-dir /home/nexora --shell /bin/bash nexora

# Nexora's own helpers inside the workstation run under uids of their own, so that the
# workstation's processes (the workspace owner's uid) can neither read their files nor
# ptrace them or open their descriptors through /proc: nexora-display runs the X and VNC
# server and alone reads the VNC password; nexora-observer runs the host's tmux control
# client. Keep the numbers in step with src/workstation/helper-users.ts (the host refuses a
# workspace owner with one of them).
for helper in nexora-display:64990 nexora-observer:64991; do
  name=${helper%%:*} id=${helper#*:}
  in_root getent group "$name" >/dev/null || in_root groupadd --gid "$id" "$name"
  in_root getent passwd "$name" >/dev/null || in_root useradd --uid "$id" --gid "$id" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$name"
done

install -d -m 0755 "$root/opt/nexora" "$root/etc/nexora"
for script in "$files"/opt/nexora/*.sh; do install -m 0755 "$script" "$root/opt/nexora/"; done
install -m 0644 "$files/etc/tmux.conf" "$root/etc/tmux.conf"

# The home skeleton: the distribution's shell files plus ours. Sessions mount a tmpfs on
# /home/nexora and start.sh fills it from here.
rm -rf "$root/etc/nexora/skel"
cp -R "$root/etc/skel" "$root/etc/nexora/skel"
cp -R "$files/etc/nexora/skel/." "$root/etc/nexora/skel/"
chown -R 0:0 "$root/etc/nexora" "$root/opt/nexora"
chmod -R u=rwX,go=rX "$root/etc/nexora"

# HOME, /run/nexora, /workspace: empty and writable by any uid, since sessions run as the
# workspace owner's uid. Docker's --tmpfs copies the mode of the directory it covers, so
# these modes are also what a session's tmpfs mounts get. start.sh fills HOME from the
# skeleton.
rm -rf "$root/home/nexora"
install -d -m 1777 "$root/home/nexora" "$root/run/nexora" "$root/workspace" "$root/tmp"

# Locales a developer's box has generated: en_US.UTF-8 beside the built-in C.UTF-8 (LANG
# stays C.UTF-8; programs that insist on en_US find it).
if [ -x "$root/usr/sbin/locale-gen" ]; then
  printf 'en_US.UTF-8 UTF-8\n' >"$root/etc/locale.gen"
  in_root locale-gen >/dev/null
fi

# Fontconfig trusts its system cache only while each font directory's mtime matches the
# one recorded in it, to the nanosecond; the root filesystem's tar keeps whole seconds
# (and mmdebstrap clamps them). A stale cache makes every X client (fluxbox, xterm)
# rescan the fonts at start and write a cache into HOME. So: fixed whole-second mtimes,
# older than any clamp, then the cache.
for fonts in "$root/usr/share/fonts" "$root/usr/local/share/fonts"; do
  [ -d "$fonts" ] && find "$fonts" -type d -exec touch -d @1700000000 {} +
done
in_root fc-cache -s -f

