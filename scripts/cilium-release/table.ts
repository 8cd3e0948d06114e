/**
 * lib/versions/cilium-releases.json, written from a set of releases: each line's config stored
 * once (that of its oldest release) and each release as its changes to it; rule sets and scripts
 * shared under the name of the first role or container that has them. The text is a function of
 * the set alone, so adding a release never rewrites another one's entry.
 */
import { canonicalJson } from '../../lib/content-hash.ts';
import {
  bootstrap,
  changesBetween,
  compareVersions,
  expandReleases,
  lineOf,
  ruleSet,
  script,
  type ReleaseTable,
  type Rule,
  type Script,
  type StoredRelease,
} from '../../lib/versions/cilium-releases.ts';
import type { Extracted } from './facts.ts';

export const TABLE_SOURCE =
  'official packaged Cilium Helm charts, rendered with Helm 3.17.3 by scripts/add-cilium-release.ts (docs/cilium-versions.md "Adding a release")';

/** Every release of a table with its rules and scripts inline. */
export function releasesOf(table: ReleaseTable): Extracted[] {
  return expandReleases(table).map((r) => ({
    ...r,
    roles: r.roles.map(({ rulesWithoutPodRestart, ...role }) => ({
      ...role,
      rules: ruleSet(role.rules, table),
      ...(rulesWithoutPodRestart === undefined ? {} : { rulesWithoutPodRestart: ruleSet(rulesWithoutPodRestart, table) }),
    })),
    initScripts: Object.fromEntries(Object.entries(r.initScripts).map(([c, key]) => [c, script(key, table)])),
    envoy: { ...r.envoy, bootstrap: bootstrap(r.envoy.bootstrap, table) },
  }));
}

/** A table of these releases (a later one of the same version replaces an earlier). */
export function tableOf(releases: readonly Extracted[]): ReleaseTable {
  const byVersion = new Map(releases.map((r) => [r.version, r]));
  const sorted = [...byVersion.values()].sort((a, b) => compareVersions(a.version, b.version));
  const rules: Record<string, readonly Rule[]> = {};
  const scripts: Record<string, Script> = {};
  const bootstraps: Record<string, string> = {};
  const share = <T>(store: Record<string, T>, name: string, version: string, value: T): string => {
    const text = canonicalJson(value);
    const found = Object.entries(store).find(([, v]) => canonicalJson(v) === text);
    if (found !== undefined) {
      return found[0];
    }
    const key = `${name}@${version}`;
    store[key] = value;
    return key;
  };
  const lines: Record<string, Record<string, string>> = {};
  const stored: Record<string, StoredRelease> = {};
  for (const r of sorted) {
    const line = lineOf(r.version);
    lines[line] ??= Object.fromEntries(Object.entries(r.config).sort(([a], [b]) => (a < b ? -1 : 1)));
    const changes = changesBetween(lines[line], r.config);
    stored[r.version] = {
      images: r.images,
      ...(Object.keys(changes).length > 0 ? { config: changes } : {}),
      kubeProxyKeptConfig: r.kubeProxyKeptConfig,
      envoyConfig: r.envoyConfig,
      envoy: { ...r.envoy, bootstrap: share(bootstraps, 'bootstrap', r.version, r.envoy.bootstrap) },
      configShape: r.configShape,
      namespaces: r.namespaces,
      roles: r.roles.map(({ rulesWithoutPodRestart, ...role }) => ({
        ...role,
        rules: share(rules, role.name, r.version, role.rules),
        ...(rulesWithoutPodRestart === undefined
          ? {}
          : { rulesWithoutPodRestart: share(rules, `${role.name}-without-pod-restart`, r.version, rulesWithoutPodRestart) }),
      })),
      pods: r.pods,
      initScripts: Object.fromEntries(Object.entries(r.initScripts).map(([c, s]) => [c, share(scripts, c, r.version, s)])),
    };
  }
  return { source: TABLE_SOURCE, rules, scripts, bootstraps, lines, releases: stored };
}

/** JSON laid out for review: one key per line down to `depth`, each value below it on one line. */
function layout(value: unknown, depth: number, indent = ''): string {
  if (depth === 0 || value === null || typeof value !== 'object' || Object.keys(value).length === 0) {
    return JSON.stringify(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => inner + layout(v, depth - 1, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${inner}${JSON.stringify(k)}: ${layout(v, depth - 1, inner)}`,
  );
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** The file's text. */
export function tableText(table: ReleaseTable): string {
  return `${layout(
    {
      source: table.source,
      lines: table.lines,
      releases: table.releases,
      rules: table.rules,
      scripts: table.scripts,
      bootstraps: table.bootstraps,
    },
    3,
  )}\n`;
}
