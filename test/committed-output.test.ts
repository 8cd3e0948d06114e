import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTree, MARKER_FILE, MARKER_TEXT } from '../lib/output/writer.ts';
import { configReference } from '../lib/config/json-schema.ts';
import { referenceText, schemaText } from '../scripts/generate-docs.ts';
import { runCli } from '../cli/index.ts';

const root = new URL('..', import.meta.url);

describe('committed files are current', () => {
  it('dist/ equals a fresh synth of the built-in example (run `npm run synth`)', async () => {
    // As `npm run synth` makes it: the CLI, in a directory without a cilium-cutover.yaml.
    const cwd = mkdtempSync(join(tmpdir(), 'cilium-cutover-committed-'));
    const out = join(cwd, 'dist');
    const code = await runCli(['synth'], { stdout: () => {}, stderr: () => {}, cwd });
    expect(code).toBe(0);
    const expected = readTree(out);
    expect(expected.get(MARKER_FILE)).toBe(MARKER_TEXT);
    expect(expected.get('manifests/kustomization.yaml')).toContain('cilium-cutover.io/built-in-example: "true"');
    const committed = readTree(new URL('dist', root).pathname);
    expect([...committed.keys()]).toEqual([...new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))).keys()]);
    for (const [path, content] of expected) {
      expect(committed.get(path), path).toBe(content);
    }
  });

  it('schema/cilium-cutover.schema.json is current (run `npm run docs`)', () => {
    expect(readFileSync(new URL('schema/cilium-cutover.schema.json', root), 'utf8')).toBe(schemaText());
  });

  it('docs/config-reference.md is current (run `npm run docs`)', () => {
    const reference = readFileSync(new URL('docs/config-reference.md', root), 'utf8');
    expect(reference).toBe(referenceText());
    expect(reference).toContain(configReference());
  });

  it('the example points editors at the schema', () => {
    const example = readFileSync(new URL('examples/hetzner-3-servers.yaml', root), 'utf8');
    expect(example.split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/cilium-cutover.schema.json');
  });
});
