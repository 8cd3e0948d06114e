import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  interfaceFor,
  ipv4,
  judgeApiServer,
  judgeKubeProxyPort,
  judgeMtu,
  judgePeerRoutes,
  judgeTools,
  parseRoutes,
} from '../../../lib/incluster/node-checks.ts';
import { nodePreflightSpec } from '../../support/node-preflight-spec.ts';
import { formatResult } from '../../../lib/incluster/shared/report.ts';

// A Hetzner Cloud server: default route via eth0 (public), 10.0.0.0/8 via the private NIC enp7s0.
const routes = parseRoutes(readFileSync(new URL('../../fixtures/proc-net-route.txt', import.meta.url), 'utf8'));
// The same server on a network whose ip_range is 10.0.0.0/16: pod CIDRs are not inside it.
const narrow = parseRoutes(
  readFileSync(new URL('../../fixtures/proc-net-route.txt', import.meta.url), 'utf8').replace('000000FF', '0000FFFF'),
);

const spec = nodePreflightSpec;
const peer = { name: 'k3s-server-3', internalIP: '10.0.0.4', podCIDR: '10.42.2.0/24' };

describe('routes', () => {
  it('reads /proc/net/route addresses (little-endian hex), gateways included', () => {
    expect(routes[1]).toEqual({
      iface: 'enp7s0',
      destination: ipv4('10.0.0.0'),
      gateway: ipv4('10.0.0.1'),
      mask: ipv4('255.0.0.0'),
      metric: 1003,
    });
    expect(routes[2]!.gateway).toBe(0);
  });

  it('picks the longest prefix', () => {
    expect(interfaceFor(routes, '10.42.1.7')).toBe('cilium_host');
    expect(interfaceFor(routes, '10.42.2.1')).toBe('enp7s0');
    expect(interfaceFor(routes, '1.1.1.1')).toBe('eth0');
    expect(interfaceFor(narrow, '10.42.2.1')).toBe('eth0');
  });

  it("passes when another node's pods are reached through the private network, fails through the public interface", () => {
    expect(formatResult(judgePeerRoutes('k3s-server-1', spec(), [peer], routes))).toBe(
      'PASS peer-routes k3s-server-1: 1 other node(s): pods via enp7s0',
    );
    expect(formatResult(judgePeerRoutes('k3s-server-1', spec(), [peer], narrow))).toBe(
      "FAIL peer-routes k3s-server-1: k3s-server-3's pods 10.42.2.0/24 leave by default via 172.31.1.1 dev eth0, k3s-server-3 itself by 10.0.0.0/16 via 10.0.0.1 dev enp7s0; " +
        "the Hetzner network's ip_range must contain the pod CIDR, with a route for it via the network's gateway on the private interface (`ip route add <ip_range> via <network gateway>`)",
    );
  });

  it('with direct routes, needs every other node on-link; skips tunnel mode; names a node without a podCIDR', () => {
    const direct = spec({ profile: 'hetzner-vswitch', routing: 'direct' });
    // On a Hetzner Cloud server every other node is behind the gateway: not on-link.
    expect(judgePeerRoutes('k3s-server-1', direct, [peer], routes).detail).toMatch(
      /^k3s-server-3 \(10\.0\.0\.4\) is not on-link \(10\.0\.0\.0\/8 via 10\.0\.0\.1 dev enp7s0\): Cilium's direct route to its pods needs both nodes on one layer-2 segment; put every node on one layer-2 segment/,
    );
    // The gateway itself is on-link, and so is a peer that is its own gateway (Cilium's
    // createDirectRouteSpec takes a route via the node itself).
    expect(judgePeerRoutes('k3s-server-1', direct, [{ ...peer, internalIP: '10.0.0.1' }], routes).outcome).toBe('PASS');
    const viaItself = parseRoutes(
      'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nenp7s0\t0400000A\t0400000A\t0007\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n',
    );
    expect(judgePeerRoutes('k3s-server-1', direct, [peer], viaItself).outcome).toBe('PASS');
    // Directly routing what is on-link, the rest through the network.
    expect(formatResult(judgePeerRoutes('k3s-server-1', { ...direct, skipUnreachable: true }, [peer], routes))).toBe(
      'PASS peer-routes k3s-server-1: 1 other node(s): pods via enp7s0',
    );
    expect(judgePeerRoutes('k3s-server-1', spec({ routing: 'tunnel' }), [peer], routes).outcome).toBe('SKIP');
    expect(judgePeerRoutes('k3s-server-1', spec(), [{ name: 'new', internalIP: '10.0.0.9' }], routes).detail).toMatch(
      /^new has no podCIDR yet/,
    );
  });

  it('lists at most five failing nodes', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ name: `n${i}`, internalIP: `10.0.0.${10 + i}`, podCIDR: `10.42.${i}.0/24` }));
    expect(judgePeerRoutes('k3s-server-1', spec(), many, narrow).detail).toMatch(/n4's pods .*; and 2 more; /);
  });

  it('fails a private interface that carries less than cilium.MTU', () => {
    expect(formatResult(judgeMtu('a', spec(), 'enp7s0', 1450))).toBe('PASS mtu a: enp7s0 carries 1450, cilium.MTU is 1450');
    expect(formatResult(judgeMtu('a', spec({ mtu: 1500 }), 'enp7s0', 1450))).toBe(
      'FAIL mtu a: enp7s0 carries 1450, less than cilium.MTU 1500: full-size packets between nodes would be dropped; set cilium.MTU to 1450 or less',
    );
    expect(judgeMtu('a', spec({ mtu: undefined }), 'enp7s0', 1450).outcome).toBe('SKIP');
  });

  it('fails when the API server does not answer at cluster.apiServer', () => {
    expect(formatResult(judgeApiServer('a', '127.0.0.1:6444', 'connect ECONNREFUSED 127.0.0.1:6444'))).toBe(
      "FAIL api-server a: no answer at 127.0.0.1:6444 (connect ECONNREFUSED 127.0.0.1:6444): Cilium's agents reach the API there; fix cluster.apiServer",
    );
  });
});

describe('kube-proxy and host tools', () => {
  it('fails while something answers on the kube-proxy healthz port', () => {
    expect(judgeKubeProxyPort('a', true).outcome).toBe('FAIL');
    expect(formatResult(judgeKubeProxyPort('a', false))).toBe('PASS kube-proxy a: nothing answers on 10256');
  });

  it('needs bash and an iptables dump tool; reports what else is missing', () => {
    expect(formatResult(judgeTools('a', new Set(['bash', 'iptables-nft-save', 'ip'])))).toBe(
      'PASS host-tools a: found bash, iptables-nft-save, ip; missing iptables-legacy-save, iptables-save, ipset (what they would clean stays until reboot)',
    );
    expect(judgeTools('a', new Set(['iptables-nft-save'])).outcome).toBe('FAIL');
    expect(judgeTools('a', new Set(['bash', 'ipset'])).detail).toMatch(
      /^missing iptables-legacy-save, iptables-nft-save, iptables-save, ip: the node cleanup cannot run here/,
    );
  });
});
