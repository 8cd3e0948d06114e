/**
 * The network the simulated nodes share: one namespace standing in for the private network (a
 * bridge the nodes' eth1 hang on), its gateway on Hetzner Cloud with the routes hcloud's cloud
 * controller creates (each node's pod CIDR via the node), and an address outside the cluster that
 * serves HTTP for `verify.externalURLs`. See docs/testing.md "The data path".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { formatIpv4, parseCidr, parseIpv4 } from '../../lib/cidr.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { nodePodCidr } from './fixture.ts';
import { deleteNetns, inNetns, ip, sysctl } from './netns.ts';

const HERE = new URL('.', import.meta.url).pathname;

/** The address the stand-in for the internet answers on (TEST-NET-3, RFC 5737). */
export const EXTERNAL_IP = '203.0.113.10';
/** Its name, which the CoreDNS stand-in answers as CoreDNS would by forwarding (a reserved name, RFC 2606). */
export const EXTERNAL_NAME = 'outside.example.net';

/** How a scenario breaks the network beyond the nodes. */
export interface NetworkFaults {
  /** Nodes whose pod CIDR has no route in the Hetzner network (hetzner-cloud): a route the cloud controller never made. */
  readonly missingRoutes?: readonly string[];
  /** The site outside answers nobody: a firewall drops everything to it. */
  readonly egressBlocked?: boolean;
  /** Nodes whose link to the network carries smaller packets than their interface says (node name → MTU). */
  readonly linkMtu?: Readonly<Record<string, number>>;
  /** A range whose packets the network drops between the nodes (Cilium's overlay, blocked). */
  readonly overlayBlocked?: string;
}

export interface SimNetwork {
  /** The namespace of the private network (and the internet beyond it). */
  readonly netns: string;
  /** The nodes' next hop for everything not on their own link. */
  readonly gateway: string;
  /** The prefix length a node's address has on eth1: 32 on Hetzner Cloud, 24 elsewhere. */
  readonly nodePrefix: number;
  readonly children: readonly ChildProcess[];
  /** NetworkFaults.linkMtu. */
  readonly linkMtu: Readonly<Record<string, number>>;
}

/** The first usable address of a CIDR (a Hetzner Cloud network's gateway). */
function gatewayOf(cidr: string): string {
  return formatIpv4(parseCidr(cidr)!.first + 1);
}

/** An address in the nodes' /24 that no node has (the router of a plain layer-2 network). */
function routerOf(config: ResolvedConfig): string {
  const address = parseIpv4(config.cluster.nodes[0]!.internalIP)!;
  const first = address - (address % 256);
  const taken = new Set(config.cluster.nodes.map((n) => n.internalIP));
  for (let host = 254; host > 0; host--) {
    if (!taken.has(formatIpv4(first + host))) {
      return formatIpv4(first + host);
    }
  }
  throw new Error('simulation: no free address for the router in the nodes’ /24');
}

