/**
 * strategy per-node: the config rules, the step order under both engines, the CiliumNodeConfigs,
 * the migration settings, and the drain Job's access.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { render } from '../../charts/app.ts';
import type { Rendered } from '../../lib/output/rendered.ts';
import { validateObject } from '../../lib/check/schema-check.ts';
import { exampleData, isObjectFile, load, loadError, manifestObjects } from '../support/helpers.ts';

const PER_NODE_EXAMPLE = new URL('../../examples/hetzner-3-servers-per-node.yaml', import.meta.url);

/** The example switched to per-node (with the acknowledgement its BIRD Calico needs), then `edit`. */
function perNodeData(edit: (d: Record<string, any>) => void = () => {}): Record<string, any> {
  const data = exampleData();
  data.strategy = 'per-node';
  data.perNode = { acknowledgeCalicoBGP: true, acknowledgeSwitchOutage: true };
  edit(data);
  return data;
}

function renderPerNode(edit?: (d: Record<string, any>) => void): Rendered {
  return render(load(perNodeData(edit)).config);
}

function errorOf(edit: (d: Record<string, any>) => void): string | undefined {
  return loadError(perNodeData(edit));
}

function stepDirs(rendered: Rendered): string[] {
  return rendered.steps.map((s) => s.step.dir);
}

