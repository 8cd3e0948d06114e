/**
 * Cross-field rules: what the schema cannot see field by field.
 *
 * Each rule returns problems as `{ path, message }`; the loader prints the first one as
 * `<path>: <message>`. Messages say what is wrong, show the value, and say what to change.
 */
import { cidrContains, cidrContainsIp, cidrsOverlap, parseCidr, parseIpv4, type Ipv4Cidr } from '../cidr.ts';
import { CALICO_VXLAN_PORT, FLANNEL_VXLAN_PORT, type Config } from './schema.ts';
import { findCiliumVersion } from '../versions/cilium.ts';
import { calicoLine, supportedCalicoLines } from '../versions/calico-deletion-sets.ts';

/** One broken rule, located by its field path. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** A Hetzner Cloud network holds at most 100 servers (and 100 routes). */
export const HETZNER_CLOUD_MAX_NODES = 100;

/** Largest MTU a profile's network carries (Hetzner Cloud private networks: 1450; vSwitch: 1400). */
export const PROFILE_MAX_MTU: Readonly<Record<Config['cluster']['profile'], number>> = {
  'hetzner-cloud': 1450,
  'hetzner-vswitch': 1400,
  generic: 9000,
};

/** Every cross-field problem of an already schema-valid config, in field order. */
export function checkRules(config: Config): ConfigProblem[] {
  return [...checkNetworks(config), ...checkNodes(config), ...checkCalico(config), ...checkCilium(config), ...checkPerNode(config)];
}

function cidrOf(text: string): Ipv4Cidr {
  // The schema accepted the value, so it parses.
  return parseCidr(text)!;
}

function checkNetworks(config: Config): ConfigProblem[] {
  const { cluster } = config;
  const problems: ConfigProblem[] = [];
  const pod = cidrOf(cluster.podCIDR);
  const svc = cidrOf(cluster.serviceCIDR);
  if (cidrsOverlap(pod, svc)) {
    problems.push({
      path: 'cluster.serviceCIDR',
      message: `${svc.text} overlaps cluster.podCIDR ${pod.text}; use the cluster's running values, which never overlap`,
    });
  }
  if (cluster.profile === 'hetzner-cloud') {
    if (!cluster.network) {
      problems.push({
        path: 'cluster.network.ipRange',
        message: "required for profile hetzner-cloud; set it to the Hetzner network's ip_range (e.g. 10.0.0.0/8)",
      });
    } else {
      const range = cidrOf(cluster.network.ipRange);
      if (!cidrContains(range, pod)) {
        problems.push({
          path: 'cluster.podCIDR',
          message: `${pod.text} is outside cluster.network.ipRange ${range.text}, so nodes send pod traffic out of the public interface; widen the Hetzner network's ip_range to contain the pod CIDR (e.g. 10.0.0.0/8)`,
        });
      }
    }
  }
  return problems;
}

