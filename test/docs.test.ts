/**
 * Every relative link and anchor in README.md, docs/ and the committed PLAN.md resolves, and every
 * `see <file> "<heading>"` pointer in the code, the docs and PLAN.md names a heading that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesUnder } from './support/import-graph.ts';
import { anchors, headings, pointers, relativeLinks } from './support/markdown.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const DOCS = ['README.md', 'dist/PLAN.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)];

/** The source files whose comments and strings may point at the docs. */
const SOURCES = filesUnder(ROOT, ['main.ts', 'cli', 'charts', 'lib', 'scripts', 'bench', 'bin', 'test'], /\.(ts|mts|mjs|sh)$/);

/** Headings of the documentation files, read once each. */
const headingCache = new Map<string, string[]>();
const headingsOf = (file: string): string[] => {
  let found = headingCache.get(file);
  if (found === undefined) {
    found = headings(read(file));
    headingCache.set(file, found);
  }
  return found;
};

/** What is wrong with one link from `from`, or undefined when it resolves. */
function brokenLink(from: string, target: string): string | undefined {
  const [path, anchor] = target.split('#') as [string, string | undefined];
  const file = path === '' ? from : relative(ROOT, join(ROOT, dirname(from), decodeURI(path)));
  if (!existsSync(join(ROOT, file))) {
    return `${from}: ${target}: no file ${file}`;
  }
  if (anchor !== undefined) {
    if (statSync(join(ROOT, file)).isDirectory() || !file.endsWith('.md')) {
      return `${from}: ${target}: an anchor into something that is not a Markdown file`;
    }
    if (!anchors(read(file)).has(anchor)) {
      return `${from}: ${target}: ${file} has no heading with the anchor #${anchor}`;
    }
  }
  return undefined;
}

/** What is wrong with a pointer, or undefined when its file has a heading that starts with the text. */
function brokenPointer(from: string, file: string, heading: string): string | undefined {
  if (!existsSync(join(ROOT, file))) {
    return `${from}: see ${file} "${heading}": no file ${file}`;
  }
  return headingsOf(file).some((h) => h.startsWith(heading)) ? undefined : `${from}: see ${file} "${heading}": no such heading`;
}

describe('documentation links', () => {
  for (const doc of DOCS) {
    it(`${doc}: every relative link and anchor resolves`, () => {
      const links = relativeLinks(read(doc));
      expect(links.map((l) => brokenLink(doc, l)).filter((b) => b !== undefined)).toEqual([]);
    });
  }

  it('the README is a front door: at most 200 lines, linking every page of docs/', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    const linked = new Set(relativeLinks(readme).map((l) => l.split('#')[0]));
    for (const page of readdirSync(join(ROOT, 'docs'))) {
      expect(linked, page).toContain(`docs/${page}`);
    }
  });

  it('every "see <file> <heading>" pointer in the code, the docs and PLAN.md names a heading that exists', () => {
    const found = [...SOURCES, ...DOCS].flatMap((from) => pointers(read(from)).map((p) => ({ from, ...p })));
    // Pointers are the contract between code and docs: there must be some to check.
    expect(found.length).toBeGreaterThan(10);
    expect(found.map((p) => brokenPointer(p.from, p.file, p.heading)).filter((b) => b !== undefined)).toEqual([]);
  });

  it('finds a broken link, a broken anchor and a broken pointer', () => {
    expect(brokenLink('README.md', 'docs/nothing.md')).toMatch(/no file/);
    expect(brokenLink('README.md', 'docs/steps.md#no-such-heading')).toMatch(/no heading/);
    expect(
      brokenLink('README.md', 'docs/steps.md#removing-calico-100-calico-delete-110-node-cleanup-210-kube-proxy-cleanup'),
    ).toBeUndefined();
    expect(brokenPointer('x.ts', 'docs/steps.md', 'What the Calico step deletes')).toMatch(/no such heading/);
    // Built from parts, so that the scan of this file does not find them.
    const see = 'see';
    expect(pointers(`${see} README "Cilium versions"`)).toEqual([{ file: 'README.md', heading: 'Cilium versions' }]);
    const readme = 'README';
    expect(pointers(`(${readme}, "Cilium versions")`)).toEqual([{ file: 'README.md', heading: 'Cilium versions' }]);
    expect(brokenPointer('x.ts', 'README.md', 'Cilium versions')).toMatch(/no such heading/);
    expect(pointers(`(see cilium-cutover's docs/k3s.md "k3s settings")`)).toEqual([{ file: 'docs/k3s.md', heading: 'k3s settings' }]);
  });
});

describe('the verification table', () => {
  it('docs/steps.md says per check what a PASS proves and what it does not, as PLAN.md does', async () => {
    const { verifyTable } = await import('../lib/output/verify-table.ts');
    const steps = read('docs/steps.md');
    for (const line of verifyTable()) {
      expect(steps).toContain(line);
    }
  });
});
