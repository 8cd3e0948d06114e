/**
 * Derives the Cilium test fixtures from the reference renders of the official chart (a folder with
 * `<version>/facts.json`, as the project's shared reference data has it) into
 * test/fixtures/cilium/<version>.json. Run once per new reference render:
 *
 *   npx tsx scripts/derive-cilium-fixtures.ts ../shared/data/cilium
 *
 * Tests read only the fixtures, never the reference folder.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Facts {
  chart: { version: string; source?: unknown };
  renders: Record<string, Record<string, unknown>>;
}

/** The parts of a render the tests compare with; Secrets' random content is left out. */
const KEEP = [
  'objects',
  'cilium_config_data',
  'kubernetes_service_env',
  'rbac',
  'services',
  'workloads',
  'agent_daemonset',
  'other_configmaps',
] as const;

function derive(facts: Facts): Record<string, unknown> {
  const render = facts.renders['hetzner-native'];
  if (!render) {
    throw new Error(`no hetzner-native render for ${facts.chart.version}`);
  }
  return {
    source: `official Cilium chart ${facts.chart.version}, helm template with values-hetzner-native.yaml (see docs/cilium-versions.md "Supported releases")`,
    version: facts.chart.version,
    ...Object.fromEntries(KEEP.map((k) => [k, render[k]])),
    // What the chart does with the original plan's keys: rendered (with the ConfigMap difference) or refused.
    variants: {
      kubeProxyReplacementStrict: facts.renders['hetzner-native-kpr-strict'],
      tunnelDisabled: facts.renders['hetzner-native-tunnel-disabled'],
    },
  };
}

const dir = process.argv[2];
if (!dir || !existsSync(dir)) {
  console.error('usage: tsx scripts/derive-cilium-fixtures.ts <folder with <version>/facts.json>');
  process.exit(2);
}
for (const version of readdirSync(dir)
  .filter((v) => existsSync(join(dir, v, 'facts.json')))
  .sort()) {
  const facts = JSON.parse(readFileSync(join(dir, version, 'facts.json'), 'utf8')) as Facts;
  const out = new URL(`../test/fixtures/cilium/${version}.json`, import.meta.url);
  writeFileSync(out, `${JSON.stringify(derive(facts), null, 2)}\n`);
  console.log(`wrote test/fixtures/cilium/${version}.json`);
}
