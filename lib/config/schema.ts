/**
 * The cluster config: one YAML file, validated by this schema (with defaults) and exported as a
 * JSON Schema for editors (`schema/cilium-cutover.schema.json`).
 *
 * Field names under `cilium` follow the Cilium Helm values they correspond to, so a reader who
 * knows the chart knows what they mean. Profile-driven defaults (MTU, direct routes, …) are not
 * filled in here but in `resolve.ts`, because they depend on other fields.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCidr, parseIpv4 } from '../cidr.ts';
import { CILIUM_VERSIONS, DEFAULT_CILIUM_VERSION } from '../versions/cilium.ts';

/** Renders an input value for an error message: strings quoted, objects as JSON. */
export function show(value: unknown): string {
  if (value === undefined) {
    return 'nothing (the field is missing)';
  }
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function dnsLabel(what: string) {
  return z
    .string({ error: (i) => `expected ${what} (a DNS label), got ${show(i.input)}` })
    .refine((s) => s.length <= 63 && DNS_LABEL.test(s), {
      error: (i) => `expected ${what}: lower-case letters, digits and '-', at most 63 characters, got ${show(i.input)}`,
    });
}

function intRange(min: number, max: number) {
  const error = (i: { input?: unknown }) => `expected an integer ${min}–${max}, got ${show(i.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

function cidr() {
  return z
    .string({ error: (i) => `expected an IPv4 CIDR like 10.42.0.0/16, got ${show(i.input)}` })
    .refine((s) => parseCidr(s) !== undefined, {
      error: (i) => `expected an IPv4 CIDR with the host bits zero, like 10.42.0.0/16, got ${show(i.input)}`,
    });
}

/**
 * A DNS name as Kubernetes takes a host (RFC 1123): dot-separated labels of letters, digits and
 * inner hyphens, at most 63 characters each and 253 in all. Cilium's containers get the API server
 * host as KUBERNETES_SERVICE_HOST, which takes no scheme, port or path.
 */
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

/**
 * A Linux interface name (at most 15 characters, IFNAMSIZ; letters, digits, `_`, `.` and `-`:
 * dev_valid_name refuses `/`, `:` and spaces), or a prefix of one followed by `+`, which Cilium's
 * `devices` and `directRoutingDevice` take as a wildcard.
 */
const INTERFACE = /^[A-Za-z0-9_.-]{1,15}\+?$/;

function ipv4() {
  return z
    .string({ error: (i) => `expected an IPv4 address like 10.0.0.2, got ${show(i.input)}` })
    .refine((s) => parseIpv4(s) !== undefined, { error: (i) => `expected an IPv4 address like 10.0.0.2, got ${show(i.input)}` });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (i) => `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(i.input)}`,
  });
}

function bool() {
  return z.boolean({ error: (i) => `expected true or false, got ${show(i.input)}` });
}

function duration() {
  return z
    .string({ error: (i) => `expected a duration like 10m, got ${show(i.input)}` })
    .regex(/^[1-9]\d*(s|m|h)$/, { error: (i) => `expected a duration like 30s, 10m or 1h, got ${show(i.input)}` });
}

function httpUrl(what: string) {
  return z.string({ error: (i) => `expected ${what}, got ${show(i.input)}` }).refine(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'https:' || u.protocol === 'http:';
      } catch {
        return false;
      }
    },
    { error: (i) => `expected ${what} (http:// or https://), got ${show(i.input)}` },
  );
}

export const PROFILES = ['hetzner-cloud', 'hetzner-vswitch', 'generic'] as const;
export type Profile = (typeof PROFILES)[number];

const nodeSchema = z.strictObject({
  name: z
    .string({ error: (i) => `expected a node name, got ${show(i.input)}` })
    .refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), {
      error: (i) => `expected a Kubernetes node name (lower-case DNS subdomain), got ${show(i.input)}`,
    })
    .describe('The Node name as `kubectl get nodes` shows it.'),
  role: oneOf(['server', 'agent']).describe('`server` (k3s server, runs the control plane) or `agent`.'),
  internalIP: ipv4().describe("The node's InternalIP (on Hetzner Cloud: its address in the private network)."),
});

