/**
 * The objects that make the test control plane look like the k3s + Calico cluster a config
 * describes: a Node per configured node (as k3s registers it), the objects of the configured
 * Calico version and manifest (calico-fixture.ts), CoreDNS, the hcloud cloud controller where the profile needs one,
 * an etcd snapshot. Stand-ins, not copies of upstream manifests: each object carries what the
 * generated programs read, shaped as the real one is (docs/testing.md "The simulated cluster").
 */
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { formatIpv4, parseCidr } from '../../lib/cidr.ts';

/** A Kubernetes object as the fixture creates it. */
export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

/** An application's Deployment. */
export interface Deployment {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  /**
   * The node its pods run on (a nodeSelector on the hostname label).
   * @default - any
   */
  readonly node?: string;
  /**
   * A PodDisruptionBudget over its pods with this maxUnavailable (0: no eviction is ever allowed).
   * @default - none
   */
  readonly maxUnavailable?: number;
  /**
   * Seconds its pods take to stop once deleted (a process that finishes its work after SIGTERM,
   * within the grace period the pods get for it).
   * @default - they stop at once
   */
  readonly stopSeconds?: number;
  /**
   * Labels of the Deployment itself (what a GitOps engine puts on what it applies).
   * @default - only `app`
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The pod annotation the simulated kubelet reads for Deployment.stopSeconds. */
export const STOP_SECONDS_ANNOTATION = 'ccsim.cilium-cutover.io/stop-seconds';

/** What a test can switch on. */
export interface Scenario {
  /**
   * Calico custom resources to create (kind → names), for example policies the preflight must see.
   * @default - only the default IPPool
   */
  readonly calicoResources?: Readonly<Record<string, readonly string[]>>;
  /**
   * The calico-node image tag, when it must differ from the configured version.
   * @default - the configured version
   */
  readonly calicoImageTag?: string;
  /**
   * The etcd snapshot's age in seconds; `null` for no snapshot.
   * @default 3600
   */
  readonly snapshotAgeSeconds?: number | null;
  /**
   * Workloads of the applications (namespace/name), with their replicas: the maintenance window's targets.
   * @default - none
   */
  readonly deployments?: readonly Deployment[];
  /**
   * calico-node's IP_AUTODETECTION_METHOD.
   * @default - unset, as in the manifest (Calico then uses first-found)
   */
  readonly calicoAutodetection?: string;
  /**
   * Host tools the nodes lack (the node preflight looks for bash, iptables-*-save, ipset, ip).
   * @default - none: every node has them
   */
  readonly missingHostTools?: readonly string[];
  /**
   * Nodes whose kubelet is down from the start: their pods stay as they are (Terminating once
   * deleted) and the node's Ready condition is Unknown. `Simulation.setNodeDown` does it later.
   * @default - none
   */
  readonly nodesDown?: readonly string[];
  /**
   * The status the site outside the cluster (verify.externalURLs) answers with.
   * @default 200
   */
  readonly externalStatus?: number;
  /**
   * An ingress controller (stand-in for k3s's Traefik, kube-system/traefik, listening on port 80):
   * behind its Service, or on every node's address (hostNetwork).
   * @default - none
   */
  readonly ingress?: {
    readonly controller: 'service' | 'hostNetwork';
    /** Answers plain HTTP with a redirect to HTTPS, and serves HTTPS on 443 (Traefik's web → websecure). */
    readonly redirectHttps?: boolean;
    /** hostNetwork: the nodes its pods run on. @default - every node */
    readonly nodes?: readonly string[];
  };
  /**
   * k3s's ServiceLB: the Traefik Service of type LoadBalancer and its `svclb-traefik-*` DaemonSet.
   * @default false
   */
  readonly serviceLB?: boolean;
  /**
   * The hcloud cloud controller's shape (CloudControllerShape).
   * @default - the chart's render with networking enabled and clusterCIDR cluster.podCIDR
   */
  readonly cloudController?: CloudControllerShape;
  /**
   * An aggregated API (metrics.k8s.io, as metrics-server registers it) whose Service has no
   * endpoints: discovery of that group fails, as on a cluster whose pod network is down.
   * @default false
   */
  readonly unavailableApiService?: boolean;
  /**
   * Pods no controller owns (namespace/name), started under Calico: nothing would bring one back
   * after an eviction.
   * @default - none
   */
  readonly barePods?: readonly { readonly namespace: string; readonly name: string }[];
  /**
   * calico-node's grace period. Above 0 (the operator install's 5 seconds, for example) the kubelet
   * runs its preStop hook, which sets NetworkUnavailable=True (CalicoIsDown) on the node as its pod
   * goes (projectcalico/calico#7816).
   * @default 0, as in the manifest
   */
  readonly calicoNodeGracePeriodSeconds?: number;
  /**
   * Nodes whose Cilium agent never becomes ready once it starts (no health, no CNI config) until
   * `Simulation.setAgentHealthy` lets it.
   * @default - none
   */
  readonly agentsNotReady?: readonly string[];
  /**
   * What a node reports of itself, where it differs from a fit node: its kernel and OS, its kubelet
   * version, resource pressure, or an InternalIP other than the configured one.
   * @default - every node: Ubuntu 24.04's kernel 6.8, the configured minor's kubelet, no pressure
   */
  readonly nodeStatus?: Readonly<Record<string, NodeStatusShape>>;
  /**
   * The Calico manifest installed, where it differs from calico.manifest.
   * @default - calico.manifest
   */
  readonly calicoManifest?: 'calico' | 'calico-typha';
  /**
   * The IPv4 pools in the cluster, where they differ from calico.ipPools.
   * @default - calico.ipPools
   */
  readonly calicoIpPools?: readonly string[];
  /**
   * Nodes whose routing table lacks the private network's route to the pod CIDRs: their default
   * route leaves through a public interface, as on a Hetzner Cloud server whose network ip_range
   * does not contain the pod CIDR (hetzner-cloud only).
   * @default - none
   */
  readonly noPodRoute?: readonly string[];
  /**
   * Nodes whose private interface sits in a subnet of its own (a /32 behind a gateway), so no
   * other node is on-link from them: a server not actually on the vSwitch.
   * @default - none
   */
  readonly offLink?: readonly string[];
  /**
   * Nodes whose pod CIDR has no route in the Hetzner network (hetzner-cloud): the preflight cannot
   * see the network's routes, so only traffic shows it.
   * @default - none
   */
  readonly missingNetworkRoutes?: readonly string[];
  /**
   * The site outside the cluster drops everything: no egress.
   * @default false
   */
  readonly egressBlocked?: boolean;
  /**
   * The network between the nodes drops Cilium's overlay during a per-node migration (a firewall
   * that does not pass its VXLAN port): the simulation's tunnel is routes over the nodes' link, so
   * it drops the packets to and from `perNode.podCIDR` there.
   * @default false
   */
  readonly overlayBlocked?: boolean;
  /**
   * Nodes whose link to the network carries smaller packets than their eth1 says (node → MTU): full-size packets are
   * dropped silently, small ones pass.
   * @default - none
   */
  readonly linkMtu?: Readonly<Record<string, number>>;
  /**
   * Nodes whose Cilium agent pod restarts every few seconds yet is Ready whenever it is looked at: its restart count grows.
   * @default - none
   */
  readonly agentRestarting?: readonly string[];
  /**
   * A CoreDNS pod the kubelet evicted (phase Failed, reason Evicted) beside the running one, as
   * kubectl shows after disk pressure.
   * @default false
   */
  readonly evictedCoreDns?: boolean;
  /**
   * The node CoreDNS's pod is scheduled on (a nodeSelector on its hostname).
   * @default - wherever the fewest pods run
   */
  readonly coreDnsNode?: string;
}

/**
 * The hcloud cloud controller, shaped as its Helm chart renders it (chart/templates/deployment.yaml
 * and daemonset.yaml, hetznercloud/hcloud-cloud-controller-manager v1.27.0).
 */
export interface CloudControllerShape {
  /**
   * HCLOUD_NETWORK: from the `hcloud` Secret (the chart's networking.network), a plain value (set
   * by hand in the chart's env), or not at all.
   * @default 'secret' with networking, else 'none'
   */
  readonly network?: 'value' | 'secret' | 'none';
  /**
   * The chart's networking.enabled: `--allocate-node-cidrs=true --cluster-cidr=<clusterCIDR>` and
   * hostNetwork.
   * @default true
   */
  readonly networking?: boolean;
  /** @default - the hostNetwork networking gives */
  readonly hostNetwork?: boolean;
  /** The chart's networking.clusterCIDR. @default - cluster.podCIDR */
  readonly clusterCIDR?: string;
  /** HCLOUD_NETWORK_ROUTES_ENABLED, as the chart's env sets it (the Robot guide: "false"). @default - unset */
  readonly routesEnabled?: string;
  /** The chart's `kind`. @default 'Deployment' */
  readonly kind?: 'Deployment' | 'DaemonSet';
  /** Its container exits at once and again (CrashLoopBackOff): never Ready. @default false */
  readonly crashLooping?: boolean;
}

/** What a node reports of itself (Scenario.nodeStatus). */
export interface NodeStatusShape {
  /** status.nodeInfo.kernelVersion. */
  readonly kernelVersion?: string;
  /** status.nodeInfo.osImage. */
  readonly osImage?: string;
  /** status.nodeInfo.kubeletVersion. */
  readonly kubeletVersion?: string;
  /** Pressure conditions set True. */
  readonly pressure?: readonly ('DiskPressure' | 'MemoryPressure' | 'PIDPressure')[];
  /** The InternalIP the Node reports instead of the configured one (k3s started without --node-ip). */
  readonly internalIP?: string;
}

/** The labels of the hcloud cloud controller's pods (the chart's selectorLabels, release hcloud-hccm). */
export const CLOUD_CONTROLLER_LABELS = {
  'app.kubernetes.io/name': 'hcloud-cloud-controller-manager',
  'app.kubernetes.io/instance': 'hcloud-hccm',
} as const;

/** The labels of the ingress controller's pods (k3s's Traefik chart). */
export const INGRESS_LABELS = { 'app.kubernetes.io/name': 'traefik' } as const;

/** The label k3s's kubelet gives every node, and the role labels it gives servers. */
function nodeLabels(name: string, role: 'server' | 'agent'): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    ...(role === 'server'
      ? {
          'node-role.kubernetes.io/control-plane': 'true',
          'node-role.kubernetes.io/etcd': 'true',
          'node-role.kubernetes.io/master': 'true',
        }
      : {}),
  };
}

