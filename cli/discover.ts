/** `discover`: reads a live k3s + Calico cluster (read-only) and prints a config for it. */
import type { Command } from 'commander';
import type { CliIo } from './io.ts';

export function discoverCommand(cli: Command, io: CliIo): void {
  cli
    .command('discover')
    .description('read a live k3s + Calico cluster (read-only) and print a config for it; review its CHECK comments')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .action(async (opts: { kubeconfig?: string; context?: string }) => {
      const { loadKubeConfig } = await import('../lib/apply/cluster.ts');
      const { readSnapshot } = await import('../lib/discover/read.ts');
      const { discoverConfig } = await import('../lib/discover/discover.ts');
      const discovered = discoverConfig(await readSnapshot(loadKubeConfig(opts.kubeconfig, opts.context)));
      io.stdout(discovered.text.trimEnd());
      discovered.notes.forEach((n) => io.stderr(`note: ${n}`));
    });
}
