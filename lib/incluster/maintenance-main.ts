/**
 * Entry point of the 050-pause and 800-resume Jobs: reads every listed object, then patches each
 * as maintenance.ts decides; one line per object; exit 1 when any failed. Pausing changes nothing
 * unless every listed object exists and no engine the config does not list applies one; once it
 * has paused, it waits until the workloads' pods are gone, then reads every object again after a
 * while and fails when someone else undid the pause.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { apiClient, describeBody } from './shared/api-client.ts';
import { runMain } from './shared/report.ts';
import {
  heldProblem,
  type LivePod,
  type LiveTarget,
  type MaintenanceSpec,
  type MaintenanceTarget,
  ownerProblem,
  type PauseSpec,
  pauseDecision,
  podsOf,
  resumeDecision,
  selectorQuery,
} from './maintenance.ts';

const api = apiClient(process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1', Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'));
const pollMs = Number(process.env.CILIUM_CUTOVER_POLL_MS ?? '2000');
const ref = (t: MaintenanceTarget) => `${t.kind} ${t.namespace}/${t.name}`;

/**
 * Waits until none of the workload's pods is left (terminating ones included); false at the
 * deadline. Stops waiting when the workload is scaled up again: the check after the pause names that.
 */
async function waitStopped(t: MaintenanceTarget, live: LiveTarget, deadline: number): Promise<boolean> {
  const query = selectorQuery(live.spec?.selector);
  if (query === undefined) {
    console.log(`STOPPED ${ref(t)}: no selector to find its pods by; not waited for`);
    return true;
  }
  const path = `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods?${new URLSearchParams({ labelSelector: query }).toString()}`;
  let said = '';
  for (;;) {
    const left = podsOf(t, (await api.get<{ items: LivePod[] }>(path))?.items ?? []);
    if (left.length === 0) {
      console.log(`STOPPED ${ref(t)}: no pod left`);
      return true;
    }
    if ((await api.get<LiveTarget>(t.path))?.spec?.replicas !== 0) {
      return true;
    }
    const names = left.map((p) => p.metadata.name).join(', ');
    if (Date.now() > deadline) {
      console.log(`FAILED ${ref(t)}: pods still stopping at the deadline: ${names}`);
      return false;
    }
    if (names !== said) {
      console.log(`WAITING ${ref(t)}: ${left.length} pod(s) still stopping: ${names}`);
      said = names;
    }
    await sleep(pollMs);
  }
}

/** Pauses every object, or none ('refused'); the number of objects that failed. */
async function pause(spec: PauseSpec, live: readonly (LiveTarget | undefined)[]): Promise<number | 'refused'> {
  const decisions = spec.targets.map((t, i) => pauseDecision(t, live[i]));
  const refused = [
    ...decisions.filter((d) => d.failed).map((d) => d.line),
    ...spec.targets.flatMap((t, i) => {
      const problem = live[i] ? ownerProblem(t, live[i]!, spec.engines) : undefined;
      return problem === undefined ? [] : [problem];
    }),
  ];
  if (refused.length > 0) {
    refused.forEach((line) => console.log(line));
    return 'refused';
  }
  let failed = await patchAll(spec, decisions);
  const deadline = Date.now() + spec.stopTimeoutSeconds * 1000;
  for (const [i, t] of spec.targets.entries()) {
    if (t.type === 'workload' && !(await waitStopped(t, live[i]!, deadline))) {
      failed++;
    }
  }
  // An engine or autoscaler the config does not list may scale or resume an object again.
  await sleep(spec.settleSeconds * 1000);
  const again = await Promise.all(spec.targets.map((t) => api.get<LiveTarget>(t.path)));
  for (const [i, t] of spec.targets.entries()) {
    const problem = heldProblem(t, again[i]);
    if (problem !== undefined) {
      console.log(problem);
      failed++;
    }
  }
  if (failed === 0) {
    console.log(`HELD every object still paused after ${spec.settleSeconds}s`);
  }
  return failed;
}

async function patchAll(spec: MaintenanceSpec, decisions: ReturnType<typeof pauseDecision>[]): Promise<number> {
  let failed = 0;
  for (const [i, decision] of decisions.entries()) {
    const t = spec.targets[i]!;
    if (decision.patch !== undefined) {
      const response = await api.mergePatch(t.path, decision.patch);
      if (response.status < 200 || response.status >= 300) {
        console.log(`FAILED ${ref(t)}: HTTP ${response.status}: ${describeBody(response.body)}`);
        failed++;
        continue;
      }
    }
    console.log(decision.line);
    if (decision.failed) {
      failed++;
    }
  }
  return failed;
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/maintenance.json', 'utf8')) as MaintenanceSpec;
  console.log(`${spec.mode}: ${spec.targets.length} object(s)`);
  const live = await Promise.all(spec.targets.map((t) => api.get<LiveTarget>(t.path)));
  const failed =
    spec.mode === 'pause'
      ? await pause(spec, live)
      : await patchAll(
          spec,
          spec.targets.map((t, i) => resumeDecision(t, live[i])),
        );
  if (failed === 'refused') {
    console.log('pause: nothing changed');
    return 1;
  }
  console.log(failed > 0 ? `${spec.mode}: ${failed} object(s) failed` : `${spec.mode}: done`);
  return failed > 0 ? 1 : 0;
}

runMain(main);
