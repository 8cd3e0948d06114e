/**
 * PLAN.md's sections about what applies the steps: the engine the config generates objects for
 * (`gitops.engine`), or `apply` from a workstation. Each section names only that engine, never the
 * other one, and the output directory and config the output was made with. Sections of plan.ts,
 * kept apart for their length.
 */
import { isInClusterServer } from '../config/per-node-rules.ts';
import type { ResolvedConfig } from '../config/resolve.ts';
import { gitopsName, LABEL_STEP } from '../labels.ts';
import { outDirOf, type OutputOrigin, type RenderedStep } from './rendered.ts';

type Engine = ResolvedConfig['gitops']['engine'];

/** The engine as a sentence names it where either one may be meant: "Argo CD or Flux" for both. */
export function engineName(engine: Engine): string {
  return engine === 'argocd' ? 'Argo CD' : engine === 'flux' ? 'Flux' : 'Argo CD or Flux';
}

/** The texts for the engines the config generates objects for: Argo CD's first, then Flux's. */
export function byEngine<T>(engine: Engine, texts: { readonly argocd: T; readonly flux: T }): T[] {
  return [...(engine === 'flux' ? [] : [texts.argocd]), ...(engine === 'argocd' ? [] : [texts.flux])];
}

/** The Argo CD that applies the steps is this cluster's own: its destination is the in-cluster address. */
export function argoInCluster(config: ResolvedConfig): boolean {
  return config.gitops.engine !== 'flux' && isInClusterServer(config.gitops.argocd.destinationServer);
}

/** `apply` for this output: its directory, and the built-in example's flag where it is that. */
export function applyCommand(origin: OutputOrigin): string {
  return `npx cilium-cutover apply --dir ${outDirOf(origin)}${origin.builtInExample ? ' --built-in-example' : ''}`;
}

/** What a step is to the engine: the start of the "Steps" section. */
export function stepsIntro(config: ResolvedConfig): string[] {
  const each = {
    argocd: 'one Argo CD sync wave',
    flux: 'one Flux Kustomization that depends on the previous one',
  };
  return [
    `Each step is one directory under \`manifests/\` and ${byEngine(config.gitops.engine, each).join(' and ')}. A step starts only`,
    'when everything in the previous step is ready (Jobs complete, DaemonSets rolled out).',
  ];
}

/** The step's place for the engine, in its heading: its sync wave, or its Kustomization. */
export function stepPlace(config: ResolvedConfig, step: RenderedStep['step']): string {
  const { gitops } = config;
  return gitops.engine === 'flux'
    ? `Kustomization \`${gitops.flux.namespace}/${gitopsName(config.cluster.name)}-${step.dir}\``
    : `sync wave ${step.wave}`;
}

/** "Applying": the engine's objects, or `apply` and kubectl from a workstation. */
export function applying(config: ResolvedConfig, steps: readonly RenderedStep[], origin: OutputOrigin): string[] {
  const { gitops } = config;
  const out = outDirOf(origin);
  const entries = byEngine(gitops.engine, {
    argocd: `- **Argo CD** (running outside this cluster, or with host networking): in the cluster Argo CD runs in, \`kubectl apply -f ${out}/argocd/\`, then sync the Application \`${gitops.argocd.namespace}/${gitopsName(config.cluster.name)}\`; it applies the waves in order.`,
    flux: `- **Flux** (with host networking while the pod network is down): \`kubectl apply -k ${out}/flux\`, or point a Kustomization of your fleet repository at \`${gitops.path}\` (its \`kustomization.yaml\` takes only \`flux/\`). Each step's Kustomization waits for the one before it.`,
  });
  return [
    '## Applying',
    '',
    ...(out === gitops.path
      ? []
      : [
          `This output was written to \`${out}/\`; the engine reads it from \`${gitops.repoURL}\` at \`${gitops.path}/\` (\`gitops.path\`), branch \`${gitops.revision}\`: commit it there.`,
          '',
        ]),
    ...(gitops.engine === 'both'
      ? [
          '**Apply only one of `argocd/` and `flux/`** (`gitops.engine: both` generates both): with both, two engines apply the same objects, and neither waits for the steps of the other.',
          '',
        ]
      : []),
    ...entries,
    '- **From a workstation** when no GitOps controller can run:',
    '',
    ...workstation(steps, out, applyCommand(origin)),
    '',
  ];
}

function workstation(steps: readonly RenderedStep[], out: string, apply: string): string[] {
  const first = (steps[0]?.step.dir ?? '').split('-')[0];
  const lines = [
    '```sh',
    '# every step in order, each awaited (Jobs complete, DaemonSets and Deployments ready); resumes after a failure',
    `${apply} --kubeconfig <kubeconfig pointing at a server node>`,
    `# or one step at a time: --from ${first} --to ${first}; first a check: --dry-run=server`,
    '```',
    '',
    'Without Node.js, the same with kubectl (no resume: delete a failed Job before applying its step again):',
    '',
    '```sh',
  ];
  for (const { step, objects } of steps) {
    lines.push(`kubectl apply --server-side --field-manager=cilium-cutover -k ${out}/manifests/${step.dir}`);
    if (objects.some((o) => o.kind === 'Job')) {
      lines.push(`kubectl wait --for=condition=complete job -A -l ${LABEL_STEP}=${step.dir} --timeout=${step.timeout}`);
    }
    for (const o of objects.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment')) {
      lines.push(`kubectl rollout status ${o.kind.toLowerCase()}/${o.name} -n ${o.namespace} --timeout=${step.timeout}`);
    }
  }
  lines.push('```');
  return lines;
}

