import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ScopedServiceAccount, type AccessRule } from '../../../lib/constructs/scoped-service-account.ts';

function synth(rules: AccessRule[]) {
  const chart = Testing.chart();
  const account = new ScopedServiceAccount(chart, 'A', { name: 'x', namespace: 'ns', rules });
  return { account, objects: Testing.synth(chart) };
}

describe('ScopedServiceAccount', () => {
  it('puts cluster-scoped rules in a ClusterRole and namespaced ones in a Role per namespace', () => {
    const { account, objects } = synth([
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: ['b', 'a'] },
      { apiGroup: 'apps', resource: 'daemonsets', verbs: ['get', 'delete'], names: ['calico-node'], namespace: 'kube-system' },
      { apiGroup: '', resource: 'configmaps', verbs: ['get'], names: ['c'], namespace: 'other' },
    ]);
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/ns/x',
      'ClusterRole//x',
      'ClusterRoleBinding//x',
      'Role/kube-system/x',
      'RoleBinding/kube-system/x',
      'Role/other/x',
      'RoleBinding/other/x',
    ]);
    expect(objects[1].rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get'], resourceNames: ['a', 'b'] }]);
    expect(objects[3].rules).toEqual([
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'delete'], resourceNames: ['calico-node'] },
    ]);
    expect(objects[4].subjects).toEqual([{ kind: 'ServiceAccount', name: 'x', namespace: 'ns' }]);
    expect(objects[0].automountServiceAccountToken).toBe(false);
    expect(account.rules).toHaveLength(3);
  });

  it('allows rules without names only for create, list and watch', () => {
    expect(() => synth([{ apiGroup: '', resource: 'pods', verbs: ['list', 'watch'] }])).not.toThrow();
    expect(() => synth([{ apiGroup: '', resource: 'pods', verbs: ['list', 'delete'] }])).toThrow(
      "ScopedServiceAccount 'x': rule for 'pods': 'names' is required for verbs delete",
    );
  });

  it('allows a rule over any object only when asked for by anyObject, never beside names', () => {
    expect(() => synth([{ apiGroup: '', resource: 'pods', verbs: ['delete'], anyObject: true }])).not.toThrow();
    expect(() => synth([{ apiGroup: '', resource: 'pods', verbs: ['delete'], anyObject: true, names: ['p'] }])).toThrow(
      "ScopedServiceAccount 'x': rule for 'pods': 'anyObject' and 'names' exclude each other",
    );
  });

  it('rejects empty lists and create with names', () => {
    expect(() => synth([])).toThrow("ScopedServiceAccount 'x': 'rules' must not be empty");
    expect(() => synth([{ apiGroup: '', resource: 'pods', verbs: [] }])).toThrow(
      "ScopedServiceAccount 'x': rule for 'pods': 'verbs' must not be empty",
    );
    expect(() => synth([{ apiGroup: '', resource: 'pods', verbs: ['get'], names: [] }])).toThrow(
      "ScopedServiceAccount 'x': rule for 'pods': 'names' must not be empty (omit it only for create, list and watch)",
    );
    expect(() => synth([{ apiGroup: '', resource: 'pods', verbs: ['create', 'get'], names: ['p'] }])).toThrow(
      "ScopedServiceAccount 'x': rule for 'pods': 'create' cannot be limited by name; put it in a rule without 'names'",
    );
  });
});
