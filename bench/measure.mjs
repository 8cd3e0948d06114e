// Runs one bench case in this process and reports its peak RSS: on exit it writes `maxRSS <KiB>`
// to the file named by BENCH_RSS_FILE. A TypeScript entry (the floor) runs through tsx, as a
// cdk8s TypeScript app runs; a JavaScript entry (bin/cilium-cutover.mjs, what `npm run synth`
// runs) runs as it is.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
process.argv = [process.argv[0], entry, ...args];
process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) {
    writeFileSync(process.env.BENCH_RSS_FILE, `maxRSS ${process.resourceUsage().maxRSS}\n`);
  }
});
await import(pathToFileURL(entry).href);
