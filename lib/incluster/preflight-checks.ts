/**
 * The preflight's decisions, as plain functions over API objects: the runner fetches, these judge.
 *
 * Dependency-free: bundled into the preflight Job's script and imported by the tests.
 */
import { boolFlag, flannelBackend, parseNodeArgs, type K3sNodeArgs } from './k3s-node-args.ts';
import type { CheckResult } from './shared/report.ts';

/** What the preflight checks against, rendered into the Job's ConfigMap. */
export interface PreflightSpec {
  readonly nodes: readonly { readonly name: string; readonly role: 'server' | 'agent'; readonly internalIP: string }[];
  readonly calicoVersion: string;
  /** When true the servers must run with `disable-kube-proxy`. */
  readonly kubeProxyReplacement: boolean;
  /** Nodes that are down and must not block the migration (`run.skipNodes`). */
  readonly skipNodes: readonly string[];
  /** `cluster.podCIDR` and `cluster.serviceCIDR`: must be what the servers run with. */
  readonly podCIDR: string;
  readonly serviceCIDR: string;
  /** `hetzner-cloud` adds the cloud checks (providerID, pod CIDR routes, cloud controller). */
  readonly profile: string;
  /** The hcloud cloud-controller-manager Deployment (hetzner-cloud). */
  readonly cloudController?: { readonly namespace: string; readonly name: string };
  /** The newest etcd snapshot must be younger than this, unless acknowledged. */
  readonly snapshot: { readonly maxAgeSeconds: number; readonly acknowledged: boolean };
  /** Calico policies the deletion destroys: refused unless acknowledged. */
  readonly policies: { readonly acknowledged: boolean };
}

/** The Calico resources that hold policy someone wrote (GlobalNetworkPolicy, NetworkPolicy, HostEndpoint, NetworkSet). */
export const POLICY_RESOURCES = ['globalnetworkpolicies', 'networkpolicies', 'hostendpoints', 'networksets'] as const;

/** k3s's defaults for the flags the preflight compares with the config. */
export const K3S_DEFAULT_CIDRS = { 'cluster-cidr': '10.42.0.0/16', 'service-cidr': '10.43.0.0/16' } as const;

/** The parts of a Node the preflight reads. */
export interface NodeObject {
  readonly metadata: { readonly name: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: { readonly providerID?: string; readonly podCIDR?: string };
  readonly status?: {
    readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string }[];
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
  };
}

/** The parts of a DaemonSet the preflight reads. */
export interface DaemonSetObject {
  readonly spec?: {
    readonly template?: { readonly spec?: { readonly containers?: readonly { readonly name: string; readonly image?: string }[] } };
  };
  readonly status?: { readonly desiredNumberScheduled?: number; readonly numberReady?: number };
}

const NODE_ARGS = 'k3s.io/node-args';
const RESTART_HINT =
  'set it in /etc/rancher/k3s/config.yaml.d on every server and restart k3s in the documented order (README, "k3s settings")';

/**
 * Checks one configured node: it exists, is Ready, runs k3s in the configured role with the
 * configured InternalIP, and (servers) runs with the flags Cilium needs.
 */
export function checkNode(spec: PreflightSpec, want: PreflightSpec['nodes'][number], node: NodeObject | undefined): CheckResult[] {
  const subject = want.name;
  if (spec.skipNodes.includes(want.name)) {
    return [
      {
        outcome: 'INFO',
        check: 'node',
        subject,
        detail: 'skipped (run.skipNodes): no per-node Job runs there; clean it up by hand or reboot it when it returns',
      },
    ];
  }
  if (!node) {
    return [
      {
        outcome: 'FAIL',
        check: 'node',
        subject,
        detail: 'not found in the cluster; fix cluster.nodes (name as `kubectl get nodes` shows it)',
      },
    ];
  }
  const results: CheckResult[] = [];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  results.push(
    ready?.status === 'True'
      ? { outcome: 'PASS', check: 'node-ready', subject, detail: 'Ready' }
      : {
          outcome: 'FAIL',
          check: 'node-ready',
          subject,
          detail: `not Ready (${ready ? `${ready.status}${ready.reason ? `, ${ready.reason}` : ''}` : 'no Ready condition'}); a Job pinned to it would never finish: bring it back first`,
        },
  );
  const internal = node.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address) ?? [];
  results.push(
    internal.includes(want.internalIP)
      ? { outcome: 'PASS', check: 'node-address', subject, detail: `InternalIP ${want.internalIP}` }
      : {
          outcome: 'FAIL',
          check: 'node-address',
          subject,
          detail: `InternalIP is ${internal.join(', ') || 'not reported'}, config says ${want.internalIP}; fix cluster.nodes`,
        },
  );
  const annotation = node.metadata.annotations?.[NODE_ARGS];
  if (annotation === undefined) {
    results.push({
      outcome: 'FAIL',
      check: 'k3s',
      subject,
      detail: `no ${NODE_ARGS} annotation: not a k3s node; only k3s clusters are supported`,
    });
    return results;
  }
  let args: K3sNodeArgs;
  try {
    args = parseNodeArgs(annotation);
  } catch (err) {
    results.push({ outcome: 'FAIL', check: 'k3s', subject, detail: `cannot read ${NODE_ARGS}: ${(err as Error).message}` });
    return results;
  }
  if (args.role !== want.role) {
    results.push({
      outcome: 'FAIL',
      check: 'k3s-role',
      subject,
      detail: `runs k3s ${args.role ?? 'unknown'}, config says ${want.role}; fix cluster.nodes`,
    });
    return results;
  }
  if (want.role === 'server') {
    results.push(...checkServerFlags(spec, subject, args), checkServerCidrs(spec, subject, args));
  }
  if (spec.profile === 'hetzner-cloud') {
    results.push(checkHetznerNode(spec, subject, node));
  }
  return results;
}

