/**
 * The ServiceAccounts, namespaces and RBAC of the Cilium agent and operator, as the release's chart
 * grants them (lib/versions/cilium-releases.json): each Role or ClusterRole with its rules and a
 * binding of the same name to its ServiceAccount.
 */
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import type { CiliumVersion } from '../../versions/cilium.ts';
import { ruleSet, type Rule } from '../../versions/cilium-releases.ts';

export const CILIUM_NAMESPACE = 'kube-system';
export const AGENT_ACCOUNT = 'cilium';
export const OPERATOR_ACCOUNT = 'cilium-operator';
/** Where Cilium reads TLS-interception Secrets from (1.17+). */
export const SECRETS_NAMESPACE = 'cilium-secrets';

const PART_OF = { 'app.kubernetes.io/part-of': 'cilium' };

export interface CiliumAccessProps {
  readonly version: CiliumVersion;
  /** The operator restarts pods Cilium does not manage (not while Cilium runs beside Calico); the chart grants pod deletion only then. */
  readonly restartsUnmanagedPods: boolean;
}

/** `cilium-operator-tlsinterception-secrets` → `OperatorTlsinterceptionSecrets`: a construct id. */
function constructId(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export class CiliumAccess extends Construct {
  public constructor(scope: Construct, id: string, props: CiliumAccessProps) {
    super(scope, id);
    const facts = props.version.facts;
    for (const name of [AGENT_ACCOUNT, OPERATOR_ACCOUNT]) {
      new k8s.KubeServiceAccount(this, `${constructId(name)}Account`, { metadata: { name, namespace: CILIUM_NAMESPACE } });
    }
    for (const name of facts.namespaces) {
      new k8s.KubeNamespace(this, `${constructId(name)}Namespace`, { metadata: { name, labels: PART_OF } });
    }
    for (const role of facts.roles) {
      const key = !props.restartsUnmanagedPods && role.rulesWithoutPodRestart !== undefined ? role.rulesWithoutPodRestart : role.rules;
      const rules = ruleSet(key).map(policyRule);
      const namespace = role.namespace === '' ? undefined : role.namespace;
      const metadata = { name: role.name, namespace, labels: PART_OF };
      const subjects = [{ kind: 'ServiceAccount', name: role.account, namespace: CILIUM_NAMESPACE }];
      const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: role.kind, name: role.name };
      const cid = `${constructId(role.name)}${role.kind}`;
      if (role.kind === 'ClusterRole') {
        new k8s.KubeClusterRole(this, cid, { metadata, rules });
        new k8s.KubeClusterRoleBinding(this, `${cid}Binding`, { metadata, roleRef, subjects });
      } else {
        new k8s.KubeRole(this, cid, { metadata, rules });
        new k8s.KubeRoleBinding(this, `${cid}Binding`, { metadata, roleRef, subjects });
      }
    }
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
