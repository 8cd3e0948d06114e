/**
 * Renders built charts to the output layout:
 *
 *   manifests/<NNN-step>/<kind>-<name>.yaml + kustomization.yaml   (applied objects only)
 *   manifests/kustomization.yaml                                    (Kustomize root for Argo CD)
 *   argocd/, flux/                                                  (GitOps objects)
 *   host/                                                           (scripts for hosts and workstations)
 *   PLAN.md
 *
 * cdk8s's own App.synth() is not used: it never removes stale files and silently overwrites two
 * objects that map to one file. This module owns the layout and refuses collisions.
 */
import { ApiObject, type Chart } from 'cdk8s';
import type { ResolvedConfig } from '../config/resolve.ts';
import { fileNameOf } from '../constructs/file-name.ts';
import {
  ANNOTATION_SYNC_WAVE,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  LABEL_STEP,
  PROTECTED_ANNOTATIONS,
  BUILT_IN_EXAMPLE_ANNOTATION,
  PHASE_ANNOTATION,
  STEP_TIMEOUT_ANNOTATION,
  TOOL,
} from '../labels.ts';
import type { AbortGuide, StepChart, StepDefinition } from '../step.ts';
import { hostFiles } from './host-files.ts';
import { renderPlan } from './plan.ts';
import type { OutputOrigin, Rendered, RenderedObject, RenderedStep } from './rendered.ts';
import { HEADER, manifestFile, toYaml } from './yaml.ts';

type ObjectJson = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** Adds a label only where the object does not set it already (upstream labels win). */
function addMissing(target: Record<string, string>, values: Record<string, string>): Record<string, string> {
  return { ...values, ...target };
}

function decorate(json: ObjectJson, step: StepDefinition | undefined): ObjectJson {
  const labels = addMissing(json.metadata.labels ?? {}, {
    [LABEL_MANAGED_BY]: TOOL,
    [LABEL_PART_OF]: TOOL,
    ...(step ? { [LABEL_STEP]: step.dir } : {}),
  });
  const annotations = step
    ? { ...json.metadata.annotations, [ANNOTATION_SYNC_WAVE]: String(step.wave), ...(step.steady ? PROTECTED_ANNOTATIONS : {}) }
    : json.metadata.annotations;
  return { ...json, metadata: { ...json.metadata, labels, ...(annotations ? { annotations } : {}) } };
}

/** Writes every object of a chart under `dir`, refusing two objects for one file. */
export function renderChart(chart: Chart, dir: string, step: StepDefinition | undefined, files: Map<string, string>): RenderedObject[] {
  const objects: RenderedObject[] = [];
  const owners = new Map<string, string>();
  for (const obj of chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)) {
    const json = decorate(obj.toJson() as ObjectJson, step);
    const path = `${dir}/${fileNameOf(obj)}.yaml`;
    const owner = owners.get(path);
    if (owner !== undefined || files.has(path)) {
      throw new Error(
        `two objects would be written to ${path}: ${owner ?? 'an earlier chart'} and ${obj.node.path}; give one of them another file name`,
      );
    }
    owners.set(path, obj.node.path);
    files.set(path, manifestFile(json));
    const { name, namespace } = json.metadata;
    objects.push({ path, apiVersion: json.apiVersion, kind: json.kind, name, namespace });
  }
  return objects.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** What the root kustomization.yaml tells `apply`: the phase, and whether the output is the built-in example's. */
interface RootMarks {
  readonly phase: ResolvedConfig['phase'];
  readonly builtInExample: boolean;
}

/**
 * A kustomization.yaml listing `resources`. A step's own carries its name and wait timeout in
 * `metadata` (kustomize reads and ignores it), so `apply` needs only the directory.
 */
function kustomization(resources: readonly string[], step?: StepDefinition, root?: RootMarks): string {
  const metadata = step
    ? { metadata: { name: step.dir, annotations: { [STEP_TIMEOUT_ANNOTATION]: step.timeout } } }
    : root
      ? {
          metadata: {
            annotations: { ...(root.builtInExample ? { [BUILT_IN_EXAMPLE_ANNOTATION]: 'true' } : {}), [PHASE_ANNOTATION]: root.phase },
          },
        }
      : {};
  return HEADER + toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...metadata, resources });
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A step's chart and what PLAN.md says about it. */
export interface StepToRender {
  readonly chart: StepChart;
  readonly notes: readonly string[];
  readonly abort: AbortGuide;
}

/** What the output is rendered from: the built charts, and the config for PLAN.md and host/. */
export interface RenderInput {
  readonly config: ResolvedConfig;
  readonly warnings: readonly string[];
  /** The step charts that have objects, in step order. */
  readonly steps: readonly StepToRender[];
  /** @default - no Argo CD Application */
  readonly argo?: Chart;
  /** @default - no Flux objects */
  readonly flux?: Chart;
  /**
   * How the output is made: the built-in example's is marked on the root kustomization.yaml for
   * `apply`, and PLAN.md's commands name the config and output directory used.
   */
  readonly origin: OutputOrigin;
}

/** Renders built charts to the output file map. Pure: nothing is written. */
export function renderOutput(input: RenderInput): Rendered {
  const { config } = input;
  const files = new Map<string, string>();
  const rendered: RenderedStep[] = [];
  for (const { chart, notes, abort } of input.steps) {
    const dir = `manifests/${chart.step.dir}`;
    const objects = renderChart(chart, dir, chart.step, files);
    files.set(
      `${dir}/kustomization.yaml`,
      kustomization(
        objects.map((o) => baseName(o.path)),
        chart.step,
      ),
    );
    rendered.push({ step: chart.step, objects, notes, abort });
  }
  // The Kustomize root Argo CD builds; Flux applies the step directories one by one instead.
  files.set(
    'manifests/kustomization.yaml',
    kustomization(
      input.steps.map((s) => s.chart.step.dir),
      undefined,
      { phase: config.phase, builtInExample: input.origin.builtInExample },
    ),
  );
  if (input.argo) {
    renderChart(input.argo, 'argocd', undefined, files);
  }
  if (input.flux) {
    const objects = renderChart(input.flux, 'flux', undefined, files);
    files.set('flux/kustomization.yaml', kustomization(objects.map((o) => baseName(o.path))));
  }
  // The entry point for a GitOps tree that reaches this directory: a Flux Kustomization whose path
  // holds no kustomization.yaml generates one that takes a subdirectory with its own as a whole and
  // every other YAML file (fluxcd/pkg kustomize/kustomize_generator.go), so without this file a
  // Flux fleet tree would apply every step at once, Argo CD's Application and the host files.
  const entry = input.flux ? ['flux'] : [...files.keys()].filter((p) => p.startsWith('argocd/'));
  files.set('kustomization.yaml', kustomization(entry));
  for (const [path, content] of hostFiles(config)) {
    files.set(path, content);
  }
  files.set('PLAN.md', renderPlan(config, rendered, input.warnings, input.origin));
  return { files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1))), steps: rendered };
}
