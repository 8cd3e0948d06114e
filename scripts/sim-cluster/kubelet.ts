/**
 * The simulated kubelet: binds pending pods to nodes, runs the pods of the tool's Jobs with their
 * real program (pod-runner.ts), marks every other pod Running and Ready, confirms graceful
 * deletions, and serves container logs to the API server on each node's kubelet port.
 */
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import type { SimApi } from './api.ts';
import { kubeletPort } from './fixture.ts';
import { runPod, type PodJson, type SimNode } from './pod-runner.ts';

export interface KubeletOptions {
  readonly api: SimApi;
  readonly config: ResolvedConfig;
  readonly nodes: readonly SimNode[];
  /** The simulation's working directory (pods' volumes and roots go below it). */
  readonly run: string;
  /** Key and certificate of the log servers. */
  readonly tls: { readonly key: string; readonly cert: string };
  readonly kubeletBasePort: number;
}

export interface Kubelet {
  stop(): Promise<void>;
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

/** Starts the kubelet loop and the log servers. */
export function startKubelet(options: KubeletOptions): Kubelet {
  const { api, config, nodes, run } = options;
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
    server.listen(kubeletPort(options.kubeletBasePort, i), '127.0.0.1');
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
      // The nodes are read only when a pod waits for one, once per pass.
      let nodeObjects: Record<string, any>[] | undefined;
      for (const pod of pods?.body.items ?? []) {
        if (pod.metadata.deletionTimestamp && pod.spec.nodeName) {
          // The kubelet confirms a graceful deletion once the containers stopped: at once here.
          await api.call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, { gracePeriodSeconds: 0 });
          continue;
        }
        if (handled.has(pod.metadata.uid) || pod.metadata.deletionTimestamp || ['Succeeded', 'Failed'].includes(pod.status?.phase)) {
          continue;
        }
        nodeObjects ??= (await api.call<{ items: Record<string, any>[] }>('GET', '/api/v1/nodes').catch(() => undefined))?.body.items ?? [];
        const target = nodeObjects.find((n) => fits(pod, n));
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

  return {
    stop: async () => {
      running = false;
      await loop;
      servers.forEach((s) => s.close());
    },
  };
}
