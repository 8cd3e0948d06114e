import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkHetznerNode, checkNode, cidrWithin, type PreflightSpec } from '../../../lib/incluster/preflight-checks.ts';
import {
  agentNote,
  checkCalico,
  checkPolicies,
  checkSnapshot,
  checkServiceLb,
  checkUnenforcedPolicies,
  imageTag,
} from '../../../lib/incluster/preflight-cluster-checks.ts';
import { calicoEnforcedPolicyApi } from '../../../lib/versions/calico-deletion-sets.ts';
import { serviceLbCollision } from '../../../lib/versions/cilium-known-bugs.ts';
import { CILIUM_VERSIONS, DEFAULT_CILIUM_VERSION } from '../../../lib/versions/cilium.ts';
import {
  checkCloudController,
  flagValue,
  routeControllerEnabled,
  type ControllerObject,
} from '../../../lib/incluster/cloud-controller-checks.ts';
import { anyFailed, formatResult } from '../../../lib/incluster/shared/report.ts';

const nodes = parse(readFileSync(new URL('../../fixtures/k3s-nodes.yaml', import.meta.url), 'utf8'));
const daemonSets = parse(readFileSync(new URL('../../fixtures/calico-node-daemonsets.yaml', import.meta.url), 'utf8'));

const spec: PreflightSpec = {
  nodes: [
    { name: 'k3s-server-1', role: 'server', internalIP: '10.0.0.2' },
    { name: 'k3s-server-2', role: 'server', internalIP: '10.0.0.3' },
    { name: 'k3s-server-3', role: 'server', internalIP: '10.0.0.4' },
    { name: 'k3s-agent-1', role: 'agent', internalIP: '10.0.1.5' },
  ],
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
  // Cilium 1.19 and 1.20: 5.10, or 4.18 on RHEL 8.10 (cilium/cilium Documentation/operations/system_requirements.rst).
  kernel: { ciliumLine: '1.20', version: '5.10', rhel: { major: 8, minor: 10 } },
  calicoManifest: 'calico',
  calicoIpPools: ['192.168.0.0/16'],
};
const want = (name: string) => spec.nodes.find((n) => n.name === name)!;
const lines = (results: ReturnType<typeof checkNode>) => results.map(formatResult);

