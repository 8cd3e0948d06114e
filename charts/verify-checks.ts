/**
 * Step 310-verify-checks: Jobs that judge every node. `verify-cluster` reads the API (CoreDNS,
 * Cilium's rollout, each agent pod, every pod managed); per checked node, `verify-pods-<node>`
 * runs on that node's pod network and `verify-host-<node>` on its host network with the agent's
 * sockets. Their success is what lets 900-complete, and with it the sync, go through.
 */
import { Duration } from 'cdk8s';
import { bundleInCluster } from '../lib/constructs/bundle.ts';
import type { ResolvedConfig } from '../lib/config/resolve.ts';
import { VERIFY_ROUND_SECONDS } from '../lib/config/rules.ts';
import { CutoverJob, FILES_DIR, type HostAccess } from '../lib/constructs/cutover-job.ts';
import { JobFiles } from '../lib/constructs/job-files.ts';
import { ScopedServiceAccount, type AccessRule } from '../lib/constructs/scoped-service-account.ts';
import { durationSeconds } from '../lib/duration.ts';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s.js';
import { setFileName } from '../lib/constructs/file-name.ts';
import type { VerifySpec, VerifySpecFile } from '../lib/incluster/verify-spec.ts';
import { LABEL_COMPONENT, TOOL } from '../lib/labels.ts';
import { verifyTable } from '../lib/output/verify-table.ts';
import { RETRY, type AbortGuide, type Step, type StepChart } from '../lib/step.ts';
import { all } from '../lib/words.ts';
import { ECHO, ECHO_NODEPORT, ECHO_POD_PORT, ECHO_SERVICE_PORT } from './verify-workloads.ts';

/** Every check's log carries this component label: `kubectl logs -l app.kubernetes.io/component=verify`. */
export const VERIFY_COMPONENT = 'verify';

/** Where the agent's run directory (its API sockets) is, on the host and in the host check. */
const CILIUM_RUN = '/var/run/cilium';

/** One kind of verification Job: once for the cluster, or once per checked node. */
export interface VerifyJobKind {
  readonly name: 'cluster' | 'pods' | 'host';
  readonly perNode: boolean;
  readonly hostAccess: HostAccess;
  readonly rules: (config: ResolvedConfig) => AccessRule[];
}

/** The ConfigMap of the checked nodes, under a fixed name (VerifySpecFile). */
export const VERIFY_NODES = 'verify-nodes';

const echoRules = (c: ResolvedConfig): AccessRule[] => [
  { apiGroup: '', resource: 'configmaps', verbs: ['get'], names: [VERIFY_NODES], namespace: c.verify.namespace },
  { apiGroup: '', resource: 'pods', verbs: ['list'], namespace: c.verify.namespace },
  { apiGroup: '', resource: 'services', verbs: ['get'], names: [ECHO, ECHO_NODEPORT], namespace: c.verify.namespace },
];

export const JOB_KINDS: readonly VerifyJobKind[] = [
  {
    name: 'cluster',
    perNode: false,
    hostAccess: 'none',
    rules: (c) => [
      { apiGroup: '', resource: 'configmaps', verbs: ['get'], names: [VERIFY_NODES], namespace: c.verify.namespace },
      { apiGroup: 'apps', resource: 'daemonsets', verbs: ['get'], names: ['cilium'], namespace: 'kube-system' },
      { apiGroup: 'apps', resource: 'deployments', verbs: ['get'], names: ['cilium-operator'], namespace: 'kube-system' },
      { apiGroup: '', resource: 'nodes', verbs: ['get'], names: verifiedNodes(c).map((n) => n.name) },
      // CoreDNS, the agents, which pods are not managed, and the kubelet's sandbox errors: list
      // cannot be limited by name.
      { apiGroup: '', resource: 'pods', verbs: ['list'] },
      { apiGroup: '', resource: 'events', verbs: ['list'] },
      { apiGroup: 'cilium.io', resource: 'ciliumendpoints', verbs: ['list'] },
    ],
  },
  {
    name: 'pods',
    perNode: true,
    hostAccess: 'none',
    rules: (c) => {
      const ingress = c.verify.skip.includes('ingress') ? undefined : c.verify.ingress;
      return [
        ...echoRules(c),
        ...(ingress
          ? [
              {
                apiGroup: '',
                resource: 'services',
                verbs: ['get'] as const,
                names: [ingress.service.name],
                namespace: ingress.service.namespace,
              },
              // hostNetwork: where the controller's pods run.
              ...(ingress.controller === 'hostNetwork'
                ? [{ apiGroup: '', resource: 'pods', verbs: ['list'] as const, namespace: ingress.service.namespace }]
                : []),
            ]
          : []),
      ];
    },
  },
  {
    name: 'host',
    perNode: true,
    // Root (no capabilities) on the host network: the agent's sockets are root's, mode 0660.
    hostAccess: 'network-root',
    rules: echoRules,
  },
];

