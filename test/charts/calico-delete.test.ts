import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deletionSet, KINDS } from '../../lib/versions/calico-deletion-sets.ts';
import { findObject, manifestObjects, renderExample } from '../support/helpers.ts';
import type { Rendered } from '../../lib/output/rendered.ts';

/** Every (verb, group/resource, namespace, name) a set of Roles and ClusterRoles grants. */
function grants(roles: any[]): string[] {
  return roles.flatMap((role) =>
    role.rules.flatMap((r: any) =>
      r.verbs.flatMap((v: string) =>
        r.apiGroups.flatMap((g: string) =>
          r.resources.flatMap((res: string) =>
            (r.resourceNames ?? ['*']).map((n: string) => `${v} ${g}/${res} ${role.metadata.namespace ?? '-'} ${n}`),
          ),
        ),
      ),
    ),
  );
}

function deleteRoles(rendered: Rendered): any[] {
  return manifestObjects(rendered, 'manifests/100-calico-delete/')
    .map(({ obj }) => obj)
    .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
}

const cases = [
  { version: 'v3.26.4', variant: 'calico' as const, foreign: false },
  { version: 'v3.27.0', variant: 'calico' as const, foreign: false },
  { version: 'v3.27.0', variant: 'calico-typha' as const, foreign: false },
  { version: 'v3.28.0', variant: 'calico-typha' as const, foreign: false },
  { version: 'v3.29.0', variant: 'calico' as const, foreign: false },
  { version: 'v3.29.4', variant: 'calico-typha' as const, foreign: false },
  { version: 'v3.30.0', variant: 'calico' as const, foreign: true },
  { version: 'v3.31.0', variant: 'calico-typha' as const, foreign: false },
  { version: 'v3.32.0', variant: 'calico' as const, foreign: true },
];

