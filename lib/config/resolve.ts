/**
 * Fills the profile-driven defaults into a validated config, once, so nothing downstream has to
 * know the profile rules.
 */
import type { Config, NodeConfig } from './schema.ts';
import { PROFILE_FACTS } from './profiles.ts';
import { durationSeconds } from '../duration.ts';
import { findCiliumVersion, type CiliumVersion } from '../versions/cilium.ts';
import { UTILITY_IMAGES, withRegistry, type PinnedImage } from '../versions/images.ts';
import { cidrContainsIp, parseCidr, parseIpv4 } from '../cidr.ts';

/** The Cilium settings with every default decided. */
export interface ResolvedCilium {
  readonly version: CiliumVersion;
  readonly routingMode: 'native' | 'tunnel';
  /** The `kube-proxy-replacement` value as the ConfigMap carries it. */
  readonly kubeProxyReplacement: string;
  /** True when Cilium replaces kube-proxy, so k3s must run with `disable-kube-proxy`. */
  readonly kubeProxyReplacementEnabled: boolean;
  readonly ipv4NativeRoutingCIDR: string;
  readonly autoDirectNodeRoutes: boolean;
  /** Undefined where the version has no such key. */
  readonly directRoutingSkipUnreachable: boolean | undefined;
  readonly ipamMode: string;
  readonly bpfMasquerade: boolean;
  readonly mtu: number | undefined;
  readonly operatorReplicas: number;
  /** `cilium.devices`; undefined: Cilium detects them. */
  readonly devices: readonly string[] | undefined;
  /** `cilium.directRoutingDevice`; undefined: Cilium picks it. */
  readonly directRoutingDevice: string | undefined;
  /** Envoy inside the agent pod, or as its own DaemonSet. */
  readonly envoy: 'embedded' | 'daemonset';
  /**
   * Set while Cilium runs beside Calico (strategy per-node, phase migrate): the guide's migration
   * settings, with the agent writing no CNI config until a node's CiliumNodeConfig says so.
   */
  readonly migration: MigrationSettings | undefined;
}

/** Cilium's settings while it runs beside Calico. */
export interface MigrationSettings {
  /** cluster-pool IPAM range and per-node block size. */
  readonly podCIDR: string;
  readonly maskSize: number;
  /** UDP port of the VXLAN overlay. */
  readonly tunnelPort: number;
}

/** Every image the output uses, from `images.registry` when set. */
export interface ResolvedImages {
  readonly node: PinnedImage;
  readonly busybox: PinnedImage;
  readonly ciliumAgent: PinnedImage;
  readonly ciliumOperator: PinnedImage;
  /** Envoy's own image, used where `cilium.envoy` is `daemonset`. */
  readonly ciliumEnvoy: PinnedImage;
}

/** A validated config with all derived values decided. */
export interface ResolvedConfig extends Omit<Config, 'cilium' | 'images'> {
  /** Cilium as this phase installs it (per-node migrate: the migration settings). */
  readonly cilium: ResolvedCilium;
  /** Cilium as the `cilium` section asks for it once the migration is done. */
  readonly finalCilium: ResolvedCilium;
  /** strategy per-node: the nodes in the order they move (empty for cutover). */
  readonly migrationOrder: readonly NodeConfig[];
  readonly images: ResolvedImages & { readonly registry: string | undefined };
  /** The config's durations in seconds, parsed once (the sections keep the text PLAN.md shows). */
  readonly durations: ResolvedDurations;
}

/** The config's durations, in seconds. */
export interface ResolvedDurations {
  /** `safety.maxSnapshotAge`. */
  readonly maxSnapshotAgeSeconds: number;
  /** `perNode.drainTimeout`. */
  readonly drainTimeoutSeconds: number;
}

