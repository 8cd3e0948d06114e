/**
 * Schema validation of synthesized objects (the `check` command and the tests), strict: a field the
 * schema does not know is an error, as `kubectl --validate=strict` makes it. Built-in kinds: types
 * and formats from `kubernetes-models` (the OpenAPI of Kubernetes 1.33), known fields from the
 * models of `@kubernetes/client-node` (1.34; see strict.ts). Argo CD, Flux and Cilium objects: their
 * CRDs' openAPIV3Schema (crd-schemas.json). See docs/testing.md "Strict validation".
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { builtinProblems, crdSchema, customResourceProblems, type Models } from './strict.ts';

type Model = new (data: unknown) => { validate(): void };

/** API groups whose objects are custom resources: they are checked by their CRD only. */
const CRD_GROUPS: ReadonlySet<string> = new Set(['argoproj.io', 'source.toolkit.fluxcd.io', 'kustomize.toolkit.fluxcd.io', 'cilium.io']);

let models: Promise<Models> | undefined;

/** The client-node models, loaded once (the package is large; only checks need it). */
function clientModels(): Promise<Models> {
  models ??= import('@kubernetes/client-node') as Promise<Models>;
  return models;
}

function noSchema(apiVersion: string, kind: string): Error {
  return new Error(`no schema for apiVersion ${apiVersion}, kind ${kind}`);
}

/** The `kubernetes-models` class of a built-in kind; throws when there is none. */
async function typedModel(apiVersion: string, kind: string): Promise<Model> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const module = await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`).catch(() => {
    throw noSchema(apiVersion, kind);
  });
  const model = (module as Record<string, Model | undefined>)[kind];
  if (!model) {
    throw noSchema(apiVersion, kind);
  }
  return model;
}

/** Everything wrong with an object, one `<field path>: <problem>` line each (empty when valid). */
export async function objectProblems(obj: { apiVersion: string; kind: string }): Promise<string[]> {
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0]! : '';
  const record = obj as unknown as Record<string, unknown>;
  if (CRD_GROUPS.has(group)) {
    const schema = crdSchema(obj.apiVersion, obj.kind);
    if (schema === undefined) {
      throw noSchema(obj.apiVersion, obj.kind);
    }
    return customResourceProblems(await clientModels(), record, schema);
  }
  const Model = await typedModel(obj.apiVersion, obj.kind);
  try {
    new Model(obj).validate();
  } catch (err) {
    return [(err as Error).message.split('\n')[0]!];
  }
  const problems = builtinProblems(await clientModels(), record);
  if (problems === undefined) {
    throw noSchema(obj.apiVersion, obj.kind);
  }
  return problems;
}

/** Validates an object against its schema; throws with every problem, one a line, when it is invalid. */
export async function validateObject(obj: { apiVersion: string; kind: string }): Promise<void> {
  const problems = await objectProblems(obj);
  if (problems.length > 0) {
    throw new Error(problems.join('\n'));
  }
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
    if (!file.endsWith('.yaml') || !(/^(manifests|argocd|flux)\//.test(file) || file === 'kustomization.yaml')) {
      continue;
    }
    checked++;
    if (file === 'kustomization.yaml' || file.endsWith('/kustomization.yaml')) {
      if (kustomize) {
        const built = spawnSync('kubectl', ['kustomize', join(dir, dirname(file))], { encoding: 'utf8' });
        if (built.error || built.status !== 0) {
          const why = built.error ? `kubectl could not run (${built.error.message})` : built.stderr.trim().split('\n')[0];
          problems.push({ file, message: `kubectl kustomize failed: ${why}` });
        }
      }
      continue;
    }
    const obj = parse(text) as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } } | null;
    if (!obj?.apiVersion || !obj.kind) {
      problems.push({ file, message: 'not a Kubernetes object (no apiVersion or kind)' });
      continue;
    }
    const name = [obj.metadata?.namespace, obj.metadata?.name].filter(Boolean).join('/');
    try {
      for (const problem of await objectProblems(obj as { apiVersion: string; kind: string })) {
        problems.push({ file, message: `${obj.kind} ${name}: ${problem}` });
      }
    } catch (err) {
      problems.push({ file, message: `${obj.kind} ${name}: ${(err as Error).message.split('\n')[0]!}` });
    }
  }
  return { problems, checked };
}
