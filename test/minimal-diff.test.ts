/**
 * A one-setting change must stay a small, readable diff in dist/, whatever the cluster size: the
 * changed lines are counted with `git diff --no-index --numstat` between two synthesized trees.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../charts/app.ts';
import { writeOutput } from '../lib/output/writer.ts';
import { exampleData, load } from './support/helpers.ts';
import { requireTool } from './support/tools.ts';

const HAVE_GIT = requireTool('git', 'minimal-diff', 'diff sizes were not measured');

interface Change {
  readonly file: string;
  readonly added: number;
  readonly removed: number;
}

/** Synthesizes both configs and lists each changed file with its added and removed lines. */
function diff(before: Record<string, any>, after: Record<string, any>): Change[] {
  const root = mkdtempSync(join(tmpdir(), 'cilium-cutover-diff-'));
  writeOutput(join(root, 'a'), render(load(before).config).files);
  writeOutput(join(root, 'b'), render(load(after).config).files);
  const result = spawnSync('git', ['diff', '--no-index', '--numstat', 'a', 'b'], { cwd: root, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(1);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [added, removed, file] = line.split('\t');
      // A renamed-or-new file shows as `{a => b}/path` or `a/… => b/…`; keep the path in the tree.
      return {
        file: file!.replace(/^.*?\/(?=manifests|flux|argocd|host|PLAN)/, '').replace(/[{}]/g, ''),
        added: Number(added),
        removed: Number(removed),
      };
    });
}

const total = (changes: readonly Change[]) => changes.reduce((n, c) => n + c.added + c.removed, 0);

/** The example on profile generic with `n` nodes (three servers, then agents). */
function cluster(n: number): Record<string, any> {
  const data = exampleData();
  data.cluster.profile = 'generic';
  delete data.cluster.network;
  data.cilium.autoDirectNodeRoutes = true;
  data.cluster.nodes = Array.from({ length: n }, (_, i) => ({
    name: `node-${String(i + 1).padStart(3, '0')}`,
    role: i < 3 ? 'server' : 'agent',
    internalIP: `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`,
  }));
  return data;
}

function withChange(data: Record<string, any>, edit: (d: Record<string, any>) => void): Record<string, any> {
  const copy = structuredClone(data);
  edit(copy);
  return copy;
}

describe.skipIf(!HAVE_GIT)('one setting changed, a small diff', () => {
  it('MTU: the ConfigMap key, the two checksum annotations that roll the pods, the node preflight that checks it, and PLAN.md (at most 36 lines)', () => {
    const before = exampleData();
    const changes = diff(
      before,
      withChange(before, (d) => (d.cilium.MTU = 1400)),
    );
    expect(changes.map((c) => c.file).sort()).toEqual([
      'PLAN.md',
      'manifests/000-preflight/configmap-node-preflight.yaml',
      'manifests/000-preflight/job-node-preflight-k3s-server-1.yaml',
      'manifests/000-preflight/job-node-preflight-k3s-server-2.yaml',
      'manifests/000-preflight/job-node-preflight-k3s-server-3.yaml',
      'manifests/200-cilium/configmap-cilium-config.yaml',
      'manifests/200-cilium/daemonset-cilium.yaml',
      'manifests/200-cilium/deployment-cilium-operator.yaml',
    ]);
    // Each Cilium manifest: one line out, one line in. The node preflight's spec names the MTU each
    // node's interface must carry (and its ConfigMap's name); each node's Job refers to that name
    // and gets one of its own. PLAN.md names the MTU in the settings table, the network section and
    // the risks, and lists the renamed ConfigMap and Jobs.
    for (const c of changes.filter((c) => c.file.startsWith('manifests/200-cilium/'))) {
      expect(c, c.file).toMatchObject({ added: 1, removed: 1 });
    }
    for (const c of changes.filter((c) => c.file.startsWith('manifests/000-preflight/'))) {
      expect(c, c.file).toMatchObject({ added: 2, removed: 2 });
    }
    expect(total(changes)).toBeLessThanOrEqual(36);
  });

  it('Cilium patch version: every pinned image reference, the Jobs that pre-pull them, PLAN.md (at most 40 + 6 per node)', () => {
    // Two patches whose charts differ only in the images (lib/versions/cilium-releases.json): the
    // keys and permissions stay, only the images change.
    const before = withChange(exampleData(), (d) => (d.cilium.version = '1.18.11'));
    const after = withChange(before, (d) => (d.cilium.version = '1.18.12'));
    const changes = diff(before, after);
    const files = changes.map((c) => c.file);
    // The agent's image in each of its containers, the operator's, and the per-node pre-pull Jobs.
    expect(files).toContain('manifests/200-cilium/daemonset-cilium.yaml');
    expect(files).toContain('manifests/200-cilium/deployment-cilium-operator.yaml');
    expect(files.filter((f) => f.startsWith('manifests/000-preflight/job-node-preflight-'))).toHaveLength(3);
    // Nothing else in the Cilium step: no ConfigMap key, no RBAC rule.
    expect(files.filter((f) => f.startsWith('manifests/200-cilium/'))).toHaveLength(2);
    for (const c of changes) {
      expect(c.added, c.file).toBe(c.removed);
    }
    // The agent image in its seven containers and the operator's (16 lines), the status ConfigMap
    // (2), PLAN.md (at most 14), the cluster preflight's spec, which names the release for the
    // ServiceLB check and the kernel minimum, and its Job's new name (10); per node, its pre-pull
    // Job's two images and its new name (6).
    expect(total(changes)).toBeLessThanOrEqual(42 + 6 * 3);
  });

  it('one node added: its own five Jobs, plus at most 130 lines elsewhere, the same for 3 nodes as for 60', () => {
    const elsewhere = [3, 60].map((n) => {
      const before = cluster(n);
      const after = withChange(before, (d) => d.cluster.nodes.push({ name: 'node-new', role: 'agent', internalIP: '10.0.9.9' }));
      const changes = diff(before, after);
      const own = changes.filter((c) => c.file.includes('node-new'));
      // The new node's preflight, cleanup, kube-proxy cleanup and two verification Jobs: new files, nothing removed.
      expect(own.map((c) => c.file.split('/')[1]).sort()).toEqual([
        '000-preflight',
        '110-node-cleanup',
        '210-kube-proxy-cleanup',
        '310-verify-checks',
        '310-verify-checks',
      ]);
      expect(own.every((c) => c.removed === 0)).toBe(true);
      // Elsewhere: the node lists (preflight, the node preflight's node-list, Calico deletion,
      // verification, the node check, RBAC names, host scripts, kustomizations, PLAN.md) and the
      // names of the Jobs that read those lists; no other
      // node's Job changes (the node preflight names its peer in its own environment).
      const rest = changes.filter((c) => !c.file.includes('node-new'));
      expect(
        rest.filter((c) => /job-(node-preflight|cleanup-node|kube-proxy-cleanup|verify-pods|verify-host)-node-0/.test(c.file)).length,
      ).toBeLessThanOrEqual(1);
      return total(rest);
    });
    expect(elsewhere[0]).toBeLessThanOrEqual(130);
    expect(elsewhere[1]).toBeLessThanOrEqual(130);
    expect(Math.abs(elsewhere[1]! - elsewhere[0]!)).toBeLessThanOrEqual(6);
  });
});
