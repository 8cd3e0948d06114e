/**
 * The preflight checks of strategy per-node, as plain functions over API objects. Phase migrate
 * needs a working Calico (every calico-node Ready, its address detection safe from Cilium's
 * interfaces) and no NetworkPolicy that would go unenforced unnoticed; phase switch needs the
 * migrate phase finished (Calico gone, every pod on Cilium).
 *
 * Dependency-free: bundled into the per-node preflight Job and imported by the tests.
 */
import { inCidr, podRef, podsOffRange, podWhere, type PodObject } from './move-node.ts';
import type { CheckResult } from './shared/report.ts';

/** What the per-node preflight checks, rendered into its ConfigMap. */
export interface PerNodePreflightSpec {
  readonly phase: 'migrate' | 'switch';
  readonly nodeCount: number;
  /** The nodes of the config, whose podCIDRs phase switch reads. */
  readonly nodes: readonly string[];
  readonly migrationCIDR: string;
  readonly acknowledgeUnenforcedPolicies: boolean;
}

/** The parts of the calico-node DaemonSet read here. */
export interface CalicoNodeDaemonSet {
  readonly spec?: {
    readonly template?: {
      readonly spec?: {
        readonly containers?: readonly {
          readonly name: string;
          readonly env?: readonly { readonly name: string; readonly value?: string }[];
        }[];
      };
    };
  };
  readonly status?: { readonly desiredNumberScheduled?: number; readonly numberReady?: number };
}

const SUBJECT = 'kube-system/calico-node';
/** Calico's node-address detection; `first-found` (the default) may pick Cilium's cilium_host. */
const AUTODETECT_ENV = 'IP_AUTODETECTION_METHOD';
/** Where calico-node records the address it detected (its BGP and tunnel endpoint), with its prefix length. */
const CALICO_ADDRESS = 'projectcalico.org/IPv4Address';

/** The parts of a Node read for Calico's address: the annotation calico-node sets, and the InternalIP. */
export interface CalicoNodeAddress {
  readonly metadata: { readonly name: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly status?: { readonly addresses?: readonly { readonly type: string; readonly address: string }[] };
}

/**
 * A detection method that keeps every node on the address Calico runs on now: re-detecting another
 * one re-addresses Calico's BGP and tunnels on a live cluster. The Kubernetes method where that is
 * each InternalIP; else each current address as a /32 (`cidr=` takes a list); none while a node
 * has no recorded address.
 */
function autodetectFix(nodes: readonly CalicoNodeAddress[]): string {
  const unknown = nodes.filter((n) => !n.metadata.annotations?.[CALICO_ADDRESS]).map((n) => n.metadata.name);
  if (unknown.length > 0) {
    return `set it to a method that selects the address each node runs Calico on now (${unknown.join(', ')} has no ${CALICO_ADDRESS} to read it from), and wait for the rollout`;
  }
  const current = nodes.map((n) => n.metadata.annotations![CALICO_ADDRESS]!.split('/')[0]!);
  const internal = nodes.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
  const method = current.every((a, i) => a === internal[i]) ? 'kubernetes-internal-ip' : `cidr=${current.map((a) => `${a}/32`).join(',')}`;
  return `run \`kubectl -n kube-system set env daemonset/calico-node ${AUTODETECT_ENV}=${method}\`, which keeps each node on the address Calico uses now (${CALICO_ADDRESS}), and wait for the rollout`;
}

/** Phase migrate: Calico runs Ready on every node; per-node cannot move pods off a broken network. */
export function checkCalicoHealthy(spec: PerNodePreflightSpec, ds: CalicoNodeDaemonSet | undefined): CheckResult {
  if (!ds) {
    return { outcome: 'INFO', check: 'calico-ready', subject: SUBJECT, detail: 'absent: Calico was removed (step 600 ran)' };
  }
  const ready = ds.status?.numberReady ?? 0;
  const desired = ds.status?.desiredNumberScheduled ?? 0;
  if (desired < spec.nodeCount || ready < desired) {
    return {
      outcome: 'FAIL',
      check: 'calico-ready',
      subject: SUBJECT,
      detail: `${ready}/${desired} Ready on ${spec.nodeCount} node(s): per-node needs a working Calico on every node to move pods off; use strategy: cutover`,
    };
  }
  return { outcome: 'PASS', check: 'calico-ready', subject: SUBJECT, detail: `${ready}/${desired} Ready` };
}

/**
 * Phase migrate: Cilium creates cilium_host on every node. Calico's default address detection
 * (`first-found`) may pick it when calico-node restarts, and Calico's routing breaks (Cilium's
 * migration guide, Calico note).
 */
export function checkAutodetection(ds: CalicoNodeDaemonSet | undefined, nodes: readonly CalicoNodeAddress[]): CheckResult {
  if (!ds) {
    return { outcome: 'SKIP', check: 'calico-autodetect', subject: SUBJECT, detail: 'Calico is absent' };
  }
  const env = ds.spec?.template?.spec?.containers?.find((c) => c.name === 'calico-node')?.env ?? [];
  const method = env.find((e) => e.name === AUTODETECT_ENV)?.value;
  if (method === undefined || method === '' || method.startsWith('first-found')) {
    return {
      outcome: 'FAIL',
      check: 'calico-autodetect',
      subject: SUBJECT,
      detail: `${AUTODETECT_ENV} is ${method ? `"${method}"` : 'unset (first-found)'}, which may pick Cilium's cilium_host interface; ${autodetectFix(nodes)}`,
    };
  }
  return { outcome: 'PASS', check: 'calico-autodetect', subject: SUBJECT, detail: `${AUTODETECT_ENV}=${method}` };
}

/** Phase migrate: Cilium enforces no policy until the switch, so NetworkPolicies need an acknowledgement. */
export function checkPolicies(
  spec: PerNodePreflightSpec,
  policies: readonly { metadata: { name: string; namespace: string } }[],
): CheckResult {
  const subject = 'networkpolicies.networking.k8s.io';
  if (policies.length === 0) {
    return { outcome: 'PASS', check: 'policies', subject, detail: 'none' };
  }
  const names = policies
    .slice(0, 5)
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .join(', ');
  const detail = `${policies.length} (${names}${policies.length > 5 ? ', …' : ''}) are not enforced on migrated nodes until the switch phase, and on nodes not yet migrated they see migrated pods as their node's address (PLAN.md's risks)`;
  if (spec.acknowledgeUnenforcedPolicies) {
    return { outcome: 'INFO', check: 'policies', subject, detail: `${detail} (acknowledged)` };
  }
  return {
    outcome: 'FAIL',
    check: 'policies',
    subject,
    detail: `${detail}; set perNode.acknowledgeUnenforcedPolicies: true to accept that, or use strategy: cutover`,
  };
}

/** Phase switch: the migrate phase removed Calico. */
export function checkCalicoGone(ds: CalicoNodeDaemonSet | undefined): CheckResult {
  if (ds) {
    return {
      outcome: 'FAIL',
      check: 'calico-removed',
      subject: SUBJECT,
      detail: 'still exists: finish the migrate phase (its step 600 removes Calico) before phase: switch',
    };
  }
  return { outcome: 'PASS', check: 'calico-removed', subject: SUBJECT, detail: 'absent' };
}

/** The parts of a Node read here: its name and the podCIDR Cilium's kubernetes IPAM allocates from. */
export interface NodeCidr {
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly podCIDR?: string };
}

