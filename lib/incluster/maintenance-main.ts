/**
 * Entry point of the 050-pause and 800-resume Jobs: reads every listed object, then patches each
 * as maintenance.ts decides; one line per object; exit 1 when any failed. Pausing changes nothing
 * unless every listed object exists.
 */
import { readFileSync } from 'node:fs';
import { apiClient, describeBody } from './shared/api-client.ts';
import { type LiveTarget, type MaintenanceSpec, pauseDecision, resumeDecision } from './maintenance.ts';

const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/maintenance.json', 'utf8')) as MaintenanceSpec;
  console.log(`${spec.mode}: ${spec.targets.length} object(s)`);
  const live = await Promise.all(spec.targets.map((t) => api.get<LiveTarget>(t.path)));
  const decide = spec.mode === 'pause' ? pauseDecision : resumeDecision;
  const decisions = spec.targets.map((t, i) => decide(t, live[i]));
  if (spec.mode === 'pause' && decisions.some((d) => d.failed)) {
    decisions.filter((d) => d.failed).forEach((d) => console.log(d.line));
    console.log('pause: nothing changed');
    return 1;
  }
  let failed = 0;
  for (const [i, decision] of decisions.entries()) {
    if (decision.patch !== undefined) {
      const response = await api.mergePatch(spec.targets[i]!.path, decision.patch);
      if (response.status < 200 || response.status >= 300) {
        console.log(
          `FAILED ${spec.targets[i]!.kind} ${spec.targets[i]!.namespace}/${spec.targets[i]!.name}: HTTP ${response.status}: ${describeBody(response.body)}`,
        );
        failed++;
        continue;
      }
    }
    console.log(decision.line);
    if (decision.failed) {
      failed++;
    }
  }
  console.log(failed > 0 ? `${spec.mode}: ${failed} object(s) failed` : `${spec.mode}: done`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`FAILED ${(err as Error).message}`);
    process.exit(1);
  },
);
