/**
 * One round of the host check of one node (`verify-host-<node>`, pinned to it, on its host
 * network): the agent's own status and cilium-health's probes to every other node through the
 * agent's sockets, the host to every node's echo pod, to the echo ClusterIP (the path of
 * host-network pods such as the cloud controller) and to every node's NodePort, and kube-proxy gone.
 */
import type { ApiClient } from './shared/api-client.ts';
import type { CheckResult } from './shared/report.ts';
import { judgeKubeProxyPort } from './node-checks.ts';
import { judgeAgentStatus, judgeHealth, parseJson, type AgentStatus, type HealthStatus } from './verify-agent.ts';
import { answersTcp, fetchAnswer } from './verify-probes.ts';
import { echoPaths, echoState } from './verify-pods.ts';
import type { VerifySpec } from './verify-spec.ts';
import type { Round } from './verify-window.ts';

/** kube-proxy's health port. */
const KUBE_PROXY_HEALTH_PORT = 10256;

/** The round function of `verify-host-<node>`. */
export function hostRound(api: ApiClient, spec: VerifySpec, self: string, startedMs: number): () => Promise<Round> {
  const seen = new Set<string>();
  return async () => {
    const [statusAnswer, healthAnswer, state] = await Promise.all([
      fetchAnswer({ url: 'http://localhost/v1/healthz', socketPath: spec.cilium.agentSocket }),
      fetchAnswer({ url: 'http://localhost/v1beta/status', socketPath: spec.cilium.healthSocket }),
      echoState(api, spec),
    ]);
    const status = parseJson<AgentStatus>(statusAnswer);
    const health = parseJson<HealthStatus>(healthAnswer);
    const waiting: CheckResult[] = [
      ...(typeof status === 'string'
        ? [{ outcome: 'FAIL' as const, check: 'agent', subject: self, detail: `${spec.cilium.agentSocket}: ${status}` }]
        : []),
      ...(typeof health === 'string'
        ? [{ outcome: 'FAIL' as const, check: 'health', subject: self, detail: `${spec.cilium.healthSocket}: ${health}` }]
        : []),
      ...state.waiting,
    ];
    const probes =
      typeof health === 'string'
        ? undefined
        : judgeHealth(
            self,
            health,
            spec.nodes.map((n) => n.name),
            startedMs,
          );
    waiting.push(...(probes?.pending ?? []));
    if (waiting.length > 0) {
      return { waiting, results: [] };
    }
    const results: CheckResult[] = [
      ...judgeAgentStatus(self, status as AgentStatus, spec.cilium),
      ...probes!.results,
      ...(await echoPaths(spec, self, state, seen, 'host-')),
    ];
    if (spec.kubeProxyGone) {
      results.push(judgeKubeProxyPort(self, await answersTcp('127.0.0.1', KUBE_PROXY_HEALTH_PORT)));
    }
    return { waiting: [], results };
  };
}
