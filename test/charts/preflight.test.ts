import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findObject, manifestObjects, renderExample } from '../support/helpers.ts';

/** (verb, group/resource, namespace, name) for every permission a role grants. */
function grants(role: any): string[] {
  return role.rules.flatMap((r: any) =>
    r.verbs.flatMap((v: string) =>
      r.resources.flatMap((res: string) =>
        (r.resourceNames ?? ['*']).map((n: string) => `${v} ${r.apiGroups[0]}/${res} ${role.metadata.namespace ?? '-'} ${n}`),
      ),
    ),
  );
}

describe('000-preflight', () => {
  const rendered = renderExample();
  const job = findObject(rendered, 'Job', 'preflight-');
  const pod = job.spec.template.spec;

  it('runs on the host network against the direct API address, tolerating every taint', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.dnsPolicy).toBe('Default');
    const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env.KUBERNETES_SERVICE_HOST).toBe('127.0.0.1');
    expect(env.KUBERNETES_SERVICE_PORT).toBe('6444');
  });

  it('takes the API address from cluster.apiServer', () => {
    const other = findObject(
      renderExample((d) => (d.cluster.apiServer = { host: '10.0.0.2', port: 6443 })),
      'Job',
      'preflight-',
    );
    const env = Object.fromEntries(other.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env).toMatchObject({ KUBERNETES_SERVICE_HOST: '10.0.0.2', KUBERNETES_SERVICE_PORT: '6443' });
    expect(other.metadata.name).not.toBe(job.metadata.name);
  });

  it('is not privileged and does not enter the host', () => {
    expect(pod.hostPID).toBeUndefined();
    expect(pod.containers[0].securityContext.privileged).toBeUndefined();
    expect(pod.volumes.every((v: any) => v.hostPath === undefined)).toBe(true);
  });

  it('runs as the preflight ServiceAccount, which may read only the configured nodes, the objects that tell the kind of Calico install, each by name, and its own namespace', () => {
    expect(pod.serviceAccountName).toBe('cilium-cutover-preflight');
    const all = [
      ...grants(findObject(rendered, 'ClusterRole', 'cilium-cutover-preflight')),
      ...manifestObjects(rendered)
        .filter(({ obj }) => obj.kind === 'Role' && obj.metadata.name === 'cilium-cutover-preflight')
        .flatMap(({ obj }) => grants(obj)),
    ];
    expect(all.sort()).toEqual([
      'get /namespaces - calico-apiserver',
      'get /nodes - k3s-server-1',
      'get /nodes - k3s-server-2',
      'get /nodes - k3s-server-3',
      'get apiextensions.k8s.io/customresourcedefinitions - installations.operator.tigera.io',
      'get apiextensions.k8s.io/customresourcedefinitions - ippools.projectcalico.org',
      'get apiregistration.k8s.io/apiservices - v3.projectcalico.org',
      'get apps/daemonsets - calico-node',
      'get apps/deployments - tigera-operator',
      'get apps/deployments kube-system hcloud-cloud-controller-manager',
      'get crd.projectcalico.org/felixconfigurations - default',
      'get operator.tigera.io/installations - default',
      'list /configmaps cilium-cutover *',
      'list /pods cilium-cutover *',
      'list /services cilium-cutover *',
      'list apps/daemonsets cilium-cutover *',
      'list apps/deployments cilium-cutover *',
      'list apps/replicasets cilium-cutover *',
      'list apps/statefulsets cilium-cutover *',
      'list batch/jobs cilium-cutover *',
      'list crd.projectcalico.org/globalnetworkpolicies - *',
      'list crd.projectcalico.org/hostendpoints - *',
      'list crd.projectcalico.org/networkpolicies - *',
      'list crd.projectcalico.org/networksets - *',
      'list k3s.cattle.io/etcdsnapshotfiles - *',
    ]);
  });

  it('embeds the checks and the spec they check against', () => {
    const configMap = findObject(rendered, 'ConfigMap', 'preflight-');
    expect(job.spec.template.spec.volumes[0].configMap.name).toBe(configMap.metadata.name);
    expect(configMap.data['preflight.mjs']).toContain('k3s.io/node-args');
    expect(JSON.parse(configMap.data['preflight.json'])).toEqual({
      nodes: [
        { name: 'k3s-server-1', role: 'server', internalIP: '10.0.0.2' },
        { name: 'k3s-server-2', role: 'server', internalIP: '10.0.0.3' },
        { name: 'k3s-server-3', role: 'server', internalIP: '10.0.0.4' },
      ],
      calicoVersion: 'v3.27.0',
      kubeProxyReplacement: true,
      skipNodes: [],
      podCIDR: '10.42.0.0/16',
      serviceCIDR: '10.43.0.0/16',
      profile: 'hetzner-cloud',
      cloudController: { namespace: 'kube-system', name: 'hcloud-cloud-controller-manager' },
      snapshot: { maxAgeSeconds: 86400, acknowledged: false },
      policies: { acknowledged: false },
      // Calico v3.27 enforces none of the network-policy API's kinds.
      unenforcedKinds: [],
      namespace: 'cilium-cutover',
    });
    expect(pod.containers[0].command).toEqual(['node', '/etc/cilium-cutover/preflight.mjs', '/etc/cilium-cutover/preflight.json']);
  });

  it('lists the network-policy API kinds the installed Calico enforces, with list access to them alone', () => {
    const v331 = renderExample((d) => (d.calico.version = 'v3.31.0'));
    const spec = JSON.parse(findObject(v331, 'ConfigMap', 'preflight-').data['preflight.json']);
    expect(spec.unenforcedKinds.map((k: any) => `${k.kind} ${k.version}`)).toEqual([
      'AdminNetworkPolicy v1alpha1',
      'BaselineAdminNetworkPolicy v1alpha1',
    ]);
    expect(
      grants(findObject(v331, 'ClusterRole', 'cilium-cutover-preflight')).filter((g) => g.includes('policy.networking.k8s.io')),
    ).toEqual(['list policy.networking.k8s.io/adminnetworkpolicies - *', 'list policy.networking.k8s.io/baselineadminnetworkpolicies - *']);
  });

  it('looks for k3s ServiceLB, with list access to DaemonSets, only when the Cilium release mixes up its addresses', () => {
    const daemonSetGrants = (r: typeof rendered) =>
      grants(findObject(r, 'ClusterRole', 'cilium-cutover-preflight')).filter((g) => g.includes('apps/daemonsets'));
    const v1196 = renderExample((d) => (d.cilium.version = '1.19.6'));
    expect(JSON.parse(findObject(v1196, 'ConfigMap', 'preflight-').data['preflight.json']).serviceLbBug).toEqual({
      ciliumVersion: '1.19.6',
      issue: 'cilium/cilium#44730',
      fix: 'cilium/cilium#45314',
      fixedIn: '1.19.7 and 1.20.0',
    });
    expect(daemonSetGrants(v1196)).toEqual(['get apps/daemonsets - calico-node', 'list apps/daemonsets - *']);
    expect(JSON.parse(findObject(rendered, 'ConfigMap', 'preflight-').data['preflight.json']).serviceLbBug).toBeUndefined();
    expect(daemonSetGrants(rendered)).toEqual(['get apps/daemonsets - calico-node']);
  });

  it('creates the migration namespace, labelled for privileged pods', () => {
    const ns = parse(rendered.files.get('manifests/000-preflight/namespace-cilium-cutover.yaml')!);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });
});

