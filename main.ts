/**
 * Entry point: `tsx main.ts <command>` (what `npm run synth` and the `cilium-cutover` bin run).
 */
import { runCli } from './lib/cli.ts';

process.exitCode = await runCli(process.argv.slice(2));