const clusterSchema = z.strictObject({
  name: dnsLabel('a cluster name').describe('Name of the cluster; used in object names and PLAN.md.'),
  distribution: oneOf(['k3s']).default('k3s').describe('Kubernetes distribution. Only k3s is supported.'),
  kubernetesVersion: z
    .string({ error: (i) => `expected a Kubernetes minor version like v1.32, got ${show(i.input)}` })
    .regex(/^v1\.(2[6-9]|[3-9]\d)$/, {
      error: (i) => `expected a Kubernetes minor version v1.26 or newer, like v1.32, got ${show(i.input)}`,
    })
    .describe('Kubernetes minor version the k3s servers run (`kubectl version`), e.g. v1.32. Some generated fields depend on it.'),
  profile: oneOf(PROFILES).describe(
    'Network profile: `hetzner-cloud` (Hetzner Cloud private network, layer 3), `hetzner-vswitch` (Robot vSwitch, layer 2) or `generic`.',
  ),
  network: z
    .strictObject({
      ipRange: cidr()
        .optional()
        .describe(
          "The provider network's ip_range (Hetzner Cloud: the network, not the subnet): every node's address lies in it. Required for hetzner-cloud, and for hetzner-vswitch with cloudServers.",
        ),
      vSwitchSubnet: cidr()
        .optional()
        .describe(
          "hetzner-vswitch: the vSwitch's subnet, the one layer-2 segment the Robot servers share; every Robot server's InternalIP lies in it. Required for hetzner-vswitch.",
        ),
      routesPodCIDRs: bool()
        .default(false)
        .describe(
          "generic with native routing and no direct node routes: the network itself (a router with a static route per node's pod CIDR via that node) carries pod traffic between nodes. Native routing on generic is refused without this or cilium.autoDirectNodeRoutes.",
        ),
      cloudController: z
        .strictObject({
          namespace: dnsLabel('a namespace').default('kube-system'),
          name: dnsLabel('a Deployment name').default('hcloud-cloud-controller-manager'),
        })
        .prefault({})
        .describe('hetzner-cloud: the hcloud cloud-controller-manager Deployment, which the preflight checks.'),
      cloudServers: bool()
        .default(false)
        .describe(
          'hetzner-vswitch only: the vSwitch is coupled to a Hetzner Cloud network whose cloud servers are nodes too. They are layer 3 away from the Robot servers, and nothing routes pods between the two: needs cilium.routingMode tunnel.',
        ),
    })
    .optional()
    .describe('The provider network the nodes are attached to.'),
  podCIDR: cidr().default('10.42.0.0/16').describe("The cluster's pod CIDR (k3s `cluster-cidr`)."),
  serviceCIDR: cidr().default('10.43.0.0/16').describe("The cluster's service CIDR (k3s `service-cidr`)."),
  apiServer: z
    .strictObject({
      host: z
        .string({ error: (i) => `expected a host name or IP address, got ${show(i.input)}` })
        .min(1, { error: 'expected a host name or IP address, got ""' })
        .refine((s) => isIP(s) !== 0 || DNS_NAME.test(s), {
          error: (i) =>
            `expected an IP address or a DNS name (no scheme, port or path), got ${show(i.input)}; the port goes in cluster.apiServer.port`,
        })
        .default('127.0.0.1')
        .describe(
          "Address every node reaches the API server at without kube-proxy or cluster DNS: an IP address or a DNS name, without scheme, port or path (it becomes Cilium's `KUBERNETES_SERVICE_HOST`).",
        ),
      port: intRange(1, 65535).default(6444).describe('Port of that address (k3s serves the API on 127.0.0.1:6444 on every node).'),
    })
    .prefault({})
    .describe('The direct API server address used by host-network Jobs and by Cilium instead of the kubernetes Service.'),
  nodes: z
    .array(nodeSchema, { error: (i) => `expected a list of nodes, got ${show(i.input)}` })
    .min(1, { error: 'expected at least one node; list every node of the cluster' })
    .describe('Every node of the cluster.'),
});