/** Applies profile and size defaults. The config must already have passed `checkRules`. */
export function resolveConfig(config: Config): ResolvedConfig {
  const { cilium, cluster } = config;
  const profile = PROFILE_FACTS[cluster.profile];
  const kpr = cilium.kubeProxyReplacement;
  const version = findCiliumVersion(cilium.version)!;
  const registry = config.images.registry;
  // Required on generic (rules.ts); native on the Hetzner profiles.
  const routingMode = cilium.routingMode ?? 'native';
  const finalCilium: ResolvedCilium = {
    version,
    routingMode,
    kubeProxyReplacement: kpr,
    kubeProxyReplacementEnabled: kpr === 'true' || kpr === 'strict',
    ipv4NativeRoutingCIDR: cilium.ipv4NativeRoutingCIDR ?? cluster.podCIDR,
    // The agent refuses direct node routes with a tunnel ("auto-direct-node-routes cannot be used with tunneling").
    autoDirectNodeRoutes: cilium.autoDirectNodeRoutes ?? (routingMode === 'tunnel' ? false : profile.autoDirectNodeRoutes),
    directRoutingSkipUnreachable: version.facts.configShape.directRoutingSkipUnreachable
      ? (cilium.directRoutingSkipUnreachable ?? false)
      : undefined,
    ipamMode: cilium.ipam.mode,
    bpfMasquerade: cilium.bpf.masquerade,
    mtu: cilium.MTU ?? profile.defaultMtu,
    // One operator replica cannot move off a node that is drained; two need two nodes.
    operatorReplicas: cilium.operator.replicas ?? (cluster.nodes.length <= 2 ? 1 : 2),
    devices: cilium.devices,
    directRoutingDevice: cilium.directRoutingDevice,
    envoy: cilium.envoy,
    migration: undefined,
  };
  const perNode = config.strategy === 'per-node';
  return {
    ...config,
    finalCilium,
    cilium: perNode && config.phase === 'migrate' ? migrationCilium(finalCilium, config.perNode) : finalCilium,
    migrationOrder: perNode ? migrationOrder(config) : [],
    images: {
      registry,
      node: withRegistry(UTILITY_IMAGES.node, registry),
      busybox: withRegistry(UTILITY_IMAGES.busybox, registry),
      ciliumAgent: withRegistry(version.facts.images.agent, registry),
      ciliumOperator: withRegistry(version.facts.images.operator, registry),
      ciliumEnvoy: withRegistry(version.facts.images.envoy, registry),
    },
    durations: {
      maxSnapshotAgeSeconds: durationSeconds(config.safety.maxSnapshotAge),
      drainTimeoutSeconds: durationSeconds(config.perNode.drainTimeout),
    },
  };
}

/**
 * The guide's migration values: VXLAN on its own port, cluster-pool IPAM on a range of its own,
 * kube-proxy kept (it serves the nodes Calico still runs), BPF masquerading off (it needs the BPF
 * service handling that comes with kube-proxy replacement).
 */
function migrationCilium(final: ResolvedCilium, perNode: Config['perNode']): ResolvedCilium {
  return {
    ...final,
    routingMode: 'tunnel',
    kubeProxyReplacement: 'false',
    kubeProxyReplacementEnabled: false,
    autoDirectNodeRoutes: false,
    directRoutingSkipUnreachable: final.directRoutingSkipUnreachable === undefined ? undefined : false,
    ipamMode: 'cluster-pool',
    bpfMasquerade: false,
    migration: { podCIDR: perNode.podCIDR, maskSize: perNode.maskSize, tunnelPort: perNode.tunnelPort },
  };
}

/**
 * perNode.order, or agents first and servers last (each in cluster.nodes order): the guide advises
 * against starting with a control-plane node, and the servers keep the control plane on a proven
 * path until the workers have moved.
 */
function migrationOrder(config: Config): NodeConfig[] {
  const { nodes } = config.cluster;
  if (config.perNode.order !== undefined) {
    return config.perNode.order.map((name) => nodes.find((n) => n.name === name)!);
  }
  return [...nodes.filter((n) => n.role === 'agent'), ...nodes.filter((n) => n.role === 'server')];
}

/** Warnings for settings that work but deserve attention; printed, never fatal. */
export function configWarnings(config: ResolvedConfig): string[] {
  const warnings: string[] = [];
  const { version, kubeProxyReplacement } = config.cilium;
  if (version.endOfLife) {
    warnings.push(`cilium.version: ${version.version} is end-of-life upstream (no security fixes); prefer a maintained version`);
  }
  if (kubeProxyReplacement === 'strict') {
    warnings.push('cilium.kubeProxyReplacement: "strict" is deprecated and removed in Cilium 1.16; "true" is the supported spelling');
  }
  for (const line of calicoPoolsOverNodes(config)) {
    warnings.push(
      `${line}: Calico's routes for this pool lie in the node network, so step 110 must flush them (keep cleanup.birdRoutes on)`,
    );
  }
  return warnings;
}

/**
 * `calico.ipPools[i] CIDR contains the address of NODE (IP), …` for each Calico pool over a node's
 * address (the manifest default 192.168.0.0/16 with nodes on 192.168.x.y): Calico's routes and
 * blackholes for its blocks lie in the nodes' own network.
 */
export function calicoPoolsOverNodes(config: Pick<ResolvedConfig, 'calico' | 'cluster'>): string[] {
  return config.calico.ipPools.flatMap((text, i) => {
    const pool = parseCidr(text)!;
    const inside = config.cluster.nodes.filter((n) => cidrContainsIp(pool, parseIpv4(n.internalIP)!));
    return inside.length === 0
      ? []
      : [`calico.ipPools[${i}] ${text} contains the address of ${inside.map((n) => `${n.name} (${n.internalIP})`).join(', ')}`];
  });
}
