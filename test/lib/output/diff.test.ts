/**
 * `diff`: what a reviewer sees for the typical one-line changes, computed from two real renders.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runCli } from '../../../cli/index.ts';
import { parseCatFileBatch } from '../../../lib/output/git-tree.ts';
import { diffTrees, diffValues, formatDiff, type FileDiff } from '../../../lib/output/diff.ts';
import { writeOutput } from '../../../lib/output/writer.ts';
import { EXAMPLE_TEXT, renderExample } from '../../support/helpers.ts';

const base = renderExample().files;

/** `Kind ns/name path` for every changed field. */
const changedFields = (diffs: readonly FileDiff[]) => diffs.flatMap((d) => (d.fields ?? []).map((f) => `${d.object} ${f.path}`));

describe('diff of two renders', () => {
  it('reports nothing for an identical synth', () => {
    expect(diffTrees(base, renderExample().files)).toEqual([]);
    expect(formatDiff([])).toEqual(['no changes']);
  });

  it('a ConfigMap value: the key, and the checksum annotations that roll the pods', () => {
    const diffs = diffTrees(base, renderExample((d) => (d.cilium.bpf.masquerade = false)).files);
    expect(changedFields(diffs).sort()).toEqual(
      [
        'ConfigMap kube-system/cilium-config data.enable-bpf-masquerade',
        'DaemonSet kube-system/cilium spec.template.metadata.annotations["cilium-cutover.io/config-checksum"]',
        'Deployment kube-system/cilium-operator spec.template.metadata.annotations["cilium-cutover.io/config-checksum"]',
      ].sort(),
    );
    expect(formatDiff(diffs)).toContain('    data.enable-bpf-masquerade: "true" → "false"');
    expect(diffs.filter((d) => !d.fields).map((d) => d.path)).toEqual(['PLAN.md']);
  });

  it('the MTU: the key and its checksums, and the node preflight that checks each node carries it', () => {
    const diffs = diffTrees(base, renderExample((d) => (d.cilium.MTU = 1400)).files);
    const fields = changedFields(diffs);
    expect(fields).toContain('ConfigMap kube-system/cilium-config data.mtu');
    expect(
      fields
        .filter((f) => f.includes('node-preflight'))
        .map((f) => f.replace(/-[0-9a-f]{8} /, ' '))
        .sort(),
    ).toEqual([
      'ConfigMap cilium-cutover/node-preflight data["node-preflight.json"]',
      'ConfigMap cilium-cutover/node-preflight metadata.name',
      'Job cilium-cutover/node-preflight-k3s-server-1 metadata.name',
      'Job cilium-cutover/node-preflight-k3s-server-1 spec.template.spec.volumes[name=files].configMap.name',
      'Job cilium-cutover/node-preflight-k3s-server-2 metadata.name',
      'Job cilium-cutover/node-preflight-k3s-server-2 spec.template.spec.volumes[name=files].configMap.name',
      'Job cilium-cutover/node-preflight-k3s-server-3 metadata.name',
      'Job cilium-cutover/node-preflight-k3s-server-3 spec.template.spec.volumes[name=files].configMap.name',
    ]);
  });

  it('an image bump: only the image of that container', () => {
    const after = new Map(base);
    const path = 'manifests/200-cilium/daemonset-cilium.yaml';
    const ds = parse(after.get(path)!);
    const agent = ds.spec.template.spec.containers.find((c: { name: string }) => c.name === 'cilium-agent');
    const old = agent.image;
    agent.image = old.replace(/@sha256:[0-9a-f]+$/, `@sha256:${'0'.repeat(64)}`);
    after.set(path, stringify(ds));
    const diffs = diffTrees(base, after);
    expect(diffs).toEqual([
      {
        path,
        status: 'changed',
        object: 'DaemonSet kube-system/cilium',
        fields: [{ path: 'spec.template.spec.containers[name=cilium-agent].image', before: old, after: agent.image }],
      },
    ]);
  });

  it("an added node: that node's Jobs are added, nothing is removed", () => {
    const diffs = diffTrees(
      base,
      renderExample((d) => d.cluster.nodes.push({ name: 'k3s-server-4', role: 'server', internalIP: '10.0.0.5' })).files,
    );
    const added = diffs.filter((d) => d.status === 'added');
    expect(added.map((d) => d.object).sort()).toEqual([
      expect.stringMatching(/^Job cilium-cutover-verify\/verify-host-k3s-server-4-[0-9a-f]{8}$/),
      expect.stringMatching(/^Job cilium-cutover-verify\/verify-pods-k3s-server-4-[0-9a-f]{8}$/),
      expect.stringMatching(/^Job cilium-cutover\/cleanup-node-k3s-server-4-[0-9a-f]{8}$/),
      expect.stringMatching(/^Job cilium-cutover\/kube-proxy-cleanup-k3s-server-4-[0-9a-f]{8}$/),
      expect.stringMatching(/^Job cilium-cutover\/node-preflight-k3s-server-4-[0-9a-f]{8}$/),
    ]);
    expect(diffs.filter((d) => d.status === 'removed')).toEqual([]);
    // The preflight learns the new node, and each step lists the new file.
    const lines = formatDiff(diffs);
    expect(lines.some((l) => /^ {4}data\["preflight\.json"\]: text changed \(\+\d+ −0 lines\)$/.test(l))).toBe(true);
    expect(lines).toContain('    resources: + "job-cleanup-node-k3s-server-4.yaml"');
  });

  it('a removed node: its Jobs are removed', () => {
    const diffs = diffTrees(base, renderExample((d) => d.cluster.nodes.pop()).files);
    const removed = diffs.filter((d) => d.status === 'removed' && d.object);
    // Its preflight, cleanup, kube-proxy cleanup and two verification Jobs.
    expect(removed.length).toBe(5);
    expect(removed.every((d) => d.object!.includes('k3s-server-3'))).toBe(true);
    expect(formatDiff(diffs).at(-1)).toMatch(/^0 added, \d+ removed, \d+ changed$/);
  });

  it('a Cilium object a change drops stays in the cluster, and is listed with the command that deletes it', () => {
    // Cilium 1.19 added the operator's ztunnel Role (lib/versions/cilium-rbac.ts); going back to
    // 1.18 drops it from the output, but neither engine prunes a Cilium object.
    const diffs = diffTrees(base, renderExample((d) => (d.cilium.version = '1.18.12')).files);
    const stays = diffs.filter((d) => d.staysWith);
    expect(stays.map((d) => d.object).sort()).toEqual([
      'Role kube-system/cilium-operator-ztunnel',
      'RoleBinding kube-system/cilium-operator-ztunnel',
    ]);
    const lines = formatDiff(diffs);
    expect(lines).toContain(
      '- Role kube-system/cilium-operator-ztunnel (manifests/200-cilium/role-cilium-operator-ztunnel.yaml): stays in the cluster (protected from pruning); once nothing needs it: kubectl delete role cilium-operator-ztunnel -n kube-system',
    );
    expect(lines.at(-1)).toMatch(/^0 added, 2 removed \(2 of them stay in the cluster\), \d+ changed$/);
    // A removed migration object is pruned as usual: not listed as staying.
    const removedNode = diffTrees(base, renderExample((d) => d.cluster.nodes.pop()).files);
    expect(removedNode.filter((d) => d.staysWith)).toEqual([]);
  });

  it('lists of named things match by name, scalar lists are shown whole', () => {
    const before = {
      containers: [
        { name: 'a', image: 'x' },
        { name: 'b', image: 'y' },
      ],
      args: ['--one', '--two'],
    };
    const after = {
      containers: [
        { name: 'b', image: 'y' },
        { name: 'a', image: 'z' },
      ],
      args: ['--one'],
    };
    const changes = diffValues(before, after);
    expect(changes).toEqual([
      { path: 'args', before: ['--one', '--two'], after: ['--one'] },
      { path: 'containers[name=a].image', before: 'x', after: 'z' },
    ]);
    expect(formatDiff([{ path: 'x.yaml', status: 'changed', object: 'Pod p', fields: changes }])).toEqual([
      '~ Pod p (x.yaml)',
      '    args: − "--two"',
      '    containers[name=a].image: "x" → "z"',
      '0 added, 0 removed, 1 changed',
    ]);
  });
});

