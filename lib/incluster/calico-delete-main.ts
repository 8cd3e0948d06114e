/**
 * Entry point of the Calico deletion Job: inventory, workloads, wait for their pods, then CRDs,
 * access and configuration; one line per object; exit 1 when any delete failed. Re-running is
 * safe: what is gone is reported ABSENT.
 */
import { readFileSync } from 'node:fs';
import { apiClient, objectPath } from './shared/api-client.ts';
import { deletionResult, inventoryLines, networkUnavailableLine, remainingPods, type DeletionSpec } from './calico-delete.ts';

const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function inventory(spec: DeletionSpec): Promise<void> {
  console.log(`inventory: the Calico custom resources that deleting the CRDs destroys`);
  for (const resource of spec.inventory) {
    for (const line of inventoryLines(resource, await api.get(objectPath('crd.projectcalico.org', 'v1', resource, undefined)))) {
      console.log(line);
    }
  }
}

async function deletePhase(spec: DeletionSpec, phase: string): Promise<number> {
  let failed = 0;
  for (const target of spec.targets.filter((t) => t.phase === phase)) {
    const result = deletionResult(target, await api.request('DELETE', target.path));
    console.log(result.line);
    if (result.outcome === 'FAILED') {
      failed++;
    }
  }
  return failed;
}

async function waitForPods(spec: DeletionSpec): Promise<boolean> {
  const deadline = Date.now() + spec.podWaitSeconds * 1000;
  for (;;) {
    const lists = await Promise.all(
      spec.podSelectors.map((s) => api.get(`${objectPath('', 'v1', 'pods', 'kube-system')}?labelSelector=${encodeURIComponent(s)}`)),
    );
    const left = remainingPods(lists as Parameters<typeof remainingPods>[0]);
    if (left.length === 0) {
      console.log('PASS calico pods: all gone');
      return true;
    }
    if (Date.now() > deadline) {
      console.log(
        `FAIL calico pods: still present after ${spec.podWaitSeconds}s: ${left.join(', ')}; ` +
          'a pod on an unreachable node stays Terminating: bring the node back or force-delete the pod, then re-run this step',
      );
      return false;
    }
    await sleep(spec.podPollSeconds * 1000);
  }
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/calico-delete.json', 'utf8')) as DeletionSpec;
  console.log(`calico-delete: removing Calico ${spec.calicoVersion} (${spec.targets.length} objects)`);
  await inventory(spec);
  let failed = await deletePhase(spec, 'workloads');
  if (!(await waitForPods(spec))) {
    return 1;
  }
  for (const phase of ['crds', 'access', 'config']) {
    failed += await deletePhase(spec, phase);
  }
  for (const node of spec.nodes) {
    console.log(networkUnavailableLine(node, await api.get(objectPath('', 'v1', 'nodes', undefined, node))));
  }
  console.log(failed > 0 ? `calico-delete: ${failed} delete(s) failed` : 'calico-delete: done');
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`FAILED calico-delete: ${(err as Error).message}`);
    process.exit(1);
  },
);
