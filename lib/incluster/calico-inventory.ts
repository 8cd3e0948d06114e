/**
 * The Calico inventory: every custom resource a person configured, kept in full in ConfigMaps
 * before step 100 deletes the CRDs (and with them every custom resource), and read back to
 * restore them. Plain functions, dependency-free: bundled into the deletion Job, and imported by
 * the `restore` command and the tests.
 *
 * A part is a ConfigMap whose `objects.json` is a JSON `List` with one object per line, so
 * `kubectl create -f` takes it as it is. A ConfigMap holds at most 1 MiB (the API server's
 * `MaxConfigMapSize`), so the objects are split into parts of at most PART_BUDGET bytes of data;
 * an object larger than that on its own is stored gzip-compressed in a part of its own
 * (`binaryData`, `objects.json.gz`). The parts are named after a hash of the content, so an
 * inventory taken again after a partial run never replaces an earlier one, and an inventory read
 * back is checked against that hash.
 */
import { gzipSync } from 'node:zlib';
import { shortHash } from '../content-hash.ts';
import {
  ANNOTATION_INVENTORY_CALICO,
  ANNOTATION_INVENTORY_PART,
  ANNOTATION_INVENTORY_TAKEN,
  INVENTORY_NAMESPACE,
  LABEL_INVENTORY,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  PROTECTED_ANNOTATIONS,
  TOOL,
} from '../labels.ts';

/** Bytes of data in one part: room under the 1 MiB of a ConfigMap for its metadata. */
export const PART_BUDGET = 900 * 1024;

/** The data key of a part: the objects as a JSON List, one per line. */
export const PART_KEY = 'objects.json';
/** The binaryData key of a part that holds one object too large for PART_BUDGET, gzip-compressed. */
export const PART_KEY_GZIP = 'objects.json.gz';

/**
 * Resources that nobody configures: IPAM bookkeeping (one object per block, pod or node, which a
 * restored Calico rebuilds), and ClusterInformation, which calico-node writes on start. They are
 * counted, not kept.
 */
export const NOT_KEPT: ReadonlySet<string> = new Set(['ipamblocks', 'ipamhandles', 'blockaffinities', 'clusterinformations']);

/**
 * The order a restore creates kinds in: tiers before the policies in them, configuration and pools
 * before what uses them, policies last. Kinds not named here follow, by name.
 */
export const RESTORE_ORDER: readonly string[] = [
  ...['Tier', 'FelixConfiguration', 'KubeControllersConfiguration', 'IPAMConfig', 'BGPConfiguration', 'BGPFilter', 'BGPPeer'],
  ...['IPPool', 'IPReservation', 'GlobalNetworkSet', 'NetworkSet', 'HostEndpoint'],
  ...['GlobalNetworkPolicy', 'NetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedKubernetesNetworkPolicy'],
];

/** The metadata a kept object has: what names it, and the labels and annotations someone set. */
interface KeptMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A custom resource as it is kept: what creates it again, nothing the cluster assigned. */
export interface KeptObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: KeptMetadata;
  readonly [field: string]: unknown;
}

/** A listed custom resource (the parts read of it). */
export interface ListedObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: KeptMetadata;
  readonly [field: string]: unknown;
}

/**
 * The object as it is kept: apiVersion, kind, name, namespace, labels, annotations and every
 * other top-level field (the spec) as listed, in the order listed. Not kept: what the cluster
 * assigned or maintains (uid, resourceVersion, creation time, generation, managed fields, status)
 * and what would act on a restored copy (an owner reference names an object by a uid that no
 * longer exists, so the garbage collector would delete the copy; a finalizer names a controller
 * that may be gone).
 */
export function keptObject(item: ListedObject, apiVersion: string, kind: string): KeptObject {
  const { metadata, status: _status, apiVersion: _v, kind: _k, ...rest } = item;
  const annotations = withoutCalicoOwners(metadata.annotations);
  const kept = {
    name: metadata.name,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    ...(metadata.labels && Object.keys(metadata.labels).length > 0 ? { labels: metadata.labels } : {}),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  return { apiVersion, kind, metadata: kept, ...rest };
}

/**
 * Calico keeps the projectcalico.org/v3 metadata of an object in this annotation, owner references
 * included, and serves them back through its API server (libcalico-go
 * lib/backend/k8s/resources/resources.go): they are dropped there too, the rest kept as it is.
 */
const CALICO_METADATA = 'projectcalico.org/metadata';

function withoutCalicoOwners(annotations: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  const text = annotations?.[CALICO_METADATA];
  if (text === undefined) {
    return annotations;
  }
  try {
    const { ownerReferences, ...meta } = JSON.parse(text) as Record<string, unknown>;
    return ownerReferences === undefined ? annotations : { ...annotations, [CALICO_METADATA]: JSON.stringify(meta) };
  } catch {
    return annotations;
  }
}

const rank = (kind: string): number => {
  const i = RESTORE_ORDER.indexOf(kind);
  return i === -1 ? RESTORE_ORDER.length : i;
};

/** Restore order: by kind (RESTORE_ORDER, then by name), then namespace and name. */
export function restoreOrder(a: KeptObject, b: KeptObject): number {
  const keyOf = (o: KeptObject) => [o.kind, o.apiVersion, o.metadata.namespace ?? '', o.metadata.name];
  if (rank(a.kind) !== rank(b.kind)) {
    return rank(a.kind) - rank(b.kind);
  }
  const [x, y] = [keyOf(a), keyOf(b)];
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) {
      return x[i]! < y[i]! ? -1 : 1;
    }
  }
  return 0;
}

