/**
 * The step registry: which chart builder fills which step directory.
 */
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import type { StepChart } from '../lib/step-chart.ts';
import { buildCalicoDelete } from './calico-delete.ts';
import { buildComplete } from './complete.ts';
import { buildKubeProxyCleanup, buildNodeCleanup } from './node-cleanup.ts';
import { buildPreflight } from './preflight.ts';

/** What a builder knows besides the config. */
export interface StepContext {
  /** Directories of the steps before this one that have objects. */
  readonly earlierSteps: readonly string[];
}

/** Adds a step's objects to its chart; adding none leaves the step out of the output. */
export type StepBuilder = (chart: StepChart, config: ResolvedConfig, context: StepContext) => void;

/** Step directory → builder. A step of lib/steps.ts without a builder is not generated. */
export const STEP_BUILDERS: Readonly<Record<string, StepBuilder>> = {
  '000-preflight': buildPreflight,
  '100-calico-delete': buildCalicoDelete,
  '110-node-cleanup': buildNodeCleanup,
  '210-kube-proxy-cleanup': buildKubeProxyCleanup,
  '900-complete': (chart, config, context) => buildComplete(chart, config, context.earlierSteps),
};