const ciliumVersions = CILIUM_VERSIONS.map((v) => v.version) as [string, ...string[]];
/** The newest release of each line in the table, for the error message. */
const newestPerLine = [...new Map(CILIUM_VERSIONS.map((v) => [v.line, v.version])).values()];

const ciliumSchema = z.strictObject({
  version: z
    .enum(ciliumVersions, {
      error: (i) =>
        `Cilium ${show(i.input)} is not in the release table (${ciliumVersions[0]} to ${ciliumVersions.at(-1)}; newest of each line: ${newestPerLine.join(', ')}); choose one of those, or add the release from its chart archive (docs/cilium-versions.md "Adding a release")`,
    })
    .default(DEFAULT_CILIUM_VERSION)
    .describe('Cilium version to install: a release in lib/versions/cilium-releases.json (every stable release 1.15.0 to 1.20.0).'),
  routingMode: oneOf(['native', 'tunnel'])
    .optional()
    .describe(
      'Helm `routingMode`: native routing (no overlay) or tunnel (VXLAN). Default native on hetzner-cloud and hetzner-vswitch; required on generic, where neither is safe to assume.',
    ),
  kubeProxyReplacement: z
    .union([z.boolean(), oneOf(['true', 'false', 'strict', 'partial', 'disabled'])], {
      error: (i) => `expected true, false or (Cilium 1.15 only) "strict", got ${show(i.input)}`,
    })
    .default(true)
    .transform((v) => String(v))
    .describe('Helm `kubeProxyReplacement`. `true` replaces kube-proxy fully; "strict" exists only on 1.15 and is deprecated.'),
  ipv4NativeRoutingCIDR: cidr()
    .optional()
    .describe('Helm `ipv4NativeRoutingCIDR`: traffic to this range is not masqueraded. Default: `cluster.podCIDR`.'),
  directRoutingSkipUnreachable: bool()
    .optional()
    .describe(
      'Helm `directRoutingSkipUnreachable` (Cilium 1.16+): with direct node routes, skip nodes that are not on the same layer-2 segment (their pods must then be routed by the network). Default false.',
    ),
  autoDirectNodeRoutes: bool()
    .optional()
    .describe(
      'Helm `autoDirectNodeRoutes`. Default by profile: false on hetzner-cloud and generic, true on hetzner-vswitch; false in tunnel mode.',
    ),
  devices: z
    .array(
      z.string({ error: (i) => `expected a network interface name, got ${show(i.input)}` }).regex(INTERFACE, {
        error: (i) => `expected a network interface name like eth1 (a trailing + matches a prefix: enp+), got ${show(i.input)}`,
      }),
      { error: (i) => `expected a list of network interface names, got ${show(i.input)}` },
    )
    .min(1, { error: 'expected at least one interface; remove the field to let Cilium detect them' })
    .optional()
    .describe(
      'Helm `devices`: the interfaces Cilium attaches its BPF programs to and serves NodePorts on (a trailing `+` matches a prefix). Default: detected by Cilium, which on a node whose InternalIP the cloud controller has not set yet can pick the wrong one.',
    ),
  directRoutingDevice: z
    .string({ error: (i) => `expected a network interface name, got ${show(i.input)}` })
    .regex(INTERFACE, {
      error: (i) => `expected a network interface name like enp7s0 (a trailing + matches a prefix), got ${show(i.input)}`,
    })
    .optional()
    .describe(
      "Helm `nodePort.directRoutingDevice`: the interface that carries traffic to other nodes (the private network's), one of `devices`. Default: detected by Cilium from the node's InternalIP.",
    ),
  ipam: z
    .strictObject({
      mode: oneOf(['kubernetes'])
        .default('kubernetes')
        .describe("Helm `ipam.mode`. Only kubernetes: pods take addresses from each node's podCIDR, which k3s allocates."),
    })
    .prefault({}),
  bpf: z
    .strictObject({
      masquerade: bool().default(true).describe('Helm `bpf.masquerade`.'),
    })
    .prefault({}),
  MTU: intRange(576, 9000)
    .optional()
    .describe('Helm `MTU`. Default by profile: 1450 on hetzner-cloud, 1400 on hetzner-vswitch, auto-detected on generic.'),
  operator: z
    .strictObject({
      replicas: intRange(1, 5).optional().describe('Helm `operator.replicas`. Default: 1 for up to 2 nodes, else 2.'),
    })
    .prefault({}),
  envoy: oneOf(['embedded', 'daemonset'])
    .default('embedded')
    .describe(
      "Where Cilium's Envoy proxy runs (Helm `envoy.enabled`): inside the agent pod (`embedded`, one DaemonSet less to roll out while the network is down) or as its own `cilium-envoy` DaemonSet (`daemonset`, the chart's default from 1.16; L7 proxying then survives an agent restart).",
    ),
});

