/**
 * The node preflight's route and MTU judgements on routing tables the kernel built: each case
 * makes a network namespace of its own, configures its interfaces and routes with iproute2 as the
 * provider's tooling does on a node, and judges what the kernel then shows in /proc/net/route and
 * /sys/class/net (read inside the namespace, as the host-network Job reads them).
 *
 * Needs root and iproute2. Without them it prints one SKIP line; under CILIUM_CUTOVER_REQUIRE_KERNEL=1
 * (.ci/run) it fails instead.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { interfaceFor, judgeMtu, judgePeerRoutes, parseRoutes, type PeerNode } from '../../lib/incluster/node-checks.ts';
import { nodePreflightSpec } from '../support/node-preflight-spec.ts';
import { formatResult } from '../../lib/incluster/shared/report.ts';
import { hasTool } from '../support/tools.ts';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'not root (network namespaces need it)';
  }
  return hasTool('ip') ? undefined : 'ip is not installed';
}
const why = missing();
if (why !== undefined) {
  if (process.env.CILIUM_CUTOVER_REQUIRE_KERNEL === '1') {
    throw new Error(`the real-kernel suite cannot run: ${why} (CILIUM_CUTOVER_REQUIRE_KERNEL=1)`);
  }
  console.log(`SKIP real-kernel peer routes: ${why}`);
}

let made: string[] = [];
afterEach(() => {
  made.forEach((ns) => spawnSync('ip', ['netns', 'delete', ns]));
  made = [];
});

/** A namespace of this test's own, set up with `ip` commands (each an argument list after `ip -n NS`). */
function node(commands: readonly string[]): string {
  const ns = `ccroute-${process.pid}-${made.length}`;
  const run = (args: string[]) => {
    const result = spawnSync('ip', args, { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`ip ${args.join(' ')}: ${result.stderr}`);
    }
    return result.stdout;
  };
  run(['netns', 'add', ns]);
  made.push(ns);
  for (const command of commands) {
    run(['-n', ns, ...command.split(' ')]);
  }
  return ns;
}

/**
 * An interface of the node: one end of a veth pair whose other end stays in the namespace, both up
 * (a link with carrier, as a NIC has; the kernel here may lack the dummy and VLAN drivers).
 */
function iface(name: string, mtu = 1500): string[] {
  const peer = `${name.slice(0, 12)}-p`;
  return [`link add ${name} mtu ${mtu} type veth peer name ${peer} mtu ${mtu}`, `link set ${peer} up`, `link set ${name} up`];
}

/** What the Job reads inside the namespace: /proc/net/route, and an interface's MTU from sysfs. */
function read(ns: string, file: string): string {
  const result = spawnSync('ip', ['netns', 'exec', ns, 'cat', file], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`cat ${file} in ${ns}: ${result.stderr}`);
  }
  return result.stdout;
}

const spec = nodePreflightSpec;

/**
 * A Hetzner Cloud server as hc-utils sets it up: eth0 public with the default route via
 * 172.31.1.1, the private interface enp7s0 with a /32 and the network's ip_range via its gateway.
 */
function hetznerCloudServer(ipRange: string, mtu = 1450): string {
  return node([
    ...iface('eth0'),
    'addr add 203.0.113.20/32 dev eth0',
    'route add 172.31.1.1 dev eth0 scope link',
    'route add default via 172.31.1.1 dev eth0',
    ...iface('enp7s0', mtu),
    'addr add 10.0.0.2/32 dev enp7s0',
    'route add 10.0.0.1 dev enp7s0 scope link',
    `route add ${ipRange} via 10.0.0.1 dev enp7s0`,
  ]);
}

const peers: (PeerNode & { podCIDR: string })[] = [
  { name: 'k3s-server-2', internalIP: '10.0.0.3', podCIDR: '10.42.1.0/24' },
  { name: 'k3s-server-3', internalIP: '10.0.0.4', podCIDR: '10.42.2.0/24' },
];

