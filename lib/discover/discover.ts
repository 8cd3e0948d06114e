/**
 * `discover`: a config from what a live k3s + Calico cluster shows through its API. Pure: it
 * works on a snapshot of API objects (read.ts reads them), so it is tested on recorded ones.
 *
 * A value it cannot determine gets a placeholder that passes validation and a `CHECK:` comment
 * saying what to look at; a cluster it cannot migrate (not k3s, no Calico, operator-managed
 * Calico) is refused with one line.
 */
import { Document, isScalar, type Scalar } from 'yaml';
import { InputError } from '../input-error.ts';
import { cidrContainsIp, parseCidr, parseIpv4 } from '../cidr.ts';

/** The API objects discover reads; undefined where the API answered 404. */
export interface ClusterSnapshot {
  readonly context: string;
  readonly nodes: readonly ApiNode[];
  readonly calicoNode?: ApiWorkload;
  readonly calicoTypha?: ApiWorkload;
  /** Present when Calico is managed by the Tigera operator (its calico-system DaemonSet or the operator). */
  readonly tigeraOperator: boolean;
  readonly ipPools: readonly { readonly spec?: { readonly cidr?: string } }[];
  /** `calico_backend` of the kube-system/calico-config ConfigMap (`bird`, `vxlan` or `none`), if it could be read. */
  readonly calicoBackend?: string;
  readonly kubernetesService?: { readonly spec?: { readonly clusterIP?: string } };
  readonly cilium: boolean;
  readonly hcloudControllerManager: boolean;
  readonly snapshots: readonly { readonly status?: { readonly creationTime?: string; readonly readyToUse?: boolean } }[];
  /** Calico policies the deletion would destroy, by resource. */
  readonly calicoPolicies: Readonly<Record<string, number>>;
  /** The objects of the deletion set for the discovered version and manifest, by `Kind ns/name`. */
  readonly deletionSet?: { readonly present: readonly string[]; readonly absent: readonly string[] };
  /** Calico-named objects the deletion set does not cover, by `Kind ns/name`. */
  readonly uncovered: readonly string[];
}

/** The Calico release in a calico-node image reference (`…/calico/node:v3.27.0`), if it has one. */
export function calicoVersionOf(image: string | undefined): string | undefined {
  return image === undefined ? undefined : /:(v3\.\d+\.\d+)(@|$)/.exec(image)?.[1];
}

export interface ApiNode {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec?: { readonly providerID?: string; readonly podCIDR?: string };
  readonly status?: {
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
    readonly nodeInfo?: { readonly kubeletVersion?: string };
  };
}

export interface ApiWorkload {
  readonly spec?: {
    readonly template?: { readonly spec?: { readonly containers?: readonly { readonly name: string; readonly image?: string }[] } };
  };
}

/** k3s records each node's command-line flags in this annotation, as a JSON list. */
const NODE_ARGS = 'k3s.io/node-args';

/** The value of `--flag value` (or `--flag=value`) in a k3s node-args list; the last one wins. */
export function nodeArg(node: ApiNode, flag: string): string | undefined {
  const raw = node.metadata.annotations?.[NODE_ARGS];
  if (!raw) {
    return undefined;
  }
  let args: string[];
  try {
    args = JSON.parse(raw) as string[];
  } catch {
    return undefined;
  }
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === `--${flag}`) {
      value = args[i + 1];
    } else if (arg.startsWith(`--${flag}=`)) {
      value = arg.slice(flag.length + 3);
    }
  });
  return value;
}

function isServer(node: ApiNode): boolean {
  const labels = node.metadata.labels ?? {};
  return labels['node-role.kubernetes.io/control-plane'] === 'true' || labels['node-role.kubernetes.io/master'] === 'true';
}

/** The private ranges, smallest first: the guess for a provider network's ip_range. */
const PRIVATE_RANGES = ['192.168.0.0/16', '172.16.0.0/12', '10.0.0.0/8'];

function inCidr(ip: string, cidr: string): boolean {
  const address = parseIpv4(ip);
  return address !== undefined && cidrContainsIp(parseCidr(cidr)!, address);
}