const gitopsSchema = z.strictObject({
  engine: oneOf(['argocd', 'flux', 'both']).default('both').describe('Which GitOps objects to generate.'),
  repoURL: z
    .string({ error: (i) => `expected the Git URL of the repository dist/ is committed to, got ${show(i.input)}` })
    .regex(/^(https?:\/\/|ssh:\/\/|git@)\S+$/, {
      error: (i) => `expected a Git URL (https://, ssh:// or git@host:path), got ${show(i.input)}`,
    })
    .describe('The Git repository the synthesized output is committed to.'),
  path: z
    .string({ error: (i) => `expected a path inside the repository, got ${show(i.input)}` })
    .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, {
      error: (i) => `expected a relative path inside the repository without '..', got ${show(i.input)}`,
    })
    .default('dist')
    .describe('Where the synthesized output lives in that repository.'),
  revision: z
    .string({ error: (i) => `expected a branch name, got ${show(i.input)}` })
    .min(1)
    .default('main')
    .describe('Branch the GitOps engine follows.'),
  argocd: z
    .strictObject({
      namespace: dnsLabel('a namespace').default('argocd').describe('Namespace of the Argo CD Application.'),
      project: z.string().min(1).default('default').describe('Argo CD project.'),
      destinationServer: httpUrl('the API server URL Argo CD deploys to')
        .optional()
        .describe(
          'API server of the migrated cluster as the Argo CD that applies the steps has it registered (`argocd cluster list`). Required with engine argocd or both, and no default: an Argo CD inside this cluster (https://kubernetes.default.svc) loses its own network at step 100.',
        ),
      automated: bool()
        .default(false)
        .describe('Sync automatically on every commit. Off by default: the cutover starts when an operator syncs.'),
    })
    .prefault({}),
  flux: z
    .strictObject({
      namespace: dnsLabel('a namespace').default('flux-system').describe('Namespace of the Flux objects.'),
      interval: duration().default('10m').describe('Reconcile interval of the GitRepository and Kustomizations.'),
    })
    .prefault({}),
});

