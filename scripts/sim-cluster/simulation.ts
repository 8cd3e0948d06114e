/**
 * The simulated k3s + Calico cluster on the test control plane: the fixture objects of a config,
 * a network namespace per node where 127.0.0.1:6444 reaches the API server (as k3s's supervisor
 * port does on a node), and a kubelet that binds pending pods to nodes and runs the pods of the
 * tool's Jobs with their real program (pod-runner.ts); other pods (CoreDNS, Cilium, the
 * applications) are marked Running and Ready. Container logs are served to the API server, so
 * `kubectl logs` and `apply` read them as on a real cluster. See docs/testing.md "The simulated
 * cluster" for what is a stand-in. nodes.ts makes the nodes, kubelet.ts runs the pods.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { evictionRenames, toSimulationLevel } from './api-level.ts';
import { simApi, type SimApi } from './api.ts';
import { CRD_KINDS, calicoObjects, calicoResources } from './calico-fixture.ts';
import * as fixture from './fixture.ts';
import { SimCilium, type AgentStatusOverride } from './cilium.ts';
import { startKubelet, type Kubelet } from './kubelet.ts';
import { startNetwork, stopNetwork } from './network.ts';
import { startNode, stopNode } from './nodes.ts';
import type { SimNode } from './pod-runner.ts';

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
  readonly nodes: readonly SimNode[];
  /** What the fixture could not create as it is at the simulation's API level (api-level.ts), and how it was created instead. */
  readonly levelChanges: readonly string[];
  /** The node's kubelet stops (its pods stay, deletions stay pending, the node turns Unknown), or starts again. */
  setNodeDown(name: string, down: boolean): void;
  /** The node's Cilium agent turns unhealthy (health endpoint gone, pod not Ready), or healthy again. */
  setAgentHealthy(name: string, healthy: boolean): Promise<void>;
  /** What the node's Cilium agent reports of itself on its API socket from now on. */
  setAgentStatus(name: string, override: AgentStatusOverride): Promise<void>;
  /** The node's Cilium CNI plugin fails every ADD (the agent stays Ready), or works again. */
  setCniFailing(name: string, failing: boolean): void;
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
  APIService: 'apiservices',
  PodDisruptionBudget: 'poddisruptionbudgets',
  Pod: 'pods',
};

/** The resource name of a kind the fixture creates: the table above, else a Calico CRD's plural. */
function pluralOf(kind: string): string {
  const plural = PLURALS[kind] ?? Object.entries(CRD_KINDS).find(([, k]) => k === kind)?.[0];
  if (plural === undefined) {
    throw new Error(`simulation: no resource name for kind ${kind}`);
  }
  return plural;
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
export async function createFixture(api: SimApi, config: ResolvedConfig, scenario: fixture.Scenario): Promise<string[]> {
  const changes: string[] = [];
  const apply = async (o: fixture.Obj) => {
    const level = toSimulationLevel(o);
    changes.push(...level.changes);
    if (o.kind === 'Pod') {
      // The ServiceAccount admission of 1.20 wants the namespace's `default` account with its
      // token Secret referenced; the controller manager creates the account a moment after the
      // namespace and the token controller references the Secret a moment after that.
      const path = `/api/v1/namespaces/${o.metadata.namespace}/serviceaccounts/default`;
      await waitFor(async () => {
        const got = await api.call('GET', path);
        return got.status === 200 && ((got.body as { secrets?: unknown[] }).secrets ?? []).length > 0;
      }, `the default ServiceAccount of ${o.metadata.namespace} with its token`);
    }
    if (level.object) {
      await api.apply(level.object as fixture.Obj, pluralOf(o.kind));
    }
  };
  for (const node of fixture.nodes(config, KUBELET_BASE_PORT, scenario)) {
    await apply(node);
    // The API server taints a new node not-ready; the node lifecycle controller (not run here)
    // lifts it once the kubelet reports Ready, which a Ready node has.
    await api.call('PATCH', `/api/v1/nodes/${node.metadata.name}`, { spec: { taints: null } }, 'application/merge-patch+json');
  }
  const calico = calicoObjects(config, scenario);
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
    ...calicoResources(config, scenario),
    ...snapshots.snapshots,
    ...fixture.coreDns(config, scenario),
    ...fixture.cloudController(config, scenario),
    ...fixture.ingressController(scenario),
    ...fixture.unavailableApiService(scenario),
    ...fixture.applications(scenario),
  ]) {
    await apply(obj);
  }
  return changes;
}

