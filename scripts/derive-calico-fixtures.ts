/**
 * Derives the Calico object fixtures from the project's shared reference data: a folder of
 * `<tag>-<manifest>.tsv` files (`../shared/data/calico/objects`), one per projectcalico/calico
 * release tag v3.26.0–v3.32.1 and manifest, each listing every object (kind, namespace, name) that
 * `manifests/<manifest>.yaml` creates at that tag. The lists of the manifests below are copied
 * verbatim into test/fixtures/calico-objects/ (stale ones there are removed first). Run once per
 * new Calico release in the reference data:
 *
 *   npx tsx scripts/derive-calico-fixtures.ts ../shared/data/calico/objects
 *
 * Tests read only the fixtures, never the reference folder. test/lib/versions/calico-deletion-sets.test.ts
 * checks lib/versions/calico-deletion-sets.ts against the `calico` and `calico-typha` lists of every tag.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The manifests copied: `calico` and `calico-typha` (the deletion sets), `calico-etcd` (etcd
 * datastore), `apiserver` (the Calico API server add-on) and, from v3.32.0, `calico-v3-crds`.
 */
const MANIFESTS = ['calico', 'calico-typha', 'calico-etcd', 'apiserver', 'calico-v3-crds'] as const;

const HEADER = 'kind\tnamespace\tname';
const FILE = new RegExp(`^(v3\\.\\d+\\.\\d+)-(${MANIFESTS.join('|')})\\.tsv$`);

/** The text of one list, after checking it is one: the header, then kind, namespace and name per line. */
function checked(path: string): string {
  const text = readFileSync(path, 'utf8');
  const [header, ...rows] = text.replace(/\n$/, '').split('\n');
  if (header !== HEADER || rows.some((r) => !/^[A-Za-z]+\t[a-z0-9-]*\t[a-z0-9.-]+$/.test(r))) {
    throw new Error(`${path}: not a list of kind, namespace and name`);
  }
  return text;
}

const dir = process.argv[2];
if (!dir || !existsSync(dir)) {
  console.error('usage: tsx scripts/derive-calico-fixtures.ts <folder with <tag>-<manifest>.tsv>');
  process.exit(2);
}
const out = new URL('../test/fixtures/calico-objects/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
for (const stale of readdirSync(out).filter((f) => f.endsWith('.tsv'))) {
  rmSync(join(out, stale));
}
const files = readdirSync(dir)
  .filter((f) => FILE.test(f))
  .sort();
if (files.length === 0) {
  throw new Error(`${dir}: no <tag>-<manifest>.tsv files`);
}
for (const file of files) {
  writeFileSync(join(out, file), checked(join(dir, file)));
}
console.log(`wrote ${files.length} lists to test/fixtures/calico-objects/`);
