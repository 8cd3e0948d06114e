/**
 * What a k3s node that ran Calico (manifest install) and k3s's embedded kube-proxy carries on the
 * host, made real in the node's namespace and root directory, so the node cleanup scripts remove
 * real things with real tools: Calico's CNI config and plugins, state directories, iptables chains
 * in both backends (with the jumps into them and an ipset a rule uses), its ipsets, BIRD's routes;
 * kube-proxy's and kube-router's chains; and what is not theirs and must stay (the kubelet's
 * KUBE-FIREWALL, a fail2ban chain and set, the generic CNI plugins). Shapes follow Calico's Felix
 * (chain and set names: projectcalico/calico felix/rules/static.go, felix/ipsets) and kube-proxy's
 * (kubernetes pkg/proxy/iptables/proxier.go), not copies of a real dump.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIpv4, parseCidr } from '../../lib/cidr.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import type { Scenario } from './fixture.ts';
import { inNetns, ip } from './netns.ts';
import { PORTMAP_PLUGIN } from './portmap.ts';

/** The tools a k3s node's host has, which the node preflight looks for (presence markers). */
export const HOST_TOOLS = ['bash', 'iptables-legacy-save', 'iptables-nft-save', 'iptables-save', 'ipset', 'ip'];

/** Calico's CNI plugins and the generic ones installed beside them (which must stay). */
const CALICO_PLUGINS = ['calico', 'calico-ipam'];
export const GENERIC_PLUGINS = ['loopback', 'portmap', 'host-local', 'bandwidth'];

/** The ipsets on a node: Calico's (Felix's IPAM pool sets), kube-router's, and a foreign one. */
export const HOST_IPSETS = {
  calico: ['cali40all-ipam-pools', 'cali40masq-ipam-pools'],
  kubeRouter: ['KUBE-DST-TESTPOD'],
  foreign: ['f2b-sshd'],
};

/** iptables chains by owner, as `iptables-save` lists them (table:chain). */
export const HOST_CHAINS = {
  calico: [
    'filter:cali-INPUT',
    'filter:cali-FORWARD',
    'filter:cali-OUTPUT',
    'filter:cali-wl-to-host',
    'nat:cali-PREROUTING',
    'nat:cali-POSTROUTING',
    'nat:cali-nat-outgoing',
  ],
  kubeProxy: [
    'filter:KUBE-SERVICES',
    'filter:KUBE-FORWARD',
    'nat:KUBE-SERVICES',
    'nat:KUBE-POSTROUTING',
    'nat:KUBE-NODEPORTS',
    'nat:KUBE-MARK-MASQ',
  ],
  kubeRouter: ['filter:KUBE-ROUTER-INPUT'],
  /** The kubelet's own chain and an administrator's: never removed. */
  foreign: ['filter:KUBE-FIREWALL', 'filter:f2b-sshd'],
};

/** The ruleset loaded into both iptables backends (`iptables-restore` input). */
function ruleset(): string {
  const chains = (table: string) =>
    Object.values(HOST_CHAINS)
      .flat()
      .filter((c) => c.startsWith(`${table}:`))
      .map((c) => `:${c.slice(table.length + 1)} - [0:0]`);
  return [
    '*filter',
    ...chains('filter'),
    '-A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT',
    '-A INPUT -j KUBE-ROUTER-INPUT',
    '-A INPUT -j KUBE-FIREWALL',
    '-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd',
    '-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
    '-A cali-INPUT -j cali-wl-to-host',
    '-A KUBE-ROUTER-INPUT -m set --match-set KUBE-DST-TESTPOD dst -j RETURN',
    '-A f2b-sshd -m set --match-set f2b-sshd src -j REJECT',
    'COMMIT',
    '*nat',
    ...chains('nat'),
    '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A cali-POSTROUTING -j cali-nat-outgoing',
    '-A cali-nat-outgoing -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    'COMMIT',
    '',
  ].join('\n');
}

/** Calico's IPAM block of the `index`-th node: a /26 of the first pool, as Calico hands them out. */
export function calicoBlock(config: ResolvedConfig, index: number): string {
  const pool = parseCidr(config.calico.ipPools?.[0] ?? '192.168.0.0/16')!;
  return `${formatIpv4(pool.first + index * 64)}/26`;
}

/** Writes the node's root directory and loads its network state. */
export function prepareNodeHost(config: ResolvedConfig, index: number, netns: string, root: string, scenario: Scenario): void {
  const write = (path: string, content: string, mode = 0o644) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content, { mode });
  };
  const node = config.cluster.nodes[index]!;
  // Presence markers for the node preflight (hostPath /usr/sbin); the Jobs that enter the host run
  // the machine's real tools, with the ones a scenario removes masked (pod-runner.ts).
  mkdirSync(join(root, 'usr', 'sbin'), { recursive: true });
  for (const tool of HOST_TOOLS.filter((t) => !(scenario.missingHostTools ?? []).includes(t))) {
    write(`usr/sbin/${tool}`, '#!/bin/sh\nexit 0\n', 0o755);
  }
  // Calico's CNI config as its install-cni container writes it, and the plugins.
  write(
    'etc/cni/net.d/10-calico.conflist',
    `${JSON.stringify(
      {
        name: 'k8s-pod-network',
        cniVersion: '0.3.1',
        plugins: [
          {
            type: 'calico',
            datastore_type: 'kubernetes',
            nodename: node.name,
            mtu: 0,
            ipam: { type: 'calico-ipam' },
            kubernetes: { kubeconfig: '/etc/cni/net.d/calico-kubeconfig' },
          },
          { type: 'portmap', snat: true, capabilities: { portMappings: true } },
          { type: 'bandwidth', capabilities: { bandwidth: true } },
        ],
      },
      null,
      2,
    )}\n`,
  );
  write('etc/cni/net.d/calico-kubeconfig', 'apiVersion: v1\nkind: Config\n');
  for (const plugin of [...CALICO_PLUGINS, ...GENERIC_PLUGINS]) {
    write(`opt/cni/bin/${plugin}`, '#!/bin/sh\nexit 0\n', 0o755);
  }
  // The one generic plugin a chained config of Cilium's runs: the real one.
  copyFileSync(PORTMAP_PLUGIN, join(root, 'opt', 'cni', 'bin', 'portmap'));
  write('var/lib/calico/nodename', node.name);
  write('var/lib/calico/mtu', '1430');
  mkdirSync(join(root, 'run', 'calico'), { recursive: true });
  write('etc/resolv.conf', 'nameserver 185.12.64.1\n');

  for (const set of Object.values(HOST_IPSETS).flat()) {
    inNetns(netns, ['ipset', 'create', set, set.startsWith('f2b') ? 'hash:ip' : 'hash:net']);
  }
  inNetns(netns, ['iptables-nft-restore'], ruleset());
  inNetns(netns, ['iptables-legacy-restore'], ruleset());
  // BIRD's routes: the blackhole for this node's own block, and on a shared layer-2 network the
  // other nodes' blocks via them (with IPIP they go through tunl0, which this kernel may lack; so
  // does every route of a node that is not on the segment).
  ip('-n', netns, 'route', 'add', 'blackhole', calicoBlock(config, index), 'proto', 'bird');
  if (config.cluster.profile !== 'hetzner-cloud' && !scenario.offLink?.includes(node.name)) {
    config.cluster.nodes.forEach((peer, i) => {
      if (i !== index) {
        ip('-n', netns, 'route', 'add', calicoBlock(config, i), 'via', peer.internalIP, 'dev', 'eth1', 'proto', 'bird');
      }
    });
  }
}
