/** `inventory`: lists the Calico inventories step 100 kept on a cluster; saves one to a file. */
import type { Command } from 'commander';
import { InputError } from '../lib/input-error.ts';
import type { CliIo } from './io.ts';

export function inventoryCommand(cli: Command, io: CliIo): void {
  cli
    .command('inventory')
    .description('list the Calico inventories step 100 kept on the cluster (read-only); with --out, save one to a file')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--id <id>', 'the inventory to save (default: the only one)')
    .option('--out <file>', 'write the inventory as YAML to this new file, to keep it off the cluster or restore it elsewhere')
    .action(async (opts: { kubeconfig?: string; context?: string; id?: string; out?: string }) => {
      if (opts.id !== undefined && opts.out === undefined) {
        throw new InputError('--id', 'names the inventory --out saves; add --out <file>, or leave both out to list the inventories');
      }
      const { kubeInventoryCluster, loadKubeConfig } = await import('../lib/apply/cluster.ts');
      const { chooseInventory, listInventories, saveInventory } = await import('../lib/apply/restore.ts');
      const cluster = kubeInventoryCluster(loadKubeConfig(opts.kubeconfig, opts.context));
      if (opts.out === undefined) {
        const lines = await listInventories(cluster);
        io.stdout(lines.length > 0 ? lines.join('\n') : 'no Calico inventory on this cluster');
        return;
      }
      const inventory = await chooseInventory(cluster, opts.id);
      const path = opts.out.startsWith('/') ? opts.out : `${io.cwd}/${opts.out}`;
      saveInventory(path, inventory);
      io.stdout(`saved Calico inventory ${inventory.id} (${inventory.objects.length} object(s)) to ${opts.out}`);
    });
}
