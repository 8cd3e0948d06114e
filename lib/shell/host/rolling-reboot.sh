# Rolling reboot: the alternative to the scripted node cleanup. A reboot clears everything Calico
# and kube-proxy left on a node (rules, ipsets, routes, tunl0, mounts). Run it from a workstation
# with kubectl (pointed at this cluster) and ssh to the nodes, after step 200 (Cilium) is ready.
#
# One node at a time: drain, reboot, wait until it is back (new boot ID and Ready), uncordon.
# Servers first, one by one, so etcd keeps quorum; then the agents.
#
# Usage: rolling-reboot.sh [--dry-run] [--from NODE]
# Environment: SSH_USER (root), READY_TIMEOUT (900 seconds), DRAIN_TIMEOUT (10m).

# @include common.sh

DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-10m}"

rebooted() { [ "$(node_field "$1" '{.status.nodeInfo.bootID}' 2>/dev/null || true)" != "$2" ] && is_ready "$1"; }

reboot_node() {
  local node="$1" ip="$2" old=dry-run
  echo "== $node ($ip)"
  dry_run || old="$(node_field "$node" '{.status.nodeInfo.bootID}')"
  run kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout="$DRAIN_TIMEOUT"
  # The connection drops when the node goes down: ssh's exit status says nothing here.
  on "$ip" sudo systemctl reboot || true
  wait_for "$node" "back with a new boot ID and Ready" rebooted "$node" "$old"
  run kubectl uncordon "$node"
  echo "OK $node"
}

for_each_node server reboot_node
for_each_node agent reboot_node
finish "rolling reboot"
