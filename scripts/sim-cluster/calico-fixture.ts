/**
 * Calico as the configured manifest creates it, for the simulated cluster: every object of the
 * version's deletion set, shaped as the manifest's (what the programs read of it), and custom
 * resources of its CRDs.
 */
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { deletionSet, KINDS, type CalicoObject } from '../../lib/versions/calico-deletion-sets.ts';
import type { Obj, Scenario } from './fixture.ts';

/** The kinds of Calico's CRDs by plural (the kinds their custom resources carry). */
export const CRD_KINDS: Readonly<Record<string, string>> = {
  bgpconfigurations: 'BGPConfiguration',
  bgpfilters: 'BGPFilter',
  bgppeers: 'BGPPeer',
  blockaffinities: 'BlockAffinity',
  caliconodestatuses: 'CalicoNodeStatus',
  clusterinformations: 'ClusterInformation',
  felixconfigurations: 'FelixConfiguration',
  globalnetworkpolicies: 'GlobalNetworkPolicy',
  globalnetworksets: 'GlobalNetworkSet',
  hostendpoints: 'HostEndpoint',
  ipamblocks: 'IPAMBlock',
  ipamconfigs: 'IPAMConfig',
  ipamhandles: 'IPAMHandle',
  ippools: 'IPPool',
  ipreservations: 'IPReservation',
  kubecontrollersconfigurations: 'KubeControllersConfiguration',
  networkpolicies: 'NetworkPolicy',
  networksets: 'NetworkSet',
  tiers: 'Tier',
  stagedglobalnetworkpolicies: 'StagedGlobalNetworkPolicy',
  stagedkubernetesnetworkpolicies: 'StagedKubernetesNetworkPolicy',
  stagednetworkpolicies: 'StagedNetworkPolicy',
};

const CALICO_LABELS: Readonly<Record<string, string>> = {
  'calico-node': 'calico-node',
  'calico-kube-controllers': 'calico-kube-controllers',
  'calico-typha': 'calico-typha',
};

/** One object of the deletion set, as the Calico manifest creates it (what the programs read of it). */
function calicoObject(config: ResolvedConfig, o: CalicoObject, scenario: Scenario): Obj | undefined {
  const info = KINDS[o.kind];
  const metadata = { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) };
  const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
  const labels = { 'k8s-app': CALICO_LABELS[o.name] ?? o.name };
  const pod = (image: string) => ({
    metadata: { labels },
    spec: {
      containers: [
        {
          name: o.name,
          image,
          ...(o.name === 'calico-node' && scenario.calicoAutodetection
            ? { env: [{ name: 'IP_AUTODETECTION_METHOD', value: scenario.calicoAutodetection }] }
            : {}),
          ...(o.name === 'calico-node' ? { lifecycle: { preStop: { exec: { command: ['/bin/calico-node', '-shutdown'] } } } } : {}),
        },
      ],
      hostNetwork: o.name === 'calico-node' || o.name === 'calico-typha',
      // The manifests' grace periods (manifests/calico.yaml and calico-typha.yaml at every tag
      // v3.26.0 to v3.32.1): calico-node 0, so the API server removes its pods at once, even on
      // a node that is down; calico-typha 300; kube-controllers the default, 30.
      ...(o.name === 'calico-node' ? { terminationGracePeriodSeconds: scenario.calicoNodeGracePeriodSeconds ?? 0 } : {}),
      ...(o.name === 'calico-typha' ? { terminationGracePeriodSeconds: 300 } : {}),
      // calico-node tolerates every taint, as the manifest's does.
      ...(o.name === 'calico-node' ? { tolerations: [{ operator: 'Exists' }] } : {}),
    },
  });
  switch (o.kind) {
    case 'CustomResourceDefinition': {
      const [plural, ...group] = o.name.split('.');
      const kind = CRD_KINDS[plural!] ?? plural!.charAt(0).toUpperCase() + plural!.slice(1).replace(/s$/, '');
      return {
        apiVersion,
        kind: o.kind,
        metadata,
        spec: {
          group: group.join('.'),
          scope: /^(networkpolicies|networksets|stagednetworkpolicies|stagedkubernetesnetworkpolicies)$/.test(plural!)
            ? 'Namespaced'
            : 'Cluster',
          names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
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
    }
    case 'DaemonSet':
    case 'Deployment': {
      const tag = scenario.calicoImageTag ?? config.calico.version;
      const image = `docker.io/calico/${o.name === 'calico-node' ? 'node' : o.name === 'calico-typha' ? 'typha' : 'kube-controllers'}:${tag}`;
      return {
        apiVersion,
        kind: o.kind,
        metadata: { ...metadata, labels },
        spec: { selector: { matchLabels: labels }, template: pod(image) },
      };
    }
    case 'ConfigMap':
      return {
        apiVersion,
        kind: o.kind,
        metadata,
        data: o.name === 'calico-config' ? { calico_backend: config.calico.backend, veth_mtu: '0', typha_service_name: 'none' } : {},
      };
    case 'Service':
      return { apiVersion, kind: o.kind, metadata, spec: { selector: labels, ports: [{ port: 5473, name: o.name }] } };
    case 'ServiceAccount':
      return { apiVersion, kind: o.kind, metadata };
    case 'ClusterRole':
      return { apiVersion, kind: o.kind, metadata, rules: [] };
    case 'ClusterRoleBinding':
      return {
        apiVersion,
        kind: o.kind,
        metadata,
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: o.name },
        subjects: [{ kind: 'ServiceAccount', name: o.name, namespace: 'kube-system' }],
      };
    case 'PodDisruptionBudget':
      // policy/v1 as in the manifest; the simulation serves it as policy/v1beta1 (api-level.ts).
      return { apiVersion, kind: o.kind, metadata, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } };
    default:
      return undefined;
  }
}

/** Calico as the configured manifest creates it: every non-optional object of the deletion set. */
export function calicoObjects(config: ResolvedConfig, scenario: Scenario): Obj[] {
  const set = deletionSet(config.calico.version, { variant: scenario.calicoManifest ?? config.calico.manifest, includeForeign: false });
  return set.filter((o) => !o.optional).flatMap((o) => calicoObject(config, o, scenario) ?? []);
}

/** Custom resources of Calico's CRDs: the default IP pool and what the scenario adds. */
export function calicoResources(config: ResolvedConfig, scenario: Scenario): Obj[] {
  const pools = (scenario.calicoIpPools ?? config.calico.ipPools).map((cidr, i) => ({
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'IPPool',
    metadata: { name: i === 0 ? 'default-ipv4-ippool' : `pool-${i}` },
    spec: { cidr, ipipMode: 'Always', natOutgoing: true },
  }));
  const extra = Object.entries(scenario.calicoResources ?? {}).flatMap(([kind, names]) =>
    names.map((name) => ({
      apiVersion: 'crd.projectcalico.org/v1',
      kind,
      metadata: { name, ...(kind === 'NetworkPolicy' || kind === 'NetworkSet' ? { namespace: 'default' } : {}) },
      spec: {},
    })),
  );
  return [...pools, ...extra];
}
