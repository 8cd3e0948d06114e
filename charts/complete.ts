/**
 * Step 900-complete: a status ConfigMap that records the migration, and a Job that checks every
 * configured node. It is the last wave, so it is applied only after every earlier wave
 * (verification included) is healthy: Argo CD does not gate its last wave, and nothing comes after
 * it (a failed node check shows as the Application's health).
 */
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import type { AbortGuide, Step, StepChart } from '../lib/step.ts';
import { TOOL } from '../lib/labels.ts';
import type { NodeSpec } from '../lib/incluster/preflight-checks.ts';
import { ScopedServiceAccount } from '../lib/constructs/scoped-service-account.ts';
import { ScriptJob } from '../lib/constructs/script-job.ts';
import { preflightSpec } from './preflight.ts';

export const STATUS_CONFIGMAP = `${TOOL}-status`;

/** The node check runs in kube-system: it stays after the migration, whose namespace goes. */
const NODE_CHECK_NAMESPACE = 'kube-system';

/** What the node check checks of each node, as the preflight does. */
export function nodeCheckSpec(config: ResolvedConfig): NodeSpec {
  const { nodes, skipNodes, kubeProxyReplacement, podCIDR, serviceCIDR, profile, vSwitch, kubernetesVersion, kernel } =
    preflightSpec(config);
  return {
    nodes,
    skipNodes,
    kubeProxyReplacement,
    podCIDR,
    serviceCIDR,
    profile,
    ...(vSwitch ? { vSwitch } : {}),
    kubernetesVersion,
    kernel,
  };
}

/**
 * A Job that checks every configured node as the preflight does, at the end of the migration and
 * after it: a node added later goes into cluster.nodes, which renames the Job, so it runs for that
 * node too (a server provisioned without disable-kube-proxy would run kube-proxy beside Cilium
 * unnoticed).
 */
function buildNodeCheck(chart: StepChart, config: ResolvedConfig): void {
  const account = new ScopedServiceAccount(chart, 'NodeCheckAccess', {
    name: `${TOOL}-node-check`,
    namespace: NODE_CHECK_NAMESPACE,
    rules: [{ apiGroup: '', resource: 'nodes', verbs: ['get'], names: config.cluster.nodes.map((n) => n.name) }],
  });
  new ScriptJob(chart, 'NodeCheck', config, {
    name: 'node-check',
    namespace: NODE_CHECK_NAMESPACE,
    entry: 'node-check-main',
    spec: nodeCheckSpec(config),
    account,
  });
}

export function buildComplete(chart: StepChart, config: ResolvedConfig, earlierSteps: readonly string[]): void {
  const { cilium } = config;
  // In every phase, so the switch to phase steady changes nothing it keeps.
  buildNodeCheck(chart, config);
  new k8s.KubeConfigMap(chart, 'Status', {
    metadata: { name: STATUS_CONFIGMAP, namespace: 'kube-system' },
    data: {
      cluster: config.cluster.name,
      'calico-removed': config.calico.version,
      'cilium-version': cilium.version.version,
      'routing-mode': cilium.routingMode,
      'kube-proxy-replacement': cilium.kubeProxyReplacement,
      'ipv4-native-routing-cidr': cilium.ipv4NativeRoutingCIDR,
      'steps-completed': earlierSteps.join(','),
      // What the verification did not prove: checks acknowledged in verify.skip, or all of them.
      'not-verified': config.verify.enabled ? config.verify.skip.join(',') || 'none' : 'all',
      // After the migration (phase steady) the record stays as the last phase wrote it.
      ...(config.strategy === 'per-node' ? { strategy: 'per-node', phase: config.phase === 'steady' ? 'switch' : config.phase } : {}),
    },
  });
}

export function completeAbort(): AbortGuide {
  return {
    after:
      'the migration is recorded in `kube-system/cilium-cutover-status`, every configured node passed the node check, and the sync is complete.',
    failure:
      'the record is applied once every earlier step is healthy; the node check Job fails on a node that is not fit for Cilium (`kubectl logs -n kube-system -l app.kubernetes.io/component=node-check` shows the FAIL lines): a node added without the k3s settings, one under pressure, on another kubelet minor or on too old a kernel.',
    action: `fix the node (its k3s settings: see cilium-cutover's docs/k3s.md "Nodes added later"), then add \`900-complete\` to \`run.retries\` and synth; switch to \`phase: steady\` when you are ready (see below).`,
  };
}

export const completeStep: Step = {
  definition: {
    kind: 'complete',
    dir: '900-complete',
    wave: 900,
    title: 'Complete',
    summary:
      'Records the finished migration in a status ConfigMap, the gate after verification, and checks every configured node as the preflight does (again whenever cluster.nodes changes).',
    timeout: '5m',
    // The record stays after the migration: a GitOps engine would prune it otherwise.
    steady: true,
  },
  build: (chart, config, context) => buildComplete(chart, config, context.earlierSteps),
  abort: completeAbort,
};
