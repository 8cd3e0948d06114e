/**
 * The simulated kubelet of every node: binds pending pods to nodes, gives each a network (its
 * node's for host-network pods; from the node's CNI otherwise, see below), runs the pods of the
 * tool's images with their real program (pod-runner.ts), simulates the others (Cilium's agent and
 * operator through cilium.ts, CoreDNS and the ingress controller through their stand-in servers,
 * anything else Running and Ready), confirms graceful deletions, reports each node's Ready
 * condition from its CNI config, and serves container logs to the API server.
 *
 * A pod's network comes from the first CNI config in the node's /etc/cni/net.d, as containerd's
 * go-cni loads it: Cilium's gives the pod its own namespace and address (once the agent is
 * ready); Calico's an address from the node's IPAM block and no network (the broken data path the
 * cutover replaces); none leaves the pod Pending, and the node NotReady (NetworkPluginNotReady).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { formatIpv4, parseCidr } from '../../lib/cidr.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { putNodeCondition, type SimApi } from './api.ts';
import { CILIUM_CNI_FILE, firstCniConfig, type PodAddress, type SimCilium } from './cilium.ts';
import { dataPathWriter, resolvConf } from './data-path.ts';
import { kubeletPort, STOP_SECONDS_ANNOTATION } from './fixture.ts';
import { deleteNetns, ip } from './netns.ts';
import { calicoBlock } from './node-host.ts';
import { labelsMatch, placement } from './scheduling.ts';
import { startPod, type ContainerRun, type PodJson, type RunningContainer, type SimNode } from './pod-runner.ts';

const HERE = new URL('.', import.meta.url).pathname;
type Json = Record<string, any>;

/**
 * The Ready condition the kubelet reports while the runtime's network is not ready: containerd's
 * CRI Status (NetworkReady=false, reason NetworkPluginNotReady, go-cni's "cni plugin not
 * initialized") as kubelet's runtime state words it (pkg/kubelet/kubelet.go updateRuntimeUp,
 * pkg/kubelet/nodestatus/setters.go ReadyCondition).
 */
export const NETWORK_NOT_READY_MESSAGE =
  'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

export interface KubeletOptions {
  readonly api: SimApi;
  readonly config: ResolvedConfig;
  readonly nodes: readonly SimNode[];
  /** The simulation's working directory (pods' volumes and roots go below it). */
  readonly run: string;
  /** Key and certificate of the log servers. */
  readonly tls: { readonly key: string; readonly cert: string };
  readonly kubeletBasePort: number;
  readonly cilium: SimCilium;
  readonly netnsPrefix: string;
  /** Labels of the ingress controller's pods (its stand-in proxy runs in them). */
  readonly ingressLabels?: Readonly<Record<string, string>>;
  /** Labels of pods whose container keeps exiting: Running, never Ready, in CrashLoopBackOff. */
  readonly crashLoopingLabels?: Readonly<Record<string, string>>;
  /** Nodes whose Cilium agent pod restarts every few seconds, Ready whenever it is read (Scenario.agentRestarting). */
  readonly restartingAgents?: readonly string[];
  /** The ingress controller redirects HTTP to HTTPS and serves HTTPS on 443 (Scenario.ingress.redirectHttps). */
  readonly ingressRedirect?: boolean;
}

