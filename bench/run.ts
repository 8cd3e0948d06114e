/**
 * `npm run bench`: synthesizes the built-in example, generated clusters of 100, 1000 and 5000 nodes
 * (profile generic), 100 nodes with strategy per-node (its cap), and a floor (bench/floor.ts), each
 * as a whole process, RUNS times after one untimed run; prints and writes bench/RESULTS.md with the
 * median wall time, peak RSS, files written and the ratio to the floor. Exits 1 when a target is
 * missed.
 *
 * The synth cases run bin/cilium-cutover.mjs, as `npm run synth` does (the untimed run compiles
 * it). The floor is a minimal cdk8s TypeScript app, run through tsx as such an app runs; the same
 * floor compiled like the CLI is reported too, for reference.
 *
 * Targets: example ≤ 1.5× floor; 1000 nodes ≤ 3× floor and ≤ 250 MiB peak RSS;
 * 5000-node time / 1000-node time ≤ 5.5 (linear growth).
 */
import { spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { COMPILE_OPTIONS } from '../bin/compile-options.mjs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { measureNodeCleanup, nodeCleanupUnavailable } from './node-cleanup.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const work = mkdtempSync(join(tmpdir(), 'cilium-cutover-bench-'));
/**
 * Where the outputs go: a RAM-backed directory when the machine has one, so the numbers measure
 * synthesis and not the disk (creating thousands of small files costs what the file system says;
 * one case writes to disk for reference).
 */
const RAM_DIR = existsSync('/dev/shm') ? '/dev/shm' : undefined;
const outRoot = RAM_DIR ? mkdtempSync(join(RAM_DIR, 'cilium-cutover-bench-')) : work;

/** The example, on profile generic, with `n` nodes (three servers, the rest agents). */
function clusterConfig(n: number, perNode = false): string {
  const data = parse(readFileSync(join(ROOT, 'examples', 'hetzner-3-servers.yaml'), 'utf8'));
  if (perNode) {
    data.strategy = 'per-node';
    data.perNode = { acknowledgeCalicoBGP: true };
  }
  data.cluster.profile = 'generic';
  delete data.cluster.network;
  delete data.cilium.MTU;
  data.cilium.autoDirectNodeRoutes = true;
  data.cluster.nodes = Array.from({ length: n }, (_, i) => ({
    name: `node-${String(i + 1).padStart(5, '0')}`,
    role: i < 3 ? 'server' : 'agent',
    internalIP: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  }));
  const file = join(work, `nodes-${n}${perNode ? '-per-node' : ''}.yaml`);
  writeFileSync(file, stringify(data));
  return file;
}

function countFiles(dir: string): number {
  return readdirSync(dir).reduce((n, e) => n + (statSync(join(dir, e)).isDirectory() ? countFiles(join(dir, e)) : 1), 0);
}

interface Result {
  readonly name: string;
  readonly medianMs: number;
  readonly peakMiB: number;
  readonly files: number;
}

/** Flushes written files to disk (`sync`), where the command exists. */
function flush(): void {
  spawnSync('sync', { stdio: 'ignore' });
}

function measure(name: string, entry: string, args: (out: string) => string[], dir = outRoot): Result {
  const times: number[] = [];
  let peak = 0;
  let files = 0;
  const outputs: string[] = [];
  // Run -1 is untimed: it compiles the CLI (or fills tsx's cache) as a first run after a change would.
  for (let run = -1; run < RUNS; run++) {
    const out = join(dir, `${name.replace(/\W+/g, '-')}-${run + 1}`);
    outputs.push(out);
    const rss = join(work, 'rss');
    // Earlier runs' files are flushed first, so no run is throttled by the writeback of another.
    flush();
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [join(ROOT, 'bench', 'measure.mjs'), entry, ...args(out)], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, BENCH_RSS_FILE: rss },
    });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) {
      throw new Error(`${name} failed: ${result.stderr}`);
    }
    if (run < 0) {
      continue;
    }
    times.push(elapsed);
    peak = Math.max(peak, Number(readFileSync(rss, 'utf8').split(' ')[1]) / 1024);
    files = countFiles(out);
  }
  // Removed after the case, not between its runs, so no deletion competes with a timed run.
  for (const out of outputs) {
    rmSync(out, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return { name, medianMs: times[Math.floor(times.length / 2)]!, peakMiB: peak, files };
}

/** The floor compiled as the launcher compiles the CLI (one file, packages from node_modules). */
function compiledFloor(): string {
  const dir = join(ROOT, 'node_modules', '.cache', 'cilium-cutover-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'floor.mjs');
  buildSync({ ...COMPILE_OPTIONS, entryPoints: [join(ROOT, 'bench', 'floor.ts')], outfile: file });
  return file;
}

const cli = join(ROOT, 'bin', 'cilium-cutover.mjs');
const synth = (config?: string) => (out: string) => ['synth', ...(config ? ['--config', config] : []), '--out', out];
const results = [
  measure('floor', join(ROOT, 'bench', 'floor.ts'), (out) => [out]),
  measure('floor, compiled (reference)', compiledFloor(), (out) => [out]),
  measure('example', cli, synth()),
  ...[100, 1000, 5000].map((n) => measure(`${n} nodes`, cli, synth(clusterConfig(n)))),
  measure('100 nodes, per-node', cli, synth(clusterConfig(100, true))),
  ...(RAM_DIR ? [measure('1000 nodes, output on disk (reference)', cli, synth(clusterConfig(1000)), work)] : []),
];
rmSync(work, { recursive: true, force: true });
rmSync(outRoot, { recursive: true, force: true });
const cleanupUnavailable = nodeCleanupUnavailable();
const cleanupTimes = cleanupUnavailable === undefined ? measureNodeCleanup() : [];

const floor = results[0]!.medianMs;
const by = (name: string) => results.find((r) => r.name === name)!;
const targets = [
  { what: 'example ≤ 1.5× floor', ok: by('example').medianMs <= 1.5 * floor },
  { what: '1000 nodes ≤ 3× floor', ok: by('1000 nodes').medianMs <= 3 * floor },
  { what: '1000 nodes ≤ 250 MiB peak RSS', ok: by('1000 nodes').peakMiB <= 250 },
  { what: '5000-node time / 1000-node time ≤ 5.5', ok: by('5000 nodes').medianMs / by('1000 nodes').medianMs <= 5.5 },
];
const lines = [
  '# Benchmark results',
  '',
  `\`npm run bench\` on ${cpus().length} cores, Node ${process.version}, median of ${RUNS} runs after one untimed run, each a whole process.`,
  'The synth cases run `bin/cilium-cutover.mjs` as `npm run synth` does (compiled once per source version; the untimed run',
  'compiles it). The floor is a minimal cdk8s + cdk8s-plus-28 TypeScript app synthesizing one Deployment, run through tsx as',
  'such an app runs; the ratios are to it. The same floor compiled like the CLI is listed for reference.',
  RAM_DIR
    ? `Outputs are written to ${RAM_DIR} (RAM-backed), so the numbers measure synthesis rather than the disk; one case writes to disk for reference.`
    : 'Outputs are written to the temporary directory (no RAM-backed directory on this machine).',
  '',
  '| case | median wall time | peak RSS | files written | × floor |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.name} | ${(r.medianMs / 1000).toFixed(2)} s | ${r.peakMiB.toFixed(0)} MiB | ${r.files} | ${(r.medianMs / floor).toFixed(2)} |`,
  ),
  '',
  '| target | met |',
  '| --- | --- |',
  ...targets.map((t) => `| ${t.what} | ${t.ok ? 'yes' : 'NO'} |`),
  '',
  '## Node cleanup on a large ruleset',
  '',
  'The node scripts on real kernel state in a namespace of their own (bench/node-cleanup.ts): one run each, reported, no target.',
  '',
  ...(cleanupUnavailable === undefined
    ? ['| case | wall time |', '| --- | ---: |', ...cleanupTimes.map((t) => `| ${t.name} | ${t.seconds.toFixed(2)} s |`)]
    : [`Not measured here: ${cleanupUnavailable}.`]),
  '',
];
writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), lines.join('\n'));
console.log(lines.join('\n'));
process.exitCode = targets.every((t) => t.ok) ? 0 : 1;
