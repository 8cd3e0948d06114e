/**
 * The network and file state of a k3s node that ran Calico (manifest install), k3s's embedded
 * kube-proxy and kube-router's network policy, with the kubelet's, Cilium's and an administrator's
 * rules beside them; every piece marked with its owner, so a test can load the whole state on one
 * host and everything but one owner's part on another, and compare.
 *
 * Shapes come from the owners' source, not from a copied dump:
 * - Calico (projectcalico/calico v3.26.0–v3.32.1, felix/): chain prefixes and the `cali:` rule hash
 *   comment (rules/rule_defs.go AllHistoricChainNamePrefixes, RuleHashPrefix); the chains of each
 *   table and the FORWARD pair Felix appends (rules/static.go StaticFilterForwardAppendRules; the two
 *   hashes as in fv/cali-iptables-dump.txt of v3.32.1); ipset names (ipsets/, LegacyV4IPSetNames);
 *   the pre-hash NAT rules (HistoricInsertedNATRuleRegex); the nftables dataplane's tables `ip
 *   calico` / `ip6 calico` and their base chains (nftables/table.go, v3.29+) and `arp calico-arp`
 *   (v3.32+); routes: BIRD's `proto bird` (12; projectcalico/bird sysdep/linux/netlink.c, blackhole
 *   from confd bird_aggr.cfg.template), Felix's blackhole and same-subnet routes with protocol 80
 *   (dataplanedefs; route_mgr.go calculateRouteProtocol in v3.32), VXLAN routes through
 *   vxlan.calico with DeviceRouteProtocol 3 (config/config_params.go). Other hashes in comments are
 *   placeholders of Felix's form.
 * - kube-proxy (kubernetes pkg/proxy/iptables/proxier.go, pkg/proxy/nftables/proxier.go: tables
 *   `ip kube-proxy` / `ip6 kube-proxy`); the kubelet (pkg/kubelet/kubelet_network_linux.go:
 *   KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT); kube-router's netpol chains and
 *   KUBE-SRC-/KUBE-DST- sets; Cilium's CILIUM_* chains with their `cilium-feeder:` jumps.
 *
 * Stand-ins, because this kernel lacks the module: `tunl0` is a bridge device (no CONFIG_NET_IPIP),
 * `eth0` one end of a veth pair; /run/calico/cgroup is a tmpfs mount (Calico mounts cgroup2 there).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NodeHost } from './node-host.ts';

export type Owner = 'calico' | 'kube-proxy' | 'kube-router' | 'other';
export type Family = 4 | 6;
export type Backend = 'legacy' | 'nft';

export interface NodeStateOptions {
  /** The iptables backends holding the iptables rules (both: a node where both were used). */
  readonly backends: readonly Backend[];
  /** A dual-stack node: IPv6 rules, sets, tables and routes beside the IPv4 ones. */
  readonly ipv6: boolean;
  readonly calico?: {
    readonly dataplane: 'iptables' | 'nftables';
    readonly backend: 'bird' | 'vxlan';
    /** Chains and rules of Felix releases before hash comments (felix-, califw-, ...). */
    readonly historic?: boolean;
    /** An administrator's chain jumps to a Calico chain (which must stay). */
    readonly referencedByUser?: boolean;
    /** v3.32+: `table arp calico-arp` in either dataplane. */
    readonly arpTable?: boolean;
  };
  readonly kubeProxy: 'iptables' | 'nftables';
  /** How many Services kube-proxy serves (each with one endpoint); 2 by default. */
  readonly services?: number;
}

export interface IptablesRow {
  readonly owner: Owner;
  readonly family: Family;
  readonly table: string;
  /** `:CHAIN` declaration or `-A ...` rule. */
  readonly line: string;
}

export interface NodeState {
  readonly backends: readonly Backend[];
  readonly iptables: readonly IptablesRow[];
  /** `nft -f` input per owner. */
  readonly nft: readonly { owner: Owner; text: string }[];
  /** `ipset restore` lines (create, add). */
  readonly ipsets: readonly { owner: Owner; line: string }[];
  /** `ip` arguments, in order: links, addresses, routes. */
  readonly ip: readonly { owner: Owner; args: readonly string[] }[];
  readonly files: readonly { owner: Owner; path: string; content?: string; mode?: number }[];
  /** tmpfs mount points. */
  readonly mounts: readonly { owner: Owner; path: string }[];
}

const NODE = { v4: '192.168.1.11', v6: '2001:db8:1::11' };
const PEERS = [
  { v4: '192.168.1.12', v6: '2001:db8:1::12', block4: '10.42.2.0/26', block6: 'fd00:10:42::200/122' },
  { v4: '192.168.1.13', v6: '2001:db8:1::13', block4: '10.42.3.0/26', block6: 'fd00:10:42::300/122' },
];
const OWN_BLOCK = { v4: '10.42.1.0/26', v6: 'fd00:10:42::100/122' };
const POOL = { v4: '10.42.0.0/16', v6: 'fd00:10:42::/48' };

const set = (family: Family, name: string) => (family === 4 ? `cali40${name}` : `cali60${name}`);

