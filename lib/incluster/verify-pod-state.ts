/**
 * The cluster check's decisions about every pod on the pod network: managed by Cilium (its
 * CiliumEndpoint ready with the pod's address) and none stuck without a sandbox. Plain functions
 * over API objects; dependency-free.
 */
import { cidrContainsIp, parseCidr, parseIpv4 } from '../cidr.ts';
import type { CheckResult } from './shared/report.ts';
import { podGone, type PodObject } from './verify-checks.ts';

export interface EndpointObject {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  /** cilium.io/v2 CiliumEndpoint status (pkg/k8s/apis/cilium.io/v2 EndpointStatus). */
  readonly status?: {
    readonly state?: string;
    readonly networking?: { readonly addressing?: readonly { readonly ipv4?: string }[]; readonly node?: string };
  };
}

/**
 * How long a pod must have been Ready (or started, if it is not) before its CiliumEndpoint is
 * judged: the agent writes an endpoint's status every 10 s (pkg/k8s/watchers endpointsynchronizer).
 */
export const ENDPOINT_SETTLE_SECONDS = 30;

/**
 * Every pod on the pod network is Cilium's: its CiliumEndpoint `ready` (Cilium's EndpointState
 * `ready`) with the pod's own address, which lies in the pod CIDR. Pods on their way out, and pods
 * that became Ready in the last ENDPOINT_SETTLE_SECONDS, are not judged; a pod the kubelet could
 * not give a sandbox is judged by `judgePending`.
 */
export function judgeEndpoints(
  pods: readonly PodObject[],
  endpoints: readonly EndpointObject[] | undefined,
  podCIDR: string,
  nowMs: number = Number.POSITIVE_INFINITY,
): CheckResult {
  const subject = 'cluster';
  if (endpoints === undefined) {
    return {
      outcome: 'FAIL',
      check: 'pods-managed',
      subject,
      detail: 'the CiliumEndpoint API is not there: the operator has not registered its CRDs',
    };
  }
  const byId = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
  const range = parseCidr(podCIDR);
  const problems: string[] = [];
  for (const p of pods) {
    if (p.spec?.hostNetwork || p.status?.phase !== 'Running' || podGone(p)) {
      continue;
    }
    const ready = p.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    const since = Date.parse(ready?.lastTransitionTime ?? p.status.startTime ?? '');
    if (Number.isFinite(since) && nowMs - since < ENDPOINT_SETTLE_SECONDS * 1000) {
      continue;
    }
    const id = `${p.metadata.namespace}/${p.metadata.name}`;
    const ip = p.status.podIP;
    const cep = byId.get(id);
    const address = parseIpv4(ip ?? '');
    if (!ip || address === undefined || !range || !cidrContainsIp(range, address)) {
      problems.push(`${id} has ${ip ?? 'no address'}, outside ${podCIDR} (restart it)`);
    } else if (!cep) {
      problems.push(`${id} ${ip} has no CiliumEndpoint (restart it)`);
    } else if (cep.status?.state !== 'ready') {
      problems.push(`${id} endpoint state ${cep.status?.state ?? 'unset'}, not ready`);
    } else if (!(cep.status.networking?.addressing ?? []).some((a) => a.ipv4 === ip)) {
      const has = (cep.status.networking?.addressing ?? []).map((a) => a.ipv4).join(', ') || 'none';
      problems.push(`${id} is ${ip} but its CiliumEndpoint has ${has}`);
    }
  }
  return problems.length === 0
    ? {
        outcome: 'PASS',
        check: 'pods-managed',
        subject,
        detail: 'every running pod on the pod network has a ready CiliumEndpoint with its address in the pod CIDR',
      }
    : { outcome: 'FAIL', check: 'pods-managed', subject, detail: problems.join('; ') };
}

/** How long a scheduled pod may wait for its sandbox before it counts as stuck. */
export const SANDBOX_GRACE_SECONDS = 120;

/** The kubelet's event when the runtime could not create a pod's sandbox (kubelet events.FailedCreatePodSandBox). */
export interface SandboxEvent {
  readonly involvedObject?: { readonly namespace?: string; readonly name?: string };
  readonly message?: string;
}

/**
 * Pods on the pod network bound to a checked node whose containers never started for longer than
 * SANDBOX_GRACE_SECONDS. With a FailedCreatePodSandBox event (a failing CNI ADD) that is a FAIL;
 * without one the wait may be a volume or an image (the kubelet mounts volumes before it makes the
 * sandbox, and reports ContainerCreating while it pulls), which is a WARN.
 */
export function judgePending(
  pods: readonly PodObject[],
  sandboxEvents: readonly SandboxEvent[],
  nodes: readonly string[],
  nowMs: number,
): CheckResult[] {
  const stuck = pods.filter((p) => {
    if (p.spec?.hostNetwork || !p.spec?.nodeName || !nodes.includes(p.spec.nodeName) || p.status?.phase !== 'Pending' || podGone(p)) {
      return false;
    }
    // Bound by the scheduler (PodScheduled), or created with its node set (no such condition).
    const scheduled = p.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'True');
    const since = Date.parse(scheduled?.lastTransitionTime ?? p.metadata.creationTimestamp ?? '');
    const creating = (p.status.containerStatuses ?? []).every((c) => c.state?.waiting?.reason === 'ContainerCreating' || !c.state);
    return creating && Number.isFinite(since) && nowMs - since > SANDBOX_GRACE_SECONDS * 1000;
  });
  const eventOf = (p: PodObject) =>
    sandboxEvents.find((e) => e.involvedObject?.namespace === p.metadata.namespace && e.involvedObject?.name === p.metadata.name);
  const failed = stuck.filter((p) => eventOf(p));
  const waiting = stuck.filter((p) => !eventOf(p));
  const name = (p: PodObject) => `${p.metadata.namespace}/${p.metadata.name} on ${p.spec!.nodeName}`;
  const results: CheckResult[] = [
    failed.length === 0
      ? {
          outcome: 'PASS',
          check: 'pods-started',
          subject: 'cluster',
          detail: `no pod on the pod network of a checked node failed to get its sandbox for over ${SANDBOX_GRACE_SECONDS}s`,
        }
      : {
          outcome: 'FAIL',
          check: 'pods-started',
          subject: 'cluster',
          detail: `no sandbox for over ${SANDBOX_GRACE_SECONDS}s, FailedCreatePodSandBox: ${failed.map((p) => `${name(p)} (${(eventOf(p)!.message ?? '').slice(0, 200)})`).join('; ')}`,
        },
  ];
  if (waiting.length > 0) {
    results.push({
      outcome: 'WARN',
      check: 'pods-started',
      subject: 'waiting',
      detail: `not started for over ${SANDBOX_GRACE_SECONDS}s without a sandbox error (a volume or an image? \`kubectl describe pod\`): ${waiting.map(name).join(', ')}`,
    });
  }
  return results;
}
