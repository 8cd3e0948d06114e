# Shared part of the workstation scripts (kubectl pointed at the cluster, ssh to the nodes).
# Inlined by synth into each script, after the generated NODES list.
#
# Options: --dry-run (print the commands, run nothing), --from NODE (start at NODE, to resume).
# Environment: SSH_USER (default root), READY_TIMEOUT (seconds, default 900).

DRY_RUN=false
FROM=""
SSH_USER="${SSH_USER:-root}"
READY_TIMEOUT="${READY_TIMEOUT:-900}"

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --from) FROM="${2:?--from needs a node name}"; shift ;;
    *) echo "usage: $0 [--dry-run] [--from NODE]" >&2; exit 2 ;;
  esac
  shift
done

dry_run() { [ "$DRY_RUN" = "true" ]; }

# run COMMAND...: prints it, and runs it unless this is a dry run.
run() {
  echo "+ $*"
  dry_run || "$@"
}

# on NODE_IP COMMAND: runs a shell command on a node over ssh.
on() {
  local ip="$1"
  shift
  run ssh -o BatchMode=yes -o ConnectTimeout=10 "$SSH_USER@$ip" "$@"
}

node_field() { kubectl get node "$1" -o "jsonpath=$2"; }
ready() { node_field "$1" '{.status.conditions[?(@.type=="Ready")].status}'; }
is_ready() { [ "$(ready "$1" 2>/dev/null || true)" = "True" ]; }

# wait_for NODE DESCRIPTION CHECK...: until CHECK succeeds, READY_TIMEOUT seconds at most.
wait_for() {
  local node="$1" what="$2" waited=0
  shift 2
  if dry_run; then
    echo "+ (wait until $what)"
    return 0
  fi
  until "$@"; do
    if [ "$waited" -ge "$READY_TIMEOUT" ]; then
      echo "FAILED $node: not $what after ${READY_TIMEOUT}s. Fix it, then resume with --from $node" >&2
      exit 1
    fi
    sleep 10
    waited=$((waited + 10))
  done
}

# for_each_node ROLE HANDLER: calls HANDLER NAME IP for every node of ROLE (server or agent), in
# NODES order, skipping the nodes before --from (across calls: resuming at an agent skips every
# server).
STARTED=false
[ -z "$FROM" ] && STARTED=true
for_each_node() {
  local want="$1" handler="$2" role node ip
  for entry in "${NODES[@]}"; do
    read -r role node ip <<<"$entry"
    [ "$role" = "$want" ] || continue
    [ "$node" = "$FROM" ] && STARTED=true
    if ! $STARTED; then
      echo "skip $node (before --from $FROM)"
      continue
    fi
    "$handler" "$node" "$ip"
  done
}

# for_all_nodes ROLE HANDLER: like for_each_node, for idempotent work that always covers every node.
for_all_nodes() {
  local want="$1" handler="$2" role node ip
  for entry in "${NODES[@]}"; do
    read -r role node ip <<<"$entry"
    [ "$role" = "$want" ] && "$handler" "$node" "$ip"
  done
  return 0
}

# finish NAME: the last line, or a usage error when --from named no node.
finish() {
  if ! $STARTED; then
    echo "FAILED --from $FROM: no such node in this plan" >&2
    exit 2
  fi
  if dry_run; then echo "$1: dry run, nothing was done"; else echo "$1: done"; fi
}
