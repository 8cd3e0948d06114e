#!/usr/bin/env node
// Runs the CLI. The TypeScript sources are compiled with esbuild into one JavaScript file (and the
// in-cluster scripts bundled alongside) the first time a given version of the sources runs, kept
// in node_modules/.cache/cilium-cutover/ under a hash of the sources; later runs load that file
// directly. Where the cache cannot be written, or with CILIUM_CUTOVER_FROM_SOURCE=1, the sources
// run through tsx's loader instead. CILIUM_CUTOVER_CACHE_DIR moves the cache; it must stay below
// the project's node_modules, where the compiled files find their packages.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COMPILE_OPTIONS } from './compile-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The sources the compiled CLI is made of; any change to them means a new compile. */
const SOURCE_DIRS = ['cli', 'charts', 'lib'];
const SOURCE_FILES = ['main.ts', 'package.json', 'package-lock.json', 'bin/compile-options.mjs'];

function sourceFiles() {
  const files = [...SOURCE_FILES];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        walk(path);
      } else if (path.endsWith('.ts') || path.endsWith('.json')) {
        files.push(path);
      }
    }
  };
  SOURCE_DIRS.forEach(walk);
  return files.sort();
}

function sourceHash() {
  const hash = createHash('sha256').update(process.version.split('.')[0]);
  for (const file of sourceFiles()) {
    hash.update(`\0${file}\0`).update(readFileSync(join(root, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Compiles the CLI (code-split, so what only `apply` or `discover` loads stays out of other
 * commands) and the in-cluster scripts into `<dir>/<id>/`.
 */
async function compile(dir, id) {
  const { build } = await import('esbuild');
  const tmp = join(dir, `.build-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      ...COMPILE_OPTIONS,
      entryPoints: { cli: join(root, 'main.ts'), bundler: join(root, 'lib', 'constructs', 'bundle.ts') },
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      splitting: true,
    });
    globalThis.__CILIUM_CUTOVER_ROOT__ = root;
    const { buildInCluster, INCLUSTER_ENTRIES } = await import(pathToFileURL(join(tmp, 'bundler.mjs')).href);
    const scripts = Object.fromEntries(INCLUSTER_ENTRIES.map((entry) => [entry, buildInCluster(entry)]));
    writeFileSync(join(tmp, 'incluster.json'), JSON.stringify(scripts));
    // A directory rename is atomic: a concurrent run sees no compiled CLI or a complete one.
    try {
      renameSync(tmp, join(dir, id));
    } catch (err) {
      if (!existsSync(join(dir, id, 'incluster.json'))) {
        throw err;
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Removes the compiled CLIs of other source versions. */
function prune(dir, id) {
  for (const entry of readdirSync(dir)) {
    if (/^[0-9a-f]{16}$/.test(entry) && entry !== id) {
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
}

async function compiled() {
  if (process.env.CILIUM_CUTOVER_FROM_SOURCE === '1') {
    return undefined;
  }
  const dir = process.env.CILIUM_CUTOVER_CACHE_DIR ?? join(root, 'node_modules', '.cache', 'cilium-cutover');
  const id = sourceHash();
  const cli = join(dir, id, 'cli.mjs');
  const scripts = join(dir, id, 'incluster.json');
  try {
    if (!existsSync(scripts)) {
      mkdirSync(dir, { recursive: true });
      await compile(dir, id);
      prune(dir, id);
    }
    return { cli, scripts: JSON.parse(readFileSync(scripts, 'utf8')) };
  } catch (err) {
    if (process.env.CILIUM_CUTOVER_DEBUG === '1') {
      console.error(`cilium-cutover: running from source (${err.message})`);
    }
    return undefined;
  }
}

const found = await compiled();
if (found) {
  globalThis.__CILIUM_CUTOVER_ROOT__ = root;
  globalThis.__CILIUM_CUTOVER_INCLUSTER__ = found.scripts;
  await import(pathToFileURL(found.cli).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'main.ts')).href);
}
