/**
 * Schema validation of synthesized objects (the `check` command and the tests). Looks up the
 * OpenAPI model of an object: Kubernetes objects from `kubernetes-models` (the
 * OpenAPI of Kubernetes 1.33; see docs/testing.md "Testing"), Argo CD and Flux objects from their CRD
 * schemas in `@kubernetes-models/argo-cd` and `@kubernetes-models/flux-cd`, CiliumNodeConfig by
 * its CRD's structure (cilium-schema.ts).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { CiliumNodeConfigModel } from './cilium-schema.ts';

type Model = new (data: unknown) => { validate(): void };

const CRD_PACKAGES: Readonly<Record<string, string>> = {
  'argoproj.io': '@kubernetes-models/argo-cd',
  'source.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
  'kustomize.toolkit.fluxcd.io': '@kubernetes-models/flux-cd',
};

/** The model class for an apiVersion and kind; throws when there is none. */
export async function modelFor(apiVersion: string, kind: string): Promise<Model> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'cilium.io') {
    if (kind !== 'CiliumNodeConfig') {
      throw new Error(`no schema for ${apiVersion} ${kind}`);
    }
    return CiliumNodeConfigModel;
  }
  const crdPackage = CRD_PACKAGES[group!];
  const module = crdPackage
    ? await import(`${crdPackage}/${group}/${version}`)
    : await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  const model = (module as Record<string, Model | undefined>)[kind];
  if (!model) {
    throw new Error(`no schema for ${apiVersion} ${kind}`);
  }
  return model;
}

/** Validates an object against its schema; throws with the schema's message when it is invalid. */
export async function validateObject(obj: { apiVersion: string; kind: string }): Promise<void> {
  const Model = await modelFor(obj.apiVersion, obj.kind);
  new Model(obj).validate();
}

/** One problem found in an output directory. */
export interface CheckProblem {
  readonly file: string;
  readonly message: string;
}

/**
 * Checks a synthesized output directory: every object file against its schema, and every
 * kustomization with `kubectl kustomize` (`kustomize: false` skips that). Returns the problems
 * (empty when the output is valid) and how many files were checked.
 */
export async function checkOutput(
  files: ReadonlyMap<string, string>,
  dir: string,
  kustomize: boolean,
): Promise<{ problems: CheckProblem[]; checked: number }> {
  const problems: CheckProblem[] = [];
  let checked = 0;
  for (const [file, text] of files) {
    if (!file.endsWith('.yaml') || !/^(manifests|argocd|flux)\//.test(file)) {
      continue;
    }
    checked++;
    if (file.endsWith('/kustomization.yaml')) {
      if (kustomize) {
        const built = spawnSync('kubectl', ['kustomize', join(dir, dirname(file))], { encoding: 'utf8' });
        if (built.error || built.status !== 0) {
          const why = built.error ? `kubectl could not run (${built.error.message})` : built.stderr.trim().split('\n')[0];
          problems.push({ file, message: `kubectl kustomize failed: ${why}` });
        }
      }
      continue;
    }
    const obj = parse(text) as { apiVersion?: string; kind?: string } | null;
    if (!obj?.apiVersion || !obj.kind) {
      problems.push({ file, message: 'not a Kubernetes object (no apiVersion or kind)' });
      continue;
    }
    try {
      await validateObject(obj as { apiVersion: string; kind: string });
    } catch (err) {
      problems.push({ file, message: (err as Error).message.split('\n')[0]! });
    }
  }
  return { problems, checked };
}