const verifySchema = z.strictObject({
  enabled: bool()
    .default(true)
    .describe('Generate steps 300 and 310 (test workloads and checks). Set false after a successful migration: the engine prunes them.'),
  namespace: dnsLabel('a namespace')
    .default('cilium-cutover-verify')
    .describe("Namespace of the verification workloads. The tool's own, like run.namespace, and another one."),
  externalURLs: z
    .array(httpUrl('an http(s) URL'), { error: (i) => `expected a list of URLs, got ${show(i.input)}` })
    .default(['https://one.one.one.one/'])
    .describe(
      'URLs outside the cluster that must answer HTTP 200 to a pod on every node: the proof of egress, masquerading and the resolution of an outside name through cluster DNS. Use a site your nodes may reach; a cluster with no way out lists `egress` in verify.skip instead.',
    ),
  skip: z
    .array(oneOf(['egress', 'ingress']), { error: (i) => `expected a list of checks (egress, ingress), got ${show(i.input)}` })
    .default([])
    .describe(
      'Checks acknowledged as not run: `egress` (the cluster has no way out; verify.externalURLs must then be empty) and `ingress` (no ingress controller). PLAN.md and the status record list them as not verified.',
    ),
  ingress: z
    .strictObject({
      className: z.string().min(1).default('traefik').describe('IngressClass of the test Ingress.'),
      host: z
        .string({ error: (i) => `expected a host name, got ${show(i.input)}` })
        .regex(DNS_SUBDOMAIN, { error: (i) => `expected a host name like echo.example.com, got ${show(i.input)}` })
        .default('echo.cilium-cutover.invalid')
        .describe('Host header the test Ingress answers to; no DNS record is needed, the check sends it.'),
      controller: oneOf(['hostNetwork', 'service'])
        .default('service')
        .describe(
          "How the ingress controller is reached: on the nodes where its pods run (hostNetwork), or through its Service's ClusterIP and its NodePort on every node.",
        ),
      port: intRange(1, 65535).default(80).describe('Port the controller listens on (the Service port, for controller: service).'),
      service: z
        .strictObject({
          namespace: dnsLabel('a namespace').default('kube-system'),
          name: dnsLabel('a Service name').default('traefik'),
        })
        .prefault({})
        .describe(
          "The controller's Service (k3s ships Traefik as kube-system/traefik); for controller: hostNetwork, its selector finds the pods.",
        ),
    })
    .prefault({})
    .describe(
      'The ingress check: by default the Traefik that k3s ships. A cluster without an ingress controller lists `ingress` in verify.skip.',
    ),
  limits: z
    .strictObject({
      wait: duration()
        .default('10m')
        .describe(
          'How long a check waits for what it tests to exist (echo pods Ready on every node, the agent answering, cilium-health having probed every node) before it judges.',
        ),
      window: duration()
        .default('3m')
        .describe('How long a check then has to see every subject pass `consecutive` rounds in a row (and every backend answer).'),
      consecutive: intRange(1, 20).default(3).describe('Rounds in a row each subject must pass; one failed request resets its count.'),
      payloadBytes: intRange(4096, 1048576)
        .default(65536)
        .describe('Size of the large request and answer sent across every node pair: full-size packets that an MTU mismatch drops.'),
    })
    .prefault({})
    .describe('Timing of the verification checks.'),
});

function objectName(what: string) {
  return z.string({ error: (i) => `expected ${what}, got ${show(i.input)}` }).refine((s) => s.length <= 253 && DNS_SUBDOMAIN.test(s), {
    error: (i) => `expected ${what}: lower-case letters, digits, '-' and '.', got ${show(i.input)}`,
  });
}

function listOf<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, { error: (i) => `expected a list of ${what}, got ${show(i.input)}` }).default([]);
}

const maintenanceSchema = z.strictObject({
  workloads: listOf(
    z.strictObject({
      kind: oneOf(['Deployment', 'StatefulSet']),
      namespace: dnsLabel('a namespace'),
      name: objectName('a Deployment or StatefulSet name'),
    }),
    'Deployments and StatefulSets',
  ).describe(
    'Scaled to zero in step 050-pause (the replicas are remembered in the annotation cilium-cutover.io/paused-replicas) and scaled back in 800-resume.',
  ),
  flux: listOf(
    z.strictObject({
      kind: oneOf(['Kustomization', 'HelmRelease']),
      namespace: dnsLabel('a namespace').default('flux-system'),
      name: objectName('a Kustomization or HelmRelease name'),
    }),
    'Flux objects',
  ).describe(
    'Flux Kustomizations and HelmReleases in this cluster, suspended in 050-pause and resumed in 800-resume (one suspended before stays suspended). List the ones that manage the paused workloads, or Flux scales them back up.',
  ),
  argocd: listOf(
    z.strictObject({ namespace: dnsLabel('a namespace').default('argocd'), name: objectName('an Application name') }),
    'Argo CD Applications',
  ).describe(
    "Argo CD Applications stored in this cluster whose automated sync is turned off in 050-pause and restored in 800-resume. List the ones that manage the paused workloads, or Argo CD's self-heal scales them back up.",
  ),
  remoteArgocd: listOf(
    z.strictObject({ namespace: dnsLabel('a namespace').default('argocd'), name: objectName('an Application name') }),
    'Argo CD Applications',
  ).describe(
    'Argo CD Applications stored in another cluster (a management Argo CD). A Job here cannot reach them: PLAN.md gives the kubectl commands to run against that cluster before 050-pause and after 800-resume.',
  ),
});

