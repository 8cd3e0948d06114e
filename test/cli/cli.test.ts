import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../cli/index.ts';
import { readTree } from '../../lib/output/writer.ts';
import { EXAMPLE_TEXT } from '../support/helpers.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

async function cli(args: string[], cwd: string) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l), cwd });
  return { code, stdout, stderr };
}

function workdir(): string {
  return mkdtempSync(join(tmpdir(), 'cilium-cutover-cli-'));
}

/** Bad configs, each a change to the example text, with the one line it must produce. */
const badConfigs: { name: string; text: string; error: string }[] = [
  { name: 'wrong type', text: EXAMPLE_TEXT.replace('MTU: 1450', 'MTU: big'), error: 'cilium.MTU: expected an integer 576–9000, got "big"' },
  {
    name: 'unknown key',
    text: EXAMPLE_TEXT.replace('internalIP: 10.0.0.2', 'internalIp: 10.0.0.2'),
    error: 'cluster.nodes[0].internalIp: unknown key; did you mean "internalIP"?',
  },
  {
    name: 'key of the original plan',
    text: EXAMPLE_TEXT.replace('  routingMode: native', '  tunnel: disabled'),
    error:
      'cilium.tunnel: unknown key; removed in Cilium 1.15 (ignored silently, so the agent stays in tunnel mode); use routingMode: native',
  },
  {
    name: 'overlapping CIDRs',
    text: EXAMPLE_TEXT.replace('serviceCIDR: 10.43.0.0/16', 'serviceCIDR: 10.42.0.0/20'),
    error: "cluster.serviceCIDR: 10.42.0.0/20 overlaps cluster.podCIDR 10.42.0.0/16; use the cluster's running values, which never overlap",
  },
  {
    name: 'no servers',
    text: EXAMPLE_TEXT.replaceAll('role: server', 'role: agent'),
    error: 'cluster.nodes: no node has role server; a k3s cluster has at least one server, list it',
  },
  {
    name: 'missing section',
    text: EXAMPLE_TEXT.replace(/\ngitops:[\s\S]*?\n\n/, '\n'),
    error: 'gitops: expected a mapping (key: value lines), got nothing (the field is missing)',
  },
  {
    name: 'malformed YAML',
    text: 'cluster:\n  name: a\n   profile: generic\n',
    error: 'c.yaml:2:9: Nested mappings are not allowed in compact mappings; fix the YAML there',
  },
  { name: 'empty file', text: '', error: 'c.yaml: the file is empty; start from examples/hetzner-3-servers.yaml' },
  {
    name: 'duplicate keys',
    text: `${EXAMPLE_TEXT}\ncalico:\n  version: v3.28.0\n`,
    error: expect.stringMatching(/^c\.yaml:\d+:1: Map keys must be unique; fix the YAML there$/) as unknown as string,
  },
  {
    name: 'alias bomb',
    text: 'a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
    error: expect.stringMatching(
      /^c\.yaml: Excessive alias count.*; write the values out instead of using many aliases$/,
    ) as unknown as string,
  },
  {
    name: 'unsafe tag',
    text: 'cluster: !!js/function "function () {}"\n',
    error: 'c.yaml:1:10: Unresolved tag: tag:yaml.org,2002:js/function; fix the YAML there',
  },
];

describe('synth', () => {
  it('writes the example into dist/ of the working directory when no config exists', async () => {
    const cwd = workdir();
    const result = await cli(['synth'], cwd);
    expect(result).toMatchObject({ code: 0, stderr: [] });
    expect(result.stdout).toEqual([expect.stringMatching(/^wrote \d+ files in dist\/ from the built-in example/)]);
    expect(readTree(join(cwd, 'dist')).has('manifests/000-preflight/job-preflight.yaml')).toBe(true);
  });

  it('reads ./cilium-cutover.yaml, then --config, and writes to --out', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'cilium-cutover.yaml'), EXAMPLE_TEXT.replace('name: hetzner-demo', 'name: from-default-file'));
    writeFileSync(join(cwd, 'other.yaml'), EXAMPLE_TEXT.replace('name: hetzner-demo', 'name: from-option'));
    await cli(['synth'], cwd);
    expect(readTree(join(cwd, 'dist')).get('PLAN.md')).toContain('# Migration plan: from-default-file');
    await cli(['synth', '--config', 'other.yaml', '--out', 'elsewhere'], cwd);
    expect(readTree(join(cwd, 'elsewhere')).get('PLAN.md')).toContain('# Migration plan: from-option');
  });

  for (const bad of badConfigs) {
    it(`bad config (${bad.name}): exit 2, one line naming the field, output untouched`, async () => {
      const cwd = workdir();
      await cli(['synth'], cwd);
      const before = readTree(join(cwd, 'dist'));
      writeFileSync(join(cwd, 'c.yaml'), bad.text);
      const result = await cli(['synth', '--config', 'c.yaml'], cwd);
      expect(result.code).toBe(2);
      expect(result.stdout).toEqual([]);
      expect(result.stderr).toHaveLength(1);
      expect(result.stderr[0]!.replace(/^error: /, '').replace(`${cwd}/`, '')).toEqual(bad.error);
      expect(readTree(join(cwd, 'dist'))).toEqual(before);
    });
  }

  it('refuses to replace a directory it did not write, with exit 2', async () => {
    const cwd = workdir();
    cpSync(join(ROOT, 'lib'), join(cwd, 'src'), { recursive: true });
    const result = await cli(['synth', '--out', 'src'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toEqual([
      `error: --out: src is not empty and was not written by cilium-cutover; choose an empty or new directory`,
    ]);
  });
});

