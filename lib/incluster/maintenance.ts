/**
 * The maintenance window's decisions (steps 050-pause and 800-resume), as plain functions: for a
 * listed object and its live state, the merge patch to send and the line to print.
 *
 * Pausing remembers the previous state in an annotation on the object itself and only then
 * changes it, in one patch; an object that already carries the annotation is left alone, so
 * pausing twice never overwrites the remembered value with the paused one. Resuming restores the
 * remembered value and removes the annotation, so resuming twice changes nothing.
 */

/** Where each kind of target remembers what pausing changed. */
export const PAUSE_ANNOTATIONS = {
  /** Deployments and StatefulSets: the replicas before scaling to zero. */
  workload: 'cilium-cutover.io/paused-replicas',
  /** Flux Kustomizations and HelmReleases: `spec.suspend` before suspending (`true` or `false`). */
  flux: 'cilium-cutover.io/paused-suspend',
  /** Argo CD Applications: `spec.syncPolicy.automated` as JSON before turning it off, or `none`. */
  argocd: 'cilium-cutover.io/paused-automated',
} as const;

export type TargetType = keyof typeof PAUSE_ANNOTATIONS;

/** One listed object. */
export interface MaintenanceTarget {
  readonly type: TargetType;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** API path of the object. */
  readonly path: string;
}

/** The GitOps objects the config lists, here or in another cluster: the owners a pause may leave running. */
export interface ListedEngines {
  /** `Kustomization <namespace>/<name>` and `HelmRelease <namespace>/<name>`. */
  readonly flux: readonly string[];
  /** `<namespace>/<name>` of each Application, in this cluster or another. */
  readonly argocd: readonly string[];
}

/** The pause Job's spec file. */
export interface PauseSpec {
  readonly mode: 'pause';
  /** In the order they are handled: the engines before the workloads they scale. */
  readonly targets: readonly MaintenanceTarget[];
  /** What may own a listed object and is paused too. */
  readonly engines: ListedEngines;
  /** How long the paused workloads' pods may take to stop. */
  readonly stopTimeoutSeconds: number;
  /** How long after pausing every object is read again, to see that the pause held. */
  readonly settleSeconds: number;
}

/** The resume Job's spec file. */
export interface ResumeSpec {
  readonly mode: 'resume';
  /** In the reverse order of the pause. */
  readonly targets: readonly MaintenanceTarget[];
}

/** The spec file of either Job. */
export type MaintenanceSpec = PauseSpec | ResumeSpec;

/** A label selector (`spec.selector` of a Deployment or StatefulSet). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

/** A live object, as far as read here. */
export interface LiveTarget {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>>; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly replicas?: number;
    readonly suspend?: boolean;
    readonly syncPolicy?: { readonly automated?: unknown };
    readonly selector?: LabelSelector;
  };
}

/** A pod, as far as the wait for a workload's pods reads it. */
export interface LivePod {
  readonly metadata: { readonly name: string; readonly ownerReferences?: readonly { readonly kind: string; readonly name: string }[] };
}

/** What to do with one object: an optional merge patch, and the line to print. */
export interface Decision {
  readonly patch?: unknown;
  readonly line: string;
  /** The object is in a state the step cannot handle; the Job fails after the other objects. */
  readonly failed?: boolean;
}

function ref(t: MaintenanceTarget): string {
  return `${t.kind} ${t.namespace}/${t.name}`;
}

/** The decision for pausing one object; `live` undefined means it does not exist. */
export function pauseDecision(t: MaintenanceTarget, live: LiveTarget | undefined): Decision {
  if (!live) {
    return { line: `FAILED ${ref(t)}: not found; correct the maintenance list in the config`, failed: true };
  }
  const annotation = PAUSE_ANNOTATIONS[t.type];
  const remembered = live.metadata?.annotations?.[annotation];
  if (remembered !== undefined) {
    return { line: `ALREADY-PAUSED ${ref(t)} (remembered: ${remembered})` };
  }
  switch (t.type) {
    case 'workload': {
      // A Deployment or StatefulSet without spec.replicas runs one.
      const replicas = live.spec?.replicas ?? 1;
      return {
        patch: { metadata: { annotations: { [annotation]: String(replicas) } }, spec: { replicas: 0 } },
        line: `PAUSED ${ref(t)}: replicas ${replicas} → 0`,
      };
    }
    case 'flux': {
      const suspended = live.spec?.suspend === true;
      return {
        patch: { metadata: { annotations: { [annotation]: String(suspended) } }, spec: { suspend: true } },
        line: `PAUSED ${ref(t)}: suspended${suspended ? ' (it already was; resume leaves it suspended)' : ''}`,
      };
    }
    case 'argocd': {
      const automated = live.spec?.syncPolicy?.automated;
      if (automated === undefined || automated === null) {
        return {
          patch: { metadata: { annotations: { [annotation]: 'none' } } },
          line: `PAUSED ${ref(t)}: automated sync was already off`,
        };
      }
      return {
        patch: { metadata: { annotations: { [annotation]: JSON.stringify(automated) } }, spec: { syncPolicy: { automated: null } } },
        line: `PAUSED ${ref(t)}: automated sync off (was ${JSON.stringify(automated)})`,
      };
    }
  }
}

