/**
 * Entry point of the Calico deletion Job: the inventory kept in ConfigMaps (nothing is deleted
 * unless every part of it is), workloads, wait for their pods, then CRDs, access and
 * configuration; one line per object; exit 1 when any delete failed. Re-running is safe: what is
 * gone is reported ABSENT, and an inventory taken again never replaces an earlier one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { INVENTORY_NAMESPACE, LABEL_INVENTORY } from '../labels.ts';
import {
  inventoryCounts,
  inventoryParts,
  keptObject,
  NOT_KEPT,
  type KeptObject,
  type ListedObject,
  type PartObject,
} from './calico-inventory.ts';
import { coveringInventory, type ReadPart } from './calico-inventory-read.ts';
import { podsOffRange, podWhere, type PodObject } from './move-node.ts';
import { apiClient, apiPost, describeBody, objectPath } from './shared/api-client.ts';
import {
  crdTerminatingLine,
  deletionResult,
  networkUnavailableLine,
  podWait,
  storageVersion,
  type CrdObject,
  type DeletionSpec,
  type DeletionTarget,
} from './calico-delete.ts';

const host = process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1';
const port = Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444');
const api = apiClient(host, port);

/**
 * A CRD's storage version and kind, and whether it is being deleted; undefined when it is absent.
 * A CRD being deleted still serves its custom resources until they are gone.
 */
async function crdVersion(name: string): Promise<{ version: string; kind: string; terminating: boolean } | undefined> {
  const crd = await api.get<CrdObject & { metadata?: { deletionTimestamp?: string } }>(
    objectPath('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', undefined, name),
  );
  const version = storageVersion(crd);
  return crd && version
    ? { version, kind: crd.spec?.names?.kind ?? name, terminating: crd.metadata?.deletionTimestamp !== undefined }
    : undefined;
}

/**
 * Creates one part; a part of the same name exists after an earlier run that stopped: the name
 * holds the content's hash, so it is the same inventory, which is checked. Retries what did not
 * answer (a create that did arrive then answers 409).
 */
async function createPart(part: PartObject): Promise<string | undefined> {
  const path = objectPath('', 'v1', 'configmaps', INVENTORY_NAMESPACE);
  let last = '';
  for (let attempt = 1; attempt <= 5; attempt++) {
    const response = await apiPost(host, port, path, part).catch((err: Error) => ({ status: 0, body: err.message }));
    if (response.status === 201 || response.status === 200) {
      return undefined;
    }
    if (response.status === 409) {
      // The Job may list the inventory's ConfigMaps, not get them (their names are not known up front).
      const selector = encodeURIComponent(`${LABEL_INVENTORY}=${part.metadata.labels[LABEL_INVENTORY]}`);
      const listed = await api.get<{ items?: (PartObject & { metadata: { name: string } })[] }>(`${path}?labelSelector=${selector}`);
      const live = listed?.items?.find((i) => i.metadata.name === part.metadata.name);
      const same =
        JSON.stringify(live?.data ?? {}) === JSON.stringify(part.data ?? {}) &&
        JSON.stringify(live?.binaryData ?? {}) === JSON.stringify(part.binaryData ?? {});
      return same ? undefined : `ConfigMap ${INVENTORY_NAMESPACE}/${part.metadata.name} exists with other content`;
    }
    last = response.status === 0 ? String(response.body) : `HTTP ${response.status}: ${describeBody(response.body)}`;
    // 429: the API server sheds load; retried like a 5xx.
    if (response.status > 0 && response.status < 500 && response.status !== 429) {
      break;
    }
    await sleep(2000);
  }
  return `creating ConfigMap ${INVENTORY_NAMESPACE}/${part.metadata.name} failed: ${last}`;
}

/**
 * Keeps every configured Calico custom resource in the inventory's ConfigMaps before anything is
 * deleted; false (with a FAILED line) when it could not, and then nothing is deleted.
 */
