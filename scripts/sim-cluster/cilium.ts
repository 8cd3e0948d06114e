/**
 * The simulated Cilium: what the agent and operator do that the tool's steps and checks depend on,
 * driven by the `cilium-config` ConfigMap the tool generated (and the CiliumNodeConfigs that match
 * a node), so a wrong key shows here as it would on a cluster. Upstream behaviour modelled (see
 * docs/testing.md "The simulated Cilium"):
 *
 * - the operator registers Cilium's CRDs (the names its ClusterRole may update, per release line),
 *   sets each node's NetworkUnavailable=False (reason CiliumIsUp) once that node's agent is ready
 *   (cilium/cilium operator/watchers/node_taint.go), and restarts Running pods on the pod network
 *   that have no CiliumEndpoint, selected by `pod-restart-selector` (default `k8s-app=kube-dns`),
 *   one per `unmanaged-pod-watcher-interval`, once they are 30 s old (operator/cmd/k8s_pod_controller.go);
 * - the agent waits for those CRDs, then on its node: a gateway address (cilium_host), pod
 *   addresses from the node's podCIDR (`ipam: kubernetes`) or its `cluster-pool-ipv4-cidr` share,
 *   the CNI config at `write-cni-conf-when-ready` (other configs renamed `*.cilium_bak` under
 *   `cni-exclusive`: daemon/cmd/cni/config.go), health on 127.0.0.1:`agent-health-port`
 *   (daemon/healthz/agenthealth.go), Services for pods and the host under
 *   `kube-proxy-replacement: "true"`, masquerading to outside `ipv4-native-routing-cidr`, routes
 *   to the other nodes' pod CIDRs under `auto-direct-node-routes`, and a CiliumEndpoint named
 *   after each pod it addresses (pkg/endpointmanager/endpointsynchronizer.go).
 *
 * Stand-ins: Services (ClusterIP and NodePort, a random ready backend per connection) and
 * masquerading are nftables rules in the node's namespace, not BPF; the agent's and
 * cilium-health's APIs are servers/agent-api.mjs on the node's /var/run/cilium sockets; no policy
 * enforcement; in tunnel mode, routes to the peers' pod CIDRs on the shared link instead of a
 * VXLAN device.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cidrContainsIp, formatIpv4, parseCidr, parseIpv4 } from '../../lib/cidr.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { ruleSet } from '../../lib/versions/cilium-releases.ts';
import { putNodeCondition, type SimApi } from './api.ts';
import { deleteNetns, inNetns, ip, tryInNetns } from './netns.ts';
import type { SimNode } from './pod-runner.ts';
import { chainsPortmap, portMappings, runPortmap, type PortMapping } from './portmap.ts';

const HERE = new URL('.', import.meta.url).pathname;
type Json = Record<string, any>;

/** CRDs whose objects live in a namespace (the rest are cluster-scoped). */
const NAMESPACED = new Set([
  'ciliumendpoints',
  'ciliumnetworkpolicies',
  'ciliumnodeconfigs',
  'ciliumenvoyconfigs',
  'ciliumlocalredirectpolicies',
]);
/** The kinds of Cilium's CRDs by plural (cilium/cilium pkg/k8s/apis/cilium.io/client/crds). */
const CRD_KINDS: Readonly<Record<string, string>> = {
  ciliumbgpadvertisements: 'CiliumBGPAdvertisement',
  ciliumbgpclusterconfigs: 'CiliumBGPClusterConfig',
  ciliumbgpnodeconfigoverrides: 'CiliumBGPNodeConfigOverride',
  ciliumbgpnodeconfigs: 'CiliumBGPNodeConfig',
  ciliumbgppeerconfigs: 'CiliumBGPPeerConfig',
  ciliumbgppeeringpolicies: 'CiliumBGPPeeringPolicy',
  ciliumcidrgroups: 'CiliumCIDRGroup',
  ciliumdatapathplugins: 'CiliumDatapathPlugin',
  ciliumclusterwideenvoyconfigs: 'CiliumClusterwideEnvoyConfig',
  ciliumclusterwidenetworkpolicies: 'CiliumClusterwideNetworkPolicy',
  ciliumegressgatewaypolicies: 'CiliumEgressGatewayPolicy',
  ciliumendpoints: 'CiliumEndpoint',
  ciliumendpointslices: 'CiliumEndpointSlice',
  ciliumenvoyconfigs: 'CiliumEnvoyConfig',
  ciliumexternalworkloads: 'CiliumExternalWorkload',
  ciliumgatewayclassconfigs: 'CiliumGatewayClassConfig',
  ciliumidentities: 'CiliumIdentity',
  ciliuml2announcementpolicies: 'CiliumL2AnnouncementPolicy',
  ciliumloadbalancerippools: 'CiliumLoadBalancerIPPool',
  ciliumlocalredirectpolicies: 'CiliumLocalRedirectPolicy',
  ciliumnetworkpolicies: 'CiliumNetworkPolicy',
  ciliumnodeconfigs: 'CiliumNodeConfig',
  ciliumnodes: 'CiliumNode',
  ciliumpodippools: 'CiliumPodIPPool',
};

