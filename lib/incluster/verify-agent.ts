/**
 * The host check's decisions about the Cilium agent on its node, from the agent's own API (what
 * `cilium-dbg status` reads: GET /v1/healthz on the agent socket) and cilium-health's (what
 * `cilium-health status` reads: GET /v1beta/status on the health socket), and about kube-proxy's
 * absence. Field names and values from cilium/cilium api/v1/openapi.yaml (StatusResponse) and
 * api/v1/health/openapi.yaml (HealthStatusResponse), 1.15 to 1.20; the fixtures in
 * test/fixtures/cilium-agent/ cite the lines. Dependency-free.
 */
import type { CheckResult } from './shared/report.ts';
import type { HttpAnswer } from './verify-paths.ts';

interface SubsystemStatus {
  readonly state?: string;
  readonly msg?: string;
}

/** The parts of the agent's StatusResponse the check judges. */
export interface AgentStatus {
  readonly cilium?: SubsystemStatus;
  readonly kubernetes?: SubsystemStatus;
  readonly 'container-runtime'?: SubsystemStatus;
  readonly controllers?: readonly {
    readonly name?: string;
    readonly status?: { readonly 'consecutive-failure-count'?: number; readonly 'last-failure-msg'?: string };
  }[];
  readonly 'kube-proxy-replacement'?: { readonly mode?: string };
  /** 1.16 and later (cilium/cilium 302a8b12fb); 1.15 reports only `host-routing`. */
  readonly routing?: { readonly 'intra-host-routing-mode'?: string; readonly 'inter-host-routing-mode'?: string };
  readonly 'host-routing'?: { readonly mode?: string };
  /** Probes of the agent's status collector that have not answered in time, by name. */
  readonly stale?: Readonly<Record<string, string>>;
}

/** What the agent must report, from the config. */
export interface AgentExpectation {
  readonly routing: 'Native' | 'Tunnel';
  readonly kubeProxyReplacement: boolean;
}

/** Parses an answer of the agent's API; a string says why there is none. */
export function parseJson<T>(answer: HttpAnswer): T | string {
  if (answer.status === undefined) {
    return `no answer (${answer.body})`;
  }
  if (answer.status !== 200) {
    return `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`;
  }
  try {
    return JSON.parse(answer.body) as T;
  } catch {
    return 'the answer is not JSON';
  }
}

/**
 * The agent's status as `cilium-dbg status` shows it: the agent and its Kubernetes connection Ok,
 * no controller failing, no stale probe, kube-proxy replacement and inter-host routing as
 * configured (the settings in effect, which a wrong key silently changes).
 */
export function judgeAgentStatus(self: string, status: AgentStatus, expect: AgentExpectation): CheckResult[] {
  const results: CheckResult[] = [];
  const state = (what: string, s: SubsystemStatus | undefined): CheckResult => ({
    outcome: s?.state === 'Ok' ? 'PASS' : 'FAIL',
    check: 'agent',
    subject: `${self} ${what}`,
    detail: `${s?.state ?? 'not reported'}${s?.msg ? `: ${s.msg}` : ''}`,
  });
  results.push(state('cilium', status.cilium), state('kubernetes', status.kubernetes));
  const failing = (status.controllers ?? []).filter((c) => (c.status?.['consecutive-failure-count'] ?? 0) > 0);
  results.push(
    failing.length === 0
      ? {
          outcome: 'PASS',
          check: 'agent',
          subject: `${self} controllers`,
          detail: `${(status.controllers ?? []).length} controller(s), none failing`,
        }
      : {
          outcome: 'FAIL',
          check: 'agent',
          subject: `${self} controllers`,
          detail: `failing: ${failing
            .map((c) => `${c.name ?? '?'} (${c.status?.['consecutive-failure-count']}x: ${c.status?.['last-failure-msg'] ?? ''})`)
            .join('; ')}`,
        },
  );
  const stale = Object.keys(status.stale ?? {});
  if (stale.length > 0) {
    results.push({ outcome: 'FAIL', check: 'agent', subject: `${self} probes`, detail: `stale: ${stale.sort().join(', ')}` });
  }
  // 'True' or 'False'; 1.15 also knew the older 'Strict' for the same thing.
  const mode = status['kube-proxy-replacement']?.mode;
  const kprOn = mode === 'True' || mode === 'Strict';
  results.push({
    outcome: kprOn === expect.kubeProxyReplacement ? 'PASS' : 'FAIL',
    check: 'agent',
    subject: `${self} kube-proxy-replacement`,
    detail: `mode ${mode ?? 'not reported'}, ${expect.kubeProxyReplacement ? 'True' : 'False'} configured`,
  });
  const inter = status.routing?.['inter-host-routing-mode'];
  if (status.routing === undefined && status['host-routing'] !== undefined) {
    results.push({
      outcome: 'SKIP',
      check: 'agent',
      subject: `${self} routing`,
      detail: `this release reports no inter-host routing (host routing ${status['host-routing'].mode ?? 'unknown'}); Cilium 1.16 and later do`,
    });
  } else {
    results.push({
      outcome: inter === expect.routing ? 'PASS' : 'FAIL',
      check: 'agent',
      subject: `${self} routing`,
      detail: `inter-host ${inter ?? 'not reported'} (host ${status.routing?.['intra-host-routing-mode'] ?? 'not reported'}), ${expect.routing} configured`,
    });
  }
  return results;
}

