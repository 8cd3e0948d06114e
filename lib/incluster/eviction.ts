/**
 * What `kubectl drain` decides about one eviction and about the pods it waits for, as plain
 * functions (k8s.io/kubectl pkg/drain/drain.go, `evictPods` and `waitForDelete`): the eviction
 * API's answers, and that a drain waits only for the pods it listed, not for pods created since.
 *
 * Dependency-free: bundled into the per-node Jobs' scripts and imported by the tests.
 */
import type { PodObject } from './move-node.ts';

export type EvictionOutcome = 'evicted' | 'gone' | 'blocked' | 'budget-pending' | 'retry' | 'namespace-deleting' | 'terminating' | 'failed';

/**
 * What an eviction answer means: `evicted`; `gone` (404, or 409: the pod of that UID is gone,
 * another took its name); `blocked`, to retry (429 from a PodDisruptionBudget that allows none
 * now); `budget-pending`, to retry (429 from a budget whose status the server has not processed
 * yet); `retry` (any other 429: the server's own throttling); `namespace-deleting`, to retry (403: the pod's namespace is
 * being deleted, and the pod is not marked deleted yet); `terminating` (that 403 for a pod already
 * marked deleted: no eviction will succeed, wait for the deletion); or `failed`.
 */
export function evictionOutcome(status: number, body: unknown, pod: PodObject): EvictionOutcome {
  if (status >= 200 && status < 300) {
    return 'evicted';
  }
  if (status === 404 || status === 409) {
    return 'gone';
  }
  if (status === 429) {
    return budgetAnswer(body) ?? 'retry';
  }
  if (status === 403 && namespaceTerminating(body)) {
    return pod.metadata.deletionTimestamp === undefined ? 'namespace-deleting' : 'terminating';
  }
  return 'failed';
}

function causes(body: unknown): readonly { readonly type?: string; readonly message?: string }[] {
  const list = (body as { details?: { causes?: unknown } } | undefined)?.details?.causes;
  return Array.isArray(list) ? list : [];
}

/** A Status whose causes say the namespace is being terminated (`NamespaceTerminating`). */
function namespaceTerminating(body: unknown): boolean {
  return causes(body).some((c) => c?.type === 'NamespaceTerminating');
}

/**
 * A 429 from a PodDisruptionBudget (kubernetes pkg/registry/core/pod/storage/eviction.go,
 * checkAndDecrement): "Cannot evict pod as it would violate the pod's disruption budget.", with a
 * `DisruptionBudget` cause ("The disruption budget <name> needs <n> healthy pods and has <m>
 * currently", from later releases also "… does not allow evicting pods currently …") where the
 * server adds one. The same cause type says "is still being processed by the server" of a budget
 * whose status lags its spec: no refusal of this pod yet.
 */
function budgetAnswer(body: unknown): 'blocked' | 'budget-pending' | undefined {
  const budget = causes(body).filter((c) => c?.type === 'DisruptionBudget');
  if (budget.some((c) => /still being processed/.test(c.message ?? ''))) {
    return 'budget-pending';
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return budget.length > 0 || (typeof message === 'string' && /disruption budget/i.test(message)) ? 'blocked' : undefined;
}

/**
 * The Eviction object POSTed to `pods/<name>/eviction`. With the pod's UID as a precondition, an
 * eviction sent again never takes a pod that has since taken the name (a StatefulSet's).
 */
export function evictionBody(pod: PodObject): unknown {
  return {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
    ...(pod.metadata.uid ? { deleteOptions: { preconditions: { uid: pod.metadata.uid } } } : {}),
  };
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
