/**
 * Shared test helpers: the example config, variations of it, and rendering.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { expect } from 'vitest';
import { parseConfig, type LoadedConfig } from '../../lib/config/load.ts';
import { InputError } from '../../lib/input-error.ts';
import type { ResolvedConfig } from '../../lib/config/resolve.ts';
import { render } from '../../charts/app.ts';
import type { Rendered } from '../../lib/output/rendered.ts';
import { EXAMPLE_CONFIG } from '../../cli/index.ts';

export const EXAMPLE_TEXT = readFileSync(EXAMPLE_CONFIG, 'utf8');

/** The example as plain data, to modify in a test. */
export function exampleData(): Record<string, any> {
  return parse(EXAMPLE_TEXT) as Record<string, any>;
}

/** Loads config data through the real loader (YAML text in, validated config out). */
export function load(data: unknown): LoadedConfig {
  return parseConfig(stringify(data), 'test.yaml');
}

/** The message of the InputError loading `data` gives, or undefined when it loads. */
export function loadError(data: unknown): string | undefined {
  try {
    load(data);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
}

/** The example config, optionally changed by `edit` first. */
export function exampleConfig(edit: (data: Record<string, any>) => void = () => {}): ResolvedConfig {
  const data = exampleData();
  edit(data);
  return load(data).config;
}

/** Renders the example, optionally changed by `edit`. */
export function renderExample(edit?: (data: Record<string, any>) => void): Rendered {
  return render(exampleConfig(edit));
}

/** Parsed YAML of every manifest file under `manifests/` (not kustomization.yaml). */
export function manifestObjects(rendered: Rendered, prefix = 'manifests/'): { path: string; obj: any }[] {
  return [...rendered.files]
    .filter(([p]) => p.startsWith(prefix) && p.endsWith('.yaml') && !p.endsWith('kustomization.yaml'))
    .map(([path, text]) => ({ path, obj: parse(text) }));
}

/** True for files that hold one Kubernetes object (not kustomizations, not host files). */
export function isObjectFile(path: string): boolean {
  return path.endsWith('.yaml') && !path.endsWith('kustomization.yaml') && !path.startsWith('host/');
}

/** The one object of a kind (and optional name prefix) in a rendered output. */
export function findObject(rendered: Rendered, kind: string, namePrefix = ''): any {
  const found = [...rendered.files]
    .filter(([p]) => isObjectFile(p))
    .map(([, text]) => parse(text))
    .filter((o) => o.kind === kind && String(o.metadata.name).startsWith(namePrefix));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} named ${namePrefix}*, found ${found.length}`);
  }
  return found[0];
}

/**
 * A CustomResourceDefinition whose schema keeps every field (for tests that need a kind to exist
 * on a real API server, not its validation). Namespaced unless `scope` says otherwise.
 */
export function permissiveCrd(
  group: string,
  kind: string,
  plural: string,
  version: string,
  options: { scope?: 'Namespaced' | 'Cluster'; annotations?: Record<string, string> } = {},
): any {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      group,
      scope: options.scope ?? 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}
