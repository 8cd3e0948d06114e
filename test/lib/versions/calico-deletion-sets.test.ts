/**
 * The deletion sets against the objects each manifest creates at every Calico tag
 * (test/fixtures/calico-objects, from scripts/derive-calico-fixtures.ts), and their rules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CALICO_LINES,
  deletedCrds,
  calicoLine,
  deletionSet,
  DELETION_PHASES,
  type ManifestVariant,
} from '../../../lib/versions/calico-deletion-sets.ts';

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

const FIXTURES = new URL('../../fixtures/calico-objects/', import.meta.url);
const VARIANTS: readonly ManifestVariant[] = ['calico', 'calico-typha'];

/** Every projectcalico/calico release tag from v3.26.0 to v3.32.1: release line → its newest patch. */
const TAGS = Object.entries({ '3.26': 5, '3.27': 5, '3.28': 5, '3.29': 7, '3.30': 7, '3.31': 7, '3.32': 1 }).flatMap(([line, newest]) =>
  Array.from({ length: newest + 1 }, (_, patch) => `v${line}.${patch}`),
);

/** The objects of a fixture list, as `kind namespace name` (namespace `-` when cluster-scoped). */
function listed(tag: string, manifest: string): string[] {
  const [header, ...rows] = readFileSync(new URL(`${tag}-${manifest}.tsv`, FIXTURES), 'utf8')
    .trimEnd()
    .split('\n');
  expect(header).toBe('kind\tnamespace\tname');
  return rows.map((row) => {
    const [kind, namespace, name] = row.split('\t');
    return id({ kind: kind!, namespace: namespace || undefined, name: name! });
  });
}

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
      const crds = (version: string, includeForeign: boolean) =>
        deletionSet(version, { variant: 'calico', includeForeign })
          .filter((o) => o.kind === 'CustomResourceDefinition')
          .map(id);
      const base = crds('v3.28.0', false);
      const without = crds(spec.version, false);
      const withForeign = crds(spec.version, true);
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

  it("lists every CRD the set deletes, by group and plural: the network-policy API's only when the set includes them", () => {
    const crds = (includeForeign: boolean) => deletedCrds(deletionSet('v3.30.0', { variant: 'calico', includeForeign }));
    expect(crds(false)).toContainEqual({
      crd: 'globalnetworkpolicies.crd.projectcalico.org',
      group: 'crd.projectcalico.org',
      plural: 'globalnetworkpolicies',
    });
    expect(crds(false).map((c) => c.plural)).toContain('stagednetworkpolicies');
    expect(crds(false).filter((c) => c.group !== 'crd.projectcalico.org')).toEqual([]);
    expect(crds(false)).toHaveLength(22);
    expect(crds(true).filter((c) => c.group !== 'crd.projectcalico.org')).toEqual([
      { crd: 'adminnetworkpolicies.policy.networking.k8s.io', group: 'policy.networking.k8s.io', plural: 'adminnetworkpolicies' },
      {
        crd: 'baselineadminnetworkpolicies.policy.networking.k8s.io',
        group: 'policy.networking.k8s.io',
        plural: 'baselineadminnetworkpolicies',
      },
    ]);
  });

  it('calico-tier-getter: from v3.29.4 on, removed with the RBAC objects', () => {
    const tierGetter = (version: string) =>
      deletionSet(version, { variant: 'calico', includeForeign: false })
        .filter((o) => o.name === 'calico-tier-getter')
        .map((o) => `${o.kind} ${o.phase}`);
    expect(tierGetter('v3.29.3')).toEqual([]);
    for (const version of ['v3.29.4', 'v3.30.0', 'v3.32.1']) {
      expect(tierGetter(version)).toEqual(['ClusterRole access', 'ClusterRoleBinding access']);
    }
  });

  it('knows its release lines and refuses others', () => {
    expect(Object.keys(CALICO_LINES)).toEqual(['3.26', '3.27', '3.28', '3.29', '3.30', '3.31', '3.32']);
    expect(calicoLine('v3.27.0')).toBe('3.27');
    expect(calicoLine('v3.32.5')).toBe('3.32');
    expect(calicoLine('v3.25.1')).toBeUndefined();
    expect(calicoLine('v3.33.0')).toBeUndefined();
    expect(calicoLine('3.27.0')).toBeUndefined();
    expect(calicoLine('v3.027.0')).toBeUndefined();
    expect(calicoLine('v3.29.4-rc1')).toBeUndefined();
    expect(() => deletionSet('v3.25.1', { variant: 'calico', includeForeign: false })).toThrow(
      "unsupported Calico version 'v3.25.1'; supported: v3.26.x, v3.27.x, v3.28.x, v3.29.x, v3.30.x, v3.31.x, v3.32.x",
    );
    expect(() => deletionSet('v3.33.0', { variant: 'calico', includeForeign: false })).toThrow("unsupported Calico version 'v3.33.0'");
  });

  it("gives a patch newer than its line's newest known tag that tag's set", () => {
    for (const [version, known] of [
      ['v3.26.9', 'v3.26.5'],
      ['v3.29.8', 'v3.29.7'],
      ['v3.32.5', 'v3.32.1'],
    ] as const) {
      for (const variant of VARIANTS) {
        expect(deletionSet(version, { variant, includeForeign: true })).toEqual(deletionSet(known, { variant, includeForeign: true }));
      }
    }
  });
});

describe('deletion sets against the manifests of every tag', () => {
  it('the fixture has the lists of every tag from v3.26.0 to v3.32.1, and nothing else', () => {
    const expected = TAGS.flatMap((tag) =>
      ['calico', 'calico-typha', 'calico-etcd', 'apiserver', ...(tag.startsWith('v3.32.') ? ['calico-v3-crds'] : [])].map(
        (manifest) => `${tag}-${manifest}.tsv`,
      ),
    );
    expect(readdirSync(FIXTURES).sort()).toEqual(expected.sort());
  });

  it("each line's newest known tag is the newest tag of the fixture", () => {
    const newest = Object.fromEntries(TAGS.map((tag) => [tag.slice(1, tag.lastIndexOf('.')), tag]));
    expect(CALICO_LINES).toEqual(newest);
  });

  for (const tag of TAGS) {
    for (const variant of VARIANTS) {
      it(`${tag} ${variant}.yaml: exactly the objects the manifest creates, plus the optional ConfigMap`, () => {
        const all = deletionSet(tag, { variant, includeForeign: true });
        const created = all.filter((o) => !o.optional).map(id);
        expect(new Set(created).size).toBe(created.length);
        expect([...created].sort()).toEqual(listed(tag, variant).sort());
        expect(all.filter((o) => o.optional).map(id)).toEqual([OPTIONAL]);
        const phases = all.map((o) => DELETION_PHASES.indexOf(o.phase));
        expect(phases).toEqual([...phases].sort((a, b) => a - b));
        // The foreign objects are exactly the network-policy API's CRDs, and kept unless asked.
        expect(all.filter((o) => o.foreign).map(id)).toEqual(all.map(id).filter((o) => o.endsWith('.policy.networking.k8s.io')));
        expect(deletionSet(tag, { variant, includeForeign: false })).toEqual(all.filter((o) => !o.foreign));
      });
    }
  }
});
