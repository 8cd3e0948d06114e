/**
 * Cross-field rules: what the schema cannot see field by field.
 *
 * Each rule returns problems as `{ path, message }`; the loader prints the first one as
 * `<path>: <message>`. Messages say what is wrong, show the value, and say what to change.
 */
import { cidrContains, cidrContainsIp, cidrsOverlap, parseIpv4 } from '../cidr.ts';
import type { Config } from './schema.ts';
import { findCiliumVersion } from '../versions/cilium.ts';
import { calicoLine, supportedCalicoLines } from '../versions/calico-deletion-sets.ts';
import { PROFILE_FACTS } from './profiles.ts';
import { checkPerNode } from './per-node-rules.ts';
import { checkNamespaces } from './namespace-rules.ts';
import { checkDevices, checkRouting, checkVSwitch } from './network-rules.ts';
import { cidrOf, type ConfigProblem } from './rule-problem.ts';
import { durationSeconds } from '../duration.ts';

/** Seconds between two rounds of a verification check (lib/incluster/verify-window.ts). */
export const VERIFY_ROUND_SECONDS = 5;

export type { ConfigProblem } from './rule-problem.ts';

/** Every cross-field problem of an already schema-valid config, in field order. */
export function checkRules(config: Config): ConfigProblem[] {
  return [
    ...checkNetworks(config),
    ...checkNodes(config),
    ...checkCalico(config),
    ...checkCilium(config),
    ...checkPerNode(config),
    ...checkGitops(config),
    ...checkNamespaces(config),
    ...checkVerify(config),
  ];
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
    if (!cluster.network?.ipRange) {
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
  problems.push(...checkVSwitch(config), ...checkRouting(config));
  return problems;
}

function checkNodes(config: Config): ConfigProblem[] {
  const { cluster } = config;
  const problems: ConfigProblem[] = [];
  const pod = cidrOf(cluster.podCIDR);
  const svc = cidrOf(cluster.serviceCIDR);
  const range = cluster.network?.ipRange === undefined ? undefined : cidrOf(cluster.network.ipRange);
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
  const cloudMaxNodes = PROFILE_FACTS['hetzner-cloud'].maxNodes;
  if (cluster.profile === 'hetzner-cloud' && cluster.nodes.length > cloudMaxNodes) {
    problems.push({
      path: 'cluster.nodes',
      message: `${cluster.nodes.length} nodes, but a Hetzner Cloud network holds at most ${cloudMaxNodes} servers and routes; split the cluster or use profile generic with another routing method`,
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
    const pool = cidrOf(text);
    if (!cleanup.birdRoutes && cidrsOverlap(pool, pod)) {
      problems.push({
        path: 'cleanup.birdRoutes',
        message: `false, but calico.ipPools[${i}] ${text} overlaps cluster.podCIDR ${pod.text}: Calico's blackhole routes would drop traffic to new pods; remove the setting`,
      });
    }
    const node = cluster.nodes.find((n) => cidrContainsIp(pool, parseIpv4(n.internalIP)!));
    if (!cleanup.birdRoutes && node) {
      problems.push({
        path: 'cleanup.birdRoutes',
        message: `false, but calico.ipPools[${i}] ${text} contains node ${node.name}'s address ${node.internalIP}: Calico's routes there would stay in the node network; remove the setting`,
      });
    }
  });
  return problems;
}

/** Whether Cilium installs direct node routes: native routing with autoDirectNodeRoutes, set or by the profile's default. */
function directRoutes(config: Config): boolean {
  const { cilium, cluster } = config;
  return cilium.routingMode !== 'tunnel' && (cilium.autoDirectNodeRoutes ?? PROFILE_FACTS[cluster.profile].autoDirectNodeRoutes);
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
  if (cilium.routingMode !== 'tunnel' && cilium.ipv4NativeRoutingCIDR !== undefined) {
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
  if (cluster.network?.cloudServers && cluster.profile !== 'hetzner-vswitch') {
    problems.push({
      path: 'cluster.network.cloudServers',
      message: `applies to profile hetzner-vswitch only, not ${cluster.profile}; remove it`,
    });
  }
  if (cilium.directRoutingSkipUnreachable !== undefined && !version.facts.configShape.directRoutingSkipUnreachable) {
    problems.push({
      path: 'cilium.directRoutingSkipUnreachable',
      message: `does not exist in Cilium ${cilium.version} (1.16 and newer); remove it or choose a newer cilium.version`,
    });
  } else if (cilium.directRoutingSkipUnreachable === true && !directRoutes(config)) {
    // pkg/option/config.go: "direct-routing-skip-unreachable cannot be enabled when auto-direct-node-routes is not enabled".
    problems.push({
      path: 'cilium.directRoutingSkipUnreachable',
      message: 'true needs direct node routes (routingMode native and autoDirectNodeRoutes true), or the agent does not start; remove it',
    });
  }
  problems.push(...checkDevices(config));
  const { maxMtu } = PROFILE_FACTS[cluster.profile];
  if (cilium.MTU !== undefined && cilium.MTU > maxMtu) {
    problems.push({
      path: 'cilium.MTU',
      message: `${cilium.MTU} is above what profile ${cluster.profile} carries (${maxMtu}); set ${maxMtu} or less`,
    });
  }
  return problems;
}

/** The Argo CD destination is never assumed: the in-cluster default is the one that cannot work. */
function checkGitops(config: Config): ConfigProblem[] {
  if (config.gitops.engine === 'flux' || config.gitops.argocd.destinationServer !== undefined) {
    return [];
  }
  return [
    {
      path: 'gitops.argocd.destinationServer',
      message: `required with engine ${config.gitops.engine}: set it to this cluster's API URL as the Argo CD that applies the steps has it registered (\`argocd cluster list\`), or set gitops.engine: flux`,
    },
  ];
}

/** What is verified must be stated: egress is checked unless acknowledged, and the window fits its rounds. */
function checkVerify(config: Config): ConfigProblem[] {
  const { verify } = config;
  const problems: ConfigProblem[] = [];
  const skipsEgress = verify.skip.includes('egress');
  if (verify.externalURLs.length === 0 && !skipsEgress) {
    problems.push({
      path: 'verify.externalURLs',
      message:
        'is empty, so nothing would prove that pods reach the outside; list a URL your nodes may reach (default https://one.one.one.one/), or add egress to verify.skip for a cluster with no way out',
    });
  }
  if (verify.externalURLs.length > 0 && skipsEgress) {
    problems.push({
      path: 'verify.skip',
      message: `lists egress, yet verify.externalURLs has ${verify.externalURLs.join(', ')}; remove egress from verify.skip to check them, or empty verify.externalURLs`,
    });
  }
  const least = verify.limits.consecutive * VERIFY_ROUND_SECONDS * 2;
  if (durationSeconds(verify.limits.window) < least) {
    problems.push({
      path: 'verify.limits.window',
      message: `${verify.limits.window} leaves no room for ${verify.limits.consecutive} consecutive rounds ${VERIFY_ROUND_SECONDS}s apart and a retry; set it to ${least}s or more`,
    });
  }
  return problems;
}
