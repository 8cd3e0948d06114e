/**
 * `discover`: a config from what a live k3s + Calico cluster shows through its API. Pure: it
 * works on a snapshot of API objects (read.ts reads them), so it is tested on recorded ones.
 *
 * A value it cannot determine gets a placeholder that passes validation and a `CHECK:` comment
 * saying what to look at; a cluster it cannot migrate (not k3s, no Calico, operator-managed
 * Calico) is refused with one line.
 */
import { InputError } from '../input-error.ts';
import {
  calicoSection,
  type Check,
  clusterSection,
  configText,
  discoveryNotes,
  gitopsSection,
  isServer,
  type NodeFacts,
} from './config-text.ts';
import type { ApiNode, ClusterSnapshot } from './snapshot.ts';

// Defined in snapshot.ts so config-text.ts can use them without importing this file back.
export type { ApiNode, ApiWorkload, ClusterSnapshot } from './snapshot.ts';

/** The Calico release in a calico-node image reference (`…/calico/node:v3.27.0`), if it has one. */
export function calicoVersionOf(image: string | undefined): string | undefined {
  return image === undefined ? undefined : /:(v3\.\d+\.\d+)(@|$)/.exec(image)?.[1];
}

/** k3s records each node's command-line flags in this annotation, as a JSON list. */
const NODE_ARGS = 'k3s.io/node-args';

/** The value of `--flag value` (or `--flag=value`) in a k3s node-args list; the last one wins. */
export function nodeArg(node: ApiNode, flag: string): string | undefined {
  const raw = node.metadata.annotations?.[NODE_ARGS];
  if (!raw) {
    return undefined;
  }
  let args: string[];
  try {
    args = JSON.parse(raw) as string[];
  } catch {
    return undefined;
  }
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === `--${flag}`) {
      value = args[i + 1];
    } else if (arg.startsWith(`--${flag}=`)) {
      value = arg.slice(flag.length + 3);
    }
  });
  return value;
}

export interface Discovered {
  /** The config file text, comments included. */
  readonly text: string;
  /** One line per fact worth knowing before synth (printed on stderr). */
  readonly notes: readonly string[];
}

/** The config and notes for a snapshot of a cluster cilium-cutover can migrate; throws an InputError for one it cannot. */
export function discoverConfig(snapshot: ClusterSnapshot): Discovered {
  const image = refuseUnmigratable(snapshot);
  const version = calicoVersionOf(image);
  const facts = nodeFacts(snapshot.nodes);
  const checks = new Map<string, string>();
  const check: Check = (path, what) => checks.set(path, `CHECK: ${what}`);
  const data = {
    cluster: clusterSection(snapshot, facts, check),
    calico: calicoSection(snapshot, image, version, check),
    cilium: ciliumSection(facts.hetzner, check),
    gitops: gitopsSection(check, snapshot.server),
  };
  return { text: configText(snapshot.context, data, checks), notes: discoveryNotes(snapshot, facts, version) };
}

/**
 * Native routing with kube-proxy replacement; off Hetzner Cloud, with direct node routes, which
 * need every node on one layer-2 segment: the CHECK says so and names the other choices.
 */
function ciliumSection(hetzner: boolean, check: Check): Record<string, unknown> {
  if (hetzner) {
    return { routingMode: 'native', kubeProxyReplacement: true };
  }
  check(
    'cilium.routingMode',
    "direct node routes need every node on one layer-2 segment; else cluster.network.routesPodCIDRs: true (your router routes each node's pod CIDR) or routingMode: tunnel",
  );
  return { routingMode: 'native', autoDirectNodeRoutes: true, kubeProxyReplacement: true };
}

/** Throws for a cluster cilium-cutover cannot migrate; returns the calico-node image of one it can. */
function refuseUnmigratable(snapshot: ClusterSnapshot): string {
  const { nodes } = snapshot;
  if (nodes.length === 0) {
    throw new InputError('discover', 'the cluster has no nodes; is the kubeconfig pointing at the right cluster?');
  }
  const notK3s = nodes.find((n) => !(n.status?.nodeInfo?.kubeletVersion ?? '').includes('+k3s'));
  if (notK3s) {
    throw new InputError(
      'discover',
      `node ${notK3s.metadata.name} runs kubelet ${notK3s.status?.nodeInfo?.kubeletVersion ?? '(unknown)'}, not k3s; cilium-cutover migrates k3s clusters only`,
    );
  }
  if (snapshot.tigeraOperator) {
    throw new InputError(
      'discover',
      'Calico is managed by the Tigera operator here; cilium-cutover removes manifest-installed Calico only (uninstall through the operator)',
    );
  }
  const image = snapshot.calicoNode?.spec?.template?.spec?.containers?.find((c) => c.name === 'calico-node')?.image;
  if (!snapshot.calicoNode && snapshot.uncovered.length > 0) {
    // A step 100 that stopped half-way: calico-node goes first, so the version cannot be read.
    const left = snapshot.uncovered;
    throw new InputError(
      'discover',
      `Calico is partly removed here (no kube-system/calico-node DaemonSet, but ${left.length} of its objects are left: ${left.slice(0, 3).join(', ')}${left.length > 3 ? ', …' : ''}); discover reads the version from calico-node, so finish with the config you started with (apply --from 100)`,
    );
  }
  if (!snapshot.calicoNode || !image) {
    throw new InputError(
      'discover',
      'no Calico here (no kube-system/calico-node DaemonSet); there is nothing for cilium-cutover to migrate from',
    );
  }
  return image;
}

/** The k3s flags, provider and addresses of a non-empty node list. */
function nodeFacts(nodes: readonly ApiNode[]): NodeFacts {
  const argsOf = nodes.filter(isServer)[0] ?? nodes[0]!;
  return {
    argsOf,
    podCIDR: nodeArg(argsOf, 'cluster-cidr'),
    serviceCIDR: nodeArg(argsOf, 'service-cidr'),
    hetzner: nodes.every((n) => n.spec?.providerID?.startsWith('hcloud://')),
    addresses: nodes.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? ''),
  };
}
