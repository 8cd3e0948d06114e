/**
 * The per-node preflight's decisions: what only the node can see (its routes, its tools, a live
 * kube-proxy), as plain functions. Dependency-free.
 */
import { formatIpv4 } from '../cidr.ts';
import type { CheckResult } from './shared/report.ts';

/** What the node preflight checks, rendered into its ConfigMap. */
export interface NodePreflightSpec {
  readonly kubeProxyReplacement: boolean;
  readonly profile: string;
  readonly podCIDR: string;
  /**
   * How pod traffic reaches other nodes, which decides what each node's routing table must hold:
   * `direct` (Cilium's direct node routes: every other node on-link), `network` (the network routes
   * each pod CIDR: the route to another node's pods leaves where the route to that node does), or
   * `tunnel` (nothing to check in the routing table).
   */
  readonly routing: 'direct' | 'network' | 'tunnel';
  /** With direct routes: a node that is not on-link is skipped by Cilium (directRoutingSkipUnreachable), so the network must route its pods. */
  readonly skipUnreachable: boolean;
  /** `cilium.MTU` as Cilium is given it; undefined where Cilium detects it. */
  readonly mtu: number | undefined;
  /** The ConfigMap (in the Job's namespace) that lists every configured node: name and InternalIP. */
  readonly nodeList: string;
}

/** The nodes the node preflight checks its routes to, as its node list carries them. */
export interface PeerNode {
  readonly name: string;
  readonly internalIP: string;
}

/** One row of /proc/net/route. */
export interface Route {
  readonly iface: string;
  readonly destination: number;
  /** 0 for a route without a next hop (on-link). */
  readonly gateway: number;
  readonly mask: number;
  readonly metric: number;
}

/** /proc/net/route stores addresses as little-endian hex. */
function hexAddress(hex: string): number {
  const n = Number.parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | (n >>> 24)) >>> 0;
}

/** Parses /proc/net/route (header line, then Iface Destination Gateway Flags RefCnt Use Metric Mask …): the main table. */
export function parseRoutes(text: string): Route[] {
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 8)
    .map((f) => ({
      iface: f[0]!,
      destination: hexAddress(f[1]!),
      gateway: hexAddress(f[2]!),
      mask: hexAddress(f[7]!),
      metric: Number(f[6]),
    }));
}

