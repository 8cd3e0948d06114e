#!/bin/sh
# Entry point of the node Jobs (busybox sh in a privileged pod with the host's PID namespace):
# when CILIUM_AGENT_WAIT_SECONDS is set, waits at most that long until this node's Cilium agent is
# healthy; then runs the node script given as $1 in the host's mount, UTS, IPC and network
# namespaces with the host's own bash, iptables, ipset and ip.
set -eu
script="/etc/cilium-cutover/$1"

if [ -n "${CILIUM_AGENT_WAIT_SECONDS:-}" ]; then
  # Until the agent serves Services, the old kube-proxy rules are what host-network clients (the
  # cloud controller among them) reach ClusterIPs through: keep them until then.
  deadline=$(($(date +%s) + CILIUM_AGENT_WAIT_SECONDS))
  until wget -q -T 5 -O /dev/null --header 'brief: true' http://127.0.0.1:9879/healthz; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "FAILED cilium agent on ${NODE_NAME:-this node}: not healthy on 127.0.0.1:9879 after ${CILIUM_AGENT_WAIT_SECONDS}s; the kube-proxy rules are kept"
      exit 1
    fi
    sleep 5
  done
  echo "PASS cilium agent on ${NODE_NAME:-this node}: healthy"
fi

if ! nsenter -t 1 -m -- sh -c 'command -v bash' >/dev/null 2>&1; then
  echo "FAILED ${NODE_NAME:-this node}: the host has no bash; run $1 by hand or reboot the node instead (host/rolling-reboot.sh in the output)"
  exit 1
fi
exec nsenter -t 1 -m -u -i -n -- bash -s < "$script"