describe('strategy per-node: steps', () => {
  const rendered = renderPerNode();

  it('moves the example nodes one step each, in config order, then checks the network before anything removes Calico', () => {
    // The checks are the gate: the first irreversible step (600) follows them, not the reverse.
    expect(stepDirs(rendered)).toEqual([
      '000-preflight',
      '200-cilium',
      '400-node-k3s-server-1',
      '401-node-k3s-server-2',
      '402-node-k3s-server-3',
      '500-verify-workloads',
      '510-verify-checks',
      '600-calico-delete',
      '610-node-cleanup',
      '900-complete',
    ]);
    const impact = (dir: string) => rendered.steps.find((s) => s.step.dir === dir)!.step.impact;
    expect(impact('510-verify-checks')).toBeUndefined();
    expect(impact('600-calico-delete')).toBe('irreversible');
  });

  it('gives every object of a node step its own, increasing sync wave', () => {
    const waves = ['400-node-k3s-server-1', '401-node-k3s-server-2', '402-node-k3s-server-3'].map((dir) => {
      const values = new Set(
        manifestObjects(rendered, `manifests/${dir}/`).map(({ obj }) => obj.metadata.annotations['argocd.argoproj.io/sync-wave']),
      );
      expect(values.size, dir).toBe(1);
      return Number([...values][0]);
    });
    expect(waves).toEqual([400, 401, 402]);
  });

  it('chains the Flux Kustomizations: each node step depends on the one before it, and the removal of Calico on the checks', () => {
    const flux = [...rendered.files]
      .filter(([p]) => p.startsWith('flux/kustomization-'))
      .map(([, text]) => parse(text))
      .filter((o) => o.kind === 'Kustomization');
    const byPath = new Map(flux.map((k) => [k.spec.path.split('/').pop(), k]));
    const dependency = (dir: string) => byPath.get(dir)?.spec.dependsOn?.[0]?.name;
    expect(dependency('400-node-k3s-server-1')).toBe('cilium-cutover-hetzner-demo-200-cilium');
    expect(dependency('401-node-k3s-server-2')).toBe('cilium-cutover-hetzner-demo-400-node-k3s-server-1');
    expect(dependency('402-node-k3s-server-3')).toBe('cilium-cutover-hetzner-demo-401-node-k3s-server-2');
    expect(dependency('500-verify-workloads')).toBe('cilium-cutover-hetzner-demo-402-node-k3s-server-3');
    // Calico's removal waits for the checks: Flux reconciles it only once they are Ready.
    expect(dependency('600-calico-delete')).toBe('cilium-cutover-hetzner-demo-510-verify-checks');
    expect(byPath.get('510-verify-checks')?.spec.wait).toBe(true);
    for (const k of flux) {
      expect(k.metadata.name.length, k.metadata.name).toBeLessThanOrEqual(63);
    }
  });

  it('follows perNode.order, and by default moves agents before servers', () => {
    const withAgents = (d: Record<string, any>) => {
      d.cluster.nodes.push({ name: 'worker-a', role: 'agent', internalIP: '10.0.0.10' });
      d.cluster.nodes.push({ name: 'worker-b', role: 'agent', internalIP: '10.0.0.11' });
    };
    const nodeDirs = (r: Rendered) => stepDirs(r).filter((d) => d.includes('-node-') && !d.endsWith('node-cleanup'));
    expect(nodeDirs(renderPerNode(withAgents))).toEqual([
      '400-node-worker-a',
      '401-node-worker-b',
      '402-node-k3s-server-1',
      '403-node-k3s-server-2',
      '404-node-k3s-server-3',
    ]);
    const ordered = renderPerNode((d) => {
      withAgents(d);
      d.perNode.order = ['k3s-server-2', 'worker-b', 'k3s-server-1', 'worker-a', 'k3s-server-3'];
    });
    expect(nodeDirs(ordered)).toEqual([
      '400-node-k3s-server-2',
      '401-node-worker-b',
      '402-node-k3s-server-1',
      '403-node-worker-a',
      '404-node-k3s-server-3',
    ]);
  });

  it('cuts a long node name in the step directory and keeps it apart with a hash', () => {
    const long = 'worker-in-a-very-long-hetzner-location-name-01';
    const r = renderPerNode((d) => d.cluster.nodes.push({ name: long, role: 'agent', internalIP: '10.0.0.10' }));
    const dir = stepDirs(r)[2]!;
    expect(dir.length).toBeLessThanOrEqual(32);
    expect(dir).toMatch(/^400-node-worker-in-a-very-[0-9a-f]{6}$/);
    const cnc = manifestObjects(r, `manifests/${dir}/`).find(({ obj }) => obj.kind === 'CiliumNodeConfig')!.obj;
    expect(cnc.spec.nodeSelector.matchLabels['kubernetes.io/hostname']).toBe(long);
  });

  it('phase switch: final Cilium, kube-proxy cleanup, re-addressing, checks; no node steps', () => {
    const switched = renderPerNode((d) => (d.phase = 'switch'));
    expect(stepDirs(switched)).toEqual([
      '000-preflight',
      '200-cilium',
      '210-kube-proxy-cleanup',
      '250-readdress-pods',
      '700-verify-workloads',
      '710-verify-checks',
      '900-complete',
    ]);
  });

  it('phase steady keeps the same Cilium step as after a cutover', () => {
    const steady = renderPerNode((d) => (d.phase = 'steady'));
    const cutover = render(load({ ...exampleData(), phase: 'steady' }).config);
    const manifests = (r: Rendered) => [...r.files].filter(([p]) => p.startsWith('manifests/200-cilium/'));
    expect(stepDirs(steady)).toEqual(['200-cilium', '900-complete']);
    expect(manifests(steady)).toEqual(manifests(cutover));
    // The record the switch phase wrote stays as it was.
    const record = (r: Rendered) => parse(r.files.get('manifests/900-complete/configmap-cilium-cutover-status.yaml')!).data;
    expect(record(steady)).toEqual(record(renderPerNode((d) => (d.phase = 'switch'))));
    expect(record(steady).phase).toBe('switch');
  });

  it("phase switch installs exactly the cutover's Cilium objects", () => {
    const switched = renderPerNode((d) => (d.phase = 'switch'));
    const cutover = render(load(exampleData()).config);
    const ciliumFiles = (r: Rendered) => [...r.files].filter(([p]) => p.startsWith('manifests/200-cilium/'));
    expect(ciliumFiles(switched)).toEqual(ciliumFiles(cutover));
  });
});