/** After a run of `apply`, how the engine takes this repository over without running anything twice. */
export function handOver(config: ResolvedConfig): string[] {
  if (config.phase === 'steady') {
    return [];
  }
  const { engine, argocd } = config.gitops;
  const name = engineName(engine);
  return [
    `## Handing over to ${name} after \`apply\``,
    '',
    `When \`apply\` ran the steps from a workstation and ${name} takes this repository over afterwards:`,
    '',
    `1. **Wait until \`310-verify-checks\` has passed and \`900-complete\` is applied.** ${engine === 'both' ? 'An engine' : name} syncing while \`apply\``,
    '   still runs starts the same steps beside it.',
    '2. **Sync the commit `apply` used, and no other.** Each Job is named after what it runs: the Jobs of the same',
    '   commit are found completed and are not run again; another commit (another config, another `run.retries`)',
    '   has Jobs of other names, and they run again on the migrated cluster.',
    ...byEngine(engine, {
      argocd: argocd.automated
        ? '3. **Argo CD syncs on its own** (`gitops.argocd.automated`): push the commit `apply` used, and nothing newer, first.'
        : '3. **Sync the Argo CD Application by hand**: it has no automated sync (`gitops.argocd.automated` is off).',
      flux: `${engine === 'both' ? '   Or' : '3.'} **Flux reconciles on its own**: push the commit \`apply\` used, and nothing newer, first.`,
    }),
    '4. **Prune only at graduation** (`phase: steady`, below). A prune before it deletes completed Jobs whose names',
    '   changed, and with them the proof that the preflight passed on this cluster, which `apply` and a walk from the',
    '   first step rely on.',
    '',
    ...byEngine(engine, {
      argocd: 'The Application applies client-side, so `apply --release` is not needed for Argo CD.',
      flux: 'Flux applies server-side: once it has synced, `apply --release` gives it the fields `apply` owned.',
    }),
    '',
  ];
}

/** What the engine may delete, in every phase. */
export function engineDeletes(config: ResolvedConfig): string[] {
  const { engine } = config.gitops;
  const keeps = byEngine(engine, {
    argocd:
      '`argocd.argoproj.io/sync-options: Prune=false,Delete=false`: Argo CD neither prunes them nor deletes them when the Application is deleted',
    flux: '`kustomize.toolkit.fluxcd.io/prune: disabled`: Flux neither prunes them nor garbage-collects them when their Kustomization is deleted',
  });
  const prunes = byEngine(engine, {
    argocd: 'Argo CD prunes what leaves Git when a sync prunes, and deletes it with the Application',
    flux: 'Flux prunes what leaves a Kustomization, and deletes the objects of a Kustomization that is deleted',
  });
  return [
    `## What ${engineName(engine)} may delete`,
    '',
    `- **Cilium, the status record and the node check: never.** In every phase their objects carry ${keeps.join('; and ')}.`,
    '  Only a deliberate `kubectl delete` removes them. So a Cilium object that a later config no longer has (a Role an',
    '  older release lacks) stays too: `cilium-cutover diff` lists each with the command that deletes it, and so does the',
    '  node check Job of an earlier node list (`kubectl -n kube-system delete job <name>` once it passed).',
    '- **Everything else of the migration** (its Jobs, their accounts and rights, ConfigMaps, the test workloads, and the',
    `  namespaces it created): ${prunes.join('; ')}.`,
    '',
  ];
}

/** "Retrying a failed step": `run.retries`, or the Job deleted by hand and what the engine then does. */
export function retrying(config: ResolvedConfig): string[] {
  const { retries } = config.run;
  return [
    '## Retrying a failed step',
    '',
    "A failed Job keeps its name and stays Failed. Fix the cause, then add the failed step's directory to",
    `\`run.retries\` (${retries.length > 0 ? `now ${retries.map((r) => `\`${r}\``).join(', ')}; keep those` : 'empty now'}) and synth again: the Jobs of that step and`,
    'of every later step get new names and run again; the Jobs of earlier steps keep theirs, so a walk of the steps',
    'from the start does not run the preflight again. Or delete the failed Job by hand:',
    ...byEngine(config.gitops.engine, {
      argocd:
        "Argo CD's automated sync does not retry a sync that failed for the same commit, so sync the Application by hand after deleting it (a commit that changes `run.retries` starts a new sync).",
      flux: 'Flux re-creates it at its next reconciliation.',
    }),
    '',
  ];
}
