/**
 * The chart values that ask the official chart for what a config asks of the Cilium step: the
 * same routing, kube-proxy replacement, API address, IPAM, masquerading, MTU and operator
 * replicas, Hubble off, and Envoy embedded or as its own DaemonSet.
 */
import type { ResolvedConfig } from '../../lib/config/resolve.ts';

/** Values for `helm template` of the chart. */
export function chartValues(config: ResolvedConfig): Record<string, unknown> {
  const c = config.cilium;
  const values: Record<string, any> = {
    routingMode: c.routingMode,
    kubeProxyReplacement: c.kubeProxyReplacement,
    k8sServiceHost: config.cluster.apiServer.host,
    k8sServicePort: config.cluster.apiServer.port,
    ipam: { mode: c.ipamMode },
    bpf: { masquerade: c.bpfMasquerade },
    autoDirectNodeRoutes: c.autoDirectNodeRoutes,
    operator: { replicas: c.operatorReplicas },
    hubble: { enabled: false },
    envoy: { enabled: c.envoy === 'daemonset' },
  };
  if (c.routingMode === 'native') {
    values.ipv4NativeRoutingCIDR = c.ipv4NativeRoutingCIDR;
  }
  if (c.directRoutingSkipUnreachable !== undefined) {
    values.directRoutingSkipUnreachable = c.directRoutingSkipUnreachable;
  }
  if (c.mtu !== undefined) {
    values.MTU = c.mtu;
  }
  if (c.devices !== undefined) {
    values.devices = c.devices;
  }
  if (c.directRoutingDevice !== undefined) {
    values.nodePort = { directRoutingDevice: c.directRoutingDevice };
  }
  if (c.migration !== undefined) {
    // The values of Cilium's guide "Migrating a cluster to Cilium".
    Object.assign(values, {
      tunnelProtocol: 'vxlan',
      tunnelPort: c.migration.tunnelPort,
      cni: { customConf: true, uninstall: false },
      ipam: {
        mode: 'cluster-pool',
        operator: { clusterPoolIPv4PodCIDRList: [c.migration.podCIDR], clusterPoolIPv4MaskSize: c.migration.maskSize },
      },
      policyEnforcementMode: 'never',
      bpf: { masquerade: c.bpfMasquerade, hostLegacyRouting: true },
    });
    values.operator = { ...values.operator, unmanagedPodWatcher: { restart: false } };
  }
  return values;
}