function checkNodes(config: Config): ConfigProblem[] {
  const { cluster } = config;
  const problems: ConfigProblem[] = [];
  const pod = cidrOf(cluster.podCIDR);
  const svc = cidrOf(cluster.serviceCIDR);
  const range = cluster.network ? cidrOf(cluster.network.ipRange) : undefined;
  const names = new Map<string, number>();
  const ips = new Map<string, number>();
  cluster.nodes.forEach((node, i) => {
    const at = `cluster.nodes[${i}]`;
    const ip = parseIpv4(node.internalIP)!;
    const firstName = names.get(node.name);
    if (firstName !== undefined) {
      problems.push({
        path: `${at}.name`,
        message: `"${node.name}" is listed twice (also cluster.nodes[${firstName}]); list each node once`,
      });
    } else {
      names.set(node.name, i);
    }
    const firstIp = ips.get(node.internalIP);
    if (firstIp !== undefined) {
      problems.push({
        path: `${at}.internalIP`,
        message: `${node.internalIP} is also the address of cluster.nodes[${firstIp}]; give each node its own InternalIP`,
      });
    } else {
      ips.set(node.internalIP, i);
    }
    if (cidrContainsIp(pod, ip)) {
      problems.push({
        path: `${at}.internalIP`,
        message: `${node.internalIP} lies inside cluster.podCIDR ${pod.text}; node addresses and pod CIDR must not overlap`,
      });
    }
    if (cidrContainsIp(svc, ip)) {
      problems.push({
        path: `${at}.internalIP`,
        message: `${node.internalIP} lies inside cluster.serviceCIDR ${svc.text}; node addresses and service CIDR must not overlap`,
      });
    }
    if (range && !cidrContainsIp(range, ip)) {
      problems.push({
        path: `${at}.internalIP`,
        message: `${node.internalIP} is outside cluster.network.ipRange ${range.text}; use the node's private-network address`,
      });
    }
  });
  config.run.skipNodes.forEach((name, i) => {
    if (!names.has(name)) {
      problems.push({ path: `run.skipNodes[${i}]`, message: `"${name}" is not in cluster.nodes; list a configured node` });
    }
  });
  if (config.run.skipNodes.length > 0 && cluster.nodes.every((n) => config.run.skipNodes.includes(n.name))) {
    problems.push({ path: 'run.skipNodes', message: 'skips every node; at least one node must take part in the migration' });
  }
  if (!cluster.nodes.some((n) => n.role === 'server')) {
    problems.push({ path: 'cluster.nodes', message: 'no node has role server; a k3s cluster has at least one server, list it' });
  }
  if (cluster.profile === 'hetzner-cloud' && cluster.nodes.length > HETZNER_CLOUD_MAX_NODES) {
    problems.push({
      path: 'cluster.nodes',
      message: `${cluster.nodes.length} nodes, but a Hetzner Cloud network holds at most ${HETZNER_CLOUD_MAX_NODES} servers and routes; split the cluster or use profile generic with another routing method`,
    });
  }
  return problems;
}

function checkCalico(config: Config): ConfigProblem[] {
  const { calico, cluster, cleanup } = config;
  const problems: ConfigProblem[] = [];
  if (calicoLine(calico.version) === undefined) {
    problems.push({
      path: 'calico.version',
      message: `${calico.version} has no known deletion set; supported: ${supportedCalicoLines()} (manifest installs; the tigera-operator is not supported)`,
    });
  }
  const pod = cidrOf(cluster.podCIDR);
  calico.ipPools.forEach((text, i) => {
    if (!cleanup.birdRoutes && cidrsOverlap(cidrOf(text), pod)) {
      problems.push({
        path: 'cleanup.birdRoutes',
        message: `false, but calico.ipPools[${i}] ${text} overlaps cluster.podCIDR ${pod.text}: BIRD's blackhole routes would drop traffic to new pods; remove the setting`,
      });
    }
  });
  return problems;
}

