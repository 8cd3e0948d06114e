/**
 * The per-node preflight's decisions: what only the node can see (its routes, its tools, a live
 * kube-proxy), as plain functions. Dependency-free.
 */
import type { CheckResult } from './shared/report.ts';

/** What the node preflight checks, rendered into its ConfigMap. */
export interface NodePreflightSpec {
  readonly kubeProxyReplacement: boolean;
  readonly profile: string;
  readonly podCIDR: string;
}

/** One row of /proc/net/route. */
export interface Route {
  readonly iface: string;
  readonly destination: number;
  readonly mask: number;
  readonly metric: number;
}

/** /proc/net/route stores addresses as little-endian hex. */
function hexAddress(hex: string): number {
  const n = Number.parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | (n >>> 24)) >>> 0;
}

/** Parses /proc/net/route (header line, then Iface Destination Gateway Flags RefCnt Use Metric Mask …). */
export function parseRoutes(text: string): Route[] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8)
    .map((f) => ({ iface: f[0]!, destination: hexAddress(f[1]!), mask: hexAddress(f[7]!), metric: Number(f[6]) }));
}

export function ipv4(ip: string): number {
  return ip.split('.').reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

/** The interface the kernel would use for an address: longest prefix, then lowest metric. */
export function interfaceFor(routes: readonly Route[], ip: string): string | undefined {
  const address = ipv4(ip);
  const matching = routes.filter((r) => (address & r.mask) >>> 0 === r.destination);
  const prefix = (mask: number) => mask.toString(2).replace(/0/g, '').length;
  return [...matching].sort((a, b) => prefix(b.mask) - prefix(a.mask) || a.metric - b.metric)[0]?.iface;
}

/** hetzner-cloud: traffic to another node's pods must leave through the private network's interface. */
export function judgePodRoute(
  self: string,
  other: { name: string; internalIP: string; podCIDR: string } | undefined,
  routes: readonly Route[],
): CheckResult {
  if (!other) {
    return { outcome: 'SKIP', check: 'pod-route', subject: self, detail: 'no other node with a podCIDR to route to' };
  }
  const target = other.podCIDR.split('/')[0]!.replace(/\d+$/, (last) => String(Number(last) + 1));
  const podIface = interfaceFor(routes, target);
  const privateIface = interfaceFor(routes, other.internalIP);
  const subject = `${self} -> ${other.name} ${other.podCIDR}`;
  if (podIface && podIface === privateIface) {
    return { outcome: 'PASS', check: 'pod-route', subject, detail: `leaves through ${podIface}, the private network's interface` };
  }
  return {
    outcome: 'FAIL',
    check: 'pod-route',
    subject,
    detail: `leaves through ${podIface ?? 'no route'}, the private network is on ${privateIface ?? 'no route'}: the network's ip_range must contain the pod CIDR (or add \`ip route add ${other.podCIDR} via <network gateway>\`)`,
  };
}

/** With kube-proxy replacement nothing may answer on kube-proxy's healthz port. */
export function judgeKubeProxyPort(self: string, answering: boolean): CheckResult {
  return answering
    ? {
        outcome: 'FAIL',
        check: 'kube-proxy',
        subject: self,
        detail:
          'something answers on 127.0.0.1:10256 (kube-proxy healthz): k3s on this node still runs kube-proxy; restart it with the drop-in (host/k3s-rollout.sh)',
      }
    : { outcome: 'PASS', check: 'kube-proxy', subject: self, detail: 'nothing answers on 10256' };
}

/** The host tools the node cleanup uses. */
export const HOST_TOOLS = ['bash', 'iptables-legacy-save', 'iptables-nft-save', 'iptables-save', 'ipset', 'ip'] as const;

/** The cleanup needs bash and at least one iptables dump tool; the rest narrows what it can clean. */
export function judgeTools(self: string, found: ReadonlySet<string>): CheckResult {
  const missing = HOST_TOOLS.filter((t) => !found.has(t));
  const present = HOST_TOOLS.filter((t) => found.has(t));
  const iptables = ['iptables-legacy-save', 'iptables-nft-save', 'iptables-save'].some((t) => found.has(t));
  if (!found.has('bash') || !iptables) {
    return {
      outcome: 'FAIL',
      check: 'host-tools',
      subject: self,
      detail: `missing ${missing.join(', ')}: the node cleanup cannot run here; reboot the node instead (host/rolling-reboot.sh) or install them`,
    };
  }
  return {
    outcome: 'PASS',
    check: 'host-tools',
    subject: self,
    detail: `found ${present.join(', ')}${missing.length > 0 ? `; missing ${missing.join(', ')} (what they would clean stays until reboot)` : ''}`,
  };
}
