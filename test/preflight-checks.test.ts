import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  agentNote,
  checkCalico,
  checkNode,
  checkNotOperatorManaged,
  imageTag,
  type PreflightSpec,
} from '../lib/incluster/preflight-checks.ts';
import { anyFailed, formatResult } from '../lib/incluster/report.ts';

const nodes = parse(readFileSync(new URL('./fixtures/k3s-nodes.yaml', import.meta.url), 'utf8'));
const daemonSets = parse(readFileSync(new URL('./fixtures/calico-node-daemonsets.yaml', import.meta.url), 'utf8'));

const spec: PreflightSpec = {
  nodes: [
    { name: 'k3s-server-1', role: 'server', internalIP: '10.0.0.2' },
    { name: 'k3s-server-2', role: 'server', internalIP: '10.0.0.3' },
    { name: 'k3s-server-3', role: 'server', internalIP: '10.0.0.4' },
    { name: 'k3s-agent-1', role: 'agent', internalIP: '10.0.1.5' },
  ],
  calicoVersion: 'v3.27.0',
  kubeProxyReplacement: true,
  skipNodes: [],
  podCIDR: '10.42.0.0/16',
  serviceCIDR: '10.43.0.0/16',
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
        'and restart k3s in the documented order (README, "k3s settings")',
      'PASS k3s-cidrs k3s-server-3: cluster-cidr 10.42.0.0/16, service-cidr 10.43.0.0/16',
    ]);
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
    ]);
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

describe('checkNotOperatorManaged', () => {
  it('refuses a Calico installed by the tigera-operator', () => {
    expect(
      checkNotOperatorManaged({ kind: 'CustomResourceDefinition', metadata: { name: 'installations.operator.tigera.io' } }).outcome,
    ).toBe('FAIL');
    expect(formatResult(checkNotOperatorManaged({}))).toMatch(
      /^FAIL calico-manifest installations\.operator\.tigera\.io: exists: Calico is managed by the tigera-operator/,
    );
    expect(checkNotOperatorManaged(undefined).outcome).toBe('PASS');
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
