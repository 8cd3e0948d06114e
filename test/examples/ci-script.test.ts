/**
 * examples/ci/cilium-cutover-check.sh, run as a user's CI runs it, in a temporary GitOps
 * repository with a main branch and a pull-request branch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_TEXT } from '../support/helpers.ts';
import { requireTool } from '../support/tools.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'examples', 'ci', 'cilium-cutover-check.sh');
const CLI = `node ${join(ROOT, 'bin', 'cilium-cutover.mjs')}`;
const HAVE_KUBECTL = requireTool('kubectl', 'ci-script schema check', 'the check script ran without its kustomize builds');

function repo() {
  const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-gitops-'));
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, CILIUM_CUTOVER: CLI } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  return { dir, run, git, check: () => run('bash', [SCRIPT, 'main']) };
}

describe('the CI check script for a GitOps repository', () => {
  it('fails on a stale dist/, passes once it is synthesized, and writes the diff and plan as the comment', () => {
    const r = repo();
    writeFileSync(join(r.dir, 'cilium-cutover.yaml'), EXAMPLE_TEXT);
    r.git('init', '-q', '-b', 'main');
    expect(r.run('bash', ['-c', `${CLI} synth`]).code).toBe(0);
    r.git('add', '.');
    r.git('commit', '-qm', 'migration output');
    r.git('checkout', '-q', '-b', 'change-mtu');

    // The config changes, the output is not regenerated: the check fails and says so.
    writeFileSync(join(r.dir, 'cilium-cutover.yaml'), EXAMPLE_TEXT.replace('MTU: 1450', 'MTU: 1400'));
    r.git('commit', '-qam', 'MTU 1400');
    const stale = r.check();
    expect(stale.code).toBe(1);
    expect(stale.err).toContain('dist/ is stale: run synth and commit the result');

    // Synthesized and committed: the check passes and the comment shows the change.
    r.git('add', 'dist');
    r.git('commit', '-qm', 'synth');
    const fresh = r.check();
    expect(fresh.err).not.toContain('stale');
    expect(fresh.code).toBe(0);
    const comment = readFileSync(join(r.dir, 'cilium-cutover-comment.md'), 'utf8');
    expect(comment).toContain('What this pull request changes in `dist/`, object by object, against `main`:');
    expect(comment).toContain('    data.mtu: "1450" → "1400"');
    expect(comment).toContain('# Migration plan: hetzner-demo');
  }, 120_000);

  it.skipIf(!HAVE_KUBECTL)(
    'fails on an object that does not match its schema',
    () => {
      const r = repo();
      writeFileSync(join(r.dir, 'cilium-cutover.yaml'), EXAMPLE_TEXT);
      r.git('init', '-q', '-b', 'main');
      expect(r.run('bash', ['-c', `${CLI} synth`]).code).toBe(0);
      const check = r.run('bash', ['-c', `${CLI} check`]);
      expect(check.code).toBe(0);
      const file = join(r.dir, 'dist', 'manifests', '100-calico-delete', 'job-calico-delete.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('backoffLimit: 1', 'backoffLimit: one'));
      const broken = r.run('bash', ['-c', `${CLI} check`]);
      expect(broken.code).toBe(1);
      expect(broken.out).toMatch(/^INVALID manifests\/100-calico-delete\/job-calico-delete\.yaml: .*backoffLimit/m);
    },
    60_000,
  );
});
