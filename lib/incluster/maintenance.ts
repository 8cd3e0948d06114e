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

/** The Job's spec file. */
export interface MaintenanceSpec {
  readonly mode: 'pause' | 'resume';
  /** In the order they are handled: pause stops the engines before scaling; resume the reverse. */
  readonly targets: readonly MaintenanceTarget[];
}

/** A live object, as far as read here. */
export interface LiveTarget {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly replicas?: number;
    readonly suspend?: boolean;
    readonly syncPolicy?: { readonly automated?: unknown };
  };
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
