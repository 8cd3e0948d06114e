import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inventoryParts, keptObject, PART_BUDGET, type KeptObject } from '../../../lib/incluster/calico-inventory.ts';
import { coveringInventory, inventoryIds, partObjects, readInventory } from '../../../lib/incluster/calico-inventory-read.ts';
import { everyKind, manyPolicies } from '../../support/calico-resources.ts';

/**
 * What the API server counts against a ConfigMap's limit: every key and value of data and
 * binaryData (the decoded bytes), at most 1 MiB (k8s.io/kubernetes pkg/apis/core/validation,
 * ValidateConfigMap: totalSize > core.MaxSecretSize, 1024 * 1024).
 */
const MAX_CONFIGMAP = 1024 * 1024;
function configMapSize(part: { data?: Record<string, string>; binaryData?: Record<string, string> }): number {
  const data = Object.entries(part.data ?? {}).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);
  return data + Object.entries(part.binaryData ?? {}).reduce((n, [k, v]) => n + k.length + Buffer.from(v, 'base64').length, 0);
}

const kept = (o: { apiVersion: string; kind: string; metadata: any; spec: unknown }): KeptObject => keptObject(o, o.apiVersion, o.kind);

describe('keptObject', () => {
  it('keeps what creates the object again, in its own key order, and nothing the cluster assigned or that would act on a copy', () => {
    const listed = {
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkPolicy',
      metadata: {
        name: 'default.deny-ssh',
        uid: '4b1f',
        resourceVersion: '812',
        generation: 3,
        creationTimestamp: '2026-01-01T00:00:00Z',
        managedFields: [{ manager: 'kubectl' }],
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: 'dead' }],
        finalizers: ['example.com/hold'],
        labels: { team: 'net' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      spec: { selector: 'all()', order: 10 },
      status: { observed: true },
    };
    const k = keptObject(listed, 'crd.projectcalico.org/v1', 'GlobalNetworkPolicy');
    expect(k).toEqual({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkPolicy',
      metadata: {
        name: 'default.deny-ssh',
        labels: { team: 'net' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      spec: { selector: 'all()', order: 10 },
    });
    expect(JSON.stringify(k.spec)).toBe('{"selector":"all()","order":10}');
  });

  it('drops the owner references Calico keeps in its own metadata annotation, and keeps the rest of it', () => {
    // libcalico-go lib/backend/k8s/resources/resources.go keeps the v3 metadata there, owner references included.
    const meta = { uid: 'c0ffee', generation: 2, ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: 'gone', uid: 'dead' }] };
    const listed = {
      metadata: { name: 'default.p', annotations: { 'projectcalico.org/metadata': JSON.stringify(meta), other: 'x' } },
      spec: {},
    };
    expect(keptObject(listed, 'crd.projectcalico.org/v1', 'GlobalNetworkPolicy').metadata.annotations).toEqual({
      'projectcalico.org/metadata': '{"uid":"c0ffee","generation":2}',
      other: 'x',
    });
    const plain = { metadata: { name: 'p', annotations: { 'projectcalico.org/metadata': '{"uid":"c0ffee"}' } }, spec: {} };
    expect(keptObject(plain, 'crd.projectcalico.org/v1', 'Tier').metadata.annotations).toBe(plain.metadata.annotations);
  });
});

