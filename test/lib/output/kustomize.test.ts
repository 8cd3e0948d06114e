import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { writeOutput } from '../../../lib/output/writer.ts';
import { renderExample } from '../../support/helpers.ts';
import { requireTool } from '../../support/tools.ts';

const haveKubectl = requireTool('kubectl', 'kustomize', 'step directories were not built');

describe.skipIf(!haveKubectl)('kubectl kustomize', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-kustomize-')), 'dist');
  const rendered = renderExample();
  writeOutput(out, rendered.files);
  const build = (dir: string) => spawnSync('kubectl', ['kustomize', join(out, dir)], { encoding: 'utf8' });

  for (const step of rendered.steps) {
    it(`builds ${step.step.dir} on its own, with every object of the step`, () => {
      const result = build(`manifests/${step.step.dir}`);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const names = parseAllDocuments(result.stdout).map((d) => {
        const o = d.toJS();
        return `${o.kind}/${o.metadata.name}`;
      });
      expect(names.sort()).toEqual(step.objects.map((o) => `${o.kind}/${o.name}`).sort());
    });
  }

  it('builds the Kustomize root Argo CD uses, with all steps', () => {
    const result = build('manifests');
    expect(result.status).toBe(0);
    expect(parseAllDocuments(result.stdout)).toHaveLength(rendered.steps.reduce((n, s) => n + s.objects.length, 0));
  });

  it('placed in a Flux fleet tree, yields only the Flux objects, which apply the steps in order', () => {
    // A Flux Kustomization whose path (clusters/prod) has no kustomization.yaml generates one that
    // lists each subdirectory holding a kustomization.yaml as a whole, without descending, and every
    // other YAML file (fluxcd/pkg kustomize/kustomize_generator.go, generateKustomization). With the
    // output as clusters/prod/cilium-cutover, that is this one file:
    const tree = mkdtempSync(join(tmpdir(), 'cilium-cutover-fleet-'));
    writeOutput(join(tree, 'clusters/prod/cilium-cutover'), rendered.files);
    writeFileSync(
      join(tree, 'clusters/prod/kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./cilium-cutover\n',
    );
    const result = spawnSync('kubectl', ['kustomize', join(tree, 'clusters/prod')], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    const kinds = parseAllDocuments(result.stdout).map((d) => d.toJS().kind);
    expect(kinds.filter((k) => k !== 'Kustomization')).toEqual(['GitRepository']);
    expect(kinds.filter((k) => k === 'Kustomization')).toHaveLength(rendered.steps.length);
  });

  it('with Argo CD alone, the entry point is the Application', () => {
    const argo = renderExample((d) => (d.gitops.engine = 'argocd'));
    const dir = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-argo-')), 'dist');
    writeOutput(dir, argo.files);
    const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(parseAllDocuments(result.stdout).map((d) => d.toJS().kind)).toEqual(['Application']);
  });

  it('builds the Flux objects', () => {
    const result = build('flux');
    expect(result.status).toBe(0);
    expect(parseAllDocuments(result.stdout).map((d) => d.toJS().kind)).toContain('GitRepository');
  });
});
