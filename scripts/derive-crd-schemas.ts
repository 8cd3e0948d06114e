/**
 * Derives lib/check/crd-schemas.json, the structure of the CRDs whose objects the output contains,
 * from the upstream CRD files: per served version, the openAPIV3Schema with only what validation
 * reads (type, properties, items, additionalProperties, required, enum and the x-kubernetes
 * markers); descriptions and defaults are left out. The `status` subtree is left out too: the
 * output never sets it. Run once per CRD update, with the folder holding the files named below:
 *
 *   npx tsx scripts/derive-crd-schemas.ts <folder>
 *
 * Tests and `check` read only the derived file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Where each CRD comes from: file name in the folder, and the upstream file it is. */
const SOURCES = [
  {
    file: 'application-crd.yaml',
    upstream: 'argoproj/argo-cd manifests/crds/application-crd.yaml at 37ee0097cf851bc2dd7665fc081bbce61a7e836e',
  },
  {
    file: 'gitrepositories.yaml',
    upstream:
      'fluxcd/source-controller config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml at 39b711b111fa906c3db0a424e252a5d12e48646d (v1.9.0)',
  },
  {
    file: 'kustomizations.yaml',
    upstream:
      'fluxcd/kustomize-controller config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml at 186fb3b29138ce82ff61ba1a9370b96a3dd598fe (v1.9.0)',
  },
  {
    file: 'ciliumnodeconfigs.yaml',
    upstream: 'cilium/cilium pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnodeconfigs.yaml at 15248bc5844819956cfd1da702294dc27955df77',
  },
] as const;

/** The schema keywords validation reads. */
const KEPT = [
  'type',
  'properties',
  'items',
  'additionalProperties',
  'required',
  'enum',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
] as const;

type Schema = Record<string, unknown>;

function reduce(schema: Schema): Schema {
  const out: Schema = {};
  for (const key of KEPT) {
    const value = schema[key];
    if (value === undefined) {
      continue;
    }
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([name, child]) => [name, reduce(child)]));
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      out[key] = reduce(value as Schema);
    } else {
      out[key] = value;
    }
  }
  return out;
}

interface Crd {
  readonly spec: {
    readonly group: string;
    readonly names: { readonly kind: string };
    readonly versions: readonly {
      readonly name: string;
      readonly served: boolean;
      readonly schema: { readonly openAPIV3Schema: Schema };
    }[];
  };
}

export function deriveSchemas(folder: string): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const source of SOURCES) {
    const crd = parseAllDocuments(readFileSync(join(folder, source.file), 'utf8'))
      .map((d) => d.toJS() as Crd | null)
      .find((d) => d?.spec?.versions)!;
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      const schema = reduce(version.schema.openAPIV3Schema);
      delete (schema.properties as Record<string, unknown>).status;
      schemas[`${crd.spec.group}/${version.name} ${crd.spec.names.kind}`] = { source: source.upstream, schema };
    }
  }
  return schemas;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const folder = process.argv[2];
  if (!folder) {
    console.error('usage: npx tsx scripts/derive-crd-schemas.ts <folder with the CRD files>');
    process.exit(2);
  }
  const out = new URL('../lib/check/crd-schemas.json', import.meta.url);
  writeFileSync(out, `${JSON.stringify(deriveSchemas(folder), null, 1)}\n`);
}
