/**
 * Entry point of the per-node preflight Jobs (host network, read-only host binaries under /host).
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { apiClient, objectPath } from './shared/api-client.ts';
import { HOST_TOOLS, judgeKubeProxyPort, judgePodRoute, judgeTools, parseRoutes, type NodePreflightSpec } from './node-checks.ts';
import { printResults, runMain, type CheckResult } from './shared/report.ts';

const HOST_BIN_DIRS = ['/host/usr/sbin', '/host/sbin', '/host/usr/bin', '/host/bin'];

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 2000 });
    socket.on('connect', () => (socket.destroy(), resolve(true)));
    socket.on('timeout', () => (socket.destroy(), resolve(false)));
    socket.on('error', () => resolve(false));
  });
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/node-preflight.json', 'utf8')) as NodePreflightSpec;
  const self = process.env.NODE_NAME ?? 'unknown';
  const results: CheckResult[] = [];
  if (spec.kubeProxyReplacement) {
    results.push(judgeKubeProxyPort(self, await answers(10256)));
  }
  const found = new Set(HOST_TOOLS.filter((t) => HOST_BIN_DIRS.some((d) => existsSync(`${d}/${t}`))));
  results.push(judgeTools(self, found));
  if (spec.profile === 'hetzner-cloud') {
    const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));
    // The peer is set per Job (the next node in the config), so the shared spec names no node and a
    // node added to the cluster renames no other node's Job.
    const peer = { name: process.env.PEER_NODE ?? '', internalIP: process.env.PEER_IP ?? '' };
    let other: { name: string; internalIP: string; podCIDR: string } | undefined;
    if (peer.name !== '') {
      const node = await api.get<{ spec?: { podCIDR?: string } }>(objectPath('', 'v1', 'nodes', undefined, peer.name));
      other = node?.spec?.podCIDR ? { ...peer, podCIDR: node.spec.podCIDR } : undefined;
    }
    results.push(judgePodRoute(self, other, parseRoutes(readFileSync('/proc/net/route', 'utf8'))));
  }
  return printResults(results);
}

runMain(main, (message) => [`FAIL node-preflight: ${message}`]);
