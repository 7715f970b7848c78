#!/bin/sh
# The workstation's entrypoint. It runs as any uid (the workspace owner's), which need not
# be in /etc/passwd. The image sets LD_PRELOAD=libnss_wrapper.so with NSS_WRAPPER_PASSWD
# and NSS_WRAPPER_GROUP naming files in /run/nexora, so every process (docker exec
# included) sees a user name through them; this script writes them, then runs the
# workstation (workstation.sh). It is plain sh on purpose: bash looks its user up as it
# starts, before the files exist. Setuid programs ignore LD_PRELOAD, so the session user
# cannot grant itself anything by editing these files.
set -u
run_dir=/run/nexora
# Stopped before the workstation is up: nothing to clean, still a clean stop.
trap 'exit 0' TERM INT HUP

if ! mkdir -p "$run_dir/log" 2>/dev/null || [ ! -w "$run_dir" ]; then
  echo "nexora-start: FAILED $run_dir is not writable: mount a tmpfs there (mode 1777)" >&2
  exit 1
fi
printf 'STARTING\n' >"$run_dir/status"

uid=$(id -u)
gid=$(id -g)
home=${HOME:-/home/nexora}
# The uid's own entry when /etc/passwd has one; otherwise it becomes `nexora`, replacing
# the image's uid-1000 entry of that name so the name maps back to this uid.
{
  if grep -q "^[^:]*:[^:]*:$uid:" /etc/passwd; then
    cat /etc/passwd
  else
    grep -v '^nexora:' /etc/passwd
    printf 'nexora:x:%s:%s:Nexora:%s:/bin/bash\n' "$uid" "$gid" "$home"
  fi
} >"$run_dir/passwd.$$" && mv -f "$run_dir/passwd.$$" "$run_dir/passwd"
{
  if grep -q "^[^:]*:[^:]*:$gid:" /etc/group; then
    cat /etc/group
  else
    grep -v '^nexora:' /etc/group
    printf 'nexora:x:%s:\n' "$gid"
  fi
} >"$run_dir/group.$$" && mv -f "$run_dir/group.$$" "$run_dir/group"

exec /bin/bash /opt/nexora/workstation.sh "$@"
