import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ARGO_SYNC_OPTIONS } from '../../lib/constructs/gitops/argo-application.ts';
import { renderExample } from '../support/helpers.ts';

const rendered = renderExample();
const yamlAt = (path: string) => parse(rendered.files.get(path)!);
const flux = [...rendered.files.keys()].filter((p) => /^flux\/kustomization-.*\.yaml$/.test(p)).map(yamlAt);
const app = yamlAt('argocd/application-cilium-cutover-hetzner-demo.yaml');

/** Files under a repository path (`dist/...`), as rendered (the repo keeps dist/ at gitops.path). */
function filesUnder(repoPath: string): string[] {
  const prefix = `${repoPath.replace(/^\.\//, '').replace(/^dist\//, '')}/`;
  return [...rendered.files.keys()].filter((p) => p.startsWith(prefix));
}

describe('Flux', () => {
  it('has one Kustomization per step, each depending on the previous one', () => {
    const n = (dir: string) => `cilium-cutover-hetzner-demo-${dir}`;
    expect(flux.map((k) => [k.metadata.name, k.spec.dependsOn?.[0]?.name])).toEqual([
      [n('000-preflight'), undefined],
      [n('100-calico-delete'), n('000-preflight')],
      [n('110-node-cleanup'), n('100-calico-delete')],
      [n('200-cilium'), n('110-node-cleanup')],
      [n('210-kube-proxy-cleanup'), n('200-cilium')],
      [n('250-readdress-pods'), n('210-kube-proxy-cleanup')],
      [n('300-verify-workloads'), n('250-readdress-pods')],
      [n('310-verify-checks'), n('300-verify-workloads')],
      [n('900-complete'), n('310-verify-checks')],
    ]);
  });

  it('waits for every object, with a timeout, prunes, and never forces', () => {
    for (const k of flux) {
      expect(k.spec).toMatchObject({ wait: true, prune: true, sourceRef: { kind: 'GitRepository', name: 'cilium-cutover-hetzner-demo' } });
      expect(k.spec.timeout).toMatch(/^\d+m$/);
      expect(k.spec.force).toBeUndefined();
    }
  });

  it('points every Kustomization at a step directory that holds only Kubernetes objects', () => {
    for (const k of flux) {
      const files = filesUnder(k.spec.path);
      expect(files.length, k.spec.path).toBeGreaterThan(1);
      for (const file of files) {
        const doc = parse(rendered.files.get(file)!);
        if (file.endsWith('/kustomization.yaml')) {
          expect(doc.kind).toBe('Kustomization');
          expect(doc.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
        } else {
          expect(doc, file).toMatchObject({
            apiVersion: expect.any(String),
            kind: expect.any(String),
            metadata: { name: expect.any(String) },
          });
        }
      }
    }
  });

  it('takes the repository from config', () => {
    const repo = yamlAt('flux/gitrepository-cilium-cutover-hetzner-demo.yaml');
    expect(repo.spec).toEqual({ interval: '10m', url: 'https://github.com/example-org/hetzner-demo-gitops.git', ref: { branch: 'main' } });
    expect(repo.metadata.namespace).toBe('flux-system');
  });
});

describe('Argo CD', () => {
  it('applies the Kustomize root over every step, from the configured repository', () => {
    expect(app.spec.source).toEqual({
      repoURL: 'https://github.com/example-org/hetzner-demo-gitops.git',
      targetRevision: 'main',
      path: 'dist/manifests',
    });
    const root = yamlAt('manifests/kustomization.yaml');
    for (const dir of root.resources) {
      expect(rendered.files.has(`manifests/${dir}/kustomization.yaml`), dir).toBe(true);
    }
    // Only the root and the step kustomizations: Argo CD builds the root, which lists the steps.
    expect(filesUnder(app.spec.source.path).filter((p) => p.endsWith('kustomization.yaml'))).toEqual([
      ...root.resources.map((dir: string) => `manifests/${dir}/kustomization.yaml`),
      'manifests/kustomization.yaml',
    ]);
  });

  it('skips the dry-run of CRDs created later, retries with backoff, prunes last', () => {
    expect(app.spec.syncPolicy.syncOptions).toEqual([...ARGO_SYNC_OPTIONS]);
    expect(app.spec.syncPolicy.syncOptions).toContain('SkipDryRunOnMissingResource=true');
    expect(app.spec.syncPolicy.retry).toEqual({ limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } });
  });

  it('syncs only when asked unless automated, and never cascades a deletion', () => {
    expect(app.spec.syncPolicy.automated).toBeUndefined();
    expect(app.metadata.finalizers).toBeUndefined();
    const automated = parse(
      renderExample((d) => (d.gitops.argocd = { ...d.gitops.argocd, automated: true })).files.get(
        'argocd/application-cilium-cutover-hetzner-demo.yaml',
      )!,
    );
    expect(automated.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: false });
  });

  it('orders steps by sync wave, and the last wave only records completion and checks the nodes', () => {
    const waves = [...rendered.files]
      .filter(([p]) => p.startsWith('manifests/') && !p.endsWith('kustomization.yaml'))
      .map(([, t]) => parse(t))
      .map((o) => Number(o.metadata.annotations['argocd.argoproj.io/sync-wave']));
    const last = Math.max(...waves);
    expect(last).toBe(900);
    const lastWave = [...rendered.files.keys()].filter((p) => p.startsWith('manifests/900-complete/') && !p.endsWith('kustomization.yaml'));
    // Argo CD does not wait for its last wave: nothing after it depends on the node check.
    expect(lastWave).toEqual([
      'manifests/900-complete/clusterrole-cilium-cutover-node-check.yaml',
      'manifests/900-complete/clusterrolebinding-cilium-cutover-node-check.yaml',
      'manifests/900-complete/configmap-cilium-cutover-status.yaml',
      'manifests/900-complete/configmap-node-check.yaml',
      'manifests/900-complete/job-node-check.yaml',
      'manifests/900-complete/serviceaccount-cilium-cutover-node-check.yaml',
    ]);
  });
});
