/**
 * Step 250-readdress-pods: evicts every pod still on an old address, so it comes back with one from
 * Cilium. Cutover: the pods Cilium does not manage (no CiliumEndpoint: started under Calico, whose
 * addresses nothing routes any more; Cilium's operator restarts only CoreDNS by default). Per-node
 * phase switch: the pods on the migration range.
 */
import { Duration } from 'cdk8s';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { ScopedServiceAccount } from '../lib/constructs/scoped-service-account.ts';
import { ScriptJob } from '../lib/constructs/script-job.ts';
import type { ReaddressSpec } from '../lib/incluster/readdress.ts';
import { TOOL } from '../lib/labels.ts';
import type { AbortGuide, Step, StepChart } from '../lib/step.ts';

/** The re-addressing Job's limit: every pod of the cluster restarts, PodDisruptionBudgets permitting. */
const READDRESS_TIMEOUT = Duration.minutes(25);

/** Evict every pod still on an old address. */
export function buildReaddressPods(chart: StepChart, config: ResolvedConfig): void {
  const namespace = config.run.namespace;
  const perNode = config.strategy === 'per-node';
  const account = new ScopedServiceAccount(chart, 'Access', {
    name: `${TOOL}-readdress`,
    namespace,
    rules: [
      { apiGroup: '', resource: 'pods', verbs: ['list'] },
      { apiGroup: '', resource: 'pods/eviction', verbs: ['create'] },
      // run.deleteBrokenPods: any pod of the cluster may be one, so no names.
      ...(config.run.deleteBrokenPods ? [{ apiGroup: '', resource: 'pods', verbs: ['delete' as const], anyObject: true }] : []),
      ...(perNode ? [] : [{ apiGroup: 'cilium.io', resource: 'ciliumendpoints', verbs: ['list' as const] }]),
    ],
  });
  const spec: ReaddressSpec = {
    ...(perNode ? { migrationCIDR: config.perNode.podCIDR } : {}),
    timeoutSeconds: READDRESS_TIMEOUT.toSeconds(),
    evictUnmanagedPods: config.perNode.evictUnmanagedPods,
    deleteBrokenPods: config.run.deleteBrokenPods,
  };
  new ScriptJob(chart, 'Readdress', config, {
    name: 'readdress',
    entry: 'readdress-main',
    spec,
    account,
    activeDeadline: Duration.seconds(READDRESS_TIMEOUT.toSeconds() + 120),
  });
}

/** What happens to a broken pod whose budget refuses its eviction. */
function brokenPods(config: ResolvedConfig): string {
  return config.run.deleteBrokenPods
    ? '; a pod that is not Ready and whose eviction a budget refuses is deleted (`run.deleteBrokenPods`: it has no network to protect)'
    : '; a pod that is not Ready and whose eviction a budget refuses holds the step (the default `unhealthyPodEvictionPolicy: IfHealthyBudget` refuses while the budget is short): the Job names it, and `run.deleteBrokenPods` deletes such pods';
}

export function readdressPodsPlan(config: ResolvedConfig): string[] {
  if (config.strategy !== 'per-node') {
    return [
      `Cilium manages only the pods started since it runs; its operator restarts CoreDNS, nothing else. Every other pod on the pod network (the ingress controller, the applications) still has its Calico address, which nothing routes any more: the Job evicts each pod without a CiliumEndpoint (PodDisruptionBudgets hold) and waits until none is left${brokenPods(config)}. Pods without a controller are listed for a manual restart${config.perNode.evictUnmanagedPods ? ' (evicted too: perNode.evictUnmanagedPods is set)' : ''}.`,
    ];
  }
  return [
    `Cilium now hands out addresses from each node's podCIDR (\`ipam: ${config.finalCilium.ipamMode}\`, ${config.finalCilium.routingMode} routing). Pods still on ${config.perNode.podCIDR} lost their routes with the overlay: the Job evicts them all (PodDisruptionBudgets hold) and waits until none is left${brokenPods(config)}. Pods without a controller are listed for a manual restart${config.perNode.evictUnmanagedPods ? ' (evicted too: perNode.evictUnmanagedPods is set)' : ''}.`,
  ];
}

export function readdressPodsAbort(config: ResolvedConfig): AbortGuide {
  if (config.strategy !== 'per-node') {
    return {
      after: 'every running pod on the pod network has a CiliumEndpoint: Cilium gave it its address.',
      failure: `the Job is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=readdress\` lists the pods it could not move (a PodDisruptionBudget that never allowed an eviction, pods without a controller).`,
      action:
        'restart the listed pods by hand (`kubectl delete pod`), or fix the budget, then add this step to `run.retries`, synth and sync. Calico is gone: go forward.',
    };
  }
  return {
    after: `no pod uses ${config.perNode.podCIDR} any more; every pod has an address from its node's podCIDR.`,
    failure: `the Job is Failed; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=readdress\` lists the pods it could not move (a PodDisruptionBudget that never allowed an eviction, pods without a controller).`,
    action: `restart the listed pods by hand (\`kubectl delete pod\`), or fix the budget, then add this step to \`run.retries\`, synth and sync. There is no way back to the migration settings short of the migrate phase's Cilium step: go forward.`,
  };
}

export const readdressPodsStep: Step = {
  definition: {
    kind: 'readdress-pods',
    dir: '250-readdress-pods',
    wave: 250,
    title: 'Re-address pods',
    impact: 'destructive',
    summary: 'Evicts every pod still on an old address (Calico’s, or the migration range), so it comes back with one from Cilium.',
    timeout: '30m',
  },
  build: buildReaddressPods,
  plan: readdressPodsPlan,
  abort: readdressPodsAbort,
};
