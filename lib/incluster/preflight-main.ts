/**
 * Entry point of the preflight Job: reads its spec, asks the API, prints one line per check and
 * exits 1 when any check failed. Bundled with its imports into one file at synth time.
 */
import { readFileSync } from 'node:fs';
import { apiClient } from './api-client.ts';
import {
  agentNote,
  checkCalico,
  checkNode,
  checkNotOperatorManaged,
  TIGERA_OPERATOR_CRD,
  type DaemonSetObject,
  type NodeObject,
  type PreflightSpec,
} from './preflight-checks.ts';
import { anyFailed, formatResult, type CheckResult } from './report.ts';

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/preflight.json', 'utf8')) as PreflightSpec;
  // The Job sets these to the direct API address (not the kubernetes Service).
  const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));
  const results: CheckResult[] = [];
  for (const node of spec.nodes) {
    const live = await api.get<NodeObject>(`/api/v1/nodes/${encodeURIComponent(node.name)}`);
    results.push(...checkNode(spec, node, live));
  }
  results.push(...agentNote(spec));
  results.push(checkNotOperatorManaged(await api.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${TIGERA_OPERATOR_CRD}`)));
  results.push(checkCalico(spec, await api.get<DaemonSetObject>('/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node')));
  for (const r of results) {
    console.log(formatResult(r));
  }
  const failed = results.filter((r) => r.outcome === 'FAIL').length;
  console.log(anyFailed(results) ? `preflight: ${failed} check(s) failed; nothing was changed` : 'preflight: all checks passed');
  return anyFailed(results) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`FAIL preflight api: ${(err as Error).message}`);
    process.exit(1);
  },
);
