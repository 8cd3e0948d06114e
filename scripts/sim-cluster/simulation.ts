/**
 * The simulated k3s + Calico cluster on the test control plane: the fixture objects of a config,
 * a network namespace per node where 127.0.0.1:6444 reaches the API server (as k3s's supervisor
 * port does on a node), and a kubelet that binds pending pods to nodes and runs the pods of the
 * tool's Jobs with their real program (pod-runner.ts); other pods (CoreDNS, Cilium, the
 * applications) are marked Running and Ready. Container logs are served to the API server, so
 * `kubectl logs` and `apply` read them as on a real cluster. See docs/testing.md "The simulated
 * cluster" for what is a stand-in.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCidr } from '../../lib/cidr.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { simApi, type SimApi } from './api.ts';
import * as fixture from './fixture.ts';
import { runPod, type PodJson, type SimNode } from './pod-runner.ts';

const HERE = new URL('.', import.meta.url).pathname;
/** The first port of the simulated kubelets' log servers (one per node). */
const KUBELET_BASE_PORT = 20250;

export interface SimulationOptions {
  readonly kubeconfig: string;
  readonly config: ResolvedConfig;
  /** @default {} */
  readonly scenario?: fixture.Scenario;
  /**
   * The kube-apiserver's key and certificate the log servers present (the API server does not
   * verify them; they only make the connection TLS).
   */
  readonly tls: { readonly key: string; readonly cert: string };
}

export interface Simulation {
  readonly api: SimApi;
  readonly nodes: readonly SimNode[];
  /** Logs of a pod's containers as the runner captured them (namespace/name). */
  logs(namespace: string, pod: string): string | undefined;
  stop(): Promise<void>;
}

/** Plural of each kind the fixture creates. */
const PLURALS: Readonly<Record<string, string>> = {
  Node: 'nodes',
  Namespace: 'namespaces',
  CustomResourceDefinition: 'customresourcedefinitions',
  DaemonSet: 'daemonsets',
  Deployment: 'deployments',
  ConfigMap: 'configmaps',
  Service: 'services',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  ETCDSnapshotFile: 'etcdsnapshotfiles',
};

