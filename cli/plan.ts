/** `plan`: prints PLAN.md's text for the config; writes nothing. */
import type { Command } from 'commander';
import { render } from '../charts/app.ts';
import { loadFor, originOf, type CliIo } from './io.ts';

export function planCommand(cli: Command, io: CliIo): void {
  cli
    .command('plan')
    .description('print the migration plan for review (the text of PLAN.md in the output), without writing anything')
    .option('-c, --config <file>', 'cluster config file')
    .option('-o, --out <dir>', "the output directory the plan's commands name (as synth's --out)", 'dist')
    .action((opts: { config?: string; out: string }) => {
      const loaded = loadFor(io, opts.config);
      io.stdout(
        render(loaded.config, loaded.warnings, originOf(loaded, opts.config, opts.out))
          .files.get('PLAN.md')!
          .trimEnd(),
      );
    });
}
