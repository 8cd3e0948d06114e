/**
 * The configs the Cilium step is checked against the chart for: the built-in example (profile
 * hetzner-cloud) and the other profiles' values, each for every release in the table. The test
 * fixtures hold, per release and variant, the hash of each object of the chart's render for the
 * same values (test/fixtures/cilium/chart-renders.json).
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../lib/config/load.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';

export interface Variant {
  readonly name: string;
  /** Changes to the built-in example's data. */
  readonly edit: (data: Record<string, any>) => void;
}

export const VARIANTS: readonly Variant[] = [
  { name: 'hetzner-cloud', edit: () => {} },
  {
    name: 'hetzner-vswitch',
    edit: (d) => {
      d.cluster.profile = 'hetzner-vswitch';
      d.cluster.network.vSwitchSubnet = '10.0.0.0/24';
      delete d.cilium.MTU;
    },
  },
  {
    name: 'hetzner-cloud-envoy-daemonset',
    edit: (d) => (d.cilium.envoy = 'daemonset'),
  },
  {
    name: 'hetzner-cloud-kube-proxy-kept',
    edit: (d) => (d.cilium.kubeProxyReplacement = false),
  },
  {
    name: 'hetzner-cloud-kubernetes-1.29',
    edit: (d) => (d.cluster.kubernetesVersion = 'v1.29'),
  },
  {
    name: 'generic-tunnel',
    edit: (d) => {
      d.cluster.profile = 'generic';
      delete d.cilium.MTU;
      d.cilium.routingMode = 'tunnel';
    },
  },
  {
    name: 'per-node-migrate',
    edit: (d) => {
      d.strategy = 'per-node';
      d.phase = 'migrate';
      d.perNode = { podCIDR: '10.245.0.0/16', tunnelPort: 8473, acknowledgeCalicoBGP: true };
    },
  },
  {
    name: 'hetzner-cloud-devices',
    edit: (d) => {
      d.cilium.devices = ['eth0', 'enp+'];
      d.cilium.directRoutingDevice = 'enp7s0';
    },
  },
  {
    name: 'generic',
    edit: (d) => {
      d.cluster.profile = 'generic';
      // Native routing with the pod CIDRs routed by the network (no direct node routes).
      d.cluster.network.routesPodCIDRs = true;
      delete d.cilium.MTU;
    },
  },
];

const EXAMPLE = new URL('../../examples/hetzner-3-servers.yaml', import.meta.url);

/** `v1.29` → `1.29`, the form `helm template --kube-version` takes. */
export function kubeVersion(config: ResolvedConfig): string {
  return config.cluster.kubernetesVersion.replace(/^v/, '');
}

/** The example with a variant's changes and this Cilium version, loaded as the CLI loads it. */
export function variantConfig(variant: Variant, version: string): ResolvedConfig {
  const data = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, any>;
  variant.edit(data);
  data.cilium.version = version;
  return parseConfig(stringify(data), `${variant.name}.yaml`).config;
}
