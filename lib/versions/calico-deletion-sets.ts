/**
 * The Calico deletion sets: every object a Calico manifest install creates, per release tag and
 * manifest variant. Data, not code: an upstream change is a new entry of CHANGES, a new patch
 * release a new newest tag in CALICO_LINES.
 *
 * Source: `manifests/calico.yaml` and `manifests/calico-typha.yaml` of projectcalico/calico at every
 * release tag v3.26.0–v3.32.1, as listed in test/fixtures/calico-objects/ (copied by
 * scripts/derive-calico-fixtures.ts); the unit test expands this table for every tag there and
 * compares, object by object. Upstream changes objects at patch releases too (calico-tier-getter
 * came with v3.29.4), so each object is listed with the first tag that creates it, and the tag from
 * which it is gone. See docs/steps.md "Removing Calico".
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
const NETWORK_POLICY_API = 'policy.networking.k8s.io';

function crd(plural: string, group = 'crd.projectcalico.org', foreign = false): CalicoObject {
  return { kind: 'CustomResourceDefinition', name: `${plural}.${group}`, phase: 'crds', ...(foreign ? { foreign } : {}) };
}

/** ClusterRole, ClusterRoleBinding and ServiceAccount of a component. */
function access(name: string, serviceAccount = true): CalicoObject[] {
  return [
    { kind: 'ClusterRole', name, phase: 'access' },
    { kind: 'ClusterRoleBinding', name, phase: 'access' },
    ...(serviceAccount ? [{ kind: 'ServiceAccount', namespace: NS, name, phase: 'access' } as const] : []),
  ];
}

/** The 31 objects of `calico.yaml` v3.26.0 (the same through v3.28.5). */
const BASE_3_26: readonly CalicoObject[] = [
  { kind: 'DaemonSet', namespace: NS, name: 'calico-node', phase: 'workloads' },
  { kind: 'Deployment', namespace: NS, name: 'calico-kube-controllers', phase: 'workloads' },
  { kind: 'PodDisruptionBudget', namespace: NS, name: 'calico-kube-controllers', phase: 'workloads' },
  ...[
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
  ].map((p) => crd(p)),
  ...['calico-kube-controllers', 'calico-node', 'calico-cni-plugin'].flatMap((name) => access(name)),
  { kind: 'ConfigMap', namespace: NS, name: 'calico-config', phase: 'config' },
];

/** What `calico-typha.yaml` adds to `calico.yaml` (the same at every tag). */
const TYPHA: readonly CalicoObject[] = [
  { kind: 'Deployment', namespace: NS, name: 'calico-typha', phase: 'workloads' },
  { kind: 'PodDisruptionBudget', namespace: NS, name: 'calico-typha', phase: 'workloads' },
  { kind: 'Service', namespace: NS, name: 'calico-typha', phase: 'workloads' },
];

/** Referenced (envFrom, optional) but never created by the manifest: exists only for hand-set eBPF mode. */
const OPTIONAL: readonly CalicoObject[] = [
  { kind: 'ConfigMap', namespace: NS, name: 'kubernetes-services-endpoint', phase: 'config', optional: true },
];

const ADMIN_NETWORK_POLICIES = crd('adminnetworkpolicies', NETWORK_POLICY_API, true);
const BASELINE_ADMIN_NETWORK_POLICIES = crd('baselineadminnetworkpolicies', NETWORK_POLICY_API, true);

/**
 * What one release tag changed, for it and every later tag by version number, across lines
 * (`v3.29.4`'s change holds for `v3.30.0`): no change so far was backported to an older line only.
 */
interface Change {
  readonly tag: string;
  /** New in both manifests. */
  readonly added?: readonly CalicoObject[];
  /** New in `calico-typha.yaml` only. */
  readonly typhaAdded?: readonly CalicoObject[];
  /** Gone from both manifests. */
  readonly removed?: readonly CalicoObject[];
}

/** Every change of the two manifests from v3.26.0 on, oldest first. */
const CHANGES: readonly Change[] = [
  { tag: 'v3.26.0', added: BASE_3_26, typhaAdded: TYPHA },
  { tag: 'v3.29.0', added: [crd('tiers'), ADMIN_NETWORK_POLICIES] },
  // Lets the kube-controller-manager get tiers (its garbage collector handles tiered policies).
  { tag: 'v3.29.4', added: access('calico-tier-getter', false) },
  {
    tag: 'v3.30.0',
    added: [
      crd('stagedglobalnetworkpolicies'),
      crd('stagedkubernetesnetworkpolicies'),
      crd('stagednetworkpolicies'),
      BASELINE_ADMIN_NETWORK_POLICIES,
    ],
  },
  // The network-policy API's ClusterNetworkPolicy replaces AdminNetworkPolicy and BaselineAdminNetworkPolicy.
  {
    tag: 'v3.32.0',
    added: [crd('clusternetworkpolicies', NETWORK_POLICY_API, true)],
    removed: [ADMIN_NETWORK_POLICIES, BASELINE_ADMIN_NETWORK_POLICIES],
  },
];

