/**
 * `restore`: creates the custom resources of a Calico inventory again, once Calico's manifest has
 * put its CRDs back (the back-out of step 100); from the cluster's inventory or a saved file.
 */
import type { Command } from 'commander';
import { InputError } from '../lib/input-error.ts';
import { AlreadyReported, type CliIo } from './io.ts';

export function restoreCommand(cli: Command, io: CliIo): void {
  cli
    .command('restore')
    .description("create the custom resources of a Calico inventory again, after Calico's manifest is applied again")
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('--id <id>', "the cluster's inventory to restore (default: the only one)")
    .option('--file <file>', 'restore a file saved by `inventory --out` instead of an inventory on the cluster')
    .option('--dry-run', 'send every create and replace as a server-side dry run; change nothing')
    .action(async (opts: { kubeconfig?: string; context?: string; id?: string; file?: string; dryRun?: boolean }) => {
      if (opts.id !== undefined && opts.file !== undefined) {
        throw new InputError('--file', 'and --id both name what to restore; give one of them');
      }
      const { kubeInventoryCluster, loadKubeConfig } = await import('../lib/apply/cluster.ts');
      const { chooseInventory, readInventoryFile, restoreObjects } = await import('../lib/apply/restore.ts');
      const kc = loadKubeConfig(opts.kubeconfig, opts.context);
      const objects =
        opts.file !== undefined ? readInventoryFile(opts.file.startsWith('/') ? opts.file : `${io.cwd}/${opts.file}`) : undefined;
      const cluster = kubeInventoryCluster(kc);
      const inventory = objects === undefined ? await chooseInventory(cluster, opts.id) : undefined;
      if (inventory) {
        io.stdout(`restoring Calico inventory ${inventory.id}, taken ${inventory.takenAt} from Calico ${inventory.calicoVersion}`);
      }
      const failed = await restoreObjects(objects ?? inventory!.objects, cluster, { dryRun: opts.dryRun === true, line: io.stdout });
      if (failed > 0) {
        io.stderr(`error: ${failed} object(s) could not be restored (FAILED above)`);
        throw new AlreadyReported();
      }
    });
}