/** The nodes the checks judge: cluster.nodes without run.skipNodes. */
function verifiedNodes(config: ResolvedConfig) {
  return config.cluster.nodes.filter((n) => !config.run.skipNodes.includes(n.name));
}

function limitsOf(config: ResolvedConfig) {
  const { limits } = config.verify;
  return { waitSeconds: durationSeconds(limits.wait), windowSeconds: durationSeconds(limits.window) };
}

/** A Job's deadline: its wait and window, and two minutes to start and report. */
function jobDeadline(config: ResolvedConfig): Duration {
  const { waitSeconds, windowSeconds } = limitsOf(config);
  return Duration.seconds(waitSeconds + windowSeconds + 120);
}

/** The step's timeout (Flux and `apply`): the Jobs' deadline and three minutes to schedule them. */
export function verifyChecksTimeout(config: ResolvedConfig): string {
  return `${Math.ceil((jobDeadline(config).toSeconds() + 180) / 60)}m`;
}

/** The spec as its ConfigMap holds it: the nodes apart, in VERIFY_NODES. */
export function verifySpecFile(config: ResolvedConfig): VerifySpecFile {
  const { nodes: _nodes, ...rest } = verifySpec(config);
  return { ...rest, nodeList: VERIFY_NODES };
}

export function verifySpec(config: ResolvedConfig): VerifySpec {
  const { verify, cilium } = config;
  const ingress = verify.skip.includes('ingress') ? undefined : verify.ingress;
  return {
    namespace: verify.namespace,
    echo: {
      service: ECHO,
      nodePortService: ECHO_NODEPORT,
      selector: `app.kubernetes.io/name=${TOOL}-echo`,
      servicePort: ECHO_SERVICE_PORT,
      podPort: ECHO_POD_PORT,
    },
    nodes: verifiedNodes(config).map((n) => ({ name: n.name, internalIP: n.internalIP })),
    // Where Cilium hands out addresses now: per-node's migrate phase uses its own range.
    podCIDR: cilium.migration?.podCIDR ?? config.cluster.podCIDR,
    clusterDomain: 'cluster.local',
    ...(ingress
      ? { ingress: { host: ingress.host, controller: ingress.controller, port: ingress.port, service: { ...ingress.service } } }
      : {}),
    externalURLs: verify.externalURLs,
    notVerified: verify.skip,
    cilium: {
      // Cilium as this phase installs it (per-node's migrate phase: VXLAN beside kube-proxy).
      routing: cilium.routingMode === 'tunnel' ? 'Tunnel' : 'Native',
      kubeProxyReplacement: cilium.kubeProxyReplacementEnabled,
      agentSocket: `/host${CILIUM_RUN}/cilium.sock`,
      healthSocket: `/host${CILIUM_RUN}/health.sock`,
    },
    kubeProxyGone: cilium.kubeProxyReplacementEnabled,
    limits: {
      ...limitsOf(config),
      consecutive: verify.limits.consecutive,
      roundSeconds: VERIFY_ROUND_SECONDS,
      payloadBytes: verify.limits.payloadBytes,
    },
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
    files: { 'verify.mjs': bundleInCluster('verify-main'), 'verify.json': `${JSON.stringify(verifySpecFile(config), null, 2)}\n` },
  });
  // Under a fixed name, read through the API: a node added to the config adds its own Jobs and
  // renames no other node's.
  const list = new k8s.KubeConfigMap(chart, 'NodeList', {
    metadata: { name: VERIFY_NODES, namespace, labels: { [LABEL_COMPONENT]: VERIFY_COMPONENT } },
    data: { 'nodes.json': `${JSON.stringify(verifySpec(config).nodes, null, 2)}\n` },
  });
  setFileName(list, `configmap-${VERIFY_NODES}`);
  for (const kind of JOB_KINDS) {
    const account = new ScopedServiceAccount(chart, `Access-${kind.name}`, {
      name: `${TOOL}-verify-${kind.name}`,
      namespace,
      rules: kind.rules(config),
    });
    const job = (id: string, name: string, nodeName?: string) =>
      new CutoverJob(chart, id, {
        name,
        namespace,
        component: VERIFY_COMPONENT,
        attempt: chart.attempt,
        image: config.images.node,
        command: ['node', `${FILES_DIR}/verify.mjs`, kind.name, `${FILES_DIR}/verify.json`],
        files,
        hostAccess: kind.hostAccess,
        nodeName,
        readOnlyHostPaths: kind.name === 'host' ? [CILIUM_RUN] : undefined,
        // Pod-network checks use the kubernetes Service; the host-network one the direct address.
        api: { serviceAccountName: account.name, server: kind.hostAccess === 'none' ? undefined : config.cluster.apiServer },
        // The cluster check is renamed, and so runs again, when the checked nodes change.
        env: nodeName
          ? { NODE_NAME: nodeName }
          : {
              CHECKED_NODES: verifiedNodes(config)
                .map((n) => n.name)
                .join(','),
            },
        // Retries are inside the program (the judged window); a second pod would prove nothing new.
        backoffLimit: 0,
        activeDeadline: jobDeadline(config),
      });
    if (kind.perNode) {
      for (const node of verifiedNodes(config)) {
        job(`Check-${kind.name}-${node.name}`, `verify-${kind.name}-${node.name}`, node.name);
      }
    } else {
      job(`Check-${kind.name}`, `verify-${kind.name}`);
    }
  }
}