/** Felix's chains and rules of one family (iptables dataplane). */
function calicoIptables(family: Family, opts: NonNullable<NodeStateOptions['calico']>): [string, string][] {
  const wl = 'cali1a2b3c4d5e6';
  const rows: [string, string][] = [];
  const chains = (table: string, names: string[]) => names.forEach((n) => rows.push([table, `:${n}`]));
  chains('raw', ['cali-PREROUTING', 'cali-OUTPUT', 'cali-rpf-skip', 'cali-from-host-endpoint', 'cali-to-host-endpoint']);
  rows.push(
    ['raw', '-A cali-PREROUTING -m comment --comment "cali:XFX5xbM8B9qR10JG" -j MARK --set-xmark 0x0/0xf0000'],
    ['raw', '-A cali-PREROUTING -i cali+ -m comment --comment "cali:EWMPb0zVROM-woQp" -j MARK --set-xmark 0x40000/0x40000'],
    ['raw', '-A cali-PREROUTING -m mark --mark 0x40000/0x40000 -m comment --comment "cali:PWuxTAIaFCtsg5Qa" -j cali-rpf-skip'],
    ['raw', '-A cali-PREROUTING -m mark --mark 0x0/0x40000 -m comment --comment "cali:fSSbGND7dgyemWU7" -j cali-from-host-endpoint'],
    ['raw', '-A cali-OUTPUT -m comment --comment "cali:njdnLwYeGqBJyMxW" -j MARK --set-xmark 0x0/0xf0000'],
    ['raw', '-A cali-OUTPUT -m comment --comment "cali:rz86uTUcEZAfFsh7" -j cali-to-host-endpoint'],
  );
  chains('mangle', ['cali-PREROUTING', 'cali-POSTROUTING', 'cali-from-host-endpoint']);
  rows.push(
    ['mangle', '-A cali-PREROUTING -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "cali:6BJqBjBC7crtA-7-" -j ACCEPT'],
    ['mangle', '-A cali-PREROUTING -m comment --comment "cali:KX7AGNd6rMcDUai6" -j cali-from-host-endpoint'],
  );
  chains('nat', ['cali-PREROUTING', 'cali-POSTROUTING', 'cali-OUTPUT', 'cali-fip-dnat', 'cali-fip-snat', 'cali-nat-outgoing']);
  rows.push(
    ['nat', '-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat'],
    ['nat', '-A cali-OUTPUT -m comment --comment "cali:GBTAv2p5CwevEyJm" -j cali-fip-dnat'],
    ['nat', '-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-fip-snat'],
    ['nat', '-A cali-POSTROUTING -m comment --comment "cali:nYKhEzDlr11Jccal" -j cali-nat-outgoing'],
    [
      'nat',
      `-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set ${set(family, 'masq-ipam-pools')} src -m set ! --match-set ${set(family, 'all-ipam-pools')} dst -j MASQUERADE --random-fully`,
    ],
  );
  if (family === 4 && opts.backend === 'bird') {
    rows.push([
      'nat',
      '-A cali-POSTROUTING -o tunl0 -m comment --comment "cali:SXWvdsbh4Mw7wOln" -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE --random-fully',
    ]);
  }
  chains('filter', [
    'cali-FORWARD',
    'cali-INPUT',
    'cali-OUTPUT',
    'cali-cidr-block',
    'cali-from-hep-forward',
    'cali-from-host-endpoint',
    'cali-from-wl-dispatch',
    'cali-to-hep-forward',
    'cali-to-host-endpoint',
    'cali-to-wl-dispatch',
    'cali-wl-to-host',
    `cali-tw-${wl}`,
    `cali-fw-${wl}`,
    'cali-pri-kns.default',
    'cali-pro-kns.default',
  ]);
  // Only IPv4 has IPIP; IPv6 with BIRD is routed without encapsulation.
  if (opts.backend === 'bird' && family === 4) {
    rows.push([
      'filter',
      `-A cali-INPUT -p 4 -m comment --comment "cali:PajejrV4aFdkZojI" -m set ! --match-set ${set(family, 'all-hosts-net')} src -m addrtype --dst-type LOCAL -j DROP`,
    ]);
  } else if (opts.backend === 'vxlan') {
    rows.push([
      'filter',
      `-A cali-INPUT -p udp -m comment --comment "cali:5yAwnEbRHoJ5_Y5q" -m udp --dport 4789 -m set ! --match-set ${set(family, 'all-vxlan-net')} src -m addrtype --dst-type LOCAL -j DROP`,
    ]);
  }
  rows.push(
    ['filter', '-A cali-FORWARD -m comment --comment "cali:vjrMJCRpqwy5oRoX" -j MARK --set-xmark 0x0/0xe0000'],
    ['filter', '-A cali-FORWARD -m mark --mark 0x0/0x10000 -m comment --comment "cali:A_sPAO0mcxbT9mOV" -j cali-from-hep-forward'],
    ['filter', '-A cali-FORWARD -i cali+ -m comment --comment "cali:8ZoYfO5HKXWbB3pk" -j cali-from-wl-dispatch'],
    ['filter', '-A cali-FORWARD -o cali+ -m comment --comment "cali:jdEuaPBe14V2hutn" -j cali-to-wl-dispatch'],
    ['filter', '-A cali-FORWARD -m comment --comment "cali:12bc6HljsMKsmfr-" -j cali-to-hep-forward'],
    ['filter', '-A cali-FORWARD -m comment --comment "cali:NOSxoaGx8OIstr1z" -j cali-cidr-block'],
    ['filter', '-A cali-INPUT -i cali+ -m comment --comment "cali:bpGx6GK3UpZsQrBC" -g cali-wl-to-host'],
    ['filter', '-A cali-INPUT -m mark --mark 0x10000/0x10000 -m comment --comment "cali:Pb8NaBb04GxJfJnq" -j ACCEPT'],
    ['filter', '-A cali-INPUT -m comment --comment "cali:kEqMLWQTqUHJI8Tp" -j cali-from-host-endpoint'],
    ['filter', '-A cali-OUTPUT -m mark --mark 0x10000/0x10000 -m comment --comment "cali:Mq1_rAdXXH3YkrzW" -j ACCEPT'],
    ['filter', '-A cali-OUTPUT -o cali+ -m comment --comment "cali:69FkRTJDvD5Vu6Vl" -j RETURN'],
    ['filter', '-A cali-OUTPUT -m comment --comment "cali:Nu_fu8ip7Gu5n-Hm" -j cali-to-host-endpoint'],
    ['filter', `-A cali-from-wl-dispatch -i ${wl} -m comment --comment "cali:BhxElnd0YgNalV-E" -g cali-fw-${wl}`],
    ['filter', `-A cali-to-wl-dispatch -o ${wl} -m comment --comment "cali:M6PkGhAeT0d3eRFE" -g cali-tw-${wl}`],
    ['filter', `-A cali-tw-${wl} -m comment --comment "cali:Ln2UXXlfiT6Qfm2B" -j cali-pri-kns.default`],
    ['filter', `-A cali-fw-${wl} -m comment --comment "cali:r9cVPF2mNjFSqwd0" -j cali-pro-kns.default`],
    [
      'filter',
      `-A cali-pri-kns.default -m comment --comment "cali:7Fnh7Pv3_98FtLW7" -m set --match-set ${set(family, 's:Rxjt7Vh0_qi7bYJ9FhA')} src -j MARK --set-xmark 0x10000/0x10000`,
    ],
    ['filter', '-A cali-wl-to-host -m comment --comment "cali:Ee9Sbo10IpVujdIY" -j cali-from-wl-dispatch'],
  );
  return rows;
}

