/**
 * Builds the cdk8s app for a config and renders it to the output layout:
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
import { ApiObject, App, type Chart } from 'cdk8s';
import type { AbortGuide } from '../../charts/abort.ts';
import { STEP_BUILDERS } from '../../charts/index.ts';
import { buildArgoCd, buildFlux } from '../../charts/gitops.ts';
import { moveNodeTimeout } from '../../charts/move-node.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import { StepChart } from '../constructs/step-chart.ts';
import {
  ANNOTATION_SYNC_WAVE,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  LABEL_STEP,
  STEADY_ANNOTATIONS,
  STEP_TIMEOUT_ANNOTATION,
  stepsFor,
  TOOL,
  type StepDefinition,
} from '../steps.ts';
import { fileNameOf } from '../constructs/file-name.ts';
import { hostFiles } from './host-files.ts';
import { renderPlan } from './plan.ts';
import { HEADER, manifestFile, toYaml } from './yaml.ts';

/** One object as written, for PLAN.md and tests. */
export interface RenderedObject {
  readonly path: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
}

/** A step that has objects. */
export interface RenderedStep {
  readonly step: StepDefinition;
  readonly objects: readonly RenderedObject[];
  /** What PLAN.md says about the step besides its objects. */
  readonly notes: readonly string[];
  /** What PLAN.md says about the step failing. */
  readonly abort: AbortGuide;
}

export interface Rendered {
  /** Relative path → file content, sorted by path. */
  readonly files: Map<string, string>;
  readonly steps: readonly RenderedStep[];
}

type ObjectJson = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** The steps of a config, in order (before leaving out the ones without objects). */
export function configSteps(config: ResolvedConfig): StepDefinition[] {
  return stepsFor({
    strategy: config.strategy,
    phase: config.phase,
    nodes: config.migrationOrder.map((n) => n.name),
    nodeTimeout: moveNodeTimeout(config),
  });
}

/** Builds the step charts that have a builder, in step order, and drops the ones left empty. */
export function buildSteps(app: App, config: ResolvedConfig): StepChart[] {
  const charts: StepChart[] = [];
  for (const step of configSteps(config)) {
    const entry = STEP_BUILDERS[step.kind];
    // After the migration only the steps that stay (Cilium) are generated.
    if (config.phase === 'steady' && !step.steady) {
      continue;
    }
    const chart = new StepChart(app, step);
    entry.build(chart, config, { earlierSteps: charts.map((c) => c.step.dir) });
    // Chart.apiObjects lists direct children only; objects sit deeper, inside constructs.
    if (chart.node.findAll().some((c) => c instanceof ApiObject)) {
      charts.push(chart);
    }
  }
  return charts;
}

function validate(app: App): void {
  const errors = app.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
  if (errors.length > 0) {
    throw new Error(`validation failed:\n${errors.join('\n')}`);
  }
}

/** Adds a label only where the object does not set it already (upstream labels win). */
function addMissing(target: Record<string, string>, values: Record<string, string>): Record<string, string> {
  return { ...values, ...target };
}

function decorate(json: ObjectJson, step: StepDefinition | undefined, steady: boolean): ObjectJson {
  const labels = addMissing(json.metadata.labels ?? {}, {
    [LABEL_MANAGED_BY]: TOOL,
    [LABEL_PART_OF]: TOOL,
    ...(step ? { [LABEL_STEP]: step.dir } : {}),
  });
  const annotations = step
    ? { ...json.metadata.annotations, [ANNOTATION_SYNC_WAVE]: String(step.wave), ...(steady ? STEADY_ANNOTATIONS : {}) }
    : json.metadata.annotations;
  return { ...json, metadata: { ...json.metadata, labels, ...(annotations ? { annotations } : {}) } };
}

/** Writes every object of a chart under `dir`, refusing two objects for one file. */
export function renderChart(
  chart: Chart,
  dir: string,
  step: StepDefinition | undefined,
  files: Map<string, string>,
  steady = false,
): RenderedObject[] {
  const objects: RenderedObject[] = [];
  const owners = new Map<string, string>();
  for (const obj of chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)) {
    const json = decorate(obj.toJson() as ObjectJson, step, steady);
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

/**
 * A kustomization.yaml listing `resources`. A step's own carries its name and wait timeout in
 * `metadata` (kustomize reads and ignores it), so `apply` needs only the directory.
 */
function kustomization(resources: readonly string[], step?: StepDefinition): string {
  const metadata = step ? { metadata: { name: step.dir, annotations: { [STEP_TIMEOUT_ANNOTATION]: step.timeout } } } : {};
  return HEADER + toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...metadata, resources });
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Renders a config to the output file map. Pure: nothing is written. */
export function render(config: ResolvedConfig, warnings: readonly string[] = []): Rendered {
  const app = new App();
  const stepCharts = buildSteps(app, config);
  const steps = stepCharts.map((c) => c.step);
  const engine = config.gitops.engine;
  const argo = engine === 'flux' ? undefined : buildArgoCd(app, config);
  const flux = engine === 'argocd' ? undefined : buildFlux(app, config, steps);
  validate(app);

  const files = new Map<string, string>();
  const rendered: RenderedStep[] = [];
  for (const chart of stepCharts) {
    const dir = `manifests/${chart.step.dir}`;
    const objects = renderChart(chart, dir, chart.step, files, config.phase === 'steady');
    files.set(
      `${dir}/kustomization.yaml`,
      kustomization(
        objects.map((o) => baseName(o.path)),
        chart.step,
      ),
    );
    const entry = STEP_BUILDERS[chart.step.kind];
    rendered.push({ step: chart.step, objects, notes: entry.plan?.(config, chart.step) ?? [], abort: entry.abort(config, chart.step) });
  }
  // The Kustomize root Argo CD builds; Flux applies the step directories one by one instead.
  files.set('manifests/kustomization.yaml', kustomization(steps.map((s) => s.dir)));
  if (argo) {
    renderChart(argo, 'argocd', undefined, files);
  }
  if (flux) {
    const objects = renderChart(flux, 'flux', undefined, files);
    files.set('flux/kustomization.yaml', kustomization(objects.map((o) => baseName(o.path))));
  }
  for (const [path, content] of hostFiles(config)) {
    files.set(path, content);
  }
  files.set('PLAN.md', renderPlan(config, rendered, warnings));
  return { files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1))), steps: rendered };
}
