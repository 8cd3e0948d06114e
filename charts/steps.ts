/**
 * The order of the migration: every step file's Step in order, and the steps a config gets
 * (strategy per-node expands into one step per node and moves some steps to later waves).
 * Adding a step is one file in charts/ plus its place in STEPS.
 */
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import type { Step, StepDefinition, StepKind } from '../lib/step.ts';
import { calicoDeleteStep } from './calico-delete.ts';
import { ciliumStep } from './cilium.ts';
import { completeStep } from './complete.ts';
import { kubeProxyCleanupStep } from './kube-proxy-cleanup.ts';
import { moveNodeDefinition, moveNodeStep, moveNodeTimeout } from './move-node.ts';
import { nodeCleanupStep } from './node-cleanup.ts';
import { pauseStep } from './pause.ts';
import { preflightStep } from './preflight.ts';
import { readdressPodsStep } from './readdress-pods.ts';
import { resumeStep } from './resume.ts';
import { verifyChecksStep, verifyChecksTimeout } from './verify-checks.ts';
import { verifyWorkloadsStep, verifyWorkloadsSummary } from './verify-workloads.ts';

/** strategy cutover's steps in order. A step without objects for a config is left out of the output. */
const CUTOVER: readonly Step[] = [
  preflightStep,
  pauseStep,
  calicoDeleteStep,
  nodeCleanupStep,
  ciliumStep,
  kubeProxyCleanupStep,
  readdressPodsStep,
  verifyWorkloadsStep,
  verifyChecksStep,
  resumeStep,
  completeStep,
];

const BY_KIND: Readonly<Record<StepKind, Step>> = Object.fromEntries(
  [...CUTOVER, moveNodeStep].map((s) => [s.definition.kind, s]),
) as Record<StepKind, Step>;

/** strategy cutover's step definitions in order. */
export const STEPS: readonly StepDefinition[] = CUTOVER.map((s) => s.definition);

/** The step file of a kind: its build, plan and abort. */
export function stepOf(kind: StepKind): Step {
  return BY_KIND[kind];
}

function definition(kind: StepKind): StepDefinition {
  return BY_KIND[kind].definition;
}

/** A step moved to another wave: the directory number follows. */
function atWave(step: StepDefinition, wave: number): StepDefinition {
  const name = step.dir.slice(step.dir.indexOf('-') + 1);
  return { ...step, wave, dir: `${String(wave).padStart(3, '0')}-${name}` };
}

/** What strategy and phase decide about the step list. */
export interface StepPlanInput {
  readonly strategy: 'cutover' | 'per-node';
  readonly phase: 'migrate' | 'switch' | 'steady';
  /** strategy per-node: the nodes in the order they move. */
  readonly nodes: readonly string[];
  /** Go duration a node step may take (Flux timeout and `apply`). */
  readonly nodeTimeout: string;
  /** Go duration the verification checks may take: their wait and window, and room to start. */
  readonly verifyTimeout: string;
  /** The verification generates an Ingress (`verify.skip` does not list it). */
  readonly ingress: boolean;
}

/**
 * The steps of a config, in order. `cutover`: STEPS. `per-node`, phase migrate: Cilium beside
 * Calico (200), one step per node (400 on), the verification as the gate before anything
 * irreversible (500/510: every pod on Cilium, pod to pod across the nodes over Cilium's overlay,
 * the API, DNS and Services from pods), then Calico's removal (600/610). Phase switch: Cilium with
 * its final settings (200), kube-proxy cleanup (210), pods moved off the migration range (250),
 * verification (700/710).
 */
export function stepsFor(input: StepPlanInput): StepDefinition[] {
  return orderedSteps(input).map((s) => {
    if (s.kind === 'verify-checks') {
      return { ...s, timeout: input.verifyTimeout };
    }
    return s.kind === 'verify-workloads' ? { ...s, summary: verifyWorkloadsSummary(input.ingress) } : s;
  });
}

function orderedSteps(input: StepPlanInput): StepDefinition[] {
  if (input.strategy === 'cutover' || input.phase === 'steady') {
    return [...STEPS];
  }
  const cilium: StepDefinition =
    input.phase === 'switch'
      ? {
          ...definition('cilium'),
          summary: 'Moves Cilium from its migration settings to the final ones (a rolling restart of the agents).',
        }
      : {
          ...definition('cilium'),
          summary: 'Installs Cilium beside Calico: VXLAN on its own port, its own pod range, no node switched yet.',
        };
  const start = [definition('preflight'), definition('pause'), cilium];
  const verification = (wave: number) => [atWave(definition('verify-workloads'), wave), atWave(definition('verify-checks'), wave + 10)];
  const end = [definition('resume'), definition('complete')];
  if (input.phase === 'switch') {
    return [...start, definition('kube-proxy-cleanup'), definition('readdress-pods'), ...verification(700), ...end];
  }
  const nodes = input.nodes.map((node, i) => moveNodeDefinition(node, i, input.nodeTimeout));
  return [
    ...start,
    ...nodes,
    ...verification(500),
    atWave(definition('calico-delete'), 600),
    atWave(definition('node-cleanup'), 610),
    ...end,
  ];
}

/** The steps of a config, in order (before leaving out the ones without objects). */
export function configSteps(config: ResolvedConfig): StepDefinition[] {
  return stepsFor({
    strategy: config.strategy,
    phase: config.phase,
    nodes: config.migrationOrder.map((n) => n.name),
    nodeTimeout: moveNodeTimeout(config),
    verifyTimeout: verifyChecksTimeout(config),
    ingress: !config.verify.skip.includes('ingress'),
  });
}
