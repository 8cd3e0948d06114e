/**
 * Runs the simulated cluster of a config on a running test control plane until SIGTERM or SIGINT
 * (what up.sh starts in the background):
 *
 *   npx tsx scripts/sim-cluster/main.ts --kubeconfig FILE --config FILE
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../lib/config/load.ts';
import { startSimulation } from './simulation.ts';

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, config: { type: 'string' } } });
if (!values.kubeconfig || !values.config) {
  console.error('usage: main.ts --kubeconfig FILE --config FILE');
  process.exit(2);
}
const pki = join(dirname(values.kubeconfig), 'pki');
const sim = await startSimulation({
  kubeconfig: values.kubeconfig,
  config: loadConfigFile(values.config).config,
  tls: { key: readFileSync(join(pki, 'apiserver.key'), 'utf8'), cert: readFileSync(join(pki, 'apiserver.crt'), 'utf8') },
});
console.log(`simulated cluster running: nodes ${sim.nodes.map((n) => `${n.name} (netns ${n.netns})`).join(', ')}`);
const stop = () => {
  void sim.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
