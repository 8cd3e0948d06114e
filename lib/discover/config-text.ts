/**
 * The config text `discover` writes: one function per config section, each adding the CHECK
 * comments for the values it had to guess, then the notes and the YAML rendering. Used by
 * discover.ts only.
 */
import { Document, isScalar, type Scalar } from 'yaml';
import { cidrContainsIp, parseCidr, parseIpv4 } from '../cidr.ts';
import type { ConfigInput } from '../config/schema.ts';
import type { ApiNode, ClusterSnapshot } from './snapshot.ts';

export function isServer(node: ApiNode): boolean {
  const labels = node.metadata.labels ?? {};
  return labels['node-role.kubernetes.io/control-plane'] === 'true' || labels['node-role.kubernetes.io/master'] === 'true';
}

/** The private ranges, smallest first: the guess for a provider network's ip_range. */
const PRIVATE_RANGES = ['192.168.0.0/16', '172.16.0.0/12', '10.0.0.0/8'];

function inCidr(ip: string, cidr: string): boolean {
  const address = parseIpv4(ip);
  return address !== undefined && cidrContainsIp(parseCidr(cidr)!, address);
}

/** Adds a `CHECK:` comment to the value at a dotted config path (a number segment is a list index). */
export type Check = (path: string, what: string) => void;

/** What the sections read from the nodes. */
export interface NodeFacts {
  /** The node whose k3s flags are read: the first server, else the first node. */
  readonly argsOf: ApiNode;
  readonly podCIDR?: string;
  readonly serviceCIDR?: string;
  /** Every node has an hcloud:// providerID. */
  readonly hetzner: boolean;
  /** Each node's InternalIP, in node order; '' where it reports none. */
  readonly addresses: readonly string[];
}

/** The `cluster` section: name, profile, CIDRs, API server and nodes, with their CHECKs. */
export function clusterSection(snapshot: ClusterSnapshot, facts: NodeFacts, check: Check): ConfigInput['cluster'] {
  const { nodes } = snapshot;
  const { argsOf, podCIDR, serviceCIDR, hetzner, addresses } = facts;
  const clusterIP = snapshot.kubernetesService?.spec?.clusterIP;
  // discover.ts refused any node without a +k3s kubeletVersion.
  const minor = /^v1\.(\d+)\./.exec(argsOf.status!.nodeInfo!.kubeletVersion!)?.[1];
  const cluster: ConfigInput['cluster'] = {
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
  };
  check('cluster.name', `from the kubeconfig context "${snapshot.context}"; any DNS label`);
  if (hetzner) {
    check(
      'cluster.network.ipRange',
      "the Hetzner Cloud network's ip_range (`hcloud network describe <network>`), guessed from the nodes' addresses",
    );
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
  return cluster;
}

/** The `calico` section: release, manifest, backend and IPv4 pools, with their CHECKs. */
export function calicoSection(snapshot: ClusterSnapshot, image: string, version: string | undefined, check: Check): ConfigInput['calico'] {
  const ipPools = snapshot.ipPools.map((p) => p.spec?.cidr).filter((c): c is string => c !== undefined && !c.includes(':'));
  if (!version) {
    check('calico.version', `the calico-node image is ${image}, which carries no version tag; put the installed release here`);
  }
  if (snapshot.calicoBackend !== 'bird' && snapshot.calicoBackend !== 'vxlan') {
    check(
      'calico.backend',
      `calico_backend in kube-system/calico-config is ${snapshot.calicoBackend === undefined ? 'not readable' : `"${snapshot.calicoBackend}"`}; bird is the manifest default`,
    );
  }
  if (ipPools.length === 0) {
    check('calico.ipPools.0', 'no IPv4 IPPool could be read; `kubectl get ippools.crd.projectcalico.org -o yaml`');
  }
  return {
    version: version ?? 'v3.27.0',
    manifest: snapshot.calicoTypha ? 'calico-typha' : 'calico',
    backend: snapshot.calicoBackend === 'vxlan' ? 'vxlan' : 'bird',
    ipPools: ipPools.length > 0 ? ipPools : ['192.168.0.0/16'],
  };
}

/** The `gitops` section: Argo CD on a placeholder repository, and the address discover used, with their CHECKs. */
export function gitopsSection(check: Check, server: string | undefined): ConfigInput['gitops'] {
  check('gitops.repoURL', 'the Git repository Argo CD or Flux reads dist/ from');
  check(
    'gitops.argocd.destinationServer',
    "this cluster's API URL as the Argo CD that applies the steps has it registered (`argocd cluster list`); here the kubeconfig's",
  );
  return {
    engine: 'argocd',
    repoURL: 'https://git.example.com/change-me/gitops.git',
    path: 'dist',
    revision: 'main',
    argocd: { destinationServer: server ?? 'https://change-me.example:6443' },
  };
}

/** The notes: what the migration would trip over or destroy, and the newest etcd snapshot. */
export function discoveryNotes(snapshot: ClusterSnapshot, facts: NodeFacts, version: string | undefined): string[] {
  const notes: string[] = [];
  if (facts.hetzner && !snapshot.hcloudControllerManager) {
    notes.push(
      'no hcloud-cloud-controller-manager Deployment in kube-system: on hetzner-cloud it provides the routes native routing needs',
    );
  }
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
  return notes;
}

/** The config as YAML, under a header comment, with each CHECK as a line comment on its value. */
export function configText(context: string, data: object, checks: ReadonlyMap<string, string>): string {
  const doc = new Document(data);
  doc.commentBefore = ` cilium-cutover config discovered from the cluster of context "${context}". Review every CHECK comment, then run synth.`;
  for (const [path, comment] of checks) {
    const node = doc.getIn(
      path.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      true,
    );
    if (isScalar(node)) {
      (node as Scalar).comment = ` ${comment}`;
    }
  }
  return doc.toString({ lineWidth: 0 });
}
