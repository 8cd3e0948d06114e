/**
 * Shows, field by field, where step 200-cilium differs from what a chart archive renders for the
 * same values: the tool to read when test/charts/cilium-releases.test.ts fails for a release.
 *
 *   npx tsx scripts/compare-cilium-release.ts cilium-1.19.6.tgz [variant]
 *
 * The release must be in lib/versions/cilium-releases.json (scripts/add-cilium-release.ts).
 * Exit code 1 when an object differs.
 */
import { parse } from 'yaml';
import { render } from '../charts/app.ts';
import { chartVersion, helmTemplate } from './cilium-release/helm.ts';
import { comparableObjects, differences } from './cilium-release/normalize.ts';
import { chartValues } from './cilium-release/values.ts';
import { kubeVersion, VARIANTS, variantConfig } from './cilium-release/variants.ts';

/** The differences, one line per object and one indented line per field. */
export function compareRelease(chart: string, variantName = VARIANTS[0]!.name): string[] {
  const variant = VARIANTS.find((v) => v.name === variantName);
  if (variant === undefined) {
    throw new Error(`no variant ${variantName}; one of ${VARIANTS.map((v) => v.name).join(', ')}`);
  }
  const version = chartVersion(chart);
  const config = variantConfig(variant, version);
  const ours = comparableObjects(
    [...render(config).files]
      .filter(([p]) => p.startsWith('manifests/200-cilium/') && !p.endsWith('kustomization.yaml'))
      .map(([, t]) => parse(t)),
  );
  const theirs = comparableObjects(helmTemplate(chart, chartValues(config), kubeVersion(config)));
  const out: string[] = [];
  for (const key of [...new Set([...ours.keys(), ...theirs.keys()])].sort()) {
    if (!ours.has(key) || !theirs.has(key)) {
      out.push(`${key}: ${ours.has(key) ? 'ours only' : 'the chart only'}`);
      continue;
    }
    const diff = differences(ours.get(key), theirs.get(key));
    if (diff.length > 0) {
      out.push(key, ...diff.map((d) => `  ${d}`));
    }
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [chart, variant] = process.argv.slice(2);
  if (chart === undefined) {
    console.error('usage: npx tsx scripts/compare-cilium-release.ts <cilium-X.Y.Z.tgz> [variant]');
    process.exit(2);
  }
  const lines = compareRelease(chart, variant);
  console.log(lines.length === 0 ? 'no differences' : lines.join('\n'));
  process.exit(lines.length === 0 ? 0 : 1);
}
