/**
 * The names the output carries: the tool's name, the labels and annotations every object gets,
 * and the annotation `apply` reads from a step's kustomization.yaml.
 */

/** The tool's name: label value, field manager and ConfigMap prefix. */
export const TOOL = 'cilium-cutover';

/** Name of the Argo CD Application and the Flux GitRepository; each Flux Kustomization adds its step. */
export function gitopsName(clusterName: string): string {
  return `${TOOL}-${clusterName}`;
}

/** Labels and annotations every object of a step carries. */
export const LABEL_STEP = 'cilium-cutover.io/step';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const ANNOTATION_SYNC_WAVE = 'argocd.argoproj.io/sync-wave';

/**
 * On the objects of the steps that outlive the migration (Cilium and the status record), in every
 * phase: Argo CD neither prunes them nor deletes them when the Application is deleted (the sync
 * options are comma-separated, argo-cd docs/user-guide/sync-options.md "No Prune Resources", "No
 * Resource Deletion"), and Flux neither prunes them nor garbage-collects them when their
 * Kustomization is deleted (kustomize-controller's `kustomize.toolkit.fluxcd.io/prune: disabled`).
 */
export const PROTECTED_ANNOTATIONS = {
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
} as const;

/** Whether an object's annotations keep it from an engine's prune (ours, or any Argo CD `Prune=false`). */
export function isPruneProtected(annotations: Readonly<Record<string, string>> | undefined): boolean {
  const a = annotations ?? {};
  return (
    /(^|,)\s*Prune=false\s*(,|$)/.test(a['argocd.argoproj.io/sync-options'] ?? '') || a['kustomize.toolkit.fluxcd.io/prune'] === 'disabled'
  );
}

/** The annotation on a step's kustomization.yaml that bounds how long `apply` waits for the step. */
export const STEP_TIMEOUT_ANNOTATION = 'cilium-cutover.io/timeout';
/** On the root kustomization.yaml of output synthesized from the built-in example: not a real cluster's. */
export const BUILT_IN_EXAMPLE_ANNOTATION = 'cilium-cutover.io/built-in-example';
/** On the root kustomization.yaml: the config's phase (`apply --graduate` needs `steady`). */
export const PHASE_ANNOTATION = 'cilium-cutover.io/phase';
/**
 * On the objects of the Calico inventory: they outlive the migration, and graduation keeps them
 * whatever other labels they carry.
 */
export const LABEL_INVENTORY = 'cilium-cutover.io/inventory';

/**
 * The namespace of the Calico inventory: step 100 creates it, no step deletes it, and neither
 * `run.namespace` nor `verify.namespace` (both deleted at graduation) may be it.
 */
export const INVENTORY_NAMESPACE = 'cilium-cutover-inventory';
/** On each part of an inventory: its number (1-based) and how many parts the inventory has. */
export const ANNOTATION_INVENTORY_PART = 'cilium-cutover.io/inventory-part';
/** On each part of an inventory: the Calico version it was taken from, and when. */
export const ANNOTATION_INVENTORY_CALICO = 'cilium-cutover.io/calico-version';
export const ANNOTATION_INVENTORY_TAKEN = 'cilium-cutover.io/taken-at';
