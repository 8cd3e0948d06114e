/**
 * The verification checks' decisions, as plain functions over API objects and HTTP answers. The
 * runner (verify-main.ts) fetches and retries; these judge. Dependency-free.
 */
import type { CheckResult } from './shared/report.ts';
import type { EchoAnswer } from './echo-server.ts';

/** What the checks need to know, rendered into their ConfigMap. */
export interface VerifySpec {
  readonly namespace: string;
  /** The echo Service and its pods' label selector and port. */
  readonly echo: { readonly service: string; readonly selector: string; readonly servicePort: number; readonly podPort: number };
  readonly nodes: readonly { readonly name: string; readonly internalIP: string }[];
  readonly podCIDR: string;
  readonly ingress?: {
    readonly host: string;
    readonly controller: 'hostNetwork' | 'service';
    readonly port: number;
    readonly service: { readonly namespace: string; readonly name: string };
  };
  readonly externalURLs: readonly string[];
  /** Bounded retries: the network may take a minute to settle. */
  readonly attempts: number;
  readonly delaySeconds: number;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
}

export interface PodObject {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: { readonly nodeName?: string; readonly hostNetwork?: boolean };
  readonly status?: { readonly phase?: string; readonly podIP?: string; readonly conditions?: readonly Condition[] };
}

const ready = (pod: PodObject): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Reads an echo answer; undefined when the body is not one. */
export function parseEcho(body: string): EchoAnswer | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<EchoAnswer>;
    return parsed.service === 'cilium-cutover-echo' && typeof parsed.pod === 'string' ? (parsed as EchoAnswer) : undefined;
  } catch {
    return undefined;
  }
}

/** CoreDNS: at least one pod, every pod Running and Ready. */
export function judgeCoreDns(pods: readonly PodObject[]): CheckResult {
  const subject = 'kube-system/coredns';
  if (pods.length === 0) {
    return { outcome: 'FAIL', check: 'coredns', subject, detail: 'no pod with label k8s-app=kube-dns' };
  }
  const bad = pods.filter((p) => p.status?.phase !== 'Running' || !ready(p));
  if (bad.length > 0) {
    return {
      outcome: 'FAIL',
      check: 'coredns',
      subject,
      detail: `not Running and Ready: ${bad.map((p) => `${p.metadata.name} (${p.status?.phase ?? 'no phase'})`).join(', ')}`,
    };
  }
  return { outcome: 'PASS', check: 'coredns', subject, detail: `${pods.length} pod(s) Running and Ready` };
}

/**
 * The echo pod the pod-to-pod check calls: Running, with an address, on another node than the
 * client. Undefined when there is none.
 */
export function crossNodeTarget(clientNode: string, pods: readonly PodObject[]): PodObject | undefined {
  return [...pods]
    .filter((p) => p.status?.phase === 'Running' && p.status.podIP && p.spec?.nodeName && p.spec.nodeName !== clientNode)
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))[0];
}

/** The answer of an HTTP request a check made, judged: the echo backend must have answered. */
export function judgeEcho(check: string, subject: string, status: number | undefined, body: string, expectPod?: string): CheckResult {
  if (status === undefined) {
    return { outcome: 'FAIL', check, subject, detail: `no answer (${body})` };
  }
  const echo = parseEcho(body);
  if (status !== 200 || !echo) {
    return { outcome: 'FAIL', check, subject, detail: `HTTP ${status}, not the echo backend` };
  }
  if (expectPod && echo.pod !== expectPod) {
    return { outcome: 'FAIL', check, subject, detail: `answered by ${echo.pod}, expected ${expectPod}` };
  }
  return { outcome: 'PASS', check, subject, detail: `echo answered from ${echo.pod} on ${echo.node}` };
}

/** An external URL must answer 200 itself (a redirect is reported, not followed). */
export function judgeExternal(url: string, status: number | undefined, detail: string): CheckResult {
  if (status === 200) {
    return { outcome: 'PASS', check: 'external', subject: url, detail: 'HTTP 200' };
  }
  return {
    outcome: 'FAIL',
    check: 'external',
    subject: url,
    detail: status === undefined ? `no answer (${detail})` : `HTTP ${status}${detail ? ` ${detail}` : ''}`,
  };
}

export interface WorkloadStatus {
  readonly metadata: { readonly generation?: number };
  readonly spec?: { readonly replicas?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly desiredNumberScheduled?: number;
    readonly updatedNumberScheduled?: number;
    readonly numberReady?: number;
    readonly numberAvailable?: number;
    readonly readyReplicas?: number;
  };
}