const cleanupSchema = z.strictObject({
  dryRun: bool()
    .default(false)
    .describe('Node cleanup and kube-proxy cleanup Jobs only print what they would remove. The Calico deletion Job is not affected.'),
  birdRoutes: bool()
    .default(true)
    .describe(
      "Flush Calico's routes on every node, IPv4 and IPv6: BIRD's (`proto bird`) and Felix's own (protocol 80, the VXLAN backend's), blackholes included. Cannot be turned off when a Calico pool overlaps the pod CIDR.",
    ),
  kubeProxy: bool()
    .default(true)
    .describe(
      "Step 210: remove the embedded kube-proxy's iptables rules on every node once its Cilium agent is ready (with kube-proxy replacement only).",
    ),
  kubeRouterPolicy: bool()
    .default(true)
    .describe(
      "In step 210, also remove kube-router's network-policy chains and KUBE-SRC-/KUBE-DST- ipsets. k3s runs that controller unless it was started with disable-network-policy; set false if the servers had that before this migration.",
    ),
});

const runSchema = z.strictObject({
  retries: z
    .array(
      z
        .string({ error: (i) => `expected a step directory such as "110-node-cleanup", got ${show(i.input)}` })
        .regex(/^\d{3}-[a-z0-9-]+$/, { error: (i) => `expected a step directory such as "110-node-cleanup", got ${show(i.input)}` }),
      { error: (i) => `expected a list of step directories, got ${show(i.input)}` },
    )
    .default([])
    .describe(
      'Steps run again, one entry per retry: add the directory of the step that failed (`110-node-cleanup`) after fixing the cause and keep the entries already there. The Jobs of that step and of every later step get new names and run again; the Jobs of earlier steps keep theirs, so an engine that walks the steps from the start does not run them again.',
    ),
  namespace: dnsLabel('a namespace')
    .default('cilium-cutover')
    .describe(
      "Namespace the migration Jobs run in. The tool's own: it is created, labelled privileged and deleted at graduation, so not a namespace of Kubernetes, Calico, Cilium or a GitOps engine, and not verify.namespace.",
    ),
  deleteBrokenPods: bool()
    .default(false)
    .describe(
      'Step 250: delete a pod on an old address that is not Ready and whose eviction a PodDisruptionBudget refuses, instead of waiting for the budget. Such a pod has no network and serves nothing the budget protects; under the default `unhealthyPodEvictionPolicy: IfHealthyBudget` its eviction is refused while the budget is short, and the step would wait until its timeout.',
    ),
  skipNodes: z
    .array(z.string({ error: (i) => `expected a node name, got ${show(i.input)}` }), {
      error: (i) => `expected a list of node names, got ${show(i.input)}`,
    })
    .default([])
    .describe(
      "Nodes of cluster.nodes that are down and must not block the migration: the preflight does not require them Ready, the Calico deletion does not wait for their pods, and no per-node Job runs there. Clean them up by hand or reboot them when they return. Step 200 waits for Cilium's agent on every node: bring them back by then, or delete the Node of one that is gone for good.",
    ),
});