/** The decision for resuming one object. */
export function resumeDecision(t: MaintenanceTarget, live: LiveTarget | undefined): Decision {
  if (!live) {
    return { line: `ABSENT ${ref(t)}: nothing to resume` };
  }
  const annotation = PAUSE_ANNOTATIONS[t.type];
  const remembered = live.metadata?.annotations?.[annotation];
  if (remembered === undefined) {
    return { line: `NOT-PAUSED ${ref(t)}: no ${annotation} annotation; left as it is` };
  }
  const forget = { metadata: { annotations: { [annotation]: null } } };
  switch (t.type) {
    case 'workload': {
      const replicas = Number(remembered);
      if (!/^\d+$/.test(remembered) || !Number.isSafeInteger(replicas)) {
        return {
          line: `FAILED ${ref(t)}: ${annotation} is "${remembered}", not a replica count; scale it by hand and remove the annotation`,
          failed: true,
        };
      }
      return { patch: { ...forget, spec: { replicas } }, line: `RESUMED ${ref(t)}: replicas → ${replicas}` };
    }
    case 'flux': {
      const suspend = remembered === 'true';
      return {
        patch: { ...forget, spec: { suspend } },
        line: `RESUMED ${ref(t)}: ${suspend ? 'stays suspended, as before' : 'reconciling again'}`,
      };
    }
    case 'argocd': {
      if (remembered === 'none') {
        return { patch: forget, line: `RESUMED ${ref(t)}: automated sync stays off, as before` };
      }
      let automated: unknown;
      try {
        automated = JSON.parse(remembered);
      } catch {
        return {
          line: `FAILED ${ref(t)}: ${annotation} is not JSON; restore spec.syncPolicy.automated by hand and remove the annotation`,
          failed: true,
        };
      }
      return { patch: { ...forget, spec: { syncPolicy: { automated } } }, line: `RESUMED ${ref(t)}: automated sync ${remembered}` };
    }
  }
}

/**
 * What re-applies a listed object although the config does not list it: the Flux object whose
 * labels kustomize-controller and helm-controller put on what they apply
 * (`kustomize.toolkit.fluxcd.io/name` and `/namespace`, `helm.toolkit.fluxcd.io/name` and
 * `/namespace`), or the Argo CD Application of its `argocd.argoproj.io/tracking-id` annotation
 * (`<application>:<group>/<kind>:<namespace>/<name>`, the application as `<namespace>_<name>`
 * outside Argo CD's own namespace). Undefined when the config lists each one it finds.
 */
export function ownerProblem(t: MaintenanceTarget, live: LiveTarget, engines: ListedEngines): string | undefined {
  const labels = live.metadata?.labels ?? {};
  const owners: string[] = [];
  for (const [kind, prefix] of [
    ['Kustomization', 'kustomize.toolkit.fluxcd.io'],
    ['HelmRelease', 'helm.toolkit.fluxcd.io'],
  ] as const) {
    const name = labels[`${prefix}/name`];
    const namespace = labels[`${prefix}/namespace`];
    if (name !== undefined && namespace !== undefined && !engines.flux.includes(`${kind} ${namespace}/${name}`)) {
      owners.push(`Flux ${kind} ${namespace}/${name}, which maintenance.flux does not list`);
    }
  }
  const tracking = live.metadata?.annotations?.['argocd.argoproj.io/tracking-id'];
  const application = tracking?.split(':')[0];
  if (
    application &&
    !engines.argocd.some((a) => {
      const [namespace, name] = a.split('/');
      return application === name || application === `${namespace}_${name}`;
    })
  ) {
    owners.push(`Argo CD Application ${application}, which neither maintenance.argocd nor maintenance.remoteArgocd lists`);
  }
  return owners.length === 0
    ? undefined
    : `FAILED ${ref(t)}: applied by ${owners.join(' and by ')}; list it there too, or it undoes the pause`;
}

/** After the pause, what someone else changed back; undefined while the pause holds. */
export function heldProblem(t: MaintenanceTarget, live: LiveTarget | undefined): string | undefined {
  if (!live) {
    return `FAILED ${ref(t)}: deleted after the pause`;
  }
  const undone = (what: string) =>
    `FAILED ${ref(t)}: ${what} after the pause: something else manages it (an engine or autoscaler the config does not list, KEDA's ScaledObject, a parent Application or Kustomization); pause that too, then retry this step`;
  switch (t.type) {
    case 'workload':
      return live.spec?.replicas === 0 ? undefined : undone(`scaled back to ${live.spec?.replicas ?? 1}`);
    case 'flux':
      return live.spec?.suspend === true ? undefined : undone('resumed (spec.suspend is not true)');
    case 'argocd': {
      const automated = live.spec?.syncPolicy?.automated;
      return automated === undefined || automated === null ? undefined : undone(`automated sync back on (${JSON.stringify(automated)})`);
    }
  }
}

/** `spec.selector` as a `labelSelector` query; undefined for one that selects nothing it can name. */
export function selectorQuery(selector: LabelSelector | undefined): string | undefined {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
    }
  }
  return parts.length === 0 ? undefined : parts.join(',');
}

/** The selected pods that belong to the workload: a StatefulSet's own, a Deployment's through its ReplicaSets. */
export function podsOf(t: MaintenanceTarget, pods: readonly LivePod[]): LivePod[] {
  return pods.filter((p) =>
    (p.metadata.ownerReferences ?? []).some((o) =>
      t.kind === 'StatefulSet' ? o.kind === 'StatefulSet' && o.name === t.name : o.kind === 'ReplicaSet' && o.name.startsWith(`${t.name}-`),
    ),
  );
}
