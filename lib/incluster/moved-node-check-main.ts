/**
 * Entry point of a per-node step's connectivity check: a pod-network pod the scheduler places on
 * the node once the move marked it (moved-node-checks.ts says what it judges). One line per check;
 * exit 1 when any failed, which stops the run before the next node moves.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { apiClient } from './shared/api-client.ts';
import { printResults, runMain, type CheckResult } from './shared/report.ts';
import {
  addressCheck,
  apiCheck,
  healthAddress,
  overlayCheck,
  type CiliumNodeHealth,
  type MovedNodeCheckSpec,
} from './moved-node-checks.ts';
import { fetchAnswer, inBatches } from './verify-probes.ts';
import type { HttpAnswer } from './verify-paths.ts';

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/check-node.json', 'utf8')) as MovedNodeCheckSpec;
  // The kubelet's variables: the kubernetes Service, reached through this pod's network.
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1';
  const port = Number(process.env.KUBERNETES_SERVICE_PORT ?? '443');
  const api = apiClient(host, port);
  const results: CheckResult[] = [addressCheck(spec, process.env.POD_IP)];

  const version = await api.request('GET', '/version').then(
    (r): HttpAnswer => ({ status: r.status, body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) }),
    (err: unknown): HttpAnswer => ({ body: (err as Error).message }),
  );
  results.push(apiCheck(spec, `${host}:${port}`, version));

  // Every peer in batches: a node whose overlay is down times out on each of them.
  const overlay = async (peer: string): Promise<CheckResult> => {
    let target: ReturnType<typeof healthAddress>;
    try {
      target = healthAddress(peer, await api.get<CiliumNodeHealth>(`/apis/cilium.io/v2/ciliumnodes/${encodeURIComponent(peer)}`));
    } catch (err) {
      target = { problem: `CiliumNode ${peer} unreadable: ${(err as Error).message}` };
    }
    const answers: HttpAnswer[] = [];
    for (let attempt = 1; 'ip' in target && attempt <= spec.attempts; attempt++) {
      const answer = await fetchAnswer({ url: `http://${target.ip}:${spec.healthPort}/hello` });
      answers.push(answer);
      if (answer.status === 200) {
        break;
      }
      if (attempt < spec.attempts) {
        console.log(
          `RETRY pod-overlay ${spec.node} -> ${peer} ${target.ip}: ${answer.status === undefined ? answer.body : `HTTP ${answer.status}`}`,
        );
        await sleep(spec.retryDelaySeconds * 1000);
      }
    }
    return overlayCheck(spec, peer, target, answers);
  };
  results.push(
    ...(await inBatches(
      spec.peers.map((peer) => () => overlay(peer)),
      spec.concurrency,
    )),
  );

  const code = printResults(results);
  const failed = results.filter((r) => r.outcome === 'FAIL').length;
  console.log(failed > 0 ? `moved-node-check ${spec.node}: ${failed} check(s) failed` : `moved-node-check ${spec.node}: all checks passed`);
  return code;
}

runMain(main);
