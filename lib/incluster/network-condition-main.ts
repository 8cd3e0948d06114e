/**
 * Entry point of strategy per-node's network-condition Job (after Calico's removal): on every node
 * whose Cilium agent is ready, a NetworkUnavailable=True left by calico-node's shutdown is set back
 * to False, as Cilium's operator would; one line per node, exit 1 when a node has no ready agent.
 */
import { readFileSync } from 'node:fs';
import { runMain } from './shared/report.ts';
import { apiClient, apiStrategicPatch, describeBody } from './shared/api-client.ts';
import { isReady, networkConditionPatch, type NodeWithConditions, type PodObject } from './move-node.ts';

interface Spec {
  readonly nodes: readonly string[];
  readonly agent: { readonly namespace: string; readonly labelSelector: string };
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/network-condition.json', 'utf8')) as Spec;
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1';
  const port = Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444');
  const api = apiClient(host, port);
  let failed = 0;
  for (const name of spec.nodes) {
    const node = await api.get<NodeWithConditions>(`/api/v1/nodes/${encodeURIComponent(name)}`);
    if (!node) {
      console.log(`FAILED ${name}: not found`);
      failed++;
      continue;
    }
    const query = new URLSearchParams({ fieldSelector: `spec.nodeName=${name}`, labelSelector: spec.agent.labelSelector });
    const agents = await api.get<{ items: PodObject[] }>(
      `/api/v1/namespaces/${encodeURIComponent(spec.agent.namespace)}/pods?${query.toString()}`,
    );
    const ready = (agents?.items ?? []).some(isReady);
    const decision = networkConditionPatch(node, ready, new Date());
    if (decision.patch !== undefined) {
      const response = await apiStrategicPatch(host, port, `/api/v1/nodes/${encodeURIComponent(name)}/status`, decision.patch);
      if (response.status < 200 || response.status >= 300) {
        console.log(`FAILED ${name}: HTTP ${response.status}: ${describeBody(response.body)}`);
        failed++;
        continue;
      }
    }
    console.log(decision.line);
    if (decision.failed) {
      failed++;
    }
  }
  console.log(failed > 0 ? `network-condition: ${failed} node(s) failed` : 'network-condition: done');
  return failed > 0 ? 1 : 0;
}

runMain(main);