describe('cilium-cutover diff', () => {
  async function cli(args: string[], cwd: string) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runCli(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l), cwd });
    return { code, stdout, stderr };
  }
  const workdir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-diff-'));
    writeOutput(join(dir, 'dist'), base);
    return dir;
  };
  const writeConfig = (dir: string, text: string) => {
    const file = join(dir, 'cilium-cutover.yaml');
    writeFileSync(file, text);
  };

  it('--exit-code: 0 without changes, 1 with', async () => {
    const dir = workdir();
    writeConfig(dir, EXAMPLE_TEXT);
    expect(await cli(['diff', '--exit-code'], dir)).toEqual({ code: 0, stdout: ['no changes'], stderr: [] });
    writeConfig(dir, EXAMPLE_TEXT.replace('masquerade: true', 'masquerade: false'));
    const changed = await cli(['diff', '--exit-code'], dir);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('    data.enable-bpf-masquerade: "true" → "false"');
    // Without the flag a difference is not an error.
    expect((await cli(['diff'], dir)).code).toBe(0);
  });

  it("reads git cat-file's batch output by byte counts: multi-byte text, empty files, missing objects", () => {
    const text = 'Calico → Cilium\n';
    const output = Buffer.concat([
      Buffer.from(`aaaa blob ${Buffer.byteLength(text)}\n`),
      Buffer.from(text),
      Buffer.from('\nbbbb blob 0\n\n'),
    ]);
    expect(parseCatFileBatch(output)).toEqual([text, '']);
    expect(() => parseCatFileBatch(Buffer.from('HEAD:./dist/x missing\n'))).toThrow(/missing/);
  });

  it('compares with a git revision', async () => {
    const dir = workdir();
    writeConfig(dir, EXAMPLE_TEXT.replace('masquerade: true', 'masquerade: false'));
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
    git('init', '-q');
    git('add', 'dist');
    git('commit', '-qm', 'output');
    const result = await cli(['diff', '--against', 'HEAD', '--out', 'dist'], dir);
    expect(result.stdout).toContain('    data.enable-bpf-masquerade: "true" → "false"');
    expect(result.stdout.at(-1)).toBe('0 added, 0 removed, 4 changed');
    const bad = await cli(['diff', '--against', 'no-such-branch'], dir);
    expect(bad).toEqual({
      code: 2,
      stdout: [],
      stderr: [
        'error: --against: "no-such-branch" is neither a directory nor a git revision here; give a directory or a commit, branch or tag',
      ],
    });
  });
});
