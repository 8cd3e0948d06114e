/**
 * Validation of the one Cilium custom resource the output contains, CiliumNodeConfig, by the
 * structure its CRD declares (cilium/cilium, pkg/k8s/apis/cilium.io/client/crds/v2/
 * ciliumnodeconfigs.yaml: `spec` required with `defaults` (string map) and `nodeSelector` (a label
 * selector); v2alpha1 has the same schema). The operator installs that CRD at runtime, so no
 * package ships a model for it.
 */

/** The apiVersions CiliumNodeConfig is served at (see the Cilium version table). */
export const CILIUM_NODE_CONFIG_VERSIONS = ['cilium.io/v2', 'cilium.io/v2alpha1'] as const;

/** Keys of a ConfigMap-like data field, as the CRD describes `defaults` keys. */
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;
const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, path: string, problems: string[], keyPattern?: RegExp): void {
  if (!isObject(value)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      problems.push(`${path}.${key}: expected a string`);
    }
    if (keyPattern && !keyPattern.test(key)) {
      problems.push(`${path}.${key}: not a valid key`);
    }
  }
}

/** The problems of a CiliumNodeConfig object (empty when valid). */
export function ciliumNodeConfigProblems(obj: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(obj)) {
    return ['expected an object'];
  }
  if (!CILIUM_NODE_CONFIG_VERSIONS.includes(obj.apiVersion as (typeof CILIUM_NODE_CONFIG_VERSIONS)[number])) {
    problems.push(`apiVersion: expected one of ${CILIUM_NODE_CONFIG_VERSIONS.join(', ')}`);
  }
  const metadata = obj.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    problems.push('metadata.name: required');
  } else if (typeof metadata.namespace !== 'string') {
    problems.push('metadata.namespace: required (CiliumNodeConfig is namespaced)');
  }
  const spec = obj.spec;
  if (!isObject(spec)) {
    return [...problems, 'spec: required'];
  }
  for (const key of Object.keys(spec)) {
    if (key !== 'defaults' && key !== 'nodeSelector') {
      problems.push(`spec.${key}: unknown field`);
    }
  }
  if (spec.defaults === undefined) {
    problems.push('spec.defaults: required');
  } else {
    stringMap(spec.defaults, 'spec.defaults', problems, DATA_KEY);
  }
  const selector = spec.nodeSelector;
  if (!isObject(selector)) {
    problems.push('spec.nodeSelector: required (without it the config applies to no node)');
    return problems;
  }
  for (const key of Object.keys(selector)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions') {
      problems.push(`spec.nodeSelector.${key}: unknown field`);
    }
  }
  if (selector.matchLabels !== undefined) {
    stringMap(selector.matchLabels, 'spec.nodeSelector.matchLabels', problems);
  }
  if (selector.matchExpressions !== undefined) {
    if (!Array.isArray(selector.matchExpressions)) {
      problems.push('spec.nodeSelector.matchExpressions: expected a list');
    } else {
      selector.matchExpressions.forEach((e: unknown, i) => {
        const at = `spec.nodeSelector.matchExpressions[${i}]`;
        if (!isObject(e) || typeof e.key !== 'string' || typeof e.operator !== 'string' || !OPERATORS.has(e.operator)) {
          problems.push(`${at}: needs a key and an operator (In, NotIn, Exists, DoesNotExist)`);
        }
      });
    }
  }
  return problems;
}

/** A model with the same shape as the kubernetes-models classes: construct, then validate(). */
export class CiliumNodeConfigModel {
  private readonly data: unknown;

  public constructor(data: unknown) {
    this.data = data;
  }

  public validate(): void {
    const problems = ciliumNodeConfigProblems(this.data);
    if (problems.length > 0) {
      throw new Error(`CiliumNodeConfig: ${problems.join('; ')}`);
    }
  }
}
