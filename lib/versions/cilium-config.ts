/**
 * What `cilium-config` holds besides the keys our settings decide, per Cilium release line: the
 * chart's defaults, as the official chart renders them for native routing with kube-proxy
 * replacement (reference renders of 1.15.2, 1.16.19, 1.18.12, 1.19.6 and 1.20.0; see
 * docs/cilium-versions.md "Supported releases"). Data, not code: a new line is its changes to the previous one.
 *
 * Left out on purpose (every line renders them; each deviation is listed in lib/constructs/cilium/deviations.ts):
 * - the keys our settings decide (SETTING_KEYS in lib/constructs/cilium/config-data.ts);
 * - every `hubble-*` key: Hubble is off by default, and its TLS paths would point at certificates
 *   that are not there.
 */

/** Key → value, as the ConfigMap carries it. */
export type Defaults = Readonly<Record<string, string>>;

const LINE_1_15: Defaults = {
  'agent-not-ready-taint-key': 'node.cilium.io/agent-not-ready',
  'arping-refresh-period': '30s',
  'bpf-lb-acceleration': 'disabled',
  'bpf-lb-external-clusterip': 'false',
  'bpf-lb-map-max': '65536',
  'bpf-lb-sock': 'false',
  'bpf-map-dynamic-size-ratio': '0.0025',
  'bpf-policy-map-max': '16384',
  'bpf-root': '/sys/fs/bpf',
  'cgroup-root': '/run/cilium/cgroupv2',
  'cilium-endpoint-gc-interval': '5m0s',
  'cluster-id': '0',
  'cluster-name': 'default',
  'cni-exclusive': 'true',
  'cni-log-file': '/var/run/cilium/cilium-cni.log',
  'custom-cni-conf': 'false',
  debug: 'false',
  'debug-verbose': '',
  'dnsproxy-enable-transparent-mode': 'true',
  'egress-gateway-reconciliation-trigger-interval': '1s',
  'enable-auto-protect-node-port-range': 'true',
  'enable-bgp-control-plane': 'false',
  'enable-bpf-clock-probe': 'false',
  'enable-endpoint-health-checking': 'true',
  'enable-health-check-loadbalancer-ip': 'false',
  'enable-health-check-nodeport': 'true',
  'enable-health-checking': 'true',
  'enable-ipv4': 'true',
  'enable-ipv4-big-tcp': 'false',
  'enable-ipv4-masquerade': 'true',
  'enable-ipv6': 'false',
  'enable-ipv6-big-tcp': 'false',
  'enable-ipv6-masquerade': 'true',
  'enable-k8s-networkpolicy': 'true',
  'enable-k8s-terminating-endpoint': 'true',
  'enable-l2-neigh-discovery': 'true',
  'enable-l7-proxy': 'true',
  'enable-local-redirect-policy': 'false',
  'enable-masquerade-to-route-source': 'false',
  'enable-metrics': 'true',
  'enable-policy': 'default',
  'enable-remote-node-identity': 'true',
  'enable-sctp': 'false',
  'enable-svc-source-range-check': 'true',
  'enable-vtep': 'false',
  'enable-well-known-identities': 'false',
  'enable-xt-socket-fallback': 'true',
  'external-envoy-proxy': 'false',
  'identity-allocation-mode': 'crd',
  'identity-gc-interval': '15m0s',
  'identity-heartbeat-timeout': '30m0s',
  'install-no-conntrack-iptables-rules': 'false',
  'ipam-cilium-node-update-rate': '15s',
  'k8s-client-burst': '20',
  'k8s-client-qps': '10',
  'max-connected-clusters': '255',
  'mesh-auth-enabled': 'true',
  'mesh-auth-gc-interval': '5m0s',
  'mesh-auth-queue-size': '1024',
  'mesh-auth-rotated-identities-queue-size': '1024',
  'monitor-aggregation': 'medium',
  'monitor-aggregation-flags': 'all',
  'monitor-aggregation-interval': '5s',
  'node-port-bind-protection': 'true',
  'nodes-gc-interval': '5m0s',
  'operator-api-serve-addr': '127.0.0.1:9234',
  'operator-prometheus-serve-addr': ':9963',
  'policy-cidr-match-mode': '',
  'preallocate-bpf-maps': 'false',
  procfs: '/host/proc',
  'proxy-connect-timeout': '2',
  'proxy-max-connection-duration-seconds': '0',
  'proxy-max-requests-per-connection': '0',
  'proxy-prometheus-port': '9964',
  'remove-cilium-node-taints': 'true',
  'service-no-backend-response': 'reject',
  'set-cilium-is-up-condition': 'true',
  'set-cilium-node-taints': 'true',
  'sidecar-istio-proxy-image': 'cilium/istio_proxy',
  'skip-cnp-status-startup-clean': 'false',
  'synchronize-k8s-nodes': 'true',
  'tofqdns-dns-reject-response-code': 'refused',
  'tofqdns-enable-dns-compression': 'true',
  'tofqdns-endpoint-max-ip-per-hostname': '50',
  'tofqdns-idle-connection-grace-period': '0s',
  'tofqdns-max-deferred-connection-deletes': '10000',
  'tofqdns-proxy-response-max-delay': '100ms',
  'vtep-cidr': '',
  'vtep-endpoint': '',
  'vtep-mac': '',
  'vtep-mask': '',
  'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist',
};
// 1.15.2 → 1.16.19: keys added or changed, then keys removed.
const CHANGES_1_16: Defaults = {
  'bpf-events-drop-enabled': 'true',
  'bpf-events-policy-verdict-enabled': 'true',
  'bpf-events-trace-enabled': 'true',
  'clustermesh-enable-endpoint-sync': 'false',
  'clustermesh-enable-mcs-api': 'false',
  'datapath-mode': 'veth',
  'direct-routing-skip-unreachable': 'false',
  'dnsproxy-socket-linger-timeout': '10',
  'enable-node-selector-labels': 'false',
  'enable-runtime-device-detection': 'true',
  'enable-tcx': 'true',
  'envoy-access-log-buffer-size': '4096',
  'envoy-base-id': '0',
  'envoy-keep-cap-netbindservice': 'false',
  'external-envoy-proxy': 'true',
  'k8s-require-ipv4-pod-cidr': 'false',
  'k8s-require-ipv6-pod-cidr': 'false',
  'nat-map-stats-entries': '32',
  'nat-map-stats-interval': '30s',
  'nodeport-addresses': '',
  'proxy-idle-timeout-seconds': '60',
  'proxy-initial-fetch-timeout': '30',
  'proxy-xff-num-trusted-hops-egress': '0',
  'proxy-xff-num-trusted-hops-ingress': '0',
};
const REMOVED_1_16: readonly string[] = [
  'enable-bgp-control-plane',
  'enable-remote-node-identity',
  'proxy-prometheus-port',
  'sidecar-istio-proxy-image',
  'skip-cnp-status-startup-clean',
];
// 1.16.19 → 1.18.12: keys added or changed, then keys removed.
const CHANGES_1_18: Defaults = {
  'bpf-distributed-lru': 'false',
  'bpf-lb-algorithm-annotation': 'false',
  'bpf-lb-mode-annotation': 'false',
  'bpf-lb-source-range-all-types': 'false',
  'bpf-policy-stats-map-max': '65536',
  'default-lb-service-ipam': 'lbipam',
  'enable-drift-checker': 'true',
  'enable-dynamic-config': 'true',
  'enable-endpoint-lockdown-on-policy-overflow': 'false',
  'enable-internal-traffic-policy': 'true',
  'enable-l2-neigh-discovery': 'false',
  'enable-lb-ipam': 'true',
  'enable-non-default-deny-policies': 'true',
  'enable-policy-secrets-sync': 'true',
  'enable-source-ip-verification': 'true',
  'health-check-icmp-failure-threshold': '3',
  'http-retry-count': '3',
  'http-stream-idle-timeout': '300',
  'identity-management-mode': 'agent',
  'iptables-random-fully': 'false',
  'metrics-sampling-interval': '5m',
  'policy-default-local-cluster': 'false',
  'policy-secrets-namespace': 'cilium-secrets',
  'policy-secrets-only-from-secrets-namespace': 'true',
  'proxy-max-concurrent-retries': '128',
  'tofqdns-endpoint-max-ip-per-hostname': '1000',
  'tofqdns-preallocate-identities': 'true',
  'tunnel-source-port-range': '0-0',
};
const REMOVED_1_18: readonly string[] = [
  'arping-refresh-period',
  'enable-k8s-terminating-endpoint',
  'enable-local-redirect-policy',
  'enable-runtime-device-detection',
  'k8s-client-burst',
  'k8s-client-qps',
];
// 1.18.12 → 1.19.6: keys added or changed, then keys removed.
const CHANGES_1_19: Defaults = {
  'clustermesh-cache-ttl': '0s',
  'clustermesh-mcs-api-install-crds': 'true',
  'enable-host-firewall': 'false',
  'enable-no-service-endpoints-routable': 'true',
  'enable-service-topology': 'false',
  'mesh-auth-enabled': 'false',
  'packetization-layer-pmtud-mode': 'blackhole',
  'policy-default-local-cluster': 'true',
  'policy-deny-response': 'none',
  'proxy-cluster-max-connections': '1024',
  'proxy-cluster-max-requests': '1024',
  'proxy-max-active-downstream-connections': '50000',
  'proxy-use-original-source-address': 'true',
};
const REMOVED_1_19: readonly string[] = ['enable-internal-traffic-policy', 'enable-svc-source-range-check'];
// 1.19.6 → 1.20.0: keys added or changed, then keys removed.
const CHANGES_1_20: Defaults = {
  'clustermesh-default-global-namespace': 'true',
  'datapath-plugins-state-dir': '/var/run/cilium/plugins',
  devices: '',
  'enable-datapath-plugins': 'false',
  'enable-dynamic-source-lookup-nodeport': 'false',
  'envoy-access-log-enabled': 'true',
  'envoy-node-locality-enabled': 'false',
  'envoy-xds-mode': 'ads',
  'proxy-cluster-max-pending-requests': '1024',
};
const REMOVED_1_20: readonly string[] = [];

