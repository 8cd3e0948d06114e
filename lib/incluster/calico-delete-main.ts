/**
 * Entry point of the Calico deletion Job: inventory, workloads, wait for their pods, then CRDs,
 * access and configuration; one line per object; exit 1 when any delete failed. Re-running is
 * safe: what is gone is reported ABSENT.
 */
import { readFileSync } from 'node:fs';
import { apiClient, objectPath } from './shared/api-client.ts';
import {
  crdTerminatingLine,
  deletionResult,
  inventoryLines,
  networkUnavailableLine,
  podWait,
  type CrdObject,
  type DeletionSpec,
  type DeletionTarget,
} from './calico-delete.ts';

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

/**
 * Deletes a phase's objects, one line each. A CRD's delete only starts its removal (its custom
 * resources go first): those are returned to be awaited, and reported once they are gone.
 */
async function deletePhase(spec: DeletionSpec, phase: string): Promise<{ failed: number; pending: DeletionTarget[] }> {
  let failed = 0;
  const pending: DeletionTarget[] = [];
  for (const target of spec.targets.filter((t) => t.phase === phase)) {
    const result = deletionResult(target, await api.request('DELETE', target.path));
    if (result.outcome === 'DELETED' && target.kind === 'CustomResourceDefinition') {
      pending.push(target);
      continue;
    }
    console.log(result.line);
    if (result.outcome === 'FAILED') {
      failed++;
    }
  }
  return { failed, pending };
}

/** Waits until the deleted CRDs are gone; one that stays is reported TERMINATING with what holds it. */
async function waitForCrds(spec: DeletionSpec, crds: readonly DeletionTarget[]): Promise<number> {
  const deadline = Date.now() + spec.crdWaitSeconds * 1000;
  let left = [...crds];
  for (;;) {
    const still: DeletionTarget[] = [];
    for (const target of left) {
      if ((await api.get(target.path)) === undefined) {
        console.log(`DELETED CustomResourceDefinition ${target.name}`);
      } else {
        still.push(target);
      }
    }
    left = still;
    if (left.length === 0 || Date.now() > deadline) {
      break;
    }
    await sleep(spec.crdPollSeconds * 1000);
  }
  for (const target of left) {
    const crd = (await api.get<CrdObject>(target.path)) ?? {};
    const group = crd.spec?.group;
    const plural = crd.spec?.names?.plural;
    const version = crd.spec?.versions?.find((v) => v.storage)?.name ?? crd.spec?.versions?.[0]?.name;
    // The Job may list the Calico resources (the inventory); others' are named without their holders.
    const readable = group === 'crd.projectcalico.org' && plural !== undefined && spec.inventory.includes(plural) && version !== undefined;
    const holders = readable
      ? await api.get<Parameters<typeof crdTerminatingLine>[3]>(objectPath(group, version, plural, undefined))
      : undefined;
    console.log(crdTerminatingLine(target.name, crd, spec.crdWaitSeconds, holders));
  }
  return left.length;
}

interface NodeReady {
  readonly status?: { readonly conditions?: readonly { readonly type: string; readonly status: string }[] };
}

async function waitForPods(spec: DeletionSpec): Promise<boolean> {
  const deadline = Date.now() + spec.podWaitSeconds * 1000;
  const reported = new Set<string>();
  for (;;) {
    const lists = await Promise.all(
      spec.podSelectors.map((s) => api.get(`${objectPath('', 'v1', 'pods', 'kube-system')}?labelSelector=${encodeURIComponent(s)}`)),
    );
    // The Ready status of the configured nodes (the account may read only those).
    const ready = new Map<string, string | undefined>();
    for (const name of spec.nodes) {
      const node = await api.get<NodeReady>(objectPath('', 'v1', 'nodes', undefined, name));
      ready.set(name, node?.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown');
    }
    const wait = podWait(lists as Parameters<typeof podWait>[0], spec.skipNodes, (n) => ready.get(n));
    for (const line of wait.skipped.filter((l) => !reported.has(l))) {
      reported.add(line);
      console.log(line);
    }
    if (wait.waiting.length === 0) {
      console.log(
        wait.skipped.length === 0
          ? 'PASS calico pods: all gone'
          : `PASS calico pods: all gone but ${wait.skipped.length} on nodes that are down (SKIPPED above)`,
      );
      return true;
    }
    if (Date.now() > deadline) {
      console.log(
        `FAIL calico pods: still present after ${spec.podWaitSeconds}s on nodes that are Ready: ${wait.waiting.join(', ')}; ` +
          'find what holds them (`kubectl -n kube-system describe pod`: a finalizer, a stuck container), then re-run this step',
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
  let failed = (await deletePhase(spec, 'workloads')).failed;
  if (!(await waitForPods(spec))) {
    return 1;
  }
  const crds = await deletePhase(spec, 'crds');
  failed += crds.failed + (await waitForCrds(spec, crds.pending));
  for (const phase of ['access', 'config']) {
    failed += (await deletePhase(spec, phase)).failed;
  }
  for (const node of spec.nodes) {
    console.log(networkUnavailableLine(node, await api.get(objectPath('', 'v1', 'nodes', undefined, node))));
  }
  console.log(failed > 0 ? `calico-delete: ${failed} delete(s) failed or did not finish` : 'calico-delete: done');
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`FAILED calico-delete: ${(err as Error).message}`);
    process.exit(1);
  },
);
