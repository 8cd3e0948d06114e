/**
 * Builds the cdk8s app for a config (the step charts in order, then the GitOps charts) and renders
 * it to the output files: config in, file map out.
 */
import { ApiObject, App, type Chart } from 'cdk8s';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { renderOutput } from '../lib/output/render.ts';
import type { OutputOrigin, Rendered } from '../lib/output/rendered.ts';
import { InputError } from '../lib/input-error.ts';
import { stepAttempt, StepChart } from '../lib/step.ts';
import { buildArgoCd, buildFlux } from './gitops.ts';
import { configSteps, stepOf } from './steps.ts';

/** The app of one config: its step charts (those with objects) and GitOps charts. */
export interface BuiltApp {
  readonly app: App;
  readonly steps: readonly StepChart[];
  /** @default - none: gitops.engine is flux */
  readonly argo?: Chart;
  /** @default - none: gitops.engine is argocd */
  readonly flux?: Chart;
}

/** Builds the step charts that have a builder, in step order, and drops the ones left empty. */
export function buildSteps(app: App, config: ResolvedConfig): StepChart[] {
  const charts: StepChart[] = [];
  const steps = configSteps(config);
  const retries = config.run.retries.map((dir, i) => {
    const step = steps.find((s) => s.dir === dir);
    if (!step) {
      throw new InputError(`run.retries[${i}]`, `"${dir}" is not a step of this config; use one of ${steps.map((s) => s.dir).join(', ')}`);
    }
    return step;
  });
  for (const step of steps) {
    // After the migration only the steps that stay (Cilium) are generated.
    if (config.phase === 'steady' && !step.steady) {
      continue;
    }
    const chart = new StepChart(app, step, stepAttempt(step, retries));
    // After the migration the status record keeps the steps the migration went through.
    const earlierSteps = config.phase === 'steady' && step.kind === 'complete' ? migrationSteps(config) : charts.map((c) => c.step.dir);
    stepOf(step.kind).build(chart, config, { earlierSteps });
    // Chart.apiObjects lists direct children only; objects sit deeper, inside constructs.
    if (chart.node.findAll().some((c) => c instanceof ApiObject)) {
      charts.push(chart);
    }
  }
  return charts;
}

/** The steps of the migration's last phase that had objects, but its last one (900-complete). */
function migrationSteps(config: ResolvedConfig): string[] {
  const last: ResolvedConfig = { ...config, phase: config.strategy === 'per-node' ? 'switch' : 'migrate' };
  return buildSteps(new App(), last)
    .filter((c) => c.step.kind !== 'complete')
    .map((c) => c.step.dir);
}

function validate(app: App): void {
  const errors = app.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
  if (errors.length > 0) {
    throw new Error(`validation failed:\n${errors.join('\n')}`);
  }
}

/** Builds and validates the app of a config. */
export function buildApp(config: ResolvedConfig): BuiltApp {
  const app = new App();
  const steps = buildSteps(app, config);
  const engine = config.gitops.engine;
  const argo = engine === 'flux' ? undefined : buildArgoCd(app, config);
  const flux =
    engine === 'argocd'
      ? undefined
      : buildFlux(
          app,
          config,
          steps.map((c) => c.step),
        );
  validate(app);
  return { app, steps, argo, flux };
}

/** Renders a config to the output file map. Pure: nothing is written. */
export function render(config: ResolvedConfig, warnings: readonly string[] = [], origin: Partial<OutputOrigin> = {}): Rendered {
  const { steps, argo, flux } = buildApp(config);
  return renderOutput({
    config,
    warnings,
    origin: { ...origin, builtInExample: origin.builtInExample ?? false },
    steps: steps.map((chart) => {
      const step = stepOf(chart.step.kind);
      return { chart, notes: step.plan?.(config, chart.step) ?? [], abort: step.abort(config, chart.step) };
    }),
    argo,
    flux,
  });
}
