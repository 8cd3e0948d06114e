/**
 * Step 310-verify-checks: one Job per check against the echo backend of 300-verify-workloads.
 * Their success is what lets 900-complete, and with it the sync, go through.
 */
import { Duration } from 'cdk8s';
import { bundleInCluster } from '../lib/constructs/bundle.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { CutoverJob, FILES_DIR, type HostAccess } from '../lib/constructs/cutover-job.ts';
import { JobFiles } from '../lib/constructs/job-files.ts';
import { ScopedServiceAccount, type AccessRule } from '../lib/constructs/scoped-service-account.ts';
import type { VerifySpec } from '../lib/incluster/verify-checks.ts';
import { LABEL_COMPONENT, TOOL } from '../lib/labels.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { ECHO, ECHO_POD_PORT, ECHO_SERVICE_PORT } from './verify-workloads.ts';

/** Every check's log carries this component label: `kubectl logs -l app.kubernetes.io/component=verify`. */
export const VERIFY_COMPONENT = 'verify';

/** The checks, in the order PLAN.md lists them, with what each proves and what it may read. */
export const CHECKS: readonly {
  readonly name: string;
  readonly plan: string;
  readonly proves: string;
  readonly hostAccess: HostAccess;
  readonly rules: (config: ResolvedConfig) => AccessRule[];
}[] = [
  {
    name: 'coredns',
    plan: 'CoreDNS Running',
    proves: 'CoreDNS pods in kube-system are Running and Ready',
    hostAccess: 'none',
    rules: () => [{ apiGroup: '', resource: 'pods', verbs: ['list'], namespace: 'kube-system' }],
  },
  {
    name: 'clusterip',
    plan: 'ClusterIP reachable',
    proves: 'the echo Service answers on its ClusterIP from a pod (Cilium serves Services; no DNS involved)',
    hostAccess: 'none',
    rules: (c) => [{ apiGroup: '', resource: 'services', verbs: ['get'], names: [ECHO], namespace: c.verify.namespace }],
  },
  {
    name: 'pod-to-pod',
    plan: 'pod-to-pod',
    proves: 'a pod reaches the echo pod on another node by its pod IP (native routing between nodes)',
    hostAccess: 'none',
    rules: (c) => [{ apiGroup: '', resource: 'pods', verbs: ['list'], namespace: c.verify.namespace }],
  },
  {
    name: 'dns',
    plan: 'DNS resolves Services',
    proves: 'cluster DNS resolves kubernetes.default.svc.cluster.local and the echo Service from a pod',
    hostAccess: 'none',
    rules: () => [],
  },
  {
    name: 'ingress',
    plan: 'Ingress to backend',
    proves: 'the ingress controller routes the configured host to the echo backend (SKIP when not configured)',
    hostAccess: 'none',
    rules: () => [],
  },
  {
    name: 'external',
    plan: 'external URLs answer HTTP 200',
    proves: 'each configured external URL answers 200 from a pod (egress, masquerading, DNS; SKIP when none)',
    hostAccess: 'none',
    rules: () => [],
  },
  {
    name: 'cilium-health',
    plan: '(cilium status)',
    proves: 'agent DaemonSet rolled out and ready, operator ready, NetworkUnavailable False on every node, every pod managed by Cilium',
    hostAccess: 'network',
    rules: (c) => [
      { apiGroup: 'apps', resource: 'daemonsets', verbs: ['get'], names: ['cilium'], namespace: 'kube-system' },
      { apiGroup: 'apps', resource: 'deployments', verbs: ['get'], names: ['cilium-operator'], namespace: 'kube-system' },
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: c.cluster.nodes.map((n) => n.name) },
      // Which pods are not managed: every pod and every CiliumEndpoint; list cannot be limited by name.
      { apiGroup: '', resource: 'pods', verbs: ['list'] },
      { apiGroup: 'cilium.io', resource: 'ciliumendpoints', verbs: ['list'] },
    ],
  },
];

/** How many times a check tries before it fails, and the pause between tries. */
const ATTEMPTS = 12;
const DELAY_SECONDS = 5;

