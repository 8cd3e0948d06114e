/**
 * `check` is strict: a misspelt or unknown field in any generated object fails it, named by file,
 * object, field path and the nearest known field. One case per kind family, each injected into a
 * synthesized object; the committed dist/ and every example config pass.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { render } from '../../../charts/app.ts';
import { runCli } from '../../../cli/index.ts';
import { nearest } from '../../../lib/check/nearest.ts';
import { validateObject } from '../../../lib/check/schema-check.ts';
import { writeOutput } from '../../../lib/output/writer.ts';
import { load, renderExample } from '../../support/helpers.ts';

const ROOT = new URL('../../..', import.meta.url).pathname;

/** Runs `check --no-kustomize` on a directory; returns the exit code and stdout lines. */
async function check(dir: string): Promise<{ code: number; stdout: string[] }> {
  const stdout: string[] = [];
  const code = await runCli(['check', '--dir', dir, '--no-kustomize'], { stdout: (l) => stdout.push(l), stderr: () => {}, cwd: ROOT });
  return { code, stdout };
}

/** Writes a render to a temporary output directory. */
function written(files: ReadonlyMap<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-strict-')), 'out');
  writeOutput(dir, files);
  return dir;
}

/** Edits one YAML object file of an output directory in place. */
function edit(dir: string, file: string, change: (obj: any) => void): void {
  const obj = parse(readFileSync(join(dir, file), 'utf8'));
  change(obj);
  writeFileSync(join(dir, file), stringify(obj));
}

const cutover = renderExample((d) => {
  d.gitops.engine = 'both';
  d.verify.ingress = { host: 'echo.example.com' };
});
/** An example config file as data. */
const example = (file: string): Record<string, unknown> => parse(readFileSync(join(ROOT, 'examples', file), 'utf8'));
const perNode = render(load(example('hetzner-3-servers-per-node.yaml')).config);

/** A file of a render by a pattern on its path. */
function fileOf(files: ReadonlyMap<string, string>, pattern: RegExp): string {
  const found = [...files.keys()].find((p) => pattern.test(p));
  if (found === undefined) {
    throw new Error(`no file matches ${pattern}`);
  }
  return found;
}

interface Case {
  readonly family: string;
  readonly files: ReadonlyMap<string, string>;
  readonly file: RegExp;
  readonly change: (obj: any) => void;
  /** The line `check` must print after `INVALID <file>: `. */
  readonly problem: string;
}

const CASES: readonly Case[] = [
  {
    family: 'batch/v1 Job: a misspelt container field',
    files: cutover.files,
    file: /310-verify-checks\/job-verify-cluster\.yaml$/,
    change: (job) => {
      job.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    },
    problem: 'spec.template.spec.containers[0].imagePullPolicyy: unknown field; did you mean imagePullPolicy?',
  },
  {
    family: 'batch/v1 Job: an unknown pod spec field',
    files: cutover.files,
    file: /310-verify-checks\/job-verify-cluster\.yaml$/,
    change: (job) => {
      job.spec.template.spec.fooBar = 1;
    },
    problem: 'spec.template.spec.fooBar: unknown field',
  },
  {
    family: 'apps/v1 DaemonSet',
    files: cutover.files,
    file: /200-cilium\/daemonset-cilium\.yaml$/,
    change: (ds) => {
      ds.spec.updateStrategy.rollingUpdate.maxUnavailabel = 2;
      delete ds.spec.updateStrategy.rollingUpdate.maxUnavailable;
    },
    problem: 'spec.updateStrategy.rollingUpdate.maxUnavailabel: unknown field; did you mean maxUnavailable?',
  },
  {
    family: 'rbac.authorization.k8s.io/v1 ClusterRole',
    files: cutover.files,
    file: /100-calico-delete\/clusterrole-/,
    change: (role) => {
      role.rules[0].resourceName = role.rules[0].resourceNames;
      delete role.rules[0].resourceNames;
    },
    problem: 'rules[0].resourceName: unknown field; did you mean resourceNames?',
  },
  {
    family: 'v1 ConfigMap',
    files: cutover.files,
    file: /200-cilium\/configmap-cilium-config\.yaml$/,
    change: (cm) => {
      cm.datta = cm.data;
      delete cm.data;
    },
    problem: 'datta: unknown field; did you mean data?',
  },
  {
    family: 'networking.k8s.io/v1 Ingress',
    files: cutover.files,
    file: /300-verify-workloads\/ingress-/,
    change: (ingress) => {
      ingress.spec.rules[0].hostt = ingress.spec.rules[0].host;
    },
    problem: 'spec.rules[0].hostt: unknown field; did you mean host?',
  },
  {
    family: 'argoproj.io/v1alpha1 Application',
    files: cutover.files,
    file: /^argocd\/application-/,
    change: (app) => {
      app.spec.syncPolicy.syncOptionz = app.spec.syncPolicy.syncOptions;
    },
    problem: 'spec.syncPolicy.syncOptionz: unknown field; did you mean syncOptions?',
  },
  {
    family: 'kustomize.toolkit.fluxcd.io/v1 Kustomization',
    files: cutover.files,
    file: /^flux\/kustomization-.*-100-calico-delete\.yaml$/,
    change: (ks) => {
      ks.spec.dependOn = ks.spec.dependsOn;
    },
    problem: 'spec.dependOn: unknown field; did you mean dependsOn?',
  },
  {
    family: 'source.toolkit.fluxcd.io/v1 GitRepository',
    files: cutover.files,
    file: /^flux\/gitrepository-/,
    change: (repo) => {
      repo.spec.ref.branchh = 'main';
    },
    problem: 'spec.ref.branchh: unknown field; did you mean branch?',
  },
  {
    family: 'cilium.io CiliumNodeConfig',
    files: perNode.files,
    file: /\/ciliumnodeconfig\.yaml$/,
    change: (cnc) => {
      cnc.spec.nodeSelecter = cnc.spec.nodeSelector;
    },
    problem: 'spec.nodeSelecter: unknown field; did you mean nodeSelector?',
  },
];

