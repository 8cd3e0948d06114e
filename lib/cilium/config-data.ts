/**
 * The data of the `cilium-config` ConfigMap for a config: the release line's defaults plus the keys
 * our settings decide, named as the agent reads them.
 */
import type { ResolvedConfig } from '../config/resolve.ts';
import { LINE_DEFAULTS } from '../versions/cilium-config.ts';

/** The keys our settings decide (never taken from the line defaults). */
export const SETTING_KEYS = [
  'routing-mode',
  'tunnel-protocol',
  'ipv4-native-routing-cidr',
  'kube-proxy-replacement',
  'kube-proxy-replacement-healthz-bind-address',
  'auto-direct-node-routes',
  'direct-routing-skip-unreachable',
  'ipam',
  'enable-bpf-masquerade',
  'mtu',
  'unmanaged-pod-watcher-interval',
  'enable-hubble',
  'external-envoy-proxy',
] as const;

/** Seconds between the operator's checks for pods Cilium does not manage (it restarts them). */
const UNMANAGED_POD_WATCHER_SECONDS = 15;

/** The ConfigMap data, keys sorted. */
export function ciliumConfigData(config: ResolvedConfig): Record<string, string> {
  const c = config.cilium;
  const rules = c.version.rules;
  const data: Record<string, string> = { ...LINE_DEFAULTS[c.version.line] };
  data['routing-mode'] = c.routingMode;
  if (c.routingMode === 'tunnel' || rules.rendersTunnelProtocol) {
    // Ignored in native mode, but rendered by the chart from 1.17 on.
    data['tunnel-protocol'] = 'vxlan';
  }
  if (c.routingMode === 'native') {
    data['ipv4-native-routing-cidr'] = c.ipv4NativeRoutingCIDR;
  }
  data['kube-proxy-replacement'] = c.kubeProxyReplacement;
  if (c.kubeProxyReplacement === 'true' || c.kubeProxyReplacement === 'strict') {
    data['kube-proxy-replacement-healthz-bind-address'] = '';
  }
  data['auto-direct-node-routes'] = String(c.autoDirectNodeRoutes);
  if (c.directRoutingSkipUnreachable !== undefined) {
    data['direct-routing-skip-unreachable'] = String(c.directRoutingSkipUnreachable);
  }
  data.ipam = c.ipamMode;
  data['enable-bpf-masquerade'] = String(c.bpfMasquerade);
  if (c.mtu !== undefined) {
    data.mtu = String(c.mtu);
  }
  // The operator restarts pods that Cilium does not manage (pods started under Calico).
  data['unmanaged-pod-watcher-interval'] =
    rules.watcherInterval === 'duration' ? `${UNMANAGED_POD_WATCHER_SECONDS}s` : String(UNMANAGED_POD_WATCHER_SECONDS);
  data['enable-hubble'] = 'false';
  // Envoy runs inside the agent pod (deviation envoy-embedded).
  data['external-envoy-proxy'] = 'false';
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : 1)));
}
