/**
 * Reads the synthesized step directories that `apply` applies: `manifests/kustomization.yaml`
 * names the steps in order, each step's kustomization.yaml names its files and carries its wait
 * timeout. What is applied is exactly what was reviewed; the config is not read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../duration.ts';
import { InputError } from '../input-error.ts';
import { BUILT_IN_EXAMPLE_ANNOTATION, PHASE_ANNOTATION, STEP_TIMEOUT_ANNOTATION } from '../labels.ts';

/** A Kubernetes object as read from a manifest file. */
export interface ManifestObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** One step directory, its objects in the order they are applied. */
export interface DistStep {
  readonly dir: string;
  readonly timeoutMs: number;
  readonly objects: readonly ManifestObject[];
}

/** Used when a step's kustomization.yaml has no timeout annotation (hand-made directories). */
export const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000;

/**
 * Objects that others in the same step depend on go first, as kubectl does: namespaces, then
 * identities and their rights, then configuration, then the workloads that use them.
 */
const KIND_ORDER = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
];

function kindRank(kind: string): number {
  const rank = KIND_ORDER.indexOf(kind);
  return rank === -1 ? KIND_ORDER.length : rank;
}

interface KustomizationFile {
  readonly metadata?: { readonly annotations?: Record<string, string> };
  readonly resources?: readonly string[];
  readonly [field: string]: unknown;
}

function readKustomization(file: string, fix: string): KustomizationFile {
  if (!existsSync(file)) {
    throw new InputError('--dir', `${file} does not exist; ${fix}`);
  }
  const parsed = parse(readFileSync(file, 'utf8')) as KustomizationFile | null;
  if (!parsed || parsed.kind !== 'Kustomization' || !Array.isArray(parsed.resources)) {
    throw new InputError(
      '--dir',
      `${file} is not a kustomization with a resources list; point --dir at the output of \`cilium-cutover synth\``,
    );
  }
  // Anything kustomize would transform (patches, name prefixes) would make the applied objects differ
  // from the files; the synthesized directories have none.
  const extra = Object.keys(parsed).filter((k) => !['apiVersion', 'kind', 'metadata', 'resources'].includes(k));
  if (extra.length > 0) {
    throw new InputError(
      '--dir',
      `${file} uses ${extra.join(', ')}, which apply does not implement; apply that step with \`kubectl apply -k\``,
    );
  }
  return parsed;
}

/** The output's root kustomization.yaml: the steps in order, and whether it is the built-in example's. */
function readRoot(dir: string): KustomizationFile {
  return readKustomization(join(dir, 'manifests', 'kustomization.yaml'), 'run `cilium-cutover synth` first, or point --dir at its output');
}

/** Reads every step under `<dir>/manifests`, in order. */
export function readDist(dir: string): DistStep[] {
  const root = join(dir, 'manifests');
  const top = readRoot(dir);
  return top.resources!.map((stepDir) => {
    const step = readKustomization(join(root, stepDir, 'kustomization.yaml'), 'the output is incomplete; synthesize it again');
    const annotated = step.metadata?.annotations?.[STEP_TIMEOUT_ANNOTATION];
    const timeoutMs = annotated === undefined ? DEFAULT_STEP_TIMEOUT_MS : parseDuration(annotated);
    if (timeoutMs === undefined) {
      throw new InputError(`${stepDir}/kustomization.yaml`, `${STEP_TIMEOUT_ANNOTATION} "${annotated}" is not a duration like 15m`);
    }
    const objects = step.resources!.map((file, index) => {
      const obj = parse(readFileSync(join(root, stepDir, file), 'utf8')) as ManifestObject | null;
      if (!obj?.apiVersion || !obj.kind || !obj.metadata?.name) {
        throw new InputError(`${stepDir}/${file}`, 'is not a Kubernetes object with apiVersion, kind and metadata.name');
      }
      return { obj, index };
    });
    objects.sort((a, b) => kindRank(a.obj.kind) - kindRank(b.obj.kind) || a.index - b.index);
    return { dir: stepDir, timeoutMs, objects: objects.map((o) => o.obj) };
  });
}

/** What the root kustomization.yaml says about the output. */
export interface OutputMarks {
  /** Synthesized from the built-in example, not from a cluster's config. */
  readonly builtInExample: boolean;
  /** The config's phase; undefined when the output does not say (a hand-made directory). */
  readonly phase: string | undefined;
}

/** The marks of the output in `dir`. */
export function outputMarks(dir: string): OutputMarks {
  const annotations = readRoot(dir).metadata?.annotations ?? {};
  return { builtInExample: annotations[BUILT_IN_EXAMPLE_ANNOTATION] === 'true', phase: annotations[PHASE_ANNOTATION] };
}

/** Selects the steps from `from` to `to` (inclusive), each given as a directory or its number. */
export function selectSteps(steps: readonly DistStep[], from?: string, to?: string): DistStep[] {
  const find = (option: string, value: string): number => {
    const index = steps.findIndex((s) => s.dir === value || s.dir.split('-')[0] === value);
    if (index === -1) {
      throw new InputError(option, `no step "${value}"; the steps are ${steps.map((s) => s.dir).join(', ')}`);
    }
    return index;
  };
  const start = from === undefined ? 0 : find('--from', from);
  const end = to === undefined ? steps.length - 1 : find('--to', to);
  if (start > end) {
    throw new InputError('--from', `${steps[start]!.dir} comes after --to ${steps[end]!.dir}; swap them`);
  }
  return steps.slice(start, end + 1);
}
