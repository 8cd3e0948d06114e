/**
 * What a step is: its definition (directory, wave, timeout), the chart its objects go into, and
 * the four things every step file in charts/ provides (definition, build, plan, abort).
 */
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from './config/resolve.ts';

/** What a step does; one step file in charts/ per kind. */
export type StepKind =
  | 'preflight'
  | 'pause'
  | 'calico-delete'
  | 'node-cleanup'
  | 'cilium'
  | 'kube-proxy-cleanup'
  | 'verify-workloads'
  | 'verify-checks'
  | 'resume'
  | 'complete'
  | 'move-node'
  | 'readdress-pods';

/** One ordered step of the migration. */
export interface StepDefinition {
  readonly kind: StepKind;
  /** Directory under `manifests/`, also the Flux Kustomization suffix: `<NNN>-<name>`. */
  readonly dir: string;
  /** Argo CD sync wave; equals the directory's number. */
  readonly wave: number;
  readonly title: string;
  /** One sentence for PLAN.md and docs/steps.md. */
  readonly summary: string;
  /** How long Flux waits for the step's objects to become ready (Go duration). */
  readonly timeout: string;
  /**
   * Kept after the migration (`phase: steady`); its objects are protected from the engines' prune
   * and cascading delete in every phase (PROTECTED_ANNOTATIONS).
   * @default false
   */
  readonly steady?: boolean;
  /**
   * What the step does to what runs, flagged in PLAN.md's step graph and step list: `destructive`
   * stops, evicts or deletes something a later step or a restart brings back; `irreversible`
   * deletes what no step brings back.
   * @default - neither: the step reads, adds or changes only its own objects
   */
  readonly impact?: 'destructive' | 'irreversible';
  /**
   * The node a `move-node` step moves.
   * @default - none: the step is not about one node
   */
  readonly node?: string;
}

/**
 * What PLAN.md says for a step about failure: the cluster's state after it, how to see that it
 * failed, and what to do (retry, fix and resume, or back out).
 */
export interface AbortGuide {
  /** The cluster's state once the step succeeded. */
  readonly after: string;
  /** How a failure shows. */
  readonly failure: string;
  /** What to do: retry, fix and resume, or back out. */
  readonly action: string;
}

/** What a builder knows besides the config. */
export interface StepContext {
  /** Directories of the steps before this one that have objects. */
  readonly earlierSteps: readonly string[];
}

/**
 * The chart of one ordered step. Its objects are written to `manifests/<step.dir>/` and get the
 * step's labels and sync wave at render time.
 */
export class StepChart extends Chart {
  /** The attempt of the step that holds `scope`: part of each of its Jobs' names. */
  public static attemptOf(scope: Construct): number {
    const chart: Chart = Chart.of(scope);
    if (!(chart instanceof StepChart)) {
      throw new Error(`${scope.node.path}: a Job belongs in a step's chart`);
    }
    return (chart as StepChart).attempt;
  }

  public readonly step: StepDefinition;
  /** 1, plus one per `run.retries` entry for this step or an earlier one (stepAttempt). */
  public readonly attempt: number;

  public constructor(scope: Construct, step: StepDefinition, attempt: number) {
    // The construct id is the directory name: renaming a step renames its output.
    super(scope, step.dir, { disableResourceNameHashes: true });
    this.step = step;
    this.attempt = attempt;
  }
}

/**
 * A step's attempt: 1, plus one for each `run.retries` entry naming this step or an earlier one
 * (in wave order). A retry renames the Jobs of its step and of every later step, never an
 * earlier one's.
 */
export function stepAttempt(step: StepDefinition, retries: readonly StepDefinition[]): number {
  return 1 + retries.filter((r) => r.wave <= step.wave).length;
}

/** A step, complete: one per file in charts/. */
export interface Step {
  /** The step's place in the order (per-node steps: the first node's; charts/steps.ts derives the rest). */
  readonly definition: StepDefinition;
  /** Adds the step's objects to its chart; adding none leaves the step out of the output. */
  readonly build: (chart: StepChart, config: ResolvedConfig, context: StepContext) => void;
  /**
   * Markdown lines PLAN.md shows under the step, besides its object list.
   * @default - no notes beyond the step summary and its objects
   */
  readonly plan?: (config: ResolvedConfig, step: StepDefinition) => string[];
  /** What PLAN.md says when the step fails: required, so no step goes without. */
  readonly abort: (config: ResolvedConfig, step: StepDefinition) => AbortGuide;
}

/** The retry advice most failure texts share. */
export const RETRY = 'fix the cause, add the step to `run.retries`, synth and sync (or delete the failed Job and sync)';
