/**
 * Step 050-pause, the start of the maintenance window, and what it shares with 800-resume: one Job
 * each, with RBAC limited to the listed objects (get and patch, by name). Both steps exist only
 * when the config lists something.
 */
import { Duration } from 'cdk8s';
import { PAUSE_SETTLE_SECONDS, PAUSE_STOP_TIMEOUT_SECONDS, pausedHere } from '../lib/config/maintenance.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { objectPath } from '../lib/incluster/shared/api-client.ts';
import { remoteCommands } from '../lib/output/plan-maintenance.ts';
import { type ListedEngines, type MaintenanceSpec, type MaintenanceTarget, type TargetType } from '../lib/incluster/maintenance.ts';
import { ScopedServiceAccount, type AccessRule } from '../lib/constructs/scoped-service-account.ts';
import { ScriptJob } from '../lib/constructs/script-job.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { TOOL } from '../lib/labels.ts';

/** API coordinates of each kind the maintenance window handles. */
const KINDS: Readonly<Record<string, { type: TargetType; group: string; version: string; resource: string }>> = {
  Deployment: { type: 'workload', group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { type: 'workload', group: 'apps', version: 'v1', resource: 'statefulsets' },
  Kustomization: { type: 'flux', group: 'kustomize.toolkit.fluxcd.io', version: 'v1', resource: 'kustomizations' },
  HelmRelease: { type: 'flux', group: 'helm.toolkit.fluxcd.io', version: 'v2', resource: 'helmreleases' },
  Application: { type: 'argocd', group: 'argoproj.io', version: 'v1alpha1', resource: 'applications' },
};

/** True when the config lists anything to pause in this cluster. */
export function maintenanceEnabled(config: ResolvedConfig): boolean {
  const m = config.maintenance;
  return pausedHere(m) > 0;
}

/** The targets in pause order: the engines first (so they do not scale back up), then the workloads. */
export function maintenanceTargets(config: ResolvedConfig): MaintenanceTarget[] {
  const m = config.maintenance;
  const listed = [...m.argocd.map((a) => ({ kind: 'Application', namespace: a.namespace, name: a.name })), ...m.flux, ...m.workloads];
  return listed.map((o) => {
    const k = KINDS[o.kind]!;
    return {
      type: k.type,
      kind: o.kind,
      namespace: o.namespace,
      name: o.name,
      path: objectPath(k.group, k.version, k.resource, o.namespace, o.name),
    };
  });
}

/** The engines the config lists, here and in another cluster, as the pause's owner check names them. */
function listedEngines(config: ResolvedConfig): ListedEngines {
  const m = config.maintenance;
  return {
    flux: m.flux.map((f) => `${f.kind} ${f.namespace}/${f.name}`),
    argocd: [...m.argocd, ...m.remoteArgocd].map((a) => `${a.namespace}/${a.name}`),
  };
}

/**
 * Exactly what the Job uses: get and patch on each listed object, by name; to pause, also list
 * pods in the workloads' namespaces (to wait until they are gone: pods cannot be named up front).
 */
export function maintenanceRules(config: ResolvedConfig, mode: MaintenanceSpec['mode'] = 'resume'): AccessRule[] {
  const byResource = new Map<string, { apiGroup: string; resource: string; namespace: string; names: string[] }>();
  for (const t of maintenanceTargets(config)) {
    const k = KINDS[t.kind]!;
    const key = `${k.group}/${k.resource}/${t.namespace}`;
    const entry = byResource.get(key) ?? { apiGroup: k.group, resource: k.resource, namespace: t.namespace, names: [] };
    entry.names.push(t.name);
    byResource.set(key, entry);
  }
  const pods: AccessRule[] =
    mode === 'pause'
      ? [...new Set(config.maintenance.workloads.map((w) => w.namespace))].map((namespace) => ({
          apiGroup: '',
          resource: 'pods',
          verbs: ['list'],
          namespace,
        }))
      : [];
  const objects: AccessRule[] = [...byResource.values()].map((e) => ({ ...e, verbs: ['get', 'patch'] }));
  return [...objects, ...pods];
}

/** The pause or resume Job, when the config lists anything. */
export function buildMaintenanceJob(chart: StepChart, config: ResolvedConfig, mode: MaintenanceSpec['mode']): void {
  if (!maintenanceEnabled(config)) {
    return;
  }
  const namespace = config.run.namespace;
  const targets = maintenanceTargets(config);
  const spec: MaintenanceSpec =
    mode === 'pause'
      ? {
          mode,
          targets,
          engines: listedEngines(config),
          stopTimeoutSeconds: PAUSE_STOP_TIMEOUT_SECONDS,
          settleSeconds: PAUSE_SETTLE_SECONDS,
        }
      : { mode, targets: [...targets].reverse() };
  const account = new ScopedServiceAccount(chart, 'Access', { name: `${TOOL}-${mode}`, namespace, rules: maintenanceRules(config, mode) });
  new ScriptJob(chart, 'Maintenance', config, {
    name: mode,
    script: 'maintenance',
    entry: 'maintenance-main',
    spec,
    account,
    activeDeadline: mode === 'pause' ? Duration.seconds(PAUSE_STOP_TIMEOUT_SECONDS + PAUSE_SETTLE_SECONDS + 180) : Duration.minutes(5),
  });
}

export function buildPause(chart: StepChart, config: ResolvedConfig): void {
  buildMaintenanceJob(chart, config, 'pause');
}

function listing(config: ResolvedConfig): string[] {
  return maintenanceTargets(config).map((t) => `- ${t.kind} \`${t.namespace}/${t.name}\``);
}

/** The controllers paused before the workloads, so they do not scale them back up. */
function pausedControllers(config: ResolvedConfig): string {
  const m = config.maintenance;
  const controllers = [...(m.argocd.length > 0 ? ['Argo CD'] : []), ...(m.flux.length > 0 ? ['Flux'] : [])];
  return controllers.length > 0 && m.workloads.length > 0
    ? ` (${controllers.join(' and ')} first, so ${controllers.length > 1 ? 'they do' : 'it does'} not scale the workloads back up)`
    : '';
}

export function pausePlan(config: ResolvedConfig): string[] {
  return [
    `The Job pauses, in this order${pausedControllers(config)}, remembering the previous state in an annotation on each object:`,
    '',
    ...listing(config),
    '',
    'It changes nothing unless every listed object exists. Pausing twice keeps the first remembered value.',
    ...remoteCommands(config, 'pause'),
  ];
}

export function pauseAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: `${[
      ...(config.maintenance.argocd.length > 0 ? ['the listed Argo CD Applications no longer sync automatically'] : []),
      ...(config.maintenance.flux.length > 0 ? ['the listed Flux objects are suspended'] : []),
      ...(config.maintenance.workloads.length > 0 ? ['the listed workloads run no pods'] : []),
    ].join(', ')}; each remembers its previous state in a \`cilium-cutover.io/paused-*\` annotation.`,
    failure: `the Job is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=pause\` shows a FAILED line per object. A missing object, or one an engine the config does not list applies, changes nothing at all; pods still stopping at the deadline, or a pause that something undid (an unlisted engine, KEDA, a parent Application), leave the objects paused with their state remembered.`,
    action: `list the engine the FAILED line names in \`maintenance\` (or stop what undid the pause), then ${RETRY}; pausing again keeps the remembered values. To back out, apply \`800-resume\` alone (see "The maintenance window"): it restores exactly what was remembered.`,
  };
}

export const pauseStep: Step = {
  definition: {
    kind: 'pause',
    dir: '050-pause',
    wave: 50,
    title: 'Pause applications',
    impact: 'destructive',
    summary: 'Maintenance window: pauses the listed applications.',
    // The Job's deadline: the pods' stop, the re-read after the pause, and room to start.
    timeout: '20m',
  },
  build: buildPause,
  plan: pausePlan,
  abort: pauseAbort,
};
