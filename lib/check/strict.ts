/**
 * Strict validation: every field of an object must be one its schema knows, with a value of the
 * type it declares. Built-in kinds are walked along the OpenAPI models of `@kubernetes/client-node`
 * (Kubernetes 1.34); custom resources along their CRD's openAPIV3Schema (crd-schemas.json,
 * derived by scripts/derive-crd-schemas.ts), where `x-kubernetes-preserve-unknown-fields` allows
 * fields the schema does not list. Each problem is `<field path>: <what is wrong>`.
 */
import CRD_SCHEMAS from './crd-schemas.json' with { type: 'json' };
import { unknownField } from './nearest.ts';

/** One attribute of a client-node model: its JSON name and type expression. */
interface Attribute {
  readonly baseName: string;
  readonly type: string;
}

/** The client-node models by class name (the package's exports). */
export type Models = Readonly<Record<string, unknown>>;

function attributesOf(models: Models, type: string): readonly Attribute[] | undefined {
  const model = models[type] as { getAttributeTypeMap?: () => readonly Attribute[] } | undefined;
  return model?.getAttributeTypeMap?.();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(path: string, key: string): string {
  return /^[A-Za-z_][\w-]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

/** The client-node model of a built-in kind: `apps/v1 DaemonSet` → `V1DaemonSet`. */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.includes('/') ? apiVersion.split('/')[1]! : apiVersion;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

/** Walks a value along a client-node type expression. */
function walkModel(models: Models, value: unknown, type: string, path: string, problems: string[]): void {
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  const expect = (ok: boolean, what: string) => {
    if (!ok) {
      problems.push(`${path}: expected ${what}, got ${JSON.stringify(value)}`);
    }
  };
  if (type === 'any' || type === 'object') {
    return;
  } else if (type === 'string' || type === 'Date') {
    expect(typeof value === 'string', 'a string');
  } else if (type === 'number') {
    expect(typeof value === 'number', 'a number');
  } else if (type === 'boolean') {
    expect(typeof value === 'boolean', 'a boolean');
  } else if (type === 'IntOrString') {
    expect(typeof value === 'string' || typeof value === 'number', 'an integer or a string');
  } else if (array) {
    expect(Array.isArray(value), 'a list');
    if (Array.isArray(value)) {
      value.forEach((item, i) => walkModel(models, item, array[1]!, `${path}[${i}]`, problems));
    }
  } else if (map) {
    expect(isObject(value), 'an object');
    if (isObject(value)) {
      Object.entries(value).forEach(([key, item]) => walkModel(models, item, map[1]!, child(path, key), problems));
    }
  } else {
    const attributes = attributesOf(models, type);
    if (attributes === undefined) {
      throw new Error(`${path}: no model ${type} in @kubernetes/client-node`);
    }
    expect(isObject(value), 'an object');
    if (!isObject(value)) {
      return;
    }
    const known = new Map(attributes.map((a) => [a.baseName, a.type]));
    for (const [key, item] of Object.entries(value)) {
      const itemType = known.get(key);
      if (itemType === undefined) {
        problems.push(unknownField(child(path, key), key, [...known.keys()]));
      } else {
        walkModel(models, item, itemType, child(path, key), problems);
      }
    }
  }
}

/** The problems of a built-in object, or `undefined` when client-node has no model for its kind. */
export function builtinProblems(models: Models, obj: Record<string, unknown>): string[] | undefined {
  const type = modelName(String(obj.apiVersion), String(obj.kind));
  if (attributesOf(models, type) === undefined) {
    return undefined;
  }
  const problems: string[] = [];
  walkModel(models, obj, type, '', problems);
  return problems;
}

/** A CRD's schema, as crd-schemas.json keeps it. */
interface CrdSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, CrdSchema>>;
  readonly items?: CrdSchema;
  readonly additionalProperties?: CrdSchema | boolean;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
}

const CRDS = CRD_SCHEMAS as unknown as Readonly<Record<string, { readonly source: string; readonly schema: CrdSchema }>>;

/** The CRD schema of `<apiVersion> <kind>`, when the output's custom resources include it. */
export function crdSchema(apiVersion: string, kind: string): CrdSchema | undefined {
  return CRDS[`${apiVersion} ${kind}`]?.schema;
}

/** Walks a value along a CRD schema. */
function walkCrd(value: unknown, schema: CrdSchema, path: string, problems: string[]): void {
  const expect = (ok: boolean, what: string) => {
    if (!ok) {
      problems.push(`${path}: expected ${what}, got ${JSON.stringify(value)}`);
    }
    return ok;
  };
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (schema['x-kubernetes-int-or-string']) {
    expect(typeof value === 'string' || Number.isInteger(value), 'an integer or a string');
    return;
  }
  switch (schema.type) {
    case 'string':
      expect(typeof value === 'string', 'a string');
      return;
    case 'integer':
      expect(Number.isInteger(value), 'an integer');
      return;
    case 'number':
      expect(typeof value === 'number', 'a number');
      return;
    case 'boolean':
      expect(typeof value === 'boolean', 'a boolean');
      return;
    case 'array':
      if (expect(Array.isArray(value), 'a list') && schema.items) {
        (value as unknown[]).forEach((item, i) => walkCrd(item, schema.items!, `${path}[${i}]`, problems));
      }
      return;
    case 'object':
      if (expect(isObject(value), 'an object')) {
        walkCrdObject(value as Record<string, unknown>, schema, path, problems);
      }
      return;
    default:
      return;
  }
}

function walkCrdObject(value: Record<string, unknown>, schema: CrdSchema, path: string, problems: string[]): void {
  const properties = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) {
      problems.push(`${child(path, name)}: required field missing`);
    }
  }
  for (const [key, item] of Object.entries(value)) {
    const known = properties[key];
    if (known) {
      walkCrd(item, known, child(path, key), problems);
    } else if (typeof schema.additionalProperties === 'object') {
      walkCrd(item, schema.additionalProperties, child(path, key), problems);
    } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
      problems.push(unknownField(child(path, key), key, Object.keys(properties)));
    }
  }
}

/**
 * The problems of a custom resource along its CRD schema; its `metadata` (which CRDs leave to the
 * API server) along the ObjectMeta model.
 */
export function customResourceProblems(models: Models, obj: Record<string, unknown>, schema: CrdSchema): string[] {
  const problems: string[] = [];
  // The CRD's own metadata schema is a bare object: the API server checks ObjectMeta.
  walkCrd(obj, { ...schema, properties: { ...schema.properties, metadata: {} } }, '', problems);
  if (obj.metadata !== undefined) {
    walkModel(models, obj.metadata, 'V1ObjectMeta', 'metadata', problems);
  }
  return problems;
}
