/**
 * Entry point of the steady phase's node check: every configured node against what Cilium needs of
 * it (k3s flags, CIDRs, kubelet minor, kernel, no resource pressure), as the preflight judges
 * them. A node added after the migration is listed in the config, which renames this Job, so it
 * runs again for the new node. Bundled with its imports into one file at synth time.
 */
import { readFileSync } from 'node:fs';
import { apiClient, objectPath } from './shared/api-client.ts';
import { checkNode, type NodeObject, type NodeSpec } from './preflight-checks.ts';
import { report, runMain, type CheckResult } from './shared/report.ts';

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/node-check.json', 'utf8')) as NodeSpec;
  const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));
  const results: CheckResult[] = [];
  for (const node of spec.nodes) {
    results.push(...checkNode(spec, node, await api.get<NodeObject>(objectPath('', 'v1', 'nodes', undefined, node.name))));
  }
  return report(results, 'node check');
}

runMain(main, (message) => [`FAIL node-check api: ${message}`]);