/** The operator's minimal age of an unmanaged pod before it restarts it. */
const UNMANAGED_MIN_AGE_MS = 30_000;
/** The operator restarts the same pod at most once in this window. */
const UNMANAGED_RESTART_WINDOW_MS = 5 * 60_000;

/** The CRDs the operator of a version registers: the names its ClusterRole may update. */
export function ciliumCrds(config: ResolvedConfig): Json[] {
  const version = config.cilium.version;
  const role = version.facts.roles.find((r) => r.kind === 'ClusterRole' && r.name === 'cilium-operator');
  if (role === undefined) {
    throw new Error(`simulated operator: Cilium ${version.version} has no cilium-operator ClusterRole`);
  }
  const names = ruleSet(role.rules)
    .filter((r) => r.resources.includes('customresourcedefinitions') && r.resourceNames)
    .flatMap((r) => r.resourceNames ?? []);
  const cncVersion = version.rules.nodeConfigApiVersion.split('/')[1]!;
  return [...new Set(names)].map((name) => {
    const plural = name.split('.')[0]!;
    const kind = CRD_KINDS[plural];
    if (!kind) {
      throw new Error(`simulated operator: no kind for the CRD ${name}; add it to CRD_KINDS`);
    }
    // CiliumNodeConfig is served at the version the release line has; the others at v2 and
    // v2alpha1 (only their names matter here).
    const versions = plural === 'ciliumnodeconfigs' ? [cncVersion] : ['v2', 'v2alpha1'];
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: {
        group: 'cilium.io',
        scope: NAMESPACED.has(plural) ? 'Namespaced' : 'Cluster',
        names: {
          plural,
          singular: plural.slice(0, -1),
          kind: plural === 'ciliumendpoints' ? 'CiliumEndpoint' : kind,
          listKind: `${kind}List`,
        },
        versions: versions.map((v, i) => ({
          name: v,
          served: true,
          storage: i === 0,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        })),
      },
    };
  });
}

/** The agent's state on one node. */
interface Agent {
  readonly node: SimNode;
  ready: boolean;
  settings: Readonly<Record<string, string>>;
  podCidr: string;
  gateway: string;
  nextHost: number;
  health?: ChildProcess;
  /** The agent's and cilium-health's API sockets (servers/agent-api.mjs). */
  api?: ChildProcess;
  /** cilium-health's endpoint: a namespace with an address of the node's pod CIDR, answering on 4240. */
  healthEndpoint?: { readonly netns: string; readonly server: ChildProcess };
  lbRules: string;
}

/** What a scenario changes in an agent's status report (Simulation.setAgentStatus). */
export interface AgentStatusOverride {
  /** A controller that keeps failing, with its last error. */
  readonly failingController?: { readonly name: string; readonly message: string };
}

/** The CNI config file Cilium writes on a node (its `write-cni-conf-when-ready`), which the kubelet's runtime loads first. */
export const CILIUM_CNI_FILE = '05-cilium.conflist';

/** A pod the agent addressed. */
export interface PodAddress {
  readonly netns: string;
  readonly ip: string;
  /** The hostPorts the chained portmap plugin published for the pod, to remove with it. */
  readonly hostPorts?: readonly PortMapping[];
}

export interface SimCiliumOptions {
  readonly api: SimApi;
  readonly config: ResolvedConfig;
  readonly nodes: readonly SimNode[];
  readonly netnsPrefix: string;
}

export class SimCilium {
  private readonly agents = new Map<string, Agent>();
  private readonly kubeProxyRules = new Map<string, string>();
  private operatorRunning = false;
  private crdsServed = false;
  private readonly restarted = new Map<string, number>();
  private readonly held = new Set<string>();
  private podCount = 0;
  private lastUnmanagedCheck = 0;
  private readonly statusOverrides = new Map<string, AgentStatusOverride>();
  private readonly cniFailing = new Set<string>();

  constructor(private readonly options: SimCiliumOptions) {}

  /** Told each address whose endpoint an agent dropped on restart (the kubelet marks its pod NotReady). */
  public onEndpointDropped: (address: string) => void = () => {};

  /** Whether this node's agent is ready (its CNI config written, health answering). */
  agentReady(nodeName: string): boolean {
    return this.agents.get(nodeName)?.ready ?? false;
  }