describe('900-complete', () => {
  it('records what was migrated, in kube-system', () => {
    const status = findObject(renderExample(), 'ConfigMap', 'cilium-cutover-status');
    expect(status.metadata.namespace).toBe('kube-system');
    expect(status.data).toEqual({
      cluster: 'hetzner-demo',
      'calico-removed': 'v3.27.0',
      'cilium-version': '1.20.0',
      'routing-mode': 'native',
      'kube-proxy-replacement': 'true',
      'ipv4-native-routing-cidr': '10.42.0.0/16',
      'steps-completed':
        '000-preflight,100-calico-delete,110-node-cleanup,200-cilium,210-kube-proxy-cleanup,250-readdress-pods,300-verify-workloads,310-verify-checks',
    });
  });
});

describe('000-preflight per node', () => {
  const rendered = renderExample();
  const nodeJobs = [...rendered.files].filter(([p]) => /^manifests\/000-preflight\/job-node-preflight-/.test(p)).map(([, t]) => parse(t));

  it('runs one host-network Job per configured node, tolerating every taint, with read-only host binaries', () => {
    expect(nodeJobs.map((j) => j.spec.template.spec.nodeName)).toEqual(['k3s-server-1', 'k3s-server-2', 'k3s-server-3']);
    for (const job of nodeJobs) {
      const pod = job.spec.template.spec;
      expect(pod.hostNetwork).toBe(true);
      expect(pod.hostPID).toBeUndefined();
      expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
      expect(pod.containers[0].securityContext.privileged).toBeUndefined();
      expect(
        pod.containers[0].volumeMounts
          .filter((m: { mountPath: string }) => m.mountPath.startsWith('/host'))
          .every((m: { readOnly: boolean }) => m.readOnly),
      ).toBe(true);
      expect(
        pod.volumes.filter((v: { hostPath?: unknown }) => v.hostPath).map((v: { hostPath: { path: string } }) => v.hostPath.path),
      ).toEqual(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
    }
  });

  it('pulls the Cilium agent and operator images onto every node before the outage', () => {
    for (const job of nodeJobs) {
      expect(job.spec.template.spec.initContainers.map((c: { image: string }) => c.image)).toEqual([
        'quay.io/cilium/cilium:v1.20.0@sha256:383968cd5e8873f7976fa76aa6196045643558f4cc9518a207b9335cb24a0e93',
        'quay.io/cilium/operator-generic:v1.20.0@sha256:80744a8cc7c91c2f9e6347629406844eb35d79b30a732c6d41c15b17232a74f3',
      ]);
    }
  });

  it('reads the API (other nodes\u2019 podCIDRs) only on hetzner-cloud', () => {
    expect(nodeJobs[0].spec.template.spec.serviceAccountName).toBe('cilium-cutover-node-preflight');
    const generic = [...renderExample((d) => ((d.cluster.profile = 'generic'), (d.cilium.autoDirectNodeRoutes = true))).files]
      .filter(([p]) => /job-node-preflight-k3s-server-1/.test(p))
      .map(([, t]) => parse(t))[0];
    expect(generic.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('names one peer per node for the hetzner-cloud route check, so no Job depends on the whole node list', () => {
    const peers = nodeJobs.map((j: any) => {
      const env = Object.fromEntries(j.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      return [j.spec.template.spec.nodeName, env.PEER_NODE, env.PEER_IP];
    });
    expect(peers).toEqual([
      ['k3s-server-1', 'k3s-server-2', '10.0.0.3'],
      ['k3s-server-2', 'k3s-server-3', '10.0.0.4'],
      ['k3s-server-3', 'k3s-server-1', '10.0.0.2'],
    ]);
    const spec = JSON.parse(findObject(rendered, 'ConfigMap', 'node-preflight-').data['node-preflight.json']);
    expect(spec).not.toHaveProperty('nodes');
  });

  it('skips nodes in run.skipNodes', () => {
    const skipped = [...renderExample((d) => (d.run.skipNodes = ['k3s-server-2'])).files.keys()].filter((p) =>
      /job-node-preflight-/.test(p),
    );
    expect(skipped).toEqual([
      'manifests/000-preflight/job-node-preflight-k3s-server-1.yaml',
      'manifests/000-preflight/job-node-preflight-k3s-server-3.yaml',
    ]);
  });
});
