/**
 * Reads the ClusterSnapshot `discover` needs, read-only, with @kubernetes/client-node: get and list
 * on nodes, kube-system workloads, the `kubernetes` Service, Calico's IPPools and policies, k3s's
 * ETCDSnapshotFiles. A resource whose API does not exist reads as absent.
 */
import { ApiException, type KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { ApiNode, ApiWorkload, ClusterSnapshot } from './discover.ts';

/** The Calico policy resources the deletion destroys with the CRDs. */
const CALICO_POLICIES = ['GlobalNetworkPolicy', 'NetworkPolicy', 'HostEndpoint', 'NetworkSet', 'GlobalNetworkSet'];

export async function readSnapshot(kc: KubeConfig): Promise<ClusterSnapshot> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const absent = (err: unknown) => {
    // 404: no such object, or no such API (the CRD is not installed).
    if (err instanceof ApiException && err.code === 404) {
      return undefined;
    }
    if (err instanceof Error && /resource .* not found|no resource|not found in/i.test(err.message)) {
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
  const calicoSystem = await get<ApiWorkload>('apps/v1', 'DaemonSet', 'calico-node', 'calico-system');
  const operator = await get<ApiWorkload>('apps/v1', 'Deployment', 'tigera-operator', 'tigera-operator');
  return {
    context: kc.getCurrentContext(),
    nodes: await list<ApiNode>('v1', 'Node'),
    calicoNode: await get<ApiWorkload>('apps/v1', 'DaemonSet', 'calico-node', 'kube-system'),
    calicoTypha: await get<ApiWorkload>('apps/v1', 'Deployment', 'calico-typha', 'kube-system'),
    tigeraOperator: calicoSystem !== undefined || operator !== undefined,
    ipPools: await list('crd.projectcalico.org/v1', 'IPPool'),
    kubernetesService: await get('v1', 'Service', 'kubernetes', 'default'),
    cilium: (await get('apps/v1', 'DaemonSet', 'cilium', 'kube-system')) !== undefined,
    hcloudControllerManager: (await get('apps/v1', 'Deployment', 'hcloud-cloud-controller-manager', 'kube-system')) !== undefined,
    snapshots: await list('k3s.cattle.io/v1', 'ETCDSnapshotFile'),
    calicoPolicies: policyCounts,
  };
}
