/**
 * Evicting pods through the eviction API (so PodDisruptionBudgets hold), shared by the per-node
 * Jobs. Dependency-free apart from the API client; bundled into their scripts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { apiPost, describeBody } from './shared/api-client.ts';
import { evictionBody, evictionOutcome, evictionPath, stillListed, type EvictionOutcome } from './eviction.ts';
import { podRef, type PodObject } from './move-node.ts';

/** A stop with a message for the Job's log. */
export class Stop extends Error {}

const report: Readonly<Record<Exclude<EvictionOutcome, 'failed'>, (pod: string) => string>> = {
  evicted: (pod: string) => `EVICTED ${pod}`,
  gone: (pod: string) => `EVICTED ${pod}`,
  blocked: (pod: string) => `WAITING ${pod}: a PodDisruptionBudget allows no eviction now; retrying`,
  'budget-pending': (pod: string) =>
    `WAITING ${pod}: a PodDisruptionBudget allows no eviction now (its status is being processed); retrying`,
  retry: (pod: string) => `WAITING ${pod}: the API server asks to retry the eviction later (HTTP 429); retrying`,
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

/** How a run of evictions goes on. */
export interface EvictOptions {
  /**
   * Wait only for the pods the first pick returned (same UID), as `kubectl drain` does: a pod
   * created since is not the drain's. Otherwise pick again until it returns none.
   * @default false
   */
  readonly onlyFirstListed?: boolean;
  /** A pod whose eviction a PodDisruptionBudget refuses: the caller's line, when it settled it otherwise. */
  readonly onBudget?: (pod: PodObject) => Promise<string | undefined>;
}

/**
 * Evicts the pods `pick` returns until none is left (or none of those it returned first, with
 * `onlyFirstListed`), retrying the ones a PodDisruptionBudget holds, until the deadline (epoch
 * milliseconds). A pod already terminating is waited for, not evicted again. Each pod and outcome
 * is reported once.
 */
export async function evictUntilGone(
  target: EvictTarget,
  pick: () => Promise<readonly PodObject[]>,
  deadline: number,
  what: string,
  options: EvictOptions = {},
): Promise<void> {
  const reported = new Set<string>();
  const first = await pick();
  for (let now = first; ; now = await pick()) {
    const pods = options.onlyFirstListed ? stillListed(first, now) : now;
    if (pods.length === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Stop(`${what}: still waiting for ${pods.map(podRef).join(', ')} at the deadline`);
    }
    for (const pod of pods.filter((p) => p.metadata.deletionTimestamp === undefined)) {
      const outcome = await evict(target, pod);
      // A refused eviction the caller may settle otherwise (its own line then replaces WAITING).
      const line = (outcome === 'blocked' ? await options.onBudget?.(pod) : undefined) ?? report[outcome](podRef(pod));
      if (!reported.has(line)) {
        reported.add(line);
        console.log(line);
      }
    }
    await sleep(target.pollMs);
  }
}
