/**
 * What `kubectl drain` decides about one eviction and about the pods it waits for, as plain
 * functions (k8s.io/kubectl pkg/drain/drain.go, `evictPods` and `waitForDelete`): the eviction
 * API's answers, and that a drain waits only for the pods it listed, not for pods created since.
 *
 * Dependency-free: bundled into the per-node Jobs' scripts and imported by the tests.
 */
import type { PodObject } from './move-node.ts';

export type EvictionOutcome = 'evicted' | 'gone' | 'blocked' | 'namespace-deleting' | 'terminating' | 'failed';

/**
 * What an eviction answer means: `evicted`; `gone` (404); `blocked`, to retry (429: a
 * PodDisruptionBudget allows none now); `namespace-deleting`, to retry (403: the pod's namespace is
 * being deleted, and the pod is not marked deleted yet); `terminating` (that 403 for a pod already
 * marked deleted: no eviction will succeed, wait for the deletion); or `failed`.
 */
export function evictionOutcome(status: number, body: unknown, pod: PodObject): EvictionOutcome {
  if (status >= 200 && status < 300) {
    return 'evicted';
  }
  if (status === 404) {
    return 'gone';
  }
  if (status === 429) {
    return 'blocked';
  }
  if (status === 403 && namespaceTerminating(body)) {
    return pod.metadata.deletionTimestamp === undefined ? 'namespace-deleting' : 'terminating';
  }
  return 'failed';
}

/** A Status whose causes say the namespace is being terminated (`NamespaceTerminating`). */
function namespaceTerminating(body: unknown): boolean {
  const causes = (body as { details?: { causes?: readonly { type?: string }[] } } | undefined)?.details?.causes;
  return Array.isArray(causes) && causes.some((c) => c?.type === 'NamespaceTerminating');
}

/** The Eviction object POSTed to `pods/<name>/eviction`. */
export function evictionBody(pod: PodObject): unknown {
  return { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace } };
}

/** The API path of a pod's eviction subresource. */
export function evictionPath(pod: PodObject): string {
  return `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace)}/pods/${encodeURIComponent(pod.metadata.name)}/eviction`;
}

/**
 * The pods of `now` that are the ones listed `first`: same namespace, name and UID. A pod created
 * since, under a new name or the same one, is not the drain's to wait for, so a controller that
 * puts pods back onto the cordoned node cannot hold the drain until its deadline.
 */
export function stillListed(first: readonly PodObject[], now: readonly PodObject[]): PodObject[] {
  const key = (p: PodObject) => `${p.metadata.namespace}/${p.metadata.name}/${p.metadata.uid ?? ''}`;
  const listed = new Set(first.map(key));
  return now.filter((p) => listed.has(key(p)));
}
