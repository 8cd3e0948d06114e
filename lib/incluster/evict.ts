/**
 * Evicting pods through the eviction API (so PodDisruptionBudgets hold), shared by the per-node
 * Jobs. Dependency-free apart from the API client; bundled into their scripts.
 */
import { apiPost, describeBody } from './shared/api-client.ts';
import { evictionBody, evictionOutcome, evictionPath, stillListed, type EvictionOutcome } from './eviction.ts';
import { podRef, type PodObject } from './move-node.ts';

/** A stop with a message for the Job's log. */
export class Stop extends Error {}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const report: Readonly<Record<Exclude<EvictionOutcome, 'failed'>, (pod: string) => string>> = {
  evicted: (pod: string) => `EVICTED ${pod}`,
  gone: (pod: string) => `EVICTED ${pod}`,
  blocked: (pod: string) => `WAITING ${pod}: a PodDisruptionBudget allows no eviction now; retrying`,
  'namespace-deleting': (pod: string) => `WAITING ${pod}: its namespace is being deleted; retrying until the pod is marked deleted`,
  terminating: (pod: string) => `WAITING ${pod}: its namespace is being deleted; waiting for the pod to go`,
};

/** Where the API is and how often to look again. */
export interface EvictTarget {
  readonly host: string;
  readonly port: number;
  readonly pollMs: number;
}

/**
 * Evicts one pod; a pod already gone counts as evicted. Throws Stop on any refusal but a budget's
 * or a namespace's that is being deleted.
 */
export async function evict(target: EvictTarget, pod: PodObject): Promise<Exclude<EvictionOutcome, 'failed'>> {
  const response = await apiPost(target.host, target.port, evictionPath(pod), evictionBody(pod));
  const outcome = evictionOutcome(response.status, response.body, pod);
  if (outcome === 'failed') {
    throw new Stop(`evict ${podRef(pod)}: HTTP ${response.status}: ${describeBody(response.body)}`);
  }
  return outcome;
}

/**
 * Evicts the pods `pick` returns until none of those it returned first is left, retrying the ones
 * a PodDisruptionBudget holds, until the deadline (epoch milliseconds). Pods created since are not
 * waited for, as `kubectl drain` waits only for the pods it listed. Each pod and outcome is
 * reported once.
 */
export async function evictUntilGone(
  target: EvictTarget,
  pick: () => Promise<readonly PodObject[]>,
  deadline: number,
  what: string,
  onBlocked?: (pod: PodObject) => Promise<string | undefined>,
): Promise<void> {
  const reported = new Set<string>();
  const first = await pick();
  for (;;) {
    const pods = stillListed(first, await pick());
    if (pods.length === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Stop(`${what}: still waiting for ${pods.map(podRef).join(', ')} at the deadline`);
    }
    for (const pod of pods) {
      const outcome = await evict(target, pod);
      // A refused eviction the caller may settle otherwise (its own line then replaces WAITING).
      const line = (outcome === 'blocked' ? await onBlocked?.(pod) : undefined) ?? report[outcome](podRef(pod));
      if (!reported.has(line)) {
        reported.add(line);
        console.log(line);
      }
    }
    await sleep(target.pollMs);
  }
}
