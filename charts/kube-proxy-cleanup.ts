/**
 * Step 210-kube-proxy-cleanup: one privileged Job per node that removes the rules k3s's embedded
 * kube-proxy left, once the node's Cilium agent serves Services.
 */
import { Duration } from 'cdk8s';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { buildNodeJobs } from './node-cleanup.ts';

/** How long a node's Job waits for the node's Cilium agent to be healthy. */
const AGENT_WAIT_SECONDS = 300;

export function buildKubeProxyCleanup(chart: StepChart, config: ResolvedConfig): void {
  if (!config.cilium.kubeProxyReplacementEnabled || !config.cleanup.kubeProxy) {
    return;
  }
  buildNodeJobs(chart, config, {
    prefix: 'kube-proxy-cleanup',
    script: 'kube-proxy-cleanup',
    env: { KUBE_ROUTER_POLICY: String(config.cleanup.kubeRouterPolicy), CILIUM_AGENT_WAIT_SECONDS: String(AGENT_WAIT_SECONDS) },
    // Up to AGENT_WAIT_SECONDS waiting for the agent, then seconds of work.
    activeDeadline: Duration.minutes(15),
  });
}

/** PLAN.md notes for the kube-proxy cleanup. */
export function kubeProxyCleanupPlan(config: ResolvedConfig): string[] {
  return [
    `One privileged Job per node waits until the node's Cilium agent is healthy (\`127.0.0.1:9879/healthz\`, ${AGENT_WAIT_SECONDS / 60} minutes at most), then runs \`kube-proxy-cleanup.sh\` on the host${config.cleanup.dryRun ? ' **in dry-run mode**' : ''}: it removes the rules k3s's embedded kube-proxy left, by chain name (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, KUBE-POSTROUTING, KUBE-FORWARD, KUBE-MARK-*, KUBE-PROXY-*, KUBE-SVC-*, KUBE-SEP-*, KUBE-FW-*, KUBE-EXT-*, KUBE-SVL-*), never the kubelet's KUBE-FIREWALL or KUBE-KUBELET-CANARY.`,
    config.cleanup.kubeRouterPolicy
      ? "Its second named step, `kube-router-policy`, removes kube-router's network-policy chains (KUBE-ROUTER-*, KUBE-NWPLCY-*, KUBE-POD-FW-*) and KUBE-SRC-*/KUBE-DST-* ipsets, left since k3s runs with `disable-network-policy` (`cleanup.kubeRouterPolicy`)."
      : "kube-router's network-policy chains are left alone (`cleanup.kubeRouterPolicy: false`).",
  ];
}

export function kubeProxyCleanupAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: "kube-proxy's iptables rules are gone: Cilium alone serves Services.",
    failure: `a node's Job is Failed: its agent was not healthy within ${AGENT_WAIT_SECONDS / 60} minutes, or iptables-restore refused the batch; \`kubectl logs -n ${config.run.namespace} -l app.kubernetes.io/component=kube-proxy-cleanup --prefix\`.`,
    action: `check the Cilium agent on that node, then ${RETRY}. Backing out needs nothing here: k3s recreates the rules if it runs kube-proxy again.`,
  };
}

export const kubeProxyCleanupStep: Step = {
  definition: {
    kind: 'kube-proxy-cleanup',
    dir: '210-kube-proxy-cleanup',
    wave: 210,
    title: 'kube-proxy cleanup',
    impact: 'destructive',
    summary: "Removes the embedded kube-proxy's iptables rules on every node.",
    timeout: '15m',
  },
  build: buildKubeProxyCleanup,
  plan: kubeProxyCleanupPlan,
  abort: kubeProxyCleanupAbort,
};