interface ConnectivityStatus {
  readonly status?: string;
  readonly latency?: number;
  /** When this probe ran (1.18 and later). */
  readonly lastProbed?: string;
}

interface PathStatus {
  readonly ip?: string;
  readonly http?: ConnectivityStatus;
  readonly icmp?: ConnectivityStatus;
}

/** The parts of cilium-health's HealthStatusResponse the check judges. */
export interface HealthStatus {
  /** When the probe round whose results these are began. */
  readonly timestamp?: string;
  readonly nodes?: readonly {
    readonly name?: string;
    readonly host?: { readonly 'primary-address'?: PathStatus };
    readonly 'health-endpoint'?: { readonly 'primary-address'?: PathStatus };
  }[];
}

/**
 * A probed address's problem: a non-empty `status` of its HTTP or ICMP probe is an error
 * (cilium/cilium pkg/health/client GetConnectivityStatusType); no result yet, or one older than
 * `since` (its `lastProbed`, or the round's `timestamp` before 1.18), is `pending`: cilium-health
 * probes each node about every two minutes and serves what it last found.
 */
function pathProblem(what: string, path: PathStatus | undefined, since: number, roundStarted: number): string | 'pending' | undefined {
  if (!path || (!path.http && !path.icmp)) {
    return 'pending';
  }
  const probed = [path.http?.lastProbed, path.icmp?.lastProbed].map((t) => Date.parse(t ?? '')).filter((t) => Number.isFinite(t));
  const when = probed.length > 0 ? Math.min(...probed) : roundStarted;
  if (Number.isFinite(when) && when < since) {
    return 'pending';
  }
  const errors = [path.http?.status ? `HTTP ${path.http.status}` : '', path.icmp?.status ? `ICMP ${path.icmp.status}` : ''].filter(
    (e) => e,
  );
  return errors.length > 0 ? `${what} ${path.ip ?? ''}: ${errors.join(', ')}` : undefined;
}

/**
 * cilium-health's probes from this node to each other node: its host address and its health
 * endpoint (an address in the node's pod CIDR) must both answer, in a probe that ran after `since`
 * (the check's start). cilium-health names a node by its name, or `<cluster>/<node>` when the
 * cluster name is not `default` (pkg/node/types nodename.go).
 */
export function judgeHealth(
  self: string,
  health: HealthStatus,
  peers: readonly string[],
  since: number = Number.NEGATIVE_INFINITY,
): { results: CheckResult[]; pending: CheckResult[] } {
  const roundStarted = Date.parse(health.timestamp ?? '');
  const results: CheckResult[] = [];
  const pending: CheckResult[] = [];
  for (const peer of peers.filter((p) => p !== self)) {
    const entry = (health.nodes ?? []).find((n) => n.name === peer || n.name?.endsWith(`/${peer}`));
    const subject = `${self} -> ${peer}`;
    const problems = entry
      ? [
          pathProblem('node', entry.host?.['primary-address'], since, roundStarted),
          pathProblem('health endpoint', entry['health-endpoint']?.['primary-address'], since, roundStarted),
        ]
      : ['pending'];
    if (problems.includes('pending')) {
      // cilium-health probes every node once per interval (about two minutes on three nodes).
      pending.push({ outcome: 'FAIL', check: 'health', subject, detail: 'cilium-health has not probed this node since the check began' });
    } else {
      const errors = problems.filter((p): p is string => p !== undefined);
      results.push(
        errors.length === 0
          ? { outcome: 'PASS', check: 'health', subject, detail: 'node and health endpoint answer' }
          : { outcome: 'FAIL', check: 'health', subject, detail: errors.join('; ') },
      );
    }
  }
  return { results, pending };
}
