import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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

  it('builds the Flux objects', () => {
    const result = build('flux');
    expect(result.status).toBe(0);
    expect(parseAllDocuments(result.stdout).map((d) => d.toJS().kind)).toContain('GitRepository');
  });
});