/**
 * `k3s.io/node-args` as k3s writes it: the node's arguments, config-file settings included, as a
 * JSON list, secrets redacted (k3s-io/k3s pkg/nodeconfig/nodeconfig.go).
 */
function nodeArgs(config: ResolvedConfig, index: number): string {
  const node = config.cluster.nodes[index]!;
  const firstServer = config.cluster.nodes.find((n) => n.role === 'server')!;
  if (node.role === 'agent') {
    return JSON.stringify([
      'agent',
      '--server',
      `https://${firstServer.internalIP}:6443`,
      '--node-ip',
      node.internalIP,
      '--token',
      '********',
    ]);
  }
  return JSON.stringify([
    'server',
    ...(node === firstServer ? ['--cluster-init', 'true'] : ['--server', `https://${firstServer.internalIP}:6443`]),
    '--cluster-cidr',
    config.cluster.podCIDR,
    '--service-cidr',
    config.cluster.serviceCIDR,
    '--flannel-backend',
    'none',
    '--disable-network-policy',
    'true',
    ...(config.cilium.kubeProxyReplacementEnabled ? ['--disable-kube-proxy', 'true'] : []),
    '--node-ip',
    node.internalIP,
    '--token',
    '********',
  ]);
}

/** The `/24` of the pod CIDR k3s's node IPAM gives the `index`-th node. */
export function nodePodCidr(config: ResolvedConfig, index: number): string {
  return `${formatIpv4(parseCidr(config.cluster.podCIDR)!.first + index * 256)}/24`;
}

