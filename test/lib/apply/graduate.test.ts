/**
 * Graduation (`apply --graduate`) against the in-memory cluster: the kinds it looks for, what it
 * deletes and keeps after the migration's output was applied, and what it refuses. The same on the
 * simulated cluster, and the engines' prune beside it, is in test/integration/simulated-cluster.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { render } from '../../../charts/app.ts';
import { readDist, type DistStep, type ManifestObject } from '../../../lib/apply/dist.ts';
import { GRADUATION_KINDS } from '../../../lib/apply/graduate.ts';
import { runApply } from '../../../lib/apply/run.ts';
import { inventoryParts } from '../../../lib/incluster/calico-inventory.ts';
import { runCli } from '../../../cli/index.ts';
import { writeOutput } from '../../../lib/output/writer.ts';
import { CILIUM_VERSIONS } from '../../../lib/versions/cilium.ts';
import { FakeCluster } from '../../support/fake-cluster.ts';
import { exampleData, load, manifestObjects } from '../../support/helpers.ts';

/** The oldest and newest release of each line: the kinds an output uses change with the line, and within it only at a .0. */
const LINE_ENDS = [
  ...new Set(
    [...new Set(CILIUM_VERSIONS.map((v) => v.line))].flatMap((line) => {
      const of = CILIUM_VERSIONS.filter((v) => v.line === line);
      return [of[0]!.version, of.at(-1)!.version];
    }),
  ),
];

const config = (edit: (d: Record<string, any>) => void = () => {}) => {
  const data = exampleData();
  edit(data);
  return load(data).config;
};

const perNode = (phase: string, version?: string) => (d: Record<string, any>) => {
  d.strategy = 'per-node';
  d.perNode = { acknowledgeCalicoBGP: true, acknowledgeSwitchOutage: phase === 'switch' };
  d.phase = phase;
  if (version) {
    d.cilium.version = version;
  }
};

function written(edit: (d: Record<string, any>) => void): { dir: string; steps: DistStep[] } {
  const dir = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-graduate-')), 'dist');
  writeOutput(dir, render(config(edit)).files);
  return { dir, steps: readDist(dir) };
}

