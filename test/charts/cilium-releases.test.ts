/**
 * Step 200-cilium of every release in lib/versions/cilium-releases.json equals what the release's
 * official chart renders for the same values, for each variant of scripts/cilium-release/variants.ts,
 * apart from the listed deviations (lib/constructs/cilium/deviations.ts, each tested in
 * cilium.test.ts). The expected side is test/fixtures/cilium/chart-renders.json: per release and
 * variant, the hash of each object of the chart's render in comparable form, written by
 * scripts/add-cilium-release.ts from the chart archive. On a difference,
 * `npx tsx scripts/compare-cilium-release.ts <chart archive>` shows the fields.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { objectProblems } from '../../lib/check/schema-check.ts';
import { CILIUM_VERSIONS } from '../../lib/versions/cilium.ts';
import { comparableHashes as hashes, objectKey } from '../../scripts/cilium-release/normalize.ts';
import { VARIANTS, variantConfig } from '../../scripts/cilium-release/variants.ts';
import { variantHashes, type RenderHashes } from '../../scripts/add-cilium-release.ts';
import { render } from '../../charts/app.ts';
import { ciliumStepObjects } from '../support/cilium-step.ts';
import { manifestObjects } from '../support/helpers.ts';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/cilium/chart-renders.json', import.meta.url), 'utf8')) as RenderHashes;

describe('the release table and the chart renders', () => {
  it('has a render of every variant for every release, and no render of a release it does not have', () => {
    expect(Object.keys(fixtures).sort()).toEqual(CILIUM_VERSIONS.map((v) => v.version).sort());
    for (const [version, variants] of Object.entries(fixtures)) {
      expect(Object.keys(variants).sort(), version).toEqual(VARIANTS.map((v) => v.name).sort());
    }
  });

  it('covers every stable release from 1.15.0 to 1.20.0 (1.16.14 was never published)', () => {
    const expected = [
      ...Array.from({ length: 20 }, (_, i) => `1.15.${i}`),
      ...Array.from({ length: 20 }, (_, i) => `1.16.${i}`).filter((v) => v !== '1.16.14'),
      ...Array.from({ length: 19 }, (_, i) => `1.17.${i}`),
      ...Array.from({ length: 13 }, (_, i) => `1.18.${i}`),
      ...Array.from({ length: 7 }, (_, i) => `1.19.${i}`),
      '1.20.0',
    ];
    expect(CILIUM_VERSIONS.map((v) => v.version).sort()).toEqual(expected.sort());
  });

  it("the docs' table of releases says what the table holds, line by line", () => {
    const docs = readFileSync(new URL('../../docs/cilium-versions.md', import.meta.url), 'utf8');
    for (const line of [...new Set(CILIUM_VERSIONS.map((v) => v.line))]) {
      const of = CILIUM_VERSIONS.filter((v) => v.line === line);
      const range = of.length === 1 ? of[0]!.version : `${of[0]!.version} to ${of.at(-1)!.version}`;
      const row = docs.split('\n').find((l) => l.startsWith(`| ${line} |`));
      expect(row, line).toContain(range);
      expect(row, line).toContain(`(${of.length})`);
      expect(row, line).toContain(of[0]!.endOfLife ? 'end-of-life' : 'maintained');
    }
  });

  it('the step alone gives what the whole synth writes for it, in comparable form', () => {
    const cases = [
      ...['1.15.0', '1.17.0'].map((version) => [VARIANTS[0]!, version] as const),
      ...VARIANTS.map((variant) => [variant, '1.20.0'] as const),
    ];
    for (const [variant, version] of cases) {
      const config = variantConfig(variant, version);
      const whole = manifestObjects(render(config), 'manifests/200-cilium/').map(({ obj }) => obj);
      expect(hashes(ciliumStepObjects(config)), `${version} ${variant.name}`).toEqual(hashes(whole));
    }
  });
});

// One test per release, each variant a soft expectation: every difference of a release is reported at once.
for (const v of CILIUM_VERSIONS) {
  it(`Cilium ${v.version} equals the chart's render for every variant, each object valid against the Kubernetes schema`, async () => {
    for (const variant of VARIANTS) {
      const objects = ciliumStepObjects(variantConfig(variant, v.version));
      expect.soft(hashes(objects), variant.name).toEqual(variantHashes(fixtures, v.version, variant.name));
      if (variant === VARIANTS[0]) {
        for (const o of objects) {
          expect.soft(await objectProblems(o), objectKey(o)).toEqual([]);
        }
      }
    }
  });
}