/** The release lines, oldest first. */
export const CILIUM_LINES = ['1.15', '1.16', '1.17', '1.18', '1.19', '1.20'] as const;
export type CiliumLine = (typeof CILIUM_LINES)[number];

function apply(base: Defaults, changes: Defaults, removed: readonly string[]): Defaults {
  const next: Record<string, string> = { ...base, ...changes };
  for (const key of removed) {
    delete next[key];
  }
  return next;
}

const LINE_1_16 = apply(LINE_1_15, CHANGES_1_16, REMOVED_1_16);
const LINE_1_18 = apply(LINE_1_16, CHANGES_1_18, REMOVED_1_18);
const LINE_1_19 = apply(LINE_1_18, CHANGES_1_19, REMOVED_1_19);
const LINE_1_20 = apply(LINE_1_19, CHANGES_1_20, REMOVED_1_20);

/**
 * The defaults of each line. 1.17 has no reference render: it takes the 1.16 keys (a key 1.17 no
 * longer knows is ignored by the agent; one it added keeps the agent's default), which
 * docs/cilium-versions.md lists as not verified against a render.
 */
export const LINE_DEFAULTS: Readonly<Record<CiliumLine, Defaults>> = {
  '1.15': LINE_1_15,
  '1.16': LINE_1_16,
  '1.17': LINE_1_16,
  '1.18': LINE_1_18,
  '1.19': LINE_1_19,
  '1.20': LINE_1_20,
};
