/**
 * Calico custom resources a person configures, one of each kind the inventory keeps and as many
 * policies as a test asks for, in the `crd.projectcalico.org/v1` form the API server stores them
 * in. Field names and values follow Calico's resource reference (docs.tigera.io, calico/latest
 * reference/resources/: tier, globalnetworkpolicy, networkpolicy, stagedglobalnetworkpolicy,
 * stagednetworkpolicy, stagedkubernetesnetworkpolicy, globalnetworkset, networkset, hostendpoint,
 * ippool, ipreservation, bgpconfig, bgppeer, bgpfilter, felixconfig, kubecontrollersconfig,
 * ipamconfig, caliconodestatus); the crd form carries the same spec.
 */

/** A custom resource as a test creates it. */
export type CalicoResource = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
};

const cr = (kind: string, name: string, spec: Record<string, unknown>, namespace?: string): CalicoResource => ({
  apiVersion: 'crd.projectcalico.org/v1',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}), labels: { team: 'platform' }, annotations: { 'example.com/ticket': 'NET-42' } },
  spec,
});

/** One object of every configured kind (not IPAM bookkeeping, not ClusterInformation). */
export function everyKind(): CalicoResource[] {
  return [
    cr('Tier', 'security', { order: 100 }),
    cr('FelixConfiguration', 'default', { logSeverityScreen: 'Info', reportingInterval: '0s', bpfEnabled: false }),
    cr('FelixConfiguration', 'node.k3s-server-1', { defaultEndpointToHostAction: 'Return' }),
    cr('KubeControllersConfiguration', 'default', {
      controllers: { node: { reconcilerPeriod: '5m', syncLabels: 'Enabled', hostEndpoint: { autoCreate: 'Disabled' } } },
      logSeverityScreen: 'Info',
    }),
    cr('IPAMConfig', 'default', { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 }),
    cr('BGPConfiguration', 'default', { logSeverityScreen: 'Info', nodeToNodeMeshEnabled: true, asNumber: 64512 }),
    cr('BGPFilter', 'only-pods', {
      exportV4: [{ action: 'Accept', matchOperator: 'In', cidr: '10.42.0.0/16' }],
      importV4: [{ action: 'Reject', matchOperator: 'NotIn', cidr: '10.42.0.0/16' }],
    }),
    cr('BGPPeer', 'rack-tor', { peerIP: '192.168.1.1', asNumber: 64567, filters: ['only-pods'] }),
    cr('IPPool', 'extra-pool', { cidr: '10.99.0.0/16', ipipMode: 'Never', vxlanMode: 'CrossSubnet', natOutgoing: true, blockSize: 26 }),
    cr('IPReservation', 'gateways', { reservedCIDRs: ['10.42.0.1/32', '10.42.1.0/28'] }),
    cr('GlobalNetworkSet', 'office', { nets: ['198.51.100.0/24', '2001:db8:100::/48'] }),
    cr('NetworkSet', 'partners', { nets: ['203.0.113.0/24'] }, 'shop'),
    cr('HostEndpoint', 'k3s-server-1-eth0', { node: 'k3s-server-1', interfaceName: 'eth0', expectedIPs: ['10.0.0.2'] }),
    cr('CalicoNodeStatus', 'k3s-server-1', { node: 'k3s-server-1', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10 }),
    cr('StagedGlobalNetworkPolicy', 'default.staged-deny-ssh', {
      tier: 'default',
      order: 20,
      selector: 'all()',
      types: ['Ingress'],
      ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [22] } }],
    }),
    cr('StagedNetworkPolicy', 'default.staged-web', { tier: 'default', selector: "app == 'web'", types: ['Ingress'] }, 'shop'),
    cr(
      'StagedKubernetesNetworkPolicy',
      'knp.default.staged-db',
      { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
      'shop',
    ),
  ];
}

/**
 * `count` policies, alternately global (in the tier "security") and namespaced, each allowing a
 * few sources to a few ports: sizes as a real rule set has them (about 600 bytes each).
 */
export function manyPolicies(count: number): CalicoResource[] {
  return Array.from({ length: count }, (_, i) => {
    const rules = [0, 1, 2].map((r) => ({
      action: 'Allow',
      protocol: r === 2 ? 'UDP' : 'TCP',
      source: { selector: `app == 'client-${i}-${r}' && env in {'prod', 'staging'}`, namespaceSelector: `team == 't${i % 17}'` },
      destination: { ports: [8000 + r, `${9000 + i}:${9010 + i}`] },
    }));
    const spec = {
      order: 1000 + i,
      selector: `app == 'service-${i}'`,
      types: ['Ingress', 'Egress'],
      ingress: rules,
      egress: [{ action: 'Allow' }],
    };
    return i % 2 === 0
      ? cr('GlobalNetworkPolicy', `security.allow-service-${i}`, { tier: 'security', ...spec })
      : cr('NetworkPolicy', `default.allow-service-${i}`, { tier: 'default', ...spec }, `team-${i % 7}`);
  });
}