export function ipv4(ip: string): number {
  return ip.split('.').reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

function prefixLength(mask: number): number {
  return mask.toString(2).replace(/0/g, '').length;
}

/** The route the kernel would use for an address: longest prefix, then lowest metric. */
export function routeFor(routes: readonly Route[], ip: string): Route | undefined {
  const address = ipv4(ip);
  const matching = routes.filter((r) => (address & r.mask) >>> 0 === r.destination);
  return [...matching].sort((a, b) => prefixLength(b.mask) - prefixLength(a.mask) || a.metric - b.metric)[0];
}

/** The interface the kernel would use for an address. */
export function interfaceFor(routes: readonly Route[], ip: string): string | undefined {
  return routeFor(routes, ip)?.iface;
}

/** A route as `ip route` would name it: `10.0.0.0/8 via 10.0.0.1 dev enp7s0`. */
function describe(route: Route): string {
  const to = route.mask === 0 ? 'default' : `${formatIpv4(route.destination)}/${prefixLength(route.mask)}`;
  return `${to}${route.gateway === 0 ? '' : ` via ${formatIpv4(route.gateway)}`} dev ${route.iface}`;
}

/** An address inside a pod CIDR (its first host). */
function podAddress(podCIDR: string): string {
  return podCIDR.split('/')[0]!.replace(/\d+$/, (last) => String(Number(last) + 1));
}

/**
 * Calico's routes, which step 110 removes: its blackholes (no interface, `*`) and what goes
 * through its tunnels or to its pods' interfaces (Felix's and BIRD's routes).
 */
const CALICO_INTERFACES = /^(\*|tunl0|vxlan\.calico|vxlan-v6\.calico|cali.*)$/;

/**
 * The routes that will carry traffic to another node's pods once Calico is gone: none of Calico's,
 * and none narrower than the pod CIDR (Calico's IPAM blocks are /26 by default).
 */
function routesAfterCalico(routes: readonly Route[], podCIDR: string): Route[] {
  const prefix = Number(podCIDR.split('/')[1]);
  return routes.filter((r) => !CALICO_INTERFACES.test(r.iface) && prefixLength(r.mask) <= prefix);
}

/** What one other node needs from this node's routing table. */
type PeerVerdict = { readonly ok: true; readonly note: string } | { readonly ok: false; readonly problem: string };

function judgePeer(spec: NodePreflightSpec, peer: PeerNode & { readonly podCIDR?: string }, routes: readonly Route[]): PeerVerdict {
  const toPeer = routeFor(routes, peer.internalIP);
  if (!toPeer) {
    return { ok: false, problem: `${peer.name} (${peer.internalIP}): no route to it at all` };
  }
  if (spec.routing === 'direct') {
    // Cilium adds a direct route when the route to the peer has no gateway, or the peer itself as
    // gateway (pkg/datapath/linux/node.go createDirectRouteSpec).
    if (toPeer.gateway === 0 || toPeer.gateway === ipv4(peer.internalIP)) {
      return { ok: true, note: 'on-link' };
    }
    if (!spec.skipUnreachable) {
      return {
        ok: false,
        problem: `${peer.name} (${peer.internalIP}) is not on-link (${describe(toPeer)}): Cilium's direct route to its pods needs both nodes on one layer-2 segment`,
      };
    }
  }
  if (!peer.podCIDR) {
    return { ok: false, problem: `${peer.name} has no podCIDR yet, so no route to its pods can be checked` };
  }
  const toPods = routeFor(routesAfterCalico(routes, peer.podCIDR), podAddress(peer.podCIDR));
  if (toPods && toPods.iface === toPeer.iface) {
    return { ok: true, note: `pods via ${toPods.iface}` };
  }
  return {
    ok: false,
    problem: `${peer.name}'s pods ${peer.podCIDR} leave ${toPods ? `by ${describe(toPods)}` : 'by no route'}, ${peer.name} itself by ${describe(toPeer)}`,
  };
}

/** What to do about pod routes that leave the wrong way, per profile. */
function routeFix(spec: NodePreflightSpec): string {
  if (spec.profile === 'hetzner-cloud') {
    return "the Hetzner network's ip_range must contain the pod CIDR, with a route for it via the network's gateway on the private interface (`ip route add <ip_range> via <network gateway>`)";
  }
  if (spec.routing === 'direct') {
    return 'put every node on one layer-2 segment (the vSwitch), or route the pods of the nodes that are not via the private network';
  }
  return "route each node's pod CIDR via that node on the private network (cluster.network.routesPodCIDRs says the network does), or set cilium.autoDirectNodeRoutes or routingMode tunnel";
}

/**
 * The routes native routing needs on this node, to every other configured node: with direct routes
 * the other node is on-link (Cilium then adds the route to its pods itself); otherwise traffic to
 * its pods leaves through the interface that reaches the node, where the network routes it on.
 */
export function judgePeerRoutes(
  self: string,
  spec: NodePreflightSpec,
  peers: readonly (PeerNode & { readonly podCIDR?: string })[],
  routes: readonly Route[],
): CheckResult {
  if (spec.routing === 'tunnel') {
    return { outcome: 'SKIP', check: 'peer-routes', subject: self, detail: 'tunnel mode: pod traffic to other nodes is encapsulated' };
  }
  if (peers.length === 0) {
    return { outcome: 'SKIP', check: 'peer-routes', subject: self, detail: 'no other node' };
  }
  const verdicts = peers.map((p) => judgePeer(spec, p, routes));
  const problems = verdicts.flatMap((v) => (v.ok ? [] : [v.problem]));
  if (problems.length > 0) {
    const shown = problems.length > 5 ? `${problems.slice(0, 5).join('; ')}; and ${problems.length - 5} more` : problems.join('; ');
    return { outcome: 'FAIL', check: 'peer-routes', subject: self, detail: `${shown}; ${routeFix(spec)}` };
  }
  const notes = [...new Set(verdicts.flatMap((v) => (v.ok ? [v.note] : [])))].join(', ');
  return {
    outcome: 'PASS',
    check: 'peer-routes',
    subject: self,
    detail: `${peers.length} other node(s): ${notes}`,
  };
}

/**
 * The private interface's MTU holds what Cilium is given: a larger `cilium.MTU` than the link
 * carries drops every full-size packet between nodes.
 */
export function judgeMtu(self: string, spec: NodePreflightSpec, iface: string | undefined, linkMtu: number | undefined): CheckResult {
  if (spec.mtu === undefined) {
    return { outcome: 'SKIP', check: 'mtu', subject: self, detail: 'cilium.MTU is not set: Cilium takes it from the device' };
  }
  if (iface === undefined || linkMtu === undefined) {
    return { outcome: 'SKIP', check: 'mtu', subject: self, detail: 'no interface towards the other nodes to read an MTU from' };
  }
  return linkMtu >= spec.mtu
    ? { outcome: 'PASS', check: 'mtu', subject: self, detail: `${iface} carries ${linkMtu}, cilium.MTU is ${spec.mtu}` }
    : {
        outcome: 'FAIL',
        check: 'mtu',
        subject: self,
        detail: `${iface} carries ${linkMtu}, less than cilium.MTU ${spec.mtu}: full-size packets between nodes would be dropped; set cilium.MTU to ${linkMtu} or less`,
      };
}

/** The API server answers at cluster.apiServer from this node: Cilium's agents reach it there, without kube-proxy or DNS. */
export function judgeApiServer(self: string, address: string, error: string | undefined): CheckResult {
  return error === undefined
    ? { outcome: 'PASS', check: 'api-server', subject: self, detail: `answers at ${address}` }
    : {
        outcome: 'FAIL',
        check: 'api-server',
        subject: self,
        detail: `no answer at ${address} (${error}): Cilium's agents reach the API there; fix cluster.apiServer`,
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