/** The port the simulated kubelet of the `index`-th node serves logs on. */
export function kubeletPort(basePort: number, index: number): number {
  return basePort + index;
}

/** Node objects, as k3s registers them, Ready. */
export function nodes(config: ResolvedConfig, kubeletBasePort: number, scenario: Scenario = {}): Obj[] {
  return config.cluster.nodes.map((node, i) => nodeObject(config, kubeletBasePort, i, scenario.nodeStatus?.[node.name] ?? {}));
}

/** The kubelet's pressure conditions, as it reports them on a node without pressure (pkg/kubelet/nodestatus/setters.go). */
const PRESSURE_CONDITIONS = {
  MemoryPressure: ['KubeletHasSufficientMemory', 'KubeletHasInsufficientMemory'],
  DiskPressure: ['KubeletHasNoDiskPressure', 'KubeletHasDiskPressure'],
  PIDPressure: ['KubeletHasSufficientPID', 'KubeletHasInsufficientPID'],
} as const;

function nodeObject(config: ResolvedConfig, kubeletBasePort: number, i: number, shape: NodeStatusShape): Obj {
  const node = config.cluster.nodes[i]!;
  const now = new Date().toISOString();
  const pressure = Object.entries(PRESSURE_CONDITIONS).map(([type, [calm, pressed]]) => {
    const on = shape.pressure?.includes(type as keyof typeof PRESSURE_CONDITIONS) ?? false;
    return {
      type,
      status: on ? 'True' : 'False',
      reason: on ? pressed : calm,
      message: '',
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    };
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: nodeLabels(node.name, node.role),
      annotations: {
        'k3s.io/node-args': nodeArgs(config, i),
        // The address calico-node detected and runs BGP and its tunnels on, as it records it:
        // here the configured InternalIP (/32, as on a Hetzner Cloud private interface).
        'projectcalico.org/IPv4Address': `${node.internalIP}/32`,
      },
    },
    spec: {
      podCIDR: nodePodCidr(config, i),
      podCIDRs: [nodePodCidr(config, i)],
      ...(config.cluster.profile === 'hetzner-cloud' ? { providerID: `hcloud://${40000000 + i}` } : {}),
    },
    status: {
      // InternalDNS is where the API server reaches the simulated kubelet (it prefers that type:
      // scripts/control-plane/start.sh); k3s nodes carry no such address, and nothing reads it.
      addresses: [
        { type: 'InternalIP', address: shape.internalIP ?? node.internalIP },
        { type: 'Hostname', address: node.name },
        { type: 'InternalDNS', address: '127.0.0.1' },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort(kubeletBasePort, i) } },
      // The DaemonSet controller places a pod only where it fits.
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [...pressure, readyCondition()],
      nodeInfo: {
        kubeletVersion: shape.kubeletVersion ?? `${config.cluster.kubernetesVersion}.0+k3s1`,
        kernelVersion: shape.kernelVersion ?? '6.8.0-51-generic',
        osImage: shape.osImage ?? 'Ubuntu 24.04.1 LTS',
        containerRuntimeVersion: 'containerd://2.0.4-k3s2',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** A Ready node's Ready condition, as the kubelet sets it. */
function readyCondition(): Record<string, string> {
  const now = new Date().toISOString();
  return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: '', lastHeartbeatTime: now, lastTransitionTime: now };
}

/**
 * CoreDNS, k3s's packaged add-on: pods labelled k8s-app=kube-dns (what the checks and Cilium's
 * operator select) and the kube-dns Service on the service CIDR's tenth address.
 */
export function coreDns(config: ResolvedConfig, scenario: Scenario = {}): Obj[] {
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    ...(scenario.evictedCoreDns
      ? [
          {
            // Bound to a node and created Failed: the kubelet leaves a finished pod alone.
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: 'coredns-6799fbcd5-evict', namespace: 'kube-system', labels },
            spec: {
              nodeName: config.cluster.nodes[0]!.name,
              containers: [{ name: 'coredns', image: 'rancher/mirrored-coredns-coredns:1.12.0' }],
            },
            status: {
              phase: 'Failed',
              reason: 'Evicted',
              message: 'The node was low on resource: ephemeral-storage.',
            },
          },
        ]
      : []),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
      spec: {
        selector: labels,
        clusterIP: formatIpv4(parseCidr(config.cluster.serviceCIDR)!.first + 10),
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            ...(scenario.coreDnsNode ? { nodeSelector: { 'kubernetes.io/hostname': scenario.coreDnsNode } } : {}),
            containers: [
              {
                name: 'coredns',
                image: 'rancher/mirrored-coredns-coredns:1.12.0',
                ports: [
                  { name: 'dns', containerPort: 53, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                ],
              },
            ],
          },
        },
      },
    },
  ];
}

