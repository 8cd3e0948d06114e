/**
 * The node cleanup scripts on a large ruleset: a node host (test/support/node-host.ts) loaded with
 * 5,000 Services of kube-proxy's iptables mode beside Calico's and everyone else's rules, once per
 * iptables backend; the wall time of calico-cleanup.sh and then kube-proxy-cleanup.sh, each run on
 * the host with bash. Reported, not a target. Needs root and the real tools; otherwise says why not.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeScript, type NodeScript } from '../lib/shell/scripts.ts';
import { startNodeHost } from '../test/support/node-host.ts';
import { buildNodeState, loadNodeState, type Backend } from '../test/support/node-state.ts';

const SERVICES = 5000;

export interface CleanupTime {
  readonly name: string;
  readonly seconds: number;
}

/** Why the cases cannot run here, or undefined. */
export function nodeCleanupUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'not root';
  }
  const absent = ['ip', 'iptables-legacy-restore', 'iptables-nft-restore', 'ipset', 'nft'].find(
    (t) => spawnSync(t, ['--version']).status !== 0 && spawnSync(t, ['-V']).status !== 0,
  );
  return absent && `${absent} is not installed`;
}

export function measureNodeCleanup(): CleanupTime[] {
  const work = mkdtempSync(join(tmpdir(), 'cilium-cutover-bench-host-'));
  const times: CleanupTime[] = [];
  try {
    for (const backend of ['legacy', 'nft'] as Backend[]) {
      const host = startNodeHost({ dir: join(work, backend), netns: `ccbench-${process.pid}-${backend}`, createNetns: true });
      try {
        const state = buildNodeState({
          backends: [backend],
          ipv6: false,
          calico: { dataplane: 'iptables', backend: 'bird' },
          kubeProxy: 'iptables',
          services: SERVICES,
        });
        loadNodeState(host, state, () => true);
        for (const script of ['calico-cleanup', 'kube-proxy-cleanup'] as NodeScript[]) {
          const started = process.hrtime.bigint();
          const result = host.run(['bash', '-s'], { input: nodeScript(script), env: { NODE_NAME: 'bench', KUBE_ROUTER_POLICY: 'true' } });
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          if (result.status !== 0) {
            throw new Error(`${script} on ${backend}: ${result.stdout}${result.stderr}`);
          }
          times.push({ name: `${script}.sh, iptables-${backend}, ${SERVICES} Services`, seconds });
        }
      } finally {
        host.stop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return times;
}
