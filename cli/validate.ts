/** `validate`: checks the config and prints the resolved settings; writes nothing. */
import type { Command } from 'commander';
import { loadFor, type CliIo } from './io.ts';

export function validateCommand(cli: Command, io: CliIo): void {
  cli
    .command('validate')
    .description('validate the config and print the resolved settings, without writing anything')
    .option('-c, --config <file>', 'cluster config file')
    .action((opts: { config?: string }) => {
      const { config, source } = loadFor(io, opts.config);
      const c = config.cilium;
      const routing = (r: typeof c) =>
        `routing-mode ${r.routingMode}, kube-proxy-replacement ${r.kubeProxyReplacement}, ` +
        (r.migration
          ? `pods on ${r.migration.podCIDR}, VXLAN port ${r.migration.tunnelPort}`
          : `${r.routingMode === 'native' ? `native CIDR ${r.ipv4NativeRoutingCIDR}, ` : ''}MTU ${r.mtu ?? 'auto'}`);
      io.stdout(
        `${source}: valid. Cluster ${config.cluster.name}: ${config.cluster.nodes.length} node(s), Calico ${config.calico.version} → Cilium ${c.version.version}, ${routing(c)}`,
      );
      if (config.strategy === 'per-node' && config.phase !== 'steady') {
        io.stdout(
          `strategy per-node, phase ${config.phase}: nodes move in this order: ${config.migrationOrder.map((n) => n.name).join(', ')}; from phase switch on: ${routing(config.finalCilium)}`,
        );
      }
    });
}
