/**
 * The portmap CNI plugin where a node's CNI config chains it after cilium-cni: the real plugin
 * (containernetworking/plugins, Debian's containernetworking-plugins) run in the node's network
 * namespace with the CNI protocol's environment and config, as the runtime runs it. It writes its
 * hostPort DNAT rules into the node's iptables; DEL removes them with the pod.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimNode } from './pod-runner.ts';

type Json = Record<string, any>;

/** Where the machine's package puts the plugin; the simulation copies it into each node's /opt/cni/bin. */
export const PORTMAP_PLUGIN = '/usr/lib/cni/portmap';

/** A container port published on the node, as the runtime hands it to the plugin. */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: string;
}

/** The pod's hostPorts (runtimeConfig.portMappings). */
export function portMappings(pod: Json): PortMapping[] {
  return (pod.spec.containers ?? [])
    .flatMap((c: Json) => c.ports ?? [])
    .filter((p: Json) => p.hostPort)
    .map((p: Json) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase() }));
}

/** Whether the node's CNI config file chains the portmap plugin. */
export function chainsPortmap(node: SimNode, file: string): boolean {
  const path = join(node.root, 'etc', 'cni', 'net.d', file);
  if (!existsSync(path)) {
    return false;
  }
  const conf = JSON.parse(readFileSync(path, 'utf8')) as Json;
  return (conf.plugins ?? []).some((p: Json) => p.type === 'portmap');
}

/** Runs the node's portmap plugin for a pod: ADD after the pod's address is set up, DEL before it goes. */
export function runPortmap(
  command: 'ADD' | 'DEL',
  node: SimNode,
  pod: { readonly uid: string; readonly netns: string; readonly ip: string },
  mappings: readonly PortMapping[],
): void {
  const bin = join(node.root, 'opt', 'cni', 'bin');
  const sandbox = `/var/run/netns/${pod.netns}`;
  const conf = {
    cniVersion: '0.3.1',
    name: 'portmap',
    type: 'portmap',
    capabilities: { portMappings: true },
    runtimeConfig: { portMappings: mappings },
    ...(command === 'ADD'
      ? {
          prevResult: {
            cniVersion: '0.3.1',
            interfaces: [{ name: 'eth0', sandbox }],
            ips: [{ version: '4', address: `${pod.ip}/32`, interface: 0 }],
          },
        }
      : {}),
  };
  execFileSync('ip', ['netns', 'exec', node.netns, join(bin, 'portmap')], {
    input: JSON.stringify(conf),
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: pod.uid,
      CNI_NETNS: sandbox,
      CNI_IFNAME: 'eth0',
      CNI_PATH: bin,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
