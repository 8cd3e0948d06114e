import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/index.ts';
import {
  chooseInventory,
  inventoryFile,
  readInventoryFile,
  restoreObjects,
  RestoreRefused,
  saveInventory,
  type InventoryCluster,
} from '../../../lib/apply/restore.ts';
import { inventoryParts, keptObject, type KeptObject } from '../../../lib/incluster/calico-inventory.ts';
import { readInventory, type ReadPart } from '../../../lib/incluster/calico-inventory-read.ts';
import { everyKind, manyPolicies } from '../../support/calico-resources.ts';

const key = (o: { kind: string; metadata: { namespace?: string; name: string } }) =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** A cluster that serves `served` kinds and holds `live` objects; records every write in order. */
function fakeCluster(served: readonly string[], live: KeptObject[] = [], parts: ReadPart[] = [], namespaces = ['shop']) {
  const objects = new Map(live.map((o) => [key(o), { ...o, metadata: { ...o.metadata, resourceVersion: '7' } }]));
  const writes: string[] = [];
  const cluster: InventoryCluster = {
    parts: async () => parts,
    serves: async (_v, kind) => served.includes(kind),
    hasNamespace: async (name) => namespaces.includes(name),
    read: async (o) => objects.get(key(o)) as never,
    create: async (o, dryRun) => {
      if (o.metadata.name === 'refused') {
        throw new Error('HTTP 422: spec.cidr: Invalid value');
      }
      writes.push(`create ${key(o)}`);
      if (!dryRun) {
        objects.set(key(o), o as never);
      }
    },
    replace: async (o, dryRun) => {
      writes.push(`replace ${key(o)} at ${(o.metadata as { resourceVersion?: string }).resourceVersion}`);
      if (!dryRun) {
        objects.set(key(o), o as never);
      }
    },
  };
  return { cluster, objects, writes };
}

const kept = everyKind().map((o) => keptObject(o, o.apiVersion, o.kind));
const allKinds = [...new Set(kept.map((o) => o.kind))];

describe('restoreObjects', () => {
  it('creates what is absent and replaces what differs, tiers before policies, and reports each kind', async () => {
    const pool = kept.find((o) => o.kind === 'IPPool')!;
    const felix = kept.find((o) => o.kind === 'FelixConfiguration')!;
    // calico-node made the pool on start with its own spec; the FelixConfiguration is as kept.
    const { cluster, objects, writes } = fakeCluster(allKinds, [{ ...pool, spec: { cidr: '192.168.0.0/16' } }, felix]);
    const lines: string[] = [];
    const failed = await restoreObjects([...kept].reverse(), cluster, { dryRun: false, line: (l) => lines.push(l), concurrency: 1 });
    expect(failed).toBe(0);
    expect(writes[0]).toBe('create Tier//security');
    expect(writes).toContain('replace IPPool//extra-pool at 7');
    expect(writes).not.toContain(`create ${key(felix)}`);
    expect(writes.findIndex((w) => w.includes('StagedGlobalNetworkPolicy'))).toBeGreaterThan(writes.findIndex((w) => w.includes('IPPool')));
    expect(lines).toContain('RESTORED IPPool: 1 of 1 (0 created, 1 replaced, 0 already as kept)');
    expect(lines).toContain('RESTORED FelixConfiguration: 2 of 2 (1 created, 0 replaced, 1 already as kept)');
    expect(lines).toHaveLength(allKinds.length);
    for (const o of kept) {
      expect(JSON.stringify((objects.get(key(o)) as KeptObject).spec)).toBe(JSON.stringify(o.spec));
    }
  });

  it('writes nothing for real in a dry run, and names each object it could not write', async () => {
    const { cluster, objects } = fakeCluster(allKinds);
    const lines: string[] = [];
    const refused = { ...kept[0]!, kind: 'IPPool', metadata: { name: 'refused' } } as KeptObject;
    const failed = await restoreObjects([...kept, refused], cluster, { dryRun: true, line: (l) => lines.push(l) });
    expect(failed).toBe(1);
    expect(objects.size).toBe(0);
    expect(lines).toContain('FAILED IPPool refused: HTTP 422: spec.cidr: Invalid value');
    expect(lines).toContain('WOULD RESTORE IPPool: 1 of 2 (1 created, 0 replaced, 0 already as kept)');
  });

  it("refuses before writing anything while the cluster does not serve a kind (Calico's CRDs not applied again)", async () => {
    const { cluster, writes } = fakeCluster(allKinds.filter((k) => k !== 'BGPPeer' && k !== 'Tier'));
    await expect(restoreObjects(kept, cluster, { dryRun: false, line: () => {} })).rejects.toThrow(
      new RestoreRefused(
        "the cluster does not serve crd.projectcalico.org/v1 Tier, crd.projectcalico.org/v1 BGPPeer: apply Calico's manifest (its CRDs) first, then restore",
      ),
    );
    expect(writes).toEqual([]);
  });

  it('refuses before writing anything while a namespace of the inventory does not exist, naming it', async () => {
    const { cluster, writes } = fakeCluster(allKinds, [], [], []);
    await expect(restoreObjects(kept, cluster, { dryRun: true, line: () => {} })).rejects.toThrow(
      'refused to restore: namespace(s) shop do not exist here and hold objects of the inventory: create them first (kubectl create namespace shop), then restore',
    );
    expect(writes).toEqual([]);
  });
});

