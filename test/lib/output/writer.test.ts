import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/input-error.ts';
import { checkRelativePath, MARKER_FILE, readTree, writeOutput } from '../../../lib/output/writer.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'cilium-cutover-writer-'));

describe('writeOutput', () => {
  it('creates the directory with the files and the marker', () => {
    const out = join(tmp(), 'dist');
    expect(writeOutput(out, new Map([['a/b.yaml', 'x\n']]))).toBe(true);
    expect(Object.fromEntries(readTree(out))).toEqual({ [MARKER_FILE]: expect.any(String), 'a/b.yaml': 'x\n' });
  });

  it('removes files left from the previous run', () => {
    const out = join(tmp(), 'dist');
    writeOutput(
      out,
      new Map([
        ['old.yaml', '1'],
        ['keep.yaml', '2'],
      ]),
    );
    writeOutput(out, new Map([['keep.yaml', '2']]));
    expect([...readTree(out).keys()]).toEqual([MARKER_FILE, 'keep.yaml']);
  });

  it('writes nothing when the content is already there', () => {
    const out = join(tmp(), 'dist');
    writeOutput(out, new Map([['a.yaml', '1']]));
    expect(writeOutput(out, new Map([['a.yaml', '1']]))).toBe(false);
    expect(writeOutput(out, new Map([['a.yaml', '2']]))).toBe(true);
  });

  it('never replaces a directory it did not write', () => {
    const out = join(tmp(), 'mine');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'precious');
    expect(() => writeOutput(out, new Map([['a.yaml', '1']]))).toThrow(InputError);
    expect(() => writeOutput(out, new Map([['a.yaml', '1']]))).toThrow(
      `--out: ${out} is not empty and was not written by cilium-cutover; choose an empty or new directory`,
    );
    expect(Object.fromEntries(readTree(out))).toEqual({ 'notes.txt': 'precious' });
  });

  it('leaves the old output and no temporary directory behind when writing fails', () => {
    const parent = tmp();
    const out = join(parent, 'dist');
    writeOutput(out, new Map([['a.yaml', '1']]));
    const before = readTree(out);
    // A file and a directory with one path cannot both be written.
    expect(() =>
      writeOutput(
        out,
        new Map([
          ['x', 'file'],
          ['x/y.yaml', 'nested'],
        ]),
      ),
    ).toThrow();
    expect(readTree(out)).toEqual(before);
    expect(readdirSync(parent)).toEqual(['dist']);
  });

  it('refuses paths outside the output directory', () => {
    for (const bad of ['../x', '/etc/passwd', 'a//b', './a', '']) {
      expect(() => checkRelativePath(bad), bad).toThrow(`output path '${bad}' must be a plain relative path inside the output directory`);
    }
    const parent = tmp();
    expect(() => writeOutput(join(parent, 'dist'), new Map([['../escape.yaml', 'x']]))).toThrow();
    expect(existsSync(join(parent, 'escape.yaml'))).toBe(false);
    expect(existsSync(join(parent, 'dist'))).toBe(false);
  });
});
