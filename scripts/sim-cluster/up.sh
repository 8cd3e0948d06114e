#!/usr/bin/env bash
# Starts a simulated k3s + Calico cluster for a config: the test control plane (built by
# scripts/control-plane/build.sh), the config's objects, a network namespace per node and the
# simulated kubelet, in the background. Prints the kubeconfig path as its last line; down.sh stops
# it all. Needs root. See docs/testing.md "The simulated cluster".
#
#   scripts/sim-cluster/up.sh --config FILE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ "${1:-}" != "--config" ] || [ -z "${2:-}" ]; then
  echo "usage: $0 --config FILE" >&2
  exit 2
fi
config=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
kubeconfig=$(bash "$root/scripts/control-plane/start.sh" | tail -n 1)
run=$(dirname "$kubeconfig")
cd "$root"
# Its own session and no inherited descriptors: the caller's $(...) must not wait for it.
setsid node --import tsx scripts/sim-cluster/main.ts --kubeconfig "$kubeconfig" --config "$config" </dev/null >"$run/log/sim.log" 2>&1 &
echo $! >"$run/sim.pid"
for _ in $(seq 1 600); do
  grep -q 'simulated cluster running' "$run/log/sim.log" 2>/dev/null && break
  kill -0 "$(cat "$run/sim.pid")" 2>/dev/null || { cat "$run/log/sim.log" >&2; exit 1; }
  sleep 0.2
done
echo "simulated cluster running (stop: scripts/sim-cluster/down.sh $run)" >&2
echo "$kubeconfig"