/** The hcloud cloud controller, as the scenario shapes it, where the profile needs one. */
export function cloudController(config: ResolvedConfig, scenario: Scenario): Obj[] {
  const cc = config.cluster.profile === 'hetzner-cloud' ? config.cluster.network?.cloudController : undefined;
  if (!cc) {
    return [];
  }
  const shape = scenario.cloudController ?? {};
  const networking = shape.networking ?? true;
  const kind = shape.kind ?? 'Deployment';
  const labels = { ...CLOUD_CONTROLLER_LABELS };
  const secret = (name: string, key: string, optional?: boolean) => ({
    name,
    valueFrom: { secretKeyRef: { name: 'hcloud', key, ...(optional ? { optional } : {}) } },
  });
  // The chart's default args, sorted by key as `range` renders them, then the networking ones.
  const flags = [
    '--allow-untagged-cloud',
    '--cloud-provider=hcloud',
    '--feature-gates=CloudControllerManagerWatchBasedRoutesReconciliation=false',
    '--route-reconciliation-period=30s',
    '--webhook-secure-port=0',
    ...(networking ? ['--allocate-node-cidrs=true', `--cluster-cidr=${shape.clusterCIDR ?? config.cluster.podCIDR}`] : []),
  ];
  const network = shape.network ?? (networking ? 'secret' : 'none');
  const container = {
    name: 'hcloud-cloud-controller-manager',
    image: 'docker.io/hetznercloud/hcloud-cloud-controller-manager:v1.27.0',
    // The Deployment takes the image's entrypoint; the DaemonSet names the binary, without leader election off.
    ...(kind === 'Deployment'
      ? { args: [...flags, '--leader-elect=false'] }
      : { command: ['/bin/hcloud-cloud-controller-manager', ...flags] }),
    env: [
      secret('HCLOUD_TOKEN', 'token'),
      secret('ROBOT_PASSWORD', 'robot-password', true),
      secret('ROBOT_USER', 'robot-user', true),
      ...(network === 'secret'
        ? [secret('HCLOUD_NETWORK', 'network')]
        : network === 'value'
          ? [{ name: 'HCLOUD_NETWORK', value: 'k3s' }]
          : []),
      ...(shape.routesEnabled === undefined ? [] : [{ name: 'HCLOUD_NETWORK_ROUTES_ENABLED', value: shape.routesEnabled }]),
      { name: 'HCLOUD_METRICS_ENABLED', value: 'false' },
    ],
  };
  return [
    {
      apiVersion: 'apps/v1',
      kind,
      metadata: { name: cc.name, namespace: cc.namespace, labels },
      spec: {
        ...(kind === 'Deployment' ? { replicas: 1 } : {}),
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            ...((shape.hostNetwork ?? networking) ? { hostNetwork: true } : {}),
            dnsPolicy: 'Default',
            priorityClassName: 'system-cluster-critical',
            tolerations: [
              { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
              { key: 'CriticalAddonsOnly', operator: 'Exists' },
              { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule', operator: 'Exists' },
              { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
            ],
            containers: [container],
          },
        },
      },
    },
  ];
}

/** k3s's ETCDSnapshotFile CRD (k3s.cattle.io/v1, cluster-scoped) and, unless switched off, one snapshot. */
export function etcdSnapshots(config: ResolvedConfig, scenario: Scenario): { crd: Obj; snapshots: Obj[] } {
  const crd: Obj = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'etcdsnapshotfiles.k3s.cattle.io' },
    spec: {
      group: 'k3s.cattle.io',
      scope: 'Cluster',
      names: { plural: 'etcdsnapshotfiles', singular: 'etcdsnapshotfile', kind: 'ETCDSnapshotFile', listKind: 'ETCDSnapshotFileList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
  const age = scenario.snapshotAgeSeconds === undefined ? 3600 : scenario.snapshotAgeSeconds;
  if (age === null) {
    return { crd, snapshots: [] };
  }
  const server = config.cluster.nodes.find((n) => n.role === 'server')!.name;
  const created = new Date(Date.now() - age * 1000).toISOString();
  return {
    crd,
    snapshots: [
      {
        apiVersion: 'k3s.cattle.io/v1',
        kind: 'ETCDSnapshotFile',
        metadata: { name: `local-etcd-snapshot-${server}` },
        spec: {
          snapshotName: `etcd-snapshot-${server}`,
          nodeName: server,
          location: `file:///var/lib/rancher/k3s/server/db/snapshots/etcd-snapshot-${server}`,
        },
        status: { creationTime: created, readyToUse: true },
      },
    ],
  };
}

/** The applications' Deployments a scenario lists (the maintenance window's targets), and its bare pods. */
export function applications(scenario: Scenario): Obj[] {
  const namespaces = new Set([...(scenario.deployments ?? []), ...(scenario.barePods ?? [])].map((o) => o.namespace));
  const bare: Obj[] = (scenario.barePods ?? []).map((p) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace },
    spec: { containers: [{ name: p.name, image: 'docker.io/library/alpine:3.20', command: ['sleep', 'infinity'] }] },
  }));
  return [
    ...[...namespaces].map((name): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    ...bare,
    ...deployments(scenario),
  ];
}

