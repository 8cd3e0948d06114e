/**
 * `npm run bench`: synthesizes the built-in example, generated clusters of 100, 1000 and 5000 nodes
 * (profile generic) and a floor (bench/floor.ts), each as a whole process, RUNS times; prints and
 * writes bench/RESULTS.md with the median wall time, peak RSS, files written and the ratio to the
 * floor. Exits 1 when a target is missed.
 *
 * Targets: example ≤ 1.5× floor; 1000 nodes ≤ 3× floor and ≤ 250 MiB peak RSS;
 * 5000-node time / 1000-node time ≤ 5.5 (linear growth).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const ROOT = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const work = mkdtempSync(join(tmpdir(), 'cilium-cutover-bench-'));

/** The example, on profile generic, with `n` nodes (three servers, the rest agents). */
function clusterConfig(n: number): string {
  const data = parse(readFileSync(join(ROOT, 'examples', 'hetzner-3-servers.yaml'), 'utf8'));
  data.cluster.profile = 'generic';
  delete data.cluster.network;
  delete data.cilium.MTU;
  data.cluster.nodes = Array.from({ length: n }, (_, i) => ({
    name: `node-${String(i + 1).padStart(5, '0')}`,
    role: i < 3 ? 'server' : 'agent',
    internalIP: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  }));
  const file = join(work, `nodes-${n}.yaml`);
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

function measure(name: string, entry: string, args: (out: string) => string[]): Result {
  const times: number[] = [];
  let peak = 0;
  let files = 0;
  for (let run = 0; run < RUNS; run++) {
    const out = join(work, `${name}-${run}`);
    const rss = join(work, 'rss');
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, [join(ROOT, 'bench', 'measure.mjs'), entry, ...args(out)], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, BENCH_RSS_FILE: rss },
    });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0) {
      throw new Error(`${name} failed: ${result.stderr}`);
    }
    peak = Math.max(peak, Number(readFileSync(rss, 'utf8').split(' ')[1]) / 1024);
    files = countFiles(out);
    rmSync(out, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return { name, medianMs: times[Math.floor(times.length / 2)]!, peakMiB: peak, files };
}

const main = join(ROOT, 'main.ts');
const synth = (config?: string) => (out: string) => ['synth', ...(config ? ['--config', config] : []), '--out', out];
const results = [
  measure('floor', join(ROOT, 'bench', 'floor.ts'), (out) => [out]),
  measure('example', main, synth()),
  ...[100, 1000, 5000].map((n) => measure(`${n} nodes`, main, synth(clusterConfig(n)))),
];
rmSync(work, { recursive: true, force: true });

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
  `\`npm run bench\` on ${cpus().length} cores, Node ${process.version}, median of ${RUNS} runs, each a whole process.`,
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
];
writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), lines.join('\n'));
console.log(lines.join('\n'));
process.exitCode = targets.every((t) => t.ok) ? 0 : 1;
