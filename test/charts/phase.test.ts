import { describe, expect, it } from 'vitest';
import { findObject, isObjectFile, renderExample } from '../support/helpers.ts';
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

  // argo-cd docs/user-guide/sync-options.md: options in the annotation are comma-separated;
  // "Delete=false" keeps an object when the Application is deleted, "Prune=false" when it leaves Git.
  const protection = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' };
  const perNode = (phase: string) =>
    renderExample((d) => {
      d.strategy = 'per-node';
      d.perNode = { acknowledgeCalicoBGP: true, acknowledgeSwitchOutage: phase === 'switch' };
      d.phase = phase;
    });

  it('protects Cilium, the record and the inventory namespace from prune and cascading delete in every phase, and nothing else', () => {
    for (const [name, output] of [
      ['migrate', migrate],
      ['steady', steady],
      ['per-node migrate', perNode('migrate')],
      ['per-node switch', perNode('switch')],
    ] as const) {
      const objects = [...output.files].filter(([p]) => p.startsWith('manifests/') && isObjectFile(p));
      const kept = objects.filter(
        ([p]) =>
          /^manifests\/(200-cilium|900-complete)\//.test(p) ||
          /^manifests\/\d+-calico-delete\/namespace-cilium-cutover-inventory\.yaml$/.test(p),
      );
      expect(kept.length, name).toBeGreaterThan(10);
      for (const [path, text] of objects) {
        const annotations = parse(text).metadata.annotations ?? {};
        if (kept.some(([p]) => p === path)) {
          expect(annotations, `${name} ${path}`).toMatchObject(protection);
        } else {
          expect(annotations['argocd.argoproj.io/sync-options'], `${name} ${path}`).toBeUndefined();
          expect(annotations['kustomize.toolkit.fluxcd.io/prune'], `${name} ${path}`).toBeUndefined();
        }
      }
    }
  });

  it('changes no file it keeps: the switch to steady only deletes', () => {
    for (const [path, text] of steady.files) {
      if (/^manifests\/(200-cilium|900-complete)\//.test(path)) {
        expect(text, path).toBe(migrate.files.get(path));
      }
    }
  });

  it('checks every configured node from kube-system, reading only those nodes, and again when a node is added', () => {
    const job = findObject(steady, 'Job', 'node-check-');
    expect(job.metadata.namespace).toBe('kube-system');
    expect(job.spec.template.spec.serviceAccountName).toBe('cilium-cutover-node-check');
    const role = findObject(steady, 'ClusterRole', 'cilium-cutover-node-check');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'], resourceNames: ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'] },
    ]);
    const spec = JSON.parse(findObject(steady, 'ConfigMap', 'node-check-').data['node-check.json']);
    expect(spec).toMatchObject({ kubeProxyReplacement: true, kubernetesVersion: 'v1.32', kernel: { ciliumLine: '1.20', version: '5.10' } });
    expect(spec.nodes.map((n: { name: string }) => n.name)).toEqual(['k3s-server-1', 'k3s-server-2', 'k3s-server-3']);
    const added = renderExample((d) => {
      d.phase = 'steady';
      d.cluster.nodes.push({ name: 'k3s-agent-4', role: 'agent', internalIP: '10.0.0.9' });
    });
    expect(findObject(added, 'Job', 'node-check-').metadata.name).not.toBe(job.metadata.name);
    // Nothing else of the steady output changes.
    const changed = [...steady.files.keys()].filter((p) => p.startsWith('manifests/') && added.files.get(p) !== steady.files.get(p));
    expect(changed.sort()).toEqual([
      'manifests/900-complete/clusterrole-cilium-cutover-node-check.yaml',
      'manifests/900-complete/configmap-node-check.yaml',
      'manifests/900-complete/job-node-check.yaml',
    ]);
  });

  it('phase migrate is the default', () => {
    expect(renderExample((d) => (d.phase = 'migrate')).files).toEqual(migrate.files);
  });

  it('PLAN.md says how to switch and what the switch changes', () => {
    expect(migrate.files.get('PLAN.md')).toContain('## After the migration: `phase: steady`');
    expect(steady.files.get('PLAN.md')).toContain('## Steady phase');
  });
});
