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
      'get apps/daemonsets kube-system hcloud-cloud-controller-manager',
      'get apps/deployments - calico-typha',
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
      'list crd.projectcalico.org/ippools - *',
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
      kubernetesVersion: 'v1.32',
      // Cilium 1.20: Linux 5.10, or 4.18 on RHEL 8.10 (system_requirements.rst).
      kernel: { ciliumLine: '1.20', version: '5.10', rhel: { major: 8, minor: 10 } },
      calicoManifest: 'calico',
      calicoIpPools: ['192.168.0.0/16'],
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

  it("checks each node's kernel against the minimum of the Cilium line the migration ends on", () => {
    // Documentation/operations/system_requirements.rst where each line was branched: "Linux kernel
    // >= 4.19.57 or equivalent (e.g., 4.18 on RHEL8)" for 1.15, ">= 5.4 … RHEL 8.6" for 1.16 and
    // 1.17 (cilium/cilium#30869), ">= 5.10 … RHEL 8.6" for 1.18 (#38308), ">= 5.10 … RHEL 8.10" after.
    const kernelOf = (version: string) =>
      JSON.parse(
        findObject(
          renderExample((d) => (d.cilium.version = version)),
          'ConfigMap',
          'preflight-',
        ).data['preflight.json'],
      ).kernel;
    expect(['1.15.19', '1.16.0', '1.17.18', '1.18.0', '1.19.6', '1.20.0'].map(kernelOf)).toEqual([
      { ciliumLine: '1.15', version: '4.19.57', rhel: { major: 8, minor: 0 } },
      { ciliumLine: '1.16', version: '5.4', rhel: { major: 8, minor: 6 } },
      { ciliumLine: '1.17', version: '5.4', rhel: { major: 8, minor: 6 } },
      { ciliumLine: '1.18', version: '5.10', rhel: { major: 8, minor: 6 } },
      { ciliumLine: '1.19', version: '5.10', rhel: { major: 8, minor: 10 } },
      { ciliumLine: '1.20', version: '5.10', rhel: { major: 8, minor: 10 } },
    ]);
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
      'not-verified': 'none',
    });
    const skipped = (edit: (d: Record<string, any>) => void) =>
      findObject(renderExample(edit), 'ConfigMap', 'cilium-cutover-status').data['not-verified'];
    expect(
      skipped((d) => {
        d.verify.skip = ['ingress', 'egress'];
        d.verify.externalURLs = [];
      }),
    ).toBe('ingress,egress');
    expect(skipped((d) => (d.verify.enabled = false))).toBe('all');
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

  it('reads the node list and the other nodes (their podCIDRs) through the API at cluster.apiServer, on every profile', () => {
    for (const edit of [() => {}, (d: any) => ((d.cluster.profile = 'generic'), (d.cilium.routingMode = 'tunnel'))]) {
      const out = renderExample(edit);
      const job = findObject(out, 'Job', 'node-preflight-k3s-server-1');
      const env = Object.fromEntries(
        job.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]),
      );
      expect(job.spec.template.spec.serviceAccountName).toBe('cilium-cutover-node-preflight');
      expect(env).toMatchObject({
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: '6444',
        POD_NAMESPACE: 'metadata.namespace',
      });
      expect(grants(findObject(out, 'ClusterRole', 'cilium-cutover-node-preflight')).sort()).toEqual([
        'get /nodes - k3s-server-1',
        'get /nodes - k3s-server-2',
        'get /nodes - k3s-server-3',
      ]);
      const role = manifestObjects(out).find(
        ({ obj }) => obj.kind === 'Role' && obj.metadata.name === 'cilium-cutover-node-preflight',
      )!.obj;
      expect(grants(role)).toEqual(['get /configmaps cilium-cutover node-list']);
    }
  });

  it('lists every node in a ConfigMap of a fixed name, so no Job depends on the node list', () => {
    const list = findObject(rendered, 'ConfigMap', 'node-list');
    expect(JSON.parse(list.data['nodes.json'])).toEqual([
      { name: 'k3s-server-1', internalIP: '10.0.0.2' },
      { name: 'k3s-server-2', internalIP: '10.0.0.3' },
      { name: 'k3s-server-3', internalIP: '10.0.0.4' },
    ]);
    expect(list.metadata.name).toBe('node-list');
    for (const job of nodeJobs) {
      expect(JSON.stringify(job)).not.toContain('10.0.0.');
    }
  });

  it('checks the routes each profile needs: the network on hetzner-cloud, direct routes on hetzner-vswitch, none in tunnel mode', () => {
    const specOf = (edit: (d: any) => void) =>
      JSON.parse(findObject(renderExample(edit), 'ConfigMap', 'node-preflight-').data['node-preflight.json']);
    expect(specOf(() => {})).toMatchObject({ routing: 'network', skipUnreachable: false, mtu: 1450, nodeList: 'node-list' });
    const vswitch = (d: any) => (
      (d.cluster.profile = 'hetzner-vswitch'),
      (d.cluster.network.vSwitchSubnet = '10.0.0.0/24'),
      delete d.cilium.MTU
    );
    expect(specOf(vswitch)).toMatchObject({ routing: 'direct', skipUnreachable: false, mtu: 1400 });
    // Cloud servers take the tunnel; direct routes that skip what is off-link, where asked for.
    expect(specOf((d) => (vswitch(d), (d.cluster.network.cloudServers = true), (d.cilium.routingMode = 'tunnel')))).toMatchObject({
      routing: 'tunnel',
      skipUnreachable: false,
    });
    expect(specOf((d) => (vswitch(d), (d.cilium.directRoutingSkipUnreachable = true)))).toMatchObject({
      routing: 'direct',
      skipUnreachable: true,
    });
    expect(specOf((d) => ((d.cluster.profile = 'generic'), (d.cluster.network.routesPodCIDRs = true), delete d.cilium.MTU))).toMatchObject({
      routing: 'network',
    });
    expect(specOf((d) => ((d.cluster.profile = 'generic'), (d.cilium.routingMode = 'tunnel'), delete d.cilium.MTU))).toMatchObject({
      routing: 'tunnel',
    });
    expect(specOf((d) => ((d.cluster.profile = 'generic'), (d.cilium.routingMode = 'tunnel'), delete d.cilium.MTU)).mtu).toBeUndefined();
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
