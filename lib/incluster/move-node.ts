/**
 * The decisions of strategy per-node's Jobs, as plain functions over API objects: which pods a
 * drain evicts, which still run on a Calico address, whether the node's Cilium agent has restarted
 * since the node was switched. The runners (move-node-main.ts, readdress-main.ts) fetch and act.
 *
 * Dependency-free (the CIDR arithmetic is the config's own): bundled into the Jobs' scripts and
 * imported by the tests.
 */
import { cidrContainsIp, parseCidr, parseIpv4 } from '../cidr.ts';

/** What a node's Job works with, rendered into its ConfigMap. */
export interface MoveNodeSpec {
  readonly node: string;
  /** perNode.podCIDR: addresses Cilium hands out during the migration. */
  readonly migrationCIDR: string;
  /** How long evictions and the pods' return may take, each. */
  readonly drainTimeoutSeconds: number;
  /** How long the node's Cilium agent may take to become Ready after its restart. */
  readonly agentTimeoutSeconds: number;
  readonly evictUnmanagedPods: boolean;
  /** perNode.deleteEmptyDirData: evict pods with emptyDir volumes too. */
  readonly deleteEmptyDirData: boolean;
  /** The label the node's CiliumNodeConfig selects, set once the node is drained. */
  readonly switchLabel: { readonly key: string; readonly value: string };
  /** The label the node gets once its pods run on Cilium: the node's connectivity check waits for it. */
  readonly movedLabel: { readonly key: string; readonly value: string };
  /** Where the Cilium agents run and how to find them. */
  readonly agent: { readonly namespace: string; readonly labelSelector: string };
}

/** The parts of a Pod these decisions read. */
export interface PodObject {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly creationTimestamp?: string;
    readonly deletionTimestamp?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
  };
  readonly spec?: {
    readonly nodeName?: string;
    readonly hostNetwork?: boolean;
    readonly volumes?: readonly { readonly name: string; readonly emptyDir?: object }[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly startTime?: string;
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
  };
}

