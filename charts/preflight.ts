/**
 * Step 000-preflight: the migration namespace and the checks that refuse to go on.
 */
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { bundleInCluster } from '../lib/bundle.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { FILES_DIR, CutoverJob } from '../lib/cutover-job.ts';
import { JobFiles } from '../lib/job-files.ts';
import { POLICY_RESOURCES, TIGERA_OPERATOR_CRD, type PreflightSpec } from '../lib/incluster/preflight-checks.ts';
import { ScopedServiceAccount, type AccessRule } from '../lib/scoped-service-account.ts';
import type { StepChart } from '../lib/step-chart.ts';
import { TOOL } from '../lib/steps.ts';

/** Seconds of a `30s`/`10m`/`24h` duration (the schema allows only these forms). */
export function durationSeconds(duration: string): number {
  const unit = { s: 1, m: 60, h: 3600 }[duration.slice(-1) as 's' | 'm' | 'h'];
  return Number(duration.slice(0, -1)) * unit;
}

/** What the preflight Job checks, as its ConfigMap carries it. */
export function preflightSpec(config: ResolvedConfig): PreflightSpec {
  return {
    nodes: config.cluster.nodes.map((n) => ({ name: n.name, role: n.role, internalIP: n.internalIP })),
    calicoVersion: config.calico.version,
    kubeProxyReplacement: config.cilium.kubeProxyReplacementEnabled,
    skipNodes: config.run.skipNodes,
    podCIDR: config.cluster.podCIDR,
    serviceCIDR: config.cluster.serviceCIDR,
    profile: config.cluster.profile,
    ...(config.cluster.profile === 'hetzner-cloud' && config.cluster.network
      ? { cloudController: config.cluster.network.cloudController }
      : {}),
    snapshot: { maxAgeSeconds: durationSeconds(config.safety.maxSnapshotAge), acknowledged: config.safety.acknowledgeNoSnapshot },
    policies: { acknowledged: config.safety.acknowledgeDroppedPolicies },
  };
}

export function buildPreflight(chart: StepChart, config: ResolvedConfig): void {
  const namespace = config.run.namespace;
  const spec = preflightSpec(config);
  new k8s.KubeNamespace(chart, 'Namespace', {
    metadata: {
      name: namespace,
      // Node cleanup needs privileged host-network pods; label the namespace so Pod Security
      // admission (if enforced cluster-wide) admits them.
      labels: {
        'pod-security.kubernetes.io/enforce': 'privileged',
        'pod-security.kubernetes.io/audit': 'privileged',
        'pod-security.kubernetes.io/warn': 'privileged',
      },
    },
  });

  const account = new ScopedServiceAccount(chart, 'Access', {
    name: `${TOOL}-preflight`,
    namespace,
    rules: [
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: config.cluster.nodes.map((n) => n.name) },
      { apiGroup: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verbs: ['get'], names: [TIGERA_OPERATOR_CRD] },
      { apiGroup: 'apps', resource: 'daemonsets', verbs: ['get'], names: ['calico-node'], namespace: 'kube-system' },
      // The etcd snapshots and the Calico policies are counted; list cannot be limited by name.
      { apiGroup: 'k3s.cattle.io', resource: 'etcdsnapshotfiles', verbs: ['list'] },
      ...POLICY_RESOURCES.map((resource): AccessRule => ({ apiGroup: 'crd.projectcalico.org', resource, verbs: ['list'] })),
      ...(spec.cloudController
        ? [
            {
              apiGroup: 'apps',
              resource: 'deployments',
              verbs: ['get'],
              names: [spec.cloudController.name],
              namespace: spec.cloudController.namespace,
            } satisfies AccessRule,
          ]
        : []),
    ],
  });

  const files = new JobFiles(chart, 'Files', {
    name: 'preflight',
    namespace,
    component: 'preflight',
    files: {
      'preflight.mjs': bundleInCluster('preflight-main'),
      'preflight.json': `${JSON.stringify(spec, null, 2)}\n`,
    },
  });
  new CutoverJob(chart, 'Job', {
    name: 'preflight',
    namespace,
    component: 'preflight',
    api: { serviceAccountName: account.name, server: config.cluster.apiServer },
    attempt: config.run.attempt,
    image: config.images.node,
    command: ['node', `${FILES_DIR}/preflight.mjs`, `${FILES_DIR}/preflight.json`],
    files,
  });
}