export function verifySpec(config: ResolvedConfig): VerifySpec {
  const { verify } = config;
  return {
    namespace: verify.namespace,
    echo: { service: ECHO, selector: `app.kubernetes.io/name=${TOOL}-echo`, servicePort: ECHO_SERVICE_PORT, podPort: ECHO_POD_PORT },
    // A node in run.skipNodes is down or gone: there is nothing to check on it.
    nodes: config.cluster.nodes
      .filter((n) => !config.run.skipNodes.includes(n.name))
      .map((n) => ({ name: n.name, internalIP: n.internalIP })),
    // Where Cilium hands out addresses now: per-node's migrate phase uses its own range.
    podCIDR: config.cilium.migration?.podCIDR ?? config.cluster.podCIDR,
    ...(verify.ingress
      ? {
          ingress: {
            host: verify.ingress.host,
            controller: verify.ingress.controller,
            port: verify.ingress.port,
            service: verify.ingress.service,
          },
        }
      : {}),
    externalURLs: verify.externalURLs,
    attempts: ATTEMPTS,
    delaySeconds: DELAY_SECONDS,
  };
}

export function buildVerifyChecks(chart: StepChart, config: ResolvedConfig): void {
  const { verify } = config;
  if (!verify.enabled) {
    return;
  }
  const namespace = verify.namespace;
  const files = new JobFiles(chart, 'Files', {
    name: VERIFY_COMPONENT,
    namespace,
    component: VERIFY_COMPONENT,
    files: { 'verify.mjs': bundleInCluster('verify-main'), 'verify.json': `${JSON.stringify(verifySpec(config), null, 2)}\n` },
  });
  for (const check of CHECKS) {
    const rules = check.rules(config);
    const account =
      rules.length > 0
        ? new ScopedServiceAccount(chart, `Access-${check.name}`, { name: `${TOOL}-verify-${check.name}`, namespace, rules })
        : undefined;
    new CutoverJob(chart, `Check-${check.name}`, {
      name: `verify-${check.name}`,
      namespace,
      component: VERIFY_COMPONENT,
      attempt: chart.attempt,
      image: config.images.node,
      command: ['node', `${FILES_DIR}/verify.mjs`, check.name, `${FILES_DIR}/verify.json`],
      files,
      hostAccess: check.hostAccess,
      // Pod-network checks use the kubernetes Service; the host-network one the direct address.
      api: account
        ? { serviceAccountName: account.name, server: check.hostAccess === 'network' ? config.cluster.apiServer : undefined }
        : undefined,
      fieldEnv: check.name === 'pod-to-pod' ? { NODE_NAME: 'spec.nodeName' } : undefined,
      backoffLimit: 1,
      activeDeadline: Duration.minutes(5),
    });
  }
}

/** PLAN.md notes: which Job does which of the plan's checks, and how to read the result. */
export function verifyChecksPlan(config: ResolvedConfig): string[] {
  return [
    'Each check is a Job that prints one `PASS`, `FAIL` or `SKIP` line per subject (retrying for a minute while the network settles) and fails on a FAIL. Read them all with:',
    '',
    `\`kubectl logs -n ${config.verify.namespace} -l ${LABEL_COMPONENT}=${VERIFY_COMPONENT} --prefix\``,
    '',
    '| check of the original plan | Job | what a PASS proves |',
    '| --- | --- | --- |',
    ...CHECKS.map((c) => `| ${c.plan} | \`verify-${c.name}\` | ${c.proves} |`),
    '',
    'Test workloads stay until `verify.enabled: false` (after the migration): the next sync prunes steps 300 and 310.',
  ];
}

export function verifyChecksAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: 'every check passed; nothing was changed.',
    failure: `a check Job is Failed; \`kubectl logs -n ${config.verify.namespace} -l app.kubernetes.io/component=verify --prefix\` shows the FAIL line with the node, address or URL.`,
    action: `${RETRY}. A pod that still has a Calico address fails \`verify-cilium-health\` until it is restarted.`,
  };
}

export const verifyChecksStep: Step = {
  definition: {
    kind: 'verify-checks',
    dir: '310-verify-checks',
    wave: 310,
    title: 'Verification checks',
    summary: 'Jobs that prove DNS, Services, pod-to-pod, Ingress and external traffic work.',
    timeout: '15m',
  },
  build: buildVerifyChecks,
  plan: verifyChecksPlan,
  abort: verifyChecksAbort,
};
