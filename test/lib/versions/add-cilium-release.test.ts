/**
 * The maintainer procedure (scripts/add-cilium-release.ts) end to end, with Helm from the npm
 * package: a copy of the release table and fixtures without 1.19.6, then 1.19.6 added back from its
 * official chart archive (test/fixtures/cilium/cilium-1.19.6.tgz, as published in the chart
 * repository): the files equal the committed ones.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { addReleases, FIXTURE_FILE, fixtureText, TABLE_FILE, type RenderHashes } from '../../../scripts/add-cilium-release.ts';
import { releasesOf, tableOf, tableText } from '../../../scripts/cilium-release/table.ts';
import type { ReleaseTable } from '../../../lib/versions/cilium-releases.ts';
import { loadError, exampleData } from '../../support/helpers.ts';

const ARCHIVE = new URL('../../fixtures/cilium/cilium-1.19.6.tgz', import.meta.url).pathname;

/** The Helm in the npm package is a Linux x86-64 binary. */
function helmRuns(): boolean {
  if (process.platform === 'linux' && process.arch === 'x64') {
    return true;
  }
  const line = `the maintainer procedure with Helm: the npm package's Helm runs on Linux x86-64 only, not ${process.platform}-${process.arch}; adding a release is not checked`;
  if (process.env.CILIUM_CUTOVER_REQUIRE_TOOLS === '1') {
    throw new Error(line);
  }
  console.log(`SKIP ${line}`);
  return false;
}
const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-add-release-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(helmRuns())('adding a release from its chart archive', () => {
  const committedTable = readFileSync(TABLE_FILE, 'utf8');
  const committedFixtures = readFileSync(FIXTURE_FILE, 'utf8');

  it('the committed table is what the writer writes for its own releases', () => {
    expect(tableText(tableOf(releasesOf(JSON.parse(committedTable) as ReleaseTable)))).toBe(committedTable);
  });

  it('puts 1.19.6 back exactly as the committed table and fixtures have it', { timeout: 120_000 }, () => {
    const table = JSON.parse(committedTable) as ReleaseTable;
    const fixtures = JSON.parse(committedFixtures) as RenderHashes;
    const tableFile = pathToFileURL(join(dir, 'cilium-releases.json'));
    const fixtureFile = pathToFileURL(join(dir, 'chart-renders.json'));
    const { ['1.19.6']: removed, ...rest } = fixtures;
    expect(removed).toBeDefined();
    writeFileSync(tableFile, tableText(tableOf(releasesOf(table).filter((r) => r.version !== '1.19.6'))));
    writeFileSync(fixtureFile, `${fixtureText(rest)}\n`);
    expect(readFileSync(tableFile, 'utf8')).not.toContain('"1.19.6"');

    expect(addReleases([ARCHIVE], tableFile, fixtureFile)).toEqual(['1.19.6']);
    expect(readFileSync(tableFile, 'utf8')).toBe(committedTable);
    expect(readFileSync(fixtureFile, 'utf8')).toBe(committedFixtures);
  });
});

describe('a release not in the table', () => {
  it('is refused, naming the procedure', () => {
    const data = exampleData();
    data.cilium.version = '1.19.8';
    const message = loadError(data)!;
    expect(message).toContain('cilium.version');
    expect(message).toContain('"1.19.8" is not in the release table');
    expect(message).toContain('newest of each line: 1.15.19, 1.16.19, 1.17.18, 1.18.12, 1.19.6, 1.20.0');
    expect(message).toContain('docs/cilium-versions.md "Adding a release"');
  });
});