describe.skipIf(why !== undefined)('peer routes on a real routing table', () => {
  it('hetzner-cloud: passes an ip_range that holds the pod CIDR, fails one that does not', () => {
    const wide = parseRoutes(read(hetznerCloudServer('10.0.0.0/8'), '/proc/net/route'));
    expect(formatResult(judgePeerRoutes('k3s-server-1', spec({}), peers, wide))).toBe(
      'PASS peer-routes k3s-server-1: 2 other node(s): pods via enp7s0',
    );
    const narrow = parseRoutes(read(hetznerCloudServer('10.0.0.0/16'), '/proc/net/route'));
    expect(judgePeerRoutes('k3s-server-1', spec({}), peers, narrow).detail).toMatch(
      /^k3s-server-2's pods 10\.42\.1\.0\/24 leave by default via 172\.31\.1\.1 dev eth0, k3s-server-2 itself by 10\.0\.0\.0\/16 via 10\.0\.0\.1 dev enp7s0; k3s-server-3's pods/,
    );
  });

  it("hetzner-cloud: leaves Calico's routes out, which step 110 removes (a Calico pool over the pod CIDR)", () => {
    // Calico with its pool on the pod CIDR: a blackhole for this node's block, the other nodes'
    // blocks through tunl0 (a veth stands in: this kernel may lack the IPIP driver).
    const ns = hetznerCloudServer('10.0.0.0/8');
    for (const command of [
      ...iface('tunl0'),
      'route add blackhole 10.42.0.0/26 proto bird',
      'route add 10.42.1.0/26 via 10.0.0.3 dev tunl0 proto bird onlink',
      'route add 10.42.2.0/26 via 10.0.0.4 dev tunl0 proto bird onlink',
    ]) {
      spawnSync('ip', ['-n', ns, ...command.split(' ')], { encoding: 'utf8' });
    }
    const routes = parseRoutes(read(ns, '/proc/net/route'));
    expect(routes.some((r) => r.iface === 'tunl0')).toBe(true);
    expect(formatResult(judgePeerRoutes('k3s-server-1', spec({}), peers, routes))).toBe(
      'PASS peer-routes k3s-server-1: 2 other node(s): pods via enp7s0',
    );
  });

  it("hetzner-cloud: fails a private interface that carries less than cilium.MTU, read from the node's sysfs", () => {
    const ns = hetznerCloudServer('10.0.0.0/8', 1400);
    const routes = parseRoutes(read(ns, '/proc/net/route'));
    const iface = interfaceFor(routes, '10.0.0.3')!;
    expect(formatResult(judgeMtu('k3s-server-1', spec({}), iface, Number(read(ns, `/sys/class/net/${iface}/mtu`))))).toBe(
      'FAIL mtu k3s-server-1: enp7s0 carries 1400, less than cilium.MTU 1450: full-size packets between nodes would be dropped; set cilium.MTU to 1400 or less',
    );
  });

  it('hetzner-vswitch: passes nodes on the VLAN interface, fails one reached through a gateway', () => {
    // A Robot server: the vSwitch VLAN on enp0s31f6.4000 (a VLAN of the uplink) with its /24.
    const ns = node([
      // The vSwitch VLAN interface (a VLAN of the uplink on a Robot server), by its usual name.
      ...iface('enp0s31f6.4000', 1400),
      'addr add 10.1.0.2/24 dev enp0s31f6.4000',
      'route add 10.0.0.0/8 via 10.1.0.1 dev enp0s31f6.4000',
    ]);
    const routes = parseRoutes(read(ns, '/proc/net/route'));
    const direct = spec({ profile: 'hetzner-vswitch', routing: 'direct', mtu: 1400 });
    const robot = [{ name: 'robot-2', internalIP: '10.1.0.3', podCIDR: '10.42.1.0/24' }];
    expect(formatResult(judgePeerRoutes('robot-1', direct, robot, routes))).toBe('PASS peer-routes robot-1: 1 other node(s): on-link');
    const cloud = { name: 'cloud-1', internalIP: '10.0.0.2', podCIDR: '10.42.5.0/24' };
    expect(judgePeerRoutes('robot-1', direct, [...robot, cloud], routes).detail).toMatch(
      /^cloud-1 \(10\.0\.0\.2\) is not on-link \(10\.0\.0\.0\/8 via 10\.1\.0\.1 dev enp0s31f6\.4000\)/,
    );
    // With cloud servers (direct-routing-skip-unreachable) the cloud server's pods go through the network.
    expect(formatResult(judgePeerRoutes('robot-1', { ...direct, skipUnreachable: true }, [...robot, cloud], routes))).toBe(
      'PASS peer-routes robot-1: 2 other node(s): on-link, pods via enp0s31f6.4000',
    );
    expect(judgeMtu('robot-1', direct, 'enp0s31f6.4000', Number(read(ns, '/sys/class/net/enp0s31f6.4000/mtu'))).outcome).toBe('PASS');
  });

  it('generic: with the network routing pod CIDRs, passes pods reached where their node is, fails a node whose pods leave another way', () => {
    // One LAN on eth0, a second interface eth1 whose default route would take everything else.
    const ns = node([
      ...iface('eth0'),
      'addr add 192.168.10.2/24 dev eth0',
      'route add 10.42.0.0/16 via 192.168.10.1 dev eth0',
      ...iface('eth1'),
      'addr add 198.51.100.2/24 dev eth1',
      'route add default via 198.51.100.1 dev eth1',
    ]);
    const routes = parseRoutes(read(ns, '/proc/net/route'));
    const lan = [{ name: 'b', internalIP: '192.168.10.3', podCIDR: '10.42.1.0/24' }];
    const generic = spec({ profile: 'generic', mtu: undefined });
    expect(formatResult(judgePeerRoutes('a', generic, lan, routes))).toBe('PASS peer-routes a: 1 other node(s): pods via eth0');
    // A node whose pod CIDR lies outside what the router routes (another cluster CIDR).
    const elsewhere = [{ name: 'c', internalIP: '192.168.10.4', podCIDR: '10.43.9.0/24' }];
    expect(judgePeerRoutes('a', generic, elsewhere, routes).detail).toMatch(
      /^c's pods 10\.43\.9\.0\/24 leave by default via 198\.51\.100\.1 dev eth1, c itself by 192\.168\.10\.0\/24 dev eth0; route each node's pod CIDR via that node/,
    );
  });
});
