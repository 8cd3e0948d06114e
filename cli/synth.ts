/** `synth`: renders the config and writes the output directory. */
import type { Command } from 'commander';
import { render } from '../charts/app.ts';
import { writeOutput } from '../lib/output/writer.ts';
import { DEFAULT_CONFIG_FILE, loadFor, originOf, type CliIo } from './io.ts';

export function synthCommand(cli: Command, io: CliIo): void {
  cli
    .command('synth')
    .description(
      `synthesize the migration into the output directory (config: --config, else ./${DEFAULT_CONFIG_FILE}, else the built-in example)`,
    )
    .option('-c, --config <file>', 'cluster config file')
    .option('-o, --out <dir>', 'output directory, replaced as a whole', 'dist')
    .action((opts: { config?: string; out: string }) => {
      const loaded = loadFor(io, opts.config);
      const rendered = render(loaded.config, loaded.warnings, originOf(loaded, opts.config, opts.out));
      const out = opts.out.startsWith('/') ? opts.out : `${io.cwd}/${opts.out}`;
      const changed = writeOutput(out, rendered.files, opts.out);
      io.stdout(`${changed ? 'wrote' : 'unchanged:'} ${rendered.files.size} files in ${opts.out}/ from ${loaded.source}`);
    });
}
