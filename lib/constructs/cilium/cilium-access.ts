/**
 * The ServiceAccounts and RBAC of the Cilium agent and operator, as the chart of the chosen line
 * grants them.
 */
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import type { CiliumVersion } from '../../versions/cilium.ts';
import { CLUSTER_ROLES, type Rule } from '../../versions/cilium-rbac.ts';

export const CILIUM_NAMESPACE = 'kube-system';
export const AGENT_ACCOUNT = 'cilium';
export const OPERATOR_ACCOUNT = 'cilium-operator';
/** Where Cilium reads TLS-interception Secrets from (1.17+). */
export const SECRETS_NAMESPACE = 'cilium-secrets';

const PART_OF = { 'app.kubernetes.io/part-of': 'cilium' };

export interface CiliumAccessProps {
  readonly version: CiliumVersion;
}

export class CiliumAccess extends Construct {
  public constructor(scope: Construct, id: string, props: CiliumAccessProps) {
    super(scope, id);
    const pods = props.version.rules.pods;
    const roles = CLUSTER_ROLES[props.version.line];
    for (const [id_, name] of [
      ['AgentAccount', AGENT_ACCOUNT],
      ['OperatorAccount', OPERATOR_ACCOUNT],
    ] as const) {
      new k8s.KubeServiceAccount(this, id_, { metadata: { name, namespace: CILIUM_NAMESPACE } });
    }
    this.clusterRole('Agent', AGENT_ACCOUNT, roles.agent);
    this.clusterRole('Operator', OPERATOR_ACCOUNT, roles.operator);
    // The agent reads its own ConfigMap (dynamic configuration).
    this.role('ConfigAgent', 'cilium-config-agent', CILIUM_NAMESPACE, AGENT_ACCOUNT, [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
    ]);
    if (pods.secretsNamespace) {
      new k8s.KubeNamespace(this, 'SecretsNamespace', { metadata: { name: SECRETS_NAMESPACE, labels: PART_OF } });
      this.role('AgentSecrets', 'cilium-tlsinterception-secrets', SECRETS_NAMESPACE, AGENT_ACCOUNT, [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      ]);
      this.role('OperatorSecrets', 'cilium-operator-tlsinterception-secrets', SECRETS_NAMESPACE, OPERATOR_ACCOUNT, [
        { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete', 'update', 'patch'] },
      ]);
    }
    if (pods.ztunnelRole) {
      this.role('OperatorZtunnel', 'cilium-operator-ztunnel', CILIUM_NAMESPACE, OPERATOR_ACCOUNT, [
        { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['create', 'delete', 'get', 'list', 'watch'] },
        ...(pods.ztunnelReadsServiceAccounts ? [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] }] : []),
      ]);
    }
  }

  private clusterRole(id: string, name: string, rules: readonly Rule[]): void {
    new k8s.KubeClusterRole(this, `${id}ClusterRole`, { metadata: { name, labels: PART_OF }, rules: rules.map(policyRule) });
    new k8s.KubeClusterRoleBinding(this, `${id}ClusterRoleBinding`, {
      metadata: { name, labels: PART_OF },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: CILIUM_NAMESPACE }],
    });
  }

  private role(id: string, name: string, namespace: string, account: string, rules: readonly Rule[]): void {
    new k8s.KubeRole(this, `${id}Role`, { metadata: { name, namespace, labels: PART_OF }, rules: rules.map(policyRule) });
    new k8s.KubeRoleBinding(this, `${id}RoleBinding`, {
      metadata: { name, namespace, labels: PART_OF },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace: CILIUM_NAMESPACE }],
    });
  }
}

function policyRule(rule: Rule): k8s.PolicyRule {
  return {
    apiGroups: [...rule.apiGroups],
    resources: [...rule.resources],
    resourceNames: rule.resourceNames ? [...rule.resourceNames] : undefined,
    verbs: [...rule.verbs],
  };
}
