/**
 * The objects of step 200-cilium alone for a config, as the chart's ApiObjects give them to the
 * writer, without the other steps and without the YAML round trip: the release matrix builds the
 * step hundreds of times. test/charts/cilium-releases.test.ts checks that they equal, in comparable
 * form, what the whole synth writes.
 */
import { ApiObject, App } from 'cdk8s';
import { ciliumStep } from '../../charts/cilium.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { StepChart } from '../../lib/step.ts';

export function ciliumStepObjects(config: ResolvedConfig): any[] {
  const chart = new StepChart(new App(), ciliumStep.definition, 1);
  ciliumStep.build(chart, config, { earlierSteps: [] });
  return chart.node
    .findAll()
    .filter((c): c is ApiObject => c instanceof ApiObject)
    .map((o) => JSON.parse(JSON.stringify(o.toJson())));
}