describe('checkNode', () => {
  it('passes a Ready server with the flags from its config file', () => {
    expect(lines(checkNode(spec, want('k3s-server-1'), nodes['migrated-server']))).toEqual([
      'PASS node-ready k3s-server-1: Ready',
      'PASS node-address k3s-server-1: InternalIP 10.0.0.2',
      'PASS k3s-flags k3s-server-1: flannel-backend none, disable-network-policy, disable-kube-proxy',
      'PASS k3s-cidrs k3s-server-1: cluster-cidr 10.42.0.0/16, service-cidr 10.43.0.0/16',
      'PASS node-pressure k3s-server-1: no disk, memory or PID pressure',
      'PASS kubelet k3s-server-1: v1.32.5+k3s1',
      'PASS kernel k3s-server-1: 6.8.0-51-generic (Ubuntu 24.04.1 LTS), Cilium 1.20 needs 5.10',
    ]);
  });

  it('passes the same flags given on the command line', () => {
    expect(anyFailed(checkNode(spec, want('k3s-server-2'), nodes['calico-server-cli-flags']))).toBe(false);
  });

  it('fails a not-Ready server still on default flannel, naming every missing flag', () => {
    expect(lines(checkNode(spec, want('k3s-server-3'), nodes['default-flannel-server']))).toEqual([
      'FAIL node-ready k3s-server-3: not Ready (False, KubeletNotReady); a Job pinned to it would never finish: bring it back first',
      'PASS node-address k3s-server-3: InternalIP 10.0.0.4',
      'FAIL k3s-flags k3s-server-3: flannel-backend is "vxlan" (default), expected "none"; disable-network-policy is not set, expected true; ' +
        'disable-kube-proxy is not set, expected true (Cilium replaces kube-proxy); set it in /etc/rancher/k3s/config.yaml.d on every server ' +
        `and restart k3s in the documented order (see cilium-cutover's docs/k3s.md "k3s settings")`,
      'PASS k3s-cidrs k3s-server-3: cluster-cidr 10.42.0.0/16, service-cidr 10.43.0.0/16',
      'PASS node-pressure k3s-server-3: no disk, memory or PID pressure',
      'PASS kubelet k3s-server-3: v1.32.5+k3s1',
      'PASS kernel k3s-server-3: 6.8.0-51-generic (Ubuntu 24.04.1 LTS), Cilium 1.20 needs 5.10',
    ]);
  });

  it('once Calico is removed, reports a node without a CNI config as expected, and still fails a node whose kubelet is gone', () => {
    // The Ready condition the kubelet reports without a CNI config (kubelet nodestatus.ReadyCondition
    // with containerd's CRI status, internal/cri/server/status.go).
    const noCni = {
      type: 'Ready',
      status: 'False',
      reason: 'KubeletNotReady',
      message:
        'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    };
    const withReady = (condition: object) => ({
      ...nodes['migrated-server'],
      status: {
        ...nodes['migrated-server'].status,
        conditions: [...nodes['migrated-server'].status.conditions.filter((c: any) => c.type !== 'Ready'), condition],
      },
    });
    expect(lines(checkNode(spec, want('k3s-server-1'), withReady(noCni), true))[0]).toBe(
      'INFO node-ready k3s-server-1: not Ready only because it has no CNI config (NetworkPluginNotReady): Calico is removed, and Cilium writes its config in step 200',
    );
    // Before Calico's removal the same node is a problem to fix first.
    expect(lines(checkNode(spec, want('k3s-server-1'), withReady(noCni), false))[0]).toMatch(
      /^FAIL node-ready k3s-server-1: not Ready \(False, KubeletNotReady\)/,
    );
    const unknown = { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
    expect(lines(checkNode(spec, want('k3s-server-1'), withReady(unknown), true))[0]).toBe(
      'FAIL node-ready k3s-server-1: not Ready (Unknown, NodeStatusUnknown); a Job pinned to it would never finish: bring it back first',
    );
  });

  it('takes the command-line value over the config file', () => {
    const [, , flags] = lines(checkNode(spec, want('k3s-server-3'), nodes['overridden-on-cli']));
    expect(flags).toMatch(/^FAIL k3s-flags k3s-server-3: flannel-backend is "vxlan", expected "none"; set it/);
  });

  it('does not demand disable-kube-proxy without kube-proxy replacement', () => {
    const withKubeProxy = { ...spec, kubeProxyReplacement: false };
    const results = checkNode(withKubeProxy, want('k3s-server-1'), {
      ...nodes['migrated-server'],
      metadata: {
        name: 'k3s-server-1',
        annotations: { 'k3s.io/node-args': '["server","--flannel-backend","none","--disable-network-policy"]' },
      },
    });
    expect(lines(results)).toContain('PASS k3s-flags k3s-server-1: flannel-backend none, disable-network-policy');
  });

  it('does not check server flags on agents', () => {
    expect(lines(checkNode(spec, want('k3s-agent-1'), nodes.agent))).toEqual([
      'PASS node-ready k3s-agent-1: Ready',
      'PASS node-address k3s-agent-1: InternalIP 10.0.1.5',
      'PASS node-pressure k3s-agent-1: no disk, memory or PID pressure',
      'PASS kubelet k3s-agent-1: v1.32.5+k3s1',
      'PASS kernel k3s-agent-1: 6.8.0-51-generic (Ubuntu 24.04.1 LTS), Cilium 1.20 needs 5.10',
    ]);
  });

  it('fails a node under disk pressure, on another kubelet minor, or on a kernel older than the release needs', () => {
    expect(lines(checkNode(spec, want('k3s-agent-1'), nodes['ubuntu-20.04-agent'])).slice(2)).toEqual([
      "FAIL node-pressure k3s-agent-1: DiskPressure: the kubelet turns away the migration's pods there and evicts running ones; free the resource first",
      'FAIL kubelet k3s-agent-1: runs v1.31.9+k3s1, cluster.kubernetesVersion says v1.32: the Cilium DaemonSets are rendered for that version; set it to what the nodes run, or finish the k3s upgrade first',
      'FAIL kernel k3s-agent-1: 5.4.0-216-generic (Ubuntu 20.04.6 LTS) is older than 5.10, the least Cilium 1.20 runs on (or 4.18 on RHEL 8.10+): its agents would fail only after Calico is deleted; upgrade the kernel, or choose an older cilium.version whose line supports it',
    ]);
    // Cilium 1.16 and 1.17 run on 5.4 (system_requirements.rst where 1.16 was branched; cilium/cilium#30869).
    const onLine116 = { ...spec, kernel: { ciliumLine: '1.17', version: '5.4', rhel: { major: 8, minor: 6 } } };
    expect(lines(checkNode(onLine116, want('k3s-agent-1'), nodes['ubuntu-20.04-agent'])).at(-1)).toBe(
      'PASS kernel k3s-agent-1: 5.4.0-216-generic (Ubuntu 20.04.6 LTS), Cilium 1.17 needs 5.4',
    );
  });

  it("accepts RHEL 8's 4.18 kernel where the release names it, and not on another distribution", () => {
    expect(lines(checkNode(spec, want('k3s-agent-1'), nodes['rhel-8.10-agent'])).at(-1)).toBe(
      'PASS kernel k3s-agent-1: 4.18.0-553.el8_10.x86_64 (Red Hat Enterprise Linux 8.10 (Ootpa)): a RHEL 8.10+ kernel, which Cilium 1.20 accepts in place of 5.10',
    );
    const rhel88 = {
      ...nodes['rhel-8.10-agent'],
      status: {
        ...nodes['rhel-8.10-agent'].status,
        nodeInfo: {
          ...nodes['rhel-8.10-agent'].status.nodeInfo,
          kernelVersion: '4.18.0-477.10.1.el8_8.x86_64',
          osImage: 'Rocky Linux 8.8 (Green Obsidian)',
        },
      },
    };
    expect(lines(checkNode(spec, want('k3s-agent-1'), rhel88)).at(-1)).toMatch(
      /^FAIL kernel k3s-agent-1: 4\.18\.0-477\.10\.1\.el8_8\.x86_64 .* is older than 5\.10/,
    );
    // 1.18 names RHEL 8.6.
    const line118 = { ...spec, kernel: { ciliumLine: '1.18', version: '5.10', rhel: { major: 8, minor: 6 } } };
    expect(lines(checkNode(line118, want('k3s-agent-1'), rhel88)).at(-1)).toMatch(/^PASS kernel k3s-agent-1: .*a RHEL 8\.6\+ kernel/);
    const debian = {
      ...nodes['rhel-8.10-agent'],
      status: {
        ...nodes['rhel-8.10-agent'].status,
        nodeInfo: { ...nodes['rhel-8.10-agent'].status.nodeInfo, osImage: 'Debian GNU/Linux 10 (buster)' },
      },
    };
    expect(lines(checkNode(spec, want('k3s-agent-1'), debian)).at(-1)).toMatch(/^FAIL kernel /);
    // CentOS Stream's PRETTY_NAME names no minor ("CentOS Stream 8"): it runs ahead of RHEL 8's newest.
    const stream = { ...debian, status: { ...debian.status, nodeInfo: { ...debian.status.nodeInfo, osImage: 'CentOS Stream 8' } } };
    expect(lines(checkNode(spec, want('k3s-agent-1'), stream)).at(-1)).toMatch(/^PASS kernel .*a RHEL 8\.10\+ kernel/);
  });

  it('fails a missing node, a wrong address, a wrong role and a non-k3s node', () => {
    expect(lines(checkNode(spec, want('k3s-server-1'), undefined))).toEqual([
      'FAIL node k3s-server-1: not found in the cluster; fix cluster.nodes (name as `kubectl get nodes` shows it)',
    ]);
    expect(lines(checkNode(spec, { ...want('k3s-server-1'), internalIP: '10.0.0.9' }, nodes['migrated-server']))).toContain(
      'FAIL node-address k3s-server-1: InternalIP is 10.0.0.2, config says 10.0.0.9; fix cluster.nodes',
    );
    expect(lines(checkNode(spec, { ...want('k3s-agent-1'), role: 'server' }, nodes.agent))).toContain(
      'FAIL k3s-role k3s-agent-1: runs k3s agent, config says server; fix cluster.nodes',
    );
    expect(lines(checkNode(spec, want('k3s-server-1'), nodes['not-k3s']))).toContain(
      'FAIL k3s k3s-server-1: no k3s.io/node-args annotation: not a k3s node; only k3s clusters are supported',
    );
  });
});

describe('run.skipNodes', () => {
  it('does not require a skipped node, and says so', () => {
    expect(lines(checkNode({ ...spec, skipNodes: ['k3s-server-3'] }, want('k3s-server-3'), nodes['default-flannel-server']))).toEqual([
      'INFO node k3s-server-3: skipped (run.skipNodes): no per-node Job runs there; clean it up by hand or reboot it when it returns',
    ]);
  });
});

describe('checkServerCidrs', () => {
  it('compares the running CIDRs (k3s defaults when not set) with the config', () => {
    const withCidrs = (args: string) => ({
      ...nodes['migrated-server'],
      metadata: { name: 'k3s-server-1', annotations: { 'k3s.io/node-args': args } },
    });
    const flags = '"--flannel-backend","none","--disable-network-policy","true","--disable-kube-proxy","true"';
    const custom = lines(
      checkNode(
        { ...spec, podCIDR: '10.244.0.0/16' },
        want('k3s-server-1'),
        withCidrs(`["server",${flags},"--cluster-cidr","10.244.0.0/16"]`),
      ),
    );
    expect(custom).toContain('PASS k3s-cidrs k3s-server-1: cluster-cidr 10.244.0.0/16, service-cidr 10.43.0.0/16');
    const wrong = lines(
      checkNode(
        spec,
        want('k3s-server-1'),
        withCidrs(`["server",${flags},"--cluster-cidr","10.244.0.0/16","--service-cidr","10.96.0.0/12"]`),
      ),
    );
    expect(wrong).toContain(
      'FAIL k3s-cidrs k3s-server-1: cluster-cidr is 10.244.0.0/16, cluster.podCIDR says 10.42.0.0/16; service-cidr is 10.96.0.0/12, cluster.serviceCIDR says 10.43.0.0/16; set the config to the running values',
    );
  });
});

describe('checkCalico', () => {
  it('passes the configured version even while its pods crash', () => {
    expect(formatResult(checkCalico(spec, daemonSets['v3.27.0-crashing']))).toBe(
      'PASS calico kube-system/calico-node: runs v3.27.0 (0/3 ready)',
    );
  });

  it('passes when Calico is already gone, so a re-sync after the migration passes', () => {
    expect(formatResult(checkCalico(spec, undefined))).toBe('PASS calico kube-system/calico-node: absent (already removed)');
  });

  it('fails another version', () => {
    expect(formatResult(checkCalico(spec, daemonSets['v3.26.1']))).toBe(
      'FAIL calico kube-system/calico-node: runs v3.26.1, config says v3.27.0; set calico.version to the installed release so the right objects are deleted',
    );
  });

  it('reads tags from registries with ports and digests', () => {
    expect(imageTag('registry.example.com:5000/calico/node:v3.26.1@sha256:abc')).toBe('v3.26.1');
    expect(imageTag('registry.example.com:5000/calico/node')).toBeUndefined();
    expect(imageTag('calico/node:v3.27.0')).toBe('v3.27.0');
  });
});

describe('checkUnenforcedPolicies', () => {
  // The kinds follow the Calico release: ANP from v3.29, BANP in v3.30–v3.31, only CNP from v3.32.
  it('asks only for the kinds the installed Calico enforces', () => {
    expect(calicoEnforcedPolicyApi('v3.28.2')).toEqual([]);
    expect(calicoEnforcedPolicyApi('v3.29.4').map((k) => k.kind)).toEqual(['AdminNetworkPolicy']);
    expect(calicoEnforcedPolicyApi('v3.31.0').map((k) => k.kind)).toEqual(['AdminNetworkPolicy', 'BaselineAdminNetworkPolicy']);
    expect(calicoEnforcedPolicyApi('v3.32.1')).toEqual([
      { kind: 'ClusterNetworkPolicy', version: 'v1alpha2', resource: 'clusternetworkpolicies' },
    ]);
    expect(checkUnenforcedPolicies(spec, [])).toBeUndefined();
  });

  it('refuses objects that would stay unenforced unless acknowledged, naming each', () => {
    const v330 = { ...spec, calicoVersion: 'v3.30.2', unenforcedKinds: calicoEnforcedPolicyApi('v3.30.2') };
    const lists = [{ items: [{ metadata: { name: 'deny-metadata-api' } }] }, { items: [{ metadata: { name: 'default' } }] }];
    expect(formatResult(checkUnenforcedPolicies(v330, lists)!)).toBe(
      'FAIL unenforced-policies policy.networking.k8s.io: 2 enforced by Calico v3.30.2 stay in the cluster but nothing enforces them once Cilium runs (it implements none of AdminNetworkPolicy, BaselineAdminNetworkPolicy as installed here): AdminNetworkPolicy deny-metadata-api, BaselineAdminNetworkPolicy default; recreate them as CiliumClusterwideNetworkPolicy or Kubernetes NetworkPolicy, then set safety.acknowledgeDroppedPolicies',
    );
    expect(checkUnenforcedPolicies({ ...v330, policies: { acknowledged: true } }, lists)!.outcome).toBe('PASS');
    expect(checkUnenforcedPolicies(v330, [undefined, { items: [] }])!.outcome).toBe('PASS');
  });
});

describe('checkServiceLb', () => {
  it('knows the releases cilium/cilium#44730 affects: the 1.18 line and 1.19 before 1.19.7 (fixed by #45314 there and in 1.20.0)', () => {
    // Reported on 1.18.1; the fix's backport is in the 1.19.7 release notes, not in 1.18.13 or 1.18.14.
    const affected = CILIUM_VERSIONS.map((v) => v.version).filter((v) => serviceLbCollision(v) !== undefined);
    expect(affected).toEqual([...Array.from({ length: 13 }, (_, i) => `1.18.${i}`), ...Array.from({ length: 7 }, (_, i) => `1.19.${i}`)]);
    expect(serviceLbCollision('1.19.7')).toBeUndefined();
    expect(serviceLbCollision('1.18.14')).toBeDefined();
    expect(serviceLbCollision(DEFAULT_CILIUM_VERSION)).toBeUndefined();
  });

  it('refuses an affected release where ServiceLB runs, naming its DaemonSets and the ways out; asks nothing otherwise', () => {
    const affected = { ...spec, serviceLbBug: { ciliumVersion: '1.19.6', ...serviceLbCollision('1.19.6')! } };
    const svclb = [{ metadata: { namespace: 'kube-system', name: 'svclb-traefik-1b7a2a41' } }];
    expect(formatResult(checkServiceLb(affected, svclb)!)).toBe(
      "FAIL servicelb k3s: ServiceLB runs kube-system/svclb-traefik-1b7a2a41: Cilium 1.19.6 files a LoadBalancer on the node's own address and the svclb pods' hostPort under one key, and the hostPort wins (cilium/cilium#44730: traffic through ServiceLB breaks, SSH to the node can be lost); set cilium.version to a release with cilium/cilium#45314 (1.19.7 and 1.20.0), or disable ServiceLB (k3s --disable servicelb) and give LoadBalancer Services their addresses another way",
    );
    expect(checkServiceLb(affected, [])!.outcome).toBe('PASS');
    expect(checkServiceLb(spec, svclb)).toBeUndefined();
  });
});

describe('agentNote', () => {
  it('reminds to restart agents only when there are agents', () => {
    expect(agentNote(spec).map(formatResult)).toEqual([
      'INFO k3s-flags agents: k3s-agent-1 take the server flags only when restarted; restart every agent after the servers',
    ]);
    expect(agentNote({ ...spec, nodes: spec.nodes.filter((n) => n.role === 'server') })).toEqual([]);
  });
});

describe('backups and acknowledgements', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const snap = (name: string, time: string, readyToUse = true) => ({
    metadata: { name },
    spec: { snapshotName: name },
    status: { creationTime: time, readyToUse },
  });

  it('passes a snapshot younger than the limit, fails an older one or none, unless acknowledged', () => {
    const recent = [
      snap('old', '2026-11-20T12:00:00Z'),
      snap('new', '2026-11-25T09:00:00Z'),
      snap('broken', '2026-11-25T11:59:00Z', false),
    ];
    expect(formatResult(checkSnapshot(spec, true, recent, now))).toBe('PASS snapshot etcd: new is 3.0h old');
    expect(formatResult(checkSnapshot(spec, true, [snap('old', '2026-11-20T12:00:00Z')], now))).toBe(
      'FAIL snapshot etcd: newest snapshot old is 120.0h old, more than safety.maxSnapshotAge; take one on a server with `k3s etcd-snapshot save`, or set safety.acknowledgeNoSnapshot',
    );
    expect(checkSnapshot(spec, true, [], now).outcome).toBe('FAIL');
    expect(checkSnapshot({ ...spec, snapshot: { maxAgeSeconds: 86400, acknowledged: true } }, true, undefined, now).outcome).toBe('PASS');
  });

  it('needs no snapshot once Calico is gone, so a re-sync after the migration passes', () => {
    expect(formatResult(checkSnapshot(spec, false, undefined, now))).toBe(
      'PASS snapshot etcd: Calico is already removed: nothing left to protect',
    );
  });

  it('counts the Calico policies that would be destroyed and refuses them unless acknowledged', () => {
    const lists = [
      { kind: 'GlobalNetworkPolicyList', items: [{ metadata: { name: 'default.deny-public-ssh' } }] },
      { kind: 'NetworkPolicyList', items: [{ metadata: { name: 'default.allow-web', namespace: 'shop' } }] },
      undefined,
      { kind: 'NetworkSetList', items: [] },
    ];
    expect(formatResult(checkPolicies(spec, lists))).toBe(
      'FAIL calico-policies crd.projectcalico.org: 2 would be destroyed with the Calico CRDs: GlobalNetworkPolicy default.deny-public-ssh, NetworkPolicy shop/default.allow-web; recreate what you need as Kubernetes or Cilium policies, then set safety.acknowledgeDroppedPolicies',
    );
    expect(formatResult(checkPolicies({ ...spec, policies: { acknowledged: true } }, lists))).toMatch(
      /^PASS calico-policies crd\.projectcalico\.org: 2 will be destroyed \(safety\.acknowledgeDroppedPolicies\): /,
    );
    expect(checkPolicies(spec, [undefined, undefined, undefined, undefined]).outcome).toBe('PASS');
  });
});

describe('hetzner-cloud checks', () => {
  const cloud = {
    ...spec,
    profile: 'hetzner-cloud',
    cloudController: { namespace: 'kube-system', name: 'hcloud-cloud-controller-manager' },
  };

  it('requires an hcloud providerID and a podCIDR inside the pod CIDR', () => {
    expect(formatResult(checkHetznerNode(cloud, 'k3s-server-1', nodes['migrated-server']))).toBe(
      'PASS hcloud-node k3s-server-1: hcloud://41234567, podCIDR 10.42.0.0/24',
    );
    expect(formatResult(checkHetznerNode(cloud, 'k3s-server-2', nodes['calico-server-cli-flags']))).toBe(
      'FAIL hcloud-node k3s-server-2: providerID is not set, expected hcloud://…: the hcloud cloud controller has not initialised this node; podCIDR is not set',
    );
    expect(
      checkHetznerNode(cloud, 'x', { ...nodes['migrated-server'], spec: { providerID: 'hcloud://1', podCIDR: '10.244.1.0/24' } }).detail,
    ).toBe('podCIDR 10.244.1.0/24 is outside cluster.podCIDR 10.42.0.0/16');
    expect(cidrWithin('10.42.3.0/24', '10.42.0.0/16')).toBe(true);
    expect(cidrWithin('10.0.0.0/8', '10.42.0.0/16')).toBe(false);
  });

  const ccm = parse(readFileSync(new URL('../../fixtures/hcloud-ccm.yaml', import.meta.url), 'utf8'));
  const ccmLines = (object: unknown) => checkCloudController(cloud, object as ControllerObject).map(formatResult);

  it('passes the chart with networking enabled and its cluster CIDR the pod CIDR', () => {
    expect(ccmLines(ccm.networking)).toEqual([
      'PASS hcloud-ccm kube-system/hcloud-cloud-controller-manager: Deployment, networking and routes on, --cluster-cidr 10.42.0.0/16, host network, 1 ready',
    ]);
  });

  it("warns when its --cluster-cidr is the chart's Flannel default, or wider than the pod CIDR, naming what goes wrong", () => {
    expect(ccmLines(ccm['flannel-cidr'])[1]).toBe(
      "WARN hcloud-ccm kube-system/hcloud-cloud-controller-manager: --cluster-cidr is 10.244.0.0/16, cluster.podCIDR is 10.42.0.0/16: it still routes each node's pod CIDR, with a ClusterCIDRMisconfigured event each time (hcloud/routes.go CreateRoute), but never deletes one (it is outside its range), so the routes of removed nodes pile up against the network's limit of 100 routes; set the chart's networking.clusterCIDR to 10.42.0.0/16",
    );
    expect(anyFailed(checkCloudController(cloud, ccm['flannel-cidr']))).toBe(false);
    const container = ccm.networking.spec.template.spec.containers[0];
    const wide = {
      ...ccm.networking,
      spec: {
        template: { spec: { hostNetwork: true, containers: [{ ...container, args: [...container.args, '--cluster-cidr=10.0.0.0/8'] }] } },
      },
    };
    expect(ccmLines(wide)[1]).toMatch(
      /^WARN hcloud-ccm .*: --cluster-cidr is 10\.0\.0\.0\/8, .*: it takes every route of the network inside that range for its own and deletes the ones that belong to no node/,
    );
  });

  it("fails the Robot guide's shape: routes off, no --cluster-cidr, off the host network", () => {
    expect(ccmLines(ccm.robot)).toEqual([
      'FAIL hcloud-ccm kube-system/hcloud-cloud-controller-manager: HCLOUD_NETWORK_ROUTES_ENABLED is "false": its route controller is off, so no pod CIDR is routed; remove the variable; ' +
        'no --cluster-cidr: its route controller never starts (the hcloud chart passes --allocate-node-cidrs=true --cluster-cidr only with networking.enabled); enable networking with networking.clusterCIDR 10.42.0.0/16; ' +
        'it does not run with hostNetwork: it stops working while the pod network is down',
    ]);
  });

  it('reads a DaemonSet (the chart with kind DaemonSet), its flags in command, and fails it while no pod is ready', () => {
    expect(ccmLines(ccm['daemonset-crashing'])).toEqual([
      'FAIL hcloud-ccm kube-system/hcloud-cloud-controller-manager: no ready pod (DaemonSet reports none): a crash-looping controller routes nothing; `kubectl -n kube-system logs` it',
    ]);
    const ready = { ...ccm['daemonset-crashing'], status: { numberReady: 3 } };
    expect(ccmLines(ready)[0]).toMatch(
      /^PASS hcloud-ccm .*: DaemonSet, networking and routes on, --cluster-cidr 10\.42\.0\.0\/16, host network, 3 ready$/,
    );
  });

  it('fails networking off, --configure-cloud-routes=false, and an absent controller', () => {
    const container = ccm.networking.spec.template.spec.containers[0];
    const withContainer = (c: object) => ({ ...ccm.networking, spec: { template: { spec: { hostNetwork: true, containers: [c] } } } });
    expect(ccmLines(withContainer({ ...container, env: [] }))[0]).toMatch(
      /: networking is off \(no HCLOUD_NETWORK\): it creates no routes for pod CIDRs$/,
    );
    expect(ccmLines(withContainer({ ...container, args: [...container.args, '--configure-cloud-routes=false'] }))[0]).toMatch(
      /: --configure-cloud-routes is false: it creates no routes; remove the flag$/,
    );
    expect(ccmLines(undefined)[0]).toMatch(/^FAIL hcloud-ccm .*: no Deployment or DaemonSet of that name/);
  });

  it('fails a route controller left out by --controllers, and reads the env as the container gets it', () => {
    const container = ccm.networking.spec.template.spec.containers[0];
    const withContainer = (c: object) => ({ ...ccm.networking, spec: { template: { spec: { hostNetwork: true, containers: [c] } } } });
    expect(ccmLines(withContainer({ ...container, args: [...container.args, '--controllers=*,-route'] }))[0]).toMatch(
      /: --controllers=\*,-route leaves out the route controller: it creates no routes; enable it$/,
    );
    expect(routeControllerEnabled(undefined)).toBe(true);
    expect(routeControllerEnabled('cloud-node,service')).toBe(false);
    expect(routeControllerEnabled('-node-route-controller,*')).toBe(false);
    expect(routeControllerEnabled('route')).toBe(true);
    // An empty HCLOUD_NETWORK is no network (os.Getenv); of two entries the container gets the last.
    const env = (entries: object[]) => withContainer({ ...container, env: entries });
    expect(ccmLines(env([{ name: 'HCLOUD_NETWORK', value: '' }]))[0]).toMatch(/networking is off/);
    expect(
      ccmLines(
        env([
          { name: 'HCLOUD_NETWORK', value: '' },
          { name: 'HCLOUD_NETWORK', value: 'k3s' },
        ]),
      )[0],
    ).toMatch(/^PASS /);
    // Routes switched off through envFrom cannot be read here: a warning, not a pass in silence.
    const viaEnvFrom = withContainer({ ...container, env: [], envFrom: [{ configMapRef: { name: 'hccm' } }] });
    expect(ccmLines(viaEnvFrom)).toEqual([
      expect.stringMatching(/^PASS /),
      'WARN hcloud-ccm kube-system/hcloud-cloud-controller-manager: HCLOUD_NETWORK is not in its env and envFrom is not read here: check that networking is on',
    ]);
  });

  it('reads HCLOUD_NETWORK_ROUTES_ENABLED as the controller version does', () => {
    const container = ccm.networking.spec.template.spec.containers[0];
    const routes = (image: string, value: string) =>
      checkCloudController(cloud, {
        ...ccm.networking,
        spec: {
          template: {
            spec: {
              hostNetwork: true,
              containers: [{ ...container, image, env: [...container.env, { name: 'HCLOUD_NETWORK_ROUTES_ENABLED', value }] }],
            },
          },
        },
      })[0]!.outcome;
    // From v1.19, strconv.ParseBool (internal/config/config.go); up to v1.18 only "false" (hcloud/cloud.go).
    expect(routes('docker.io/hetznercloud/hcloud-cloud-controller-manager:v1.27.0', '0')).toBe('FAIL');
    expect(routes('docker.io/hetznercloud/hcloud-cloud-controller-manager:v1.18.0', '0')).toBe('PASS');
    expect(routes('docker.io/hetznercloud/hcloud-cloud-controller-manager:v1.18.0', 'false')).toBe('FAIL');
    expect(routes('docker.io/hetznercloud/hcloud-cloud-controller-manager:v1.27.0', 'true')).toBe('PASS');
  });

  it('reads flags as the Go flag package takes them', () => {
    expect(flagValue({ name: 'c', args: ['--cluster-cidr', '10.42.0.0/16'] }, 'cluster-cidr')).toBe('10.42.0.0/16');
    expect(flagValue({ name: 'c', args: ['--cluster-cidr=10.42.0.0/16'] }, 'cluster-cidr')).toBe('10.42.0.0/16');
    expect(flagValue({ name: 'c', command: ['/bin/x', '--configure-cloud-routes'] }, 'configure-cloud-routes')).toBe('true');
    expect(flagValue({ name: 'c', args: ['--cluster-cidr-x=1'] }, 'cluster-cidr')).toBeUndefined();
    // The last occurrence wins; a boolean flag takes no separate word.
    expect(flagValue({ name: 'c', args: ['--cluster-cidr=10.244.0.0/16', '--cluster-cidr=10.42.0.0/16'] }, 'cluster-cidr')).toBe(
      '10.42.0.0/16',
    );
    expect(flagValue({ name: 'c', args: ['--configure-cloud-routes', 'false'] }, 'configure-cloud-routes', true)).toBe('true');
  });
});
