#!/usr/bin/env bash
# Removes what Calico (manifest install) left on this node, in a safe order. Runs on the host.
# Idempotent: a second run reports everything ABSENT.
#
# Environment:
#   DRY_RUN=true            print what would be removed, change nothing
#   FLUSH_BIRD_ROUTES=true  flush the routes BIRD installed (`proto bird`, including blackholes)
#   NODE_NAME               for the log
#
# Never touches /sys/fs/bpf (Cilium needs bpffs), /run/xtables.lock (shared with every iptables
# user), the generic CNI plugins in /opt/cni/bin, or any chain that is not Calico's.
set -euo pipefail

# @include common.sh

FLUSH_BIRD_ROUTES="${FLUSH_BIRD_ROUTES:-true}"

# Calico's chains all start with `cali-`; its ipsets with cali40/cali4t (IPv4) or cali60/cali6t
# (IPv6), plus two names from very old releases.
CALICO_CHAINS='cali-.*'
CALICO_IPSETS='^(cali[46][0t].*|felix-(all|masq)-ipam-pools)$'

# select_bird_routes: reads `ip route show` output, prints the routes BIRD installed.
select_bird_routes() { grep -E '(^| )proto bird( |$)' || true; }

cni_files() {
  # Cilium renames foreign CNI configs to *.cilium_bak; those copies go too.
  remove_path /etc/cni/net.d/10-calico.conflist
  remove_path /etc/cni/net.d/10-calico.conflist.cilium_bak
  remove_path /etc/cni/net.d/calico-kubeconfig
  remove_path /etc/cni/net.d/calico-tls
  # Only Calico's own plugins: loopback, portmap, host-local and the others may serve another CNI.
  remove_path /opt/cni/bin/calico
  remove_path /opt/cni/bin/calico-ipam
}

bird_routes() {
  local routes
  if ! command -v ip >/dev/null 2>&1; then
    fail "routes: the ip command is not installed on this host"
    return 0
  fi
  routes="$(ip -4 route show 2>/dev/null | select_bird_routes)"
  if [ -z "$routes" ]; then
    say "ABSENT routes: none with proto bird"
  elif [ "$FLUSH_BIRD_ROUTES" != "true" ]; then
    say "KEPT routes: $(printf '%s\n' "$routes" | wc -l | tr -d ' ') with proto bird (cleanup.birdRoutes is false)"
  elif dry_run; then
    say "WOULD-REMOVE routes with proto bird:"
    printf '%s\n' "$routes" | sed 's/^/  /'
  elif ip -4 route flush proto bird; then
    say "REMOVED routes: $(printf '%s\n' "$routes" | wc -l | tr -d ' ') with proto bird"
  else
    fail "routes: ip route flush proto bird failed"
  fi
}

interfaces() {
  local link
  if ! command -v ip >/dev/null 2>&1; then
    fail "interfaces: the ip command is not installed on this host"
    return 0
  fi
  # tunl0 belongs to the ipip module and cannot be deleted; without addresses and down it is inert.
  if ! ip link show tunl0 >/dev/null 2>&1; then
    say "ABSENT interface tunl0"
  elif dry_run; then
    say "WOULD-REMOVE addresses of tunl0 and set it down (it disappears at the next reboot)"
  elif ip addr flush dev tunl0 && ip link set tunl0 down; then
    say "REMOVED addresses of tunl0 and set it down (it disappears at the next reboot)"
  else
    fail "interface tunl0: could not flush and set down"
  fi
  for link in vxlan.calico vxlan-v6.calico wireguard.cali wg-v6.cali; do
    if ! ip link show "$link" >/dev/null 2>&1; then
      say "ABSENT interface $link"
    elif dry_run; then
      say "WOULD-REMOVE interface $link"
    elif ip link delete "$link"; then
      say "REMOVED interface $link"
    else
      fail "interface $link: could not delete"
    fi
  done
}

state_dirs() {
  # /run/calico/cgroup is a cgroup2 mount: unmount it before removing the directory.
  if is_mounted /run/calico/cgroup; then
    if dry_run; then
      say "WOULD-REMOVE mount /run/calico/cgroup"
    elif umount "${HOST_ROOT}/run/calico/cgroup"; then
      say "REMOVED mount /run/calico/cgroup"
    else
      fail "mount /run/calico/cgroup: could not unmount; /run/calico is kept"
      return 0
    fi
  else
    say "ABSENT mount /run/calico/cgroup"
  fi
  remove_path /run/calico
  remove_path /var/lib/calico
}

main() {
  say "calico-cleanup on ${NODE_NAME:-$(hostname)}$(dry_run && printf ' (dry run)')"
  cni_files
  # Rules first: the kernel refuses to destroy an ipset a rule still uses.
  remove_chains Calico "$CALICO_CHAINS"
  remove_ipsets Calico "$CALICO_IPSETS"
  bird_routes
  interfaces
  state_dirs
  finish calico-cleanup
}

if [ "${SOURCE_ONLY:-false}" != "true" ]; then
  main
fi