const safetySchema = z.strictObject({
  maxSnapshotAge: duration()
    .default('24h')
    .describe('The newest k3s etcd snapshot (ETCDSnapshotFile) must be younger than this before Calico is deleted.'),
  acknowledgeNoSnapshot: bool()
    .default(false)
    .describe(
      'Go on without a recent etcd snapshot (for example k3s with SQLite). Take one with `k3s etcd-snapshot save` instead if you can.',
    ),
  acknowledgeDroppedPolicies: bool()
    .default(false)
    .describe(
      'Go on although Calico policies exist (GlobalNetworkPolicy, projectcalico NetworkPolicy, HostEndpoint, NetworkSet): deleting the Calico CRDs destroys them. Also covers the AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy objects the installed Calico enforces: they stay, but Cilium does not enforce them.',
    ),
});

const imagesSchema = z.strictObject({
  registry: z
    .string({ error: (i) => `expected a registry host with an optional path, got ${show(i.input)}` })
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?(\/[a-z0-9._-]+)*$/, {
      error: (i) => `expected a registry like registry.example.com or registry.example.com:5000/mirror, got ${show(i.input)}`,
    })
    .optional()
    .describe(
      'A private mirror: replaces the registry of every image (quay.io, docker.io); repository paths and digests stay, so the mirror must hold the same images.',
    ),
});

/** The VXLAN port Calico's VXLAN mode uses (Felix `vxlanPort`). */
export const CALICO_VXLAN_PORT = 4789;
/** Flannel's VXLAN port, also the kernel's and Cilium's default. */
export const FLANNEL_VXLAN_PORT = 8472;

const perNodeSchema = z.strictObject({
  podCIDR: cidr()
    .default('10.245.0.0/16')
    .describe(
      'The pod CIDR Cilium hands out (cluster-pool IPAM) while Calico still runs: must overlap neither the Calico pools, cluster.podCIDR, cluster.serviceCIDR nor any node address. Pods keep these addresses until the switch phase.',
    ),
  maskSize: intRange(16, 28)
    .default(24)
    .describe('Size of the block each node gets from perNode.podCIDR (Helm `ipam.operator.clusterPoolIPv4MaskSize`).'),
  tunnelPort: intRange(1, 65535)
    .default(8473)
    .describe(
      "UDP port of Cilium's VXLAN overlay during the migration (Helm `tunnelPort`). Must differ from Flannel's 8472 and, with calico.backend vxlan, Calico's 4789.",
    ),
  order: z
    .array(z.string({ error: (i) => `expected a node name, got ${show(i.input)}` }), {
      error: (i) => `expected a list of node names, got ${show(i.input)}`,
    })
    .optional()
    .describe('The order nodes move in, every node exactly once. Default: agents first, then servers, each in cluster.nodes order.'),
  drainTimeout: duration()
    .default('10m')
    .describe(
      "How long a node's Job waits for evictions (PodDisruptionBudgets are honoured) and for the node's pods to come back on Cilium.",
    ),
  evictUnmanagedPods: bool()
    .default(false)
    .describe(
      'Evict pods no controller owns (they are gone for good, as with `kubectl drain --force`). Without it such a pod stops the drain, and the re-addressing after a cutover (step 250) lists it and fails.',
    ),
  deleteEmptyDirData: bool()
    .default(false)
    .describe(
      "Let a node's drain evict pods with emptyDir volumes, whose data the eviction deletes (`kubectl drain --delete-emptydir-data`). Without it such a pod stops the node's step before anything changes, naming it. k3s's Traefik and metrics-server keep only scratch data there.",
    ),
  acknowledgeCalicoBGP: bool()
    .default(false)
    .describe(
      "Go on with calico.backend bird. Cilium's migration guide lists BGP-based routing as untested; Calico's manifest default is BIRD with IPIP.",
    ),
  acknowledgeUnenforcedPolicies: bool()
    .default(false)
    .describe(
      "Go on although NetworkPolicies exist. Until the switch phase pods on migrated nodes are not isolated (Cilium enforces no policy), and their traffic to pods on nodes not yet migrated arrives from the node's address (Cilium masquerades what leaves its own range outside its tunnel), so a policy Calico still enforces there that admits pods by selector drops it; admit the nodes' addresses with an ipBlock meanwhile.",
    ),
  acknowledgeSwitchOutage: bool()
    .default(false)
    .describe(
      "Required for phase switch, which is a full outage: an agent restarted with the final IPAM cannot re-allocate the migration-range address of a pod and drops its endpoint, so every pod is without network from its node's agent restart in step 200 until step 250 re-creates it. Set it once a maintenance window is planned.",
    ),
});

