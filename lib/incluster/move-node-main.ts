/**
 * Entry point of a per-node step's Job: cordons the node, drains it through the eviction API
 * (PodDisruptionBudgets hold), labels it so its CiliumNodeConfig applies, restarts its Cilium agent,
 * restarts the pods still on a Calico address there, waits until they run on Cilium, and uncordons
 * the node. Every step is skipped when already done, so a re-run continues where one stopped.
 */
import { readFileSync } from 'node:fs';
import { apiClient, describeBody } from './shared/api-client.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { evict, evictUntilGone, Stop } from './evict.ts';
import { runMain } from './shared/report.ts';
import {
  agentState,
  cordonPatch,
  drainPlan,
  movedPatch,
  podRef,
  podsOffRange,
  restartable,
  switchPatch,
  uncordonPatch,
  type MoveNodeSpec,
  type NodeObject,
  type PodObject,
} from './move-node.ts';

const target = {
  host: process.env.KUBERNETES_SERVICE_HOST ?? '127.0.0.1',
  port: Number(process.env.KUBERNETES_SERVICE_PORT ?? '6444'),
  pollMs: Number(process.env.CILIUM_CUTOVER_POLL_MS ?? '5000'),
};
const api = apiClient(target.host, target.port);

async function patch(path: string, body: unknown, what: string): Promise<void> {
  const response = await api.mergePatch(path, body);
  if (response.status < 200 || response.status >= 300) {
    throw new Stop(`${what}: HTTP ${response.status}: ${describeBody(response.body)}`);
  }
}

async function podsOn(node: string, namespace?: string, labelSelector?: string): Promise<PodObject[]> {
  const scope = namespace === undefined ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  const query = new URLSearchParams({ fieldSelector: `spec.nodeName=${node}`, ...(labelSelector ? { labelSelector } : {}) });
  const list = await api.get<{ items: PodObject[] }>(`/api/v1${scope}/pods?${query.toString()}`);
  return list?.items ?? [];
}

async function main(): Promise<number> {
  const spec = JSON.parse(readFileSync(process.argv[2] ?? '/etc/cilium-cutover/move-node.json', 'utf8')) as MoveNodeSpec;
  const nodePath = `/api/v1/nodes/${encodeURIComponent(spec.node)}`;
  console.log(`move-node ${spec.node}`);
  let node = await api.get<NodeObject>(nodePath);
  if (!node) {
    throw new Stop(`node ${spec.node} not found`);
  }

  // Nothing changes while a pod would be lost for good.
  const first = drainPlan(await podsOn(spec.node), spec.evictUnmanagedPods, spec.deleteEmptyDirData);
  if (first.refuse.length > 0) {
    throw new Stop(
      `pods without a controller would be deleted for good: ${first.refuse.map(podRef).join(', ')}; move them, or set perNode.evictUnmanagedPods: true`,
    );
  }
  if (first.localData.length > 0) {
    throw new Stop(
      `pods with emptyDir volumes would lose that data: ${first.localData.map(podRef).join(', ')}; move them, or set perNode.deleteEmptyDirData: true`,
    );
  }

  const cordon = cordonPatch(node);
  if (cordon === undefined) {
    console.log(`KEPT cordon on ${spec.node} (already unschedulable)`);
  } else {
    await patch(nodePath, cordon, 'cordon');
    console.log(`CORDONED ${spec.node}`);
  }

  const drainDeadline = Date.now() + spec.drainTimeoutSeconds * 1000;
  await evictUntilGone(
    target,
    async () => {
      const plan = drainPlan(await podsOn(spec.node), spec.evictUnmanagedPods, spec.deleteEmptyDirData);
      const lost = [...plan.refuse, ...plan.localData];
      if (lost.length > 0) {
        throw new Stop(`pods arrived that the drain would lose (no controller, or emptyDir data): ${lost.map(podRef).join(', ')}`);
      }
      return plan.evict;
    },
    drainDeadline,
    'drain',
    { onlyFirstListed: true },
  );
  console.log(`DRAINED ${spec.node}`);

  node = (await api.get<NodeObject>(nodePath))!;
  const { patch: label, switchedAt } = switchPatch(node, spec.switchLabel, new Date());
  if (label === undefined) {
    console.log(`KEPT switch of ${spec.node} (since ${switchedAt})`);
  } else {
    await patch(nodePath, label, 'label');
    console.log(`SWITCHED ${spec.node}: label ${spec.switchLabel.key}=${spec.switchLabel.value}`);
  }

  const agentDeadline = Date.now() + spec.agentTimeoutSeconds * 1000;
  let restarted = false;
  for (;;) {
    const agent = agentState(await podsOn(spec.node, spec.agent.namespace, spec.agent.labelSelector), switchedAt);
    if (agent.state === 'ready') {
      console.log(`READY Cilium agent ${podRef(agent.pod)} (started after the switch)`);
      break;
    }
    if (Date.now() > agentDeadline) {
      throw new Stop(`the Cilium agent on ${spec.node} is ${agent.state} at the deadline; see its logs`);
    }
    if (agent.state === 'stale' && !restarted) {
      await evict(target, agent.pod);
      restarted = true;
      console.log(`RESTARTED Cilium agent ${podRef(agent.pod)}`);
    }
    await sleep(target.pollMs);
  }

  const backDeadline = Date.now() + spec.drainTimeoutSeconds * 1000;
  const manual = restartable(podsOffRange(await podsOn(spec.node), spec.migrationCIDR), spec.evictUnmanagedPods).manual;
  for (const pod of manual) {
    console.log(`MANUAL ${podRef(pod)} still runs on a Calico address: restart it by hand`);
  }
  await evictUntilGone(
    target,
    async () => restartable(podsOffRange(await podsOn(spec.node), spec.migrationCIDR), spec.evictUnmanagedPods).evict,
    backDeadline,
    'restart on Cilium',
  );
  console.log(`ON-CILIUM every pod-network pod on ${spec.node} has an address from ${spec.migrationCIDR}`);

  node = (await api.get<NodeObject>(nodePath))!;
  const moved = movedPatch(node, spec.movedLabel);
  if (moved !== undefined) {
    // The node's connectivity check schedules onto the node once it carries this label.
    await patch(nodePath, moved, 'label');
    console.log(`MOVED ${spec.node}: label ${spec.movedLabel.key}=${spec.movedLabel.value}`);
  }
  node = (await api.get<NodeObject>(nodePath))!;
  const uncordon = uncordonPatch(node);
  if (uncordon === undefined) {
    console.log(`KEPT ${spec.node} cordoned (it was cordoned before this Job)`);
  } else {
    await patch(nodePath, uncordon, 'uncordon');
    console.log(`UNCORDONED ${spec.node}`);
  }
  console.log(manual.length > 0 ? `move-node: done, ${manual.length} pod(s) to restart by hand` : 'move-node: done');
  return 0;
}

runMain(main, (message) => [`FAILED ${message}`, 'move-node: stopped; the node stays cordoned. PLAN.md says how to go back or go on.']);