describe('choosing and saving an inventory', () => {
  const first = inventoryParts(kept, 'v3.27.0', '2026-12-07T10:00:00Z');
  const second = inventoryParts(kept.slice(1), 'v3.27.0', '2026-12-07T11:00:00Z');

  it('takes the only inventory, asks for --id among several, and refuses a cluster with none', async () => {
    expect((await chooseInventory(fakeCluster([], [], first.parts).cluster, undefined)).id).toBe(first.id);
    const both = fakeCluster([], [], [...first.parts, ...second.parts]).cluster;
    await expect(chooseInventory(both, undefined)).rejects.toThrow(
      `--id: this cluster has 2 Calico inventories (${second.id} taken 2026-12-07T11:00:00Z, ${first.id} taken 2026-12-07T10:00:00Z); name one with --id`,
    );
    expect((await chooseInventory(both, first.id)).objects).toHaveLength(kept.length);
    await expect(chooseInventory(fakeCluster([]).cluster, undefined)).rejects.toThrow(
      'refused to restore: no Calico inventory on this cluster (namespace cilium-cutover-inventory holds none); give a saved one with --file',
    );
  });

  it('saves an inventory as YAML that reads back to the same objects, and never over an existing file', () => {
    const big = [...kept, ...manyPolicies(50).map((o) => keptObject(o, o.apiVersion, o.kind))];
    const parts = inventoryParts(big, 'v3.27.0', '2026-12-07T10:00:00Z');
    const inventory = readInventory(parts.id, parts.parts);
    const path = join(mkdtempSync(join(tmpdir(), 'cilium-cutover-inventory-')), 'calico-inventory.yaml');
    saveInventory(path, inventory);
    expect(readFileSync(path, 'utf8')).toBe(inventoryFile(inventory));
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe(
      `# Calico inventory ${parts.id}, taken 2026-12-07T10:00:00Z from Calico v3.27.0: ${big.length} object(s).`,
    );
    const back = readInventoryFile(path);
    expect(back.map((o) => JSON.stringify(o))).toEqual(inventory.objects.map((o) => JSON.stringify(o)));
    expect(() => saveInventory(path, inventory)).toThrow(`--out: ${path} cannot be written (EEXIST); give a new file`);
  });
});

describe('inventory and restore on the command line', () => {
  const cli = async (args: string[]) => {
    const err: string[] = [];
    const code = await runCli(args, { stdout: () => {}, stderr: (l) => err.push(l), cwd: tmpdir() });
    return { code, err };
  };
  const dir = mkdtempSync(join(tmpdir(), 'cilium-cutover-restore-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
  );

  it('refuses options that contradict each other, and a file that is not an inventory, with exit code 2', async () => {
    expect(await cli(['restore', '--kubeconfig', kubeconfig, '--id', 'abc', '--file', 'x.yaml'])).toEqual({
      code: 2,
      err: ['error: --file: and --id both name what to restore; give one of them'],
    });
    expect(await cli(['inventory', '--kubeconfig', kubeconfig, '--id', 'abc'])).toEqual({
      code: 2,
      err: ['error: --id: names the inventory --out saves; add --out <file>, or leave both out to list the inventories'],
    });
    const notInventory = join(dir, 'values.yaml');
    writeFileSync(notInventory, 'replicas: 3\n');
    expect(await cli(['restore', '--kubeconfig', kubeconfig, '--file', notInventory])).toEqual({
      code: 2,
      err: [
        `error: --file: ${notInventory} holds a document without apiVersion, kind and metadata.name; give a file written by \`cilium-cutover inventory --out\``,
      ],
    });
  });
});
