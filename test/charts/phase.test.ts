import { describe, expect, it } from 'vitest';
import { isObjectFile, renderExample } from '../support/helpers.ts';
import { parse } from 'yaml';

const steady = renderExample((d) => (d.phase = 'steady'));
const migrate = renderExample();

describe('phase: steady', () => {
  it('keeps only the Cilium step, the status record and the k3s drop-in', () => {
    const dirs = new Set(
      [...steady.files.keys()].filter((p) => p.startsWith('manifests/') && p.split('/').length === 3).map((p) => p.split('/')[1]),
    );
    expect([...dirs]).toEqual(['200-cilium', '900-complete']);
    expect([...steady.files.keys()].filter((p) => p.startsWith('host/'))).toEqual(['host/k3s/config.yaml.d/90-cilium-cutover.yaml']);
    expect(parse(steady.files.get('manifests/kustomization.yaml')!).resources).toEqual(['200-cilium', '900-complete']);
    expect([...steady.files.keys()].filter((p) => p.startsWith('flux/kustomization-'))).toEqual([
      'flux/kustomization-cilium-cutover-hetzner-demo-200-cilium.yaml',
      'flux/kustomization-cilium-cutover-hetzner-demo-900-complete.yaml',
    ]);
  });

  it('keeps the status record as the migration wrote it, so no engine prunes it', () => {
    const path = 'manifests/900-complete/configmap-cilium-cutover-status.yaml';
    const record = parse(steady.files.get(path)!);
    expect(record.data).toEqual(parse(migrate.files.get(path)!).data);
    expect(record.data['steps-completed']).toBe(
      '000-preflight,100-calico-delete,110-node-cleanup,200-cilium,210-kube-proxy-cleanup,250-readdress-pods,300-verify-workloads,310-verify-checks',
    );
  });

  it('protects every object from pruning, for both engines', () => {
    const objects = [...steady.files].filter(([p]) => p.startsWith('manifests/') && isObjectFile(p));
    expect(objects.length).toBeGreaterThan(10);
    for (const [path, text] of objects) {
      expect(parse(text).metadata.annotations, path).toMatchObject({
        'argocd.argoproj.io/sync-options': 'Prune=false',
        'kustomize.toolkit.fluxcd.io/prune': 'disabled',
      });
    }
  });

  it('changes nothing in the Cilium objects and the record but those two annotations', () => {
    for (const [path, text] of steady.files) {
      if (!/^manifests\/(200-cilium|900-complete)\//.test(path) || !isObjectFile(path)) continue;
      const before = migrate.files.get(path)!.split('\n');
      const added = text.split('\n').filter((l) => !before.includes(l));
      expect(added, path).toEqual(['    argocd.argoproj.io/sync-options: Prune=false', '    kustomize.toolkit.fluxcd.io/prune: disabled']);
      expect(text.split('\n').length, path).toBe(before.length + 2);
    }
  });

  it('leaves migrate output unchanged: phase migrate is the default and carries no prune protection', () => {
    expect(renderExample((d) => (d.phase = 'migrate')).files).toEqual(migrate.files);
    for (const [path, text] of migrate.files) {
      if (isObjectFile(path)) {
        expect(text, path).not.toContain('Prune=false');
        expect(text, path).not.toContain('kustomize.toolkit.fluxcd.io/prune');
      }
    }
  });

  it('PLAN.md says how to switch and what the switch changes', () => {
    expect(migrate.files.get('PLAN.md')).toContain('## After the migration: `phase: steady`');
    expect(steady.files.get('PLAN.md')).toContain('## Steady phase');
  });
});
