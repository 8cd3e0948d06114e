# k3s settings rollout, before step 000: puts the drop-in next to this script
# (k3s/config.yaml.d/90-cilium-cutover.yaml) on every server and restarts k3s in the order that
# keeps the cluster together. Run it from a workstation with kubectl (pointed at this cluster) and
# ssh to the nodes.
#
# Order: the drop-in goes to all servers first (flannel-backend and disable-network-policy must
# match on all servers, or a restarting server fails with "critical configuration value mismatch").
# Then the first server in the list (the one the others join through) restarts, then the other
# servers one at a time (etcd keeps quorum), each awaited until Ready and running the new flags;
# then every agent, which takes these settings from the servers only when it starts.
#
# Usage: k3s-rollout.sh [--dry-run] [--from NODE]
# Environment: SSH_USER (root), READY_TIMEOUT (900 seconds), SKIP_JOIN_CHECK (false).

# @include common.sh

HERE="$(cd "$(dirname "$0")" && pwd)"
DROPIN="$HERE/k3s/config.yaml.d/$DROPIN_NAME"
[ -f "$DROPIN" ] || { echo "FAILED the drop-in $DROPIN is missing; run this script from the synthesized host/ directory" >&2; exit 2; }

# running_new_flags NODE: Ready, and k3s.io/node-args shows every flag of the drop-in.
running_new_flags() {
  local args flag
  is_ready "$1" || return 1
  args="$(node_field "$1" '{.metadata.annotations.k3s\.io/node-args}' 2>/dev/null || true)"
  for flag in "${REQUIRED_ARGS[@]}"; do
    case "$args" in *"$flag"*) ;; *) return 1 ;; esac
  done
}

install_dropin() {
  local node="$1" ip="$2"
  echo "== $node ($ip): drop-in"
  on "$ip" "sudo mkdir -p /etc/rancher/k3s/config.yaml.d && sudo tee /etc/rancher/k3s/config.yaml.d/$DROPIN_NAME >/dev/null" <"$DROPIN"
}

# The others must join through the first server, or restarting it first is the wrong order.
# SKIP_JOIN_CHECK=true when they join through a fixed registration address you have checked.
check_join_target() {
  local node="$1" args
  [ "$node" = "$FIRST_SERVER" ] && return 0
  { dry_run || [ "${SKIP_JOIN_CHECK:-false}" = "true" ]; } && return 0
  args="$(node_field "$node" '{.metadata.annotations.k3s\.io/node-args}')"
  case "$args" in
    *"\"--server\",\"https://$FIRST_SERVER_IP:"*) ;;
    *)
      echo "FAILED $node does not join through $FIRST_SERVER ($FIRST_SERVER_IP); list the server the others join through first in cluster.nodes (or set SKIP_JOIN_CHECK=true if they use a registration address you have checked)" >&2
      exit 1
      ;;
  esac
}

restart_server() {
  local node="$1" ip="$2"
  echo "== $node ($ip): restart k3s"
  on "$ip" sudo systemctl restart k3s
  wait_for "$node" "Ready with the new flags" running_new_flags "$node"
  echo "OK $node"
}

restart_agent() {
  local node="$1" ip="$2"
  echo "== $node ($ip): restart k3s-agent"
  on "$ip" sudo systemctl restart k3s-agent
  wait_for "$node" "Ready" is_ready "$node"
  if [ "$KUBE_PROXY_DISABLED" = "true" ]; then
    # An agent that still runs kube-proxy answers on its healthz port.
    if ! dry_run && on "$ip" "ss -ltn | grep -q ':10256 '"; then
      echo "FAILED $node still runs kube-proxy (port 10256); check that the servers run with disable-kube-proxy, then resume with --from $node" >&2
      exit 1
    fi
  fi
  echo "OK $node"
}

# The drop-in and the join check cover every server, also when resuming (both are idempotent).
for_all_nodes server install_dropin
for_all_nodes server check_join_target
for_each_node server restart_server
for_each_node agent restart_agent
finish "k3s rollout"
