/**
 * The one comparison between the Cilium step and the official chart's render: both sides are
 * brought to the form the API server stores, minus what the listed deviations change
 * (lib/constructs/cilium/deviations.ts), then compared object by object.
 *
 * Used by the fixture derivation (on the chart's render) and by the tests (on our output), so the
 * two sides always go through the same steps.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../lib/content-hash.ts';
import { OPERATOR_EXTRA_TOLERATIONS } from '../../lib/constructs/cilium/cilium-operator.ts';

// Parsed YAML of either side.
type Any = any;

/** Labels and annotations that say who manages an object, not what it is (deviation gitops-metadata). */
const OWNER_KEYS = [
  /^helm\.sh\//,
  /^app\.kubernetes\.io\/managed-by$/,
  /^cilium-cutover\.io\//,
  /^argocd\.argoproj\.io\//,
  /^kustomize\.toolkit\.fluxcd\.io\//,
];

/** `Kind/namespace/name`, the key of one object. */
export function objectKey(o: Any): string {
  return `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
}

/** Fields whose null is stored as absent: a map left empty in YAML (`annotations:` with nothing under it). */
const NULL_MAPS = new Set(['annotations', 'labels']);

/**
 * Undefined values removed at every level, and a null where it means absent (NULL_MAPS). Any other
 * null is refused: in a string map the API server would store it as "", so dropping it could hide
 * a difference.
 */
function prune(value: Any, path = ''): Any {
  if (Array.isArray(value)) {
    return value.map((v, i) => prune(v, `${path}/${i}`));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => {
          if (v === null && !NULL_MAPS.has(k)) {
            throw new Error(`${path}/${k}: a null this comparison does not know how the API server stores`);
          }
          return v !== null && v !== undefined;
        })
        .map(([k, v]) => [k, prune(v, `${path}/${k}`)]),
    );
  }
  return value;
}

/** Ours on every object that has no `part-of` of its own (lib/labels.ts). */
const OWN_PART_OF = ['app.kubernetes.io/part-of', 'cilium-cutover'];

function withoutOwnerKeys(map: Any): Any {
  if (map === undefined) {
    return undefined;
  }
  const kept = Object.fromEntries(
    Object.entries(map).filter(([k, v]) => !OWNER_KEYS.some((re) => re.test(k)) && !(k === OWN_PART_OF[0] && v === OWN_PART_OF[1])),
  );
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function cleanMetadata(metadata: Any): void {
  if (metadata === undefined) {
    return;
  }
  for (const field of ['labels', 'annotations']) {
    const kept = withoutOwnerKeys(metadata[field]);
    if (kept === undefined) {
      delete metadata[field];
    } else {
      metadata[field] = kept;
    }
  }
}

/** A resource quantity as a string (`cpu: 1` and `cpu: "1"` are the same quantity). */
function quantities(resources: Any): void {
  for (const part of ['requests', 'limits']) {
    for (const [k, v] of Object.entries(resources?.[part] ?? {})) {
      resources[part][k] = String(v);
    }
  }
}

/** A probe as stored: `initialDelaySeconds` is int32 omitempty (k8s.io/api core/v1 Probe), so a 0 is not kept. */
function probe(p: Any): void {
  if (p?.initialDelaySeconds === 0) {
    delete p.initialDelaySeconds;
  }
}

function pod(template: Any, deviations: boolean): void {
  cleanMetadata(template.metadata);
  const spec = template.spec;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    quantities(c.resources);
    for (const p of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      probe(c[p]);
    }
    for (const e of c.env ?? []) {
      const divisor = e.valueFrom?.resourceFieldRef?.divisor;
      if (divisor !== undefined) {
        e.valueFrom.resourceFieldRef.divisor = String(divisor);
      }
    }
    if (deviations && c.lifecycle?.postStart !== undefined) {
      // no-aws-poststart
      delete c.lifecycle.postStart;
    }
  }
}

/**
 * One object in comparable form. With `deviations`, the fields the listed deviations decide are
 * left out (each has its own test in test/charts/cilium.test.ts): the two tolerations we give the
 * operator, the config checksum (an annotation of ours), the agent's postStart hook, and
 * `enable-hubble: "false"` where the chart leaves the key out.
 */
export function comparable(object: Any, deviations = true): Any {
  const copy = structuredClone(object);
  if (copy.kind === 'ConfigMap' && copy.data) {
    // A null in a ConfigMap's data is stored as the empty string (map[string]string).
    for (const [k, v] of Object.entries(copy.data)) {
      copy.data[k] = v === null ? '' : v;
    }
  }
  const o = prune(copy, objectKey(copy));
  if (deviations && o.kind === 'ConfigMap' && o.metadata.name === 'cilium-config' && o.data?.['enable-hubble'] === 'false') {
    // hubble-off-explicit: absent and "false" both say off to the comparison; the deviation's test
    // checks that ours always says "false".
    delete o.data['enable-hubble'];
  }
  cleanMetadata(o.metadata);
  const template = o.spec?.template;
  if (template !== undefined) {
    pod(template, deviations);
    if (deviations && o.kind === 'Deployment' && o.metadata.name === 'cilium-operator') {
      // operator-tolerations: the two keys we add, whichever side has them; the rest is compared.
      template.spec.tolerations = template.spec.tolerations?.filter((t: Any) => !OPERATOR_EXTRA_TOLERATIONS.includes(t.key));
    }
  }
  return o;
}

/** The first 16 hex digits of the SHA-256 of an object's comparable form. */
export function comparableHash(object: Any): string {
  return createHash('sha256')
    .update(canonicalJson(comparable(object)))
    .digest('hex')
    .slice(0, 16);
}

/** The comparable hash of each object, by key, keys sorted. */
export function comparableHashes(objects: readonly Any[]): Record<string, string> {
  return Object.fromEntries(objects.map((o) => [objectKey(o), comparableHash(o)]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
}

/** Every object of a render by key, in comparable form. */
export function comparableObjects(objects: readonly Any[]): Map<string, Any> {
  return new Map(objects.filter((o) => o !== null && o !== undefined).map((o) => [objectKey(o), comparable(o)]));
}

/** The paths at which two values differ, each with both sides (at most `limit`). */
export function differences(a: Any, b: Any, path = '', limit = 40): string[] {
  const out: string[] = [];
  const walk = (x: Any, y: Any, p: string): void => {
    if (out.length >= limit) {
      return;
    }
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object' && Array.isArray(x) === Array.isArray(y)) {
      const keys = Array.isArray(x)
        ? [...Array(Math.max(x.length, y.length)).keys()].map(String)
        : [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
      for (const k of keys) {
        walk(x[k], y[k], `${p}/${k}`);
      }
      return;
    }
    if (canonicalJson(x) !== canonicalJson(y)) {
      out.push(`${p || '/'}: ours ${JSON.stringify(x)}, chart ${JSON.stringify(y)}`);
    }
  };
  walk(a, b, path);
  return out;
}
