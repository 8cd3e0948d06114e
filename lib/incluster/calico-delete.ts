/**
 * The Calico deletion Job's decisions, as plain functions: what a delete answer means, which pods
 * are left, what each node's NetworkUnavailable condition says, what holds a CRD that stays. The
 * inventory it keeps first is calico-inventory.ts.
 * Dependency-free: bundled into the Job's script and imported by the tests.
 */
import { describeBody, type ApiResponse } from './shared/api-client.ts';

/** One object to delete, as the Job's spec carries it. */
export interface DeletionTarget {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly phase: string;
  /** API path of the object. */
  readonly path: string;
  readonly optional?: boolean;
}

/** What the deletion Job works from, rendered into its ConfigMap. */
export interface DeletionSpec {
  readonly calicoVersion: string;
  readonly targets: readonly DeletionTarget[];
  /**
   * The CRDs of the deletion set whose custom resources go with them: each one's custom resources
   * are kept in the inventory (or counted, calico-inventory.ts NOT_KEPT) before anything is deleted.
   */
  readonly inventory: readonly InventoryResource[];
  /** Label selectors of the Calico pods in kube-system awaited after the workloads are deleted. */
  readonly podSelectors: readonly string[];
  /** How long to wait for those pods to go. */
  readonly podWaitSeconds: number;
  /** Pause between two looks at those pods. */
  readonly podPollSeconds: number;
  readonly nodes: readonly string[];
  /** Nodes that are down (`run.skipNodes`): their Calico pods are not awaited. */
  readonly skipNodes: readonly string[];
  /** How long a deleted CRD may stay (Terminating while its custom resources go) before it is reported. */
  readonly crdWaitSeconds: number;
  /** Pause between two looks at the deleted CRDs. */
  readonly crdPollSeconds: number;
  /**
   * strategy per-node: every pod-network pod must hold an address from this range (Cilium's) before
   * anything is deleted; a pod still on a Calico address would lose its network with Calico.
   * @default - strategy cutover: Calico is deleted whatever the pods hold
   */
  readonly migrationCIDR?: string;
}

/** A CRD whose custom resources the inventory reads: the version is the CRD's storage version, read on the cluster. */
export interface InventoryResource {
  /** The CRD's name, `<plural>.<group>`. */
  readonly crd: string;
  readonly group: string;
  readonly plural: string;
}

export type DeletionOutcome = 'DELETED' | 'ABSENT' | 'FAILED';

