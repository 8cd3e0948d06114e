/**
 * The re-addressing Job's decisions (step 250-readdress-pods): which pods still hold an old
 * address. Dependency-free; the runner is readdress-main.ts.
 */
import { finished, inCidr, type PodObject } from './move-node.ts';

/**
 * What the re-addressing Job works with. Per-node phase switch: the pods on the migration range.
 * Cutover: the pods Cilium does not manage (no CiliumEndpoint), which still hold an address from
 * Calico that nothing routes any more.
 */
export interface ReaddressSpec {
  /** Per-node phase switch: the range to move pods off. Absent for the cutover. */
  readonly migrationCIDR?: string;
  readonly timeoutSeconds: number;
  readonly evictUnmanagedPods: boolean;
  /** run.deleteBrokenPods: delete a pod that is not Ready and whose eviction a budget refuses. */
  readonly deleteBrokenPods: boolean;
}

/** The label of Cilium's agent pods (the DaemonSet's selector). */
export const AGENT_LABEL = { key: 'k8s-app', value: 'cilium' } as const;

/** Running pods on the pod network whose address is from the migration range (phase switch moves them). */
export function podsInRange(pods: readonly PodObject[], cidr: string): PodObject[] {
  return pods.filter((p) => !finished(p) && p.spec?.hostNetwork !== true && p.status?.podIP !== undefined && inCidr(p.status.podIP, cidr));
}

/**
 * Running pods on the pod network that Cilium does not manage and never will: no CiliumEndpoint
 * of their namespace and name, and started before the Cilium agent on their node (so their
 * sandbox was made by Calico's CNI). A pod started after the agent got its address from Cilium;
 * its endpoint may lag a moment, so it is left alone. The same judgement as Cilium's operator
 * (Running, not host network, no CiliumEndpoint), without its label selector.
 */
export function podsUnmanaged(
  pods: readonly PodObject[],
  endpoints: readonly { readonly metadata: { readonly name: string; readonly namespace?: string } }[],
): PodObject[] {
  const managed = new Set(endpoints.map((e) => `${e.metadata.namespace}/${e.metadata.name}`));
  const agentStart = new Map<string, number>();
  for (const p of pods) {
    if (p.metadata.labels?.[AGENT_LABEL.key] === AGENT_LABEL.value && p.spec?.nodeName && p.status?.phase === 'Running') {
      agentStart.set(p.spec.nodeName, Date.parse(p.status.startTime ?? ''));
    }
  }
  return pods.filter((p) => {
    const agent = agentStart.get(p.spec?.nodeName ?? '');
    const started = Date.parse(p.status?.startTime ?? '');
    return (
      p.status?.phase === 'Running' &&
      p.spec?.hostNetwork !== true &&
      p.status.podIP !== undefined &&
      !managed.has(`${p.metadata.namespace}/${p.metadata.name}`) &&
      (agent === undefined || Number.isNaN(agent) || Number.isNaN(started) || started < agent)
    );
  });
}