export interface Discovered {
  /** The config file text, comments included. */
  readonly text: string;
  /** One line per fact worth knowing before synth (printed on stderr). */
  readonly notes: readonly string[];
}

export function discoverConfig(snapshot: ClusterSnapshot): Discovered {
  const { nodes } = snapshot;
  if (nodes.length === 0) {
    throw new InputError('discover', 'the cluster has no nodes; is the kubeconfig pointing at the right cluster?');
  }
  const notK3s = nodes.find((n) => !(n.status?.nodeInfo?.kubeletVersion ?? '').includes('+k3s'));
  if (notK3s) {
    throw new InputError(
      'discover',
      `node ${notK3s.metadata.name} runs kubelet ${notK3s.status?.nodeInfo?.kubeletVersion ?? '(unknown)'}, not k3s; cilium-cutover migrates k3s clusters only`,
    );
  }
  if (snapshot.tigeraOperator) {
    throw new InputError(
      'discover',
      'Calico is managed by the Tigera operator here; cilium-cutover removes manifest-installed Calico only (uninstall through the operator)',
    );
  }
  const image = snapshot.calicoNode?.spec?.template?.spec?.containers?.find((c) => c.name === 'calico-node')?.image;
  if (!snapshot.calicoNode || !image) {
    throw new InputError(
      'discover',
      'no Calico here (no kube-system/calico-node DaemonSet); there is nothing for cilium-cutover to migrate from',
    );
  }
  const version = calicoVersionOf(image);

  const notes: string[] = [];
  const checks = new Map<string, string>();
  const check = (path: string, what: string) => checks.set(path, `CHECK: ${what}`);

  const servers = nodes.filter(isServer);
  const argsOf = servers[0] ?? nodes[0]!;
  const podCIDR = nodeArg(argsOf, 'cluster-cidr');
  const serviceCIDR = nodeArg(argsOf, 'service-cidr');
  const clusterIP = snapshot.kubernetesService?.spec?.clusterIP;
  const hetzner = nodes.every((n) => n.spec?.providerID?.startsWith('hcloud://'));
  const addresses = nodes.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '');
  const minor = /^v1\.(\d+)\./.exec(argsOf.status!.nodeInfo!.kubeletVersion!)?.[1];

  const data: Record<string, any> = {
    cluster: {
      name:
        snapshot.context
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, 63) || 'my-cluster',
      distribution: 'k3s',
      kubernetesVersion: `v1.${minor}`,
      profile: hetzner ? 'hetzner-cloud' : 'generic',
      ...(hetzner ? { network: { ipRange: PRIVATE_RANGES.find((r) => addresses.every((a) => inCidr(a, r))) ?? '10.0.0.0/8' } } : {}),
      podCIDR: podCIDR ?? '10.42.0.0/16',
      serviceCIDR: serviceCIDR ?? '10.43.0.0/16',
      apiServer: { host: '127.0.0.1', port: 6444 },
      nodes: nodes.map((n, i) => ({
        name: n.metadata.name,
        role: isServer(n) ? 'server' : 'agent',
        internalIP: addresses[i] || '0.0.0.0',
      })),
    },
    calico: {
      version: version ?? 'v3.27.0',
      manifest: snapshot.calicoTypha ? 'calico-typha' : 'calico',
      backend: snapshot.calicoBackend === 'vxlan' ? 'vxlan' : 'bird',
      ipPools: snapshot.ipPools.map((p) => p.spec?.cidr).filter((c): c is string => c !== undefined && !c.includes(':')),
    },
    cilium: { routingMode: 'native', kubeProxyReplacement: true },
    gitops: { engine: 'argocd', repoURL: 'https://git.example.com/change-me/gitops.git', path: 'dist', revision: 'main' },
  };
  check('cluster.name', `from the kubeconfig context "${snapshot.context}"; any DNS label`);
  if (hetzner) {
    check(
      'cluster.network.ipRange',
      "the Hetzner Cloud network's ip_range (`hcloud network describe <network>`), guessed from the nodes' addresses",
    );
    if (!snapshot.hcloudControllerManager) {
      notes.push(
        'no hcloud-cloud-controller-manager Deployment in kube-system: on hetzner-cloud it provides the routes native routing needs',
      );
    }
  } else {
    check('cluster.profile', 'no node has an hcloud:// providerID; hetzner-vswitch for Robot servers on a vSwitch, else generic');
  }
  if (!podCIDR) {
    check(
      'cluster.podCIDR',
      `no --cluster-cidr in the k3s node-args, so the k3s default; node ${argsOf.metadata.name} has podCIDR ${argsOf.spec?.podCIDR ?? '(none)'}`,
    );
  }
  if (!serviceCIDR) {
    check(
      'cluster.serviceCIDR',
      `no --service-cidr in the k3s node-args, so the k3s default; the kubernetes Service has ${clusterIP ?? '(no clusterIP)'}`,
    );
  }
  check('cluster.apiServer.host', 'k3s serves the API on 127.0.0.1:6444 on every node; change it only for an external load balancer');
  nodes.forEach((n, i) => {
    if (!addresses[i]) {
      check(`cluster.nodes.${i}.internalIP`, `node ${n.metadata.name} reports no InternalIP; put its private address here`);
    }
  });
  if (!version) {
    check('calico.version', `the calico-node image is ${image}, which carries no version tag; put the installed release here`);
  }
  if (snapshot.calicoBackend !== 'bird' && snapshot.calicoBackend !== 'vxlan') {
    check(
      'calico.backend',
      `calico_backend in kube-system/calico-config is ${snapshot.calicoBackend === undefined ? 'not readable' : `"${snapshot.calicoBackend}"`}; bird is the manifest default`,
    );
  }
  if (data.calico.ipPools.length === 0) {
    data.calico.ipPools = ['192.168.0.0/16'];
    check('calico.ipPools.0', 'no IPv4 IPPool could be read; `kubectl get ippools.crd.projectcalico.org -o yaml`');
  }
  check('gitops.repoURL', 'the Git repository Argo CD or Flux reads dist/ from');
  if (snapshot.cilium) {
    notes.push('a kube-system/cilium DaemonSet already exists: an earlier attempt? Check it before the migration');
  }
  const policies = Object.entries(snapshot.calicoPolicies).filter(([, n]) => n > 0);
  if (policies.length > 0) {
    notes.push(
      `Calico policies the deletion destroys: ${policies.map(([r, n]) => `${n} ${r}`).join(', ')}; see safety.acknowledgeDroppedPolicies`,
    );
  }
  if (snapshot.deletionSet) {
    const { present, absent } = snapshot.deletionSet;
    notes.push(
      `deletion set of Calico ${version} (${snapshot.calicoTypha ? 'calico-typha.yaml' : 'calico.yaml'}): ${present.length} of ${present.length + absent.length} objects present${absent.length > 0 ? `; absent (deleted already, or another manifest): ${absent.join(', ')}` : ''}`,
    );
  } else {
    notes.push(
      `no known deletion set for Calico ${version ?? '(unknown version)'}: synth will refuse it until calico.version names a supported release`,
    );
  }
  if (snapshot.uncovered.length > 0) {
    notes.push(
      `Calico objects the deletion set does not cover (left in place; delete them by hand if they are Calico's): ${snapshot.uncovered.join(', ')}`,
    );
  }
  const newest = snapshot.snapshots
    .filter((s) => s.status?.readyToUse !== false && s.status?.creationTime)
    .map((s) => s.status!.creationTime!)
    .sort()
    .at(-1);
  notes.push(
    newest
      ? `newest etcd snapshot: ${newest}`
      : 'no etcd snapshot (ETCDSnapshotFile) found: take one with `k3s etcd-snapshot save` before the migration',
  );

  const doc = new Document(data);
  doc.commentBefore = ` cilium-cutover config discovered from the cluster of context "${snapshot.context}". Review every CHECK comment, then run synth.`;
  for (const [path, comment] of checks) {
    const node = doc.getIn(
      path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      true,
    );
    if (isScalar(node)) {
      (node as Scalar).comment = ` ${comment}`;
    }
  }
  return { text: doc.toString({ lineWidth: 0 }), notes };
}
