#!/bin/bash
# Stops the Chromium (and its DevTools forwarder) that start-chromium.sh started.
set -u
readonly run_dir=/run/nexora
for name in cdp-forward chromium; do
  file=$run_dir/$name.pid
  [ -s "$file" ] || continue
  pid=$(<"$file")
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$file"
done
exit 0
