/**
 * Runs the bundled preflight script, as the Job runs it, against a fake API server on loopback
 * that answers with fixture objects over TLS. This checks the script's wiring (token, CA, direct
 * address, exit code); it sends no traffic to a cluster.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { NodeSpec, PreflightSpec } from '../../../lib/incluster/preflight-checks.ts';
import { startFakeApi, type FakeApi } from '../../support/fake-api.ts';
import { requireTool } from '../../support/tools.ts';

const nodes = parse(readFileSync(new URL('../../fixtures/k3s-nodes.yaml', import.meta.url), 'utf8'));
const daemonSets = parse(readFileSync(new URL('../../fixtures/calico-node-daemonsets.yaml', import.meta.url), 'utf8'));
const HAVE_OPENSSL = requireTool('openssl', 'preflight-runner', 'the fake API server has no test certificate');

describe.skipIf(!HAVE_OPENSSL)('preflight script against a fake API server', () => {
  let api: FakeApi;
  let objects: Record<string, unknown> = {};
  beforeAll(async () => {
    api = await startFakeApi((method, url) => (method === 'GET' && objects[url] ? [200, objects[url]] : undefined));
  });
  afterAll(() => api.close());

  const spec: PreflightSpec = {
    nodes: [{ name: 'k3s-server-1', role: 'server', internalIP: '10.0.0.2' }],
    calicoVersion: 'v3.27.0',
    namespace: 'cilium-cutover',
    kubeProxyReplacement: true,
    skipNodes: [],
    podCIDR: '10.42.0.0/16',
    serviceCIDR: '10.43.0.0/16',
    profile: 'generic',
    snapshot: { maxAgeSeconds: 86400, acknowledged: false },
    policies: { acknowledged: false },
    unenforcedKinds: [],
    kubernetesVersion: 'v1.32',
    kernel: { ciliumLine: '1.20', version: '5.10', rhel: { major: 8, minor: 10 } },
    calicoManifest: 'calico',
    calicoIpPools: ['192.168.0.0/16'],
  };

  it('passes a ready, reconfigured cluster and exits 0', async () => {
    const halfAnHourAgo = new Date(Date.now() - 1800_000).toISOString();
    objects = {
      '/api/v1/nodes/k3s-server-1': nodes['migrated-server'],
      '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node': daemonSets['v3.27.0-crashing'],
      '/apis/crd.projectcalico.org/v1/ippools': {
        kind: 'IPPoolList',
        items: [{ metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '192.168.0.0/16', ipipMode: 'Always' } }],
      },
      '/apis/k3s.cattle.io/v1/etcdsnapshotfiles': {
        kind: 'ETCDSnapshotFileList',
        items: [
          {
            metadata: { name: 'local-on-demand-k3s-server-1' },
            spec: { snapshotName: 'on-demand-k3s-server-1-1764000000' },
            status: { creationTime: halfAnHourAgo, readyToUse: true },
          },
        ],
      },
    };
    const result = await api.runScript('preflight-main', spec);
    expect(result).toEqual({
      code: 0,
      lines: [
        'PASS node-ready k3s-server-1: Ready',
        'PASS node-address k3s-server-1: InternalIP 10.0.0.2',
        'PASS k3s-flags k3s-server-1: flannel-backend none, disable-network-policy, disable-kube-proxy',
        'PASS k3s-cidrs k3s-server-1: cluster-cidr 10.42.0.0/16, service-cidr 10.43.0.0/16',
        'PASS node-pressure k3s-server-1: no disk, memory or PID pressure',
        'PASS kubelet k3s-server-1: v1.32.5+k3s1',
        'PASS kernel k3s-server-1: 6.8.0-51-generic (Ubuntu 24.04.1 LTS), Cilium 1.20 needs 5.10',
        'PASS calico-manifest tigera-operator: absent: a manifest install',
        'PASS calico-apiserver v3.projectcalico.org: absent: no Calico API server add-on',
        'PASS calico-crds ippools.projectcalico.org: absent: Calico stores its resources in crd.projectcalico.org',
        'PASS calico-datastore kube-system/calico-node: Kubernetes datastore (DATASTORE_TYPE kubernetes)',
        'PASS calico-dataplane kube-system/calico-node: iptables or nftables dataplane (not eBPF)',
        'PASS calico-gitops kube-system/calico-node: no Argo CD, Flux or Helm tracking: applied by hand',
        'PASS calico kube-system/calico-node: runs v3.27.0 (0/3 ready)',
        'PASS calico-typha kube-system/calico-typha: absent, as calico.manifest calico says',
        'PASS calico-ippools ippools.crd.projectcalico.org: 192.168.0.0/16',
        'PASS snapshot etcd: on-demand-k3s-server-1-1764000000 is 30m old',
        'PASS calico-policies crd.projectcalico.org: no Calico policies, host endpoints or network sets to lose',
        "PASS namespace cilium-cutover: holds nothing but the tool's own objects",
        'preflight: all checks passed',
      ],
    });
    expect(api.requests).toContain('GET /apis/apps/v1/namespaces/kube-system/daemonsets/calico-node');
  });

  it('prints one line per check, fails, and exits 1', async () => {
    objects = {
      '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node': daemonSets['v3.26.1'],
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/installations.operator.tigera.io': { kind: 'CustomResourceDefinition' },
      '/apis/apps/v1/namespaces/tigera-operator/deployments/tigera-operator': { kind: 'Deployment', metadata: { name: 'tigera-operator' } },
      '/apis/apiregistration.k8s.io/v1/apiservices/v3.projectcalico.org': {
        kind: 'APIService',
        metadata: { name: 'v3.projectcalico.org' },
        // apiserver.yaml's: served by the add-on's Service.
        spec: { group: 'projectcalico.org', version: 'v3', service: { namespace: 'calico-apiserver', name: 'calico-api', port: 443 } },
      },
      '/apis/crd.projectcalico.org/v1/globalnetworkpolicies': {
        kind: 'GlobalNetworkPolicyList',
        items: [{ metadata: { name: 'default.deny-public-ssh' } }],
      },
      // Someone else's application in the namespace the tool would take over.
      '/api/v1/namespaces/cilium-cutover/pods': {
        kind: 'PodList',
        items: [{ metadata: { name: 'web-0', ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true }] } }],
      },
      '/apis/apps/v1/namespaces/cilium-cutover/statefulsets': { kind: 'StatefulSetList', items: [{ metadata: { name: 'web' } }] },
    };
    const result = await api.runScript('preflight-main', {
      ...spec,
      nodes: [...spec.nodes, { name: 'k3s-server-9', role: 'server', internalIP: '10.0.0.9' }],
    });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'FAIL node k3s-server-1: not found in the cluster; fix cluster.nodes (name as `kubectl get nodes` shows it)',
      'FAIL node k3s-server-9: not found in the cluster; fix cluster.nodes (name as `kubectl get nodes` shows it)',
      "FAIL calico-manifest tigera-operator: Deployment tigera-operator/tigera-operator exist: Calico is managed by the tigera-operator, which this tool does not remove (other objects, finalizers); uninstall it with the operator's procedure first",
      expect.stringMatching(
        /^FAIL calico-apiserver v3\.projectcalico\.org: the Calico API server add-on \(apiserver\.yaml\) is installed: .*kubectl delete apiservice v3\.projectcalico\.org;/,
      ),
      'PASS calico-crds ippools.projectcalico.org: absent: Calico stores its resources in crd.projectcalico.org',
      'PASS calico-datastore kube-system/calico-node: Kubernetes datastore (DATASTORE_TYPE kubernetes)',
      'PASS calico-dataplane kube-system/calico-node: iptables or nftables dataplane (not eBPF)',
      'PASS calico-gitops kube-system/calico-node: no Argo CD, Flux or Helm tracking: applied by hand',
      'FAIL calico kube-system/calico-node: runs v3.26.1, config says v3.27.0; set calico.version to the installed release so the right objects are deleted',
      'PASS calico-typha kube-system/calico-typha: absent, as calico.manifest calico says',
      "FAIL calico-ippools ippools.crd.projectcalico.org: the cluster's IPv4 pools are none, calico.ipPools says 192.168.0.0/16: what step 110 flushes and keeps is decided from them; set calico.ipPools to the cluster's",
      'FAIL snapshot etcd: no ETCDSnapshotFile API (k3s without embedded etcd?); take one on a server with `k3s etcd-snapshot save`, or set safety.acknowledgeNoSnapshot',
      'FAIL calico-policies crd.projectcalico.org: 1 would be destroyed with the Calico CRDs: GlobalNetworkPolicy default.deny-public-ssh; recreate what you need as Kubernetes or Cilium policies, then set safety.acknowledgeDroppedPolicies',
      'FAIL namespace cilium-cutover: holds objects the tool did not create (Pod/web-0, StatefulSet/web); the tool labels this namespace privileged and deletes it with everything in it at graduation: set run.namespace to a namespace of its own',
      'preflight: 9 check(s) failed; nothing was changed',
    ]);
  });

  it('reports an API it cannot use as a failure, not a pass', async () => {
    const result = await api.runScript('preflight-main', spec, { token: 'wrong-token' });
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'FAIL preflight api: GET /apis/apps/v1/namespaces/kube-system/daemonsets/calico-node failed: HTTP 401: Unauthorized',
    ]);
  });
});

describe.skipIf(!HAVE_OPENSSL)('node check script against a fake API server', () => {
  let api: FakeApi;
  let objects: Record<string, unknown> = {};
  beforeAll(async () => {
    api = await startFakeApi((method, url) => (method === 'GET' && objects[url] ? [200, objects[url]] : undefined));
  });
  afterAll(() => api.close());

  const spec: NodeSpec = {
    nodes: [
      { name: 'k3s-server-1', role: 'server', internalIP: '10.0.0.2' },
      { name: 'k3s-agent-1', role: 'agent', internalIP: '10.0.1.5' },
    ],
    skipNodes: [],
    kubeProxyReplacement: true,
    podCIDR: '10.42.0.0/16',
    serviceCIDR: '10.43.0.0/16',
    profile: 'generic',
    kubernetesVersion: 'v1.32',
    kernel: { ciliumLine: '1.20', version: '5.10', rhel: { major: 8, minor: 10 } },
  };

  it('passes fit nodes, and fails a node added on an old kernel under disk pressure, naming each', async () => {
    objects = { '/api/v1/nodes/k3s-server-1': nodes['migrated-server'], '/api/v1/nodes/k3s-agent-1': nodes.agent };
    const passed = await api.runScript('node-check-main', spec);
    expect(passed.code).toBe(0);
    expect(passed.lines.at(-1)).toBe('node check: all checks passed');
    expect(passed.lines).toContain('PASS k3s-flags k3s-server-1: flannel-backend none, disable-network-policy, disable-kube-proxy');
    objects = { ...objects, '/api/v1/nodes/k3s-agent-1': nodes['ubuntu-20.04-agent'] };
    const failed = await api.runScript('node-check-main', spec);
    expect(failed.code).toBe(1);
    expect(failed.lines.filter((l) => l.startsWith('FAIL')).map((l) => l.split(':')[0])).toEqual([
      'FAIL node-pressure k3s-agent-1',
      'FAIL kubelet k3s-agent-1',
      'FAIL kernel k3s-agent-1',
    ]);
    expect(failed.lines.at(-1)).toBe('node check: 3 check(s) failed; nothing was changed');
  });
});
