/**
 * Entry point of the per-node preflight Jobs (host network, read-only host binaries under /host).
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { apiClient, objectPath } from './shared/api-client.ts';
import {
  HOST_TOOLS,
  interfaceFor,
  judgeApiServer,
  judgeKubeProxyPort,
  judgeMtu,
  judgePeerRoutes,
  judgeTools,
  parseRoutes,
  type NodePreflightSpec,
  type PeerNode,
} from './node-checks.ts';
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

/** The MTU of an interface, from the node's sysfs (the host network's, in a host-network pod). */
function linkMtu(iface: string | undefined): number | undefined {
  if (iface === undefined) {
    return undefined;
  }
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/mtu`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/node-preflight.json', 'utf8')) as NodePreflightSpec;
  const self = process.env.NODE_NAME ?? 'unknown';
  const namespace = process.env.POD_NAMESPACE ?? '';
  const results: CheckResult[] = [];
  if (spec.kubeProxyReplacement) {
    results.push(judgeKubeProxyPort(self, await answers(10256)));
  }
  const found = new Set(HOST_TOOLS.filter((t) => HOST_BIN_DIRS.some((d) => existsSync(`${d}/${t}`))));
  results.push(judgeTools(self, found));
  // The Job reaches the API at cluster.apiServer, as Cilium's agents will.
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1';
  const port = Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444');
  const api = apiClient(host, port, 3, 1000);
  // The node list is a ConfigMap of its own, so a node added to the config renames no other node's Job.
  let list: { data?: Record<string, string> } | undefined;
  let unreachable: string | undefined;
  try {
    list = await api.get<{ data?: Record<string, string> }>(objectPath('', 'v1', 'configmaps', namespace, spec.nodeList));
  } catch (err) {
    unreachable = (err as Error).message;
  }
  results.push(judgeApiServer(self, `${host}:${port}`, unreachable));
  const routes = parseRoutes(readFileSync('/proc/net/route', 'utf8'));
  const peers = (JSON.parse(list?.data?.['nodes.json'] ?? '[]') as PeerNode[]).filter((n) => n.name !== self);
  if (unreachable === undefined && list === undefined) {
    results.push({
      outcome: 'FAIL',
      check: 'peer-routes',
      subject: self,
      detail: `no ConfigMap ${namespace}/${spec.nodeList}: apply the whole step 000-preflight, which holds it`,
    });
  } else if (unreachable === undefined) {
    const withPods = await Promise.all(
      peers.map(async (peer) => {
        const node = await api.get<{ spec?: { podCIDR?: string } }>(objectPath('', 'v1', 'nodes', undefined, peer.name));
        return { ...peer, ...(node?.spec?.podCIDR ? { podCIDR: node.spec.podCIDR } : {}) };
      }),
    );
    results.push(judgePeerRoutes(self, spec, withPods, routes));
  }
  const iface = peers[0] ? interfaceFor(routes, peers[0].internalIP) : undefined;
  results.push(judgeMtu(self, spec, iface, linkMtu(iface)));
  return printResults(results);
}

runMain(main, (message) => [`FAIL node-preflight: ${message}`]);
