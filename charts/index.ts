/**
 * The step registry: which chart builder fills which step directory.
 */
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import type { StepChart } from '../lib/constructs/step-chart.ts';
import type { StepDefinition, StepKind } from '../lib/steps.ts';
import {
  calicoDeleteAbort,
  ciliumAbort,
  completeAbort,
  kubeProxyCleanupAbort,
  nodeCleanupAbort,
  pauseAbort,
  preflightAbort,
  resumeAbort,
  verifyChecksAbort,
  verifyWorkloadsAbort,
  type AbortGuide,
} from './abort.ts';
import { buildCalicoDelete, calicoDeletePlan } from './calico-delete.ts';
import { buildCilium, ciliumPlan } from './cilium.ts';
import { buildComplete } from './complete.ts';
import { buildPause, buildResume, pausePlan, resumePlan } from './maintenance.ts';
import { buildKubeProxyCleanup, buildNodeCleanup, kubeProxyCleanupPlan, nodeCleanupPlan } from './node-cleanup.ts';
import { buildMoveNode, buildReaddressPods, moveNodeAbort, moveNodePlan, readdressPodsAbort, readdressPodsPlan } from './move-node.ts';
import { buildPreflight } from './preflight.ts';
import { buildVerifyChecks, buildVerifyWorkloads, verifyChecksPlan } from './verify.ts';

/** What a builder knows besides the config. */
export interface StepContext {
  /** Directories of the steps before this one that have objects. */
  readonly earlierSteps: readonly string[];
}

/** Adds a step's objects to its chart; adding none leaves the step out of the output. */
export type StepBuilder = (chart: StepChart, config: ResolvedConfig, context: StepContext) => void;

/** Markdown lines PLAN.md shows under a step, besides its object list. */
export type StepPlan = (config: ResolvedConfig, step: StepDefinition) => string[];

/** How one step is generated and explained. */
export interface StepEntry {
  readonly build: StepBuilder;
  /** @default - no notes beyond the step summary and its objects */
  readonly plan?: StepPlan;
  /** What PLAN.md says when the step fails: required, so no step goes without. */
  readonly abort: (config: ResolvedConfig, step: StepDefinition) => AbortGuide;
}

/** Step kind → entry. */
export const STEP_BUILDERS: Readonly<Record<StepKind, StepEntry>> = {
  preflight: { build: buildPreflight, abort: preflightAbort },
  pause: { build: buildPause, plan: pausePlan, abort: pauseAbort },
  'calico-delete': { build: buildCalicoDelete, plan: calicoDeletePlan, abort: calicoDeleteAbort },
  'node-cleanup': { build: buildNodeCleanup, plan: nodeCleanupPlan, abort: nodeCleanupAbort },
  cilium: { build: buildCilium, plan: ciliumPlan, abort: ciliumAbort },
  'kube-proxy-cleanup': { build: buildKubeProxyCleanup, plan: kubeProxyCleanupPlan, abort: kubeProxyCleanupAbort },
  'verify-workloads': { build: buildVerifyWorkloads, abort: verifyWorkloadsAbort },
  'verify-checks': { build: buildVerifyChecks, plan: verifyChecksPlan, abort: verifyChecksAbort },
  resume: { build: buildResume, plan: resumePlan, abort: resumeAbort },
  complete: { build: (chart, config, context) => buildComplete(chart, config, context.earlierSteps), abort: completeAbort },
  'move-node': { build: buildMoveNode, plan: moveNodePlan, abort: moveNodeAbort },
  'readdress-pods': { build: buildReaddressPods, plan: readdressPodsPlan, abort: readdressPodsAbort },
};