/** Felix's jumps from the built-in chains (insert mode: before everyone else's). */
function calicoJumps(): [string, string][] {
  return [
    ['raw', '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING'],
    ['raw', '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT'],
    ['mangle', '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING'],
    ['mangle', '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING'],
    ['nat', '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING'],
    ['nat', '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT'],
    ['nat', '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING'],
    ['filter', '-A INPUT -m comment --comment "cali:Cz_u1IQiXIMmKD4c" -j cali-INPUT'],
    ['filter', '-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD'],
    ['filter', '-A OUTPUT -m comment --comment "cali:tVnHkvAo15HuiPy0" -j cali-OUTPUT'],
  ];
}

/** Felix's FORWARD pair, appended after everyone else's rules; no jump into a Calico chain. */
const CALICO_APPENDED: [string, string][] = [
  [
    'filter',
    '-A FORWARD -m comment --comment "cali:S93hcgKJrXEqnTfs" -m comment --comment "Policy explicitly accepted packet." -m mark --mark 0x10000/0x10000 -j ACCEPT',
  ],
  ['filter', '-A FORWARD -m comment --comment "cali:mp77cMpurHhyjLrM" -j MARK --set-xmark 0x10000/0x10000'],
];

/** Chains and rules of Felix releases before the `cali-` prefix and hash comments. */
function calicoHistoric(): [string, string][] {
  return [
    ['filter', ':felix-INPUT'],
    ['filter', ':felix-FORWARD'],
    ['filter', ':califw-cali1a2b3c4d5e6'],
    ['filter', ':calitw-cali1a2b3c4d5e6'],
    ['filter', ':califh-eth0'],
    ['filter', ':calith-eth0'],
    ['filter', ':calipi-default'],
    ['filter', ':calipo-default'],
    ['filter', '-A INPUT -j felix-INPUT'],
    ['filter', '-A FORWARD -j felix-FORWARD'],
    ['filter', '-A felix-FORWARD -i cali1a2b3c4d5e6 -g califw-cali1a2b3c4d5e6'],
    ['filter', '-A felix-FORWARD -o cali1a2b3c4d5e6 -g calitw-cali1a2b3c4d5e6'],
    ['filter', '-A felix-INPUT -i eth0 -g califh-eth0'],
    ['filter', '-A califw-cali1a2b3c4d5e6 -j calipo-default'],
    ['filter', '-A calitw-cali1a2b3c4d5e6 -j calipi-default'],
    ['nat', '-A POSTROUTING -m set --match-set felix-masq-ipam-pools src -m set ! --match-set felix-all-ipam-pools dst -j MASQUERADE'],
    ['nat', '-A POSTROUTING -o tunl0 -m addrtype ! --src-type LOCAL --limit-iface-out -m addrtype --src-type LOCAL -j MASQUERADE'],
  ];
}

/** A stable 16-character chain suffix, shaped like kube-proxy's hashes. */
const suffix = (kind: string, i: number) => `${kind}${i.toString(36).toUpperCase()}`.padEnd(16, 'Q').slice(0, 16);

