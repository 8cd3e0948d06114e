import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deletionSpec } from '../../../charts/calico-delete.ts';
import {
  deletionResult,
  inventoryLines,
  networkUnavailableLine,
  remainingPods,
  type DeletionTarget,
} from '../../../lib/incluster/calico-delete.ts';
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

describe('inventoryLines', () => {
  it('logs policies in full, one JSON line each', () => {
    expect(inventoryLines('globalnetworkpolicies', lists.globalnetworkpolicies)).toEqual([
      'INVENTORY GlobalNetworkPolicy default.deny-public-ssh',
      'POLICY GlobalNetworkPolicy default.deny-public-ssh {"order":10,"selector":"all()","types":["Ingress"],"ingress":[{"action":"Deny","protocol":"TCP","destination":{"ports":[22]}}]}',
    ]);
    expect(inventoryLines('networkpolicies', lists.networkpolicies)[0]).toBe('INVENTORY NetworkPolicy shop/default.allow-web');
  });

  it('names pools, counts IPAM bookkeeping, and says when a kind is empty or its CRD is gone', () => {
    expect(inventoryLines('ippools', lists.ippools)).toEqual(['INVENTORY IPPool default-ipv4-ippool']);
    expect(inventoryLines('ipamblocks', lists.ipamblocks)).toEqual(['INVENTORY IPAMBlock: 3 object(s) (IPAM bookkeeping, not listed)']);
    expect(inventoryLines('hostendpoints', lists.hostendpoints)).toEqual(['INVENTORY HostEndpoint: none']);
    expect(inventoryLines('bgppeers', undefined)).toEqual(['INVENTORY bgppeers: no such resource (CRD absent)']);
  });
});

describe('remainingPods and networkUnavailableLine', () => {
  it('names the pods still there', () => {
    expect(
      remainingPods([{ items: [{ metadata: { name: 'calico-node-x' }, spec: { nodeName: 'k3s-server-2' } }] }, undefined, { items: [] }]),
    ).toEqual(['calico-node-x on k3s-server-2']);
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
  beforeAll(async () => {
    api = await startFakeApi((method, url) => {
      if (method === 'DELETE') {
        return existing.delete(url) ? [200, { kind: 'Status', status: 'Success' }] : undefined;
      }
      const path = url.split('?')[0]!;
      if (path === '/api/v1/namespaces/kube-system/pods') {
        const dsGone = !existing.has(spec.targets[0]!.path);
        podPolls += dsGone ? 1 : 0;
        const items =
          url.includes('calico-node') && (!dsGone || podPolls < 2)
            ? [{ metadata: { name: 'calico-node-abc' }, spec: { nodeName: 'k3s-server-1' } }]
            : [];
        return [200, { kind: 'PodList', items }];
      }
      const plural = path.match(/^\/apis\/crd\.projectcalico\.org\/v1\/(\w+)$/)?.[1];
      if (plural) {
        return existing.has(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.crd.projectcalico.org`)
          ? [200, lists[plural] ?? { kind: 'List', items: [] }]
          : undefined;
      }
      if (path.startsWith('/api/v1/nodes/')) {
        return [200, nodes['migrated-server']];
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
    expect(result.lines).toContain(
      'POLICY GlobalNetworkPolicy default.deny-public-ssh {"order":10,"selector":"all()","types":["Ingress"],"ingress":[{"action":"Deny","protocol":"TCP","destination":{"ports":[22]}}]}',
    );
    expect(result.lines).toContain('DELETED DaemonSet kube-system/calico-node');
    expect(result.lines).toContain('ABSENT ConfigMap kube-system/kubernetes-services-endpoint (optional, not created by the manifest)');
    expect(result.lines.at(-1)).toBe('calico-delete: done');
    // Order: every inventory read, then workloads, pods gone, CRDs, RBAC and ServiceAccounts, ConfigMaps.
    const at = (needle: string) => result.lines.findIndex((l) => l.startsWith(needle));
    expect(at('INVENTORY IPPool')).toBeLessThan(at('DELETED DaemonSet'));
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
    expect(result.lines).toContain('INVENTORY ippools: no such resource (CRD absent)');
  });

  it('stops before the CRDs when Calico pods do not go away', async () => {
    existing = new Set(spec.targets.filter((t) => !t.optional).map((t) => t.path));
    podPolls = -1000;
    const result = await api.runScript('calico-delete-main', { ...spec, podWaitSeconds: 1 });
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toBe(
      'FAIL calico pods: still present after 1s: calico-node-abc on k3s-server-1; a pod on an unreachable node stays Terminating: bring the node back or force-delete the pod, then re-run this step',
    );
    expect(result.lines.some((l) => l.startsWith('DELETED CustomResourceDefinition'))).toBe(false);
  });
});
