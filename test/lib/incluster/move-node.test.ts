/**
 * Runs the bundled move-node and readdress scripts, as their Jobs run them, against a fake API
 * server that keeps a small cluster in memory: evictions, PodDisruptionBudget refusals, the Cilium
 * agent's restart. It checks the scripts' decisions and wiring; no traffic reaches a cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MoveNodeSpec, PodObject } from '../../../lib/incluster/move-node.ts';
import type { ReaddressSpec } from '../../../lib/incluster/readdress.ts';
import { mergePatch, startFakeApi, type FakeApi } from '../../support/fake-api.ts';
import { requireTool } from '../../support/tools.ts';

const HAVE_OPENSSL = requireTool('openssl', 'move-node-runner', 'the fake API server has no test certificate');

/** The 429 a budget that allows no disruption answers (kubernetes pkg/registry/core/pod/storage/eviction.go). */
const BUDGET_REFUSAL = {
  kind: 'Status',
  code: 429,
  reason: 'TooManyRequests',
  message: "Cannot evict pod as it would violate the pod's disruption budget.",
  details: { causes: [{ type: 'DisruptionBudget', message: 'The disruption budget web-pdb needs 1 healthy pods and has 1 currently' }] },
};

type Pod = PodObject & { metadata: PodObject['metadata'] & { labels?: Record<string, string> } };

