/**
 * Everything of a node's host that a node script could change, as comparable text: the rules of
 * both iptables backends in both families, the other nftables tables, ipsets, links, addresses,
 * routes of every table, the node's files and the host's mounts. Two hosts in the same state give
 * equal snapshots, whatever order their interfaces were made in.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeHost } from './node-host.ts';

export type HostSnapshot = Record<string, string>;

const BUILTIN = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);
/** The tables iptables-nft keeps in nftables: compared through iptables-nft-save. */
const XTABLES = /^table (ip|ip6) (filter|nat|mangle|raw|security) \{$/;

/**
 * `iptables-save` output without comments, packet counters (traffic, not state) and tables that
 * hold nothing: only built-in chains, no rules, policy ACCEPT (the same as no table; a removal
 * leaves such tables behind).
 */
export function normalizeSave(text: string): string {
  const tables: string[][] = [];
  for (const line of text.replace(/\[\d+:\d+\]$/gm, '[0:0]').split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    if (line.startsWith('*')) tables.push([]);
    tables.at(-1)?.push(line);
  }
  const empty = (lines: string[]) =>
    lines.every(
      (l) =>
        l.startsWith('*') ||
        l === 'COMMIT' ||
        (l.startsWith(':') && BUILTIN.has(l.slice(1).split(' ')[0]!) && l.split(' ')[1] === 'ACCEPT'),
    );
  return tables
    .filter((t) => !empty(t))
    .map((t) => t.join('\n'))
    .join('\n');
}

/** `nft list ruleset` without the tables iptables-nft owns. */
function nativeNftables(text: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('table ')) skipping = XTABLES.test(line);
    if (!skipping) out.push(line);
    if (line === '}') skipping = false;
  }
  return out.join('\n');
}

/** The files below `dir`: path, kind, mode and a content digest; /run/xtables.lock left out (shared, never removed). */
function fileList(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix))
    .sort()
    .flatMap((name) => {
      const rel = `${prefix}/${name}`;
      const stat = lstatSync(join(dir, rel));
      const mode = (stat.mode & 0o7777).toString(8);
      if (rel === '/run/xtables.lock') return [];
      if (stat.isSymbolicLink()) return [`${rel} -> ${readlinkSync(join(dir, rel))}`];
      if (stat.isDirectory()) return [`${rel}/ ${mode}`, ...fileList(dir, rel)];
      return [
        `${rel} ${mode} ${createHash('sha256')
          .update(readFileSync(join(dir, rel)))
          .digest('hex')
          .slice(0, 16)}`,
      ];
    });
}

interface LinkJson {
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  link?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
}
interface AddrJson {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

export function snapshotHost(host: NodeHost): HostSnapshot {
  const out = (command: string[]) => host.must(command);
  const snapshot: HostSnapshot = {};
  for (const family of ['iptables', 'ip6tables']) {
    for (const backend of ['legacy', 'nft']) {
      snapshot[`${family}-${backend}`] = normalizeSave(out([`${family}-${backend}-save`]));
    }
  }
  snapshot.nftables = nativeNftables(out(['nft', 'list', 'ruleset']));
  // A set's hash seed is random at creation: left out.
  snapshot.ipsets = out(['ipset', 'save']).replace(/ initval 0x[0-9a-f]+/g, '');
  const links = JSON.parse(out(['ip', '-j', '-d', 'link', 'show'])) as LinkJson[];
  snapshot.links = links
    .map(
      (l) =>
        `${l.ifname} <${[...l.flags].sort().join(',')}> mtu ${l.mtu} ${l.operstate} ${l.linkinfo?.info_kind ?? ''} ${l.link ?? ''} ${l.master ?? ''}`,
    )
    .sort()
    .join('\n');
  const addrs = JSON.parse(out(['ip', '-j', 'addr', 'show'])) as AddrJson[];
  snapshot.addresses = addrs
    .flatMap((a) =>
      a.addr_info
        .filter((i) => !(i.family === 'inet6' && i.scope === 'link'))
        .map((i) => `${a.ifname} ${i.local}/${i.prefixlen} ${i.scope}`),
    )
    .sort()
    .join('\n');
  // Link-local IPv6 addresses derive from random MAC addresses: left out.
  const routes = (family: string) =>
    out(['ip', family, 'route', 'show', 'table', 'all'])
      .split('\n')
      .filter((l) => l !== '' && !l.includes('fe80:'))
      .sort()
      .join('\n');
  snapshot['routes-ipv4'] = routes('-4');
  snapshot['routes-ipv6'] = routes('-6');
  snapshot.files = fileList(host.files).join('\n');
  snapshot.mounts = out(['cat', '/proc/self/mounts'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ').slice(1, 3).join(' '))
    .join('\n');
  return snapshot;
}
