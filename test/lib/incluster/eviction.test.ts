/**
 * The eviction API's answers as kubectl's drain reads them (k8s.io/kubectl pkg/drain/drain.go
 * evictPods), with the Status bodies the API server sends (kubernetes
 * pkg/registry/core/pod/storage/eviction.go): a budget's refusal names how many healthy pods it
 * needs; a budget whose status is not processed yet, and the server's own throttling, are 429s too.
 */
import { describe, expect, it } from 'vitest';
import { evictionBody, evictionOutcome, stillListed } from '../../../lib/incluster/eviction.ts';
import type { PodObject } from '../../../lib/incluster/move-node.ts';

const pod = (name: string, uid?: string, deletionTimestamp?: string): PodObject => ({
  metadata: { name, namespace: 'shop', ...(uid ? { uid } : {}), ...(deletionTimestamp ? { deletionTimestamp } : {}) },
});
const status = (reason: string, causes: { type: string; message: string }[]) => ({ kind: 'Status', reason, details: { causes } });

describe('eviction answers', () => {
  it('tells a budget refusal from another 429, and a namespace being deleted from another 403', () => {
    const budget = status('TooManyRequests', [
      { type: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' },
    ]);
    const processing = status('TooManyRequests', [
      { type: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' },
    ]);
    const terminating = status('Forbidden', [{ type: 'NamespaceTerminating', message: 'namespace shop is being terminated' }]);
    expect(evictionOutcome(201, {}, pod('a'))).toBe('evicted');
    expect(evictionOutcome(404, {}, pod('a'))).toBe('gone');
    // The UID precondition failed: the pod of that UID is gone, another has its name.
    expect(evictionOutcome(409, {}, pod('a'))).toBe('gone');
    expect(evictionOutcome(429, budget, pod('a'))).toBe('blocked');
    const later = status('TooManyRequests', [
      { type: 'DisruptionBudget', message: 'The disruption budget web does not allow evicting pods currently' },
    ]);
    expect(evictionOutcome(429, later, pod('a'))).toBe('blocked');
    expect(evictionOutcome(429, processing, pod('a'))).toBe('budget-pending');
    // A server that adds no cause still says it is the budget.
    expect(
      evictionOutcome(429, { kind: 'Status', message: "Cannot evict pod as it would violate the pod's disruption budget." }, pod('a')),
    ).toBe('blocked');
    expect(
      evictionOutcome(429, { kind: 'Status', reason: 'TooManyRequests', message: 'Too many requests, please try again later.' }, pod('a')),
    ).toBe('retry');
    expect(evictionOutcome(403, terminating, pod('a'))).toBe('namespace-deleting');
    expect(evictionOutcome(403, terminating, pod('a', 'u', '2026-12-07T10:00:00Z'))).toBe('terminating');
    expect(evictionOutcome(403, status('Forbidden', []), pod('a'))).toBe('failed');
    expect(evictionOutcome(500, {}, pod('a'))).toBe('failed');
  });

  it("sends the pod's UID as the eviction's precondition, and waits only for the pods first listed", () => {
    expect(evictionBody(pod('a', 'u1'))).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'a', namespace: 'shop' },
      deleteOptions: { preconditions: { uid: 'u1' } },
    });
    const first = [pod('a', 'u1'), pod('b', 'u2')];
    // b went; a new a (a StatefulSet's, same name) and c arrived.
    expect(stillListed(first, [pod('a', 'u1'), pod('a', 'u3'), pod('c', 'u4')]).map((p) => p.metadata.uid)).toEqual(['u1']);
  });
});
