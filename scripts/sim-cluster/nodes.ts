/**
 * The simulated nodes: a network namespace each, plugged into the simulation's network (network.ts)
 * with the node's address on eth1, forwarding on, the host state Calico and kube-proxy left
 * (node-host.ts), and 127.0.0.1:6444 forwarded to the API server; its host
 * (test/support/node-host.ts): a mount namespace whose root holds the node's own files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import type { Scenario } from './fixture.ts';
import { attachNode, type SimNetwork } from './network.ts';
import { deleteNetns, ip, sysctl } from './netns.ts';
import { startNodeHost, type NodeHost } from '../../test/support/node-host.ts';
import { prepareNodeHost } from './node-host.ts';
import type { SimNode } from './pod-runner.ts';

const HERE = new URL('.', import.meta.url).pathname;

/** Makes a node's namespace and root directory, and starts the forwarder of its 127.0.0.1:6444. */
export function startNode(
  config: ResolvedConfig,
  index: number,
  run: string,
  apiSocket: string,
  scenario: Scenario,
  network: SimNetwork,
  netnsPrefix: string,
): { node: SimNode & { readonly host: NodeHost }; forwarders: ChildProcess[] } {
  const { name, internalIP } = config.cluster.nodes[index]!;
  const netns = `${netnsPrefix}-${index}`;
  ip('netns', 'add', netns);
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  sysctl(netns, 'net.ipv4.ip_forward', '1');
  // Pods' replies and cross-node traffic arrive on other interfaces than a strict reverse-path
  // check expects while routes change during the cutover.
  sysctl(netns, 'net.ipv4.conf.all.rp_filter', '0');
  sysctl(netns, 'net.ipv4.conf.default.rp_filter', '0');
  attachNode(
    network,
    netns,
    index,
    internalIP,
    scenario.noPodRoute?.includes(name) ? 'no-pod-route' : scenario.offLink?.includes(name) ? 'off-link' : 'healthy',
    network.linkMtu[name],
  );
  const host = startNodeHost({
    dir: join(run, 'nodes', name),
    netns,
    createNetns: false,
    missingTools: scenario.missingHostTools ?? [],
  });
  prepareNodeHost(config, index, netns, host.files, scenario);
  const forward = (host: string, port: number) =>
    spawn('ip', ['netns', 'exec', netns, process.execPath, join(HERE, 'forward.mjs'), 'tcp', host, String(port), apiSocket], {
      stdio: 'ignore',
    });
  const forwarders = [forward(config.cluster.apiServer.host, config.cluster.apiServer.port)];
  if (config.cluster.nodes[index]!.role === 'server') {
    // k3s's API port on a server: the `kubernetes` Service's endpoints.
    forwarders.push(forward('0.0.0.0', 6443));
  }
  return { node: { name, index, netns, root: host.files, host }, forwarders };
}

/** Ends whatever still runs in a node's namespace (a forwarder, a container), then the namespace. */
export function stopNode(node: SimNode & { readonly host: NodeHost }): void {
  node.host.stop();
  deleteNetns(node.netns);
}