  /** The operator's pod started: it registers the CRDs. Resolves once they are served. */
  async startOperator(): Promise<void> {
    const { api, config } = this.options;
    this.operatorRunning = true;
    for (const crd of ciliumCrds(config)) {
      await api.apply(crd as any, 'customresourcedefinitions');
    }
    const deadline = Date.now() + 30_000;
    while ((await api.call('GET', '/apis/cilium.io/v2/ciliumendpoints')).status !== 200) {
      if (Date.now() > deadline) {
        throw new Error('simulated operator: the CiliumEndpoint CRD is not served after 30s');
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    this.crdsServed = true;
  }

  stopOperator(): void {
    this.operatorRunning = false;
  }

  /**
   * Holds a node's agent back (it runs but never becomes ready: no health, no CNI config, as an
   * agent that cannot start its data path), or lets it go.
   */
  hold(nodeName: string, held: boolean): void {
    setMember(this.held, nodeName, held);
  }

  /** This node's agent pod started: the agent sets the node up once the CRDs are served. */
  async startAgent(node: SimNode): Promise<void> {
    const { api } = this.options;
    while (!this.crdsServed) {
      await new Promise((r) => setTimeout(r, 250));
    }
    if (this.held.has(node.name)) {
      return;
    }
    const settings = await this.settingsFor(node);
    const nodeObject = (await api.call<Json>('GET', `/api/v1/nodes/${node.name}`)).body;
    const podCidr = this.podCidrOf(node, settings, nodeObject);
    const gateway = formatIpv4(parseCidr(podCidr)!.first + 1);
    // A restarted agent keeps the addresses its running endpoints hold (Cilium restores them into
    // its IPAM before it hands out new ones): a new pod never takes a running pod's address.
    const previous = this.agents.get(node.name);
    const nextHost = previous?.podCidr === podCidr ? previous.nextHost : 10;
    if (previous && previous.podCidr !== podCidr) {
      await this.dropUnrestorable(node, podCidr);
    }
    const agent: Agent = { node, ready: false, settings, podCidr, gateway, nextHost, lbRules: '' };
    this.agents.set(node.name, agent);
    // cilium_host: the pods' gateway address on the node (made again when the agent restarts).
    tryInNetns(node.netns, ['ip', 'link', 'delete', 'cilium_host']);
    ip('-n', node.netns, 'link', 'add', 'cilium_host', 'type', 'bridge');
    ip('-n', node.netns, 'link', 'set', 'cilium_host', 'up');
    ip('-n', node.netns, 'addr', 'add', `${gateway}/32`, 'dev', 'cilium_host');
    // Routes to the other nodes' pod CIDRs: direct under auto-direct-node-routes; in tunnel mode a
    // stand-in for the overlay (the peer's address on the shared link, not a VXLAN device).
    const tunnel = (settings['routing-mode'] ?? 'tunnel') === 'tunnel';
    if (settings['auto-direct-node-routes'] === 'true' || tunnel) {
      for (const other of this.options.config.cluster.nodes) {
        if (other.name !== node.name) {
          const answer = await api.call<Json>('GET', `/api/v1/nodes/${other.name}`);
          if (answer.status !== 200) {
            // A Node that was deleted: Cilium routes only to the nodes the cluster has.
            continue;
          }
          const peer = answer.body;
          const cidr = this.podCidrOf(
            this.options.nodes.find((n) => n.name === other.name)!,
            settings,
            peer,
          );
          ip('-n', node.netns, 'route', 'replace', cidr, 'via', other.internalIP, 'dev', 'eth1', ...(tunnel ? ['onlink'] : []));
        }
      }
    }
    const port = settings['agent-health-port'] ?? '9879';
    agent.health = spawn(
      'ip',
      ['netns', 'exec', node.netns, process.execPath, join(HERE, 'servers', 'health-server.mjs'), '127.0.0.1', port],
      { stdio: 'ignore' },
    );
    agent.healthEndpoint = this.startHealthEndpoint(node, podCidr);
    // The agent registers its node: the allocation CIDR and the health endpoint's address
    // (cilium/cilium pkg/k8s/apis/cilium.io/v2/types.go, NodeSpec `ipam.podCIDRs`, `health.ipv4`).
    const ciliumNode = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNode',
      metadata: { name: node.name },
      spec: { health: { ipv4: healthEndpointIp(podCidr) }, ipam: { podCIDRs: [podCidr] } },
    };
    await api.apply(ciliumNode, 'ciliumnodes');
    await this.writeAgentStatus(agent);
    agent.api = spawn(
      'ip',
      [
        'netns',
        'exec',
        node.netns,
        process.execPath,
        join(HERE, 'servers', 'agent-api.mjs'),
        join(node.root, 'var/run/cilium'),
        statusFile(node),
      ],
      { stdio: 'ignore' },
    );
    this.writeCniConfig(agent);
    agent.ready = true;
  }

  /**
   * A restarted agent re-allocates each endpoint's address from its IPAM; one outside the node's
   * new allocation CIDR is refused, and the endpoint is removed (cilium/cilium
   * daemon/cmd/endpoint_restore.go): its CiliumEndpoint goes, and so does its data path.
   */
  private async dropUnrestorable(node: SimNode, podCidr: string): Promise<void> {
    const { api, config } = this.options;
    const nodeIP = config.cluster.nodes[node.index]!.internalIP;
    const range = parseCidr(podCidr)!;
    const list = (await api.call<Json>('GET', '/apis/cilium.io/v2/ciliumendpoints')).body?.items ?? [];
    for (const cep of list) {
      const address: string | undefined = cep.status?.networking?.addressing?.[0]?.ipv4;
      const value = address === undefined ? undefined : parseIpv4(address);
      if (cep.status?.networking?.node !== nodeIP || value === undefined || cidrContainsIp(range, value)) {
        continue;
      }
      tryInNetns(node.netns, ['ip', 'route', 'del', `${address}/32`]);
      await api.call('DELETE', `/apis/cilium.io/v2/namespaces/${cep.metadata.namespace}/ciliumendpoints/${cep.metadata.name}`);
      this.onEndpointDropped(address!);
    }
  }

  stopAgent(nodeName: string): void {
    const agent = this.agents.get(nodeName);
    if (agent) {
      agent.health?.kill();
      agent.api?.kill();
      this.stopHealthEndpoint(agent);
      agent.ready = false;
    }
  }

  /**
   * cilium-health's endpoint on a node: like a pod, its own namespace behind a veth with the pod
   * CIDR's second address (the first is cilium_host's), so only a route to the node's pod CIDR
   * reaches it, and an HTTP server on port 4240 as the endpoint's cilium-health responder.
   */
  private startHealthEndpoint(node: SimNode, podCidr: string): Agent['healthEndpoint'] {
    const netns = `${this.options.netnsPrefix}-h${node.index}`;
    const address = healthEndpointIp(podCidr);
    const gateway = formatIpv4(parseCidr(podCidr)!.first + 1);
    deleteNetns(netns);
    tryInNetns(node.netns, ['ip', 'link', 'delete', 'lxc_health']);
    plugNamespace(node.netns, netns, 'lxc_health', address, gateway);
    const server = spawn(
      'ip',
      ['netns', 'exec', netns, process.execPath, join(HERE, 'servers', 'http-server.mjs'), address, '4240', '200'],
      {
        stdio: 'ignore',
      },
    );
    return { netns, server };
  }

  private stopHealthEndpoint(agent: Agent): void {
    if (agent.healthEndpoint) {
      agent.healthEndpoint.server.kill();
      deleteNetns(agent.healthEndpoint.netns);
      agent.healthEndpoint = undefined;
    }
  }

  /**
   * The agent stays up and Ready, but its CNI plugin fails every ADD on the node (as when the
   * node's pod CIDR has no address left): new pods there get no sandbox.
   */
  setCniFailing(nodeName: string, failing: boolean): void {
    setMember(this.cniFailing, nodeName, failing);
  }

  /** Changes what a node's agent reports of itself from now on. */
  async setAgentStatus(nodeName: string, override: AgentStatusOverride): Promise<void> {
    this.statusOverrides.set(nodeName, override);
    const agent = this.agents.get(nodeName);
    if (agent) {
      await this.writeAgentStatus(agent);
    }
  }

  /**
   * The status the agent's API answers (api/v1 StatusResponse, as GET /v1/healthz returns it) and
   * the peers cilium-health probes: each node's address and its health endpoint's. Routing and kube-proxy replacement follow the
   * settings in effect, with Cilium's defaults where a key is missing (routing-mode tunnel).
   */
  private async writeAgentStatus(agent: Agent): Promise<void> {
    const { api, config } = this.options;
    const s = agent.settings;
    const peers: Json[] = [];
    for (const other of config.cluster.nodes) {
      const answer = await api.call<Json>('GET', `/api/v1/nodes/${other.name}`);
      if (answer.status === 200) {
        const cidr = this.podCidrOf(
          this.options.nodes.find((n) => n.name === other.name)!,
          s,
          answer.body,
        );
        peers.push({ name: other.name, ip: other.internalIP, healthIP: healthEndpointIp(cidr) });
      }
    }
    const version = config.cilium.version.version;
    const failing = this.statusOverrides.get(agent.node.name)?.failingController;
    const controllers = [
      { name: 'endpoint-gc', status: { 'success-count': 4, 'last-failure-timestamp': '0001-01-01T00:00:00.000Z' } },
      { name: 'cilium-health-ep', status: { 'success-count': 2, 'last-failure-timestamp': '0001-01-01T00:00:00.000Z' } },
      ...(failing
        ? [{ name: failing.name, status: { 'consecutive-failure-count': 6, 'failure-count': 6, 'last-failure-msg': failing.message } }]
        : []),
    ];
    const tunnel = (s['routing-mode'] ?? 'tunnel') === 'tunnel';
    // 1.15 reports host-routing only; 1.16 added routing (cilium/cilium 302a8b12fb).
    const routing = version.startsWith('1.15.')
      ? { 'host-routing': { mode: 'Legacy' } }
      : {
          routing: {
            'inter-host-routing-mode': tunnel ? 'Tunnel' : 'Native',
            'intra-host-routing-mode': 'Legacy',
            ...(tunnel ? { 'tunnel-protocol': s['tunnel-protocol'] ?? 'vxlan' } : {}),
          },
        };
    const status = {
      cilium: { state: 'Ok', msg: `${version} (v${version}-simulated)` },
      kvstore: { state: 'Disabled' },
      kubernetes: { state: 'Ok', msg: '1.20 (v1.20.0) [linux/amd64]', 'k8s-api-versions': ['cilium/v2', 'v1::Node', 'v1::Pods'] },
      controllers,
      'kube-proxy-replacement': { mode: s['kube-proxy-replacement'] === 'true' ? 'True' : 'False', devices: [] },
      ...routing,
      cluster: { ciliumHealth: { state: 'Ok' }, nodes: null, self: agent.node.name },
    };
    const path = statusFile(agent.node);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, JSON.stringify({ self: agent.node.name, peers, status }));
  }

