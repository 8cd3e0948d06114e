/**
 * The chart of one ordered step. Its objects are written to `manifests/<step.dir>/` and get the
 * step's labels and sync wave at render time.
 */
import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { StepDefinition } from '../steps.ts';

export class StepChart extends Chart {
  public readonly step: StepDefinition;

  public constructor(scope: Construct, step: StepDefinition) {
    // The construct id is the directory name: renaming a step renames its output.
    super(scope, step.dir, { disableResourceNameHashes: true });
    this.step = step;
  }
}
