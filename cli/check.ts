/** `check`: every object of an output directory against its schema, every kustomization built. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../lib/input-error.ts';
import { readTree } from '../lib/output/writer.ts';
import { AlreadyReported, type CliIo } from './io.ts';

export function checkCommand(cli: Command, io: CliIo): void {
  cli
    .command('check')
    .description('check a synthesized output directory: every object against its schema, every kustomization with kubectl kustomize')
    .option('-d, --dir <dir>', 'the output directory', 'dist')
    .option('--no-kustomize', 'skip the kubectl kustomize builds (for machines without kubectl)')
    .action(async (opts: { dir: string; kustomize: boolean }) => {
      const dir = opts.dir.startsWith('/') ? opts.dir : join(io.cwd, opts.dir);
      if (!existsSync(join(dir, 'manifests'))) {
        throw new InputError('--dir', `${opts.dir} has no manifests/ directory; run synth first or point --dir at its output`);
      }
      const { checkOutput } = await import('../lib/check/schema-check.ts');
      const files = readTree(dir);
      const { problems, checked } = await checkOutput(files, dir, opts.kustomize);
      problems.forEach((p) => io.stdout(`INVALID ${p.file}: ${p.message}`));
      io.stdout(problems.length === 0 ? `valid: ${checked} files in ${opts.dir}/` : `${problems.length} problem(s) in ${opts.dir}/`);
      if (problems.length > 0) {
        throw new AlreadyReported();
      }
    });
}
