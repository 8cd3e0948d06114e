/**
 * IPv4 address and CIDR arithmetic for the config rules.
 *
 * Only IPv4: the clusters this tool migrates are single-stack IPv4 (k3s defaults), and every
 * Cilium key we emit is the IPv4 variant.
 */

/** An IPv4 network in CIDR notation, with its first and last address as 32-bit integers. */
export interface Ipv4Cidr {
  readonly text: string;
  readonly first: number;
  readonly last: number;
  readonly prefix: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted-quad IPv4 address; returns undefined when it is not one. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) {
    return undefined;
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Writes an IPv4 address, as a number, in dotted-quad form: the inverse of parseIpv4. */
export function formatIpv4(ip: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(ip / 2 ** shift) % 256).join('.');
}

/**
 * Parses `a.b.c.d/n`. Host bits must be zero (`10.42.0.1/16` is rejected), because Cilium and
 * k3s read such values as networks and a stray host bit is almost always a typo.
 */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!match) {
    return undefined;
  }
  const base = parseIpv4(match[1]!);
  const prefix = Number(match[2]);
  if (base === undefined || prefix > 32) {
    return undefined;
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    return undefined;
  }
  return { text, first: base, last: base + size - 1, prefix };
}

/** True when the two networks share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** True when `inner` lies completely inside `outer`. */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return outer.first <= inner.first && inner.last <= outer.last;
}

/** True when the address lies inside the network. */
export function cidrContainsIp(cidr: Ipv4Cidr, ip: number): boolean {
  return cidr.first <= ip && ip <= cidr.last;
}
