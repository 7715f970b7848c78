#!/bin/bash
# Stops the Chromium that start-chromium.sh started.
set -u
readonly run_dir=/run/nexora
file=$run_dir/chromium.pid
[ -s "$file" ] || exit 0
pid=$(<"$file")
kill -TERM "$pid" 2>/dev/null
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
kill -KILL "$pid" 2>/dev/null
rm -f "$file"
exit 0