async function inventory(spec: DeletionSpec): Promise<boolean> {
  console.log(`inventory: the custom resources that deleting the CRDs destroys, kept in namespace ${INVENTORY_NAMESPACE}`);
  const kept: KeptObject[] = [];
  let gone = 0;
  for (const resource of spec.inventory) {
    const crd = await crdVersion(resource.crd);
    if (!crd) {
      console.log(`INVENTORY ${resource.crd}: CRD absent, nothing to keep`);
      gone++;
      continue;
    }
    const list = await api.get<{ items?: ListedObject[] }>(objectPath(resource.group, crd.version, resource.plural, undefined));
    const items = list?.items ?? [];
    if (NOT_KEPT.has(resource.plural)) {
      console.log(`INVENTORY ${crd.kind}: ${items.length} object(s), not kept (written by Calico itself)`);
      continue;
    }
    console.log(
      `INVENTORY ${crd.kind}: ${items.length} object(s)${crd.terminating ? ' (the CRD is being deleted: what is left of it)' : ''}`,
    );
    kept.push(...items.map((item) => keptObject(item, `${resource.group}/${crd.version}`, crd.kind)));
  }
  if (kept.length === 0) {
    console.log(
      gone === spec.inventory.length
        ? 'KEPT nothing: none of the CRDs is left; `cilium-cutover inventory` lists what the run that deleted them kept'
        : 'KEPT nothing: no configured custom resource',
    );
    return true;
  }
  // An earlier run (stopped after the inventory, some CRDs gone since) kept them all already.
  const listed = await api.get<{ items?: ReadPart[] }>(
    `${objectPath('', 'v1', 'configmaps', INVENTORY_NAMESPACE)}?labelSelector=${encodeURIComponent(LABEL_INVENTORY)}`,
  );
  const earlier = coveringInventory(kept, listed?.items ?? []);
  if (earlier) {
    console.log(
      `KEPT already: the ${kept.length} custom resource(s) left are in Calico inventory ${earlier.id}, taken ${earlier.takenAt} ` +
        `(${earlier.objects.length} in all); restore them with: cilium-cutover restore --id ${earlier.id}`,
    );
    return true;
  }
  let parts: ReturnType<typeof inventoryParts>;
  try {
    parts = inventoryParts(kept, spec.calicoVersion, new Date().toISOString());
  } catch (err) {
    console.log(`FAILED inventory: ${(err as Error).message}; save it by hand (kubectl get -o yaml) and delete it, then re-run this step`);
    return false;
  }
  for (const part of parts.parts) {
    const problem = await createPart(part);
    if (problem !== undefined) {
      console.log(`FAILED inventory: ${problem}; nothing was deleted`);
      return false;
    }
  }
  console.log(
    `KEPT Calico inventory ${parts.id}: ${kept.length} custom resource(s) (${inventoryCounts(kept)}) in ` +
      `${parts.parts.length} ConfigMap(s) in namespace ${INVENTORY_NAMESPACE}: ${parts.parts.map((p) => p.metadata.name).join(', ')}; ` +
      `restore them with: cilium-cutover restore --id ${parts.id}`,
  );
  return true;
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
    const version = storageVersion(crd);
    // The Job may list the resources of the inventory; others' are named without their holders.
    const readable =
      group !== undefined && plural !== undefined && spec.inventory.some((r) => r.crd === `${plural}.${group}`) && version !== undefined;
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

/** strategy per-node: no pod is left on a Calico address, which would lose its network with Calico. */
async function allOnCilium(migrationCIDR: string): Promise<boolean> {
  const left = podsOffRange((await api.get<{ items: PodObject[] }>('/api/v1/pods'))?.items ?? [], migrationCIDR);
  if (left.length === 0) {
    console.log(`PASS pods-on-cilium: every pod-network pod has an address from ${migrationCIDR}`);
    return true;
  }
  const names = left.map(podWhere).join(', ');
  console.log(
    `FAIL pods-on-cilium: ${left.length} pod(s) still on a Calico address, which would lose its network with Calico: ${names}; restart them (they come back on Cilium), then run this step again`,
  );
  console.log('calico-delete: nothing deleted');
  return false;
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/calico-delete.json', 'utf8')) as DeletionSpec;
  console.log(`calico-delete: removing Calico ${spec.calicoVersion} (${spec.targets.length} objects)`);
  if (spec.migrationCIDR !== undefined && !(await allOnCilium(spec.migrationCIDR))) {
    return 1;
  }
  if (!(await inventory(spec))) {
    return 1;
  }
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
