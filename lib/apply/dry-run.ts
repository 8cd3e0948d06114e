/**
 * Where a server-side dry-run sends an object. A dry-run creates nothing, so on a cluster the
 * migration has not touched yet the namespaces the output creates (`cilium-cutover`,
 * `cilium-secrets`) do not exist, and the API server answers 404 for every object in them. Such an
 * object is checked in the namespace `default` instead (its schema, defaults and admission), and
 * the run says so; an object in a namespace that neither exists nor is created stays where it is,
 * and its 404 fails the run.
 */
import type { DistStep, ManifestObject } from './dist.ts';

/** The object to dry-run and, when it was moved, why. */
export interface DryRunTarget {
  readonly obj: ManifestObject;
  readonly note?: string;
}

/**
 * The placement of every object of a dry-run of `steps`; `namespaceExists` asks the cluster, once
 * per namespace.
 */
export function dryRunPlacement(
  steps: readonly DistStep[],
  namespaceExists: (name: string) => Promise<boolean>,
): (obj: ManifestObject) => Promise<DryRunTarget> {
  const createdBy = new Map<string, string>();
  for (const step of steps) {
    for (const obj of step.objects.filter((o) => o.kind === 'Namespace')) {
      createdBy.set(obj.metadata.name, step.dir);
    }
  }
  const exists = new Map<string, Promise<boolean>>();
  return async (obj) => {
    const namespace = obj.metadata.namespace;
    const step = namespace === undefined ? undefined : createdBy.get(namespace);
    if (namespace === undefined || step === undefined) {
      return { obj };
    }
    if (!exists.has(namespace)) {
      exists.set(namespace, namespaceExists(namespace));
    }
    if (await exists.get(namespace)) {
      return { obj };
    }
    return {
      obj: { ...obj, metadata: { ...obj.metadata, namespace: 'default' } },
      note: `checked in namespace default: ${namespace} does not exist yet (${step} creates it)`,
    };
  };
}