/** The log line for one delete answer. */
export function deletionResult(target: DeletionTarget, response: ApiResponse): { outcome: DeletionOutcome; line: string } {
  const what = `${target.kind} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
  if (response.status === 200 || response.status === 202) {
    return { outcome: 'DELETED', line: `DELETED ${what}` };
  }
  if (response.status === 404) {
    return {
      outcome: 'ABSENT',
      line: `ABSENT ${what}${target.optional ? ' (optional, not created by the manifest)' : ' (already deleted)'}`,
    };
  }
  return { outcome: 'FAILED', line: `FAILED ${what}: HTTP ${response.status}: ${describeBody(response.body)}` };
}

interface PodList {
  readonly items?: readonly { readonly metadata: { readonly name: string }; readonly spec?: { readonly nodeName?: string } }[];
}

/** What the wait for Calico's pods sees: the pods it waits for, and those it leaves to the operator. */
export interface PodWait {
  /** Pods still present on live nodes, as `name on node`. */
  readonly waiting: readonly string[];
  /** One line per pod on a node that is down, with the command that removes it once the node is gone. */
  readonly skipped: readonly string[];
}

/**
 * Splits the Calico pods still present: those on a node in `run.skipNodes` or not Ready cannot go
 * (nothing on the node confirms their deletion, so they stay Terminating) and are not awaited;
 * the others are. `ready(node)` is the node's Ready status (`True`, `False`, `Unknown`), or
 * undefined when the node is not known.
 */
export function podWait(
  lists: readonly (PodList | undefined)[],
  skipNodes: readonly string[],
  ready: (node: string) => string | undefined,
): PodWait {
  const waiting: string[] = [];
  const skipped: string[] = [];
  for (const pod of lists.flatMap((l) => l?.items ?? [])) {
    const node = pod.spec?.nodeName;
    const status = node === undefined ? undefined : ready(node);
    const why =
      node === undefined
        ? undefined
        : skipNodes.includes(node)
          ? 'in run.skipNodes'
          : status !== undefined && status !== 'True'
            ? `not Ready (${status})`
            : undefined;
    if (why === undefined) {
      waiting.push(`${pod.metadata.name}${node ? ` on ${node}` : ''}`);
    } else {
      skipped.push(
        `SKIPPED kube-system/${pod.metadata.name} on ${node}: the node is ${why}, so the pod stays until the node returns; ` +
          `if the node is gone for good: kubectl -n kube-system delete pod ${pod.metadata.name} --force --grace-period=0`,
      );
    }
  }
  return { waiting, skipped };
}

interface NodeConditions {
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string }[] };
}

/** One line per node about NetworkUnavailable: who clears it, and the deadlock to watch for. */
export function networkUnavailableLine(name: string, node: NodeConditions | undefined): string {
  if (!node) {
    return `INFO node ${name}: not found`;
  }
  const condition = node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
  if (!condition || condition.status !== 'True') {
    return `INFO node ${name}: NetworkUnavailable=${condition?.status ?? 'unset'}`;
  }
  return (
    `INFO node ${name}: NetworkUnavailable=True (${condition.reason ?? 'no reason'}); the node is tainted network-unavailable ` +
    'until the Cilium operator, which tolerates that taint, sees a ready Cilium agent there and clears it'
  );
}

/** The parts of a CustomResourceDefinition the CRD wait reads. */
export interface CrdObject {
  readonly spec?: {
    readonly group?: string;
    readonly names?: { readonly plural?: string; readonly kind?: string };
    readonly versions?: readonly { readonly name: string; readonly storage?: boolean }[];
  };
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string; readonly message?: string }[] };
}

/** The version a CRD stores its custom resources in (the first served one when none says so). */
export function storageVersion(crd: CrdObject | undefined): string | undefined {
  return crd?.spec?.versions?.find((v) => v.storage)?.name ?? crd?.spec?.versions?.[0]?.name;
}

interface HolderList {
  readonly items?: readonly {
    readonly metadata: { readonly name: string; readonly namespace?: string; readonly finalizers?: readonly string[] };
  }[];
}

/**
 * The line for a CRD still there after the wait: Terminating while a custom resource's finalizer
 * (another controller's) holds it. `holders` is the list of its custom resources, when the Job may
 * read them; each one with finalizers is named, with the command that releases it.
 */
export function crdTerminatingLine(name: string, crd: CrdObject, waitedSeconds: number, holders: HolderList | undefined): string {
  const terminating = crd.status?.conditions?.find((c) => c.type === 'Terminating' && c.status === 'True');
  const head = `TERMINATING CustomResourceDefinition ${name}: still present after ${waitedSeconds}s${terminating?.message ? ` (${terminating.message})` : ''}`;
  const resource = `${crd.spec?.names?.plural ?? name.split('.')[0]}.${crd.spec?.group ?? name.split('.').slice(1).join('.')}`;
  const held = (holders?.items ?? []).filter((i) => (i.metadata.finalizers ?? []).length > 0);
  if (held.length === 0) {
    return `${head}; find the custom resource whose finalizer holds it (kubectl get ${resource} -A -o jsonpath='{range .items[?(@.metadata.finalizers)]}{.metadata.name}{" "}{.metadata.finalizers}{"\\n"}{end}'), let its controller finish or remove the finalizer, then re-run this step`;
  }
  const first = held[0]!.metadata;
  return (
    `${head}; held by ${held
      .slice(0, 5)
      .map(
        (i) =>
          `${crd.spec?.names?.kind ?? resource} ${i.metadata.namespace ? `${i.metadata.namespace}/` : ''}${i.metadata.name} (finalizer ${(i.metadata.finalizers ?? []).join(', ')})`,
      )
      .join(', ')}${held.length > 5 ? `, and ${held.length - 5} more` : ''}. ` +
    `Once the controller that owns the finalizer is gone or done: kubectl patch ${resource} ${first.name}${first.namespace ? ` -n ${first.namespace}` : ''} --type=merge -p '{"metadata":{"finalizers":null}}' (each one), then re-run this step`
  );
}