/** The parts of a Node these decisions read. */
export interface NodeObject {
  readonly metadata: {
    readonly name: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: { readonly unschedulable?: boolean };
}

/** Set on a node this tool cordoned, so only those are uncordoned. */
export const CORDONED_ANNOTATION = 'cilium-cutover.io/cordoned';
/** When the node was switched to Cilium's CNI: an agent older than this still runs without it. */
export const SWITCHED_ANNOTATION = 'cilium-cutover.io/switched-at';
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export function podRef(pod: PodObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

function controllerOf(pod: PodObject): { kind: string; name: string } | undefined {
  return pod.metadata.ownerReferences?.find((o) => o.controller === true);
}

export function finished(pod: PodObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function isMirror(pod: PodObject): boolean {
  return pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined;
}

/** What a drain does with the pods on a node. */
export interface DrainPlan {
  /** Evicted through the eviction API, so PodDisruptionBudgets hold. */
  readonly evict: readonly PodObject[];
  /** Stay: DaemonSet pods (restarted on Cilium after the switch), static pods, finished pods. */
  readonly keep: readonly { readonly pod: PodObject; readonly reason: string }[];
  /** Stop the drain: pods without a controller, which an eviction would delete for good. */
  readonly refuse: readonly PodObject[];
  /** Stop the drain: pods with emptyDir volumes, whose data an eviction deletes, unless allowed. */
  readonly localData: readonly PodObject[];
}

/**
 * `kubectl drain --ignore-daemonsets`, with `--force` (pods without a controller) and
 * `--delete-emptydir-data` (pods with emptyDir volumes) only when asked.
 */
export function drainPlan(pods: readonly PodObject[], evictUnmanagedPods: boolean, deleteEmptyDirData: boolean): DrainPlan {
  const evict: PodObject[] = [];
  const keep: { pod: PodObject; reason: string }[] = [];
  const refuse: PodObject[] = [];
  const localData: PodObject[] = [];
  for (const pod of pods) {
    const controller = controllerOf(pod);
    if (finished(pod)) {
      keep.push({ pod, reason: `finished (${pod.status?.phase})` });
    } else if (isMirror(pod)) {
      keep.push({ pod, reason: 'static pod' });
    } else if (controller?.kind === 'DaemonSet') {
      keep.push({ pod, reason: 'DaemonSet pod' });
    } else if (!controller && !evictUnmanagedPods) {
      refuse.push(pod);
    } else if (!deleteEmptyDirData && (pod.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined)) {
      localData.push(pod);
    } else {
      evict.push(pod);
    }
  }
  return { evict, keep, refuse, localData };
}

/** True when the address lies in the CIDR (both as the config's rules parse them). */
export function inCidr(ip: string, cidr: string): boolean {
  const address = parseIpv4(ip);
  const network = parseCidr(cidr);
  return address !== undefined && network !== undefined && cidrContainsIp(network, address);
}

/** A pod with its address and node, as the check lines name one: `ns/name (10.245.0.7 on node-1)`. */
export function podWhere(pod: PodObject): string {
  return `${podRef(pod)} (${pod.status?.podIP} on ${pod.spec?.nodeName ?? '?'})`;
}

/**
 * Running pods on the pod network whose address is not from the migration range: on a switched
 * node they still run on Calico and must be restarted there.
 */
export function podsOffRange(pods: readonly PodObject[], cidr: string): PodObject[] {
  return pods.filter((p) => !finished(p) && p.spec?.hostNetwork !== true && p.status?.podIP !== undefined && !inCidr(p.status.podIP, cidr));
}

/** Splits pods to restart into those an eviction brings back (a controller recreates them) and the rest. */
export function restartable(pods: readonly PodObject[], evictUnmanagedPods: boolean): { evict: PodObject[]; manual: PodObject[] } {
  const evict: PodObject[] = [];
  const manual: PodObject[] = [];
  for (const pod of pods) {
    if (isMirror(pod) || (!controllerOf(pod) && !evictUnmanagedPods)) {
      manual.push(pod);
    } else {
      evict.push(pod);
    }
  }
  return { evict, manual };
}

/** The pod's Ready condition is True. */
export function isReady(pod: PodObject): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Where the node's Cilium agent stands relative to the switch. */
export type AgentState =
  | { readonly state: 'missing' }
  /** Started before the switch: runs without the node's CiliumNodeConfig; restart it. */
  | { readonly state: 'stale'; readonly pod: PodObject }
  | { readonly state: 'starting'; readonly pod: PodObject }
  | { readonly state: 'ready'; readonly pod: PodObject };

/** Judges the node's agent pods against the switch time (ISO 8601, second precision like the API). */
export function agentState(agents: readonly PodObject[], switchedAt: string): AgentState {
  const live = agents.filter((p) => !finished(p));
  const since = Date.parse(switchedAt);
  const fresh = live.filter((p) => Date.parse(p.metadata.creationTimestamp ?? '') >= since);
  const readyPod = fresh.find(isReady);
  if (readyPod) {
    return { state: 'ready', pod: readyPod };
  }
  if (fresh[0]) {
    return { state: 'starting', pod: fresh[0] };
  }
  if (live[0]) {
    return { state: 'stale', pod: live[0] };
  }
  return { state: 'missing' };
}

/**
 * The merge patch that cordons a node, remembering that this tool did it; undefined when it is
 * cordoned already (by someone else, or by an earlier run of this Job).
 */
export function cordonPatch(node: NodeObject): unknown {
  if (node.spec?.unschedulable === true) {
    return undefined;
  }
  return { metadata: { annotations: { [CORDONED_ANNOTATION]: 'true' } }, spec: { unschedulable: true } };
}

/** The merge patch that uncordons a node this tool cordoned; undefined for a node cordoned by someone else. */
export function uncordonPatch(node: NodeObject): unknown {
  if (node.metadata.annotations?.[CORDONED_ANNOTATION] !== 'true') {
    return undefined;
  }
  return { metadata: { annotations: { [CORDONED_ANNOTATION]: null } }, spec: { unschedulable: null } };
}

/**
 * The merge patch that switches a node to Cilium's CNI (its CiliumNodeConfig selects the label);
 * a re-run keeps the first switch time, so an agent restarted then is not restarted again.
 */
export function switchPatch(node: NodeObject, label: MoveNodeSpec['switchLabel'], now: Date): { patch: unknown; switchedAt: string } {
  const earlier = node.metadata.annotations?.[SWITCHED_ANNOTATION];
  if (earlier !== undefined && node.metadata.labels?.[label.key] === label.value) {
    return { patch: undefined, switchedAt: earlier };
  }
  // The API keeps creation times to the second: round down so an agent created in the same second counts.
  const switchedAt = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return {
    patch: { metadata: { labels: { [label.key]: label.value }, annotations: { [SWITCHED_ANNOTATION]: switchedAt } } },
    switchedAt,
  };
}

/** The merge patch that marks a node whose pods all run on Cilium; undefined once it carries the label. */
export function movedPatch(node: NodeObject, label: MoveNodeSpec['movedLabel']): unknown {
  if (node.metadata.labels?.[label.key] === label.value) {
    return undefined;
  }
  return { metadata: { labels: { [label.key]: label.value } } };
}

/** The parts of a Node the network-condition Job reads. */
export interface NodeWithConditions {
  readonly metadata: { readonly name: string };
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string }[] };
}

/**
 * After Calico's removal: calico-node's shutdown may have set NetworkUnavailable=True
 * (`CalicoIsDown`, projectcalico/calico#7816), which taints the node although Cilium serves it.
 * Returns the strategic merge patch for `nodes/<name>/status` that says what Cilium's operator says
 * for a node with a ready agent, or undefined when nothing is to change; and the line to print.
 */
export function networkConditionPatch(
  node: NodeWithConditions,
  agentReady: boolean,
  now: Date,
): { patch: unknown; line: string; failed: boolean } {
  const name = node.metadata.name;
  const condition = node.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
  if (condition === undefined || condition.status === 'False') {
    return {
      patch: undefined,
      line: `OK ${name}: NetworkUnavailable=${condition?.status ?? 'unset'}${condition?.reason ? ` (${condition.reason})` : ''}`,
      failed: false,
    };
  }
  if (!agentReady) {
    return {
      patch: undefined,
      line: `FAILED ${name}: NetworkUnavailable=${condition.status} (${condition.reason ?? 'no reason'}) and no ready Cilium agent there`,
      failed: true,
    };
  }
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    patch: {
      status: {
        conditions: [
          {
            type: 'NetworkUnavailable',
            status: 'False',
            reason: 'CiliumIsUp',
            message: 'Cilium is running on this node',
            lastTransitionTime: time,
            lastHeartbeatTime: time,
          },
        ],
      },
    },
    line: `CLEARED ${name}: NetworkUnavailable was ${condition.status} (${condition.reason ?? 'no reason'}); its Cilium agent is ready`,
    failed: false,
  };
}
