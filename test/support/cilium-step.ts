/**
 * The objects of step 200-cilium alone for a config, written as synth writes them (renderChart),
 * without the other steps: the release matrix synthesizes it hundreds of times.
 */
import { App } from 'cdk8s';
import { parse } from 'yaml';
import { ciliumStep } from '../../charts/cilium.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { renderChart } from '../../lib/output/render.ts';
import { StepChart } from '../../lib/step.ts';

export function ciliumStepObjects(config: ResolvedConfig): any[] {
  const chart = new StepChart(new App(), ciliumStep.definition, 1);
  ciliumStep.build(chart, config, { earlierSteps: [] });
  const files = new Map<string, string>();
  renderChart(chart, `manifests/${ciliumStep.definition.dir}`, ciliumStep.definition, files);
  return [...files.values()].map((text) => parse(text));
}
