/**
 * The cluster-wide verification check's decisions, as plain functions over API objects: CoreDNS,
 * the agent DaemonSet and the operator rolled out, each node's agent pod running without restarts
 * during the window (the pods' own state is verify-pod-state.ts). The runner (verify-main.ts)
 * fetches; these judge. Dependency-free.
 */
import type { CheckResult } from './shared/report.ts';

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly lastTransitionTime?: string;
}

interface ContainerStatus {
  readonly name: string;
  readonly ready?: boolean;
  readonly restartCount?: number;
  readonly state?: { readonly waiting?: { readonly reason?: string }; readonly running?: object; readonly terminated?: object };
}

export interface PodObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly deletionTimestamp?: string;
    readonly creationTimestamp?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec?: { readonly nodeName?: string; readonly hostNetwork?: boolean };
  readonly status?: {
    readonly phase?: string;
    readonly reason?: string;
    readonly podIP?: string;
    readonly startTime?: string;
    readonly conditions?: readonly Condition[];
    readonly containerStatuses?: readonly ContainerStatus[];
  };
}

export const podReady = (pod: PodObject): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** A pod that is on its way out (Succeeded, Failed such as Evicted, or being deleted): not judged. */
export const podGone = (pod: PodObject): boolean =>
  pod.metadata.deletionTimestamp !== undefined || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** CoreDNS: at least one pod Ready, and every pod that is not on its way out Running and Ready. */
export function judgeCoreDns(pods: readonly PodObject[]): CheckResult {
  const subject = 'kube-system/coredns';
  const live = pods.filter((p) => !podGone(p));
  const gone = pods.length - live.length;
  const note = gone > 0 ? `; ${gone} finished or terminating pod(s) not counted` : '';
  if (live.length === 0) {
    return { outcome: 'FAIL', check: 'coredns', subject, detail: `no live pod with label k8s-app=kube-dns${note}` };
  }
  const bad = live.filter((p) => p.status?.phase !== 'Running' || !podReady(p));
  if (bad.length > 0) {
    return {
      outcome: 'FAIL',
      check: 'coredns',
      subject,
      detail: `not Running and Ready: ${bad.map((p) => `${p.metadata.name} on ${p.spec?.nodeName ?? 'no node'} (${p.status?.phase ?? 'no phase'})`).join(', ')}${note}`,
    };
  }
  return { outcome: 'PASS', check: 'coredns', subject, detail: `${live.length} pod(s) Running and Ready${note}` };
}

export interface WorkloadStatus {
  readonly metadata: { readonly generation?: number };
  readonly spec?: { readonly replicas?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly desiredNumberScheduled?: number;
    readonly updatedNumberScheduled?: number;
    readonly numberReady?: number;
    readonly numberAvailable?: number;
    readonly replicas?: number;
    readonly updatedReplicas?: number;
    readonly readyReplicas?: number;
    readonly availableReplicas?: number;
  };
}

/** The agent DaemonSet rolled out: the controller saw the latest spec and every pod is updated, ready and available. */
export function judgeAgentRollout(ds: WorkloadStatus | undefined): CheckResult {
  const subject = 'kube-system/cilium';
  if (!ds) {
    return { outcome: 'FAIL', check: 'cilium-agent', subject, detail: 'DaemonSet not found' };
  }
  const s = ds.status ?? {};
  const desired = s.desiredNumberScheduled ?? 0;
  const observed = (s.observedGeneration ?? 0) >= (ds.metadata.generation ?? 0);
  const done =
    desired > 0 && observed && s.updatedNumberScheduled === desired && s.numberReady === desired && s.numberAvailable === desired;
  return {
    outcome: done ? 'PASS' : 'FAIL',
    check: 'cilium-agent',
    subject,
    detail: `${s.numberReady ?? 0}/${desired} ready, ${s.updatedNumberScheduled ?? 0} updated, ${s.numberAvailable ?? 0} available${observed ? '' : ', the latest spec not yet observed'}`,
  };
}

/** The operator rolled out (kubectl rollout status's rule for Deployments). */
export function judgeOperatorRollout(deploy: WorkloadStatus | undefined): CheckResult {
  const subject = 'kube-system/cilium-operator';
  if (!deploy) {
    return { outcome: 'FAIL', check: 'cilium-operator', subject, detail: 'Deployment not found' };
  }
  const want = deploy.spec?.replicas ?? 1;
  const s = deploy.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (deploy.metadata.generation ?? 0);
  const done =
    observed && (s.updatedReplicas ?? 0) >= want && (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) && (s.availableReplicas ?? 0) >= want;
  return {
    outcome: done ? 'PASS' : 'FAIL',
    check: 'cilium-operator',
    subject,
    detail: `${s.updatedReplicas ?? 0}/${want} updated, ${s.availableReplicas ?? 0} available, ${s.replicas ?? 0} in all${observed ? '' : ', the latest spec not yet observed'}`,
  };
}

/** Restarts of a pod's containers. */
export const restartsOf = (pod: PodObject): number =>
  (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0);

/**
 * Each node's agent pod: there, Ready, and not restarted since the window began (`baseline`,
 * restarts per pod name at the first round): an agent that crash-loops between polls shows here.
 */
export function judgeAgentPods(
  nodes: readonly string[],
  agentPods: readonly PodObject[],
  baseline: ReadonlyMap<string, number>,
): CheckResult[] {
  return nodes.map((node): CheckResult => {
    const pod = agentPods.find((p) => p.spec?.nodeName === node && !podGone(p));
    if (!pod) {
      return { outcome: 'FAIL', check: 'agent-pod', subject: node, detail: 'no cilium agent pod on this node' };
    }
    const restarts = restartsOf(pod);
    if (baseline.size > 0 && !baseline.has(pod.metadata.name)) {
      return { outcome: 'FAIL', check: 'agent-pod', subject: node, detail: `${pod.metadata.name} replaced the agent pod during the check` };
    }
    const before = baseline.get(pod.metadata.name) ?? restarts;
    if (restarts > before) {
      return {
        outcome: 'FAIL',
        check: 'agent-pod',
        subject: node,
        detail: `${pod.metadata.name} restarted ${restarts - before} time(s) during the check (${restarts} in all)`,
      };
    }
    if (!podReady(pod)) {
      return { outcome: 'FAIL', check: 'agent-pod', subject: node, detail: `${pod.metadata.name} is not Ready` };
    }
    return {
      outcome: 'PASS',
      check: 'agent-pod',
      subject: node,
      detail: `${pod.metadata.name} Ready, no restart during the check${restarts > 0 ? ` (${restarts} before it)` : ''}`,
    };
  });
}

export interface NodeObject {
  readonly metadata: { readonly name: string };
  readonly status?: { readonly conditions?: readonly Condition[] };
}

/**
 * NetworkUnavailable False on each node. Weak evidence: on hetzner-cloud the cloud controller's
 * route controller sets it False (RouteCreated) whatever Cilium does; the reason is printed.
 */
export function judgeNetworkAvailable(name: string, node: NodeObject | undefined): CheckResult {
  const condition = node?.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
  return {
    outcome: node !== undefined && condition?.status === 'False' ? 'PASS' : 'FAIL',
    check: 'network-available',
    subject: name,
    detail: node
      ? `NetworkUnavailable=${condition?.status ?? 'unset'}${condition?.reason ? ` (${condition.reason})` : ''}`
      : 'node not found',
  };
}