/** The id of an inventory: a hash of its objects, in restore order. */
export function inventoryId(objects: readonly KeptObject[]): string {
  return shortHash([...objects].sort(restoreOrder));
}

/** A part as the Job creates it. */
export interface PartObject {
  readonly apiVersion: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly immutable: true;
  readonly data?: Readonly<Record<string, string>>;
  readonly binaryData?: Readonly<Record<string, string>>;
}

/** A JSON List of objects given as their JSON lines (each object's own key order kept), one per line. */
function listText(lines: readonly string[]): string {
  return `{"apiVersion":"v1","kind":"List","items":[\n${lines.join(',\n')}\n]}\n`;
}

/** The name of part `n` of `count` of inventory `id`. */
export function partName(id: string, n: number, count: number): string {
  return `calico-${id}-${n}-of-${count}`;
}

/**
 * The parts of an inventory: the objects in restore order, as few parts as PART_BUDGET allows.
 * Throws when one object is too large for a part even compressed (more than a ConfigMap holds).
 */
export function inventoryParts(
  objects: readonly KeptObject[],
  calicoVersion: string,
  takenAt: string,
  budget = PART_BUDGET,
): { id: string; parts: PartObject[] } {
  const sorted = [...objects].sort(restoreOrder);
  const id = inventoryId(sorted);
  const groups: { items: KeptObject[]; lines: string[]; gzip: boolean }[] = [];
  // The size of a List's text: its frame, each object's line, and a separator between two lines.
  const frame = Buffer.byteLength(listText([]));
  let current: { items: KeptObject[]; lines: string[]; gzip: boolean } = { items: [], lines: [], gzip: false };
  let size = frame;
  for (const item of sorted) {
    const line = JSON.stringify(item);
    const bytes = Buffer.byteLength(line);
    if (frame + bytes > budget) {
      groups.push({ items: [item], lines: [line], gzip: true });
      continue;
    }
    if (current.items.length > 0 && size + 2 + bytes > budget) {
      groups.push(current);
      current = { items: [], lines: [], gzip: false };
      size = frame;
    }
    size += (current.items.length > 0 ? 2 : 0) + bytes;
    current.items.push(item);
    current.lines.push(line);
  }
  if (current.items.length > 0) {
    groups.push(current);
  }
  const parts = groups.map((group, i): PartObject => {
    const text = listText(group.lines);
    const compressed = group.gzip ? gzipSync(text).toString('base64') : undefined;
    if (compressed !== undefined && compressed.length > budget) {
      const o = group.items[0]!;
      throw new Error(
        `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name} is ${Buffer.byteLength(text)} bytes, ` +
          `${compressed.length} compressed: more than a ConfigMap holds`,
      );
    }
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: partName(id, i + 1, groups.length),
        namespace: INVENTORY_NAMESPACE,
        labels: { [LABEL_MANAGED_BY]: TOOL, [LABEL_PART_OF]: TOOL, [LABEL_INVENTORY]: id },
        annotations: {
          [ANNOTATION_INVENTORY_PART]: `${i + 1}/${groups.length}`,
          [ANNOTATION_INVENTORY_CALICO]: calicoVersion,
          [ANNOTATION_INVENTORY_TAKEN]: takenAt,
          ...PROTECTED_ANNOTATIONS,
        },
      },
      immutable: true,
      ...(compressed === undefined ? { data: { [PART_KEY]: text } } : { binaryData: { [PART_KEY_GZIP]: compressed } }),
    };
  });
  return { id, parts };
}

/** `Kind: count` for each kind of an inventory, in restore order. */
export function inventoryCounts(objects: readonly KeptObject[]): string {
  const counts = new Map<string, number>();
  for (const o of [...objects].sort(restoreOrder)) {
    counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  }
  return [...counts.entries()].map(([kind, n]) => `${kind} ${n}`).join(', ');
}
