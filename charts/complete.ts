/**
 * Step 900-complete: a status ConfigMap that records the migration. It is the last wave, so it is
 * applied only after every earlier wave (verification included) is healthy: Argo CD does not gate
 * its last wave, and this one has nothing to gate.
 */
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import type { AbortGuide, Step, StepChart } from '../lib/step.ts';
import { TOOL } from '../lib/labels.ts';

export const STATUS_CONFIGMAP = `${TOOL}-status`;

export function buildComplete(chart: StepChart, config: ResolvedConfig, earlierSteps: readonly string[]): void {
  const { cilium } = config;
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
      // After the migration (phase steady) the record stays as the last phase wrote it.
      ...(config.strategy === 'per-node' ? { strategy: 'per-node', phase: config.phase === 'steady' ? 'switch' : config.phase } : {}),
    },
  });
}

export function completeAbort(): AbortGuide {
  return {
    after: 'the migration is recorded in `kube-system/cilium-cutover-status` and the sync is complete.',
    failure: 'it does not fail: it is applied only once every earlier step is healthy.',
    action: 'switch to `phase: steady` when you are ready (see below).',
  };
}

export const completeStep: Step = {
  definition: {
    kind: 'complete',
    dir: '900-complete',
    wave: 900,
    title: 'Complete',
    summary: 'Records the finished migration in a status ConfigMap; the gate after verification.',
    timeout: '5m',
    // The record stays after the migration: a GitOps engine would prune it otherwise.
    steady: true,
  },
  build: (chart, config, context) => buildComplete(chart, config, context.earlierSteps),
  abort: completeAbort,
};
