/**
 * A ServiceAccount with exactly the access one Job needs, object by object.
 */
import { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { setFileName } from './file-name.ts';

/** Verbs our Jobs use. `*` and `deletecollection` are deliberately not expressible. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** Verbs Kubernetes cannot restrict with `resourceNames` (the object name is not known up front). */
const UNNAMEABLE: ReadonlySet<Verb> = new Set(['create', 'list', 'watch']);

/** One permission: verbs on named objects of one resource. */
export interface AccessRule {
  /** API group; `''` for the core group. */
  readonly apiGroup: string;
  /** Resource (plural), optionally with a subresource: `pods/eviction`. */
  readonly resource: string;
  readonly verbs: readonly Verb[];
  /**
   * The objects the verbs apply to. Required unless every verb is one Kubernetes cannot restrict by
   * name (create, list, watch).
   * @default - no resourceNames: allowed only for create, list and watch
   */
  readonly names?: readonly string[];
  /**
   * The verbs apply to objects no one can name when the manifests are written (a broken pod of any
   * application): no resourceNames, deliberately. The caller says why beside the rule.
   * @default false
   */
  readonly anyObject?: boolean;
  /**
   * Namespace of the objects.
   * @default - cluster-scoped: the rule goes into the ClusterRole
   */
  readonly namespace?: string;
}

export interface ScopedServiceAccountProps {
  /** Name of the ServiceAccount, its Roles, ClusterRole and bindings. */
  readonly name: string;
  /** Namespace of the ServiceAccount. */
  readonly namespace: string;
  readonly rules: readonly AccessRule[];
}

/** A ServiceAccount bound to a ClusterRole (cluster-scoped rules) and one Role per namespace. */
export class ScopedServiceAccount extends Construct {
  public readonly name: string;
  public readonly namespace: string;
  private readonly _rules: readonly AccessRule[];

  public constructor(scope: Construct, id: string, props: ScopedServiceAccountProps) {
    super(scope, id);
    this.name = props.name;
    this.namespace = props.namespace;
    if (props.rules.length === 0) {
      throw new Error(`ScopedServiceAccount '${props.name}': 'rules' must not be empty`);
    }
    props.rules.forEach((rule) => validateRule(props.name, rule));
    this._rules = props.rules;

    const account = new k8s.KubeServiceAccount(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace },
      // Pods opt in to the token explicitly (CutoverJob does).
      automountServiceAccountToken: false,
    });
    setFileName(account, `serviceaccount-${this.name}`);
    const subject = { kind: 'ServiceAccount', name: this.name, namespace: this.namespace };

    const clusterRules = this._rules.filter((r) => r.namespace === undefined);
    if (clusterRules.length > 0) {
      const role = new k8s.KubeClusterRole(this, 'ClusterRole', { metadata: { name: this.name }, rules: toPolicyRules(clusterRules) });
      setFileName(role, `clusterrole-${this.name}`);
      const binding = new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
        metadata: { name: this.name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.name },
        subjects: [subject],
      });
      setFileName(binding, `clusterrolebinding-${this.name}`);
    }
    const namespaces = [...new Set(this._rules.flatMap((r) => (r.namespace === undefined ? [] : [r.namespace])))].sort();
    for (const ns of namespaces) {
      const rules = toPolicyRules(this._rules.filter((r) => r.namespace === ns));
      const role = new k8s.KubeRole(this, `Role-${ns}`, { metadata: { name: this.name, namespace: ns }, rules });
      setFileName(role, `role-${this.name}-${ns}`);
      const binding = new k8s.KubeRoleBinding(this, `RoleBinding-${ns}`, {
        metadata: { name: this.name, namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.name },
        subjects: [subject],
      });
      setFileName(binding, `rolebinding-${this.name}-${ns}`);
    }
  }

  /** The rules as given (a copy). */
  public get rules(): AccessRule[] {
    return [...this._rules];
  }
}

function validateRule(account: string, rule: AccessRule): void {
  const where = `ScopedServiceAccount '${account}': rule for '${rule.resource}'`;
  if (rule.verbs.length === 0) {
    throw new Error(`${where}: 'verbs' must not be empty`);
  }
  const nameable = rule.verbs.filter((v) => !UNNAMEABLE.has(v));
  if (rule.anyObject && rule.names !== undefined) {
    throw new Error(`${where}: 'anyObject' and 'names' exclude each other`);
  }
  if (rule.names === undefined && nameable.length > 0 && !rule.anyObject) {
    throw new Error(`${where}: 'names' is required for verbs ${nameable.join(', ')}`);
  }
  if (rule.names !== undefined) {
    if (rule.names.length === 0) {
      throw new Error(`${where}: 'names' must not be empty (omit it only for create, list and watch)`);
    }
    const unnameable = rule.verbs.filter((v) => v === 'create');
    if (unnameable.length > 0) {
      throw new Error(`${where}: 'create' cannot be limited by name; put it in a rule without 'names'`);
    }
  }
}

/**
 * One PolicyRule per named rule; rules without names that share group and verbs become one rule
 * over several resources (what they allow is the same, and the Role reads shorter).
 */
function toPolicyRules(rules: readonly AccessRule[]): k8s.PolicyRule[] {
  const out: k8s.PolicyRule[] = [];
  const merged = new Map<string, { apiGroup: string; verbs: readonly Verb[]; resources: string[] }>();
  for (const rule of rules) {
    if (rule.names) {
      out.push({ apiGroups: [rule.apiGroup], resources: [rule.resource], verbs: [...rule.verbs], resourceNames: [...rule.names].sort() });
      continue;
    }
    const key = `${rule.apiGroup} ${rule.verbs.join(',')}`;
    const entry = merged.get(key) ?? { apiGroup: rule.apiGroup, verbs: rule.verbs, resources: [] };
    entry.resources.push(rule.resource);
    merged.set(key, entry);
  }
  for (const m of merged.values()) {
    out.push({ apiGroups: [m.apiGroup], resources: [...m.resources].sort(), verbs: [...m.verbs] });
  }
  return out;
}