  /** cilium-config, with the CiliumNodeConfigs whose nodeSelector matches the node laid over it. */
  private async settingsFor(node: SimNode): Promise<Record<string, string>> {
    const { api } = this.options;
    const cm = await api.call<Json>('GET', '/api/v1/namespaces/kube-system/configmaps/cilium-config');
    const settings: Record<string, string> = { ...(cm.status === 200 ? cm.body.data : {}) };
    const version = this.options.config.cilium.version.rules.nodeConfigApiVersion;
    const labels: Record<string, string> = (await api.call<Json>('GET', `/api/v1/nodes/${node.name}`)).body.metadata?.labels ?? {};
    const configs = await api.call<{ items?: Json[] }>('GET', `/apis/${version}/namespaces/kube-system/ciliumnodeconfigs`);
    for (const cnc of configs.body.items ?? []) {
      const selector: Record<string, string> = cnc.spec?.nodeSelector?.matchLabels ?? {};
      if (Object.entries(selector).every(([k, v]) => labels[k] === v)) {
        Object.assign(settings, cnc.spec?.defaults ?? {});
      }
    }
    return settings;
  }

  private podCidrOf(node: SimNode, settings: Readonly<Record<string, string>>, nodeObject: Json): string {
    if ((settings.ipam ?? 'cluster-pool') === 'kubernetes') {
      return nodeObject.spec?.podCIDR;
    }
    const pool = parseCidr((settings['cluster-pool-ipv4-cidr'] ?? '10.0.0.0/8').split(/[ ,]/)[0]!)!;
    const mask = Number(settings['cluster-pool-ipv4-mask-size'] ?? '24');
    return `${formatIpv4(pool.first + node.index * 2 ** (32 - mask))}/${mask}`;
  }

