/**
 * The layout's rules (docs: development), read from the imports of every source file. Each rule is
 * also run on a small graph that breaks it, so a checker that finds nothing cannot pass.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cycles, importsOf, readGraph, type SourceFile } from './support/import-graph.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const graph = readGraph(ROOT, ['main.ts', 'cli', 'charts', 'lib']);

/** Files of the project that import nothing of it: anyone may import them. */
const LEAVES = ['lib/cidr.ts', 'lib/duration.ts', 'lib/content-hash.ts', 'lib/paths.ts', 'lib/input-error.ts', 'lib/labels.ts'];

const under = (folder: string) => (path: string) => path.startsWith(`${folder}/`);

/** `from → to` for each project import of a file matching `from` that `allowed` refuses. */
function violations(files: readonly SourceFile[], from: (path: string) => boolean, allowed: (to: string) => boolean): string[] {
  return files.filter((f) => from(f.path)).flatMap((f) => f.files.filter((to) => !allowed(to)).map((to) => `${f.path} → ${to}`));
}

/** The rules, as [name, check] pairs; each check returns its violations. */
const RULES: readonly [string, (files: readonly SourceFile[]) => string[]][] = [
  ['nothing under lib/ imports charts/ or cli/', (g) => violations(g, under('lib'), (to) => !under('charts')(to) && !under('cli')(to))],
  ['charts/ does not import cli/', (g) => violations(g, under('charts'), (to) => !under('cli')(to))],
  ['lib/constructs does not import lib/output', (g) => violations(g, under('lib/constructs'), (to) => !under('lib/output')(to))],
  [
    'lib/incluster imports only itself, node: modules and the leaves',
    (g) => [
      ...violations(g, under('lib/incluster'), (to) => under('lib/incluster')(to) || LEAVES.includes(to)),
      ...g
        .filter((f) => under('lib/incluster')(f.path))
        .flatMap((f) => f.packages.filter((p) => !p.startsWith('node:')).map((p) => `${f.path} → ${p}`)),
    ],
  ],
  [
    'lib/versions imports only itself',
    (g) => [
      ...violations(g, under('lib/versions'), under('lib/versions')),
      ...g.filter((f) => under('lib/versions')(f.path)).flatMap((f) => f.packages.map((p) => `${f.path} → ${p}`)),
    ],
  ],
  [
    'the leaves import nothing of the project',
    (g) =>
      violations(
        g,
        (p) => LEAVES.includes(p),
        () => false,
      ),
  ],
  ['no circular imports', (g) => cycles(g).map((c) => c.join(' → '))],
];

describe('the layout', () => {
  for (const [name, check] of RULES) {
    it(name, () => {
      expect(check(graph)).toEqual([]);
    });
  }

  it('reads the imports of every kind of import statement', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      "const d = await import('./d.ts');",
      "import 'node:fs';",
      'import {',
      '  e,',
      "} from 'yaml';",
    ].join('\n');
    expect(importsOf(text).sort()).toEqual(['../b.ts', './a.ts', './c.ts', './d.ts', 'node:fs', 'yaml']);
  });

  it('finds a broken rule and a cycle in a graph made to break them', () => {
    const bad: SourceFile[] = [
      { path: 'lib/output/render.ts', files: ['charts/app.ts'], packages: [] },
      { path: 'lib/constructs/job.ts', files: ['lib/output/yaml.ts'], packages: [] },
      { path: 'lib/incluster/x-main.ts', files: ['lib/config/resolve.ts'], packages: ['yaml'] },
      { path: 'lib/versions/cilium.ts', files: ['lib/config/schema.ts'], packages: ['zod'] },
      { path: 'lib/cidr.ts', files: ['lib/paths.ts'], packages: [] },
      { path: 'charts/app.ts', files: ['charts/steps.ts'], packages: [] },
      { path: 'charts/steps.ts', files: ['charts/app.ts', 'cli/run.ts'], packages: [] },
    ];
    const found = Object.fromEntries(RULES.map(([name, check]) => [name, check(bad).length]));
    expect(Object.values(found).every((n) => n > 0)).toBe(true);
    expect(cycles(bad)).toEqual([['charts/app.ts', 'charts/steps.ts', 'charts/app.ts']]);
  });
});

/**
 * Source files allowed over the size limit, each with its reason: data tables, the config schema,
 * and document builders made of small section functions.
 */
const LONG_FILES: Readonly<Record<string, string>> = {
  'lib/config/schema.ts': 'the config schema: one described field after another',
  'lib/output/plan.ts': 'document builder: PLAN.md, one small function per section',
};
const MAX_LINES = 300;

describe('file sizes', () => {
  it(`keeps every source file under ${MAX_LINES} lines, but the listed exceptions`, () => {
    const long = graph
      .map((f) => ({ path: f.path, lines: readFileSync(`${ROOT}${f.path}`, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_LINES && LONG_FILES[f.path] === undefined)
      .map((f) => `${f.path}: ${f.lines} lines`);
    expect(long).toEqual([]);
  });

  it('lists only exceptions that exist and are long', () => {
    for (const path of Object.keys(LONG_FILES)) {
      expect(readFileSync(`${ROOT}${path}`, 'utf8').split('\n').length - 1).toBeGreaterThan(MAX_LINES);
    }
  });
});