function checkCilium(config: Config): ConfigProblem[] {
  const { cilium, cluster } = config;
  const problems: ConfigProblem[] = [];
  const version = findCiliumVersion(cilium.version)!;
  if (!version.rules.kubeProxyReplacementValues.includes(cilium.kubeProxyReplacement)) {
    problems.push({
      path: 'cilium.kubeProxyReplacement',
      message: `"${cilium.kubeProxyReplacement}" is not accepted by Cilium ${cilium.version} (the agent would not start); use true or false`,
    });
  }
  if (cilium.routingMode === 'native' && cilium.ipv4NativeRoutingCIDR !== undefined) {
    const native = cidrOf(cilium.ipv4NativeRoutingCIDR);
    if (!cidrContains(native, cidrOf(cluster.podCIDR))) {
      problems.push({
        path: 'cilium.ipv4NativeRoutingCIDR',
        message: `${native.text} does not contain cluster.podCIDR ${cluster.podCIDR}, so pod traffic would be masqueraded; remove it (defaults to the pod CIDR) or widen it`,
      });
    }
  }
  if (cilium.autoDirectNodeRoutes === true) {
    if (cilium.routingMode === 'tunnel') {
      problems.push({
        path: 'cilium.autoDirectNodeRoutes',
        message: 'true needs routingMode native; remove it or set routingMode: native',
      });
    } else if (cluster.profile === 'hetzner-cloud') {
      problems.push({
        path: 'cilium.autoDirectNodeRoutes',
        message: 'true cannot work on hetzner-cloud (the network is layer 3; routes come from the hcloud cloud controller); remove it',
      });
    }
  }
  const mixed = cluster.profile === 'hetzner-vswitch' && cluster.network?.cloudServers === true;
  if (cluster.network?.cloudServers && cluster.profile !== 'hetzner-vswitch') {
    problems.push({
      path: 'cluster.network.cloudServers',
      message: `applies to profile hetzner-vswitch only, not ${cluster.profile}; remove it`,
    });
  }
  if (cilium.directRoutingSkipUnreachable !== undefined && !version.rules.directRoutingSkipUnreachable) {
    problems.push({
      path: 'cilium.directRoutingSkipUnreachable',
      message: `does not exist in Cilium ${cilium.version} (1.16 and newer); remove it or choose a newer cilium.version`,
    });
  } else if (mixed && !version.rules.directRoutingSkipUnreachable) {
    problems.push({
      path: 'cilium.version',
      message: `${cilium.version} cannot skip the cloud servers, which are not on the vSwitch's layer-2 segment (direct-routing-skip-unreachable needs 1.16+); choose a newer version`,
    });
  } else if (mixed && cilium.directRoutingSkipUnreachable === false && (cilium.autoDirectNodeRoutes ?? true)) {
    problems.push({
      path: 'cilium.directRoutingSkipUnreachable',
      message:
        'false with direct node routes and cloud servers on the vSwitch: routes to the cloud servers cannot be installed; remove the setting',
    });
  }
  const maxMtu = PROFILE_MAX_MTU[cluster.profile];
  if (cilium.MTU !== undefined && cilium.MTU > maxMtu) {
    problems.push({
      path: 'cilium.MTU',
      message: `${cilium.MTU} is above what profile ${cluster.profile} carries (${maxMtu}); set ${maxMtu} or less`,
    });
  }
  return problems;
}

/**
 * strategy per-node moves one node per step: one sync wave and one Flux Kustomization each, at
 * 400–499. A hundred nodes one at a time is already a day of drains; bigger clusters move in pools.
 */
export const PER_NODE_MAX_NODES = 100;
/** The per-node CiliumNodeConfig selects `kubernetes.io/hostname`, a label value (k3s sets it to the node name). */
const LABEL_VALUE_MAX = 63;

