/** `diff`: renders in memory and shows, object by object and field by field, what differs from an output. */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { render } from '../charts/app.ts';
import { InputError } from '../lib/input-error.ts';
import { diffTrees, formatDiff } from '../lib/output/diff.ts';
import { readGitTree } from '../lib/output/git-tree.ts';
import { MARKER_FILE, readTree } from '../lib/output/writer.ts';
import { AlreadyReported, loadFor, originOf, type CliIo } from './io.ts';

export function diffCommand(cli: Command, io: CliIo): void {
  cli
    .command('diff')
    .description('synthesize in memory and show, object by object and field by field, what differs from the committed output')
    .option('-c, --config <file>', 'cluster config file')
    .option('--against <dir|git-ref>', 'compare with this directory, or with the output directory at this git revision', 'dist')
    .option('-o, --out <dir>', 'where the output lives in the repository (for --against <git-ref>)', 'dist')
    .option('--exit-code', 'exit 1 when anything differs (for CI)')
    .action((opts: { config?: string; against: string; out: string; exitCode?: boolean }) => {
      const loaded = loadFor(io, opts.config);
      const dir = directoryAt(io.cwd, opts.against);
      const before = readAgainst(io.cwd, dir, opts.against, opts.out);
      // PLAN.md names the output directory: the one compared with, or where it lives at that revision.
      const out = dir === undefined ? opts.out : opts.against;
      const rendered = render(loaded.config, loaded.warnings, originOf(loaded, opts.config, out));
      const diffs = diffTrees(before, rendered.files);
      formatDiff(diffs).forEach((line) => io.stdout(line));
      if (opts.exitCode && diffs.length > 0) {
        throw new AlreadyReported();
      }
    });
}

/** The output to compare with: the directory `--against` names, else the output directory at that git revision. */
function readAgainst(cwd: string, dir: string | undefined, against: string, out: string): Map<string, string> {
  if (dir !== undefined) {
    const files = readTree(dir);
    files.delete(MARKER_FILE);
    return files;
  }
  const files = readGitTree(cwd, against, out);
  if (files === undefined) {
    throw new InputError(
      '--against',
      `"${against}" is neither a directory nor a git revision here; give a directory or a commit, branch or tag`,
    );
  }
  if (files.size === 0) {
    throw new InputError('--against', `${against} has no ${out}/ directory; pass --out with where the output lives in the repository`);
  }
  return files;
}

/** `path` as a directory seen from `cwd`, or undefined when it is none (a git revision, say). */
function directoryAt(cwd: string, path: string): string | undefined {
  const dir = path.startsWith('/') ? path : join(cwd, path);
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : undefined;
}