export interface NodeObject {
  readonly metadata: { readonly name: string };
  readonly status?: { readonly conditions?: readonly Condition[] };
}

export interface EndpointObject {
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** IPv4 address as a number, for the pod CIDR test. */
function ipNumber(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)
    ? parts.reduce((a, p) => a * 256 + p, 0)
    : undefined;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, prefix] = cidr.split('/');
  const b = ipNumber(base!);
  const i = ipNumber(ip);
  if (b === undefined || i === undefined) {
    return false;
  }
  const size = 2 ** (32 - Number(prefix));
  return i >= b && i < b + size;
}

/** What `cilium status` checks, from the API: agent and operator ready, nodes' network available, every pod managed. */
export function judgeCiliumHealth(input: {
  readonly agent: WorkloadStatus | undefined;
  readonly operator: WorkloadStatus | undefined;
  readonly nodes: readonly (NodeObject | undefined)[];
  readonly nodeNames: readonly string[];
  readonly pods: readonly PodObject[];
  readonly endpoints: readonly EndpointObject[] | undefined;
  readonly podCIDR: string;
}): CheckResult[] {
  const results: CheckResult[] = [];
  const a = input.agent;
  if (!a) {
    results.push({ outcome: 'FAIL', check: 'cilium-agent', subject: 'kube-system/cilium', detail: 'DaemonSet not found' });
  } else {
    const s = a.status ?? {};
    const desired = s.desiredNumberScheduled ?? 0;
    const done =
      desired > 0 &&
      (s.observedGeneration ?? 0) >= (a.metadata.generation ?? 0) &&
      s.updatedNumberScheduled === desired &&
      s.numberReady === desired &&
      s.numberAvailable === desired;
    results.push({
      outcome: done ? 'PASS' : 'FAIL',
      check: 'cilium-agent',
      subject: 'kube-system/cilium',
      detail: `${s.numberReady ?? 0}/${desired} ready, ${s.updatedNumberScheduled ?? 0} updated, ${s.numberAvailable ?? 0} available`,
    });
  }
  const o = input.operator;
  const want = o?.spec?.replicas ?? 1;
  const readyOps = o?.status?.readyReplicas ?? 0;
  results.push({
    outcome: o && readyOps >= want ? 'PASS' : 'FAIL',
    check: 'cilium-operator',
    subject: 'kube-system/cilium-operator',
    detail: o ? `${readyOps}/${want} ready` : 'Deployment not found',
  });
  input.nodeNames.forEach((name, i) => {
    const node = input.nodes[i];
    const condition = node?.status?.conditions?.find((c) => c.type === 'NetworkUnavailable');
    const ok = node !== undefined && condition?.status === 'False';
    results.push({
      outcome: ok ? 'PASS' : 'FAIL',
      check: 'network-available',
      subject: name,
      detail: node
        ? `NetworkUnavailable=${condition?.status ?? 'unset'}${condition?.reason ? ` (${condition.reason})` : ''}`
        : 'node not found',
    });
  });
  if (input.endpoints === undefined) {
    results.push({
      outcome: 'FAIL',
      check: 'pods-managed',
      subject: 'cluster',
      detail: 'the CiliumEndpoint API is not there: the operator has not registered its CRDs',
    });
    return results;
  }
  const managed = new Set(input.endpoints.map((e) => `${e.metadata.namespace}/${e.metadata.name}`));
  const unmanaged = input.pods.filter((p) => {
    if (p.spec?.hostNetwork || p.status?.phase !== 'Running') {
      return false;
    }
    const id = `${p.metadata.namespace}/${p.metadata.name}`;
    return !managed.has(id) || !p.status.podIP || !inCidr(p.status.podIP, input.podCIDR);
  });
  results.push(
    unmanaged.length === 0
      ? {
          outcome: 'PASS',
          check: 'pods-managed',
          subject: 'cluster',
          detail: 'every running pod on the pod network has a CiliumEndpoint and an address in the pod CIDR',
        }
      : {
          outcome: 'FAIL',
          check: 'pods-managed',
          subject: 'cluster',
          detail: `not managed by Cilium (restart them): ${unmanaged.map((p) => `${p.metadata.namespace}/${p.metadata.name} ${p.status?.podIP ?? 'no IP'}`).join(', ')}`,
        },
  );
  return results;
}