  private writeCniConfig(agent: Agent): void {
    const target = agent.settings['write-cni-conf-when-ready'];
    if (!target) {
      return;
    }
    const path = join(agent.node.root, target.replace(/^\/host\//, '/'));
    const dir = join(path, '..');
    mkdirSync(dir, { recursive: true });
    if (agent.settings['cni-exclusive'] === 'true') {
      for (const file of readdirSync(dir)) {
        if (/\.(conf|conflist|json)$/.test(file) && join(dir, file) !== path) {
          renameSync(join(dir, file), join(dir, `${file}.cilium_bak`));
        }
      }
    }
    // As the agent renders it per chaining mode: cilium-cni alone, or followed by portmap.
    const chained = agent.settings['cni-chaining-mode'] === 'portmap';
    const plugins = [{ type: 'cilium-cni' }, ...(chained ? [{ type: 'portmap', capabilities: { portMappings: true } }] : [])];
    const text = `${JSON.stringify({ cniVersion: '0.3.1', name: chained ? 'portmap' : 'cilium', plugins }, null, 2)}\n`;
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
      writeFileSync(path, text);
    }
  }

  /**
   * The agent's CNI plugin on a node: a namespace and an address for a pod, and its CiliumEndpoint.
   * Undefined while the agent is not ready (the kubelet retries, as it does a failed sandbox).
   */
  async addPod(pod: Json, node: SimNode): Promise<PodAddress | undefined> {
    const agent = this.agents.get(node.name);
    if (!agent?.ready || this.cniFailing.has(node.name)) {
      return undefined;
    }
    const address = formatIpv4(parseCidr(agent.podCidr)!.first + agent.nextHost++);
    const netns = `${this.options.netnsPrefix}-p${++this.podCount}`;
    const link = `lxc${this.podCount}`;
    plugNamespace(node.netns, netns, link, address, agent.gateway);
    // The chain's next plugin: portmap publishes the pod's hostPorts on the node.
    const mappings = portMappings(pod);
    const hostPorts = mappings.length > 0 && chainsPortmap(node, CILIUM_CNI_FILE) ? mappings : undefined;
    if (hostPorts) {
      runPortmap('ADD', node, { uid: pod.metadata.uid, netns, ip: address }, hostPorts);
    }
    const created = await this.options.api.call('POST', `/apis/cilium.io/v2/namespaces/${pod.metadata.namespace}/ciliumendpoints`, {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumEndpoint',
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        labels: pod.metadata.labels ?? {},
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid }],
      },
      status: {
        networking: { addressing: [{ ipv4: address }], node: this.options.config.cluster.nodes[node.index]!.internalIP },
        state: 'ready',
      },
    });
    if (created.status >= 300 && created.status !== 409) {
      throw new Error(`simulated agent: CiliumEndpoint ${pod.metadata.namespace}/${pod.metadata.name}: HTTP ${created.status}`);
    }
    return { netns, ip: address, hostPorts };
  }

  /** The pod is gone: its hostPorts and namespace go (and its CiliumEndpoint with it, by owner reference). */
  async removePod(pod: Json, address: PodAddress): Promise<void> {
    const node = this.options.nodes.find((n) => n.name === pod.spec.nodeName);
    if (address.hostPorts && node) {
      runPortmap('DEL', node, { uid: pod.metadata.uid, netns: address.netns, ip: address.ip }, address.hostPorts);
    }
    deleteNetns(address.netns);
    await this.options.api.call('DELETE', `/apis/cilium.io/v2/namespaces/${pod.metadata.namespace}/ciliumendpoints/${pod.metadata.name}`);
  }

  /**
   * One pass of what runs continuously: each ready agent's Services and masquerading, the
   * operator's node conditions and unmanaged-pod restarts.
   */
  async sync(services: readonly Json[], endpoints: readonly Json[], pods: readonly Json[], nodeObjects: readonly Json[]): Promise<void> {
    const serviceRules = this.serviceRules(services, endpoints);
    for (const agent of this.agents.values()) {
      if (agent.ready) {
        this.programNode(agent, serviceRules);
        if (agent.settings['cni-exclusive'] === 'true') {
          // An exclusive agent watches the directory: any change there has it write its config
          // again and rename the others (cilium/cilium daemon/cmd/cni/config.go).
          this.writeCniConfig(agent);
        }
      }
    }
    // k3s's embedded kube-proxy, where the node's k3s runs it (no --disable-kube-proxy in its
    // node-args): its Service rules, as a stand-in table beside the fixture's KUBE-* chains.
    for (const node of this.options.nodes) {
      const args = nodeObjects.find((n) => n.metadata.name === node.name)?.metadata.annotations?.['k3s.io/node-args'] ?? '[]';
      const rules = (JSON.parse(args) as string[]).includes('--disable-kube-proxy') ? [] : serviceRules;
      const text = ['table ip ccsim_kube_proxy {', ...natChains(rules, -100), '}'].join('\n');
      if (text !== this.kubeProxyRules.get(node.name)) {
        inNetns(node.netns, ['nft', '-f', '-'], `table ip ccsim_kube_proxy\ndelete table ip ccsim_kube_proxy\n${text}\n`);
        this.kubeProxyRules.set(node.name, text);
      }
    }
    if (this.operatorRunning) {
      await this.operatorPass(pods);
    }
  }

  /**
   * DNAT rules per Service port with ready backends: to the ClusterIP, and to the NodePort on any
   * of the node's own addresses (marked, so a connection forwarded to another node is masqueraded
   * and its answer comes back the same way). A random backend per connection.
   */
  private serviceRules(services: readonly Json[], endpoints: readonly Json[]): string[] {
    const rules: string[] = [];
    for (const svc of services) {
      const clusterIP: string | undefined = svc.spec?.clusterIP;
      if (!clusterIP || clusterIP === 'None') {
        continue;
      }
      for (const port of svc.spec.ports ?? []) {
        const backends = backendsOf(svc, port, endpoints, this.options.config);
        if (backends.length === 0) {
          continue;
        }
        const to = dnatTarget(backends);
        const proto = (port.protocol ?? 'TCP').toLowerCase();
        rules.push(`ip daddr ${clusterIP} ${proto} dport ${port.port} dnat to ${to}`);
        if (port.nodePort) {
          rules.push(`fib daddr type local ${proto} dport ${port.nodePort} meta mark set ${NODEPORT_MARK} dnat to ${to}`);
        }
      }
    }
    return rules;
  }

  private programNode(agent: Agent, serviceRules: readonly string[]): void {
    const s = agent.settings;
    const rules = s['kube-proxy-replacement'] === 'true' ? serviceRules : [];
    // Traffic from the node's pods to outside the cluster's pod range is masqueraded: the range is
    // ipv4-native-routing-cidr, or in tunnel mode without it the cluster pool.
    const native =
      s['ipv4-native-routing-cidr'] ??
      ((s.ipam ?? 'cluster-pool') === 'cluster-pool' ? (s['cluster-pool-ipv4-cidr'] ?? '').split(/[ ,]/)[0] : undefined);
    const masquerade = (s['enable-bpf-masquerade'] === 'true' || s['enable-ipv4-masquerade'] === 'true') && native;
    const text = [
      'table ip ccsim_cilium {',
      // Before kube-proxy's (-100): Cilium's socket and tc programs see a packet first.
      ...natChains(rules, -110),
      '  chain post { type nat hook postrouting priority 90; policy accept;',
      ...(masquerade ? [`    ip saddr ${native} ip daddr != ${native} oifname "eth1" masquerade`] : []),
      '  }',
      '}',
    ].join('\n');
    if (text !== agent.lbRules) {
      inNetns(agent.node.netns, ['nft', '-f', '-'], `table ip ccsim_cilium\ndelete table ip ccsim_cilium\n${text}\n`);
      agent.lbRules = text;
    }
  }

  private async operatorPass(pods: readonly Json[]): Promise<void> {
    const { api } = this.options;
    for (const agent of this.agents.values()) {
      if (!agent.ready || agent.settings['set-cilium-is-up-condition'] === 'false') {
        continue;
      }
      const node = (await api.call<Json>('GET', `/api/v1/nodes/${agent.node.name}`)).body;
      const conditions: Json[] = node.status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'NetworkUnavailable' && c.status === 'False' && c.reason === 'CiliumIsUp')) {
        continue;
      }
      await putNodeCondition(api, node, {
        type: 'NetworkUnavailable',
        status: 'False',
        reason: 'CiliumIsUp',
        message: 'Cilium is running on this node',
      });
    }
    const settings = [...this.agents.values()][0]?.settings ?? {};
    const intervalMs = durationMs(settings['unmanaged-pod-watcher-interval'] ?? '15');
    if (intervalMs === 0 || Date.now() - this.lastUnmanagedCheck < intervalMs) {
      return;
    }
    this.lastUnmanagedCheck = Date.now();
    const selector = settings['pod-restart-selector'] ?? 'k8s-app=kube-dns';
    const wanted = selector === '' ? [] : selector.split(',').map((kv) => kv.split('='));
    const managed = await api.call<{ items?: Json[] }>('GET', '/apis/cilium.io/v2/ciliumendpoints');
    const ceps = new Set((managed.body.items ?? []).map((e) => `${e.metadata.namespace}/${e.metadata.name}`));
    const unmanaged = pods.find((p) => {
      const id = `${p.metadata.namespace}/${p.metadata.name}`;
      const started = Date.parse(p.status?.startTime ?? '');
      return (
        p.status?.phase === 'Running' &&
        !p.spec?.hostNetwork &&
        !p.metadata.deletionTimestamp &&
        wanted.every(([k, v]) => p.metadata.labels?.[k!] === v) &&
        !ceps.has(id) &&
        Date.now() - started > UNMANAGED_MIN_AGE_MS &&
        Date.now() - (this.restarted.get(id) ?? 0) > UNMANAGED_RESTART_WINDOW_MS
      );
    });
    if (unmanaged) {
      this.restarted.set(`${unmanaged.metadata.namespace}/${unmanaged.metadata.name}`, Date.now());
      await api.call('DELETE', `/api/v1/namespaces/${unmanaged.metadata.namespace}/pods/${unmanaged.metadata.name}`);
    }
  }

  stop(): void {
    for (const agent of this.agents.values()) {
      agent.health?.kill();
      agent.api?.kill();
      this.stopHealthEndpoint(agent);
    }
  }
}