/** The server flags Cilium needs (domain rules: flannel off, k3s network policy off, kube-proxy off with KPR). */
export function checkServerFlags(spec: PreflightSpec, subject: string, args: K3sNodeArgs): CheckResult[] {
  const problems: string[] = [];
  const backend = flannelBackend(args);
  if (backend !== 'none') {
    problems.push(`flannel-backend is "${backend}"${args.flags.has('flannel-backend') ? '' : ' (default)'}, expected "none"`);
  }
  if (!boolFlag(args, 'disable-network-policy')) {
    problems.push('disable-network-policy is not set, expected true');
  }
  if (spec.kubeProxyReplacement && !boolFlag(args, 'disable-kube-proxy')) {
    problems.push('disable-kube-proxy is not set, expected true (Cilium replaces kube-proxy)');
  }
  if (problems.length > 0) {
    return [{ outcome: 'FAIL', check: 'k3s-flags', subject, detail: `${problems.join('; ')}; ${RESTART_HINT}` }];
  }
  const flags = ['flannel-backend none', 'disable-network-policy', ...(spec.kubeProxyReplacement ? ['disable-kube-proxy'] : [])];
  return [{ outcome: 'PASS', check: 'k3s-flags', subject, detail: flags.join(', ') }];
}

/**
 * The running cluster and service CIDRs equal the config: Cilium's native-routing CIDR and the
 * checks are derived from it, and a drop-in must never change them (a changed service CIDR is fatal).
 */
