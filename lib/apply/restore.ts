/**
 * The Calico inventory from a workstation: `inventory` lists what step 100 kept (and saves one to
 * a file), `restore` creates its custom resources again, after Calico's manifest has put the CRDs
 * back (the back-out PLAN.md describes), on this cluster or another.
 *
 * A restored object is created when it is absent and replaced when it exists (calico-node makes a
 * default FelixConfiguration and pool on start), so each one ends up with exactly the labels,
 * annotations and spec that were kept. Kinds go in the order calico-inventory.ts gives (tiers
 * before their policies).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { canonicalJson } from '../content-hash.ts';
import { inventoryCounts, restoreOrder, type KeptObject } from '../incluster/calico-inventory.ts';
import { inventoryIds, readInventory, type Inventory, type ReadPart } from '../incluster/calico-inventory-read.ts';
import { InputError } from '../input-error.ts';
import { INVENTORY_NAMESPACE } from '../labels.ts';

/** The inventory could not be read, or the cluster cannot take it: exit 1, with what to do. */
export class RestoreRefused extends Error {
  public constructor(detail: string) {
    super(`refused to restore: ${detail}`);
    this.name = 'RestoreRefused';
  }
}

/** What `inventory` and `restore` need from a cluster. */
export interface InventoryCluster {
  /** The ConfigMaps of the inventory namespace that carry the inventory label. */
  parts(): Promise<ReadPart[]>;
  /** Whether the API serves a kind (its CRD is installed). */
  serves(apiVersion: string, kind: string): Promise<boolean>;
  /** Whether a namespace exists. */
  hasNamespace(name: string): Promise<boolean>;
  /** The live object's resourceVersion, labels, annotations and spec; undefined when absent. */
  read(obj: KeptObject): Promise<KubernetesObject | undefined>;
  create(obj: KeptObject, dryRun: boolean): Promise<void>;
  replace(obj: KeptObject, dryRun: boolean): Promise<void>;
}

/** The inventory to use: `id`, or the only one on the cluster. */
export async function chooseInventory(cluster: InventoryCluster, id: string | undefined): Promise<Inventory> {
  const parts = await cluster.parts();
  const ids = inventoryIds(parts);
  if (ids.length === 0) {
    throw new RestoreRefused(
      `no Calico inventory on this cluster (namespace ${INVENTORY_NAMESPACE} holds none); give a saved one with --file`,
    );
  }
  const chosen = id ?? (ids.length === 1 ? ids[0]!.id : undefined);
  if (chosen === undefined) {
    throw new InputError(
      '--id',
      `this cluster has ${ids.length} Calico inventories (${ids.map((i) => `${i.id} taken ${i.takenAt}`).join(', ')}); name one with --id`,
    );
  }
  try {
    return readInventory(chosen, parts);
  } catch (err) {
    throw new RestoreRefused((err as Error).message);
  }
}

/** One line per inventory: id, when, from which Calico, how many of each kind. */
export async function listInventories(cluster: InventoryCluster): Promise<string[]> {
  const parts = await cluster.parts();
  return inventoryIds(parts).map(({ id }) => {
    try {
      const inv = readInventory(id, parts);
      return `${id}: taken ${inv.takenAt} from Calico ${inv.calicoVersion}: ${inv.objects.length} object(s) (${inventoryCounts(inv.objects)})`;
    } catch (err) {
      return `${id}: ${(err as Error).message}`;
    }
  });
}