function serviceAddress(family: Family, i: number): string {
  return family === 4 ? `10.43.${i >> 8}.${i & 255}` : `fd00:10:43::${i.toString(16)}`;
}
function endpointAddress(family: Family, i: number): string {
  return family === 4 ? `10.42.${1 + ((i >> 8) % 3)}.${i & 255 || 1}` : `fd00:10:42::1:${i.toString(16)}`;
}

/** kube-proxy's iptables mode: the built-in jumps, the service chains, one endpoint each. */
function kubeProxyIptables(family: Family, services: number): [string, string][] {
  const slash = family === 4 ? '/32' : '/128';
  const rows: [string, string][] = [
    ['mangle', ':KUBE-PROXY-CANARY'],
    ['nat', ':KUBE-PROXY-CANARY'],
    ['filter', ':KUBE-PROXY-CANARY'],
    ['filter', ':KUBE-EXTERNAL-SERVICES'],
    ['filter', ':KUBE-FORWARD'],
    ['filter', ':KUBE-NODEPORTS'],
    ['filter', ':KUBE-PROXY-FIREWALL'],
    ['filter', ':KUBE-SERVICES'],
    ['nat', ':KUBE-MARK-MASQ'],
    ['nat', ':KUBE-NODEPORTS'],
    ['nat', ':KUBE-POSTROUTING'],
    ['nat', ':KUBE-SERVICES'],
    ['filter', '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'],
    ['filter', '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS'],
    [
      'filter',
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    ],
    ['filter', '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'],
    ['filter', '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'],
    ['filter', '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    ['filter', '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL'],
    ['filter', '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    ['filter', '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'],
    ['filter', '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT'],
    ['nat', '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    ['nat', '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'],
    ['nat', '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'],
    ['nat', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'],
    ['nat', '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN'],
    ['nat', '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0'],
    ['nat', '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'],
  ];
  for (let i = 1; i <= services; i++) {
    const svc = `KUBE-SVC-${suffix('S', i)}`;
    const sep = `KUBE-SEP-${suffix('E', i)}`;
    const ip = serviceAddress(family, i);
    const ep = endpointAddress(family, i);
    const name = i === 1 ? 'kube-system/kube-dns:dns' : `default/app-${i}:http`;
    const port = i === 1 ? 53 : 80;
    const proto = i === 1 ? 'udp' : 'tcp';
    rows.push(
      ['nat', `:${svc}`],
      ['nat', `:${sep}`],
      [
        'nat',
        `-A KUBE-SERVICES -d ${ip}${slash} -p ${proto} -m comment --comment "${name} cluster IP" -m ${proto} --dport ${port} -j ${svc}`,
      ],
      [
        'nat',
        `-A ${svc} ! -s ${family === 4 ? POOL.v4 : POOL.v6} -d ${ip}${slash} -p ${proto} -m comment --comment "${name} cluster IP" -m ${proto} --dport ${port} -j KUBE-MARK-MASQ`,
      ],
      ['nat', `-A ${svc} -m comment --comment "${name} -> ${family === 4 ? ep : `[${ep}]`}:${port}" -j ${sep}`],
      ['nat', `-A ${sep} -s ${ep}${slash} -m comment --comment "${name}" -j KUBE-MARK-MASQ`],
      [
        'nat',
        `-A ${sep} -p ${proto} -m comment --comment "${name}" -m ${proto} -j DNAT --to-destination ${family === 4 ? ep : `[${ep}]`}:${port}`,
      ],
    );
  }
  rows.push([
    'nat',
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
  ]);
  return rows;
}

/** The kubelet's chains (not kube-proxy's: they stay with every proxy mode). */
function kubeletIptables(family: Family): [string, string][] {
  return [
    ['mangle', ':KUBE-IPTABLES-HINT'],
    ['mangle', ':KUBE-KUBELET-CANARY'],
    ['nat', ':KUBE-KUBELET-CANARY'],
    ['filter', ':KUBE-KUBELET-CANARY'],
    ...(family === 4
      ? ([
          ['filter', ':KUBE-FIREWALL'],
          ['filter', '-A INPUT -j KUBE-FIREWALL'],
          ['filter', '-A OUTPUT -j KUBE-FIREWALL'],
          [
            'filter',
            '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
          ],
        ] as [string, string][])
      : []),
  ];
}

/**
 * kube-router's network-policy chains (k3s's embedded controller); it marks with 0x10000 too. Its
 * sets are IPv4 ones here.
 */
function kubeRouterIptables(family: Family): [string, string][] {
  const sets = ['KUBE-SRC-CBLK5JQKR3FZMKFA', 'KUBE-DST-CBLK5JQKR3FZMKFA'];
  return [
    ['filter', ':KUBE-ROUTER-FORWARD'],
    ['filter', ':KUBE-ROUTER-INPUT'],
    ['filter', ':KUBE-ROUTER-OUTPUT'],
    ['filter', ':KUBE-NWPLCY-DEFAULT'],
    ['filter', ':KUBE-POD-FW-QWERTYUIOPASDFGH'],
    ['filter', '-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT'],
    ['filter', '-A FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD'],
    ['filter', '-A OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT'],
    [
      'filter',
      '-A KUBE-NWPLCY-DEFAULT -m comment --comment "rule to mark traffic matching a network policy" -j MARK --set-xmark 0x10000/0x10000',
    ],
    [
      'filter',
      `-A KUBE-ROUTER-FORWARD${family === 4 ? ` -m set --match-set ${sets[1]} dst` : ' -o cali+'} -j KUBE-POD-FW-QWERTYUIOPASDFGH`,
    ],
    ['filter', `-A KUBE-POD-FW-QWERTYUIOPASDFGH${family === 4 ? ` -m set --match-set ${sets[0]} src` : ''} -j KUBE-NWPLCY-DEFAULT`],
  ];
}

/** Cilium's chains, fed from the built-in ones (a node where the agent already runs). */
function ciliumIptables(): [string, string][] {
  const feed = (table: string, builtin: string, chain: string): [string, string] => [
    table,
    `-A ${builtin} -m comment --comment "cilium-feeder: ${chain}" -j ${chain}`,
  ];
  return [
    ['raw', ':CILIUM_PRE_raw'],
    ['raw', ':CILIUM_OUTPUT_raw'],
    ['mangle', ':CILIUM_PRE_mangle'],
    ['mangle', ':CILIUM_POST_mangle'],
    ['nat', ':CILIUM_PRE_nat'],
    ['nat', ':CILIUM_OUTPUT_nat'],
    ['nat', ':CILIUM_POST_nat'],
    ['filter', ':CILIUM_INPUT'],
    ['filter', ':CILIUM_FORWARD'],
    ['filter', ':CILIUM_OUTPUT'],
    feed('raw', 'PREROUTING', 'CILIUM_PRE_raw'),
    feed('raw', 'OUTPUT', 'CILIUM_OUTPUT_raw'),
    feed('mangle', 'PREROUTING', 'CILIUM_PRE_mangle'),
    feed('mangle', 'POSTROUTING', 'CILIUM_POST_mangle'),
    feed('nat', 'PREROUTING', 'CILIUM_PRE_nat'),
    feed('nat', 'OUTPUT', 'CILIUM_OUTPUT_nat'),
    feed('nat', 'POSTROUTING', 'CILIUM_POST_nat'),
    feed('filter', 'INPUT', 'CILIUM_INPUT'),
    feed('filter', 'FORWARD', 'CILIUM_FORWARD'),
    feed('filter', 'OUTPUT', 'CILIUM_OUTPUT'),
    ['filter', '-A CILIUM_FORWARD -o cilium_host -m comment --comment "cilium: any->cluster on cilium_host forward accept" -j ACCEPT'],
    ['filter', '-A CILIUM_INPUT -m mark --mark 0x200/0xf00 -m comment --comment "cilium: ACCEPT for proxy traffic" -j ACCEPT'],
  ];
}

/** An administrator's rules: fail2ban, an SSH allow rule whose comment names Calico, an audit chain. */
function adminIptables(family: Family): [string, string][] {
  return [
    ['filter', ':f2b-sshd'],
    ['filter', ':admin-audit'],
    ['filter', '-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd'],
    ['filter', '-A INPUT -p tcp -m tcp --dport 179 -m comment --comment "calico bgp peers (kept for the audit)" -j ACCEPT'],
    ['filter', '-A FORWARD -j admin-audit'],
    ['filter', `-A f2b-sshd -m set --match-set ${family === 4 ? 'f2b-sshd' : 'f2b-sshd6'} src -j REJECT`],
    ['filter', '-A f2b-sshd -j RETURN'],
  ];
}

/** Felix's nftables dataplane: one table per family, its base chains hooked, the pool's masquerade. */
function calicoNftables(family: Family): string {
  const fam = family === 4 ? 'ip' : 'ip6';
  const addr = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const pool = family === 4 ? POOL.v4 : POOL.v6;
  const base = (name: string, type: string, hook: string, priority: string, body = '') =>
    `  chain ${name} {\n    type ${type} hook ${hook} priority ${priority}; policy accept;\n${body}  }\n`;
  return [
    `table ${fam} calico {\n`,
    `  set ${set(family, 'masq-ipam-pools')} {\n    type ${addr}\n    flags interval\n    elements = { ${pool} }\n  }\n`,
    `  set ${set(family, 'all-ipam-pools')} {\n    type ${addr}\n    flags interval\n    elements = { ${pool} }\n  }\n`,
    `  chain filter-cali-FORWARD {\n    meta mark & 0x00010000 == 0x00010000 accept\n  }\n`,
    `  chain nat-cali-nat-outgoing {\n    ${fam} saddr @${set(family, 'masq-ipam-pools')} ${fam} daddr != @${set(family, 'all-ipam-pools')} masquerade fully-random\n  }\n`,
    base('filter-INPUT', 'filter', 'input', 'filter'),
    base('filter-FORWARD', 'filter', 'forward', 'filter', '    jump filter-cali-FORWARD\n'),
    base('filter-OUTPUT', 'filter', 'output', 'filter'),
    base('nat-PREROUTING', 'nat', 'prerouting', 'dstnat'),
    base('nat-POSTROUTING', 'nat', 'postrouting', 'srcnat + 10', '    jump nat-cali-nat-outgoing\n'),
    base('mangle-PREROUTING', 'filter', 'prerouting', 'mangle'),
    base('raw-PREROUTING', 'filter', 'prerouting', 'raw'),
    base('raw-OUTPUT', 'filter', 'output', 'raw'),
    '}\n',
  ].join('');
}

/** kube-proxy's nftables mode (one Service shown): its table per family. */
function kubeProxyNftables(family: Family): string {
  const fam = family === 4 ? 'ip' : 'ip6';
  const svc = serviceAddress(family, 10);
  const ep = endpointAddress(family, 5);
  const endpoint = `endpoint-5OJB2KTY-kube-system/kube-dns/udp/dns__${family === 4 ? ep : 'v6'}/53`;
  return [
    `table ${fam} kube-proxy {\n  comment "rules for kube-proxy"\n`,
    `  set cluster-ips {\n    type ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'}\n    comment "Active ClusterIPs"\n    elements = { ${svc} }\n  }\n`,
    '  chain mark-for-masquerade {\n    meta mark set meta mark | 0x00004000\n  }\n',
    '  chain masquerading {\n    meta mark & 0x00004000 == 0 return\n    meta mark set meta mark ^ 0x00004000\n    masquerade fully-random\n  }\n',
    `  chain ${endpoint} {\n    ${fam} saddr ${ep} jump mark-for-masquerade\n    meta l4proto udp dnat to ${family === 4 ? ep : `[${ep}]`}:53\n  }\n`,
    `  chain service-ULMVA6XW-kube-system/kube-dns/udp/dns {\n    ${fam} daddr ${svc} ${fam} saddr != ${family === 4 ? POOL.v4 : POOL.v6} jump mark-for-masquerade\n    goto ${endpoint}\n  }\n`,
    `  chain services {\n    ${fam} daddr ${svc} meta l4proto udp th dport 53 goto service-ULMVA6XW-kube-system/kube-dns/udp/dns\n  }\n`,
    '  chain filter-prerouting {\n    type filter hook prerouting priority dstnat - 10; policy accept;\n  }\n',
    '  chain nat-prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    jump services\n  }\n',
    '  chain nat-output {\n    type nat hook output priority -100; policy accept;\n    jump services\n  }\n',
    '  chain nat-postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n    jump masquerading\n  }\n',
    '}\n',
  ].join('');
}

/** The node's state for these options. */
export function buildNodeState(options: NodeStateOptions): NodeState {
  const families: Family[] = options.ipv6 ? [4, 6] : [4];
  const calico = options.calico;
  const services = options.services ?? 2;
  const iptables: IptablesRow[] = [];
  const push = (owner: Owner, family: Family, rows: [string, string][]) =>
    rows.forEach(([table, line]) => iptables.push({ owner, family, table, line }));
  for (const family of families) {
    const felix = calico?.dataplane === 'iptables';
    if (felix) {
      push('calico', family, calicoIptables(family, calico));
      if (calico.historic && family === 4) {
        push('calico', family, calicoHistoric());
      }
      push('calico', family, calicoJumps());
    }
    push('other', family, ciliumIptables());
    push('kube-router', family, kubeRouterIptables(family));
    if (options.kubeProxy === 'iptables') {
      push('kube-proxy', family, kubeProxyIptables(family, services));
    }
    push('other', family, kubeletIptables(family));
    push('other', family, adminIptables(family));
    if (felix && calico.referencedByUser) {
      // The chain an administrator's rule jumps to must stay, so it is not Calico's to remove.
      push('other', family, [
        ['filter', ':cali-cidr-block'],
        ['filter', '-A admin-audit -j cali-cidr-block'],
      ]);
    }
    if (felix) {
      push('calico', family, CALICO_APPENDED);
    }
  }

  const ipsets: { owner: Owner; line: string }[] = [];
  const ipset = (owner: Owner, name: string, type: string, family: Family, members: string[]) => {
    ipsets.push({ owner, line: `create ${name} ${type} family ${family === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem 1048576` });
    members.forEach((m) => ipsets.push({ owner, line: `add ${name} ${m}` }));
  };
  const hosts = { 4: [NODE.v4, ...PEERS.map((p) => p.v4)], 6: [NODE.v6, ...PEERS.map((p) => p.v6)] };
  if (calico?.dataplane === 'iptables') {
    for (const family of families) {
      ipset('calico', set(family, 'all-ipam-pools'), 'hash:net', family, [family === 4 ? POOL.v4 : POOL.v6]);
      ipset('calico', set(family, 'masq-ipam-pools'), 'hash:net', family, [family === 4 ? POOL.v4 : POOL.v6]);
      if (calico.backend === 'vxlan' || family === 4) {
        ipset('calico', set(family, calico.backend === 'bird' ? 'all-hosts-net' : 'all-vxlan-net'), 'hash:net', family, hosts[family]);
      }
      ipset('calico', set(family, 'this-host'), 'hash:ip', family, [family === 4 ? NODE.v4 : NODE.v6]);
      ipset('calico', set(family, 's:Rxjt7Vh0_qi7bYJ9FhA'), 'hash:ip', family, [endpointAddress(family, 5)]);
    }
    if (calico.historic) {
      ipset('calico', 'felix-all-ipam-pools', 'hash:net', 4, [POOL.v4]);
      ipset('calico', 'felix-masq-ipam-pools', 'hash:net', 4, [POOL.v4]);
    }
  }
  ipset('kube-router', 'KUBE-SRC-CBLK5JQKR3FZMKFA', 'hash:ip', 4, [endpointAddress(4, 5)]);
  ipset('kube-router', 'KUBE-DST-CBLK5JQKR3FZMKFA', 'hash:ip', 4, [endpointAddress(4, 6)]);
  ipset('other', 'f2b-sshd', 'hash:ip', 4, ['203.0.113.7']);
  if (options.ipv6) {
    ipset('other', 'f2b-sshd6', 'hash:ip', 6, ['2001:db8:ffff::7']);
  }

  const nft: { owner: Owner; text: string }[] = [
    {
      owner: 'other',
      text: 'table inet filter {\n  chain input {\n    type filter hook input priority filter; policy accept;\n  }\n  chain forward {\n    type filter hook forward priority filter; policy accept;\n  }\n}\n',
    },
  ];
  if (calico?.dataplane === 'nftables') {
    families.forEach((f) => nft.push({ owner: 'calico', text: calicoNftables(f) }));
  }
  if (calico?.arpTable) {
    nft.push({
      owner: 'calico',
      text: 'table arp calico-arp {\n  chain filter-OUTPUT {\n    type filter hook output priority filter; policy accept;\n  }\n}\n',
    });
  }
  if (options.kubeProxy === 'nftables') {
    families.forEach((f) => nft.push({ owner: 'kube-proxy', text: kubeProxyNftables(f) }));
  }

  return {
    backends: options.backends,
    iptables,
    ipsets,
    nft,
    ip: ipCommands(options),
    files: nodeFiles(),
    mounts: [{ owner: 'calico', path: '/run/calico/cgroup' }],
  };
}

/** Links, addresses and routes, in the order they are made. */
function ipCommands(options: NodeStateOptions): { owner: Owner; args: readonly string[] }[] {
  const out: { owner: Owner; args: readonly string[] }[] = [];
  const add = (owner: Owner, ...args: string[]) => out.push({ owner, args });
  const v6 = options.ipv6;
  add('other', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'uplink');
  add('other', 'link', 'set', 'uplink', 'up');
  add('other', 'link', 'set', 'eth0', 'up');
  add('other', 'addr', 'add', `${NODE.v4}/24`, 'dev', 'eth0');
  add('other', 'route', 'add', 'default', 'via', '192.168.1.1', 'dev', 'eth0', 'proto', 'static');
  add('other', 'route', 'add', '10.100.0.0/16', 'via', '192.168.1.254', 'dev', 'eth0', 'proto', '186');
  if (v6) {
    add('other', 'addr', 'add', `${NODE.v6}/64`, 'dev', 'eth0', 'nodad');
    add('other', '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1', 'dev', 'eth0', 'proto', 'static');
  }
  add('other', 'link', 'add', 'cilium_host', 'type', 'veth', 'peer', 'name', 'cilium_net');
  add('other', 'link', 'set', 'cilium_net', 'up');
  add('other', 'link', 'set', 'cilium_host', 'up');
  add('other', 'addr', 'add', '10.244.1.1/32', 'dev', 'cilium_host');
  add('other', 'route', 'add', '10.244.1.0/24', 'dev', 'cilium_host', 'proto', 'kernel', 'scope', 'link', 'src', '10.244.1.1');
  const calico = options.calico;
  if (!calico) {
    return out;
  }
  if (calico.backend === 'bird') {
    // The device stays (only a reboot removes it); Calico's address and its state are Calico's.
    add('other', 'link', 'add', 'tunl0', 'type', 'bridge');
    add('calico', 'addr', 'add', '10.42.1.1/32', 'dev', 'tunl0');
    add('calico', 'link', 'set', 'tunl0', 'up');
    add('calico', 'route', 'add', 'blackhole', OWN_BLOCK.v4, 'proto', 'bird');
    PEERS.forEach((p) => add('calico', 'route', 'add', p.block4, 'via', p.v4, 'dev', 'tunl0', 'proto', 'bird', 'onlink'));
    if (v6) {
      add('calico', '-6', 'route', 'add', 'blackhole', OWN_BLOCK.v6, 'proto', 'bird');
      PEERS.forEach((p) => add('calico', '-6', 'route', 'add', p.block6, 'via', p.v6, 'dev', 'eth0', 'proto', 'bird'));
    }
  } else {
    add(
      'calico',
      'link',
      'add',
      'vxlan.calico',
      'type',
      'vxlan',
      'id',
      '4096',
      'dstport',
      '4789',
      'local',
      NODE.v4,
      'dev',
      'eth0',
      'nolearning',
    );
    add('calico', 'addr', 'add', '10.42.1.3/32', 'dev', 'vxlan.calico');
    add('calico', 'link', 'set', 'vxlan.calico', 'up');
    add('calico', 'route', 'add', 'blackhole', OWN_BLOCK.v4, 'proto', '80');
    add('calico', 'route', 'add', PEERS[0]!.block4, 'via', '10.42.2.3', 'dev', 'vxlan.calico', 'onlink');
    // CrossSubnet: a peer on the same subnet is routed directly, by Felix, with its protocol.
    add('calico', 'route', 'add', PEERS[1]!.block4, 'via', PEERS[1]!.v4, 'dev', 'eth0', 'proto', '80');
    if (v6) {
      add(
        'calico',
        'link',
        'add',
        'vxlan-v6.calico',
        'type',
        'vxlan',
        'id',
        '4096',
        'dstport',
        '4789',
        'local',
        NODE.v6,
        'dev',
        'eth0',
        'nolearning',
      );
      add('calico', 'addr', 'add', 'fd00:10:42::103/128', 'dev', 'vxlan-v6.calico', 'nodad');
      add('calico', 'link', 'set', 'vxlan-v6.calico', 'up');
      add('calico', '-6', 'route', 'add', 'blackhole', OWN_BLOCK.v6, 'proto', '80');
      add('calico', '-6', 'route', 'add', PEERS[0]!.block6, 'via', 'fd00:10:42::203', 'dev', 'vxlan-v6.calico', 'onlink');
      add('calico', '-6', 'route', 'add', PEERS[1]!.block6, 'via', PEERS[1]!.v6, 'dev', 'eth0', 'proto', '80');
    }
  }
  return out;
}

/** The node's files: Calico's CNI config, plugins and state; the CNI files of others. */
function nodeFiles(): NodeState['files'] {
  const conflist = JSON.stringify({
    name: 'k8s-pod-network',
    cniVersion: '0.3.1',
    plugins: [
      { type: 'calico', datastore_type: 'kubernetes', nodename: 'node-1', ipam: { type: 'calico-ipam' } },
      { type: 'portmap', snat: true, capabilities: { portMappings: true } },
    ],
  });
  return [
    { owner: 'calico', path: '/etc/cni/net.d/10-calico.conflist', content: conflist },
    { owner: 'calico', path: '/etc/cni/net.d/10-calico.conflist.cilium_bak', content: conflist },
    { owner: 'calico', path: '/etc/cni/net.d/calico-kubeconfig', content: 'apiVersion: v1\nkind: Config\n' },
    { owner: 'calico', path: '/opt/cni/bin/calico', content: '#!/bin/sh\n', mode: 0o755 },
    { owner: 'calico', path: '/opt/cni/bin/calico-ipam', content: '#!/bin/sh\n', mode: 0o755 },
    { owner: 'calico', path: '/var/lib/calico/nodename', content: 'node-1' },
    { owner: 'calico', path: '/var/lib/calico/mtu', content: '1430' },
    { owner: 'calico', path: '/run/calico/cgroup' },
    {
      owner: 'other',
      path: '/etc/cni/net.d/05-cilium.conflist',
      content: '{"cniVersion":"0.3.1","name":"cilium","plugins":[{"type":"cilium-cni"}]}',
    },
    ...['loopback', 'portmap', 'host-local', 'bandwidth', 'cilium-cni'].map((p) => ({
      owner: 'other' as const,
      path: `/opt/cni/bin/${p}`,
      content: '#!/bin/sh\n',
      mode: 0o755,
    })),
    { owner: 'other', path: '/etc/hostname', content: 'node-1\n' },
    { owner: 'other', path: '/var/lib/rancher/k3s/agent/etc/containerd/config.toml', content: 'version = 2\n' },
  ];
}

/** The `iptables-restore` input of one family's rows. */
function restoreInput(rows: readonly IptablesRow[]): string {
  const tables = [...new Set(rows.map((r) => r.table))];
  return tables
    .map((t) => {
      const inTable = rows.filter((r) => r.table === t);
      const chains = [...new Set(inTable.filter((r) => r.line.startsWith(':')).map((r) => r.line))];
      return [
        '*' + t,
        ...chains.map((c) => `${c} - [0:0]`),
        ...inTable.filter((r) => r.line.startsWith('-A ')).map((r) => r.line),
        'COMMIT',
      ].join('\n');
    })
    .join('\n');
}

/** Loads the parts of `state` whose owner `keep` accepts onto the host, with the host's own tools. */
export function loadNodeState(host: NodeHost, state: NodeState, keep: (owner: Owner) => boolean): void {
  for (const file of state.files.filter((f) => keep(f.owner))) {
    const path = join(host.files, file.path);
    if (file.content === undefined) {
      mkdirSync(path, { recursive: true });
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.content);
      chmodSync(path, file.mode ?? 0o644);
    }
  }
  for (const mount of state.mounts.filter((m) => keep(m.owner))) {
    host.must(['mount', '-t', 'tmpfs', 'calico-cgroup', mount.path]);
  }
  for (const command of state.ip.filter((c) => keep(c.owner))) {
    host.must(['ip', ...command.args]);
  }
  const ipsets = state.ipsets.filter((s) => keep(s.owner)).map((s) => s.line);
  if (ipsets.length > 0) {
    host.must(['ipset', 'restore'], `${ipsets.join('\n')}\n`);
  }
  for (const family of [4, 6] as const) {
    const rows = state.iptables.filter((r) => r.family === family && keep(r.owner));
    if (rows.length === 0) {
      continue;
    }
    for (const backend of state.backends) {
      host.must([`${family === 4 ? 'iptables' : 'ip6tables'}-${backend}-restore`], `${restoreInput(rows)}\n`);
    }
  }
  for (const part of state.nft.filter((n) => keep(n.owner))) {
    host.must(['nft', '-f', '-'], part.text);
  }
}
