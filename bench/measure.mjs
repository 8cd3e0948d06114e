// Runs a TypeScript entry point (through tsx, as the CLI runs) and reports its peak RSS: on exit it
// writes `maxRSS <KiB>` to the file named by BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const [entry, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], entry, ...args];
process.on('exit', () => {
  if (process.env.BENCH_RSS_FILE) {
    writeFileSync(process.env.BENCH_RSS_FILE, `maxRSS ${process.resourceUsage().maxRSS}\n`);
  }
});
await import(pathToFileURL(entry).href);