describe('validate', () => {
  it('prints the resolved settings and writes nothing', async () => {
    const cwd = workdir();
    const result = await cli(['validate'], cwd);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual([
      'the built-in example (examples/hetzner-3-servers.yaml): valid. Cluster hetzner-demo: 3 node(s), Calico v3.27.0 → Cilium 1.20.0, ' +
        'routing-mode native, kube-proxy-replacement true, native CIDR 10.42.0.0/16, MTU 1450',
    ]);
    expect(readTree(cwd).size).toBe(0);
  });

  it('says, for strategy per-node, where Cilium starts, the node order and where it ends', async () => {
    const result = await cli(['validate', '--config', join(ROOT, 'examples', 'hetzner-3-servers-per-node.yaml')], workdir());
    expect(result.code).toBe(0);
    expect(result.stdout[0]).toMatch(/routing-mode tunnel, kube-proxy-replacement false, pods on 10\.245\.0\.0\/16, VXLAN port 8473$/);
    expect(result.stdout[1]).toBe(
      'strategy per-node, phase migrate: nodes move in this order: k3s-server-1, k3s-server-2, k3s-server-3; ' +
        'from phase switch on: routing-mode native, kube-proxy-replacement true, native CIDR 10.42.0.0/16, MTU 1450',
    );
  });

  it('prints warnings on stderr', async () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'c.yaml'), EXAMPLE_TEXT.replace('version: 1.20.0', 'version: 1.15.2'));
    const result = await cli(['validate', '--config', 'c.yaml'], cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([
      'warning: cilium.version: 1.15.2 is end-of-life upstream (no security fixes); prefer a maintained version',
    ]);
  });
});

describe('the installed command', () => {
  const run = (args: string[], cwd: string) =>
    spawnSync(process.execPath, [join(ROOT, 'bin/cilium-cutover.mjs'), ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });

  it('prints its version and help', () => {
    const version = run(['--version'], workdir());
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = run(['--help'], workdir());
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('synth [options]');
    expect(help.stdout).toContain('validate [options]');
  });

  it('exits 2 with one line and no stack trace on a bad config', () => {
    const cwd = workdir();
    writeFileSync(join(cwd, 'c.yaml'), EXAMPLE_TEXT.replace('MTU: 1450', 'MTU: big'));
    const result = run(['synth', '--config', 'c.yaml'], cwd);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('error: cilium.MTU: expected an integer 576–9000, got "big"\n');
  });

  it('exits 2 on an unknown option or command', () => {
    expect(run(['synth', '--outdir', 'x'], workdir()).status).toBe(2);
    expect(run(['deploy'], workdir()).status).toBe(2);
  });

  it('compiles itself once per source version, and writes what it writes from source', () => {
    // Below node_modules, like the default: the compiled files load their packages from there.
    mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
    const cache = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'cilium-cutover-test-'));
    onTestFinished(() => rmSync(cache, { recursive: true, force: true }));
    const env = { ...process.env, NO_COLOR: '1', CILIUM_CUTOVER_CACHE_DIR: cache };
    // Each run as `npm run synth` makes dist/, in a directory of its own (PLAN.md names the output directory).
    const synth = (out: string, extra: Record<string, string> = {}) => {
      const cwd = join(out, '..');
      mkdirSync(cwd, { recursive: true });
      return spawnSync(process.execPath, [join(ROOT, 'bin/cilium-cutover.mjs'), 'synth'], {
        cwd,
        encoding: 'utf8',
        env: { ...env, ...extra },
      });
    };
    const compiled = join(workdir(), 'compiled', 'dist');
    expect(synth(compiled).status).toBe(0);
    const versions = readdirSync(cache).filter((e) => /^[0-9a-f]{16}$/.test(e));
    expect(versions).toHaveLength(1);
    expect(readdirSync(join(cache, versions[0]!))).toEqual(expect.arrayContaining(['cli.mjs', 'incluster.json']));
    // A second run loads the same compiled files.
    const stamp = statSync(join(cache, versions[0]!, 'cli.mjs')).mtimeMs;
    const again = join(workdir(), 'again', 'dist');
    expect(synth(again).status).toBe(0);
    expect(statSync(join(cache, versions[0]!, 'cli.mjs')).mtimeMs).toBe(stamp);
    const fromSource = join(workdir(), 'source', 'dist');
    expect(synth(fromSource, { CILIUM_CUTOVER_FROM_SOURCE: '1' }).status).toBe(0);
    // A cache it cannot write: it says why (when asked) and runs from source.
    const unwritable = join(workdir(), 'unwritable', 'dist');
    const notADirectory = join(workdir(), 'file');
    writeFileSync(notADirectory, '');
    const fallback = synth(unwritable, { CILIUM_CUTOVER_CACHE_DIR: join(notADirectory, 'cache'), CILIUM_CUTOVER_DEBUG: '1' });
    expect(fallback.status).toBe(0);
    expect(fallback.stderr).toMatch(/^cilium-cutover: running from source \(/);
    const expected = readTree(join(ROOT, 'dist'));
    expect(readTree(compiled)).toEqual(expected);
    expect(readTree(again)).toEqual(expected);
    expect(readTree(fromSource)).toEqual(expected);
    expect(readTree(unwritable)).toEqual(expected);
  });
});
