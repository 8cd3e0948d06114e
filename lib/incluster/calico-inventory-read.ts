/**
 * The Calico inventory read back from its parts (calico-inventory.ts writes them): by the `inventory`
 * and `restore` commands, and by step 100's Job, which keeps no new inventory when an earlier one
 * already holds every custom resource it finds. Dependency-free.
 */
import { gunzipSync } from 'node:zlib';
import { canonicalJson } from '../content-hash.ts';
import { ANNOTATION_INVENTORY_CALICO, ANNOTATION_INVENTORY_PART, ANNOTATION_INVENTORY_TAKEN, LABEL_INVENTORY } from '../labels.ts';
import { inventoryId, partName, PART_KEY, PART_KEY_GZIP, type KeptObject } from './calico-inventory.ts';

/** A part as read back (a listed ConfigMap). */
export interface ReadPart {
  readonly metadata: {
    readonly name: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly data?: Readonly<Record<string, string>>;
  readonly binaryData?: Readonly<Record<string, string>>;
}

/** An inventory read back from its parts. */
export interface Inventory {
  readonly id: string;
  readonly calicoVersion: string;
  readonly takenAt: string;
  readonly objects: readonly KeptObject[];
}

/** The objects of one part. */
export function partObjects(part: ReadPart): KeptObject[] {
  const gz = part.binaryData?.[PART_KEY_GZIP];
  const text = gz !== undefined ? gunzipSync(Buffer.from(gz, 'base64')).toString('utf8') : part.data?.[PART_KEY];
  if (text === undefined) {
    throw new Error(`ConfigMap ${part.metadata.name} has neither ${PART_KEY} nor ${PART_KEY_GZIP}`);
  }
  return (JSON.parse(text) as { items: KeptObject[] }).items;
}

/** The ids of the inventories among `parts`, with when each was taken, newest first. */
export function inventoryIds(parts: readonly ReadPart[]): { id: string; takenAt: string }[] {
  const seen = new Map<string, string>();
  for (const part of parts) {
    const id = part.metadata.labels?.[LABEL_INVENTORY];
    if (id !== undefined && !seen.has(id)) {
      seen.set(id, part.metadata.annotations?.[ANNOTATION_INVENTORY_TAKEN] ?? '');
    }
  }
  return [...seen.entries()]
    .map(([id, takenAt]) => ({ id, takenAt }))
    .sort((a, b) => (a.takenAt > b.takenAt ? -1 : a.takenAt < b.takenAt ? 1 : 0));
}

/**
 * Inventory `id` read back whole from `parts`: every part present, and the objects hashing to the
 * id. Throws naming what is missing or does not match.
 */
export function readInventory(id: string, parts: readonly ReadPart[]): Inventory {
  const found = parts.filter((p) => p.metadata.labels?.[LABEL_INVENTORY] === id);
  if (found.length === 0) {
    throw new Error(`no Calico inventory ${id}`);
  }
  const count = Number(found[0]!.metadata.annotations?.[ANNOTATION_INVENTORY_PART]?.split('/')[1] ?? '0');
  const names = Array.from({ length: count }, (_, i) => partName(id, i + 1, count));
  const missing = names.filter((n) => !found.some((p) => p.metadata.name === n));
  if (count === 0 || missing.length > 0 || found.length !== count) {
    throw new Error(
      `Calico inventory ${id} is incomplete: ${missing.length > 0 ? `ConfigMap(s) ${missing.join(', ')} missing` : `${found.length} part(s) found, ${count} expected`}`,
    );
  }
  const objects = names.flatMap((n) => partObjects(found.find((p) => p.metadata.name === n)!));
  if (inventoryId(objects) !== id) {
    throw new Error(`Calico inventory ${id} does not match its id: a part was changed or replaced`);
  }
  const annotations = found[0]!.metadata.annotations ?? {};
  return {
    id,
    calicoVersion: annotations[ANNOTATION_INVENTORY_CALICO] ?? 'unknown',
    takenAt: annotations[ANNOTATION_INVENTORY_TAKEN] ?? 'unknown',
    objects,
  };
}

/**
 * The newest readable inventory among `parts` that holds every one of `objects` as it is (an
 * earlier run of the same step kept them, and some CRDs may be gone since); undefined when none does.
 */
export function coveringInventory(objects: readonly KeptObject[], parts: readonly ReadPart[]): Inventory | undefined {
  const wanted = objects.map(canonicalJson);
  for (const { id } of inventoryIds(parts)) {
    let inventory: Inventory;
    try {
      inventory = readInventory(id, parts);
    } catch {
      continue;
    }
    const held = new Set(inventory.objects.map(canonicalJson));
    if (wanted.every((o) => held.has(o))) {
      return inventory;
    }
  }
  return undefined;
}
