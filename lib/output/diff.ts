/**
 * A semantic diff of two synthesized outputs, for review: files added and removed, and for each
 * changed Kubernetes object the changed fields by path
 * (`ConfigMap kube-system/cilium-config data.mtu: "1450" → "1400"`). Files are matched by path,
 * which carries no content hash, so a Job whose name changed shows as one changed object.
 */
import { parse } from 'yaml';
import { isPruneProtected } from '../labels.ts';

/** One changed field: its path and both values (undefined: absent on that side). */
export interface FieldChange {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface FileDiff {
  readonly path: string;
  readonly status: 'added' | 'removed' | 'changed';
  /** `Kind namespace/name` for a Kubernetes object file (the new one's, for a change). */
  readonly object?: string;
  /** For a changed object: the changed fields. For other files: undefined. */
  readonly fields?: readonly FieldChange[];
  /** For a changed text file: lines added and removed. */
  readonly lines?: { readonly added: number; readonly removed: number };
  /**
   * For a removed object protected from the engines' prune (Cilium's, the record): it stays in
   * the cluster, and this is the command that deletes it.
   */
  readonly staysWith?: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface KubeObject {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly annotations?: Record<string, string> };
}

/** The command that deletes an object the engines will not prune; undefined when they prune it. */
function staysWith(o: KubeObject): string | undefined {
  return isPruneProtected(o.metadata?.annotations)
    ? `kubectl delete ${o.kind!.toLowerCase()} ${o.metadata!.name}${o.metadata!.namespace ? ` -n ${o.metadata!.namespace}` : ''}`
    : undefined;
}

function asObject(path: string, text: string): KubeObject | undefined {
  if (!path.endsWith('.yaml')) {
    return undefined;
  }
  const doc = parse(text) as KubeObject | null;
  return doc && typeof doc === 'object' && doc.kind && doc.metadata?.name ? doc : undefined;
}

function describeObject(o: KubeObject): string {
  return `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
}

/** Lists are matched by element `name` when every element has one (containers, volumes, env), else by index. */
function keyed(list: readonly Json[]): Map<string, Json> | undefined {
  if (!list.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && typeof e.name === 'string')) {
    return undefined;
  }
  const names = list.map((e) => (e as { name: string }).name);
  return new Set(names).size === names.length ? new Map(list.map((e) => [`[name=${(e as { name: string }).name}]`, e])) : undefined;
}

function isRecord(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The changed leaves between two JSON values, with dotted paths. */
export function diffValues(before: Json | undefined, after: Json | undefined, path = ''): FieldChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) {
    return [];
  }
  const join = (key: string) => (key.startsWith('[') ? `${path}${key}` : path === '' ? key : `${path}.${key}`);
  // Both undefined is equal, so here at least one side is an object.
  if ((isRecord(before) || before === undefined) && (isRecord(after) || after === undefined)) {
    const b = before ?? {};
    const a = after ?? {};
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
    return keys.flatMap((k) => diffValues(b[k], a[k], join(/^[A-Za-z_][\w-]*$/.test(k) ? k : `[${JSON.stringify(k)}]`)));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const kb = keyed(before);
    const ka = keyed(after);
    if (kb && ka) {
      const keys = [...new Set([...kb.keys(), ...ka.keys()])];
      return keys.flatMap((k) => diffValues(kb.get(k), ka.get(k), join(k)));
    }
    // Lists of scalars (args, resources): shown whole, which reads better than index shifts.
    if ([...before, ...after].every((e) => e === null || typeof e !== 'object')) {
      return [{ path, before, after }];
    }
    const n = Math.max(before.length, after.length);
    return Array.from({ length: n }, (_, i) => diffValues(before[i], after[i], join(`[${i}]`))).flat();
  }
  return [{ path, before, after }];
}

function lineCounts(before: string, after: string): { added: number; removed: number } {
  const count = (lines: string[]) => lines.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
  const b = count(before.split('\n'));
  const a = count(after.split('\n'));
  let added = 0;
  let removed = 0;
  for (const [line, n] of a) {
    added += Math.max(0, n - (b.get(line) ?? 0));
  }
  for (const [line, n] of b) {
    removed += Math.max(0, n - (a.get(line) ?? 0));
  }
  return { added, removed };
}

/** Compares two output trees (relative path → content). */
export function diffTrees(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): FileDiff[] {
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const result: FileDiff[] = [];
  for (const path of paths) {
    const b = before.get(path);
    const a = after.get(path);
    if (b === a) {
      continue;
    }
    if (b === undefined || a === undefined) {
      const obj = asObject(path, (a ?? b)!);
      const stays = a === undefined && obj ? staysWith(obj) : undefined;
      result.push({
        path,
        status: b === undefined ? 'added' : 'removed',
        ...(obj ? { object: describeObject(obj) } : {}),
        ...(stays ? { staysWith: stays } : {}),
      });
      continue;
    }
    const ob = asObject(path, b);
    const oa = asObject(path, a);
    if (ob && oa) {
      const fields = diffValues(ob as Json, oa as Json);
      if (fields.length > 0) {
        result.push({ path, status: 'changed', object: describeObject(oa), fields });
      }
      continue;
    }
    result.push({ path, status: 'changed', lines: lineCounts(b, a) });
  }
  return result;
}

/** A value as the diff shows it: JSON for scalars; long or multi-line text by its size only. */
function show(value: unknown): string {
  if (value === undefined) {
    return '(absent)';
  }
  if (typeof value === 'string' && (value.includes('\n') || value.length > 100)) {
    return `(text, ${value.split('\n').length} lines)`;
  }
  const text = JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

function showChange(f: FieldChange): string {
  if (Array.isArray(f.before) && Array.isArray(f.after)) {
    // A list of scalars: the elements that came and went, which is what a reviewer looks for.
    const b = f.before.map((e) => JSON.stringify(e));
    const a = f.after.map((e) => JSON.stringify(e));
    const parts = [...a.filter((e) => !b.includes(e)).map((e) => `+ ${e}`), ...b.filter((e) => !a.includes(e)).map((e) => `− ${e}`)];
    return `${f.path}: ${parts.length > 0 ? parts.join(', ') : 'same elements, new order'}`;
  }
  if (typeof f.before === 'string' && typeof f.after === 'string' && (f.before.includes('\n') || f.after.includes('\n'))) {
    const { added, removed } = lineCounts(f.before, f.after);
    return `${f.path}: text changed (+${added} −${removed} lines)`;
  }
  return `${f.path}: ${show(f.before)} → ${show(f.after)}`;
}

/** The diff as review lines, with a summary line last. */
export function formatDiff(diffs: readonly FileDiff[]): string[] {
  const lines: string[] = [];
  for (const d of diffs) {
    const label = d.object ? `${d.object} (${d.path})` : d.path;
    if (d.status === 'added') {
      lines.push(`+ ${label}`);
    } else if (d.status === 'removed') {
      lines.push(
        d.staysWith ? `- ${label}: stays in the cluster (protected from pruning); once nothing needs it: ${d.staysWith}` : `- ${label}`,
      );
    } else if (d.fields) {
      lines.push(`~ ${label}`);
      lines.push(...d.fields.map((f) => `    ${showChange(f)}`));
    } else {
      lines.push(`~ ${label}: +${d.lines!.added} −${d.lines!.removed} lines`);
    }
  }
  const count = (s: FileDiff['status']) => diffs.filter((d) => d.status === s).length;
  const stay = diffs.filter((d) => d.staysWith).length;
  lines.push(
    diffs.length === 0
      ? 'no changes'
      : `${count('added')} added, ${count('removed')} removed${stay > 0 ? ` (${stay} of them stay in the cluster)` : ''}, ${count('changed')} changed`,
  );
  return lines;
}
