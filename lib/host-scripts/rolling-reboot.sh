# Rolling reboot: the alternative to the scripted node cleanup. A reboot clears everything Calico
# and kube-proxy left on a node (rules, ipsets, routes, tunl0, mounts). Run it from a workstation
# with kubectl (pointed at this cluster) and ssh to the nodes, after step 200 (Cilium) is ready.
#
# One node at a time: drain, reboot, wait until it is back (new boot ID and Ready), uncordon.
# Servers first, one by one, so etcd keeps quorum; then the agents.
#
# Usage: rolling-reboot.sh [--dry-run] [--from NODE]
#   --dry-run    print the commands, run nothing
#   --from NODE  start at NODE (to resume after a failure)
# Environment: SSH_USER (default root), DRAIN_TIMEOUT (10m), READY_TIMEOUT (900 seconds).

DRY_RUN=false
FROM=""
SSH_USER="${SSH_USER:-root}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-10m}"
READY_TIMEOUT="${READY_TIMEOUT:-900}"

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --from) FROM="${2:?--from needs a node name}"; shift ;;
    *) echo "usage: $0 [--dry-run] [--from NODE]" >&2; exit 2 ;;
  esac
  shift
done

run() {
  echo "+ $*"
  [ "$DRY_RUN" = "true" ] || "$@"
}

boot_id() { kubectl get node "$1" -o 'jsonpath={.status.nodeInfo.bootID}'; }
ready() { kubectl get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'; }

# wait_rebooted NODE OLD_BOOT_ID: until the node reports another boot ID and is Ready.
wait_rebooted() {
  local node="$1" old="$2" waited=0
  [ "$DRY_RUN" = "true" ] && { echo "+ (wait until $node has a new boot ID and is Ready)"; return 0; }
  while [ "$(boot_id "$node" 2>/dev/null || true)" = "$old" ] || [ "$(ready "$node" 2>/dev/null || true)" != "True" ]; do
    if [ "$waited" -ge "$READY_TIMEOUT" ]; then
      echo "FAILED $node did not come back Ready after ${READY_TIMEOUT}s; it stays cordoned. Fix it, then resume with --from $node" >&2
      exit 1
    fi
    sleep 10
    waited=$((waited + 10))
  done
}

started=false
[ -z "$FROM" ] && started=true
for entry in "${NODES[@]}"; do
  read -r role node ip <<<"$entry"
  [ "$node" = "$FROM" ] && started=true
  $started || { echo "skip $node (before --from $FROM)"; continue; }
  echo "== $node ($role, $ip)"
  if [ "$DRY_RUN" = "true" ]; then old=dry-run; else old="$(boot_id "$node")"; fi
  run kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout="$DRAIN_TIMEOUT"
  # The connection drops when the node goes down: ssh's exit status says nothing here.
  run ssh -o BatchMode=yes -o ConnectTimeout=10 "$SSH_USER@$ip" sudo systemctl reboot || true
  wait_rebooted "$node" "$old"
  run kubectl uncordon "$node"
  if [ "$DRY_RUN" = "true" ]; then echo "OK $node (dry run: nothing was done)"; else echo "OK $node rebooted and uncordoned"; fi
done
$started || { echo "FAILED --from $FROM: no such node in this plan" >&2; exit 2; }
echo "rolling reboot: done"
