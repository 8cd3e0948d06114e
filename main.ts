/**
 * Entry point of the CLI. bin/cilium-cutover.mjs (what `npm run synth` runs) loads it compiled, or
 * through tsx; `tsx main.ts <command>` runs it from source directly.
 *
 * During `apply` the first Ctrl-C asks it to stop at its next API call; a second one exits at once.
 */
import { runCli } from './cli/index.ts';

const args = process.argv.slice(2);
const interrupt = new AbortController();
if (args[0] === 'apply') {
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) {
      process.exit(130);
    }
    process.stderr.write('\nstopping after the current API call (Ctrl-C again to quit now)\n');
    interrupt.abort();
  });
}

process.exitCode = await runCli(args, { signal: interrupt.signal });