export function checkServerCidrs(spec: PreflightSpec, subject: string, args: K3sNodeArgs): CheckResult {
  const running = {
    'cluster-cidr': args.flags.get('cluster-cidr') ?? K3S_DEFAULT_CIDRS['cluster-cidr'],
    'service-cidr': args.flags.get('service-cidr') ?? K3S_DEFAULT_CIDRS['service-cidr'],
  };
  const wrong: string[] = [];
  if (running['cluster-cidr'] !== spec.podCIDR) {
    wrong.push(`cluster-cidr is ${running['cluster-cidr']}, cluster.podCIDR says ${spec.podCIDR}`);
  }
  if (running['service-cidr'] !== spec.serviceCIDR) {
    wrong.push(`service-cidr is ${running['service-cidr']}, cluster.serviceCIDR says ${spec.serviceCIDR}`);
  }
  if (wrong.length > 0) {
    return { outcome: 'FAIL', check: 'k3s-cidrs', subject, detail: `${wrong.join('; ')}; set the config to the running values` };
  }
  return {
    outcome: 'PASS',
    check: 'k3s-cidrs',
    subject,
    detail: `cluster-cidr ${running['cluster-cidr']}, service-cidr ${running['service-cidr']}`,
  };
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

/** True when the network `inner` lies inside `outer` (both CIDRs). */
export function cidrWithin(inner: string, outer: string): boolean {
  const [ib, ip] = inner.split('/');
  const [ob, op] = outer.split('/');
  const first = ipNumber(ib!);
  const last = first + 2 ** (32 - Number(ip)) - 1;
  const oFirst = ipNumber(ob!);
  return Number(ip) >= Number(op) && first >= oFirst && last <= oFirst + 2 ** (32 - Number(op)) - 1;
}

/** hetzner-cloud: the node is a cloud server the cloud controller knows, with a pod CIDR it routes. */
export function checkHetznerNode(spec: PreflightSpec, subject: string, node: NodeObject): CheckResult {
  const problems: string[] = [];
  const provider = node.spec?.providerID;
  if (!provider?.startsWith('hcloud://')) {
    problems.push(
      `providerID is ${provider ? `"${provider}"` : 'not set'}, expected hcloud://…: the hcloud cloud controller has not initialised this node`,
    );
  }
  const podCIDR = node.spec?.podCIDR;
  if (!podCIDR || !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(podCIDR) || !cidrWithin(podCIDR, spec.podCIDR)) {
    problems.push(`podCIDR ${podCIDR ?? 'is not set'}${podCIDR ? ` is outside cluster.podCIDR ${spec.podCIDR}` : ''}`);
  }
  return problems.length > 0
    ? { outcome: 'FAIL', check: 'hcloud-node', subject, detail: problems.join('; ') }
    : { outcome: 'PASS', check: 'hcloud-node', subject, detail: `${provider}, podCIDR ${podCIDR}` };
}

/** The parts of an ETCDSnapshotFile (k3s.cattle.io/v1) the preflight reads. */
export interface SnapshotObject {
  readonly metadata: { readonly name: string; readonly creationTimestamp?: string };
  readonly spec?: { readonly snapshotName?: string; readonly nodeName?: string };
  readonly status?: { readonly creationTime?: string; readonly readyToUse?: boolean };
}

const SNAPSHOT_HINT = 'take one on a server with `k3s etcd-snapshot save`, or set safety.acknowledgeNoSnapshot';

/**
 * A recent etcd snapshot exists before Calico is deleted (there is nothing left to protect once
 * Calico is gone, so a re-sync after the migration passes).
 */
export function checkSnapshot(
  spec: PreflightSpec,
  calicoPresent: boolean,
  snapshots: readonly SnapshotObject[] | undefined,
  now: Date,
): CheckResult {
  const subject = 'etcd';
  if (!calicoPresent) {
    return { outcome: 'PASS', check: 'snapshot', subject, detail: 'Calico is already removed: nothing left to protect' };
  }
  const usable = (snapshots ?? []).filter((s) => s.status?.readyToUse !== false);
  const times = usable
    .map((s) => ({ s, t: Date.parse(s.status?.creationTime ?? s.metadata.creationTimestamp ?? '') }))
    .filter((x) => !Number.isNaN(x.t));
  const newest = times.sort((a, b) => b.t - a.t)[0];
  const ack = spec.snapshot.acknowledged;
  if (!newest) {
    const why = snapshots === undefined ? 'no ETCDSnapshotFile API (k3s without embedded etcd?)' : 'no etcd snapshot in the cluster';
    return ack
      ? { outcome: 'PASS', check: 'snapshot', subject, detail: `${why}; going on without one (safety.acknowledgeNoSnapshot)` }
      : { outcome: 'FAIL', check: 'snapshot', subject, detail: `${why}; ${SNAPSHOT_HINT}` };
  }
  const ageSeconds = Math.round((now.getTime() - newest.t) / 1000);
  const name = newest.s.spec?.snapshotName ?? newest.s.metadata.name;
  const age = ageSeconds < 3600 ? `${Math.round(ageSeconds / 60)}m` : `${(ageSeconds / 3600).toFixed(1)}h`;
  if (ageSeconds <= spec.snapshot.maxAgeSeconds) {
    return { outcome: 'PASS', check: 'snapshot', subject, detail: `${name} is ${age} old` };
  }
  return ack
    ? {
        outcome: 'PASS',
        check: 'snapshot',
        subject,
        detail: `newest snapshot ${name} is ${age} old; going on (safety.acknowledgeNoSnapshot)`,
      }
    : {
        outcome: 'FAIL',
        check: 'snapshot',
        subject,
        detail: `newest snapshot ${name} is ${age} old, more than safety.maxSnapshotAge; ${SNAPSHOT_HINT}`,
      };
}

interface NamedList {
  readonly kind?: string;
  readonly items?: readonly { readonly metadata: { readonly name: string; readonly namespace?: string } }[];
}

/** Calico policies that deleting the CRDs destroys: refused unless acknowledged; listed either way. */
export function checkPolicies(spec: PreflightSpec, lists: readonly (NamedList | undefined)[]): CheckResult {
  const subject = 'crd.projectcalico.org';
  const found = lists.flatMap((l) =>
    (l?.items ?? []).map(
      (i) => `${(l?.kind ?? '').replace(/List$/, '')} ${i.metadata.namespace ? `${i.metadata.namespace}/` : ''}${i.metadata.name}`,
    ),
  );
  if (found.length === 0) {
    return { outcome: 'PASS', check: 'calico-policies', subject, detail: 'no Calico policies, host endpoints or network sets to lose' };
  }
  const shown = found.length > 20 ? `${found.slice(0, 20).join(', ')} and ${found.length - 20} more` : found.join(', ');
  return spec.policies.acknowledged
    ? {
        outcome: 'PASS',
        check: 'calico-policies',
        subject,
        detail: `${found.length} will be destroyed (safety.acknowledgeDroppedPolicies): ${shown}`,
      }
    : {
        outcome: 'FAIL',
        check: 'calico-policies',
        subject,
        detail: `${found.length} would be destroyed with the Calico CRDs: ${shown}; recreate what you need as Kubernetes or Cilium policies, then set safety.acknowledgeDroppedPolicies`,
      };
}

/** The parts of the cloud controller Deployment the preflight reads. */
export interface ControllerObject {
  readonly spec?: {
    readonly template?: {
      readonly spec?: {
        readonly hostNetwork?: boolean;
        readonly containers?: readonly { readonly env?: readonly { readonly name: string }[] }[];
      };
    };
  };
}

/** hetzner-cloud: the hcloud cloud controller routes pod CIDRs (networking on) and survives the outage (host network). */
export function checkCloudController(spec: PreflightSpec, deployment: ControllerObject | undefined): CheckResult {
  const cc = spec.cloudController!;
  const subject = `${cc.namespace}/${cc.name}`;
  if (!deployment) {
    return {
      outcome: 'FAIL',
      check: 'hcloud-ccm',
      subject,
      detail: 'not found: without it no route to any pod CIDR exists in the Hetzner network; install it with networking enabled',
    };
  }
  const pod = deployment.spec?.template?.spec;
  const problems: string[] = [];
  if (!pod?.containers?.some((c) => c.env?.some((e) => e.name === 'HCLOUD_NETWORK'))) {
    problems.push('networking is off (no HCLOUD_NETWORK): it creates no routes for pod CIDRs');
  }
  if (pod?.hostNetwork !== true) {
    problems.push('it does not run with hostNetwork: it stops working while the pod network is down');
  }
  return problems.length > 0
    ? { outcome: 'FAIL', check: 'hcloud-ccm', subject, detail: problems.join('; ') }
    : { outcome: 'PASS', check: 'hcloud-ccm', subject, detail: 'networking on, host network' };
}

/** The tag of an image reference (`repo:tag@digest` → `tag`), or undefined. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon >= 0 ? withoutDigest.slice(colon + 1) : undefined;
}

/**
 * Calico must run at the configured version, or be gone already: a re-sync after a successful
 * migration finds it absent and passes.
 */
export function checkCalico(spec: PreflightSpec, daemonSet: DaemonSetObject | undefined): CheckResult {
  const subject = 'kube-system/calico-node';
  if (!daemonSet) {
    return { outcome: 'PASS', check: 'calico', subject, detail: 'absent (already removed)' };
  }
  const container = daemonSet.spec?.template?.spec?.containers?.find((c) => c.name === 'calico-node');
  const tag = container?.image ? imageTag(container.image) : undefined;
  const ready = `${daemonSet.status?.numberReady ?? 0}/${daemonSet.status?.desiredNumberScheduled ?? 0} ready`;
  if (tag === spec.calicoVersion) {
    return { outcome: 'PASS', check: 'calico', subject, detail: `runs ${tag} (${ready})` };
  }
  return {
    outcome: 'FAIL',
    check: 'calico',
    subject,
    detail: `runs ${tag ?? 'an image without a tag'}, config says ${spec.calicoVersion}; set calico.version to the installed release so the right objects are deleted`,
  };
}

/** The CRD the tigera-operator creates: its presence means Calico is operator-managed. */
export const TIGERA_OPERATOR_CRD = 'installations.operator.tigera.io';

/** This tool removes manifest installs only; an operator-managed Calico has finalizers and another object set. */
export function checkNotOperatorManaged(installationsCrd: unknown): CheckResult {
  const subject = TIGERA_OPERATOR_CRD;
  if (installationsCrd === undefined) {
    return { outcome: 'PASS', check: 'calico-manifest', subject, detail: 'absent: Calico is not managed by the tigera-operator' };
  }
  return {
    outcome: 'FAIL',
    check: 'calico-manifest',
    subject,
    detail:
      "exists: Calico is managed by the tigera-operator, which this tool does not remove (other objects, finalizers); uninstall it with the operator's procedure first",
  };
}

/** Agents take the server flags only when they start, and their node-args never show them. */
export function agentNote(spec: PreflightSpec): CheckResult[] {
  const agents = spec.nodes.filter((n) => n.role === 'agent');
  if (agents.length === 0) {
    return [];
  }
  return [
    {
      outcome: 'INFO',
      check: 'k3s-flags',
      subject: 'agents',
      detail: `${agents.map((a) => a.name).join(', ')} take the server flags only when restarted; restart every agent after the servers`,
    },
  ];
}
