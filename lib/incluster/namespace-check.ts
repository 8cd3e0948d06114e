/**
 * The preflight's check of the namespace the migration runs in (`run.namespace`): it must hold
 * nothing but the tool's own objects. Step 000 applies that namespace with the tool's labels and
 * Pod Security `privileged` before this check runs, and graduation deletes it with everything in
 * it, so a namespace that someone else uses must stop the migration here, on every path (`apply`
 * refuses it earlier, before it sends anything).
 */
import { LABEL_MANAGED_BY, TOOL } from '../labels.ts';
import type { CheckResult } from './shared/report.ts';

/** The kinds listed, as `group/version resource kind`; what runs or is configured in a namespace. */
export const NAMESPACE_KINDS = [
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod' },
  { group: '', version: 'v1', resource: 'services', kind: 'Service' },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job' },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' },
  { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet' },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet' },
  { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet' },
] as const;

/** The parts of a listed object the check reads. */
export interface NamespacedObject {
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
  };
}

/** Every namespace gets this ConfigMap from the API server's root-CA publisher. */
const PUBLISHED = 'ConfigMap/kube-root-ca.crt';

/**
 * FAIL naming what in the namespace the tool did not create. An object is the tool's when it
 * carries its label, or when its controller (a Job's pod, a Deployment's ReplicaSet and their
 * pods) is the tool's.
 */
export function checkOwnNamespace(namespace: string, objects: readonly NamespacedObject[]): CheckResult {
  const key = (kind: string, name: string) => `${kind}/${name}`;
  const ours = new Set(objects.filter((o) => o.metadata.labels?.[LABEL_MANAGED_BY] === TOOL).map((o) => key(o.kind, o.metadata.name)));
  ours.add(PUBLISHED);
  // Controllers first: a ReplicaSet becomes the tool's through its Deployment, then its pods through it.
  for (let changed = true; changed;) {
    changed = false;
    for (const o of objects) {
      const owner = o.metadata.ownerReferences?.find((r) => r.controller);
      if (owner && ours.has(key(owner.kind, owner.name)) && !ours.has(key(o.kind, o.metadata.name))) {
        ours.add(key(o.kind, o.metadata.name));
        changed = true;
      }
    }
  }
  const foreign = objects.map((o) => key(o.kind, o.metadata.name)).filter((k) => !ours.has(k));
  if (foreign.length === 0) {
    return { outcome: 'PASS', check: 'namespace', subject: namespace, detail: "holds nothing but the tool's own objects" };
  }
  const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? ` and ${foreign.length - 5} more` : '');
  return {
    outcome: 'FAIL',
    check: 'namespace',
    subject: namespace,
    detail: `holds objects the tool did not create (${shown}); the tool labels this namespace privileged and deletes it with everything in it at graduation: set run.namespace to a namespace of its own`,
  };
}
