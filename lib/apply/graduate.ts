/**
 * Graduation from a workstation (`apply --graduate`): once the output of `phase: steady` is
 * applied, every object of the migration still in the cluster is deleted, as an engine's prune
 * does when the steady commit replaces the migration's. What stays: the objects of this output
 * (Cilium and the status record), anything of a step this output still has (a Cilium object a
 * later config dropped is listed, not deleted), and the Calico inventory.
 *
 * The migration's objects are found by the label every synthesized object carries
 * (`app.kubernetes.io/managed-by: cilium-cutover`) and the step label, kind by kind from the table
 * below; the engines' own objects (Argo CD Application, Flux Kustomizations) are not touched.
 */
import { LABEL_INVENTORY, LABEL_MANAGED_BY, LABEL_STEP, TOOL } from '../labels.ts';
import type { DistStep, ManifestObject } from './dist.ts';
import { call, refOf, sleep, StepFailed, type ApplyOutput, type Cluster } from './run.ts';

/**
 * Every kind a step can create, in the order graduation deletes them: the Jobs and workloads
 * first, their rights after them, the namespaces last. test/lib/apply/graduate.test.ts checks
 * that the outputs of every strategy and phase use no other.
 */
export const GRADUATION_KINDS: readonly { readonly apiVersion: string; readonly kind: string }[] = [
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  // The apiVersion of CiliumNodeConfig follows the Cilium release (lib/versions).
  { apiVersion: 'cilium.io/v2', kind: 'CiliumNodeConfig' },
  { apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumNodeConfig' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'Namespace' },
];

/** The status record (900-complete) that graduation requires on the cluster. */
const RECORD = { kind: 'ConfigMap', namespace: 'kube-system', name: `${TOOL}-status` } as const;

/** What the record must say on the cluster as it says in the output: the migration completed here. */
const RECORD_KEYS = ['cluster', 'steps-completed', 'strategy', 'phase'] as const;

/** Graduation did not start: the migration has not completed on this cluster. */
export class GraduationRefused extends Error {
  public constructor(detail: string) {
    super(`refused to graduate: ${detail}`);
    this.name = 'GraduationRefused';
  }
}

const keyOf = (o: ManifestObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Stops graduation with the request that failed, as a failed step of `apply` does. */
const fail = (detail: string): never => {
  throw new StepFailed('graduate', detail);
};

/**
 * Refuses unless the cluster holds the status record this output keeps, with the same cluster
 * name, completed steps and phase: the migration this output follows has completed here.
 */
export async function checkRecord(steps: readonly DistStep[], cluster: Cluster): Promise<void> {
  const record = steps
    .flatMap((s) => s.objects)
    .find((o) => o.kind === RECORD.kind && o.metadata.namespace === RECORD.namespace && o.metadata.name === RECORD.name);
  if (!record) {
    throw new GraduationRefused(`this output has no configmap/${RECORD.namespace}/${RECORD.name}; synthesize it with phase: steady`);
  }
  const live = (await call(() => cluster.read(record), `reading ${refOf(record)}`, fail)) as { data?: Record<string, string> } | undefined;
  if (!live) {
    throw new GraduationRefused(
      `${refOf(record)} is not on this cluster: the migration has not completed here; apply the migration's output to its last step first`,
    );
  }
  const want = (record.data ?? {}) as Record<string, string>;
  const differ = RECORD_KEYS.filter((k) => live.data?.[k] !== want[k]).map(
    (k) => `${k} is "${live.data?.[k] ?? ''}" on the cluster, "${want[k] ?? ''}" in this output`,
  );
  if (differ.length > 0) {
    throw new GraduationRefused(`${refOf(record)} records another migration: ${differ.join('; ')}`);
  }
}

/** Which of the live objects of the tool graduation deletes, and which it keeps although this output lacks them. */
export function graduationPlan(
  live: readonly ManifestObject[],
  steps: readonly DistStep[],
): { readonly remove: ManifestObject[]; readonly keptOutside: ManifestObject[] } {
  const inOutput = new Set(steps.flatMap((s) => s.objects.map(keyOf)));
  const kept = new Set(steps.map((s) => s.dir));
  const remove: ManifestObject[] = [];
  const keptOutside: ManifestObject[] = [];
  for (const obj of live) {
    const labels = obj.metadata.labels ?? {};
    if (inOutput.has(keyOf(obj)) || labels[LABEL_INVENTORY] !== undefined || labels[LABEL_MANAGED_BY] !== TOOL) {
      continue;
    }
    const step = labels[LABEL_STEP];
    if (step !== undefined && kept.has(step)) {
      keptOutside.push(obj);
    } else {
      remove.push(obj);
    }
  }
  return { remove, keptOutside };
}

/** How graduation reaches the cluster and reports. */
export interface GraduateOptions {
  /** The steps of the steady output, already applied. */
  readonly steps: readonly DistStep[];
  readonly cluster: Cluster;
  readonly output: ApplyOutput;
  readonly dryRun?: boolean;
  /** How long to wait for the deleted objects to be gone. */
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly now?: () => number;
}

/** Deletes the migration's objects and waits until they are gone; returns what it deleted. */
export async function graduate(options: GraduateOptions): Promise<string[]> {
  const { cluster, output, steps } = options;
  const live: ManifestObject[] = [];
  const seen = new Set<string>();
  for (const { apiVersion, kind } of GRADUATION_KINDS) {
    const listed = await call(() => cluster.list(apiVersion, kind, `${LABEL_MANAGED_BY}=${TOOL}`), `listing ${apiVersion} ${kind}`, fail);
    for (const obj of listed ?? []) {
      if (!seen.has(keyOf(obj))) {
        seen.add(keyOf(obj));
        live.push(obj);
      }
    }
  }
  const { remove, keptOutside } = graduationPlan(live, steps);
  for (const obj of keptOutside) {
    output.line(
      `kept ${refOf(obj)}: of step ${obj.metadata.labels?.[LABEL_STEP]}, which this output keeps, but not in it (a later config dropped it); delete it by hand if that is intended`,
    );
  }
  for (const obj of remove) {
    await call(() => cluster.remove(obj, options.dryRun), `deleting ${refOf(obj)}`, fail);
    output.line(`${options.dryRun ? 'would delete (dry-run)' : 'deleted'} ${refOf(obj)}`);
  }
  if (options.dryRun) {
    return remove.map(refOf);
  }
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  let pending = remove;
  while (pending.length > 0) {
    const still: ManifestObject[] = [];
    for (const obj of pending) {
      if ((await call(() => cluster.read(obj), `reading ${refOf(obj)}`, fail)) !== undefined) {
        still.push(obj);
      }
    }
    pending = still;
    if (pending.length === 0) {
      break;
    }
    if (now() > deadline) {
      fail(
        `deleted, but still present after ${Math.round(options.timeoutMs / 1000)}s (a finalizer holds them?): ${pending.map(refOf).join(', ')}; look at their metadata.finalizers and run --graduate again`,
      );
    }
    await sleep(options.pollMs ?? 2000);
  }
  return remove.map(refOf);
}