export const configSchema = z
  .strictObject({
    strategy: oneOf(['cutover', 'per-node'])
      .default('cutover')
      .describe(
        '`cutover` removes Calico, then installs Cilium: a full pod-network outage, and the only choice when Calico is already broken. `per-node` moves one node at a time while Calico still works (settings under perNode).',
      ),
    phase: oneOf(['migrate', 'switch', 'steady'])
      .default('migrate')
      .describe(
        '`migrate` generates every step; `switch` (strategy per-node only, after the migrate phase) moves Cilium from its migration settings to the cilium section; `steady` (after a successful migration) only the Cilium step, the status record with the node check, and the k3s drop-in, protected from pruning.',
      ),
    cluster: clusterSchema,
    calico: z.strictObject({
      version: z
        .string({ error: (i) => `expected the installed Calico version like v3.27.0, got ${show(i.input)}` })
        .regex(/^v3\.\d+\.\d+$/, { error: (i) => `expected the installed Calico version like v3.27.0, got ${show(i.input)}` })
        .describe('The Calico release installed with `kubectl apply -f calico.yaml` (calico-node image tag). Picks the deletion set.'),
      manifest: oneOf(['calico', 'calico-typha'])
        .default('calico')
        .describe('Which manifest was applied: `calico.yaml`, or `calico-typha.yaml` (adds the calico-typha Deployment, Service and PDB).'),
      ipPools: z
        .array(cidr(), { error: (i) => `expected a list of CIDRs, got ${show(i.input)}` })
        .min(1, { error: 'expected at least one pool; the unmodified manifest uses 192.168.0.0/16' })
        .default(['192.168.0.0/16'])
        .describe(
          "Calico's IPv4 pools (`kubectl get ippools.crd.projectcalico.org -o yaml`). The unmodified manifest uses 192.168.0.0/16.",
        ),
      backend: oneOf(['bird', 'vxlan'])
        .default('bird')
        .describe(
          '`calico_backend` in the calico-config ConfigMap: `bird` (the manifest default: BGP routes, IPIP) or `vxlan`. Decides which per-node combinations are untested upstream.',
        ),
      deleteNetworkPolicyAPICRDs: bool()
        .default(false)
        .describe(
          'Also delete the policy.networking.k8s.io CRDs that Calico 3.29+ manifests ship. They belong to the Kubernetes network-policy API project and may have other users.',
        ),
    }),
    cilium: ciliumSchema.prefault({}).describe('The Cilium install, as it runs once the migration is done.'),
    perNode: perNodeSchema.prefault({}).describe('Settings of strategy per-node; ignored by cutover.'),
    gitops: gitopsSchema,
    cleanup: cleanupSchema.prefault({}),
    verify: verifySchema.prefault({}),
    maintenance: maintenanceSchema
      .prefault({})
      .describe(
        'The maintenance window: applications paused before Calico goes and resumed after the checks. Off while every list is empty.',
      ),
    safety: safetySchema.prefault({}),
    images: imagesSchema.prefault({}),
    run: runSchema.prefault({}),
  })
  .describe('cilium-cutover cluster config');

/** The config as written by the user (defaults optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** The config after schema defaults. */
export type Config = z.output<typeof configSchema>;
export type NodeConfig = Config['cluster']['nodes'][number];