/** Where the simulation keeps what a node's agent API answers: beside, not inside, its root. */
function statusFile(node: SimNode): string {
  return join(node.root, '..', `${node.name}-agent-status.json`);
}

/** The mark of a connection that came in on a NodePort. */
const NODEPORT_MARK = '0x4000';

/**
 * NAT chains for prerouting (pods and other nodes) and output (the host) holding the same DNAT
 * rules, and the masquerading of NodePort connections forwarded to another node.
 */
function natChains(rules: readonly string[], priority: number): string[] {
  return [
    ...['pre prerouting', 'out output'].flatMap((c) => {
      const [name, hook] = c.split(' ');
      return [`  chain ${name} { type nat hook ${hook} priority ${priority}; policy accept;`, ...rules.map((r) => `    ${r}`), '  }'];
    }),
    `  chain np { type nat hook postrouting priority ${priority + 200}; policy accept;`,
    `    meta mark ${NODEPORT_MARK} oifname "eth1" masquerade`,
    '  }',
  ];
}

/** nftables' DNAT target for a set of `address:port` backends: one, or a random one per connection. */
function dnatTarget(backends: readonly string[]): string {
  if (backends.length === 1) {
    return backends[0]!;
  }
  const port = backends[0]!.split(':')[1];
  const map = backends.map((b, i) => `${i} : ${b.split(':')[0]}`).join(', ');
  return `numgen random mod ${backends.length} map { ${map} } : ${port}`;
}

