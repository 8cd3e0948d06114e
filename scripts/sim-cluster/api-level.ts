/**
 * The simulation's API level is Kubernetes 1.20 (the test control plane); the generated output
 * targets the cluster's k3s (1.32 in the example). The one table of what the output or a scenario
 * uses that 1.20 cannot serve, with the release that introduced it, and what the simulation does
 * instead. `toSimulationLevel` changes exactly those and reports each change, so nothing is
 * dropped silently; the tests assert that nothing else changed.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

type Json = Record<string, any>;

export interface NewerApi {
  /** A field name (anywhere in an object) or `apiVersion kind`. */
  readonly what: string;
  /** The Kubernetes release that serves it by default. */
  readonly since: string;
  /** What the simulation does: the field is removed, or the kind is served at an older version. */
  readonly instead: { readonly remove: true } | { readonly apiVersion: string };
}

/**
 * Sources: kubernetes/kubernetes pkg/features/kube_features.go and the CHANGELOGs of each release
 * (AppArmorFields beta on in 1.30; policy/v1 and batch/v1 CronJob GA in 1.21; the
 * admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy GA in 1.30).
 */
export const NEWER_APIS: readonly NewerApi[] = [
  { what: 'appArmorProfile', since: '1.30', instead: { remove: true } },
  { what: 'policy/v1 PodDisruptionBudget', since: '1.21', instead: { apiVersion: 'policy/v1beta1' } },
  { what: 'batch/v1 CronJob', since: '1.21', instead: { apiVersion: 'batch/v1beta1' } },
  // A request, not an object: the simulation's API forwarder changes an eviction's body.
  { what: 'policy/v1 Eviction', since: '1.22', instead: { apiVersion: 'policy/v1beta1' } },
  { what: 'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy', since: '1.30', instead: { remove: true } },
  { what: 'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding', since: '1.30', instead: { remove: true } },
];

/** `from=to` apiVersion changes of the eviction requests the simulation's API forwarder makes. */
export function evictionRenames(): string[] {
  return NEWER_APIS.flatMap((e) => {
    const [apiVersion, kind] = e.what.split(' ');
    return kind === 'Eviction' && 'apiVersion' in e.instead ? [`${apiVersion}=${e.instead.apiVersion}`] : [];
  });
}

/** The object as the 1.20 server can take it (undefined: not served at all), and each change made. */
export function toSimulationLevel(obj: Json): { object: Json | undefined; changes: string[] } {
  const id = `${obj.kind}/${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
  const kindEntry = NEWER_APIS.find((e) => e.what === `${obj.apiVersion} ${obj.kind}`);
  if (kindEntry && 'remove' in kindEntry.instead) {
    return { object: undefined, changes: [`${id}: not created (${kindEntry.what}, Kubernetes ${kindEntry.since})`] };
  }
  const changes: string[] = [];
  const copy: Json = structuredClone(obj);
  if (kindEntry && 'apiVersion' in kindEntry.instead) {
    copy.apiVersion = kindEntry.instead.apiVersion;
    changes.push(`${id}: served as ${kindEntry.instead.apiVersion} (${kindEntry.what}, Kubernetes ${kindEntry.since})`);
  }
  const fields = new Map(NEWER_APIS.filter((e) => !e.what.includes(' ')).map((e) => [e.what, e.since]));
  const strip = (node: unknown, at: string): void => {
    if (node && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        const since = fields.get(key);
        if (since !== undefined) {
          changes.push(`${id}: ${at}${key} removed (Kubernetes ${since})`);
          delete (node as Json)[key];
        } else {
          strip((node as Json)[key], `${at}${key}.`);
        }
      }
    }
  };
  strip(copy, '');
  return { object: copy, changes };
}

/**
 * A copy of a synthesized output directory at the simulation's level: each object file under
 * `manifests/` brought down with `toSimulationLevel` (a file whose object is not served is emptied,
 * and leaves its kustomization's list). Returns the copy and the changes.
 */
export function outputAtSimulationLevel(dir: string, files: Iterable<string>): { dir: string; changes: string[] } {
  const copy = join(mkdtempSync(join(tmpdir(), 'ccsim-level-')), 'dist');
  cpSync(dir, copy, { recursive: true });
  const changes: string[] = [];
  for (const path of files) {
    if (!path.startsWith('manifests/') || !path.endsWith('.yaml') || path.endsWith('kustomization.yaml')) {
      continue;
    }
    const text = readFileSync(join(copy, path), 'utf8');
    const obj = parse(text) as Json;
    const result = toSimulationLevel(obj);
    if (result.changes.length === 0) {
      continue;
    }
    changes.push(...result.changes);
    if (result.object) {
      writeFileSync(join(copy, path), stringify(result.object));
    } else {
      const kustomization = join(copy, path, '..', 'kustomization.yaml');
      const k = parse(readFileSync(kustomization, 'utf8')) as Json;
      const name = path.split('/').at(-1);
      k.resources = (k.resources ?? []).filter((r: string) => r !== name);
      writeFileSync(kustomization, stringify(k));
      rmSync(join(copy, path));
    }
  }
  return { dir: copy, changes };
}
