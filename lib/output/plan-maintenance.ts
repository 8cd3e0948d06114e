/**
 * PLAN.md's maintenance window: what steps 050 and 800 pause and restore, how the pause guards
 * itself, how to end the window early after a failed step, and the commands for Argo CD
 * Applications in another cluster, which no Job here reaches.
 */
import { PAUSE_SETTLE_SECONDS, PAUSE_STOP_TIMEOUT_SECONDS, pausedHere, pausesAnything } from '../config/maintenance.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import { PAUSE_ANNOTATIONS } from '../incluster/maintenance.ts';
import { count } from '../words.ts';
import { applyCommand } from './plan-engine.ts';
import { outDirOf, type OutputOrigin, type RenderedStep } from './rendered.ts';

/** The title of the subsection every failed step inside the window points to. */
export const END_EARLY = 'Ending the window early';

/**
 * The shell lines for the Applications in another cluster. Like the Job, they remember automated
 * sync (its JSON, or `none`) only when nothing is remembered yet, so a second pause keeps the
 * first value; resume restores it and forgets it, so a second resume changes nothing.
 */
function remoteLines(config: ResolvedConfig, mode: 'pause' | 'resume'): string[] {
  const annotation = PAUSE_ANNOTATIONS.argocd;
  const read = `jsonpath='{.metadata.annotations.${annotation.replace(/\./g, '\\.')}}'`;
  return config.maintenance.remoteArgocd.flatMap((a) => {
    const k = `kubectl --context <argocd-cluster> -n ${a.namespace}`;
    const app = `application ${a.name}`;
    return mode === 'pause'
      ? [
          `# ${a.name}: remember automated sync (or none) unless already remembered, then turn it off`,
          `${k} get ${app} -o ${read} | grep -q . || ${k} annotate ${app} ${annotation}="$(${k} get ${app} -o jsonpath='{.spec.syncPolicy.automated}' | grep . || echo none)"`,
          `${k} patch ${app} --type merge -p '{"spec":{"syncPolicy":{"automated":null}}}'`,
        ]
      : [
          `# ${a.name}: restore automated sync as remembered (none: it stays off), then forget it`,
          `a=$(${k} get ${app} -o ${read}); case "$a" in ''|none) ;; *) ${k} patch ${app} --type merge -p "{\\"spec\\":{\\"syncPolicy\\":{\\"automated\\":$a}}}" ;; esac`,
          `${k} annotate ${app} ${annotation}-`,
        ];
  });
}

/** The commands for Applications in another cluster, as a step's note (none when the config lists none). */
export function remoteCommands(config: ResolvedConfig, mode: 'pause' | 'resume'): string[] {
  if (config.maintenance.remoteArgocd.length === 0) {
    return [];
  }
  return [
    '',
    mode === 'pause'
      ? '**Before this step**, in the cluster that runs Argo CD (its Applications for this cluster cannot be reached from a Job here); running them twice keeps what the first run remembered:'
      : '**After this step**, in the cluster that runs Argo CD:',
    '',
    '```sh',
    ...remoteLines(config, mode),
    '```',
  ];
}

/** The section, when the config pauses anything. */
export function maintenanceSection(config: ResolvedConfig, origin: OutputOrigin): string[] {
  const m = config.maintenance;
  if (config.phase === 'steady' || !pausesAnything(m)) {
    return [];
  }
  const out = outDirOf(origin);
  const here = pausedHere(m);
  const lines = ['## The maintenance window', ''];
  if (here > 0) {
    lines.push(
      `Step 050 pauses ${count(here, 'listed object')} and step 800 restores what it remembered. In between they stay paused whatever happens: a failed step leaves the workloads at zero replicas and the engines paused until step 800 runs.`,
      ...(config.strategy === 'per-node' && config.phase === 'migrate'
        ? [
            '',
            "In the migrate phase that is from step 050 through every node's move and the checks to step 800: hours on a large cluster. List only what must not run while the nodes move; the drains move everything else under its PodDisruptionBudgets.",
          ]
        : []),
      '',
      `Before it changes anything, the pause refuses an object that a Flux Kustomization or HelmRelease, or an Argo CD Application, applies without the config listing it (their labels and tracking annotation on the object): that engine would undo the pause. Once paused, it waits until the workloads' pods are gone (up to ${PAUSE_STOP_TIMEOUT_SECONDS / 60} minutes), then reads every object again ${PAUSE_SETTLE_SECONDS} seconds later and fails if anything undid the pause (KEDA, an autoscaler, a parent Application or Kustomization): a failed step 050 stops the run before the network changes. Pausing again keeps what the first pause remembered.`,
      '',
      `### ${END_EARLY}`,
      '',
      'To bring the applications back without the failed step, and without what follows it:',
      '',
      '```sh',
      `${applyCommand(origin)} --kubeconfig <kubeconfig> --from 800-resume --to 800-resume`,
      '```',
      '',
      `Without Node.js: \`kubectl apply --server-side --field-manager=cilium-cutover -k ${out}/manifests/800-resume\`, then \`kubectl -n ${config.run.namespace} wait --for=condition=complete job -l app.kubernetes.io/component=resume --timeout=10m\`. It restores what step 050 remembered, and a second run changes nothing. Argo CD and Flux apply step 800 only after the failed step, so this is the way under them too; when they reach step 800 later, its Job has run. To go on with the migration afterwards, pause again first: \`${applyCommand(origin)} --kubeconfig <kubeconfig> --from 050-pause --to 050-pause --rerun\`, or delete the pause Job (\`kubectl -n ${config.run.namespace} delete job -l app.kubernetes.io/component=pause\`) and let the engine apply it again.`,
      '',
    );
  }
  if (m.remoteArgocd.length > 0) {
    lines.push(
      `${count(m.remoteArgocd.length, 'Argo CD Application')} in another cluster (\`maintenance.remoteArgocd\`) ${m.remoteArgocd.length === 1 ? 'is' : 'are'} paused by hand${here > 0 ? ' beside them' : ''}: before ${here > 0 ? 'step 050' : 'step 000'}, and after ${here > 0 ? 'step 800' : 'the last step'} (or to end the window early) resumed. Each command can run twice.`,
      '',
      '```sh',
      ...remoteLines(config, 'pause'),
      '```',
      '',
      '```sh',
      ...remoteLines(config, 'resume'),
      '```',
      '',
    );
  }
  return lines;
}

/** What a failed step between the output's pause and resume steps adds to its "What to do". */
export function windowHint(steps: readonly RenderedStep[], index: number): string {
  const pause = steps.findIndex((s) => s.step.kind === 'pause');
  const resume = steps.findIndex((s) => s.step.kind === 'resume');
  return pause >= 0 && resume >= 0 && index > pause && index < resume
    ? ` The listed applications stay paused meanwhile: "${END_EARLY}" under "The maintenance window" brings them back without this step.`
    : '';
}