describe('strategy per-node: CiliumNodeConfig', () => {
  /** Facts from the Cilium version table's sources: v2 is served from 1.16 (cilium/cilium#31721). */
  const expected: Record<string, string> = {
    '1.15.2': 'cilium.io/v2alpha1',
    '1.15.19': 'cilium.io/v2alpha1',
    '1.16.19': 'cilium.io/v2',
    '1.17.18': 'cilium.io/v2',
    '1.18.12': 'cilium.io/v2',
    '1.19.6': 'cilium.io/v2',
    '1.20.0': 'cilium.io/v2',
  };

  it.each(Object.entries(expected))('Cilium %s uses %s', (version, apiVersion) => {
    const r = renderPerNode((d) => {
      d.cilium.version = version;
      // 1.15 accepts "true" too; keep the example's value.
    });
    const configs = manifestObjects(r).filter(({ obj }) => obj.kind === 'CiliumNodeConfig');
    expect(configs).toHaveLength(3);
    for (const { obj } of configs) {
      expect(obj.apiVersion).toBe(apiVersion);
    }
  });

  it("selects its node only once the drain labelled it, and writes Cilium's CNI config there", () => {
    const r = renderPerNode();
    const { obj } = manifestObjects(r, 'manifests/401-node-k3s-server-2/').find(({ obj }) => obj.kind === 'CiliumNodeConfig')!;
    expect(obj.metadata).toMatchObject({ name: 'cilium-cutover-k3s-server-2', namespace: 'kube-system' });
    expect(obj.spec.nodeSelector).toEqual({
      matchLabels: { 'kubernetes.io/hostname': 'k3s-server-2', 'cilium-cutover.io/cni': 'cilium' },
    });
    // The guide's per-node keys, except: kube-proxy replacement is off beside Calico, so hostPort
    // needs the portmap chaining mode (cilium/cilium daemon/cmd/cni/config.go renders cilium-cni
    // then portmap for it); and an exclusive agent renames every other CNI config and watches the
    // directory (same file, cleanupOtherCNI), which would undo a rollback.
    expect(obj.spec.defaults).toEqual({
      'write-cni-conf-when-ready': '/host/etc/cni/net.d/05-cilium.conflist',
      'custom-cni-conf': 'false',
      'cni-chaining-mode': 'portmap',
      'cni-exclusive': 'false',
    });
  });

  it('the CRD-structure check rejects a broken CiliumNodeConfig', async () => {
    const r = renderPerNode();
    const { obj } = manifestObjects(r).find(({ obj }) => obj.kind === 'CiliumNodeConfig')!;
    await expect(validateObject(obj)).resolves.toBeUndefined();
    await expect(validateObject({ ...obj, spec: { defaults: obj.spec.defaults } })).rejects.toThrow(/nodeSelector/);
    await expect(validateObject({ ...obj, spec: { ...obj.spec, defaults: { mtu: 1450 } } })).rejects.toThrow(/defaults\.mtu/);
    await expect(validateObject({ ...obj, apiVersion: 'cilium.io/v3' })).rejects.toThrow(/apiVersion/);
  });
});