/** PLAN.md notes: which Jobs judge what, how to read the result, and what was not verified. */
export function verifyChecksPlan(config: ResolvedConfig): string[] {
  const { verify } = config;
  const nodes = verifiedNodes(config);
  const { waitSeconds, windowSeconds } = limitsOf(config);
  return [
    `\`verify-cluster\` reads the API; for ${all(nodes.length, 'checked node')} (${nodes.map((n) => `\`${n.name}\``).join(', ')}), \`verify-pods-<node>\` runs on that node's pod network and \`verify-host-<node>\` on its host network. Each waits up to ${waitSeconds}s for what it tests (an echo pod Ready on every checked node, the agent answering), then judges rounds ${VERIFY_ROUND_SECONDS}s apart for up to ${windowSeconds}s: every subject must pass ${verify.limits.consecutive} rounds in a row, and every echo pod must have answered through the ClusterIP. Each prints one \`PASS\`, \`FAIL\` or \`SKIP\` line per subject, naming the node or pair, and fails on a FAIL. Read them all with:`,
    '',
    `\`kubectl logs -n ${verify.namespace} -l ${LABEL_COMPONENT}=${VERIFY_COMPONENT} --prefix --tail=-1\``,
    '',
    ...verifyTable(),
    '',
    ...(config.run.skipNodes.length > 0
      ? [
          `**Not checked:** the nodes in \`run.skipNodes\` (${config.run.skipNodes.map((n) => `\`${n}\``).join(', ')}) get no echo pod and no check.`,
          '',
        ]
      : []),
    ...(verify.skip.length > 0
      ? [`**Not verified** (\`verify.skip\`, also in the status record): ${verify.skip.map((c) => `\`${c}\``).join(', ')}.`, '']
      : []),
    'Test workloads stay until `verify.enabled: false` (after the migration): the next sync prunes the two verification steps.',
  ];
}

export function verifyChecksAbort(config: ResolvedConfig): AbortGuide {
  return {
    after: 'every check passed on every checked node; nothing was changed.',
    failure: `a check Job is Failed; \`kubectl logs -n ${config.verify.namespace} -l ${LABEL_COMPONENT}=${VERIFY_COMPONENT} --prefix --tail=-1\` shows the FAIL lines with the node, pair, address or URL.`,
    action: `${RETRY}. A pod that still has a Calico address fails \`pods-managed\` in \`verify-cluster\` until it is restarted.${
      config.strategy === 'per-node' && config.phase === 'migrate'
        ? " This is the gate before Calico's removal: Calico still runs, nothing irreversible has happened, and step 600 waits for these checks. To put a node back on Calico, follow its node step's guide above."
        : ''
    }`,
  };
}

export const verifyChecksStep: Step = {
  definition: {
    kind: 'verify-checks',
    dir: '310-verify-checks',
    wave: 310,
    title: 'Verification checks',
    summary:
      'Jobs that judge every node: pod-to-pod and host-to-pod across every pair, Services, DNS, egress, Ingress and each Cilium agent.',
    // Replaced by verifyChecksTimeout(config) in stepsFor.
    timeout: '15m',
  },
  build: buildVerifyChecks,
  plan: verifyChecksPlan,
  abort: verifyChecksAbort,
};
