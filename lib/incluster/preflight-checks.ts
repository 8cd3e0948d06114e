/**
 * The preflight's decisions about each node, as plain functions over API objects: the runner
 * fetches, these judge. The cluster-wide ones are in preflight-cluster-checks.ts.
 *
 * Dependency-free: bundled into the preflight Job's script and imported by the tests.
 */
import { boolFlag, flannelBackend, parseNodeArgs, type K3sNodeArgs } from './k3s-node-args.ts';
import type { CheckResult } from './shared/report.ts';
import {
  checkKernel,
  checkKubelet,
  checkPressure,
  checkVSwitchNode,
  cidrWithin,
  type KernelMinimum,
  type NodeObject,
} from './node-fitness-checks.ts';

export { cidrWithin, type KernelMinimum, type NodeObject };

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
  /** hetzner-vswitch: the vSwitch subnet every Robot server's InternalIP lies in (cloud servers outside it when `cloudServers`). */
  readonly vSwitch?: { readonly subnet: string; readonly cloudServers: boolean };
  /** `cluster.kubernetesVersion` (`v1.32`): each kubelet must run that minor, which the agent DaemonSet is rendered for. */
  readonly kubernetesVersion: string;
  /** The oldest kernel the Cilium release runs on, and the RHEL-family releases whose older kernels carry the backports. */
  readonly kernel: KernelMinimum;
  /** `calico.manifest`: `calico-typha` when Typha runs. */
  readonly calicoManifest: string;
  /** `calico.ipPools`: the pools step 110's route flush and the warnings are reasoned from. */
  readonly calicoIpPools: readonly string[];
  /** The hcloud cloud-controller-manager Deployment (hetzner-cloud). */
  readonly cloudController?: { readonly namespace: string; readonly name: string };
  /** The newest etcd snapshot must be younger than this, unless acknowledged. */
  readonly snapshot: { readonly maxAgeSeconds: number; readonly acknowledged: boolean };
  /** Calico policies the deletion destroys: refused unless acknowledged. */
  readonly policies: { readonly acknowledged: boolean };
  /**
   * The Kubernetes network-policy API kinds the installed Calico enforces and Cilium will not: their
   * objects stay, unenforced (refused unless acknowledged with the policies).
   */
  readonly unenforcedKinds: readonly { readonly kind: string; readonly version: string; readonly resource: string }[];
  /** `run.namespace`: it must hold nothing but the tool's objects. */
  readonly namespace: string;
  /**
   * The Cilium release mixes up a LoadBalancer that k3s ServiceLB puts on a node's address with its
   * svclb pods' hostPorts (lib/versions/cilium-known-bugs.ts): refused where ServiceLB runs.
   */
  readonly serviceLbBug?: { readonly ciliumVersion: string; readonly issue: string; readonly fix: string; readonly fixedIn: string };
}

/** What checkNode reads of the spec: also the steady phase's node check's whole spec. */
export type NodeSpec = Pick<
  PreflightSpec,
  'nodes' | 'skipNodes' | 'kubeProxyReplacement' | 'podCIDR' | 'serviceCIDR' | 'profile' | 'vSwitch' | 'kubernetesVersion' | 'kernel'
>;

/** The Calico resources that hold policy someone wrote (GlobalNetworkPolicy, NetworkPolicy, HostEndpoint, NetworkSet). */
export const POLICY_RESOURCES = ['globalnetworkpolicies', 'networkpolicies', 'hostendpoints', 'networksets'] as const;

/** k3s's defaults for the flags the preflight compares with the config. */
export const K3S_DEFAULT_CIDRS = { 'cluster-cidr': '10.42.0.0/16', 'service-cidr': '10.43.0.0/16' } as const;

/** The parts of a DaemonSet the preflight reads. */
export interface DaemonSetObject {
  readonly spec?: {
    readonly template?: { readonly spec?: { readonly containers?: readonly { readonly name: string; readonly image?: string }[] } };
  };
  readonly status?: { readonly desiredNumberScheduled?: number; readonly numberReady?: number };
}

const NODE_ARGS = 'k3s.io/node-args';
const RESTART_HINT = `set it in /etc/rancher/k3s/config.yaml.d on every server and restart k3s in the documented order (see cilium-cutover's docs/k3s.md "k3s settings")`;

/**
 * What the kubelet reports while the container runtime has no CNI config: containerd's CRI status
 * NetworkReady=false, reason NetworkPluginNotReady (internal/cri/server/status.go), in the Ready
 * condition's message (kubelet nodestatus.ReadyCondition).
 */
const NO_CNI_CONFIG = 'NetworkReady=false reason:NetworkPluginNotReady';

/**
 * Checks one configured node: it exists, is Ready, runs k3s in the configured role with the
 * configured InternalIP, and (servers) runs with the flags Cilium needs. Once Calico is removed
 * (a run after step 100), a node that is not Ready only because it has no CNI config is what step
 * 110 leaves until Cilium writes its own: reported, not refused.
 */
export function checkNode(
  spec: NodeSpec,
  want: PreflightSpec['nodes'][number],
  node: NodeObject | undefined,
  calicoRemoved = false,
): CheckResult[] {
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
      : calicoRemoved && ready?.status === 'False' && ready.message?.includes(NO_CNI_CONFIG)
        ? {
            outcome: 'INFO',
            check: 'node-ready',
            subject,
            detail:
              'not Ready only because it has no CNI config (NetworkPluginNotReady): Calico is removed, and Cilium writes its config in step 200',
          }
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
  if (spec.vSwitch) {
    results.push(checkVSwitchNode(spec.vSwitch, subject, internal));
  }
  results.push(checkPressure(subject, node), checkKubelet(spec.kubernetesVersion, subject, node), checkKernel(spec.kernel, subject, node));
  return results;
}

/** The server flags Cilium needs (domain rules: flannel off, k3s network policy off, kube-proxy off with KPR). */
export function checkServerFlags(spec: NodeSpec, subject: string, args: K3sNodeArgs): CheckResult[] {
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
export function checkServerCidrs(spec: NodeSpec, subject: string, args: K3sNodeArgs): CheckResult {
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

/** hetzner-cloud: the node is a cloud server the cloud controller knows, with a pod CIDR it routes. */
export function checkHetznerNode(spec: NodeSpec, subject: string, node: NodeObject): CheckResult {
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
