/**
 * Reads a config file safely and turns every problem into one line: `<field.path>: <what>; <fix>`.
 */
import { readFileSync, statSync } from 'node:fs';
import { isMap, parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError } from '../input-error.ts';
import { configSchema, show } from './schema.ts';
import { checkRules } from './rules.ts';
import { configWarnings, resolveConfig, type ResolvedConfig } from './resolve.ts';

/** A loaded, validated and resolved config. */
export interface LoadedConfig {
  readonly config: ResolvedConfig;
  /** Where it came from, for messages. */
  readonly source: string;
  readonly warnings: string[];
}

/** Config files are small; anything bigger is a mistake or an attack. */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** Aliases a config may use: enough for sharing a block, far too few for a "billion laughs" file. */
const MAX_ALIAS_COUNT = 20;

/**
 * Keys that older guides and the original plan use, with what replaces them. An unknown key is an
 * error anyway; these get a precise hint because they are exactly the mistakes this tool prevents.
 */
const LEGACY_KEYS: Readonly<Record<string, string>> = {
  'cilium.tunnel': 'removed in Cilium 1.15 (ignored silently, so the agent stays in tunnel mode); use routingMode: native',
  'cilium.kube-proxy-replacement': 'use kubeProxyReplacement (the Helm value name)',
  'cilium.ipv4-native-routing-cidr': 'use ipv4NativeRoutingCIDR (the Helm value name)',
  'cilium.auto-direct-node-routes': 'use autoDirectNodeRoutes (the Helm value name)',
  'cilium.mtu': 'use MTU (the Helm value name)',
  'run.attempt':
    'replaced by run.retries, which re-runs a failed step and the later ones but never the earlier ones; remove it, and list the step to run again (run.retries: [110-node-cleanup])',
};

/** Loads and validates a config file. Throws InputError for every problem with the file. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    if (statSync(file).size > MAX_CONFIG_BYTES) {
      throw new InputError(file, `larger than ${MAX_CONFIG_BYTES} bytes; a cluster config is a few kilobytes, check the path`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof InputError) {
      throw err;
    }
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError('--config', `cannot read ${JSON.stringify(file)} (${code ?? String(err)}); check the path`);
  }
  return parseConfig(text, file);
}

/** Parses and validates config text. `source` names it in messages. */
export function parseConfig(text: string, source: string): LoadedConfig {
  const raw = parseYaml(text, source);
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw toInputError(parsed.error.issues);
  }
  const problem = checkRules(parsed.data)[0];
  if (problem) {
    throw new InputError(problem.path, problem.message);
  }
  const config = resolveConfig(parsed.data);
  return { config, source, warnings: configWarnings(config) };
}

function parseYaml(text: string, source: string): unknown {
  if (text.trim() === '' || /^(\s*#.*\n?)*\s*$/.test(text)) {
    throw new InputError(source, 'the file is empty; start from examples/hetzner-3-servers.yaml');
  }
  const doc = parseDocument(text, {
    uniqueKeys: true,
    strict: true,
    // Gives each error its line and column.
    prettyErrors: true,
    // YAML 1.2 core schema: no `!!binary`, `!!set` or other YAML 1.1 types and no merge keys.
    schema: 'core',
    merge: false,
    resolveKnownTags: false,
  });
  // Warnings (an unresolved tag such as !!binary or !!js/function) are errors here: a config is plain data.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const pos = problem.linePos?.[0];
    const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
    const what = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '');
    throw new InputError(where, `${what}; fix the YAML there`);
  }
  if (!isMap(doc.contents)) {
    throw new InputError(
      source,
      'expected a mapping with the sections cluster, calico, cilium, gitops; see examples/hetzner-3-servers.yaml',
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new InputError(source, `${(err as Error).message.split('\n')[0]}; write the values out instead of using many aliases`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(root)';
}

/** Turns the first schema issue into a InputError with a field path and a fix. */
function toInputError(issues: readonly z.core.$ZodIssue[]): InputError {
  // A misspelt key also makes its correct spelling "missing": report the misspelling first.
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const full = path === '(root)' ? key : `${path}.${key}`;
    const legacy = LEGACY_KEYS[full];
    if (legacy) {
      return new InputError(full, `unknown key; ${legacy}`);
    }
    const known = knownKeysAt(configSchema, issue.path);
    const near = closest(key, known);
    const hint = near ? `did you mean "${near}"?` : `remove it (allowed here: ${known.join(', ')})`;
    return new InputError(full, `unknown key; ${hint}`);
  }
  if (issue.code === 'invalid_type' && issue.expected === 'object') {
    return new InputError(path, `expected a mapping (key: value lines), got ${show(issue.input)}`);
  }
  return new InputError(path, issue.message);
}

/** The keys the schema allows at `path` (for "did you mean" hints). */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const step of [...path, undefined]) {
    // Unwrap defaults, optionals and transforms down to the object or array.
    for (;;) {
      const def = current._zod.def as unknown as Record<string, unknown>;
      const inner = (def.innerType ?? def.in) as z.ZodType | undefined;
      if (!inner) {
        break;
      }
      current = inner;
    }
    if (step === undefined) {
      break;
    }
    if (current instanceof z.ZodArray) {
      current = current.element as z.ZodType;
    } else if (current instanceof z.ZodObject) {
      current = (current.shape as Record<string, z.ZodType>)[String(step)];
    }
    if (!current) {
      return [];
    }
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

/** The allowed key nearest to a typo (case-insensitive edit distance ≤ 2), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
