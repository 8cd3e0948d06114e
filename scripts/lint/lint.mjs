#!/usr/bin/env node
// Lints the repository with scripts/lint/eslint.config.mjs and exits 1 on a problem (`npm run lint`);
// the tests use lintText to show that each rule fires.
import { ESLint } from 'eslint';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
/** What `npm run lint` checks. */
const PLACES = ['main.ts', 'vitest.config.ts', 'cli', 'charts', 'lib', 'test', 'scripts', 'bench', 'bin'];

function linter() {
  return new ESLint({ cwd: root, overrideConfigFile: join(here, 'eslint.config.mjs') });
}

/** The rule ids a text breaks, as if it were the file at `path` (relative to the repository root). */
export async function lintText(text, path) {
  const [result] = await linter().lintText(text, { filePath: join(root, path) });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const eslint = linter();
  const results = await eslint.lintFiles(PLACES);
  const text = await (await eslint.loadFormatter('stylish')).format(results);
  if (text) {
    process.stdout.write(text);
  }
  const problems = results.reduce((n, r) => n + r.errorCount + r.warningCount, 0);
  console.log(problems === 0 ? `lint: ${results.length} files, no problems` : `lint: ${problems} problem(s)`);
  process.exitCode = problems === 0 ? 0 : 1;
}
