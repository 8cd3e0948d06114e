/**
 * Step 000-preflight: the migration namespace and the checks that refuse to go on.
 */
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { bundleInCluster } from '../lib/bundle.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { FILES_DIR, CutoverJob } from '../lib/cutover-job.ts';
import { JobFiles } from '../lib/job-files.ts';
import { TIGERA_OPERATOR_CRD, type PreflightSpec } from '../lib/incluster/preflight-checks.ts';
import { ScopedServiceAccount } from '../lib/scoped-service-account.ts';
import type { StepChart } from '../lib/step-chart.ts';
import { TOOL } from '../lib/steps.ts';

/** What the preflight Job checks, as its ConfigMap carries it. */
export function preflightSpec(config: ResolvedConfig): PreflightSpec {
  return {
    nodes: config.cluster.nodes.map((n) => ({ name: n.name, role: n.role, internalIP: n.internalIP })),
    calicoVersion: config.calico.version,
    kubeProxyReplacement: config.cilium.kubeProxyReplacementEnabled,
    skipNodes: config.run.skipNodes,
    podCIDR: config.cluster.podCIDR,
    serviceCIDR: config.cluster.serviceCIDR,
  };
}

export function buildPreflight(chart: StepChart, config: ResolvedConfig): void {
  const namespace = config.run.namespace;
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
    ],
  });

  const files = new JobFiles(chart, 'Files', {
    name: 'preflight',
    namespace,
    component: 'preflight',
    files: {
      'preflight.mjs': bundleInCluster('preflight-main'),
      'preflight.json': `${JSON.stringify(preflightSpec(config), null, 2)}\n`,
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
