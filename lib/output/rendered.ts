/**
 * What a render produces: the output files and, per step, the objects written and what PLAN.md
 * says about the step.
 */
import type { AbortGuide, StepDefinition } from '../step.ts';

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

/** How an output is made, for the commands PLAN.md gives: they name what the user used. */
export interface OutputOrigin {
  /** The output is the built-in example's (`npm run synth` without a config). */
  readonly builtInExample: boolean;
  /**
   * The config file as given to `--config`.
   * @default - none given: ./cilium-cutover.yaml, or the built-in example
   */
  readonly configFile?: string;
  /**
   * The output directory as given to `--out`.
   * @default 'dist'
   */
  readonly out?: string;
}

/** The output directory PLAN.md's commands name. */
export function outDirOf(origin: OutputOrigin): string {
  return origin.out ?? 'dist';
}

/** The command that makes the output again: the one the user ran, with the options they gave. */
export function synthCommandOf(origin: OutputOrigin): string {
  const out = outDirOf(origin);
  if (origin.builtInExample && origin.configFile === undefined) {
    return out === 'dist' ? 'npm run synth' : `npm run synth -- --out ${out}`;
  }
  return ['npx cilium-cutover synth', origin.configFile && `--config ${origin.configFile}`, out !== 'dist' && `--out ${out}`]
    .filter((part) => typeof part === 'string')
    .join(' ');
}