const keyOf = (o: ManifestObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const quiet = { line: () => {} };

describe('the kinds graduation looks for', () => {
  it('include every kind of every step, whatever the strategy, phase, Cilium release or optional step', () => {
    const variants: ((d: Record<string, any>) => void)[] = [
      () => {},
      (d) => (d.phase = 'steady'),
      (d) => {
        d.maintenance = {
          workloads: [{ kind: 'Deployment', namespace: 'shop', name: 'web' }],
          flux: [{ kind: 'Kustomization', name: 'apps' }],
        };
        d.verify = {
          ingress: { host: 'echo.example.com', controller: 'service', port: 80, service: { namespace: 'kube-system', name: 'traefik' } },
        };
      },
      ...['migrate', 'switch', 'steady'].flatMap((phase) => LINE_ENDS.map((v) => perNode(phase, v))),
      ...LINE_ENDS.map((v) => (d: Record<string, any>) => (d.cilium.version = v)),
      (d: Record<string, any>) => (d.cilium.envoy = 'daemonset'),
    ];
    const table = new Set(GRADUATION_KINDS.map((k) => `${k.apiVersion} ${k.kind}`));
    const used = new Set(
      variants.flatMap((edit) => manifestObjects(render(config(edit))).map(({ obj }) => `${obj.apiVersion} ${obj.kind}`)),
    );
    expect([...used].filter((k) => !table.has(k))).toEqual([]);
    // The per-node steps bring CiliumNodeConfig and the verification an Ingress: the variants reach them.
    expect(used).toContain('cilium.io/v2alpha1 CiliumNodeConfig');
    expect(used).toContain('networking.k8s.io/v1 Ingress');
  });

  it('deletes the namespaces last, after what runs in them and the rights it used', () => {
    expect(GRADUATION_KINDS.at(-1)!.kind).toBe('Namespace');
    const order = GRADUATION_KINDS.map((k) => k.kind);
    expect(order.indexOf('Job')).toBeLessThan(order.indexOf('ClusterRoleBinding'));
    expect(order.indexOf('ClusterRoleBinding')).toBeLessThan(order.indexOf('ServiceAccount'));
  });
});

describe('graduation from a workstation', () => {
  const migration = written(() => {});
  const steady = written((d) => (d.phase = 'steady'));

  const inventory = inventoryParts(
    [{ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPPool', metadata: { name: 'default-ipv4-ippool' }, spec: { cidr: '10.42.0.0/16' } }],
    'v3.27.0',
    '2026-12-07T10:00:00Z',
  ).parts[0]!;

  /** A cluster on which the migration's output was applied to the end, with an inventory part. */
  async function migrated(): Promise<FakeCluster> {
    const cluster = new FakeCluster();
    await runApply({ steps: migration.steps, cluster, output: quiet, pollMs: 1 });
    // What step 100's Job keeps there: not an object of the output.
    cluster.put(inventory as unknown as ManifestObject);
    return cluster;
  }

  async function graduate(cluster: FakeCluster, args: string[] = [], dir = steady.dir) {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runCli(['apply', '--dir', dir, '--graduate', ...args], {
      stdout: (l) => stdout.push(l),
      stderr: (l) => stderr.push(l),
      cwd: tmpdir(),
      cluster,
      pollMs: 1,
      status: undefined,
    });
    return { code, stdout, stderr };
  }

  // What stays, from the migration's own output: its Cilium step, the status record, the
  // inventory's namespace; and the inventory. The Role that let the Job write there goes.
  const expected = [
    ...migration.steps.find((s) => s.dir === '200-cilium')!.objects.map(keyOf),
    // 900-complete: the record, and the node check that stays with it.
    ...migration.steps.find((s) => s.dir === '900-complete')!.objects.map(keyOf),
    'Namespace//cilium-cutover-inventory',
    `ConfigMap/cilium-cutover-inventory/${inventory.metadata.name}`,
  ].sort();

  it('leaves exactly Cilium, the status record, the node check and the inventory', async () => {
    const cluster = await migrated();
    expect(cluster.live.size).toBe(migration.steps.reduce((n, s) => n + s.objects.length, 1));
    const result = await graduate(cluster);
    expect(result.stderr).toEqual([]);
    expect(result.code).toBe(0);
    expect([...cluster.live.values()].map((l) => keyOf(l.obj)).sort()).toEqual(expected);
    // Jobs first, namespaces last, each said.
    const deleted = result.stdout.filter((l) => l.startsWith('deleted '));
    expect(deleted[0]).toMatch(/^deleted job\/cilium-cutover\//);
    expect(deleted.at(-1)).toMatch(/^deleted namespace\//);
    expect(result.stdout.at(-1)).toBe(
      `graduated: deleted ${deleted.length} object(s) of the migration; kept: 200-cilium (${steady.steps[0]!.objects.length}), 900-complete (6)`,
    );
    // The steady output was applied before anything was deleted.
    const firstDelete = cluster.calls.findIndex((c) => c.startsWith('delete '));
    const steadyApplies = cluster.calls.slice(
      migration.steps.reduce((n, s) => n + s.objects.length, 0),
      firstDelete,
    );
    // Every object but the node check's Job, which completed in the migration under the same name.
    expect(steadyApplies.filter((c) => c.startsWith('apply '))).toHaveLength(steady.steps.reduce((n, s) => n + s.objects.length, 0) - 1);
    expect(result.stdout).toContainEqual(
      expect.stringMatching(/^\[900-complete\] job\/kube-system\/node-check-\w+ completed in an earlier run; not run again/),
    );
  });

  it('a dry-run deletes nothing and lists what it would delete', async () => {
    const cluster = await migrated();
    const before = cluster.live.size;
    const result = await graduate(cluster, ['--dry-run=server']);
    expect(result.code).toBe(0);
    expect(cluster.live.size).toBe(before);
    const would = result.stdout.filter((l) => l.startsWith('would delete (dry-run) '));
    expect(would.length).toBe(before - expected.length);
    expect(result.stdout.at(-1)).toMatch(/^graduation dry-run passed: would delete \d+ object\(s\)/);
  });

  it('keeps a Cilium object this output no longer has, and says so', async () => {
    const cluster = await migrated();
    const dropped: ManifestObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: 'cilium-dropped',
        labels: { 'app.kubernetes.io/managed-by': 'cilium-cutover', 'cilium-cutover.io/step': '200-cilium' },
      },
    };
    cluster.put(dropped);
    const result = await graduate(cluster);
    expect(result.code).toBe(0);
    expect(cluster.live.has(keyOf(dropped))).toBe(true);
    expect(result.stdout).toContain(
      'kept clusterrole/cilium-dropped: of step 200-cilium, which this output keeps, but not in it (a later config dropped it); delete it by hand if that is intended',
    );
  });

  it('refuses where the migration has not completed, or completed another one, and changes nothing', async () => {
    const partial = new FakeCluster();
    await runApply({ steps: migration.steps.slice(0, 3), cluster: partial, output: quiet, pollMs: 1 });
    const before = [...partial.live.keys()];
    const refused = await graduate(partial);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toEqual([
      "error: refused to graduate: configmap/kube-system/cilium-cutover-status is not on this cluster: the migration has not completed here; apply the migration's output to its last step first",
    ]);
    expect([...partial.live.keys()]).toEqual(before);
    expect(partial.calls.filter((c) => !c.startsWith('apply '))).toEqual([]);

    const other = await migrated();
    const record = [...other.live.values()].find((l) => l.obj.metadata.name === 'cilium-cutover-status')!;
    (record as { data?: unknown }).data = { ...(record.obj as { data?: object }).data, cluster: 'staging' };
    const wrong = await graduate(other);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr[0]).toMatch(/records another migration: cluster is "staging" on the cluster, "hetzner-demo" in this output$/);
  });

  it('stops with one line naming the request when the API refuses one, and deletes nothing', async () => {
    const cluster = await migrated();
    const before = cluster.live.size;
    cluster.list = async (_apiVersion, kind) => {
      throw new Error(`HTTP 403: ${kind.toLowerCase()}s is forbidden`);
    };
    const result = await graduate(cluster);
    expect(result.code).toBe(1);
    expect(result.stderr).toEqual(['error: step graduate failed: listing batch/v1 Job: HTTP 403: jobs is forbidden']);
    expect(cluster.live.size).toBe(before);
  });

  it('exits 2 for output of another phase and for options it does not take', async () => {
    const cluster = await migrated();
    const notSteady = await graduate(cluster, [], migration.dir);
    expect(notSteady.code).toBe(2);
    expect(notSteady.stderr).toEqual([
      `error: --graduate: ${migration.dir} is the output of phase migrate, not steady; set phase: steady in the config, synth, review the diff, and run --graduate on that output`,
    ]);
    const ranged = await graduate(cluster, ['--from', '200']);
    expect(ranged.stderr).toEqual([
      'error: --graduate: cannot be combined with --from; graduation applies the whole steady output, then deletes the rest',
    ]);
  });
});