function pod(namespace: string, name: string, owner: string | undefined, ip: string, extra: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: {
      name,
      namespace,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(owner ? { ownerReferences: [{ kind: owner, name: `${name}-owner`, controller: true }] } : {}),
      ...extra,
    },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

const spec: MoveNodeSpec = {
  node: 'n1',
  migrationCIDR: '10.245.0.0/16',
  drainTimeoutSeconds: 20,
  agentTimeoutSeconds: 20,
  evictUnmanagedPods: false,
  deleteEmptyDirData: false,
  switchLabel: { key: 'cilium-cutover.io/cni', value: 'cilium' },
  movedLabel: { key: 'cilium-cutover.io/moved', value: 'true' },
  agent: { namespace: 'kube-system', labelSelector: 'k8s-app=cilium' },
};

describe.skipIf(!HAVE_OPENSSL)('move-node script against a fake API server', () => {
  let api: FakeApi;
  let node: any;
  let pods: Pod[];
  let refusals: number;
  beforeAll(async () => {
    api = await startFakeApi((method, url, body) => {
      const path = url.split('?')[0]!;
      const query = new URLSearchParams(url.split('?')[1] ?? '');
      if (path === '/api/v1/nodes/n1') {
        if (method === 'PATCH') {
          node = mergePatch(node, body);
        }
        return [200, node];
      }
      if (method === 'GET' && (path === '/api/v1/pods' || path === '/api/v1/namespaces/kube-system/pods')) {
        expect(query.get('fieldSelector')).toBe('spec.nodeName=n1');
        const ns = path.includes('kube-system') ? 'kube-system' : undefined;
        const selector = query.get('labelSelector');
        const items = pods.filter(
          (p) => (!ns || p.metadata.namespace === ns) && (!selector || p.metadata.labels?.['k8s-app'] === selector.split('=')[1]),
        );
        return [200, { items }];
      }
      const eviction = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path);
      if (method === 'POST' && eviction) {
        const target = pods.find((p) => p.metadata.namespace === eviction[1] && p.metadata.name === eviction[2]);
        // The pod's UID, where it has one, as the eviction's precondition.
        expect(body).toEqual({
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: eviction[2], namespace: eviction[1] },
          ...(target?.metadata.uid ? { deleteOptions: { preconditions: { uid: target.metadata.uid } } } : {}),
        });
        if (!target) {
          return [404, { kind: 'Status', code: 404 }];
        }
        if (target.metadata.namespace === 'closing') {
          // The namespace is being deleted: every eviction is refused; the namespace controller
          // marks the pod deleted, and its kubelet removes it a moment later.
          pods = pods.map((p) => (p === target ? { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:01Z' } } : p));
          setTimeout(() => (pods = pods.filter((p) => p.metadata.namespace !== 'closing')), 100);
          return [
            403,
            {
              kind: 'Status',
              reason: 'Forbidden',
              details: { causes: [{ type: 'NamespaceTerminating', message: 'namespace closing is being terminated' }] },
            },
          ];
        }
        if (target.metadata.name === 'web-1' && refusals > 0) {
          refusals--;
          return [429, BUDGET_REFUSAL];
        }
        pods = pods.filter((p) => p !== target);
        // The DaemonSets recreate their pods on the node; the new ones run on Cilium.
        if (target.metadata.name === 'cilium-old') {
          pods.push({
            ...pod('kube-system', 'cilium-new', 'DaemonSet', '10.0.0.2', {
              labels: { 'k8s-app': 'cilium' },
              creationTimestamp: new Date().toISOString(),
            }),
            spec: { nodeName: 'n1', hostNetwork: true },
          });
        }
        // A controller that places its pods itself, ignoring the cordon: a new pod for each evicted
        // one, on Calico until the node is switched.
        if (target.metadata.name.startsWith('sticky-')) {
          const n = Number(target.metadata.name.split('-')[1]) + 1;
          const switched = node.metadata.labels['cilium-cutover.io/cni'] === 'cilium';
          pods.push(pod('batch', `sticky-${n}`, 'ReplicaSet', switched ? `10.245.0.${n}` : `192.168.1.${20 + n}`, { uid: `u${n}` }));
        }
        if (target.metadata.name === 'logs-old') {
          pods.push(pod('monitoring', 'logs-new', 'DaemonSet', '10.245.0.7'));
        }
        return [201, { kind: 'Status', status: 'Success' }];
      }
      return undefined;
    });
  });
  afterAll(() => api.close());

  function reset(extra: Pod[] = []): void {
    node = { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' }, annotations: {} }, spec: {} };
    pods = [
      pod('shop', 'web-1', 'ReplicaSet', '192.168.1.5'),
      pod('monitoring', 'logs-old', 'DaemonSet', '192.168.1.6'),
      {
        ...pod('kube-system', 'cilium-old', 'DaemonSet', '10.0.0.2', { labels: { 'k8s-app': 'cilium' } }),
        spec: { nodeName: 'n1', hostNetwork: true },
      },
      ...extra,
    ];
    refusals = 2;
    api.requests.length = 0;
  }

  it('drains through evictions, waits out a PodDisruptionBudget, switches the node and brings its pods back on Cilium', async () => {
    reset();
    const result = await api.runScript('move-node-main', spec, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(result.lines).toEqual([
      'move-node n1',
      'CORDONED n1',
      'WAITING shop/web-1: a PodDisruptionBudget allows no eviction now; retrying',
      'EVICTED shop/web-1',
      'DRAINED n1',
      'SWITCHED n1: label cilium-cutover.io/cni=cilium',
      'RESTARTED Cilium agent kube-system/cilium-old',
      'READY Cilium agent kube-system/cilium-new (started after the switch)',
      'EVICTED monitoring/logs-old',
      'ON-CILIUM every pod-network pod on n1 has an address from 10.245.0.0/16',
      'MOVED n1: label cilium-cutover.io/moved=true',
      'UNCORDONED n1',
      'move-node: done',
    ]);
    expect(result.code).toBe(0);
    // The eviction API only: PodDisruptionBudgets hold, and nothing is deleted.
    expect(api.requests.filter((r) => r.startsWith('DELETE'))).toEqual([]);
    expect(api.requests.filter((r) => r.startsWith('POST')).every((r) => r.endsWith('/eviction'))).toBe(true);
    expect(node.spec.unschedulable).toBeUndefined();
    expect(node.metadata.labels['cilium-cutover.io/cni']).toBe('cilium');
    expect(node.metadata.labels['cilium-cutover.io/moved']).toBe('true');
    expect(node.metadata.annotations['cilium-cutover.io/cordoned']).toBeUndefined();
    expect(node.metadata.annotations['cilium-cutover.io/switched-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // A second run finds everything done and restarts nothing.
    api.requests.length = 0;
    const again = await api.runScript('move-node-main', spec, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(again.code).toBe(0);
    expect(again.lines).toContain('READY Cilium agent kube-system/cilium-new (started after the switch)');
    expect(again.lines.some((l) => /^(EVICTED|RESTARTED|MOVED) /.test(l))).toBe(false);
    expect(again.lines).toContain('KEPT switch of n1 (since ' + node.metadata.annotations['cilium-cutover.io/switched-at'] + ')');
  });

  it('waits only for the pods it listed, as kubectl drain does, and through a namespace being deleted', async () => {
    reset([pod('batch', 'sticky-1', 'ReplicaSet', '192.168.1.21', { uid: 'u1' }), pod('closing', 'leftover', 'ReplicaSet', '192.168.1.9')]);
    const result = await api.runScript('move-node-main', spec, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(result.lines.slice(0, 7)).toEqual([
      'move-node n1',
      'CORDONED n1',
      'WAITING shop/web-1: a PodDisruptionBudget allows no eviction now; retrying',
      'EVICTED batch/sticky-1',
      'WAITING closing/leftover: its namespace is being deleted; retrying until the pod is marked deleted',
      'EVICTED shop/web-1',
      'DRAINED n1',
    ]);
    // Marked deleted, the pod was waited for and not evicted again.
    expect(api.requests.filter((r) => r === 'POST /api/v1/namespaces/closing/pods/leftover/eviction')).toHaveLength(1);
    expect(result.code).toBe(0);
    // The pod its controller put back during the drain is not evicted again and again: it was not listed.
    expect(result.lines.filter((l) => l.startsWith('EVICTED batch/'))).toEqual(['EVICTED batch/sticky-1', 'EVICTED batch/sticky-2']);
    expect(result.lines.at(-1)).toBe('move-node: done');
  });

  it('changes nothing while a pod would lose its emptyDir data, unless allowed', async () => {
    const scratch = {
      ...pod('kube-system', 'traefik-1', 'ReplicaSet', '192.168.1.8'),
      spec: { nodeName: 'n1', volumes: [{ name: 'data', emptyDir: {} }] },
    };
    reset([scratch]);
    const refused = await api.runScript('move-node-main', spec, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(refused.code).toBe(1);
    expect(refused.lines[1]).toBe(
      'FAILED pods with emptyDir volumes would lose that data: kube-system/traefik-1; move them, or set perNode.deleteEmptyDirData: true',
    );
    expect(node.spec.unschedulable).toBeUndefined();
    expect(api.requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
    reset([scratch]);
    const allowed = await api.runScript('move-node-main', { ...spec, deleteEmptyDirData: true }, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(allowed.code).toBe(0);
    expect(allowed.lines).toContain('EVICTED kube-system/traefik-1');
  });

  it('leaves a node cordoned by someone else cordoned', async () => {
    reset();
    node.spec.unschedulable = true;
    const result = await api.runScript('move-node-main', spec, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(result.code).toBe(0);
    expect(result.lines).toContain('KEPT cordon on n1 (already unschedulable)');
    expect(result.lines).toContain('KEPT n1 cordoned (it was cordoned before this Job)');
    expect(node.spec.unschedulable).toBe(true);
  });

  it('changes nothing while a pod without a controller would be lost', async () => {
    reset([pod('default', 'debug', undefined, '192.168.1.9')]);
    const result = await api.runScript('move-node-main', spec, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(result.code).toBe(1);
    expect(result.lines[1]).toBe(
      'FAILED pods without a controller would be deleted for good: default/debug; move them, or set perNode.evictUnmanagedPods: true',
    );
    expect(api.requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
  });
});

describe.skipIf(!HAVE_OPENSSL)('readdress script against a fake API server', () => {
  let api: FakeApi;
  let pods: Pod[];
  beforeAll(async () => {
    api = await startFakeApi((method, url, body) => {
      if (method === 'GET' && url === '/api/v1/pods') {
        return [200, { items: pods }];
      }
      const eviction = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(url);
      if (method === 'POST' && eviction) {
        // The budget of the api pods is short: both are broken (not Ready), and with
        // unhealthyPodEvictionPolicy IfHealthyBudget their eviction is refused.
        if (eviction[2]!.startsWith('api-')) {
          return [429, BUDGET_REFUSAL];
        }
        // The server's own throttling: a 429 without a budget's cause.
        if (eviction[2]!.startsWith('busy-')) {
          return [429, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' }];
        }
        pods = pods.filter((p) => p.metadata.name !== eviction[2]);
        pods.push(pod(eviction[1]!, `${eviction[2]}-new`, 'ReplicaSet', '10.42.1.9'));
        return [201, {}];
      }
      const deletion = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url);
      if (method === 'DELETE' && deletion) {
        // Only the pod as it was listed: its UID and resourceVersion as preconditions.
        const listed = pods.find((p) => p.metadata.name === deletion[2])!;
        expect(body).toEqual({
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: listed.metadata.uid, resourceVersion: listed.metadata.resourceVersion },
        });
        pods = pods.filter((p) => p.metadata.name !== deletion[2]);
        pods.push(pod(deletion[1]!, `${deletion[2]}-new`, 'ReplicaSet', '10.42.1.9'));
        return [200, {}];
      }
      return undefined;
    });
  });
  afterAll(() => api.close());

  const readdress: ReaddressSpec = {
    migrationCIDR: '10.245.0.0/16',
    timeoutSeconds: 20,
    evictUnmanagedPods: false,
    deleteBrokenPods: false,
  };

  it('deletes the broken pods a budget holds only under run.deleteBrokenPods, and names the setting otherwise', async () => {
    const broken = (name: string) => ({
      ...pod('shop', name, 'ReplicaSet', '10.245.0.8', { uid: `uid-${name}`, resourceVersion: '41' }),
      status: { phase: 'Running', podIP: '10.245.0.8', conditions: [{ type: 'Ready', status: 'False' }] },
    });
    pods = [broken('api-1'), broken('api-2')];
    api.requests.length = 0;
    const waiting = await api.runScript('readdress-main', { ...readdress, timeoutSeconds: 1 }, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(waiting.code).toBe(1);
    expect(waiting.lines).toContain(
      'WAITING shop/api-1: not Ready, and a PodDisruptionBudget refuses its eviction; run.deleteBrokenPods: true deletes such a pod (it has no network)',
    );
    expect(waiting.lines.at(-1)).toMatch(/^FAILED pods on 10\.245\.0\.0\/16: still waiting for shop\/api-1, shop\/api-2 at the deadline/);
    expect(api.requests.filter((r) => r.startsWith('DELETE'))).toEqual([]);
    const deleting = await api.runScript(
      'readdress-main',
      { ...readdress, deleteBrokenPods: true },
      { env: { CILIUM_CUTOVER_POLL_MS: '20' } },
    );
    expect(deleting.lines).toEqual([
      'DELETED shop/api-1: not Ready, and a PodDisruptionBudget refuses its eviction (run.deleteBrokenPods)',
      'DELETED shop/api-2: not Ready, and a PodDisruptionBudget refuses its eviction (run.deleteBrokenPods)',
      'readdress: no pods on 10.245.0.0/16 any more',
    ]);
    expect(deleting.code).toBe(0);
    // A 429 that is no budget's refusal is retried, never settled by a delete.
    pods = [broken('busy-1')];
    api.requests.length = 0;
    const busy = await api.runScript(
      'readdress-main',
      { ...readdress, deleteBrokenPods: true, timeoutSeconds: 1 },
      { env: { CILIUM_CUTOVER_POLL_MS: '20' } },
    );
    expect(busy.lines[0]).toBe('WAITING shop/busy-1: the API server asks to retry the eviction later (HTTP 429); retrying');
    expect(api.requests.filter((r) => r.startsWith('DELETE'))).toEqual([]);
    // A Ready pod a budget holds is never deleted: it is waited for.
    pods = [pod('shop', 'api-3', 'ReplicaSet', '10.245.0.9')];
    const ready = await api.runScript(
      'readdress-main',
      { ...readdress, deleteBrokenPods: true, timeoutSeconds: 1 },
      { env: { CILIUM_CUTOVER_POLL_MS: '20' } },
    );
    expect(ready.lines[0]).toBe('WAITING shop/api-3: a PodDisruptionBudget allows no eviction now; retrying');
    expect(ready.code).toBe(1);
  });

  it('evicts the pods on the migration range and lists the ones nothing would recreate', async () => {
    api.requests.length = 0;
    pods = [
      pod('shop', 'web-1', 'ReplicaSet', '10.245.0.5'),
      pod('shop', 'web-2', 'ReplicaSet', '10.42.0.5'),
      pod('default', 'debug', undefined, '10.245.0.6'),
      { ...pod('kube-system', 'cilium-x', 'DaemonSet', '10.245.0.1'), spec: { hostNetwork: true } },
    ];
    const result = await api.runScript('readdress-main', readdress, { env: { CILIUM_CUTOVER_POLL_MS: '20' } });
    expect(result.lines).toEqual([
      'EVICTED shop/web-1',
      'FAILED default/debug has no controller and still uses 10.245.0.0/16: restart it by hand',
      'readdress: 1 pod(s) left',
    ]);
    expect(result.code).toBe(1);
    expect(api.requests.filter((r) => r.startsWith('POST'))).toEqual(['POST /api/v1/namespaces/shop/pods/web-1/eviction']);
  });
});

describe.skipIf(!HAVE_OPENSSL)('per-node preflight script against a fake API server', () => {
  let api: FakeApi;
  let objects: Record<string, unknown> = {};
  beforeAll(async () => {
    api = await startFakeApi((method, url) => (method === 'GET' && objects[url] ? [200, objects[url]] : undefined));
  });
  afterAll(() => api.close());

  const calico = (method: string) => ({
    spec: { template: { spec: { containers: [{ name: 'calico-node', env: [{ name: 'IP_AUTODETECTION_METHOD', value: method }] }] } } },
    status: { numberReady: 3, desiredNumberScheduled: 3 },
  });
  const spec = { phase: 'migrate', nodeCount: 3, nodes: ['n1'], migrationCIDR: '10.245.0.0/16', acknowledgeUnenforcedPolicies: false };

  it('passes a healthy Calico with safe address detection and no NetworkPolicy', async () => {
    objects = {
      '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node': calico('kubernetes-internal-ip'),
      '/apis/networking.k8s.io/v1/networkpolicies': { items: [] },
    };
    const result = await api.runScript('per-node-preflight-main', spec);
    expect(result).toEqual({
      code: 0,
      lines: [
        'PASS calico-ready kube-system/calico-node: 3/3 Ready',
        'PASS calico-autodetect kube-system/calico-node: IP_AUTODETECTION_METHOD=kubernetes-internal-ip',
        'PASS policies networkpolicies.networking.k8s.io: none',
        'per-node preflight: all checks passed',
      ],
    });
  });

  it('refuses first-found detection and names the fix; phase switch refuses a Calico that is still there', async () => {
    objects = {
      '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node': calico('first-found'),
      '/apis/networking.k8s.io/v1/networkpolicies': { items: [] },
      '/api/v1/pods': { items: [pod('shop', 'web-1', 'ReplicaSet', '10.42.0.5'), pod('shop', 'web-2', 'ReplicaSet', '10.245.0.5')] },
      // Calico runs on the public address, not the InternalIP (projectcalico.org/IPv4Address).
      '/api/v1/nodes/n1': {
        metadata: { name: 'n1', annotations: { 'projectcalico.org/IPv4Address': '203.0.113.7/32' } },
        spec: { podCIDR: '10.42.0.0/24' },
        status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] },
      },
      '/apis/cilium.io/v2/ciliumendpoints': {
        items: [{ metadata: { name: 'web-1', namespace: 'shop' }, status: { networking: { addressing: [{ ipv4: '10.42.0.5' }] } } }],
      },
    };
    const migrate = await api.runScript('per-node-preflight-main', spec);
    expect(migrate.code).toBe(1);
    expect(migrate.lines[1]).toMatch(
      /^FAIL calico-autodetect .*`kubectl -n kube-system set env daemonset\/calico-node IP_AUTODETECTION_METHOD=cidr=203\.0\.113\.7\/32`/,
    );
    expect(migrate.lines.at(-1)).toBe('per-node preflight: 1 check(s) failed; nothing was changed');
    const switching = await api.runScript('per-node-preflight-main', { ...spec, phase: 'switch' });
    expect(switching.code).toBe(1);
    expect(switching.lines[0]).toMatch(/^FAIL calico-removed kube-system\/calico-node: still exists/);
    // Read through the API with the Job's access (a GET of each node by name): web-1 was re-addressed by an earlier step 250.
    expect(switching.lines[1]).toBe(
      "PASS all-moved pods: every pod-network pod has an address from 10.245.0.0/16 (1 already on its node's podCIDR)",
    );
  });
});