/**
 * Release line → its newest tag the table is checked against. A later patch of a supported line,
 * not yet known, gets the set of this tag; other lines have no deletion set.
 */
export const CALICO_LINES: Readonly<Record<string, string>> = {
  '3.26': 'v3.26.5',
  '3.27': 'v3.27.5',
  '3.28': 'v3.28.5',
  '3.29': 'v3.29.7',
  '3.30': 'v3.30.7',
  '3.31': 'v3.31.7',
  '3.32': 'v3.32.1',
};

/** `v3.29.4` → [3, 29, 4], or undefined for anything else (`3.29.4`, `v3.29.4-rc1`, `v3.029.4`). */
function parseTag(tag: string): [number, number, number] | undefined {
  const match = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(tag);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** Whether tag `a` is the same release as `b` or an older one. */
function notNewer(a: string, b: string): boolean {
  const [x, y] = [parseTag(a)!, parseTag(b)!];
  const i = x.findIndex((n, k) => n !== y[k]);
  return i === -1 || x[i]! < y[i]!;
}

/** The release line (`3.27`) of a version (`v3.27.0`), or undefined when it is not supported. */
export function calicoLine(version: string): string | undefined {
  const parsed = parseTag(version);
  const line = parsed && `${parsed[0]}.${parsed[1]}`;
  return line !== undefined && line in CALICO_LINES ? line : undefined;
}

/** The known tag whose set a version gets: itself, or its line's newest known tag when it is newer. */
function knownTag(version: string): string | undefined {
  const line = calicoLine(version);
  if (line === undefined) {
    return undefined;
  }
  const newest = CALICO_LINES[line]!;
  return notNewer(version, newest) ? version : newest;
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

const key = (o: CalicoObject) => `${o.kind} ${o.namespace ?? ''} ${o.name}`;

/** The objects a manifest creates at a known tag: the changes up to it, applied in order. */
function objectsAt(tag: string, variant: ManifestVariant): CalicoObject[] {
  return CHANGES.filter((c) => notNewer(c.tag, tag)).reduce<CalicoObject[]>((objects, c) => {
    const gone = new Set((c.removed ?? []).map(key));
    return [...objects.filter((o) => !gone.has(key(o))), ...(c.added ?? []), ...(variant === 'calico-typha' ? (c.typhaAdded ?? []) : [])];
  }, []);
}

/**
 * Every object the Job deletes for a Calico version (`v3.29.4`), in deletion order: the objects the
 * manifest of that tag creates, plus the optional ones. Throws for a version of an unsupported line.
 */
export function deletionSet(version: string, options: DeletionSetOptions): CalicoObject[] {
  const tag = knownTag(version);
  if (tag === undefined) {
    throw new Error(`unsupported Calico version '${version}'; supported: ${supportedCalicoLines()}`);
  }
  const objects = [...objectsAt(tag, options.variant), ...OPTIONAL].filter((o) => options.includeForeign || !o.foreign);
  return DELETION_PHASES.flatMap((phase) => objects.filter((o) => o.phase === phase));
}

/**
 * The CRDs a set deletes, as group and plural: deleting a CRD deletes its custom resources, so the
 * inventory reads each one's (Calico's, and the network-policy API's when the set includes them).
 */
export function deletedCrds(objects: readonly CalicoObject[]): { crd: string; group: string; plural: string }[] {
  return objects
    .filter((o) => o.kind === 'CustomResourceDefinition')
    .map((o) => ({ crd: o.name, group: o.name.slice(o.name.indexOf('.') + 1), plural: o.name.slice(0, o.name.indexOf('.')) }));
}

/**
 * The Kubernetes network-policy API kinds a Calico release enforces (Felix's syncer,
 * libcalico-go felixsyncerv1.go): AdminNetworkPolicy from v3.29, BaselineAdminNetworkPolicy in
 * v3.30–v3.31, only ClusterNetworkPolicy from v3.32 (its release notes: ANP and BANP no longer
 * enforced). No Cilium release 1.15–1.20 enforces ANP or BANP; 1.20 enforces ClusterNetworkPolicy
 * only with `enable-k8s-cluster-network-policy`, which this tool does not set.
 */
export function calicoEnforcedPolicyApi(version: string): { kind: string; version: string; resource: string }[] {
  const line = calicoLine(version);
  const minor = line === undefined ? 0 : Number(line.split('.')[1]);
  const anp = { kind: 'AdminNetworkPolicy', version: 'v1alpha1', resource: 'adminnetworkpolicies' };
  const banp = { kind: 'BaselineAdminNetworkPolicy', version: 'v1alpha1', resource: 'baselineadminnetworkpolicies' };
  const cnp = { kind: 'ClusterNetworkPolicy', version: 'v1alpha2', resource: 'clusternetworkpolicies' };
  if (minor >= 32) return [cnp];
  if (minor >= 30) return [anp, banp];
  if (minor === 29) return [anp];
  return [];
}