describe('100-calico-delete', () => {
  for (const c of cases) {
    describe(`Calico ${c.version} (${c.variant}${c.foreign ? ', with network-policy API CRDs' : ''})`, () => {
      const rendered = renderExample((d) => {
        d.calico.version = c.version;
        d.calico.manifest = c.variant;
        d.calico.deleteNetworkPolicyAPICRDs = c.foreign;
      });
      const set = deletionSet(c.version, { variant: c.variant, includeForeign: c.foreign });
      const expected = set.map((o) => {
        const k = KINDS[o.kind];
        return `delete ${k.group}/${k.resource} ${o.namespace ?? '-'} ${o.name}`;
      });

      it('the Job deletes exactly the set, in order', () => {
        const spec = JSON.parse(findObject(rendered, 'ConfigMap', 'calico-delete-').data['calico-delete.json']);
        expect(spec.targets.map((t: any) => `${t.kind} ${t.namespace ?? '-'} ${t.name}`)).toEqual(
          set.map((o) => `${o.kind} ${o.namespace ?? '-'} ${o.name}`),
        );
        for (const t of spec.targets) {
          const k = KINDS[t.kind as keyof typeof KINDS];
          const prefix = k.group === '' ? '/api/v1' : `/apis/${k.group}/${k.version}`;
          expect(t.path).toBe(`${prefix}${t.namespace ? `/namespaces/${t.namespace}` : ''}/${k.resource}/${t.name}`);
        }
      });

      it('RBAC allows deleting exactly those objects: nothing missing, nothing extra', () => {
        const deletes = grants(deleteRoles(rendered)).filter((g) => g.startsWith('delete '));
        expect(deletes.sort()).toEqual(expected.sort());
      });

      it('and besides only the reads the Job makes', () => {
        const others = grants(deleteRoles(rendered)).filter((g) => !g.startsWith('delete '));
        // The custom resources of every CRD it deletes go into the inventory first: Calico's, and
        // the network-policy API's when the set has them.
        const plurals = set
          .filter((o) => o.kind === 'CustomResourceDefinition')
          .map((o) => `list ${o.name.slice(o.name.indexOf('.') + 1)}/${o.name.split('.')[0]} - *`);
        expect(plurals.some((p) => p.startsWith('list policy.networking.k8s.io/'))).toBe(c.foreign);
        // Each deleted CRD is read back, by name, until it is gone.
        const crds = set
          .filter((o) => o.kind === 'CustomResourceDefinition')
          .map((o) => `get apiextensions.k8s.io/customresourcedefinitions - ${o.name}`);
        expect(others.sort()).toEqual(
          [
            ...plurals,
            ...crds,
            'list /pods kube-system *',
            // The inventory's ConfigMaps: created, and listed to find one an earlier run created.
            'create /configmaps cilium-cutover-inventory *',
            'list /configmaps cilium-cutover-inventory *',
            'get /nodes - k3s-server-1',
            'get /nodes - k3s-server-2',
            'get /nodes - k3s-server-3',
          ].sort(),
        );
      });
    });
  }

  const rendered = renderExample();

  it('no generated rule uses *; the rules of our own Jobs use no deletecollection or escalation and name every object they can', () => {
    const roles = manifestObjects(rendered)
      .map(({ obj }) => obj)
      .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    expect(roles.some((r) => r.metadata.name.startsWith('cilium-cutover-'))).toBe(true);
    for (const role of roles) {
      for (const rule of role.rules) {
        for (const field of ['verbs', 'resources', 'apiGroups']) {
          expect(rule[field], `${role.metadata.name} ${field}`).not.toContain('*');
        }
        // Cilium's own roles are what its chart grants, checked in test/cilium-install.test.ts.
        if (!role.metadata.name.startsWith('cilium-cutover-')) {
          continue;
        }
        for (const verb of ['deletecollection', 'escalate', 'bind']) {
          expect(rule.verbs, `${role.metadata.name} ${verb}`).not.toContain(verb);
        }
        const nameable = rule.verbs.filter((v: string) => !['list', 'watch', 'create'].includes(v));
        if (nameable.length > 0) {
          expect(rule.resourceNames, `${role.metadata.name} ${rule.resources}`).toBeDefined();
        }
      }
    }
  });

  it('runs on the host network with the direct API address, tolerating every taint, unprivileged', () => {
    const job = findObject(rendered, 'Job', 'calico-delete-');
    const pod = job.spec.template.spec;
    expect(pod).toMatchObject({
      hostNetwork: true,
      dnsPolicy: 'Default',
      tolerations: [{ operator: 'Exists' }],
      serviceAccountName: 'cilium-cutover-calico-delete',
    });
    expect(pod.hostPID).toBeUndefined();
    expect(pod.containers[0].securityContext.privileged).toBeUndefined();
    expect(job.spec.activeDeadlineSeconds).toBe(900);
    expect(pod.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('rejects a Calico version without a deletion set, naming the supported ones', () => {
    expect(() => renderExample((d) => (d.calico.version = 'v3.25.1'))).toThrow(
      'calico.version: v3.25.1 has no known deletion set; supported: v3.26.x, v3.27.x, v3.28.x, v3.29.x, v3.30.x, v3.31.x, v3.32.x (manifest installs; the tigera-operator is not supported)',
    );
  });

  it('creates the inventory namespace that no engine prunes or deletes, that Argo CD does not count OutOfSync once gone from Git, and that graduation keeps', () => {
    const ns = findObject(rendered, 'Namespace', 'cilium-cutover-inventory');
    // argo-cd docs/user-guide/sync-options.md (Prune=false, Delete=false), compare-options.md
    // (IgnoreExtraneous); kustomize-controller: kustomize.toolkit.fluxcd.io/prune: disabled.
    expect(ns.metadata.annotations).toMatchObject({
      'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
      'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
      'kustomize.toolkit.fluxcd.io/prune': 'disabled',
    });
    expect(ns.metadata.labels['cilium-cutover.io/inventory']).toBeDefined();
    // The Job's account is bound there by a Role of its own, and may do nothing else there.
    const role = deleteRoles(rendered).find((r) => r.metadata.namespace === 'cilium-cutover-inventory');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'list'] }]);
  });

  it('writes the deletion spec readably', () => {
    const text = findObject(rendered, 'ConfigMap', 'calico-delete-').data['calico-delete.json'];
    expect(parse(text).podSelectors).toEqual(['k8s-app=calico-node', 'k8s-app=calico-kube-controllers']);
    expect(text.split('\n').length).toBeGreaterThan(50);
  });
});