describe('strategy per-node: Cilium beside Calico', () => {
  const rendered = renderPerNode();
  const data = manifestObjects(rendered, 'manifests/200-cilium/').find(({ obj }) => obj.kind === 'ConfigMap')!.obj.data;

  it("runs the guide's migration settings", () => {
    expect(data).toMatchObject({
      'routing-mode': 'tunnel',
      'tunnel-protocol': 'vxlan',
      'tunnel-port': '8473',
      ipam: 'cluster-pool',
      'cluster-pool-ipv4-cidr': '10.245.0.0/16',
      'cluster-pool-ipv4-mask-size': '24',
      'custom-cni-conf': 'true',
      'enable-policy': 'never',
      'enable-host-legacy-routing': 'true',
      'unmanaged-pod-watcher-interval': '0',
      'kube-proxy-replacement': 'false',
      'enable-bpf-masquerade': 'false',
    });
  });

  it("writes no CNI config and does not touch Calico's until a node is switched", () => {
    expect(data).not.toHaveProperty('write-cni-conf-when-ready');
    expect(data).not.toHaveProperty('cni-exclusive');
    expect(data).not.toHaveProperty('ipv4-native-routing-cidr');
    expect(data).not.toHaveProperty('kube-proxy-replacement-healthz-bind-address');
  });

  it("the checks after the migrate phase expect pods on the migration range, after the switch on the cluster's", () => {
    const specOf = (r: Rendered) =>
      JSON.parse(
        manifestObjects(r, `manifests/${stepDirs(r).find((d) => d.endsWith('-verify-checks'))}/`).find(
          ({ obj }) => obj.kind === 'ConfigMap' && obj.data?.['verify.json'],
        )!.obj.data['verify.json'],
      );
    expect(specOf(rendered).podCIDR).toBe('10.245.0.0/16');
    expect(specOf(renderPerNode((d) => (d.phase = 'switch'))).podCIDR).toBe('10.42.0.0/16');
  });

  it('keeps kube-proxy: the drop-in does not disable it and no kube-proxy cleanup runs', () => {
    const dropIn = rendered.files.get('host/k3s/config.yaml.d/90-cilium-cutover.yaml')!;
    expect(dropIn).not.toMatch(/disable-kube-proxy/);
    expect(stepDirs(rendered)).not.toContain('210-kube-proxy-cleanup');
    const switched = renderPerNode((d) => (d.phase = 'switch'));
    expect(switched.files.get('host/k3s/config.yaml.d/90-cilium-cutover.yaml')).toMatch(/disable-kube-proxy: true/);
  });

  it('PLAN.md explains the two phases and how to put a node back on Calico', () => {
    const plan = rendered.files.get('PLAN.md')!;
    expect(plan).toMatch(/## Per-node migration: two phases/);
    expect(plan).toMatch(/`phase: migrate`\*\* \*\*\(this output\)\*\*/);
    expect(plan).toMatch(/`phase: switch`\*\*: roll out the k3s drop-in \(now with `disable-kube-proxy`\)/);
    const rollback = plan.slice(plan.indexOf('### `401-node-k3s-server-2` failed'));
    expect(rollback).toMatch(/kubectl -n kube-system delete ciliumnodeconfig cilium-cutover-k3s-server-2/);
    expect(rollback).toMatch(/kubectl uncordon k3s-server-2/);
    expect(rollback).toMatch(/10-calico\.conflist\.cilium_bak/);
  });
});

describe('strategy per-node: the drain Job', () => {
  const rendered = renderPerNode();
  const step = (kind: string) => manifestObjects(rendered, 'manifests/400-node-k3s-server-1/').filter(({ obj }) => obj.kind === kind);

  const named = (kind: string, name: string) => step(kind).find(({ obj }) => obj.metadata.name === name)!.obj;
  const job = (component: string) => step('Job').find(({ obj }) => obj.metadata.labels['app.kubernetes.io/component'] === component)!.obj;

  it('may cordon and label only its node, list pods, and evict; never delete', () => {
    expect(step('ClusterRole').map(({ obj }) => obj.metadata.name)).toEqual([
      'cilium-cutover-check-k3s-server-1',
      'cilium-cutover-move-k3s-server-1',
    ]);
    expect(named('ClusterRole', 'cilium-cutover-move-k3s-server-1').rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'], resourceNames: ['k3s-server-1'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    ]);
    expect(step('Role')).toHaveLength(0);
  });

  it('runs on the host network, unprivileged, never on the node it drains', () => {
    const pod = job('move-node').spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false });
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['k3s-server-1'] }] },
    ]);
  });

  it('checks the node from a pod on its pod network, placed there only once the move has labelled it', () => {
    const check = job('check-node');
    const pod = check.spec.template.spec;
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.nodeName).toBeUndefined();
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/hostname': 'k3s-server-1', 'cilium-cutover.io/moved': 'true' });
    const env = pod.containers[0].env;
    // The API through the kubernetes Service (the kubelet's variables), and the pod's own address.
    expect(env.map((e: any) => e.name)).not.toContain('KUBERNETES_SERVICE_HOST');
    expect(env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } });
    expect(pod.containers[0].securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    // Its deadline counts from its creation: it outlasts the move's.
    expect(check.spec.activeDeadlineSeconds).toBeGreaterThan(job('move-node').spec.activeDeadlineSeconds);
    // It reads the other nodes' CiliumNodes by name, nothing else.
    expect(named('ClusterRole', 'cilium-cutover-check-k3s-server-1').rules).toEqual([
      { apiGroups: ['cilium.io'], resources: ['ciliumnodes'], verbs: ['get'], resourceNames: ['k3s-server-2', 'k3s-server-3'] },
    ]);
    const spec = JSON.parse(step('ConfigMap').find(({ obj }) => obj.data?.['check-node.json'] !== undefined)!.obj.data['check-node.json']);
    expect(spec).toMatchObject({
      node: 'k3s-server-1',
      peers: ['k3s-server-2', 'k3s-server-3'],
      migrationCIDR: '10.245.0.0/16',
      healthPort: 4240,
    });
  });

  it("after Calico's removal, a Job may patch the nodes' status by name only", () => {
    const role = manifestObjects(rendered, 'manifests/610-node-cleanup/').find(
      ({ obj }) => obj.kind === 'ClusterRole' && obj.metadata.name === 'cilium-cutover-network-condition',
    )!.obj;
    const nodes = ['k3s-server-1', 'k3s-server-2', 'k3s-server-3'];
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'], resourceNames: nodes },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'], resourceNames: nodes },
    ]);
  });

  it('the re-addressing Job of phase switch lists and evicts only', () => {
    const switched = renderPerNode((d) => (d.phase = 'switch'));
    const role = manifestObjects(switched, 'manifests/250-readdress-pods/').find(({ obj }) => obj.kind === 'ClusterRole')!.obj;
    expect(role.rules.flatMap((r: { verbs: string[] }) => r.verbs).sort()).toEqual(['create', 'list']);
    expect(role.rules.map((r: { resources: string[] }) => r.resources[0]).sort()).toEqual(['pods', 'pods/eviction']);
  });

  it('under run.deleteBrokenPods the re-addressing Job may also delete pods, any of them, in both strategies', () => {
    // A broken pod can belong to any application, so the rule names none; without the setting there is none.
    const deleteRule = (r: Rendered) =>
      manifestObjects(r, 'manifests/250-readdress-pods/')
        .find(({ obj }) => obj.kind === 'ClusterRole')!
        .obj.rules.filter((rule: { verbs: string[] }) => rule.verbs.includes('delete'));
    const switched = renderPerNode((d) => {
      d.phase = 'switch';
      d.run = { deleteBrokenPods: true };
    });
    expect(deleteRule(switched)).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }]);
    const cutover = exampleData();
    cutover.run = { deleteBrokenPods: true };
    expect(deleteRule(render(load(cutover).config))).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }]);
    expect(deleteRule(renderPerNode((d) => (d.phase = 'switch')))).toEqual([]);
  });
});

