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