describe('inventoryParts', () => {
  const objects = [...everyKind(), ...manyPolicies(3000)].map(kept);
  const { id, parts } = inventoryParts(objects, 'v3.27.0', '2026-12-07T10:00:00Z');

  it('splits thousands of policies into parts under the ConfigMap limit, holding every object once, in full', () => {
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(configMapSize(part as any)).toBeLessThanOrEqual(PART_BUDGET);
      expect(configMapSize(part as any)).toBeLessThan(MAX_CONFIGMAP);
      expect(part.immutable).toBe(true);
    }
    const back = parts.flatMap(partObjects);
    expect(back).toHaveLength(objects.length);
    const key = (o: KeptObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const byKey = new Map(back.map((o) => [key(o), o]));
    for (const o of objects) {
      expect(JSON.stringify(byKey.get(key(o)))).toBe(JSON.stringify(o));
    }
  });

  it('names the parts after the content: the same objects in any order give the same names, other content others', () => {
    expect(parts.map((p) => p.metadata.name)).toEqual(parts.map((_, i) => `calico-${id}-${i + 1}-of-${parts.length}`));
    expect(inventoryParts([...objects].reverse(), 'v3.27.0', '2026-12-08T00:00:00Z').id).toBe(id);
    const changed = objects.map((o, i) => (i === 5 ? { ...o, spec: { ...(o.spec as object), order: 1 } } : o));
    expect(inventoryParts(changed, 'v3.27.0', '2026-12-07T10:00:00Z').id).not.toBe(id);
  });

  it('puts tiers first and policies last, so a restore in part order creates a tier before its policies', () => {
    const kinds = parts.flatMap(partObjects).map((o) => o.kind);
    expect(kinds[0]).toBe('Tier');
    expect(kinds.indexOf('IPPool')).toBeLessThan(kinds.indexOf('GlobalNetworkPolicy'));
    expect(kinds.lastIndexOf('Tier')).toBeLessThan(kinds.indexOf('GlobalNetworkPolicy'));
  });

  it('stores an object larger than a part compressed in a part of its own, and refuses one too large even so', () => {
    const big = kept({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkSet',
      metadata: { name: 'blocklist' },
      spec: { nets: Array.from({ length: 60_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`) },
    });
    const split = inventoryParts([big, ...everyKind().map(kept)], 'v3.27.0', 'now');
    const alone = split.parts.find((p) => p.binaryData !== undefined)!;
    expect(configMapSize(alone as any)).toBeLessThan(PART_BUDGET);
    expect(partObjects(alone)).toEqual([big]);
    expect(readInventory(split.id, split.parts).objects).toContainEqual(big);

    const random = kept({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkSet',
      metadata: { name: 'noise' },
      spec: { note: randomBytes(1_200_000).toString('base64') },
    });
    expect(() => inventoryParts([random], 'v3.27.0', 'now')).toThrow(
      /^GlobalNetworkSet noise is \d+ bytes, \d+ compressed: more than a ConfigMap holds$/,
    );
  });
});

describe('readInventory', () => {
  const objects = [...everyKind(), ...manyPolicies(2000)].map(kept);
  const { id, parts } = inventoryParts(objects, 'v3.27.0', '2026-12-07T10:00:00Z');

  it('reads back every object, with the version and time it was taken', () => {
    const inventory = readInventory(id, [...parts].reverse());
    expect(inventory).toMatchObject({ id, calicoVersion: 'v3.27.0', takenAt: '2026-12-07T10:00:00Z' });
    expect(inventory.objects).toHaveLength(objects.length);
  });

  it('refuses an inventory with a part missing, or a part changed, naming it', () => {
    expect(() => readInventory(id, parts.slice(1))).toThrow(
      `Calico inventory ${id} is incomplete: ConfigMap(s) ${parts[0]!.metadata.name} missing`,
    );
    const text = parts[1]!.data!['objects.json']!.replace('"order":1', '"order":2');
    const changed = parts.map((p, i) => (i === 1 ? { ...p, data: { 'objects.json': text } } : p));
    expect(() => readInventory(id, changed)).toThrow(`Calico inventory ${id} does not match its id: a part was changed or replaced`);
    expect(() => readInventory('00000000', parts)).toThrow('no Calico inventory 00000000');
  });

  it('finds the newest earlier inventory that holds every object still there, so a re-run keeps no partial one', () => {
    // An older inventory with one more object (deleted since by hand).
    const extra = kept({ apiVersion: 'crd.projectcalico.org/v1', kind: 'GlobalNetworkSet', metadata: { name: 'old' }, spec: { nets: [] } });
    const earlier = inventoryParts([...objects, extra], 'v3.27.0', '2026-12-01T00:00:00Z');
    expect(earlier.id).not.toBe(id);
    // Some CRDs are gone since (a run that stopped while deleting them): what is left is all held.
    const left = objects.filter((o) => o.kind !== 'GlobalNetworkPolicy');
    expect(coveringInventory(left, [...earlier.parts, ...parts])?.id).toBe(id);
    expect(coveringInventory(left, earlier.parts)?.id).toBe(earlier.id);
    // A policy changed since: no earlier inventory holds it as it is.
    const changed = left.map((o, i) => (i === 0 ? { ...o, spec: { ...(o.spec as object), order: 99 } } : o));
    expect(coveringInventory(changed, [...earlier.parts, ...parts])).toBeUndefined();
    // An incomplete one does not count.
    expect(coveringInventory(left, parts.slice(1))).toBeUndefined();
  });

  it('lists the inventories on a cluster, newest first', () => {
    const earlier = inventoryParts(objects.slice(0, 10), 'v3.27.0', '2026-12-01T00:00:00Z');
    expect(inventoryIds([...earlier.parts, ...parts])).toEqual([
      { id, takenAt: '2026-12-07T10:00:00Z' },
      { id: earlier.id, takenAt: '2026-12-01T00:00:00Z' },
    ]);
  });
});
