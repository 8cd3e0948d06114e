import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deletionSpec } from '../../../charts/calico-delete.ts';
import { readInventory, type ReadPart } from '../../../lib/incluster/calico-inventory-read.ts';
import { deletionResult, networkUnavailableLine, podWait, type DeletionTarget } from '../../../lib/incluster/calico-delete.ts';
import { exampleConfig } from '../../support/helpers.ts';
import { startFakeApi, type FakeApi } from '../../support/fake-api.ts';
import { requireTool } from '../../support/tools.ts';

const lists = parse(readFileSync(new URL('../../fixtures/calico-custom-resources.yaml', import.meta.url), 'utf8'));
const nodes = parse(readFileSync(new URL('../../fixtures/k3s-nodes.yaml', import.meta.url), 'utf8'));

const ds: DeletionTarget = { kind: 'DaemonSet', namespace: 'kube-system', name: 'calico-node', phase: 'workloads', path: '/x' };

describe('deletionResult', () => {
  it('reads delete answers: deleted, absent (safe to re-run), failed', () => {
    expect(deletionResult(ds, { status: 200, body: {} }).line).toBe('DELETED DaemonSet kube-system/calico-node');
    expect(deletionResult(ds, { status: 202, body: {} }).outcome).toBe('DELETED');
    expect(deletionResult(ds, { status: 404, body: {} }).line).toBe('ABSENT DaemonSet kube-system/calico-node (already deleted)');
    expect(
      deletionResult({ ...ds, kind: 'ConfigMap', name: 'kubernetes-services-endpoint', optional: true }, { status: 404, body: {} }).line,
    ).toBe('ABSENT ConfigMap kube-system/kubernetes-services-endpoint (optional, not created by the manifest)');
    expect(deletionResult(ds, { status: 403, body: { kind: 'Status', message: 'daemonsets.apps "calico-node" is forbidden' } })).toEqual({
      outcome: 'FAILED',
      line: 'FAILED DaemonSet kube-system/calico-node: HTTP 403: daemonsets.apps "calico-node" is forbidden',
    });
  });
});

describe('podWait and networkUnavailableLine', () => {
  const pod = (name: string, nodeName?: string) => ({ metadata: { name }, ...(nodeName ? { spec: { nodeName } } : {}) });
  const status: Record<string, string> = { 'k3s-server-1': 'True', 'k3s-server-2': 'Unknown', 'k3s-server-3': 'True' };

  it('waits for the pods on Ready nodes and for pods not scheduled yet', () => {
    expect(podWait([{ items: [pod('calico-node-x', 'k3s-server-1'), pod('calico-typha-y')] }, undefined], [], (n) => status[n])).toEqual({
      waiting: ['calico-node-x on k3s-server-1', 'calico-typha-y'],
      skipped: [],
    });
  });

  it('leaves out the pods on a node that is not Ready or listed in run.skipNodes, with the command that removes them', () => {
    const wait = podWait(
      [{ items: [pod('calico-kube-controllers-1', 'k3s-server-2'), pod('calico-node-z', 'k3s-server-3')] }, { items: [] }],
      ['k3s-server-3'],
      (n) => status[n],
    );
    expect(wait.waiting).toEqual([]);
    expect(wait.skipped).toEqual([
      'SKIPPED kube-system/calico-kube-controllers-1 on k3s-server-2: the node is not Ready (Unknown), so the pod stays until the node returns; if the node is gone for good: kubectl -n kube-system delete pod calico-kube-controllers-1 --force --grace-period=0',
      'SKIPPED kube-system/calico-node-z on k3s-server-3: the node is in run.skipNodes, so the pod stays until the node returns; if the node is gone for good: kubectl -n kube-system delete pod calico-node-z --force --grace-period=0',
    ]);
  });

  it('explains NetworkUnavailable and who clears it', () => {
    expect(networkUnavailableLine('k3s-server-1', nodes['migrated-server'])).toBe(
      'INFO node k3s-server-1: NetworkUnavailable=True (CalicoIsDown); the node is tainted network-unavailable until the Cilium operator, which tolerates that taint, sees a ready Cilium agent there and clears it',
    );
    expect(networkUnavailableLine('k3s-agent-1', nodes.agent)).toBe('INFO node k3s-agent-1: NetworkUnavailable=unset');
    expect(networkUnavailableLine('gone', undefined)).toBe('INFO node gone: not found');
  });
});

