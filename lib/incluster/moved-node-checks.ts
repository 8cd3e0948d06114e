/**
 * strategy per-node: the connectivity a node has once it is moved, judged from a pod on it before
 * the next node moves. Cilium's migration guide checks that a moved pod has an address of the
 * migration range and reaches the API server; this adds Cilium's overlay to every other node,
 * through each node's cilium-health endpoint (the address its CiliumNode names in
 * `spec.health.ipv4`, port 4240, cilium/cilium pkg/k8s/apis/cilium.io/v2/types.go and
 * pkg/defaults), which every node's agent runs whether it serves the node's pods yet or not.
 *
 * Plain functions over the answers; moved-node-check-main.ts asks. Dependency-free.
 */
import { cidrContainsIp, parseCidr, parseIpv4 } from '../cidr.ts';
import type { CheckResult } from './shared/report.ts';
import type { HttpAnswer } from './verify-paths.ts';

/** What the check Job reads from its ConfigMap. */
export interface MovedNodeCheckSpec {
  readonly node: string;
  /** perNode.podCIDR. */
  readonly migrationCIDR: string;
  /** The other nodes: their CiliumNodes name their health endpoints. */
  readonly peers: readonly string[];
  /** cilium-health's port on its endpoint. */
  readonly healthPort: number;
  /** Tries per peer before its overlay check fails (a peer's agent may be restarting). */
  readonly attempts: number;
  /** Pause between tries. */
  readonly retryDelaySeconds: number;
  /** Peers asked at once. */
  readonly concurrency: number;
}

/** The part of a CiliumNode this check reads. */
export interface CiliumNodeHealth {
  readonly spec?: { readonly health?: { readonly ipv4?: string } };
}

/** The check pod's own address is one the node's Cilium agent handed out. */
export function addressCheck(spec: MovedNodeCheckSpec, podIP: string | undefined): CheckResult {
  const subject = spec.node;
  const ip = podIP === undefined ? undefined : parseIpv4(podIP);
  if (ip === undefined) {
    return { outcome: 'FAIL', check: 'pod-address', subject, detail: `no IPv4 pod address (${podIP ?? 'POD_IP unset'})` };
  }
  return cidrContainsIp(parseCidr(spec.migrationCIDR)!, ip)
    ? { outcome: 'PASS', check: 'pod-address', subject, detail: `${podIP}, from ${spec.migrationCIDR}` }
    : {
        outcome: 'FAIL',
        check: 'pod-address',
        subject,
        detail: `${podIP} is not from ${spec.migrationCIDR}: the pod started with another CNI than Cilium's`,
      };
}

/** The API server answered GET /version through the kubernetes Service. */
export function apiCheck(spec: MovedNodeCheckSpec, service: string, answer: HttpAnswer): CheckResult {
  const subject = `${spec.node} -> ${service}`;
  if (answer.status === 200) {
    let version = 'an answer';
    try {
      version = (JSON.parse(answer.body) as { gitVersion?: string }).gitVersion ?? version;
    } catch {
      // Not JSON: the status is what counts.
    }
    return { outcome: 'PASS', check: 'pod-api', subject, detail: `API server answered (${version})` };
  }
  const why = answer.status === undefined ? `no answer (${answer.body})` : `HTTP ${answer.status}`;
  return { outcome: 'FAIL', check: 'pod-api', subject, detail: why };
}

/** The health endpoint's address a CiliumNode names, or why there is none. */
export function healthAddress(peer: string, node: CiliumNodeHealth | undefined): { ip: string } | { problem: string } {
  if (node === undefined) {
    return { problem: `no CiliumNode ${peer}: its Cilium agent has not registered` };
  }
  const ip = node.spec?.health?.ipv4;
  if (ip === undefined || parseIpv4(ip) === undefined) {
    return { problem: `CiliumNode ${peer} names no IPv4 health endpoint (spec.health.ipv4)` };
  }
  return { ip };
}

/** The overlay to one peer: its health endpoint answered one of the tries. */
export function overlayCheck(
  spec: MovedNodeCheckSpec,
  peer: string,
  target: ReturnType<typeof healthAddress>,
  answers: readonly HttpAnswer[],
): CheckResult {
  if ('problem' in target) {
    return { outcome: 'FAIL', check: 'pod-overlay', subject: `${spec.node} -> ${peer}`, detail: target.problem };
  }
  const subject = `${spec.node} -> ${peer} ${target.ip}`;
  if (answers.some((a) => a.status === 200)) {
    return { outcome: 'PASS', check: 'pod-overlay', subject, detail: "the peer's cilium-health endpoint answered" };
  }
  const last = answers.at(-1);
  const why = last === undefined ? 'not asked' : last.status === undefined ? `no answer (${last.body})` : `HTTP ${last.status}`;
  return { outcome: 'FAIL', check: 'pod-overlay', subject, detail: `${why}, ${answers.length} tries` };
}