export interface Kubelet {
  /** Stops a node's kubelet (its pods stay as they are, deletions stay pending) or starts it again. */
  setNodeDown(name: string, down: boolean): void;
  /**
   * Makes a node's Cilium agent unhealthy (its health endpoint gone, its pod not Ready: an agent
   * that crashed after it started) or healthy again.
   */
  setAgentHealthy(name: string, healthy: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Whether the pod is Cilium's agent (its image). */
function isCiliumAgent(pod: Json): boolean {
  return pod.spec.containers.some(
    (c: Json) => c.image.startsWith('quay.io/cilium/cilium:') || c.image.startsWith('quay.io/cilium/cilium@'),
  );
}

/**
 * calico-node's preStop hook, `calico-node -shutdown`, sets the node's NetworkUnavailable=True,
 * reason CalicoIsDown (projectcalico/calico node/pkg/lifecycle/shutdown/shutdown.go). The kubelet
 * runs a preStop hook only when the pod's grace period is above 0 (kuberuntime_container.go,
 * killContainer), and the manifest's calico-node has 0, so by default the hook never runs.
 */
function runsCalicoShutdown(pod: Json): boolean {
  return (
    (pod.metadata.deletionGracePeriodSeconds ?? 0) > 0 &&
    pod.spec.containers.some((c: Json) => c.image.startsWith('docker.io/calico/node:') && c.lifecycle?.preStop)
  );
}

/** A pod whose container exits each time it starts, as the kubelet reports it between restarts. */
function crashLoopStatus(pod: Json): Json {
  const now = new Date().toISOString();
  return {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now }],
    containerStatuses: pod.spec.containers.map((c: Json) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      restartCount: 5,
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 2m40s restarting failed container=${c.name}` } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
    })),
  };
}

/** What the kubelet keeps of a pod it started. */
interface PodRecord {
  readonly pod: Json;
  readonly node: SimNode;
  readonly address?: PodAddress;
  readonly calicoNetns?: string;
  readonly processes: ChildProcess[];
  container?: RunningContainer;
  /** A timer that changes the pod's status (an agent's growing restart count). */
  timer?: NodeJS.Timeout;
}

/** Starts the kubelet loop and the log servers. */
export function startKubelet(options: KubeletOptions): Kubelet {
  const { api, config, nodes, run, cilium } = options;
  // Container logs, by namespace/pod, served to the API server on each node's kubelet port.
  const logs = new Map<string, () => string>();
  const servers: Server[] = nodes.map((_, i) => {
    const server = createServer(options.tls, (req, res) => {
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/[^/?]+/.exec(req.url ?? '');
      const text = match ? logs.get(`${match[1]}/${match[2]}`)?.() : undefined;
      if (text === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      const tail = Number(new URL(req.url!, 'https://x').searchParams.get('tailLines') ?? '0');
      const lines = text.split('\n');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(tail > 0 ? lines.slice(-tail - 1).join('\n') : text);
    });
    server.listen(kubeletPort(options.kubeletBasePort, i), '127.0.0.1');
    return server;
  });

  // Our images run their program; every other container is simulated.
  const ours = new Set([config.images.node, config.images.busybox].map((i) => i.repository));
  const runs = (image: string) => [...ours].some((repo) => image.startsWith(`${repo}:`) || image.startsWith(`${repo}@`));
  const isBusybox = (image: string) =>
    image.startsWith(`${config.images.busybox.repository}:`) || image.startsWith(`${config.images.busybox.repository}@`);
  const records = new Map<string, PodRecord>();
  const down = new Set<string>();
  const calicoNext = new Map<string, number>();
  let podNetns = 0;
  let running = true;
  const now = () => new Date().toISOString();

  // Once the simulation stops, a status still under way may meet the next test's API server (and
  // its certificate): what fails then is of no interest, and must not reject unhandled.
  const setStatus = async (pod: Json, status: Json) => {
    if (!running) {
      return;
    }
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`;
    try {
      const current = await api.call<Json>('GET', path);
      if (current.status === 200 && running) {
        await api.call('PUT', path, { ...current.body, status: { ...current.body.status, ...status } });
      }
    } catch (err) {
      if (running) {
        throw err;
      }
    }
  };
  const readyStatus = (pod: Json, ready: boolean) => ({
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now() }],
    containerStatuses: pod.spec.containers.map((c: Json) => ({
      name: c.name,
      image: c.image,
      imageID: c.image,
      ready,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: now() } },
    })),
  });

  /**
   * The kubelet's event for a sandbox the runtime could not make: containerd's error for a
   * failing CNI ADD (kubelet events.FailedCreatePodSandBox, a Warning on the pod).
   */
  const reportSandboxFailure = async (pod: Json, node: SimNode) => {
    await api.call('POST', `/api/v1/namespaces/${pod.metadata.namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${pod.metadata.name}.`, namespace: pod.metadata.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
      reason: 'FailedCreatePodSandBox',
      message: `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${pod.metadata.uid.slice(0, 12)}": plugin type="cilium-cni" failed (add): unable to allocate IP via local cilium agent`,
      type: 'Warning',
      source: { component: 'kubelet', host: node.name },
      firstTimestamp: now(),
      lastTimestamp: now(),
      count: 1,
    });
  };

  /** A process in a namespace, ended with the pod. */
  const serve = (record: PodRecord, netns: string, script: string, args: string[]) => {
    record.processes.push(
      spawn('ip', ['netns', 'exec', netns, process.execPath, join(HERE, 'servers', script), ...args], { stdio: 'ignore' }),
    );
  };

  // A pod whose endpoint its agent dropped has no network: its readiness probe fails (the
  // simulated containers of other projects; the tool's own programs meet the missing route).
  cilium.onEndpointDropped = (address) => {
    const record = [...records.values()].find((r) => r.address?.ip === address);
    if (record && !runs(record.pod.spec.containers[0].image)) {
      void setStatus(record.pod, readyStatus(record.pod, false)).catch(() => undefined);
    }
  };

  /** The pod's network: its node's, Cilium's, Calico's; undefined while there is none. */
  const sandbox = async (
    pod: Json,
    node: SimNode,
  ): Promise<(Pick<PodRecord, 'address' | 'calicoNetns'> & { netns: string; ip: string }) | undefined> => {
    const nodeIP = config.cluster.nodes[node.index]!.internalIP;
    if (pod.spec.hostNetwork) {
      return { netns: node.netns, ip: nodeIP };
    }
    const cni = firstCniConfig(node);
    if (cni === CILIUM_CNI_FILE) {
      const address = await cilium.addPod(pod, node);
      return address && { netns: address.netns, ip: address.ip, address };
    }
    if (cni === '10-calico.conflist') {
      // Calico's IPAM hands out an address; its data path is what the cutover replaces, so the pod
      // gets a namespace with loopback only.
      const host = (calicoNext.get(node.name) ?? 1) + 1;
      calicoNext.set(node.name, host);
      const netns = `${options.netnsPrefix}-c${++podNetns}`;
      ip('netns', 'add', netns);
      ip('-n', netns, 'link', 'set', 'lo', 'up');
      return { netns, ip: formatIpv4(parseCidr(calicoBlock(config, node.index))!.first + host), calicoNetns: netns };
    }
    return undefined;
  };

  /** Pods whose failed sandbox has been reported: the kubelet's event, once per pod here. */
  const sandboxFailures = new Set<string>();

  const start = async (pod: Json, node: SimNode) => {
    const net = await sandbox(pod, node);
    if (!net) {
      if (!pod.spec.hostNetwork && firstCniConfig(node) === CILIUM_CNI_FILE && !sandboxFailures.has(pod.metadata.uid)) {
        sandboxFailures.add(pod.metadata.uid);
        await reportSandboxFailure(pod, node);
      }
      return false;
    }
    const record: PodRecord = { pod, node, address: net.address, calicoNetns: net.calicoNetns, processes: [] };
    records.set(pod.metadata.uid, record);
    const isOurs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c: Json) => runs(c.image));
    const hostIP = config.cluster.nodes[node.index]!.internalIP;
    pod.status = { ...pod.status, podIP: net.ip };
    await setStatus(pod, {
      phase: 'Running',
      hostIP,
      podIP: net.ip,
      podIPs: [{ ip: net.ip }],
      startTime: now(),
      ...readyStatus(pod, false),
    });
    if (!isOurs) {
      await simulate(record, net.netns);
      return true;
    }
    const started = await startPod(
      api,
      pod as PodJson,
      node,
      join(run, 'pods', pod.metadata.uid),
      runs,
      {
        netns: net.netns,
        resolvConf: resolvConf(pod, config, node.root),
        busybox: pod.spec.containers.some((c: Json) => isBusybox(c.image)),
        defaultEnv: {
          KUBERNETES_SERVICE_HOST: formatIpv4(parseCidr(config.cluster.serviceCIDR)!.first + 1),
          KUBERNETES_SERVICE_PORT: '443',
        },
      },
      600_000,
    ).catch((err: Error): ContainerRun => ({ exitCode: 128, output: `simulated kubelet: ${err.message}\n` }));
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const finished = async (result: ContainerRun) => {
      logs.set(key, () => result.output);
      const main = pod.spec.containers[0];
      await setStatus(pod, {
        phase: result.exitCode === 0 ? 'Succeeded' : 'Failed',
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now() }],
        containerStatuses: [
          {
            name: main.name,
            image: main.image,
            imageID: main.image,
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: result.exitCode, reason: result.exitCode === 0 ? 'Completed' : 'Error', finishedAt: now() } },
          },
        ],
      });
    };
    if ('exitCode' in started) {
      await finished(started);
      return true;
    }
    record.container = started;
    logs.set(key, started.output);
    if (pod.spec.restartPolicy === 'Always') {
      // A server (the echo backend): Ready once its readiness probe answers.
      void probeUntilReady(pod, node, net.ip).catch((err: Error) => running && console.error(`simulated kubelet: ${err.message}`));
    } else {
      void started.done.then(finished).catch((err: Error) => running && console.error(`simulated kubelet: ${err.message}`));
    }
    return true;
  };

  const probeUntilReady = async (pod: Json, node: SimNode, podIP: string) => {
    const probe = pod.spec.containers[0].readinessProbe?.httpGet;
    for (let i = 0; i < 240 && running && records.has(pod.metadata.uid); i++) {
      const ok =
        !probe ||
        spawnSync('ip', [
          'netns',
          'exec',
          node.netns,
          'curl',
          '-sf',
          '-m',
          '2',
          '-o',
          '/dev/null',
          `http://${podIP}:${probe.port}${probe.path ?? '/'}`,
        ]).status === 0;
      if (ok) {
        await setStatus(pod, readyStatus(pod, true));
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  /** Pods of other projects: Cilium's, CoreDNS and the ingress controller with their stand-ins, the rest just Ready. */
  const simulate = async (record: PodRecord, netns: string) => {
    const { pod, node } = record;
    const images: string[] = pod.spec.containers.map((c: Json) => c.image);
    const ready = () => setStatus(pod, readyStatus(pod, true));
    if (images.some((i) => i.startsWith('quay.io/cilium/operator'))) {
      void cilium
        .startOperator()
        .then(ready)
        .catch((err: Error) => running && console.error(`simulated operator: ${err.message}`));
    } else if (isCiliumAgent(pod)) {
      // Once the simulation stops, a start still under way may meet the next test's API server.
      void cilium
        .startAgent(node)
        .then(() => (cilium.agentReady(node.name) ? ready() : undefined))
        .catch((err: Error) => running && console.error(`simulated agent on ${node.name}: ${err.message}`));
      if (options.restartingAgents?.includes(node.name)) {
        // Restarts between two looks: Ready each time, one restart more each time.
        let restarts = 0;
        record.timer = setInterval(() => {
          restarts++;
          const status = readyStatus(pod, true);
          void setStatus(pod, {
            ...status,
            containerStatuses: status.containerStatuses.map((c: Json) => ({ ...c, restartCount: restarts })),
          }).catch((err: Error) => running && console.error(`simulated agent on ${node.name}: ${err.message}`));
        }, 4000);
      }
    } else if (pod.metadata.labels?.['k8s-app'] === 'kube-dns') {
      if (record.address) {
        serve(record, netns, 'dns-server.mjs', ['0.0.0.0', '53', join(run, 'dns-records.json')]);
      }
      await ready();
    } else if (images.some((i) => i.startsWith('rancher/klipper-lb'))) {
      // k3s ServiceLB's pod holds the Service's port on the node through its hostPort; its
      // stand-in answers on the container port (the real one forwards to the Service).
      if (record.address) {
        for (const port of pod.spec.containers[0].ports ?? []) {
          serve(record, netns, 'http-server.mjs', ['0.0.0.0', String(port.containerPort), '200']);
        }
      }
      await ready();
    } else if (options.crashLoopingLabels && labelsMatch(pod.metadata.labels, options.crashLoopingLabels)) {
      await setStatus(pod, crashLoopStatus(pod));
    } else if (options.ingressLabels && labelsMatch(pod.metadata.labels, options.ingressLabels)) {
      if (record.address || pod.spec.hostNetwork) {
        const port = pod.spec.containers[0].ports?.[0]?.containerPort ?? 80;
        const tls = options.ingressRedirect ? ingressTls() : [];
        serve(record, netns, 'ingress-proxy.mjs', ['0.0.0.0', String(port), join(run, 'ingress-routes.json'), ...tls]);
      }
      await ready();
    } else {
      await ready();
    }
  };

  /** The redirect's arguments: the HTTPS port and the API server's key pair, standing in for Traefik's default certificate. */
  const ingressTls = (): string[] => {
    const key = join(run, 'ingress-tls.key');
    const cert = join(run, 'ingress-tls.crt');
    writeFileSync(key, options.tls.key, { mode: 0o600 });
    writeFileSync(cert, options.tls.cert);
    return ['443', key, cert];
  };

  const teardown = async (record: PodRecord) => {
    records.delete(record.pod.metadata.uid);
    clearInterval(record.timer);
    record.processes.forEach((p) => p.kill());
    record.container?.child.kill('SIGKILL');
    const images: string[] = record.pod.spec.containers.map((c: Json) => c.image);
    if (isCiliumAgent(record.pod)) {
      cilium.stopAgent(record.node.name);
    }
    if (images.some((i) => i.startsWith('quay.io/cilium/operator'))) {
      cilium.stopOperator();
    }
    if (record.address) {
      await cilium.removePod(record.pod, record.address);
    }
    if (record.calicoNetns) {
      deleteNetns(record.calicoNetns);
    }
  };

  /** A node's NetworkUnavailable condition set to True, as a component on the node does. */
  const setNetworkUnavailable = async (name: string, reason: string, message: string) => {
    const object = (await api.call<Json>('GET', `/api/v1/nodes/${name}`)).body;
    await putNodeCondition(api, object, { type: 'NetworkUnavailable', status: 'True', reason, message });
  };

  /** Each node's Ready condition: Unknown when its kubelet is down, else from its CNI config. */
  const reportNodes = async (nodeObjects: readonly Json[]) => {
    for (const object of nodeObjects) {
      const node = nodes.find((n) => n.name === object.metadata.name);
      if (!node) {
        continue;
      }
      const condition = down.has(node.name)
        ? { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' }
        : firstCniConfig(node)
          ? { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
          : { status: 'False', reason: 'KubeletNotReady', message: NETWORK_NOT_READY_MESSAGE };
      const current = (object.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
      if (current?.status === condition.status && current?.reason === condition.reason) {
        continue;
      }
      await putNodeCondition(api, object, { type: 'Ready', ...condition });
    }
  };

  const writeDataPath = dataPathWriter(run);

  const list = async (path: string): Promise<Json[]> =>
    (await api.call<{ items?: Json[] }>('GET', path).catch(() => undefined))?.body.items ?? [];

  /** Every pod; throws rather than answer an empty list, which would end every pod. */
  const podList = async (): Promise<Json[]> => {
    const answer = await api.call<{ items?: Json[] }>('GET', '/api/v1/pods');
    if (answer.status !== 200 || !answer.body.items) {
      throw new Error(`listing pods: HTTP ${answer.status}`);
    }
    return answer.body.items;
  };

  const loop = (async () => {
    while (running) {
      try {
        const [pods, nodeObjects, services, endpoints, ingresses] = await Promise.all([
          podList(),
          list('/api/v1/nodes'),
          list('/api/v1/services'),
          list('/api/v1/endpoints'),
          list('/apis/networking.k8s.io/v1/ingresses'),
        ]);
        await reportNodes(nodeObjects);
        writeDataPath(services, ingresses);
        await cilium.sync(services, endpoints, pods, nodeObjects);
        for (const pod of pods) {
          if (pod.spec.nodeName && down.has(pod.spec.nodeName)) {
            continue;
          }
          if (pod.metadata.deletionTimestamp && pod.spec.nodeName) {
            // The kubelet stops the containers, then confirms the graceful deletion; a pod whose
            // process takes a while after SIGTERM (the scenario's stopSeconds) is confirmed then.
            const stopMs = Number(pod.metadata.annotations?.[STOP_SECONDS_ANNOTATION] ?? 0) * 1000;
            if (
              stopMs > 0 &&
              Date.now() < Date.parse(pod.metadata.deletionTimestamp) - pod.metadata.deletionGracePeriodSeconds * 1000 + stopMs
            ) {
              continue;
            }
            const record = records.get(pod.metadata.uid);
            if (record && runsCalicoShutdown(pod)) {
              await setNetworkUnavailable(record.node.name, 'CalicoIsDown', 'Calico is shutting down on this node');
            }
            if (record) {
              await teardown(record);
            }
            await api.call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, { gracePeriodSeconds: 0 });
            continue;
          }
          if (records.has(pod.metadata.uid) || pod.metadata.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase)) {
            continue;
          }
          const candidates = placement(pod, nodeObjects, pods, down);
          const node = candidates[0] && nodes.find((n) => n.name === candidates[0]!.metadata.name);
          if (!node) {
            continue;
          }
          if (!pod.spec.nodeName) {
            await api.call('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/binding`, {
              apiVersion: 'v1',
              kind: 'Binding',
              metadata: { name: pod.metadata.name },
              target: { apiVersion: 'v1', kind: 'Node', name: node.name },
            });
            pod.spec.nodeName = node.name;
          }
          await start(pod, node);
        }
        // Pods deleted at once (grace period 0) are gone from the API without a graceful phase.
        const listed = new Set(pods.map((p) => p.metadata.uid));
        for (const record of [...records.values()]) {
          if (!listed.has(record.pod.metadata.uid) && !down.has(record.node.name)) {
            await teardown(record);
          }
        }
      } catch (err) {
        console.error(`simulated kubelet: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  return {
    setAgentHealthy: async (name, healthy) => {
      const record = [...records.values()].find((r) => r.node.name === name && isCiliumAgent(r.pod));
      if (!record) {
        throw new Error(`simulated kubelet: no Cilium agent runs on ${name}`);
      }
      cilium.hold(name, !healthy);
      if (healthy) {
        await cilium.startAgent(record.node);
      } else {
        cilium.stopAgent(name);
      }
      await setStatus(record.pod, readyStatus(record.pod, healthy));
    },
    setNodeDown: (name, isDown) => {
      if (isDown) {
        down.add(name);
      } else {
        down.delete(name);
      }
    },
    stop: async () => {
      running = false;
      await loop;
      for (const record of [...records.values()]) {
        clearInterval(record.timer);
        record.processes.forEach((p) => p.kill());
        record.container?.child.kill('SIGKILL');
        if (record.address) {
          deleteNetns(record.address.netns);
        }
        if (record.calicoNetns) {
          deleteNetns(record.calicoNetns);
        }
      }
      cilium.stop();
      servers.forEach((s) => s.close());
    },
  };
}
