/**
 * The simulated nodes: a network namespace each (the private NIC, addresses and routes as the
 * profile has them; 127.0.0.1:6444 forwarded to the API server) and a root directory standing in
 * for the host's file system.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIpv4, parseCidr } from '../../lib/cidr.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { nodePodCidr, type Scenario } from './fixture.ts';
import type { SimNode } from './pod-runner.ts';

const HERE = new URL('.', import.meta.url).pathname;

/** The tools a k3s node's host has, which the node Jobs look for (stand-ins: empty programs). */
const HOST_TOOLS = ['bash', 'iptables-legacy-save', 'iptables-nft-save', 'iptables-save', 'ipset', 'ip'];

/** The first usable address of a CIDR (a Hetzner Cloud network's gateway). */
function gatewayOf(cidr: string): string {
  return formatIpv4(parseCidr(cidr)!.first + 1);
}

/**
 * Makes a node's network namespace (its private interface, addresses and routes as the profile
 * has them) and root directory, and starts the forwarder of its 127.0.0.1:6444.
 */
export function startNode(
  config: ResolvedConfig,
  index: number,
  run: string,
  apiSocket: string,
  scenario: Scenario,
  netnsPrefix: string,
): { node: SimNode; forwarder: ChildProcess } {
  const { name, internalIP } = config.cluster.nodes[index]!;
  const netns = `${netnsPrefix}-${index}`;
  const ip = (...args: string[]) => {
    const result = spawnSync('ip', args, { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
    }
  };
  ip('netns', 'add', netns);
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  // The private network: on Hetzner Cloud a /32 and the network's ip_range via its gateway (as
  // hc-utils configures it); elsewhere one layer-2 segment, and the routes Calico's BIRD installs
  // to the other nodes' pod CIDRs.
  // A veth pair inside the namespace stands in for the NIC (this kernel may have no dummy driver).
  ip('-n', netns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer');
  ip('-n', netns, 'link', 'set', 'eth1-peer', 'up');
  ip('-n', netns, 'link', 'set', 'eth1', 'up');
  const ipRange = config.cluster.network?.ipRange;
  if (config.cluster.profile === 'hetzner-cloud' && ipRange) {
    ip('-n', netns, 'addr', 'add', `${internalIP}/32`, 'dev', 'eth1');
    ip('-n', netns, 'route', 'add', `${gatewayOf(ipRange)}/32`, 'dev', 'eth1', 'scope', 'link');
    ip('-n', netns, 'route', 'add', ipRange, 'via', gatewayOf(ipRange), 'dev', 'eth1');
  } else {
    ip('-n', netns, 'addr', 'add', `${internalIP}/24`, 'dev', 'eth1');
    config.cluster.nodes.forEach((peer, i) => {
      if (i !== index) {
        ip('-n', netns, 'route', 'add', nodePodCidr(config, i), 'via', peer.internalIP, 'dev', 'eth1', 'proto', 'bird');
      }
    });
  }
  const root = join(run, 'nodes', name);
  mkdirSync(join(root, 'usr', 'sbin'), { recursive: true });
  for (const tool of HOST_TOOLS.filter((t) => !(scenario.missingHostTools ?? []).includes(t))) {
    writeFileSync(join(root, 'usr', 'sbin', tool), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  const forwarder = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      process.execPath,
      join(HERE, 'forward.mjs'),
      'tcp',
      config.cluster.apiServer.host,
      String(config.cluster.apiServer.port),
      apiSocket,
    ],
    { stdio: 'ignore' },
  );
  return { node: { name, netns, root }, forwarder };
}

/** Ends whatever still runs in a node's namespace (a forwarder, a container), then the namespace. */
export function stopNode(node: SimNode): void {
  const pids = spawnSync('ip', ['netns', 'pids', node.netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  pids.forEach((pid) => spawnSync('kill', ['-KILL', pid]));
  spawnSync('ip', ['netns', 'delete', node.netns]);
}