function deployments(scenario: Scenario): Obj[] {
  return (scenario.deployments ?? []).flatMap((d) => {
    const labels = { app: d.name };
    return [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: d.name, namespace: d.namespace, labels: { ...labels, ...d.labels } },
        spec: {
          replicas: d.replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, ...(d.stopSeconds ? { annotations: { [STOP_SECONDS_ANNOTATION]: String(d.stopSeconds) } } : {}) },
            spec: {
              ...(d.stopSeconds ? { terminationGracePeriodSeconds: d.stopSeconds + 30 } : {}),
              containers: [{ name: d.name, image: 'docker.io/library/nginx:1.27' }],
              ...(d.node ? { nodeSelector: { 'kubernetes.io/hostname': d.node } } : {}),
            },
          },
        },
      },
      ...(d.maxUnavailable === undefined
        ? []
        : [
            {
              // policy/v1; the simulation serves it as policy/v1beta1 (api-level.ts).
              apiVersion: 'policy/v1',
              kind: 'PodDisruptionBudget',
              metadata: { name: d.name, namespace: d.namespace },
              spec: { maxUnavailable: d.maxUnavailable, selector: { matchLabels: labels } },
            },
          ]),
    ];
  });
}

/** Traefik, as k3s packages it, with the stand-in proxy's labels: behind its Service or on the nodes. */
export function ingressController(scenario: Scenario): Obj[] {
  const labels = { ...INGRESS_LABELS };
  const objects: Obj[] = [];
  if (scenario.ingress || scenario.serviceLB) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'traefik', namespace: 'kube-system', labels },
      spec: {
        // As k3s's Traefik chart makes it: a LoadBalancer (so NodePorts too) for web and websecure.
        type: 'LoadBalancer',
        selector: labels,
        ports: [
          { name: 'web', port: 80, protocol: 'TCP', targetPort: 'web' },
          { name: 'websecure', port: 443, protocol: 'TCP', targetPort: 'websecure' },
        ],
      },
    });
  }
  if (scenario.ingress) {
    objects.push({
      apiVersion: 'apps/v1',
      kind: scenario.ingress.controller === 'hostNetwork' ? 'DaemonSet' : 'Deployment',
      metadata: { name: 'traefik', namespace: 'kube-system', labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: scenario.ingress.controller === 'hostNetwork',
            ...(scenario.ingress.nodes
              ? {
                  affinity: {
                    nodeAffinity: {
                      requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerms: [
                          { matchFields: [{ key: 'metadata.name', operator: 'In', values: [...scenario.ingress.nodes] }] },
                        ],
                      },
                    },
                  },
                }
              : {}),
            containers: [
              {
                name: 'traefik',
                image: 'rancher/mirrored-library-traefik:3.3.6',
                ports: [
                  { name: 'web', containerPort: 80, protocol: 'TCP' },
                  { name: 'websecure', containerPort: 443, protocol: 'TCP' },
                ],
              },
            ],
          },
        },
      },
    });
  }
  if (scenario.serviceLB) {
    // k3s's ServiceLB: a DaemonSet per LoadBalancer Service, in kube-system, holding the ports on every node.
    const svclb = {
      app: 'svclb-traefik-1b7a2a41',
      'svccontroller.k3s.cattle.io/svcname': 'traefik',
      'svccontroller.k3s.cattle.io/svcnamespace': 'kube-system',
    };
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'svclb-traefik-1b7a2a41', namespace: 'kube-system', labels: svclb },
      spec: {
        selector: { matchLabels: { app: svclb.app } },
        template: {
          metadata: { labels: svclb },
          spec: {
            containers: [
              {
                name: 'lb-tcp-80',
                image: 'rancher/klipper-lb:v0.4.13',
                ports: [{ name: 'lb-tcp-80', containerPort: 80, hostPort: 80, protocol: 'TCP' }],
              },
            ],
            tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          },
        },
      },
    });
  }
  return objects;
}

/** metrics-server's APIService, with a Service that has no endpoints. */
export function unavailableApiService(scenario: Scenario): Obj[] {
  if (!scenario.unavailableApiService) {
    return [];
  }
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'metrics-server', namespace: 'kube-system' },
      spec: { selector: { 'k8s-app': 'metrics-server' }, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 10250 }] },
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io' },
      spec: {
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        service: { namespace: 'kube-system', name: 'metrics-server', port: 443 },
        groupPriorityMinimum: 100,
        versionPriority: 100,
        insecureSkipTLSVerify: true,
      },
    },
  ];
}