describe('check rejects unknown fields', () => {
  for (const c of CASES) {
    it(c.family, async () => {
      // GIVEN a synthesized output that passes
      const dir = written(c.files);
      const file = fileOf(c.files, c.file);
      const before = await check(dir);
      expect(before.code, before.stdout.join('\n')).toBe(0);
      // WHEN one object gets the field
      edit(dir, file, c.change);
      const obj = parse(readFileSync(join(dir, file), 'utf8'));
      // THEN check fails naming file, object, path and the near field
      const after = await check(dir);
      expect(after.code).toBe(1);
      const name = [obj.metadata.namespace, obj.metadata.name].filter(Boolean).join('/');
      expect(after.stdout).toContain(`INVALID ${file}: ${obj.kind} ${name}: ${c.problem}`);
    });
  }

  it('accepts what x-kubernetes-preserve-unknown-fields leaves open, and nothing beside it', async () => {
    const app = parse(cutover.files.get(fileOf(cutover.files, /^argocd\//))!);
    const helm = { ...app, spec: { ...app.spec, source: { ...app.spec.source, helm: { valuesObject: { anything: { goes: 1 } } } } } };
    await expect(validateObject(helm)).resolves.toBeUndefined();
    const wrong = { ...app, spec: { ...app.spec, source: { ...app.spec.source, helm: { valuesObjekt: {} } } } };
    await expect(validateObject(wrong)).rejects.toThrow('spec.source.helm.valuesObjekt: unknown field; did you mean valuesObject?');
  });

  it('checks the metadata of custom resources as ObjectMeta', async () => {
    const ks = parse(cutover.files.get(fileOf(cutover.files, /^flux\/kustomization-.*-000-preflight\.yaml$/))!);
    await expect(validateObject({ ...ks, metadata: { ...ks.metadata, label: { a: 'b' } } })).rejects.toThrow(
      'metadata.label: unknown field; did you mean labels?',
    );
  });

  it('names the nearest field only when it is near', () => {
    expect(nearest('imagePullPolicyy', ['image', 'imagePullPolicy'])).toBe('imagePullPolicy');
    expect(nearest('fooBar', ['image', 'imagePullPolicy', 'command'])).toBeUndefined();
    expect(nearest('NodeSelector', ['nodeSelector'])).toBe('nodeSelector');
  });
});

describe('strict check passes what the tool generates', () => {
  it('the committed dist/', async () => {
    const result = await check(join(ROOT, 'dist'));
    expect(result.stdout.at(-1)).toMatch(/^valid: \d+ files in /);
    expect(result.code).toBe(0);
  });

  for (const file of ['hetzner-3-servers.yaml', 'hetzner-3-servers-per-node.yaml']) {
    for (const phase of ['migrate', 'switch', 'steady']) {
      if (file === 'hetzner-3-servers.yaml' && phase === 'switch') {
        continue;
      }
      it(`examples/${file}, phase ${phase}`, async () => {
        const data: Record<string, any> = { ...example(file), phase };
        if (phase === 'switch') {
          data.perNode = { ...data.perNode, acknowledgeSwitchOutage: true };
        }
        const result = await check(written(render(load(data).config).files));
        expect(result.stdout.filter((l) => l.startsWith('INVALID'))).toEqual([]);
        expect(result.code).toBe(0);
      });
    }
  }
});