/** Simulations started by this process: part of the network namespaces' names. */
let simulations = 0;

/** Starts the simulation: fixture, node namespaces, kubelet. */
export async function startSimulation(options: SimulationOptions): Promise<Simulation> {
  simulations++;
  const { config } = options;
  const api = simApi(options.kubeconfig);
  const run = mkdtempSync(join(tmpdir(), 'ccsim-'));
  const levelChanges = await createFixture(api, config, options.scenario ?? {});

  const apiSocket = join(run, 'api.sock');
  const children: ChildProcess[] = [];
  // The API server's side of every node's forwarder (forward.mjs proxy).
  writeFileSync(join(run, 'apiserver.key'), options.tls.key, { mode: 0o600 });
  writeFileSync(join(run, 'apiserver.crt'), options.tls.cert);
  writeFileSync(join(run, 'ca.crt'), api.ca);
  const hostSide = spawn(
    process.execPath,
    [
      join(HERE, 'forward.mjs'),
      'proxy',
      apiSocket,
      api.server.origin,
      join(run, 'apiserver.key'),
      join(run, 'apiserver.crt'),
      join(run, 'ca.crt'),
      ...evictionRenames(),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  children.push(hostSide);
  const prefix = `ccsim-${process.pid}-${simulations}`;
  const scenario = options.scenario ?? {};
  const network = startNetwork(config, prefix, scenario.externalStatus ?? 200, {
    missingRoutes: scenario.missingNetworkRoutes,
    egressBlocked: scenario.egressBlocked,
    linkMtu: scenario.linkMtu,
    overlayBlocked: scenario.overlayBlocked ? config.perNode.podCIDR : undefined,
  });
  const started = config.cluster.nodes.map((_, i) => startNode(config, i, run, apiSocket, scenario, network, prefix));
  children.push(...started.flatMap((s) => s.forwarders));
  const nodes = started.map((s) => s.node);

  const cilium = new SimCilium({ api, config, nodes, netnsPrefix: prefix });
  for (const name of scenario.agentsNotReady ?? []) {
    cilium.hold(name, true);
  }
  const kubelet: Kubelet = startKubelet({
    api,
    config,
    nodes,
    run,
    tls: options.tls,
    kubeletBasePort: KUBELET_BASE_PORT,
    cilium,
    netnsPrefix: prefix,
    ingressLabels: scenario.ingress ? fixture.INGRESS_LABELS : undefined,
    crashLoopingLabels: scenario.cloudController?.crashLooping ? fixture.CLOUD_CONTROLLER_LABELS : undefined,
    restartingAgents: scenario.agentRestarting,
    ingressRedirect: scenario.ingress?.redirectHttps,
  });
  for (const name of scenario.nodesDown ?? []) {
    kubelet.setNodeDown(name, true);
  }

  const stop = async () => {
    await kubelet.stop();
    children.forEach((c) => c.kill());
    nodes.forEach(stopNode);
    stopNetwork(network);
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
        return ds.status !== 200 || ds.body.status?.numberReady === nodes.length - (scenario.nodesDown ?? []).length;
      },
      'calico-node ready on every node',
      60_000,
    );
    // And the cloud controller, unless the scenario keeps it crashing.
    const cc = fixture.cloudController(config, scenario)[0];
    if (cc && !scenario.cloudController?.crashLooping) {
      const path = `/apis/apps/v1/namespaces/${cc.metadata.namespace}/${cc.kind === 'DaemonSet' ? 'daemonsets' : 'deployments'}/${cc.metadata.name}`;
      await waitFor(async () => {
        const got = await api.call<{ status?: { readyReplicas?: number; numberReady?: number } }>('GET', path);
        return (got.body.status?.readyReplicas ?? got.body.status?.numberReady ?? 0) > 0;
      }, 'the cloud controller ready');
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes,
    levelChanges,
    stop,
    setNodeDown: (name, down) => kubelet.setNodeDown(name, down),
    setAgentHealthy: (name, healthy) => kubelet.setAgentHealthy(name, healthy),
    setAgentStatus: (name, override) => cilium.setAgentStatus(name, override),
    setCniFailing: (name, failing) => cilium.setCniFailing(name, failing),
  };
}
