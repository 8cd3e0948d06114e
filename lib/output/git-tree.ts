/**
 * Reads the output directory as committed at a git revision: one `git cat-file --batch` for every
 * file, since a large output has thousands.
 */
import { spawnSync } from 'node:child_process';
import { MARKER_FILE } from './writer.ts';

/** The contents `git cat-file --batch` printed: per object a `<id> <type> <size>` line, the bytes and a newline. */
export function parseCatFileBatch(output: Buffer): string[] {
  const contents: string[] = [];
  let at = 0;
  while (at < output.length) {
    const end = output.indexOf(10, at);
    const header = output.subarray(at, end).toString('utf8').split(' ');
    const size = Number(header[2]);
    if (header[1] === 'missing' || !Number.isInteger(size)) {
      throw new Error(`git cat-file: ${header.join(' ')}`);
    }
    contents.push(output.subarray(end + 1, end + 1 + size).toString('utf8'));
    at = end + 1 + size + 1;
  }
  return contents;
}

/**
 * The files under `out/` at revision `ref` of the repository at `cwd`, by path relative to `out`
 * (the writer's marker file left out); `undefined` when `ref` is not a commit there.
 */
export function readGitTree(cwd: string, ref: string, out: string): Map<string, string> | undefined {
  const git = (args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).status !== 0) {
    return undefined;
  }
  const listed = git(['ls-tree', '-r', '--name-only', ref, '--', `${out}/`]);
  const paths = listed.stdout.split('\n').filter((p) => p && !p.endsWith(`/${MARKER_FILE}`));
  const batch = spawnSync('git', ['cat-file', '--batch'], {
    cwd,
    input: paths.map((p) => `${ref}:./${p}\n`).join(''),
    maxBuffer: 1024 * 1024 * 1024,
  });
  const contents = parseCatFileBatch(batch.stdout);
  const files = new Map<string, string>();
  paths.forEach((path, i) => {
    files.set(path.slice(out.replace(/\/$/, '').length + 1), contents[i] ?? '');
  });
  return files;
}
