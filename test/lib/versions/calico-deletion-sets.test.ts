import { describe, expect, it } from 'vitest';
import { CALICO_LINES, calicoCrdPlurals, calicoLine, deletionSet, DELETION_PHASES } from '../../../lib/versions/calico-deletion-sets.ts';

const id = (o: { kind: string; namespace?: string; name: string }) => `${o.kind} ${o.namespace ?? '-'} ${o.name}`;

/** The 31 objects of calico.yaml v3.27.0, written out from the manifest's object list. */
const V3_27_0 = [
  'PodDisruptionBudget kube-system calico-kube-controllers',
  'ServiceAccount kube-system calico-kube-controllers',
  'ServiceAccount kube-system calico-node',
  'ServiceAccount kube-system calico-cni-plugin',
  'ConfigMap kube-system calico-config',
  ...[
    'bgpconfigurations',
    'bgpfilters',
    'bgppeers',
    'blockaffinities',
    'caliconodestatuses',
    'clusterinformations',
    'felixconfigurations',
    'globalnetworkpolicies',
    'globalnetworksets',
    'hostendpoints',
    'ipamblocks',
    'ipamconfigs',
    'ipamhandles',
    'ippools',
    'ipreservations',
    'kubecontrollersconfigurations',
    'networkpolicies',
    'networksets',
  ].map((p) => `CustomResourceDefinition - ${p}.crd.projectcalico.org`),
  'ClusterRole - calico-kube-controllers',
  'ClusterRole - calico-node',
  'ClusterRole - calico-cni-plugin',
  'ClusterRoleBinding - calico-kube-controllers',
  'ClusterRoleBinding - calico-node',
  'ClusterRoleBinding - calico-cni-plugin',
  'DaemonSet kube-system calico-node',
  'Deployment kube-system calico-kube-controllers',
];
const OPTIONAL = 'ConfigMap kube-system kubernetes-services-endpoint';
const TYPHA = ['Deployment kube-system calico-typha', 'PodDisruptionBudget kube-system calico-typha', 'Service kube-system calico-typha'];

describe('deletion sets', () => {
  for (const version of ['v3.26.4', 'v3.27.0', 'v3.27.5', 'v3.28.0']) {
    it(`${version}: the 31 manifest objects plus the optional ConfigMap`, () => {
      const set = deletionSet(version, { variant: 'calico', includeForeign: false }).map(id);
      expect(set).toHaveLength(32);
      expect([...set].sort()).toEqual([...V3_27_0, OPTIONAL].sort());
    });
  }

  it('calico-typha adds the typha Deployment, Service and PDB', () => {
    const plain = deletionSet('v3.27.0', { variant: 'calico', includeForeign: false }).map(id);
    const typha = deletionSet('v3.27.0', { variant: 'calico-typha', includeForeign: false }).map(id);
    expect(typha.filter((o) => !plain.includes(o)).sort()).toEqual(TYPHA);
    expect(plain.every((o) => typha.includes(o))).toBe(true);
  });

  const additions: { version: string; calico: string[]; foreign: string[] }[] = [
    { version: 'v3.29.0', calico: ['tiers'], foreign: ['adminnetworkpolicies'] },
    {
      version: 'v3.30.0',
      calico: ['tiers', 'stagedglobalnetworkpolicies', 'stagedkubernetesnetworkpolicies', 'stagednetworkpolicies'],
      foreign: ['adminnetworkpolicies', 'baselineadminnetworkpolicies'],
    },
    {
      version: 'v3.31.2',
      calico: ['tiers', 'stagedglobalnetworkpolicies', 'stagedkubernetesnetworkpolicies', 'stagednetworkpolicies'],
      foreign: ['adminnetworkpolicies', 'baselineadminnetworkpolicies'],
    },
    {
      version: 'v3.32.0',
      calico: ['tiers', 'stagedglobalnetworkpolicies', 'stagedkubernetesnetworkpolicies', 'stagednetworkpolicies'],
      foreign: ['clusternetworkpolicies'],
    },
  ];
  for (const spec of additions) {
    it(`${spec.version}: adds ${spec.calico.length} Calico CRDs; the network-policy API CRDs only when asked`, () => {
      const base = deletionSet('v3.28.0', { variant: 'calico', includeForeign: false }).map(id);
      const without = deletionSet(spec.version, { variant: 'calico', includeForeign: false }).map(id);
      const withForeign = deletionSet(spec.version, { variant: 'calico', includeForeign: true }).map(id);
      expect(without.filter((o) => !base.includes(o)).sort()).toEqual(
        spec.calico.map((p) => `CustomResourceDefinition - ${p}.crd.projectcalico.org`).sort(),
      );
      expect(withForeign.filter((o) => !without.includes(o)).sort()).toEqual(
        spec.foreign.map((p) => `CustomResourceDefinition - ${p}.policy.networking.k8s.io`).sort(),
      );
    });
  }

  it('orders workloads first, then CRDs, access and configuration', () => {
    const set = deletionSet('v3.27.0', { variant: 'calico-typha', includeForeign: false });
    const phases = set.map((o) => DELETION_PHASES.indexOf(o.phase));
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    expect(set.slice(0, 6).map((o) => o.kind)).toEqual([
      'DaemonSet',
      'Deployment',
      'PodDisruptionBudget',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
    ]);
  });

  it('lists the Calico CRDs whose resources the inventory reads, not foreign ones', () => {
    const plurals = calicoCrdPlurals(deletionSet('v3.30.0', { variant: 'calico', includeForeign: true }));
    expect(plurals).toContain('globalnetworkpolicies');
    expect(plurals).toContain('stagednetworkpolicies');
    expect(plurals).not.toContain('adminnetworkpolicies');
    expect(plurals).toHaveLength(22);
  });

  it('knows its release lines and refuses others', () => {
    expect(Object.keys(CALICO_LINES)).toEqual(['3.26', '3.27', '3.28', '3.29', '3.30', '3.31', '3.32']);
    expect(calicoLine('v3.27.0')).toBe('3.27');
    expect(calicoLine('v3.25.1')).toBeUndefined();
    expect(calicoLine('3.27.0')).toBeUndefined();
    expect(() => deletionSet('v3.25.1', { variant: 'calico', includeForeign: false })).toThrow(
      "unsupported Calico version 'v3.25.1'; supported: v3.26.x, v3.27.x, v3.28.x, v3.29.x, v3.30.x, v3.31.x, v3.32.x",
    );
  });
});
