/**
 * When an applied object counts as done, from its live status: Jobs complete (or failed),
 * DaemonSets rolled out on every node and ready, Deployments available. Pure, so the rules are
 * tested without a cluster.
 */

/** The live state `apply` shows for one awaited object. */
export interface Readiness {
  readonly state: 'done' | 'waiting' | 'failed';
  /** Short words for the progress display: `2/3 ready`, `pending`, `BackoffLimitExceeded`. */
  readonly detail: string;
}

interface Condition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

/** A live object as the API returns it (only the fields read here). */
export interface LiveObject {
  readonly kind: string;
  readonly metadata?: {
    readonly generation?: number;
    readonly labels?: Readonly<Record<string, string>>;
    readonly managedFields?: readonly { readonly manager?: string; readonly operation?: string }[];
  };
  readonly spec?: { readonly replicas?: number; readonly completions?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: readonly Condition[];
    readonly active?: number;
    readonly succeeded?: number;
    readonly failed?: number;
    readonly desiredNumberScheduled?: number;
    readonly updatedNumberScheduled?: number;
    readonly numberAvailable?: number;
    readonly numberReady?: number;
    readonly replicas?: number;
    readonly updatedReplicas?: number;
    readonly availableReplicas?: number;
    readonly readyReplicas?: number;
  };
}

/** The kinds `apply` waits for; everything else is done once applied. */
export const AWAITED_KINDS: ReadonlySet<string> = new Set(['Job', 'DaemonSet', 'Deployment']);

function condition(obj: LiveObject, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** The controller has seen the applied spec (otherwise the status describes the previous one). */
function observed(obj: LiveObject): boolean {
  return (obj.status?.observedGeneration ?? 0) >= (obj.metadata?.generation ?? 1);
}

export function jobReadiness(job: LiveObject): Readiness {
  if (condition(job, 'Complete')) {
    return { state: 'done', detail: 'complete' };
  }
  const failed = condition(job, 'Failed');
  if (failed) {
    return { state: 'failed', detail: [failed.reason, failed.message].filter(Boolean).join(': ') || 'failed' };
  }
  const status = job.status ?? {};
  const parts = [(status.active ?? 0) > 0 ? `${status.active} running or pending` : 'pending'];
  if ((status.failed ?? 0) > 0) {
    parts.push(`${status.failed} failed attempt(s)`);
  }
  return { state: 'waiting', detail: parts.join(', ') };
}

export function daemonSetReadiness(ds: LiveObject): Readiness {
  const s = ds.status ?? {};
  const desired = s.desiredNumberScheduled ?? 0;
  const updated = s.updatedNumberScheduled ?? 0;
  const available = s.numberAvailable ?? 0;
  const detail = `${available}/${desired} available, ${updated}/${desired} updated`;
  const done = observed(ds) && updated === desired && available === desired;
  return { state: done ? 'done' : 'waiting', detail };
}

export function deploymentReadiness(deployment: LiveObject): Readiness {
  const wanted = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  const available = s.availableReplicas ?? 0;
  const updated = s.updatedReplicas ?? 0;
  const stuck = deployment.status?.conditions?.find((c) => c.type === 'Progressing' && c.status === 'False');
  if (stuck && observed(deployment)) {
    return { state: 'failed', detail: [stuck.reason, stuck.message].filter(Boolean).join(': ') };
  }
  // Old pods still count in status.replicas while a rollout replaces them.
  const done = observed(deployment) && updated === wanted && available === wanted && (s.replicas ?? 0) === wanted;
  return { state: done ? 'done' : 'waiting', detail: `${available}/${wanted} available` };
}

/** The readiness of any awaited kind; other kinds are done. */
export function readiness(obj: LiveObject): Readiness {
  switch (obj.kind) {
    case 'Job':
      return jobReadiness(obj);
    case 'DaemonSet':
      return daemonSetReadiness(obj);
    case 'Deployment':
      return deploymentReadiness(obj);
    default:
      return { state: 'done', detail: 'applied' };
  }
}
