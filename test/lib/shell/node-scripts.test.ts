/**
 * The node scripts, run with bash: their selection functions on fixture outputs written to look
 * like a k3s node with Calico, Flannel, kube-proxy, kube-router, kubelet and Cilium rules. The whole
 * scripts run on real kernel state in test/kernel/node-cleanup.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enterHostScript, nodeScript, type NodeScript } from '../../../lib/shell/scripts.ts';
import { requireTool } from '../../support/tools.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8');
const IPTABLES = fixture('iptables-save-mixed.txt');
const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-scripts-'));
for (const name of ['calico-cleanup', 'kube-proxy-cleanup'] as const) {
  writeFileSync(join(dir, `${name}.sh`), nodeScript(name));
}

/** The Calico sets in fixtures/ipset-list-names.txt, in its order. */
const CALICO_SETS = [
  'cali40all-ipam-pools',
  'cali40masq-ipam-pools',
  'cali40all-vxlan-net',
  'cali40all-hosts-net',
  'cali40this-host',
  'cali4t-s:Rxjt7Vh0_qi7bYJ9FhA',
  'cali40s:Rxjt7Vh0_qi7bYJ9FhA',
  'felix-masq-ipam-pools',
];

/** The flush, then delete, lines of a batch for these chains. */
const flushAndDelete = (chains: string[]) => [...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`)];

/** Runs `fn` from a script (sourced, main not run) with `input` on stdin. */
function call(script: NodeScript, fn: string, input: string): string {
  const result = spawnSync('bash', ['-c', `SOURCE_ONLY=true source ${join(dir, `${script}.sh`)}; ${fn}`], { input, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('script syntax', () => {
  for (const name of ['calico-cleanup', 'kube-proxy-cleanup'] as const) {
    it(`${name}.sh passes bash -n and has its shared functions inlined`, () => {
      const result = spawnSync('bash', ['-n', join(dir, `${name}.sh`)], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(nodeScript(name)).toContain('chain_removal_batch()');
      expect(nodeScript(name)).not.toContain('# @include');
      expect(nodeScript(name)).toMatch(/^#!\/usr\/bin\/env bash\n/);
      expect(nodeScript(name)).toContain('set -euo pipefail');
    });
  }

  it('enter-host.sh passes sh -n', () => {
    writeFileSync(join(dir, 'enter-host.sh'), enterHostScript());
    expect(spawnSync('sh', ['-n', join(dir, 'enter-host.sh')]).status).toBe(0);
  });

  const haveShellcheck = requireTool('shellcheck', 'node scripts shellcheck', 'the scripts were checked with sh -n only');
  it.skipIf(!haveShellcheck)('passes shellcheck', () => {
    writeFileSync(join(dir, 'enter-host.sh'), enterHostScript());
    const result = spawnSync(
      'shellcheck',
      ['-S', 'warning', ...['calico-cleanup.sh', 'kube-proxy-cleanup.sh', 'enter-host.sh'].map((f) => join(dir, f))],
      {
        encoding: 'utf8',
      },
    );
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('Calico chain selection', () => {
  it('removes only cali- chains and the jumps into them, table by table', () => {
    expect(call('calico-cleanup', 'chain_removal_batch "$CALICO_CHAINS"', IPTABLES)).toBe(
      [
        '*mangle',
        '-D PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
        ...flushAndDelete(['cali-PREROUTING', 'cali-from-host-endpoint']),
        'COMMIT',
        '*filter',
        '-D INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT',
        '-D FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
        '-D OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
        ...flushAndDelete([
          'cali-FORWARD',
          'cali-INPUT',
          'cali-OUTPUT',
          'cali-from-hep-forward',
          'cali-from-wl-dispatch',
          'cali-to-wl-dispatch',
          'cali-wl-to-host',
        ]),
        'COMMIT',
        '*nat',
        '-D PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
        '-D OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
        '-D POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
        ...flushAndDelete(['cali-OUTPUT', 'cali-POSTROUTING', 'cali-PREROUTING', 'cali-fip-dnat', 'cali-fip-snat', 'cali-nat-outgoing']),
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('prints nothing for a node without Calico', () => {
    const clean = IPTABLES.split('\n')
      .filter((l) => !/cali/.test(l))
      .join('\n');
    expect(call('calico-cleanup', 'chain_removal_batch "$CALICO_CHAINS"', clean)).toBe('');
  });

  it('selects Calico ipsets only', () => {
    expect(call('calico-cleanup', 'select_ipsets "$CALICO_IPSETS"', fixture('ipset-list-names.txt')).trim().split('\n')).toEqual(
      CALICO_SETS,
    );
  });

  it("removes Felix's rules in built-in chains by their hash comment and the pre-hash NAT rules, nothing else", () => {
    const input = [
      '*filter',
      ':FORWARD ACCEPT [0:0]',
      '-A FORWARD -m comment --comment "calico bgp peers" -j ACCEPT',
      '-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
      '-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000',
      'COMMIT',
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      '-A POSTROUTING -m set --match-set felix-masq-ipam-pools src -m set ! --match-set felix-all-ipam-pools dst -j MASQUERADE',
      '-A POSTROUTING -o tunl0 -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE',
      '-A POSTROUTING -o eth0 -j MASQUERADE',
      'COMMIT',
      '',
    ].join('\n');
    expect(call('calico-cleanup', 'chain_removal_batch "$CALICO_CHAINS" "$CALICO_RULES"', input).trim().split('\n')).toEqual([
      '*filter',
      '-D FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
      '-D FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000',
      'COMMIT',
      '*nat',
      '-D POSTROUTING -m set --match-set felix-masq-ipam-pools src -m set ! --match-set felix-all-ipam-pools dst -j MASQUERADE',
      '-D POSTROUTING -o tunl0 -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE',
      'COMMIT',
    ]);
  });
});

describe('kube-proxy chain selection', () => {
  it("removes kube-proxy's chains by name and keeps the kubelet's, kube-router's, Flannel's and Cilium's", () => {
    const batch = call('kube-proxy-cleanup', 'chain_removal_batch "$KUBE_PROXY_CHAINS"', IPTABLES);
    expect(batch).toBe(
      [
        '*mangle',
        '-F KUBE-PROXY-CANARY',
        '-X KUBE-PROXY-CANARY',
        'COMMIT',
        '*filter',
        '-D INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-D INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-D INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-D FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-D FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-D FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        ...flushAndDelete([
          'KUBE-EXTERNAL-SERVICES',
          'KUBE-FORWARD',
          'KUBE-NODEPORTS',
          'KUBE-PROXY-CANARY',
          'KUBE-PROXY-FIREWALL',
          'KUBE-SERVICES',
        ]),
        'COMMIT',
        '*nat',
        '-D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-D POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        ...flushAndDelete([
          'KUBE-EXT-UQMCRMJZLI3FTLDP',
          'KUBE-MARK-DROP',
          'KUBE-MARK-MASQ',
          'KUBE-NODEPORTS',
          'KUBE-POSTROUTING',
          'KUBE-PROXY-CANARY',
          'KUBE-SEP-IT2ZTR26TO4XFPTO',
          'KUBE-SERVICES',
          'KUBE-SVC-NPX46M4PTMTKRN6Y',
          'KUBE-SVC-UQMCRMJZLI3FTLDP',
        ]),
        'COMMIT',
        '',
      ].join('\n'),
    );
    for (const kept of [
      'KUBE-FIREWALL',
      'KUBE-KUBELET-CANARY',
      'KUBE-IPTABLES-HINT',
      'KUBE-ROUTER-',
      'KUBE-NWPLCY-',
      'KUBE-POD-FW-',
      'FLANNEL-',
      'CILIUM_',
      'cali-',
    ]) {
      expect(batch, kept).not.toContain(kept);
    }
  });

  it('keeps a kube-proxy chain that a chain of another owner still jumps to, and what it jumps to', () => {
    const input = [
      '*nat',
      ':POSTROUTING ACCEPT [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':CUSTOM-SNAT - [0:0]',
      '-A POSTROUTING -j KUBE-POSTROUTING',
      '-A CUSTOM-SNAT -j KUBE-MARK-MASQ',
      '-A KUBE-POSTROUTING -j KUBE-MARK-MASQ',
      'COMMIT',
      '',
    ].join('\n');
    expect(call('kube-proxy-cleanup', 'chain_removal_batch "$KUBE_PROXY_CHAINS"', input)).toBe(
      [
        '#KEPT nat KUBE-MARK-MASQ CUSTOM-SNAT',
        '*nat',
        '-D POSTROUTING -j KUBE-POSTROUTING',
        '-F KUBE-POSTROUTING',
        '-X KUBE-POSTROUTING',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it("selects kube-router's network-policy chains and ipsets as their own step", () => {
    const batch = call('kube-proxy-cleanup', 'chain_removal_batch "$KUBE_ROUTER_CHAINS"', IPTABLES);
    expect(batch.split('\n').filter((l) => l.startsWith('-X '))).toEqual([
      '-X KUBE-NWPLCY-DEFAULT',
      '-X KUBE-POD-FW-4FYUSGPYAXZDA6WN',
      '-X KUBE-ROUTER-FORWARD',
      '-X KUBE-ROUTER-INPUT',
      '-X KUBE-ROUTER-OUTPUT',
    ]);
    expect(batch.split('\n').filter((l) => l.startsWith('-D '))).toEqual([
      '-D INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT',
      '-D FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD',
      '-D OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT',
    ]);
    expect(call('kube-proxy-cleanup', 'select_ipsets "$KUBE_ROUTER_IPSETS"', fixture('ipset-list-names.txt')).trim().split('\n')).toEqual([
      'KUBE-SRC-ECH4TYH5VFWKAMO3',
      'KUBE-DST-UQO6AVK3J3WBA2RL',
    ]);
  });
});