/** The parts of a CiliumEndpoint read here: whose it is, and the address Cilium gave it. */
export interface EndpointAddress {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly status?: { readonly networking?: { readonly addressing?: readonly { readonly ipv4?: string }[] } };
}

/**
 * Phase switch: every pod-network pod runs on Cilium, so every node was moved: its address is from
 * the migration range, or (a retry after step 250 re-addressed some) from its own node's podCIDR,
 * where Cilium's kubernetes IPAM puts it, and its CiliumEndpoint has that address. Calico's pools
 * may overlap the nodes' podCIDRs (k3s's 10.42.0.0/16 for both), so the endpoint decides.
 * Anything else is an address Calico gave it.
 */
export function checkAllMoved(
  spec: PerNodePreflightSpec,
  pods: readonly PodObject[],
  nodes: readonly NodeCidr[],
  endpoints: readonly EndpointAddress[],
): CheckResult {
  const subject = 'pods';
  const podCidrs = new Map(nodes.map((n) => [n.metadata.name, n.spec?.podCIDR]));
  const ciliumAddress = new Map(
    endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e.status?.networking?.addressing?.map((a) => a.ipv4) ?? []]),
  );
  const offRange = podsOffRange(pods, spec.migrationCIDR);
  const onOwnNode = (p: PodObject) => {
    const cidr = podCidrs.get(p.spec?.nodeName ?? '');
    const ip = p.status!.podIP!;
    return cidr !== undefined && inCidr(ip, cidr) && (ciliumAddress.get(podRef(p)) ?? []).includes(ip);
  };
  const readdressed = offRange.filter(onOwnNode);
  const left = offRange.filter((p) => !onOwnNode(p));
  if (left.length > 0) {
    const names = left.slice(0, 5).map(podWhere).join(', ');
    return {
      outcome: 'FAIL',
      check: 'all-moved',
      subject,
      detail: `${left.length} pod(s) neither on ${spec.migrationCIDR} nor on their node's podCIDR with a CiliumEndpoint of that address: ${names}${left.length > 5 ? ', …' : ''}; finish the migrate phase (or restart them) before phase: switch`,
    };
  }
  return {
    outcome: 'PASS',
    check: 'all-moved',
    subject,
    detail: `every pod-network pod has an address from ${spec.migrationCIDR}${readdressed.length > 0 ? ` (${readdressed.length} already on its node's podCIDR)` : ''}`,
  };
}
