/**
 * Entry point of the verification Jobs: `node verify.mjs <cluster|pods|host> <spec.json>`.
 * `cluster` judges the API's view (CoreDNS, Cilium's rollout, each agent pod, every pod managed);
 * `pods` runs pinned to one node on the pod network, `host` pinned to one node on its host
 * network with the agent's sockets (NODE_NAME says which). Each waits for its preconditions, then
 * judges rounds in a window (verify-window.ts), prints one PASS/FAIL/SKIP line per subject and
 * exits 1 on a FAIL.
 */
import { readFileSync } from 'node:fs';
import { apiClient, objectPath, type ApiClient } from './shared/api-client.ts';
import { formatResult, printResults, runMain } from './shared/report.ts';
import {
  judgeAgentPods,
  judgeAgentRollout,
  judgeCoreDns,
  judgeNetworkAvailable,
  judgeOperatorRollout,
  restartsOf,
  type NodeObject,
  type PodObject,
  type WorkloadStatus,
} from './verify-checks.ts';
import { hostRound } from './verify-host.ts';
import { judgeEndpoints, judgePending, type EndpointObject, type SandboxEvent } from './verify-pod-state.ts';
import { podsRound } from './verify-pods.ts';
import type { VerifyNode, VerifySpec, VerifySpecFile } from './verify-spec.ts';
import { runWindow, type Round } from './verify-window.ts';

type List<T> = { items?: T[] };

/** What the cluster check waits for before it judges: CoreDNS, the rollouts and each agent pod Ready. */
const CLUSTER_PRECONDITIONS = new Set(['coredns', 'cilium-agent', 'cilium-operator', 'agent-pod']);

function clusterRound(api: ApiClient, spec: VerifySpec): () => Promise<Round> {
  // Each agent pod's restarts when the window began: taken again at every round of the wait.
  let baseline = new Map<string, number>();
  let judging = false;
  return async () => {
    const get = <T>(path: string) => api.get<T>(path);
    const [coredns, agent, operator, pods, endpoints, events, ...nodes] = await Promise.all([
      get<List<PodObject>>(`${objectPath('', 'v1', 'pods', 'kube-system')}?labelSelector=${encodeURIComponent('k8s-app=kube-dns')}`),
      get<WorkloadStatus>(objectPath('apps', 'v1', 'daemonsets', 'kube-system', 'cilium')),
      get<WorkloadStatus>(objectPath('apps', 'v1', 'deployments', 'kube-system', 'cilium-operator')),
      get<List<PodObject>>(objectPath('', 'v1', 'pods', undefined)),
      get<List<EndpointObject>>(objectPath('cilium.io', 'v2', 'ciliumendpoints', undefined)),
      get<List<SandboxEvent>>(
        `${objectPath('', 'v1', 'events', undefined)}?fieldSelector=${encodeURIComponent('reason=FailedCreatePodSandBox')}`,
      ),
      ...spec.nodes.map((n) => get<NodeObject>(objectPath('', 'v1', 'nodes', undefined, n.name))),
    ]);
    const all = (pods as List<PodObject> | undefined)?.items ?? [];
    const agentPods = all.filter((p) => p.metadata.namespace === 'kube-system' && p.metadata.labels?.['k8s-app'] === 'cilium');
    if (!judging) {
      baseline = new Map(agentPods.map((p) => [p.metadata.name, restartsOf(p)]));
    }
    const results = [
      judgeCoreDns((coredns as List<PodObject> | undefined)?.items ?? []),
      judgeAgentRollout(agent as WorkloadStatus | undefined),
      judgeOperatorRollout(operator as WorkloadStatus | undefined),
      ...judgeAgentPods(
        spec.nodes.map((n) => n.name),
        agentPods,
        baseline,
      ),
      ...spec.nodes.map((n, i) => judgeNetworkAvailable(n.name, nodes[i] as NodeObject | undefined)),
      judgeEndpoints(all, (endpoints as List<EndpointObject> | undefined)?.items, spec.podCIDR, Date.now()),
      ...judgePending(
        all,
        (events as List<SandboxEvent> | undefined)?.items ?? [],
        spec.nodes.map((n) => n.name),
        Date.now(),
      ),
    ];
    const waiting = judging ? [] : results.filter((r) => r.outcome === 'FAIL' && CLUSTER_PRECONDITIONS.has(r.check));
    judging = waiting.length === 0;
    return { waiting, results: waiting.length > 0 ? [] : results };
  };
}

/**
 * The checked nodes, from their ConfigMap; retried for the wait (a pod-network check reaches the
 * API through the kubernetes Service, which Cilium serves). A string says why there are none.
 */
async function readNodes(api: ApiClient, file: VerifySpecFile): Promise<VerifyNode[] | string> {
  const until = Date.now() + file.limits.waitSeconds * 1000;
  for (;;) {
    let why: string;
    try {
      const list = await api.get<{ data?: Record<string, string> }>(objectPath('', 'v1', 'configmaps', file.namespace, file.nodeList));
      if (list?.data?.['nodes.json']) {
        return JSON.parse(list.data['nodes.json']) as VerifyNode[];
      }
      why = 'no node list; apply the whole step, which holds this ConfigMap';
    } catch (err) {
      why = `reading the node list: ${(err as Error).message}`;
    }
    if (Date.now() >= until) {
      return why;
    }
    await new Promise((r) => setTimeout(r, Math.max(1, file.limits.roundSeconds) * 1000));
  }
}

async function main(): Promise<number> {
  const [mode, specFile] = process.argv.slice(2);
  const file = JSON.parse(readFileSync(specFile ?? '/etc/cilium-cutover/verify.json', 'utf8')) as VerifySpecFile;
  const self = process.env.NODE_NAME ?? '';
  const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '443'), 2, 1000);
  const known = ['cluster', 'pods', 'host'];
  if (!mode || !known.includes(mode)) {
    console.log(`FAIL verify ${mode ?? '(none)'}: unknown check; one of ${known.join(', ')}`);
    return 1;
  }
  const started = Date.now();
  const nodes = await readNodes(api, file);
  if (typeof nodes === 'string') {
    console.log(`FAIL verify ${file.namespace}/${file.nodeList}: ${nodes}`);
    return 1;
  }
  const spec: VerifySpec = { ...file, nodes };
  const round =
    mode === 'cluster' ? clusterRound(api, spec) : mode === 'pods' ? podsRound(api, spec, self) : hostRound(api, spec, self, started);
  const guarded = async (): Promise<Round> => {
    try {
      return await round();
    } catch (err) {
      return { waiting: [{ outcome: 'FAIL', check: mode!, subject: 'api', detail: (err as Error).message }], results: [] };
    }
  };
  // One wait for everything: reading the node list took part of it.
  const results = await runWindow(guarded, spec.limits, (line) => console.log(line), Date.now, undefined, started);
  const code = printResults(results);
  const failed = results.filter((r) => r.outcome === 'FAIL');
  console.log(
    failed.length > 0
      ? `verify ${mode}${self ? ` ${self}` : ''}: ${failed.length} check(s) failed; first: ${formatResult(failed[0]!)}`
      : `verify ${mode}${self ? ` ${self}` : ''}: all checks passed`,
  );
  return code;
}

runMain(main, (message) => [`FAIL verify: ${message}`]);