function checkPerNode(config: Config): ConfigProblem[] {
  const { cluster, calico, perNode } = config;
  if (config.strategy !== 'per-node') {
    return config.phase === 'switch'
      ? [{ path: 'phase', message: '"switch" is the second phase of strategy per-node; cutover switches in one go, use migrate or steady' }]
      : [];
  }
  const problems: ConfigProblem[] = [];
  if (cluster.nodes.length < 2) {
    problems.push({
      path: 'strategy',
      message: "per-node needs at least two nodes (a drained node's pods move to another); use strategy cutover",
    });
  }
  if (cluster.nodes.length > PER_NODE_MAX_NODES) {
    problems.push({
      path: 'cluster.nodes',
      message: `${cluster.nodes.length} nodes, but strategy per-node moves at most ${PER_NODE_MAX_NODES} (one step each); use strategy cutover or split the migration`,
    });
  }
  cluster.nodes.forEach((node, i) => {
    if (node.name.length > LABEL_VALUE_MAX) {
      problems.push({
        path: `cluster.nodes[${i}].name`,
        message: `longer than ${LABEL_VALUE_MAX} characters, so no label can select the node (per-node selects kubernetes.io/hostname); use strategy cutover`,
      });
    }
  });
  if (config.run.skipNodes.length > 0) {
    problems.push({
      path: 'run.skipNodes',
      message:
        'per-node moves every node; a skipped node would keep Calico after it is removed. Bring the nodes back or use strategy cutover',
    });
  }
  const migration = cidrOf(perNode.podCIDR);
  const others: [string, string][] = [
    ['cluster.podCIDR', cluster.podCIDR],
    ['cluster.serviceCIDR', cluster.serviceCIDR],
    ...calico.ipPools.map((pool, i): [string, string] => [`calico.ipPools[${i}]`, pool]),
  ];
  for (const [field, text] of others) {
    if (cidrsOverlap(migration, cidrOf(text))) {
      problems.push({
        path: 'perNode.podCIDR',
        message: `${migration.text} overlaps ${field} ${text}; choose an unused range such as 10.245.0.0/16`,
      });
    }
  }
  cluster.nodes.forEach((node, i) => {
    if (cidrContainsIp(migration, parseIpv4(node.internalIP)!)) {
      problems.push({
        path: 'perNode.podCIDR',
        message: `${migration.text} contains cluster.nodes[${i}].internalIP ${node.internalIP}; choose a range outside the node network`,
      });
    }
  });
  if (perNode.maskSize < migration.prefix) {
    problems.push({
      path: 'perNode.maskSize',
      message: `${perNode.maskSize} is wider than perNode.podCIDR ${migration.text}; use a mask size of at least ${migration.prefix}`,
    });
  } else if (2 ** (perNode.maskSize - migration.prefix) < cluster.nodes.length) {
    problems.push({
      path: 'perNode.maskSize',
      message: `perNode.podCIDR ${migration.text} holds ${2 ** (perNode.maskSize - migration.prefix)} blocks of /${perNode.maskSize}, fewer than the ${cluster.nodes.length} nodes; widen the CIDR or raise the mask size`,
    });
  }
  if (perNode.tunnelPort === FLANNEL_VXLAN_PORT) {
    problems.push({
      path: 'perNode.tunnelPort',
      message: `${FLANNEL_VXLAN_PORT} is Flannel's VXLAN port (a flannel.1 device left from k3s's Flannel holds it until reboot); use another port such as 8473`,
    });
  }
  if (perNode.tunnelPort === CALICO_VXLAN_PORT && calico.backend === 'vxlan') {
    problems.push({
      path: 'perNode.tunnelPort',
      message: `${CALICO_VXLAN_PORT} is the port of Calico's VXLAN overlay, which runs until the last node has moved; use another port such as 8473`,
    });
  }
  if (perNode.order !== undefined) {
    const names = new Set(cluster.nodes.map((n) => n.name));
    const seen = new Set<string>();
    perNode.order.forEach((name, i) => {
      if (!names.has(name)) {
        problems.push({ path: `perNode.order[${i}]`, message: `"${name}" is not in cluster.nodes; list configured nodes only` });
      } else if (seen.has(name)) {
        problems.push({ path: `perNode.order[${i}]`, message: `"${name}" is listed twice; list each node once` });
      }
      seen.add(name);
    });
    const missing = cluster.nodes.filter((n) => !seen.has(n.name)).map((n) => n.name);
    if (missing.length > 0) {
      problems.push({
        path: 'perNode.order',
        message: `misses ${missing.join(', ')}; list every node once, or remove it for the default order`,
      });
    }
  }
  if (calico.backend === 'bird' && !perNode.acknowledgeCalicoBGP) {
    problems.push({
      path: 'perNode.acknowledgeCalicoBGP',
      message:
        "calico.backend is bird (BGP), which Cilium's migration guide lists as untested; try it on a copy of the cluster, then set true, or use strategy cutover",
    });
  }
  return problems;
}
