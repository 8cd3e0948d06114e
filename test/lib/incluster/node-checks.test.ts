import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interfaceFor, ipv4, judgeKubeProxyPort, judgePodRoute, judgeTools, parseRoutes } from '../../../lib/incluster/node-checks.ts';
import { formatResult } from '../../../lib/incluster/shared/report.ts';

// A Hetzner Cloud server: default route via eth0 (public), 10.0.0.0/8 via the private NIC enp7s0.
const routes = parseRoutes(readFileSync(new URL('../../fixtures/proc-net-route.txt', import.meta.url), 'utf8'));
// The same server on a network whose ip_range is 10.0.0.0/16: pod CIDRs are not inside it.
const narrow = parseRoutes(
  readFileSync(new URL('../../fixtures/proc-net-route.txt', import.meta.url), 'utf8').replace('000000FF', '0000FFFF'),
);

describe('routes', () => {
  it('reads /proc/net/route addresses (little-endian hex)', () => {
    expect(routes[1]).toEqual({ iface: 'enp7s0', destination: ipv4('10.0.0.0'), mask: ipv4('255.0.0.0'), metric: 1003 });
  });

  it('picks the longest prefix', () => {
    expect(interfaceFor(routes, '10.42.1.7')).toBe('cilium_host');
    expect(interfaceFor(routes, '10.42.2.1')).toBe('enp7s0');
    expect(interfaceFor(routes, '1.1.1.1')).toBe('eth0');
    expect(interfaceFor(narrow, '10.42.2.1')).toBe('eth0');
  });

  it("passes when another node's pods are reached through the private network, fails through the public interface", () => {
    const other = { name: 'k3s-server-3', internalIP: '10.0.0.4', podCIDR: '10.42.2.0/24' };
    expect(formatResult(judgePodRoute('k3s-server-1', other, routes))).toBe(
      "PASS pod-route k3s-server-1 -> k3s-server-3 10.42.2.0/24: leaves through enp7s0, the private network's interface",
    );
    expect(formatResult(judgePodRoute('k3s-server-1', other, narrow))).toBe(
      "FAIL pod-route k3s-server-1 -> k3s-server-3 10.42.2.0/24: leaves through eth0, the private network is on enp7s0: the network's ip_range must contain the pod CIDR (or add `ip route add 10.42.2.0/24 via <network gateway>`)",
    );
    expect(judgePodRoute('k3s-server-1', undefined, routes).outcome).toBe('SKIP');
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