const HAVE_OPENSSL = requireTool('openssl', 'calico-delete runner', 'the fake API server has no test certificate');

describe.skipIf(!HAVE_OPENSSL)('calico-delete script against a fake API server', () => {
  // The Job polls every 5 s in the cluster; the test polls every 0.1 s.
  const spec = { ...deletionSpec(exampleConfig()), podWaitSeconds: 20, podPollSeconds: 0.1 };
  let api: FakeApi;
  /** Objects that exist: paths. Calico pods exist until calico-node's DaemonSet is deleted, then for one more poll. */
  let existing: Set<string>;
  let podPolls: number;
  /** A node whose kubelet stopped posting status: Ready Unknown. */
  let downNode: string | undefined;
  /** The path of a CRD that stays Terminating after its delete. */
  let stuckCrd: string | undefined;
  /** The inventory's ConfigMaps, by name; and the status a create answers with instead of creating. */
  const parts = new Map<string, ReadPart>();
  let createFails: number | undefined;
  /** Every pod of the cluster, as strategy per-node's check before deleting anything lists them. */
  let clusterPods: unknown[] = [];
  const INVENTORY = '/api/v1/namespaces/cilium-cutover-inventory/configmaps';
  beforeAll(async () => {
    api = await startFakeApi((method, url, body) => {
      if (method === 'GET' && url === '/api/v1/pods') {
        return [200, { kind: 'PodList', items: clusterPods }];
      }
      if (method === 'POST' && url === INVENTORY) {
        const part = body as ReadPart;
        if (createFails !== undefined) {
          return [createFails, { kind: 'Status', message: 'configmaps is forbidden' }];
        }
        if (parts.has(part.metadata.name)) {
          return [409, { kind: 'Status', reason: 'AlreadyExists' }];
        }
        parts.set(part.metadata.name, part);
        return [201, part];
      }
      if (method === 'GET' && url.startsWith(`${INVENTORY}?labelSelector=`)) {
        // `label` or `label=value`.
        const [label, value] = decodeURIComponent(url.slice(url.indexOf('=') + 1)).split('=');
        const items = [...parts.values()].filter((p) => {
          const has = p.metadata.labels?.[label!];
          return value === undefined ? has !== undefined : has === value;
        });
        return [200, { kind: 'ConfigMapList', items }];
      }

      if (method === 'DELETE') {
        // A CRD whose custom resource another controller's finalizer holds: accepted, and stays.
        if (url === stuckCrd && existing.has(url)) {
          return [200, { kind: 'CustomResourceDefinition' }];
        }
        return existing.delete(url) ? [200, { kind: 'Status', status: 'Success' }] : undefined;
      }
      const path = url.split('?')[0]!;
      if (path === stuckCrd && existing.has(path)) {
        return [
          200,
          {
            kind: 'CustomResourceDefinition',
            metadata: { name: 'ippools.crd.projectcalico.org', deletionTimestamp: '2026-12-06T10:00:00Z' },
            spec: {
              group: 'crd.projectcalico.org',
              names: { plural: 'ippools', kind: 'IPPool' },
              versions: [{ name: 'v1', storage: true }],
            },
            status: {
              conditions: [
                {
                  type: 'Terminating',
                  status: 'True',
                  reason: 'InstanceDeletionInProgress',
                  message: 'CustomResource deletion is in progress',
                },
              ],
            },
          },
        ];
      }
      if (path === '/apis/crd.projectcalico.org/v1/ippools' && stuckCrd !== undefined) {
        const pool = { metadata: { name: 'default-ipv4-ippool', finalizers: ['example.com/lb-ipam'] }, spec: { cidr: '10.42.0.0/16' } };
        return [200, { kind: 'IPPoolList', items: [pool, { metadata: { name: 'spare' } }] }];
      }
      if (path === '/api/v1/namespaces/kube-system/pods') {
        const dsGone = !existing.has(spec.targets[0]!.path);
        podPolls += dsGone ? 1 : 0;
        const items =
          url.includes('calico-node') && (!dsGone || podPolls < 2)
            ? [{ metadata: { name: 'calico-node-abc' }, spec: { nodeName: 'k3s-server-1' } }]
            : [];
        return [200, { kind: 'PodList', items }];
      }
      const crd = path.match(/^\/apis\/apiextensions\.k8s\.io\/v1\/customresourcedefinitions\/(\w+)\.crd\.projectcalico\.org$/)?.[1];
      if (crd && existing.has(path)) {
        const kind = lists[crd]?.kind?.replace(/List$/, '') ?? crd;
        return [
          200,
          {
            kind: 'CustomResourceDefinition',
            spec: { group: 'crd.projectcalico.org', names: { plural: crd, kind }, versions: [{ name: 'v1', storage: true }] },
          },
        ];
      }
      const plural = path.match(/^\/apis\/crd\.projectcalico\.org\/v1\/(\w+)$/)?.[1];
      if (plural) {
        return existing.has(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.crd.projectcalico.org`)
          ? [200, lists[plural] ?? { kind: 'List', items: [] }]
          : undefined;
      }
      if (path.startsWith('/api/v1/nodes/')) {
        // The k3s-nodes fixture's migrated server: Ready, NetworkUnavailable=True (CalicoIsDown).
        const node = nodes['migrated-server'];
        if (path.endsWith(`/${downNode}`)) {
          const conditions = node.status.conditions.map((c: any) => (c.type === 'Ready' ? { ...c, status: 'Unknown' } : c));
          return [200, { ...node, status: { ...node.status, conditions } }];
        }
        return [200, node];
      }
      return undefined;
    });
  });
  afterAll(() => api.close());

  it('inventories, deletes workloads, waits for their pods, then deletes the rest, in order', async () => {
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    podPolls = 0;
    api.requests.length = 0;
    const result = await api.runScript('calico-delete-main', spec);
    expect(result.code).toBe(0);
    expect(existing.size).toBe(0);
    // The inventory holds the policy in full, and the pool; not the IPAM blocks.
    const id = result.lines
      .find((l) => l.startsWith('KEPT Calico inventory '))!
      .split(' ')[3]!
      .replace(/:$/, '');
    const inventory = readInventory(id, [...parts.values()]);
    expect(inventory.objects).toContainEqual({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'default.deny-public-ssh' },
      spec: lists.globalnetworkpolicies.items[0].spec,
    });
    expect(inventory.objects.map((o) => o.kind).sort()).toEqual(['GlobalNetworkPolicy', 'IPPool', 'NetworkPolicy']);
    expect(result.lines).toContain('INVENTORY IPAMBlock: 3 object(s), not kept (written by Calico itself)');
    expect(result.lines).toContain(
      `KEPT Calico inventory ${id}: 3 custom resource(s) (IPPool 1, GlobalNetworkPolicy 1, NetworkPolicy 1) in 1 ConfigMap(s) in namespace cilium-cutover-inventory: calico-${id}-1-of-1; restore them with: cilium-cutover restore --id ${id}`,
    );
    expect(api.requests.findIndex((r) => r.startsWith('POST '))).toBeLessThan(api.requests.findIndex((r) => r.startsWith('DELETE ')));
    expect(result.lines).toContain('DELETED DaemonSet kube-system/calico-node');
    expect(result.lines).toContain('ABSENT ConfigMap kube-system/kubernetes-services-endpoint (optional, not created by the manifest)');
    expect(result.lines.at(-1)).toBe('calico-delete: done');
    // Order: every inventory read, then workloads, pods gone, CRDs, RBAC and ServiceAccounts, ConfigMaps.
    const at = (needle: string) => result.lines.findIndex((l) => l.startsWith(needle));
    expect(at('KEPT Calico inventory')).toBeLessThan(at('DELETED DaemonSet'));
    expect(at('DELETED PodDisruptionBudget')).toBeLessThan(at('PASS calico pods: all gone'));
    expect(at('PASS calico pods: all gone')).toBeLessThan(at('DELETED CustomResourceDefinition'));
    expect(at('DELETED CustomResourceDefinition')).toBeLessThan(at('DELETED ClusterRole '));
    expect(at('DELETED ServiceAccount')).toBeLessThan(at('DELETED ConfigMap kube-system/calico-config'));
    expect(result.lines.filter((l) => l.startsWith('INFO node '))).toHaveLength(3);
    expect(api.requests.filter((r) => r.startsWith('DELETE ')).map((r) => r.slice(7))).toEqual(spec.targets.map((t) => t.path));
  });

  it('is safe to re-run: everything reports absent, and it still succeeds', async () => {
    existing = new Set();
    podPolls = 5;
    const result = await api.runScript('calico-delete-main', spec);
    expect(result.code).toBe(0);
    expect(result.lines.filter((l) => l.startsWith('DELETED'))).toEqual([]);
    expect(result.lines.filter((l) => l.startsWith('ABSENT'))).toHaveLength(spec.targets.length);
    expect(result.lines).toContain('INVENTORY ippools.crd.projectcalico.org: CRD absent, nothing to keep');
    expect(result.lines).toContain(
      'KEPT nothing: none of the CRDs is left; `cilium-cutover inventory` lists what the run that deleted them kept',
    );
  });

  it('keeps no second inventory on a re-run: the same custom resources, or what is left after some CRDs went, are in the first', async () => {
    parts.clear();
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    podPolls = -1000;
    const first = await api.runScript('calico-delete-main', { ...spec, podWaitSeconds: 0.5 });
    expect(first.code).toBe(1);
    const kept = [...parts.values()];
    expect(kept).toHaveLength(1);
    const id = kept[0]!.metadata.labels!['cilium-cutover.io/inventory'];
    podPolls = 0;
    const second = await api.runScript('calico-delete-main', spec);
    expect(second.code).toBe(0);
    expect(second.lines).toContain(
      `KEPT already: the 3 custom resource(s) left are in Calico inventory ${id}, taken ${kept[0]!.metadata.annotations!['cilium-cutover.io/taken-at']} (3 in all); restore them with: cilium-cutover restore --id ${id}`,
    );
    // A run that stopped while deleting the CRDs: the pools' CRD is gone, the policies' are left.
    existing = new Set(
      spec.targets
        .filter((t) => !t.optional && (t.kind !== 'CustomResourceDefinition' || /networkpolicies/.test(t.name)))
        .map((t) => t.path),
    );
    const third = await api.runScript('calico-delete-main', spec);
    expect(third.code).toBe(0);
    expect(third.lines).toContain('INVENTORY ippools.crd.projectcalico.org: CRD absent, nothing to keep');
    expect(third.lines.find((l) => l.startsWith('KEPT '))).toMatch(
      new RegExp(`^KEPT already: the 2 custom resource\\(s\\) left are in Calico inventory ${id}, .* \\(3 in all\\)`),
    );
    expect([...parts.values()]).toEqual(kept);
  });

  it('deletes nothing when the inventory cannot be kept', async () => {
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    parts.clear();
    createFails = 403;
    api.requests.length = 0;
    const result = await api.runScript('calico-delete-main', spec);
    createFails = undefined;
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toMatch(
      /^FAILED inventory: creating ConfigMap cilium-cutover-inventory\/calico-[0-9a-f]{8}-1-of-1 failed: HTTP 403: configmaps is forbidden; nothing was deleted$/,
    );
    expect(api.requests.filter((r) => r.startsWith('DELETE '))).toEqual([]);
    expect(existing.size).toBe(spec.targets.filter((t) => !t.optional).length);
  });

  it('per-node: deletes nothing while a pod is still on a Calico address, and goes on once every pod is on Cilium', async () => {
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    parts.clear();
    const running = (name: string, podIP: string) => ({
      metadata: { name, namespace: 'shop', ownerReferences: [{ kind: 'ReplicaSet', name: 'x', controller: true }] },
      spec: { nodeName: 'k3s-server-2' },
      status: { phase: 'Running', podIP },
    });
    clusterPods = [running('web-1', '10.245.1.7'), running('debug', '192.168.4.2')];
    api.requests.length = 0;
    const perNode = { ...spec, migrationCIDR: '10.245.0.0/16' };
    const refused = await api.runScript('calico-delete-main', perNode);
    expect(refused.code).toBe(1);
    expect(refused.lines.slice(1)).toEqual([
      'FAIL pods-on-cilium: 1 pod(s) still on a Calico address, which would lose its network with Calico: shop/debug (192.168.4.2 on k3s-server-2); restart them (they come back on Cilium), then run this step again',
      'calico-delete: nothing deleted',
    ]);
    expect(api.requests.filter((r) => !r.startsWith('GET '))).toEqual([]);
    clusterPods = [running('web-1', '10.245.1.7')];
    const passed = await api.runScript('calico-delete-main', perNode);
    clusterPods = [];
    expect(passed.lines[1]).toBe('PASS pods-on-cilium: every pod-network pod has an address from 10.245.0.0/16');
    expect(passed.lines.at(-1)).toBe('calico-delete: done');
    expect(passed.code).toBe(0);
  });

  it('goes on past a Calico pod on a node that is down, listing it', async () => {
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    podPolls = -1000;
    downNode = 'k3s-server-1';
    const result = await api.runScript('calico-delete-main', spec);
    downNode = undefined;
    expect(result.code).toBe(0);
    expect(result.lines.filter((l) => l.startsWith('SKIPPED'))).toEqual([
      'SKIPPED kube-system/calico-node-abc on k3s-server-1: the node is not Ready (Unknown), so the pod stays until the node returns; if the node is gone for good: kubectl -n kube-system delete pod calico-node-abc --force --grace-period=0',
    ]);
    expect(result.lines).toContain('PASS calico pods: all gone but 1 on nodes that are down (SKIPPED above)');
    expect(result.lines.at(-1)).toBe('calico-delete: done');
  });

  it('stops before the CRDs when Calico pods on a Ready node do not go away', async () => {
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    podPolls = -1000;
    const result = await api.runScript('calico-delete-main', { ...spec, podWaitSeconds: 1 });
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toBe(
      'FAIL calico pods: still present after 1s on nodes that are Ready: calico-node-abc on k3s-server-1; find what holds them (`kubectl -n kube-system describe pod`: a finalizer, a stuck container), then re-run this step',
    );
    expect(result.lines.some((l) => l.startsWith('DELETED CustomResourceDefinition'))).toBe(false);
  });

  it('reports a CRD that stays Terminating, naming the custom resource and finalizer that hold it, and fails', async () => {
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    podPolls = 0;
    stuckCrd = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ippools.crd.projectcalico.org';
    const result = await api.runScript('calico-delete-main', { ...spec, crdWaitSeconds: 1, crdPollSeconds: 0.2 });
    stuckCrd = undefined;
    expect(result.code).toBe(1);
    expect(result.lines).not.toContain('DELETED CustomResourceDefinition ippools.crd.projectcalico.org');
    expect(result.lines).toContain('DELETED CustomResourceDefinition ipamblocks.crd.projectcalico.org');
    expect(result.lines).toContain(
      `TERMINATING CustomResourceDefinition ippools.crd.projectcalico.org: still present after 1s (CustomResource deletion is in progress); held by IPPool default-ipv4-ippool (finalizer example.com/lb-ipam). Once the controller that owns the finalizer is gone or done: kubectl patch ippools.crd.projectcalico.org default-ipv4-ippool --type=merge -p '{"metadata":{"finalizers":null}}' (each one), then re-run this step`,
    );
    // The rest of the step still ran.
    expect(result.lines).toContain('DELETED ConfigMap kube-system/calico-config');
    expect(result.lines.at(-1)).toBe('calico-delete: 1 delete(s) failed or did not finish');
  });
});
