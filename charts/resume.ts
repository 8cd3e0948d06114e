/**
 * Step 800-resume, the end of the maintenance window: restores what 050-pause remembered.
 */
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { remoteCommands } from '../lib/output/plan-maintenance.ts';
import { buildMaintenanceJob } from './pause.ts';

export function buildResume(chart: StepChart, config: ResolvedConfig): void {
  buildMaintenanceJob(chart, config, 'resume');
}

export function resumePlan(config: ResolvedConfig): string[] {
  return [
    'The Job restores what 050-pause remembered, workloads first, and removes the annotations; an object without the annotation is left as it is.',
    ...remoteCommands(config, 'resume'),
  ];
}

export function resumeAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: 'every paused workload runs its remembered replicas again and the GitOps engines reconcile again.',
    failure: `the Job is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=resume\` names the objects it could not restore.`,
    action: `${RETRY}; objects already resumed are left as they are. By hand: set the replicas (or \`spec.suspend\`, or \`spec.syncPolicy.automated\`) from the object's \`cilium-cutover.io/paused-*\` annotation and remove the annotation.`,
  };
}

export const resumeStep: Step = {
  definition: {
    kind: 'resume',
    dir: '800-resume',
    wave: 800,
    title: 'Resume applications',
    summary: 'Resumes the applications paused in 050-pause.',
    timeout: '10m',
  },
  build: buildResume,
  plan: resumePlan,
  abort: resumeAbort,
};
