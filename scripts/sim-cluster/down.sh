#!/usr/bin/env bash
# Stops what up.sh started: the simulation (its network namespaces go with it), then the control plane.
#
#   scripts/sim-cluster/down.sh RUN_DIR
set -euo pipefail
run=${1:?usage: $0 RUN_DIR (printed by up.sh)}
if [ -f "$run/sim.pid" ]; then
  pid=$(cat "$run/sim.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
bash "$(dirname "$0")/../control-plane/stop.sh" "$run" --rm
