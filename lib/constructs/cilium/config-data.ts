/**
 * The data of the `cilium-config` ConfigMap for a config: what the release's chart renders
 * (lib/versions/cilium-releases.json) with the keys our settings decide set from them, named and
 * written as that chart writes them.
 */
import type { MigrationSettings, ResolvedConfig } from '../../config/resolve.ts';
import { applyChanges } from '../../versions/cilium-releases.ts';

/** The keys the chart's values decide, which our settings set (never taken from the release's data). */
export const VALUE_KEYS = [
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
] as const;

/** The keys strategy per-node sets or removes in phase migrate (the guide's migration values). */
export const MIGRATION_KEYS = [
  'tunnel-port',
  'cluster-pool-ipv4-cidr',
  'cluster-pool-ipv4-mask-size',
  'custom-cni-conf',
  'write-cni-conf-when-ready',
  'cni-exclusive',
  'cni-log-file',
  'enable-policy',
  'enable-host-legacy-routing',
] as const;

/** Every key our settings decide. */
export const SETTING_KEYS = [...VALUE_KEYS, ...MIGRATION_KEYS] as const;

/** Seconds between the operator's checks for pods Cilium does not manage (it restarts them). */
const UNMANAGED_POD_WATCHER_SECONDS = 15;

/** The ConfigMap data, keys sorted. */
export function ciliumConfigData(config: ResolvedConfig): Record<string, string> {
  const c = config.cilium;
  const facts = c.version.facts;
  const shape = facts.configShape;
  let data: Record<string, string> = { ...facts.config };
  if (!c.kubeProxyReplacementEnabled) {
    data = applyChanges(data, facts.kubeProxyKeptConfig);
  }
  if (c.envoy === 'daemonset') {
    data = applyChanges(data, facts.envoyConfig);
  }
  data['routing-mode'] = c.routingMode;
  if (c.routingMode === 'tunnel' ? shape.tunnelProtocolInTunnel : shape.tunnelProtocolInNative) {
    // Ignored in native mode, but rendered by the chart from 1.17 on; before, tunnel mode takes the
    // agent's default, vxlan.
    data['tunnel-protocol'] = 'vxlan';
  }
  if (c.routingMode === 'native') {
    data['ipv4-native-routing-cidr'] = c.ipv4NativeRoutingCIDR;
  }
  data['kube-proxy-replacement'] = c.kubeProxyReplacement;
  if (c.kubeProxyReplacementEnabled || shape.healthzWithoutReplacement) {
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
  // As the chart writes `devices` and `nodePort.directRoutingDevice` on every line (1.20's chart
  // writes `devices: ""` when none is set, which the release's data keeps).
  if (c.devices !== undefined) {
    data.devices = c.devices.join(' ');
  }
  if (c.directRoutingDevice !== undefined) {
    data['direct-routing-device'] = c.directRoutingDevice;
  }
  // The operator restarts pods that Cilium does not manage (pods started under Calico).
  data['unmanaged-pod-watcher-interval'] =
    shape.watcherInterval === 'duration' ? `${UNMANAGED_POD_WATCHER_SECONDS}s` : String(UNMANAGED_POD_WATCHER_SECONDS);
  // On every release, though charts before 1.17.2 leave the key out when Hubble is off: 1.17.0 and
  // 1.17.1 then default to on (cilium/cilium#37702; deviation hubble-off-explicit).
  data['enable-hubble'] = 'false';
  if (c.migration) {
    Object.assign(data, migrationData(c.migration));
    delete data['write-cni-conf-when-ready'];
    delete data['cni-exclusive'];
    delete data['cni-log-file'];
  }
  return Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * The migration values of Cilium's guide ("Migrating a cluster to Cilium"), as the chart renders
 * them: the agent writes no CNI config (Calico's stays in charge until a node's CiliumNodeConfig
 * turns that on), no policy is enforced, traffic goes through the host's routing table (to reach
 * Calico's pods), and the operator leaves pods Cilium does not manage alone.
 */
function migrationData(m: MigrationSettings): Record<string, string> {
  return {
    // The guide sets tunnelProtocol: vxlan, which every chart then writes.
    'tunnel-protocol': 'vxlan',
    'tunnel-port': String(m.tunnelPort),
    'cluster-pool-ipv4-cidr': m.podCIDR,
    'cluster-pool-ipv4-mask-size': String(m.maskSize),
    'custom-cni-conf': 'true',
    'enable-policy': 'never',
    'enable-host-legacy-routing': 'true',
    // The chart writes "0" on every line; it reads as zero seconds and as a zero duration.
    'unmanaged-pod-watcher-interval': '0',
  };
}

/**
 * What a migrated node's CiliumNodeConfig sets: the guide's per-node defaults (write Cilium's CNI
 * config there), with two changes.
 *
 * - Chained with portmap while kube-proxy replacement is off, as it is beside Calico: only the
 *   replacement serves hostPort in eBPF, so without it a pod's hostPort (k3s ServiceLB's svclb
 *   pods, an ingress controller on 80/443) needs the portmap plugin, which Calico's install put in
 *   /opt/cni/bin. Chaining mode `portmap` writes cilium-cni then portmap (cilium/cilium
 *   `daemon/cmd/cni/config.go`, `cniConfigs`).
 * - Not exclusive: with `cni-exclusive: "true"` the agent renames every other CNI config on the
 *   node (a Multus or Istio CNI config too) and watches the directory to do it again, which also
 *   undoes a rollback that puts Calico's config back (same file, `cleanupOtherCNI` and
 *   `watchForDirectoryChanges`). Cilium's `05-cilium.conflist` sorts before Calico's
 *   `10-calico.conflist`, and the runtime loads the first config only, so Calico's may stay until
 *   the node cleanup removes it.
 */
export function nodeCniDefaults(kubeProxyReplacement: boolean): Record<string, string> {
  return {
    'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist',
    'custom-cni-conf': 'false',
    'cni-chaining-mode': kubeProxyReplacement ? 'none' : 'portmap',
    'cni-exclusive': 'false',
  };
}
