/**
 * Reads the ClusterSnapshot `discover` needs, read-only, with @kubernetes/client-node: get and list
 * on nodes, kube-system workloads, the `kubernetes` Service, Calico's IPPools and policies, k3s's
 * ETCDSnapshotFiles. A resource whose API does not exist reads as absent.
 */
import { ApiException, type KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { deletionSet, KINDS } from '../versions/calico-deletion-sets.ts';
import { type ApiNode, type ApiWorkload, calicoVersionOf, type ClusterSnapshot } from './discover.ts';

/** The Calico policy resources the deletion destroys with the CRDs. */
const CALICO_POLICIES = ['GlobalNetworkPolicy', 'NetworkPolicy', 'HostEndpoint', 'NetworkSet', 'GlobalNetworkSet'];

export async function readSnapshot(kc: KubeConfig): Promise<ClusterSnapshot> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const absent = (err: unknown) => {
    // 404: no such object, or no such API (the CRD is not installed).
    if (err instanceof ApiException && err.code === 404) {
      return undefined;
    }
    // The client resolves a kind through discovery: a group whose other CRDs exist (a half-removed
    // Calico) answers for a kind it no longer serves with "Unrecognized API version and kind".
    if (err instanceof Error && /resource .* not found|no resource|not found in|unrecognized api version and kind/i.test(err.message)) {
      return undefined;
    }
    throw err;
  };
  const get = async <T>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> =>
    (await api.read({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } } as never).catch(absent)) as T | undefined;
  const list = async <T>(apiVersion: string, kind: string, namespace?: string): Promise<T[]> =>
    (((await api.list(apiVersion, kind, namespace).catch(absent)) as { items?: T[] } | undefined)?.items ?? []) as T[];

  const policyCounts: Record<string, number> = {};
  for (const kind of CALICO_POLICIES) {
    policyCounts[kind] = (await list('crd.projectcalico.org/v1', kind)).length;
  }
  const calicoNode = await get<ApiWorkload>('apps/v1', 'DaemonSet', 'calico-node', 'kube-system');
  const calicoTypha = await get<ApiWorkload>('apps/v1', 'Deployment', 'calico-typha', 'kube-system');
  const version = calicoVersionOf(calicoNode?.spec?.template?.spec?.containers?.find((c) => c.name === 'calico-node')?.image);
  const label = (kind: string, name: string, namespace?: string) => `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
  let set: ClusterSnapshot['deletionSet'];
  const covered = new Set<string>();
  if (version) {
    let objects: ReturnType<typeof deletionSet> | undefined;
    try {
      objects = deletionSet(version, { variant: calicoTypha ? 'calico-typha' : 'calico', includeForeign: true });
    } catch {
      objects = undefined; // An unsupported release: discover says so.
    }
    if (objects) {
      const present: string[] = [];
      const absentObjects: string[] = [];
      for (const o of objects) {
        const k = KINDS[o.kind];
        const found = await get(k.group ? `${k.group}/${k.version}` : k.version, o.kind, o.name, o.namespace);
        covered.add(label(o.kind, o.name, o.namespace));
        (found ? present : absentObjects).push(label(o.kind, o.name, o.namespace));
      }
      set = { present, absent: absentObjects };
    }
  }
  // Calico-named objects of the kinds the sets hold, that no set names.
  const uncovered: string[] = [];
  for (const [kind, k] of Object.entries(KINDS)) {
    const items = await list<{ metadata: { name: string; namespace?: string } }>(
      k.group ? `${k.group}/${k.version}` : k.version,
      kind,
      k.namespaced ? 'kube-system' : undefined,
    );
    for (const item of items) {
      const { name, namespace } = item.metadata;
      const calicoNamed = kind === 'CustomResourceDefinition' ? name.endsWith('.projectcalico.org') : /^calico/.test(name);
      if (calicoNamed && !covered.has(label(kind, name, namespace))) {
        uncovered.push(label(kind, name, namespace));
      }
    }
  }
  const calicoSystem = await get<ApiWorkload>('apps/v1', 'DaemonSet', 'calico-node', 'calico-system');
  const operator = await get<ApiWorkload>('apps/v1', 'Deployment', 'tigera-operator', 'tigera-operator');
  return {
    context: kc.getCurrentContext(),
    server: kc.getCurrentCluster()?.server,
    nodes: await list<ApiNode>('v1', 'Node'),
    calicoNode,
    calicoTypha,
    tigeraOperator: calicoSystem !== undefined || operator !== undefined,
    ipPools: await list('crd.projectcalico.org/v1', 'IPPool'),
    calicoBackend: (await get<{ data?: Record<string, string> }>('v1', 'ConfigMap', 'calico-config', 'kube-system'))?.data?.calico_backend,
    kubernetesService: await get('v1', 'Service', 'kubernetes', 'default'),
    cilium: (await get('apps/v1', 'DaemonSet', 'cilium', 'kube-system')) !== undefined,
    hcloudControllerManager: (await get('apps/v1', 'Deployment', 'hcloud-cloud-controller-manager', 'kube-system')) !== undefined,
    snapshots: await list('k3s.cattle.io/v1', 'ETCDSnapshotFile'),
    calicoPolicies: policyCounts,
    deletionSet: set,
    uncovered: uncovered.sort(),
  };
}
