/**
 * `discover` on recorded API objects of a k3s + Calico cluster (test/fixtures/discover/), and its
 * refusals. Against a real API server: test/integration/.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../lib/config/load.ts';
import { type ClusterSnapshot, discoverConfig, nodeArg } from '../../../lib/discover/discover.ts';
import { InputError } from '../../../lib/input-error.ts';

const fixture = (): ClusterSnapshot => parse(readFileSync(new URL('../../fixtures/discover/k3s-calico.yaml', import.meta.url), 'utf8'));

describe('discover', () => {
  it('writes the config a reviewer would write from the same objects', () => {
    const { text } = discoverConfig(fixture());
    // Written by hand from the fixture.
    expect(parse(text)).toEqual({
      cluster: {
        name: 'hetzner-prod',
        distribution: 'k3s',
        kubernetesVersion: 'v1.32',
        profile: 'hetzner-cloud',
        network: { ipRange: '10.0.0.0/8' },
        podCIDR: '10.42.0.0/16',
        serviceCIDR: '10.43.0.0/16',
        apiServer: { host: '127.0.0.1', port: 6444 },
        nodes: [
          { name: 'k3s-server-1', role: 'server', internalIP: '10.0.0.2' },
          { name: 'k3s-server-2', role: 'server', internalIP: '10.0.0.3' },
          { name: 'k3s-agent-1', role: 'agent', internalIP: '10.0.1.4' },
        ],
      },
      calico: { version: 'v3.27.0', manifest: 'calico', backend: 'bird', ipPools: ['192.168.0.0/16'] },
      cilium: { routingMode: 'native', kubeProxyReplacement: true },
      gitops: {
        engine: 'argocd',
        repoURL: 'https://git.example.com/change-me/gitops.git',
        path: 'dist',
        revision: 'main',
        // The fixture's kubeconfig names no server: a placeholder to replace.
        argocd: { destinationServer: 'https://change-me.example:6443' },
      },
    });
    // With the server the kubeconfig reached, that one, to check.
    const read = parse(discoverConfig({ ...fixture(), server: 'https://10.0.0.2:6443' }).text);
    expect(read.gitops.argocd).toEqual({ destinationServer: 'https://10.0.0.2:6443' });
  });

  it('passes validate, and marks every guessed value with what to check', () => {
    const { text, notes } = discoverConfig(fixture());
    expect(() => parseConfig(text, 'discovered.yaml')).not.toThrow();
    expect(text).toMatch(/ipRange: 10\.0\.0\.0\/8 # CHECK: the Hetzner Cloud network's ip_range/);
    expect(text).toMatch(/repoURL: .* # CHECK: the Git repository/);
    expect(text).toMatch(/destinationServer: .* # CHECK: this cluster's API URL as the Argo CD that applies the steps has it registered/);
    expect(text).toMatch(/name: hetzner-prod # CHECK: from the kubeconfig context/);
    // Read from the node-args: no CHECK.
    expect(text).toMatch(/podCIDR: 10\.42\.0\.0\/16\n/);
    expect(notes).toContain('Calico policies the deletion destroys: 2 GlobalNetworkPolicy; see safety.acknowledgeDroppedPolicies');
    expect(notes).toContain('newest etcd snapshot: 2026-11-25T03:00:00Z');
    expect(notes).toContain(
      'deletion set of Calico v3.27.0 (calico.yaml): 3 of 4 objects present; absent (deleted already, or another manifest): PodDisruptionBudget kube-system/calico-kube-controllers',
    );
    expect(notes).toContain(
      "Calico objects the deletion set does not cover (left in place; delete them by hand if they are Calico's): ConfigMap kube-system/calico-extra-settings",
    );
  });

  it('reads the typha variant, custom CIDRs and a missing snapshot', () => {
    const s = fixture() as any;
    s.calicoTypha = { spec: {} };
    s.nodes[0].metadata.annotations['k3s.io/node-args'] = '["server","--cluster-cidr=10.244.0.0/16","--service-cidr","10.96.0.0/16"]';
    s.snapshots = [];
    const { text, notes } = discoverConfig(s);
    const config = parse(text);
    expect(config.calico.manifest).toBe('calico-typha');
    expect(config.cluster.podCIDR).toBe('10.244.0.0/16');
    expect(config.cluster.serviceCIDR).toBe('10.96.0.0/16');
    expect(notes.at(-1)).toMatch(/^no etcd snapshot/);
  });

  it("takes Calico's backend from calico-config, with a CHECK when it is not readable", () => {
    const vxlan = discoverConfig({ ...fixture(), calicoBackend: 'vxlan' }).text;
    expect(parse(vxlan).calico.backend).toBe('vxlan');
    expect(vxlan).not.toMatch(/backend: .*# CHECK/);
    const { calicoBackend: _dropped, ...unreadable } = fixture();
    expect(discoverConfig(unreadable).text).toMatch(/backend: bird # CHECK: calico_backend in kube-system\/calico-config is not readable/);
  });

  it('puts the manifest default pool, with a CHECK, when no IPPool could be read', () => {
    const { text } = discoverConfig({ ...fixture(), ipPools: [] });
    expect(text).toMatch(/- 192\.168\.0\.0\/16 # CHECK: no IPv4 IPPool could be read/);
  });

  it('falls back to the k3s defaults with a CHECK when the node-args do not say', () => {
    const s = fixture() as any;
    for (const n of s.nodes) {
      delete n.metadata.annotations;
    }
    const { text } = discoverConfig(s);
    expect(text).toMatch(/podCIDR: 10\.42\.0\.0\/16 # CHECK: no --cluster-cidr in the k3s node-args/);
    expect(text).toMatch(/serviceCIDR: 10\.43\.0\.0\/16 # CHECK: .*the kubernetes Service has 10\.43\.0\.1/);
  });

  it('parses k3s node-args: separate and = forms, last one wins', () => {
    const node = {
      metadata: {
        name: 'n',
        annotations: { 'k3s.io/node-args': '["server","--cluster-cidr","10.1.0.0/16","--cluster-cidr=10.2.0.0/16"]' },
      },
    };
    expect(nodeArg(node, 'cluster-cidr')).toBe('10.2.0.0/16');
    expect(nodeArg(node, 'service-cidr')).toBeUndefined();
  });

  it('refuses a cluster that is not k3s, has no Calico, or runs operator-managed Calico', () => {
    const notK3s = fixture() as any;
    notK3s.nodes[1].status.nodeInfo.kubeletVersion = 'v1.32.5';
    expect(() => discoverConfig(notK3s)).toThrow(InputError);
    expect(() => discoverConfig(notK3s)).toThrow(
      'discover: node k3s-server-2 runs kubelet v1.32.5, not k3s; cilium-cutover migrates k3s clusters only',
    );
    const noCalico = { ...fixture(), calicoNode: undefined, uncovered: [] };
    expect(() => discoverConfig(noCalico)).toThrow(/no Calico here \(no kube-system\/calico-node DaemonSet\)/);
    // A step 100 that stopped after the workloads: what is left is named.
    const half = {
      ...fixture(),
      calicoNode: undefined,
      uncovered: ['ClusterRole calico-node', 'CustomResourceDefinition ippools.crd.projectcalico.org'],
    };
    expect(() => discoverConfig(half)).toThrow(
      'discover: Calico is partly removed here (no kube-system/calico-node DaemonSet, but 2 of its objects are left: ClusterRole calico-node, CustomResourceDefinition ippools.crd.projectcalico.org); discover reads the version from calico-node, so finish with the config you started with (apply --from 100)',
    );
    const operator = { ...fixture(), tigeraOperator: true };
    expect(() => discoverConfig(operator)).toThrow(/managed by the Tigera operator/);
  });
});
