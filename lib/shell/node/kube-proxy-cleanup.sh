#!/usr/bin/env bash
# Removes the rules k3s's embedded kube-proxy left after it was disabled: its iptables chains by
# name (iptables mode, both backends and families) and its nftables tables (nftables mode), and
# optionally kube-router's network-policy chains and ipsets. Runs on the host, only once this
# node's Cilium agent serves Services (the Job checks that before it enters the host).
#
# Environment:
#   DRY_RUN=true               print what would be removed, change nothing
#   KUBE_ROUTER_POLICY=true    also remove kube-router's network-policy chains and KUBE-SRC-/KUBE-DST- ipsets
#   NODE_NAME                  for the log
#
# Never a whole-table `iptables-save | grep -v KUBE | iptables-restore`: that would also strip the
# kubelet's KUBE-FIREWALL and KUBE-KUBELET-CANARY and race every other writer.
set -euo pipefail

# @include common.sh

KUBE_ROUTER_POLICY="${KUBE_ROUTER_POLICY:-false}"

# kube-proxy's chains (iptables mode), by name. Not KUBE-FIREWALL or KUBE-KUBELET-CANARY (kubelet),
# not KUBE-ROUTER-*, KUBE-NWPLCY-*, KUBE-POD-FW-* (kube-router).
KUBE_PROXY_CHAINS='KUBE-SERVICES|KUBE-NODEPORTS|KUBE-EXTERNAL-SERVICES|KUBE-POSTROUTING|KUBE-FORWARD|KUBE-MARK-.*|KUBE-PROXY-.*|KUBE-SVC-.*|KUBE-SEP-.*|KUBE-FW-.*|KUBE-EXT-.*|KUBE-SVL-.*'
KUBE_ROUTER_CHAINS='KUBE-ROUTER-.*|KUBE-NWPLCY-.*|KUBE-POD-FW-.*'
KUBE_ROUTER_IPSETS='^KUBE-(SRC|DST)-'

main() {
  say "kube-proxy-cleanup on ${NODE_NAME:-$(hostname)}$(dry_run && printf ' (dry run)')"
  say "step kube-proxy: rules of the embedded kube-proxy"
  remove_chains kube-proxy "$KUBE_PROXY_CHAINS"
  # nftables mode (Kubernetes 1.29+): tables `ip kube-proxy` and `ip6 kube-proxy`
  # (pkg/proxy/nftables/proxier.go). kube-proxy drives them with the nft command, so a host where
  # k3s finds none cannot have them.
  remove_nft_tables kube-proxy 'no nft on this host or in k3s, so kube-proxy never ran in nftables mode' 'ip kube-proxy' 'ip6 kube-proxy'
  if [ "$KUBE_ROUTER_POLICY" = "true" ]; then
    say "step kube-router-policy: kube-router's network-policy rules and ipsets"
    remove_chains kube-router "$KUBE_ROUTER_CHAINS"
    remove_ipsets kube-router "$KUBE_ROUTER_IPSETS"
  else
    say "step kube-router-policy: skipped (cleanup.kubeRouterPolicy is false)"
  fi
  finish kube-proxy-cleanup
}

if [ "${SOURCE_ONLY:-false}" != "true" ]; then
  main
fi
