/**
 * Evicting pods through the eviction API (so PodDisruptionBudgets hold), shared by the per-node
 * Jobs. Dependency-free apart from the API client; bundled into their scripts.
 */
import { apiPost, describeBody } from './shared/api-client.ts';
import { evictionBody, evictionOutcome, evictionPath, podRef, type PodObject } from './move-node.ts';

/** A stop with a message for the Job's log. */
export class Stop extends Error {}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where the API is and how often to look again. */
export interface EvictTarget {
  readonly host: string;
  readonly port: number;
  readonly pollMs: number;
}

/** Evicts one pod; a pod already gone counts as evicted. Throws Stop on any other refusal than a budget's. */
export async function evict(target: EvictTarget, pod: PodObject): Promise<'evicted' | 'gone' | 'blocked'> {
  const response = await apiPost(target.host, target.port, evictionPath(pod), evictionBody(pod));
  const outcome = evictionOutcome(response.status);
  if (outcome === 'failed') {
    throw new Stop(`evict ${podRef(pod)}: HTTP ${response.status}: ${describeBody(response.body)}`);
  }
  return outcome;
}

/**
 * Evicts the pods `pick` returns until it returns none, retrying the ones a PodDisruptionBudget
 * holds, until the deadline (epoch milliseconds). Each pod and outcome is reported once.
 */
export async function evictUntilGone(
  target: EvictTarget,
  pick: () => Promise<readonly PodObject[]>,
  deadline: number,
  what: string,
): Promise<void> {
  const reported = new Set<string>();
  for (;;) {
    const pods = await pick();
    if (pods.length === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Stop(`${what}: still waiting for ${pods.map(podRef).join(', ')} at the deadline`);
    }
    for (const pod of pods) {
      const outcome = await evict(target, pod);
      const key = `${podRef(pod)} ${outcome}`;
      if (!reported.has(key)) {
        reported.add(key);
        console.log(
          outcome === 'blocked'
            ? `WAITING ${podRef(pod)}: a PodDisruptionBudget allows no eviction now; retrying`
            : `EVICTED ${podRef(pod)}`,
        );
      }
    }
    await sleep(target.pollMs);
  }
}