/** An inventory as a YAML file that `restore --file` (or `kubectl create -f`) reads. */
export function inventoryFile(inventory: Inventory): string {
  const head = `# Calico inventory ${inventory.id}, taken ${inventory.takenAt} from Calico ${inventory.calicoVersion}: ${inventory.objects.length} object(s).\n`;
  return head + inventory.objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

/** The objects of a file written by `inventory --out` (or any YAML stream of custom resources). */
export function readInventoryFile(path: string): KeptObject[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError('--file', `${path} cannot be read; give a file written by \`cilium-cutover inventory --out\``);
  }
  const docs = parseAllDocuments(text);
  const bad = docs.find((d) => d.errors.length > 0);
  if (bad) {
    throw new InputError(
      '--file',
      `${path} is not YAML (${bad.errors[0]!.message.split('\n')[0]}); give a file written by \`cilium-cutover inventory --out\``,
    );
  }
  const objects = docs.map((d) => d.toJS() as KeptObject).filter((o) => o !== null);
  const wrong = objects.find(
    (o) => typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string',
  );
  if (wrong !== undefined) {
    throw new InputError(
      '--file',
      `${path} holds a document without apiVersion, kind and metadata.name; give a file written by \`cilium-cutover inventory --out\``,
    );
  }
  return objects;
}

/** Writes the file, refusing to replace one (a saved inventory is a record). */
export function saveInventory(path: string, inventory: Inventory): void {
  try {
    writeFileSync(path, inventoryFile(inventory), { flag: 'wx' });
  } catch (err) {
    throw new InputError(
      '--out',
      `${path} cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a new file`,
    );
  }
}

/** What a live object has that a restore sets: labels, annotations and every field but metadata and status. */
const restorable = (o: KubernetesObject | KeptObject): string => {
  const { metadata, status: _s, apiVersion: _a, kind: _k, ...rest } = o as KeptObject;
  return canonicalJson({ labels: metadata?.labels ?? {}, annotations: metadata?.annotations ?? {}, rest });
};

/**
 * Creates every object again: each kind in restore order, the objects of a kind a few at a time.
 * Returns the number that failed; every kind gets a line, every failure one of its own.
 */
export async function restoreObjects(
  objects: readonly KeptObject[],
  cluster: InventoryCluster,
  options: { dryRun: boolean; line: (text: string) => void; concurrency?: number },
): Promise<number> {
  const sorted = [...objects].sort(restoreOrder);
  const kinds = [...new Set(sorted.map((o) => `${o.apiVersion} ${o.kind}`))];
  const unserved: string[] = [];
  for (const key of kinds) {
    const [apiVersion, kind] = key.split(' ') as [string, string];
    if (!(await cluster.serves(apiVersion, kind))) {
      unserved.push(key);
    }
  }
  if (unserved.length > 0) {
    throw new RestoreRefused(`the cluster does not serve ${unserved.join(', ')}: apply Calico's manifest (its CRDs) first, then restore`);
  }
  const namespaces = [...new Set(sorted.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])))].sort();
  const missing: string[] = [];
  for (const namespace of namespaces) {
    if (!(await cluster.hasNamespace(namespace))) {
      missing.push(namespace);
    }
  }
  if (missing.length > 0) {
    throw new RestoreRefused(
      `namespace(s) ${missing.join(', ')} do not exist here and hold objects of the inventory: create them first (kubectl create namespace ${missing[0]}), then restore`,
    );
  }
  let failed = 0;
  for (const key of kinds) {
    const batch = sorted.filter((o) => `${o.apiVersion} ${o.kind}` === key);
    const counts = { created: 0, replaced: 0, unchanged: 0, failed: 0 };
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < batch.length; i = next++) {
        const obj = batch[i]!;
        try {
          const live = await cluster.read(obj);
          if (!live) {
            await cluster.create(obj, options.dryRun);
            counts.created++;
          } else if (restorable(live) === restorable(obj)) {
            counts.unchanged++;
          } else {
            await cluster.replace(
              { ...obj, metadata: { ...obj.metadata, resourceVersion: live.metadata?.resourceVersion } } as KeptObject,
              options.dryRun,
            );
            counts.replaced++;
          }
        } catch (err) {
          counts.failed++;
          options.line(
            `FAILED ${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}: ${(err as Error).message}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
    failed += counts.failed;
    options.line(
      `${options.dryRun ? 'WOULD RESTORE' : 'RESTORED'} ${key.split(' ')[1]}: ${batch.length - counts.failed} of ${batch.length} ` +
        `(${counts.created} created, ${counts.replaced} replaced, ${counts.unchanged} already as kept)`,
    );
  }
  return failed;
}
