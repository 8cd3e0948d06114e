/**
 * The preflight's check of its own namespace: what counts as the tool's (its label, or a
 * controller that is the tool's) and what stops the migration.
 */
import { describe, expect, it } from 'vitest';
import { checkOwnNamespace, type NamespacedObject } from '../../../lib/incluster/namespace-check.ts';

const ours = { 'app.kubernetes.io/managed-by': 'cilium-cutover' };
const owned = (kind: string, name: string) => [{ kind, name, controller: true }];

describe("the preflight's namespace check", () => {
  it("passes the tool's Jobs and their pods, the echo Deployment, its ReplicaSet and pods, and the published root CA", () => {
    const objects: NamespacedObject[] = [
      { kind: 'Job', metadata: { name: 'preflight-4adf51f3', labels: ours } },
      { kind: 'Pod', metadata: { name: 'preflight-4adf51f3-x7k2p', ownerReferences: owned('Job', 'preflight-4adf51f3') } },
      { kind: 'Deployment', metadata: { name: 'echo', labels: ours } },
      // Listed before its owner: the order of the lists must not matter.
      { kind: 'Pod', metadata: { name: 'echo-5d9c-abcde', ownerReferences: owned('ReplicaSet', 'echo-5d9c') } },
      { kind: 'ReplicaSet', metadata: { name: 'echo-5d9c', ownerReferences: owned('Deployment', 'echo') } },
      { kind: 'ConfigMap', metadata: { name: 'preflight-5dbf0ea9', labels: ours } },
      { kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' } },
    ];
    expect(checkOwnNamespace('cilium-cutover', objects)).toEqual({
      outcome: 'PASS',
      check: 'namespace',
      subject: 'cilium-cutover',
      detail: "holds nothing but the tool's own objects",
    });
    expect(checkOwnNamespace('cilium-cutover', []).outcome).toBe('PASS');
  });

  it("fails on anything else: an unlabelled object, a pod of someone else's controller, a pod owned without being controlled", () => {
    const objects: NamespacedObject[] = [
      { kind: 'Job', metadata: { name: 'preflight-4adf51f3', labels: ours } },
      { kind: 'Service', metadata: { name: 'web' } },
      { kind: 'Pod', metadata: { name: 'web-0', ownerReferences: owned('StatefulSet', 'web') } },
      { kind: 'Pod', metadata: { name: 'debug', ownerReferences: [{ kind: 'Job', name: 'preflight-4adf51f3' }] } },
      { kind: 'ConfigMap', metadata: { name: 'settings', labels: { 'app.kubernetes.io/managed-by': 'Helm' } } },
    ];
    const result = checkOwnNamespace('apps', objects);
    expect(result.outcome).toBe('FAIL');
    expect(result.detail).toBe(
      'holds objects the tool did not create (Service/web, Pod/web-0, Pod/debug, ConfigMap/settings); the tool labels this namespace privileged and deletes it with everything in it at graduation: set run.namespace to a namespace of its own',
    );
  });

  it('names five and counts the rest', () => {
    const objects = Array.from({ length: 8 }, (_, i): NamespacedObject => ({ kind: 'Pod', metadata: { name: `p${i}` } }));
    expect(checkOwnNamespace('apps', objects).detail).toMatch(
      /^holds objects the tool did not create \(Pod\/p0, Pod\/p1, Pod\/p2, Pod\/p3, Pod\/p4 and 3 more\);/,
    );
  });
});
