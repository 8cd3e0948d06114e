/**
 * Entry point of the re-addressing Job: once Cilium runs with its final IPAM, every pod that
 * still has an old address is evicted (PodDisruptionBudgets hold) and comes back with an address
 * from Cilium. Per-node phase switch: the pods on the migration range. Cutover: the pods without a
 * CiliumEndpoint (still on Calico's addresses). Pods nothing recreates are listed, not deleted; a
 * broken pod a budget holds is deleted only under run.deleteBrokenPods.
 */
import { readFileSync } from 'node:fs';
import { runMain } from './shared/report.ts';
import { apiClient, describeBody, objectPath } from './shared/api-client.ts';
import { evictUntilGone } from './evict.ts';
import { isReady, podRef, restartable, type PodObject } from './move-node.ts';
import { podsInRange, podsUnmanaged, type ReaddressSpec } from './readdress.ts';

const target = {
  host: process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1',
  port: Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'),
  pollMs: Number(process.env.CILIUM_CUTOVER_POLL_MS ?? '5000'),
};
const api = apiClient(target.host, target.port);

/**
 * A pod on an old address whose eviction a PodDisruptionBudget refuses. Not Ready, it has no
 * network and serves nothing the budget protects (and under the default
 * `unhealthyPodEvictionPolicy: IfHealthyBudget` its eviction stays refused while the budget is
 * short): deleted with run.deleteBrokenPods, else named with that setting while the Job waits.
 */
async function settleBroken(spec: ReaddressSpec, pod: PodObject): Promise<string | undefined> {
  if (isReady(pod)) {
    return undefined;
  }
  const ref = podRef(pod);
  if (!spec.deleteBrokenPods) {
    return `WAITING ${ref}: not Ready, and a PodDisruptionBudget refuses its eviction; run.deleteBrokenPods: true deletes such a pod (it has no network)`;
  }
  const path = objectPath('', 'v1', 'pods', pod.metadata.namespace, pod.metadata.name);
  // Only the pod as it was listed, not Ready: one that changed since (became Ready, or another
  // took its name) answers 409 and is looked at again next round.
  const preconditions = { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion };
  const response = await api.deleteWith(path, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions });
  if (response.status === 409) {
    return `WAITING ${ref}: changed since it was listed; looking again`;
  }
  if (response.status !== 404 && (response.status < 200 || response.status >= 300)) {
    throw new Error(`delete ${ref}: HTTP ${response.status}: ${describeBody(response.body)}`);
  }
  return `DELETED ${ref}: not Ready, and a PodDisruptionBudget refuses its eviction (run.deleteBrokenPods)`;
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/readdress.json', 'utf8')) as ReaddressSpec;
  let manual: PodObject[] = [];
  const what = spec.migrationCIDR !== undefined ? `pods on ${spec.migrationCIDR}` : 'pods without a CiliumEndpoint';
  await evictUntilGone(
    target,
    async () => {
      const list = await api.get<{ items: PodObject[] }>('/api/v1/pods');
      const pods = list?.items ?? [];
      let old: PodObject[];
      if (spec.migrationCIDR !== undefined) {
        old = podsInRange(pods, spec.migrationCIDR);
      } else {
        const endpoints = await api.get<{ items: { metadata: { name: string; namespace?: string } }[] }>(
          '/apis/cilium.io/v2/ciliumendpoints',
        );
        if (!endpoints) {
          throw new Error('the CiliumEndpoint API is not there: the Cilium operator has not registered its CRDs');
        }
        old = podsUnmanaged(pods, endpoints.items);
      }
      const split = restartable(old, spec.evictUnmanagedPods);
      manual = split.manual;
      return split.evict;
    },
    Date.now() + spec.timeoutSeconds * 1000,
    what,
    { onBudget: (pod) => settleBroken(spec, pod) },
  );
  for (const pod of manual) {
    console.log(
      `FAILED ${podRef(pod)} has no controller and ${spec.migrationCIDR ? `still uses ${spec.migrationCIDR}` : 'is not managed by Cilium'}: restart it by hand`,
    );
  }
  console.log(manual.length > 0 ? `readdress: ${manual.length} pod(s) left` : `readdress: no ${what} any more`);
  return manual.length > 0 ? 1 : 0;
}

runMain(main);