function pluralOf(kind: string): string {
  return PLURALS[kind] ?? `${kind.toLowerCase()}${kind.endsWith('y') ? '' : 's'}`.replace(/ys$/, 'ies').replace(/ss$/, 'sses');
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`simulation: ${what} did not happen within ${timeoutMs / 1000}s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates the fixture objects of a config on the API server. */
export async function createFixture(api: SimApi, config: ResolvedConfig, scenario: fixture.Scenario): Promise<void> {
  const apply = (o: fixture.Obj) => api.apply(o, pluralOf(o.kind));
  for (const node of fixture.nodes(config, KUBELET_BASE_PORT)) {
    await apply(node);
    // The API server taints a new node not-ready; the node lifecycle controller (not run here)
    // lifts it once the kubelet reports Ready, which a Ready node has.
    await api.call('PATCH', `/api/v1/nodes/${node.metadata.name}`, { spec: { taints: null } }, 'application/merge-patch+json');
  }
  const calico = fixture.calico(config, scenario);
  for (const crd of calico.filter((o) => o.kind === 'CustomResourceDefinition')) {
    await apply(crd);
  }
  const snapshots = fixture.etcdSnapshots(config, scenario);
  await apply(snapshots.crd);
  // A new CRD serves its resources a moment after it is created.
  await waitFor(
    async () => (await api.call('GET', '/apis/crd.projectcalico.org/v1/ippools')).status === 200,
    'the Calico CRDs being served',
  );
  await waitFor(
    async () => (await api.call('GET', '/apis/k3s.cattle.io/v1/etcdsnapshotfiles')).status === 200,
    'the snapshot CRD being served',
  );
  for (const obj of [
    ...calico.filter((o) => o.kind !== 'CustomResourceDefinition'),
    ...fixture.calicoResources(config, scenario),
    ...snapshots.snapshots,
    ...fixture.coreDns(),
    ...fixture.cloudController(config),
    ...fixture.applications(scenario),
  ]) {
    const plural = obj.apiVersion.startsWith('crd.projectcalico.org')
      ? obj.kind.toLowerCase().replace(/y$/, 'ie') + 's'
      : pluralOf(obj.kind);
    await api.apply(obj, plural);
  }
}

/** The tools a k3s node's host has, which the node Jobs look for (stand-ins: empty programs). */
const HOST_TOOLS = ['bash', 'iptables-legacy-save', 'iptables-nft-save', 'iptables-save', 'ipset', 'ip'];

/** The first usable address of a CIDR (a Hetzner Cloud network's gateway). */
function gatewayOf(cidr: string): string {
  const first = parseCidr(cidr)!.first + 1;
  return [24, 16, 8, 0].map((s) => (first >>> s) & 255).join('.');
}

/**
 * Makes a node's network namespace (its private interface, addresses and routes as the profile
 * has them) and root directory, and starts the forwarder of its 127.0.0.1:6444.
 */
function startNode(
  config: ResolvedConfig,
  index: number,
  run: string,
  apiSocket: string,
  scenario: fixture.Scenario,
): { node: SimNode; forwarder: ChildProcess } {
  const { name, internalIP } = config.cluster.nodes[index]!;
  const netns = `ccsim-${process.pid}-${simulations}-${index}`;
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
        ip('-n', netns, 'route', 'add', fixture.nodePodCidr(config, i), 'via', peer.internalIP, 'dev', 'eth1', 'proto', 'bird');
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

/** Whether a pending pod may run on a node: nodeName, nodeSelector and `metadata.name` field affinity. */
function fits(pod: Record<string, any>, node: Record<string, any>): boolean {
  const spec = pod.spec;
  if (spec.nodeName) {
    return spec.nodeName === node.metadata.name;
  }
  const labels: Record<string, string> = node.metadata.labels ?? {};
  if (Object.entries(spec.nodeSelector ?? {}).some(([k, v]) => labels[k] !== v)) {
    return false;
  }
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms) {
    return terms.some((t: any) =>
      (t.matchFields ?? []).every((f: any) =>
        f.key === 'metadata.name' ? (f.operator === 'In') === f.values.includes(node.metadata.name) : true,
      ),
    );
  }
  return true;
}

/** Simulations started by this process: part of the network namespaces' names. */
let simulations = 0;

/** Starts the simulation: fixture, node namespaces, kubelet. */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  simulations++;
  const { config } = options;
  const api = simApi(options.kubeconfig);
  const run = mkdtempSync(join(tmpdir(), 'ccsim-'));
  await createFixture(api, config, options.scenario ?? {});

  const apiSocket = join(run, 'api.sock');
  const children: ChildProcess[] = [];
  const hostSide = spawn(process.execPath, [join(HERE, 'forward.mjs'), 'unix', apiSocket, api.server.hostname, api.server.port], {
    stdio: 'ignore',
  });
  children.push(hostSide);
  const started = config.cluster.nodes.map((_, i) => startNode(config, i, run, apiSocket, options.scenario ?? {}));
  children.push(...started.map((s) => s.forwarder));
  const nodes = started.map((s) => s.node);

  // Container logs, by namespace/pod, served to the API server on each node's kubelet port.
  const logs = new Map<string, string>();
  const servers: Server[] = nodes.map((_, i) => {
    const server = createServer(options.tls, (req, res) => {
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/[^/?]+/.exec(req.url ?? '');
      const text = match ? logs.get(`${match[1]}/${match[2]}`) : undefined;
      if (text === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      const tail = Number(new URL(req.url!, 'https://x').searchParams.get('tailLines') ?? '0');
      const lines = text.split('\n');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(tail > 0 ? lines.slice(-tail - 1).join('\n') : text);
    });
    server.listen(fixture.kubeletPort(KUBELET_BASE_PORT, i), '127.0.0.1');
    return server;
  });

  // Our Jobs' images run their program; every other container is simulated.
  const ours = new Set([config.images.node, config.images.busybox].map((i) => i.repository));
  const runs = (image: string) => [...ours].some((repo) => image.startsWith(`${repo}:`) || image.startsWith(`${repo}@`));
  const handled = new Set<string>();
  let running = true;

  const setStatus = async (pod: Record<string, any>, status: Record<string, unknown>) => {
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`;
    const current = await api.call<Record<string, any>>('GET', path);
    if (current.status === 200) {
      await api.call('PUT', path, { ...current.body, status: { ...current.body.status, ...status } });
    }
  };
  const now = () => new Date().toISOString();

  const start = async (pod: Record<string, any>, node: SimNode) => {
    const container = pod.spec.containers[0].name;
    const isOurs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c: any) => runs(c.image));
    await setStatus(pod, {
      phase: 'Running',
      hostIP: config.cluster.nodes.find((n) => n.name === node.name)!.internalIP,
      startTime: now(),
      conditions: [{ type: 'Ready', status: isOurs ? 'False' : 'True', lastTransitionTime: now() }],
      containerStatuses: pod.spec.containers.map((c: any) => ({
        name: c.name,
        image: c.image,
        imageID: c.image,
        ready: !isOurs,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: now() } },
      })),
    });
    if (!isOurs) {
      return;
    }
    const result = await runPod(api, pod as PodJson, node, join(run, 'pods', pod.metadata.uid), runs, 600_000).catch((err: Error) => ({
      exitCode: 128,
      output: `simulated kubelet: ${err.message}\n`,
    }));
    logs.set(`${pod.metadata.namespace}/${pod.metadata.name}`, result.output);
    await setStatus(pod, {
      phase: result.exitCode === 0 ? 'Succeeded' : 'Failed',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now() }],
      containerStatuses: [
        {
          name: container,
          image: pod.spec.containers[0].image,
          imageID: pod.spec.containers[0].image,
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: result.exitCode, reason: result.exitCode === 0 ? 'Completed' : 'Error', finishedAt: now() } },
        },
      ],
    });
  };

  const loop = (async () => {
    while (running) {
      const pods = await api.call<{ items: Record<string, any>[] }>('GET', '/api/v1/pods').catch(() => undefined);
      const nodeObjects = await api.call<{ items: Record<string, any>[] }>('GET', '/api/v1/nodes').catch(() => undefined);
      for (const pod of pods?.body.items ?? []) {
        if (pod.metadata.deletionTimestamp && pod.spec.nodeName) {
          // The kubelet confirms a graceful deletion once the containers stopped: at once here.
          await api.call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, { gracePeriodSeconds: 0 });
          continue;
        }
        if (handled.has(pod.metadata.uid) || pod.metadata.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase)) {
          continue;
        }
        const target = (nodeObjects?.body.items ?? []).find((n) => fits(pod, n));
        const node = target && nodes.find((n) => n.name === target.metadata.name);
        if (!node) {
          continue;
        }
        handled.add(pod.metadata.uid);
        if (!pod.spec.nodeName) {
          await api.call('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/binding`, {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: pod.metadata.name },
            target: { apiVersion: 'v1', kind: 'Node', name: node.name },
          });
          pod.spec.nodeName = node.name;
        }
        void start(pod, node);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const stop = async () => {
    running = false;
    await loop;
    servers.forEach((s) => s.close());
    children.forEach((c) => c.kill());
    for (const node of nodes) {
      // Whatever still runs in the node's namespace (a forwarder, a container) goes with it.
      const pids = spawnSync('ip', ['netns', 'pids', node.netns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      pids.forEach((pid) => spawnSync('kill', ['-KILL', pid]));
      spawnSync('ip', ['netns', 'delete', node.netns]);
    }
    rmSync(run, { recursive: true, force: true });
  };
  // Steady state before anything is applied: calico-node runs and is ready on every node.
  try {
    await waitFor(
      async () => {
        const ds = await api.call<{ status?: { numberReady?: number } }>(
          'GET',
          '/apis/apps/v1/namespaces/kube-system/daemonsets/calico-node',
        );
        return ds.status !== 200 || ds.body.status?.numberReady === nodes.length;
      },
      'calico-node ready on every node',
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { api, nodes, logs: (namespace, pod) => logs.get(`${namespace}/${pod}`), stop };
}
