/**
 * The Calico deletion sets: every object a Calico manifest install creates, per release line and
 * manifest variant. Data, not code: a new Calico line is a new entry.
 *
 * Source: `manifests/calico.yaml` and `manifests/calico-typha.yaml` of projectcalico/calico at the
 * release tags (v3.26.4, v3.27.0/v3.27.5 and v3.28.0 hold the same 31 objects; later lines add
 * CRDs). See docs/steps.md "Removing Calico".
 */

/** How an object kind is addressed in the API. */
export interface KindInfo {
  readonly group: string;
  readonly version: string;
  /** Plural resource name. */
  readonly resource: string;
  readonly namespaced: boolean;
}

export const KINDS = {
  PodDisruptionBudget: { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', namespaced: true },
  ServiceAccount: { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true },
  ConfigMap: { group: '', version: 'v1', resource: 'configmaps', namespaced: true },
  Service: { group: '', version: 'v1', resource: 'services', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  CustomResourceDefinition: { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false },
  ClusterRole: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', namespaced: false },
} as const satisfies Record<string, KindInfo>;

export type CalicoKind = keyof typeof KINDS;

/**
 * When an object is deleted: workloads first (and their pods awaited), then the CRDs (which takes
 * their custom resources with them), then what the workloads used.
 */
export type DeletionPhase = 'workloads' | 'crds' | 'access' | 'config';
export const DELETION_PHASES: readonly DeletionPhase[] = ['workloads', 'crds', 'access', 'config'];

/** One object of a deletion set. */
export interface CalicoObject {
  readonly kind: CalicoKind;
  /** Namespace; undefined for cluster-scoped objects. */
  readonly namespace?: string;
  readonly name: string;
  readonly phase: DeletionPhase;
  /**
   * The manifest references it but does not create it: deleted when present.
   * @default false
   */
  readonly optional?: boolean;
  /**
   * Owned by another project (the Kubernetes network-policy API): deleted only when
   * `calico.deleteNetworkPolicyAPICRDs` is set.
   * @default false
   */
  readonly foreign?: boolean;
}

export type ManifestVariant = 'calico' | 'calico-typha';

const NS = 'kube-system';

function crd(plural: string, group = 'crd.projectcalico.org', foreign = false): CalicoObject {
  return { kind: 'CustomResourceDefinition', name: `${plural}.${group}`, phase: 'crds', ...(foreign ? { foreign } : {}) };
}

/** The 18 `crd.projectcalico.org` CRDs of v3.26–v3.28. */
const CRDS_3_26 = [
  'bgpconfigurations',
  'bgpfilters',
  'bgppeers',
  'blockaffinities',
  'caliconodestatuses',
  'clusterinformations',
  'felixconfigurations',
  'globalnetworkpolicies',
  'globalnetworksets',
  'hostendpoints',
  'ipamblocks',
  'ipamconfigs',
  'ipamhandles',
  'ippools',
  'ipreservations',
  'kubecontrollersconfigurations',
  'networkpolicies',
  'networksets',
].map((p) => crd(p));

/** The 31 objects of `calico.yaml` v3.26.x–v3.28.x. */
const BASE_3_26: readonly CalicoObject[] = [
  { kind: 'DaemonSet', namespace: NS, name: 'calico-node', phase: 'workloads' },
  { kind: 'Deployment', namespace: NS, name: 'calico-kube-controllers', phase: 'workloads' },
  { kind: 'PodDisruptionBudget', namespace: NS, name: 'calico-kube-controllers', phase: 'workloads' },
  ...CRDS_3_26,
  ...(['calico-kube-controllers', 'calico-node', 'calico-cni-plugin'] as const).flatMap((name): CalicoObject[] => [
    { kind: 'ClusterRole', name, phase: 'access' },
    { kind: 'ClusterRoleBinding', name, phase: 'access' },
    { kind: 'ServiceAccount', namespace: NS, name, phase: 'access' },
  ]),
  { kind: 'ConfigMap', namespace: NS, name: 'calico-config', phase: 'config' },
];

/** Referenced (envFrom, optional) but never created by the manifest: exists only for hand-set eBPF mode. */
const OPTIONAL: readonly CalicoObject[] = [
  { kind: 'ConfigMap', namespace: NS, name: 'kubernetes-services-endpoint', phase: 'config', optional: true },
];

/** What `calico-typha.yaml` adds to `calico.yaml`. */
const TYPHA: readonly CalicoObject[] = [
  { kind: 'Deployment', namespace: NS, name: 'calico-typha', phase: 'workloads' },
  { kind: 'PodDisruptionBudget', namespace: NS, name: 'calico-typha', phase: 'workloads' },
  { kind: 'Service', namespace: NS, name: 'calico-typha', phase: 'workloads' },
];

const ADDED_3_29 = [crd('tiers'), crd('adminnetworkpolicies', 'policy.networking.k8s.io', true)];
const ADDED_3_30 = [
  crd('stagedglobalnetworkpolicies'),
  crd('stagedkubernetesnetworkpolicies'),
  crd('stagednetworkpolicies'),
  crd('baselineadminnetworkpolicies', 'policy.networking.k8s.io', true),
];

/** Release line → the objects `calico.yaml` of that line creates (without variant additions). */
export const CALICO_LINES: Readonly<Record<string, readonly CalicoObject[]>> = {
  '3.26': BASE_3_26,
  '3.27': BASE_3_26,
  '3.28': BASE_3_26,
  '3.29': [...BASE_3_26, ...ADDED_3_29],
  '3.30': [...BASE_3_26, ...ADDED_3_29, ...ADDED_3_30],
  '3.31': [...BASE_3_26, ...ADDED_3_29, ...ADDED_3_30],
  // 3.32 replaces the AdminNetworkPolicy/BaselineAdminNetworkPolicy CRDs with ClusterNetworkPolicy.
  '3.32': [
    ...BASE_3_26,
    ...ADDED_3_29.filter((o) => !o.foreign),
    ...ADDED_3_30.filter((o) => !o.foreign),
    crd('clusternetworkpolicies', 'policy.networking.k8s.io', true),
  ],
};

/** The release line (`3.27`) of a version (`v3.27.0`), or undefined when it is not supported. */
export function calicoLine(version: string): string | undefined {
  const match = /^v(3\.\d+)\.\d+$/.exec(version);
  return match && match[1]! in CALICO_LINES ? match[1] : undefined;
}

/** Supported lines, for messages: `v3.26.x, v3.27.x, …`. */
export function supportedCalicoLines(): string {
  return Object.keys(CALICO_LINES)
    .map((l) => `v${l}.x`)
    .join(', ');
}

export interface DeletionSetOptions {
  readonly variant: ManifestVariant;
  /** Also delete the `policy.networking.k8s.io` CRDs the manifest ships. */
  readonly includeForeign: boolean;
}

/** Every object the Job deletes for a Calico version, in deletion order. Throws for an unsupported version. */
export function deletionSet(version: string, options: DeletionSetOptions): CalicoObject[] {
  const line = calicoLine(version);
  if (!line) {
    throw new Error(`unsupported Calico version '${version}'; supported: ${supportedCalicoLines()}`);
  }
  const objects = [...CALICO_LINES[line]!, ...(options.variant === 'calico-typha' ? TYPHA : []), ...OPTIONAL].filter(
    (o) => options.includeForeign || !o.foreign,
  );
  return DELETION_PHASES.flatMap((phase) => objects.filter((o) => o.phase === phase));
}

/** The CRDs of a set that belong to `crd.projectcalico.org`: the custom resources the inventory lists. */
export function calicoCrdPlurals(objects: readonly CalicoObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'CustomResourceDefinition' && o.name.endsWith('.crd.projectcalico.org'))
    .map((o) => o.name.slice(0, o.name.indexOf('.')));
}
