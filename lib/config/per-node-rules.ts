/**
 * Cross-field rules of strategy per-node (see `rules.ts`): node count and names, the migration
 * CIDR and tunnel port, the node order.
 */
import { cidrContainsIp, cidrsOverlap, parseIpv4 } from '../cidr.ts';
import { CALICO_VXLAN_PORT, FLANNEL_VXLAN_PORT, type Config } from './schema.ts';
import { cidrOf, type ConfigProblem } from './rule-problem.ts';

/**
 * strategy per-node moves one node per step: one sync wave and one Flux Kustomization each, at
 * 400–499. A hundred nodes one at a time is already a day of drains; bigger clusters move in pools.
 */
export const PER_NODE_MAX_NODES = 100;
/** The per-node CiliumNodeConfig selects `kubernetes.io/hostname`, a label value (k3s sets it to the node name). */
const LABEL_VALUE_MAX = 63;

/** An Argo CD destination that is the cluster's own API Service: that Argo CD runs inside the cluster. */
export function isInClusterServer(server: string | undefined): boolean {
  return server !== undefined && /^https:\/\/kubernetes\.default(\.svc)?(\.cluster\.local)?(:443)?\/?$/.test(server);
}

/** The per-node problems; under strategy cutover only a per-node phase (`switch`) is one. */
export function checkPerNode(config: Config): ConfigProblem[] {
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
  if (config.phase === 'switch' && config.gitops.engine !== 'flux' && isInClusterServer(config.gitops.argocd.destinationServer)) {
    problems.push({
      path: 'gitops.argocd.destinationServer',
      message: `${config.gitops.argocd.destinationServer} is an Argo CD inside this cluster, which loses its network with every other pod in phase switch and cannot finish it; give the address a management Argo CD has for this cluster, or apply the phase from a workstation with gitops.engine: flux`,
    });
  }
  if (config.phase === 'switch' && !perNode.acknowledgeSwitchOutage) {
    problems.push({
      path: 'perNode.acknowledgeSwitchOutage',
      message:
        "phase switch is a full outage: an agent restarted with the final IPAM drops every pod's migration-range address, so no pod has a network until step 250 re-creates it; plan a maintenance window (maintenance lists what to pause), then set perNode.acknowledgeSwitchOutage: true",
    });
  }
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