/** The health endpoint's address in a node's pod CIDR: the second, after cilium_host's. */
function healthEndpointIp(podCidr: string): string {
  return formatIpv4(parseCidr(podCidr)!.first + 2);
}

/** The config file the runtime loads: the first of the directory in name order (go-cni). */
export function firstCniConfig(node: SimNode): string | undefined {
  const dir = join(node.root, 'etc', 'cni', 'net.d');
  if (!existsSync(dir)) {
    return undefined;
  }
  return readdirSync(dir)
    .filter((f) => /\.(conf|conflist|json)$/.test(f))
    .sort()[0];
}

/** Seconds as Cilium takes them: a bare number, or a Go duration such as 15s or 1m. */
function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    return 15_000;
  }
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * factor;
}

/**
 * The backends `address:port` of a Service port: its ready endpoints (those with the first
 * endpoint's port, as the echo and the stand-ins use one). The API server's own Service
 * (`default/kubernetes`) points at the servers' k3s API port, as on a k3s cluster (the test API
 * server's own endpoint is on loopback).
 */
function backendsOf(svc: Json, port: Json, endpoints: readonly Json[], config: ResolvedConfig): string[] {
  if (svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes') {
    const server = config.cluster.nodes.find((n) => n.role === 'server')!;
    return [`${server.internalIP}:6443`];
  }
  const ep = endpoints.find((e) => e.metadata.namespace === svc.metadata.namespace && e.metadata.name === svc.metadata.name);
  const backends: string[] = [];
  for (const subset of ep?.subsets ?? []) {
    const target = (subset.ports ?? []).find(
      (p: Json) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'),
    );
    for (const address of subset.addresses ?? []) {
      if (target && address.ip) {
        backends.push(`${address.ip}:${target.port}`);
      }
    }
  }
  const first = backends[0]?.split(':')[1];
  return backends.filter((b) => b.split(':')[1] === first).sort();
}

/**
 * A new network namespace plugged into a node as a pod is: a veth whose node end is `link`, the
 * address alone on the pod's eth0, the gateway reached on the link and the node's route back.
 */
function plugNamespace(nodeNetns: string, netns: string, link: string, address: string, gateway: string): void {
  ip('netns', 'add', netns);
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  ip('-n', nodeNetns, 'link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  ip('-n', nodeNetns, 'link', 'set', link, 'up');
  ip('-n', netns, 'link', 'set', 'eth0', 'up');
  ip('-n', netns, 'addr', 'add', `${address}/32`, 'dev', 'eth0');
  ip('-n', netns, 'route', 'add', `${gateway}/32`, 'dev', 'eth0', 'scope', 'link');
  ip('-n', netns, 'route', 'add', 'default', 'via', gateway, 'dev', 'eth0');
  ip('-n', nodeNetns, 'route', 'replace', `${address}/32`, 'dev', link);
}

function setMember(set: Set<string>, member: string, present: boolean): void {
  if (present) {
    set.add(member);
  } else {
    set.delete(member);
  }
}
