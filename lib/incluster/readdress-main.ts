/**
 * Entry point of the phase-switch Job: once Cilium runs with its final IPAM, every pod that still
 * has an address from the migration range is evicted (PodDisruptionBudgets hold) and comes back
 * with an address from its node's podCIDR. Pods nothing recreates are listed, not deleted.
 */
import { readFileSync } from 'node:fs';
import { runMain } from './shared/report.ts';
import { apiClient } from './shared/api-client.ts';
import { evictUntilGone } from './evict.ts';
import { podRef, podsInRange, restartable, type PodObject, type ReaddressSpec } from './move-node.ts';

const target = {
  host: process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1',
  port: Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'),
  pollMs: Number(process.env.CILIUM_CUTOVER_POLL_MS ?? '5000'),
};
const api = apiClient(target.host, target.port);

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/readdress.json', 'utf8')) as ReaddressSpec;
  let manual: PodObject[] = [];
  await evictUntilGone(
    target,
    async () => {
      const list = await api.get<{ items: PodObject[] }>('/api/v1/pods');
      const split = restartable(podsInRange(list?.items ?? [], spec.migrationCIDR), spec.evictUnmanagedPods);
      manual = split.manual;
      return split.evict;
    },
    Date.now() + spec.timeoutSeconds * 1000,
    `pods on ${spec.migrationCIDR}`,
  );
  for (const pod of manual) {
    console.log(`FAILED ${podRef(pod)} has no controller and still uses ${spec.migrationCIDR}: restart it by hand`);
  }
  console.log(manual.length > 0 ? `readdress: ${manual.length} pod(s) left` : `readdress: no pod uses ${spec.migrationCIDR} any more`);
  return manual.length > 0 ? 1 : 0;
}

runMain(main);