describe('strategy per-node: config rules', () => {
  it('loads the committed per-node example', () => {
    const text = readFileSync(PER_NODE_EXAMPLE, 'utf8');
    const config = load(parse(text)).config;
    expect(config.strategy).toBe('per-node');
    expect(config.migrationOrder.map((n) => n.name)).toEqual(['k3s-server-1', 'k3s-server-2', 'k3s-server-3']);
  });

  it.each([
    [
      'the Calico pool',
      (d: any) => (d.perNode.podCIDR = '192.168.128.0/17'),
      /^perNode\.podCIDR: .*overlaps calico\.ipPools\[0\] 192\.168\.0\.0\/16/,
    ],
    ['the pod CIDR', (d: any) => (d.perNode.podCIDR = '10.42.0.0/15'), /^perNode\.podCIDR: .*overlaps cluster\.podCIDR 10\.42\.0\.0\/16/],
    ['the service CIDR', (d: any) => (d.perNode.podCIDR = '10.43.128.0/17'), /^perNode\.podCIDR: .*overlaps cluster\.serviceCIDR/],
    [
      'a node address',
      (d: any) => (d.perNode.podCIDR = '10.0.0.0/16'),
      /^perNode\.podCIDR: .*contains cluster\.nodes\[0\]\.internalIP 10\.0\.0\.2/,
    ],
  ])('rejects a migration CIDR overlapping %s', (_what, edit, message) => {
    expect(errorOf(edit)).toMatch(message);
  });

  it("rejects Flannel's VXLAN port, and Calico's when Calico runs VXLAN", () => {
    expect(errorOf((d) => (d.perNode.tunnelPort = 8472))).toMatch(/^perNode\.tunnelPort: 8472 is Flannel's VXLAN port/);
    expect(errorOf((d) => (d.perNode.tunnelPort = 4789))).toBeUndefined();
    expect(
      errorOf((d) => {
        d.calico.backend = 'vxlan';
        d.perNode.tunnelPort = 4789;
      }),
    ).toMatch(/^perNode\.tunnelPort: 4789 is the port of Calico's VXLAN overlay/);
  });

  it('wants the full outage of phase switch acknowledged, and only for that phase', () => {
    const unacknowledged = (phase: string) => (d: any) => {
      d.phase = phase;
      delete d.perNode.acknowledgeSwitchOutage;
    };
    expect(errorOf(unacknowledged('switch'))).toMatch(
      /^perNode\.acknowledgeSwitchOutage: phase switch is a full outage: an agent restarted with the final IPAM drops every pod's migration-range address, .*set perNode\.acknowledgeSwitchOutage: true$/,
    );
    expect(errorOf(unacknowledged('migrate'))).toBeUndefined();
    expect(errorOf(unacknowledged('steady'))).toBeUndefined();
  });

  it('refuses an Argo CD inside the cluster for phase switch, which takes its network', () => {
    const inCluster =
      (phase: string, engine = 'both') =>
      (d: any) => {
        d.phase = phase;
        d.gitops.engine = engine;
        d.gitops.argocd.destinationServer = 'https://kubernetes.default.svc';
      };
    expect(errorOf(inCluster('switch'))).toMatch(
      /^gitops\.argocd\.destinationServer: https:\/\/kubernetes\.default\.svc is an Argo CD inside this cluster, which loses its network with every other pod in phase switch/,
    );
    // The migrate phase keeps the pod network up; Flux objects alone name no Argo CD.
    expect(errorOf(inCluster('migrate'))).toBeUndefined();
    expect(errorOf(inCluster('switch', 'flux'))).toBeUndefined();
  });

  it('wants an acknowledgement for Calico with BGP, not for VXLAN', () => {
    expect(errorOf((d) => delete d.perNode.acknowledgeCalicoBGP)).toMatch(/^perNode\.acknowledgeCalicoBGP: calico\.backend is bird/);
    expect(
      errorOf((d) => {
        delete d.perNode.acknowledgeCalicoBGP;
        d.calico.backend = 'vxlan';
      }),
    ).toBeUndefined();
  });

  it('checks perNode.order against the nodes', () => {
    expect(errorOf((d) => (d.perNode.order = ['k3s-server-1', 'k3s-server-2']))).toMatch(/^perNode\.order: misses k3s-server-3/);
    expect(errorOf((d) => (d.perNode.order = ['k3s-server-1', 'k3s-server-1', 'k3s-server-2', 'k3s-server-3']))).toMatch(
      /^perNode\.order\[1\]: "k3s-server-1" is listed twice/,
    );
    expect(errorOf((d) => (d.perNode.order = ['k3s-server-1', 'k3s-server-2', 'k3s-server-3', 'nope']))).toMatch(
      /^perNode\.order\[3\]: "nope" is not in cluster\.nodes/,
    );
  });

  it('rejects what per-node cannot do', () => {
    expect(errorOf((d) => (d.cluster.nodes = d.cluster.nodes.slice(0, 1)))).toMatch(/^strategy: per-node needs at least two nodes/);
    expect(errorOf((d) => (d.run = { skipNodes: ['k3s-server-3'] }))).toMatch(/^run\.skipNodes: per-node moves every node/);
    expect(errorOf((d) => (d.perNode.maskSize = 30))).toMatch(/^perNode\.maskSize: expected an integer 16–28/);
    expect(errorOf((d) => (d.perNode.podCIDR = '10.245.0.0/23'))).toMatch(
      /^perNode\.maskSize: perNode\.podCIDR 10\.245\.0\.0\/23 holds 2 blocks/,
    );
    expect(
      errorOf((d) => {
        d.strategy = 'cutover';
        d.phase = 'switch';
      }),
    ).toMatch(/^phase: "switch" is the second phase of strategy per-node/);
  });

  it('caps per-node at 100 nodes (one step each)', () => {
    const error = errorOf((d) => {
      d.cluster.profile = 'generic';
      delete d.cluster.network;
      d.cilium.autoDirectNodeRoutes = true;
      d.perNode.podCIDR = '10.245.0.0/16';
      d.cluster.nodes = Array.from({ length: 101 }, (_, i) => ({
        name: `node-${i}`,
        role: i === 0 ? 'server' : 'agent',
        internalIP: `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`,
      }));
    });
    expect(error).toMatch(/^cluster\.nodes: 101 nodes, but strategy per-node moves at most 100/);
  });
});

describe('strategy per-node: every object is valid', () => {
  it.each(['migrate', 'switch'])('phase %s', async (phase) => {
    const r = renderPerNode((d) => (d.phase = phase));
    const objects = [...r.files].filter(([p]) => isObjectFile(p)).map(([path, text]) => ({ path, obj: parse(text) }));
    expect(objects.length).toBeGreaterThan(30);
    for (const { path, obj } of objects) {
      await expect(validateObject(obj), path).resolves.toBeUndefined();
    }
  });
});
