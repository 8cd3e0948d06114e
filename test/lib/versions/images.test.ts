import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { withRegistry } from '../../../lib/versions/images.ts';
import { renderExample } from '../../support/helpers.ts';
import type { Rendered } from '../../../lib/output/rendered.ts';

/** Every image reference in the manifests. */
function images(rendered: Rendered): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'image' && typeof x === 'string') found.push(x);
        else walk(x);
      }
    }
  };
  for (const [path, text] of rendered.files) {
    if (path.startsWith('manifests/') && path.endsWith('.yaml')) walk(parse(text));
  }
  return [...new Set(found)].sort();
}

describe('images', () => {
  it('are all pinned by tag and digest, never latest', () => {
    const all = images(renderExample());
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const image of all) {
      expect(image).toMatch(/^[a-z0-9.-]+\/[a-z0-9/._-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$/);
      expect(image).not.toMatch(/:latest@/);
    }
  });

  it('images.registry changes every registry and keeps every path, tag and digest', () => {
    const plain = images(renderExample());
    const mirrored = images(renderExample((d) => (d.images = { registry: 'registry.example.com:5000/mirror' })));
    expect(mirrored).toHaveLength(plain.length);
    expect(mirrored.every((i) => i.startsWith('registry.example.com:5000/mirror/'))).toBe(true);
    const rest = (i: string) => i.slice(i.indexOf('/') + 1);
    expect(mirrored.map((i) => i.replace('registry.example.com:5000/mirror/', '')).sort()).toEqual(plain.map(rest).sort());
  });

  it('withRegistry keeps the image when no mirror is set', () => {
    const image = { repository: 'quay.io/cilium/cilium', tag: 'v1', digest: 'sha256:x' };
    expect(withRegistry(image, undefined)).toBe(image);
    expect(withRegistry(image, 'mirror.local').repository).toBe('mirror.local/cilium/cilium');
  });

  it('PLAN.md names the mirror', () => {
    const plan = renderExample((d) => (d.images = { registry: 'registry.example.com' })).files.get('PLAN.md')!;
    expect(plan).toContain('(from the mirror registry.example.com)');
  });
});
