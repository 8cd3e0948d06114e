import { describe, expect, it } from 'vitest';
import { canonicalJson, hashedName, shortHash } from '../../lib/content-hash.ts';

/** The definition the direct writer must match: JSON.stringify rebuilding every object with sorted keys. */
function reference(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

class Quantity {
  public constructor(public readonly value: string) {}
}

describe('canonical JSON', () => {
  it('is the sorted-keys JSON text, whatever the insertion order, for the shapes that get hashed', () => {
    const samples: unknown[] = [
      1,
      'x',
      null,
      [1, undefined, () => 1, null],
      { b: 1, a: [{ d: undefined, c: new Quantity('50m') }], '10': 1, '9': 2, x: { toJSON: () => 'j' } },
      { '': 1, é: 2, Z: 3, 'a-b': { z: [], y: {} } },
      { when: new Date(0), n: Number.NaN, i: Number.POSITIVE_INFINITY, f: () => 1 },
    ];
    for (const sample of samples) {
      expect(canonicalJson(sample)).toBe(reference(sample));
    }
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('names: the hash keeps cut names apart and stays within 63 characters', () => {
    const long = 'cleanup-node-' + 'x'.repeat(80);
    const a = hashedName(long, shortHash({ node: 1 }));
    const b = hashedName(long, shortHash({ node: 2 }));
    expect(a).not.toBe(b);
    expect(a.length).toBeLessThanOrEqual(63);
  });
});