/** Makes the network namespace; `stopNetwork` removes it. */
export function startNetwork(config: ResolvedConfig, netnsPrefix: string, externalStatus: number, faults: NetworkFaults = {}): SimNetwork {
  const netns = `${netnsPrefix}-net`;
  ip('netns', 'add', netns);
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  ip('-n', netns, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', netns, 'link', 'set', 'br0', 'up');
  sysctl(netns, 'net.ipv4.ip_forward', '1');
  const ipRange = config.cluster.network?.ipRange;
  const hetzner = config.cluster.profile === 'hetzner-cloud' && ipRange !== undefined;
  const gateway = hetzner ? gatewayOf(ipRange) : routerOf(config);
  ip('-n', netns, 'addr', 'add', `${gateway}/${hetzner ? parseCidr(ipRange)!.prefix : 24}`, 'dev', 'br0');
  if (hetzner && config.cluster.network?.cloudController) {
    // The routes hcloud's cloud controller adds to the network for each node's pod CIDR.
    config.cluster.nodes.forEach((node, i) => {
      if (!faults.missingRoutes?.includes(node.name)) {
        ip('-n', netns, 'route', 'add', nodePodCidr(config, i), 'via', node.internalIP);
      }
    });
  }
  ip('-n', netns, 'addr', 'add', `${EXTERNAL_IP}/32`, 'dev', 'lo');
  // The internet routes no private address back: only a masqueraded packet (from a node's
  // address) gets an answer. And a scenario's firewall drops everything to it.
  inNetns(
    netns,
    ['nft', '-f', '-'],
    [
      'table ip ccsim_internet {',
      '  chain in { type filter hook input priority 0; policy accept;',
      ...(faults.egressBlocked ? [`    ip daddr ${EXTERNAL_IP} drop`] : []),
      `    ip daddr ${EXTERNAL_IP} ip saddr != { ${config.cluster.nodes.map((n) => n.internalIP).join(', ')} } drop`,
      '  }',
      '}',
    ].join('\n'),
  );
  if (faults.overlayBlocked) {
    inNetns(
      netns,
      ['nft', '-f', '-'],
      [
        'table bridge ccsim_overlay {',
        `  chain forward { type filter hook forward priority 0; policy accept; ip saddr ${faults.overlayBlocked} drop; ip daddr ${faults.overlayBlocked} drop; }`,
        '}',
      ].join('\n'),
    );
  }
  const web = spawn(
    'ip',
    ['netns', 'exec', netns, process.execPath, `${HERE}/servers/http-server.mjs`, EXTERNAL_IP, '80', String(externalStatus)],
    { stdio: 'ignore' },
  );
  return { netns, gateway, nodePrefix: hetzner ? 32 : 24, children: [web], linkMtu: faults.linkMtu ?? {} };
}

/**
 * How a node's routing table deviates from a healthy one: `no-pod-route` reaches the other nodes
 * through the private network but everything else, their pods included, through a public eth0;
 * `off-link` holds its address as a /32 behind the router, so no other node is on-link.
 */
export type NodeRouting = 'healthy' | 'no-pod-route' | 'off-link';

/** A public interface that leads nowhere (TEST-NET-1, RFC 5737), for a node whose default route is not the private network. */
const PUBLIC = { address: '192.0.2.2/24', gateway: '192.0.2.1' };

/** Plugs a node's namespace into the network: its eth1, address and routes. */
export function attachNode(
  network: SimNetwork,
  nodeNetns: string,
  index: number,
  address: string,
  routing: NodeRouting = 'healthy',
  linkMtu?: number,
): void {
  const peer = `n${index}`;
  ip('-n', network.netns, 'link', 'add', peer, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', nodeNetns);
  ip('-n', network.netns, 'link', 'set', peer, 'master', 'br0');
  ip('-n', network.netns, 'link', 'set', peer, 'up');
  if (linkMtu !== undefined) {
    // The network carries less than the node's eth1 says and drops the rest silently: no ICMP
    // "fragmentation needed" comes back (a smaller MTU on the port would make the gateway send one,
    // and path MTU discovery would hide the fault). Bridged, to the gateway, and from it.
    inNetns(
      network.netns,
      ['nft', '-f', '-'],
      [
        `table bridge ccsim_mtu_${peer} {`,
        ...['forward', 'input', 'output'].map(
          (hook) =>
            `  chain ${hook} { type filter hook ${hook} priority 0; policy accept;${hook === 'output' ? '' : ` iifname "${peer}" meta length > ${linkMtu} drop;`}${hook === 'input' ? '' : ` oifname "${peer}" meta length > ${linkMtu} drop;`} }`,
        ),
        '}',
      ].join('\n'),
    );
  }
  ip('-n', nodeNetns, 'link', 'set', 'eth1', 'up');
  const prefix = routing === 'off-link' ? 32 : network.nodePrefix;
  ip('-n', nodeNetns, 'addr', 'add', `${address}/${prefix}`, 'dev', 'eth1');
  if (prefix === 32) {
    // As hc-utils configures a Hetzner Cloud server: the gateway on-link, everything else via it.
    ip('-n', nodeNetns, 'route', 'add', `${network.gateway}/32`, 'dev', 'eth1', 'scope', 'link');
  }
  if (routing === 'no-pod-route') {
    // Only the nodes' subnet through the private network; the rest, pods included, through eth0.
    const subnet = parseIpv4(address)! - (parseIpv4(address)! % 65536);
    ip('-n', nodeNetns, 'route', 'add', `${formatIpv4(subnet)}/16`, 'via', network.gateway, 'dev', 'eth1');
    // A veth whose other end stays in the node: a link with carrier that leads nowhere.
    ip('-n', nodeNetns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-p');
    ip('-n', nodeNetns, 'link', 'set', 'eth0-p', 'up');
    ip('-n', nodeNetns, 'link', 'set', 'eth0', 'up');
    ip('-n', nodeNetns, 'addr', 'add', PUBLIC.address, 'dev', 'eth0');
    ip('-n', nodeNetns, 'route', 'add', 'default', 'via', PUBLIC.gateway, 'dev', 'eth0');
    return;
  }
  ip('-n', nodeNetns, 'route', 'add', 'default', 'via', network.gateway, 'dev', 'eth1');
}

export function stopNetwork(network: SimNetwork): void {
  network.children.forEach((c) => c.kill());
  deleteNetns(network.netns);
}
