#!/usr/bin/env bash
# Removes what Calico (manifest install, iptables or nftables dataplane, BIRD or VXLAN backend,
# IPv4 and IPv6) left on this node, in a safe order. Runs on the host. Idempotent: a second run
# reports everything ABSENT.
#
# Environment:
#   DRY_RUN=true               print what would be removed, change nothing
#   FLUSH_CALICO_ROUTES=true   flush BIRD's (proto bird) and Felix's (proto 80) routes, blackholes included
#   CALICO_VERSION             the installed release (v3.27.0): before v3.29 there is no nftables dataplane
#   NODE_NAME                  for the log
#
# Never touches /sys/fs/bpf (Cilium needs bpffs), /run/xtables.lock (shared with every iptables
# user), the generic CNI plugins in /opt/cni/bin, or any chain, rule, set or route that is not
# Calico's.
set -euo pipefail

# @include common.sh

FLUSH_CALICO_ROUTES="${FLUSH_CALICO_ROUTES:-true}"
CALICO_VERSION="${CALICO_VERSION:-}"

# Felix's chains: every prefix it has used (AllHistoricChainNamePrefixes in felix/rules/rule_defs.go).
CALICO_CHAINS='(cali-|califw-|calitw-|califh-|calith-|calipi-|calipo-|felix-).*'
# Felix's rules in built-in chains that jump to none of its chains: those carrying its rule hash
# comment `cali:<hash>` (RuleHashPrefix; the FORWARD pair it appends sets and accepts mark 0x10000),
# and the NAT rules of releases before hash comments (HistoricInsertedNATRuleRegex).
CALICO_RULES='--comment "?cali:[A-Za-z0-9_-]+|^-A POSTROUTING .* felix-masq-ipam-pools |^-A POSTROUTING -o tunl0 -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE$'
# Its ipsets start with cali40/cali4t (IPv4) or cali60/cali6t (IPv6), plus two names from very old
# releases (LegacyV4IPSetNames).
CALICO_IPSETS='^(cali[46][0t].*|felix-(all|masq)-ipam-pools)$'
# Route protocols: BIRD's (RTPROT_BIRD, 12, named `bird` in iproute2's rt_protos), and the one
# Felix gives its blackholes and same-subnet routes (80, dataplanedefs in felix/dataplane/linux).
# Numbers, not names: a host's rt_protos may not name them.
CALICO_ROUTE_PROTOCOLS='12 80'

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

# route_protocol_name NUMBER: how the log names a route protocol.
route_protocol_name() {
  case "$1" in
    12) printf 'proto bird (BIRD)' ;;
    80) printf "proto 80 (Felix)" ;;
    *) printf 'proto %s' "$1" ;;
  esac
}

calico_routes() {
  local family proto routes count found=0
  if ! command -v ip >/dev/null 2>&1; then
    fail "routes: the ip command is not installed on this host"
    return 0
  fi
  for family in 4 6; do
    for proto in $CALICO_ROUTE_PROTOCOLS; do
      # A host without IPv6 answers with an error: it has no such routes.
      routes="$(ip -"$family" route show table main proto "$proto" 2>/dev/null || true)"
      [ -n "$routes" ] || continue
      found=1
      count="$(printf '%s\n' "$routes" | wc -l | tr -d ' ')"
      if [ "$FLUSH_CALICO_ROUTES" != "true" ]; then
        say "KEPT IPv$family routes: $count with $(route_protocol_name "$proto") (cleanup.birdRoutes is false)"
      elif dry_run; then
        say "WOULD-REMOVE IPv$family routes with $(route_protocol_name "$proto"):"
        printf '%s\n' "$routes" | sed 's/^/  /'
      elif ip -"$family" route flush table main proto "$proto"; then
        say "REMOVED IPv$family routes: $count with $(route_protocol_name "$proto")"
      else
        fail "IPv$family routes: ip route flush proto $proto failed"
      fi
    done
  done
  [ "$found" -eq 1 ] || say "ABSENT routes: none with proto bird or Felix's proto 80, IPv4 or IPv6"
}

# nftables_dataplane_impossible: why Felix's nftables tables cannot exist here, or nothing.
nftables_dataplane_impossible() {
  local minor
  case "$CALICO_VERSION" in
    v3.*) minor="${CALICO_VERSION#v3.}"; minor="${minor%%.*}" ;;
    *) return 0 ;;
  esac
  case "$minor" in
    '' | *[!0-9]*) return 0 ;;
  esac
  if [ "$minor" -lt 29 ]; then
    printf 'Calico %s has no nftables dataplane' "$CALICO_VERSION"
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
  elif [ -z "$(ip -o addr show dev tunl0 2>/dev/null)" ] && ! ip -o link show tunl0 | grep -Eq '<([^>]*,)?UP[,>]'; then
    say "ABSENT addresses of tunl0: it has none and is down (the device goes at the next reboot)"
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
  remove_chains Calico "$CALICO_CHAINS" "$CALICO_RULES"
  remove_ipsets Calico "$CALICO_IPSETS"
  # Felix's nftables dataplane (v3.29+), and the ARP table v3.32+ makes in either dataplane.
  remove_nft_tables Calico "$(nftables_dataplane_impossible)" 'ip calico' 'ip6 calico' 'arp calico-arp'
  calico_routes
  interfaces
  state_dirs
  finish calico-cleanup
}

if [ "${SOURCE_ONLY:-false}" != "true" ]; then
  main
fi
