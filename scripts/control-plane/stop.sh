#!/usr/bin/env bash
# Stops what start.sh started in RUN_DIR; --rm also removes the directory.
set -u
RUN=${1:?usage: stop.sh RUN_DIR [--rm]}
for name in kcm apiserver etcd; do
  [ -f "$RUN/$name.pid" ] || continue
  pid=$(cat "$RUN/$name.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  rm -f "$RUN/$name.pid"
done
[ "${2:-}" = "--rm" ] && rm -rf "$RUN"
exit 0
